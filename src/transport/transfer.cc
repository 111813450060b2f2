// Transfer (transfer.h): starting attempts, the response as curl delivers it,
// JavaScript's commands, pauses, and publishing to the sinks. Deadlines,
// retries and the end are in transfer_end.cc. Runs on the worker thread.
#include "transport/transfer.h"

#include <utility>

namespace llmrelay {

namespace {

// Raw bytes held before anyone chose how to consume the stream.
constexpr size_t kMaxHeld = size_t{256} * 1024;

}  // namespace

Transfer::Transfer(Engine* engine, std::unique_ptr<StreamConfig> config)
    : engine_(engine),
      config_(std::move(config)),
      headers_(std::make_unique<HeaderList>(config_->request.headers)),
      pipeline_(CreateAdapter(config_->provider), config_->max_event_bytes, config_->encoder),
      answer_(pipeline_.framing() == Framing::kSse),
      sink_(engine->host()->MakeJsSink(config_->id, OutputKind::kDeltaJson)) {
  uv_timer_init(engine_->loop(), &deadline_);
  deadline_.data = this;
}

Transfer::~Transfer() = default;

void Transfer::Dispose(std::unique_ptr<Transfer> transfer) {
  Transfer* raw = transfer.release();
  raw->attempt_.reset();
  raw->sink_.reset();
  uv_timer_stop(&raw->deadline_);
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->deadline_),
           [](uv_handle_t* handle) { std::unique_ptr<Transfer> owned(static_cast<Transfer*>(handle->data)); });
}

void Transfer::Begin() {
  start_us_ = NowUs();
  pipeline_.metrics().start_us = start_us_;
  StartAttempt();
}

void Transfer::StartAttempt() {
  phase_ = Phase::kRunning;
  attempt_start_us_ = NowUs();
  content_ref_us_ = attempt_start_us_;
  answer_.Reset();
  curl_paused_ = false;
  at_end_marker_ = false;
  std::string error;
  attempt_ = HttpAttempt::Start(engine_->multi(), engine_->share(), config_->request, *headers_,
                                &engine_->trust_store(), this, this, &error);
  if (!attempt_) {
    Fail(ErrorCode::kNetwork, error);
    return;
  }
  ApplyPause();
  ArmDeadline();
}

// ---- the response (inside curl callbacks: never call back into curl) -------

void Transfer::OnHeaderLine(std::string_view line) {
  if (!answer_.OnHeaderLine(line)) return;
  pipeline_.metrics().first_byte_us = NowUs();
  if (!answer_.is_stream()) {
    ArmDeadline();  // bounds the wait for the rest of that body
    return;
  }
  answer_.head().AppendRecordJson(head_out_);
  MarkDirty();
}

size_t Transfer::OnBody(const char* data, size_t len) {
  if (!answer_.is_stream()) {
    // Enough to explain it: stop reading (curl ends with a write error,
    // which OnCurlDone does not mistake for a network failure).
    return answer_.KeepErrorBody(data, len) ? len : 0;
  }
  // After the end marker nothing more belongs to the answer.
  if (at_end_marker_) return len;
  const uint64_t before = pipeline_.metrics().deltas;
  if (!pipeline_.Feed(data, len, NowUs())) return 0;  // curl ends the attempt: CURLE_WRITE_ERROR
  if (pipeline_.end_marker_seen()) {
    at_end_marker_ = true;
    MarkDirty();  // Publish completes the stream, outside this callback
  }
  if (pipeline_.metrics().deltas != before) {
    content_ref_us_ = pipeline_.metrics().last_content_us;
    // The first content delta switches from the first-byte deadline to the
    // (usually shorter) idle one; later deltas only move content_ref_us_ and
    // the timer re-arms itself lazily when it fires.
    if (before == 0) ArmDeadline();
  }
  if (!pipeline_.output().empty()) MarkDirty();
  if (!pipeline_.mode_set() && pipeline_.held_bytes() > kMaxHeld && !paused_hold_) {
    paused_hold_ = true;
    MarkDirty();  // ApplyPause runs at publish time, outside this callback
  }
  return len;
}

// ---- commands (outside curl callbacks) -----------------------------------------

void Transfer::Consume(ConsumeSpec spec) {
  if (ended_ || pipeline_.mode_set()) return;  // what it carried (a socket) closes with `spec`
  const bool relay = spec.format != "json" && spec.format != "discard";
  if (relay && (spec.role != EncoderRole::kWhole || !spec.message_id.empty())) {
    EncoderOptions options = pipeline_.encoder_options();
    options.role = spec.role;
    if (!spec.message_id.empty()) options.id = spec.message_id;
    pipeline_.SetEncoderOptions(std::move(options));
  }
  if (relay && spec.first_seq > 0) {
    pipeline_.EnableLog(spec.first_seq);
    outlives_client_ = spec.outlives_client;
    spec.relay.log_pacer = &engine_->log_pacer();
  }
  if (!pipeline_.SetMode(spec.format)) {
    Fail(ErrorCode::kInvalidArgument, "Unknown output format: " + spec.format);
    return;
  }
  SinkPtr to_js = engine_->host()->MakeJsSink(id(), relay ? OutputKind::kBytes : OutputKind::kDeltaJson);
  sink_ = relay ? RelayChain(engine_->loop(), std::move(spec.relay), spec.format == "text", &Transfer::OnSinkEvent,
                             this, std::move(to_js))
                : std::move(to_js);
  if (!pipeline_.output().empty()) MarkDirty();  // held bytes parsed just now
  if (pipeline_.end_marker_seen() && !at_end_marker_) {
    at_end_marker_ = true;  // the held bytes held the whole answer
    MarkDirty();
  }
  if (phase_ == Phase::kAwaitConsumer) {
    phase_ = Phase::kRunning;
    OnCurlDone(pending_result_);
    return;
  }
  if (pipeline_.failed() && attempt_) {
    FailFromPipeline();
    return;
  }
  if (paused_hold_) {
    paused_hold_ = false;
    ApplyPause();
  }
}

void Transfer::Detach() {
  sink_->Detach();
  // A resumable stream goes on without its client: a pause for a socket
  // that is gone would never lift.
  if (outlives_client_) OnDownstreamDrained();
  MarkDirty();  // an ended transfer waiting for the socket can deliver its end now
}

void Transfer::SetReaderPaused(bool paused) {
  if (ended_ || paused_reader_ == paused) return;
  paused_reader_ = paused;
  ApplyPause();
}

void Transfer::OnDownstreamDrained() {
  if (ended_ || !paused_downstream_) return;
  paused_downstream_ = false;
  ApplyPause();
}

void Transfer::OnSinkEvent(void* owner, Sink::Event event) {
  auto* self = static_cast<Transfer*>(owner);
  Engine* engine = self->engine_;
  if (event == Sink::Event::kLogged) {
    self->MarkDirty();  // the pacer flushes once its tick is over
    return;
  }
  if (event == Sink::Event::kDrained) self->OnDownstreamDrained();
  if (event == Sink::Event::kClosed && !self->ended_) {
    if (self->outlives_client_) {
      self->OnDownstreamDrained();  // nobody left to wait for
    } else {
      self->Fail(ErrorCode::kAborted, std::string(self->sink_->ClosedReason()));
    }
  }
  self->MarkDirty();
  engine->FlushDirty();
}

void Transfer::ApplyPause() {
  const bool want = paused_reader_ || paused_downstream_ || paused_hold_;
  sink_->SetBlocked(paused_reader_ || paused_downstream_);
  if (!attempt_ || want == curl_paused_) return;
  curl_paused_ = want;
  if (!want) {
    // Time spent paused is the reader's, not the provider's.
    content_ref_us_ = NowUs();
    if (!pipeline_.content_seen()) attempt_start_us_ = content_ref_us_;
  }
  // Unpausing may deliver buffered data through OnBody right here; that is
  // fine: we are in a uv callback, not inside another curl callback.
  attempt_->SetPaused(want);
  if (!want) ArmDeadline();
}

void Transfer::Abort() {
  if (ended_) {
    // Ended but still flushing its last bytes to a client's socket: stop.
    sink_->Stop();
    MarkDirty();
    return;
  }
  Fail(ErrorCode::kAborted, "The stream was aborted");
}

void Transfer::Cancel() {
  sink_->Stop();
  attempt_.reset();
  uv_timer_stop(&deadline_);
  phase_ = Phase::kEnded;
  ended_ = true;
}

void Transfer::MarkDirty() { engine_->MarkDirty(this); }

bool Transfer::Publish() {
  if (at_end_marker_ && phase_ == Phase::kRunning && !ended_) CompleteAtEndMarker();
  if (paused_hold_) ApplyPause();
  if (!head_out_.empty()) {
    sink_->Head(head_out_);
    std::string().swap(head_out_);  // once per stream: its capacity is not kept
  }
  std::string& out = pipeline_.output();
  if (!out.empty()) {
    // One batch per publish, i.e. per worker-loop callback: every delta that
    // arrived in one read from the provider goes out in one write.
    const Sink::Flow flow = sink_->Write(out);
    if (flow == Sink::Flow::kClosed && !ended_ && !outlives_client_) {
      Fail(ErrorCode::kAborted, std::string(sink_->ClosedReason()));
    } else if (flow == Sink::Flow::kClosed && outlives_client_) {
      OnDownstreamDrained();
    } else if (flow == Sink::Flow::kFull && !ended_ && !paused_downstream_) {
      // The downstream reads slower than the provider writes: stop reading
      // from the provider until it drains.
      paused_downstream_ = true;
      ApplyPause();
    }
  }
  if (pipeline_.log_count() > 0) {
    sink_->Log(pipeline_.log(), pipeline_.log_first_seq(), pipeline_.log_count());
    pipeline_.LogTaken();
  }
  if (!end_ready_) return false;
  // The end may wait for a socket to take the last bytes.
  return sink_->End(tail_, end_);
}

}  // namespace llmrelay
