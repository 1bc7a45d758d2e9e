// Per-query limits (src/query): the memory budget holds whichever way an aggregation gets its
// input, rows or segment chunk statistics.
#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "in_memory_engine_test.h"
#include "query/plan.h"
#include "query/query_engine.h"
#include "storage/write_batch.h"

namespace seaway::query {
namespace {

const TenantId kTenant(1);
constexpr int64_t kDay = 86'400'000'000'000;
constexpr int64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

class QueryLimitsTest : public InMemoryEngineTest {
 protected:
  QueryLimitsTest() : InMemoryEngineTest(kStart) {}

  // `hosts` series with one row a day for `days` days, flushed: every (host, day) is a chunk of
  // its own (partitions are days), answered from its statistics.
  void WriteDaily(int hosts, int days) {
    for (int d = 0; d < days; ++d) {
      WriteBatch batch(kTenant, "main", "m");
      for (int h = 0; h < hosts; ++h) {
        batch.AddRow(kStart + d * kDay + h);
        ASSERT_TRUE(batch.SetTag("host", fmt::format("host-{:04}", h)).ok());
        ASSERT_TRUE(batch.SetDouble("v", d + h).ok());
      }
      ASSERT_TRUE(engine_->Write(batch).ok());
    }
    ASSERT_TRUE(engine_->Flush().ok());
  }

  Result<QueryResult> Run(const std::string& sql, size_t memory_bytes) {
    QueryOptions options;
    options.tenant = kTenant;
    options.max_memory_bytes = memory_bytes;
    return queries_->Execute(sql, options);
  }
};

// 200 hosts x 60 days = 12,000 groups built from statistics alone, under an outer count that
// keeps the result one row: the groups themselves must count against the budget.
TEST_F(QueryLimitsTest, GroupsBuiltFromStatisticsCountAgainstTheMemoryLimit) {
  WriteDaily(200, 60);
  const std::string inner =
      "SELECT host, date_trunc('day', time) AS d, count(*) AS n, sum(v) AS s FROM m GROUP BY "
      "host, d";
  auto plan = Run("EXPLAIN " + inner, size_t{256} << 20);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::string text;
  for (const auto& chunk : plan->chunks) {
    for (size_t r = 0; r < chunk.rows; ++r) text += chunk.columns[0].Get(r).s + "\n";
  }
  EXPECT_NE(text.find("StatsScan main.m per=date_trunc('day', time)"), std::string::npos) << text;

  const std::string outer = "SELECT count(*), sum(n) FROM (" + inner + ") q";
  auto fits = Run(outer, size_t{256} << 20);
  ASSERT_TRUE(fits.ok()) << fits.status();
  ASSERT_EQ(fits->rows, 1u);
  EXPECT_EQ(fits->chunks[0].columns[0].Get(0).i, 12'000);
  EXPECT_EQ(fits->chunks[0].columns[1].Get(0).i, 12'000);

  auto refused = Run(outer, 256 << 10);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted) << refused.status();
  EXPECT_NE(refused.status().message().find("memory limit"), std::string::npos) << refused.status();
}

// A sort's result larger than one slice (65,536 rows) leaves in several chunks: every row once,
// in order, text, NULLs and constants intact across the slice edges.
TEST_F(QueryLimitsTest, LargeSortedResultsArriveWholeAndInOrder) {
  constexpr int kRows = 150'000;
  WriteBatch batch(kTenant, "main", "m");
  for (int i = 0; i < kRows; ++i) {
    const int v = static_cast<int>(int64_t{i} * 7919 % kRows);  // 0..kRows-1, each once
    batch.AddRow(kStart + i);
    ASSERT_TRUE(batch.SetTag("host", fmt::format("h{}", v % 7)).ok());
    ASSERT_TRUE(batch.SetDouble("v", v).ok());
    if (v % 3 == 0) {
      ASSERT_TRUE(batch.SetString("s", fmt::format("s{}", v)).ok());
    }
  }
  ASSERT_TRUE(engine_->Write(batch).ok());
  auto r = Run("SELECT v, host, s, 'k' AS k FROM m ORDER BY v DESC", size_t{256} << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, static_cast<size_t>(kRows));
  EXPECT_GE(r->chunks.size(), 3u);
  double previous = kRows;
  size_t seen = 0, with_s = 0;
  for (const auto& chunk : r->chunks) {
    for (size_t row = 0; row < chunk.rows; ++row, ++seen) {
      const double v = chunk.columns[0].Get(row).d;
      ASSERT_EQ(v, previous - 1) << "row " << seen;
      previous = v;
      const int n = static_cast<int>(v);
      EXPECT_EQ(chunk.columns[1].Get(row).s, fmt::format("h{}", n % 7)) << "row " << seen;
      const Value s = chunk.columns[2].Get(row);
      EXPECT_EQ(s.is_null, n % 3 != 0) << "row " << seen;
      if (!s.is_null) {
        ++with_s;
        EXPECT_EQ(s.s, fmt::format("s{}", n)) << "row " << seen;
      }
      EXPECT_EQ(chunk.columns[3].Get(row).s, "k");
    }
  }
  EXPECT_EQ(seen, static_cast<size_t>(kRows));
  EXPECT_EQ(with_s, static_cast<size_t>(kRows / 3));  // 0, 3, ..., 149,997

  // The same sort inside a subquery, whose rows are collected (the sink takes each slice).
  auto in = Run("SELECT count(*) FROM m WHERE v IN (SELECT v FROM m WHERE v >= 1 ORDER BY v)",
                size_t{256} << 20);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->chunks[0].columns[0].Get(0).i, kRows - 1);
}

// A join whose input chunk matches many rows (one key everywhere, or a cross join) sends its
// pairs on in slices: the operators above see bounded chunks (and charge what they keep), and a
// LIMIT stops it, instead of the whole product of the chunk being built first.
TEST_F(QueryLimitsTest, JoinsSendTheirPairsInSlices) {
  for (const char* table : {"a", "b"}) {
    WriteBatch batch(kTenant, "main", table);
    for (int i = 0; i < 300; ++i) {
      batch.AddRow(kStart + i);
      ASSERT_TRUE(batch.SetTag("k", "same").ok());
      ASSERT_TRUE(batch.SetDouble("v", i).ok());
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
  }
  auto r = Run("SELECT a.v, b.v FROM a JOIN b ON a.k = b.k", size_t{256} << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 90'000u);
  size_t largest = 0;
  for (const auto& chunk : r->chunks) largest = std::max(largest, chunk.rows);
  EXPECT_LE(largest, 8192u);
  auto limited = Run("SELECT a.v, b.v FROM a CROSS JOIN b LIMIT 5", size_t{256} << 20);
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_EQ(limited->rows, 5u);
  auto counted = Run("SELECT count(*) FROM a JOIN b ON a.k = b.k AND a.v < b.v", 1 << 20);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->chunks[0].columns[0].Get(0).i, 300 * 299 / 2);
}

// Long text keys: one chunk of 400 rows of 16 KiB strings is 6.4 MiB of group keys, over a
// 4 MiB limit at once, not only every few chunks.
TEST_F(QueryLimitsTest, LongTextGroupKeysAreChargedEveryChunk) {
  WriteBatch batch(kTenant, "main", "t");
  for (int i = 0; i < 400; ++i) {
    batch.AddRow(kStart + i);
    ASSERT_TRUE(batch.SetTag("host", "h").ok());
    ASSERT_TRUE(batch.SetString("s", fmt::format("{:05}", i) + std::string(16 << 10, 'x')).ok());
  }
  ASSERT_TRUE(engine_->Write(batch).ok());
  for (const char* sql : {"SELECT s, count(*) FROM t GROUP BY s", "SELECT count(DISTINCT s) FROM t",
                          "SELECT DISTINCT s FROM t"}) {
    auto refused = Run(sql, 4 << 20);
    ASSERT_FALSE(refused.ok()) << sql;
    EXPECT_NE(refused.status().message().find("memory limit"), std::string::npos)
        << sql << ": " << refused.status();
  }
  auto fits = Run("SELECT count(DISTINCT s) FROM t", size_t{64} << 20);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->chunks[0].columns[0].Get(0).i, 400);
}

// Text an expression builds row by row is bounded per chunk before any operator holds it.
TEST_F(QueryLimitsTest, TextBuiltByAnExpressionIsBounded) {
  WriteBatch batch(kTenant, "main", "t");
  for (int i = 0; i < 100; ++i) {
    batch.AddRow(kStart + i);
    ASSERT_TRUE(batch.SetTag("host", "h").ok());
    ASSERT_TRUE(batch.SetString("s", std::string(32 << 10, 'x')).ok());
  }
  ASSERT_TRUE(engine_->Write(batch).ok());
  std::string doubled = "s";
  for (int i = 0; i < 5; ++i) doubled = "(" + doubled + " || " + doubled + ")";  // 32 x 32 KiB
  auto refused = Run("SELECT length(" + doubled + ") FROM t", size_t{1} << 30);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted) << refused.status();
  EXPECT_NE(refused.status().message().find("64 MiB"), std::string::npos) << refused.status();
  auto fits = Run("SELECT max(length(s || s)) FROM t", size_t{1} << 30);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->chunks[0].columns[0].Get(0).i, 64 << 10);
}

// A split scan's halves each get half the budget; the error names the limit as configured.
TEST(ExecContextTest, TheMemoryErrorNamesTheConfiguredLimit) {
  ExecContext half;
  half.memory_limit_configured = size_t{8} << 20;
  half.memory_limit = size_t{4} << 20;
  size_t held = 0;
  const Status s = half.Charge(&held, size_t{5} << 20);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("memory limit of 8 MiB"), std::string::npos) << s;
}

}  // namespace
}  // namespace seaway::query
