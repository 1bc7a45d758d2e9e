// Bound expressions: names resolved to column positions, types known, functions chosen
// (src/query). The binder builds them from the syntax tree; expression_executor evaluates them
// over chunks.
//
// Constant sub-expressions are folded while binding (now(), '2026-01-01'::timestamp,
// now() - INTERVAL '1 hour'), so a bound tree holds only what depends on a row.
//
// Thread-compatible; evaluation is const and may run on several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "query/value.h"

namespace re2 {
class RE2;
}

namespace seaway::query {

enum class BoundKind : uint8_t {
  kConstant,
  kColumn,    // input column `column`
  kFunction,  // scalar function `function` over children
  kAnd,       // three-valued, any number of children
  kOr,
  kNot,
  kIsNull,  // negated: IS NOT NULL
  kInList,  // children[0] IN (list); negated: NOT IN
  kCase,    // children: when1, then1, when2, then2, ..., [else]
  kCast,    // children[0] to `type`
  kMatch,   // LIKE, ILIKE and regex: children[0] against `regex`; negated
};

enum class Function : uint8_t {
  // Arithmetic and comparison (two children of the common type, chosen by the binder).
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kNegate,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kConcat,
  // TIMESTAMP +/- INTERVAL (the interval a constant with months), TIMESTAMP - TIMESTAMP.
  kTimestampAddInterval,
  kTimestampSubtract,
  // INTERVAL * or / a number (children: the interval, the DOUBLE factor; unit "/" divides), and
  // an INTERVAL's length in seconds (EXTRACT(epoch FROM interval)).
  kIntervalScale,
  kIntervalEpoch,
  // Numbers.
  kAbs,
  kRound,  // round(x) or round(x, digits)
  kFloor,
  kCeil,
  kTrunc,
  kSqrt,
  kLn,
  kLog10,
  kLog,  // log(base, x): ln(x) / ln(base)
  kExp,
  kPower,  // power(x, p); unit "^" when written x ^ p, so that its errors say so
  kSign,
  // Text.
  kLower,
  kUpper,
  kLength,
  kSubstr,
  kRegexSubstr,  // (TEXT): the first match of `regex`, or of its first group; NULL if none
  kStrpos,       // (haystack, needle): 1-based character position, 0 if absent
  kReplace,
  kTrim,
  kLtrim,
  kRtrim,
  kStartsWith,
  kSplitPart,
  kConcatWs,  // (separator, text...): NULLs skipped, a NULL separator gives NULL
  kLeft,
  kRight,
  // Conditional.
  kCoalesce,
  kNullIf,
  kGreatest,
  kLeast,
  // Time.
  kTimeBucket,  // (TIMESTAMP) with `interval`, `origin` and optional zone: fixed or calendar
  kDateTrunc,   // (TIMESTAMP) with `unit` and optional zone
  kExtract,     // (TIMESTAMP) -> DOUBLE, `unit` and optional zone
  kFormatTime,  // (TIMESTAMP) -> TEXT with a strftime-style `format`
  kToChar,      // (TIMESTAMP) -> TEXT with a PostgreSQL template `format` (time_template.h)
  kEpochNanos,  // TIMESTAMP -> BIGINT
};

struct BoundExpr;
using BoundExprPtr = std::unique_ptr<BoundExpr>;

struct BoundExpr {
  BoundKind kind = BoundKind::kConstant;
  SqlType type = SqlType::kNull;
  size_t offset = 0;  // in the query text, for errors raised while running

  Value constant;   // kConstant
  int column = -1;  // kColumn
  Function function = Function::kAdd;
  std::vector<BoundExprPtr> children;
  bool negated = false;

  // kInList: the list's values, already of the operand's type (NULLs dropped, see has_null),
  // and the same hashed (MakeInListIndex), built by the binder and only read afterwards.
  std::vector<Value> list;
  bool list_has_null = false;
  std::shared_ptr<const struct InListIndex> list_index;
  // kMatch.
  std::shared_ptr<const re2::RE2> regex;
  // Time functions: the bucket width, unit name, zone and format.
  Interval interval;
  int64_t origin = 0;
  std::string unit;
  std::string zone;  // empty: UTC
  std::string format;

  // A canonical text of the tree: equal keys mean equal expressions (GROUP BY matching).
  std::string key;
};

}  // namespace seaway::query
