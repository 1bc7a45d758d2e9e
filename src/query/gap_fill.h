// Gap filling for time-bucketed aggregations (src/query), the TimescaleDB way:
//
//   SELECT time_bucket_gapfill('5m', time) AS t, machine_id,
//          avg(temperature),                       -- empty buckets: NULL
//          coalesce(avg(temperature), 0),          -- a value
//          locf(avg(temperature)),                 -- the previous bucket's value
//          interpolate(avg(temperature))           -- linear between its neighbours
//   FROM machines WHERE time >= ... AND time < ... GROUP BY t, machine_id
//
// GapFillNode sits on the aggregate's output (keys, then aggregates) and, for every group of the
// other keys, emits one row per bucket from `start` to `finish` (the WHERE time range unless
// given as time_bucket_gapfill's third and fourth arguments), with NULL aggregates in the
// buckets that had no rows; then it applies locf and interpolate to the columns that ask for
// them. Rows come out ordered by the other keys, then the bucket.
//
// Thread-compatible: one query runs on one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "query/plan.h"

namespace seaway::query {

enum class FillMode : uint8_t { kNull, kLocf, kInterpolate };

class GapFillNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
  int bucket_column = 0;           // in the child's layout
  std::vector<int> group_columns;  // the other keys
  std::vector<FillMode> fill;      // per child column (keys: kNull, ignored)
  // time_bucket over a one-column chunk (column 0: TIMESTAMP): maps a time to its bucket start.
  BoundExprPtr bucket;
  int64_t start = 0;   // inclusive
  int64_t finish = 0;  // exclusive
};

}  // namespace seaway::query
