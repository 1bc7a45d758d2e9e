// RFC 3339 timestamps ("2026-11-25T18:45:42.123456789+01:00") to ns since the Unix epoch
// (src/ingest). Used by the JSON telemetry decoder for string "time" values.
//
// Pure arithmetic (days from the civil calendar): no locale, no time_t, no time zone database.
//
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace seaway {

// Accepts YYYY-MM-DD, then 'T', 't' or a space, then HH:MM:SS, an optional fraction of 1 to 9
// digits after '.', and 'Z', 'z' or an offset +HH:MM / -HH:MM. Rejects impossible dates and times
// (2025-02-29, month 13, hour 24, second 60: leap seconds are not representable) and instants
// outside what int64 ns can hold (1677-09-21 .. 2262-04-11), with InvalidArgument:
//   '<text>' is not a valid RFC 3339 timestamp: <reason>
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace seaway
