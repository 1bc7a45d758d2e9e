// IntegerCodec: encodes a dense array of int64 or uint64 values (src/storage/codec). Used for
// int64/uint64 columns, and inside the other codecs: ALP digits of doubles, timestamp deltas,
// string lengths and dictionary ids.
//
// An encoding is [1 byte IntegerScheme][payload]; the value count is NOT stored (the caller
// knows it). The encoder computes the exact size of every scheme in one pass and writes the
// smallest (docs/formats/column_codecs.md, "Integer codec").
//
// Arithmetic is modulo 2^64 throughout, so every int64 and uint64 value round-trips, including
// the extremes; the signed and unsigned variants differ only in how the frame of reference
// orders values and in how a stored value is turned into a varint (zigzag or not).
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

enum class IntegerScheme : uint8_t {
  kPlain = 0,     // n x 8 bytes little-endian
  kConstant = 1,  // one varint value, repeated n times
  kRle = 2,       // varint run count, then (varint value, varint length - 1) per run
  kFor = 3,       // frame of reference: varint min, width byte, n packed (value - min)
  kDeltaFor = 4,  // varint first, zigzag varint min delta, width byte, n - 1 packed deltas
};

// Appends the encoding of `values`. Empty input encodes as a lone kPlain byte.
void EncodeInt64s(std::span<const int64_t> values, std::string* out);
void EncodeUInt64s(std::span<const uint64_t> values, std::string* out);

// The number of bytes EncodeInt64s would append, computed without encoding.
size_t EncodedInt64sSize(std::span<const int64_t> values);

// Decodes `count` values, written to out[0..count), from untrusted bytes at `*in`, and advances
// `*in` past them. Returns Corruption naming the byte offset (relative to the ByteReader's data)
// on malformed input; out[] is then unspecified.
// REQUIRES: count <= kMaxBlockValues; out has room for `count` values.
Status DecodeInt64s(ByteReader* in, size_t count, int64_t* out);
Status DecodeUInt64s(ByteReader* in, size_t count, uint64_t* out);

// Decoded values are handed to a sink in chunks of at most kIntegerChunk (a multiple of 8).
inline constexpr size_t kIntegerChunk = 1024;
// Receives values[0..n), which are values [offset, offset + n) of the encoding. Chunks arrive
// in order; `values` is only valid during the call.
using IntegerChunkSink = void (*)(void* context, const int64_t* values, size_t offset, size_t n);

// Like DecodeInt64s, but streams the values to `sink` while they are still in L1 instead of
// storing them, so that fused loops (ALP digits -> doubles) make one pass over memory. On error
// the sink may already have seen some chunks.
Status DecodeInt64Chunks(ByteReader* in, size_t count, IntegerChunkSink sink, void* context);

}  // namespace seaway::codec
