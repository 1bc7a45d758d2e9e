// `seaway-inspect wal FILE [--records]` (tools/inspect): the frames of one WAL file (offset, LSN,
// type, payload size), how the file ends (clean, torn tail, damage in the middle), and with
// `records` every payload decoded. Format: docs/formats/wal.md.
#pragma once

#include <string>

#include "common/status.h"
#include "storage/env.h"

namespace seaway::inspect {

struct WalOptions {
  bool records = false;  // decode and print every payload
};

// Prints the report to stdout. Returns Corruption naming the file and offset for a bad magic,
// damage in the middle of the log, an LSN out of sequence, or an undecodable payload (after
// printing everything that could be read); IOError when the file cannot be read.
Status InspectWal(Env* env, const std::string& path, const WalOptions& options);

}  // namespace seaway::inspect
