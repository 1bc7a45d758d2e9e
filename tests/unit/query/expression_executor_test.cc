// Expression evaluation (src/query/expression_executor.h): vectorised paths agree with the
// row-by-row ones they replace.
#include "query/expression_executor.h"

#include <cmath>
#include <limits>
#include <optional>
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

BoundExprPtr DoubleColumn() {
  auto c = std::make_unique<BoundExpr>();
  c->kind = BoundKind::kColumn;
  c->type = SqlType::kDouble;
  c->column = 0;
  return c;
}

BoundExprPtr ConstantOf(Value v) {
  auto c = std::make_unique<BoundExpr>();
  c->kind = BoundKind::kConstant;
  c->type = v.type;
  c->constant = std::move(v);
  return c;
}

// Evaluates `e` over column 0 of `column` at once and row by row (each row a constant column,
// which goes through the row-wise path), and compares: values, NULLs, and errors.
void ExpectColumnAgreesWithRows(const BoundExpr& e, const DataChunk& column) {
  std::vector<Value> expected;
  std::string first_error;  // of the first row that fails alone
  for (size_t i = 0; i < column.rows && first_error.empty(); ++i) {
    DataChunk one;
    one.rows = 1;
    one.columns.resize(1);
    one.columns[0].SetConstant(column.columns[0].Get(i), column.columns[0].type);
    Vector one_scratch;
    auto r = Evaluate(e, one, &one_scratch);
    if (r.ok()) {
      expected.push_back((*r)->Get(0));
    } else {
      first_error = r.status().ToString();
    }
  }
  Vector scratch;
  auto vectorised = Evaluate(e, column, &scratch);
  if (!first_error.empty()) {
    ASSERT_FALSE(vectorised.ok()) << "a row fails alone (" << first_error << "), not the column";
    EXPECT_EQ(vectorised.status().ToString(), first_error);
    return;
  }
  ASSERT_TRUE(vectorised.ok()) << vectorised.status().ToString();
  for (size_t i = 0; i < column.rows; ++i) {
    const Value& want = expected[i];
    const Value got = (*vectorised)->Get(i);
    ASSERT_EQ(want.is_null, got.is_null) << "row " << i;
    if (want.is_null) continue;
    ASSERT_EQ(want.type, got.type);
    if (std::isnan(want.d)) {
      EXPECT_TRUE(std::isnan(got.d)) << "row " << i;
    } else {
      EXPECT_EQ(want.d, got.d) << "row " << i << " of " << column.columns[0].Get(i).ToString();
    }
  }
}

TEST(ExpressionExecutorTest, MathOverADoubleColumnAgreesWithMathRowByRow) {
  std::mt19937_64 rng(3);
  auto column_of = [&](bool positive) {
    DataChunk c;
    c.rows = 500;
    c.columns.resize(1);
    c.columns[0].Reset(SqlType::kDouble);
    for (size_t i = 0; i < c.rows; ++i) {
      if (i % 37 == 5) {
        c.columns[0].AppendNull();
        continue;
      }
      double v = static_cast<double>(static_cast<int64_t>(rng() % 200001) - 100000) / 1000;
      if (i == 11) v = -0.0;
      if (i == 12) v = 2.5;  // round half away from zero
      if (i == 13) v = -2.5;
      if (positive) v = std::fabs(v) + 0.001;
      c.columns[0].Append(Value::Double(v));
    }
    return c;
  };
  const DataChunk any = column_of(false), positive = column_of(true);
  struct Case {
    Function function;
    std::vector<Value> constants;  // arguments after the column
  };
  const std::vector<Case> cases = {
      {Function::kAbs, {}},
      {Function::kSign, {}},
      {Function::kRound, {}},
      {Function::kRound, {Value::BigInt(2)}},
      {Function::kRound, {Value::BigInt(-1)}},
      {Function::kRound, {Value::Null(SqlType::kBigInt)}},
      {Function::kFloor, {}},
      {Function::kCeil, {}},
      {Function::kTrunc, {Value::BigInt(1)}},
      {Function::kSqrt, {}},
      {Function::kLn, {}},
      {Function::kLog10, {}},
      {Function::kExp, {}},
      {Function::kPower, {Value::Double(2)}},
      {Function::kPower, {Value::Double(0.5)}},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    for (const DataChunk* column : {&any, &positive}) {
      SCOPED_TRACE(testing::Message() << "case " << k << (column == &any ? "" : ", positive"));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = cases[k].function;
      e->type = SqlType::kDouble;
      e->children.push_back(DoubleColumn());
      for (const Value& v : cases[k].constants) e->children.push_back(ConstantOf(v));
      ExpectColumnAgreesWithRows(*e, *column);
    }
  }
}

// A predicate selects exactly the rows where it is TRUE (not FALSE, not NULL), appended in order
// after what the selection held.
TEST(ExpressionExecutorTest, PredicateSelectsTheTrueRowsInOrder) {
  std::mt19937_64 rng(41);
  for (int nulls : {0, 1}) {
    for (int density : {0, 1, 2, 50, 100}) {  // percent of rows TRUE
      SCOPED_TRACE(testing::Message() << "nulls " << nulls << ", density " << density);
      DataChunk chunk;
      chunk.rows = 1000 + static_cast<size_t>(density);
      chunk.columns.resize(1);
      chunk.columns[0].Reset(SqlType::kBoolean);
      std::vector<uint32_t> expected = {7, 3};  // already there: kept as they are
      for (size_t i = 0; i < chunk.rows; ++i) {
        const bool truth = static_cast<int>(rng() % 100) < density;
        if (nulls && rng() % 5 == 0) {
          chunk.columns[0].AppendNull();
          continue;
        }
        chunk.columns[0].Append(Value::Boolean(truth));
        if (truth) expected.push_back(static_cast<uint32_t>(i));
      }
      auto column = std::make_unique<BoundExpr>();
      column->kind = BoundKind::kColumn;
      column->type = SqlType::kBoolean;
      column->column = 0;
      std::vector<uint32_t> selection = {7, 3};
      ASSERT_TRUE(EvaluatePredicate(*column, chunk, &selection).ok());
      EXPECT_EQ(selection, expected);
    }
  }
}

// Evaluation's temporaries come from the thread's pool: each borrowed vector is as good as new
// (nothing of its last use shows), borrows nest without sharing, buffers are kept for reuse
// unless they grew past the bound.
TEST(ScratchVectorsTest, BorrowedVectorsAreFreshNestAndKeepOnlySmallBuffers) {
  auto expect_fresh = [](const Vector& v) {
    EXPECT_EQ(v.type, SqlType::kNull);
    EXPECT_FALSE(v.constant);
    EXPECT_TRUE(v.valid.empty() && v.ints.empty() && v.doubles.empty() && v.strings.empty() &&
                v.months.empty());
  };
  const Vector* first = nullptr;
  {
    ScratchVectors outer(2);
    ASSERT_EQ(outer.size(), 2u);
    first = &outer[0];
    outer[0].Reset(SqlType::kDouble);
    outer[0].doubles.assign(1000, 1.5);
    outer[0].constant = true;
    outer[1].Reset(SqlType::kText);
    outer[1].strings.assign(3, std::string(100, 'x'));
    outer[1].valid = {1, 0, 1};
    {
      ScratchVectors inner(40);  // more than the pool held: it grows under `outer`
      for (size_t i = 0; i < inner.size(); ++i) {
        expect_fresh(inner[i]);
        EXPECT_NE(&inner[i], &outer[0]);
        EXPECT_NE(&inner[i], &outer[1]);
        inner[i].Reset(SqlType::kBigInt);
        inner[i].ints.assign(10, static_cast<int64_t>(i));
      }
    }
    // The inner borrow neither moved nor touched the outer vectors.
    EXPECT_EQ(&outer[0], first);
    EXPECT_EQ(outer[0].doubles.size(), 1000u);
    EXPECT_EQ(outer[1].strings[2], std::string(100, 'x'));
  }
  {
    ScratchVectors again(2);
    EXPECT_EQ(&again[0], first);
    expect_fresh(again[0]);
    expect_fresh(again[1]);
    EXPECT_GE(again[0].doubles.capacity(), 1000u);  // kept for reuse
    again[0].doubles.resize(ScratchVectors::kKeptBytes / sizeof(double) + 1);
  }
  ScratchVectors last(1);
  expect_fresh(last[0]);
  EXPECT_EQ(last[0].doubles.capacity(), 0u);  // too big to keep: freed
}

// DOUBLE arithmetic over a column fails when finite operands give an infinite result (as in
// PostgreSQL), wherever in the column that row is; infinite or NaN operands pass through.
TEST(ExpressionExecutorTest, DoubleArithmeticOverflowsOnlyFromFiniteOperands) {
  const double kMax = std::numeric_limits<double>::max();
  const double kInf = std::numeric_limits<double>::infinity();
  auto column_of = [](const std::vector<std::optional<double>>& values) {
    DataChunk c;
    c.rows = values.size();
    c.columns.resize(1);
    c.columns[0].Reset(SqlType::kDouble);
    for (const auto& v : values) {
      if (v) {
        c.columns[0].Append(Value::Double(*v));
      } else {
        c.columns[0].AppendNull();
      }
    }
    return c;
  };
  auto times = [](Function f, double constant) {
    auto e = std::make_unique<BoundExpr>();
    e->kind = BoundKind::kFunction;
    e->function = f;
    e->type = SqlType::kDouble;
    e->children.push_back(DoubleColumn());
    e->children.push_back(ConstantOf(Value::Double(constant)));
    return e;
  };
  // Infinite and NaN operands, the largest finite value kept finite, subnormals, NULL.
  const DataChunk mixed =
      column_of({1.5, -0.0, kMax, -kMax, kInf, -kInf, std::nan(""), 4.9e-324, std::nullopt, 1e300});
  for (Function f : {Function::kAdd, Function::kSubtract, Function::kMultiply, Function::kDivide,
                     Function::kModulo}) {
    for (double constant : {0.0, 0.5, 1.0, -1.0, kInf}) {
      SCOPED_TRACE(testing::Message() << "function " << static_cast<int>(f) << ", " << constant);
      ExpectColumnAgreesWithRows(*times(f, constant), mixed);
    }
  }
  {
    Vector scratch;
    auto r = Evaluate(*times(Function::kMultiply, 1.0), mixed, &scratch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(std::isinf((*r)->Get(4).d));
    EXPECT_TRUE(std::isnan((*r)->Get(6).d));
    EXPECT_EQ((*r)->Get(2).d, kMax);
  }
  // One overflowing row among 1,000 finite ones, at every position near either end (where a
  // vectorised loop keeps its remainder) and in the middle.
  for (size_t at : {0, 1, 2, 3, 4, 5, 500, 994, 995, 996, 997, 998, 999}) {
    SCOPED_TRACE(testing::Message() << "row " << at);
    std::vector<std::optional<double>> values(1000, 2.0);
    values[at] = 1e300;
    const DataChunk column = column_of(values);
    Vector scratch;
    auto r = Evaluate(*times(Function::kMultiply, 1e10), column, &scratch);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().ToString().find("value out of range: overflow in 1e+300 * 10000000000"),
              std::string::npos)
        << r.status().ToString();
    values[at] = kMax;
    r = Evaluate(*times(Function::kAdd, kMax), column_of(values), &scratch);
    EXPECT_FALSE(r.ok());
    r = Evaluate(*times(Function::kMultiply, 1e-10), column, &scratch);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
}

// AND and OR over columns: the two-valued path (no NULL anywhere) and the three-valued one agree
// with each row evaluated alone.
TEST(ExpressionExecutorTest, AndOrOverColumnsAgreeWithRowByRow) {
  std::mt19937_64 rng(23);
  for (bool nulls : {false, true}) {
    DataChunk chunk;
    chunk.rows = 300;
    chunk.columns.resize(3);
    for (Vector& c : chunk.columns) {
      c.Reset(SqlType::kBoolean);
      for (size_t i = 0; i < chunk.rows; ++i) {
        if (nulls && rng() % 7 == 0) {
          c.AppendNull();
        } else {
          c.Append(Value::Boolean(rng() % 2 == 0));
        }
      }
    }
    for (BoundKind kind : {BoundKind::kAnd, BoundKind::kOr}) {
      auto e = std::make_unique<BoundExpr>();
      e->kind = kind;
      e->type = SqlType::kBoolean;
      for (int c = 0; c < 3; ++c) {
        auto col = std::make_unique<BoundExpr>();
        col->kind = BoundKind::kColumn;
        col->type = SqlType::kBoolean;
        col->column = c;
        e->children.push_back(std::move(col));
      }
      Vector scratch;
      auto all = Evaluate(*e, chunk, &scratch);
      ASSERT_TRUE(all.ok());
      for (size_t i = 0; i < chunk.rows; ++i) {
        DataChunk one;
        one.rows = 1;
        one.columns.resize(3);
        for (int c = 0; c < 3; ++c) {
          one.columns[c].SetConstant(chunk.columns[c].Get(i), SqlType::kBoolean);
        }
        Vector one_scratch;
        auto alone = Evaluate(*e, one, &one_scratch);
        ASSERT_TRUE(alone.ok());
        const Value want = (*alone)->Get(0), got = (*all)->Get(i);
        ASSERT_EQ(want.is_null, got.is_null) << "row " << i;
        if (!want.is_null) {
          EXPECT_EQ(want.i, got.i) << "row " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace seaway::query
