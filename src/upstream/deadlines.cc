#include "upstream/deadlines.h"

namespace llmrelay {

namespace {

uint64_t Ms(int64_t ms) { return static_cast<uint64_t>(ms) * 1000; }

// The one deadline of the current phase (the total aside).
Deadline PhaseDeadline(const Timeouts& timeouts, const DeadlineState& state) {
  using Phase = DeadlineState::Phase;
  if (state.phase == Phase::kRetryWait) return {state.retry_at_us, DeadlineKind::kRetryDue};
  if (state.phase != Phase::kRunning) return {};
  if (state.non_stream_answer) return {state.headers_us + kNonStreamBodyWaitUs, DeadlineKind::kNonStreamBody};
  if (state.paused) return {};
  if (!state.content_seen) {
    if (timeouts.first_byte_ms <= 0) return {};
    return {state.attempt_start_us + Ms(timeouts.first_byte_ms), DeadlineKind::kFirstByte};
  }
  if (timeouts.idle_ms <= 0) return {};
  return {state.content_ref_us + Ms(timeouts.idle_ms), DeadlineKind::kIdle};
}

Deadline TotalDeadline(const Timeouts& timeouts, const DeadlineState& state) {
  if (timeouts.total_ms <= 0 || state.phase == DeadlineState::Phase::kEnded) return {};
  return {state.start_us + Ms(timeouts.total_ms), DeadlineKind::kTotal};
}

}  // namespace

Deadline NextDeadline(const Timeouts& timeouts, const DeadlineState& state) {
  const Deadline total = TotalDeadline(timeouts, state);
  const Deadline phase = PhaseDeadline(timeouts, state);
  return phase.at_us < total.at_us ? phase : total;
}

DeadlineKind ExpiredDeadline(const Timeouts& timeouts, const DeadlineState& state, uint64_t now_us) {
  const Deadline total = TotalDeadline(timeouts, state);
  if (total.kind != DeadlineKind::kNone && now_us >= total.at_us) return DeadlineKind::kTotal;
  const Deadline phase = PhaseDeadline(timeouts, state);
  if (phase.kind != DeadlineKind::kNone && now_us >= phase.at_us) return phase.kind;
  return DeadlineKind::kNone;
}

}  // namespace llmrelay
