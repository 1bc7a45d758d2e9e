// PostgreSQL's to_char(timestamp, template) (src/query): a template of PostgreSQL's date/time
// patterns, read once, then applied to instants by the executor.
//
//   to_char(time, 'YYYY-MM-DD HH24:MI:SS')   -> 2026-11-28 07:05:00
//   to_char(time, 'FMDay, DDth FMMonth')     -> Saturday, 28th November
//
// Patterns, as PostgreSQL reads them (the longest first, case-sensitive where the case of the
// output follows it): YYYY YYY YY Y Y,YYY IYYY IYY IY I CC Q MM MONTH Month month MON Mon mon
// RM rm WW IW W DDD IDDD DD D ID DAY Day day DY Dy dy J HH HH12 HH24 MI SS SSSS SSSSS MS US
// FF1..FF6 AM PM A.M. P.M. (and lower case) AD BC A.D. B.C. TZ tz TZH TZM OF; the numeric ones
// also in lower case. FM before a pattern drops its padding (leading zeros, the blanks after
// names), TH or th after a number adds its ordinal suffix (1st, 22ND); TM and FX are accepted
// and change nothing (names are English). Other characters are copied, text in double quotes
// too (a backslash there escapes the next character), and \" outside quotes is a quote.
//
// Thread-safe: a template is immutable once made.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <absl/time/time.h>

namespace seaway::query {

class TimeTemplate {
 public:
  explicit TimeTemplate(std::string_view pattern);

  // The instant `ns` (nanoseconds since the epoch) in the zone `tz`, as the template says.
  std::string Format(int64_t ns, const absl::TimeZone& tz) const;

  enum class Field : uint8_t;

 private:
  enum class Style : uint8_t { kUpper, kCapitalized, kLower };
  struct Part {
    Field field;
    Style style = Style::kUpper;
    bool dotted = false;     // A.M., B.C.
    bool fill_mode = false;  // FM: no padding
    bool ordinal = false;    // TH / th after it
    bool ordinal_upper = false;
    int digits = 0;       // FF1..FF6
    std::string literal;  // Field::kLiteral
  };

  std::vector<Part> parts_;
};

}  // namespace seaway::query
