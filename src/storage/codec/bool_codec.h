// BoolCodec: encodes a dense array of booleans, one byte per value in memory (0 = false, any
// other value = true on input; exactly 0 or 1 on output) (src/storage/codec). Bool columns and
// the validity bitmaps of nullable columns both use it.
//
// Schemes, the smallest wins (ties go to the first listed):
//   kConstant  one byte, 0 or 1
//   kBitmap    ceil(n / 8) bytes, value i in bit (i % 8) of byte (i / 8)
//   kRle       first value byte, varint run count, then varint (length - 1) per run; runs
//              alternate between false and true
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

enum class BoolScheme : uint8_t {
  kBitmap = 0,
  kConstant = 1,
  kRle = 2,
};

// Appends [1 byte BoolScheme][payload]; the count is not stored.
void EncodeBoolPayload(std::span<const uint8_t> values, std::string* out);

// Decodes `count` booleans (0 or 1) into out[0..count) and advances `*in` past them;
// Corruption naming the byte offset on malformed input. REQUIRES: count <= kMaxBlockValues.
Status DecodeBoolPayload(ByteReader* in, size_t count, uint8_t* out);

}  // namespace seaway::codec
