// Formatting helpers shared by the subcommands of seaway-inspect (tools/inspect): times, typed
// values, codec ids and tag sets as people read them.
//
// Thread-safe: free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/schema.h"

namespace seaway::inspect {

// RFC 3339 in UTC with as many fraction digits as the value needs (0, 3, 6 or 9):
// 2024-06-01T00:00:00Z, 2024-06-01T00:00:00.250Z, 2024-06-01T00:00:00.000000001Z.
std::string FormatTime(int64_t nanos);

// A field value held as a 64-bit pattern (doubles bit-cast, bools 0/1), as text.
std::string FormatBits(FieldType type, uint64_t bits);

// A string value, quoted and escaped, cut after `max_chars` characters with "...".
std::string FormatString(std::string_view value, size_t max_chars = 48);

// The name of the codec id in the first byte of a block ("timestamp", "float", ..., "zstd",
// "lz4"), or "unknown(0xNN)".
std::string CodecName(uint8_t id);

// "line=a machine=m1" for parallel keys and values, leaving out empty (absent) values; "(no tags)"
// when every value is empty.
std::string FormatTags(const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& values);

// "12.34" for a ratio, "-" when the divisor is zero.
std::string FormatRatio(uint64_t numerator, uint64_t denominator);

}  // namespace seaway::inspect
