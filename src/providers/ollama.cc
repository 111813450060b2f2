// Provider "ollama": the native /api/chat and /api/generate NDJSON streams
// (docs/wire-formats.md §7.1). One JSON object per line; the line with `done: true`
// carries the counts and is the end marker. (Ollama's OpenAI-compatible /v1
// endpoint is provider "openai".)
#include <string>

#include "base/json_writer.h"
#include "providers/json_util.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

class OllamaAdapter final : public JsonAdapter {
 public:
  OllamaAdapter() : JsonAdapter("ollama") {}

  Framing framing() const override { return Framing::kNdjson; }

  // Runs on the worker thread.
  void OnLine(std::string_view line, DeltaSink& sink) override {
    if (stopped() || ended()) return;
    const JsonValue* root = ParseEvent(line, sink);
    if (root == nullptr) return;

    // `{"error":"…"}`: a string, not an object, both before and after the 200.
    if (const JsonValue* error = FindMember(*root, "error")) {
      if (error->IsString()) {
        FailProvider("error", AsString(*error), sink);
      } else {
        const std::string_view type = FindString(*error, "type");
        FailProvider(type.empty() ? std::string_view("error") : type, FindString(*error, "message"), sink);
      }
      return;
    }

    if (const JsonValue* message = FindObject(*root, "message")) {  // /api/chat
      Relay(FindString(*message, "thinking"), FindString(*message, "content"), sink);
      if (const JsonValue* calls = FindArray(*message, "tool_calls")) {
        for (const JsonValue& call : calls->GetArray()) {
          if (!HandleToolCall(call, sink)) return;
        }
      }
    } else {  // /api/generate
      Relay(FindString(*root, "thinking"), FindString(*root, "response"), sink);
    }

    if (FindBool(*root, "done")) OnDone(*root, sink);
  }

 private:
  static constexpr size_t kMaxCalls = 1024;  // as many as Summary keeps

  static void Relay(std::string_view thinking, std::string_view text, DeltaSink& sink) {
    if (!thinking.empty()) sink.OnReasoning(thinking);
    if (!text.empty()) sink.OnText(text);
  }

  // {"function":{"name":…,"arguments":{…}}}, whole in one line; newer servers
  // add `id`. Arguments are an object (Go sorts its keys), re-serialized
  // compactly; a string is passed through.
  bool HandleToolCall(const JsonValue& call, DeltaSink& sink) {
    if (!call.IsObject()) return true;
    const JsonValue* function = FindObject(call, "function");
    if (function == nullptr) return true;
    if (tool_calls_ >= kMaxCalls) {
      FailProtocol("too many tool calls in ollama stream (more than 1024)", sink);
      return false;
    }
    std::string_view arguments = "{}";
    if (const JsonValue* args = FindMember(*function, "arguments")) {
      arguments = args->IsString() ? AsString(*args) : compact_.Write(*args);
    }
    sink.OnToolCall(static_cast<uint32_t>(tool_calls_++), FindString(call, "id"), FindString(*function, "name"),
                    arguments);
    return true;
  }

  // The final object: prompt_eval_count → input, eval_count → output. Go's
  // omitempty drops a zero count, so a missing count is 0, not "unknown".
  void OnDone(const JsonValue& root, DeltaSink& sink) {
    static constexpr std::string_view kUsageFields[] = {"prompt_eval_count", "prompt_eval_duration", "eval_count",
                                                        "eval_duration",     "load_duration",        "total_duration"};
    UsageInfo usage;
    usage.input_tokens = FindCount(root, "prompt_eval_count");
    usage.output_tokens = FindCount(root, "eval_count");
    if (usage.input_tokens < 0) usage.input_tokens = 0;
    if (usage.output_tokens < 0) usage.output_tokens = 0;
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    // Ollama has no usage object: raw is built from the count and duration
    // fields it sent (durations in nanoseconds).
    usage_raw_.assign("{");
    for (const std::string_view field : kUsageFields) {
      const int64_t value = FindCount(root, field);
      if (value < 0) continue;
      if (usage_raw_.size() > 1) usage_raw_.push_back(',');
      AppendJsonString(usage_raw_, field);
      usage_raw_.push_back(':');
      AppendInt(usage_raw_, value);
    }
    usage_raw_.push_back('}');
    usage.raw_json = usage_raw_;
    EmitUsage(usage, sink);

    const std::string_view reason = FindString(root, "done_reason");
    FinishReason mapped = FinishReason::kOther;  // load, unload, or none sent
    if (reason == "stop") mapped = tool_calls_ > 0 ? FinishReason::kToolCalls : FinishReason::kStop;
    if (reason == "length") mapped = FinishReason::kLength;
    sink.OnFinish(mapped, reason);
    MarkEnded(sink);
  }

  std::string usage_raw_;
  size_t tool_calls_ = 0;
};

}  // namespace

std::unique_ptr<Adapter> MakeOllamaAdapter() { return std::make_unique<OllamaAdapter>(); }

}  // namespace llmrelay
