// Line protocol writer: WriteBatch rows back to InfluxDB's text format (src/ingest), the inverse
// of ParseLineProtocol (line_protocol.h). For forwarding rows over MQTT, exporting them, and
// the round-trip tests of the parser.
//
// One line per row, ending in '\n':
//
//   table[,tag=value...] field=value[,field=value...] time_ns
//
// The table name escapes comma and space; tag keys, tag values and field names escape comma,
// equals and space; string fields are quoted with `"` and `\` escaped. Tags and fields come in
// column order, skipping those the row lacks (so a column no row uses leaves no trace). Doubles are
// written in the shortest form that parses back to the same bits ("1" is a double: the parser reads
// numbers without a suffix as doubles), int64 with `i`, uint64 with `u`, bools as true/false, the
// time in nanoseconds (parse the output with Precision::kNanoseconds). Tenant and database are not
// written: they belong to the request that carries the lines.
//
// The contract is the round trip: ParseLineProtocol of the output gives back the same table,
// tags, fields (types and bits) and times, given IngestLimits that admit the lengths. What the
// parser cannot read back is refused with InvalidArgument naming the table, row and column,
// rather than written so that it would come back altered:
//   - a table, tag or field name that ValidateName refuses (empty, over 256 bytes, a control
//     character such as '\n') or that is "time";
//   - a table name starting with '#' (the line would be a comment);
//   - a name or tag value ending in a backslash (the backslash would escape the delimiter that
//     follows; line protocol has no escape for a backslash outside strings);
//   - a tag value or string field containing '\n' (the parser splits lines first);
//   - a NaN or infinite double;
//   - a row without fields.
//
// Thread-safe (stateless functions; the batch is only read).
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "storage/write_batch.h"

namespace seaway {

// Appends every row of `batch` to `*out`. All or nothing: on error `*out` is left as it was.
[[nodiscard]] Status AppendLineProtocol(const WriteBatch& batch, std::string* out);

// Appends row `row` of `batch` to `*out`, or leaves `*out` as it was and fails; for callers that
// skip and count the rows they cannot write. REQUIRES: row < batch.rows().
[[nodiscard]] Status AppendLineProtocolRow(const WriteBatch& batch, size_t row, std::string* out);

}  // namespace seaway
