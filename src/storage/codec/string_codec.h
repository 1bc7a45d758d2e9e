// StringCodec: encodes a dense array of byte strings (src/storage/codec).
//
// Schemes, the smaller wins:
//   kPlain       integer-codec lengths, then the concatenated bytes
//   kDictionary  varint entry count, integer-codec entry lengths, the concatenated entries (in
//                order of first appearance), then integer-codec ids, one per value
// Tags, device names and units are low-cardinality, so the dictionary usually wins.
//
// Thread-safe: free functions without shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/codec/bit_stream.h"

namespace seaway::codec {

enum class StringScheme : uint8_t {
  kPlain = 0,
  kDictionary = 1,
};

// Appends [1 byte StringScheme][payload]; the count is not stored.
void EncodeStringPayload(std::span<const std::string_view> values, std::string* out);

// Decodes `count` strings, appending them to *out, and advances `*in` past them; Corruption
// naming the byte offset on malformed input, including when the decoded strings would exceed
// kMaxBlockBytes in all. REQUIRES: count <= kMaxBlockValues.
Status DecodeStringPayload(ByteReader* in, size_t count, std::vector<std::string>* out);

}  // namespace seaway::codec
