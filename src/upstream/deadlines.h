// The four timeouts of a stream as pure functions of its state: which
// deadline comes next (to arm one timer), and which one has passed. No
// curl, no libuv, no clock of its own (test/cpp/deadlines_test.cc).
//
//   totalMs      from the start, retries included
//   firstByteMs  from the start of an attempt to its first content delta
//                (a silent reasoning phase is covered; pings are not content)
//   idleMs       between content deltas; comments and pings do not count
//   connectMs    TCP and TLS: curl's own CURLOPT_CONNECTTIMEOUT_MS
//
// Time spent paused for a slow reader is the reader's, not the provider's:
// no first-byte or idle deadline runs while paused, and both restart from
// the moment the transfer resumes (the caller moves the reference times).
// Two deadlines of our own complete the set: the moment a retry is due, and
// the bounded wait for the body of an answer that is not a stream.
#ifndef LLMRELAY_UPSTREAM_DEADLINES_H_
#define LLMRELAY_UPSTREAM_DEADLINES_H_

#include <cstdint>

namespace llmrelay {

struct Timeouts {
  int64_t connect_ms = 0;  // 0 disables a timeout
  int64_t first_byte_ms = 0;
  int64_t idle_ms = 0;
  int64_t total_ms = 0;
};

enum class DeadlineKind : uint8_t { kNone, kTotal, kRetryDue, kFirstByte, kIdle, kNonStreamBody };

// Where a stream stands, in microseconds of one monotonic clock.
struct DeadlineState {
  enum class Phase : uint8_t { kRunning, kRetryWait, kAwaitConsumer, kEnded };
  Phase phase = Phase::kRunning;
  uint64_t start_us = 0;           // the stream started (totalMs)
  uint64_t attempt_start_us = 0;   // this attempt started, or the transfer last resumed before content
  uint64_t content_ref_us = 0;     // the last content delta, or the last resume
  uint64_t retry_at_us = 0;        // kRetryWait: the next attempt is due
  uint64_t headers_us = 0;         // the answer's headers arrived
  bool paused = false;             // the transfer is paused for the reader
  bool content_seen = false;       // a content delta arrived in this attempt
  bool non_stream_answer = false;  // the headers said: not a 2xx event stream
};

// How long the body of an answer that is not a stream is waited for.
inline constexpr uint64_t kNonStreamBodyWaitUs = uint64_t{500} * 1000;

struct Deadline {
  uint64_t at_us = UINT64_MAX;
  DeadlineKind kind = DeadlineKind::kNone;
};

// The earliest deadline that applies now (kNone: no timer needed).
Deadline NextDeadline(const Timeouts& timeouts, const DeadlineState& state);

// The deadline that has passed at `now_us`, kNone if none has. The total
// wins when several have.
DeadlineKind ExpiredDeadline(const Timeouts& timeouts, const DeadlineState& state, uint64_t now_us);

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_DEADLINES_H_
