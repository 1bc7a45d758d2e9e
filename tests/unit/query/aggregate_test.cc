// Aggregate states (src/query/aggregate.h): the run path (UpdateRange) and the row path
// (Update) agree, NaN included (it sorts above every number, as in PostgreSQL).
#include "query/aggregate.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace seaway::query {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Value Aggregate(AggregateKind kind, const std::vector<double>& values, bool by_range) {
  AggregateSpec spec;
  spec.kind = kind;
  spec.input_type = SqlType::kDouble;
  spec.result_type = SqlType::kDouble;
  auto state = MakeAggregateState(spec);
  state->Resize(1);
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

}  // namespace
}  // namespace seaway::query
