// Text formats of generated rows (bench/datagen).
#include "datagen/row_format.h"

#include <time.h>

#include <algorithm>
#include <iterator>
#include <numeric>

#include <fmt/format.h>

namespace seaway::datagen {
namespace {

constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000};
constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

RowFormatter::RowFormatter(const DatasetSchema& schema) : schema_(schema) {
  sorted_tags_.resize(schema.tag_keys.size());
  std::iota(sorted_tags_.begin(), sorted_tags_.end(), 0);
  std::sort(sorted_tags_.begin(), sorted_tags_.end(),
            [&](size_t a, size_t b) { return schema.tag_keys[a] < schema.tag_keys[b]; });
}

// Generated names and tag values hold no spaces, commas or equals signs: nothing to escape.
void RowFormatter::AppendValue(const Row& row, size_t field, std::string* out) const {
  const FieldSpec& f = schema_.fields[field];
  const int64_t v = row.values[field];
  if (f.is_integer || f.decimals == 0) {
    fmt::format_to(std::back_inserter(*out), "{}", v);
    return;
  }
  const int64_t scale = kPow10[f.decimals];
  const int64_t abs = v < 0 ? -v : v;
  fmt::format_to(std::back_inserter(*out), "{}{}.{:0{}}", v < 0 ? "-" : "", abs / scale,
                 abs % scale, f.decimals);
}

void RowFormatter::AppendLineProtocol(const Row& row, std::string* out) {
  out->append(schema_.measurement);
  for (size_t t : sorted_tags_) {
    out->push_back(',');
    out->append(schema_.tag_keys[t]);
    out->push_back('=');
    out->append(row.tags[t]);
  }
  for (size_t i = 0; i < schema_.fields.size(); ++i) {
    out->push_back(i == 0 ? ' ' : ',');
    out->append(schema_.fields[i].name);
    out->push_back('=');
    AppendValue(row, i, out);
    if (schema_.fields[i].is_integer) out->push_back('i');
  }
  fmt::format_to(std::back_inserter(*out), " {}\n", row.time_ns);
}

void RowFormatter::AppendTsv(const Row& row, std::string* out) {
  const int64_t second = row.time_ns / kNanosPerSecond;
  if (second != cached_second_) {
    const time_t t = static_cast<time_t>(second);
    struct tm tm;
    gmtime_r(&t, &tm);
    cached_datetime_ = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900,
                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second_ = second;
  }
  out->append(cached_datetime_);
  for (size_t t = 0; t < schema_.tag_keys.size(); ++t) {
    out->push_back('\t');
    out->append(row.tags[t]);
  }
  for (size_t i = 0; i < schema_.fields.size(); ++i) {
    out->push_back('\t');
    AppendValue(row, i, out);
  }
  out->push_back('\n');
}

std::string RowFormatter::ClickHouseCreateTable(const std::string& database) const {
  // Float64 and Int64 match what InfluxDB and Seaway store for the same fields.
  std::string columns = "ts DateTime";
  for (const auto& tag : schema_.tag_keys) columns += fmt::format(", {} String", tag);
  for (const auto& f : schema_.fields) {
    columns += fmt::format(", {} {}", f.name, f.is_integer ? "Int64" : "Float64");
  }
  return fmt::format(
      "CREATE TABLE {}.{} ({}) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(ts) "
      "ORDER BY ({}, ts)",
      database, schema_.measurement, columns, schema_.primary_tag);
}

}  // namespace seaway::datagen
