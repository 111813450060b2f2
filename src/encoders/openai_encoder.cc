// "openai": OpenAI Chat Completions streaming (`chat.completion.chunk` SSE),
// so the official `openai` SDK — or any client written against it — can be
// pointed at the relay with `baseURL` and read the answer unchanged, whatever
// the upstream provider was.
//
// Wire shape (https://platform.openai.com/docs/api-reference/chat-streaming):
//   data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,
//          "choices":[{"index":0,"delta":{…},"finish_reason":null}]}
//
// Choices that are ours to make, each checked against openai@6 (src/core/
// streaming.ts and lib/ChatCompletionStream.ts):
// - The first chunk that has a choice carries delta.role "assistant", whatever
//   kind it is: ChatCompletionStream's finalizer throws "missing role for
//   choice 0" when no chunk set a role.
// - Every tool-call fragment carries "type":"function", not only the one with
//   the id: the finalizer throws "missing … tool_calls[i].type" when no
//   fragment did, and adapters for providers that send no tool-call id
//   (Gemini, Ollama) would otherwise never set it.
// - Reasoning goes to delta.reasoning_content (the field DeepSeek, vLLM and
//   others use; OpenAI itself streams no reasoning text). The SDK passes it
//   through on `create({stream:true})`; its ChatCompletionStream helper keeps
//   only the last fragment of unknown delta fields.
// - Finish reasons map back to OpenAI's: stop, length, tool_calls,
//   content_filter. "error" and "other" have no OpenAI equivalent and become
//   "stop" (the stream did end; an error after the 200 arrives through Error).
// - Usage is a chunk with "choices":[] and a usage object, as OpenAI sends it
//   with stream_options.include_usage. A count the provider did not report is
//   0 (the SDK types them as numbers), and an unreported total is the sum.
// - An error is `data: {"error":{"type":"relay_error","code","message",
//   "status"?,"retryAfterMs"?}}`: the SDK's Stream raises APIError for any
//   event whose JSON has an `error` member, with .code = our RelayError code,
//   .message = our message and .error = the whole object (status and
//   retryAfterMs included; the SDK's own .status stays undefined, as the
//   HTTP status was 200).
// - Raw events (provider 'sse') have no Chat Completions equivalent and are
//   dropped.
// - Done without an earlier Finish first sends a "stop" finish chunk.
#include <memory>
#include <string>
#include <string_view>

#include "base/json_writer.h"
#include "encoders/delta_json.h"
#include "encoders/formats.h"

namespace llmrelay {

namespace {

std::string_view OpenAiFinishReason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    case FinishReason::kError:
    case FinishReason::kOther: break;
  }
  return "stop";
}

class OpenAiEncoder final : public Encoder {
 public:
  explicit OpenAiEncoder(const EncoderOptions& options) : role_(options.role) {
    // The envelope is the same for every chunk: build it once, so a token
    // costs one append of it plus the escaped text.
    envelope_.append(R"(data: {"id":)");
    AppendJsonString(envelope_, options.id);
    envelope_.append(R"(,"object":"chat.completion.chunk","created":)");
    AppendInt(envelope_, options.created);
    envelope_.append(R"(,"model":)");
    AppendJsonString(envelope_, options.model);
    envelope_.append(R"(,"choices":[)");
  }

  void Text(std::string& out, std::string_view text) override {
    BeginDelta(out, true);
    out.append(R"("content":)");
    AppendJsonString(out, text);
    EndDelta(out, std::string_view());
  }

  void Reasoning(std::string& out, std::string_view text) override {
    BeginDelta(out, true);
    out.append(R"("reasoning_content":)");
    AppendJsonString(out, text);
    EndDelta(out, std::string_view());
  }

  void ToolCall(std::string& out, uint32_t index, std::string_view id, std::string_view name,
                std::string_view arguments_delta) override {
    BeginDelta(out, true);
    out.append(R"("tool_calls":[{"index":)");
    AppendInt(out, index);
    if (!id.empty()) {
      out.append(R"(,"id":)");
      AppendJsonString(out, id);
    }
    out.append(R"(,"type":"function","function":{)");
    if (!name.empty()) {
      out.append(R"("name":)");
      AppendJsonString(out, name);
      out.push_back(',');
    }
    out.append(R"("arguments":)");
    AppendJsonString(out, arguments_delta);
    out.append("}}]");
    EndDelta(out, std::string_view());
  }

  void Usage(std::string& out, const UsageInfo& usage) override {
    const int64_t input = usage.input_tokens < 0 ? 0 : usage.input_tokens;
    const int64_t output = usage.output_tokens < 0 ? 0 : usage.output_tokens;
    const int64_t total = usage.total_tokens < 0 ? input + output : usage.total_tokens;
    out.append(envelope_);
    out.append(R"(],"usage":{"prompt_tokens":)");
    AppendInt(out, input);
    out.append(R"(,"completion_tokens":)");
    AppendInt(out, output);
    out.append(R"(,"total_tokens":)");
    AppendInt(out, total);
    out.append("}}\n\n");
  }

  void Finish(std::string& out, FinishReason reason, std::string_view /*raw*/) override {
    BeginDelta(out, false);
    EndDelta(out, OpenAiFinishReason(reason));
    finish_sent_ = true;
  }

  void RawEvent(std::string& /*out*/, std::string_view /*event*/, std::string_view /*data*/, std::string_view /*id*/,
                bool /*has_id*/) override {}

  // Chat completion chunks have no place for app data.
  void Data(std::string& /*out*/, std::string_view /*name*/, std::string_view /*data_json*/) override {}

  bool sse_framed() const override { return true; }

  void Done(std::string& out) override {
    // A stream can end cleanly without a finish reason (provider 'sse', or
    // an adapter that saw only the end marker); the SDK's
    // ChatCompletionStream throws "missing finish_reason" then, so say "stop".
    // A relay's outer encoder has no step of its own to finish.
    if (!finish_sent_ && role_ != EncoderRole::kRelayOuter) Finish(out, FinishReason::kStop, std::string_view());
    if (role_ != EncoderRole::kRelayStep) out.append("data: [DONE]\n\n");
  }

  void Error(std::string& out, const ErrorInfo& error) override {
    out.append(R"(data: {"error":{"type":"relay_error",)");
    AppendErrorFieldsJson(out, error);
    out.append("}}\n\n");
  }

 private:
  // Opens a chunk up to the inside of "delta":{ and, on the first chunk,
  // writes the role (and a comma when the caller appends members after it).
  // Callers append their delta members and then call EndDelta.
  void BeginDelta(std::string& out, bool has_members) {
    out.append(envelope_);
    out.append(R"({"index":0,"delta":{)");
    if (!role_sent_) {
      role_sent_ = true;
      out.append(R"("role":"assistant")");
      if (has_members) out.push_back(',');
    }
  }

  // Closes the delta; an empty `finish_reason` writes null.
  static void EndDelta(std::string& out, std::string_view finish_reason) {
    out.append(R"(},"finish_reason":)");
    if (finish_reason.empty()) {
      out.append("null");
    } else {
      out.push_back('"');
      out.append(finish_reason);
      out.push_back('"');
    }
    out.append("}]}\n\n");
  }

  std::string envelope_;
  EncoderRole role_;
  bool role_sent_ = false;
  bool finish_sent_ = false;
};

}  // namespace

std::unique_ptr<Encoder> CreateOpenAiEncoder(const EncoderOptions& options) {
  return std::make_unique<OpenAiEncoder>(options);
}

}  // namespace llmrelay
