// Column codec entry points: block header, per-type dispatch, general-purpose compression
// (src/storage/codec).
#include "storage/codec/column_codec.h"

#include <zstd.h>

#include <lz4.h>

#include "storage/codec/bool_codec.h"
#include "storage/codec/float_codec.h"
#include "storage/codec/integer_codec.h"
#include "storage/codec/string_codec.h"
#include "storage/codec/timestamp_codec.h"

namespace seaway::codec {
namespace {

CodecId CodecIdOf(ColumnType type) { return static_cast<CodecId>(static_cast<uint8_t>(type) + 1); }

// Tiny blocks cannot save 10% of anything worth a decompressor call.
constexpr size_t kMinCompressibleBytes = 64;

// Replaces *block by its zstd or LZ4 wrapper if one saves options.min_compression_savings.
void MaybeCompress(const EncodeOptions& options, std::string* block) {
  if (!options.general_compression || block->size() < kMinCompressibleBytes) return;
  const auto target = static_cast<size_t>(static_cast<double>(block->size()) *
                                          (1.0 - options.min_compression_savings));

  std::string best;
  std::string candidate;
  const int lz4_bound = LZ4_compressBound(static_cast<int>(block->size()));
  candidate.resize(static_cast<size_t>(lz4_bound));
  const int lz4_size = LZ4_compress_default(block->data(), candidate.data(),
                                            static_cast<int>(block->size()), lz4_bound);
  if (lz4_size > 0) {
    best.push_back(static_cast<char>(CodecId::kLz4));
    PutVarint64(&best, block->size());
    best.append(candidate.data(), static_cast<size_t>(lz4_size));
  }

  candidate.resize(ZSTD_compressBound(block->size()));
  const size_t zstd_size = ZSTD_compress(candidate.data(), candidate.size(), block->data(),
                                         block->size(), options.zstd_level);
  if (!ZSTD_isError(zstd_size) &&
      (best.empty() || 1 + VarintLength(block->size()) + zstd_size < best.size())) {
    best.clear();
    best.push_back(static_cast<char>(CodecId::kZstd));
    PutVarint64(&best, block->size());
    best.append(candidate.data(), zstd_size);
  }
  if (!best.empty() && best.size() <= target) block->swap(best);
}

template <typename T, typename EncodePayload>
Status EncodeBlock(ColumnType type, std::span<const T> values, const EncodeOptions& options,
                   EncodePayload encode_payload, std::string* out) {
  if (values.size() > kMaxBlockValues) {
    return InvalidArgument("{} block: {} values exceed the {} limit", ColumnTypeName(type),
                           values.size(), kMaxBlockValues);
  }
  std::string block;
  block.push_back(static_cast<char>(CodecIdOf(type)));
  PutVarint64(&block, values.size());
  encode_payload(values, &block);
  if (block.size() > kMaxBlockBytes) {
    return InvalidArgument("{} block: {} bytes exceed the {} byte limit", ColumnTypeName(type),
                           block.size(), kMaxBlockBytes);
  }
  MaybeCompress(options, &block);
  out->append(block);
  return Status::OK();
}

// Decompresses a kZstd/kLz4 wrapper into *inner.
Status Decompress(std::string_view block, std::string* inner) {
  ByteReader in(block);
  uint8_t id;
  uint64_t raw_length;
  if (!in.ReadByte(&id) || !in.ReadVarint64(&raw_length)) {
    return Corruption("truncated compressed-block header");
  }
  if (raw_length > kMaxBlockBytes) {
    return Corruption("compressed block declares {} bytes, over the {} byte limit", raw_length,
                      kMaxBlockBytes);
  }
  inner->resize(raw_length);
  const char* src = block.data() + in.position();
  if (static_cast<CodecId>(id) == CodecId::kLz4) {
    const int n = LZ4_decompress_safe(src, inner->data(), static_cast<int>(in.remaining()),
                                      static_cast<int>(raw_length));
    if (n < 0 || static_cast<uint64_t>(n) != raw_length) {
      return Corruption("LZ4 payload at byte {} does not decompress to the declared {} bytes",
                        in.position(), raw_length);
    }
  } else {
    const size_t n = ZSTD_decompress(inner->data(), raw_length, src, in.remaining());
    if (ZSTD_isError(n)) {
      return Corruption("zstd payload at byte {}: {}", in.position(), ZSTD_getErrorName(n));
    }
    if (n != raw_length) {
      return Corruption("zstd payload at byte {} decompresses to {} bytes, not the declared {}",
                        in.position(), n, raw_length);
    }
  }
  return Status::OK();
}

// Parses the header of an uncompressed block and runs `decode_payload(reader, count)`.
template <typename DecodePayload>
Status DecodeInner(ColumnType type, std::string_view block, DecodePayload decode_payload) {
  ByteReader in(block);
  uint8_t id;
  if (!in.ReadByte(&id)) return Corruption("empty block");
  if (id != static_cast<uint8_t>(CodecIdOf(type))) {
    if (id == static_cast<uint8_t>(CodecId::kZstd) || id == static_cast<uint8_t>(CodecId::kLz4)) {
      return Corruption("compressed block nested inside a compressed block");
    }
    if (id >= static_cast<uint8_t>(CodecId::kTimestamp) &&
        id <= static_cast<uint8_t>(CodecId::kString)) {
      return Corruption("codec id {} is a {} block", id,
                        ColumnTypeName(static_cast<ColumnType>(id - 1)));
    }
    return Corruption("unknown codec id {}", id);
  }
  uint64_t count;
  if (!in.ReadVarint64(&count)) return Corruption("truncated value count at byte 1");
  if (count > kMaxBlockValues) {
    return Corruption("declared {} values exceeds the {} limit", count, kMaxBlockValues);
  }
  SW_RETURN_IF_ERROR(decode_payload(&in, static_cast<size_t>(count)));
  if (in.remaining() != 0) {
    return Corruption("{} trailing bytes after the payload at byte {}", in.remaining(),
                      in.position());
  }
  return Status::OK();
}

template <typename DecodePayload>
Status DecodeBlock(ColumnType type, std::string_view block, DecodePayload decode_payload) {
  Status status;
  if (block.size() > kMaxBlockBytes) {
    status = Corruption("{} bytes exceed the {} byte block limit", block.size(), kMaxBlockBytes);
  } else if (!block.empty() && (static_cast<uint8_t>(block[0]) == uint8_t(CodecId::kZstd) ||
                                static_cast<uint8_t>(block[0]) == uint8_t(CodecId::kLz4))) {
    thread_local std::string inner;
    status = Decompress(block, &inner);
    if (status.ok()) {
      const char* name = static_cast<uint8_t>(block[0]) == uint8_t(CodecId::kZstd) ? "zstd" : "lz4";
      status = DecodeInner(type, inner, decode_payload).WithContext(name);
    }
  } else {
    status = DecodeInner(type, block, decode_payload);
  }
  if (status.ok()) return status;  // the context is formatted for errors only
  return status.WithContext(fmt::format("{} block", ColumnTypeName(type)));
}

// Decodes a block of fixed-size values into the tail of *out, undoing the growth on error.
template <typename T, typename DecodePayload>
Status DecodeAppending(ColumnType type, std::string_view block, std::vector<T>* out,
                       DecodePayload decode_payload) {
  const size_t old_size = out->size();
  Status status = DecodeBlock(type, block, [&](ByteReader* in, size_t count) {
    out->resize(old_size + count);
    return decode_payload(in, count, out->data() + old_size);
  });
  if (!status.ok()) out->resize(old_size);
  return status;
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kDouble: return "float";
    case ColumnType::kInt64: return "int64";
    case ColumnType::kUInt64: return "uint64";
    case ColumnType::kBool: return "bool";
    case ColumnType::kString: return "string";
  }
  return "unknown";
}

Status EncodeTimestampBlock(std::span<const int64_t> values, std::string* out,
                            const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kTimestamp, values, options, EncodeTimestampPayload, out);
}

Status EncodeDoubleBlock(std::span<const double> values, std::string* out,
                         const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kDouble, values, options, EncodeDoublePayload, out);
}

Status EncodeInt64Block(std::span<const int64_t> values, std::string* out,
                        const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kInt64, values, options, EncodeInt64s, out);
}

Status EncodeUInt64Block(std::span<const uint64_t> values, std::string* out,
                         const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kUInt64, values, options, EncodeUInt64s, out);
}

Status EncodeBoolBlock(std::span<const uint8_t> values, std::string* out,
                       const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kBool, values, options, EncodeBoolPayload, out);
}

Status EncodeStringBlock(std::span<const std::string_view> values, std::string* out,
                         const EncodeOptions& options) {
  return EncodeBlock(ColumnType::kString, values, options, EncodeStringPayload, out);
}

Status DecodeTimestampBlock(std::string_view block, std::vector<int64_t>* out) {
  return DecodeAppending(ColumnType::kTimestamp, block, out, DecodeTimestampPayload);
}

Status DecodeDoubleBlock(std::string_view block, std::vector<double>* out) {
  return DecodeAppending(ColumnType::kDouble, block, out, DecodeDoublePayload);
}

Status DecodeInt64Block(std::string_view block, std::vector<int64_t>* out) {
  return DecodeAppending(ColumnType::kInt64, block, out, DecodeInt64s);
}

Status DecodeUInt64Block(std::string_view block, std::vector<uint64_t>* out) {
  return DecodeAppending(ColumnType::kUInt64, block, out, DecodeUInt64s);
}

Status DecodeBoolBlock(std::string_view block, std::vector<uint8_t>* out) {
  return DecodeAppending(ColumnType::kBool, block, out, DecodeBoolPayload);
}

Status DecodeStringBlock(std::string_view block, std::vector<std::string>* out) {
  const size_t old_size = out->size();
  Status status = DecodeBlock(ColumnType::kString, block, [out](ByteReader* in, size_t count) {
    return DecodeStringPayload(in, count, out);
  });
  if (!status.ok()) out->resize(old_size);
  return status;
}

}  // namespace seaway::codec
