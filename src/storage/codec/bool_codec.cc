// Bool codec: constant, bitmap or run lengths (src/storage/codec).
#include "storage/codec/bool_codec.h"

#include <algorithm>

namespace seaway::codec {
namespace {

Status DecodeRle(ByteReader* in, size_t count, uint8_t* out) {
  const size_t at = in->position();
  uint8_t value;
  uint64_t runs;
  if (!in->ReadByte(&value) || !in->ReadVarint64(&runs)) {
    return Corruption("truncated run-length header at byte {}", at);
  }
  if (value > 1) return Corruption("first run value {} at byte {} is not 0 or 1", value, at);
  if (runs > count) {
    return Corruption("{} runs declared at byte {} for {} values", runs, at + 1, count);
  }
  size_t filled = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    const size_t length_at = in->position();
    uint64_t length_minus_one;
    if (!in->ReadVarint64(&length_minus_one)) {
      return Corruption("truncated run length at byte {}", length_at);
    }
    if (length_minus_one >= count - filled) {
      return Corruption("run {} at byte {} overruns the {} declared values", r, length_at, count);
    }
    std::fill(out + filled, out + filled + length_minus_one + 1, value);
    filled += length_minus_one + 1;
    value ^= 1;
  }
  if (filled != count) return Corruption("runs cover {} of {} values", filled, count);
  return Status::OK();
}

}  // namespace

void EncodeBoolPayload(std::span<const uint8_t> values, std::string* out) {
  const size_t n = values.size();
  size_t runs = n == 0 ? 0 : 1;
  size_t run_bytes = 0;
  size_t run_length = 1;
  for (size_t i = 1; i < n; ++i) {
    if ((values[i] != 0) == (values[i - 1] != 0)) {
      ++run_length;
    } else {
      run_bytes += VarintLength(run_length - 1);
      ++runs;
      run_length = 1;
    }
  }
  if (n != 0) run_bytes += VarintLength(run_length - 1);

  const size_t bitmap_size = (n + 7) / 8;
  const size_t rle_size = 1 + VarintLength(runs) + run_bytes;
  if (runs == 1) {
    out->push_back(static_cast<char>(BoolScheme::kConstant));
    out->push_back(values[0] != 0 ? 1 : 0);
  } else if (bitmap_size <= rle_size) {
    out->push_back(static_cast<char>(BoolScheme::kBitmap));
    const size_t start = out->size();
    out->resize(start + bitmap_size);
    auto* bitmap = reinterpret_cast<uint8_t*>(out->data() + start);
    for (size_t i = 0; i < n; ++i) {
      bitmap[i / 8] |= static_cast<uint8_t>((values[i] != 0 ? 1 : 0) << (i % 8));
    }
  } else {
    out->push_back(static_cast<char>(BoolScheme::kRle));
    out->push_back(values[0] != 0 ? 1 : 0);
    PutVarint64(out, runs);
    size_t start = 0;
    for (size_t i = 1; i <= n; ++i) {
      if (i == n || (values[i] != 0) != (values[start] != 0)) {
        PutVarint64(out, i - start - 1);
        start = i;
      }
    }
  }
}

Status DecodeBoolPayload(ByteReader* in, size_t count, uint8_t* out) {
  const size_t at = in->position();
  uint8_t scheme;
  if (!in->ReadByte(&scheme)) return Corruption("missing bool scheme at byte {}", at);
  switch (static_cast<BoolScheme>(scheme)) {
    case BoolScheme::kBitmap: {
      std::string_view bytes;
      if (!in->ReadBytes((count + 7) / 8, &bytes)) {
        return Corruption("truncated bitmap at byte {}: need {} bytes, {} remain", at + 1,
                          (count + 7) / 8, in->remaining());
      }
      const auto* bitmap = reinterpret_cast<const uint8_t*>(bytes.data());
      for (size_t i = 0; i < count; ++i) out[i] = (bitmap[i / 8] >> (i % 8)) & 1;
      return Status::OK();
    }
    case BoolScheme::kConstant: {
      uint8_t value;
      if (!in->ReadByte(&value)) return Corruption("truncated constant at byte {}", at + 1);
      if (value > 1) return Corruption("constant {} at byte {} is not 0 or 1", value, at + 1);
      std::fill(out, out + count, value);
      return Status::OK();
    }
    case BoolScheme::kRle: return DecodeRle(in, count, out);
  }
  return Corruption("unknown bool scheme {} at byte {}", scheme, at);
}

}  // namespace seaway::codec
