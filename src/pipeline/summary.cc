#include "pipeline/summary.h"

#include <algorithm>
#include <cmath>

#include "base/json_writer.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace llmrelay {

namespace {

void AppendCount(std::string& out, int64_t value) {
  if (value < 0) {
    out.append("null");
  } else {
    AppendInt(out, value);
  }
}

void AppendMs(std::string& out, uint64_t us) {
  // Milliseconds with microsecond precision, as a JSON number.
  AppendInt(out, static_cast<int64_t>(us / 1000));
  const uint64_t frac = us % 1000;
  if (frac != 0) {
    char buf[5] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                   static_cast<char>('0' + frac % 10), 0};
    out.append(buf);
  }
}

bool IsValidJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return !doc.HasParseError();
}

uint32_t Percentile(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

void Summary::Reset() {
  text_.clear();
  reasoning_.clear();
  tool_calls_.clear();
  has_usage_ = false;
  input_tokens_ = output_tokens_ = total_tokens_ = -1;
  usage_raw_.clear();
  has_finish_ = false;
  finish_raw_.clear();
}

void Summary::AddToolCall(uint32_t index, std::string_view id, std::string_view name,
                          std::string_view arguments_delta) {
  // Slots are dense and small (adapters number calls 0, 1, 2, ...); guard
  // against a hostile index anyway so a bad stream cannot allocate GBs.
  if (index > 1024) return;
  if (index >= tool_calls_.size()) tool_calls_.resize(index + 1);
  ToolCallSummary& call = tool_calls_[index];
  if (!id.empty() && call.id.empty()) call.id.assign(id);
  if (!name.empty() && call.name.empty()) call.name.assign(name);
  call.arguments.append(arguments_delta);
}

void Summary::SetUsage(const UsageInfo& usage) {
  has_usage_ = true;
  if (usage.input_tokens >= 0) input_tokens_ = usage.input_tokens;
  if (usage.output_tokens >= 0) output_tokens_ = usage.output_tokens;
  if (usage.total_tokens >= 0) total_tokens_ = usage.total_tokens;
  usage_raw_.assign(usage.raw_json);
}

void Summary::SetFinish(FinishReason reason, std::string_view raw) {
  has_finish_ = true;
  finish_ = reason;
  finish_raw_.assign(raw);
}

void Summary::AppendJson(std::string& out, const StreamMetrics& m, std::string_view outcome) const {
  out.append("{\"text\":");
  AppendJsonString(out, text_);
  out.append(",\"reasoning\":");
  AppendJsonString(out, reasoning_);
  out.append(",\"toolCalls\":[");
  for (size_t i = 0; i < tool_calls_.size(); ++i) {
    const ToolCallSummary& call = tool_calls_[i];
    if (i) out.push_back(',');
    out.append("{\"index\":");
    AppendInt(out, static_cast<int64_t>(i));
    out.append(",\"id\":");
    if (call.id.empty())
      out.append("null");
    else
      AppendJsonString(out, call.id);
    out.append(",\"name\":");
    AppendJsonString(out, call.name);
    out.append(",\"arguments\":");
    AppendJsonString(out, call.arguments);
    // Flag, never repair: an argument string that does not parse is reported
    // as it arrived so the caller can decide (re-ask the model, fail, log).
    out.append(",\"argumentsValid\":");
    out.append(call.arguments.empty() || IsValidJson(call.arguments) ? "true" : "false");
    out.push_back('}');
  }
  out.append("],\"finishReason\":");
  if (has_finish_)
    AppendJsonString(out, FinishReasonName(finish_));
  else
    out.append("null");
  out.append(",\"rawFinishReason\":");
  if (has_finish_ && !finish_raw_.empty())
    AppendJsonString(out, finish_raw_);
  else
    out.append("null");
  out.append(",\"usage\":");
  if (has_usage_) {
    out.append("{\"inputTokens\":");
    AppendCount(out, input_tokens_);
    out.append(",\"outputTokens\":");
    AppendCount(out, output_tokens_);
    // The provider's own total, as the usage delta has it. None is made up:
    // Anthropic reports no total and its input count excludes the cache
    // counts, so a sum here would disagree with the delta and mislead.
    out.append(",\"totalTokens\":");
    AppendCount(out, total_tokens_);
    out.append(",\"raw\":");
    out.append(usage_raw_.empty() ? std::string_view("{}") : std::string_view(usage_raw_));
    out.push_back('}');
  } else {
    out.append("null");
  }

  std::vector<uint32_t> gaps = m.gaps_us;
  std::sort(gaps.begin(), gaps.end());
  const uint64_t end = m.end_us ? m.end_us : m.start_us;
  const uint64_t duration = end > m.start_us ? end - m.start_us : 0;
  out.append(",\"metrics\":{\"outcome\":");
  AppendJsonString(out, outcome);
  out.append(",\"ttfbMs\":");
  if (m.first_byte_us)
    AppendMs(out, m.first_byte_us - m.start_us);
  else
    out.append("null");
  out.append(",\"ttftMs\":");
  if (m.first_content_us)
    AppendMs(out, m.first_content_us - m.start_us);
  else
    out.append("null");
  out.append(",\"durationMs\":");
  AppendMs(out, duration);
  out.append(",\"deltas\":");
  AppendInt(out, static_cast<int64_t>(m.deltas));
  out.append(",\"bytes\":");
  AppendInt(out, static_cast<int64_t>(m.bytes));
  out.append(",\"retries\":");
  AppendInt(out, m.retries);
  out.append(",\"gapP50Ms\":");
  AppendMs(out, Percentile(gaps, 0.5));
  out.append(",\"gapP99Ms\":");
  AppendMs(out, Percentile(gaps, 0.99));
  out.append(",\"gapMaxMs\":");
  AppendMs(out, gaps.empty() ? 0 : gaps.back());
  // Both rates span the first to the last content delta (the generation
  // after the first token), counting the intervals between them:
  // deltasPerSecond counts the provider's content fragments (a fragment may
  // hold several tokens, or part of one); outputTokensPerSecond uses the
  // output token count the provider reported, when it reported one.
  const uint64_t span = m.last_content_us > m.first_content_us ? m.last_content_us - m.first_content_us : 0;
  out.append(",\"deltasPerSecond\":");
  if (m.deltas > 1 && span > 0) {
    AppendInt(out, static_cast<int64_t>((m.deltas - 1) * 1000000 / span));
  } else {
    out.append("null");
  }
  out.append(",\"outputTokensPerSecond\":");
  if (output_tokens_ > 1 && m.deltas > 1 && span > 0) {
    AppendInt(out, (output_tokens_ - 1) * 1000000 / static_cast<int64_t>(span));
  } else {
    out.append("null");
  }
  out.append("}}");
}

}  // namespace llmrelay
