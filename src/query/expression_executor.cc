// Vectorised expression evaluation (src/query).
#include "query/expression_executor.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <re2/re2.h>

#include "common/int_math.h"
#include "query/time_template.h"
#include "sql/source_excerpt.h"

namespace seaway::query {
namespace {

// `x` rounded to `digits` decimals (negative: tens, hundreds...), half away from zero, on its
// 15 significant decimal digits as PostgreSQL rounds a float8 made numeric: round(1.005, 2) is
// 1.01, not the 1.0 that scaling the binary value gives.
double RoundDecimal(double x, int64_t digits) {
  if (!std::isfinite(x) || x == 0) return x;
  if (digits >= 0 && digits <= 15) {
    // The binary value scaled rounds the same way unless it lies within the 15-digit error of a
    // half (about 5e-15 of it): then only the decimal digits can tell. 10^digits, the integer
    // and their quotient are exact or correctly rounded, as strtod of the decimal text is.
    constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const double scaled = x * kPow10[digits];
    const double half_distance = std::fabs(std::fabs(scaled - std::trunc(scaled)) - 0.5);
    if (half_distance > 1e-14 * std::max(1.0, std::fabs(scaled))) {
      return std::round(scaled) / kPow10[digits];
    }
  }
  char text[40];
  std::snprintf(text, sizeof text, "%.14e", x);  // d.dddddddddddddde[+-]XX: 15 digits
  const bool negative = text[0] == '-';
  const char* p = text + (negative ? 1 : 0);
  std::string mantissa;
  for (; *p != 'e'; ++p) {
    if (*p != '.') mantissa += *p;
  }
  const int64_t exponent = std::strtol(p + 1, nullptr, 10);
  // Significant digits kept: those down to 10^-digits.
  const int64_t keep = exponent + 1 + digits;
  if (keep >= static_cast<int64_t>(mantissa.size())) return std::strtod(text, nullptr);
  if (keep < 0) return negative ? -0.0 : 0.0;
  std::string kept = mantissa.substr(0, static_cast<size_t>(keep));
  int64_t top = exponent;  // the power of ten of kept's first digit
  if (mantissa[static_cast<size_t>(keep)] >= '5') {
    int64_t i = keep - 1;
    for (; i >= 0 && kept[static_cast<size_t>(i)] == '9'; --i) kept[static_cast<size_t>(i)] = '0';
    if (i >= 0) {
      ++kept[static_cast<size_t>(i)];
    } else {
      kept.insert(kept.begin(), '1');
      ++top;
    }
  }
  if (kept.empty()) return negative ? -0.0 : 0.0;
  const std::string out = fmt::format("{}0.{}e{}", negative ? "-" : "", kept, top + 1);
  return std::strtod(out.c_str(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Validity helpers

// True when every child of an operation is constant: the result is computed once.
bool AllConstant(const std::vector<const Vector*>& args) {
  for (const Vector* a : args) {
    if (!a->constant) return false;
  }
  return true;
}

// out->valid = rows where every arg is valid (empty when all are).
void CombineValidity(const std::vector<const Vector*>& args, size_t n, Vector* out) {
  out->valid.clear();
  bool any_nullable = false;
  for (const Vector* a : args) any_nullable |= !a->AllValid();
  if (!any_nullable) return;
  out->valid.assign(n, 1);
  for (const Vector* a : args) {
    if (a->AllValid()) continue;
    if (a->type == SqlType::kNull) {
      std::fill(out->valid.begin(), out->valid.end(), 0);
      continue;
    }
    if (a->constant) {
      if (a->valid[0] == 0) std::fill(out->valid.begin(), out->valid.end(), 0);
      continue;
    }
    for (size_t i = 0; i < n; ++i) out->valid[i] &= a->valid[i];
  }
}

bool RowValid(const Vector& v, size_t i) { return v.valid.empty() || v.valid[i] != 0; }

// Calls f(l, r) over n rows, with either side possibly constant.
template <typename L, typename R, typename O, typename F>
void BinaryLoop(const std::vector<L>& l, bool lc, const std::vector<R>& r, bool rc,
                std::vector<O>* out, size_t n, F f) {
  out->resize(n);
  O* o = out->data();
  if (lc && rc) {
    o[0] = f(l[0], r[0]);
  } else if (lc) {
    const L a = l[0];
    for (size_t i = 0; i < n; ++i) o[i] = f(a, r[i]);
  } else if (rc) {
    const R b = r[0];
    for (size_t i = 0; i < n; ++i) o[i] = f(l[i], b);
  } else {
    for (size_t i = 0; i < n; ++i) o[i] = f(l[i], r[i]);
  }
}

// Whether any of x[0, n) is infinite or NaN. Over the bits without a branch or a 64-bit compare,
// so that the loop vectorises with SSE2: with the sign cleared, adding one to the exponent's
// lowest bit carries into the top bit exactly for an exponent of all ones.
bool AnyNotFinite(const double* x, size_t n) {
  uint64_t top = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    top |= (bits & 0x7fff'ffff'ffff'ffffULL) + 0x0010'0000'0000'0000ULL;
  }
  return (top >> 63) != 0;
}

// Where in the query: Evaluate marks the errors of every expression with its offset.
Status Overflow(std::string_view type) { return InvalidArgument("{} out of range", type); }

// exp and power fail as in PostgreSQL where finite arguments have no finite result, instead of
// giving Infinity or NaN, and so does DOUBLE arithmetic (1e308 * 10): one message, PostgreSQL's,
// naming the call or the operation with its operands.
Status FunctionOverflow(std::string_view call) {
  return InvalidArgument("value out of range: overflow in {}", call);
}

Status DoubleOverflow(Function op, double a, double b) {
  std::string_view symbol = "%";
  switch (op) {
    case Function::kAdd: symbol = "+"; break;
    case Function::kSubtract: symbol = "-"; break;
    case Function::kMultiply: symbol = "*"; break;
    case Function::kDivide: symbol = "/"; break;
    default: break;
  }
  return FunctionOverflow(fmt::format("{} {} {}", a, symbol, b));
}

Result<double> CheckedExp(double x) {
  const double y = std::exp(x);
  if (std::isinf(y) && std::isfinite(x)) return FunctionOverflow(fmt::format("exp({})", x));
  return y;
}

// power(x, p) or x ^ p as written (the binder marks the operator with unit "^").
std::string PowerCall(const BoundExpr& e, double x, double p) {
  return e.unit == "^" ? fmt::format("{} ^ {}", x, p) : fmt::format("power({}, {})", x, p);
}

// Whether power(x, p) has no real value: PostgreSQL's two errors, or OK.
Status CheckPowerDomain(const BoundExpr& e, double x, double p) {
  if (x == 0 && p < 0) {
    return InvalidArgument("zero raised to a negative power is undefined in {}",
                           PowerCall(e, x, p));
  }
  if (x < 0 && std::isfinite(p) && p != std::trunc(p)) {
    return InvalidArgument(
        "a negative number raised to a non-integer power yields a complex result in {}",
        PowerCall(e, x, p));
  }
  return Status::OK();
}

Result<double> CheckedPower(const BoundExpr& e, double x, double p) {
  SW_RETURN_IF_ERROR(CheckPowerDomain(e, x, p));
  const double y = std::pow(x, p);
  if (std::isinf(y) && std::isfinite(x) && std::isfinite(p)) {
    return FunctionOverflow(PowerCall(e, x, p));
  }
  return y;
}

// log(base, x) as PostgreSQL's log(numeric, numeric): ln(x) / ln(base), failing where either
// logarithm fails and for the base 1, whose logarithm is 0 (PostgreSQL: "division by zero").
// The checks come in PostgreSQL's order: the base, x, the division.
Result<double> CheckedLog(double base, double x) {
  if (base <= 0) return InvalidArgument("logarithm of a number <= 0 ({})", base);
  if (x <= 0) return InvalidArgument("logarithm of a number <= 0 ({})", x);
  if (base == 1) return InvalidArgument("division by zero in log(1, {})", x);
  return std::log(x) / std::log(base);
}

// ---------------------------------------------------------------------------------------------
// Time zones and calendar helpers

Result<absl::TimeZone> LoadZone(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "utc") return absl::UTCTimeZone();
  static std::mutex mu;
  static auto* cache = new std::unordered_map<std::string, absl::TimeZone>();
  std::lock_guard lock(mu);
  auto it = cache->find(std::string(name));
  if (it != cache->end()) return it->second;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz)) {
    return InvalidArgument("unknown time zone '{}' (use an IANA name such as 'Europe/Paris')",
                           name);
  }
  if (cache->size() < 1024) cache->emplace(std::string(name), tz);
  return tz;
}

// Nanoseconds within the second (0..999'999'999) and whole seconds, floor-wise.
void SplitNanos(int64_t ns, int64_t* secs, int64_t* sub) {
  *secs = FloorDiv(ns, kNanosPerSecond);
  *sub = ns - *secs * kNanosPerSecond;
}

absl::CivilSecond ToCivil(int64_t ns, const absl::TimeZone& tz) {
  int64_t secs, sub;
  SplitNanos(ns, &secs, &sub);
  return absl::ToCivilSecond(absl::FromUnixSeconds(secs), tz);
}

int64_t CivilToNanos(const absl::CivilSecond& cs, const absl::TimeZone& tz) {
  return absl::ToUnixNanos(absl::FromCivil(cs, tz));
}

// Local wall-clock nanoseconds (as if the zone were UTC) of an instant.
int64_t LocalNanos(int64_t ns, const absl::TimeZone& tz) {
  int64_t secs, sub;
  SplitNanos(ns, &secs, &sub);
  const auto info = tz.At(absl::FromUnixSeconds(secs));
  return (secs + info.offset) * kNanosPerSecond + sub;
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// ts + months (calendar, UTC), clamping the day to the month's last.
int64_t AddMonths(int64_t ns, int64_t months) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  int64_t secs, sub;
  SplitNanos(ns, &secs, &sub);
  absl::CivilSecond cs = ToCivil(ns, utc);
  int64_t total = cs.year() * 12 + (cs.month() - 1) + months;
  const int64_t y = FloorDiv(total, 12);
  const int m = static_cast<int>(total - y * 12) + 1;
  const int d = std::min(cs.day(), DaysInMonth(y, m));
  absl::CivilSecond moved(y, m, d, cs.hour(), cs.minute(), cs.second());
  return CivilToNanos(moved, utc) + sub;
}

// The unit-long range [first, second) holding `ns`: date_trunc gives `first`, and every time
// before `second` truncates to it too (callers reuse the answer for sorted times).
Result<std::pair<int64_t, int64_t>> TruncRange(int64_t ns, std::string_view unit,
                                               const absl::TimeZone& tz) {
  auto fixed = [&](int64_t step) -> std::pair<int64_t, int64_t> {
    const int64_t lo = FloorDiv(ns, step) * step;
    return {lo, lo > std::numeric_limits<int64_t>::max() - step
                    ? std::numeric_limits<int64_t>::max()
                    : lo + step};
  };
  if (unit == "nanosecond" || unit == "nanoseconds") return fixed(1);
  if (unit == "microsecond" || unit == "microseconds") return fixed(1000);
  if (unit == "millisecond" || unit == "milliseconds") return fixed(1'000'000);
  const absl::CivilSecond cs = ToCivil(ns, tz);
  auto range = [&](auto lo) -> std::pair<int64_t, int64_t> {
    return {CivilToNanos(absl::CivilSecond(lo), tz), CivilToNanos(absl::CivilSecond(lo + 1), tz)};
  };
  if (unit == "second" || unit == "seconds") return range(cs);
  if (unit == "minute" || unit == "minutes") return range(absl::CivilMinute(cs));
  if (unit == "hour" || unit == "hours") return range(absl::CivilHour(cs));
  if (unit == "day" || unit == "days") return range(absl::CivilDay(cs));
  if (unit == "week" || unit == "weeks") {
    absl::CivilDay day(cs);
    const int back =
        (static_cast<int>(absl::GetWeekday(day)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
    const absl::CivilDay monday = day - back;
    return std::pair<int64_t, int64_t>{CivilToNanos(absl::CivilSecond(monday), tz),
                                       CivilToNanos(absl::CivilSecond(monday + 7), tz)};
  }
  if (unit == "month" || unit == "months") return range(absl::CivilMonth(cs));
  if (unit == "quarter" || unit == "quarters") {
    const absl::CivilMonth first(cs.year(), (cs.month() - 1) / 3 * 3 + 1);
    return std::pair<int64_t, int64_t>{CivilToNanos(absl::CivilSecond(first), tz),
                                       CivilToNanos(absl::CivilSecond(first + 3), tz)};
  }
  if (unit == "year" || unit == "years") return range(absl::CivilYear(cs));
  return InvalidArgument("unknown date_trunc unit '{}'", unit);
}

Result<int64_t> TruncTo(int64_t ns, std::string_view unit, const absl::TimeZone& tz) {
  SW_ASSIGN_OR_RETURN(auto r, TruncRange(ns, unit, tz));
  return r.first;
}

// Fixed-width buckets are aligned on e.origin, by default 2000-01-03T00:00:00 (a Monday, set by
// the binder), as in TimescaleDB, so that weekly buckets start on Mondays; calendar buckets
// (months) on 2000-01 unless an origin is given.

// The bucket [first, end) of width `w` (> 0) from `origin` holding `ns`, clamped to the int64
// range (the first bucket may start before the smallest time, the last end after the largest).
std::pair<int64_t, int64_t> FixedBucket(int64_t ns, int64_t w, int64_t origin) {
  // Guard the subtraction: times near the ends of the int64 range.
  const __int128 rel = static_cast<__int128>(ns) - origin;
  __int128 q = rel / w;
  if (rel % w != 0 && rel < 0) --q;
  const __int128 start = q * w + origin, end = start + w;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return {start < kMin ? kMin : static_cast<int64_t>(start),
          end > kMax ? kMax : static_cast<int64_t>(end)};
}

Result<int64_t> Bucket(int64_t ns, const BoundExpr& e, const absl::TimeZone* tz) {
  if (e.interval.months > 0) {
    const absl::TimeZone zone = tz ? *tz : absl::UTCTimeZone();
    const absl::CivilSecond cs = ToCivil(ns, zone);
    // Months count from the origin's month (2000-01 unless an origin was given), so that
    // '2 months' with origin '2026-02-01' starts buckets in even months. The origin's day and
    // time of day are not used: buckets start on the first of a month.
    int64_t origin_month = 0;
    if (e.origin != 0) {
      const absl::CivilSecond o = ToCivil(e.origin, zone);
      origin_month = (o.year() - 2000) * 12 + (o.month() - 1);
    }
    const int64_t index = (cs.year() - 2000) * 12 + (cs.month() - 1) - origin_month;
    const int64_t start = FloorDiv(index, e.interval.months) * e.interval.months + origin_month;
    const int64_t y = 2000 + FloorDiv(start, 12);
    const int m = static_cast<int>(start - FloorDiv(start, 12) * 12) + 1;
    return CivilToNanos(absl::CivilSecond(y, m, 1, 0, 0, 0), zone);
  }
  const int64_t w = e.interval.nanos;
  if (tz == nullptr) return FixedBucket(ns, w, e.origin).first;
  const int64_t local = LocalNanos(ns, *tz);
  const int64_t local_bucket = FloorDiv(local - e.origin, w) * w + e.origin;
  int64_t secs, sub;
  SplitNanos(local_bucket, &secs, &sub);
  const absl::CivilSecond cs =
      absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  return CivilToNanos(cs, *tz) + sub;
}

Result<Value> ExtractField(int64_t ns, std::string_view field, const absl::TimeZone& tz) {
  if (field == "epoch") return Value::Double(static_cast<double>(ns) / 1e9);
  const absl::CivilSecond cs = ToCivil(ns, tz);
  int64_t secs, sub;
  SplitNanos(ns, &secs, &sub);
  const absl::CivilDay day(cs);
  if (field == "year") return Value::BigInt(cs.year());
  if (field == "quarter") return Value::BigInt((cs.month() - 1) / 3 + 1);
  if (field == "month") return Value::BigInt(cs.month());
  if (field == "day") return Value::BigInt(cs.day());
  if (field == "hour") return Value::BigInt(cs.hour());
  if (field == "minute") return Value::BigInt(cs.minute());
  if (field == "second") return Value::Double(cs.second() + static_cast<double>(sub) / 1e9);
  if (field == "millisecond" || field == "milliseconds") {
    return Value::Double(cs.second() * 1e3 + static_cast<double>(sub) / 1e6);
  }
  if (field == "microsecond" || field == "microseconds") {
    return Value::Double(cs.second() * 1e6 + static_cast<double>(sub) / 1e3);
  }
  if (field == "dow") return Value::BigInt((static_cast<int>(absl::GetWeekday(day)) + 1) % 7);
  if (field == "isodow") return Value::BigInt(static_cast<int>(absl::GetWeekday(day)) + 1);
  if (field == "doy") return Value::BigInt(absl::GetYearDay(day));
  if (field == "week") {
    // ISO 8601 week number: the week with the year's first Thursday is week 1.
    const int wd = static_cast<int>(absl::GetWeekday(day));  // Monday = 0
    const absl::CivilDay thursday = day + (3 - wd);
    const absl::CivilDay jan1(thursday.year(), 1, 1);
    return Value::BigInt((thursday - jan1) / 7 + 1);
  }
  return InvalidArgument("unknown EXTRACT field '{}'", field);
}

// The local day holding `ns`, as the instants [*lo, *hi) it covers, when that day is 24 hours
// long at one offset from UTC (no change of offset within it): then a time's hour, minute and
// second follow from its distance to *lo. False for a day with a change of offset.
bool UniformDay(int64_t ns, const absl::TimeZone& tz, int64_t* lo, int64_t* hi) {
  const absl::CivilDay day(ToCivil(ns, tz));
  *lo = CivilToNanos(absl::CivilSecond(day), tz);
  *hi = CivilToNanos(absl::CivilSecond(day + 1), tz);
  if (*hi - *lo != 86400 * kNanosPerSecond || ns < *lo || ns >= *hi) return false;
  const absl::TimeZone::CivilInfo first = tz.At(absl::FromUnixNanos(*lo));
  const absl::TimeZone::CivilInfo last = tz.At(absl::FromUnixNanos(*hi - 1));
  return first.offset == last.offset && first.cs == absl::CivilSecond(day);
}

// EXTRACT over a column of times (not constant). Times of a block lie close together, so the
// local day of the row before is kept: a row inside it is broken down from the day's start,
// without the zone. Rows of a day with a change of offset go through ExtractField one by one.
Status ExtractVector(const Vector& times, size_t rows, const BoundExpr& e, const absl::TimeZone& tz,
                     Vector* out) {
  const std::string_view field = e.unit;
  enum class Part { kOfDay, kHour, kMinute, kSecond, kMillisecond, kMicrosecond, kEpoch };
  Part part = Part::kOfDay;  // year, month, day, dow, doy, week...: one value per day
  if (field == "hour") part = Part::kHour;
  if (field == "minute") part = Part::kMinute;
  if (field == "second") part = Part::kSecond;
  if (field == "millisecond" || field == "milliseconds") part = Part::kMillisecond;
  if (field == "microsecond" || field == "microseconds") part = Part::kMicrosecond;
  if (field == "epoch") part = Part::kEpoch;
  out->Reset(e.type);
  const bool doubles = e.type == SqlType::kDouble;
  if (doubles) {
    out->doubles.assign(rows, 0);
  } else {
    out->ints.assign(rows, 0);
  }
  if (!times.valid.empty()) out->valid.assign(times.valid.begin(), times.valid.begin() + rows);
  auto store = [&](size_t i, const Value& v) {
    if (doubles) {
      out->doubles[i] = v.type == SqlType::kDouble ? v.d : static_cast<double>(v.i);
    } else {
      out->ints[i] = v.i;
    }
  };
  if ((part == Part::kHour || part == Part::kMinute) && tz == absl::UTCTimeZone()) {
    // UTC has no offsets to look up: the field is arithmetic on each row (NULL rows too,
    // harmlessly: `valid` says which count).
    // Constant divisors: multiplications, where a divisor held in a variable costs a division.
    auto fill = [&]<int64_t kUnit, int64_t kWrap>() {
      for (size_t i = 0; i < rows; ++i) {
        const int64_t ns = times.ints[i];
        const int64_t units = ns / kUnit - (ns % kUnit < 0 ? 1 : 0);  // floored
        const int64_t m = units % kWrap;
        out->ints[i] = m < 0 ? m + kWrap : m;
      }
    };
    if (part == Part::kHour) {
      fill.template operator()<3600 * kNanosPerSecond, 24>();
    } else {
      fill.template operator()<60 * kNanosPerSecond, 60>();
    }
    return Status::OK();
  }
  int64_t day_lo = 0, day_hi = 0;  // the kept day; empty at first
  int64_t of_day = 0;              // the field's value for the kept day (Part::kOfDay)
  for (size_t i = 0; i < rows; ++i) {
    if (!out->valid.empty() && out->valid[i] == 0) continue;
    const int64_t ns = times.ints[i];
    if (part == Part::kEpoch) {
      out->doubles[i] = static_cast<double>(ns) / 1e9;
      continue;
    }
    if (ns < day_lo || ns >= day_hi) {
      if (!UniformDay(ns, tz, &day_lo, &day_hi)) {
        day_lo = day_hi = 0;
        SW_ASSIGN_OR_RETURN(const Value v, ExtractField(ns, field, tz));
        store(i, v);
        continue;
      }
      if (part == Part::kOfDay) {
        SW_ASSIGN_OR_RETURN(const Value v, ExtractField(day_lo, field, tz));
        of_day = v.i;
      }
    }
    const int64_t into = ns - day_lo;
    const int64_t secs = into / kNanosPerSecond, sub = into % kNanosPerSecond;
    switch (part) {
      case Part::kOfDay: out->ints[i] = of_day; break;
      case Part::kHour: out->ints[i] = secs / 3600; break;
      case Part::kMinute: out->ints[i] = secs / 60 % 60; break;
      case Part::kSecond: out->doubles[i] = secs % 60 + static_cast<double>(sub) / 1e9; break;
      case Part::kMillisecond:
        out->doubles[i] = secs % 60 * 1e3 + static_cast<double>(sub) / 1e6;
        break;
      case Part::kMicrosecond:
        out->doubles[i] = secs % 60 * 1e6 + static_cast<double>(sub) / 1e3;
        break;
      case Part::kEpoch: break;
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Row-wise evaluation for the long tail of functions.

using RowFn = std::function<Result<Value>(const std::vector<Value>&)>;

// The most text one function may produce for one chunk of rows.
constexpr size_t kMaxTextChunkBytes = size_t{64} << 20;

Status RowWise(const std::vector<const Vector*>& args, size_t rows, SqlType type,
               bool null_in_null_out, const RowFn& fn, Vector* out) {
  const bool all_const = AllConstant(args);
  const size_t n = all_const ? 1 : rows;
  out->Reset(type);
  std::vector<Value> values(args.size());
  size_t text_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    bool any_null = false;
    for (size_t a = 0; a < args.size(); ++a) {
      values[a] = args[a]->Get(i);
      any_null |= values[a].is_null;
    }
    if (null_in_null_out && any_null) {
      out->AppendNull();
      continue;
    }
    SW_ASSIGN_OR_RETURN(Value v, fn(values));
    if (!v.is_null && v.type != type) {
      SW_ASSIGN_OR_RETURN(v, CastValue(v, type));
    }
    // Text built row by row (concatenations of concatenations) is held before any operator
    // can charge it to the query's memory: bounded here, per chunk of rows.
    text_bytes += v.s.size();
    if (text_bytes > kMaxTextChunkBytes) {
      return ResourceExhausted(
          "an expression's text values exceed {} MiB in one chunk of {} rows; shorten the "
          "strings the query builds",
          kMaxTextChunkBytes >> 20, n);
    }
    out->Append(v);
  }
  out->constant = all_const;
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Operators on typed arrays

template <typename T>
void CompareLoop(Function f, const std::vector<T>& l, bool lc, const std::vector<T>& r, bool rc,
                 std::vector<int64_t>* out, size_t n) {
  switch (f) {
    case Function::kEqual:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a == b; });
      break;
    case Function::kNotEqual:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a != b; });
      break;
    case Function::kLess:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a < b; });
      break;
    case Function::kLessEqual:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a <= b; });
      break;
    case Function::kGreater:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a > b; });
      break;
    default:
      BinaryLoop(l, lc, r, rc, out, n, [](const T& a, const T& b) -> int64_t { return a >= b; });
      break;
  }
}

// CompareLoop for DOUBLEs in PostgreSQL's order (CompareDoubles: NaN equals NaN and is above
// every number), without a branch so that the loops still vectorise.
void DoubleCompareLoop(Function f, const std::vector<double>& l, bool lc,
                       const std::vector<double>& r, bool rc, std::vector<int64_t>* out, size_t n) {
  using D = double;
  switch (f) {
    case Function::kEqual:
      BinaryLoop(l, lc, r, rc, out, n,
                 [](D a, D b) -> int64_t { return (a == b) | ((a != a) & (b != b)); });
      break;
    case Function::kNotEqual:
      BinaryLoop(l, lc, r, rc, out, n,
                 [](D a, D b) -> int64_t { return (a != b) & ((a == a) | (b == b)); });
      break;
    case Function::kLess:
      BinaryLoop(l, lc, r, rc, out, n,
                 [](D a, D b) -> int64_t { return (a < b) | ((a == a) & (b != b)); });
      break;
    case Function::kLessEqual:
      BinaryLoop(l, lc, r, rc, out, n, [](D a, D b) -> int64_t { return (a <= b) | (b != b); });
      break;
    case Function::kGreater:
      BinaryLoop(l, lc, r, rc, out, n,
                 [](D a, D b) -> int64_t { return (a > b) | ((a != a) & (b == b)); });
      break;
    default:
      BinaryLoop(l, lc, r, rc, out, n, [](D a, D b) -> int64_t { return (a >= b) | (a != a); });
      break;
  }
}

Status EvalComparison(const BoundExpr& e, const Vector& l, const Vector& r, size_t n, Vector* out) {
  out->Reset(SqlType::kBoolean);
  const SqlType t = l.type;
  if (t == SqlType::kDouble) {
    DoubleCompareLoop(e.function, l.doubles, l.constant, r.doubles, r.constant, &out->ints, n);
  } else if (t == SqlType::kText) {
    CompareLoop(e.function, l.strings, l.constant, r.strings, r.constant, &out->ints, n);
  } else if (t == SqlType::kUBigInt) {
    // Compare as unsigned: flip the sign bit so that signed order equals unsigned order.
    std::vector<int64_t> a(l.ints), b(r.ints);
    for (auto& x : a) x ^= std::numeric_limits<int64_t>::min();
    for (auto& x : b) x ^= std::numeric_limits<int64_t>::min();
    CompareLoop(e.function, a, l.constant, b, r.constant, &out->ints, n);
  } else {
    CompareLoop(e.function, l.ints, l.constant, r.ints, r.constant, &out->ints, n);
  }
  return Status::OK();
}

Status EvalIntArithmetic(const BoundExpr& e, const Vector& l, const Vector& r, size_t n,
                         Vector* out) {
  const bool is_unsigned = e.type == SqlType::kUBigInt;
  bool overflow = false;
  // Division and modulo by zero give NULL: collect those rows.
  std::vector<uint8_t> zero_divisor;
  auto op = [&](int64_t a, int64_t b) -> int64_t {
    if (is_unsigned) {
      const uint64_t x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
      uint64_t res = 0;
      switch (e.function) {
        case Function::kAdd: overflow |= __builtin_add_overflow(x, y, &res); break;
        case Function::kSubtract: overflow |= __builtin_sub_overflow(x, y, &res); break;
        case Function::kMultiply: overflow |= __builtin_mul_overflow(x, y, &res); break;
        case Function::kDivide: res = y == 0 ? 0 : x / y; break;
        default: res = y == 0 ? 0 : x % y; break;
      }
      return static_cast<int64_t>(res);
    }
    int64_t res = 0;
    switch (e.function) {
      case Function::kAdd: overflow |= __builtin_add_overflow(a, b, &res); break;
      case Function::kSubtract: overflow |= __builtin_sub_overflow(a, b, &res); break;
      case Function::kMultiply: overflow |= __builtin_mul_overflow(a, b, &res); break;
      case Function::kDivide:
        if (b == -1 && a == std::numeric_limits<int64_t>::min()) {
          overflow = true;
        } else {
          res = b == 0 ? 0 : a / b;
        }
        break;
      default: res = (b == 0 || b == -1) ? 0 : a % b; break;
    }
    return res;
  };
  out->Reset(e.type);
  BinaryLoop(l.ints, l.constant, r.ints, r.constant, &out->ints, n, op);
  if (overflow) return Overflow(SqlTypeName(e.type));
  CombineValidity({&l, &r}, n, out);
  if (e.function == Function::kDivide || e.function == Function::kModulo) {
    for (size_t i = 0; i < n; ++i) {
      if (r.ints[r.Index(i)] == 0) {
        if (out->valid.empty()) out->valid.assign(n, 1);
        out->valid[i] = 0;
      }
    }
  }
  return Status::OK();
}

Status EvalDoubleArithmetic(const BoundExpr& e, const Vector& l, const Vector& r, size_t n,
                            Vector* out) {
  out->Reset(SqlType::kDouble);
  switch (e.function) {
    case Function::kAdd:
      BinaryLoop(l.doubles, l.constant, r.doubles, r.constant, &out->doubles, n,
                 [](double a, double b) { return a + b; });
      break;
    case Function::kSubtract:
      BinaryLoop(l.doubles, l.constant, r.doubles, r.constant, &out->doubles, n,
                 [](double a, double b) { return a - b; });
      break;
    case Function::kMultiply:
      BinaryLoop(l.doubles, l.constant, r.doubles, r.constant, &out->doubles, n,
                 [](double a, double b) { return a * b; });
      break;
    case Function::kDivide:
      BinaryLoop(l.doubles, l.constant, r.doubles, r.constant, &out->doubles, n,
                 [](double a, double b) { return b == 0 ? 0 : a / b; });
      break;
    default:
      BinaryLoop(l.doubles, l.constant, r.doubles, r.constant, &out->doubles, n,
                 [](double a, double b) { return b == 0 ? 0 : std::fmod(a, b); });
      break;
  }
  CombineValidity({&l, &r}, n, out);
  // As in PostgreSQL, finite operands with an infinite result overflow (1e300 * 1e10). A first
  // pass over the bits finds whether any result is infinite (or NaN) at all.
  const size_t results = l.constant && r.constant ? 1 : n;
  const bool any_infinite = AnyNotFinite(out->doubles.data(), results);
  for (size_t i = 0; any_infinite && i < n; ++i) {
    const double a = l.doubles[l.Index(i)], b = r.doubles[r.Index(i)];
    if (std::isinf(out->doubles[i]) && RowValid(*out, i) && std::isfinite(a) && std::isfinite(b)) {
      return DoubleOverflow(e.function, a, b);
    }
  }
  if (e.function == Function::kDivide || e.function == Function::kModulo) {
    for (size_t i = 0; i < n; ++i) {
      if (r.doubles[r.Index(i)] == 0) {
        if (out->valid.empty()) out->valid.assign(n, 1);
        out->valid[i] = 0;
      }
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Logical operators (three-valued)

// 0 = false, 1 = true, 2 = NULL, per row.
void TruthValues(const Vector& v, size_t n, std::vector<uint8_t>* out) {
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = v.Index(i);
    if (v.type == SqlType::kNull || (!v.valid.empty() && v.valid[j] == 0)) {
      (*out)[i] = 2;
    } else {
      (*out)[i] = v.ints[j] != 0 ? 1 : 0;
    }
  }
}

void FromTruthValues(const std::vector<uint8_t>& truth, Vector* out) {
  out->Reset(SqlType::kBoolean);
  const size_t n = truth.size();
  out->ints.resize(n);
  bool any_null = false;
  for (size_t i = 0; i < n; ++i) {
    out->ints[i] = truth[i] == 1;
    any_null |= truth[i] == 2;
  }
  if (any_null) {
    out->valid.resize(n);
    for (size_t i = 0; i < n; ++i) out->valid[i] = truth[i] != 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Functions

double ToDouble(const Value& v) {
  switch (v.type) {
    case SqlType::kDouble: return v.d;
    case SqlType::kUBigInt: return static_cast<double>(static_cast<uint64_t>(v.i));
    default: return static_cast<double>(v.i);
  }
}

// Byte offset of UTF-8 character `index` (0-based) in `s`, or s.size().
size_t Utf8Offset(std::string_view s, int64_t index) {
  size_t pos = 0;
  while (index > 0 && pos < s.size()) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    --index;
  }
  return pos;
}

int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string Substr(std::string_view s, int64_t start, std::optional<int64_t> length) {
  // SQL positions are 1-based; characters before position 1 count against the length.
  int64_t from = start - 1;
  int64_t count = length ? *length : std::numeric_limits<int64_t>::max() / 2;
  if (from < 0) {
    count += from;
    from = 0;
  }
  if (count <= 0) return "";
  const size_t b = Utf8Offset(s, from);
  const size_t e = b + Utf8Offset(s.substr(b), count);
  return std::string(s.substr(b, e - b));
}

// upper()/lower() of UTF-8 text: ASCII inline, other characters through the C.UTF-8 locale's
// towupper/towlower (PostgreSQL maps them too under a UTF-8 locale: upper('é') = 'É'). Bytes
// that are not valid UTF-8 are copied unchanged.
std::string MapCase(std::string_view s, bool upper) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      char m = s[i];
      if (upper && m >= 'a' && m <= 'z') m = static_cast<char>(m - 32);
      if (!upper && m >= 'A' && m <= 'Z') m = static_cast<char>(m + 32);
      out += m;
      ++i;
      continue;
    }
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool valid = len != 0 && i + len <= s.size() && utf8 != static_cast<locale_t>(0);
    for (size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      valid = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!valid) {
      out += s[i++];
      continue;
    }
    const auto m = static_cast<uint32_t>(upper ? towupper_l(static_cast<wint_t>(cp), utf8)
                                               : towlower_l(static_cast<wint_t>(cp), utf8));
    const size_t m_len = m < 0x80 ? 1 : m < 0x800 ? 2 : m < 0x10000 ? 3 : 4;
    if (m_len == 1) {
      out += static_cast<char>(m);
    } else {
      static constexpr unsigned char kLead[] = {0, 0, 0xC0, 0xE0, 0xF0};
      out += static_cast<char>(kLead[m_len] | (m >> (6 * (m_len - 1))));
      for (size_t k = m_len - 1; k > 0; --k) {
        out += static_cast<char>(0x80 | ((m >> (6 * (k - 1))) & 0x3F));
      }
    }
    i += len;
  }
  return out;
}

// `s` without the characters of `chars` (UTF-8 characters, not bytes, as PostgreSQL's) at its
// start (`left`) and end (`right`).
std::string Trim(std::string_view s, std::string_view chars, bool left, bool right) {
  auto char_at = [&](size_t begin) {  // the UTF-8 character starting at byte `begin`
    size_t end = begin + 1;
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    return s.substr(begin, end - begin);
  };
  auto strip = [&](std::string_view c) { return chars.find(c) != std::string_view::npos; };
  size_t b = 0, e = s.size();
  while (left && b < e) {
    const std::string_view c = char_at(b);
    if (!strip(c)) break;
    b += c.size();
  }
  while (right && e > b) {
    size_t begin = e - 1;
    while (begin > b && (static_cast<unsigned char>(s[begin]) & 0xC0) == 0x80) --begin;
    const std::string_view c = s.substr(begin, e - begin);
    if (!strip(c)) break;
    e = begin;
  }
  return std::string(s.substr(b, e - b));
}

// Functions of one DOUBLE column (args[0]; the others constant) into a DOUBLE column: abs, sign,
// round/floor/ceil/trunc (with a constant number of digits), sqrt, ln, log10, exp, power (with
// a constant exponent). False (nothing done) for other functions or a NULL constant; NULL rows
// stay NULL and raise no error.
Result<bool> MapDoubleColumn(const BoundExpr& e, const std::vector<const Vector*>& args,
                             size_t rows, Vector* out) {
  for (size_t a = 1; a < args.size(); ++a) {
    if (args[a]->IsNull(0)) return false;
  }
  const Vector& a = *args[0];
  std::vector<double> y(rows);
  const double* x = a.doubles.data();
  auto map = [&](auto f) {
    for (size_t i = 0; i < rows; ++i) y[i] = f(x[i]);
  };
  // The first row (valid) whose value `bad` rejects, if any.
  auto first_bad = [&](auto bad) -> std::optional<double> {
    for (size_t i = 0; i < rows; ++i) {
      if (RowValid(a, i) && bad(x[i])) return x[i];
    }
    return std::nullopt;
  };
  switch (e.function) {
    case Function::kAbs: map([](double v) { return std::fabs(v); }); break;
    case Function::kSign: map([](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }); break;
    case Function::kRound:
    case Function::kFloor:
    case Function::kCeil:
    case Function::kTrunc: {
      double scale = 1;
      if (args.size() > 1) {
        if (args[1]->type != SqlType::kBigInt) return false;
        scale = std::pow(10.0, static_cast<double>(args[1]->ints[0]));
      }
      // Without digits, x * 1 / 1 is x: no multiply and divide per value. A value too large to
      // scale has no digits that far below its point (floor(1e300, 10) is 1e300, not Infinity).
      auto scaled = [&](auto op) {
        if (args.size() == 1) {
          map([&](double v) { return op(v); });
        } else {
          map([&](double v) { return std::isfinite(v * scale) ? op(v * scale) / scale : v; });
        }
      };
      if (e.function == Function::kRound && args.size() > 1) {
        const int64_t digits = args[1]->ints[0];
        map([&](double v) { return RoundDecimal(v, digits); });
        break;
      }
      if (e.function == Function::kRound) scaled([](double v) { return std::round(v); });
      if (e.function == Function::kFloor) scaled([](double v) { return std::floor(v); });
      if (e.function == Function::kCeil) scaled([](double v) { return std::ceil(v); });
      if (e.function == Function::kTrunc) scaled([](double v) { return std::trunc(v); });
      break;
    }
    case Function::kSqrt:
      if (auto bad = first_bad([](double v) { return v < 0; })) {
        return InvalidArgument("sqrt of a negative number ({})", *bad);
      }
      map([](double v) { return std::sqrt(v); });
      break;
    case Function::kLn:
    case Function::kLog10:
      if (auto bad = first_bad([](double v) { return v <= 0; })) {
        return InvalidArgument("logarithm of a number <= 0 ({})", *bad);
      }
      if (e.function == Function::kLn) {
        map([](double v) { return std::log(v); });
      } else {
        map([](double v) { return std::log10(v); });
      }
      break;
    case Function::kExp: map([](double v) { return std::exp(v); }); break;
    case Function::kPower: {
      if (args.size() != 2) return false;
      const Value exponent = args[1]->Get(0);
      if (exponent.type != SqlType::kDouble && !IsIntegerBacked(exponent.type)) return false;
      const double p = ToDouble(exponent);
      for (size_t i = 0; i < rows; ++i) {
        if (RowValid(a, i)) SW_RETURN_IF_ERROR(CheckPowerDomain(e, x[i], p));
      }
      map([p](double v) { return std::pow(v, p); });
      break;
    }
    default: return false;
  }
  if ((e.function == Function::kExp || e.function == Function::kPower) &&
      AnyNotFinite(y.data(), rows)) {
    // Finite arguments with an infinite result overflow (one pass over the bits first).
    for (size_t i = 0; i < rows; ++i) {
      if (!RowValid(a, i) || !std::isinf(y[i]) || !std::isfinite(x[i])) continue;
      if (e.function == Function::kExp) return CheckedExp(x[i]).status();
      SW_RETURN_IF_ERROR(CheckedPower(e, x[i], ToDouble(args[1]->Get(0))).status());
    }
  }
  out->Reset(SqlType::kDouble);
  out->doubles = std::move(y);
  if (!a.valid.empty()) out->valid.assign(a.valid.begin(), a.valid.begin() + rows);
  return true;
}

Status EvalFunction(const BoundExpr& e, const std::vector<const Vector*>& args, size_t rows,
                    Vector* out) {
  const bool all_const = AllConstant(args);
  const size_t n = all_const ? 1 : rows;
  switch (e.function) {
    case Function::kEqual:
    case Function::kNotEqual:
    case Function::kLess:
    case Function::kLessEqual:
    case Function::kGreater:
    case Function::kGreaterEqual:
      SW_RETURN_IF_ERROR(EvalComparison(e, *args[0], *args[1], n, out));
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    case Function::kAdd:
    case Function::kSubtract:
    case Function::kMultiply:
    case Function::kDivide:
    case Function::kModulo:
      if (e.type == SqlType::kInterval) {  // + or -: nanoseconds and months apart
        SW_RETURN_IF_ERROR(EvalIntArithmetic(e, *args[0], *args[1], n, out));
        const Vector& a = *args[0];
        const Vector& b = *args[1];
        if (!a.months.empty() || !b.months.empty()) {
          out->months.assign(n, 0);
          const int64_t sign = e.function == Function::kSubtract ? -1 : 1;
          for (size_t i = 0; i < n; ++i) {
            const int64_t x = a.months.empty() ? 0 : a.months[a.Index(i)];
            const int64_t y = b.months.empty() ? 0 : b.months[b.Index(i)];
            const bool overflow = sign > 0 ? __builtin_add_overflow(x, y, &out->months[i])
                                           : __builtin_sub_overflow(x, y, &out->months[i]);
            if (overflow) return Overflow("INTERVAL");
          }
        }
        out->constant = all_const;
        return Status::OK();
      }
      if (e.type == SqlType::kDouble) {
        SW_RETURN_IF_ERROR(EvalDoubleArithmetic(e, *args[0], *args[1], n, out));
      } else {
        SW_RETURN_IF_ERROR(EvalIntArithmetic(e, *args[0], *args[1], n, out));
      }
      out->constant = all_const;
      return Status::OK();
    case Function::kNegate: {
      const Vector& a = *args[0];
      out->Reset(e.type);
      if (e.type == SqlType::kDouble) {
        out->doubles.resize(n);
        for (size_t i = 0; i < n; ++i) out->doubles[i] = -a.doubles[i];
      } else {
        out->ints.resize(n);
        for (size_t i = 0; i < n; ++i) {
          if (a.ints[i] == std::numeric_limits<int64_t>::min() && RowValid(a, i)) {
            return Overflow(SqlTypeName(e.type));
          }
          out->ints[i] = -a.ints[i];
        }
      }
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    }
    case Function::kTimestampAddInterval: {
      const Vector& a = *args[0];
      out->Reset(SqlType::kTimestamp);
      out->ints.resize(n);
      for (size_t i = 0; i < n; ++i) {
        int64_t t = a.ints[i];
        if (!RowValid(a, i)) continue;
        if (e.interval.months != 0) t = AddMonths(t, e.interval.months);
        if (__builtin_add_overflow(t, e.interval.nanos, &out->ints[i])) {
          return Overflow("TIMESTAMP");
        }
      }
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    }
    case Function::kIntervalScale: {
      // Months scale as months, their fraction as 30-day months (PostgreSQL); a zero divisor
      // gives NULL, as numeric division does.
      const Vector& a = *args[0];
      const Vector& b = *args[1];
      const bool divide = e.unit == "/";
      out->Reset(SqlType::kInterval);
      out->ints.resize(n);
      std::vector<int64_t> months(n, 0);
      std::vector<uint32_t> zero_rows;
      bool overflow = false, any_months = false;
      for (size_t i = 0; i < n; ++i) {
        if (a.IsNull(i) || b.IsNull(i)) continue;  // NULL by CombineValidity
        const size_t ai = a.Index(i);
        const double f = b.doubles[b.Index(i)];
        if (divide && f == 0) {
          zero_rows.push_back(static_cast<uint32_t>(i));
          continue;
        }
        const double factor = divide ? 1 / f : f;
        const double m = static_cast<double>(a.months.empty() ? 0 : a.months[ai]) * factor;
        const double whole = std::trunc(m);
        const double ns = static_cast<double>(a.ints[ai]) * factor +
                          (m - whole) * 30 * static_cast<double>(kNanosPerDay);
        if (!(std::fabs(ns) < 9.2e18) || !(std::fabs(whole) < 9.2e18)) {
          overflow = true;
          continue;
        }
        out->ints[i] = std::llround(ns);
        months[i] = static_cast<int64_t>(whole);
        any_months |= months[i] != 0;
      }
      if (overflow) return Overflow("INTERVAL");
      if (any_months) out->months = std::move(months);
      CombineValidity(args, n, out);
      if (!zero_rows.empty()) {
        if (out->valid.empty()) out->valid.assign(n, 1);
        for (uint32_t i : zero_rows) out->valid[i] = 0;
      }
      out->constant = all_const;
      return Status::OK();
    }
    case Function::kIntervalEpoch: {
      // PostgreSQL's lengths: a year is 365.25 days, any other month 30 days.
      const Vector& a = *args[0];
      out->Reset(SqlType::kDouble);
      out->doubles.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (a.IsNull(i)) continue;  // NULL by CombineValidity
        const size_t ai = a.Index(i);
        const int64_t m = a.months.empty() ? 0 : a.months[ai];
        out->doubles[i] = static_cast<double>(m / 12) * 365.25 * 86'400 +
                          static_cast<double>(m % 12) * 30 * 86'400 +
                          static_cast<double>(a.ints[ai]) / static_cast<double>(kNanosPerSecond);
      }
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    }
    case Function::kTimestampSubtract: {
      bool overflow = false;
      out->Reset(SqlType::kInterval);
      BinaryLoop(args[0]->ints, args[0]->constant, args[1]->ints, args[1]->constant, &out->ints, n,
                 [&](int64_t a, int64_t b) {
                   int64_t r = 0;
                   overflow |= __builtin_sub_overflow(a, b, &r);
                   return r;
                 });
      if (overflow) return Overflow("INTERVAL");
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    }
    case Function::kTimeBucket:
    case Function::kDateTrunc:
    case Function::kEpochNanos: {
      const Vector& a = *args[0];
      const absl::TimeZone* tz = nullptr;
      absl::TimeZone zone;
      if (!e.zone.empty()) {
        SW_ASSIGN_OR_RETURN(zone, LoadZone(e.zone));
        tz = &zone;
      }
      out->Reset(e.type);
      out->ints.resize(n);
      // Times within one chunk are mostly sorted and close: reuse the previous bucket while the
      // time stays inside it (one division per bucket instead of per row, for fixed widths).
      int64_t lo = 1, hi = 0, last = 0;
      const bool fixed =
          e.function == Function::kTimeBucket && e.interval.months == 0 && tz == nullptr;
      for (size_t i = 0; i < n; ++i) {
        const int64_t t = a.ints[i];
        if (!RowValid(a, i)) {
          out->ints[i] = 0;
          continue;
        }
        if (e.function == Function::kEpochNanos) {
          out->ints[i] = t;
          continue;
        }
        if (fixed && t >= lo && t <= hi) {
          out->ints[i] = last;
          continue;
        }
        if (fixed) {
          // The whole bucket, so that the next rows inside it need no division.
          const auto [first, end] = FixedBucket(t, e.interval.nanos, e.origin);
          out->ints[i] = last = lo = first;
          hi = end == std::numeric_limits<int64_t>::max() ? end : end - 1;
        } else if (e.function == Function::kTimeBucket) {
          SW_ASSIGN_OR_RETURN(out->ints[i], Bucket(t, e, tz));
        } else {
          if (t >= lo && t < hi) {
            out->ints[i] = last;
            continue;
          }
          SW_ASSIGN_OR_RETURN(auto range, TruncRange(t, e.unit, tz ? *tz : absl::UTCTimeZone()));
          out->ints[i] = last = range.first;
          lo = range.first;
          hi = range.second;
        }
      }
      CombineValidity(args, n, out);
      out->constant = all_const;
      return Status::OK();
    }
    default: break;
  }

  // Math of one DOUBLE column (the other arguments constant), value by value without Values.
  if (!args.empty() && !args[0]->constant && args[0]->type == SqlType::kDouble &&
      e.type == SqlType::kDouble) {
    bool others_constant = true;
    for (size_t a = 1; a < args.size(); ++a) others_constant &= args[a]->constant;
    if (others_constant) {
      SW_ASSIGN_OR_RETURN(const bool done, MapDoubleColumn(e, args, rows, out));
      if (done) return Status::OK();
    }
  }

  // The long tail, row by row.
  auto arg_double = [](const std::vector<Value>& v, size_t i) { return ToDouble(v[i]); };
  switch (e.function) {
    case Function::kConcat:
      return RowWise(
          args, rows, SqlType::kText, true,
          [](const std::vector<Value>& v) -> Result<Value> { return Value::Text(v[0].s + v[1].s); },
          out);
    case Function::kAbs:
      return RowWise(
          args, rows, e.type, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            Value r = v[0];
            if (r.type == SqlType::kDouble) {
              r.d = std::fabs(r.d);
            } else if (r.type == SqlType::kBigInt && r.i < 0) {
              if (r.i == std::numeric_limits<int64_t>::min()) {
                return Overflow("BIGINT");
              }
              r.i = -r.i;
            }
            return r;
          },
          out);
    case Function::kSign:
      return RowWise(
          args, rows, e.type, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const double x = arg_double(v, 0);
            return Value::Double(x > 0 ? 1 : x < 0 ? -1 : 0);
          },
          out);
    case Function::kRound:
    case Function::kFloor:
    case Function::kCeil:
    case Function::kTrunc:
      return RowWise(
          args, rows, e.type, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            if (v[0].type != SqlType::kDouble) return v[0];
            double scale = 1;
            if (v.size() > 1) scale = std::pow(10.0, static_cast<double>(v[1].i));
            if (e.function == Function::kRound && v.size() > 1) {
              return Value::Double(RoundDecimal(v[0].d, v[1].i));
            }
            double x = v[0].d * scale;
            if (!std::isfinite(x)) return v[0];  // no digits that far below its point
            switch (e.function) {
              case Function::kRound: x = std::round(x); break;
              case Function::kFloor: x = std::floor(x); break;
              case Function::kCeil: x = std::ceil(x); break;
              default: x = std::trunc(x); break;
            }
            return Value::Double(x / scale);
          },
          out);
    case Function::kSqrt:
    case Function::kLn:
    case Function::kLog10:
    case Function::kExp:
      return RowWise(
          args, rows, SqlType::kDouble, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const double x = arg_double(v, 0);
            if (e.function == Function::kExp) {
              SW_ASSIGN_OR_RETURN(const double y, CheckedExp(x));
              return Value::Double(y);
            }
            if (e.function == Function::kSqrt) {
              if (x < 0) return InvalidArgument("sqrt of a negative number ({})", x);
              return Value::Double(std::sqrt(x));
            }
            if (x <= 0) {
              return InvalidArgument("logarithm of a number <= 0 ({})", x);
            }
            return Value::Double(e.function == Function::kLn ? std::log(x) : std::log10(x));
          },
          out);
    case Function::kPower:
      return RowWise(
          args, rows, SqlType::kDouble, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            SW_ASSIGN_OR_RETURN(const double y,
                                CheckedPower(e, arg_double(v, 0), arg_double(v, 1)));
            return Value::Double(y);
          },
          out);
    case Function::kLog: {
      const Vector& base = *args[0];
      const Vector& x = *args[1];
      if (base.constant && !base.IsNull(0) && base.type == SqlType::kDouble && !x.constant &&
          x.type == SqlType::kDouble) {
        // A constant base over a column: one loop, and a second pass only to report an error.
        const double b = base.doubles[0];
        const double ln_b = std::log(b);
        const bool bad_base = b <= 0 || b == 1;
        bool bad = false;
        out->Reset(SqlType::kDouble);
        out->doubles.resize(rows);
        for (size_t i = 0; i < rows; ++i) {
          const double v = x.doubles[i];
          bad |= RowValid(x, i) && (v <= 0 || bad_base);
          out->doubles[i] = std::log(v) / ln_b;
        }
        for (size_t i = 0; bad && i < rows; ++i) {
          if (RowValid(x, i)) SW_RETURN_IF_ERROR(CheckedLog(b, x.doubles[i]).status());
        }
        if (!x.valid.empty()) out->valid.assign(x.valid.begin(), x.valid.begin() + rows);
        return Status::OK();
      }
      return RowWise(
          args, rows, SqlType::kDouble, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            SW_ASSIGN_OR_RETURN(const double y, CheckedLog(arg_double(v, 0), arg_double(v, 1)));
            return Value::Double(y);
          },
          out);
    }
    case Function::kLower:
    case Function::kUpper:
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            return Value::Text(MapCase(v[0].s, e.function == Function::kUpper));
          },
          out);
    case Function::kLength:
      return RowWise(
          args, rows, SqlType::kBigInt, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            return Value::BigInt(Utf8Length(v[0].s));
          },
          out);
    case Function::kSubstr:
      return RowWise(
          args, rows, SqlType::kText, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            std::optional<int64_t> len;
            if (v.size() > 2) {
              if (v[2].i < 0) return InvalidArgument("negative substring length");
              len = v[2].i;
            }
            return Value::Text(Substr(v[0].s, v[1].i, len));
          },
          out);
    case Function::kLeft:
    case Function::kRight:
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const int64_t len = Utf8Length(v[0].s);
            int64_t k = v[1].i < 0 ? std::max<int64_t>(0, len + v[1].i) : std::min(len, v[1].i);
            if (e.function == Function::kLeft) return Value::Text(Substr(v[0].s, 1, k));
            return Value::Text(Substr(v[0].s, len - k + 1, k));
          },
          out);
    case Function::kReplace:
      return RowWise(
          args, rows, SqlType::kText, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            if (v[1].s.empty()) return v[0];
            std::string out;
            size_t pos = 0;
            while (true) {
              size_t hit = v[0].s.find(v[1].s, pos);
              if (hit == std::string::npos) break;
              out.append(v[0].s, pos, hit - pos);
              out += v[2].s;
              pos = hit + v[1].s.size();
            }
            out.append(v[0].s, pos);
            return Value::Text(std::move(out));
          },
          out);
    case Function::kSplitPart:  // as PostgreSQL's: a negative field counts from the end
      return RowWise(
          args, rows, SqlType::kText, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            const std::string& s = v[0].s;
            const std::string& delimiter = v[1].s;
            const int64_t field = v[2].i;
            if (field == 0) return InvalidArgument("field position must not be zero");
            std::vector<std::string_view> fields;
            if (delimiter.empty()) {
              if (!s.empty()) fields.push_back(s);
            } else {
              size_t pos = 0;
              while (true) {
                const size_t hit = s.find(delimiter, pos);
                fields.emplace_back(std::string_view(s).substr(pos, hit - pos));
                if (hit == std::string::npos) break;
                pos = hit + delimiter.size();
              }
            }
            const int64_t n = static_cast<int64_t>(fields.size());
            const int64_t index = field > 0 ? field - 1 : n + field;
            if (index < 0 || index >= n) return Value::Text("");
            return Value::Text(std::string(fields[static_cast<size_t>(index)]));
          },
          out);
    case Function::kConcatWs:
      return RowWise(
          args, rows, SqlType::kText, false,
          [](const std::vector<Value>& v) -> Result<Value> {
            if (v[0].is_null) return Value::Null(SqlType::kText);
            std::string joined;
            bool first = true;
            for (size_t a = 1; a < v.size(); ++a) {
              if (v[a].is_null) continue;
              if (!first) joined += v[0].s;
              joined += v[a].s;
              first = false;
            }
            return Value::Text(std::move(joined));
          },
          out);
    case Function::kTrim:
    case Function::kLtrim:
    case Function::kRtrim:
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const std::string_view chars = v.size() > 1 ? std::string_view(v[1].s) : " ";
            return Value::Text(Trim(v[0].s, chars, e.function != Function::kRtrim,
                                    e.function != Function::kLtrim));
          },
          out);
    case Function::kStrpos:
      return RowWise(
          args, rows, SqlType::kBigInt, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            const size_t hit = v[0].s.find(v[1].s);
            if (hit == std::string::npos) return Value::BigInt(0);
            return Value::BigInt(Utf8Length(std::string_view(v[0].s).substr(0, hit)) + 1);
          },
          out);
    case Function::kRegexSubstr:
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const RE2& re = *e.regex;
            re2::StringPiece match[2];
            const int groups = re.NumberOfCapturingGroups() > 0 ? 2 : 1;
            if (!re.Match(v[0].s, 0, v[0].s.size(), RE2::UNANCHORED, match, groups)) {
              return Value::Null(SqlType::kText);
            }
            const re2::StringPiece& part = match[groups - 1];
            if (part.data() == nullptr) return Value::Null(SqlType::kText);  // group unmatched
            return Value::Text(std::string(part.data(), part.size()));
          },
          out);
    case Function::kStartsWith:
      return RowWise(
          args, rows, SqlType::kBoolean, true,
          [](const std::vector<Value>& v) -> Result<Value> {
            return Value::Boolean(v[0].s.starts_with(v[1].s));
          },
          out);
    case Function::kCoalesce:
      return RowWise(
          args, rows, e.type, false,
          [&](const std::vector<Value>& v) -> Result<Value> {
            for (const Value& x : v) {
              if (!x.is_null) return x;
            }
            return Value::Null(e.type);
          },
          out);
    case Function::kNullIf:
      return RowWise(
          args, rows, e.type, false,
          [&](const std::vector<Value>& v) -> Result<Value> {
            if (v[0].is_null) return v[0];
            if (!v[1].is_null && v[0].i == v[1].i && CompareDoubles(v[0].d, v[1].d) == 0 &&
                v[0].s == v[1].s) {
              return Value::Null(e.type);
            }
            return v[0];
          },
          out);
    case Function::kGreatest:
    case Function::kLeast:
      return RowWise(
          args, rows, e.type, false,
          [&](const std::vector<Value>& v) -> Result<Value> {
            const Value* best = nullptr;
            for (const Value& x : v) {
              if (x.is_null) continue;
              if (best == nullptr) {
                best = &x;
                continue;
              }
              bool less;
              if (x.type == SqlType::kDouble) {
                less = CompareDoubles(x.d, best->d) < 0;
              } else if (x.type == SqlType::kText) {
                less = x.s < best->s;
              } else if (x.type == SqlType::kUBigInt) {
                less = static_cast<uint64_t>(x.i) < static_cast<uint64_t>(best->i);
              } else {
                less = x.i < best->i;
              }
              if (less == (e.function == Function::kLeast)) best = &x;
            }
            return best ? *best : Value::Null(e.type);
          },
          out);
    case Function::kExtract: {
      SW_ASSIGN_OR_RETURN(absl::TimeZone tz, LoadZone(e.zone));
      if (!args[0]->constant) return ExtractVector(*args[0], rows, e, tz, out);
      return RowWise(
          args, rows, e.type, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            return ExtractField(v[0].i, e.unit, tz);
          },
          out);
    }
    case Function::kFormatTime: {
      SW_ASSIGN_OR_RETURN(absl::TimeZone tz, LoadZone(e.zone));
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            return Value::Text(absl::FormatTime(e.format, absl::FromUnixNanos(v[0].i), tz));
          },
          out);
    }
    case Function::kToChar: {
      SW_ASSIGN_OR_RETURN(absl::TimeZone tz, LoadZone(e.zone));
      const TimeTemplate pattern(e.format);
      return RowWise(
          args, rows, SqlType::kText, true,
          [&](const std::vector<Value>& v) -> Result<Value> {
            return Value::Text(pattern.Format(v[0].i, tz));
          },
          out);
    }
    default: return Internal("function {} has no implementation", static_cast<int>(e.function));
  }
}

// ---------------------------------------------------------------------------------------------

Status EvalInList(const BoundExpr& e, const Vector& a, size_t rows, Vector* out) {
  const size_t n = a.constant ? 1 : rows;
  std::vector<uint8_t> truth(n);
  auto miss = static_cast<uint8_t>(e.list_has_null ? 2 : 0);
  std::shared_ptr<const InListIndex> index = e.list_index;
  if (index == nullptr) index = MakeInListIndex(e.list);  // bound without one (a test)
  for (size_t i = 0; i < n; ++i) {
    if (!RowValid(a, i)) {
      truth[i] = 2;
      continue;
    }
    const size_t k = a.Index(i);
    bool hit;
    if (a.type == SqlType::kText) {
      hit = index->texts.contains(a.strings[k]);
    } else if (a.type == SqlType::kDouble) {
      hit = index->doubles.contains(DoubleKeyBits(a.doubles[k]));  // NaN = NaN, -0 = 0
    } else {
      hit = index->ints.contains(a.ints[k]);
    }
    truth[i] = hit ? 1 : miss;
  }
  if (e.negated) {
    for (auto& t : truth) t = t == 2 ? 2 : 1 - t;
  }
  FromTruthValues(truth, out);
  out->constant = a.constant;
  return Status::OK();
}

}  // namespace

std::shared_ptr<const InListIndex> MakeInListIndex(const std::vector<Value>& list) {
  auto index = std::make_shared<InListIndex>();
  for (const Value& v : list) {
    if (v.is_null) continue;
    if (v.type == SqlType::kText) {
      index->texts.insert(v.s);
    } else if (v.type == SqlType::kDouble) {
      index->doubles.insert(DoubleKeyBits(v.d));
    } else {
      index->ints.insert(v.i);
    }
  }
  return index;
}

Status CheckTimeZone(std::string_view zone) { return LoadZone(zone).status(); }

Status CheckDateTruncUnit(std::string_view unit) {
  auto r = TruncTo(0, unit, absl::UTCTimeZone());
  if (r.ok()) return Status::OK();
  return InvalidArgument(
      "unknown date_trunc unit '{}' (use microsecond, millisecond, second, minute, hour, day, "
      "week, month, quarter or year)",
      unit);
}

Status CheckExtractField(std::string_view field) {
  auto r = ExtractField(0, field, absl::UTCTimeZone());
  if (r.ok()) return Status::OK();
  return InvalidArgument(
      "unknown EXTRACT field '{}' (use year, quarter, month, week, day, dow, isodow, doy, hour, "
      "minute, second, millisecond, microsecond or epoch)",
      field);
}

Result<Value> CastValue(const Value& value, SqlType type) {
  if (value.is_null) return Value::Null(type);
  if (value.type == type) return value;
  auto fail = [&](std::string_view why = "") -> Status {
    return InvalidArgument("cannot cast {} '{}' to {}{}", SqlTypeName(value.type), value.ToString(),
                           SqlTypeName(type), why);
  };
  switch (type) {
    case SqlType::kText: return Value::Text(value.ToString());
    case SqlType::kDouble:
      if (value.type == SqlType::kText) {
        std::string s = Trim(value.s, " ", true, true);
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) return fail();
        // As PostgreSQL: a number too large for a DOUBLE, or too small for anything but zero,
        // is out of range instead of Infinity or 0 ('Infinity' itself is read as it is).
        if (errno == ERANGE && (d == 0 || std::isinf(d))) return fail(": out of range");
        return Value::Double(d);
      }
      if (value.type == SqlType::kInterval) return fail();
      return Value::Double(ToDouble(value));
    case SqlType::kBigInt:
    case SqlType::kUBigInt: {
      const bool u = type == SqlType::kUBigInt;
      if (value.type == SqlType::kText) {
        std::string s = Trim(value.s, " ", true, true);
        if (s.empty()) return fail();
        errno = 0;
        char* end = nullptr;
        if (u) {
          if (s[0] == '-') return fail(": out of range");
          unsigned long long x = std::strtoull(s.c_str(), &end, 10);
          if (end != s.c_str() + s.size()) return fail();
          if (errno == ERANGE) return fail(": out of range");
          return Value::UBigInt(x);
        }
        long long x = std::strtoll(s.c_str(), &end, 10);
        if (end != s.c_str() + s.size()) return fail();
        if (errno == ERANGE) return fail(": out of range");
        return Value::BigInt(x);
      }
      if (value.type == SqlType::kDouble) {
        const double r = std::nearbyint(value.d);
        if (!(r >= (u ? 0.0 : -9.223372036854775808e18) &&
              r < (u ? 1.8446744073709551616e19 : 9.223372036854775808e18))) {
          return fail(": out of range");
        }
        return u ? Value::UBigInt(static_cast<uint64_t>(r))
                 : Value::BigInt(static_cast<int64_t>(r));
      }
      if (value.type == SqlType::kUBigInt && !u) {
        if (value.i < 0) return fail(": out of range");
        return Value::BigInt(value.i);
      }
      if (u && value.i < 0 && value.type != SqlType::kUBigInt) return fail(": out of range");
      if (value.type == SqlType::kInterval) return fail();
      Value v = value;
      v.type = type;
      v.months = 0;
      return v;
    }
    case SqlType::kBoolean:
      if (value.type == SqlType::kText) {
        std::string s = Trim(value.s, " ", true, true);
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "on" || s == "1") {
          return Value::Boolean(true);
        }
        if (s == "false" || s == "f" || s == "no" || s == "n" || s == "off" || s == "0") {
          return Value::Boolean(false);
        }
        return fail();
      }
      if (value.type == SqlType::kDouble) return Value::Boolean(value.d != 0);
      if (value.type == SqlType::kBigInt || value.type == SqlType::kUBigInt) {
        return Value::Boolean(value.i != 0);
      }
      return fail();
    case SqlType::kTimestamp:
      if (value.type == SqlType::kText) {
        auto t = ParseTimestamp(value.s);
        if (!t.ok())
          return InvalidArgument("cannot cast '{}' to TIMESTAMP: {}", value.s,
                                 t.status().message());
        return Value::Timestamp(*t);
      }
      if (value.type == SqlType::kBigInt) return Value::Timestamp(value.i);
      if (value.type == SqlType::kDouble) {
        // Nanoseconds (to_timestamp(seconds) multiplies first): out of range names the
        // TIMESTAMP range, not BIGINT's.
        auto i = CastValue(value, SqlType::kBigInt);
        if (!i.ok()) {
          return InvalidArgument(
              "cannot cast DOUBLE '{}' (nanoseconds since 1970) to TIMESTAMP: outside the range "
              "of 64-bit nanoseconds (1677-09-21 to 2262-04-11)",
              value.ToString());
        }
        return Value::Timestamp(i->i);
      }
      return fail();
    case SqlType::kInterval:
      if (value.type == SqlType::kText) {
        SW_ASSIGN_OR_RETURN(Interval iv, ParseInterval(value.s));
        return Value::OfInterval(iv);
      }
      if (value.type == SqlType::kBigInt) return Value::OfInterval({0, value.i});
      return fail();
    case SqlType::kNull: return Value::Null();
  }
  return fail();
}

Status CastVector(const Vector& input, size_t rows, SqlType type, Vector* out) {
  const size_t n = input.constant ? 1 : rows;
  out->Reset(type);
  if (input.type == type) {
    *out = input;
    return Status::OK();
  }
  // Fast numeric paths.
  if (type == SqlType::kDouble &&
      (input.type == SqlType::kBigInt || input.type == SqlType::kUBigInt)) {
    out->doubles.resize(n);
    const bool u = input.type == SqlType::kUBigInt;
    for (size_t i = 0; i < n; ++i) {
      out->doubles[i] = u ? static_cast<double>(static_cast<uint64_t>(input.ints[i]))
                          : static_cast<double>(input.ints[i]);
    }
    out->valid = input.valid;
    out->constant = input.constant;
    return Status::OK();
  }
  if (input.type == SqlType::kNull) {
    out->SetConstant(Value::Null(type), type);
    if (!input.constant) out->Flatten(n);
    return Status::OK();
  }
  for (size_t i = 0; i < n; ++i) {
    SW_ASSIGN_OR_RETURN(Value v, CastValue(input.Get(i), type));
    out->Append(v);
  }
  out->constant = input.constant;
  return Status::OK();
}

namespace {

bool Conditional(const BoundExpr& e) {
  return e.kind == BoundKind::kCase ||
         (e.kind == BoundKind::kFunction && e.function == Function::kCoalesce);
}

// CASE and coalesce as PostgreSQL evaluates them: each branch (argument) only on the rows it
// decides, so that `CASE WHEN v > 0 THEN ln(v) END` or `coalesce(1.0, sqrt(v))` do not fail
// on rows the guard excludes. Slower than evaluating every branch on every row (the rows are
// gathered per branch), so only run when that failed.
Result<const Vector*> EvaluateBranches(const BoundExpr& e, const DataChunk& input,
                                       Vector* scratch) {
  std::vector<uint32_t> remaining(input.rows);
  for (size_t i = 0; i < input.rows; ++i) remaining[i] = static_cast<uint32_t>(i);
  // Per row: the vector and position its value was evaluated at (nullptr: NULL).
  std::vector<std::pair<const Vector*, uint32_t>> from(input.rows, {nullptr, 0});
  std::deque<DataChunk> subsets;  // deques: what Evaluate returns points into them
  std::deque<Vector> results;
  auto evaluate_on = [&](const BoundExpr& child,
                         const std::vector<uint32_t>& rows) -> Result<const Vector*> {
    DataChunk& subset = subsets.emplace_back();
    subset.rows = rows.size();
    subset.columns = input.columns;
    for (Vector& column : subset.columns) column.Select(rows);
    return Evaluate(child, subset, &results.emplace_back());
  };
  auto take = [&](const Vector& v, const std::vector<uint32_t>& rows, size_t k) {
    from[rows[k]] = {&v, static_cast<uint32_t>(k)};
  };
  if (e.kind == BoundKind::kCase) {
    const size_t pairs = e.children.size() / 2;
    for (size_t p = 0; p < pairs && !remaining.empty(); ++p) {
      SW_ASSIGN_OR_RETURN(const Vector* when, evaluate_on(*e.children[2 * p], remaining));
      if (when->type != SqlType::kBoolean && when->type != SqlType::kNull) {
        return sql::MarkErrorOffset(
            InvalidArgument("CASE WHEN needs a BOOLEAN condition, not {}", SqlTypeName(when->type)),
            e.children[2 * p]->offset);
      }
      std::vector<uint32_t> taken, rest;
      for (size_t k = 0; k < remaining.size(); ++k) {
        const bool hit = !when->IsNull(k) && when->ints[when->Index(k)] != 0;
        (hit ? taken : rest).push_back(remaining[k]);
      }
      if (!taken.empty()) {
        SW_ASSIGN_OR_RETURN(const Vector* then, evaluate_on(*e.children[2 * p + 1], taken));
        for (size_t k = 0; k < taken.size(); ++k) take(*then, taken, k);
      }
      remaining.swap(rest);
    }
    if (e.children.size() % 2 == 1 && !remaining.empty()) {
      SW_ASSIGN_OR_RETURN(const Vector* otherwise, evaluate_on(*e.children.back(), remaining));
      for (size_t k = 0; k < remaining.size(); ++k) take(*otherwise, remaining, k);
    }
  } else {  // coalesce: each argument on the rows every one before it left NULL
    for (size_t a = 0; a < e.children.size() && !remaining.empty(); ++a) {
      SW_ASSIGN_OR_RETURN(const Vector* v, evaluate_on(*e.children[a], remaining));
      std::vector<uint32_t> rest;
      for (size_t k = 0; k < remaining.size(); ++k) {
        if (v->IsNull(k)) {
          rest.push_back(remaining[k]);
        } else {
          take(*v, remaining, k);
        }
      }
      remaining.swap(rest);
    }
  }
  scratch->Reset(e.type);
  for (const auto& [v, k] : from) {
    if (v == nullptr) {
      scratch->AppendNull();
      continue;
    }
    Value value = v->Get(k);
    if (!value.is_null && value.type != e.type) {
      SW_ASSIGN_OR_RETURN(value, CastValue(value, e.type));
    }
    scratch->Append(value);
  }
  return scratch;
}

// Evaluate without marking the errors of `e` itself.
Result<const Vector*> EvaluateHere(const BoundExpr& e, const DataChunk& input, Vector* scratch) {
  switch (e.kind) {
    case BoundKind::kColumn: return &input.columns[e.column];
    case BoundKind::kConstant: scratch->SetConstant(e.constant, e.type); return scratch;
    default: break;
  }
  ScratchVectors temps(e.children.size());
  std::vector<const Vector*> args(e.children.size());
  for (size_t i = 0; i < e.children.size(); ++i) {
    Result<const Vector*> arg = Evaluate(*e.children[i], input, &temps[i]);
    if (!arg.ok()) {
      // A branch failed somewhere: perhaps only on rows its guard excludes.
      if (Conditional(e)) return EvaluateBranches(e, input, scratch);
      return arg.status();
    }
    args[i] = *arg;
  }
  const size_t rows = input.rows;
  switch (e.kind) {
    case BoundKind::kFunction:
      SW_RETURN_IF_ERROR(EvalFunction(e, args, rows, scratch));
      return scratch;
    case BoundKind::kAnd:
    case BoundKind::kOr: {
      const bool all_const = AllConstant(args);
      const size_t n = all_const ? 1 : rows;
      // Columns without NULLs: two-valued logic, word by word.
      bool two_valued = !args.empty();
      for (const Vector* a : args) {
        two_valued &= !a->constant && a->type == SqlType::kBoolean && a->AllValid();
      }
      if (two_valued) {
        scratch->Reset(SqlType::kBoolean);
        scratch->ints.resize(rows);
        int64_t* out = scratch->ints.data();
        const int64_t* first = args[0]->ints.data();
        for (size_t i = 0; i < rows; ++i) out[i] = first[i] != 0;
        for (size_t k = 1; k < args.size(); ++k) {
          const int64_t* x = args[k]->ints.data();
          if (e.kind == BoundKind::kAnd) {
            for (size_t i = 0; i < rows; ++i) out[i] &= x[i] != 0;
          } else {
            for (size_t i = 0; i < rows; ++i) out[i] |= x[i] != 0;
          }
        }
        return scratch;
      }
      std::vector<uint8_t> acc(n, e.kind == BoundKind::kAnd ? 1 : 0), t;
      for (const Vector* a : args) {
        TruthValues(*a, n, &t);
        for (size_t i = 0; i < n; ++i) {
          if (e.kind == BoundKind::kAnd) {
            if (acc[i] == 0 || t[i] == 0) {
              acc[i] = 0;
            } else if (t[i] == 2) {
              acc[i] = 2;
            }
          } else {
            if (acc[i] == 1 || t[i] == 1) {
              acc[i] = 1;
            } else if (t[i] == 2) {
              acc[i] = 2;
            }
          }
        }
      }
      FromTruthValues(acc, scratch);
      scratch->constant = all_const;
      return scratch;
    }
    case BoundKind::kNot: {
      const size_t n = args[0]->constant ? 1 : rows;
      std::vector<uint8_t> t;
      TruthValues(*args[0], n, &t);
      for (auto& x : t) x = x == 2 ? 2 : 1 - x;
      FromTruthValues(t, scratch);
      scratch->constant = args[0]->constant;
      return scratch;
    }
    case BoundKind::kIsNull: {
      const Vector& a = *args[0];
      const size_t n = a.constant ? 1 : rows;
      scratch->Reset(SqlType::kBoolean);
      scratch->ints.resize(n);
      for (size_t i = 0; i < n; ++i) scratch->ints[i] = a.IsNull(i) != e.negated;
      scratch->constant = a.constant;
      return scratch;
    }
    case BoundKind::kInList:
      SW_RETURN_IF_ERROR(EvalInList(e, *args[0], rows, scratch));
      return scratch;
    case BoundKind::kCase: {
      const bool all_const = AllConstant(args);
      const size_t n = all_const ? 1 : rows;
      scratch->Reset(e.type);
      const size_t pairs = args.size() / 2;
      const bool has_else = args.size() % 2 == 1;
      for (size_t p = 0; p < pairs; ++p) {
        const SqlType t = args[2 * p]->type;
        if (t != SqlType::kBoolean && t != SqlType::kNull) {
          return sql::MarkErrorOffset(
              InvalidArgument("CASE WHEN needs a BOOLEAN condition, not {}", SqlTypeName(t)),
              e.children[2 * p]->offset);
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const Vector* chosen = has_else ? args.back() : nullptr;
        for (size_t p = 0; p < pairs; ++p) {
          const Vector& w = *args[2 * p];
          if (!w.IsNull(i) && w.ints[w.Index(i)] != 0) {
            chosen = args[2 * p + 1];
            break;
          }
        }
        if (chosen == nullptr) {
          scratch->AppendNull();
        } else {
          scratch->AppendFrom(*chosen, i);
        }
      }
      scratch->constant = all_const;
      return scratch;
    }
    case BoundKind::kCast:
      SW_RETURN_IF_ERROR(CastVector(*args[0], rows, e.type, scratch));
      return scratch;
    case BoundKind::kMatch: {
      const Vector& a = *args[0];
      const size_t n = a.constant ? 1 : rows;
      std::vector<uint8_t> t(n);
      for (size_t i = 0; i < n; ++i) {
        if (a.IsNull(i)) {
          t[i] = 2;
        } else {
          t[i] = RE2::PartialMatch(a.strings[a.Index(i)], *e.regex) != e.negated;
        }
      }
      FromTruthValues(t, scratch);
      scratch->constant = a.constant;
      return scratch;
    }
    default: return Internal("unexpected expression kind {}", static_cast<int>(e.kind));
  }
}

}  // namespace

Result<const Vector*> Evaluate(const BoundExpr& e, const DataChunk& input, Vector* scratch) {
  Result<const Vector*> result = EvaluateHere(e, input, scratch);
  // The innermost failing expression names the place (a mark already there stays).
  if (!result.ok()) return sql::MarkErrorOffset(result.status(), e.offset);
  return result;
}

Status EvaluatePredicate(const BoundExpr& expr, const DataChunk& input,
                         std::vector<uint32_t>* selection) {
  ScratchVectors scratch(1);
  SW_ASSIGN_OR_RETURN(const Vector* v, Evaluate(expr, input, &scratch[0]));
  if (v->type == SqlType::kNull) return Status::OK();
  if (v->type != SqlType::kBoolean) {
    // The binder should have refused it; never read a DOUBLE or TEXT column as truth values.
    return sql::MarkErrorOffset(
        InvalidArgument("a condition must be BOOLEAN, not {}", SqlTypeName(v->type)), expr.offset);
  }
  if (v->constant) {
    if (!v->IsNull(0) && v->ints[0] != 0) {
      for (size_t i = 0; i < input.rows; ++i) selection->push_back(static_cast<uint32_t>(i));
    }
    return Status::OK();
  }
  // Without a branch per row: every row is written, and the count moves past the true ones.
  const size_t before = selection->size();
  selection->resize(before + input.rows);
  uint32_t* out = selection->data() + before;
  const int64_t* truth = v->ints.data();
  size_t kept = 0;
  if (v->valid.empty()) {
    for (size_t i = 0; i < input.rows; ++i) {
      out[kept] = static_cast<uint32_t>(i);
      kept += truth[i] != 0;
    }
  } else {
    const uint8_t* valid = v->valid.data();
    for (size_t i = 0; i < input.rows; ++i) {
      out[kept] = static_cast<uint32_t>(i);
      kept += (truth[i] != 0) & (valid[i] != 0);
    }
  }
  selection->resize(before + kept);
  return Status::OK();
}

std::optional<TimeKeyBuckets> TimeKeyBuckets::For(const BoundExpr& key) {
  if (key.kind != BoundKind::kFunction || key.children.size() != 1 || !key.zone.empty()) {
    return std::nullopt;
  }
  const BoundExpr& arg = *key.children[0];
  if (arg.kind != BoundKind::kColumn || arg.column != 0 || arg.type != SqlType::kTimestamp) {
    return std::nullopt;
  }
  if (key.function == Function::kTimeBucket) {
    if (key.interval.months <= 0 && key.interval.nanos <= 0) return std::nullopt;
    return TimeKeyBuckets(&key);
  }
  if (key.function == Function::kDateTrunc && CheckDateTruncUnit(key.unit).ok()) {
    return TimeKeyBuckets(&key);
  }
  return std::nullopt;
}

Result<std::pair<int64_t, int64_t>> TimeKeyBuckets::Range(int64_t t) {
  if (t >= last_.first && t < last_.second) return last_;
  const BoundExpr& e = *key_;
  const absl::TimeZone utc = absl::UTCTimeZone();
  if (e.function == Function::kDateTrunc) {
    SW_ASSIGN_OR_RETURN(last_, TruncRange(t, e.unit, utc));
  } else if (e.interval.months > 0) {
    SW_ASSIGN_OR_RETURN(const int64_t first, Bucket(t, e, nullptr));
    const absl::CivilMonth next = absl::CivilMonth(ToCivil(first, utc)) + e.interval.months;
    last_ = {first, CivilToNanos(absl::CivilSecond(next), utc)};
  } else {
    last_ = FixedBucket(t, e.interval.nanos, e.origin);
  }
  return last_;
}

Result<int64_t> EvaluateAtTime(const BoundExpr& expr, int64_t t) {
  DataChunk one;
  one.rows = 1;
  one.columns.resize(1);
  one.columns[0].Reset(SqlType::kTimestamp);
  one.columns[0].ints.push_back(t);
  Vector scratch;
  SW_ASSIGN_OR_RETURN(const Vector* v, Evaluate(expr, one, &scratch));
  if (v->IsNull(0)) return Internal("a time expression gave NULL");
  return v->ints[v->Index(0)];
}

Result<Value> EvaluateConstant(const BoundExpr& expr) {
  DataChunk empty;
  empty.rows = 1;
  Vector scratch;
  SW_ASSIGN_OR_RETURN(const Vector* v, Evaluate(expr, empty, &scratch));
  Value out = v->Get(0);
  if (expr.type == SqlType::kInterval && expr.kind == BoundKind::kConstant) out = expr.constant;
  return out;
}

}  // namespace seaway::query
