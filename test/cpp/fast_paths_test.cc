// The adapters' fast paths (src/providers/fast_paths.h) read the hot event
// shapes straight off the text and leave everything else to the full parse;
// either way an adapter must produce exactly what the full parse does.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_writer.h"
#include "framing/sse_parser.h"
#include "providers/fast_paths.h"
#include "providers/provider_adapters.h"

#ifndef LLMRELAY_FIXTURES_DIR
#define LLMRELAY_FIXTURES_DIR "test/fixtures"
#endif

namespace llmrelay {
namespace {

// Every delta, in order, as one string (two runs compare with ==).
class LogSink final : public DeltaSink {
 public:
  void OnText(std::string_view text) override { Add("text", text); }
  void OnReasoning(std::string_view text) override { Add("reasoning", text); }
  void OnToolCall(uint32_t index, std::string_view id, std::string_view name, std::string_view args) override {
    Add("tool", args);
    AppendInt(log, index);
    log.append("|").append(id).append("|").append(name);
  }
  void OnUsage(const UsageInfo& usage) override { Add("usage", usage.raw_json); }
  void OnPartialUsage(const UsageInfo& usage) override { Add("partial-usage", usage.raw_json); }
  void OnFinish(FinishReason reason, std::string_view raw) override { Add(FinishReasonName(reason), raw); }
  void OnRawEvent(std::string_view event, std::string_view data, std::string_view, bool) override { Add(event, data); }
  void OnProviderError(std::string_view type, std::string_view message) override { Add(type, message); }
  void OnProtocolError(std::string_view detail) override { Add("protocol-error", detail); }
  void OnEndMarker() override { Add("end", ""); }

  std::string log;

 private:
  void Add(std::string_view kind, std::string_view payload) {
    log.append("\n").append(kind).append(":").append(payload);
  }
};

struct Emit final : SseHandler {
  Emit(Adapter& a, DeltaSink& s) : adapter(a), sink(s) {}
  bool OnSseEvent(const SseEvent& event) override {
    adapter.OnSseEvent(event, sink);
    return true;
  }
  Adapter& adapter;
  DeltaSink& sink;
};

// One event's data through an adapter, or (framed) a whole body through the
// SSE parser.
std::string Run(std::unique_ptr<Adapter> adapter, std::string_view data, bool framed = false,
                std::string_view type = "message") {
  LogSink sink;
  if (framed) {
    Emit emit(*adapter, sink);
    SseParser parser;
    parser.Feed(data.data(), data.size(), emit);
    parser.Finish();
  } else {
    SseEvent event;
    event.type = type;
    event.data = data;
    adapter->OnSseEvent(event, sink);
  }
  adapter->OnEof(sink);
  return sink.log + (adapter->complete() ? "\ncomplete" : "\nopen");
}

std::string OpenAiFast(std::string_view data, bool framed = false, std::string_view type = "message") {
  return Run(MakeOpenAiChatAdapter(), data, framed, type);
}
std::string OpenAiFull(std::string_view data, bool framed = false, std::string_view type = "message") {
  return Run(MakeOpenAiChatAdapterFullParse(), data, framed, type);
}
std::string AnthropicFast(std::string_view data, bool framed = false, std::string_view type = "message") {
  return Run(MakeAnthropicAdapter(), data, framed, type);
}
std::string AnthropicFull(std::string_view data, bool framed = false, std::string_view type = "message") {
  return Run(MakeAnthropicAdapterFullParse(), data, framed, type);
}

bool ScanOpenAi(std::string_view data, std::string* content) {
  std::string scratch;
  std::string_view view;
  const bool hot = ScanOpenAiContentChunk(data, scratch, &view);
  content->assign(view);
  return hot;
}

bool ScanAnthropic(std::string_view data, AnthropicHotEvent::Kind* kind, std::string* text,
                   std::string_view type = "content_block_delta") {
  std::string scratch;
  AnthropicHotEvent hot;
  const bool ok = ScanAnthropicHotEvent(data, type, scratch, &hot);
  *kind = hot.kind;
  text->assign(hot.text);
  return ok;
}

// A chat.completion.chunk around `delta`, as the mock provider sends it.
std::string Chunk(std::string_view delta) {
  return std::string(R"({"id":"chatcmpl-C3bK9x","object":"chat.completion.chunk","created":1754499881,)"
                     R"("model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_34a54ae93c",)"
                     R"("choices":[{"index":0,"delta":)") +
         std::string(delta) + R"(,"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Qx9V3e"})";
}

std::string BlockDelta(std::string_view delta) {
  return std::string(R"({"type":"content_block_delta","index":0,"delta":)") + std::string(delta) + "}";
}

// Strings that exercise the decoder, with what each must decode to.
const std::vector<std::pair<std::string, std::string>> kEscapes = {
    {R"(plain)", "plain"},
    {R"(\"quoted\")", "\"quoted\""},
    {R"(back\\slash and \/ slash)", "back\\slash and / slash"},
    {R"(\b\f\n\r\t)", "\b\f\n\r\t"},
    {R"(\u0041\u00e9\u6771\u4EAC)", "A\xC3\xA9\xE6\x9D\xB1\xE4\xBA\xAC"},
    {R"(\u007f\u0080\u07FF\u0800\uFFFF)", "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF"},
    {"caf\xC3\xA9 \xF0\x9F\x99\x82 raw UTF-8", "caf\xC3\xA9 \xF0\x9F\x99\x82 raw UTF-8"},
    {"\xFF\xFE not UTF-8, kept as is", "\xFF\xFE not UTF-8, kept as is"},
    {R"(\u0000 a NUL)", std::string("\0 a NUL", 7)},
    {R"(x\\)", "x\\"},
};

// Shapes the fast paths must leave to the full parse, which then decides.
const std::vector<std::string> kOpenAiUnusual = {
    // the rarer events of a stream
    R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
    R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})",
    R"({"choices":[{"index":0,"delta":{"refusal":"no"}}]})",
    R"({"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]})",
    R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":""}}]}}]})",
    R"({"choices":[{"index":0,"delta":{"function_call":{"name":"f"}}}]})",
    R"({"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"x"}]}}]})",
    R"({"choices":[{"index":0,"text":"legacy"}]})",
    R"({"choices":[{"index":0,"delta":null,"text":"legacy"}]})",
    R"({"choices":[{"index":1,"delta":{"content":"other choice"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]})",
    R"({"choices":[{"index":0.0,"delta":{"content":"float index"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"x"}}],"x_groq":{"usage":{"prompt_tokens":1}}})",
    R"({"error":{"message":"boom","type":"server_error"}})",
    R"({"error":"boom","choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"object":"error","message":"vllm","choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"x"}}]})"
    "\n"
    R"({"x":1})",
    // one of the keys the adapter reads, twice
    R"({"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"a"}}],"choices":[]})",
    R"({"choices":[{"index":0,"index":0,"delta":{"content":"a"}}]})",
    R"({"object":"x","object":"error","choices":[{"index":0,"delta":{"content":"a"}}]})",
    // outside the scanner's subset
    R"({"choices":[{"index":0,"delta":{"content":"\ud83d\ude42"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"\udc00 lone low"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"\ud83d lone high"}}]})",
    R"({"created":1e9,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"created":12345678901234567890123,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"cr\u0065ated":1,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]],"choices":[{"index":0,"delta":{"content":"x"}}]})",
    // not JSON, or not what RapidJSON accepts
    R"({"choices":[{"index":0,"delta":{"content":"x"}}]} trailing)",
    R"({"choices":[{"index":0,"delta":{"content":"x"}}],})",
    R"({"choices":[{"index":0,"delta":{"content":"x"}},]})",
    R"({"choices":[{"index":0,"delta":{"content":"x\q"}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"x\u12G4"}}]})",
    "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tab\tinside\"}}]}",
    std::string(R"({"choices":[{"index":0,"delta":{"content":"x"}}]})") + std::string(1, '\0'),
    std::string(R"({"choices":[{"index":0,"delta":{"content":"x)") + std::string(1, '\0') + R"("}}]})",
    R"({"choices":[{"index":0,"delta":{"content":"unterminated}}]})",
    R"({"created":01,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"created":-,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"created":1.,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"created":nul,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({"created":True,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"({1:2,"choices":[{"index":0,"delta":{"content":"x"}}]})",
    R"(["choices"])",
    R"("just a string")",
    R"({"choices":[{"index":0,"delta":{"content":"x"}}])",
};

TEST(OpenAiFastPath, ReadsTheContentOfAChunk) {
  std::string content;
  EXPECT_TRUE(ScanOpenAi(Chunk(R"({"content":" The"})"), &content));
  EXPECT_EQ(content, " The");
  // The first chunk of a stream: role, empty content, refusal null.
  EXPECT_TRUE(ScanOpenAi(Chunk(R"({"role":"assistant","content":"","refusal":null})"), &content));
  EXPECT_EQ(content, "");
  EXPECT_TRUE(ScanOpenAi(R"({"choices":[{"delta":{"content":null}}]})", &content));
  EXPECT_EQ(content, "");
}

TEST(OpenAiFastPath, DecodesEscapesAsTheFullParseDoes) {
  for (const auto& [raw, decoded] : kEscapes) {
    const std::string chunk = Chunk(R"({"content":")" + raw + R"("})");
    std::string content;
    EXPECT_TRUE(ScanOpenAi(chunk, &content)) << raw;
    EXPECT_EQ(content, decoded) << raw;
    EXPECT_EQ(OpenAiFast(chunk), OpenAiFull(chunk)) << raw;
  }
}

TEST(OpenAiFastPath, TakesKeysInAnyOrderWithWhitespaceAndExtraFields) {
  const std::vector<std::string> chunks = {
      R"({"usage":null,"choices":[{"finish_reason":null,"logprobs":null,"delta":{"content":"a"},"index":0}],"id":"x"})",
      " \t\r\n{ \"choices\" : [ { \"delta\" : { \"content\" : \"a\" } , \"index\" : 0 } ] } \n",
      R"({"choices":[{"delta":{"role":"assistant","content":"a","refusal":"","reasoning":null,"tool_calls":null,"function_call":null}}]})",
      R"({"choices":[{"index":0,"delta":{"content":"a","extra":{"k\"ey":[1,-2.5,true,false,null,"s\u00e9",{}],"e":[]}},"logprobs":{"content":[{"token":"a","logprob":-0.01}]}}],"error":null,"x_groq":null,"object":7})",
      R"({"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":""}],"system_fingerprint":"fp_\/x"})",
  };
  for (const std::string& chunk : chunks) {
    std::string content;
    EXPECT_TRUE(ScanOpenAi(chunk, &content)) << chunk;
    EXPECT_EQ(content, "a") << chunk;
    EXPECT_EQ(OpenAiFast(chunk), OpenAiFull(chunk)) << chunk;
  }
}

TEST(OpenAiFastPath, LeavesEveryOtherShapeToTheFullParse) {
  for (const std::string& data : kOpenAiUnusual) {
    std::string content;
    EXPECT_FALSE(ScanOpenAi(data, &content)) << data;
    EXPECT_EQ(OpenAiFast(data), OpenAiFull(data)) << data;
  }
}

TEST(OpenAiFastPath, LeavesAnEventOfTypeErrorToTheFullParse) {
  const std::string chunk = Chunk(R"({"content":"a"})");
  EXPECT_EQ(OpenAiFast(chunk, false, "error"), OpenAiFull(chunk, false, "error"));
  EXPECT_NE(OpenAiFull(chunk, false, "error").find("error:"), std::string::npos);
}

const std::vector<std::string> kAnthropicUnusual = {
    R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})",
    R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}})",
    R"({"type":"content_block_delta","index":0,"delta":null})",
    R"({"type":"content_block_delta","index":0})",
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})",
    R"({"type":"content_block_delta","type":"ping","delta":{"type":"text_delta","text":"x"}})",
    R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"a","text":"b"}})",
    R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"a"},"delta":{}})",
    R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"\ud83d\ude42"}})",
    R"({"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"esc\naped"}})",
    R"({"type":"content_block_d\u0065lta","delta":{"type":"text_delta","text":"x"}})",
    R"({"type":"","delta":{"type":"text_delta","text":"x"}})",
    R"({"delta":{"type":"text_delta","text":"x"}})",
    R"({"type":"message_start","message":{"usage":{"input_tokens":3}}})",
    R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})",
    R"({"type":"message_stop"})",
    R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
    R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}} x)",
    R"({"type":"ping",})",
    "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"a\x01\"}}",
};

TEST(AnthropicFastPath, ReadsTextAndThinkingDeltasAndTheEventsThatCarryNothing) {
  AnthropicHotEvent::Kind kind;
  std::string text;
  EXPECT_TRUE(ScanAnthropic(BlockDelta(R"({"type":"text_delta","text":" The"})"), &kind, &text));
  EXPECT_EQ(kind, AnthropicHotEvent::kText);
  EXPECT_EQ(text, " The");
  EXPECT_TRUE(ScanAnthropic(BlockDelta(R"({"thinking":"hmm","type":"thinking_delta"})"), &kind, &text));
  EXPECT_EQ(kind, AnthropicHotEvent::kThinking);
  EXPECT_EQ(text, "hmm");
  EXPECT_TRUE(ScanAnthropic(R"({"type": "ping"})", &kind, &text, "ping"));
  EXPECT_EQ(kind, AnthropicHotEvent::kNothing);
  EXPECT_TRUE(ScanAnthropic(R"({"type":"content_block_stop","index":0})", &kind, &text, "content_block_stop"));
  EXPECT_EQ(kind, AnthropicHotEvent::kNothing);
  // A ping under `event: error` fails the stream in the full path.
  EXPECT_FALSE(ScanAnthropic(R"({"type":"ping"})", &kind, &text, "error"));
}

TEST(AnthropicFastPath, DecodesEscapesAsTheFullParseDoes) {
  for (const auto& [raw, decoded] : kEscapes) {
    const std::string event = BlockDelta(R"({"type":"text_delta","text":")" + raw + R"("})");
    AnthropicHotEvent::Kind kind;
    std::string text;
    EXPECT_TRUE(ScanAnthropic(event, &kind, &text)) << raw;
    EXPECT_EQ(text, decoded) << raw;
    EXPECT_EQ(AnthropicFast(event), AnthropicFull(event)) << raw;
  }
}

TEST(AnthropicFastPath, TakesKeysInAnyOrderWithWhitespaceAndExtraFields) {
  const std::vector<std::string> events = {
      R"({"delta":{"text":"a","type":"text_delta"},"index":0,"type":"content_block_delta"})",
      " {\n \"type\" : \"content_block_delta\" ,\r\n\t\"delta\" : { \"type\" : \"text_delta\" , \"text\" : \"a\" } } ",
      R"({"type":"content_block_delta","index":7,"extra":[{"n":-1.25}],"delta":{"type":"text_delta","text":"a","more":null}})",
  };
  for (const std::string& event : events) {
    AnthropicHotEvent::Kind kind;
    std::string text;
    EXPECT_TRUE(ScanAnthropic(event, &kind, &text)) << event;
    EXPECT_EQ(text, "a") << event;
    EXPECT_EQ(AnthropicFast(event), AnthropicFull(event)) << event;
  }
}

TEST(AnthropicFastPath, LeavesEveryOtherShapeToTheFullParse) {
  for (const std::string& data : kAnthropicUnusual) {
    AnthropicHotEvent::Kind kind;
    std::string text;
    EXPECT_FALSE(ScanAnthropic(data, &kind, &text)) << data;
    for (std::string_view type : {"message", "error", "content_block_delta"}) {
      EXPECT_EQ(AnthropicFast(data, false, type), AnthropicFull(data, false, type)) << data;
    }
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> SseFixtures(const std::string& provider) {
  std::vector<std::string> files;
  const std::string dir = std::string(LLMRELAY_FIXTURES_DIR) + "/" + provider;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(d)) {
      const std::string name = entry->d_name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".sse") == 0) files.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  return files;
}

TEST(FastPaths, EveryFixtureGivesTheSameDeltasWithAndWithoutThem) {
  const std::vector<std::string> openai = SseFixtures("openai");
  const std::vector<std::string> anthropic = SseFixtures("anthropic");
  ASSERT_FALSE(openai.empty());
  ASSERT_FALSE(anthropic.empty());
  for (const std::string& file : openai) {
    const std::string body = ReadFile(file);
    EXPECT_EQ(OpenAiFast(body, true), OpenAiFull(body, true)) << file;
  }
  for (const std::string& file : anthropic) {
    const std::string body = ReadFile(file);
    EXPECT_EQ(AnthropicFast(body, true), AnthropicFull(body, true)) << file;
  }
}

}  // namespace
}  // namespace llmrelay
