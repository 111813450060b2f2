// One stream's byte pipeline: framing → adapter → (summary + encoder). It
// knows nothing about curl or Node, so it is unit-tested and benchmarked on
// its own, and the transport only feeds it body bytes.
#ifndef LLMRELAY_PIPELINE_PIPELINE_H_
#define LLMRELAY_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/delta.h"
#include "base/records.h"
#include "encoders/encoder.h"
#include "framing/ndjson_splitter.h"
#include "framing/sse_parser.h"
#include "pipeline/summary.h"
#include "providers/adapter.h"

namespace llmrelay {

struct PipelineError {
  ErrorCode code = ErrorCode::kNone;  // PROVIDER_ERROR, PROTOCOL, TRUNCATED, LIMIT
  std::string type;                   // the provider's error type, for PROVIDER_ERROR
  std::string message;
};

class StreamPipeline final : public DeltaSink, public SseHandler, public LineHandler {
 public:
  StreamPipeline(std::unique_ptr<Adapter> adapter, size_t max_event_bytes, EncoderOptions encoder_options);

  // The output mode: "discard" (summary only), "json" (Delta objects for
  // JavaScript) or a downstream format ("sse", "openai", ...). Until a mode
  // is set the body bytes are held raw, so a late choice loses nothing.
  // Returns false for an unknown mode.
  bool SetMode(std::string_view mode);
  // Replaces the encoder options (before SetMode): a multi-step relay's step
  // role and message id.
  void SetEncoderOptions(EncoderOptions options) {
    if (!mode_set_) encoder_options_ = std::move(options);
  }
  const EncoderOptions& encoder_options() const { return encoder_options_; }
  bool mode_set() const { return mode_set_; }
  size_t held_bytes() const { return held_.size(); }

  // Body bytes of a 2xx answer. Returns false once the stream has failed.
  bool Feed(const char* data, size_t len, uint64_t now_us);
  // A clean end of the body. Records TRUNCATED when the provider's end
  // marker never came. Returns false when the stream has failed.
  bool Finish(uint64_t now_us);
  // Starts a new attempt after a retry: parser, adapter and content reset.
  void Restart(std::unique_ptr<Adapter> adapter);

  // Makes the stream resumable (before SetMode): every delta gets a sequence
  // number, from `first_seq` on. SSE-based formats carry it as the event id
  // of the delta's last event, and every delta is also written, one Delta
  // JSON object each (never merged), to log(): the resume log's entries.
  void EnableLog(uint64_t first_seq);
  bool logging() const { return log_encoder_ != nullptr; }
  // Delta JSON ("{...},{...},") of the deltas since the last take, the
  // sequence number of the first of them, and how many there are.
  std::string& log() { return log_; }
  uint64_t log_first_seq() const { return log_first_seq_; }
  uint32_t log_count() const { return log_count_; }
  void LogTaken() { log_count_ = 0; }
  // The sequence number the next delta gets (the last one given is one less).
  uint64_t next_seq() const { return next_seq_; }

  // Encodes the successful end (e.g. "data: [DONE]") or an error into output().
  void EncodeDone();
  void EncodeError(const ErrorInfo& error);

  std::string& output() { return out_; }
  bool failed() const { return error_.code != ErrorCode::kNone; }
  const PipelineError& error() const { return error_; }
  // Deltas emitted in this attempt (any kind).
  uint64_t emitted() const { return emitted_; }
  bool content_seen() const { return metrics_.first_content_us != 0; }
  // The provider's end marker ([DONE], message_stop, ...) was parsed: the
  // answer is complete whether or not the body ends.
  bool end_marker_seen() const { return end_marker_; }
  Summary& summary() { return summary_; }
  StreamMetrics& metrics() { return metrics_; }
  const StreamMetrics& metrics() const { return metrics_; }
  Framing framing() const { return adapter_->framing(); }

  // DeltaSink
  void OnText(std::string_view text) override;
  void OnReasoning(std::string_view text) override;
  void OnToolCall(uint32_t index, std::string_view id, std::string_view name,
                  std::string_view arguments_delta) override;
  void OnUsage(const UsageInfo& usage) override;
  void OnPartialUsage(const UsageInfo& usage) override { summary_.SetUsage(usage); }
  void OnFinish(FinishReason reason, std::string_view raw) override;
  void OnRawEvent(std::string_view event, std::string_view data, std::string_view id, bool has_id) override;
  void OnProviderError(std::string_view type, std::string_view message) override;
  void OnProtocolError(std::string_view detail) override;
  void OnEndMarker() override { end_marker_ = true; }

  // SseHandler / LineHandler
  bool OnSseEvent(const SseEvent& event) override;
  bool OnLine(std::string_view line) override;

 private:
  bool Parse(const char* data, size_t len);
  // Encodes one delta into output() (and, when logging, into log() with its
  // sequence number and event id).
  template <typename Fn>
  void Emit(Fn encode) {
    const size_t before = out_.size();
    if (encoder_) encode(*encoder_, out_);
    if (!log_encoder_) return;
    const uint64_t seq = next_seq_++;
    AppendEventId(before, seq);
    if (log_count_++ == 0) log_first_seq_ = seq;
    encode(*log_encoder_, log_);
  }
  void AppendEventId(size_t before, uint64_t seq);
  void CountContent();
  void Fail(ErrorCode code, std::string_view type, std::string_view message);

  std::unique_ptr<Adapter> adapter_;
  SseParser sse_;
  NdjsonSplitter ndjson_;
  EncoderOptions encoder_options_;
  std::unique_ptr<Encoder> encoder_;  // null in "discard" mode
  bool mode_set_ = false;
  std::string held_;  // raw body bytes received before a mode was set
  std::string out_;   // encoded bytes waiting for the handoff
  Summary summary_;
  StreamMetrics metrics_;
  PipelineError error_;
  uint64_t now_us_ = 0;
  uint64_t emitted_ = 0;
  bool end_marker_ = false;
  std::unique_ptr<Encoder> log_encoder_;  // null unless EnableLog
  std::string log_;
  uint64_t next_seq_ = 1;
  uint64_t log_first_seq_ = 0;
  uint32_t log_count_ = 0;
};

}  // namespace llmrelay

#endif  // LLMRELAY_PIPELINE_PIPELINE_H_
