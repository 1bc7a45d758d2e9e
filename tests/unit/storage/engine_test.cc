// Tests for Engine (src/storage/engine.h): writes, scans, replacement, late data, schema errors,
// restart, crashes, fsync failure, disk full, back-pressure, and a random model test.
#include "storage/engine.h"

#include <bit>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/fault_injection_env.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

constexpr TenantId kTenant(1);

struct Row {
  std::string host;
  int64_t time;
  std::optional<double> temp;
  std::optional<int64_t> count;
};

WriteBatch Batch(const std::vector<Row>& rows, std::string table = "machine") {
  WriteBatch b(kTenant, "main", std::move(table));
  for (const auto& r : rows) {
    b.AddRow(r.time);
    EXPECT_TRUE(b.SetTag("host", r.host).ok());
    if (r.temp) {
      EXPECT_TRUE(b.SetDouble("temp", *r.temp).ok());
    }
    if (r.count) {
      EXPECT_TRUE(b.SetInt64("count", *r.count).ok());
    }
  }
  return b;
}

// The hosts of the series Engine::Latest gives for `request`, sorted.
std::vector<std::string> LatestHosts(const Engine& engine, const ScanRequest& request) {
  std::vector<std::string> hosts;
  EXPECT_TRUE(engine
                  .Latest(request,
                          [&](const SeriesBlock& b) {
                            hosts.emplace_back(b.series->Tag("host"));
                            return Status::OK();
                          })
                  .ok());
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

// host -> time -> (temp, count), as read back through Scan.
using Snapshot =
    std::map<std::string,
             std::map<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>;

Snapshot ReadAll(const Engine& engine, ScanRequest request = {}) {
  request.tenant = kTenant;
  request.table = "machine";
  Snapshot out;
  Status s = engine.Scan(request, [&](const SeriesBlock& b) {
    int temp = -1, count = -1;
    for (size_t i = 0; i < b.fields.size(); ++i) {
      if (b.fields[i].name == "temp") temp = static_cast<int>(i);
      if (b.fields[i].name == "count") count = static_cast<int>(i);
    }
    for (size_t r = 0; r < b.rows.times.size(); ++r) {
      EXPECT_TRUE(r == 0 || b.rows.times[r - 1] < b.rows.times[r]) << "not in time order";
      auto& cell = out[std::string(b.series->Tag("host"))][b.rows.times[r]];
      if (temp >= 0 && b.rows.columns[temp].present[r]) {
        cell.first = std::bit_cast<double>(b.rows.columns[temp].bits[r]);
      }
      if (count >= 0 && b.rows.columns[count].present[r]) {
        cell.second = static_cast<int64_t>(b.rows.columns[count].bits[r]);
      }
    }
    return Status::OK();
  });
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s;
  return out;
}

// host -> newest row (time, temp, count), as Latest answers.
std::map<std::string, std::pair<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>
LatestAll(const Engine& engine) {
  std::map<std::string,
           std::pair<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>
      out;
  ScanRequest request{kTenant, "main", "machine"};
  Status s = engine.Latest(request, [&](const SeriesBlock& b) {
    EXPECT_EQ(b.rows.times.size(), 1u);
    std::pair<std::optional<double>, std::optional<int64_t>> cell;
    for (size_t i = 0; i < b.fields.size(); ++i) {
      if (!b.rows.columns[i].present[0]) continue;
      if (b.fields[i].name == "temp") cell.first = std::bit_cast<double>(b.rows.columns[i].bits[0]);
      if (b.fields[i].name == "count") {
        cell.second = static_cast<int64_t>(b.rows.columns[i].bits[0]);
      }
    }
    out[std::string(b.series->Tag("host"))] = {b.rows.times[0], cell};
    return Status::OK();
  });
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s;
  return out;
}

// The newest row of each host in a Snapshot.
std::map<std::string, std::pair<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>
NewestOf(const Snapshot& snapshot) {
  std::map<std::string,
           std::pair<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>
      out;
  for (const auto& [host, rows] : snapshot) {
    if (!rows.empty()) out[host] = {rows.rbegin()->first, rows.rbegin()->second};
  }
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mem_.SyncDir(".").ok()); }
  void Open(Env* env = nullptr, EngineOptions options = {}) {
    engine_.reset();
    auto e = Engine::Open(env ? env : &mem_, "db", options, &metrics_);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  // Writes a NaN temperature for `host` at `time`, then flushes (line protocol cannot carry
  // NaN).
  void WriteNaN(const std::string& host, int64_t time) {
    WriteBatch nan(kTenant, "main", "machine");
    nan.AddRow(time);
    ASSERT_TRUE(nan.SetTag("host", host).ok());
    ASSERT_TRUE(nan.SetDouble("temp", std::nan("")).ok());
    ASSERT_TRUE(engine_->Write(nan).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  MemoryEnv mem_;
  MetricsRegistry metrics_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, WriteThenScan) {
  Open();
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 10, 1.5, 7}, {"b", 10, 2.5, {}}, {"a", 20, 3.5, 8}})).ok());
  Snapshot s = ReadAll(*engine_);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s["a"][10].first, 1.5);
  EXPECT_EQ(s["a"][10].second, 7);
  EXPECT_EQ(s["a"][20].first, 3.5);
  EXPECT_EQ(s["b"][10].first, 2.5);
  EXPECT_FALSE(s["b"][10].second.has_value());
  EXPECT_EQ(engine_->series().size(), 2u);
}

TEST_F(EngineTest, EachWalSyncIsCountedAndTimed) {
  EngineOptions options;
  options.shards = 1;
  Open(nullptr, options);  // WAL sync always: every acknowledged write waited for one
  const MetricLabels shard{{"shard", "0"}};
  Counter* syncs = metrics_.GetCounter("seaway_wal_syncs_total", "", shard);
  Histogram* seconds = metrics_.GetHistogram("seaway_wal_sync_seconds", "", {}, shard);
  const uint64_t syncs_before = syncs->value();
  const uint64_t timed_before = seconds->count();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.5, 7}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 20, 2.5, 8}})).ok());
  EXPECT_GE(syncs->value(), syncs_before + 2);
  EXPECT_EQ(seconds->count() - timed_before, syncs->value() - syncs_before);
  EXPECT_GE(seconds->sum(), 0.0);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("seaway_wal_sync_seconds_bucket{shard=\"0\",le=\"0.001\"}"),
            std::string::npos);
}

TEST_F(EngineTest, AMemtableLeftAloneIsFlushed) {
  EngineOptions options;
  options.shards = 1;
  options.shard.idle_flush_after = Duration::Millis(50);
  options.shard.idle_flush_bytes = 1;
  Open(nullptr, options);
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.5, 7}, {"b", 10, 2.5, {}}})).ok());
  auto flushed = [&] {
    const std::shared_ptr<const EngineSnapshot> snap = engine_->Snapshot();
    return snap->shards[0].segments.size() == 1 && snap->shards[0].memtables.empty();
  };
  for (int i = 0; i < 500 && !flushed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(flushed());
  EXPECT_EQ(ReadAll(*engine_)["a"][10].first, 1.5);
  // Writes that stop again: flushed, and the settled partition compacted at once, without
  // waiting for the periodic maintenance.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 5, 0.5, 1}, {"b", 20, 4.5, {}}})).ok());
  Counter* idle = metrics_.GetCounter("seaway_storage_idle_flushes_total", "", {{"shard", "0"}});
  for (int i = 0; i < 500 && !(idle->value() == 2 && flushed()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(idle->value(), 2u);
  EXPECT_TRUE(flushed());  // one segment
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 2u);

  // Below the size that is worth a segment, rows stay in memory.
  options.shard.idle_flush_bytes = 1u << 20;
  MemoryEnv other;
  ASSERT_TRUE(other.SyncDir(".").ok());
  Open(&other, options);
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.5, 7}})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::shared_ptr<const EngineSnapshot> snap = engine_->Snapshot();
  EXPECT_TRUE(snap->shards[0].segments.empty());
  EXPECT_EQ(snap->shards[0].memtables.size(), 1u);
  engine_.reset();  // before `other`
}

TEST_F(EngineTest, SameSeriesAndTimeReplacesTheFieldsGiven) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, 1}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 2.0, {}}})).ok());  // only temp given
  Snapshot s = ReadAll(*engine_);
  ASSERT_EQ(s["a"].size(), 1u);
  EXPECT_EQ(s["a"][10].first, 2.0);
  EXPECT_EQ(s["a"][10].second, 1);                                // kept
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 2.0, {}}})).ok());  // retry: idempotent
  EXPECT_EQ(ReadAll(*engine_), s);
}

// A row of a partition reaching past the int64 range is refused with the range, never
// accepted and lost at the flush; the first and last storable times round-trip.
TEST_F(EngineTest, TimesOutsideTheStorablePartitionsAreRefused) {
  Open();
  const int64_t day = 86'400'000'000'000;
  const int64_t first = (std::numeric_limits<int64_t>::min() / day) * day;     // 1677-09-22
  const int64_t last = (std::numeric_limits<int64_t>::max() / day) * day - 1;  // 2262-04-10
  for (int64_t t : {first - 1, std::numeric_limits<int64_t>::min(), last + 1,
                    std::numeric_limits<int64_t>::max()}) {
    Status s = engine_->Write(Batch({{"a", 10, 1.0, {}}, {"a", t, 2.0, {}}}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << t;
    EXPECT_NE(s.message().find("row 2: time"), std::string::npos) << s;
    EXPECT_NE(s.message().find("outside the storable range"), std::string::npos) << s;
  }
  EXPECT_TRUE(ReadAll(*engine_).empty());  // nothing of a refused batch stored
  ASSERT_TRUE(engine_->Write(Batch({{"a", first, 1.0, {}}, {"a", last, 2.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  Open();
  Snapshot s = ReadAll(*engine_);
  ASSERT_EQ(s["a"].size(), 2u);
  EXPECT_EQ(s["a"][first].first, 1.0);
  EXPECT_EQ(s["a"][last].first, 2.0);
}

TEST_F(EngineTest, LateAndOutOfOrderRowsReadInTimeOrder) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 300, 3.0, {}}, {"a", 100, 1.0, {}}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 200, 2.0, {}}, {"a", 50, 0.5, {}}})).ok());
  Snapshot s = ReadAll(*engine_);
  std::vector<int64_t> times;
  for (const auto& [t, v] : s["a"]) times.push_back(t);
  EXPECT_EQ(times, (std::vector<int64_t>{50, 100, 200, 300}));
}

TEST_F(EngineTest, TimeRangeAndTagPredicate) {
  Open();
  ASSERT_TRUE(
      engine_
          ->Write(Batch(
              {{"a", 10, 1.0, {}}, {"a", 20, 2.0, {}}, {"b", 20, 3.0, {}}, {"a", 30, 4.0, {}}}))
          .ok());
  ScanRequest r;
  r.min_time = 15;
  r.max_time = 25;
  Snapshot s = ReadAll(*engine_, r);
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s["a"].size(), 1u);
  r.tag_equals = {{"host", "b"}};
  s = ReadAll(*engine_, r);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s["b"][20].first, 3.0);
}

// Every row reaches exactly one of the two callbacks; flushed chunks nobody overlaps come as
// statistics, and a newer overlapping row, a delete or a NaN sends a chunk back to rows.
TEST_F(EngineTest, ScanSummarizedSplitsStatisticsAndRows) {
  Open();
  ASSERT_TRUE(engine_
                  ->Write(Batch({{"a", 10, 1.0, {}},
                                 {"a", 20, 2.0, {}},
                                 {"a", 30, 4.0, {}},
                                 {"b", 10, 8.0, {}},
                                 {"c", 10, 0.0, {}}}))
                  .ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_NO_FATAL_FAILURE(WriteNaN("c", 20));  // in a chunk of its own
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  struct Seen {
    uint64_t summary_rows = 0, rows = 0;
    double sum = 0;
  };
  auto run = [&](const ScanRequest& req) {
    std::map<std::string, Seen> seen;
    EXPECT_TRUE(engine_
                    ->ScanSummarized(
                        req,
                        [&](const SeriesBlock& b) {
                          Seen& s = seen[std::string(b.series->Tag("host"))];
                          s.rows += b.rows.times.size();
                          for (size_t i = 0; i < b.rows.times.size(); ++i) {
                            if (b.rows.columns[0].present[i]) {
                              s.sum += std::bit_cast<double>(b.rows.columns[0].bits[i]);
                            }
                          }
                          return Status::OK();
                        },
                        [&](const SeriesSummary& sum) {
                          Seen& s = seen[std::string(sum.series->Tag("host"))];
                          s.summary_rows += sum.rows;
                          EXPECT_EQ(sum.fields[0].name, "temp");
                          s.sum += sum.stats[0].sum;
                          return Status::OK();
                        })
                    .ok());
    return seen;
  };
  r.fields = {"temp"};
  auto seen = run(r);
  EXPECT_EQ(seen["a"].summary_rows, 3u);
  EXPECT_EQ(seen["a"].rows, 0u);
  EXPECT_EQ(seen["a"].sum, 7.0);
  EXPECT_EQ(seen["b"].summary_rows, 1u);
  // c: the chunk with 0.0 by statistics, the NaN chunk as rows.
  EXPECT_EQ(seen["c"].summary_rows, 1u);
  EXPECT_EQ(seen["c"].rows, 1u);

  // A time range cutting a's chunk: every row of a as rows, only those in range.
  ScanRequest cut = r;
  cut.min_time = 15;
  seen = run(cut);
  EXPECT_EQ(seen["a"].summary_rows, 0u);
  EXPECT_EQ(seen["a"].rows, 2u);
  EXPECT_EQ(seen["a"].sum, 6.0);

  // A newer row overlapping a's flushed chunk: rows, with the newer value.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 20, 100.0, {}}})).ok());
  seen = run(r);
  EXPECT_EQ(seen["a"].summary_rows, 0u);
  EXPECT_EQ(seen["a"].rows, 3u);
  EXPECT_EQ(seen["a"].sum, 105.0);
  EXPECT_EQ(seen["b"].summary_rows, 1u);

  // A delete of b's row: b's chunk is read as rows, and the deleted row is gone.
  ScanRequest del;
  del.tenant = kTenant;
  del.table = "machine";
  del.tag_equals = {{"host", "b"}};
  ASSERT_TRUE(engine_->Delete(del).ok());
  seen = run(r);
  EXPECT_EQ(seen["b"].summary_rows, 0u);
  EXPECT_EQ(seen["b"].rows, 0u);
}

// A series of three chunks (three hours of 70 rows: a chunk ends where an hour begins once it has
// kMinRowsBeforeHourCut rows) in one segment with a NaN in the middle one: the first
// and last come as statistics, the middle one as rows (the gap between them is read), and
// nothing else comes as rows.
TEST_F(EngineTest, ScanSummarizedReadsTheChunkBetweenTwoSummarisedOnes) {
  Open();
  constexpr int64_t kHour = 3600'000'000'000;
  std::vector<Row> rows;
  for (int64_t h = 0; h < 3; ++h) {
    for (int64_t k = 0; k < 70; ++k) rows.push_back({"a", h * kHour + k, 1.0 + h, {}});
  }
  ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
  ASSERT_NO_FATAL_FAILURE(WriteNaN("a", kHour + 500));
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  r.fields = {"temp"};
  std::vector<int64_t> row_times;
  std::vector<std::pair<int64_t, uint64_t>> summaries;  // (min_time, rows)
  ASSERT_TRUE(engine_
                  ->ScanSummarized(
                      r,
                      [&](const SeriesBlock& b) {
                        row_times.insert(row_times.end(), b.rows.times.begin(), b.rows.times.end());
                        return Status::OK();
                      },
                      [&](const SeriesSummary& s) {
                        summaries.emplace_back(s.min_time, s.rows);
                        return Status::OK();
                      })
                  .ok());
  std::vector<int64_t> middle;
  for (int64_t k = 0; k < 70; ++k) middle.push_back(kHour + k);
  middle.push_back(kHour + 500);
  EXPECT_EQ(row_times, middle);
  uint64_t summarised = 0;
  for (const auto& [min_time, n] : summaries) summarised += n;
  EXPECT_EQ(summarised, 140u);
}

// With same_bucket, a chunk spanning two buckets comes as rows, and a summary holds the chunks of
// one bucket only (several, from several segments, when they share it).
TEST_F(EngineTest, ScanSummarizedCutsSummariesPerBucket) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}, {"a", 20, 2.0, {}}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"b", 15, 4.0, {}}, {"b", 35, 8.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 30, 16.0, {}}, {"a", 40, 32.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 45, 64.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  r.fields = {"temp"};
  int calls = 0;
  r.same_bucket = [&calls](int64_t lo, int64_t hi) {  // buckets [0, 25), [25, 50)
    ++calls;
    return lo / 25 == hi / 25;
  };
  using Summary = std::tuple<std::string, int64_t, int64_t, uint64_t, double, double, double>;
  std::vector<Summary> summaries;
  std::map<std::string, std::vector<int64_t>> rows;
  auto run = [&] {
    summaries.clear();
    rows.clear();
    ASSERT_TRUE(engine_
                    ->ScanSummarized(
                        r,
                        [&](const SeriesBlock& b) {
                          auto& times = rows[std::string(b.series->Tag("host"))];
                          times.insert(times.end(), b.rows.times.begin(), b.rows.times.end());
                          return Status::OK();
                        },
                        [&](const SeriesSummary& s) {
                          summaries.emplace_back(std::string(s.series->Tag("host")), s.min_time,
                                                 s.max_time, s.rows, s.stats[0].sum,
                                                 std::bit_cast<double>(s.stats[0].min_bits),
                                                 std::bit_cast<double>(s.stats[0].max_bits));
                          return Status::OK();
                        })
                    .ok());
    std::sort(summaries.begin(), summaries.end());
  };
  run();
  EXPECT_EQ(summaries, (std::vector<Summary>{{"a", 10, 20, 2, 3.0, 1.0, 2.0},
                                             {"a", 30, 45, 3, 112.0, 16.0, 64.0}}));
  EXPECT_EQ(rows["b"], (std::vector<int64_t>{15, 35}));  // its chunk spans both buckets
  EXPECT_EQ(rows.count("a"), 0u);
  EXPECT_GE(calls, 3);  // every chunk asked

  // A newer row inside a's [30, 40] chunk: that chunk comes as rows, [45] alone as statistics.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 35, 128.0, {}}})).ok());
  run();
  EXPECT_EQ(summaries, (std::vector<Summary>{{"a", 10, 20, 2, 3.0, 1.0, 2.0},
                                             {"a", 45, 45, 1, 64.0, 64.0, 64.0}}));
  EXPECT_EQ(rows["a"], (std::vector<int64_t>{30, 35, 40}));
}

// Rows, temperatures present, their sum, min and max over what a scan covers.
struct TempTotals {
  uint64_t rows = 0, count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    ++count;
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
  // The rows a summary stands for, and its statistics of temp (its first field).
  void AddSummary(const SeriesSummary& summary) {
    rows += summary.rows;
    const SeriesSummary::Field& f = summary.stats[0];
    if (f.count == 0) return;
    count += f.count;
    sum += f.sum;
    min = std::min(min, std::bit_cast<double>(f.min_bits));
    max = std::max(max, std::bit_cast<double>(f.max_bits));
  }
  friend bool operator==(const TempTotals&, const TempTotals&) = default;
};

// Equal totals, the sums within rounding (summaries add them in another order than rows).
void ExpectNearTotals(const TempTotals& got, const TempTotals& want) {
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.count, want.count);
  EXPECT_NEAR(got.sum, want.sum, 1e-6);
  EXPECT_EQ(got.min, want.min);
  EXPECT_EQ(got.max, want.max);
}

std::ostream& operator<<(std::ostream& os, const TempTotals& t) {
  return os << "{rows " << t.rows << ", count " << t.count << ", sum " << t.sum << ", min " << t.min
            << ", max " << t.max << "}";
}

void AddRows(const SeriesBlock& b, TempTotals* t) {
  t->rows += b.rows.times.size();
  for (size_t i = 0; i < b.rows.times.size(); ++i) {
    if (b.rows.columns[0].present[i]) t->Add(std::bit_cast<double>(b.rows.columns[0].bits[i]));
  }
}

// The totals by reading every row (Engine::Scan), per value of `tag` ("" for every row).
std::map<std::string, TempTotals> TotalsByRowsPer(const Engine& engine, ScanRequest r,
                                                  const std::string& tag) {
  r.fields = {"temp"};
  std::map<std::string, TempTotals> out;
  EXPECT_TRUE(engine
                  .Scan(r,
                        [&](const SeriesBlock& b) {
                          AddRows(b, &out[tag.empty() ? "" : std::string(b.series->Tag(tag))]);
                          return Status::OK();
                        })
                  .ok());
  return out;
}

TempTotals TotalsByRows(const Engine& engine, const ScanRequest& r) {
  return TotalsByRowsPer(engine, r, "")[""];
}

// The same by ScanSummarized with summaries of many series allowed, and how they came.
struct SummarizedTotals {
  TempTotals totals;
  int whole = 0;       // summaries of many series (series == nullptr)
  int per_series = 0;  // summaries of one series
  int blocks = 0;      // blocks of rows
};

SummarizedTotals TotalsBySummaries(const Engine& engine, ScanRequest r) {
  r.fields = {"temp"};
  r.summaries_without_series = true;
  SummarizedTotals out;
  Status s = engine.ScanSummarized(
      r,
      [&](const SeriesBlock& b) {
        ++out.blocks;
        AddRows(b, &out.totals);
        return Status::OK();
      },
      [&](const SeriesSummary& sum) {
        ++(sum.series == nullptr ? out.whole : out.per_series);
        out.totals.AddSummary(sum);
        return Status::OK();
      });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// A flushed segment that nothing else overlaps is one summary of many series, from its totals,
// and no series is looked at; anything that could change its rows' statistics (a newer row in
// its range, a delete, an overlapping segment, a range or bucket cutting it, a NaN, a tag
// predicate) sends it back to the per-series path. The totals always equal the rows'.
TEST_F(EngineTest, ScanSummarizedTakesAWholeSegmentWhenNothingElseMeetsIt) {
  EngineOptions one_shard;
  one_shard.shards = 1;  // every series in one segment a partition
  Open(nullptr, one_shard);
  constexpr int64_t kDay = 86'400'000'000'000;
  ASSERT_TRUE(engine_
                  ->Write(Batch({{"a", 10, 1.5, {}},
                                 {"a", 20, -2.0, {}},
                                 {"b", 15, 8.0, {}},
                                 {"c", 30, 0.25, {}},
                                 {"c", 40, {}, 3}}))
                  .ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  auto expect_totals = [&](const ScanRequest& req, int whole, const char* what) {
    SCOPED_TRACE(what);
    const SummarizedTotals got = TotalsBySummaries(*engine_, req);
    EXPECT_EQ(got.totals, TotalsByRows(*engine_, req));
    EXPECT_EQ(got.whole, whole);
    return got;
  };
  SummarizedTotals got = expect_totals(r, 1, "one segment");
  EXPECT_EQ(got.per_series, 0);
  EXPECT_EQ(got.blocks, 0);
  EXPECT_EQ(got.totals, (TempTotals{5, 4, 7.75, -2.0, 8.0}));
  // Summaries of one series each when the caller reads tags (the flag unset).
  ScanRequest tags = r;
  tags.fields = {"temp"};
  int per_series = 0;
  ASSERT_TRUE(engine_
                  ->ScanSummarized(
                      tags, [](const SeriesBlock&) { return Status::OK(); },
                      [&](const SeriesSummary& s) {
                        EXPECT_NE(s.series, nullptr);
                        ++per_series;
                        return Status::OK();
                      })
                  .ok());
  EXPECT_EQ(per_series, 3);
  // A condition on one tag: that value's totals in the segment. Any other series filter: the
  // series one by one.
  ScanRequest only_b = r;
  only_b.tag_equals = {{"host", "b"}};
  EXPECT_EQ(TotalsBySummaries(*engine_, only_b).totals, (TempTotals{1, 1, 8.0, 8.0, 8.0}));
  EXPECT_EQ(TotalsBySummaries(*engine_, only_b).whole, 1);
  ScanRequest not_b = r;
  not_b.series_filter = [](const SeriesInfo& info) { return info.Tag("host") != "b"; };
  EXPECT_EQ(TotalsBySummaries(*engine_, not_b).totals, (TempTotals{4, 3, -0.25, -2.0, 1.5}));
  EXPECT_EQ(TotalsBySummaries(*engine_, not_b).whole, 0);
  // A range or a bucket cutting the segment.
  ScanRequest cut = r;
  cut.min_time = 12;
  expect_totals(cut, 0, "range cuts it");
  ScanRequest bucket = r;
  bucket.same_bucket = [](int64_t lo, int64_t hi) { return lo / 25 == hi / 25; };
  expect_totals(bucket, 0, "bucket cuts it");
  bucket.same_bucket = [](int64_t lo, int64_t hi) { return lo / 100 == hi / 100; };
  expect_totals(bucket, 1, "one bucket holds it");

  // A row in memory outside its range (the next day): the segment whole, the row as rows.
  ASSERT_TRUE(engine_->Write(Batch({{"a", kDay + 5, 100.0, {}}})).ok());
  got = expect_totals(r, 1, "memtable elsewhere");
  EXPECT_EQ(got.blocks, 1);
  EXPECT_EQ(got.totals.max, 100.0);
  // A newer row replacing one of its rows: per series, with the newer value.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 20, 4.0, {}}})).ok());
  got = expect_totals(r, 0, "newer row inside");
  EXPECT_EQ(got.totals.min, 0.25);
  // Flushed: the first day's two segments overlap in time and neither is whole; the second
  // day's segment is.
  ASSERT_TRUE(engine_->Flush().ok());
  got = expect_totals(r, 1, "two segments of one day overlap");
  EXPECT_GT(got.per_series, 0);
  // A NaN in a segment of its own: that one goes through its chunks.
  ASSERT_NO_FATAL_FAILURE(WriteNaN("d", kDay + 7));
  const SummarizedTotals nan = TotalsBySummaries(*engine_, r);
  EXPECT_TRUE(std::isnan(nan.totals.sum));
  EXPECT_EQ(nan.whole, 1);
  // A delete newer than the rows of the second day's first segment.
  ScanRequest day2 = r;
  day2.min_time = kDay;
  day2.max_time = kDay + 6;  // a's row, not d's NaN
  expect_totals(day2, 1, "before the delete");
  ScanRequest del = r;
  del.tag_equals = {{"host", "c"}};  // a series the segment does not even hold
  del.min_time = kDay;
  ASSERT_TRUE(engine_->Delete(del).ok());
  got = expect_totals(day2, 0, "deleted");
  EXPECT_EQ(got.totals.rows, 1u);
  // Restarted: totals come from the index again; the delete still stands.
  Open(nullptr, one_shard);
  expect_totals(day2, 0, "restarted");
  ScanRequest day1 = r;
  day1.max_time = kDay - 1;
  got = expect_totals(day1, 0, "the first day after restart");
  EXPECT_EQ(got.totals, (TempTotals{5, 4, 13.75, 0.25, 8.0}));
}

// Per value of the "site" tag: totals by reading every row, and by ScanSummarized grouping by
// the tag (summary_tag), with the count of summaries of many series.
using SiteTotals = std::map<std::string, TempTotals>;

SiteTotals SiteTotalsByRows(const Engine& engine, const ScanRequest& r) {
  return TotalsByRowsPer(engine, r, "site");
}

SiteTotals SiteTotalsBySummaries(const Engine& engine, ScanRequest r, int* whole) {
  r.fields = {"temp"};
  r.summaries_without_series = true;
  r.summary_tag = "site";
  SiteTotals out;
  *whole = 0;
  Status s = engine.ScanSummarized(
      r,
      [&](const SeriesBlock& b) {
        AddRows(b, &out[std::string(b.series->Tag("site"))]);
        return Status::OK();
      },
      [&](const SeriesSummary& sum) {
        std::string site;
        if (sum.series == nullptr) {
          ++*whole;
          site = std::string(sum.tag_value);
        } else {
          site = std::string(sum.series->Tag("site"));
        }
        out[site].AddSummary(sum);
        return Status::OK();
      });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Grouped by one tag, a whole segment comes as one summary per value of the tag (series
// without it under ""), unless the tag has more values than kMaxTagTotalsValues; per site the
// totals equal the rows'.
TEST_F(EngineTest, WholeSegmentsGroupedByATagComeOnePerValue) {
  EngineOptions one_shard;
  one_shard.shards = 1;
  Open(nullptr, one_shard);
  WriteBatch b(kTenant, "main", "machine");
  for (int h = 0; h < 30; ++h) {
    for (int64_t t = 1; t <= 3; ++t) {
      b.AddRow(t * 10);
      ASSERT_TRUE(b.SetTag("host", "h" + std::to_string(h)).ok());
      if (h % 5 != 0) {
        ASSERT_TRUE(b.SetTag("site", "s" + std::to_string(h % 3)).ok());
      }
      ASSERT_TRUE(b.SetDouble("temp", 0.5 * h + static_cast<double>(t)).ok());
    }
  }
  ASSERT_TRUE(engine_->Write(b).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  int whole = 0;
  SiteTotals got = SiteTotalsBySummaries(*engine_, r, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, r));
  EXPECT_EQ(got.size(), 4u);  // s0, s1, s2 and ""
  EXPECT_EQ(whole, 4);
  // Conditions on the tag: the values that meet them.
  ScanRequest one_site = r;
  one_site.tag_equals = {{"site", "s1"}};
  got = SiteTotalsBySummaries(*engine_, one_site, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, one_site));
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(whole, 1);
  ScanRequest two_sites = r;
  two_sites.tag_in = {{"site", {"s0", "s2"}}};
  got = SiteTotalsBySummaries(*engine_, two_sites, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, two_sites));
  EXPECT_EQ(whole, 2);
  // A condition on another tag: series by series.
  ScanRequest host = r;
  host.tag_equals = {{"host", "h1"}};
  got = SiteTotalsBySummaries(*engine_, host, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, host));
  EXPECT_EQ(whole, 0);
  // A newer row in its range: per series, the same totals.
  ASSERT_TRUE(engine_->Write(Batch({{"h1", 20, 99.0, {}}})).ok());
  got = SiteTotalsBySummaries(*engine_, r, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, r));
  EXPECT_EQ(whole, 0);
  // A site of more values than kMaxTagTotalsValues (one a host, in another day's segment): that
  // segment per series, the first whole once the row in memory is flushed into its own day.
  constexpr int64_t kDay = 86'400'000'000'000;
  WriteBatch many(kTenant, "main", "machine");
  for (size_t h = 0; h <= kMaxTagTotalsValues; ++h) {
    many.AddRow(kDay + 10);
    ASSERT_TRUE(many.SetTag("host", "x" + std::to_string(h)).ok());
    ASSERT_TRUE(many.SetTag("site", "x" + std::to_string(h)).ok());
    ASSERT_TRUE(many.SetDouble("temp", 1.0).ok());
  }
  ASSERT_TRUE(engine_->Write(many).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  got = SiteTotalsBySummaries(*engine_, r, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, r));
  EXPECT_EQ(whole, 0);  // the first day: two overlapping segments; the second: too many sites
  ScanRequest day2 = r;
  day2.min_time = kDay;
  got = SiteTotalsBySummaries(*engine_, day2, &whole);
  EXPECT_EQ(got, SiteTotalsByRows(*engine_, day2));
  EXPECT_EQ(got.size(), kMaxTagTotalsValues + 1);
  EXPECT_EQ(whole, 0);
}

// Two partitions of a split scan sharing one snapshot: partition 0 hands up the whole segments
// (one a shard), partition 1 leaves their series out, and together they count every row once.
TEST_F(EngineTest, SplitSummarizedScansTakeAWholeSegmentOnce) {
  Open();
  std::vector<Row> rows;
  for (int h = 0; h < 40; ++h) {
    for (int64_t t = 1; t <= 3; ++t) rows.push_back({"h" + std::to_string(h), t, 1.0 * h, {}});
  }
  ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  ScanRequest part = r;
  part.partitions = 2;
  auto run_both = [&](int whole_expected) {
    part.snapshot = engine_->Snapshot();
    TempTotals sum;
    int whole = 0;
    for (int p = 0; p < 2; ++p) {
      part.partition = p;
      const SummarizedTotals got = TotalsBySummaries(*engine_, part);
      sum.rows += got.totals.rows;
      sum.count += got.totals.count;
      sum.sum += got.totals.sum;
      sum.min = std::min(sum.min, got.totals.min);
      sum.max = std::max(sum.max, got.totals.max);
      if (p == 1) {
        EXPECT_EQ(got.whole, 0);
      }
      if (whole_expected > 0) {
        EXPECT_EQ(got.per_series, 0);
        EXPECT_EQ(got.blocks, 0);
      }
      whole += got.whole;
    }
    EXPECT_EQ(sum, TotalsByRows(*engine_, r));
    EXPECT_EQ(whole, whole_expected);
  };
  run_both(2);
  EXPECT_EQ(TotalsByRows(*engine_, r).rows, 120u);
  // Rows in memory inside the segments' range (every series): per series, in both partitions.
  rows.clear();
  for (int h = 0; h < 40; ++h) rows.push_back({"h" + std::to_string(h), 2, 50.0, {}});
  rows.push_back({"h2", 9, 60.0, {}});
  ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
  run_both(0);
  EXPECT_EQ(TotalsByRows(*engine_, r).rows, 121u);
}

// Scans sharing a snapshot expire rows as of the snapshot, not as of their own start: otherwise
// the clock passing a segment's oldest row between the two partitions would have one take the
// segment whole and the other read its series row by row (counted twice), or neither.
TEST_F(EngineTest, SplitScansExpireRowsAsOfTheirSnapshot) {
  constexpr int64_t kSecond = 1'000'000'000;
  ManualClock clock(Timestamp::FromNanos(100 * kSecond));
  EngineOptions options;
  options.clock = &clock;
  Open(nullptr, options);
  std::vector<Row> rows;
  for (int h = 0; h < 20; ++h) {
    rows.push_back({"h" + std::to_string(h), 50 * kSecond, 1.0, {}});
    rows.push_back({"h" + std::to_string(h), 60 * kSecond, 2.0, {}});
  }
  ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->SetRetention(kTenant, "main", "machine", Duration::Seconds(60)).ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  const TempTotals before = TotalsByRows(*engine_, r);  // cutoff 40 s: every row
  EXPECT_EQ(before.rows, 40u);
  ScanRequest part = r;
  part.partitions = 2;
  part.snapshot = engine_->Snapshot();
  TempTotals sum;
  for (int p = 0; p < 2; ++p) {
    part.partition = p;
    const SummarizedTotals got = TotalsBySummaries(*engine_, part);
    EXPECT_EQ(got.whole, p == 0 ? 2 : 0);  // one segment a shard
    sum.rows += got.totals.rows;
    sum.count += got.totals.count;
    sum.sum += got.totals.sum;
    sum.min = std::min(sum.min, got.totals.min);
    sum.max = std::max(sum.max, got.totals.max);
    // The cutoff passes the rows at 50 s between the two halves.
    clock.Advance(Duration::Seconds(15));
  }
  EXPECT_EQ(sum, before);
  EXPECT_EQ(TotalsByRows(*engine_, r).rows, 0u);  // a new scan: cutoff 70 s
  engine_.reset();                                // before `clock`, which its threads read
}

// A row older than the table's retention keeps is refused, not acknowledged and hidden.
TEST_F(EngineTest, RowsOlderThanTheRetentionAreRefused) {
  constexpr int64_t kSecond = 1'000'000'000;
  ManualClock clock(Timestamp::FromNanos(100 * kSecond));
  EngineOptions options;
  options.clock = &clock;
  Open(nullptr, options);
  ASSERT_TRUE(engine_->SetRetention(kTenant, "main", "machine", Duration::Seconds(60)).ok());
  const WriteBatch old = Batch({{"a", 70 * kSecond, 1.0, {}}, {"a", 30 * kSecond, 2.0, {}}});
  for (const Status& s : {engine_->CheckWrite(old), engine_->Write(old)}) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("row 2: time 1970-01-01T00:00:30.000Z is older than table "
                               "'machine' keeps"),
              std::string::npos)
        << s;
  }
  EXPECT_TRUE(engine_->Write(Batch({{"a", 70 * kSecond, 1.0, {}}})).ok());
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 1u);
  engine_.reset();  // before `clock`, which its threads read
}

// A batch whose own columns conflict is refused by CheckWrite, for a table that does not exist
// yet too: the write would refuse the whole batch (and with it every line of the table).
TEST_F(EngineTest, CheckWriteRefusesABatchWhoseColumnsConflictForANewTable) {
  Open();
  WriteBatch both(kTenant, "main", "fresh");
  both.AddRow(10);
  ASSERT_TRUE(both.SetTag("a", "x").ok());
  ASSERT_TRUE(both.SetDouble("a", 1.0).ok());
  for (const Status& s : {engine_->CheckWrite(both), engine_->Write(both)}) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  }
  EXPECT_NE(engine_->CheckWrite(both).message().find("'a' is both a tag and a field"),
            std::string::npos);
  WriteBatch wide(kTenant, "main", "wide");
  wide.AddRow(10);
  for (size_t i = 0; i <= kMaxColumnsPerTable; ++i) {
    ASSERT_TRUE(wide.SetDouble(fmt::format("f{}", i), 1.0).ok());
  }
  const Status s = engine_->CheckWrite(wide);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("would exceed the limit"), std::string::npos) << s;
  EXPECT_FALSE(engine_->Write(wide).ok());
}

// Chunks whose statistics rule out a field range are not read, unless another source of the
// series overlaps them.
TEST_F(EngineTest, FieldRangesSkipChunksNobodyOverlaps) {
  Open();
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 10, 1.0, 5}, {"a", 20, 2.0, 6}, {"b", 10, 50.0, 7}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ScanRequest r;
  FieldRange hot;
  hot.field = "temp";
  hot.min = 10;
  r.field_ranges = {hot};
  Snapshot s = ReadAll(*engine_, r);
  EXPECT_EQ(s.count("a"), 0u);  // max 2 < 10: skipped
  ASSERT_EQ(s["b"].size(), 1u);
  // A newer row of a overlaps the flushed chunk: the chunk is read and merged.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 20, 30.0, {}}})).ok());
  s = ReadAll(*engine_, r);
  ASSERT_EQ(s["a"].size(), 2u);
  EXPECT_EQ(s["a"][20].first, 30.0);
  EXPECT_EQ(s["a"][20].second, 6);  // the flushed count survives the merge
  // A range on a field a chunk lacks skips it too (its rows would fail the condition); a's two
  // flushed chunks overlap each other, so they are still read.
  FieldRange other;
  other.field = "nope";
  r.field_ranges = {other};
  ASSERT_TRUE(engine_->Flush().ok());
  s = ReadAll(*engine_, r);
  EXPECT_EQ(s.count("b"), 0u);
  EXPECT_EQ(s["a"].size(), 2u);
}

// Scans of many series (where Segment::SeriesTotals answers for a series' every chunk in a
// segment) give what reading every row gives: a field range passes over exactly the series
// whose rows all miss it, unless a newer row, another segment or a delete meets them; summaries
// from the series' totals equal the rows' statistics, and any range or bucket cutting a series
// sends it back to its chunks.
TEST_F(EngineTest, ScansOfManySeriesAnswerFromSeriesTotals) {
  static constexpr int64_t kSecond = 1'000'000'000;
  Open();
  auto host = [](int i) { return fmt::format("h{:03}", i); };
  std::vector<Row> rows;
  for (int i = 0; i < 600; ++i) {
    for (int64_t t : {10, 20, 30}) {
      // Series i holds i + 0, i + 0.5, i + 1; every 50th has no temp at all.
      std::optional<double> temp;
      if (i % 50 != 49) temp = i + static_cast<double>(t - 10) / 20;
      rows.push_back({host(i), t * kSecond, temp, int64_t{i}});
    }
  }
  ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  WriteNaN(host(7), 15 * kSecond);  // a second segment of h007 only, meeting its first
  // A newer row of h003 in memory meeting its flushed ones; h005's second segment after its
  // first; a delete of h009's first row.
  ASSERT_TRUE(engine_->Write(Batch({{host(5), 40 * kSecond, 5000.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Batch({{host(3), 20 * kSecond, 1000.0, {}}})).ok());
  ScanRequest del;
  del.tenant = kTenant;
  del.table = "machine";
  del.tag_equals = {{"host", host(9)}};
  del.max_time = 10 * kSecond;
  ASSERT_TRUE(engine_->Delete(del).ok());

  const Snapshot all = ReadAll(*engine_);
  ASSERT_EQ(all.size(), 600u);
  auto meets = [](const FieldRange& r, std::optional<double> v) {
    if (!v || std::isnan(*v)) return false;
    return (*v > r.min || (r.min_inclusive && *v == r.min)) &&
           (*v < r.max || (r.max_inclusive && *v == r.max));
  };
  auto range = [](double min, bool min_inclusive, double max, bool max_inclusive) {
    FieldRange r;
    r.field = "temp";
    r.min = min;
    r.min_inclusive = min_inclusive;
    r.max = max;
    r.max_inclusive = max_inclusive;
    return r;
  };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const FieldRange& fr : {range(590, false, kInf, true), range(590, true, kInf, true),
                               range(-kInf, true, 3, false), range(100, true, 101, true),
                               range(2000, false, kInf, true), range(0.25, true, 0.75, true)}) {
    SCOPED_TRACE(fmt::format("temp in {}{}, {}{}", fr.min_inclusive ? "[" : "(", fr.min, fr.max,
                             fr.max_inclusive ? "]" : ")"));
    ScanRequest r;
    r.field_ranges = {fr};
    const Snapshot got = ReadAll(*engine_, r);
    for (const auto& [h, series] : all) {
      bool any = false;
      for (const auto& [t, cell] : series) any |= meets(fr, cell.first);
      if (any) {
        // Every row in range is there, with rows around it (a scan skips, it does not filter).
        ASSERT_EQ(got.count(h), 1u) << h;
        for (const auto& [t, cell] : series) {
          if (meets(fr, cell.first)) {
            EXPECT_EQ(got.at(h).count(t), 1u) << h << " at " << t;
          }
        }
        for (const auto& [t, cell] : got.at(h)) {
          ASSERT_EQ(series.count(t), 1u) << h << " at " << t;
          if (cell.first && std::isnan(*cell.first)) continue;
          EXPECT_EQ(cell, series.at(t)) << h << " at " << t;  // merged alike
        }
      } else if (h != host(3) && h != host(7)) {
        // Nothing in range and nothing meeting its segment's rows: passed over.
        EXPECT_EQ(got.count(h), 0u) << h;
      }
    }
  }

  // Summaries: from the series' totals where a series is whole in range and one bucket, else
  // from chunks or rows. Every host but h007 (its NaN would make every sum NaN): a condition on
  // the host keeps the segments from being taken whole.
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  std::vector<std::string> hosts;
  for (int i = 0; i < 600; ++i) {
    if (i != 7) hosts.push_back(host(i));
  }
  r.tag_in = {{"host", hosts}};
  const SummarizedTotals got = TotalsBySummaries(*engine_, r);
  ExpectNearTotals(got.totals, TotalsByRows(*engine_, r));
  EXPECT_LE(got.whole, 1);  // h005's second segment: one host, its totals per host kept
  EXPECT_GE(got.per_series, 590);
  EXPECT_LE(got.blocks, 2);  // h003 (a row in memory) and h009 (a delete)
  ScanRequest part = r;
  part.min_time = 15 * kSecond;  // cuts every series: its rows from 20 s
  part.same_bucket = [](int64_t lo, int64_t hi) {
    return lo / (25 * kSecond) == hi / (25 * kSecond);
  };
  ExpectNearTotals(TotalsBySummaries(*engine_, part).totals, TotalsByRows(*engine_, part));
}

TEST_F(EngineTest, SeriesFilterSelectsSeriesForScanAndLatest) {
  Open();
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 10, 1.0, {}}, {"b", 20, 2.0, {}}, {"c", 30, 3.0, {}}})).ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  r.series_filter = [](const SeriesInfo& info) { return info.Tag("host") != "b"; };
  Snapshot s = ReadAll(*engine_, r);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.count("b"), 0u);
  EXPECT_EQ(LatestHosts(*engine_, r), (std::vector<std::string>{"a", "c"}));
}

TEST_F(EngineTest, TagInListsSelectSeriesForScanLatestAndDelete) {
  Open();
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 10, 1.0, {}}, {"b", 20, 2.0, {}}, {"c", 30, 3.0, {}}})).ok());
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  r.tag_in = {{"host", {"a", "c", "zz"}}};
  Snapshot s = ReadAll(*engine_, r);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.count("b"), 0u);
  EXPECT_EQ(LatestHosts(*engine_, r), (std::vector<std::string>{"a", "c"}));
  // A tag no series has matches none; an empty list matches none.
  r.tag_in = {{"line", {"a"}}};
  EXPECT_TRUE(ReadAll(*engine_, r).empty());
  r.tag_in = {{"host", {}}};
  EXPECT_TRUE(ReadAll(*engine_, r).empty());
  // Delete honours the list too.
  r.tag_in = {{"host", {"b"}}};
  ASSERT_TRUE(engine_->Delete(r).ok());
  Snapshot after = ReadAll(*engine_);
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after.count("b"), 0u);
}

TEST_F(EngineTest, TimeBoundsSpanEverySourceOfTheMatchingSeries) {
  Open();
  ScanRequest r;
  r.tenant = kTenant;
  r.table = "machine";
  EXPECT_FALSE(engine_->TimeBounds(r).has_value());  // no table yet
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}, {"a", 50, 1.0, {}}})).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 5, 1.0, {}}, {"b", 90, 2.0, {}}})).ok());
  EXPECT_EQ(engine_->TimeBounds(r), std::make_optional(std::pair<int64_t, int64_t>(5, 90)));
  r.tag_equals = {{"host", "a"}};
  EXPECT_EQ(engine_->TimeBounds(r), std::make_optional(std::pair<int64_t, int64_t>(5, 50)));
  // The request's own time range does not narrow the bounds.
  r.min_time = 20;
  r.max_time = 30;
  EXPECT_EQ(engine_->TimeBounds(r), std::make_optional(std::pair<int64_t, int64_t>(5, 50)));
  r.tag_equals = {{"host", "zz"}};
  EXPECT_FALSE(engine_->TimeBounds(r).has_value());
}

TEST_F(EngineTest, TypeConflictIsRejectedAndNothingStored) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  WriteBatch bad(kTenant, "main", "machine");
  bad.AddRow(20);
  ASSERT_TRUE(bad.SetTag("host", "a").ok());
  ASSERT_TRUE(bad.SetInt64("temp", 5).ok());
  Status s = engine_->Write(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "table 'machine' field 'temp': type integer conflicts with stored type float");
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 1u);
}

TEST_F(EngineTest, InvalidBatchesAreRejected) {
  Open();
  WriteBatch no_fields(kTenant, "main", "machine");
  no_fields.AddRow(1);
  ASSERT_TRUE(no_fields.SetTag("host", "a").ok());
  EXPECT_EQ(engine_->Write(no_fields).message(),
            "table 'machine' row 1: a row needs at least one field");
  WriteBatch time_field(kTenant, "main", "machine");
  time_field.AddRow(1);
  ASSERT_TRUE(time_field.SetDouble("time", 1).ok());
  EXPECT_FALSE(engine_->Write(time_field).ok());
  WriteBatch empty_table(kTenant, "main", "");
  empty_table.AddRow(1);
  ASSERT_TRUE(empty_table.SetDouble("v", 1).ok());
  EXPECT_EQ(engine_->Write(empty_table).message(), "table name is empty");
}

TEST_F(EngineTest, UnknownTableOrFieldInScan) {
  Open();
  ScanRequest r{kTenant, "main", "nope"};
  Status s = engine_->Scan(r, [](const SeriesBlock&) { return Status::OK(); });
  EXPECT_EQ(s.message(), "table 'nope' does not exist in database 'main'");
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  r.table = "machine";
  r.fields = {"tmp"};
  s = engine_->Scan(r, [](const SeriesBlock&) { return Status::OK(); });
  EXPECT_EQ(s.message(), "table 'machine' has no field 'tmp'");
}

TEST_F(EngineTest, TenantsAreIsolated) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  ScanRequest r{TenantId(2), "main", "machine"};
  Status s = engine_->Scan(r, [](const SeriesBlock&) {
    ADD_FAILURE() << "tenant 2 saw tenant 1's data";
    return Status::OK();
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, LatestPerSeries) {
  Open();
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 30, 3.0, 3}, {"a", 10, 1.0, 1}, {"b", 5, 9.0, {}}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 30, {}, 33}})).ok());
  std::map<std::string, std::pair<int64_t, int64_t>> latest;
  ScanRequest r{kTenant, "main", "machine"};
  r.fields = {"count"};
  ASSERT_TRUE(engine_
                  ->Latest(r,
                           [&](const SeriesBlock& b) {
                             EXPECT_EQ(b.rows.times.size(), 1u);
                             latest[std::string(b.series->Tag("host"))] = {
                                 b.rows.times[0], static_cast<int64_t>(b.rows.columns[0].bits[0])};
                             return Status::OK();
                           })
                  .ok());
  EXPECT_EQ(latest["a"], (std::pair<int64_t, int64_t>{30, 33}));
  EXPECT_EQ(latest["b"].first, 5);
  r.max_time = 20;
  latest.clear();
  ASSERT_TRUE(engine_
                  ->Latest(r,
                           [&](const SeriesBlock& b) {
                             latest[std::string(b.series->Tag("host"))] = {b.rows.times[0], 0};
                             return Status::OK();
                           })
                  .ok());
  EXPECT_EQ(latest["a"].first, 10);
}

TEST_F(EngineTest, LatestAfterRestartMergesSegmentsWithNewWrites) {
  Open(nullptr, {.shards = 1});
  ASSERT_TRUE(
      engine_->Write(Batch({{"a", 30, 1.0, 1}, {"a", 20, 0.5, 0}, {"b", 10, 9.0, 9}})).ok());
  Open(nullptr, {.shards = 1});  // clean close flushed: the cache starts empty
  auto latest = LatestAll(*engine_);
  EXPECT_EQ(latest["a"].first, 30);
  EXPECT_EQ(latest["a"].second.second, 1);
  // Same time as the flushed row, one field: the other field comes from the segment.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 30, 2.0, {}}, {"b", 5, 1.0, 1}})).ok());
  latest = LatestAll(*engine_);
  EXPECT_EQ(latest["a"].second.first, 2.0);
  EXPECT_EQ(latest["a"].second.second, 1);
  EXPECT_EQ(latest["b"].first, 10);  // a late row does not become the latest
  EXPECT_EQ(latest["b"].second.first, 9.0);
  // Deleting the newest row makes the one before it the latest.
  ASSERT_TRUE(
      engine_->Delete(ScanRequest{kTenant, "main", "machine", 25, 35, {{"host", "a"}}}).ok());
  latest = LatestAll(*engine_);
  EXPECT_EQ(latest["a"].first, 20);
  EXPECT_EQ(latest["a"].second.first, 0.5);
  EXPECT_EQ(LatestAll(*engine_), NewestOf(ReadAll(*engine_)));
}

TEST_F(EngineTest, SmallSegmentIndexCacheAnswersLikeAnUnboundedOne) {
  Open(nullptr, {.shards = 2});
  for (int b = 0; b < 4; ++b) {
    std::vector<Row> rows;
    for (int h = 0; h < 1500; ++h) {
      rows.push_back({"host" + std::to_string(h), 10 * b + h % 7, h * 0.5 + b,
                      h % 3 ? std::optional<int64_t>(h) : std::nullopt});
    }
    ASSERT_TRUE(engine_->Write(Batch(rows)).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  const Snapshot all = ReadAll(*engine_);
  // Reopened with about one index block per cache shard: blocks keep being evicted and read.
  EngineOptions small{.shards = 2};
  small.segment_index_cache_bytes = 300 << 10;
  Open(nullptr, small);
  // A projection (in another order than the schema's) while the cache fills from segments.
  ScanRequest projected{kTenant, "main", "machine"};
  projected.fields = {"count", "temp"};
  std::map<std::string,
           std::pair<int64_t, std::pair<std::optional<double>, std::optional<int64_t>>>>
      latest;
  ASSERT_TRUE(engine_
                  ->Latest(projected,
                           [&](const SeriesBlock& b) {
                             EXPECT_EQ(b.fields[0].name, "count");
                             auto& cell = latest[std::string(b.series->Tag("host"))];
                             cell.first = b.rows.times[0];
                             if (b.rows.columns[0].present[0]) {
                               cell.second.second = static_cast<int64_t>(b.rows.columns[0].bits[0]);
                             }
                             if (b.rows.columns[1].present[0]) {
                               cell.second.first = std::bit_cast<double>(b.rows.columns[1].bits[0]);
                             }
                             return Status::OK();
                           })
                  .ok());
  EXPECT_EQ(latest, NewestOf(all));
  EXPECT_EQ(engine_->cache_stats().last_value_entries, 1500u);
  EXPECT_EQ(LatestAll(*engine_), NewestOf(all));  // now from the last-value cache
  EXPECT_EQ(ReadAll(*engine_), all);
  EngineCacheStats stats = engine_->cache_stats();
  EXPECT_LE(stats.segment_index_bytes, stats.segment_index_capacity);
  EXPECT_GT(stats.segment_index_misses, 0u);
  EXPECT_EQ(stats.last_value_entries, 1500u);
  EXPECT_GT(stats.last_value_bytes, 0u);
  // No cache at all: every index block is read from the file when needed.
  EngineOptions none{.shards = 2};
  none.segment_index_cache_bytes = 0;
  Open(nullptr, none);
  EXPECT_EQ(ReadAll(*engine_), all);
  EXPECT_EQ(LatestAll(*engine_), NewestOf(all));
  EXPECT_EQ(engine_->cache_stats().segment_index_bytes, 0u);
}

TEST_F(EngineTest, RestartReplaysTheWal) {
  Open();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, 1}, {"b", 20, 2.0, 2}})).ok());
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 5.0, {}}})).ok());
  Snapshot before = ReadAll(*engine_);
  SeriesId a = engine_->series().Match(kTenant, "main", "machine", {{"host", "a"}})[0]->id;
  Open();
  EXPECT_EQ(ReadAll(*engine_), before);
  EXPECT_EQ(engine_->series().Match(kTenant, "main", "machine", {{"host", "a"}})[0]->id, a);
  // New series get fresh ids after a restart.
  ASSERT_TRUE(engine_->Write(Batch({{"c", 10, 1.0, {}}})).ok());
  EXPECT_EQ(engine_->series().size(), 3u);
}

TEST_F(EngineTest, ShardCountIsFixedAtCreation) {
  Open(nullptr, {.shards = 3});
  EXPECT_EQ(engine_->shard_count(), 3);
  Open(nullptr, {.shards = 5});
  EXPECT_EQ(engine_->shard_count(), 3);
}

TEST_F(EngineTest, AcknowledgedWritesSurvivePowerLoss) {
  for (bool flush : {false, true})
    for (auto mode : {CrashOptions::Mode::kDropUnsynced, CrashOptions::Mode::kTearUnsynced}) {
      MemoryEnv mem;
      ASSERT_TRUE(mem.SyncDir(".").ok());
      Snapshot acked;
      EngineOptions options;
      options.shard.flush_on_close = flush;
      for (uint64_t round = 1; round <= 5; ++round) {
        auto e = Engine::Open(&mem, "db", options, &metrics_);
        ASSERT_TRUE(e.ok()) << e.status();
        EXPECT_EQ(ReadAll(**e), acked) << "round " << round;
        for (int i = 0; i < 20; ++i) {
          int64_t t = static_cast<int64_t>(round * 1000 + i);
          std::string host = "h" + std::to_string(i % 3);
          ASSERT_TRUE((*e)->Write(Batch({{host, t, static_cast<double>(t), i}})).ok());
          acked[host][t] = {static_cast<double>(t), i};
        }
        (*e)->Close();
        mem.SimulateCrash({mode, round});
      }
    }
}

TEST_F(EngineTest, FailedFsyncMakesTheShardReadOnly) {
  FaultInjectionEnv faulty(&mem_);
  Open(&faulty, {.shards = 1});
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  faulty.SetFaults({.fail_sync = true});
  Status s = engine_->Write(Batch({{"a", 20, 2.0, {}}}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("shard 0 is read-only after a failed write"), std::string_view::npos)
      << s;
  EXPECT_NE(s.message().find("fsync"), std::string_view::npos) << s;
  faulty.ClearFaults();
  // Never "retry and hope": still refused without a restart.
  EXPECT_EQ(engine_->Write(Batch({{"a", 30, 3.0, {}}})).code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(engine_->health().ok());
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 1u);  // the unacknowledged row is not visible
  Open(&faulty, {.shards = 1});
  EXPECT_TRUE(engine_->health().ok());
  EXPECT_EQ(ReadAll(*engine_)["a"].count(10), 1u);
  EXPECT_TRUE(engine_->Write(Batch({{"a", 40, 4.0, {}}})).ok());
  engine_.reset();  // before `faulty` goes away
}

TEST_F(EngineTest, DiskFullRefusesThenAcceptsWithoutRestart) {
  FaultInjectionEnv faulty(&mem_);
  Open(&faulty, {.shards = 1});
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  faulty.SetFaults({.disk_capacity_bytes = faulty.bytes_used() + 10});
  Status s = engine_->Write(Batch({{"a", 20, 2.0, {}}, {"a", 21, 2.0, {}}}));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find("No space left on device"), std::string_view::npos) << s;
  faulty.ClearFaults();
  ASSERT_TRUE(engine_->Write(Batch({{"a", 30, 3.0, {}}})).ok());
  Open(&faulty, {.shards = 1});  // the log stayed clean: recovery finds no damage
  Snapshot s2 = ReadAll(*engine_);
  EXPECT_EQ(s2["a"].size(), 2u);
  EXPECT_EQ(s2["a"].count(20), 0u);
  EXPECT_EQ(s2["a"].count(30), 1u);
  engine_.reset();  // before `faulty` goes away
}

TEST_F(EngineTest, BackPressureWhenOverTheMemoryLimit) {
  EngineOptions options{.shards = 1};
  options.shard.memtable_limit_bytes = 1000;
  Open(nullptr, options);
  Status s;
  int accepted = 0;
  for (int i = 0; i < 100 && s.ok(); ++i) {
    s = engine_->Write(Batch({{"a", i, 1.0, 1}}));
    accepted += s.ok();
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("retry later"), std::string_view::npos) << s;
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), static_cast<size_t>(accepted));
}

TEST_F(EngineTest, DamageMidLogStopsStartupUnlessTruncating) {
  EngineOptions keep_wal{.shards = 1};
  keep_wal.shard.flush_on_close = false;
  Open(nullptr, keep_wal);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine_->Write(Batch({{"a", i, 1.0, {}}})).ok());
  engine_.reset();
  const std::string path = "db/shard-000/" + WalFileName(1);
  std::string data = *ReadFileToString(&mem_, path);
  data[kWalMagic.size() + kWalFrameHeader + 3] ^= 0x40;  // inside the first record's payload
  ASSERT_TRUE(WriteFileAtomically(&mem_, path, data).ok());
  auto strict = Engine::Open(&mem_, "db", {}, &metrics_);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kCorruption);
  EXPECT_NE(strict.status().message().find(path), std::string_view::npos) << strict.status();
  EXPECT_NE(strict.status().message().find("offset 8"), std::string_view::npos);
  EXPECT_NE(strict.status().message().find("--wal-recovery=truncate"), std::string_view::npos);
  EngineOptions truncate = keep_wal;
  truncate.shard.recovery = WalRecovery::kTruncate;
  Open(nullptr, truncate);
  EXPECT_TRUE(ReadAll(*engine_).empty());  // everything after the damage is dropped
  ASSERT_TRUE(engine_->Write(Batch({{"a", 99, 1.0, {}}})).ok());
  Open();
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 1u);
}

TEST_F(EngineTest, ConcurrentWritersShareGroupCommits) {
  Open(nullptr, {.shards = 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(engine_->Write(Batch({{"h" + std::to_string(t), i, 1.0 * i, t}})).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  Snapshot s = ReadAll(*engine_);
  ASSERT_EQ(s.size(), 4u);
  for (const auto& [host, rows] : s) EXPECT_EQ(rows.size(), 100u) << host;
  Open();
  EXPECT_EQ(ReadAll(*engine_), s);
}

TEST_F(EngineTest, DeleteRemovesRowsOfMatchingSeriesInRange) {
  EngineOptions options;
  options.shard.flush_on_close = false;  // the delete must also replay from the WAL
  Open(nullptr, options);
  ASSERT_TRUE(
      engine_
          ->Write(Batch(
              {{"a", 10, 1.0, {}}, {"a", 20, 2.0, {}}, {"a", 30, 3.0, {}}, {"b", 20, 4.0, {}}}))
          .ok());
  ScanRequest del{kTenant, "main", "machine", 15, 25, {{"host", "a"}}};
  ASSERT_TRUE(engine_->Delete(del).ok());
  Snapshot s = ReadAll(*engine_);
  EXPECT_EQ(s["a"].size(), 2u);
  EXPECT_EQ(s["a"].count(20), 0u);
  EXPECT_EQ(s["b"].count(20), 1u);
  // A row written after the delete, inside its range, stays.
  ASSERT_TRUE(engine_->Write(Batch({{"a", 22, 5.0, {}}})).ok());
  EXPECT_EQ(ReadAll(*engine_)["a"].count(22), 1u);
  Open(nullptr, options);
  s = ReadAll(*engine_);
  EXPECT_EQ(s["a"].count(20), 0u);
  EXPECT_EQ(s["a"].count(22), 1u);
  EXPECT_EQ(s["a"].size(), 3u);
}

TEST_F(EngineTest, DeleteErrors) {
  Open();
  EXPECT_EQ(engine_->Delete(ScanRequest{kTenant, "main", "nope"}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->Write(Batch({{"a", 10, 1.0, {}}})).ok());
  EXPECT_EQ(engine_->Delete(ScanRequest{kTenant, "main", "machine", 5, 4}).message(),
            "delete: min_time 5 is after max_time 4");
  EXPECT_TRUE(engine_->Delete(ScanRequest{kTenant, "main", "machine", 0, 100, {{"host", "zz"}}})
                  .ok());  // no series: nothing to do
  EXPECT_EQ(ReadAll(*engine_)["a"].size(), 1u);
}

TEST_F(EngineTest, CreateAndAlterTableBeforeData) {
  Open();
  ASSERT_TRUE(engine_
                  ->CreateTable(kTenant, "main", "machine", {"host"},
                                {{"temp", FieldType::kDouble}, {"count", FieldType::kInt64}})
                  .ok());
  EXPECT_EQ(
      engine_->CreateTable(kTenant, "main", "machine", {"host"}, {{"temp", FieldType::kDouble}})
          .message(),
      "table 'machine' already exists in database 'main'");
  EXPECT_TRUE(
      engine_->CreateTable(kTenant, "main", "machine", {}, {}, /*if_not_exists=*/true).ok());
  // The declared types bind the first write.
  WriteBatch bad(kTenant, "main", "machine");
  bad.AddRow(1);
  ASSERT_TRUE(bad.SetDouble("count", 1.5).ok());
  EXPECT_EQ(engine_->Write(bad).message(),
            "table 'machine' field 'count': type float conflicts with stored type integer");
  ASSERT_TRUE(
      engine_->AlterTableAdd(kTenant, "main", "machine", {"site"}, {{"note", FieldType::kString}})
          .ok());
  EXPECT_EQ(engine_->AlterTableAdd(kTenant, "main", "machine", {}, {{"temp", FieldType::kBool}})
                .message(),
            "table 'machine' field 'temp': type boolean conflicts with stored type float");
  EXPECT_EQ(engine_->AlterTableAdd(kTenant, "main", "nope", {}, {}).code(), StatusCode::kNotFound);
  // Declarations survive a restart with no data written.
  Open();
  auto schema = engine_->catalog().Find(kTenant, "main", "machine");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->tag_keys, (std::vector<std::string>{"host", "site"}));
  ASSERT_EQ(schema->fields.size(), 3u);
  EXPECT_EQ(schema->fields[2].name, "note");
  EXPECT_EQ(schema->fields[2].type, FieldType::kString);
  ScanRequest r{kTenant, "main", "machine"};
  EXPECT_TRUE(engine_->Scan(r, [](const SeriesBlock&) { return Status::OK(); }).ok());
}

TEST(WalSyncTest, Parse) {
  WalSyncMode mode;
  Duration interval;
  ASSERT_TRUE(ParseWalSync("interval:250", &mode, &interval).ok());
  EXPECT_EQ(mode, WalSyncMode::kInterval);
  EXPECT_EQ(interval, Duration::Millis(250));
  ASSERT_TRUE(ParseWalSync("none", &mode, &interval).ok());
  EXPECT_EQ(mode, WalSyncMode::kNone);
  EXPECT_EQ(ParseWalSync("sometimes", &mode, &interval).message(),
            "wal sync 'sometimes': expected always, none or interval:MS (1..60000)");
  EXPECT_FALSE(ParseWalSync("interval:0", &mode, &interval).ok());
}

// Random writes (new rows, overwrites, late rows), deletes, flushes, table drops, restarts and
// power losses, checked against a map of what was acknowledged.
TEST(EngineModelTest, RandomOperationsMatchTheModel) {
  MetricsRegistry metrics;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    MemoryEnv mem;
    ASSERT_TRUE(mem.SyncDir(".").ok());
    Snapshot model;
    EngineOptions options{.shards = 3};
    options.shard.compaction_trigger = 2;  // compactions meet deletes often
    auto engine = Engine::Open(&mem, "db", options, &metrics);
    ASSERT_TRUE(engine.ok());
    for (int op = 0; op < 400; ++op) {
      int kind = static_cast<int>(rng() % 20);
      if (kind == 0) {
        (*engine)->Close();
        engine = Engine::Open(&mem, "db", options, &metrics);
      } else if (kind == 2 && !model.empty()) {
        std::string host = "h" + std::to_string(rng() % 6);
        int64_t lo = static_cast<int64_t>(rng() % 50), hi = lo + static_cast<int64_t>(rng() % 20);
        ScanRequest del{kTenant, "main", "machine", lo, hi, {{"host", host}}};
        ASSERT_TRUE((*engine)->Delete(del).ok());
        auto& rows = model[host];
        rows.erase(rows.lower_bound(lo), rows.upper_bound(hi));
        if (rows.empty()) model.erase(host);
      } else if (kind == 3) {
        ASSERT_TRUE((*engine)->Flush().ok());
      } else if (kind == 4 && rng() % 2 == 0) {
        // Drop the table; the next write starts a new generation of it.
        Status s = (*engine)->DropTable(kTenant, "main", "machine");
        ASSERT_TRUE(s.ok() || (s.code() == StatusCode::kNotFound && model.empty())) << s;
        model.clear();
      } else if (kind == 1) {
        (*engine)->Close();
        mem.SimulateCrash({CrashOptions::Mode::kTearUnsynced, rng()});
        engine = Engine::Open(&mem, "db", options, &metrics);
      } else {
        std::vector<Row> rows;
        int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
          Row r{"h" + std::to_string(rng() % 6), static_cast<int64_t>(rng() % 50), {}, {}};
          if (rng() % 3) r.temp = static_cast<double>(rng() % 1000) / 10;
          if (rng() % 3 || !r.temp) r.count = static_cast<int64_t>(rng() % 100) - 50;
          rows.push_back(r);
        }
        ASSERT_TRUE((*engine)->Write(Batch(rows)).ok());
        for (const auto& r : rows) {
          auto& cell = model[r.host][r.time];
          if (r.temp) cell.first = r.temp;
          if (r.count) cell.second = r.count;
        }
      }
      ASSERT_TRUE(engine.ok()) << engine.status();
      if (op % 25 == 0) {
        ASSERT_EQ(ReadAll(**engine), model) << "seed " << seed << " op " << op;
        ASSERT_EQ(LatestAll(**engine), NewestOf(model)) << "seed " << seed << " op " << op;
      }
    }
    ASSERT_EQ(ReadAll(**engine), model) << "seed " << seed;
  }
}

}  // namespace
}  // namespace seaway
