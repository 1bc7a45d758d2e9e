// JSON telemetry: the JSON format for devices and business systems, decoded into WriteBatches
// (src/ingest). The HTTP front end serves it at POST /api/v1/telemetry.
//
// A body is one JSON object, a JSON array of objects, or NDJSON (one object per line). Each
// object is one row:
//
//   {"table": "boiler", "tags": {"site": "north", "line": "2"},
//    "fields": {"temp": 81.5, "count": 3, "ok": true, "state": "run", "spare": null},
//    "time": "2026-11-25T18:45:42.5+01:00"}
//
//   table   required string: a valid name (storage/schema.h) of at most max_key_bytes.
//   tags    optional object of non-empty string values; a null value leaves the tag out.
//   fields  required non-empty object. Every number is a float (double) field: JSON has one
//           number type, and a device that sends 79 and then 79.5 must not hit a type conflict
//           (integers beyond 2^53 lose precision; send line protocol with `i`/`u` for exact
//           integers). true/false a bool; a string a string; null leaves the field out of this
//           row (at least one field must remain). Arrays and objects are refused.
//   time    optional: an integer count of ns since the epoch, or an RFC 3339 string
//           (ingest/rfc3339.h). Absent or null: JsonTelemetryOptions::default_time_ns.
//
// Any other key is refused (so that typos are caught), as are duplicate keys, tags or fields
// named "time", a name that is both a tag and a field, and anything over IngestLimits. A bad
// item is reported with its number and skipped; the others are kept.
//
// Which shape a body has: a body starting with '[' is an array; one starting with '{' is one
// object when it parses as one document (it may span lines) and NDJSON when its lines parse as
// separate objects (blank lines and CRLF are fine); anything else is invalid. A UTF-8 byte order
// mark is skipped. Integers beyond 64 bits and numbers beyond double's range are invalid JSON
// (simdjson refuses them).
//
// Socket-free: a fuzzer drives it alone (tests/fuzz/json_telemetry).
//
// Thread-safe: each thread parses with its own simdjson parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strong_id.h"
#include "ingest/ingest_result.h"

namespace seaway {

struct JsonTelemetryOptions {
  TenantId tenant;
  std::string database = "main";
  int64_t default_time_ns = 0;  // rows without "time" get the server time
  IngestLimits limits;
  // Device payloads (MQTT `devices/<device>/telemetry`): each object is the row's fields with
  // an optional "time", e.g. {"temperature": 21.5, "status": "ok"}; rows go to `table` with the
  // one tag `tag_key`=`tag_value`. The rules for fields and time are those above.
  struct Device {
    std::string table;
    std::string tag_key;
    std::string tag_value;
  };
  std::optional<Device> device;
};

// Returns one WriteBatch per table (in order of first appearance) and one IngestError per bad
// item, whose `line` is the 1-based array element (array), the 1-based line (NDJSON) or 1 (one
// object). A body that is not JSON (or a malformed array) yields one error for item 1 naming
// the byte offset of the problem and simdjson's description of it. An empty body yields nothing.
IngestResult DecodeJsonTelemetry(std::string_view body, const JsonTelemetryOptions& options);

// The items of `body` with the numbers DecodeJsonTelemetry gives them, as slices of it: an
// array's elements, NDJSON's non-blank lines, or the whole body as item 1 (one object, or a body
// that is malformed as a whole). An item decoded alone yields its rows or its error (the HTTP
// front end does so to name each item that breaks a thing model).
std::vector<std::pair<size_t, std::string_view>> SplitJsonTelemetry(std::string_view body);

}  // namespace seaway
