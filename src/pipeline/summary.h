// Assembles what `s.done` resolves to: the whole text, reasoning, tool calls,
// usage, finish reason and metrics. Runs on the worker thread, so JavaScript
// receives one summary object at the end instead of re-assembling per token.
#ifndef LLMRELAY_PIPELINE_SUMMARY_H_
#define LLMRELAY_PIPELINE_SUMMARY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/delta.h"

namespace llmrelay {

struct ToolCallSummary {
  std::string id;
  std::string name;
  std::string arguments;
};

// Timing and volume figures, in microseconds of a monotonic clock.
struct StreamMetrics {
  uint64_t start_us = 0;
  uint64_t first_byte_us = 0;     // response headers arrived
  uint64_t first_content_us = 0;  // first text/reasoning/tool-call delta
  uint64_t last_content_us = 0;
  uint64_t end_us = 0;
  uint64_t deltas = 0;  // content deltas
  uint64_t bytes = 0;   // response body bytes received
  uint32_t retries = 0;
  std::vector<uint32_t> gaps_us;  // inter-content-delta gaps
};

class Summary {
 public:
  void Reset();  // forget content (for a retried attempt); metrics stay
  void AddText(std::string_view text) { text_.append(text); }
  void AddReasoning(std::string_view text) { reasoning_.append(text); }
  void AddToolCall(uint32_t index, std::string_view id, std::string_view name, std::string_view arguments_delta);
  void SetUsage(const UsageInfo& usage);
  void SetFinish(FinishReason reason, std::string_view raw);

  bool has_finish() const { return has_finish_; }
  const std::string& text() const { return text_; }

  // Appends the summary as JSON: {"text","reasoning","toolCalls","finishReason",
  // "rawFinishReason","usage","metrics"}. `outcome` is how the stream ended
  // ("completed", "aborted", "timeout", "error").
  void AppendJson(std::string& out, const StreamMetrics& metrics, std::string_view outcome) const;

 private:
  std::string text_;
  std::string reasoning_;
  std::vector<ToolCallSummary> tool_calls_;
  bool has_usage_ = false;
  int64_t input_tokens_ = -1;
  int64_t output_tokens_ = -1;
  int64_t total_tokens_ = -1;
  std::string usage_raw_;
  bool has_finish_ = false;
  FinishReason finish_ = FinishReason::kOther;
  std::string finish_raw_;
};

}  // namespace llmrelay

#endif  // LLMRELAY_PIPELINE_SUMMARY_H_
