// Targeted tests of the provider adapters' tricky rules, driving the
// adapters directly with events (the fixture replays in
// provider_fixtures_test.cc go through the real framing).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "provider_test_support.h"
#include "providers/adapter.h"

namespace llmrelay {
namespace {

using testing_support::RecordingSink;

class AdapterHarness {
 public:
  explicit AdapterHarness(std::string_view provider) : adapter_(CreateAdapter(provider)) {}

  // One SSE event with the given data (and event type).
  AdapterHarness& Event(std::string_view data, std::string_view type = "message", std::string_view id = "") {
    SseEvent event;
    event.type = type;
    event.data = data;
    event.id = id;
    adapter_->OnSseEvent(event, sink);
    return *this;
  }
  AdapterHarness& Line(std::string_view line) {
    adapter_->OnLine(line, sink);
    return *this;
  }
  AdapterHarness& Eof() {
    adapter_->OnEof(sink);
    return *this;
  }
  bool complete() const { return adapter_->complete(); }
  Adapter& adapter() { return *adapter_; }

  RecordingSink sink;

 private:
  std::unique_ptr<Adapter> adapter_;
};

void ExpectNoViolations(const RecordingSink& sink) {
  for (const std::string& v : sink.violations) ADD_FAILURE() << v;
}

// ---------------------------------------------------------------------------
// Registry

TEST(ProviderRegistry, CreatesAnAdapterForEveryKnownNameAndNullForOthers) {
  for (const char* name : {"openai", "openai-responses", "anthropic", "gemini", "ollama", "sse"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<Adapter> adapter = CreateAdapter(name);
    ASSERT_NE(adapter, nullptr);
    EXPECT_EQ(adapter->framing(), std::string_view(name) == "ollama" ? Framing::kNdjson : Framing::kSse);
  }
  const std::vector<std::string_view> names = ProviderNames();
  EXPECT_EQ(names,
            (std::vector<std::string_view>{"openai", "openai-responses", "anthropic", "gemini", "ollama", "sse"}));
  EXPECT_EQ(CreateAdapter("OpenAI"), nullptr);
  EXPECT_EQ(CreateAdapter(""), nullptr);
  EXPECT_EQ(CreateAdapter("cohere"), nullptr);
}

TEST(ProviderRegistry, CreatesFreshAdaptersThatShareNoState) {
  AdapterHarness first("openai");
  first.Event("[DONE]");
  AdapterHarness second("openai");
  EXPECT_TRUE(first.complete());
  EXPECT_FALSE(second.complete());
}

// ---------------------------------------------------------------------------
// OpenAI Chat Completions

TEST(OpenAiAdapter, RelaysContentAndEndsOnlyAtDone) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})")
      .Event(R"({"choices":[{"index":0,"delta":{"content":"Hi \ud83d\ude80 caf\u00e9\n\"q\""}}]})")
      .Event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  EXPECT_EQ(h.sink.text, "Hi \xF0\x9F\x9A\x80 caf\xC3\xA9\n\"q\"");
  EXPECT_EQ(FinishReasonName(h.sink.finish), "stop");
  EXPECT_FALSE(h.complete());
  h.Event("[DONE]");
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.sink.end_markers, 1);
  h.Event(R"({"choices":[{"index":0,"delta":{"content":"late"}}]})").Event("[DONE]");
  EXPECT_EQ(h.sink.text.find("late"), std::string::npos);
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, RoutesASecondCallWithAWrongIndexButANewIdToItsOwnSlot) {
  AdapterHarness h("openai");
  h.Event(
       R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"a","arguments":""}}]}}]})")
      .Event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":1}"}}]}}]})")
      .Event(
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_B","type":"function","function":{"name":"b","arguments":""}}]}}]})")
      .Event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"y\":"}}]}}]})")
      .Event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"2}"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_A");
  EXPECT_EQ(h.sink.tool_calls[0].name, "a");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{\"x\":1}");
  EXPECT_EQ(h.sink.tool_calls[1].id, "call_B");
  EXPECT_EQ(h.sink.tool_calls[1].name, "b");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "{\"y\":2}");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, KeepsCallsApartWhenAHostSendsIndexZeroForEveryCall) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"a","arguments":"{"}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c2","function":{"name":"b","arguments":"["}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"]"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{}");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "[]");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, RoutesInterleavedParallelCallsByIndex) {
  AdapterHarness h("openai");
  h.Event(
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c0","function":{"name":"a","arguments":""}},{"index":1,"id":"c1","function":{"name":"b","arguments":""}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"B1"}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"A1"}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"B2"}},{"index":0,"function":{"arguments":"A2"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "A1A2");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "B1B2");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, NeverOverwritesAnIdOrNameAndSendsEachOnce) {
  AdapterHarness h("openai");
  // A host that repeats id and name on every fragment, then sends them
  // empty or null.
  h.Event(
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{"}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"\"a\""}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"","function":{"name":null,"arguments":":1"}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":null,"function":{"name":"","arguments":"}"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 1u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_1");
  EXPECT_EQ(h.sink.tool_calls[0].name, "f");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{\"a\":1}");
  ExpectNoViolations(h.sink);  // a second id or name would be a violation
}

TEST(OpenAiAdapter, GivesAnIdThatArrivesLateToTheCallOnThatIndex) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{"}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"late","function":{"arguments":"}"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 1u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "late");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{}");
}

TEST(OpenAiAdapter, AnnouncesEverySlotEvenWhenItsFirstFragmentIsEmpty) {
  // Found by the fuzzer: an empty first fragment opened slot 0 silently and
  // the next call's delta arrived as slot 1.
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"c1","function":{"name":"b","arguments":"{}"}}]}}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].fragments, 1);
  EXPECT_EQ(h.sink.tool_calls[1].id, "c1");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, PassesArgumentEscapesThroughUndecoded) {
  AdapterHarness h("openai");
  h.Event(
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"city\":\"\\u67"}}]}}]})")
      .Event(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"71\"}"}}]}}]})");
  EXPECT_EQ(h.sink.tool_calls.at(0).arguments, R"({"city":"\u6771"})");
}

TEST(OpenAiAdapter, ReserializesArgumentsAHostSendsAsAnObject) {
  AdapterHarness h("openai");
  h.Event(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":{ "a" : [1, 2.5, "\u00e9"] }}}]}}]})");
  EXPECT_EQ(h.sink.tool_calls.at(0).arguments, "{\"a\":[1,2.5,\"\xC3\xA9\"]}");
}

TEST(OpenAiAdapter, TreatsTheDeprecatedFunctionCallAsOneToolCall) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"function_call":{"name":"f","arguments":""}}}]})")
      .Event(R"({"choices":[{"delta":{"function_call":{"arguments":"{}"}}}]})")
      .Event(R"({"choices":[{"delta":{},"finish_reason":"function_call"}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 1u);
  EXPECT_EQ(h.sink.tool_calls[0].name, "f");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{}");
  EXPECT_EQ(h.sink.finish, FinishReason::kToolCalls);
  EXPECT_EQ(h.sink.finish_raw, "function_call");
}

TEST(OpenAiAdapter, TakesReasoningFromReasoningContentOrReasoningButNeverBoth) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"reasoning_content":"A","reasoning":"A"}}]})")
      .Event(R"({"choices":[{"delta":{"reasoning":"B","reasoning_details":[{"type":"reasoning.text","text":"B"}]}}]})")
      .Event(R"({"choices":[{"delta":{"reasoning_content":"C","reasoning":null}}]})")
      .Event(R"({"choices":[{"delta":{"reasoning_content":null,"content":"D"}}]})");
  EXPECT_EQ(h.sink.reasoning, "ABC");
  EXPECT_EQ(h.sink.text, "D");
}

TEST(OpenAiAdapter, SplitsMagistralContentArraysIntoReasoningAndText) {
  AdapterHarness h("openai");
  h.Event(
       R"({"choices":[{"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"think "}]},{"type":"text","text":"say"}]}}]})")
      .Event(
          R"({"choices":[{"delta":{"content":[{"type":"thinking","thinking":"more"},{"type":"image_url","image_url":"x"}]}}]})");
  EXPECT_EQ(h.sink.reasoning, "think more");
  EXPECT_EQ(h.sink.text, "say");
}

TEST(OpenAiAdapter, RelaysRefusalsAsText) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"delta":{"content":null,"refusal":"No."}}]})");
  EXPECT_EQ(h.sink.text, "No.");
}

TEST(OpenAiAdapter, ReadsLegacyCompletionsTextButNotTogethersDuplicateText) {
  AdapterHarness legacy("openai");
  legacy.Event(R"({"object":"text_completion","choices":[{"text":"abc","index":0,"finish_reason":null}]})");
  EXPECT_EQ(legacy.sink.text, "abc");
  AdapterHarness together("openai");
  together.Event(R"({"choices":[{"index":0,"text":"abc","delta":{"content":"abc"}}]})");
  EXPECT_EQ(together.sink.text, "abc");
}

TEST(OpenAiAdapter, RelaysOnlyChoiceZero) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"index":1,"delta":{"content":"one"}},{"index":0,"delta":{"content":"zero"}}]})")
      .Event(R"({"choices":[{"index":1,"delta":{},"finish_reason":"length"}]})")
      .Event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  EXPECT_EQ(h.sink.text, "zero");
  EXPECT_EQ(h.sink.finish, FinishReason::kStop);
}

TEST(OpenAiAdapter, SkipsAzurePromptFilterAndAnnotationChunks) {
  AdapterHarness h("openai");
  h.Event(
       R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})")
      .Event(
          R"({"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":9},"content_filter_results":{},"finish_reason":null,"index":0}]})");
  EXPECT_TRUE(h.sink.log.empty());
  EXPECT_EQ(h.sink.error_count, 0);
}

TEST(OpenAiAdapter, NormalizesFinishReasonsAndKeepsTheFirst) {
  const std::pair<const char*, FinishReason> cases[] = {
      {"stop", FinishReason::kStop},
      {"length", FinishReason::kLength},
      {"tool_calls", FinishReason::kToolCalls},
      {"content_filter", FinishReason::kContentFilter},
      {"error", FinishReason::kError},
      {"eos", FinishReason::kOther},
  };
  for (const auto& [raw, reason] : cases) {
    AdapterHarness h("openai");
    h.Event(std::string(R"({"choices":[{"index":0,"delta":{},"finish_reason":")") + raw + "\"}]}");
    EXPECT_EQ(h.sink.finish, reason) << raw;
    EXPECT_EQ(h.sink.finish_raw, raw);
  }
  // OpenRouter's usage chunk repeats the choice with finish_reason null.
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})")
      .Event(
          R"({"choices":[{"index":0,"delta":{"content":""},"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})")
      .Event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})");
  EXPECT_EQ(h.sink.finish_count, 1);
  EXPECT_EQ(h.sink.finish, FinishReason::kStop);
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, ReportsUsageFromAChunkWithEmptyNullOrMissingChoices) {
  for (const char* choices : {R"("choices":[],)", R"("choices":null,)", ""}) {
    AdapterHarness h("openai");
    h.Event(
        std::string("{") + choices +
        R"("usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}}})");
    EXPECT_EQ(h.sink.usage_count, 1) << choices;
    EXPECT_EQ(h.sink.input_tokens, 10);
    EXPECT_EQ(h.sink.output_tokens, 5);
    EXPECT_EQ(h.sink.total_tokens, 15);
    EXPECT_EQ(
        h.sink.usage_raw,
        R"({"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}})");
  }
}

TEST(OpenAiAdapter, IgnoresNullUsageAndReportsEachDistinctUsageOnce) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":null})")
      .Event(
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"queue_time":0.01,"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}})")
      .Event(R"({"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})");
  EXPECT_EQ(h.sink.usage_count, 1);
  EXPECT_EQ(h.sink.usage_raw, R"({"queue_time":0.01,"prompt_tokens":4,"completion_tokens":2,"total_tokens":6})");
  // vLLM's continuous_usage_stats: every chunk a new, larger report.
  AdapterHarness v("openai");
  v.Event(
       R"({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}})")
      .Event(
          R"({"choices":[{"index":0,"delta":{"content":"b"}}],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})");
  EXPECT_EQ(v.sink.usage_count, 2);
  EXPECT_EQ(v.sink.output_tokens, 2);
  // A usage object without any count is not a report.
  AdapterHarness e("openai");
  e.Event(R"({"choices":[],"usage":{}})");
  EXPECT_EQ(e.sink.usage_count, 0);
}

TEST(OpenAiAdapter, EmitsUsageBeforeTheFinishWhenBothShareAChunk) {
  AdapterHarness h("openai");
  h.Event(
      R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})");
  EXPECT_EQ(h.sink.log, (std::vector<std::string>{"text", "usage", "finish"}));
}

TEST(OpenAiAdapter, ReportsEachErrorShapeOnceAndIgnoresEverythingAfter) {
  struct Case {
    const char* data;
    const char* event;
    const char* type;
    const char* message;
  };
  const Case cases[] = {
      {R"({"error":{"message":"boom","type":"server_error","param":null,"code":null}})", "message", "server_error",
       "boom"},
      {R"({"id":"gen-1","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]})",
       "message", "502", "Provider returned error"},
      {R"({"error":{"code":"server_error","message":"Provider disconnected"}})", "message", "server_error",
       "Provider disconnected"},
      {R"({"object":"error","message":"engine dead","type":"InternalServerError","param":null,"code":500})", "message",
       "InternalServerError", "engine dead"},
      {R"({"error":"plain string"})", "message", "error", "plain string"},
      {R"({"message":"via event","code":"overloaded"})", "error", "overloaded", "via event"},
      {R"({"error":{"code":null}})", "message", "error", R"({"code":null})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.data);
    AdapterHarness h("openai");
    h.Event(R"({"choices":[{"index":0,"delta":{"content":"partial"}}]})")
        .Event(c.data, c.event)
        .Event(R"({"choices":[{"index":0,"delta":{"content":"more"}}]})")
        .Event(R"({"error":{"message":"second","type":"x"}})")
        .Event("[DONE]");
    EXPECT_EQ(h.sink.text, "partial");
    EXPECT_EQ(h.sink.error_count, 1);
    EXPECT_EQ(h.sink.error_code, "PROVIDER_ERROR");
    EXPECT_EQ(h.sink.error_type, c.type);
    EXPECT_EQ(h.sink.error_message, c.message);
    EXPECT_FALSE(h.sink.has_finish());
    EXPECT_FALSE(h.complete());
    ExpectNoViolations(h.sink);
  }
}

TEST(OpenAiAdapter, IgnoresAnErrorFieldThatSaysNoError) {
  for (const char* none : {"null", "false", R"("")"}) {
    AdapterHarness h("openai");
    h.Event(std::string(R"({"error":)") + none + R"(,"choices":[{"index":0,"delta":{"content":"ok"}}]})");
    EXPECT_EQ(h.sink.text, "ok") << none;
    EXPECT_EQ(h.sink.error_count, 0) << none;
  }
}

TEST(OpenAiAdapter, ReportsMalformedJsonWithTheOffendingBytesAndStops) {
  AdapterHarness h("openai");
  h.Event(R"({"choices":[{"index":0,"delta":{"content":"a"}})").Event("[DONE]");
  EXPECT_EQ(h.sink.error_code, "PROTOCOL");
  EXPECT_EQ(h.sink.error_message, R"(invalid JSON in openai event: {"choices":[{"index":0,"delta":{"content":"a"}})");
  EXPECT_FALSE(h.complete());
  ExpectNoViolations(h.sink);
}

TEST(OpenAiAdapter, RejectsTopLevelValuesThatAreNotObjects) {
  for (const char* data : {R"([{"choices":[]}])", "42", R"("text")", "null", "true"}) {
    AdapterHarness h("openai");
    h.Event(data);
    EXPECT_EQ(h.sink.error_code, "PROTOCOL") << data;
    EXPECT_EQ(h.sink.error_message, std::string("invalid JSON in openai event: ") + data);
  }
}

TEST(OpenAiAdapter, RejectsTrailingBytesEmbeddedNulsAndLoneSurrogates) {
  const std::string cases[] = {
      R"({"choices":[]} {"choices":[]})",
      std::string(R"({"choices":[]})") + '\0' + "garbage",
      R"({"choices":[{"delta":{"content":"\ud83d"}}]})",
      R"({"choices":[{"delta":{"content":"raw)" + std::string(1, '\x01') + R"("}}]})",
  };
  for (const std::string& data : cases) {
    AdapterHarness h("openai");
    h.Event(data);
    EXPECT_EQ(h.sink.error_code, "PROTOCOL") << data;
    EXPECT_TRUE(h.sink.text.empty());
  }
}

TEST(OpenAiAdapter, QuotesAtMost120BytesCutAtACharacterBoundary) {
  // 119 ASCII bytes, then a 4-byte emoji that straddles byte 120.
  const std::string data = std::string(119, 'x') + "\xF0\x9F\x9A\x80" + "tail";
  AdapterHarness h("openai");
  h.Event(data);
  EXPECT_EQ(h.sink.error_message, "invalid JSON in openai event: " + std::string(119, 'x'));
  // Control characters are kept as they are.
  AdapterHarness c("openai");
  c.Event("{\"a\":\x01}");
  EXPECT_EQ(c.sink.error_message, "invalid JSON in openai event: {\"a\":\x01}");
}

TEST(OpenAiAdapter, RefusesNestingPastTheDepthLimitWithoutRecursingIntoIt) {
  // Eight million levels would overflow the stack of a recursive parser.
  const std::string deep = R"({"choices":)" + std::string(size_t{8} << 20, '[');
  AdapterHarness h("openai");
  h.Event(deep);
  EXPECT_EQ(h.sink.error_code, "PROTOCOL");
  const std::string prefix = R"(JSON nested too deeply in openai event: {"choices":[[[)";
  EXPECT_EQ(h.sink.error_message.rfind(prefix, 0), 0u);
  // 128 levels, the root object included, are fine.
  const std::string ok =
      R"({"choices":[{"index":0,"delta":{"content":"ok"}}],"x":)" + std::string(127, '[') + std::string(127, ']') + "}";
  AdapterHarness fine("openai");
  fine.Event(ok);
  EXPECT_EQ(fine.sink.error_count, 0) << fine.sink.error_message;
  EXPECT_EQ(fine.sink.text, "ok");
  AdapterHarness over("openai");
  over.Event(R"({"x":)" + std::string(128, '[') + std::string(128, ']') + "}");
  EXPECT_EQ(over.sink.error_code, "PROTOCOL");
}

TEST(OpenAiAdapter, TreatsABlankDataEventAsAKeepAlive) {
  AdapterHarness h("openai");
  h.Event("").Event(" \t").Event(R"({"choices":[{"index":0,"delta":{"content":"ok"}}]})");
  EXPECT_EQ(h.sink.text, "ok");
  EXPECT_EQ(h.sink.error_count, 0);
}

TEST(OpenAiAdapter, ReusesItsParseBuffersAcrossEventsOfEverySize) {
  AdapterHarness h("openai");
  std::string expected;
  for (size_t size : {1u, 5000u, 40000u, 3u, 100000u, 7u}) {
    const std::string piece(size, 'z');
    expected += piece;
    h.Event(R"({"choices":[{"index":0,"delta":{"content":")" + piece + R"("}}],"pad":[)" + std::string("1") +
            std::string(size / 4, ' ') + "]}");
  }
  EXPECT_EQ(h.sink.text, expected);
  EXPECT_EQ(h.sink.error_count, 0);
}

// ---------------------------------------------------------------------------
// OpenAI Responses

TEST(OpenAiResponsesAdapter, RelaysTextRefusalAndBothKindsOfReasoning) {
  AdapterHarness h("openai-responses");
  h.Event(R"({"type":"response.created","sequence_number":0,"response":{"id":"r","status":"in_progress"}})",
          "response.created")
      .Event(R"({"type":"response.reasoning_summary_text.delta","item_id":"rs","delta":"sum "})")
      .Event(R"({"type":"response.reasoning_text.delta","item_id":"rs","delta":"raw"})")
      .Event(R"({"type":"response.output_text.delta","item_id":"m","delta":"Hi","obfuscation":"x"})")
      .Event(R"({"type":"response.refusal.delta","item_id":"m","delta":" no"})")
      .Event(R"({"type":"response.output_text.done","item_id":"m","text":"Hi"})")
      .Event(R"({"type":"response.some_future_event","delta":"ignored"})");
  EXPECT_EQ(h.sink.reasoning, "sum raw");
  EXPECT_EQ(h.sink.text, "Hi no");
  EXPECT_FALSE(h.complete());
}

TEST(OpenAiResponsesAdapter, KeysArgumentDeltasByItemIdInOrderOfTheirItems) {
  AdapterHarness h("openai-responses");
  h.Event(
       R"({"type":"response.output_item.added","output_index":1,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"a","arguments":""}})")
      .Event(
          R"({"type":"response.output_item.added","output_index":2,"item":{"id":"fc_2","type":"function_call","call_id":"call_2","name":"b","arguments":""}})")
      .Event(R"({"type":"response.function_call_arguments.delta","item_id":"fc_2","delta":"{\"b\""})")
      .Event(R"({"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"{}"})")
      .Event(R"({"type":"response.function_call_arguments.delta","item_id":"fc_2","delta":":1}"})")
      .Event(R"({"type":"response.function_call_arguments.done","item_id":"fc_2","arguments":"{\"b\":1}"})")
      .Event(
          R"({"type":"response.output_item.done","item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"a","arguments":"{}"}})")
      .Event(
          R"({"type":"response.completed","response":{"status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_1");
  EXPECT_EQ(h.sink.tool_calls[0].name, "a");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{}");
  EXPECT_EQ(h.sink.tool_calls[1].id, "call_2");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "{\"b\":1}");
  EXPECT_EQ(h.sink.finish, FinishReason::kToolCalls);
  EXPECT_EQ(h.sink.finish_raw, "completed");
  EXPECT_EQ(h.sink.log.back(), "end");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiResponsesAdapter, SendsIdAndNameOnceAndKeepsSlotsDenseWhateverTheEventOrder) {
  // Found by the fuzzer: a repeated output_item.added sent the id twice, and a
  // delta for an item never added opened a slot without telling the sink.
  AdapterHarness h("openai-responses");
  h.Event(R"({"type":"response.function_call_arguments.delta","item_id":"fc_0","delta":""})")
      .Event(
          R"({"type":"response.output_item.added","item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"a"}})")
      .Event(
          R"({"type":"response.output_item.added","item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"a"}})")
      .Event(
          R"({"type":"response.output_item.done","item":{"id":"fc_0","type":"function_call","call_id":"call_0","name":"z","arguments":"{}"}})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_0");
  EXPECT_EQ(h.sink.tool_calls[0].name, "z");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{}");
  EXPECT_EQ(h.sink.tool_calls[1].id, "call_1");
  ExpectNoViolations(h.sink);
}

TEST(OpenAiResponsesAdapter, UsesTheDoneArgumentsWhenNoDeltaCame) {
  AdapterHarness h("openai-responses");
  h.Event(
      R"({"type":"response.output_item.done","item":{"id":"fc_9","type":"function_call","call_id":"call_9","name":"f","arguments":"{\"x\":true}"}})");
  ASSERT_EQ(h.sink.tool_calls.size(), 1u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_9");
  EXPECT_EQ(h.sink.tool_calls[0].name, "f");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{\"x\":true}");
}

TEST(OpenAiResponsesAdapter, EndsWithUsageThenFinishThenTheEndMarker) {
  AdapterHarness h("openai-responses");
  h.Event(
      R"({"type":"response.completed","sequence_number":9,"response":{"status":"completed","output":[{"type":"message"}],"usage":{"input_tokens":25,"input_tokens_details":{"cached_tokens":0},"output_tokens":180,"output_tokens_details":{"reasoning_tokens":128},"total_tokens":205}}})");
  EXPECT_EQ(h.sink.log, (std::vector<std::string>{"usage", "finish", "end"}));
  EXPECT_EQ(h.sink.input_tokens, 25);
  EXPECT_EQ(h.sink.output_tokens, 180);
  EXPECT_EQ(h.sink.total_tokens, 205);
  EXPECT_EQ(
      h.sink.usage_raw,
      R"({"input_tokens":25,"input_tokens_details":{"cached_tokens":0},"output_tokens":180,"output_tokens_details":{"reasoning_tokens":128},"total_tokens":205})");
  EXPECT_EQ(h.sink.finish, FinishReason::kStop);
  EXPECT_TRUE(h.complete());
}

TEST(OpenAiResponsesAdapter, SeesToolCallsInTheFinalOutputToo) {
  AdapterHarness h("openai-responses");
  h.Event(
      R"({"type":"response.completed","response":{"status":"completed","output":[{"type":"function_call","call_id":"c"}]}})");
  EXPECT_EQ(h.sink.finish, FinishReason::kToolCalls);
}

TEST(OpenAiResponsesAdapter, MapsIncompleteReasons) {
  const std::pair<const char*, FinishReason> cases[] = {
      {R"({"reason":"max_output_tokens"})", FinishReason::kLength},
      {R"({"reason":"content_filter"})", FinishReason::kContentFilter},
      {R"({"reason":"something_new"})", FinishReason::kOther},
      {"null", FinishReason::kOther},
  };
  for (const auto& [details, reason] : cases) {
    AdapterHarness h("openai-responses");
    h.Event(std::string(R"({"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":)") +
            details + "}}");
    EXPECT_EQ(h.sink.finish, reason) << details;
    EXPECT_TRUE(h.complete());
  }
  AdapterHarness h("openai-responses");
  h.Event(R"({"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_output_tokens"}}})");
  EXPECT_EQ(h.sink.finish_raw, "max_output_tokens");
}

TEST(OpenAiResponsesAdapter, ReportsAFailedResponseWithItsCodeAndMessage) {
  AdapterHarness h("openai-responses");
  h.Event(R"({"type":"response.output_text.delta","delta":"part"})")
      .Event(
          R"({"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"An error occurred"},"usage":null}})")
      .Event(R"({"type":"response.output_text.delta","delta":"after"})");
  EXPECT_EQ(h.sink.text, "part");
  EXPECT_EQ(h.sink.error_type, "server_error");
  EXPECT_EQ(h.sink.error_message, "An error occurred");
  EXPECT_FALSE(h.sink.has_finish());
  ExpectNoViolations(h.sink);
}

TEST(OpenAiResponsesAdapter, ReadsTheErrorEventsTopLevelFieldsOrANestedError) {
  AdapterHarness top("openai-responses");
  top.Event(R"({"type":"error","sequence_number":3,"code":"rate_limit_exceeded","message":"Slow down","param":null})",
            "error");
  EXPECT_EQ(top.sink.error_type, "rate_limit_exceeded");
  EXPECT_EQ(top.sink.error_message, "Slow down");
  AdapterHarness null_code("openai-responses");
  null_code.Event(R"({"type":"error","code":null,"message":"Oops","param":null})", "error");
  EXPECT_EQ(null_code.sink.error_type, "error");
  EXPECT_EQ(null_code.sink.error_message, "Oops");
  AdapterHarness nested("openai-responses");
  nested.Event(R"({"type":"error","error":{"type":"invalid_request_error","code":"bad_input","message":"Nope"}})",
               "error");
  EXPECT_EQ(nested.sink.error_type, "bad_input");
  EXPECT_EQ(nested.sink.error_message, "Nope");
}

TEST(OpenAiResponsesAdapter, ReportsMalformedJson) {
  AdapterHarness h("openai-responses");
  h.Event(R"({"type":"response.output_text.delta","delta":"\x41"})");
  EXPECT_EQ(h.sink.error_code, "PROTOCOL");
  EXPECT_EQ(h.sink.error_message.rfind("invalid JSON in openai-responses event: ", 0), 0u);
}

// ---------------------------------------------------------------------------
// Anthropic

TEST(AnthropicAdapter, MergesUsageFromMessageStartAndMessageDelta) {
  AdapterHarness h("anthropic");
  h.Event(
       R"({"type":"message_start","message":{"id":"m","usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":4,"service_tier":"standard"}}})",
       "message_start")
      .Event(
          R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":161,"input_tokens":470,"server_tool_use":{"web_search_requests":1}}})",
          "message_delta");
  EXPECT_EQ(h.sink.input_tokens, 470);
  EXPECT_EQ(h.sink.output_tokens, 161);
  EXPECT_EQ(h.sink.total_tokens, -1);
  EXPECT_EQ(
      h.sink.usage_raw,
      R"({"input_tokens":470,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":161,"service_tier":"standard","server_tool_use":{"web_search_requests":1}})");
  EXPECT_EQ(h.sink.log, (std::vector<std::string>{"usage", "finish"}));
  EXPECT_FALSE(h.complete());
  h.Event(R"({"type":"message_stop"})", "message_stop");
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.sink.log.back(), "end");
}

// Issue 9 item 11: message_start's input count is billed whatever follows;
// it goes to the summary at once, not as a usage delta.
TEST(AnthropicAdapter, ReportsTheInputOfMessageStartAsPartialUsageWithoutADelta) {
  AdapterHarness h("anthropic");
  h.Event(R"({"type":"message_start","message":{"usage":{"input_tokens":42,"output_tokens":1}}})", "message_start");
  EXPECT_EQ(h.sink.partial_usage_count, 1);
  EXPECT_EQ(h.sink.partial_input_tokens, 42);
  EXPECT_EQ(h.sink.partial_output_tokens, -1);  // a placeholder, not a count
  EXPECT_EQ(h.sink.usage_count, 0);
  EXPECT_TRUE(h.sink.log.empty());
  EXPECT_TRUE(h.sink.violations.empty());
}

TEST(AnthropicAdapter, KeepsUsageBoundedOverManyMessageDeltas) {
  AdapterHarness h("anthropic");
  h.Event(R"({"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}})");
  for (int i = 2; i < 2000; ++i) {
    h.Event(R"({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":)" + std::to_string(i) +
            R"(,"server_tool_use":{"web_search_requests":1}}})");
  }
  EXPECT_EQ(h.sink.usage_count, 1998);
  EXPECT_EQ(h.sink.output_tokens, 1999);
  EXPECT_EQ(h.sink.usage_raw, R"({"input_tokens":1,"output_tokens":1999,"server_tool_use":{"web_search_requests":1}})");
}

TEST(AnthropicAdapter, RelaysThinkingAsReasoningButNeverTheSignature) {
  AdapterHarness h("anthropic");
  h.Event(
       R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})")
      .Event(R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}})")
      .Event(
          R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}})")
      .Event(R"({"type":"content_block_stop","index":0})")
      .Event(
          R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgB"}})")
      .Event(R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}})")
      .Event(R"({"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"ok"}})")
      .Event(
          R"({"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"cited_text":"x"}}})");
  EXPECT_EQ(h.sink.reasoning, "hmm");
  EXPECT_EQ(h.sink.text, "ok");
}

TEST(AnthropicAdapter, NumbersToolUseBlocksInOrderAndSkipsServerTools) {
  AdapterHarness h("anthropic");
  h.Event(R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})")
      .Event(
          R"({"type":"content_block_start","index":1,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}})")
      .Event(
          R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"query\":\"x\"}"}})")
      .Event(
          R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}})")
      .Event(R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":""}})")
      .Event(
          R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})")
      .Event(
          R"({"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_2","name":"now","input":{}}})")
      .Event(
          R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "toolu_1");
  EXPECT_EQ(h.sink.tool_calls[0].name, "get_weather");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(h.sink.tool_calls[1].id, "toolu_2");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "");
  ExpectNoViolations(h.sink);
}

TEST(AnthropicAdapter, NormalizesStopReasons) {
  const std::pair<const char*, FinishReason> cases[] = {
      {"end_turn", FinishReason::kStop},      {"stop_sequence", FinishReason::kStop},
      {"max_tokens", FinishReason::kLength},  {"model_context_window_exceeded", FinishReason::kLength},
      {"tool_use", FinishReason::kToolCalls}, {"refusal", FinishReason::kContentFilter},
      {"pause_turn", FinishReason::kOther},
  };
  for (const auto& [raw, reason] : cases) {
    AdapterHarness h("anthropic");
    h.Event(std::string(R"({"type":"message_delta","delta":{"stop_reason":")") + raw +
            R"("},"usage":{"output_tokens":3}})");
    EXPECT_EQ(h.sink.finish, reason) << raw;
    EXPECT_EQ(h.sink.finish_raw, raw);
  }
}

TEST(AnthropicAdapter, ReportsAnErrorEventAndIgnoresTheRest) {
  AdapterHarness h("anthropic");
  h.Event(R"({"type":"ping"})", "ping")
      .Event(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}})")
      .Event(R"({"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}})", "error")
      .Event(R"({"type":"message_stop"})", "message_stop");
  EXPECT_EQ(h.sink.text, "a");
  EXPECT_EQ(h.sink.error_type, "overloaded_error");
  EXPECT_EQ(h.sink.error_message, "Overloaded");
  EXPECT_FALSE(h.complete());
  ExpectNoViolations(h.sink);
}

TEST(AnthropicAdapter, IgnoresUnknownEventsAndFollowsTheDataTypeOverTheEventName) {
  AdapterHarness h("anthropic");
  h.Event(R"({"type":"brand_new_event","text":"x"})", "brand_new_event")
      .Event(R"({"type":"content_block_delta","index":0,"delta":{"type":"brand_new_delta","text":"x"}})")
      .Event(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"y"}})", "mislabelled");
  EXPECT_EQ(h.sink.text, "y");
  EXPECT_EQ(h.sink.error_count, 0);
}

// ---------------------------------------------------------------------------
// Gemini

TEST(GeminiAdapter, SeparatesThoughtsFromTextAndEndsAtTheFinishReason) {
  AdapterHarness h("gemini");
  h.Event(
      R"({"candidates": [{"content": {"parts": [{"text": "think","thought": true},{"text": "say"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 9,"thoughtsTokenCount": 4}})");
  EXPECT_EQ(h.sink.reasoning, "think");
  EXPECT_EQ(h.sink.text, "say");
  EXPECT_EQ(h.sink.usage_count, 0);  // held until the finish
  EXPECT_FALSE(h.complete());
  h.Event(
      R"({"candidates": [{"content": {"parts": [{"text": "!"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 39,"totalTokenCount": 230,"thoughtsTokenCount": 186}})");
  EXPECT_EQ(h.sink.log, (std::vector<std::string>{"reasoning", "text", "text", "usage", "finish", "end"}));
  EXPECT_EQ(h.sink.input_tokens, 5);
  EXPECT_EQ(h.sink.output_tokens, 39 + 186);
  EXPECT_EQ(h.sink.total_tokens, 230);
  EXPECT_EQ(h.sink.usage_raw,
            R"({"promptTokenCount":5,"candidatesTokenCount":39,"totalTokenCount":230,"thoughtsTokenCount":186})");
  EXPECT_EQ(h.sink.finish, FinishReason::kStop);
  EXPECT_TRUE(h.complete());
}

TEST(GeminiAdapter, MapsFinishReasons) {
  const std::pair<const char*, FinishReason> cases[] = {
      {"STOP", FinishReason::kStop},
      {"MAX_TOKENS", FinishReason::kLength},
      {"SAFETY", FinishReason::kContentFilter},
      {"RECITATION", FinishReason::kContentFilter},
      {"BLOCKLIST", FinishReason::kContentFilter},
      {"PROHIBITED_CONTENT", FinishReason::kContentFilter},
      {"SPII", FinishReason::kContentFilter},
      {"IMAGE_SAFETY", FinishReason::kContentFilter},
      {"MALFORMED_FUNCTION_CALL", FinishReason::kOther},
      {"OTHER", FinishReason::kOther},
      {"LANGUAGE", FinishReason::kOther},
  };
  for (const auto& [raw, reason] : cases) {
    AdapterHarness h("gemini");
    h.Event(std::string(R"({"candidates": [{"finishReason": ")") + raw + R"(","index": 0}]})");
    EXPECT_EQ(h.sink.finish, reason) << raw;
    EXPECT_EQ(h.sink.finish_raw, raw);
    EXPECT_TRUE(h.complete());
  }
}

TEST(GeminiAdapter, SendsEachFunctionCallWholeWithCompactArgsAndCallsItToolCalls) {
  AdapterHarness h("gemini");
  h.Event(
      R"({"candidates": [{"content": {"parts": [{"functionCall": {"name": "a","args": {"q": "S\u00e3o", "n": [1, 2.5, true, null]}},"thoughtSignature": "sig"},{"functionCall": {"id": "fc-2","name": "b"}}],"role": "model"},"finishReason": "STOP","index": 0}]})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "");
  EXPECT_EQ(h.sink.tool_calls[0].name, "a");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, "{\"q\":\"S\xC3\xA3o\",\"n\":[1,2.5,true,null]}");
  EXPECT_EQ(h.sink.tool_calls[0].fragments, 1);
  EXPECT_EQ(h.sink.tool_calls[1].id, "fc-2");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "{}");
  EXPECT_EQ(h.sink.finish, FinishReason::kToolCalls);
  EXPECT_EQ(h.sink.finish_raw, "STOP");
}

TEST(GeminiAdapter, TreatsABlockedPromptAsAContentFilterFinish) {
  AdapterHarness h("gemini");
  h.Event(
      R"({"promptFeedback": {"blockReason": "SAFETY"},"usageMetadata": {"promptTokenCount": 12,"totalTokenCount": 12}})");
  EXPECT_EQ(h.sink.log, (std::vector<std::string>{"usage", "finish", "end"}));
  EXPECT_EQ(h.sink.input_tokens, 12);
  EXPECT_EQ(h.sink.output_tokens, 0);
  EXPECT_EQ(h.sink.finish, FinishReason::kContentFilter);
  EXPECT_EQ(h.sink.finish_raw, "SAFETY");
}

TEST(GeminiAdapter, ReportsALaterDifferentUsageButNoContentAfterTheEnd) {
  AdapterHarness h("gemini");
  h.Event(
       R"({"candidates": [{"content": {"parts": [{"text": "a"}]},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 1,"candidatesTokenCount": 1,"totalTokenCount": 2}})")
      .Event(
          R"({"candidates": [{"content": {"parts": [{"text": "late"}]}}],"usageMetadata": {"promptTokenCount": 1,"candidatesTokenCount": 1,"totalTokenCount": 2}})")
      .Event(R"({"usageMetadata": {"promptTokenCount": 1,"candidatesTokenCount": 3,"totalTokenCount": 4}})");
  EXPECT_EQ(h.sink.text, "a");
  EXPECT_EQ(h.sink.usage_count, 2);
  EXPECT_EQ(h.sink.output_tokens, 3);
  EXPECT_EQ(h.sink.finish_count, 1);
  ExpectNoViolations(h.sink);
}

TEST(GeminiAdapter, ReportsTheUsageSoFarWhenTheStreamIsCutShort) {
  AdapterHarness h("gemini");
  h.Event(
       R"({"candidates": [{"content": {"parts": [{"text": "a"}]}}],"usageMetadata": {"promptTokenCount": 7,"candidatesTokenCount": 2,"totalTokenCount": 9}})")
      .Eof();
  EXPECT_EQ(h.sink.usage_count, 1);
  EXPECT_EQ(h.sink.total_tokens, 9);
  EXPECT_FALSE(h.complete());
}

TEST(GeminiAdapter, ReportsEachUsageMetadataAsPartialUsageBeforeTheFinish) {
  AdapterHarness h("gemini");
  h.Event(
      R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":1,"totalTokenCount":8}})");
  EXPECT_EQ(h.sink.partial_usage_count, 1);
  EXPECT_EQ(h.sink.partial_input_tokens, 7);
  EXPECT_EQ(h.sink.partial_output_tokens, 1);
  EXPECT_EQ(h.sink.usage_count, 0);  // relayed once, at the finish
  EXPECT_TRUE(h.sink.violations.empty());
}

TEST(GeminiAdapter, ReportsAnErrorByStatusOrCode) {
  AdapterHarness h("gemini");
  h.Event(R"({"error": {"code": 503,"message": "The model is overloaded.","status": "UNAVAILABLE"}})");
  EXPECT_EQ(h.sink.error_type, "UNAVAILABLE");
  EXPECT_EQ(h.sink.error_message, "The model is overloaded.");
  h.Eof();
  EXPECT_EQ(h.sink.usage_count, 0);
  AdapterHarness code_only("gemini");
  code_only.Event(R"({"error": {"code": 500,"message": "Internal"}})");
  EXPECT_EQ(code_only.sink.error_type, "500");
}

TEST(GeminiAdapter, RelaysOnlyTheFirstCandidate) {
  AdapterHarness h("gemini");
  h.Event(
      R"({"candidates": [{"content": {"parts": [{"text": "zero"}]},"index": 0},{"content": {"parts": [{"text": "one"}]},"index": 1,"finishReason": "STOP"}]})");
  EXPECT_EQ(h.sink.text, "zero");
  EXPECT_FALSE(h.sink.has_finish());
}

// ---------------------------------------------------------------------------
// Ollama

TEST(OllamaAdapter, RelaysChatThinkingContentAndTheFinalCounts) {
  AdapterHarness h("ollama");
  h.Line(R"({"model":"qwen3","message":{"role":"assistant","content":"","thinking":"hm"},"done":false})")
      .Line(R"({"model":"qwen3","message":{"role":"assistant","content":"\u003cb\u003e \u0026"},"done":false})")
      .Line(
          R"({"model":"qwen3","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":10,"prompt_eval_count":14,"eval_count":96,"eval_duration":9})");
  EXPECT_EQ(h.sink.reasoning, "hm");
  EXPECT_EQ(h.sink.text, "<b> &");
  EXPECT_EQ(h.sink.input_tokens, 14);
  EXPECT_EQ(h.sink.output_tokens, 96);
  EXPECT_EQ(h.sink.total_tokens, 110);
  EXPECT_EQ(h.sink.usage_raw, R"({"prompt_eval_count":14,"eval_count":96,"eval_duration":9,"total_duration":10})");
  EXPECT_EQ(h.sink.finish, FinishReason::kStop);
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.sink.log.back(), "end");
}

TEST(OllamaAdapter, CountsAMissingCountAsZeroBecauseOfOmitempty) {
  AdapterHarness h("ollama");
  h.Line(R"({"model":"m","response":"","done":true,"done_reason":"load"})");
  EXPECT_EQ(h.sink.input_tokens, 0);
  EXPECT_EQ(h.sink.output_tokens, 0);
  EXPECT_EQ(h.sink.total_tokens, 0);
  EXPECT_EQ(h.sink.usage_raw, "{}");
  EXPECT_EQ(h.sink.finish, FinishReason::kOther);
  EXPECT_EQ(h.sink.finish_raw, "load");
}

TEST(OllamaAdapter, RelaysGenerateResponsesAndLengthFinishes) {
  AdapterHarness h("ollama");
  h.Line(R"({"model":"m","response":"","thinking":"t","done":false})")
      .Line(R"({"model":"m","response":"r","done":false})")
      .Line(
          R"({"model":"m","response":"","done":true,"done_reason":"length","context":[1,2],"prompt_eval_count":2,"eval_count":3})");
  EXPECT_EQ(h.sink.reasoning, "t");
  EXPECT_EQ(h.sink.text, "r");
  EXPECT_EQ(h.sink.finish, FinishReason::kLength);
}

TEST(OllamaAdapter, SendsToolCallsWholeAndFinishesWithToolCalls) {
  AdapterHarness h("ollama");
  h.Line(
       R"({"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_x","function":{"index":0,"name":"a","arguments":{"city":"Paris","n":2}}},{"function":{"name":"b","arguments":{}}}]},"done":false})")
      .Line(R"({"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"})");
  ASSERT_EQ(h.sink.tool_calls.size(), 2u);
  EXPECT_EQ(h.sink.tool_calls[0].id, "call_x");
  EXPECT_EQ(h.sink.tool_calls[0].name, "a");
  EXPECT_EQ(h.sink.tool_calls[0].arguments, R"({"city":"Paris","n":2})");
  EXPECT_EQ(h.sink.tool_calls[1].id, "");
  EXPECT_EQ(h.sink.tool_calls[1].arguments, "{}");
  EXPECT_EQ(h.sink.finish, FinishReason::kToolCalls);
  EXPECT_EQ(h.sink.finish_raw, "stop");
}

TEST(OllamaAdapter, ReportsAStringErrorAndIgnoresTheRest) {
  AdapterHarness h("ollama");
  h.Line(R"({"message":{"content":"a"},"done":false})")
      .Line(R"({"error":"an error was encountered while running the model: unexpected EOF"})")
      .Line(R"({"message":{"content":"b"},"done":true,"done_reason":"stop"})");
  EXPECT_EQ(h.sink.text, "a");
  EXPECT_EQ(h.sink.error_type, "error");
  EXPECT_EQ(h.sink.error_message, "an error was encountered while running the model: unexpected EOF");
  EXPECT_FALSE(h.complete());
  ExpectNoViolations(h.sink);
}

TEST(OllamaAdapter, ReportsABadLineAsAProtocolError) {
  AdapterHarness h("ollama");
  h.Line(R"({"message":{"content":"a"},"done":false,})");
  EXPECT_EQ(h.sink.error_code, "PROTOCOL");
  EXPECT_EQ(h.sink.error_message, R"(invalid JSON in ollama event: {"message":{"content":"a"},"done":false,})");
}

// ---------------------------------------------------------------------------
// Raw SSE

TEST(RawSseAdapter, PassesEveryEventThroughAndIsAlwaysComplete) {
  AdapterHarness h("sse");
  EXPECT_TRUE(h.complete());
  h.Event("not json", "message", "").Event("{\"a\":1}", "update", "42");
  ASSERT_EQ(h.sink.events.size(), 2u);
  EXPECT_EQ(h.sink.events[0].event, "message");
  EXPECT_EQ(h.sink.events[0].data, "not json");
  EXPECT_FALSE(h.sink.events[0].has_id);
  EXPECT_EQ(h.sink.events[1].event, "update");
  EXPECT_EQ(h.sink.events[1].id, "42");
  EXPECT_TRUE(h.sink.events[1].has_id);
  h.Eof();
  EXPECT_TRUE(h.complete());
  EXPECT_EQ(h.sink.error_count, 0);
}

}  // namespace
}  // namespace llmrelay
