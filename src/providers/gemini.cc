// Provider "gemini": streamGenerateContent?alt=sse (docs/wire-formats.md §6). Each
// event is a whole GenerateContentResponse; Google frames them with CRLF,
// which the SSE parser handles. There is no end marker: the chunk that
// carries finishReason (or a prompt blocked before any candidate) is the
// end, and a stream that closes without one was cut short.
#include <string>

#include "providers/json_util.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

bool IsContentFilterReason(std::string_view raw) {
  return raw == "SAFETY" || raw == "RECITATION" || raw == "BLOCKLIST" || raw == "PROHIBITED_CONTENT" || raw == "SPII" ||
         raw == "IMAGE_SAFETY";
}

class GeminiAdapter final : public JsonAdapter {
 public:
  GeminiAdapter() : JsonAdapter("gemini") {}

  Framing framing() const override { return Framing::kSse; }

  // Runs on the worker thread.
  void OnSseEvent(const SseEvent& event, DeltaSink& sink) override {
    if (stopped()) return;
    if (IsBlankData(event.data)) return;
    const JsonValue* root = ParseEvent(event.data, sink);
    if (root == nullptr) return;

    // `data: {"error":{"code":500,"message":"…","status":"INTERNAL"}}`
    if (const JsonValue* error = FindObject(*root, "error")) {
      scratch_.assign(FindString(*error, "status"));
      if (scratch_.empty()) {
        if (const JsonValue* code = FindMember(*error, "code")) AppendCodeText(*code, scratch_);
      }
      if (scratch_.empty()) scratch_.assign("error");
      FailProvider(scratch_, FindString(*error, "message"), sink);
      return;
    }

    const JsonValue* usage = FindObject(*root, "usageMetadata");
    if (ended()) {
      // After the finishing chunk only a later, different usage report is
      // news (usage is cumulative); content after the end is not relayed.
      if (usage != nullptr) {
        HoldUsage(*usage);
        EmitUsage(usage_, sink);
      }
      return;
    }

    const JsonValue* candidate = FirstCandidate(*root);
    if (candidate != nullptr) {
      if (const JsonValue* content = FindObject(*candidate, "content")) {
        if (const JsonValue* parts = FindArray(*content, "parts")) {
          for (const JsonValue& part : parts->GetArray()) {
            if (!HandlePart(part, sink)) return;
          }
        }
      }
    }
    if (usage != nullptr) {
      HoldUsage(*usage);
      // Relayed once, at the finish; the summary keeps every report, so a
      // stream cut short still says what was counted (and billed) so far.
      sink.OnPartialUsage(usage_);
    }

    const std::string_view finish = candidate != nullptr ? FindString(*candidate, "finishReason") : std::string_view();
    if (!finish.empty()) {
      FinishReason mapped = FinishReason::kOther;
      if (finish == "STOP") {
        // Gemini has no tool-calls reason: a turn that called functions ends STOP.
        mapped = tool_calls_ > 0 ? FinishReason::kToolCalls : FinishReason::kStop;
      } else if (finish == "MAX_TOKENS") {
        mapped = FinishReason::kLength;
      } else if (IsContentFilterReason(finish)) {
        mapped = FinishReason::kContentFilter;
      }
      Finish(mapped, finish, sink);
      return;
    }
    // A prompt blocked by safety settings: HTTP 200, no candidates, only
    // promptFeedback.blockReason. A content-filter outcome, not an empty answer.
    if (candidate == nullptr) {
      if (const JsonValue* feedback = FindObject(*root, "promptFeedback")) {
        const std::string_view block = FindString(*feedback, "blockReason");
        if (!block.empty()) Finish(FinishReason::kContentFilter, block, sink);
      }
    }
  }

  // A stream cut short still reports the tokens counted so far: they are billed.
  void OnEof(DeltaSink& sink) override {
    if (!stopped() && !ended() && has_usage_) EmitUsage(usage_, sink);
  }

 private:
  static constexpr size_t kMaxCalls = 1024;  // as many as Summary keeps

  // Only the first candidate is relayed (candidateCount > 1 is not supported).
  static const JsonValue* FirstCandidate(const JsonValue& root) {
    const JsonValue* candidates = FindArray(root, "candidates");
    if (candidates == nullptr) return nullptr;
    for (rapidjson::SizeType i = 0; i < candidates->Size(); ++i) {
      const JsonValue& candidate = (*candidates)[i];
      if (!candidate.IsObject()) continue;
      const int64_t index = FindCount(candidate, "index");
      if ((index >= 0 ? index : static_cast<int64_t>(i)) == 0) return &candidate;
    }
    return nullptr;
  }

  // Returns false when the adapter stopped.
  bool HandlePart(const JsonValue& part, DeltaSink& sink) {
    if (!part.IsObject()) return true;
    const std::string_view text = FindString(part, "text");
    if (!text.empty()) {
      // thought:true parts are thought summaries (includeThoughts).
      if (FindBool(part, "thought")) {
        sink.OnReasoning(text);
      } else {
        sink.OnText(text);
      }
    }
    // A function call comes whole in one part, its args an object: relayed
    // as one tool-call delta with the args re-serialized compactly ("{}"
    // when the function takes none and Gemini leaves args out).
    if (const JsonValue* call = FindObject(part, "functionCall")) {
      if (tool_calls_ >= kMaxCalls) {
        FailProtocol("too many tool calls in gemini stream (more than 1024)", sink);
        return false;
      }
      const JsonValue* args = FindMember(*call, "args");
      const std::string_view arguments = args != nullptr ? compact_.Write(*args) : std::string_view("{}");
      sink.OnToolCall(static_cast<uint32_t>(tool_calls_++), FindString(*call, "id"), FindString(*call, "name"),
                      arguments);
    }
    return true;
  }

  // usageMetadata is cumulative: keep the last one, relay it once, just
  // before the finish. output = candidatesTokenCount + thoughtsTokenCount:
  // thinking tokens are billed as output, and with them input + output adds
  // up to totalTokenCount (tool-use prompt tokens aside). Google's JSON is
  // proto3, which leaves out fields whose value is 0, so a missing count is
  // 0 (a blocked prompt has no candidatesTokenCount at all).
  void HoldUsage(const JsonValue& usage) {
    const auto count = [&usage](std::string_view key) {
      const int64_t value = FindCount(usage, key);
      return value < 0 ? 0 : value;
    };
    has_usage_ = true;
    usage_.input_tokens = count("promptTokenCount");
    usage_.output_tokens = count("candidatesTokenCount") + count("thoughtsTokenCount");
    usage_.total_tokens = count("totalTokenCount");
    usage_raw_.assign(compact_.Write(usage));
    usage_.raw_json = usage_raw_;
  }

  void Finish(FinishReason reason, std::string_view raw, DeltaSink& sink) {
    if (has_usage_) EmitUsage(usage_, sink);
    sink.OnFinish(reason, raw);
    MarkEnded(sink);
  }

  UsageInfo usage_;
  std::string usage_raw_;
  bool has_usage_ = false;
  size_t tool_calls_ = 0;
};

}  // namespace

std::unique_ptr<Adapter> MakeGeminiAdapter() { return std::make_unique<GeminiAdapter>(); }

}  // namespace llmrelay
