// NdjsonSplitter: LF/CRLF lines, blank lines skipped, a last unterminated line
// delivered on Finish. Every vector runs under every chunking: whole, split at
// each single boundary, 1-byte reads and seeded random reads (CRLF pairs and
// UTF-8 sequences split across reads included).
#include "framing/ndjson_splitter.h"

#include <gtest/gtest.h>

#include "chunking.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmrelay {
namespace {

using namespace std::string_literals;  // "\0"s: literals with NUL bytes

constexpr size_t kNoStop = std::numeric_limits<size_t>::max();

// ---- Reading a stream split into reads ---------------------------------------

using test_support::Chunking;
using test_support::EveryChunking;

// Everything observable after feeding a stream and calling Finish().
struct Outcome {
  std::vector<std::string> lines;
  FramingStatus status = FramingStatus::kOk;  // the first status other than kOk

  Outcome WithStatus(FramingStatus s) && {
    status = s;
    return std::move(*this);
  }
  bool operator==(const Outcome& other) const { return lines == other.lines && status == other.status; }
};

Outcome Lines(std::vector<std::string> lines) {
  Outcome outcome;
  outcome.lines = std::move(lines);
  return outcome;
}
Outcome NoLines() { return Outcome(); }

std::string Escaped(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const char* StatusName(FramingStatus status) {
  switch (status) {
    case FramingStatus::kOk: return "kOk";
    case FramingStatus::kLimit: return "kLimit";
    case FramingStatus::kStopped: return "kStopped";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const Outcome& outcome) {
  os << "{status " << StatusName(outcome.status) << ", lines [";
  for (const std::string& line : outcome.lines) os << "\n  " << Escaped(line);
  return os << "]}";
}

class Recorder : public LineHandler {
 public:
  explicit Recorder(size_t stop_after = kNoStop) : stop_after_(stop_after) {}
  bool OnLine(std::string_view line) override {
    lines.emplace_back(line);
    return lines.size() < stop_after_;
  }
  std::vector<std::string> lines;

 private:
  size_t stop_after_;
};

struct SplitterOptions {
  size_t max_line_bytes = SseParser::kDefaultMaxEventBytes;
  size_t stop_after_lines = kNoStop;  // the handler returns false on this line
};

FramingStatus Feed(NdjsonSplitter& splitter, std::string_view bytes, LineHandler& handler) {
  return splitter.Feed(bytes.data(), bytes.size(), handler);
}

Outcome Split(std::string_view input, const std::vector<size_t>& cuts, const SplitterOptions& options) {
  NdjsonSplitter splitter(options.max_line_bytes);
  Recorder recorder(options.stop_after_lines);
  Outcome outcome;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size() && outcome.status == FramingStatus::kOk; ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : input.size();
    outcome.status = splitter.Feed(input.data() + begin, end - begin, recorder);
    begin = end;
  }
  if (outcome.status == FramingStatus::kOk) outcome.status = splitter.Finish(recorder);
  outcome.lines = std::move(recorder.lines);
  return outcome;
}

// Checks `input` gives `expected` under every chunking; reports the first
// chunking that does not.
void ExpectEveryChunking(std::string_view input, const Outcome& expected, SplitterOptions options = {}) {
  for (const Chunking& chunking : EveryChunking(input.size())) {
    const Outcome actual = Split(input, chunking.cuts, options);
    if (!(actual == expected)) {
      ADD_FAILURE() << "input " << Escaped(input) << "\nfed as " << chunking.label << "\nexpected " << expected
                    << "\nactual   " << actual;
      return;
    }
  }
}

// ---- Lines ---------------------------------------------------------------------------

TEST(NdjsonSplitter, DeliversEachLfTerminatedLine) {
  ExpectEveryChunking("{\"a\":1}\n{\"b\":2}\n", Lines({"{\"a\":1}", "{\"b\":2}"}));
}

TEST(NdjsonSplitter, StripsTheCrOfACrlfLineEnding) {
  ExpectEveryChunking("{\"a\":1}\r\n{\"b\":2}\r\n", Lines({"{\"a\":1}", "{\"b\":2}"}));
}

TEST(NdjsonSplitter, StripsOnlyOneCrBeforeTheLf) { ExpectEveryChunking("{}\r\r\n", Lines({"{}\r"})); }

TEST(NdjsonSplitter, KeepsALoneCrInsideALine) {
  // Unlike SSE, a CR alone does not end an NDJSON line; it is JSON whitespace.
  ExpectEveryChunking("{\"a\":\r1}\n", Lines({"{\"a\":\r1}"}));
}

TEST(NdjsonSplitter, SkipsBlankAndWhitespaceOnlyLines) {
  ExpectEveryChunking("\n\r\n  \t\r\n{}\n\n\n[]\n \n", Lines({"{}", "[]"}));
}

TEST(NdjsonSplitter, KeepsSurroundingWhitespaceOfANonBlankLine) {
  ExpectEveryChunking("  {} \t\n", Lines({"  {} \t"}));
}

TEST(NdjsonSplitter, DeliversAnUnterminatedLastLineOnFinish) {
  ExpectEveryChunking("{\"a\":1}\n{\"b\":2}", Lines({"{\"a\":1}", "{\"b\":2}"}));
  ExpectEveryChunking("{\"b\":2}\r", Lines({"{\"b\":2}"}));
}

TEST(NdjsonSplitter, DeliversNothingOnFinishForABlankUnterminatedLine) {
  ExpectEveryChunking("{}\n \t", Lines({"{}"}));
  ExpectEveryChunking("", NoLines());
}

TEST(NdjsonSplitter, CarriesAPartialLineAcrossReads) {
  NdjsonSplitter splitter;
  Recorder recorder;
  ASSERT_EQ(Feed(splitter, "{\"a\"", recorder), FramingStatus::kOk);
  EXPECT_TRUE(recorder.lines.empty());
  ASSERT_EQ(Feed(splitter, ":1}\r", recorder), FramingStatus::kOk);
  EXPECT_TRUE(recorder.lines.empty());
  ASSERT_EQ(Feed(splitter, "\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.lines, std::vector<std::string>{"{\"a\":1}"});
}

TEST(NdjsonSplitter, DeliversACompleteLineInPlaceFromTheFedBuffer) {
  struct PointerRecorder : LineHandler {
    bool OnLine(std::string_view line) override {
      seen.push_back(line.data());
      return true;
    }
    std::vector<const char*> seen;
  } recorder;
  NdjsonSplitter splitter;
  const std::string buffer = "{\"a\":1}\n{\"b\":2}\n";
  ASSERT_EQ(Feed(splitter, buffer, recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.seen, (std::vector<const char*>{buffer.data(), buffer.data() + 8}));
}

TEST(NdjsonSplitter, DeliversMultiByteUtf8SplitAcrossReadsIntact) {
  ExpectEveryChunking("{\"t\":\"h\xC3\xA9 \xE4\xB8\x96 \xF0\x9F\x8E\x89\"}\n",
                      Lines({"{\"t\":\"h\xC3\xA9 \xE4\xB8\x96 \xF0\x9F\x8E\x89\"}"}));
}

TEST(NdjsonSplitter, PassesInvalidUtf8AndNulBytesThrough) {
  ExpectEveryChunking("\xFF\xC3\n\0x\n"s, Lines({"\xFF\xC3", "\0x"s}));
}

TEST(NdjsonSplitter, SplitsAnOllamaChatStream) {
  ExpectEveryChunking(
      "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
      "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n"
      "{\"model\":\"llama3.2\",\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}\n",
      Lines({"{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}",
             "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}",
             "{\"model\":\"llama3.2\",\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}"}));
}

// ---- Size limit ---------------------------------------------------------------------------

TEST(NdjsonSplitter, AcceptsALineExactlyAtTheLimit) {
  SplitterOptions options;
  options.max_line_bytes = 8;
  ExpectEveryChunking("{\"a\":12}\n12345678", Lines({"{\"a\":12}", "12345678"}), options);
}

TEST(NdjsonSplitter, ReturnsLimitForALineLongerThanTheLimit) {
  SplitterOptions options;
  options.max_line_bytes = 8;
  ExpectEveryChunking("{}\n{\"a\":123}\n{}\n", Lines({"{}"}).WithStatus(FramingStatus::kLimit), options);
}

TEST(NdjsonSplitter, CountsTheCrOfACrlfTowardsTheLimit) {
  // Until the LF arrives the CR may be line content, so it must count the
  // same way whether or not the LF is in the same read.
  SplitterOptions options;
  options.max_line_bytes = 8;
  ExpectEveryChunking("{\"a\":12}\r\n", NoLines().WithStatus(FramingStatus::kLimit), options);
}

TEST(NdjsonSplitter, ReturnsLimitForAnUnterminatedLineLongerThanTheLimit) {
  SplitterOptions options;
  options.max_line_bytes = 8;
  ExpectEveryChunking("{}\n123456789", Lines({"{}"}).WithStatus(FramingStatus::kLimit), options);
}

TEST(NdjsonSplitter, StaysFailedAfterReturningLimit) {
  NdjsonSplitter splitter(4);
  Recorder recorder;
  ASSERT_EQ(Feed(splitter, "12345", recorder), FramingStatus::kLimit);
  EXPECT_EQ(Feed(splitter, "{}\n", recorder), FramingStatus::kLimit);
  EXPECT_EQ(splitter.Finish(recorder), FramingStatus::kLimit);
  EXPECT_TRUE(recorder.lines.empty());
}

// ---- Handler stop ---------------------------------------------------------------------------

TEST(NdjsonSplitter, ReturnsStoppedAsSoonAsTheHandlerReturnsFalse) {
  SplitterOptions options;
  options.stop_after_lines = 1;
  ExpectEveryChunking("{\"a\":1}\n{\"b\":2}\n", Lines({"{\"a\":1}"}).WithStatus(FramingStatus::kStopped), options);
  ExpectEveryChunking("{\"a\":1}", Lines({"{\"a\":1}"}).WithStatus(FramingStatus::kStopped), options);
}

TEST(NdjsonSplitter, LeavesTheRestOfTheReadUnconsumedAfterAStop) {
  NdjsonSplitter splitter;
  Recorder stopper(1);
  ASSERT_EQ(Feed(splitter, "{\"a\":1}\n{\"b\":2}\n", stopper), FramingStatus::kStopped);
  Recorder recorder;
  ASSERT_EQ(Feed(splitter, "{\"c\":3}\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.lines, std::vector<std::string>{"{\"c\":3}"});
}

// ---- Reset ------------------------------------------------------------------------------------

TEST(NdjsonSplitter, ForgetsAPartialLineOnReset) {
  NdjsonSplitter splitter;
  Recorder recorder;
  ASSERT_EQ(Feed(splitter, "{\"partial\":", recorder), FramingStatus::kOk);
  splitter.Reset();
  ASSERT_EQ(Feed(splitter, "{\"a\":1}\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.lines, std::vector<std::string>{"{\"a\":1}"});
}

TEST(NdjsonSplitter, ClearsTheLimitFailureOnReset) {
  NdjsonSplitter splitter(4);
  Recorder recorder;
  ASSERT_EQ(Feed(splitter, "12345", recorder), FramingStatus::kLimit);
  splitter.Reset();
  ASSERT_EQ(Feed(splitter, "{}\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.lines, std::vector<std::string>{"{}"});
}

// ---- Linear time -----------------------------------------------------------------------------
// The bound is generous (the work takes milliseconds even unoptimized); a
// splitter that rescans or recopies earlier bytes needs far longer for these
// sizes, so the check cannot flake either way.

constexpr int64_t kLinearTimeBoundMs = 2000;

int64_t MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

TEST(NdjsonSplitter, SplitsATwoMebibyteLineFedOneByteAtATimeInLinearTime) {
  const std::string input = "\"" + std::string(size_t{2} << 20, 'x') + "\"\r\n";
  NdjsonSplitter splitter;
  Recorder recorder;
  const auto start = std::chrono::steady_clock::now();
  for (const char& byte : input) {
    ASSERT_EQ(splitter.Feed(&byte, 1, recorder), FramingStatus::kOk);
  }
  EXPECT_LT(MillisecondsSince(start), kLinearTimeBoundMs);
  ASSERT_EQ(recorder.lines.size(), 1U);
  EXPECT_EQ(recorder.lines[0].size(), (size_t{2} << 20) + 2);
}

}  // namespace
}  // namespace llmrelay
