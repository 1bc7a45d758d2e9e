// What every ingest decoder (line protocol, JSON telemetry) produces, and the limits they all
// enforce (src/ingest). Front ends turn the result into a reply: rows stored, items rejected.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "storage/write_batch.h"

namespace seaway {

// Per-item limits of a request body; each rejection names the limit and its value. The server
// sets them from its configuration (`--ingest-max-*`).
struct IngestLimits {
  size_t max_line_bytes = 64 * 1024;    // one line of line protocol, one NDJSON line, one object
  size_t max_tags = 64;                 // per row
  size_t max_fields = 256;              // per row
  size_t max_key_bytes = 256;           // table, tag and field names, and tag values
  size_t max_string_bytes = 64 * 1024;  // one string field value
};

struct IngestError {
  size_t line = 0;  // 1-based: the line (line protocol, NDJSON) or the array element (JSON)
  std::string message;
};

struct IngestResult {
  std::vector<WriteBatch> batches;  // one per table, in order of first appearance
  std::vector<IngestError> errors;
  size_t points = 0;  // items that became rows
};

}  // namespace seaway
