// Query results as JSON, CSV and NDJSON text (src/query).
#include "query/result_format.h"

#include <cmath>

#include <fmt/format.h>

#include "common/json_text.h"

namespace seaway::query {
namespace {

// The INTERVAL at physical index `i` of `v`, with its months.
Interval IntervalAt(const Vector& v, size_t i) {
  return Interval{v.months.empty() ? 0 : v.months[i], v.ints[i]};
}

// The text of a double that is not finite, or empty.
std::string_view NonFiniteName(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return {};
}

void AppendColumns(const std::vector<ColumnInfo>& columns, std::string* out) {
  out->append("[");
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(columns[c].name, out);
    out->append(",\"type\":\"");
    out->append(SqlTypeName(columns[c].type));
    out->append("\"}");
  }
  out->append("]");
}

void AppendJsonRow(const DataChunk& chunk, size_t row, std::string* out) {
  out->push_back('[');
  for (size_t c = 0; c < chunk.columns.size(); ++c) {
    if (c > 0) out->push_back(',');
    AppendJsonValue(chunk.columns[c], row, out);
  }
  out->push_back(']');
}

void AppendErrorMembers(const Status& error, std::string* out) {
  out->append("\"error\":");
  AppendJsonString(error.message(), out);
  out->append(",\"code\":");
  AppendJsonString(StatusCodeName(error.code()), out);
}

class JsonWriter : public ResultWriter {
 public:
  void Begin(const std::vector<ColumnInfo>& columns, std::string* out) override {
    out->append("{\"columns\":");
    AppendColumns(columns, out);
    out->append(",\"rows\":[");
  }
  void Rows(const DataChunk& chunk, std::string* out) override {
    for (size_t r = 0; r < chunk.rows; ++r) {
      if (!first_) out->append(",\n");
      first_ = false;
      AppendJsonRow(chunk, r, out);
    }
  }
  void End(std::string* out) override { out->append("]}\n"); }
  void Fail(const Status& error, std::string* out) override {
    out->append("],");
    AppendErrorMembers(error, out);
    out->append("}\n");
  }

 private:
  bool first_ = true;
};

class NdjsonWriter : public ResultWriter {
 public:
  void Begin(const std::vector<ColumnInfo>& columns, std::string* out) override {
    out->append("{\"columns\":");
    AppendColumns(columns, out);
    out->append("}\n");
  }
  void Rows(const DataChunk& chunk, std::string* out) override {
    for (size_t r = 0; r < chunk.rows; ++r) {
      AppendJsonRow(chunk, r, out);
      out->push_back('\n');
    }
  }
  void End(std::string*) override {}
  void Fail(const Status& error, std::string* out) override {
    out->push_back('{');
    AppendErrorMembers(error, out);
    out->append("}\n");
  }
};

void AppendCsvText(std::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos && !text.empty()) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char ch : text) {
    if (ch == '"') out->push_back('"');
    out->push_back(ch);
  }
  out->push_back('"');
}

class CsvWriter : public ResultWriter {
 public:
  void Begin(const std::vector<ColumnInfo>& columns, std::string* out) override {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out->push_back(',');
      AppendCsvText(columns[c].name, out);
    }
    out->push_back('\n');
  }
  void Rows(const DataChunk& chunk, std::string* out) override {
    for (size_t r = 0; r < chunk.rows; ++r) {
      for (size_t c = 0; c < chunk.columns.size(); ++c) {
        if (c > 0) out->push_back(',');
        AppendCsvField(chunk.columns[c], r, out);
      }
      out->push_back('\n');
    }
  }
  void End(std::string*) override {}
  void Fail(const Status& error, std::string* out) override {
    std::string message(error.message());
    for (char& ch : message) {
      if (ch == '\n' || ch == '\r') ch = ' ';
    }
    out->append(fmt::format("#ERROR {}: {}\n", StatusCodeName(error.code()), message));
  }
};

}  // namespace

Result<ResultFormat> ParseResultFormat(std::string_view name) {
  if (name == "json") return ResultFormat::kJson;
  if (name == "csv") return ResultFormat::kCsv;
  if (name == "ndjson" || name == "jsonl") return ResultFormat::kNdjson;
  return InvalidArgument("unknown result format '{}': expected json, csv or ndjson", name);
}

std::string_view ResultContentType(ResultFormat format) {
  switch (format) {
    case ResultFormat::kJson: return "application/json";
    case ResultFormat::kCsv: return "text/csv; charset=utf-8; header=present";
    case ResultFormat::kNdjson: return "application/x-ndjson";
  }
  return "application/octet-stream";
}

std::unique_ptr<ResultWriter> MakeResultWriter(ResultFormat format) {
  switch (format) {
    case ResultFormat::kJson: return std::make_unique<JsonWriter>();
    case ResultFormat::kCsv: return std::make_unique<CsvWriter>();
    case ResultFormat::kNdjson: return std::make_unique<NdjsonWriter>();
  }
  return std::make_unique<JsonWriter>();
}

void AppendPlainValue(const Vector& v, size_t row, std::string* out) {
  const size_t i = v.Index(row);
  auto sink = std::back_inserter(*out);
  switch (v.type) {
    case SqlType::kNull: out->append("NULL"); return;
    case SqlType::kBoolean: out->append(v.ints[i] != 0 ? "true" : "false"); return;
    case SqlType::kBigInt: fmt::format_to(sink, "{}", v.ints[i]); return;
    case SqlType::kUBigInt: fmt::format_to(sink, "{}", static_cast<uint64_t>(v.ints[i])); return;
    case SqlType::kDouble: {
      const double d = v.doubles[i];
      std::string_view special = NonFiniteName(d);
      if (!special.empty()) {
        out->append(special);
      } else if (const double a = std::fabs(d); a >= 1e15 && a < 1e16) {
        out->append(FormatDouble(d));  // 1e+15 as PostgreSQL writes it, not 1000000000000000
      } else {
        fmt::format_to(sink, "{}", d);  // shortest round-trip representation
      }
      return;
    }
    case SqlType::kText: out->append(v.strings[i]); return;
    case SqlType::kTimestamp: out->append(FormatTimestamp(v.ints[i])); return;
    case SqlType::kInterval: out->append(FormatInterval(IntervalAt(v, i))); return;
  }
}

void AppendJsonValue(const Vector& v, size_t row, std::string* out) {
  if (v.IsNull(row)) {
    out->append("null");
    return;
  }
  const size_t i = v.Index(row);
  switch (v.type) {
    case SqlType::kText: AppendJsonString(v.strings[i], out); return;
    case SqlType::kTimestamp: AppendJsonString(FormatTimestamp(v.ints[i]), out); return;
    case SqlType::kInterval: AppendJsonString(FormatInterval(IntervalAt(v, i)), out); return;
    case SqlType::kDouble:
      if (!NonFiniteName(v.doubles[i]).empty()) {
        out->push_back('"');
        out->append(NonFiniteName(v.doubles[i]));
        out->push_back('"');
        return;
      }
      break;
    default: break;
  }
  AppendPlainValue(v, row, out);
}

void AppendCsvField(const Vector& v, size_t row, std::string* out) {
  if (v.IsNull(row)) return;  // NULL: an empty field
  if (v.type == SqlType::kText) return AppendCsvText(v.strings[v.Index(row)], out);
  AppendPlainValue(v, row, out);  // no number, boolean or timestamp needs quoting
}

}  // namespace seaway::query
