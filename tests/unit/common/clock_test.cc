// Tests for Clock (src/common/clock.h).
#include "common/clock.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(ClockTest, FormatsRfc3339) {
  EXPECT_EQ(FormatRfc3339Millis(Timestamp::FromNanos(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(Timestamp::FromNanos(1764085538'123456789)),
            "2025-11-25T15:45:38.123Z");
  EXPECT_EQ(FormatRfc3339Millis(Timestamp::FromNanos(-1'000'000)), "1969-12-31T23:59:59.999Z");
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(Timestamp::FromNanos(100));
  EXPECT_EQ(clock.Now().nanos(), 100);
  clock.Advance(Duration::Seconds(1));
  EXPECT_EQ(clock.Now().nanos(), 1'000'000'100);
}

TEST(ClockTest, RealClockIsMonotonicAndRecent) {
  int64_t a = Clock::Real()->MonotonicNanos();
  int64_t b = Clock::Real()->MonotonicNanos();
  EXPECT_LE(a, b);
  // Later than 2024-01-01: catches a unit mistake (seconds or micros instead of nanos).
  EXPECT_GT(Clock::Real()->Now().nanos(), int64_t{1704067200} * 1'000'000'000);
}

}  // namespace
}  // namespace seaway
