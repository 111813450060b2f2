// Provider "openai-responses": the Responses API event stream (docs/wire-formats.md
// §4). Every event names its kind in the data's `type` (the `event:` line
// repeats it); there is no [DONE]: response.completed, response.incomplete,
// response.failed or an `error` event ends the stream.
#include <string>
#include <vector>

#include "providers/json_util.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

class OpenAiResponsesAdapter final : public JsonAdapter {
 public:
  OpenAiResponsesAdapter() : JsonAdapter("openai-responses") {}

  Framing framing() const override { return Framing::kSse; }

  // Runs on the worker thread.
  void OnSseEvent(const SseEvent& event, DeltaSink& sink) override {
    if (stopped() || ended()) return;
    if (IsBlankData(event.data)) return;
    const JsonValue* root = ParseEvent(event.data, sink);
    if (root == nullptr) return;
    std::string_view type = FindString(*root, "type");
    if (type.empty()) type = event.type;

    if (type == "response.output_text.delta" || type == "response.refusal.delta") {
      // A refusal is what the model said instead of an answer: relay it as text.
      const std::string_view delta = FindString(*root, "delta");
      if (!delta.empty()) sink.OnText(delta);
    } else if (type == "response.reasoning_summary_text.delta" || type == "response.reasoning_text.delta") {
      const std::string_view delta = FindString(*root, "delta");
      if (!delta.empty()) sink.OnReasoning(delta);
    } else if (type == "response.output_item.added") {
      if (const JsonValue* item = FindObject(*root, "item")) OnItemAdded(*item, sink);
    } else if (type == "response.function_call_arguments.delta") {
      OnArguments(FindString(*root, "item_id"), FindString(*root, "delta"), /*whole=*/false, sink);
    } else if (type == "response.function_call_arguments.done") {
      OnArguments(FindString(*root, "item_id"), FindString(*root, "arguments"), /*whole=*/true, sink);
    } else if (type == "response.output_item.done") {
      if (const JsonValue* item = FindObject(*root, "item")) OnItemDone(*item, sink);
    } else if (type == "response.completed" || type == "response.incomplete") {
      OnTerminal(FindObject(*root, "response"), type == "response.completed", sink);
    } else if (type == "response.failed") {
      OnFailed(FindObject(*root, "response"), sink);
    } else if (type == "error" || FindObject(*root, "error") != nullptr) {
      OnErrorEvent(*root, sink);
    }
    // Anything else (created, in_progress, content_part.*, *.done, annotations,
    // built-in tool progress, and event types added later) carries nothing new.
  }

 private:
  struct Call {
    std::string item_id;  // fc_…, the key argument deltas use
    bool id_sent = false;
    bool name_sent = false;
    bool arguments_seen = false;
  };
  static constexpr size_t kMaxCalls = 1024;  // as many as Summary keeps

  // The slot for an item id. A new slot is announced at once (with the call
  // id and name when known) so slots reach the sink dense and in order; a
  // known one gets only an id or name it has not had yet. -1 once there are
  // too many calls (the adapter has stopped).
  int Slot(std::string_view item_id, std::string_view call_id, std::string_view name, DeltaSink& sink) {
    size_t slot = 0;
    while (slot < calls_.size() && calls_[slot].item_id != item_id) ++slot;
    const bool fresh = slot == calls_.size();
    if (fresh) {
      if (calls_.size() >= kMaxCalls) {
        FailProtocol("too many tool calls in openai-responses stream (more than 1024)", sink);
        return -1;
      }
      calls_.emplace_back();
      calls_.back().item_id.assign(item_id);
    }
    Call& call = calls_[slot];
    const std::string_view new_id = call.id_sent ? std::string_view() : call_id;
    const std::string_view new_name = call.name_sent ? std::string_view() : name;
    call.id_sent = call.id_sent || !new_id.empty();
    call.name_sent = call.name_sent || !new_name.empty();
    if (fresh || !new_id.empty() || !new_name.empty()) {
      sink.OnToolCall(static_cast<uint32_t>(slot), new_id, new_name, {});
    }
    return static_cast<int>(slot);
  }

  // The call id (`call_id`, what function_call_output must echo) and the
  // name exist only on the item, not on the argument deltas.
  void OnItemAdded(const JsonValue& item, DeltaSink& sink) {
    if (FindString(item, "type") != "function_call") return;
    Slot(FindString(item, "id"), FindString(item, "call_id"), FindString(item, "name"), sink);
  }

  // `whole` marks the complete arguments of a .done event: relayed only when
  // no delta came for the call, as from a proxy that drops the deltas.
  void OnArguments(std::string_view item_id, std::string_view arguments, bool whole, DeltaSink& sink) {
    const int slot = Slot(item_id, {}, {}, sink);
    if (slot < 0) return;
    Call& call = calls_[static_cast<size_t>(slot)];
    if (whole && call.arguments_seen) return;
    if (arguments.empty()) return;
    call.arguments_seen = true;
    sink.OnToolCall(static_cast<uint32_t>(slot), {}, {}, arguments);
  }

  // output_item.done repeats the whole item: it fills in what an absent
  // .added or absent deltas left out.
  void OnItemDone(const JsonValue& item, DeltaSink& sink) {
    if (FindString(item, "type") != "function_call") return;
    const std::string_view item_id = FindString(item, "id");
    if (Slot(item_id, FindString(item, "call_id"), FindString(item, "name"), sink) < 0) return;
    OnArguments(item_id, FindString(item, "arguments"), /*whole=*/true, sink);
  }

  // `response.usage` = {input_tokens, output_tokens, total_tokens, …details}.
  void EmitResponseUsage(const JsonValue* response, DeltaSink& sink) {
    if (response == nullptr) return;
    const JsonValue* usage = FindObject(*response, "usage");
    if (usage == nullptr) return;
    UsageInfo info;
    info.input_tokens = FindCount(*usage, "input_tokens");
    info.output_tokens = FindCount(*usage, "output_tokens");
    info.total_tokens = FindCount(*usage, "total_tokens");
    info.raw_json = compact_.Write(*usage);
    EmitUsage(info, sink);
  }

  // §0: completed → stop, or tool-calls when the answer holds a function_call
  // item; incomplete → by incomplete_details.reason.
  void OnTerminal(const JsonValue* response, bool completed, DeltaSink& sink) {
    EmitResponseUsage(response, sink);
    if (completed) {
      bool tool_calls = !calls_.empty();
      if (response != nullptr) {
        if (const JsonValue* output = FindArray(*response, "output")) {
          for (const JsonValue& item : output->GetArray()) {
            tool_calls = tool_calls || FindString(item, "type") == "function_call";
          }
        }
      }
      sink.OnFinish(tool_calls ? FinishReason::kToolCalls : FinishReason::kStop, "completed");
    } else {
      std::string_view reason;
      if (response != nullptr) {
        if (const JsonValue* details = FindObject(*response, "incomplete_details")) {
          reason = FindString(*details, "reason");
        }
      }
      FinishReason mapped = FinishReason::kOther;
      if (reason == "max_output_tokens") mapped = FinishReason::kLength;
      if (reason == "content_filter") mapped = FinishReason::kContentFilter;
      sink.OnFinish(mapped, reason.empty() ? std::string_view("incomplete") : reason);
    }
    MarkEnded(sink);
  }

  // response.failed: `response.error = {code, message}`. The usage of the
  // work done before the failure is still reported (it is billed).
  void OnFailed(const JsonValue* response, DeltaSink& sink) {
    EmitResponseUsage(response, sink);
    const JsonValue* error = response != nullptr ? FindObject(*response, "error") : nullptr;
    scratch_.clear();
    std::string_view message;
    if (error != nullptr) {
      if (const JsonValue* code = FindMember(*error, "code")) AppendCodeText(*code, scratch_);
      message = FindString(*error, "message");
    }
    if (scratch_.empty()) scratch_.assign("response.failed");
    FailProvider(scratch_, message, sink);
  }

  // The `error` event puts code and message at the top level (not under
  // `error`); a proxy's plain `{"error":{...}}` body nests them.
  void OnErrorEvent(const JsonValue& root, DeltaSink& sink) {
    const JsonValue* nested = FindObject(root, "error");
    const JsonValue& fields = nested != nullptr ? *nested : root;
    scratch_.clear();
    if (const JsonValue* code = FindMember(fields, "code")) AppendCodeText(*code, scratch_);
    if (scratch_.empty()) {
      const std::string_view type = FindString(fields, "type");
      scratch_.assign(type.empty() || type == "error" ? std::string_view("error") : type);
    }
    FailProvider(scratch_, FindString(fields, "message"), sink);
  }

  std::vector<Call> calls_;
};

}  // namespace

std::unique_ptr<Adapter> MakeOpenAiResponsesAdapter() { return std::make_unique<OpenAiResponsesAdapter>(); }

}  // namespace llmrelay
