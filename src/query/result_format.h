// ResultWriter: query results as JSON, CSV or NDJSON text (src/query), for the HTTP endpoint
// (src/http/sql_handlers.h) and whatever else serialises rows.
//
// A writer appends to a caller-owned buffer, so the caller decides when to flush it (the HTTP
// endpoint sends it as a chunk once it passes a threshold, and holds no more than that):
//
//   JsonResultWriter writer;
//   std::string out;
//   writer.Begin(columns, &out);
//   writer.Rows(chunk, &out);    // per chunk; flush `out` whenever you like
//   writer.End(&out);            // or Fail(status, &out) when the query failed part-way
//
// Cells, in every format:
//   BIGINT, UBIGINT   decimal integers, exact (UBIGINT up to 18446744073709551615)
//   DOUBLE            the shortest text that reads back as the same double (1.5, 1e+300);
//                     NaN and infinities as the strings "NaN", "Infinity", "-Infinity" (JSON has
//                     no literal for them; null would hide them among SQL NULLs)
//   BOOLEAN           true / false
//   TEXT              the string (JSON-escaped; CSV-quoted when needed)
//   TIMESTAMP         RFC 3339 in UTC: "2026-01-01T00:00:00Z", fraction only when non-zero
//   INTERVAL          "1 year 2 mons 3 days 00:00:01.5", as PostgreSQL (FormatInterval)
//   NULL              JSON null; an empty unquoted CSV field (an empty string is "")
//
// Formats:
//   JSON    {"columns":[{"name":"time","type":"TIMESTAMP"},...],"rows":[[...],...]}; a failure
//           after Begin closes the rows and adds "error" and "code": {...,"rows":[...],
//           "error":"...","code":"ResourceExhausted"}, still one valid JSON object.
//   CSV     RFC 4180: a header line of column names, then one line per row, lines ending in
//           "\n"; a field holding a comma, quote, CR or LF is quoted and its quotes doubled. A
//           failure adds a last line "#ERROR <code>: <message>" (one line: CR/LF become spaces).
//   NDJSON  a first line {"columns":[...]} then one JSON array per row; a failure adds a last
//           line {"error":"...","code":"..."}.
//
// Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/plan.h"
#include "query/vector.h"

namespace seaway::query {

enum class ResultFormat { kJson, kCsv, kNdjson };

// "json", "csv", "ndjson" (also "jsonl"); InvalidArgument naming the choices otherwise.
Result<ResultFormat> ParseResultFormat(std::string_view name);
// The Content-Type of a format.
std::string_view ResultContentType(ResultFormat format);

class ResultWriter {
 public:
  virtual ~ResultWriter() = default;
  // REQUIRES: called once, first.
  virtual void Begin(const std::vector<ColumnInfo>& columns, std::string* out) = 0;
  // Appends the rows of `chunk` (one column per column of Begin).
  virtual void Rows(const DataChunk& chunk, std::string* out) = 0;
  // Ends a result that is complete.
  virtual void End(std::string* out) = 0;
  // Ends a result that failed after Begin with `error`.
  virtual void Fail(const Status& error, std::string* out) = 0;
};

std::unique_ptr<ResultWriter> MakeResultWriter(ResultFormat format);

// Appends row `row` of `v` as a JSON value (see the table above).
void AppendJsonValue(const Vector& v, size_t row, std::string* out);
// Appends row `row` of `v` as a CSV field (see the table above).
void AppendCsvField(const Vector& v, size_t row, std::string* out);
// Appends the text of a non-NULL cell without quoting: what CSV and the CLI show.
void AppendPlainValue(const Vector& v, size_t row, std::string* out);

}  // namespace seaway::query
