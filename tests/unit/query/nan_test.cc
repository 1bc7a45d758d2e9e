// NaN stored in DOUBLE fields (line protocol cannot write one; the engine can) compares as in
// PostgreSQL: it equals NaN and is above every number, so `v > c` finds NaN rows, also in
// segment chunks whose statistics (min and max leave NaNs out) would let the scan skip them.
// tests/sql/expr/nan.test has the same rules over computed NaNs.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "in_memory_engine_test.h"
#include "query/query_engine.h"
#include "storage/write_batch.h"

namespace seaway::query {
namespace {

const TenantId kTenant(1);
constexpr int64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000'000;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class NaNTest : public InMemoryEngineTest {
 protected:
  NaNTest() : InMemoryEngineTest(kStart + 3600 * kSecond) {}

  // Rows of `host` at seconds 0, 1, ... with values `v`.
  void Write(const std::string& host, const std::vector<double>& v) {
    WriteBatch batch(kTenant, "main", "m");
    for (size_t i = 0; i < v.size(); ++i) {
      batch.AddRow(kStart + static_cast<int64_t>(i) * kSecond);
      ASSERT_TRUE(batch.SetTag("host", host).ok());
      ASSERT_TRUE(batch.SetDouble("v", v[i]).ok());
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
  }

  // The query's rows, one line each, cells separated by spaces.
  std::string Rows(const std::string& sql) {
    QueryOptions options;
    options.tenant = kTenant;
    auto result = queries_->Execute(sql, options);
    if (!result.ok()) return result.status().ToString();
    std::string out;
    for (const auto& chunk : result->chunks) {
      for (size_t r = 0; r < chunk.rows; ++r) {
        for (size_t c = 0; c < chunk.columns.size(); ++c) {
          out += (c > 0 ? " " : "") + chunk.columns[c].Get(r).ToString();
        }
        out += "\n";
      }
    }
    return out;
  }
};

TEST_F(NaNTest, RangesOpenAboveFindNaNRowsInSkippableSegmentChunks) {
  // Host a's chunk has min 1 and max 3 (its NaN left out), so `v > 5` would skip it whole.
  Write("a", {1, kNaN, 3});
  Write("b", {10, 20});
  ASSERT_TRUE(engine_->Flush().ok());
  // The range is still planned; the scan drops it for segments that hold a NaN.
  EXPECT_NE(Rows("EXPLAIN SELECT v FROM m WHERE v > 5").find("skip_unless=v(5, inf]"),
            std::string::npos);
  EXPECT_EQ(Rows("SELECT host, v FROM m WHERE v > 5 ORDER BY v"), "b 10\nb 20\na NaN\n");
  EXPECT_EQ(Rows("SELECT host FROM m WHERE v >= 100"), "a\n");
  EXPECT_EQ(Rows("SELECT host, v FROM m WHERE v < 5 ORDER BY v"), "a 1\na 3\n");
  EXPECT_EQ(Rows("SELECT count(*) FROM m WHERE v = 'NaN'::double"), "1\n");
  EXPECT_EQ(Rows("SELECT count(*) FROM m WHERE v BETWEEN 5 AND 'NaN'::double"), "3\n");
  EXPECT_EQ(Rows("SELECT min(v), max(v) FROM m"), "1 NaN\n");

  // A NaN still in memory, beside segments without one.
  Write("c", {kNaN, 50});
  EXPECT_EQ(Rows("SELECT host, v FROM m WHERE v > 30 ORDER BY v, host"), "c 50\na NaN\nc NaN\n");
  EXPECT_EQ(Rows("SELECT v, count(*) FROM m GROUP BY v ORDER BY v DESC LIMIT 2"), "NaN 2\n50 1\n");
  EXPECT_EQ(Rows("SELECT count(DISTINCT v) FROM m"), "6\n");
}

TEST_F(NaNTest, SegmentsWithoutNaNStillAnswerRangesOpenAbove) {
  Write("a", {1, 2, 3});
  Write("b", {10, 20});
  ASSERT_TRUE(engine_->Flush().ok());
  Write("a", {kNaN});  // overwrites a's first row in memory
  EXPECT_EQ(Rows("SELECT host, v FROM m WHERE v > 5 ORDER BY v"), "b 10\nb 20\na NaN\n");
  EXPECT_EQ(Rows("SELECT host, v FROM m WHERE v > 2.5 ORDER BY v"), "a 3\nb 10\nb 20\na NaN\n");
}

}  // namespace
}  // namespace seaway::query
