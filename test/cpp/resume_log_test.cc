// Resumable relays: sequence numbers, event ids and the log
// (StreamPipeline::EnableLog), and replaying the log into any format
// (DeltaReplay) byte for byte as the live relay encoded it.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "pipeline/delta_replay.h"
#include "pipeline/pipeline.h"
#include "providers/adapter.h"

#ifndef LLMRELAY_FIXTURES_DIR
#define LLMRELAY_FIXTURES_DIR "test/fixtures"
#endif

namespace llmrelay {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(LLMRELAY_FIXTURES_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

EncoderOptions Options() {
  EncoderOptions options;
  options.id = "msg-1";
  options.model = "m";
  options.created = 1700000000;
  return options;
}

struct Live {
  std::string bytes;
  std::string log;
  uint64_t first_seq = 0;
  uint64_t count = 0;
  uint64_t next_seq = 0;
};

// Runs a recorded stream through a resumable pipeline in `format`, taking
// the output and the log in `chunk`-byte reads as the transfer would.
Live RunLive(const std::string& provider, const std::string& fixture, const std::string& format, uint64_t first_seq,
             size_t chunk) {
  StreamPipeline pipeline(CreateAdapter(provider), size_t{1} << 20, Options());
  pipeline.EnableLog(first_seq);
  EXPECT_TRUE(pipeline.SetMode(format));
  Live live;
  const std::string body = Fixture(fixture);
  for (size_t off = 0; off < body.size(); off += chunk) {
    EXPECT_TRUE(pipeline.Feed(body.data() + off, std::min(chunk, body.size() - off), 0));
    live.bytes.append(pipeline.output());
    pipeline.output().clear();
    if (pipeline.log_count() > 0) {
      if (live.count == 0) live.first_seq = pipeline.log_first_seq();
      live.count += pipeline.log_count();
      live.log.append(pipeline.log());
      pipeline.log().clear();
      pipeline.LogTaken();
    }
  }
  EXPECT_TRUE(pipeline.Finish(0));
  pipeline.EncodeDone();
  live.bytes.append(pipeline.output());
  if (pipeline.log_count() > 0) {
    if (live.count == 0) live.first_seq = pipeline.log_first_seq();
    live.count += pipeline.log_count();
    live.log.append(pipeline.log());
  }
  live.next_seq = pipeline.next_seq();
  return live;
}

std::string Replay(const std::string& format, const Live& live, uint64_t after) {
  DeltaReplay replay(CreateEncoder(format, Options()), true);
  std::string out;
  replay.Start(out, after < live.first_seq);
  std::string error;
  EXPECT_TRUE(replay.Replay(live.log, live.first_seq, after, out, &error)) << error;
  replay.Done(out);
  return out;
}

TEST(ResumeLog, EveryDeltaHasASequenceNumberAndEverySseEventOfOneTheId) {
  const Live live = RunLive("openai", "openai/text-unicode.sse", "sse", 1, 7);
  ASSERT_GT(live.count, 2u);
  EXPECT_EQ(live.first_seq, 1u);
  EXPECT_EQ(live.next_seq, live.first_seq + live.count);
  // Each delta event carries "id: N" as its last field, N = 1, 2, ...
  size_t expected = 1;
  size_t pos = 0;
  while ((pos = live.bytes.find("\nid: ", pos)) != std::string::npos) {
    pos += 5;
    EXPECT_EQ(std::stoul(live.bytes.substr(pos)), expected++);
  }
  EXPECT_EQ(expected - 1, live.count);
  EXPECT_EQ(live.bytes.substr(live.bytes.size() - 14), "data: [DONE]\n\n");
}

TEST(ResumeLog, SequenceNumbersContinueFromTheFirstOneGiven) {
  const Live live = RunLive("anthropic", "anthropic/text-unicode.sse", "sse", 41, 13);
  EXPECT_EQ(live.first_seq, 41u);
  EXPECT_NE(live.bytes.find("\nid: 41\n\n"), std::string::npos);
}

TEST(ResumeLog, ReplayingTheWholeLogGivesTheLiveBytesInEveryFormat) {
  for (const char* format : {"sse", "ndjson", "openai", "ui-message", "text"}) {
    SCOPED_TRACE(format);
    for (const auto& [provider, fixture] : {std::pair<std::string, std::string>{"openai", "openai/tools-parallel.sse"},
                                            {"anthropic", "anthropic/tools-thinking.sse"},
                                            {"gemini", "gemini/function-call.sse"}}) {
      SCOPED_TRACE(fixture);
      const Live live = RunLive(provider, fixture, format, 1, 5);
      EXPECT_EQ(Replay(format, live, 0), live.bytes);
    }
  }
}

TEST(ResumeLog, AReaderThatSawUpToAnIdGetsExactlyTheRest) {
  for (const char* format : {"sse", "ui-message", "openai"}) {
    SCOPED_TRACE(format);
    const Live live = RunLive("openai", "openai/tools-parallel.sse", format, 1, 9);
    for (uint64_t seen = 1; seen < live.next_seq; ++seen) {
      SCOPED_TRACE(seen);
      // What the live client had when its last event id was `seen`: every
      // byte up to the end of the event that carries it.
      const std::string marker = "\nid: " + std::to_string(seen) + "\n\n";
      const size_t cut = live.bytes.find(marker);
      if (cut == std::string::npos) continue;  // that delta wrote nothing in this format
      const std::string had = live.bytes.substr(0, cut + marker.size());
      EXPECT_EQ(had + Replay(format, live, seen), live.bytes);
    }
  }
}

TEST(ResumeLog, LogEntriesAreOneUnmergedDeltaEach) {
  const Live live = RunLive("openai", "openai/text-unicode.sse", "sse", 1, 4096);
  size_t objects = 0;
  for (size_t pos = 0; (pos = live.log.find("{\"type\":", pos)) != std::string::npos; ++pos) ++objects;
  EXPECT_EQ(objects, live.count);
}

TEST(ResumeLog, ReplayRefusesWhatIsNotDeltaJson) {
  DeltaReplay replay(CreateEncoder("sse", Options()), true);
  std::string out;
  std::string error;
  EXPECT_FALSE(replay.Replay("{\"type\":\"text\"", 1, 0, out, &error));
  EXPECT_FALSE(replay.Replay("{\"type\":\"nonsense\"},", 1, 0, out, &error));
  EXPECT_FALSE(error.empty());
}

TEST(RelayRoles, AStepOfAUiMessageRelayHasItsStepButNoMessageStartOrEnd) {
  EncoderOptions options = Options();
  options.role = EncoderRole::kRelayStep;
  std::unique_ptr<Encoder> step = CreateEncoder("ui-message", options);
  std::string out;
  step->Start(out);
  step->Text(out, "hi");
  step->Finish(out, FinishReason::kToolCalls, "tool_calls");
  step->Done(out);
  EXPECT_EQ(out.find("\"type\":\"start\""), std::string::npos);
  EXPECT_NE(out.find("\"type\":\"start-step\""), std::string::npos);
  EXPECT_NE(out.find("\"type\":\"finish-step\""), std::string::npos);
  EXPECT_EQ(out.find("\"type\":\"finish\""), std::string::npos);
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
}

TEST(RelayRoles, TheOuterEncoderStartsAndEndsTheMessageAndCarriesDataEvents) {
  EncoderOptions options = Options();
  options.role = EncoderRole::kRelayOuter;
  std::unique_ptr<Encoder> outer = CreateEncoder("ui-message", options);
  std::string out;
  outer->Start(out);
  outer->Data(out, "status", R"({"step":1})");
  outer->Done(out);
  EXPECT_EQ(out,
            "data: {\"type\":\"start\",\"messageId\":\"msg-1\"}\n\n"
            "data: {\"type\":\"data-status\",\"data\":{\"step\":1}}\n\n"
            "data: {\"type\":\"finish\"}\n\ndata: [DONE]\n\n");
  std::unique_ptr<Encoder> sse_step = CreateEncoder("sse", EncoderOptions{"", "", 0, EncoderRole::kRelayStep});
  std::string step_out;
  sse_step->Done(step_out);
  EXPECT_EQ(step_out, "");
}

}  // namespace
}  // namespace llmrelay
