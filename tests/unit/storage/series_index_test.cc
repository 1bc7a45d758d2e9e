// Tests for SeriesIndex (src/storage/series_index.h).
#include "storage/series_index.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(SeriesIndexTest, TagOrderAndEmptyValuesDoNotMatter) {
  SeriesIndex index;
  bool created = false;
  SeriesId a =
      index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}, {"dc", "x"}}, &created);
  EXPECT_TRUE(created);
  SeriesId b = index.GetOrCreate(TenantId(1), "main", "cpu", 0,
                                 {{"dc", "x"}, {"rack", ""}, {"host", "a"}}, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(a, b);
  EXPECT_EQ(index.size(), 1u);
}

TEST(SeriesIndexTest, TenantsDatabasesAndTablesSeparateSeries) {
  SeriesIndex index;
  TagSet tags{{"host", "a"}};
  SeriesId a = index.GetOrCreate(TenantId(1), "main", "cpu", 0, tags);
  EXPECT_NE(a, index.GetOrCreate(TenantId(2), "main", "cpu", 0, tags));
  EXPECT_NE(a, index.GetOrCreate(TenantId(1), "other", "cpu", 0, tags));
  EXPECT_NE(a, index.GetOrCreate(TenantId(1), "main", "mem", 0, tags));
  EXPECT_EQ(index.CountForTenant(TenantId(1)), 3u);
  EXPECT_EQ(index.CountForTenant(TenantId(2)), 1u);
}

TEST(SeriesIndexTest, MatchByTags) {
  SeriesIndex index;
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "c"}});
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
  ASSERT_TRUE(index.Restore(SeriesId(41), TenantId(1), "main", "cpu", 0, {{"host", "a"}}).ok());
  ASSERT_TRUE(index.Restore(SeriesId(41), TenantId(1), "main", "cpu", 0, {{"host", "a"}}).ok());
  EXPECT_EQ(index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}}), SeriesId(41));
  EXPECT_EQ(index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}}), SeriesId(42));
  Status s = index.Restore(SeriesId(41), TenantId(1), "main", "cpu", 0, {{"host", "z"}});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
}

TEST(SeriesIndexTest, DropTableForgetsItsSeriesAndNeverReusesTheirIds) {
  SeriesIndex index;
  SeriesId a = index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}});
  SeriesId b = index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}});
  SeriesId other = index.GetOrCreate(TenantId(1), "main", "mem", 0, {{"host", "a"}});
  auto held = index.Find(a);  // a reader's reference stays valid
  EXPECT_EQ(index.DropTable(TenantId(1), "main", "cpu"), (std::vector<SeriesId>{a, b}));
  EXPECT_EQ(held->table(), "cpu");
  EXPECT_EQ(index.Find(a), nullptr);
  EXPECT_TRUE(index.Match(TenantId(1), "main", "cpu", {}).empty());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.CountForTenant(TenantId(1)), 1u);
  EXPECT_NE(index.Find(other), nullptr);
  EXPECT_TRUE(index.DropTable(TenantId(1), "main", "cpu").empty());
  // The next generation gets new ids for the same tags.
  bool created = false;
  SeriesId again = index.GetOrCreate(TenantId(1), "main", "cpu", 1, {{"host", "a"}}, &created);
  EXPECT_TRUE(created);
  EXPECT_GT(again, other);
  EXPECT_EQ(index.Find(again)->generation(), 1u);
  // A floor persisted by the engine keeps a restarted index from reusing dropped ids.
  SeriesIndex restarted;
  restarted.ReserveIds(index.next_id());
  EXPECT_EQ(restarted.GetOrCreate(TenantId(1), "main", "cpu", 1, {{"host", "z"}}).value(),
            index.next_id());
}

TEST(SeriesIndexTest, RestoreRefusesMixedGenerations) {
  SeriesIndex index;
  ASSERT_TRUE(index.Restore(SeriesId(5), TenantId(1), "main", "cpu", 2, {{"host", "a"}}).ok());
  Status s = index.Restore(SeriesId(6), TenantId(1), "main", "cpu", 1, {{"host", "b"}});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  // A newer generation while the older one is still indexed replaces it.
  SeriesId fresh = index.GetOrCreate(TenantId(1), "main", "cpu", 3, {{"host", "a"}});
  EXPECT_NE(fresh, SeriesId(5));
  EXPECT_EQ(index.Find(SeriesId(5)), nullptr);
  EXPECT_EQ(index.size(), 1u);
}

}  // namespace
}  // namespace seaway

namespace seaway {
namespace {

TEST(SeriesIndexTest, SeriesPerTenantLimit) {
  SeriesIndex index;
  for (const char* host : {"a", "b"}) {
    ASSERT_TRUE(index.GetOrCreateWithin(2, TenantId(1), "main", "cpu", 0, {{"host", host}}).ok());
  }
  // Known series still resolve at the limit; new ones are refused, naming tenant and limit.
  auto known = index.GetOrCreateWithin(2, TenantId(1), "main", "cpu", 0, {{"host", "a"}});
  ASSERT_TRUE(known.ok());
  auto refused = index.GetOrCreateWithin(2, TenantId(1), "main", "mem", 0, {{"host", "c"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "tenant 1 has 2 series, the limit (--max-series-per-tenant); series 'mem,host=c' in "
            "database 'main' not created");
  EXPECT_EQ(index.CountForTenant(TenantId(1)), 2u);
  EXPECT_TRUE(index.GetOrCreateWithin(2, TenantId(2), "main", "cpu", 0, {{"host", "c"}}).ok());
}

}  // namespace
}  // namespace seaway
