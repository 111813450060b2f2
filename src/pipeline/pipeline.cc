#include "pipeline/pipeline.h"

#include "base/json_writer.h"

#include <utility>

namespace llmrelay {

StreamPipeline::StreamPipeline(std::unique_ptr<Adapter> adapter, size_t max_event_bytes, EncoderOptions encoder_options)
    : adapter_(std::move(adapter)),
      sse_(max_event_bytes),
      ndjson_(max_event_bytes),
      encoder_options_(std::move(encoder_options)) {}

bool StreamPipeline::SetMode(std::string_view mode) {
  if (mode_set_) return true;
  if (mode != "discard") {
    encoder_ = CreateEncoder(mode, encoder_options_);
    if (!encoder_) return false;
    encoder_->Start(out_);
  }
  mode_set_ = true;
  if (!held_.empty()) {
    std::string held;
    held.swap(held_);
    Parse(held.data(), held.size());
  }
  return true;
}

bool StreamPipeline::Feed(const char* data, size_t len, uint64_t now_us) {
  if (failed()) return false;
  now_us_ = now_us;
  metrics_.bytes += len;
  if (!mode_set_) {
    held_.append(data, len);
    return true;
  }
  return Parse(data, len);
}

bool StreamPipeline::Parse(const char* data, size_t len) {
  if (failed()) return false;
  FramingStatus status =
      adapter_->framing() == Framing::kSse ? sse_.Feed(data, len, *this) : ndjson_.Feed(data, len, *this);
  if (status == FramingStatus::kLimit && !failed()) {
    Fail(ErrorCode::kLimit, "", "An event from the provider exceeded the maximum event size (maxEventBytes)");
  }
  return !failed();
}

bool StreamPipeline::Finish(uint64_t now_us) {
  now_us_ = now_us;
  if (!mode_set_) SetMode("discard");
  if (failed()) return false;
  if (adapter_->framing() == Framing::kSse) {
    sse_.Finish();
  } else if (ndjson_.Finish(*this) == FramingStatus::kLimit && !failed()) {
    Fail(ErrorCode::kLimit, "", "A line from the provider exceeded the maximum event size (maxEventBytes)");
  }
  if (failed()) return false;
  adapter_->OnEof(*this);
  if (failed()) return false;
  if (!adapter_->complete()) {
    Fail(ErrorCode::kTruncated, "", "The provider's stream ended without its end marker; the answer may be cut short");
    return false;
  }
  return true;
}

void StreamPipeline::Restart(std::unique_ptr<Adapter> adapter) {
  adapter_ = std::move(adapter);
  sse_.Reset();
  ndjson_.Reset();
  summary_.Reset();
  error_ = PipelineError{};
  emitted_ = 0;
  end_marker_ = false;
  held_.clear();
  const uint32_t retries = metrics_.retries;
  const uint64_t start = metrics_.start_us;
  metrics_ = StreamMetrics{};
  metrics_.retries = retries;
  metrics_.start_us = start;
}

void StreamPipeline::EnableLog(uint64_t first_seq) {
  if (mode_set_ || log_encoder_) return;
  log_encoder_ = CreateEncoder("log", encoder_options_);
  next_seq_ = first_seq;
}

void StreamPipeline::AppendEventId(size_t before, uint64_t seq) {
  // Every write of an SSE-based format ends with the blank line of its last
  // event: the id goes in as that event's last field. A client's
  // Last-Event-ID thus only moves once every event of the delta arrived.
  if (!encoder_ || !encoder_->sse_framed() || out_.size() <= before || out_.back() != '\n') return;
  out_.pop_back();
  out_.append("id: ");
  AppendUint(out_, seq);
  out_.append("\n\n");
}

void StreamPipeline::EncodeDone() {
  if (encoder_) encoder_->Done(out_);
}

void StreamPipeline::EncodeError(const ErrorInfo& error) {
  if (encoder_) encoder_->Error(out_, error);
}

void StreamPipeline::Fail(ErrorCode code, std::string_view type, std::string_view message) {
  if (failed()) return;
  error_.code = code;
  error_.type.assign(type);
  error_.message.assign(message);
}

void StreamPipeline::CountContent() {
  if (metrics_.first_content_us == 0) {
    metrics_.first_content_us = now_us_;
  } else {
    const uint64_t gap = now_us_ - metrics_.last_content_us;
    metrics_.gaps_us.push_back(gap > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(gap));
  }
  metrics_.last_content_us = now_us_;
  ++metrics_.deltas;
  ++emitted_;
}

void StreamPipeline::OnText(std::string_view text) {
  if (text.empty()) return;
  CountContent();
  summary_.AddText(text);
  Emit([&](Encoder& e, std::string& out) { e.Text(out, text); });
}

void StreamPipeline::OnReasoning(std::string_view text) {
  if (text.empty()) return;
  CountContent();
  summary_.AddReasoning(text);
  Emit([&](Encoder& e, std::string& out) { e.Reasoning(out, text); });
}

void StreamPipeline::OnToolCall(uint32_t index, std::string_view id, std::string_view name,
                                std::string_view arguments_delta) {
  CountContent();
  summary_.AddToolCall(index, id, name, arguments_delta);
  Emit([&](Encoder& e, std::string& out) { e.ToolCall(out, index, id, name, arguments_delta); });
}

void StreamPipeline::OnUsage(const UsageInfo& usage) {
  ++emitted_;
  summary_.SetUsage(usage);
  Emit([&](Encoder& e, std::string& out) { e.Usage(out, usage); });
}

void StreamPipeline::OnFinish(FinishReason reason, std::string_view raw) {
  ++emitted_;
  summary_.SetFinish(reason, raw);
  Emit([&](Encoder& e, std::string& out) { e.Finish(out, reason, raw); });
}

void StreamPipeline::OnRawEvent(std::string_view event, std::string_view data, std::string_view id, bool has_id) {
  CountContent();
  Emit([&](Encoder& e, std::string& out) { e.RawEvent(out, event, data, id, has_id); });
}

void StreamPipeline::OnProviderError(std::string_view type, std::string_view message) {
  Fail(ErrorCode::kProviderError, type, message);
}

void StreamPipeline::OnProtocolError(std::string_view detail) { Fail(ErrorCode::kProtocol, "", detail); }

bool StreamPipeline::OnSseEvent(const SseEvent& event) {
  adapter_->OnSseEvent(event, *this);
  return !failed();
}

bool StreamPipeline::OnLine(std::string_view line) {
  adapter_->OnLine(line, *this);
  return !failed();
}

}  // namespace llmrelay
