// Provider "anthropic": the Messages API event stream (docs/wire-formats.md §5).
// Every event has an `event:` line and a data object whose `type` repeats
// it; the stream ends with message_stop. Anthropic promises new event types
// may appear, so anything unknown is ignored.
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "providers/json_util.h"
#include "providers/provider_adapters.h"

namespace llmrelay {
namespace {

// docs/wire-formats.md §0 table, Anthropic row. pause_turn has no public
// finish reason (there is no "pause"), so it is "other" with the raw value
// kept.
FinishReason MapStopReason(std::string_view raw) {
  if (raw == "end_turn" || raw == "stop_sequence") return FinishReason::kStop;
  if (raw == "max_tokens" || raw == "model_context_window_exceeded") return FinishReason::kLength;
  if (raw == "tool_use") return FinishReason::kToolCalls;
  if (raw == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kOther;
}

class AnthropicAdapter final : public JsonAdapter {
 public:
  AnthropicAdapter() : JsonAdapter("anthropic") {}

  Framing framing() const override { return Framing::kSse; }

  // Runs on the worker thread.
  void OnSseEvent(const SseEvent& event, DeltaSink& sink) override {
    if (stopped() || ended()) return;
    if (IsBlankData(event.data)) return;
    const JsonValue* root = ParseEvent(event.data, sink);
    if (root == nullptr) return;
    std::string_view type = FindString(*root, "type");
    if (type.empty()) type = event.type;

    if (type == "content_block_delta") {
      OnBlockDelta(*root, sink);
    } else if (type == "content_block_start") {
      OnBlockStart(*root, sink);
    } else if (type == "message_start") {
      if (const JsonValue* message = FindObject(*root, "message")) {
        if (const JsonValue* usage = FindObject(*message, "usage")) {
          MergeUsage(*usage);
          // The input is billed from here on: a stream cut short before
          // message_delta still reports it (output_tokens is a placeholder).
          UsageInfo info;
          info.input_tokens = FindCount(usage_, "input_tokens");
          info.raw_json = compact_.Write(usage_);
          if (info.input_tokens >= 0) sink.OnPartialUsage(info);
        }
      }
    } else if (type == "message_delta") {
      OnMessageDelta(*root, sink);
    } else if (type == "message_stop") {
      MarkEnded(sink);
    } else if (type == "error" || event.type == "error") {
      // {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}
      const JsonValue* error = FindObject(*root, "error");
      const JsonValue& fields = error != nullptr ? *error : *root;
      std::string_view error_type = FindString(fields, "type");
      if (error_type.empty() || (error == nullptr && error_type == "error")) error_type = "error";
      FailProvider(error_type, FindString(fields, "message"), sink);
    }
    // ping, content_block_stop and unknown events carry nothing to relay.
  }

 private:
  static constexpr size_t kMaxCalls = 1024;  // as many as Summary keeps

  // Block indexes of tool_use blocks, in order of their start: position = slot.
  int ToolSlot(int64_t block_index) const {
    for (size_t i = 0; i < tool_blocks_.size(); ++i) {
      if (tool_blocks_[i] == block_index) return static_cast<int>(i);
    }
    return -1;
  }

  void OnBlockStart(const JsonValue& root, DeltaSink& sink) {
    const JsonValue* block = FindObject(root, "content_block");
    if (block == nullptr) return;
    const std::string_view type = FindString(*block, "type");
    if (type == "text") {
      const std::string_view text = FindString(*block, "text");  // "" in practice
      if (!text.empty()) sink.OnText(text);
    } else if (type == "thinking") {
      const std::string_view thinking = FindString(*block, "thinking");
      if (!thinking.empty()) sink.OnReasoning(thinking);
    } else if (type == "tool_use") {
      // Only client tools become tool calls. server_tool_use blocks (web
      // search and the like) run at Anthropic; relaying them would invite the
      // client to run them again.
      const int64_t index = FindCount(root, "index");
      if (index < 0 || ToolSlot(index) >= 0) return;
      if (tool_blocks_.size() >= kMaxCalls) {
        FailProtocol("too many tool calls in anthropic stream (more than 1024)", sink);
        return;
      }
      tool_blocks_.push_back(index);
      sink.OnToolCall(static_cast<uint32_t>(tool_blocks_.size() - 1), FindString(*block, "id"),
                      FindString(*block, "name"), {});
    }
    // redacted_thinking carries only encrypted data; result blocks are the
    // server tools' output. Neither is text or reasoning.
  }

  void OnBlockDelta(const JsonValue& root, DeltaSink& sink) {
    const JsonValue* delta = FindObject(root, "delta");
    if (delta == nullptr) return;
    const std::string_view type = FindString(*delta, "type");
    if (type == "text_delta") {
      const std::string_view text = FindString(*delta, "text");
      if (!text.empty()) sink.OnText(text);
    } else if (type == "thinking_delta") {
      const std::string_view thinking = FindString(*delta, "thinking");
      if (!thinking.empty()) sink.OnReasoning(thinking);
    } else if (type == "input_json_delta") {
      // The first partial_json is often "" and a tool without input streams
      // only that: the arguments stay the exact concatenation (possibly "").
      const std::string_view partial = FindString(*delta, "partial_json");
      const int slot = ToolSlot(FindCount(root, "index"));
      if (slot >= 0 && !partial.empty()) {
        sink.OnToolCall(static_cast<uint32_t>(slot), {}, {}, partial);
      }
    }
    // signature_delta is an opaque token to echo back, never reasoning text;
    // citations_delta adds no text.
  }

  // Usage is cumulative: message_start gives input and cache counts (its
  // output_tokens is a placeholder), message_delta gives the final output
  // count and, in newer responses, repeats input and cache counts. Any field
  // in message_delta overwrites the one from message_start.
  //
  // The merge builds a fresh document and swaps it in, so the memory of the
  // previous one goes with it: a stream of many message_delta events cannot
  // grow the pool without bound. (There is one per message in practice.)
  void MergeUsage(const JsonValue& update) {
    rapidjson::Document merged;
    auto& allocator = merged.GetAllocator();
    merged.SetObject();
    auto add = [&](const JsonValue& name, const JsonValue& value) {
      JsonValue key;
      JsonValue copy;
      DeepCopy(name, key, allocator);
      DeepCopy(value, copy, allocator);
      merged.AddMember(key, copy, allocator);
    };
    if (usage_.IsObject()) {
      for (const auto& member : usage_.GetObject()) {
        const auto newer = update.FindMember(member.name);
        add(member.name, newer != update.MemberEnd() ? newer->value : member.value);
      }
    }
    for (const auto& member : update.GetObject()) {
      if (!usage_.IsObject() || !usage_.HasMember(member.name)) add(member.name, member.value);
    }
    usage_.Swap(merged);
  }

  // message_delta: {delta:{stop_reason, stop_sequence}, usage:{…}}. Usage is
  // relayed first, then the finish.
  void OnMessageDelta(const JsonValue& root, DeltaSink& sink) {
    if (const JsonValue* usage = FindObject(root, "usage")) {
      MergeUsage(*usage);
      UsageInfo info;
      info.input_tokens = FindCount(usage_, "input_tokens");
      info.output_tokens = FindCount(usage_, "output_tokens");
      // Anthropic reports no total, and input_tokens excludes the cache
      // counts, so any sum we made up would be wrong for someone: left unset.
      info.raw_json = compact_.Write(usage_);
      EmitUsage(info, sink);
    }
    const JsonValue* delta = FindObject(root, "delta");
    const std::string_view stop_reason = delta != nullptr ? FindString(*delta, "stop_reason") : "";
    if (!stop_reason.empty() && !finished_) {
      finished_ = true;
      sink.OnFinish(MapStopReason(stop_reason), stop_reason);
    }
  }

  // message_start's usage, merged with message_delta's. One small document
  // per stream, outside the per-event parser so it outlives each event.
  rapidjson::Document usage_;
  std::vector<int64_t> tool_blocks_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<Adapter> MakeAnthropicAdapter() { return std::make_unique<AnthropicAdapter>(); }

}  // namespace llmrelay
