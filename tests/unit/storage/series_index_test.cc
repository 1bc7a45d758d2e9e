// Tests for SeriesIndex (src/storage/series_index.h).
#include "storage/series_index.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(SeriesIndexTest, TagOrderAndEmptyValuesDoNotMatter) {
  SeriesIndex index;
  bool created = false;
  SeriesId a =
      index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "a"}, {"dc", "x"}}, &created);
  EXPECT_TRUE(created);
  SeriesId b = index.GetOrCreate(TenantId(1), "main", "cpu",
                                 {{"dc", "x"}, {"rack", ""}, {"host", "a"}}, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(a, b);
  EXPECT_EQ(index.size(), 1u);
}

TEST(SeriesIndexTest, TenantsDatabasesAndTablesSeparateSeries) {
  SeriesIndex index;
  TagSet tags{{"host", "a"}};
  SeriesId a = index.GetOrCreate(TenantId(1), "main", "cpu", tags);
  EXPECT_NE(a, index.GetOrCreate(TenantId(2), "main", "cpu", tags));
  EXPECT_NE(a, index.GetOrCreate(TenantId(1), "other", "cpu", tags));
  EXPECT_NE(a, index.GetOrCreate(TenantId(1), "main", "mem", tags));
  EXPECT_EQ(index.CountForTenant(TenantId(1)), 3u);
  EXPECT_EQ(index.CountForTenant(TenantId(2)), 1u);
}

TEST(SeriesIndexTest, MatchByTags) {
  SeriesIndex index;
  index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "a"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "b"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "c"}});
  EXPECT_EQ(index.Match(TenantId(1), "main", "cpu", {}).size(), 3u);
  EXPECT_EQ(index.Match(TenantId(1), "main", "cpu", {{"dc", "x"}}).size(), 2u);
  EXPECT_EQ(index.Match(TenantId(1), "main", "cpu", {{"dc", ""}}).size(), 1u);
  auto one = index.Match(TenantId(1), "main", "cpu", {{"host", "b"}});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]->Tag("dc"), "x");
  EXPECT_TRUE(index.Match(TenantId(2), "main", "cpu", {}).empty());
}

TEST(SeriesIndexTest, RestoreKeepsIdsAndAdvancesCounter) {
  SeriesIndex index;
  ASSERT_TRUE(index.Restore(SeriesId(41), TenantId(1), "main", "cpu", {{"host", "a"}}).ok());
  ASSERT_TRUE(index.Restore(SeriesId(41), TenantId(1), "main", "cpu", {{"host", "a"}}).ok());
  EXPECT_EQ(index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "a"}}), SeriesId(41));
  EXPECT_EQ(index.GetOrCreate(TenantId(1), "main", "cpu", {{"host", "b"}}), SeriesId(42));
  Status s = index.Restore(SeriesId(41), TenantId(1), "main", "cpu", {{"host", "z"}});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace seaway
