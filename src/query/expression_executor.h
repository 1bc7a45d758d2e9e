// Vectorised evaluation of bound expressions over chunks (src/query).
//
// Semantics follow PostgreSQL where the two agree with SQLite's: three-valued logic, NULL in ->
// NULL out for operators and most functions, integer division truncates. Division or modulo by
// zero gives NULL (as in SQLite and MySQL) rather than failing the query, so that
// `CASE WHEN x <> 0 THEN y / x END` needs no lazy evaluation; functions whose finite arguments
// have no finite result fail as in PostgreSQL (exp(1000), power(0, -1), log(1, x)). Integer
// overflow fails the query with an error naming the operator's position: every error Evaluate
// returns is marked with the offset of the innermost expression that failed (sql::MarkErrorOffset),
// which QueryEngine (or the planner, folding constants) turns into the line, column and excerpt of
// the query text.
//
// Thread-safe: evaluation reads the expression and the chunk only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "common/result.h"
#include "query/bound_expr.h"
#include "query/vector.h"

namespace seaway::query {

// Evaluates `expr` over `input`. The result is a pointer to an input column (for a column
// reference) or to `*scratch`; it has `input.rows` rows or is constant.
Result<const Vector*> Evaluate(const BoundExpr& expr, const DataChunk& input, Vector* scratch);

// Evaluates a BOOLEAN `expr` and appends to *selection the rows where it is TRUE (not FALSE or
// NULL), in ascending order.
Status EvaluatePredicate(const BoundExpr& expr, const DataChunk& input,
                         std::vector<uint32_t>* selection);

// Evaluates an expression without column references.
Result<Value> EvaluateConstant(const BoundExpr& expr);

// Evaluates a BIGINT-backed `expr` that reads no column but 0 (a TIMESTAMP) at the instant `t`:
// the start of the time bucket holding `t`, for instance. Internal error for a NULL result.
Result<int64_t> EvaluateAtTime(const BoundExpr& expr, int64_t t);

// The buckets of a time key whose every bucket is one contiguous range of time: time_bucket or
// date_trunc straight over the time column (column 0), in UTC. (In a zone, wall-clock times that
// repeat when summer time ends can bring a bucket back after another one.) Lets a whole segment
// chunk of one bucket be answered from its statistics.
class TimeKeyBuckets {
 public:
  // nullopt when `key` is not such a key.
  static std::optional<TimeKeyBuckets> For(const BoundExpr& key);

  // The bucket holding `t`: [first, end), `first` being the key's value at `t` (`end` saturates
  // at the largest time). The last bucket is kept: times of one series, and of series written
  // together, mostly fall in it. Thread-compatible.
  Result<std::pair<int64_t, int64_t>> Range(int64_t t);

 private:
  explicit TimeKeyBuckets(const BoundExpr* key) : key_(key) {}
  const BoundExpr* key_;                    // not owned
  std::pair<int64_t, int64_t> last_{1, 0};  // empty at first
};

// The values of an IN list hashed by type, so that a row's test costs a lookup however long
// the list (IN (SELECT ...) lists run to millions). Doubles by DoubleKeyBits (-0 as 0, every
// NaN as one: NaN equals NaN, as in PostgreSQL).
struct InListIndex {
  absl::flat_hash_set<std::string> texts;
  absl::flat_hash_set<int64_t> ints;  // BIGINT, UBIGINT, BOOLEAN, TIMESTAMP, INTERVAL nanos
  absl::flat_hash_set<uint64_t> doubles;
};
std::shared_ptr<const InListIndex> MakeInListIndex(const std::vector<Value>& list);

// Converts `input` (`rows` rows or constant) to `type`. InvalidArgument for text that does not
// parse or values out of range, naming the value and both types.
Status CastVector(const Vector& input, size_t rows, SqlType type, Vector* out);
Result<Value> CastValue(const Value& value, SqlType type);

// Loads an IANA zone ("Europe/Paris") or "UTC"; InvalidArgument naming unknown zones.
Status CheckTimeZone(std::string_view zone);

// Units of date_trunc and extract, lower case; InvalidArgument listing the valid ones.
Status CheckDateTruncUnit(std::string_view unit);
Status CheckExtractField(std::string_view field);

}  // namespace seaway::query
