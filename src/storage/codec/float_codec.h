// FloatCodec: encodes a dense array of doubles, bit-exactly (src/storage/codec).
//
// Schemes, the smallest wins:
//   kAlp    Adaptive lossless floating point: every value v becomes an integer digit d with
//           v == d * 10^f / 10^e (or * 10^-e, "multiply mode", faster to decode) for one (e, f)
//           per block; digits go through the integer codec. Values that do not round-trip
//           exactly (NaN, ±inf, -0.0, huge or long-mantissa values) are exceptions, stored as
//           positions plus raw bits. Sensor data with a fixed number of decimals has none.
//   kXor    Gorilla-style XOR with the previous value, with a leading-zero/length window.
//   kPlain  8 raw bytes per value.
// Every scheme preserves the exact bits: NaN payloads, -0.0, subnormals, ±inf all round-trip.
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

enum class FloatScheme : uint8_t {
  kPlain = 0,
  kAlp = 1,
  kXor = 2,
};

// Appends [1 byte FloatScheme][payload]; the count is not stored.
void EncodeDoublePayload(std::span<const double> values, std::string* out);

// Decodes `count` doubles into out[0..count) and advances `*in` past them; Corruption naming the
// byte offset on malformed input. REQUIRES: count <= kMaxBlockValues.
Status DecodeDoublePayload(ByteReader* in, size_t count, double* out);

}  // namespace seaway::codec
