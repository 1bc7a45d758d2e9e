// Aggregate states (src/query/aggregate.h): the run path (UpdateRange) and the row path
// (Update) agree, NaN included (it sorts above every number, as in PostgreSQL).
#include "query/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>

#include <gtest/gtest.h>

namespace seaway::query {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A state of `kind` over DOUBLE values with a DOUBLE result, holding one group.
std::unique_ptr<AggregateState> DoubleState(AggregateKind kind, double fraction = 0.5) {
  AggregateSpec spec;
  spec.kind = kind;
  spec.input_type = SqlType::kDouble;
  spec.result_type = SqlType::kDouble;
  spec.fraction = fraction;
  auto state = MakeAggregateState(spec);
  state->Resize(1);
  return state;
}

Value Aggregate(AggregateKind kind, const std::vector<double>& values, bool by_range) {
  auto state = DoubleState(kind);
  Vector v;
  v.Reset(SqlType::kDouble);
  v.doubles = values;
  std::vector<const Vector*> args = {&v};
  // Two halves, so that the second folds into a group the first has seen.
  const size_t half = values.size() / 2;
  if (by_range) {
    EXPECT_TRUE(state->UpdateRange(args, 0, half, 0).ok());
    EXPECT_TRUE(state->UpdateRange(args, half, values.size(), 0).ok());
  } else {
    std::vector<uint32_t> groups(values.size(), 0);
    EXPECT_TRUE(state->Update(args, groups.data(), 0, half).ok());
    EXPECT_TRUE(state->Update(args, groups.data(), half, values.size()).ok());
  }
  Vector out;
  out.Reset(SqlType::kDouble);
  state->Finalize(1, &out);
  return out.Get(0);
}

void ExpectSame(const Value& a, const Value& b) {
  ASSERT_EQ(a.is_null, b.is_null);
  if (std::isnan(a.d) || std::isnan(b.d)) {
    EXPECT_TRUE(std::isnan(a.d) && std::isnan(b.d)) << a.d << " vs " << b.d;
  } else {
    EXPECT_EQ(a.d, b.d);
  }
}

TEST(AggregateTest, MinAndMaxTreatNaNAsTheGreatestValueOnBothPaths) {
  const std::vector<std::vector<double>> cases = {
      {1, kNaN, 3, 2}, {kNaN, kNaN}, {kNaN, 5, -1, kNaN}, {4, 2, 9, 7}, {-0.0, 0.0}};
  for (const auto& values : cases) {
    for (AggregateKind kind : {AggregateKind::kMin, AggregateKind::kMax}) {
      ExpectSame(Aggregate(kind, values, true), Aggregate(kind, values, false));
    }
  }
  EXPECT_TRUE(std::isnan(Aggregate(AggregateKind::kMax, {1, kNaN, 3, 2}, true).d));
  EXPECT_EQ(Aggregate(AggregateKind::kMin, {1, kNaN, 3, 2}, true).d, 1);
  EXPECT_TRUE(std::isnan(Aggregate(AggregateKind::kMin, {kNaN, kNaN}, true).d));
  EXPECT_EQ(Aggregate(AggregateKind::kMax, {4, 2, 9, 7}, true).d, 9);
}

TEST(AggregateTest, SumAndAvgAgreeOnBothPaths) {
  const std::vector<double> values = {1.5, 2.25, -3, 8, 0.125, 4};
  for (AggregateKind kind : {AggregateKind::kSum, AggregateKind::kAvg}) {
    ExpectSame(Aggregate(kind, values, true), Aggregate(kind, values, false));
  }
  EXPECT_EQ(Aggregate(AggregateKind::kSum, values, true).d, 12.875);
}

// percentile_cont/disc against the definition over fully sorted values (NaN above every
// number), on random groups of every size from 1 to 60, with and without NaN and repeats.
TEST(AggregateTest, PercentilesMatchTheirDefinitionOverSortedValues) {
  std::mt19937_64 rng(11);
  for (size_t n = 1; n <= 60; ++n) {
    for (int variant = 0; variant < 3; ++variant) {
      std::vector<double> values(n);
      for (double& x : values) {
        x = static_cast<double>(rng() % (variant == 1 ? 4 : 1000)) / 8;  // variant 1: repeats
        if (variant == 2 && rng() % 5 == 0) x = kNaN;
      }
      std::vector<double> sorted = values;
      std::sort(sorted.begin(), sorted.end(),
                [](double a, double b) { return std::isnan(b) ? !std::isnan(a) : a < b; });
      for (double fraction : {0.0, 0.1, 0.25, 0.5, 0.9, 0.95, 1.0}) {
        for (AggregateKind kind :
             {AggregateKind::kPercentileCont, AggregateKind::kPercentileDisc}) {
          auto state = DoubleState(kind, fraction);
          Vector v;
          v.Reset(SqlType::kDouble);
          v.doubles = values;
          std::vector<uint32_t> groups(n, 0);
          ASSERT_TRUE(state->Update({&v}, groups.data(), 0, n).ok());
          Vector out;
          out.Reset(SqlType::kDouble);
          state->Finalize(1, &out);
          double want;
          if (kind == AggregateKind::kPercentileDisc) {
            size_t k = static_cast<size_t>(std::ceil(fraction * static_cast<double>(n)));
            want = sorted[std::min(k == 0 ? 0 : k - 1, n - 1)];
          } else {
            const double pos = fraction * static_cast<double>(n - 1);
            const size_t lo = static_cast<size_t>(std::floor(pos));
            const size_t hi = static_cast<size_t>(std::ceil(pos));
            want = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
          }
          SCOPED_TRACE(testing::Message()
                       << "n=" << n << " variant=" << variant << " fraction=" << fraction);
          ExpectSame(out.Get(0), Value::Double(want));
        }
      }
    }
  }
}

// Variance and standard deviation: the run path (two passes per run, runs combined) and the row
// path (Welford's update per value) both agree with a long double computation, also for values
// far from zero with a small spread, where a naive sum of squares loses every digit.
TEST(AggregateTest, VarianceAgreesOnBothPaths) {
  std::mt19937_64 rng(13);
  for (double offset : {0.0, 1e6, -3e9}) {
    std::vector<double> values(5000);
    for (double& x : values) x = offset + static_cast<double>(rng() % 100000) / 1000;
    long double mean = 0, m2 = 0;
    for (double x : values) mean += x;
    mean /= static_cast<long double>(values.size());
    for (double x : values) m2 += (x - mean) * (x - mean);
    const double n = static_cast<double>(values.size());
    const std::vector<std::pair<AggregateKind, double>> kinds = {
        {AggregateKind::kVarSamp, static_cast<double>(m2) / (n - 1)},
        {AggregateKind::kVarPop, static_cast<double>(m2) / n},
        {AggregateKind::kStddevSamp, std::sqrt(static_cast<double>(m2) / (n - 1))},
        {AggregateKind::kStddevPop, std::sqrt(static_cast<double>(m2) / n)}};
    for (const auto& [kind, want] : kinds) {
      SCOPED_TRACE(testing::Message()
                   << "offset " << offset << ", kind " << static_cast<int>(kind));
      EXPECT_NEAR(Aggregate(kind, values, true).d, want, 1e-7 * want);
      EXPECT_NEAR(Aggregate(kind, values, false).d, want, 1e-7 * want);
    }
  }
}

// count(DISTINCT x) over constant columns (a tag per series block), by run and by row, with
// non-constant columns and NULLs mixed in: each group counts each value once.
TEST(AggregateTest, CountDistinctCountsConstantsOncePerGroup) {
  AggregateSpec spec;
  spec.kind = AggregateKind::kCountDistinct;
  spec.input_type = SqlType::kText;
  spec.result_type = SqlType::kBigInt;
  auto state = MakeAggregateState(spec);
  state->Resize(3);
  auto constant = [](const char* text) {
    Vector v;
    v.SetConstant(text ? Value::Text(text) : Value::Null(SqlType::kText), SqlType::kText);
    return v;
  };
  const Vector a = constant("a"), b = constant("b"), null = constant(nullptr);
  Vector mixed;
  mixed.Reset(SqlType::kText);
  for (const char* t : {"a", "c", "c", "d"}) mixed.Append(Value::Text(t));
  mixed.AppendNull();
  const std::vector<uint32_t> groups = {0, 0, 1, 1, 0, 2, 2};
  ASSERT_TRUE(state->Update({&a}, groups.data(), 0, groups.size()).ok());  // a in 0, 1, 2
  ASSERT_TRUE(state->Update({&b}, groups.data(), 2, 4).ok());              // b in 1
  ASSERT_TRUE(state->Update({&null}, groups.data(), 0, groups.size()).ok());
  ASSERT_TRUE(state->UpdateRange({&b}, 0, 3, 0).ok());  // b in 0
  ASSERT_TRUE(state->UpdateRange({&b}, 1, 1, 2).ok());  // an empty run: nothing
  ASSERT_TRUE(state->UpdateRange({&null}, 0, 3, 2).ok());
  ASSERT_TRUE(state->UpdateRange({&mixed}, 0, 5, 2).ok());  // a, c, d in 2
  Vector out;
  out.Reset(SqlType::kBigInt);
  state->Finalize(3, &out);
  EXPECT_EQ(out.Get(0).i, 2);  // a, b
  EXPECT_EQ(out.Get(1).i, 2);  // a, b
  EXPECT_EQ(out.Get(2).i, 3);  // a, c, d

  // Another state (another half of the series), its values numbered in another order, folded
  // in: its group 0 into group 2, its group 1 into group 0.
  auto other = MakeAggregateState(spec);
  other->Resize(2);
  const Vector e = constant("e");
  ASSERT_TRUE(other->UpdateRange({&e}, 0, 1, 0).ok());      // e in 0
  ASSERT_TRUE(other->UpdateRange({&mixed}, 0, 5, 0).ok());  // a, c, d in 0
  ASSERT_TRUE(other->UpdateRange({&e}, 0, 1, 1).ok());      // e in 1
  ASSERT_TRUE(other->UpdateRange({&b}, 0, 1, 1).ok());      // b in 1
  ASSERT_TRUE(state->Merge(*other, {2, 0}).ok());
  out.Reset(SqlType::kBigInt);
  state->Finalize(3, &out);
  EXPECT_EQ(out.Get(0).i, 3);  // a, b, e
  EXPECT_EQ(out.Get(1).i, 2);  // a, b
  EXPECT_EQ(out.Get(2).i, 4);  // a, c, d, e
}

// The run path skips NULL rows (their stored value is never read into a sum).
TEST(AggregateTest, AvgAndVarianceSkipNullsOnTheRunPath) {
  Vector v;
  v.Reset(SqlType::kDouble);
  std::vector<double> kept;
  for (int i = 0; i < 103; ++i) {
    if (i % 3 == 0) {
      v.AppendNull();
      v.doubles.back() = 1e300;  // whatever a NULL row holds must not count
    } else {
      v.Append(Value::Double(i * 0.5));
      kept.push_back(i * 0.5);
    }
  }
  double mean = 0, m2 = 0;
  for (double x : kept) mean += x;
  mean /= static_cast<double>(kept.size());
  for (double x : kept) m2 += (x - mean) * (x - mean);
  for (auto [kind, want] : std::vector<std::pair<AggregateKind, double>>{
           {AggregateKind::kAvg, mean},
           {AggregateKind::kVarPop, m2 / static_cast<double>(kept.size())}}) {
    auto state = DoubleState(kind);
    ASSERT_TRUE(state->UpdateRange({&v}, 0, 50, 0).ok());
    ASSERT_TRUE(state->UpdateRange({&v}, 50, 103, 0).ok());
    Vector out;
    out.Reset(SqlType::kDouble);
    state->Finalize(1, &out);
    EXPECT_NEAR(out.Get(0).d, want, 1e-9 * want);
  }
}

// first(v, t) and last(v, t): by run (the best row of each run offered once) and by row (every
// row offered) keep the same row, with ties of time (first: the earliest row among them; last:
// the latest) and NULL values or times.
TEST(AggregateTest, FirstAndLastAgreeOnBothPaths) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 50; ++trial) {
    Vector v, t;
    v.Reset(SqlType::kDouble);
    t.Reset(SqlType::kTimestamp);
    const size_t n = 1 + rng() % 200;
    for (size_t i = 0; i < n; ++i) {
      if (rng() % 10 == 0) {
        v.AppendNull();
      } else {
        v.Append(Value::Double(static_cast<double>(i)));  // the row's number: tells rows apart
      }
      if (rng() % 15 == 0) {
        t.AppendNull();
      } else {
        t.Append(Value::Timestamp(static_cast<int64_t>(rng() % 20)));
      }
    }
    for (AggregateKind kind : {AggregateKind::kFirst, AggregateKind::kLast}) {
      auto by_run = DoubleState(kind), by_row = DoubleState(kind);
      const std::vector<uint32_t> groups(n, 0);
      for (size_t begin = 0; begin < n;) {
        const size_t end = std::min(n, begin + 1 + rng() % 40);
        ASSERT_TRUE(by_run->UpdateRange({&v, &t}, begin, end, 0).ok());
        ASSERT_TRUE(by_row->Update({&v, &t}, groups.data(), begin, end).ok());
        begin = end;
      }
      Vector a, b;
      a.Reset(SqlType::kDouble);
      b.Reset(SqlType::kDouble);
      by_run->Finalize(1, &a);
      by_row->Finalize(1, &b);
      ASSERT_EQ(a.Get(0).is_null, b.Get(0).is_null);
      EXPECT_EQ(a.Get(0).d, b.Get(0).d) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace seaway::query
