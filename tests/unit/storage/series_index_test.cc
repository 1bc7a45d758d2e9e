// Tests for SeriesIndex (src/storage/series_index.h).
#include "storage/series_index.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

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

TEST(SeriesIndexTest, AMatchKeepsItsSeriesThroughADropAndARecreation) {
  SeriesIndex index;
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}, {"dc", "x"}});
  SeriesMatch all = index.Match(TenantId(1), "main", "cpu", {});
  SeriesMatch one = index.Match(TenantId(1), "main", "cpu", {{"host", "b"}});
  ASSERT_EQ(all.size(), 2u);
  ASSERT_EQ(one.size(), 1u);
  index.DropTable(TenantId(1), "main", "cpu");
  // A new incarnation, with series of the same tags, while the old match is held.
  index.GetOrCreate(TenantId(1), "main", "cpu", 1, {{"host", "a"}, {"dc", "y"}});
  std::set<std::string> hosts;
  for (const SeriesInfo* info : all) {
    EXPECT_EQ(info->table(), "cpu");
    EXPECT_EQ(info->generation(), 0u);
    EXPECT_EQ(info->Tag("dc"), "x");  // under ASan: read from memory still owned
    hosts.insert(std::string(info->Tag("host")));
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(one[0]->Tag("host"), "b");
  SeriesMatch fresh = index.Match(TenantId(1), "main", "cpu", {});
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0]->generation(), 1u);
  EXPECT_EQ(fresh[0]->Tag("dc"), "y");
  fresh.EraseIf([](const SeriesInfo& info) { return info.Tag("dc") == "y"; });
  EXPECT_TRUE(fresh.empty());
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

// The inverted index against the plain definition: random tables of series (some restored
// under out-of-order ids, some in other tenants and tables with the same tag values), random
// equalities and IN lists (values present and absent, "" for an absent tag), and every answer
// compared with a check of every series.
TEST(SeriesIndexTest, MatchFromTheInvertedIndexEqualsCheckingEverySeries) {
  std::mt19937 rng(7);
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % n); };
  const auto value = [&](const char* prefix, int n) {
    return std::string(prefix) + std::to_string(pick(n));
  };
  SeriesIndex index;
  std::map<uint64_t, TagSet> cpu;  // id -> tags of tenant 1's main.cpu
  uint64_t restored = 900000;
  for (int i = 0; i < 3000; ++i) {
    TagSet tags{{"site", value("s", 4)}, {"line", value("l", 30)}, {"host", value("h", 2500)}};
    if (pick(3) == 0) tags.emplace_back("zone", value("z", 3));  // absent from two thirds
    if (pick(2) == 0) tags.erase(tags.begin() + 1);              // so is line, from half
    std::sort(tags.begin(), tags.end());
    const int where = pick(10);
    if (where == 0) {
      index.GetOrCreate(TenantId(2), "main", "cpu", 0, tags);
    } else if (where == 1) {
      index.GetOrCreate(TenantId(1), "main", "mem", 0, tags);
    } else if (where == 2) {
      // Restored ids arrive in no particular order (the WAL and segments of several shards).
      const uint64_t id = restored - static_cast<uint64_t>(i);
      if (index.Restore(SeriesId(id), TenantId(1), "main", "cpu", 0, tags).ok()) cpu[id] = tags;
    } else {
      bool created = false;
      SeriesId id = index.GetOrCreate(TenantId(1), "main", "cpu", 0, tags, &created);
      if (created) cpu[id.value()] = tags;
    }
  }
  const auto tag = [](const TagSet& tags, const std::string& key) -> std::string {
    for (const auto& [k, v] : tags) {
      if (k == key) return v;
    }
    return "";
  };
  const char* keys[] = {"site", "line", "host", "zone", "nokey"};
  const auto some_value = [&](const std::string& key) {
    switch (pick(8)) {
      case 0: return std::string();          // the tag is absent
      case 1: return std::string("absent");  // no series has it
      default:
        return value(key == "site"   ? "s"
                     : key == "line" ? "l"
                     : key == "zone" ? "z"
                                     : "h",
                     key == "site"   ? 4
                     : key == "line" ? 30
                     : key == "zone" ? 3
                                     : 2500);
    }
  };
  int nonempty = 0;
  for (int q = 0; q < 2000; ++q) {
    TagSet equals;
    TagIn in;
    std::set<std::string> used;
    for (int n = pick(3); n > 0; --n) {
      const std::string key = keys[pick(5)];
      if (!used.insert(key).second) continue;
      equals.emplace_back(key, some_value(key));
    }
    std::sort(equals.begin(), equals.end());
    for (int n = pick(3); n > 0; --n) {
      const std::string key = keys[pick(5)];
      std::vector<std::string> values;
      for (int m = pick(5); m > 0; --m) values.push_back(some_value(key));
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      in.emplace_back(key, std::move(values));
    }
    std::vector<uint64_t> expected;
    for (const auto& [id, tags] : cpu) {
      bool ok = true;
      for (const auto& [k, v] : equals) ok = ok && tag(tags, k) == v;
      for (const auto& [k, values] : in) {
        ok = ok && std::binary_search(values.begin(), values.end(), tag(tags, k));
      }
      if (ok) expected.push_back(id);
    }
    std::vector<uint64_t> got;
    for (const auto& info : index.Match(TenantId(1), "main", "cpu", equals, in)) {
      ASSERT_EQ(info->tenant(), TenantId(1));
      ASSERT_EQ(info->table(), "cpu");
      got.push_back(info->id.value());
    }
    std::vector<uint64_t> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "query " << q;
    ASSERT_EQ(sorted, expected) << "query " << q;
    nonempty += expected.empty() ? 0 : 1;
  }
  EXPECT_GT(nonempty, 400);  // the random conditions are not all unsatisfiable
}

TEST(SeriesIndexTest, MatchForgetsTheSeriesOfADroppedOrReplacedTable) {
  SeriesIndex index;
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}, {"dc", "x"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}, {"dc", "x"}});
  index.DropTable(TenantId(1), "main", "cpu");
  EXPECT_TRUE(index.Match(TenantId(1), "main", "cpu", {{"dc", "x"}}).empty());
  SeriesId c = index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "c"}, {"dc", "x"}});
  // A newer generation of the table replaces the older one's series.
  SeriesId d = index.GetOrCreate(TenantId(1), "main", "cpu", 1, {{"host", "d"}, {"dc", "x"}});
  auto found = index.Match(TenantId(1), "main", "cpu", {{"dc", "x"}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->id, d);
  EXPECT_NE(c, d);
  EXPECT_TRUE(index.Match(TenantId(1), "main", "cpu", {}, {{"host", {"a", "b", "c"}}}).empty());
  EXPECT_EQ(index.Match(TenantId(1), "main", "cpu", {}, {{"host", {"c", "d"}}}).size(), 1u);
}

TEST(SeriesIndexTest, MatchReturnsEachSeriesOnceWhenAnInListRepeatsAValue) {
  SeriesIndex index;
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "a"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "b"}});
  index.GetOrCreate(TenantId(1), "main", "cpu", 0, {{"host", "c"}});
  auto found = index.Match(TenantId(1), "main", "cpu", {}, {{"host", {"a", "a", "b", "b"}}});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[0]->id, found[1]->id);
}

}  // namespace
}  // namespace seaway
