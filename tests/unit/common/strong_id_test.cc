// Tests for the strong types (src/common/strong_id.h).
#include "common/strong_id.h"

#include <type_traits>
#include <unordered_set>

#include <gtest/gtest.h>

namespace seaway {
namespace {

static_assert(!std::is_convertible_v<TenantId, SeriesId>, "ids must not mix");
static_assert(!std::is_convertible_v<uint64_t, TenantId>, "ids are explicit");
static_assert(sizeof(TenantId) == sizeof(uint64_t), "zero cost");
static_assert(sizeof(Timestamp) == sizeof(int64_t), "zero cost");

TEST(StrongIdTest, ComparesAndHashes) {
  TenantId a(1), b(2);
  EXPECT_LT(a, b);
  EXPECT_EQ(a, TenantId(1));
  std::unordered_set<TenantId> set{a, b, TenantId(1)};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(fmt::format("{}", b), "2");
}

TEST(StrongIdTest, LsnAdvances) {
  Lsn l(41);
  EXPECT_EQ(l.Next().value(), 42u);
  EXPECT_LT(l, l.Next());
}

TEST(StrongIdTest, TimestampArithmetic) {
  Timestamp t = Timestamp::FromNanos(1'000);
  EXPECT_EQ((t + Duration::Micros(2)).nanos(), 3'000);
  EXPECT_EQ((t - Duration::Nanos(1'000)).nanos(), 0);
  EXPECT_EQ((Timestamp::FromNanos(5'000'000'000) - t).nanos(), 4'999'999'000);
  EXPECT_DOUBLE_EQ(Duration::Millis(1500).seconds(), 1.5);
  EXPECT_LT(Timestamp::Min(), t);
  EXPECT_LT(t, Timestamp::Max());
}

}  // namespace
}  // namespace seaway
