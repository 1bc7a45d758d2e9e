// Line protocol: InfluxDB's text format for points, parsed into WriteBatches (src/ingest).
//
//   measurement[,tag=value...] field=value[,field=value...] [timestamp]
//
// The full grammar: backslash escapes in measurement names (comma, space), tag keys, tag values
// and field keys (comma, equals, space); quoted string fields with \" and \\ escapes; floats,
// `i` integers, `u` unsigned integers; booleans t, T, true, True, TRUE, f, F, false, False,
// FALSE; optional timestamps (server time when absent) in ns, us, ms or s; blank lines, comment
// lines starting with '#', and CRLF line ends.
//
// A bad line is reported with its number and reason and skipped; the other lines are kept (as
// InfluxDB does). Socket-free: the HTTP and MQTT front ends share it, and a fuzzer drives it
// alone (tests/fuzz/line_protocol).
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "ingest/ingest_result.h"

namespace seaway {

enum class Precision { kNanoseconds, kMicroseconds, kMilliseconds, kSeconds, kMinutes, kHours };

// "ns" (or "n"), "u" / "us", "ms", "s", "m", "h" (InfluxDB 1.x's set); InvalidArgument naming
// the value otherwise.
Result<Precision> ParsePrecision(std::string_view text);

struct LineProtocolOptions {
  TenantId tenant;
  std::string database = "main";
  Precision precision = Precision::kNanoseconds;
  int64_t default_time_ns = 0;  // for lines without a timestamp (the server's time)
  IngestLimits limits;
  // Plain lines (no escapes, strings or errors) take a SIMD fast path; tests and the fuzzer turn
  // it off to check that both paths agree.
  bool fast_path = true;
};

// One batch per measurement; errors name the 1-based line.
IngestResult ParseLineProtocol(std::string_view body, const LineProtocolOptions& options);

// The lines of `body` that hold a point or an error (neither blank nor a `#` comment), whole
// (leading blanks and a trailing '\r' kept), with the 1-based numbers ParseLineProtocol gives
// them. A line parsed alone yields its point or
// its error (the front ends do so to name each line that breaks a thing model).
std::vector<std::pair<size_t, std::string_view>> SplitLineProtocol(std::string_view body);

}  // namespace seaway
