// ColumnCodec: the entry point of the per-column codecs (src/storage/codec). The segment writer
// encodes every block of every column of an immutable segment file here, and the reader decodes
// them; docs/formats/column_codecs.md is the byte-level specification.
//
// Block layout:
//   [1 byte CodecId = the column type][varint value count][payload of that type's codec]
// or, when a general-purpose compressor shrinks that whole block by at least 10%:
//   [1 byte CodecId kZstd or kLz4][varint length of the inner block][compressed inner block]
//
// Values are dense: a nullable column encodes its validity bitmap as a separate bool block.
// A block holds at most kMaxBlockValues (65,536) values.
//
// Decoders take untrusted bytes: any malformed block yields Corruption with a message that starts
// with the column type ("float block: ...") and names what is wrong and where. They never read
// outside the block and never allocate more than the declared count allows.
//
// Decoding APPENDS to *out; on error *out is left as it was.
//
// Thread-safe: free functions; decoding uses thread-local scratch buffers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/codec/bit_stream.h"

namespace seaway::codec {

enum class ColumnType : uint8_t { kTimestamp, kDouble, kInt64, kUInt64, kBool, kString };

// "timestamp", "float", "int64", "uint64", "bool", "string".
std::string_view ColumnTypeName(ColumnType type);

// The first byte of every block.
enum class CodecId : uint8_t {
  kTimestamp = 1,
  kDouble = 2,
  kInt64 = 3,
  kUInt64 = 4,
  kBool = 5,
  kString = 6,
  kZstd = 0x40,  // zstd frame of an inner block
  kLz4 = 0x41,   // LZ4 block of an inner block
};

struct EncodeOptions {
  // Try zstd and LZ4 on the encoded block and keep the better if it saves at least
  // `min_compression_savings` of the block's size. Decompression costs decode speed (about a
  // third of it for bit-packed floats), so a writer that favours scans may raise the bar.
  bool general_compression = true;
  double min_compression_savings = 0.10;
  int zstd_level = 1;  // 1..3: fast levels; the codecs already did the heavy lifting
};

// Each appends one block to *out. InvalidArgument if there are more than kMaxBlockValues values
// (or, for strings, more than kMaxBlockBytes bytes); *out is then unchanged.
Status EncodeTimestampBlock(std::span<const int64_t> values, std::string* out,
                            const EncodeOptions& options = {});
Status EncodeDoubleBlock(std::span<const double> values, std::string* out,
                         const EncodeOptions& options = {});
Status EncodeInt64Block(std::span<const int64_t> values, std::string* out,
                        const EncodeOptions& options = {});
Status EncodeUInt64Block(std::span<const uint64_t> values, std::string* out,
                         const EncodeOptions& options = {});
// Any nonzero byte is true.
Status EncodeBoolBlock(std::span<const uint8_t> values, std::string* out,
                       const EncodeOptions& options = {});
Status EncodeStringBlock(std::span<const std::string_view> values, std::string* out,
                         const EncodeOptions& options = {});

// Each decodes one whole block (trailing bytes are corruption) and appends its values to *out.
Status DecodeTimestampBlock(std::string_view block, std::vector<int64_t>* out);
Status DecodeDoubleBlock(std::string_view block, std::vector<double>* out);
Status DecodeInt64Block(std::string_view block, std::vector<int64_t>* out);
Status DecodeUInt64Block(std::string_view block, std::vector<uint64_t>* out);
// Appends 0 or 1 per value.
Status DecodeBoolBlock(std::string_view block, std::vector<uint8_t>* out);
Status DecodeStringBlock(std::string_view block, std::vector<std::string>* out);

}  // namespace seaway::codec
