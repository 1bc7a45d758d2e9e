// TimestampCodec: encodes a dense array of int64 nanosecond timestamps (src/storage/codec).
//
// Timestamps of one series are usually regular (every 10 s), sometimes with jitter, gaps, or out
// of order. The encoder tries three schemes and keeps the smallest:
//   kIntegers     the integer codec on the raw values; its delta scheme turns a perfectly regular
//                 series into ~15 bytes whatever its length, and handles uniform jitter well;
//   kDodIntegers  delta-of-deltas divided by their greatest common divisor, integer codec (RLE
//                 makes a regular series with a few gaps tiny);
//   kDodBuckets   the same scaled delta-of-deltas in Gorilla-style variable-width buckets (1 bit
//                 per regular step, more only around jitter and gaps).
// Arithmetic wraps modulo 2^64, so any int64 sequence, in any order, round-trips.
//
// Thread-safe: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "storage/codec/bit_stream.h"

namespace seaway::codec {

enum class TimestampScheme : uint8_t {
  kIntegers = 0,
  kDodIntegers = 1,
  kDodBuckets = 2,
};

// Appends [1 byte TimestampScheme][payload]; the count is not stored.
void EncodeTimestampPayload(std::span<const int64_t> values, std::string* out);

// Decodes `count` timestamps into out[0..count) and advances `*in` past them; Corruption naming
// the byte offset on malformed input. REQUIRES: count <= kMaxBlockValues.
Status DecodeTimestampPayload(ByteReader* in, size_t count, int64_t* out);

}  // namespace seaway::codec
