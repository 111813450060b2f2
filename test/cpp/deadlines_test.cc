// The four timeouts and the two waits of our own (upstream/deadlines.h).
#include "upstream/deadlines.h"

#include <gtest/gtest.h>

namespace llmrelay {
namespace {

constexpr uint64_t kMs = 1000;
const Timeouts kTimeouts{10'000, 60'000, 30'000, 600'000};

DeadlineState Running() {
  DeadlineState s;
  s.phase = DeadlineState::Phase::kRunning;
  s.start_us = 1'000 * kMs;
  s.attempt_start_us = 1'000 * kMs;
  s.content_ref_us = 1'000 * kMs;
  return s;
}

TEST(Deadlines, BeforeContentTheFirstByteDeadlineRuns) {
  const DeadlineState s = Running();
  const Deadline next = NextDeadline(kTimeouts, s);
  EXPECT_EQ(next.kind, DeadlineKind::kFirstByte);
  EXPECT_EQ(next.at_us, s.attempt_start_us + 60'000 * kMs);
  EXPECT_EQ(ExpiredDeadline(kTimeouts, s, next.at_us - 1), DeadlineKind::kNone);
  EXPECT_EQ(ExpiredDeadline(kTimeouts, s, next.at_us), DeadlineKind::kFirstByte);
}

TEST(Deadlines, AfterContentTheIdleDeadlineRunsFromTheLastContent) {
  DeadlineState s = Running();
  s.content_seen = true;
  s.content_ref_us = 5'000 * kMs;
  const Deadline next = NextDeadline(kTimeouts, s);
  EXPECT_EQ(next.kind, DeadlineKind::kIdle);
  EXPECT_EQ(next.at_us, 35'000 * kMs);
}

TEST(Deadlines, NoFirstByteOrIdleDeadlineWhilePausedForTheReader) {
  DeadlineState s = Running();
  s.paused = true;
  EXPECT_EQ(NextDeadline(kTimeouts, s).kind, DeadlineKind::kTotal);
  s.content_seen = true;
  EXPECT_EQ(ExpiredDeadline(kTimeouts, s, s.start_us + 400'000 * kMs), DeadlineKind::kNone);
}

TEST(Deadlines, TheTotalWinsWhenSeveralHavePassed) {
  DeadlineState s = Running();
  s.content_seen = true;
  EXPECT_EQ(ExpiredDeadline(kTimeouts, s, s.start_us + 700'000 * kMs), DeadlineKind::kTotal);
}

TEST(Deadlines, ZeroDisablesOneTimeoutOnly) {
  Timeouts t = kTimeouts;
  t.total_ms = 0;
  DeadlineState s = Running();
  EXPECT_EQ(NextDeadline(t, s).kind, DeadlineKind::kFirstByte);
  t.first_byte_ms = 0;
  EXPECT_EQ(NextDeadline(t, s).kind, DeadlineKind::kNone);
  s.content_seen = true;
  EXPECT_EQ(NextDeadline(t, s).kind, DeadlineKind::kIdle);
}

TEST(Deadlines, ARetryIsDueAtItsTimeUnlessTheTotalComesFirst) {
  DeadlineState s = Running();
  s.phase = DeadlineState::Phase::kRetryWait;
  s.retry_at_us = s.start_us + 500 * kMs;
  EXPECT_EQ(NextDeadline(kTimeouts, s).kind, DeadlineKind::kRetryDue);
  EXPECT_EQ(ExpiredDeadline(kTimeouts, s, s.retry_at_us), DeadlineKind::kRetryDue);
  Timeouts short_total = kTimeouts;
  short_total.total_ms = 100;
  EXPECT_EQ(NextDeadline(short_total, s).kind, DeadlineKind::kTotal);
}

TEST(Deadlines, TheBodyOfAnAnswerThatIsNotAStreamIsWaitedForBriefly) {
  DeadlineState s = Running();
  s.non_stream_answer = true;
  s.headers_us = 2'000 * kMs;
  const Deadline next = NextDeadline(kTimeouts, s);
  EXPECT_EQ(next.kind, DeadlineKind::kNonStreamBody);
  EXPECT_EQ(next.at_us, s.headers_us + kNonStreamBodyWaitUs);
}

TEST(Deadlines, WaitingForAConsumerOnlyTheTotalRuns) {
  DeadlineState s = Running();
  s.phase = DeadlineState::Phase::kAwaitConsumer;
  EXPECT_EQ(NextDeadline(kTimeouts, s).kind, DeadlineKind::kTotal);
  s.phase = DeadlineState::Phase::kEnded;
  EXPECT_EQ(NextDeadline(kTimeouts, s).kind, DeadlineKind::kNone);
}

}  // namespace
}  // namespace llmrelay
