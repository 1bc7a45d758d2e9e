// Tests for LastValueTable and LastValueCache (src/storage/last_value_*.h): the compact layout
// against a map model, slab bounds under churn, the cache's merge semantics (Observe, Fill,
// Invalidate) against a model of them, and concurrent use.
#include "storage/last_value_cache.h"

#include <atomic>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <variant>

#include <gtest/gtest.h>

namespace seaway {
namespace {

using FieldValue = std::variant<uint64_t, std::string>;
using Fields = std::map<uint16_t, FieldValue>;

// A row as the tests think of it.
struct ModelRow {
  int64_t time = INT64_MIN;
  bool complete = false;
  Fields fields;
  bool operator==(const ModelRow&) const = default;
};

LastValue ToLastValue(const ModelRow& m) {
  LastValue row;
  row.time = m.time;
  row.complete = m.complete;
  for (const auto& [field, value] : m.fields) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      row.strings.push_back(*s);
      row.values.push_back({field, true, row.strings.size() - 1});
    } else {
      row.values.push_back({field, false, std::get<uint64_t>(value)});
    }
  }
  return row;
}

ModelRow ToModel(const LastValue& row) {
  ModelRow m;
  m.time = row.time;
  m.complete = row.complete;
  uint16_t previous = 0;
  for (size_t i = 0; i < row.values.size(); ++i) {
    const auto& v = row.values[i];
    EXPECT_TRUE(i == 0 || v.field > previous) << "values not sorted by field";
    previous = v.field;
    m.fields[v.field] = v.is_string ? FieldValue(row.String(v)) : FieldValue(v.bits);
  }
  return m;
}

ModelRow RandomRow(std::mt19937_64& rng, size_t max_fields, bool strings) {
  ModelRow m;
  m.time = static_cast<int64_t>(rng() % 1000);
  m.complete = rng() % 2;
  const size_t n = rng() % (max_fields + 1);
  const bool dense = rng() % 2;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t field = dense ? static_cast<uint16_t>(i) : static_cast<uint16_t>(rng() % 40);
    if (strings && rng() % 4 == 0) {
      m.fields[field] = std::string(rng() % 40, static_cast<char>('a' + rng() % 26));
    } else {
      m.fields[field] = rng();
    }
  }
  return m;
}

TEST(LastValueTableTest, StoresDenseSparseAndStringRows) {
  LastValueTable table;
  ModelRow dense{10, true, {{0, uint64_t{1}}, {1, uint64_t{2}}, {2, ~uint64_t{0}}}};
  ModelRow sparse{20, false, {{3, uint64_t{7}}, {900, uint64_t{8}}}};
  ModelRow strings{30,
                   false,
                   {{0, uint64_t{5}},
                    {1, std::string("short")},
                    {2, std::string(100, 'x')},
                    {7, std::string()}}};
  ModelRow empty{40, true, {}};
  ASSERT_TRUE(table.Put(1, ToLastValue(dense)));
  ASSERT_TRUE(table.Put(2, ToLastValue(sparse)));
  ASSERT_TRUE(table.Put(3, ToLastValue(strings)));
  ASSERT_TRUE(table.Put(UINT64_MAX, ToLastValue(empty)));
  EXPECT_EQ(table.size(), 4u);
  LastValue out;
  ASSERT_TRUE(table.Get(1, &out));
  EXPECT_EQ(ToModel(out), dense);
  ASSERT_TRUE(table.Get(2, &out));
  EXPECT_EQ(ToModel(out), sparse);
  ASSERT_TRUE(table.Get(3, &out));
  EXPECT_EQ(ToModel(out), strings);
  ASSERT_TRUE(table.Get(UINT64_MAX, &out));
  EXPECT_EQ(ToModel(out), empty);
  EXPECT_EQ(table.Time(2), 20);
  EXPECT_EQ(table.Time(4), INT64_MIN);
  EXPECT_FALSE(table.Get(4, &out));

  // Replacing a string row by a plain one of the same size, and erasing.
  ModelRow replaced{
      31, true, {{0, uint64_t{1}}, {1, uint64_t{2}}, {2, uint64_t{3}}, {8, uint64_t{4}}}};
  ASSERT_TRUE(table.Put(3, ToLastValue(replaced)));
  ASSERT_TRUE(table.Get(3, &out));
  EXPECT_EQ(ToModel(out), replaced);
  EXPECT_TRUE(table.Erase(1));
  EXPECT_FALSE(table.Erase(1));
  EXPECT_FALSE(table.Get(1, &out));
  EXPECT_EQ(table.size(), 3u);
}

TEST(LastValueTableTest, RefusesRowsItCannotStoreAndForgetsTheOldOne) {
  LastValueTable table;
  ASSERT_TRUE(table.Put(1, ToLastValue(ModelRow{1, false, {{0, uint64_t{1}}}})));
  LastValue too_many;
  too_many.time = 2;
  for (uint16_t f = 0; f <= 8192; ++f) too_many.values.push_back({f, false, f});
  EXPECT_FALSE(table.Put(1, too_many));
  LastValue out;
  EXPECT_FALSE(table.Get(1, &out));  // a stale entry must not survive a refused newer row
  LastValue bad_field;
  bad_field.values.push_back({LastValueTable::kMaxField + 1, false, 0});
  EXPECT_FALSE(table.Put(2, bad_field));
  EXPECT_EQ(table.size(), 0u);
}

TEST(LastValueTableTest, MatchesAMapUnderRandomPutsAndErases) {
  std::mt19937_64 rng(7);
  LastValueTable table;
  std::map<uint64_t, ModelRow> model;
  for (int op = 0; op < 60000; ++op) {
    const uint64_t id = rng() % 3000 + 1;
    if (rng() % 5 == 0) {
      EXPECT_EQ(table.Erase(id), model.erase(id) == 1);
    } else {
      ModelRow row = RandomRow(rng, 12, true);
      ASSERT_TRUE(table.Put(id, ToLastValue(row)));
      model[id] = row;
    }
    if (op % 10000 == 9999) {
      ASSERT_EQ(table.size(), model.size());
      for (uint64_t id2 = 1; id2 <= 3000; ++id2) {
        LastValue out;
        auto it = model.find(id2);
        ASSERT_EQ(table.Get(id2, &out), it != model.end()) << id2;
        if (it != model.end()) {
          ASSERT_EQ(ToModel(out), it->second) << id2;
        }
      }
    }
  }
  // Erasing everything gives every byte back.
  for (const auto& [id, row] : model) EXPECT_TRUE(table.Erase(id));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.memory_bytes(), 0u);
}

TEST(LastValueTableTest, SevenFieldRowsTakeAboutOneHundredBytes) {
  LastValueTable table;
  ModelRow row{1, true, {}};
  for (uint16_t f = 0; f < 7; ++f) row.fields[f] = uint64_t{f};
  const LastValue value = ToLastValue(row);
  constexpr uint64_t kSeries = 100000;
  for (uint64_t id = 1; id <= kSeries; ++id) ASSERT_TRUE(table.Put(id, value));
  const double per_series = static_cast<double>(table.memory_bytes()) / kSeries;
  EXPECT_LT(per_series, 128) << "bytes per series";
  EXPECT_GE(per_series, 56 + 24) << "accounting misses something";
}

TEST(LastValueTableTest, SlabStaysBoundedWhenRowsChangeSize) {
  LastValueTable table;
  constexpr uint64_t kSeries = 20000;
  auto row_of = [](size_t fields, bool sparse) {
    ModelRow row{1, false, {}};
    for (size_t f = 0; f < fields; ++f) {
      row.fields[static_cast<uint16_t>(sparse ? 2 * f + 1 : f)] = uint64_t{f};
    }
    return ToLastValue(row);
  };
  for (uint64_t id = 1; id <= kSeries; ++id) ASSERT_TRUE(table.Put(id, row_of(9, false)));
  const size_t full = table.memory_bytes();
  // Every round changes every row's size, leaving its old block free.
  for (int round = 0; round < 40; ++round) {
    for (uint64_t id = 1; id <= kSeries; ++id) {
      ASSERT_TRUE(table.Put(id, row_of(1 + (id + static_cast<uint64_t>(round)) % 12, round % 2)));
    }
    EXPECT_LT(table.memory_bytes(), 3 * full) << "round " << round;
  }
  // Shrinking to a few entries gives most of the memory back.
  for (uint64_t id = 101; id <= kSeries; ++id) ASSERT_TRUE(table.Erase(id));
  EXPECT_LT(table.memory_bytes(), full / 20);
  LastValue out;
  for (uint64_t id = 1; id <= 100; ++id) {
    ASSERT_TRUE(table.Get(id, &out));
    EXPECT_EQ(out.values.size(), 1 + (id + 39) % 12);
  }
}

// --- LastValueCache ---

constexpr TenantId kTenant(1);

class LastValueCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = catalog_.Extend(
        kTenant, "main", "machine", {"host"},
        {{"a", FieldType::kDouble}, {"b", FieldType::kInt64}, {"s", FieldType::kString}});
    ASSERT_TRUE(schema.ok());
    schema_ = *schema;
  }

  // A one-series record with rows (time, a, b, s); nullopt = the row lacks the field.
  struct Row {
    int64_t time;
    std::optional<uint64_t> a, b;
    std::optional<std::string> s;
  };
  WriteRecord Record(SeriesId id, const std::vector<Row>& rows) {
    strings_.emplace_back();
    auto& kept = strings_.back();
    WriteRecord record;
    record.tenant = kTenant;
    record.database = "main";
    record.table = "machine";
    record.field_names = {"b", "s", "a"};  // not in schema order
    record.field_types = {FieldType::kInt64, FieldType::kString, FieldType::kDouble};
    WriteRecord::Series series;
    series.id = id;
    series.columns.resize(3);
    for (size_t c = 0; c < 3; ++c) series.columns[c].type = record.field_types[c];
    for (const Row& r : rows) {
      series.times.push_back(r.time);
      auto put = [](WriteRecord::Column& col, bool present, uint64_t bits, std::string_view s) {
        col.present.push_back(present);
        col.bits.push_back(bits);
        col.strings.push_back(s);
      };
      put(series.columns[0], r.b.has_value(), r.b.value_or(0), {});
      kept.push_back(r.s.value_or(""));
      put(series.columns[1], r.s.has_value(), 0, {});
      put(series.columns[2], r.a.has_value(), r.a.value_or(0), {});
    }
    // Views into `kept`, taken once it no longer moves.
    for (size_t r = 0; r < rows.size(); ++r) {
      series.columns[1].strings[r] = kept[kept.size() - rows.size() + r];
    }
    record.series.push_back(std::move(series));
    return record;
  }

  // A one-row block over every schema field, as Engine::Latest hands to Fill.
  SeriesRowsBlock FillRow(SeriesId id, const Row& r) {
    SeriesRowsBlock block;
    block.series = id;
    block.times = {r.time};
    block.columns.resize(3);
    block.columns[0] = {FieldType::kDouble, {r.a.has_value()}, {r.a.value_or(0)}, {}};
    block.columns[1] = {FieldType::kInt64, {r.b.has_value()}, {r.b.value_or(0)}, {}};
    block.columns[2] = {FieldType::kString, {r.s.has_value()}, {0}, {r.s.value_or("")}};
    return block;
  }

  // The entry as a model row (fields by schema index: a 0, b 1, s 2), or nullopt.
  std::optional<ModelRow> Entry(const LastValueCache& cache, SeriesId id) {
    auto entry = cache.Get(id);
    if (!entry) return std::nullopt;
    return ToModel(*entry);
  }

  Catalog catalog_;
  std::shared_ptr<const TableSchema> schema_;
  std::deque<std::vector<std::string>> strings_;
};

TEST_F(LastValueCacheTest, ObserveKeepsTheNewestRowAndMergesEqualTimes) {
  LastValueCache cache(&catalog_);
  const SeriesId id(5);
  cache.Observe(
      Record(id, {{10, 1, 2, "x"}, {30, 3, std::nullopt, std::nullopt}, {20, 9, 9, "y"}}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{30, false, {{0, uint64_t{3}}}}));
  // Same time: the fields it has replace, the others stay.
  cache.Observe(Record(id, {{30, std::nullopt, 4, "z"}}));
  EXPECT_EQ(Entry(cache, id),
            (ModelRow{30, false, {{0, uint64_t{3}}, {1, uint64_t{4}}, {2, std::string("z")}}}));
  // Older: ignored.
  cache.Observe(Record(id, {{29, 100, 100, "old"}}));
  EXPECT_EQ(Entry(cache, id)->time, 30);
  // Two rows at the newest time in one record: the later one wins.
  cache.Observe(Record(id, {{40, 1, std::nullopt, "first"}, {40, 2, std::nullopt, std::nullopt}}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{40, false, {{0, uint64_t{2}}, {2, std::string("first")}}}));
  // Newer: replaces every field.
  cache.Observe(Record(id, {{50, std::nullopt, 7, std::nullopt}}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{50, false, {{1, uint64_t{7}}}}));
  EXPECT_EQ(cache.size(), 1u);
  cache.Invalidate(id);
  EXPECT_EQ(Entry(cache, id), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(LastValueCacheTest, FillIsCompleteAndNeverHidesNewerWrites) {
  LastValueCache cache(&catalog_);
  const SeriesId id(9);
  cache.Fill(id, *schema_, schema_->fields, FillRow(id, {100, 1, 2, "filled"}));
  EXPECT_EQ(
      Entry(cache, id),
      (ModelRow{100, true, {{0, uint64_t{1}}, {1, uint64_t{2}}, {2, std::string("filled")}}}));
  // A write at the same time merges and keeps the entry complete.
  cache.Observe(Record(id, {{100, 5, std::nullopt, std::nullopt}}));
  EXPECT_EQ(
      Entry(cache, id),
      (ModelRow{100, true, {{0, uint64_t{5}}, {1, uint64_t{2}}, {2, std::string("filled")}}}));
  // A newer write replaces it and is not complete (segments were not read for it).
  cache.Observe(Record(id, {{200, 6, std::nullopt, std::nullopt}}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{200, false, {{0, uint64_t{6}}}}));
  // A fill from an older snapshot leaves the newer entry alone.
  cache.Fill(id, *schema_, schema_->fields, FillRow(id, {150, 1, 1, "stale"}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{200, false, {{0, uint64_t{6}}}}));
  // A fill of the same time: the entry's fields (written after the read) win; complete.
  cache.Fill(id, *schema_, schema_->fields, FillRow(id, {200, 1, 1, std::nullopt}));
  EXPECT_EQ(Entry(cache, id), (ModelRow{200, true, {{0, uint64_t{6}}, {1, uint64_t{1}}}}));
  // Only one row fills.
  SeriesRowsBlock two = FillRow(id, {300, 1, 1, "x"});
  two.times.push_back(301);
  cache.Fill(id, *schema_, schema_->fields, two);
  EXPECT_EQ(Entry(cache, id)->time, 200);
}

// The cache's rules, written as plainly as possible.
class CacheModel {
 public:
  void Observe(uint64_t id, const std::vector<std::pair<int64_t, Fields>>& rows) {
    int64_t newest = INT64_MIN;
    for (const auto& [t, f] : rows) newest = std::max(newest, t);
    ModelRow row{newest, false, {}};
    for (const auto& [t, f] : rows) {
      if (t != newest) continue;
      for (const auto& [k, v] : f) row.fields[k] = v;
    }
    Merge(id, row, /*row_wins=*/true);
  }
  void Fill(uint64_t id, const ModelRow& row) {
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.time > row.time) return;
    Merge(id, row, /*row_wins=*/false);
  }
  void Invalidate(uint64_t id) { entries_.erase(id); }
  const std::map<uint64_t, ModelRow>& entries() const { return entries_; }

 private:
  void Merge(uint64_t id, const ModelRow& row, bool row_wins) {
    auto [it, added] = entries_.try_emplace(id, row);
    ModelRow& e = it->second;
    if (added || row.time > e.time) {
      e = row;
      return;
    }
    if (row.time < e.time) return;
    for (const auto& [k, v] : row.fields) {
      if (row_wins || !e.fields.contains(k)) e.fields[k] = v;
    }
    e.complete = e.complete || row.complete;
  }
  std::map<uint64_t, ModelRow> entries_;
};

TEST_F(LastValueCacheTest, MatchesTheModelUnderRandomOperations) {
  std::mt19937_64 rng(11);
  LastValueCache cache(&catalog_);
  CacheModel model;
  auto random_row = [&](int64_t time) {
    Row r{time, std::nullopt, std::nullopt, std::nullopt};
    if (rng() % 3) r.a = rng();
    if (rng() % 3) r.b = rng();
    if (rng() % 4 == 0) r.s = std::string(rng() % 30, 'q');
    return r;
  };
  auto fields_of = [](const Row& r) {
    Fields f;
    if (r.a) f[0] = *r.a;
    if (r.b) f[1] = *r.b;
    if (r.s) f[2] = *r.s;
    return f;
  };
  for (int op = 0; op < 20000; ++op) {
    const uint64_t id = rng() % 200 + 1;
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 6) {
      std::vector<Row> rows;
      std::vector<std::pair<int64_t, Fields>> model_rows;
      const size_t n = rng() % 3 + 1;
      for (size_t i = 0; i < n; ++i) {
        rows.push_back(random_row(static_cast<int64_t>(rng() % 50)));
        model_rows.emplace_back(rows.back().time, fields_of(rows.back()));
      }
      cache.Observe(Record(SeriesId(id), rows));
      model.Observe(id, model_rows);
    } else if (kind < 9) {
      Row r = random_row(static_cast<int64_t>(rng() % 50));
      cache.Fill(SeriesId(id), *schema_, schema_->fields, FillRow(SeriesId(id), r));
      model.Fill(id, ModelRow{r.time, true, fields_of(r)});
    } else {
      cache.Invalidate(SeriesId(id));
      model.Invalidate(id);
    }
    if (op % 1000 == 999) strings_.clear();  // the cache must not keep views into records
  }
  ASSERT_EQ(cache.size(), model.entries().size());
  for (const auto& [id, row] : model.entries()) {
    EXPECT_EQ(Entry(cache, SeriesId(id)), row) << "series " << id;
  }
}

TEST_F(LastValueCacheTest, ConcurrentWritersReadersAndFillsKeepTheNewestRow) {
  LastValueCache cache(&catalog_);
  constexpr int kWriters = 3;
  constexpr uint64_t kSeriesPerWriter = 300;
  constexpr int64_t kRounds = 60;
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Each writer owns its series and its strings (one record at a time).
      std::vector<std::string> text(1);
      for (int64_t t = 1; t <= kRounds; ++t) {
        for (uint64_t i = 0; i < kSeriesPerWriter; ++i) {
          const SeriesId id(w * kSeriesPerWriter + i + 1);
          WriteRecord record;
          record.tenant = kTenant;
          record.database = "main";
          record.table = "machine";
          record.field_names = {"a", "s"};
          record.field_types = {FieldType::kDouble, FieldType::kString};
          text[0] = "v" + std::to_string(t);
          WriteRecord::Series s;
          s.id = id;
          s.times = {t * 10};
          s.columns = {{FieldType::kDouble, {1}, {static_cast<uint64_t>(t)}, {{}}},
                       {FieldType::kString, {1}, {0}, {text[0]}}};
          record.series.push_back(std::move(s));
          cache.Observe(record);
        }
      }
    });
  }
  // A reader that checks what it reads is one row, and fills from "snapshots" both stale (which
  // must change nothing) and current (whose extra field joins the entry, making it complete).
  threads.emplace_back([&] {
    std::mt19937_64 rng(3);
    while (!done) {
      const SeriesId id(rng() % (kWriters * kSeriesPerWriter) + 1);
      auto e = cache.Get(id);
      if (!e) continue;
      ModelRow row = ToModel(*e);
      const int64_t t = row.time / 10;
      ASSERT_EQ(row.fields[0], FieldValue(static_cast<uint64_t>(t)));
      ASSERT_EQ(row.fields[2], FieldValue("v" + std::to_string(t)));
      ASSERT_EQ(row.fields.size(), row.complete ? 3u : 2u);
      const int64_t fill_time = rng() % 2 ? t : t - 1;
      cache.Fill(id, *schema_, schema_->fields,
                 FillRow(id, {fill_time * 10, std::nullopt, 99, std::nullopt}));
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  threads.back().join();
  ASSERT_EQ(cache.size(), kWriters * kSeriesPerWriter);
  const ModelRow last{
      kRounds * 10, false, {{0, uint64_t{kRounds}}, {2, "v" + std::to_string(kRounds)}}};
  ModelRow filled = last;
  filled.complete = true;
  filled.fields[1] = uint64_t{99};
  for (uint64_t id = 1; id <= kWriters * kSeriesPerWriter; ++id) {
    auto entry = Entry(cache, SeriesId(id));
    ASSERT_TRUE(entry.has_value());
    EXPECT_TRUE(*entry == last || *entry == filled) << "series " << id;
  }
}

}  // namespace
}  // namespace seaway
