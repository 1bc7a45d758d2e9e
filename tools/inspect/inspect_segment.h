// `seaway-inspect segment FILE [--series] [--chunks] [--values N]` (tools/inspect): the header of
// a segment file (table, partition, max LSN, sizes), bytes and values per column, and on request
// every series, every chunk with its blocks (offset, size, codec) and statistics, and the first
// rows of each series decoded. Format: docs/formats/segment.md.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "storage/env.h"

namespace seaway::inspect {

struct SegmentOptions {
  bool series = false;  // one line per series
  bool chunks = false;  // every chunk, its blocks and statistics (implies series)
  size_t values = 0;    // decode and print the first `values` rows of each series
};

// Prints the report to stdout. Returns the Corruption of Segment::Open (with the position of
// the index and footer added) or of a block read, naming the file and offset.
Status InspectSegment(Env* env, const std::string& path, const SegmentOptions& options);

}  // namespace seaway::inspect
