// SseParser against the WHATWG "parse an event stream" rules (docs/wire-formats.md §1).
// Every vector runs under every chunking: whole, split at each single
// boundary, 1-byte reads and seeded random reads, so CRLF pairs, the BOM and
// UTF-8 sequences all get split across reads (rule 16).
#include "framing/sse_parser.h"

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

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event& other) const { return type == other.type && data == other.data && id == other.id; }
};

// Everything observable after feeding a stream and calling Finish().
struct Outcome {
  std::vector<Event> events;
  FramingStatus status = FramingStatus::kOk;  // the first status other than kOk
  std::string last_event_id;
  int64_t retry_ms = -1;

  Outcome WithLastEventId(std::string id) && {
    last_event_id = std::move(id);
    return std::move(*this);
  }
  Outcome WithRetryMs(int64_t ms) && {
    retry_ms = ms;
    return std::move(*this);
  }
  Outcome WithStatus(FramingStatus s) && {
    status = s;
    return std::move(*this);
  }
  bool operator==(const Outcome& other) const {
    return events == other.events && status == other.status && last_event_id == other.last_event_id &&
           retry_ms == other.retry_ms;
  }
};

Outcome Events(std::vector<Event> events) {
  Outcome outcome;
  outcome.events = std::move(events);
  return outcome;
}
Outcome NoEvents() { return Outcome(); }

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
  os << "{status " << StatusName(outcome.status) << ", last_event_id " << Escaped(outcome.last_event_id)
     << ", retry_ms " << outcome.retry_ms << ", events [";
  for (const Event& e : outcome.events) {
    os << "\n  {type " << Escaped(e.type) << ", data " << Escaped(e.data) << ", id " << Escaped(e.id) << "}";
  }
  return os << "]}";
}

class Recorder : public SseHandler {
 public:
  explicit Recorder(size_t stop_after = kNoStop) : stop_after_(stop_after) {}
  bool OnSseEvent(const SseEvent& event) override {
    events.push_back({std::string(event.type), std::string(event.data), std::string(event.id)});
    return events.size() < stop_after_;
  }
  std::vector<Event> events;

 private:
  size_t stop_after_;
};

struct ParserOptions {
  size_t max_event_bytes = SseParser::kDefaultMaxEventBytes;
  size_t stop_after_events = kNoStop;  // the handler returns false on this event
};

FramingStatus Feed(SseParser& parser, std::string_view bytes, SseHandler& handler) {
  return parser.Feed(bytes.data(), bytes.size(), handler);
}

Outcome Parse(std::string_view input, const std::vector<size_t>& cuts, const ParserOptions& options) {
  SseParser parser(options.max_event_bytes);
  Recorder recorder(options.stop_after_events);
  Outcome outcome;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size() && outcome.status == FramingStatus::kOk; ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : input.size();
    outcome.status = parser.Feed(input.data() + begin, end - begin, recorder);
    begin = end;
  }
  parser.Finish();
  outcome.events = std::move(recorder.events);
  outcome.last_event_id = std::string(parser.last_event_id());
  outcome.retry_ms = parser.retry_ms();
  return outcome;
}

// Checks `input` gives `expected` under every chunking; reports the first
// chunking that does not.
void ExpectEveryChunking(std::string_view input, const Outcome& expected, ParserOptions options = {}) {
  for (const Chunking& chunking : EveryChunking(input.size())) {
    const Outcome actual = Parse(input, chunking.cuts, options);
    if (!(actual == expected)) {
      ADD_FAILURE() << "input " << Escaped(input) << "\nfed as " << chunking.label << "\nexpected " << expected
                    << "\nactual   " << actual;
      return;
    }
  }
}

// ---- Dispatch (rules 4, 14) ------------------------------------------------------

TEST(SseParser, DispatchesADataLineFollowedByABlankLineAsAMessageEvent) {
  ExpectEveryChunking("data: hello\n\n", Events({{"message", "hello", ""}}));
}

TEST(SseParser, DispatchesEachEventInOrder) {
  ExpectEveryChunking("data: one\n\ndata: two\n\ndata: three\n\n",
                      Events({{"message", "one", ""}, {"message", "two", ""}, {"message", "three", ""}}));
}

TEST(SseParser, DispatchesNothingForABlankLineWithAnEmptyDataBuffer) {
  ExpectEveryChunking("\n\n\n", NoEvents());
  ExpectEveryChunking("\n\ndata: a\n\n\n\n", Events({{"message", "a", ""}}));
}

TEST(SseParser, DispatchesNothingForAnEventTypeWithoutData) {
  // Anthropic-style `event: ping` needs a data line to be an event at all.
  ExpectEveryChunking("event: ping\n\n", NoEvents());
}

TEST(SseParser, ResetsTheEventTypeAfterABlankLineEvenWhenNothingIsDispatched) {
  ExpectEveryChunking("event: ping\n\ndata: a\n\n", Events({{"message", "a", ""}}));
  ExpectEveryChunking("event: delta\ndata: a\n\ndata: b\n\n", Events({{"delta", "a", ""}, {"message", "b", ""}}));
}

TEST(SseParser, DispatchesAnEmptyDataLineAsAnEventWithEmptyData) {
  ExpectEveryChunking("data:\n\n", Events({{"message", "", ""}}));
  ExpectEveryChunking("data: \n\n", Events({{"message", "", ""}}));
}

// ---- Line endings (rule 2) -------------------------------------------------------

TEST(SseParser, AcceptsLfCrAndCrlfLineEndings) {
  ExpectEveryChunking("data: a\n\n", Events({{"message", "a", ""}}));
  ExpectEveryChunking("data: a\r\r", Events({{"message", "a", ""}}));
  ExpectEveryChunking("data: a\r\n\r\n", Events({{"message", "a", ""}}));
}

TEST(SseParser, AcceptsAllThreeLineEndingsMixedInOneStream) {
  ExpectEveryChunking("data: a\rdata: b\ndata: c\r\n\r\ndata: d\n\r",
                      Events({{"message", "a\nb\nc", ""}, {"message", "d", ""}}));
}

TEST(SseParser, TreatsLfThenCrAsTwoLineEndings) {
  ExpectEveryChunking("data: a\n\rdata: b\r\n\n", Events({{"message", "a", ""}, {"message", "b", ""}}));
}

TEST(SseParser, TreatsCrThenCrlfAsALineEndThenABlankLine) {
  ExpectEveryChunking("data: a\r\r\ndata: b\r\n\r\n", Events({{"message", "a", ""}, {"message", "b", ""}}));
}

TEST(SseParser, TreatsACrAtTheEndOfOneReadAndAnLfAtTheStartOfTheNextAsOneLineEnd) {
  SseParser parser;
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: a\r", recorder), FramingStatus::kOk);
  ASSERT_EQ(Feed(parser, "\n", recorder), FramingStatus::kOk);
  EXPECT_TRUE(recorder.events.empty()) << "the LF completed a CRLF, it is not a blank line";
  ASSERT_EQ(Feed(parser, "data: b\r\n\r\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a\nb", ""}}));
}

TEST(SseParser, KeepsACrlfPairTogetherAcrossAnEmptyRead) {
  SseParser parser;
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: a\r", recorder), FramingStatus::kOk);
  ASSERT_EQ(Feed(parser, "", recorder), FramingStatus::kOk);
  ASSERT_EQ(Feed(parser, "\ndata: b\n\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a\nb", ""}}));
}

TEST(SseParser, DispatchesOnATrailingCrWithoutWaitingForTheNextRead) {
  // The CR might be half of a CRLF, but the line it ends is complete either
  // way, so the event must not be held back until more bytes arrive.
  SseParser parser;
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: a\r\r", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a", ""}}));
}

// ---- Byte order mark (rule 1) ------------------------------------------------------

TEST(SseParser, StripsOneLeadingByteOrderMark) {
  ExpectEveryChunking(
      "\xEF\xBB\xBF"
      "data: a\n\n",
      Events({{"message", "a", ""}}));
}

TEST(SseParser, StripsALeadingByteOrderMarkSplitAcrossOneByteReads) {
  SseParser parser;
  Recorder recorder;
  for (const char byte : std::string_view("\xEF\xBB\xBF")) {
    ASSERT_EQ(parser.Feed(&byte, 1, recorder), FramingStatus::kOk);
  }
  ASSERT_EQ(Feed(parser, "data: a\n\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a", ""}}));
}

TEST(SseParser, KeepsASecondByteOrderMarkAsPartOfTheFirstFieldName) {
  // "\xEF\xBB\xBF" "data" is not the field name "data", so the line is ignored.
  ExpectEveryChunking(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "data: a\n\ndata: b\n\n",
      Events({{"message", "b", ""}}));
}

TEST(SseParser, KeepsTheBytesOfAPartialByteOrderMarkAsOrdinaryBytes) {
  ExpectEveryChunking(
      "\xEF\xBB"
      "data: a\n\ndata: b\n\n",
      Events({{"message", "b", ""}}));
  ExpectEveryChunking(
      "\xEF"
      "data: a\n\ndata: b\n\n",
      Events({{"message", "b", ""}}));
  ExpectEveryChunking(
      "\xEF\xBB\n"
      "data: b\n\n",
      Events({{"message", "b", ""}}));
}

TEST(SseParser, TreatsAByteOrderMarkAfterTheStartAsData) {
  ExpectEveryChunking(
      "data: \xEF\xBB\xBF"
      "a\n\n",
      Events({{"message",
               "\xEF\xBB\xBF"
               "a",
               ""}}));
  ExpectEveryChunking(
      "\n\xEF\xBB\xBF"
      "data: a\n\ndata: b\n\n",
      Events({{"message", "b", ""}}));
}

// ---- Comments and fields (rules 5-8, 13) -------------------------------------------

TEST(SseParser, IgnoresCommentLines) {
  ExpectEveryChunking(": OPENROUTER PROCESSING\n\n:\n: keep-alive\ndata: a\n:data: b\n\n",
                      Events({{"message", "a", ""}}));
}

TEST(SseParser, DoesNotLetACommentEndAnEvent) {
  ExpectEveryChunking("data: a\n: ping\ndata: b\n\n", Events({{"message", "a\nb", ""}}));
}

TEST(SseParser, RemovesExactlyOneLeadingSpaceFromTheValue) {
  ExpectEveryChunking("data:x\n\n", Events({{"message", "x", ""}}));
  ExpectEveryChunking("data: x\n\n", Events({{"message", "x", ""}}));
  ExpectEveryChunking("data:  x\n\n", Events({{"message", " x", ""}}));
}

TEST(SseParser, KeepsTabsAndTrailingSpacesInTheValue) {
  ExpectEveryChunking("data:\tx \n\n", Events({{"message", "\tx ", ""}}));
  ExpectEveryChunking("data: x  \n\n", Events({{"message", "x  ", ""}}));
}

TEST(SseParser, SplitsTheFieldNameAtTheFirstColonOnly) {
  ExpectEveryChunking("data: a:b: c\n\n", Events({{"message", "a:b: c", ""}}));
  ExpectEveryChunking("data::x\n\n", Events({{"message", ":x", ""}}));
}

TEST(SseParser, TreatsALineWithoutAColonAsAFieldWithAnEmptyValue) {
  ExpectEveryChunking("data\n\n", Events({{"message", "", ""}}));
  ExpectEveryChunking("data\ndata\n\n", Events({{"message", "\n", ""}}));
  ExpectEveryChunking("data: a\ndata\ndata: b\n\n", Events({{"message", "a\n\nb", ""}}));
  ExpectEveryChunking("event: x\nevent\ndata: a\n\n", Events({{"message", "a", ""}}));
  ExpectEveryChunking("id: 1\nid\ndata: a\n\n", Events({{"message", "a", ""}}));
}

TEST(SseParser, ComparesFieldNamesCaseSensitively) {
  ExpectEveryChunking("DATA: a\nData: b\nEvent: x\nID: 1\nRetry: 5\ndata: c\n\n", Events({{"message", "c", ""}}));
}

TEST(SseParser, IgnoresUnknownFieldsAndSpaceBeforeTheColon) {
  ExpectEveryChunking("foo: bar\ndata : a\n data: b\ndata: c\n\n", Events({{"message", "c", ""}}));
}

// ---- data and event (rules 9, 10, 14) -------------------------------------------------

TEST(SseParser, JoinsMultipleDataLinesWithLf) {
  ExpectEveryChunking("data: {\"a\":\ndata: 1}\n\n", Events({{"message", "{\"a\":\n1}", ""}}));
}

TEST(SseParser, RemovesOnlyTheLastLfOfTheDataBuffer) {
  ExpectEveryChunking("data: a\ndata:\ndata:\n\n", Events({{"message", "a\n\n", ""}}));
}

TEST(SseParser, UsesTheEventFieldAsTheType) {
  ExpectEveryChunking("event: content_block_delta\ndata: {}\n\n", Events({{"content_block_delta", "{}", ""}}));
}

TEST(SseParser, UsesMessageWhenTheEventFieldIsEmpty) {
  ExpectEveryChunking("event:\ndata: a\n\n", Events({{"message", "a", ""}}));
}

TEST(SseParser, LetsTheLastEventFieldWin) {
  ExpectEveryChunking("event: a\nevent: b\ndata: x\n\n", Events({{"b", "x", ""}}));
}

// ---- id (rules 11, 14a) --------------------------------------------------------------

TEST(SseParser, KeepsTheLastEventIdAcrossEvents) {
  ExpectEveryChunking("id: 7\ndata: a\n\ndata: b\n\n",
                      Events({{"message", "a", "7"}, {"message", "b", "7"}}).WithLastEventId("7"));
}

TEST(SseParser, ClearsTheLastEventIdWithAnEmptyIdField) {
  ExpectEveryChunking("id: 7\ndata: a\n\nid:\ndata: b\n\n", Events({{"message", "a", "7"}, {"message", "b", ""}}));
}

TEST(SseParser, IgnoresAnIdFieldContainingNul) {
  ExpectEveryChunking("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s,
                      Events({{"message", "a", "1"}, {"message", "b", "1"}}).WithLastEventId("1"));
}

TEST(SseParser, UpdatesTheLastEventIdOnABlankLineEvenWithoutAnEvent) {
  ExpectEveryChunking("id: 7\n\n", NoEvents().WithLastEventId("7"));
}

TEST(SseParser, DoesNotUpdateTheLastEventIdFromAnIdThatNoBlankLineFollowed) {
  ExpectEveryChunking("id: 1\ndata: a\n\nid: 2\n", Events({{"message", "a", "1"}}).WithLastEventId("1"));
}

// ---- retry (rule 12) -------------------------------------------------------------------

TEST(SseParser, SetsTheReconnectionTimeFromAnAllDigitRetryValue) {
  ExpectEveryChunking("retry: 3000\n", NoEvents().WithRetryMs(3000));
  ExpectEveryChunking("retry: 0\n", NoEvents().WithRetryMs(0));
  ExpectEveryChunking("retry: 10\nretry: 20\n", NoEvents().WithRetryMs(20));
}

TEST(SseParser, IgnoresRetryValuesThatAreNotAllAsciiDigits) {
  ExpectEveryChunking(
      "retry: 5\nretry: -1\nretry: 1.5\nretry:  10\nretry: 10 \n"
      "retry:\nretry\nretry: 1e3\nretry: \xD9\xA3\n",
      NoEvents().WithRetryMs(5));
}

TEST(SseParser, SaturatesARetryValueTooLargeForInt64) {
  ExpectEveryChunking("retry: 99999999999999999999999\n", NoEvents().WithRetryMs(std::numeric_limits<int64_t>::max()));
}

TEST(SseParser, AppliesRetryWithoutDispatchingAnEvent) {
  ExpectEveryChunking("retry: 1000\n\ndata: a\n\n", Events({{"message", "a", ""}}).WithRetryMs(1000));
}

// ---- End of stream (rule 15) -------------------------------------------------------------

TEST(SseParser, DiscardsAnEventNotTerminatedByABlankLineAtEndOfStream) {
  ExpectEveryChunking("data: a\n\ndata: b\n", Events({{"message", "a", ""}}));
  ExpectEveryChunking("data: a\n\ndata: b", Events({{"message", "a", ""}}));
  ExpectEveryChunking("data: a\n\ndata: b\r", Events({{"message", "a", ""}}));
}

TEST(SseParser, DoesNotCarryADiscardedEventIntoTheNextStreamAfterFinish) {
  SseParser parser;
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "event: x\ndata: a\ndata: b", recorder), FramingStatus::kOk);
  parser.Finish();
  ASSERT_EQ(Feed(parser, "\ndata: c\n\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "c", ""}}));
}

// ---- Bytes (rules 1, 16) ------------------------------------------------------------------

TEST(SseParser, DeliversMultiByteUtf8SplitAcrossReadsIntact) {
  ExpectEveryChunking("data: h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89\n\n",
                      Events({{"message", "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89", ""}}));
}

TEST(SseParser, PassesInvalidUtf8ThroughAsBytes) {
  // Deliberate deviation from UTF-8 decode (which would give U+FFFD): the
  // bytes reach the JSON parser as sent, which rejects or accepts them.
  ExpectEveryChunking("event: \xFF\ndata: \xC3\n\xE2\x82\n\n", Events({{"\xFF", "\xC3", ""}}));
  ExpectEveryChunking("data: \xC0\xAF\xED\xA0\x80\xF8\n\n", Events({{"message", "\xC0\xAF\xED\xA0\x80\xF8", ""}}));
}

TEST(SseParser, PassesNulBytesInDataThrough) {
  ExpectEveryChunking("data: a\0b\n\n"s, Events({{"message", "a\0b"s, ""}}));
}

// ---- Provider-shaped streams ----------------------------------------------------------------

TEST(SseParser, ParsesAnOpenAiChatStreamWithDone) {
  ExpectEveryChunking(
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"\xE3\x81\x93\xE3\x82\x93\"}}]}\n\n"
      ": OPENROUTER PROCESSING\n\n"
      "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      "data: [DONE]\n\n",
      Events({{"message", "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}", ""},
              {"message", "{\"choices\":[{\"delta\":{\"content\":\"\xE3\x81\x93\xE3\x82\x93\"}}]}", ""},
              {"message", "{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}", ""},
              {"message", "[DONE]", ""}}));
}

TEST(SseParser, ParsesAnAnthropicStreamWithEventLinesAndPings) {
  ExpectEveryChunking(
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
      "event: ping\ndata: {\"type\": \"ping\"}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi \xF0\x9F\x91\x8B\"}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
      Events({{"message_start", "{\"type\":\"message_start\"}", ""},
              {"ping", "{\"type\": \"ping\"}", ""},
              {"content_block_delta", "{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi \xF0\x9F\x91\x8B\"}}",
               ""},
              {"message_stop", "{\"type\":\"message_stop\"}", ""}}));
}

TEST(SseParser, ParsesAGeminiStreamWithCrlfFraming) {
  ExpectEveryChunking(
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n"
      "data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\r\n\r\n",
      Events({{"message", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}", ""},
              {"message", "{\"candidates\":[{\"finishReason\":\"STOP\"}]}", ""}}));
}

// ---- Size limit ---------------------------------------------------------------------------------

TEST(SseParser, AcceptsADataBufferExactlyAtTheLimit) {
  // The data buffer holds "0123456\n0123456\n": 16 bytes.
  ParserOptions options;
  options.max_event_bytes = 16;
  ExpectEveryChunking("data: 0123456\ndata: 0123456\n\n", Events({{"message", "0123456\n0123456", ""}}), options);
}

TEST(SseParser, ReturnsLimitWhenTheDataBufferGrowsPastTheLimit) {
  ParserOptions options;
  options.max_event_bytes = 16;
  ExpectEveryChunking("data: a\n\ndata: 0123456\ndata: 01234567\n\ndata: b\n\n",
                      Events({{"message", "a", ""}}).WithStatus(FramingStatus::kLimit), options);
}

TEST(SseParser, ReturnsLimitForALineLongerThanTheLimitEvenWithoutATerminator) {
  ParserOptions options;
  options.max_event_bytes = 8;
  ExpectEveryChunking("data: a\n\n: 123456789", Events({{"message", "a", ""}}).WithStatus(FramingStatus::kLimit),
                      options);
}

TEST(SseParser, HoldsACommentLineToTheLimitHoweverItIsSplit) {
  // Even though a comment is never stored, the outcome must not depend on
  // whether the long line arrived in one read or was carried across reads.
  ParserOptions options;
  options.max_event_bytes = 8;
  ExpectEveryChunking(": 123456789\ndata: a\n\n", NoEvents().WithStatus(FramingStatus::kLimit), options);
}

TEST(SseParser, StaysFailedAfterReturningLimit) {
  SseParser parser(8);
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: 12345678\n\n", recorder), FramingStatus::kLimit);
  EXPECT_EQ(Feed(parser, "data: a\n\n", recorder), FramingStatus::kLimit);
  EXPECT_TRUE(recorder.events.empty());
}

TEST(SseParser, AppliesTheDefaultLimitOfEightMebibytes) {
  SseParser parser;
  Recorder recorder;
  const std::string line = "data: " + std::string(SseParser::kDefaultMaxEventBytes, 'x');
  EXPECT_EQ(Feed(parser, line, recorder), FramingStatus::kLimit);
}

// ---- Handler stop ---------------------------------------------------------------------------------

TEST(SseParser, ReturnsStoppedAsSoonAsTheHandlerReturnsFalse) {
  ParserOptions options;
  options.stop_after_events = 1;
  ExpectEveryChunking("data: a\n\ndata: b\n\n", Events({{"message", "a", ""}}).WithStatus(FramingStatus::kStopped),
                      options);
}

TEST(SseParser, LeavesTheRestOfTheReadUnconsumedAfterAStop) {
  SseParser parser;
  Recorder stopper(1);
  const std::string_view first = "data: a\n\ndata: b\n\n";
  ASSERT_EQ(Feed(parser, first, stopper), FramingStatus::kStopped);
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: c\n\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "c", ""}}));
}

// ---- Reset ------------------------------------------------------------------------------------------

TEST(SseParser, ForgetsEverythingOnReset) {
  SseParser parser(64);
  Recorder recorder;
  const std::string_view before = "id: 9\nretry: 5\n\nevent: x\ndata: partial\ndata: li";
  ASSERT_EQ(Feed(parser, before, recorder), FramingStatus::kOk);
  ASSERT_EQ(parser.last_event_id(), "9");
  parser.Reset();
  EXPECT_EQ(parser.last_event_id(), "");
  EXPECT_EQ(parser.retry_ms(), -1);
  // A new stream: its leading BOM is stripped again and no old state leaks.
  const std::string_view after =
      "\xEF\xBB\xBF"
      "data: fresh\n\n";
  ASSERT_EQ(Feed(parser, after, recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "fresh", ""}}));
}

TEST(SseParser, ClearsTheLimitFailureOnReset) {
  SseParser parser(8);
  Recorder recorder;
  ASSERT_EQ(Feed(parser, "data: 12345678", recorder), FramingStatus::kLimit);
  parser.Reset();
  ASSERT_EQ(Feed(parser, "data: a\n\n", recorder), FramingStatus::kOk);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a", ""}}));
}

// ---- Linear time ---------------------------------------------------------------------------------------
// The bound is generous (the work takes milliseconds even unoptimized); a
// parser that rescans or recopies earlier bytes needs far longer for these
// sizes, so the checks cannot flake either way.

constexpr int64_t kLinearTimeBoundMs = 2000;

int64_t MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

TEST(SseParser, ParsesATwoMebibyteDataLineFedOneByteAtATimeInLinearTime) {
  const std::string input = "data: " + std::string(size_t{2} << 20, 'x') + "\n\n";
  SseParser parser;
  Recorder recorder;
  const auto start = std::chrono::steady_clock::now();
  for (const char& byte : input) {
    ASSERT_EQ(parser.Feed(&byte, 1, recorder), FramingStatus::kOk);
  }
  EXPECT_LT(MillisecondsSince(start), kLinearTimeBoundMs);
  ASSERT_EQ(recorder.events.size(), 1U);
  EXPECT_EQ(recorder.events[0].data.size(), size_t{2} << 20);
}

TEST(SseParser, ScansManyCrTerminatedLinesBeforeADistantLfInLinearTime) {
  std::string input;
  for (int i = 0; i < 2000000; ++i) input += ":\r";
  input += "data: a\n\n";
  SseParser parser;
  Recorder recorder;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Feed(parser, input, recorder), FramingStatus::kOk);
  EXPECT_LT(MillisecondsSince(start), kLinearTimeBoundMs);
  EXPECT_EQ(recorder.events, (std::vector<Event>{{"message", "a", ""}}));
}

TEST(SseParser, ParsesAMultiLineEventFedOneByteAtATimeInLinearTime) {
  std::string input;
  for (int i = 0; i < 100000; ++i) input += "data: 0123456789\r\n";
  input += "\r\n";
  SseParser parser;
  Recorder recorder;
  const auto start = std::chrono::steady_clock::now();
  for (const char& byte : input) {
    ASSERT_EQ(parser.Feed(&byte, 1, recorder), FramingStatus::kOk);
  }
  EXPECT_LT(MillisecondsSince(start), kLinearTimeBoundMs);
  ASSERT_EQ(recorder.events.size(), 1U);
  EXPECT_EQ(recorder.events[0].data.size(), size_t{100000} * 11 - 1);
}

}  // namespace
}  // namespace llmrelay
