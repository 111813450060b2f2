// Byte-exact tests for the downstream encoders (src/encoders/). The expected
// openai and ui-message transcripts were also fed to the `openai` SDK's Stream
// parser and the `ai` package's UI message stream reader, which accept them.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/delta.h"
#include "encoders/encoder.h"

namespace llmrelay {
namespace {

using EncodeFn = std::function<void(Encoder&, std::string&)>;

EncoderOptions DefaultOptions() {
  EncoderOptions options;
  options.id = "msg-1";
  options.model = "gpt-x";
  options.created = 1700000000;
  return options;
}

std::string Encode(std::string_view format, const EncodeFn& fn, const EncoderOptions& options = DefaultOptions()) {
  std::unique_ptr<Encoder> encoder = CreateEncoder(format, options);
  EXPECT_NE(encoder, nullptr) << format;
  std::string out;
  if (encoder) fn(*encoder, out);
  return out;
}

// One SSE event carrying `json` as its data.
std::string Data(std::string_view json) {
  std::string s = "data: ";
  s.append(json);
  s.append("\n\n");
  return s;
}

UsageInfo Usage(int64_t in, int64_t out, int64_t total, std::string_view raw) {
  UsageInfo usage;
  usage.input_tokens = in;
  usage.output_tokens = out;
  usage.total_tokens = total;
  usage.raw_json = raw;
  return usage;
}

bool ParsesAsJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  return !doc.HasParseError();
}

// ---------------------------------------------------------------------------
// Registry

// An in-band error without status or Retry-After (the common case).
ErrorInfo Err(std::string_view code, std::string_view message, int64_t status = 0, int64_t retry_after_ms = -1) {
  ErrorInfo error{code, message};
  error.status = status;
  error.retry_after_ms = retry_after_ms;
  return error;
}

TEST(CreateEncoder, KnowsEveryDocumentedFormat) {
  for (std::string_view format : {"json", "sse", "openai", "ndjson", "text", "ui-message"}) {
    EXPECT_NE(CreateEncoder(format, EncoderOptions{}), nullptr) << format;
  }
}

TEST(CreateEncoder, ReturnsNullForAnUnknownFormat) {
  EXPECT_EQ(CreateEncoder("xml", EncoderOptions{}), nullptr);
  EXPECT_EQ(CreateEncoder("", EncoderOptions{}), nullptr);
  EXPECT_EQ(CreateEncoder("SSE", EncoderOptions{}), nullptr);
}

// ---------------------------------------------------------------------------
// "json" (object mode)

TEST(JsonEncoder, WritesEachDeltaKindAsACommaTerminatedObject) {
  const std::string out = Encode("json", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "Hel");
    e.Reasoning(o, "hmm");
    e.ToolCall(o, 0, "call_1", "get_weather", "{\"ci");
    e.ToolCall(o, 0, "", "", "ty\":1}");
    e.Usage(o, Usage(10, 5, 15, R"({"prompt_tokens":10})"));
    e.Finish(o, FinishReason::kStop, "end_turn");
    e.RawEvent(o, "ping", "x", "7", true);
    e.Done(o);
  });
  EXPECT_EQ(out, R"({"type":"text","text":"Hel"},)"
                 R"({"type":"reasoning","text":"hmm"},)"
                 R"({"type":"tool-call","index":0,"id":"call_1","name":"get_weather","argumentsDelta":"{\"ci"},)"
                 R"({"type":"tool-call","index":0,"argumentsDelta":"ty\":1}"},)"
                 R"({"type":"usage","inputTokens":10,"outputTokens":5,"totalTokens":15,"raw":{"prompt_tokens":10}},)"
                 R"({"type":"finish","reason":"stop","raw":"end_turn"},)"
                 R"({"type":"event","event":"ping","data":"x","id":"7"},)");
}

TEST(JsonEncoder, ABatchParsesAsOneArrayAfterDroppingTheLastComma) {
  const std::string out = Encode("json", [](Encoder& e, std::string& o) {
    e.Text(o, "a\"b\\c\n\x01");
    e.Usage(o, Usage(-1, -1, -1, "{}"));
    e.Finish(o, FinishReason::kLength, "");
  });
  ASSERT_EQ(out.back(), ',');
  const std::string array = "[" + out.substr(0, out.size() - 1) + "]";
  rapidjson::Document doc;
  doc.Parse(array.c_str());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_TRUE(doc.IsArray());
  EXPECT_EQ(doc.Size(), 3U);
  EXPECT_STREQ(doc[0]["text"].GetString(), "a\"b\\c\n\x01");
}

TEST(JsonEncoder, StartDoneAndErrorWriteNothing) {
  const std::string out = Encode("json", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Done(o);
    e.Error(o, Err("TIMEOUT_IDLE", "no data for 30000 ms"));
  });
  EXPECT_EQ(out, "");
}

// ---------------------------------------------------------------------------
// Delta JSON details (shared by json, sse, ndjson)

TEST(DeltaJson, UnknownUsageCountsAreNullAndAnUnknownTotalIsLeftOut) {
  const std::string out =
      Encode("ndjson", [](Encoder& e, std::string& o) { e.Usage(o, Usage(-1, 7, -1, R"({"output_tokens":7})")); });
  EXPECT_EQ(out, R"({"type":"usage","inputTokens":null,"outputTokens":7,"raw":{"output_tokens":7}})"
                 "\n");
}

TEST(DeltaJson, AnEmptyRawUsageStillYieldsValidJson) {
  const std::string out = Encode("ndjson", [](Encoder& e, std::string& o) { e.Usage(o, Usage(1, 2, 3, "")); });
  EXPECT_EQ(out, R"({"type":"usage","inputTokens":1,"outputTokens":2,"totalTokens":3,"raw":{}})"
                 "\n");
}

TEST(DeltaJson, FinishNamesEveryReasonAndLeavesOutAnEmptyRaw) {
  const struct {
    FinishReason reason;
    const char* name;
  } cases[] = {
      {FinishReason::kStop, "stop"},
      {FinishReason::kLength, "length"},
      {FinishReason::kToolCalls, "tool-calls"},
      {FinishReason::kContentFilter, "content-filter"},
      {FinishReason::kError, "error"},
      {FinishReason::kOther, "other"},
  };
  for (const auto& c : cases) {
    const std::string out = Encode("ndjson", [&](Encoder& e, std::string& o) { e.Finish(o, c.reason, ""); });
    EXPECT_EQ(out, std::string(R"({"type":"finish","reason":")") + c.name + "\"}\n");
  }
}

TEST(DeltaJson, ToolCallLeavesOutAnEmptyIdAndNameButKeepsEmptyArguments) {
  const std::string out = Encode("ndjson", [](Encoder& e, std::string& o) {
    e.ToolCall(o, 3, "", "lookup", "");
    e.ToolCall(o, 4294967295U, "id\"1", "", "{}");
  });
  EXPECT_EQ(out, R"({"type":"tool-call","index":3,"name":"lookup","argumentsDelta":""})"
                 "\n"
                 R"({"type":"tool-call","index":4294967295,"id":"id\"1","argumentsDelta":"{}"})"
                 "\n");
}

TEST(DeltaJson, RawEventLeavesOutTheIdUnlessItHasOne) {
  const std::string out = Encode("ndjson", [](Encoder& e, std::string& o) {
    e.RawEvent(o, "message", "line1\nline2", "", false);
    e.RawEvent(o, "update", "{}", "", true);
  });
  EXPECT_EQ(out, R"({"type":"event","event":"message","data":"line1\nline2"})"
                 "\n"
                 R"({"type":"event","event":"update","data":"{}","id":""})"
                 "\n");
}

TEST(DeltaJson, EscapesQuotesBackslashesAndControlCharacters) {
  // sizeof, not strlen: the text holds a NUL.
  static constexpr char kText[] = "q\" b\\ n\n r\r t\t b\b f\f nul\0 us\x1f del\x7f";
  const std::string out =
      Encode("ndjson", [](Encoder& e, std::string& o) { e.Text(o, std::string_view(kText, sizeof kText - 1)); });
  EXPECT_EQ(out, R"({"type":"text","text":"q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f del)"
                 "\x7f"
                 R"("})"
                 "\n");
}

TEST(DeltaJson, EscapesLineAndParagraphSeparatorsButPassesOtherUtf8Through) {
  const std::string out = Encode("ndjson", [](Encoder& e, std::string& o) {
    e.Text(o,
           "a\xE2\x80\xA8"
           "b\xE2\x80\xA9"
           "c h\xC3\xA9 \xE4\xB8\x96 \xF0\x9F\x8E\x89 \xE2\x80\xA6");
  });
  EXPECT_EQ(out, R"({"type":"text","text":"a\u2028b\u2029c h)"
                 "\xC3\xA9 \xE4\xB8\x96 \xF0\x9F\x8E\x89 \xE2\x80\xA6"
                 R"("})"
                 "\n");
}

// ---------------------------------------------------------------------------
// "sse"

TEST(SseEncoder, WritesEachDeltaAsOneDataEvent) {
  const std::string out = Encode("sse", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "Hel");
    e.Text(o, "lo");
    e.Reasoning(o, "r");
    e.ToolCall(o, 1, "c", "f", "{}");
    e.Usage(o, Usage(1, 2, -1, "{}"));
    e.Finish(o, FinishReason::kStop, "");
    e.RawEvent(o, "e", "d", "", false);
  });
  EXPECT_EQ(out, Data(R"({"type":"text","text":"Hel"})") + Data(R"({"type":"text","text":"lo"})") +
                     Data(R"({"type":"reasoning","text":"r"})") +
                     Data(R"({"type":"tool-call","index":1,"id":"c","name":"f","argumentsDelta":"{}"})") +
                     Data(R"({"type":"usage","inputTokens":1,"outputTokens":2,"raw":{}})") +
                     Data(R"({"type":"finish","reason":"stop"})") + Data(R"({"type":"event","event":"e","data":"d"})"));
}

TEST(SseEncoder, KeepsNewlinesInTextInsideOneDataLine) {
  const std::string out = Encode("sse", [](Encoder& e, std::string& o) { e.Text(o, "a\n\nb\r\nc"); });
  EXPECT_EQ(out, Data(R"({"type":"text","text":"a\n\nb\r\nc"})"));
  EXPECT_EQ(out.find('\n'), out.size() - 2);
}

TEST(SseEncoder, DoneWritesTheDoneMarker) {
  EXPECT_EQ(Encode("sse", [](Encoder& e, std::string& o) { e.Done(o); }), "data: [DONE]\n\n");
}

TEST(SseEncoder, ErrorIsANamedErrorEventWithCodeAndMessage) {
  const std::string out = Encode(
      "sse", [](Encoder& e, std::string& o) { e.Error(o, Err("TIMEOUT_IDLE", "No delta for 30000 ms \"idle\"")); });
  EXPECT_EQ(out,
            "event: error\n"
            R"(data: {"code":"TIMEOUT_IDLE","message":"No delta for 30000 ms \"idle\""})"
            "\n\n");
}

TEST(ErrorEncoding, AProviderStatusAndItsRetryAfterReachTheClientInEveryFormatThatCanCarryThem) {
  const ErrorInfo error = Err("HTTP_STATUS", "The provider answered HTTP 429", 429, 20000);
  const auto encode = [&error](std::string_view format) {
    return Encode(format, [&error](Encoder& e, std::string& o) { e.Error(o, error); });
  };
  EXPECT_EQ(
      encode("sse"),
      "event: error\n"
      R"(data: {"code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000})"
      "\n\n");
  EXPECT_EQ(
      encode("ndjson"),
      R"({"type":"error","code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000})"
      "\n");
  EXPECT_EQ(
      encode("openai"),
      R"(data: {"error":{"type":"relay_error","code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000}})"
      "\n\n");
  EXPECT_EQ(
      encode("ui-message"),
      Data(
          R"({"type":"error","errorText":"HTTP_STATUS: The provider answered HTTP 429","code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000})"));
  EXPECT_EQ(encode("text"), "");
  EXPECT_EQ(encode("json"), "");
}

TEST(ErrorEncoding, AStatusWithoutRetryAfterLeavesRetryAfterMsOut) {
  EXPECT_EQ(Encode("ndjson", [](Encoder& e, std::string& o) { e.Error(o, Err("HTTP_STATUS", "m", 503)); }),
            R"({"type":"error","code":"HTTP_STATUS","message":"m","status":503})"
            "\n");
}

TEST(SseEncoder, AppendsToWhatTheBufferAlreadyHolds) {
  std::unique_ptr<Encoder> encoder = CreateEncoder("sse", EncoderOptions{});
  std::string out = ": ping\n\n";
  encoder->Text(out, "x");
  EXPECT_EQ(out, ": ping\n\n" + Data(R"({"type":"text","text":"x"})"));
}

// ---------------------------------------------------------------------------
// "ndjson"

TEST(NdjsonEncoder, WritesOneDeltaPerLineThenADoneLine) {
  const std::string out = Encode("ndjson", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "hi");
    e.Reasoning(o, "r");
    e.Finish(o, FinishReason::kToolCalls, "tool_use");
    e.Done(o);
  });
  EXPECT_EQ(out, R"({"type":"text","text":"hi"})"
                 "\n"
                 R"({"type":"reasoning","text":"r"})"
                 "\n"
                 R"({"type":"finish","reason":"tool-calls","raw":"tool_use"})"
                 "\n"
                 R"({"type":"done"})"
                 "\n");
}

TEST(NdjsonEncoder, ErrorIsAnErrorLineWithCodeAndMessage) {
  const std::string out =
      Encode("ndjson", [](Encoder& e, std::string& o) { e.Error(o, Err("PROVIDER_ERROR", "overloaded\n")); });
  EXPECT_EQ(out, R"({"type":"error","code":"PROVIDER_ERROR","message":"overloaded\n"})"
                 "\n");
}

// ---------------------------------------------------------------------------
// "text"

TEST(TextEncoder, WritesOnlyTheTextBytesUnchanged) {
  const std::string out = Encode("text", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "Hel");
    e.Reasoning(o, "thinking");
    e.Text(o, "lo \"w\"\n\xE2\x80\xA8\xF0\x9F\x8E\x89");
    e.ToolCall(o, 0, "c", "f", "{}");
    e.Usage(o, Usage(1, 2, 3, "{}"));
    e.RawEvent(o, "e", "d", "", false);
    e.Finish(o, FinishReason::kStop, "stop");
    e.Done(o);
  });
  EXPECT_EQ(out, "Hello \"w\"\n\xE2\x80\xA8\xF0\x9F\x8E\x89");
}

TEST(TextEncoder, ErrorWritesNothingSoTheRelayCanAbortTheResponse) {
  EXPECT_EQ(Encode("text", [](Encoder& e, std::string& o) { e.Error(o, Err("NETWORK", "reset")); }), "");
}

// ---------------------------------------------------------------------------
// "openai"

constexpr std::string_view kChunk =
    R"(data: {"id":"msg-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-x","choices":[)";

std::string Chunk(std::string_view delta, std::string_view finish = "null") {
  std::string s(kChunk);
  s.append(R"({"index":0,"delta":)");
  s.append(delta);
  s.append(R"(,"finish_reason":)");
  s.append(finish);
  s.append("}]}\n\n");
  return s;
}

TEST(OpenAiEncoder, FirstChunkCarriesTheAssistantRoleAndLaterOnesDoNot) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "Hel");
    e.Text(o, "lo");
    e.Finish(o, FinishReason::kStop, "end_turn");
    e.Done(o);
  });
  EXPECT_EQ(out, Chunk(R"({"role":"assistant","content":"Hel"})") + Chunk(R"({"content":"lo"})") +
                     Chunk("{}", R"("stop")") + "data: [DONE]\n\n");
}

TEST(OpenAiEncoder, DoneWithoutAFinishSendsAStopFinishFirst) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Text(o, "x");
    e.Done(o);
  });
  EXPECT_EQ(out, Chunk(R"({"role":"assistant","content":"x"})") + Chunk("{}", R"("stop")") + "data: [DONE]\n\n");
}

TEST(OpenAiEncoder, ReasoningGoesToReasoningContent) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Reasoning(o, "think");
    e.Reasoning(o, "ing");
  });
  EXPECT_EQ(out,
            Chunk(R"({"role":"assistant","reasoning_content":"think"})") + Chunk(R"({"reasoning_content":"ing"})"));
}

TEST(OpenAiEncoder, ToolCallFragmentsCarryTypeFunctionAndOnlyTheIdAndNameTheyHave) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.ToolCall(o, 0, "call_1", "get_weather", "");
    e.ToolCall(o, 0, "", "", "{\"city\":");
    e.ToolCall(o, 1, "", "lookup", "{}");
    e.Finish(o, FinishReason::kToolCalls, "tool_use");
  });
  EXPECT_EQ(
      out,
      Chunk(
          R"({"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]})") +
          Chunk(R"({"tool_calls":[{"index":0,"type":"function","function":{"arguments":"{\"city\":"}}]})") +
          Chunk(R"({"tool_calls":[{"index":1,"type":"function","function":{"name":"lookup","arguments":"{}"}}]})") +
          Chunk("{}", R"("tool_calls")"));
}

TEST(OpenAiEncoder, AFinishAsTheFirstChunkStillCarriesTheRole) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) { e.Finish(o, FinishReason::kLength, ""); });
  EXPECT_EQ(out, Chunk(R"({"role":"assistant"})", R"("length")"));
}

TEST(OpenAiEncoder, MapsFinishReasonsToOpenAiNamesAndErrorAndOtherToStop) {
  const struct {
    FinishReason reason;
    const char* name;
  } cases[] = {
      {FinishReason::kStop, "\"stop\""},
      {FinishReason::kLength, "\"length\""},
      {FinishReason::kToolCalls, "\"tool_calls\""},
      {FinishReason::kContentFilter, "\"content_filter\""},
      {FinishReason::kError, "\"stop\""},
      {FinishReason::kOther, "\"stop\""},
  };
  for (const auto& c : cases) {
    const std::string out = Encode("openai", [&](Encoder& e, std::string& o) {
      e.Text(o, "");
      e.Finish(o, c.reason, "");
    });
    EXPECT_EQ(out, Chunk(R"({"role":"assistant","content":""})") + Chunk("{}", c.name));
  }
}

TEST(OpenAiEncoder, UsageIsAChunkWithNoChoicesAndUnknownCountsAsZero) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Usage(o, Usage(12, 34, 46, "{}"));
    e.Usage(o, Usage(-1, 5, -1, "{}"));
  });
  EXPECT_EQ(out, std::string(kChunk) +
                     R"(],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})"
                     "\n\n" +
                     std::string(kChunk) +
                     R"(],"usage":{"prompt_tokens":0,"completion_tokens":5,"total_tokens":5}})"
                     "\n\n");
}

TEST(OpenAiEncoder, UsageDoesNotUseUpTheRole) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Usage(o, Usage(1, 1, 2, "{}"));
    e.Text(o, "x");
  });
  EXPECT_NE(out.find(R"({"role":"assistant","content":"x"})"), std::string::npos);
}

TEST(OpenAiEncoder, ErrorIsAnErrorObjectTheSdkRaisesAsApiError) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Text(o, "par");
    e.Error(o, Err("TIMEOUT_IDLE", "No delta for 30000 ms"));
  });
  EXPECT_EQ(out, Chunk(R"({"role":"assistant","content":"par"})") +
                     R"(data: {"error":{"type":"relay_error","code":"TIMEOUT_IDLE","message":"No delta for 30000 ms"}})"
                     "\n\n");
}

TEST(OpenAiEncoder, RawEventsAreDropped) {
  EXPECT_EQ(Encode("openai", [](Encoder& e, std::string& o) { e.RawEvent(o, "e", "d", "1", true); }), "");
}

TEST(OpenAiEncoder, EscapesTheIdAndModelInTheEnvelope) {
  EncoderOptions options;
  options.id = "a\"b";
  options.model = "m\\1\n";
  options.created = 0;
  const std::string out = Encode(
      "openai", [](Encoder& e, std::string& o) { e.Text(o, "x"); }, options);
  EXPECT_EQ(
      out,
      R"(data: {"id":"a\"b","object":"chat.completion.chunk","created":0,"model":"m\\1\n","choices":[{"index":0,"delta":{"role":"assistant","content":"x"},"finish_reason":null}]})"
      "\n\n");
}

TEST(OpenAiEncoder, EveryChunkIsValidJson) {
  const std::string out = Encode("openai", [](Encoder& e, std::string& o) {
    e.Text(o, "\xE2\x80\xA8\"\\\x01");
    e.Reasoning(o, "r");
    e.ToolCall(o, 0, "i", "n", "{");
    e.Usage(o, Usage(1, 2, 3, "{}"));
    e.Finish(o, FinishReason::kStop, "");
    e.Error(o, Err("X", "y"));
  });
  size_t pos = 0;
  int events = 0;
  while (pos < out.size()) {
    ASSERT_EQ(out.compare(pos, 6, "data: "), 0);
    const size_t end = out.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_TRUE(ParsesAsJson(std::string_view(out).substr(pos + 6, end - pos - 6)));
    pos = end + 2;
    ++events;
  }
  EXPECT_EQ(events, 6);
}

// ---------------------------------------------------------------------------
// "ui-message"

TEST(UiMessageEncoder, StartOpensTheMessageAndTheFirstStep) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) { e.Start(o); });
  EXPECT_EQ(out, Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})"));
}

TEST(UiMessageEncoder, StartLeavesOutAnEmptyMessageId) {
  const std::string out = Encode(
      "ui-message", [](Encoder& e, std::string& o) { e.Start(o); }, EncoderOptions{});
  EXPECT_EQ(out, Data(R"({"type":"start"})") + Data(R"({"type":"start-step"})"));
}

TEST(UiMessageEncoder, SequencesPartsAcrossTextReasoningTextToolAndFinish) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "Hel");
    e.Text(o, "lo");
    e.Reasoning(o, "hmm");
    e.Text(o, "ok");
    e.ToolCall(o, 0, "call_1", "get_weather", "{\"city\":");
    e.ToolCall(o, 0, "", "", "\"Paris\"}");
    e.Finish(o, FinishReason::kToolCalls, "tool_calls");
    e.Usage(o, Usage(10, 20, 30, "{}"));
    e.Done(o);
  });
  EXPECT_EQ(
      out,
      Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})") +
          Data(R"({"type":"text-start","id":"text-1"})") +
          Data(R"({"type":"text-delta","id":"text-1","delta":"Hel"})") +
          Data(R"({"type":"text-delta","id":"text-1","delta":"lo"})") + Data(R"({"type":"text-end","id":"text-1"})") +
          Data(R"({"type":"reasoning-start","id":"reasoning-2"})") +
          Data(R"({"type":"reasoning-delta","id":"reasoning-2","delta":"hmm"})") +
          Data(R"({"type":"reasoning-end","id":"reasoning-2"})") + Data(R"({"type":"text-start","id":"text-3"})") +
          Data(R"({"type":"text-delta","id":"text-3","delta":"ok"})") + Data(R"({"type":"text-end","id":"text-3"})") +
          Data(R"({"type":"tool-input-start","toolCallId":"call_1","toolName":"get_weather"})") +
          Data(R"({"type":"tool-input-delta","toolCallId":"call_1","inputTextDelta":"{\"city\":"})") +
          Data(R"({"type":"tool-input-delta","toolCallId":"call_1","inputTextDelta":"\"Paris\"}"})") +
          Data(
              R"({"type":"tool-input-available","toolCallId":"call_1","toolName":"get_weather","input":{"city":"Paris"}})") +
          Data(R"({"type":"finish-step"})") +
          Data(
              R"({"type":"message-metadata","messageMetadata":{"usage":{"inputTokens":10,"outputTokens":20,"totalTokens":30}}})") +
          Data(R"({"type":"finish","finishReason":"tool-calls"})") + "data: [DONE]\n\n");
}

TEST(UiMessageEncoder, ClosesAnOpenTextPartAtFinish) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "a\nb");
    e.Finish(o, FinishReason::kStop, "stop");
    e.Done(o);
  });
  EXPECT_EQ(out, Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})") +
                     Data(R"({"type":"text-start","id":"text-1"})") +
                     Data(R"({"type":"text-delta","id":"text-1","delta":"a\nb"})") +
                     Data(R"({"type":"text-end","id":"text-1"})") + Data(R"({"type":"finish-step"})") +
                     Data(R"({"type":"finish","finishReason":"stop"})") + "data: [DONE]\n\n");
}

TEST(UiMessageEncoder, StartsTheMessageOnTheFirstDeltaWhenStartWasNotCalled) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) { e.Reasoning(o, "r"); });
  EXPECT_EQ(out, Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})") +
                     Data(R"({"type":"reasoning-start","id":"reasoning-1"})") +
                     Data(R"({"type":"reasoning-delta","id":"reasoning-1","delta":"r"})"));
}

TEST(UiMessageEncoder, SkipsEmptyTextDeltas) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.Text(o, "");
    e.Reasoning(o, "");
  });
  EXPECT_EQ(out, "");
}

TEST(UiMessageEncoder, DoneWithoutFinishStillEndsTheStepAndLeavesOutTheReason) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "x");
    e.Done(o);
  });
  EXPECT_EQ(out, Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})") +
                     Data(R"({"type":"text-start","id":"text-1"})") +
                     Data(R"({"type":"text-delta","id":"text-1","delta":"x"})") +
                     Data(R"({"type":"text-end","id":"text-1"})") + Data(R"({"type":"finish-step"})") +
                     Data(R"({"type":"finish"})") + "data: [DONE]\n\n");
}

TEST(UiMessageEncoder, AnEmptyAnswerIsStillAWellFormedMessage) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) { e.Done(o); });
  EXPECT_EQ(out, Data(R"({"type":"start","messageId":"msg-1"})") + Data(R"({"type":"start-step"})") +
                     Data(R"({"type":"finish-step"})") + Data(R"({"type":"finish"})") + "data: [DONE]\n\n");
}

TEST(UiMessageEncoder, HoldsToolFragmentsBackUntilTheNameArrives) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.ToolCall(o, 0, "c1", "", "{\"a\"");
    EXPECT_EQ(o, "");
    e.ToolCall(o, 0, "", "calc", ":1}");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-start","toolCallId":"c1","toolName":"calc"})") +
                     Data(R"({"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"{\"a\":1}"})"));
}

TEST(UiMessageEncoder, ANamelessToolCallIsStartedAtTheEndOfTheStep) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.ToolCall(o, 0, "c1", "", "{}");
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-start","toolCallId":"c1","toolName":""})") +
                     Data(R"({"type":"tool-input-available","toolCallId":"c1","toolName":"","input":{}})") +
                     Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, SynthesizesAToolCallIdWhenTheProviderSendsNone) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.ToolCall(o, 2, "", "f", "");
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-start","toolCallId":"msg-1-call-2","toolName":"f"})") +
                     Data(R"({"type":"tool-input-available","toolCallId":"msg-1-call-2","toolName":"f","input":{}})") +
                     Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, KeepsInterleavedToolCallsApartByIndex) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.ToolCall(o, 0, "a", "f", "[1,");
    e.ToolCall(o, 1, "b", "g", "[3,");
    e.ToolCall(o, 0, "", "", "2]");
    e.ToolCall(o, 1, "", "", "4]");
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-start","toolCallId":"a","toolName":"f"})") +
                     Data(R"({"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"[1,"})") +
                     Data(R"({"type":"tool-input-start","toolCallId":"b","toolName":"g"})") +
                     Data(R"({"type":"tool-input-delta","toolCallId":"b","inputTextDelta":"[3,"})") +
                     Data(R"({"type":"tool-input-delta","toolCallId":"a","inputTextDelta":"2]"})") +
                     Data(R"({"type":"tool-input-delta","toolCallId":"b","inputTextDelta":"4]"})") +
                     Data(R"({"type":"tool-input-available","toolCallId":"a","toolName":"f","input":[1,2]})") +
                     Data(R"({"type":"tool-input-available","toolCallId":"b","toolName":"g","input":[3,4]})") +
                     Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, CompactsPrettyPrintedArgumentsSoNoRawNewlineSplitsTheDataLine) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.ToolCall(o, 0, "c", "f", "{\n  \"a\" : [ 1 , 2.50e3, -0, true, false, null ],\r\n\t\"b\": {}\n}\n");
    o.clear();
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(
      out,
      Data(
          R"({"type":"tool-input-available","toolCallId":"c","toolName":"f","input":{"a":[1,2.50e3,-0,true,false,null],"b":{}}})") +
          Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, ReescapesStringsInArgumentsIncludingLineSeparators) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.ToolCall(o, 0, "c", "f", "{\"s\":\"\\u0041\xE2\x80\xA8\\n\\\"\xC3\xA9\\ud83c\\udf89\"}");
    o.clear();
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-available","toolCallId":"c","toolName":"f","input":{"s":"A\u2028\n\")"
                      "\xC3\xA9\xF0\x9F\x8E\x89"
                      R"("}})") +
                     Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, InvalidJsonArgumentsBecomeAToolInputErrorWithTheRawText) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.ToolCall(o, 0, "c", "f", "{\"a\":1} trailing");
    o.clear();
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(
      out,
      Data(
          R"json({"type":"tool-input-error","toolCallId":"c","toolName":"f","input":"{\"a\":1} trailing","errorText":"Tool call arguments are not valid JSON: The document root must not be followed by other values. (at byte 8)"})json") +
          Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, RejectsTruncatedArgumentsAndEmbeddedNul) {
  for (std::string_view args : {std::string_view("{\"a\":"), std::string_view("{}\0x", 4), std::string_view("[1,]"),
                                std::string_view("NaN"), std::string_view("\"\xC3\"")}) {
    const std::string out = Encode("ui-message", [&](Encoder& e, std::string& o) {
      e.Start(o);
      e.ToolCall(o, 0, "c", "f", args);
      o.clear();
      e.Finish(o, FinishReason::kToolCalls, "");
    });
    EXPECT_EQ(out.rfind(R"(data: {"type":"tool-input-error","toolCallId":"c")", 0), 0U) << out;
    const size_t end = out.find("\n\n");
    EXPECT_TRUE(ParsesAsJson(std::string_view(out).substr(6, end - 6))) << out;
  }
}

TEST(UiMessageEncoder, DeeplyNestedArgumentsDoNotExhaustTheStack) {
  const std::string deep(200000, '[');
  const std::string out = Encode("ui-message", [&](Encoder& e, std::string& o) {
    e.Start(o);
    e.ToolCall(o, 0, "c", "f", deep);
    e.ToolCall(o, 0, "", "", std::string(200000, ']'));
    o.clear();
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  const std::string prefix = R"(data: {"type":"tool-input-available","toolCallId":"c","toolName":"f","input":)";
  ASSERT_EQ(out.rfind(prefix, 0), 0U);
  EXPECT_EQ(out.size(), prefix.size() + 400000 + 3 + Data(R"({"type":"finish-step"})").size());
}

TEST(UiMessageEncoder, WhitespaceOnlyArgumentsAreAnEmptyObject) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.ToolCall(o, 0, "c", "f", " \n");
    o.clear();
    e.Finish(o, FinishReason::kToolCalls, "");
  });
  EXPECT_EQ(out, Data(R"({"type":"tool-input-available","toolCallId":"c","toolName":"f","input":{}})") +
                     Data(R"({"type":"finish-step"})"));
}

TEST(UiMessageEncoder, ContentAfterAFinishOpensANewStep) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Finish(o, FinishReason::kToolCalls, "");
    o.clear();
    e.Text(o, "more");
    e.Finish(o, FinishReason::kStop, "");
    e.Done(o);
  });
  EXPECT_EQ(out, Data(R"({"type":"start-step"})") + Data(R"({"type":"text-start","id":"text-1"})") +
                     Data(R"({"type":"text-delta","id":"text-1","delta":"more"})") +
                     Data(R"({"type":"text-end","id":"text-1"})") + Data(R"({"type":"finish-step"})") +
                     Data(R"({"type":"finish","finishReason":"stop"})") + "data: [DONE]\n\n");
}

TEST(UiMessageEncoder, UsageLeavesOutUnknownCountsAndDoesNotClosePartsOrSteps) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "a");
    o.clear();
    e.Usage(o, Usage(-1, 4, -1, "{}"));
    e.Text(o, "b");
  });
  EXPECT_EQ(out, Data(R"({"type":"message-metadata","messageMetadata":{"usage":{"outputTokens":4}}})") +
                     Data(R"({"type":"text-delta","id":"text-1","delta":"b"})"));
}

TEST(UiMessageEncoder, RawEventsBecomeDataParts) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    o.clear();
    e.RawEvent(o, "update", "{\"x\":1}", "42", true);
    e.RawEvent(o, "message", "hi", "", false);
  });
  EXPECT_EQ(out, Data(R"({"type":"data-event","data":{"event":"update","data":"{\"x\":1}","id":"42"}})") +
                     Data(R"({"type":"data-event","data":{"event":"message","data":"hi"}})"));
}

TEST(UiMessageEncoder, ErrorIsOneErrorPartAndNothingFollows) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "par");
    o.clear();
    e.Error(o, Err("TIMEOUT_IDLE", "No delta for 30000 ms"));
    e.Text(o, "late");
    e.ToolCall(o, 0, "c", "f", "{}");
    e.Usage(o, Usage(1, 1, 2, "{}"));
    e.Finish(o, FinishReason::kStop, "");
    e.RawEvent(o, "e", "d", "", false);
    e.Done(o);
    e.Error(o, Err("X", "again"));
  });
  EXPECT_EQ(
      out,
      Data(
          R"({"type":"error","errorText":"TIMEOUT_IDLE: No delta for 30000 ms","code":"TIMEOUT_IDLE","message":"No delta for 30000 ms"})"));
}

TEST(UiMessageEncoder, NothingFollowsDone) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Done(o);
    o.clear();
    e.Text(o, "late");
    e.Done(o);
    e.Error(o, Err("X", "y"));
  });
  EXPECT_EQ(out, "");
}

TEST(UiMessageEncoder, EscapesTextDeltas) {
  const std::string out = Encode("ui-message", [](Encoder& e, std::string& o) {
    e.Start(o);
    e.Text(o, "x");
    o.clear();
    e.Text(o, "\"\\\n\x02\xE2\x80\xA9\xC3\xA9");
  });
  EXPECT_EQ(out, Data(R"({"type":"text-delta","id":"text-1","delta":"\"\\\n\u0002\u2029)"
                      "\xC3\xA9"
                      R"("})"));
}

}  // namespace
}  // namespace llmrelay

namespace llmrelay {
namespace {

TEST(JsonEncoderMerging, ConsecutiveTextFragmentsOfOneBatchBecomeOneDelta) {
  auto encoder = CreateEncoder("json", EncoderOptions{});
  std::string out;
  encoder->Text(out, "Hel");
  encoder->Text(out, "lo \"w\xC3\xB6rld\"\n");
  encoder->Reasoning(out, "think");
  encoder->Reasoning(out, "ing");
  encoder->Text(out, "!");
  encoder->ToolCall(out, 0, "call_1", "f", "{}");
  encoder->Text(out, "after");
  EXPECT_EQ(out,
            "{\"type\":\"text\",\"text\":\"Hello \\\"w\xC3\xB6rld\\\"\\n\"},"
            "{\"type\":\"reasoning\",\"text\":\"thinking\"},"
            "{\"type\":\"text\",\"text\":\"!\"},"
            "{\"type\":\"tool-call\",\"index\":0,\"id\":\"call_1\",\"name\":\"f\",\"argumentsDelta\":\"{}\"},"
            "{\"type\":\"text\",\"text\":\"after\"},");
}

TEST(JsonEncoderMerging, TextAfterTheBatchWasTakenStartsANewDelta) {
  auto encoder = CreateEncoder("json", EncoderOptions{});
  std::string out;
  encoder->Text(out, "a");
  std::string taken;
  taken.swap(out);  // what the handoff does
  encoder->Text(out, "b");
  EXPECT_EQ(taken, "{\"type\":\"text\",\"text\":\"a\"},");
  EXPECT_EQ(out, "{\"type\":\"text\",\"text\":\"b\"},");
}

TEST(JsonEncoderMerging, TheSseFormatKeepsOneEventPerFragment) {
  auto encoder = CreateEncoder("sse", EncoderOptions{});
  std::string out;
  encoder->Text(out, "a");
  encoder->Text(out, "b");
  EXPECT_EQ(out, "data: {\"type\":\"text\",\"text\":\"a\"}\n\ndata: {\"type\":\"text\",\"text\":\"b\"}\n\n");
}

}  // namespace
}  // namespace llmrelay
