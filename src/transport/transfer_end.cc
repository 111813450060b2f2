// How a transfer ends, or tries again: its deadlines (upstream/deadlines.h
// decides which one is due), curl's result for an attempt, the retry policy
// (upstream/retry_policy.h) and the end record with the format's tail. The
// rest of Transfer is in transfer.cc. Runs on the worker thread.
#include <ctime>
#include <random>
#include <utility>

#include "base/redact.h"
#include "transport/transfer.h"

namespace llmrelay {

namespace {

double Jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::string Ms(int64_t ms) { return std::to_string(ms) + " ms"; }

}  // namespace

// ---- deadlines ------------------------------------------------------------------

DeadlineState Transfer::Deadlines() const {
  DeadlineState state;
  switch (phase_) {
    case Phase::kRetryWait: state.phase = DeadlineState::Phase::kRetryWait; break;
    case Phase::kAwaitConsumer: state.phase = DeadlineState::Phase::kAwaitConsumer; break;
    case Phase::kEnded: state.phase = DeadlineState::Phase::kEnded; break;
    default: state.phase = DeadlineState::Phase::kRunning; break;
  }
  state.start_us = start_us_;
  state.attempt_start_us = attempt_start_us_;
  state.content_ref_us = content_ref_us_;
  state.retry_at_us = retry_at_us_;
  state.headers_us = pipeline_.metrics().first_byte_us;
  state.paused = curl_paused_;
  state.content_seen = pipeline_.content_seen();
  state.non_stream_answer = answer_.head_complete() && !answer_.is_stream();
  return state;
}

void Transfer::ArmDeadline() {
  if (ended_) return;
  const Deadline next = NextDeadline(config_->timeouts, Deadlines());
  if (next.kind == DeadlineKind::kNone) {
    uv_timer_stop(&deadline_);
    return;
  }
  const uint64_t now = NowUs();
  const uint64_t delay_ms = next.at_us > now ? (next.at_us - now + 999) / 1000 : 0;
  uv_timer_start(&deadline_, &Transfer::OnUvDeadline, delay_ms, 0);
}

void Transfer::OnUvDeadline(uv_timer_t* handle) {
  auto* self = static_cast<Transfer*>(handle->data);
  Engine* engine = self->engine_;
  self->CheckDeadline();
  engine->FlushDirty();
}

void Transfer::CheckDeadline() {
  if (ended_) return;
  const Timeouts& t = config_->timeouts;
  switch (ExpiredDeadline(t, Deadlines(), NowUs())) {
    case DeadlineKind::kTotal:
      Fail(ErrorCode::kTimeoutTotal, "The stream took longer than timeouts.totalMs (" + Ms(t.total_ms) + ")");
      return;
    case DeadlineKind::kRetryDue:
      StartAttempt();
      MarkDirty();
      return;
    case DeadlineKind::kNonStreamBody: Fail(answer_.NonStreamFailure(std::time(nullptr))); return;
    case DeadlineKind::kFirstByte:
      Fail(ErrorCode::kTimeoutFirstByte,
           "No content from the provider within timeouts.firstByteMs (" + Ms(t.first_byte_ms) + ")");
      return;
    case DeadlineKind::kIdle:
      Fail(ErrorCode::kTimeoutIdle, "No content from the provider for timeouts.idleMs (" + Ms(t.idle_ms) +
                                        "); keep-alive comments and pings do not count");
      return;
    case DeadlineKind::kNone: break;
  }
  ArmDeadline();
}

// ---- the end ----------------------------------------------------------------------

void Transfer::OnCurlDone(CURLcode result) {
  if (ended_ || phase_ != Phase::kRunning) return;
  if (!pipeline_.mode_set()) {
    // The whole answer arrived before JavaScript chose a consumer (a reader
    // that starts after an await, pipe() called late). Its bytes are held
    // raw; ending now would have to parse them for nobody. Wait for the
    // choice (only timeouts.totalMs runs meanwhile).
    attempt_.reset();
    pending_result_ = result;
    phase_ = Phase::kAwaitConsumer;
    sink_->Park();
    ArmDeadline();
    return;
  }
  // An answer that is not a stream is explained by its status or type,
  // whatever curl says of the body (we may have stopped reading it).
  if (answer_.head_complete() && !answer_.is_stream()) {
    Fail(answer_.NonStreamFailure(std::time(nullptr)));
    return;
  }
  if (pipeline_.failed()) {
    FailFromPipeline();
    return;
  }
  if (result != CURLE_OK) {
    Fail(CurlFailure(result, attempt_ ? attempt_->error_text() : "", answer_.head(), config_->timeouts.connect_ms));
    return;
  }
  if (!pipeline_.Finish(NowUs())) {
    FailFromPipeline();
    return;
  }
  Succeed();
}

void Transfer::FailFromPipeline() {
  const PipelineError& err = pipeline_.error();
  Failure failure;
  failure.code = err.code;
  failure.message = err.message;
  failure.type = err.type;
  failure.status = answer_.head().status;
  Fail(std::move(failure));
}

// The provider sent its end marker but not the end of the body (a gateway
// that keeps the response open). The answer is whole: complete it now
// rather than wait for an EOF that may never come (and fail TIMEOUT_IDLE
// after the client already has every token). The easy handle goes to the
// engine, which lets curl read the rest of the body for a moment so the
// connection can still return to the pool, and closes it otherwise.
void Transfer::CompleteAtEndMarker() {
  if (attempt_) {
    CURL* easy = attempt_->Release();
    attempt_.reset();
    engine_->Linger(easy, std::move(headers_), config_->request.body);
  }
  if (!pipeline_.Finish(NowUs())) {
    FailFromPipeline();
    return;
  }
  Succeed();
}

void Transfer::Fail(Failure failure) {
  if (ended_) return;
  if (phase_ == Phase::kRunning) {
    AttemptFailure attempt;
    attempt.code = failure.code;
    attempt.status = failure.status;
    attempt.transient_network =
        failure.code == ErrorCode::kNetwork && (failure.curl_code == 0 || IsTransientCurlError(failure.curl_code));
    attempt.retry_after_ms = failure.retry_after_ms;
    // Nothing is retried once anything reached the reader.
    attempt.delivered = pipeline_.emitted() != 0 || pipeline_.content_seen();
    int64_t remaining_ms = -1;
    if (config_->timeouts.total_ms > 0) {
      const uint64_t deadline = start_us_ + static_cast<uint64_t>(config_->timeouts.total_ms) * 1000;
      const uint64_t now = NowUs();
      remaining_ms = deadline > now ? static_cast<int64_t>((deadline - now) / 1000) : 0;
    }
    const int64_t delay_ms = RetryDelayMs(config_->retry, retries_, attempt, remaining_ms, Jitter());
    if (delay_ms >= 0) {
      attempt_.reset();
      ++retries_;
      pipeline_.metrics().retries = retries_;
      pipeline_.Restart(CreateAdapter(config_->provider));
      phase_ = Phase::kRetryWait;
      retry_at_us_ = NowUs() + static_cast<uint64_t>(delay_ms) * 1000;
      ArmDeadline();
      return;
    }
  }
  End(false, std::move(failure));
}

void Transfer::Succeed() { End(true, Failure{}); }

void Transfer::End(bool ok, Failure failure) {
  attempt_.reset();
  uv_timer_stop(&deadline_);
  phase_ = Phase::kEnded;
  ended_ = true;
  pipeline_.metrics().end_us = NowUs();
  end_.ok = ok;
  if (!ok) {
    // A provider's message or error body, a header it echoes, or curl's text
    // may quote a credential: the record and the in-band error event below
    // are built from these redacted strings only.
    RedactSecrets(failure.message, config_->secrets);
    RedactSecrets(failure.body, config_->secrets);
    RedactSecrets(failure.headers_json, config_->secrets);
    // What the client learns in-band: the code, our message, and for a
    // provider status the status and its Retry-After (never the error body).
    ErrorInfo in_band{ErrorCodeName(failure.code), failure.message};
    if (failure.code == ErrorCode::kHttpStatus) {
      in_band.status = failure.status;
      in_band.retry_after_ms = failure.retry_after_ms;
    }
    SplitTail([this, &in_band] { pipeline_.EncodeError(in_band); });
  } else {
    SplitTail([this] { pipeline_.EncodeDone(); });
  }
  pipeline_.summary().AppendJson(end_.summary_json, pipeline_.metrics(), OutcomeName(ok, failure.code));
  if (pipeline_.logging()) end_.last_seq = pipeline_.next_seq() - 1;
  end_.failure = std::move(failure);
  end_ready_ = true;
  MarkDirty();
}

}  // namespace llmrelay
