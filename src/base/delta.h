// Normalized delta model shared by adapters, the summary and the encoders.
// Adapters produce deltas by calling a DeltaSink; strings are views that are
// valid only for the duration of the call, so sinks copy what they keep.
#ifndef LLMRELAY_BASE_DELTA_H_
#define LLMRELAY_BASE_DELTA_H_

#include <cstdint>
#include <string_view>

namespace llmrelay {

enum class FinishReason : uint8_t {
  kStop,
  kLength,
  kToolCalls,
  kContentFilter,
  kError,
  kOther,
};

// The public name of a finish reason (the README's Delta table): "stop", "length", "tool-calls",
// "content-filter", "error", "other".
std::string_view FinishReasonName(FinishReason reason);

// Token counts a provider reported; -1 means "not reported".
struct UsageInfo {
  int64_t input_tokens = -1;
  int64_t output_tokens = -1;
  int64_t total_tokens = -1;
  // The provider's own usage object, re-serialized as compact JSON ("{}" when
  // the adapter has none). Valid only for the duration of the call.
  std::string_view raw_json = "{}";
};

// Receives normalized deltas from a provider adapter.
// Every method must be cheap and must not block: it runs on the worker thread
// inside libcurl's write callback.
class DeltaSink {
 public:
  virtual ~DeltaSink() = default;
  virtual void OnText(std::string_view text) = 0;
  virtual void OnReasoning(std::string_view text) = 0;
  // `index` is the normalized tool-call slot (0, 1, ...); `id` and `name` are
  // empty when this fragment does not carry them.
  virtual void OnToolCall(uint32_t index, std::string_view id, std::string_view name,
                          std::string_view arguments_delta) = 0;
  virtual void OnUsage(const UsageInfo& usage) = 0;
  // Usage counted so far, before the provider's final figure (Anthropic's
  // message_start, each Gemini chunk's usageMetadata). Kept for the summary,
  // so a stream cut short (abort, timeout, error) still reports what was
  // billed; never relayed as a delta. A placeholder count (message_start's
  // output_tokens) is left at -1.
  virtual void OnPartialUsage(const UsageInfo& usage) = 0;
  virtual void OnFinish(FinishReason reason, std::string_view raw) = 0;
  // Raw SSE event, only for provider 'sse'. `has_id` is false when the
  // last-event-id is empty.
  virtual void OnRawEvent(std::string_view event, std::string_view data, std::string_view id, bool has_id) = 0;
  // An error reported by the provider inside the stream (after the 200).
  virtual void OnProviderError(std::string_view type, std::string_view message) = 0;
  // The stream is malformed (bad JSON, wrong shape). `detail` says what and
  // quotes the offending bytes (at most ~120 of them).
  virtual void OnProtocolError(std::string_view detail) = 0;
  // The provider's end marker ([DONE], message_stop, response.completed,
  // done:true, Gemini's finishReason) was seen.
  virtual void OnEndMarker() = 0;
};

}  // namespace llmrelay

#endif  // LLMRELAY_BASE_DELTA_H_
