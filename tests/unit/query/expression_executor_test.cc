// Expression evaluation (src/query/expression_executor.h): vectorised paths agree with the
// row-by-row ones they replace.
#include "query/expression_executor.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "query/bound_expr.h"

namespace seaway::query {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

BoundExprPtr ExtractOfColumn(const std::string& field, const std::string& zone) {
  auto time = std::make_unique<BoundExpr>();
  time->kind = BoundKind::kColumn;
  time->type = SqlType::kTimestamp;
  time->column = 0;
  auto e = std::make_unique<BoundExpr>();
  e->kind = BoundKind::kFunction;
  e->function = Function::kExtract;
  const bool fractional =
      field == "second" || field == "epoch" || field == "millisecond" || field == "microsecond";
  e->type = fractional ? SqlType::kDouble : SqlType::kBigInt;
  e->unit = field;
  e->zone = zone;
  e->children.push_back(std::move(time));
  return e;
}

// Times in runs close together (as in a block: every 10 s, or every few ms), runs starting
// anywhere from 1900 to 2100, around changes of offset, and NULLs.
std::vector<int64_t> SomeTimes(std::mt19937_64* rng, std::vector<uint8_t>* valid) {
  std::vector<int64_t> times;
  const std::vector<int64_t> starts = {
      1'300'000'000 * kSecond,     // 2011-03-13 (US clocks forward at 2011-03-13T07:00Z)
      1'320'541'200 * kSecond,     // 2011-11-06 (US clocks back)
      1'325'203'200 * kSecond,     // 2011-12-30 (Pacific/Apia skipped the day)
      1'301'756'400 * kSecond,     // 2011-04-02T15:00Z (Lord Howe: back 30 minutes)
      1'301'187'600 * kSecond,     // 2011-03-27T01:00Z (Europe/London: forward)
      -2'208'988'800LL * kSecond,  // 1900-01-01
      4'102'444'800LL * kSecond,   // 2100-01-01
      -1 * kSecond,
  };
  for (int run = 0; run < 40; ++run) {
    const bool around = run < static_cast<int>(starts.size());
    // Around a given time: 2,000 rows over the 72 hours about it; elsewhere 300 rows 10 s or
    // 1.2 ms apart.
    int64_t t = around ? starts[run] - 36 * 3600 * kSecond
                       : static_cast<int64_t>((*rng)() % (200ULL * 365 * 86400)) * kSecond -
                             70LL * 365 * 86400 * kSecond;
    const int64_t step = around ? 130 * kSecond : run % 2 ? 10 * kSecond : 1'234'567;
    for (int i = 0; i < (around ? 2000 : 300); ++i) {
      t += step + static_cast<int64_t>((*rng)() % 1000);
      times.push_back(t);
    }
  }
  valid->assign(times.size(), 1);
  for (size_t i = 0; i < times.size(); i += 97) (*valid)[i] = 0;
  return times;
}

TEST(ExpressionExecutorTest, ExtractOverAColumnAgreesWithExtractRowByRow) {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> valid;
  const std::vector<int64_t> times = SomeTimes(&rng, &valid);
  DataChunk column;
  column.rows = times.size();
  column.columns.resize(1);
  column.columns[0].Reset(SqlType::kTimestamp);
  column.columns[0].ints = times;
  column.columns[0].valid = valid;
  for (const std::string zone :
       {"", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo",
        "Asia/Kolkata", "Pacific/Apia", "Asia/Kathmandu"}) {
    for (const std::string field :
         {"year", "quarter", "month", "day", "hour", "minute", "second", "millisecond",
          "microsecond", "dow", "isodow", "doy", "week", "epoch"}) {
      SCOPED_TRACE(field + " in " + (zone.empty() ? "UTC" : zone));
      const BoundExprPtr e = ExtractOfColumn(field, zone);
      Vector scratch;
      auto vectorised = Evaluate(*e, column, &scratch);
      ASSERT_TRUE(vectorised.ok()) << vectorised.status().ToString();
      size_t mismatches = 0;
      for (size_t i = 0; i < times.size() && mismatches < 5; ++i) {
        // One row as a constant column: EXTRACT row by row.
        DataChunk one;
        one.rows = 1;
        one.columns.resize(1);
        one.columns[0].SetConstant(
            valid[i] ? Value::Timestamp(times[i]) : Value::Null(SqlType::kTimestamp),
            SqlType::kTimestamp);
        Vector one_scratch;
        auto expected = Evaluate(*e, one, &one_scratch);
        ASSERT_TRUE(expected.ok());
        const Value want = (*expected)->Get(0), got = (*vectorised)->Get(i);
        if (want.is_null != got.is_null || want.i != got.i || want.d != got.d) {
          ++mismatches;
          ADD_FAILURE() << "time " << times[i] << ": " << got.ToString() << " instead of "
                        << want.ToString();
        }
      }
    }
  }
}

}  // namespace
}  // namespace seaway::query
