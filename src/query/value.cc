// SQL types, intervals, timestamps and scalar values (src/query).
#include "query/value.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <absl/time/time.h>

#include "ingest/rfc3339.h"

namespace seaway::query {

std::string_view SqlTypeName(SqlType type) {
  switch (type) {
    case SqlType::kNull: return "NULL";
    case SqlType::kBoolean: return "BOOLEAN";
    case SqlType::kBigInt: return "BIGINT";
    case SqlType::kUBigInt: return "UBIGINT";
    case SqlType::kDouble: return "DOUBLE";
    case SqlType::kText: return "TEXT";
    case SqlType::kTimestamp: return "TIMESTAMP";
    case SqlType::kInterval: return "INTERVAL";
  }
  return "?";
}

namespace {

struct UnitInfo {
  std::string_view name;
  int64_t months;
  int64_t nanos;
};

// Longest spellings first within a family so that prefixes do not shadow ("ms" before "m").
constexpr UnitInfo kUnits[] = {
    {"nanoseconds", 0, 1},
    {"nanosecond", 0, 1},
    {"ns", 0, 1},
    {"microseconds", 0, 1'000},
    {"microsecond", 0, 1'000},
    {"us", 0, 1'000},
    {"milliseconds", 0, 1'000'000},
    {"millisecond", 0, 1'000'000},
    {"ms", 0, 1'000'000},
    {"seconds", 0, kNanosPerSecond},
    {"second", 0, kNanosPerSecond},
    {"secs", 0, kNanosPerSecond},
    {"sec", 0, kNanosPerSecond},
    {"s", 0, kNanosPerSecond},
    {"minutes", 0, 60 * kNanosPerSecond},
    {"minute", 0, 60 * kNanosPerSecond},
    {"mins", 0, 60 * kNanosPerSecond},
    {"min", 0, 60 * kNanosPerSecond},
    {"m", 0, 60 * kNanosPerSecond},
    {"hours", 0, 3600 * kNanosPerSecond},
    {"hour", 0, 3600 * kNanosPerSecond},
    {"hrs", 0, 3600 * kNanosPerSecond},
    {"hr", 0, 3600 * kNanosPerSecond},
    {"h", 0, 3600 * kNanosPerSecond},
    {"days", 0, kNanosPerDay},
    {"day", 0, kNanosPerDay},
    {"d", 0, kNanosPerDay},
    {"weeks", 0, 7 * kNanosPerDay},
    {"week", 0, 7 * kNanosPerDay},
    {"w", 0, 7 * kNanosPerDay},
    {"months", 1, 0},
    {"month", 1, 0},
    {"mons", 1, 0},
    {"mon", 1, 0},
    {"years", 12, 0},
    {"year", 12, 0},
    {"y", 12, 0},
};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "HH:MM[:SS[.frac]]" at the start of `s`, as nanoseconds.
bool ParseClock(std::string_view s, int64_t* nanos) {
  int64_t parts[3] = {0, 0, 0};
  int n = 0;
  size_t pos = 0;
  while (n < 3) {
    if (pos >= s.size() || !IsDigit(s[pos])) return false;
    int64_t v = 0;
    while (pos < s.size() && IsDigit(s[pos]) && v < 1'000'000'000) v = v * 10 + (s[pos++] - '0');
    parts[n++] = v;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      continue;
    }
    break;
  }
  if (n < 2) return false;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.' && n == 3) {
    ++pos;
    int64_t scale = kNanosPerSecond;
    while (pos < s.size() && IsDigit(s[pos])) {
      scale /= 10;
      frac += (s[pos++] - '0') * scale;
    }
  }
  if (pos != s.size()) return false;
  *nanos = ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * kNanosPerSecond + frac;
  return true;
}

}  // namespace

Result<Interval> ParseInterval(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgument("'{}' is not a valid interval: {}", text, why);
  };
  Interval out;
  size_t pos = 0;
  bool any = false;
  while (true) {
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
    if (pos == text.size()) break;
    bool negative = false;
    if (text[pos] == '-' || text[pos] == '+') negative = text[pos++] == '-';
    // A clock "HH:MM:SS" part.
    const size_t start = pos;
    size_t end = pos;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    std::string_view word = text.substr(start, end - start);
    if (word.find(':') != std::string_view::npos) {
      int64_t nanos = 0;
      if (!ParseClock(word, &nanos)) return invalid("expected HH:MM:SS");
      out.nanos += negative ? -nanos : nanos;
      pos = end;
      any = true;
      continue;
    }
    // A number, then a unit (possibly glued: 5m, 250ms).
    if (pos >= text.size() || (!IsDigit(text[pos]) && text[pos] != '.')) {
      return invalid("expected a number");
    }
    const size_t num_start = pos;
    while (pos < text.size() && (IsDigit(text[pos]) || text[pos] == '.')) ++pos;
    std::string number(text.substr(num_start, pos - num_start));
    char* parse_end = nullptr;
    const double amount = std::strtod(number.c_str(), &parse_end);
    if (parse_end != number.c_str() + number.size()) return invalid("expected a number");
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
    size_t unit_end = pos;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    std::string unit(text.substr(pos, unit_end - pos));
    for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.empty()) return invalid("expected a unit after the number (e.g. '5 minutes')");
    const UnitInfo* found = nullptr;
    for (const UnitInfo& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return invalid(
          fmt::format("unknown unit '{}' (use ns, us, ms, s, m, h, d, w, month, y)", unit));
    }
    const double sign = negative ? -1.0 : 1.0;
    if (found->months != 0) {
      if (amount != std::floor(amount)) return invalid("months and years must be whole numbers");
      out.months += static_cast<int64_t>(sign * amount) * found->months;
    } else {
      const double nanos = sign * amount * static_cast<double>(found->nanos);
      if (std::fabs(nanos) > 9.2e18) return invalid("out of range");
      out.nanos += static_cast<int64_t>(std::llround(nanos));
    }
    pos = unit_end;
    any = true;
  }
  if (!any) return invalid("it is empty");
  return out;
}

std::string FormatInterval(Interval interval) {
  std::string out;
  auto add = [&](int64_t n, std::string_view unit) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");  // "-1 days", as PostgreSQL
  };
  if (interval.months / 12 != 0) add(interval.months / 12, "year");
  if (interval.months % 12 != 0) add(interval.months % 12, "mon");  // "2 mons", as PostgreSQL
  int64_t nanos = interval.nanos;
  const bool negative = nanos < 0;
  if (negative) nanos = -nanos;
  const int64_t days = nanos / kNanosPerDay;
  nanos %= kNanosPerDay;
  if (days != 0) add(negative ? -days : days, "day");
  if (nanos != 0) {
    if (!out.empty()) out += ' ';
    const int64_t secs = nanos / kNanosPerSecond;
    out += fmt::format("{}{:02}:{:02}:{:02}", negative ? "-" : "", secs / 3600, secs / 60 % 60,
                       secs % 60);
    if (int64_t frac = nanos % kNanosPerSecond; frac != 0) {
      std::string digits = fmt::format("{:09}", frac);
      while (digits.back() == '0') digits.pop_back();
      out += '.' + digits;
    }
  }
  return out.empty() ? "00:00:00" : out;
}

std::string FormatTimestamp(int64_t nanos) {
  // Civil date from days since the epoch (Howard Hinnant's civil_from_days): results print
  // thousands of timestamps, so no time library call per value.
  int64_t secs = nanos / kNanosPerSecond;
  int64_t frac = nanos % kNanosPerSecond;
  if (frac < 0) {
    frac += kNanosPerSecond;
    --secs;
  }
  int64_t days = secs / 86'400;
  int64_t sod = secs % 86'400;
  if (sod < 0) {
    sod += 86'400;
    --days;
  }
  const int64_t z = days + 719'468;
  const int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[40];
  char* p = buf;
  auto put2 = [&](int64_t v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  if (year < 0 || year > 9999) {
    p = fmt::format_to(p, "{:04}", year);
  } else {
    put2(year / 100);
    put2(year % 100);
  }
  *p++ = '-';
  put2(month);
  *p++ = '-';
  put2(day);
  *p++ = 'T';
  put2(sod / 3600);
  *p++ = ':';
  put2(sod / 60 % 60);
  *p++ = ':';
  put2(sod % 60);
  if (frac != 0) {
    *p++ = '.';
    char digits[9];
    for (int i = 8; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int n = 9;
    while (digits[n - 1] == '0') --n;
    for (int i = 0; i < n; ++i) *p++ = digits[i];
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

Result<int64_t> ParseTimestamp(std::string_view text, bool* zoned) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgument(
        "{} (write '2026-01-01', '2026-01-01 08:30:00' or "
        "'2026-01-01T08:30:00+02:00')",
        why);
  };
  std::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  if (t.size() < 10) return invalid("expected a date YYYY-MM-DD");
  // The zone, if any: after the time (past the date's own dashes).
  std::string zone;
  auto ends_with_word = [&](std::string_view word) {
    if (t.size() < 10 + word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(t[t.size() - word.size() + i])) != word[i]) {
        return false;
      }
    }
    return true;
  };
  if (t.size() > 10 && (t.back() == 'Z' || t.back() == 'z')) {
    zone = "Z";
    t.remove_suffix(1);
  } else if (ends_with_word(" UTC") || ends_with_word(" GMT")) {
    zone = "Z";
    t.remove_suffix(4);
  } else if (size_t sign = t.find_last_of("+-"); sign != std::string_view::npos && sign > 10) {
    std::string digits;
    for (char c : t.substr(sign + 1)) {
      if (c != ':') digits += c;
    }
    if (digits.size() == 2) digits += "00";
    if (digits.size() != 4 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return invalid("expected an offset +HH, +HHMM or +HH:MM");
    }
    zone = fmt::format("{}{}:{}", t[sign], digits.substr(0, 2), digits.substr(2));
    t = t.substr(0, sign);
  }
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string civil(t);
  if (civil.size() == 10) {
    civil += "T00:00:00";
  } else if (civil.size() == 16) {
    civil += ":00";  // HH:MM
  }
  const bool named = !zone.empty();
  if (zoned != nullptr) *zoned = named;
  auto parsed = ParseRfc3339(civil + (named ? zone : "Z"));
  if (!parsed.ok()) {
    // The RFC 3339 parser names what is wrong (a month 13, a missing time...).
    std::string why(parsed.status().message());
    if (size_t colon = why.find("timestamp: "); colon != std::string::npos) {
      why = why.substr(colon + 11);
    }
    return invalid(why);
  }
  return *parsed;
}

Result<int64_t> ParseTimestampIn(std::string_view text, std::string_view zone) {
  bool zoned = false;
  SW_ASSIGN_OR_RETURN(int64_t utc, ParseTimestamp(text, &zoned));
  if (zoned || zone.empty() || zone == "UTC") return utc;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(zone), &tz)) {
    return InvalidArgument("unknown time zone '{}'", zone);
  }
  // The same wall-clock reading in `zone`: civil seconds, then the sub-second part.
  int64_t secs = utc / kNanosPerSecond, sub = utc % kNanosPerSecond;
  if (sub < 0) {
    sub += kNanosPerSecond;
    --secs;
  }
  const absl::CivilSecond civil =
      absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  // As PostgreSQL: a time the clocks skipped reads with the offset before the change, a time
  // they repeated as the later (standard) one.
  const absl::TimeZone::TimeInfo info = tz.At(civil);
  const int64_t local_secs =
      absl::ToUnixSeconds(info.kind == absl::TimeZone::TimeInfo::REPEATED ? info.post : info.pre);
  int64_t out;
  if (__builtin_mul_overflow(local_secs, kNanosPerSecond, &out) ||
      __builtin_add_overflow(out, sub, &out)) {
    return InvalidArgument(
        "'{}' in {} is outside the range of timestamps (1677-09-21 to "
        "2262-04-11)",
        text, zone);
  }
  return out;
}

// fmt already switches to scientific notation outside exponents -4..15, so only exponent 15
// needs rewriting.
std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  std::string s = fmt::format("{}", d);
  const double a = std::fabs(d);
  if (!(a >= 1e15 && a < 1e16)) return s;
  const bool negative = s[0] == '-';
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') digits += c;
    if (c == '.') break;  // 16 integer digits are already the shortest form's precision
  }
  const size_t point = s.find('.');
  if (point != std::string::npos) digits += s.substr(point + 1);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  out += digits[0];
  if (digits.size() > 1) out += "." + digits.substr(1);
  return out + "e+15";
}

std::string Value::ToString() const {
  if (is_null) return "NULL";
  switch (type) {
    case SqlType::kNull: return "NULL";
    case SqlType::kBoolean: return i != 0 ? "true" : "false";
    case SqlType::kBigInt: return std::to_string(i);
    case SqlType::kUBigInt: return std::to_string(static_cast<uint64_t>(i));
    case SqlType::kDouble: return FormatDouble(d);
    case SqlType::kText: return s;
    case SqlType::kTimestamp: return FormatTimestamp(i);
    case SqlType::kInterval: return FormatInterval(interval());
  }
  return "?";
}

}  // namespace seaway::query
