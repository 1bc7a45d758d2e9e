// `seaway-inspect manifest DIR` (tools/inspect): a shard directory's MANIFEST (flushed LSN, next
// segment number, the listed segments and their sizes) and the files present but not listed
// (WAL files, and leftovers that the next open deletes). Format: docs/formats/segment.md.
#pragma once

#include <string>

#include "common/status.h"
#include "storage/env.h"

namespace seaway::inspect {

// Prints the report to stdout. Returns Corruption when the manifest is damaged or a listed
// segment is missing (M1), InvalidArgument when `dir` is an engine directory rather than one of
// its shards, IOError when the directory cannot be read.
Status InspectManifest(Env* env, const std::string& dir);

}  // namespace seaway::inspect
