// SQL types and scalar values of the query engine (src/query).
//
// Every column and expression has one SqlType. Storage field types map onto them (float ->
// DOUBLE, integer -> BIGINT, unsigned -> UBIGINT, boolean -> BOOLEAN, string -> TEXT); `time`
// is TIMESTAMP (ns since the Unix epoch, UTC) and tags are TEXT. NULL literals have type kNull
// until the context gives them one.
//
// An Interval is months plus nanoseconds: '1 month' cannot be a fixed number of nanoseconds,
// '5 minutes' and '2 days' can (a day is 24 hours, as in UTC; calendar days in a time zone are
// handled by date_trunc and time_bucket with a zone argument).
//
// Thread-compatible values.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/result.h"

namespace seaway::query {

enum class SqlType : uint8_t {
  kNull,
  kBoolean,
  kBigInt,
  kUBigInt,
  kDouble,
  kText,
  kTimestamp,
  kInterval,
};

// "BOOLEAN", "BIGINT", "UBIGINT", "DOUBLE", "TEXT", "TIMESTAMP", "INTERVAL", "NULL".
std::string_view SqlTypeName(SqlType type);

inline bool IsNumeric(SqlType t) {
  return t == SqlType::kBigInt || t == SqlType::kUBigInt || t == SqlType::kDouble;
}

// Values held in Vector::ints (the others hold doubles, strings or nothing).
inline bool IsIntegerBacked(SqlType t) {
  return t == SqlType::kBoolean || t == SqlType::kBigInt || t == SqlType::kUBigInt ||
         t == SqlType::kTimestamp || t == SqlType::kInterval;
}

// DOUBLEs are ordered as PostgreSQL orders them, in comparisons, sorts, min/max, group keys,
// DISTINCT and joins alike: NaN equals NaN and sorts above every other number (+Infinity too),
// and -0 equals 0. -1, 0 or 1.
inline int CompareDoubles(double a, double b) {
  const bool an = std::isnan(a), bn = std::isnan(b);
  if (an || bn) return static_cast<int>(an) - static_cast<int>(bn);
  return a < b ? -1 : a > b ? 1 : 0;
}

// The bits a DOUBLE is hashed by where equal values must hash alike: -0 as 0, every NaN (any
// sign or payload, e.g. 0/0's negative one) as one.
inline uint64_t DoubleKeyBits(double d) {
  if (std::isnan(d)) return std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN());
  return std::bit_cast<uint64_t>(d == 0 ? 0.0 : d);
}

struct Interval {
  int64_t months = 0;
  int64_t nanos = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

// '5 minutes', '1 hour 30 minutes', '2 days', '1 month', '1y', '5m', '250ms', '-1 day',
// '00:05:00' (PostgreSQL and InfluxDB spellings). InvalidArgument naming the text otherwise.
Result<Interval> ParseInterval(std::string_view text);
// PostgreSQL's output style: "01:30:00", "1 year 2 mons 3 days 00:00:01.5", "-1 days",
// "00:00:00".
std::string FormatInterval(Interval interval);

// RFC 3339 with the fraction only when non-zero: 2026-01-01T00:00:00Z,
// 2026-01-01T00:00:00.25Z.
std::string FormatTimestamp(int64_t nanos);
// A timestamp literal as PostgreSQL reads one: a date ('2026-01-01', midnight), a date and time
// ('2026-01-01 08:30', '2026-01-01T08:30:15.25'), then optionally a zone: 'Z', ' UTC', an
// offset ('+02', '+0200', '+02:00', also after a space). Without a zone the time is UTC here;
// `*zoned` (when given) tells whether the text named one.
Result<int64_t> ParseTimestamp(std::string_view text, bool* zoned = nullptr);
// The same, reading a time without a zone as wall-clock time in `zone` (an IANA name; empty or
// "UTC": UTC), as PostgreSQL reads it in the session's time zone.
Result<int64_t> ParseTimestampIn(std::string_view text, std::string_view zone);

// A scalar: a constant of an expression, a group key, one cell of a result.
struct Value {
  SqlType type = SqlType::kNull;
  bool is_null = true;
  int64_t i = 0;  // BOOLEAN (0/1), BIGINT, UBIGINT (bit pattern), TIMESTAMP, INTERVAL nanos
  double d = 0;
  std::string s;
  int64_t months = 0;  // INTERVAL only

  static Value Null(SqlType type = SqlType::kNull) {
    Value v;
    v.type = type;
    return v;
  }
  static Value Boolean(bool b) { return Of(SqlType::kBoolean, b ? 1 : 0); }
  static Value BigInt(int64_t x) { return Of(SqlType::kBigInt, x); }
  static Value UBigInt(uint64_t x) { return Of(SqlType::kUBigInt, static_cast<int64_t>(x)); }
  static Value Timestamp(int64_t ns) { return Of(SqlType::kTimestamp, ns); }
  static Value Double(double x) {
    Value v;
    v.type = SqlType::kDouble;
    v.is_null = false;
    v.d = x;
    return v;
  }
  static Value Text(std::string x) {
    Value v;
    v.type = SqlType::kText;
    v.is_null = false;
    v.s = std::move(x);
    return v;
  }
  static Value OfInterval(Interval x) {
    Value v = Of(SqlType::kInterval, x.nanos);
    v.months = x.months;
    return v;
  }

  Interval interval() const { return {months, i}; }
  // The value as SQL text (NULL -> "NULL"), as the CLI and error messages show it.
  std::string ToString() const;

 private:
  static Value Of(SqlType type, int64_t x) {
    Value v;
    v.type = type;
    v.is_null = false;
    v.i = x;
    return v;
  }
};

// A DOUBLE as PostgreSQL's float8 output writes it: the shortest digits that read back to the
// same value, fixed notation for decimal exponents -4..14, scientific otherwise (1e+15,
// 1.5e-05); NaN, Infinity and -Infinity. What ::text, the CLI and the result formats write.
std::string FormatDouble(double d);

}  // namespace seaway::query
