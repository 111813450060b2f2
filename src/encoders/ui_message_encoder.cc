// "ui-message": the Vercel AI SDK UI message stream protocol, so `useChat`
// from @ai-sdk/react (and readUIMessageStream) read the relay unchanged.
// Spec: https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol#ui-message-stream-protocol
// and the chunk schema `uiMessageChunkSchema` in ai@6
// (src/ui-message-stream/ui-message-chunks.ts), which every part below
// matches field for field.
//
// The JS relay must send the response header
//   x-vercel-ai-ui-message-stream: v1
// (with Content-Type: text/event-stream), as createUIMessageStreamResponse
// does; useChat's default transport does not check it today, but custom
// transports and future versions may.
//
// The shape of one message:
//   start {messageId}            start-step
//   text-start / text-delta… / text-end           (one part per run of text)
//   reasoning-start / reasoning-delta… / reasoning-end
//   tool-input-start / tool-input-delta…          (per tool call, as it streams)
//   tool-input-available {input: parsed}          (or tool-input-error), at the end of the step
//   message-metadata {usage}                      (whenever usage arrives)
//   finish-step   finish {finishReason}   [DONE]
//
// Traps this file handles:
// - Deltas must name a part that was started and not yet ended, or
//   processUIMessageStream throws ("Received text-delta for missing text
//   part"); finish-step forgets every open text/reasoning part, so parts are
//   ended before it.
// - Tool call arguments that are not JSON, or pretty-printed JSON: see
//   ui_message_tools.h, which writes the tool-call parts.
// - "finish" is held back until Done: OpenAI reports usage in a chunk after
//   the finish reason, and that usage should reach the message metadata
//   before the client sees the end of the message.
// - An error is one `error` part and then nothing: the JS relay ends the
//   response, and useChat surfaces errorText ("CODE: message") through
//   onError / `error`. The part also carries code, message, status and
//   retryAfterMs: the chunk schema is a zod looseObject, so the AI SDK
//   accepts the extra members and a custom reader can use them.
// - Raw events (provider 'sse') become `data-event` parts with
//   {event, data, id?}: the protocol's extension point for app data, so they
//   show up in message.parts instead of vanishing. They carry no part id on
//   purpose: data parts with equal ids replace each other.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/json_writer.h"
#include "encoders/delta_json.h"
#include "encoders/formats.h"
#include "encoders/ui_message_tools.h"

namespace llmrelay {

namespace {

enum class PartKind : uint8_t { kNone, kText, kReasoning };

class UiMessageEncoder final : public Encoder {
 public:
  explicit UiMessageEncoder(const EncoderOptions& options) : message_id_(options.id), role_(options.role) {}

  // A relay step opens only its step (the relay started the message); a
  // relay's outer encoder starts the message but no step (its steps do).
  void Start(std::string& out) override {
    if (started_ || closed_) return;
    started_ = true;
    if (role_ != EncoderRole::kRelayStep) {
      out.append(R"(data: {"type":"start")");
      if (!message_id_.empty()) {
        out.append(R"(,"messageId":)");
        AppendJsonString(out, message_id_);
      }
      out.append("}\n\n");
    }
    if (role_ != EncoderRole::kRelayOuter) OpenStep(out);
  }

  void Text(std::string& out, std::string_view text) override { PartDelta(out, PartKind::kText, text); }

  void Reasoning(std::string& out, std::string_view text) override { PartDelta(out, PartKind::kReasoning, text); }

  void ToolCall(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                std::string_view arguments_delta) override {
    if (closed_) return;
    EnsureStep(out);
    ClosePart(out);
    UiToolSlot& slot = SlotFor(index);
    // Once tool-input-start went out, the id and name are fixed; adapters
    // only repeat them anyway.
    if (!slot.started) {
      if (slot.id.empty() && !id.empty()) slot.id.assign(id);
      if (slot.name.empty() && !name.empty()) slot.name.assign(name);
    }
    slot.arguments.append(arguments_delta);
    if (!slot.started) {
      // tool-input-start requires a toolName: hold the fragments back until
      // the name arrives (or until the end of the step).
      if (slot.name.empty()) return;
      AppendToolInputStart(out, slot, message_id_);
      if (!slot.arguments.empty()) AppendToolInputDelta(out, slot, slot.arguments);
    } else if (!arguments_delta.empty()) {
      AppendToolInputDelta(out, slot, arguments_delta);
    }
  }

  void Usage(std::string& out, const UsageInfo& usage) override {
    if (closed_) return;
    Start(out);
    // Field names of the AI SDK's LanguageModelUsage; unreported counts are
    // left out rather than sent as null, as the SDK itself does.
    out.append(R"(data: {"type":"message-metadata","messageMetadata":{"usage":{)");
    bool first = true;
    AppendCount(out, "inputTokens", usage.input_tokens, first);
    AppendCount(out, "outputTokens", usage.output_tokens, first);
    AppendCount(out, "totalTokens", usage.total_tokens, first);
    out.append("}}}\n\n");
  }

  void Finish(std::string& out, FinishReason reason, std::string_view /*raw*/) override {
    if (closed_) return;
    EndStep(out);
    finish_reason_ = reason;
    has_finish_reason_ = true;
  }

  void RawEvent(std::string& out, std::string_view event, std::string_view data, std::string_view id,
                bool has_id) override {
    if (closed_) return;
    Start(out);
    out.append(R"(data: {"type":"data-event","data":{"event":)");
    AppendJsonString(out, event);
    out.append(R"(,"data":)");
    AppendJsonString(out, data);
    if (has_id) {
      out.append(R"(,"id":)");
      AppendJsonString(out, id);
    }
    out.append("}}\n\n");
  }

  // An app event: the protocol's data-<name> part, which useChat keeps in
  // message.parts.
  void Data(std::string& out, std::string_view name, std::string_view data_json) override {
    if (closed_) return;
    Start(out);
    ClosePart(out);
    out.append(R"(data: {"type":)");
    scratch_.assign("data-");
    scratch_.append(name);
    AppendJsonString(out, scratch_);
    out.append(R"(,"data":)");
    out.append(data_json.empty() ? std::string_view("null") : data_json);
    out.append("}\n\n");
  }

  bool sse_framed() const override { return true; }

  void Done(std::string& out) override {
    if (closed_) return;
    EndStep(out);
    if (role_ == EncoderRole::kRelayStep) {
      closed_ = true;  // the relay finishes the message
      return;
    }
    out.append(R"(data: {"type":"finish")");
    if (has_finish_reason_) {
      // FinishReasonName's strings are exactly the protocol's enum.
      out.append(R"(,"finishReason":")");
      out.append(FinishReasonName(finish_reason_));
      out.push_back('"');
    }
    out.append("}\n\ndata: [DONE]\n\n");
    closed_ = true;
  }

  void Error(std::string& out, const ErrorInfo& error) override {
    if (closed_) return;
    closed_ = true;
    scratch_.assign(error.code);
    scratch_.append(": ");
    scratch_.append(error.message);
    out.append(R"(data: {"type":"error","errorText":)");
    AppendJsonString(out, scratch_);
    out.push_back(',');
    AppendErrorFieldsJson(out, error);
    out.append("}\n\n");
  }

 private:
  void OpenStep(std::string& out) {
    out.append("data: {\"type\":\"start-step\"}\n\n");
    step_open_ = true;
  }

  // Content after a finish-step (a provider that keeps talking after its
  // finish reason) opens a new step instead of writing into a closed one.
  void EnsureStep(std::string& out) {
    if (!started_) {
      Start(out);
    } else if (!step_open_) {
      OpenStep(out);
    }
  }

  void AppendPartId(std::string& out) const {
    out.append(open_part_ == PartKind::kText ? "\"text-" : "\"reasoning-");
    AppendInt(out, part_count_);
    out.push_back('"');
  }

  void PartDelta(std::string& out, PartKind kind, std::string_view text) {
    // An empty delta would only open an empty part.
    if (closed_ || text.empty()) return;
    EnsureStep(out);
    const bool is_text = kind == PartKind::kText;
    if (open_part_ != kind) {
      ClosePart(out);
      open_part_ = kind;
      ++part_count_;
      out.append(is_text ? R"(data: {"type":"text-start","id":)" : R"(data: {"type":"reasoning-start","id":)");
      AppendPartId(out);
      out.append("}\n\n");
    }
    out.append(is_text ? R"(data: {"type":"text-delta","id":)" : R"(data: {"type":"reasoning-delta","id":)");
    AppendPartId(out);
    out.append(R"(,"delta":)");
    AppendJsonString(out, text);
    out.append("}\n\n");
  }

  void ClosePart(std::string& out) {
    if (open_part_ == PartKind::kNone) return;
    out.append(open_part_ == PartKind::kText ? R"(data: {"type":"text-end","id":)"
                                             : R"(data: {"type":"reasoning-end","id":)");
    AppendPartId(out);
    out.append("}\n\n");
    open_part_ = PartKind::kNone;
  }

  // O(1) per fragment: consecutive fragments of one call hit the cached slot,
  // others go through the map.
  UiToolSlot& SlotFor(uint32_t index) {
    if (last_slot_ < tools_.size() && tools_[last_slot_].index == index) {
      return tools_[last_slot_];
    }
    auto found = slot_of_index_.find(index);
    if (found != slot_of_index_.end()) {
      last_slot_ = found->second;
    } else {
      last_slot_ = tools_.size();
      slot_of_index_.emplace(index, last_slot_);
      tools_.emplace_back();
      tools_.back().index = index;
    }
    return tools_[last_slot_];
  }

  // Ends the current step: open parts, then every tool call's final input,
  // then finish-step. Starts the message first if nothing was sent yet, so
  // even an empty answer is a well-formed message.
  void EndStep(std::string& out) {
    Start(out);
    ClosePart(out);
    for (UiToolSlot& slot : tools_) {
      if (!slot.started) AppendToolInputStart(out, slot, message_id_);
      AppendToolInputFinal(out, slot, scratch_);
    }
    tools_.clear();
    slot_of_index_.clear();
    last_slot_ = 0;
    if (step_open_) {
      out.append("data: {\"type\":\"finish-step\"}\n\n");
      step_open_ = false;
    }
  }

  static void AppendCount(std::string& out, std::string_view key, int64_t count, bool& first) {
    if (count < 0) return;
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(key);
    out.append("\":");
    AppendInt(out, count);
  }

  std::string message_id_;
  EncoderRole role_;
  bool started_ = false;
  bool step_open_ = false;
  bool closed_ = false;  // Done or Error was written; the message is over
  PartKind open_part_ = PartKind::kNone;
  uint32_t part_count_ = 0;  // numbers text/reasoning part ids
  bool has_finish_reason_ = false;
  FinishReason finish_reason_ = FinishReason::kStop;
  std::vector<UiToolSlot> tools_;
  std::unordered_map<uint32_t, size_t> slot_of_index_;
  size_t last_slot_ = 0;
  std::string scratch_;  // error texts, reused
};

}  // namespace

std::unique_ptr<Encoder> CreateUiMessageEncoder(const EncoderOptions& options) {
  return std::make_unique<UiMessageEncoder>(options);
}

}  // namespace llmrelay
