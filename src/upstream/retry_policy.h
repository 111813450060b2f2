// When a failed attempt is tried again, and after how long. Pure: no curl,
// no clock, no randomness of its own, so every rule has a unit test
// (test/cpp/retry_policy_test.cc).
#ifndef LLMRELAY_UPSTREAM_RETRY_POLICY_H_
#define LLMRELAY_UPSTREAM_RETRY_POLICY_H_

#include <cstdint>
#include <string_view>

#include "base/records.h"

namespace llmrelay {

struct RetryPolicy {
  uint32_t attempts = 0;  // retries after the first try (like the SDKs' maxRetries)
  int64_t base_delay_ms = 0;
  int64_t max_delay_ms = 0;
};

// What went wrong with one attempt.
struct AttemptFailure {
  ErrorCode code = ErrorCode::kNone;
  long status = 0;                 // HTTP_STATUS
  bool transient_network = false;  // NETWORK: a connection-level failure worth another try
  int64_t retry_after_ms = -1;     // the provider's Retry-After / retry-after-ms, -1 without
  bool delivered = false;          // something already reached the reader
};

// The delay before the next attempt in ms, or -1 for no retry. Retried:
// transient network errors, 408, 409, 429 and 5xx, and a provider error
// event that arrives before anything was delivered (Anthropic's
// overloaded_error after the 200); never anything once a delta reached the
// reader. A Retry-After is honoured, unless it asks for more than
// max_delay_ms: then the caller gets the error (with retryAfterMs) instead
// of a hang. Otherwise the delay is exponential from base_delay_ms, capped
// at max_delay_ms, with `jitter` (0 ≤ jitter < 1) spreading it over the
// upper half. `retries_so_far` counts the retries already made;
// `remaining_ms` is the time left under timeouts.totalMs (-1: no total): a
// retry that could not start in time is not made.
int64_t RetryDelayMs(const RetryPolicy& policy, uint32_t retries_so_far, const AttemptFailure& failure,
                     int64_t remaining_ms, double jitter);

// Retry-After-Ms (a number of milliseconds, as OpenAI sends), then
// Retry-After (delay-seconds or an HTTP-date, RFC 9110 §10.2.3), as a delay
// in ms from `now_unix_seconds`. -1 when absent or unreadable; 0 for a date
// in the past.
int64_t ParseRetryAfterMs(std::string_view retry_after_ms, std::string_view retry_after, int64_t now_unix_seconds);

// An HTTP-date in any of the three formats RFC 9110 §5.6.7 requires a
// recipient to accept (IMF-fixdate, RFC 850, asctime), as Unix seconds; -1
// when it is none of them.
int64_t ParseHttpDate(std::string_view text);

}  // namespace llmrelay

#endif  // LLMRELAY_UPSTREAM_RETRY_POLICY_H_
