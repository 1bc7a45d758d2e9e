// Latest-row scans (src/query/plan.cc, ScanNode with `latest`): last(field, time) grouped by
// tags over a table of many series, which the scan splits between two threads, answers what
// each series' rows say, whether its newest row is in a segment or a memtable and whether that
// row lacks a field (the scan then reads the series' every row).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "in_memory_engine_test.h"
#include "query/query_engine.h"
#include "storage/write_batch.h"

namespace seaway::query {
namespace {

const TenantId kTenant(1);
constexpr int64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000'000;

// What last(a, time) and last(b, time) of one host should be.
struct Expected {
  double a = 0;
  std::optional<double> b;
};

class LatestScanTest : public InMemoryEngineTest {
 protected:
  LatestScanTest() : InMemoryEngineTest(kStart + 3600 * kSecond) {}

  // One row of host `h` at second `t`; `b` absent when nullopt. Tracks what last() should be.
  void Add(WriteBatch* batch, int h, int t, double a, std::optional<double> b) {
    batch->AddRow(kStart + t * kSecond);
    ASSERT_TRUE(batch->SetTag("host", fmt::format("host-{:05}", h)).ok());
    ASSERT_TRUE(batch->SetDouble("a", a).ok());
    if (b) {
      ASSERT_TRUE(batch->SetDouble("b", *b).ok());
    }
    Expected& e = expected_[h];
    e.a = a;
    if (b) e.b = b;
  }

  std::vector<Expected> expected_;
};

TEST_F(LatestScanTest, ManySeriesAnswerTheirNewestValuesWhereverTheyAre) {
  constexpr int kHosts = 9000;  // above the threshold for splitting a latest scan
  expected_.resize(kHosts);
  {
    // Every host's first two rows, flushed to segments.
    WriteBatch batch(kTenant, "main", "m");
    for (int h = 0; h < kHosts; ++h) {
      Add(&batch, h, 0, h, h * 10.0);
      Add(&batch, h, 10, h + 0.5, h % 5 == 0 ? std::nullopt : std::optional<double>(h * 10.0 + 1));
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  {
    // A third row for every third host, in the memtable; every seventh of those lacks `b`.
    WriteBatch batch(kTenant, "main", "m");
    for (int h = 0; h < kHosts; h += 3) {
      Add(&batch, h, 20, -h, h % 7 == 0 ? std::nullopt : std::optional<double>(-h * 10.0));
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
  }

  QueryOptions options;
  options.tenant = kTenant;
  auto explain = queries_->Execute(
      "EXPLAIN SELECT host, last(a, time), last(b, time) FROM m GROUP BY host", options);
  ASSERT_TRUE(explain.ok()) << explain.status();
  std::string plan;
  for (const auto& chunk : explain->chunks) {
    for (size_t r = 0; r < chunk.rows; ++r) plan += chunk.columns[0].Get(r).s + "\n";
  }
  EXPECT_NE(plan.find("LatestScan"), std::string::npos) << plan;

  auto result = queries_->Execute(
      "SELECT host, last(a, time), last(b, time) FROM m GROUP BY host ORDER BY host", options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->rows, size_t{kHosts});
  int h = 0;
  for (const auto& chunk : result->chunks) {
    for (size_t r = 0; r < chunk.rows; ++r, ++h) {
      SCOPED_TRACE(testing::Message() << "host " << h);
      EXPECT_EQ(chunk.columns[0].Get(r).s, fmt::format("host-{:05}", h));
      EXPECT_EQ(chunk.columns[1].Get(r).d, expected_[h].a);
      const Value b = chunk.columns[2].Get(r);
      ASSERT_FALSE(b.is_null);
      EXPECT_EQ(b.d, *expected_[h].b);
    }
  }
}

}  // namespace
}  // namespace seaway::query
