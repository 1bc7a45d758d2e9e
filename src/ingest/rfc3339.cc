// RFC 3339 timestamp parser (src/ingest).
#include "ingest/rfc3339.h"

#include <string>

namespace seaway {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (Howard Hinnant's
// days_from_civil). REQUIRES: 1 <= m <= 12, 1 <= d <= days in that month.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

bool IsLeapYear(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` decimal digits at *pos.
bool ReadDigits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool ReadChar(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// The text as errors quote it: long garbage is cut, at a UTF-8 character boundary.
std::string Shown(std::string_view text) {
  if (text.size() <= 64) return std::string(text);
  size_t cut = 40;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace

Result<int64_t> ParseRfc3339(std::string_view text) {
  auto invalid = [text](std::string_view reason) {
    return InvalidArgument("'{}' is not a valid RFC 3339 timestamp: {}", Shown(text), reason);
  };
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !ReadChar(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !ReadChar(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return invalid("expected a date YYYY-MM-DD");
  }
  if (pos == text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return invalid("expected 'T' between the date and the time");
  }
  ++pos;
  if (!ReadDigits(text, &pos, 2, &hour) || !ReadChar(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !ReadChar(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return invalid("expected a time HH:MM:SS after the date");
  }
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos, ++digits) {
      if (digits == 9) return invalid("more than 9 fractional digits");
      nanos = nanos * 10 + (text[pos] - '0');
    }
    if (digits == 0) return invalid("expected digits after '.'");
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos == text.size()) return invalid("missing the time zone ('Z' or +HH:MM / -HH:MM)");
  int64_t offset_seconds = 0;
  const char zone = text[pos++];
  if (zone == '+' || zone == '-') {
    int offset_hour = 0, offset_minute = 0;
    if (!ReadDigits(text, &pos, 2, &offset_hour) || !ReadChar(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &offset_minute)) {
      return invalid("expected a time zone offset +HH:MM or -HH:MM");
    }
    if (offset_hour > 23) return invalid(fmt::format("offset hour {}", offset_hour));
    if (offset_minute > 59) return invalid(fmt::format("offset minute {}", offset_minute));
    offset_seconds = (offset_hour * 3600 + offset_minute * 60) * (zone == '-' ? -1 : 1);
  } else if (zone != 'Z' && zone != 'z') {
    return invalid("expected 'Z' or an offset +HH:MM / -HH:MM after the time");
  }
  if (pos != text.size()) return invalid("unexpected text after the time zone");

  if (month < 1 || month > 12) return invalid(fmt::format("month {}", month));
  if (day < 1 || day > DaysInMonth(year, month)) {
    return invalid(fmt::format("day {} does not exist in {:04}-{:02}", day, year, month));
  }
  if (hour > 23) return invalid(fmt::format("hour {}", hour));
  if (minute > 59) return invalid(fmt::format("minute {}", minute));
  if (second > 59) return invalid(fmt::format("second {}", second));

  int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
                    second - offset_seconds;
  // Before the epoch, borrow one second so that the product stays in range down to INT64_MIN.
  if (seconds < 0 && nanos > 0) {
    seconds += 1;
    nanos -= kNanosPerSecond;
  }
  int64_t ns = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &ns) ||
      __builtin_add_overflow(ns, nanos, &ns)) {
    return invalid("outside the range of 64-bit nanoseconds (1677-09-21 to 2262-04-11)");
  }
  return ns;
}

}  // namespace seaway
