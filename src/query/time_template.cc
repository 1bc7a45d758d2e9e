// PostgreSQL's to_char(timestamp, template) (src/query); time_template.h has the patterns.
#include "query/time_template.h"

#include <array>
#include <cstdlib>

#include <absl/time/civil_time.h>
#include <fmt/format.h>

namespace seaway::query {

enum class TimeTemplate::Field : uint8_t {
  kLiteral,
  kNone,  // FX: no output
  kYearWithComma,
  kYear,  // `digits`: 4 (all), 3, 2 or 1 last digits
  kIsoYear,
  kCentury,
  kQuarter,
  kMonth,
  kMonthName,
  kMonthAbbreviation,
  kRomanMonth,
  kWeekOfYear,
  kIsoWeek,
  kWeekOfMonth,
  kDayOfYear,
  kIsoDayOfYear,
  kDayOfMonth,
  kDayOfWeek,
  kIsoDayOfWeek,
  kDayName,
  kDayAbbreviation,
  kJulianDay,
  kHour12,
  kHour24,
  kMinute,
  kSecond,
  kSecondsOfDay,
  kMillisecond,
  kMicrosecond,
  kFraction,  // FF1..FF6: `digits` of the second's fraction
  kMeridiem,  // AM / PM
  kEra,       // AD / BC
  kZoneName,
  kZoneHours,
  kZoneMinutes,
  kZoneOffset,
};

namespace {

using Field = TimeTemplate::Field;

struct Keyword {
  std::string_view text;
  Field field;
  int digits;   // kYear, kIsoYear, kFraction
  char style;   // 'U' upper, 'C' capitalized, 'L' lower: for names, AM/PM, AD/BC, TZ, RM
  bool dotted;  // A.M., B.C.
};

// PostgreSQL's keyword table (formatting.c), in its order: the first that starts the rest of the
// template wins, so longer keywords come before their prefixes.
constexpr std::array kKeywords = {
    Keyword{"A.D.", Field::kEra, 0, 'U', true},
    Keyword{"A.M.", Field::kMeridiem, 0, 'U', true},
    Keyword{"AD", Field::kEra, 0, 'U', false},
    Keyword{"AM", Field::kMeridiem, 0, 'U', false},
    Keyword{"B.C.", Field::kEra, 0, 'U', true},
    Keyword{"BC", Field::kEra, 0, 'U', false},
    Keyword{"CC", Field::kCentury, 0, 'U', false},
    Keyword{"DAY", Field::kDayName, 0, 'U', false},
    Keyword{"DDD", Field::kDayOfYear, 0, 'U', false},
    Keyword{"DD", Field::kDayOfMonth, 0, 'U', false},
    Keyword{"DY", Field::kDayAbbreviation, 0, 'U', false},
    Keyword{"Day", Field::kDayName, 0, 'C', false},
    Keyword{"Dy", Field::kDayAbbreviation, 0, 'C', false},
    Keyword{"D", Field::kDayOfWeek, 0, 'U', false},
    Keyword{"FF1", Field::kFraction, 1, 'U', false},
    Keyword{"FF2", Field::kFraction, 2, 'U', false},
    Keyword{"FF3", Field::kFraction, 3, 'U', false},
    Keyword{"FF4", Field::kFraction, 4, 'U', false},
    Keyword{"FF5", Field::kFraction, 5, 'U', false},
    Keyword{"FF6", Field::kFraction, 6, 'U', false},
    Keyword{"FX", Field::kNone, 0, 'U', false},
    Keyword{"HH24", Field::kHour24, 0, 'U', false},
    Keyword{"HH12", Field::kHour12, 0, 'U', false},
    Keyword{"HH", Field::kHour12, 0, 'U', false},
    Keyword{"IDDD", Field::kIsoDayOfYear, 0, 'U', false},
    Keyword{"ID", Field::kIsoDayOfWeek, 0, 'U', false},
    Keyword{"IW", Field::kIsoWeek, 0, 'U', false},
    Keyword{"IYYY", Field::kIsoYear, 4, 'U', false},
    Keyword{"IYY", Field::kIsoYear, 3, 'U', false},
    Keyword{"IY", Field::kIsoYear, 2, 'U', false},
    Keyword{"I", Field::kIsoYear, 1, 'U', false},
    Keyword{"J", Field::kJulianDay, 0, 'U', false},
    Keyword{"MI", Field::kMinute, 0, 'U', false},
    Keyword{"MM", Field::kMonth, 0, 'U', false},
    Keyword{"MONTH", Field::kMonthName, 0, 'U', false},
    Keyword{"MON", Field::kMonthAbbreviation, 0, 'U', false},
    Keyword{"MS", Field::kMillisecond, 0, 'U', false},
    Keyword{"Month", Field::kMonthName, 0, 'C', false},
    Keyword{"Mon", Field::kMonthAbbreviation, 0, 'C', false},
    Keyword{"OF", Field::kZoneOffset, 0, 'U', false},
    Keyword{"P.M.", Field::kMeridiem, 0, 'U', true},
    Keyword{"PM", Field::kMeridiem, 0, 'U', false},
    Keyword{"Q", Field::kQuarter, 0, 'U', false},
    Keyword{"RM", Field::kRomanMonth, 0, 'U', false},
    Keyword{"SSSSS", Field::kSecondsOfDay, 0, 'U', false},
    Keyword{"SSSS", Field::kSecondsOfDay, 0, 'U', false},
    Keyword{"SS", Field::kSecond, 0, 'U', false},
    Keyword{"TZH", Field::kZoneHours, 0, 'U', false},
    Keyword{"TZM", Field::kZoneMinutes, 0, 'U', false},
    Keyword{"TZ", Field::kZoneName, 0, 'U', false},
    Keyword{"US", Field::kMicrosecond, 0, 'U', false},
    Keyword{"WW", Field::kWeekOfYear, 0, 'U', false},
    Keyword{"W", Field::kWeekOfMonth, 0, 'U', false},
    Keyword{"Y,YYY", Field::kYearWithComma, 0, 'U', false},
    Keyword{"YYYY", Field::kYear, 4, 'U', false},
    Keyword{"YYY", Field::kYear, 3, 'U', false},
    Keyword{"YY", Field::kYear, 2, 'U', false},
    Keyword{"Y", Field::kYear, 1, 'U', false},
    Keyword{"a.d.", Field::kEra, 0, 'L', true},
    Keyword{"a.m.", Field::kMeridiem, 0, 'L', true},
    Keyword{"ad", Field::kEra, 0, 'L', false},
    Keyword{"am", Field::kMeridiem, 0, 'L', false},
    Keyword{"b.c.", Field::kEra, 0, 'L', true},
    Keyword{"bc", Field::kEra, 0, 'L', false},
    Keyword{"cc", Field::kCentury, 0, 'U', false},
    Keyword{"day", Field::kDayName, 0, 'L', false},
    Keyword{"ddd", Field::kDayOfYear, 0, 'U', false},
    Keyword{"dd", Field::kDayOfMonth, 0, 'U', false},
    Keyword{"dy", Field::kDayAbbreviation, 0, 'L', false},
    Keyword{"d", Field::kDayOfWeek, 0, 'U', false},
    Keyword{"ff1", Field::kFraction, 1, 'U', false},
    Keyword{"ff2", Field::kFraction, 2, 'U', false},
    Keyword{"ff3", Field::kFraction, 3, 'U', false},
    Keyword{"ff4", Field::kFraction, 4, 'U', false},
    Keyword{"ff5", Field::kFraction, 5, 'U', false},
    Keyword{"ff6", Field::kFraction, 6, 'U', false},
    Keyword{"fx", Field::kNone, 0, 'U', false},
    Keyword{"hh24", Field::kHour24, 0, 'U', false},
    Keyword{"hh12", Field::kHour12, 0, 'U', false},
    Keyword{"hh", Field::kHour12, 0, 'U', false},
    Keyword{"iddd", Field::kIsoDayOfYear, 0, 'U', false},
    Keyword{"id", Field::kIsoDayOfWeek, 0, 'U', false},
    Keyword{"iw", Field::kIsoWeek, 0, 'U', false},
    Keyword{"iyyy", Field::kIsoYear, 4, 'U', false},
    Keyword{"iyy", Field::kIsoYear, 3, 'U', false},
    Keyword{"iy", Field::kIsoYear, 2, 'U', false},
    Keyword{"i", Field::kIsoYear, 1, 'U', false},
    Keyword{"j", Field::kJulianDay, 0, 'U', false},
    Keyword{"mi", Field::kMinute, 0, 'U', false},
    Keyword{"mm", Field::kMonth, 0, 'U', false},
    Keyword{"month", Field::kMonthName, 0, 'L', false},
    Keyword{"mon", Field::kMonthAbbreviation, 0, 'L', false},
    Keyword{"ms", Field::kMillisecond, 0, 'U', false},
    Keyword{"of", Field::kZoneOffset, 0, 'U', false},
    Keyword{"p.m.", Field::kMeridiem, 0, 'L', true},
    Keyword{"pm", Field::kMeridiem, 0, 'L', false},
    Keyword{"q", Field::kQuarter, 0, 'U', false},
    Keyword{"rm", Field::kRomanMonth, 0, 'L', false},
    Keyword{"sssss", Field::kSecondsOfDay, 0, 'U', false},
    Keyword{"ssss", Field::kSecondsOfDay, 0, 'U', false},
    Keyword{"ss", Field::kSecond, 0, 'U', false},
    Keyword{"tzh", Field::kZoneHours, 0, 'U', false},
    Keyword{"tzm", Field::kZoneMinutes, 0, 'U', false},
    Keyword{"tz", Field::kZoneName, 0, 'L', false},
    Keyword{"us", Field::kMicrosecond, 0, 'U', false},
    Keyword{"ww", Field::kWeekOfYear, 0, 'U', false},
    Keyword{"w", Field::kWeekOfMonth, 0, 'U', false},
    Keyword{"y,yyy", Field::kYearWithComma, 0, 'U', false},
    Keyword{"yyyy", Field::kYear, 4, 'U', false},
    Keyword{"yyy", Field::kYear, 3, 'U', false},
    Keyword{"yy", Field::kYear, 2, 'U', false},
    Keyword{"y", Field::kYear, 1, 'U', false},
};

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                   "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kRomanMonths = {"I",   "II",   "III", "IV", "V",  "VI",
                                                           "VII", "VIII", "IX",  "X",  "XI", "XII"};

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string Styled(std::string_view text, char style) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool upper = style == 'U' || (style == 'C' && i == 0);
    if (upper && c >= 'a' && c <= 'z') out[i] = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') out[i] = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// English ordinal suffix of n: 1st 2nd 3rd 4th 11th 12th 13th 21st ...
std::string_view OrdinalSuffix(int64_t n) {
  const int64_t last_two = std::llabs(n) % 100;
  if (last_two >= 11 && last_two <= 13) return "th";
  switch (last_two % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
  }
}

// The ISO 8601 week-numbering year and week of a day: the week with the year's first Thursday
// is week 1, weeks start on Monday.
void IsoWeek(const absl::CivilDay& day, int64_t* year, int64_t* week) {
  const int monday_based = static_cast<int>(absl::GetWeekday(day));  // Monday = 0
  const absl::CivilDay thursday = day + (3 - monday_based);
  *year = thursday.year();
  *week = (thursday - absl::CivilDay(thursday.year(), 1, 1)) / 7 + 1;
}

}  // namespace

TimeTemplate::TimeTemplate(std::string_view pattern) {
  auto literal = [&](std::string_view text) {
    if (parts_.empty() || parts_.back().field != Field::kLiteral) {
      parts_.push_back(Part{Field::kLiteral});
    }
    parts_.back().literal.append(text);
  };
  bool fill_mode = false;
  size_t i = 0;
  while (i < pattern.size()) {
    const std::string_view rest = pattern.substr(i);
    // Prefixes: FM (fill mode), TM (translation mode: names are English anyway).
    if (StartsWith(rest, "FM") || StartsWith(rest, "fm")) {
      fill_mode = true;
      i += 2;
      continue;
    }
    if (StartsWith(rest, "TM") || StartsWith(rest, "tm")) {
      i += 2;
      continue;
    }
    const Keyword* keyword = nullptr;
    for (const Keyword& k : kKeywords) {
      if (StartsWith(rest, k.text)) {
        keyword = &k;
        break;
      }
    }
    if (keyword != nullptr) {
      Part part{keyword->field};
      part.style = keyword->style == 'C'   ? Style::kCapitalized
                   : keyword->style == 'L' ? Style::kLower
                                           : Style::kUpper;
      part.dotted = keyword->dotted;
      part.digits = keyword->digits;
      part.fill_mode = fill_mode;
      fill_mode = false;
      i += keyword->text.size();
      const std::string_view after = pattern.substr(i);
      if (StartsWith(after, "TH") || StartsWith(after, "th")) {
        part.ordinal = true;
        part.ordinal_upper = after[0] == 'T';
        i += 2;
      }
      parts_.push_back(std::move(part));
      continue;
    }
    fill_mode = false;
    if (pattern[i] == '"') {  // quoted text, \ escaping the next character
      ++i;
      while (i < pattern.size() && pattern[i] != '"') {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
        literal(pattern.substr(i, 1));
        ++i;
      }
      ++i;  // the closing quote
      continue;
    }
    if (pattern[i] == '\\' && i + 1 < pattern.size() && pattern[i + 1] == '"') ++i;
    literal(pattern.substr(i, 1));
    ++i;
  }
}

std::string TimeTemplate::Format(int64_t ns, const absl::TimeZone& tz) const {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t secs = ns / kNanosPerSecond;
  int64_t sub = ns % kNanosPerSecond;
  if (sub < 0) {
    sub += kNanosPerSecond;
    --secs;
  }
  const absl::Time instant = absl::FromUnixSeconds(secs);
  const absl::TimeZone::CivilInfo info = tz.At(instant);
  const absl::CivilSecond cs = info.cs;
  const absl::CivilDay day(cs);
  const int weekday = (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;  // Sunday = 0
  int64_t iso_year = 0, iso_week = 0;
  IsoWeek(day, &iso_year, &iso_week);

  std::string out;
  for (const Part& p : parts_) {
    // A number padded to `width` digits unless FM, then its ordinal suffix if asked.
    auto number = [&](int64_t n, int width) {
      if (p.fill_mode) width = 0;
      fmt::format_to(std::back_inserter(out), "{:0{}}", n, width);
      if (p.ordinal) {
        const std::string_view suffix = OrdinalSuffix(n);
        out += p.ordinal_upper ? Styled(suffix, 'U') : std::string(suffix);
      }
    };
    auto name = [&](std::string_view text, size_t pad) {
      const char style = p.style == Style::kUpper         ? 'U'
                         : p.style == Style::kCapitalized ? 'C'
                                                          : 'L';
      out += Styled(text, style);
      if (!p.fill_mode && text.size() < pad) out.append(pad - text.size(), ' ');
    };
    auto year_digits = [&](int64_t year) {
      switch (p.digits) {
        case 4: number(year, 4); break;
        case 3: number(year % 1000, 3); break;
        case 2: number(year % 100, 2); break;
        default: number(year % 10, 1); break;
      }
    };
    switch (p.field) {
      case Field::kLiteral: out += p.literal; break;
      case Field::kNone: break;
      case Field::kYearWithComma:
        fmt::format_to(std::back_inserter(out), "{},{:03}", cs.year() / 1000, cs.year() % 1000);
        break;
      case Field::kYear: year_digits(cs.year()); break;
      case Field::kIsoYear: year_digits(iso_year); break;
      case Field::kCentury:
        number(cs.year() > 0 ? (cs.year() + 99) / 100 : cs.year() / 100, 2);
        break;
      case Field::kQuarter: number((cs.month() - 1) / 3 + 1, 0); break;
      case Field::kMonth: number(cs.month(), 2); break;
      case Field::kMonthName: name(kMonths[cs.month() - 1], 9); break;
      case Field::kMonthAbbreviation: name(kMonths[cs.month() - 1].substr(0, 3), 0); break;
      case Field::kRomanMonth: name(kRomanMonths[cs.month() - 1], 4); break;
      case Field::kWeekOfYear: number((absl::GetYearDay(day) - 1) / 7 + 1, 2); break;
      case Field::kIsoWeek: number(iso_week, 2); break;
      case Field::kWeekOfMonth: number((cs.day() - 1) / 7 + 1, 0); break;
      case Field::kDayOfYear: number(absl::GetYearDay(day), 3); break;
      case Field::kIsoDayOfYear: number((iso_week - 1) * 7 + (weekday + 6) % 7 + 1, 3); break;
      case Field::kDayOfMonth: number(cs.day(), 2); break;
      case Field::kDayOfWeek: number(weekday + 1, 0); break;
      case Field::kIsoDayOfWeek: number((weekday + 6) % 7 + 1, 0); break;
      case Field::kDayName: name(kDays[weekday], 9); break;
      case Field::kDayAbbreviation: name(kDays[weekday].substr(0, 3), 0); break;
      case Field::kJulianDay: number(day - absl::CivilDay(1970, 1, 1) + 2'440'588, 0); break;
      case Field::kHour12: number(cs.hour() % 12 == 0 ? 12 : cs.hour() % 12, 2); break;
      case Field::kHour24: number(cs.hour(), 2); break;
      case Field::kMinute: number(cs.minute(), 2); break;
      case Field::kSecond: number(cs.second(), 2); break;
      case Field::kSecondsOfDay:
        number(cs.hour() * 3600 + cs.minute() * 60 + cs.second(), 0);
        break;
      case Field::kMillisecond: number(sub / 1'000'000, 3); break;
      case Field::kMicrosecond: number(sub / 1'000, 6); break;
      case Field::kFraction: {
        int64_t scale = 1'000'000'000;
        for (int d = 0; d < p.digits; ++d) scale /= 10;
        number(sub / scale, p.digits);
        break;
      }
      case Field::kMeridiem: {
        const bool pm = cs.hour() >= 12;
        name(p.dotted ? (pm ? "P.M." : "A.M.") : (pm ? "PM" : "AM"), 0);
        break;
      }
      case Field::kEra: {
        const bool ad = cs.year() > 0;
        name(p.dotted ? (ad ? "A.D." : "B.C.") : (ad ? "AD" : "BC"), 0);
        break;
      }
      case Field::kZoneName: name(info.zone_abbr, 0); break;
      case Field::kZoneHours:
      case Field::kZoneMinutes:
      case Field::kZoneOffset: {
        const int offset = info.offset;  // seconds east of UTC
        const int hours = std::abs(offset) / 3600;
        const int minutes = std::abs(offset) % 3600 / 60;
        const char sign = offset < 0 ? '-' : '+';
        if (p.field == Field::kZoneMinutes) {
          number(minutes, 2);
        } else if (p.field == Field::kZoneHours) {
          fmt::format_to(std::back_inserter(out), "{}{:02}", sign, hours);
        } else {
          fmt::format_to(std::back_inserter(out), "{}{:02}", sign, hours);
          if (minutes != 0) fmt::format_to(std::back_inserter(out), ":{:02}", minutes);
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace seaway::query
