// Aggregate functions: per-group states updated a chunk at a time (src/query).
//
// An AggregateState holds the state of every group of one aggregate in flat arrays indexed by
// group number; Update takes the argument vectors of a chunk and the group of each row, so the
// inner loops are simple array updates. NULL arguments are skipped (count(*) counts rows); an
// aggregate over no rows is NULL, except count which is 0.
//
// Thread-compatible: one state per aggregation (per thread, when a scan is split).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/bound_expr.h"
#include "query/vector.h"
#include "storage/engine.h"

namespace seaway::query {

enum class AggregateKind : uint8_t {
  kCountStar,
  kCount,
  kCountDistinct,
  kSum,
  kAvg,
  kMin,
  kMax,
  kFirst,  // first(value, time): the value at the smallest time
  kLast,   // last(value, time): the value at the largest time
  kStddevSamp,
  kStddevPop,
  kVarSamp,
  kVarPop,
  kPercentileCont,  // fraction in AggregateSpec
  kPercentileDisc,
  kSpread,  // max - min
};

// Resolves an aggregate function's name ("count", "stddev", "median", ...), or nullopt when
// `name` is not an aggregate. Synonyms map to one kind (stddev = stddev_samp, median =
// percentile_cont 0.5).
std::optional<AggregateKind> FindAggregate(std::string_view name, bool distinct, bool star,
                                           double* fraction);

// The type an aggregate returns for an argument of `input` type; InvalidArgument when the
// argument type does not fit (sum of TEXT).
Result<SqlType> AggregateResultType(AggregateKind kind, SqlType input, std::string_view name);

struct AggregateSpec {
  AggregateKind kind = AggregateKind::kCountStar;
  SqlType input_type = SqlType::kNull;
  SqlType result_type = SqlType::kBigInt;
  double fraction = 0.5;    // percentiles
  bool descending = false;  // percentiles WITHIN GROUP (ORDER BY x DESC)
  // Arguments over the aggregation's input: value [, time] for first/last.
  std::vector<BoundExprPtr> args;
  std::string key;    // canonical text, to share one state between equal calls
  size_t offset = 0;  // of the call in the query text, for errors raised while running
  // Gap filling of this output column (time_bucket_gapfill): 0 NULL, 1 locf, 2 interpolate.
  uint8_t fill = 0;
};

class AggregateState {
 public:
  virtual ~AggregateState() = default;
  // Makes room for `groups` groups (new ones empty).
  virtual void Resize(size_t groups) = 0;
  // Folds rows [begin, end) into their groups. `args` are the evaluated arguments (rows of the
  // chunk, or constant); `groups[i]` is row i's group.
  virtual Status Update(const std::vector<const Vector*>& args, const uint32_t* groups,
                        size_t begin, size_t end) = 0;
  // Folds rows [begin, end) into one group: the common case of time-series aggregation, where a
  // series block's rows share their tag keys and time buckets come in runs. The default builds
  // a group array; states override it with loops that keep the state in registers.
  virtual Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                             uint32_t group);
  // Folds statistics of `rows` rows into `group`: `field` holds the argument's count, min, max
  // and sum over those rows (null for count(*)). Only for aggregates the statistics answer
  // (SupportsSummary); the default refuses.
  virtual Status UpdateSummary(uint32_t group, uint64_t rows, const SeriesSummary::Field* field);
  // Folds the groups of `other` (a state of the same aggregate) into this one: other's group g
  // goes to group_map[g]. Used to combine the partial states of a scan split across threads.
  // REQUIRES: Resize covers every mapped group.
  virtual Status Merge(AggregateState& other, const std::vector<uint32_t>& group_map) = 0;
  // Appends the result of groups [0, groups) to *out (of the result type).
  virtual void Finalize(size_t groups, Vector* out) = 0;
  // Approximate heap bytes; cheap (no walk over values).
  virtual size_t MemoryBytes() const = 0;

 private:
  std::vector<uint32_t> scratch_groups_;
};

std::unique_ptr<AggregateState> MakeAggregateState(const AggregateSpec& spec);

// Whether segment chunk statistics answer `spec` exactly (up to the order of a double sum):
// count(*), count(x), min/max of numbers and booleans, sum and avg of DOUBLE.
bool SupportsSummary(const AggregateSpec& spec);

}  // namespace seaway::query
