// How often a resumable relay's log goes to JavaScript (output/log_interval.h).
#include "output/log_interval.h"

#include <gtest/gtest.h>

namespace llmrelay {
namespace {

TEST(LogInterval, FewRelaysTickAtTheShortestInterval) {
  EXPECT_EQ(LogIntervalMs(0), kLogMinMs);
  EXPECT_EQ(LogIntervalMs(1), kLogMinMs);
  EXPECT_EQ(LogIntervalMs(200), kLogMinMs);
}

TEST(LogInterval, TheIntervalGrowsWithTheRelaysSoHandoffsStayNearTheTarget) {
  EXPECT_EQ(LogIntervalMs(500), 50u);
  EXPECT_EQ(LogIntervalMs(1000), 100u);
  for (size_t n : {300u, 700u, 1000u, 1500u, 2000u}) {
    const double per_second = static_cast<double>(n) * 1000.0 / static_cast<double>(LogIntervalMs(n));
    EXPECT_NEAR(per_second, static_cast<double>(kLogTargetPerSecond), 0.01 * kLogTargetPerSecond) << n;
  }
}

TEST(LogInterval, NoRelayWaitsLongerThanTheLongestInterval) {
  EXPECT_EQ(LogIntervalMs(2000), kLogMaxMs);
  EXPECT_EQ(LogIntervalMs(100000), kLogMaxMs);
}

}  // namespace
}  // namespace llmrelay
