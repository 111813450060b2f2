// The retry rules (upstream/retry_policy.h), without curl or a clock.
#include "upstream/retry_policy.h"

#include <gtest/gtest.h>

namespace llmrelay {
namespace {

const RetryPolicy kPolicy{2, 500, 8000};

AttemptFailure Http(long status, int64_t retry_after_ms = -1) {
  AttemptFailure f;
  f.code = ErrorCode::kHttpStatus;
  f.status = status;
  f.retry_after_ms = retry_after_ms;
  return f;
}

TEST(RetryPolicy, RetriesTransientStatusesButNotClientErrors) {
  for (long status : {408L, 409L, 429L, 500L, 502L, 503L, 529L}) {
    EXPECT_GE(RetryDelayMs(kPolicy, 0, Http(status), -1, 0.0), 0) << status;
  }
  for (long status : {400L, 401L, 403L, 404L, 422L}) {
    EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(status), -1, 0.0), -1) << status;
  }
}

TEST(RetryPolicy, RetriesTransientNetworkErrorsAndProviderErrorsBeforeAnything) {
  AttemptFailure network;
  network.code = ErrorCode::kNetwork;
  network.transient_network = true;
  EXPECT_GE(RetryDelayMs(kPolicy, 0, network, -1, 0.5), 0);
  network.transient_network = false;
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, network, -1, 0.5), -1);
  AttemptFailure overloaded;
  overloaded.code = ErrorCode::kProviderError;
  EXPECT_GE(RetryDelayMs(kPolicy, 0, overloaded, -1, 0.5), 0);
}

TEST(RetryPolicy, NeverRetriesOnceSomethingReachedTheReader) {
  AttemptFailure f = Http(503);
  f.delivered = true;
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, f, -1, 0.0), -1);
}

TEST(RetryPolicy, StopsAfterTheConfiguredNumberOfRetries) {
  EXPECT_GE(RetryDelayMs(kPolicy, 1, Http(503), -1, 0.0), 0);
  EXPECT_EQ(RetryDelayMs(kPolicy, 2, Http(503), -1, 0.0), -1);
  EXPECT_EQ(RetryDelayMs(RetryPolicy{0, 500, 8000}, 0, Http(503), -1, 0.0), -1);
}

TEST(RetryPolicy, BacksOffExponentiallyWithinTheUpperHalfAndUnderTheCap) {
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(503), -1, 0.0), 250);
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(503), -1, 0.999), 499);
  const RetryPolicy many{10, 500, 8000};
  EXPECT_EQ(RetryDelayMs(many, 1, Http(503), -1, 0.0), 500);
  EXPECT_EQ(RetryDelayMs(many, 6, Http(503), -1, 0.0), 4000);  // 32 s capped at 8 s, upper half
  EXPECT_LT(RetryDelayMs(many, 9, Http(503), -1, 0.999), 8000);
}

TEST(RetryPolicy, HonoursRetryAfterUnlessItAsksForMoreThanTheMaximum) {
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(429, 1200), -1, 0.9), 1200);
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(429, 0), -1, 0.9), 0);
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(429, 9000), -1, 0.9), -1);
}

TEST(RetryPolicy, NoRetryThatCouldNotStartBeforeTheTotalTimeout) {
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(429, 1200), 1200, 0.0), -1);
  EXPECT_EQ(RetryDelayMs(kPolicy, 0, Http(429, 1200), 1201, 0.0), 1200);
}

TEST(RetryAfter, ReadsMillisecondsSecondsAndHttpDates) {
  const int64_t now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfterMs("1500", "", now), 1500);
  EXPECT_EQ(ParseRetryAfterMs("", "20", now), 20000);
  EXPECT_EQ(ParseRetryAfterMs("250.7", "20", now), 250);  // retry-after-ms wins
  EXPECT_EQ(ParseRetryAfterMs("", "Sun, 06 Nov 1994 08:50:07 GMT", now), 30000);
  EXPECT_EQ(ParseRetryAfterMs("", "Sunday, 06-Nov-94 08:50:07 GMT", now), 30000);
  EXPECT_EQ(ParseRetryAfterMs("", "Sun Nov  6 08:50:07 1994", now), 30000);
  EXPECT_EQ(ParseRetryAfterMs("", "Sun, 06 Nov 1994 08:00:00 GMT", now), 0);  // in the past
}

TEST(RetryAfter, UnreadableValuesAreAbsent) {
  EXPECT_EQ(ParseRetryAfterMs("", "", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("soon", "later", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("-5", "", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("", "-5", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("", "Sun, 06 Nov 1994 25:00:00 GMT", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("", "Sun, 06 Nov 1994 08:49:37 UTC", 0), -1);
}

TEST(HttpDate, MatchesKnownUnixTimes) {
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Tue, 29 Feb 2028 12:00:00 GMT"), 1835438400);
  EXPECT_EQ(ParseHttpDate("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
}

}  // namespace
}  // namespace llmrelay
