// ProcessStats: figures about this process for /metrics and /health (src/common), read from
// /proc/self. Thread-safe (each call reads afresh).
#pragma once

#include <cstdint>

namespace seaway {

struct ProcessStats {
  uint64_t resident_bytes = 0;
  uint64_t resident_anon_bytes = 0;  // heap and stacks (RssAnon)
  uint64_t resident_file_bytes = 0;  // mapped files, reclaimable page cache (RssFile)
  uint64_t virtual_bytes = 0;
  double cpu_seconds = 0;  // user + system
  uint64_t open_fds = 0;
  uint64_t threads = 0;
};

// Reads the current figures; fields it cannot read stay 0.
ProcessStats ReadProcessStats();

}  // namespace seaway
