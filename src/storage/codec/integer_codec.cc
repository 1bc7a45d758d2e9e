// Integer codec: plain, constant, RLE, frame-of-reference and delta bit packing
// (src/storage/codec).
#include "storage/codec/integer_codec.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace seaway::codec {
namespace {

// Signed values are ordered by flipping the sign bit, which maps int64 order onto uint64 order.
template <bool kSigned>
constexpr uint64_t kOrderFlip = kSigned ? uint64_t{1} << 63 : 0;

// How a stored value (the min of a frame, the first value, an RLE value) becomes a varint.
template <bool kSigned>
inline uint64_t ToVarint(uint64_t v) {
  if constexpr (kSigned) return ZigZagEncode(static_cast<int64_t>(v));
  return v;
}
template <bool kSigned>
inline uint64_t FromVarint(uint64_t v) {
  if constexpr (kSigned) return static_cast<uint64_t>(ZigZagDecode(v));
  return v;
}

struct Plan {
  IntegerScheme scheme = IntegerScheme::kPlain;
  size_t size = 0;
  uint64_t min = 0;        // kFor: frame of reference
  int width = 0;           // kFor, kDeltaFor
  uint64_t min_delta = 0;  // kDeltaFor
  size_t runs = 0;         // kRle
};

// One pass over the values computes the exact size of every scheme.
template <bool kSigned>
Plan PlanEncoding(const uint64_t* v, size_t n) {
  Plan best;
  best.size = 1 + 8 * n;
  if (n == 0) return best;

  uint64_t min_key = v[0] ^ kOrderFlip<kSigned>;
  uint64_t max_key = min_key;
  uint64_t min_delta_key = std::numeric_limits<uint64_t>::max();
  uint64_t max_delta_key = 0;
  size_t runs = 1;
  size_t rle_bytes = VarintLength(ToVarint<kSigned>(v[0]));
  size_t run_length = 1;
  for (size_t i = 1; i < n; ++i) {
    const uint64_t key = v[i] ^ kOrderFlip<kSigned>;
    min_key = std::min(min_key, key);
    max_key = std::max(max_key, key);
    // Deltas are signed whatever the column type: a decreasing uint64 series has negative ones.
    const uint64_t delta_key = (v[i] - v[i - 1]) ^ kOrderFlip<true>;
    min_delta_key = std::min(min_delta_key, delta_key);
    max_delta_key = std::max(max_delta_key, delta_key);
    if (v[i] == v[i - 1]) {
      ++run_length;
    } else {
      rle_bytes += VarintLength(run_length - 1) + VarintLength(ToVarint<kSigned>(v[i]));
      ++runs;
      run_length = 1;
    }
  }
  rle_bytes += VarintLength(run_length - 1);

  const uint64_t min = min_key ^ kOrderFlip<kSigned>;
  auto consider = [&best](Plan plan) {
    if (plan.size < best.size) best = plan;
  };
  if (runs == 1) {
    consider(
        {.scheme = IntegerScheme::kConstant, .size = 1 + VarintLength(ToVarint<kSigned>(v[0]))});
  }
  const int width = BitWidth(max_key - min_key);
  consider({.scheme = IntegerScheme::kFor,
            .size = 2 + VarintLength(ToVarint<kSigned>(min)) + PackedBytes(n, width),
            .min = min,
            .width = width});
  if (n >= 2) {
    const uint64_t min_delta = min_delta_key ^ kOrderFlip<true>;
    const int delta_width = BitWidth(max_delta_key - min_delta_key);
    consider({.scheme = IntegerScheme::kDeltaFor,
              .size = 2 + VarintLength(ToVarint<kSigned>(v[0])) +
                      VarintLength(ZigZagEncode(static_cast<int64_t>(min_delta))) +
                      PackedBytes(n - 1, delta_width),
              .width = delta_width,
              .min_delta = min_delta});
  }
  consider(
      {.scheme = IntegerScheme::kRle, .size = 1 + VarintLength(runs) + rle_bytes, .runs = runs});
  return best;
}

template <bool kSigned>
void EncodeImpl(const uint64_t* v, size_t n, std::string* out) {
  const Plan plan = PlanEncoding<kSigned>(v, n);
  out->push_back(static_cast<char>(plan.scheme));
  switch (plan.scheme) {
    case IntegerScheme::kPlain:
      if (n != 0) out->append(reinterpret_cast<const char*>(v), n * sizeof(uint64_t));
      break;
    case IntegerScheme::kConstant: PutVarint64(out, ToVarint<kSigned>(v[0])); break;
    case IntegerScheme::kRle: {
      PutVarint64(out, plan.runs);
      size_t start = 0;
      for (size_t i = 1; i <= n; ++i) {
        if (i == n || v[i] != v[start]) {
          PutVarint64(out, ToVarint<kSigned>(v[start]));
          PutVarint64(out, i - start - 1);
          start = i;
        }
      }
      break;
    }
    case IntegerScheme::kFor: {
      PutVarint64(out, ToVarint<kSigned>(plan.min));
      out->push_back(static_cast<char>(plan.width));
      BitWriter writer(out);
      for (size_t i = 0; i < n; ++i) writer.Write(v[i] - plan.min, plan.width);
      writer.Finish();
      break;
    }
    case IntegerScheme::kDeltaFor: {
      PutVarint64(out, ToVarint<kSigned>(v[0]));
      PutVarint64(out, ZigZagEncode(static_cast<int64_t>(plan.min_delta)));
      out->push_back(static_cast<char>(plan.width));
      BitWriter writer(out);
      for (size_t i = 1; i < n; ++i) writer.Write(v[i] - v[i - 1] - plan.min_delta, plan.width);
      writer.Finish();
      break;
    }
  }
}

// Reads the width byte and makes sure the packed bits of `n` values are all present.
Status ReadPacked(ByteReader* in, size_t n, int* width, const uint8_t** packed) {
  const size_t at = in->position();
  uint8_t w;
  if (!in->ReadByte(&w)) return Corruption("truncated bit width at byte {}", at);
  if (w > 64) return Corruption("bit width {} exceeds 64 at byte {}", w, at);
  const size_t bytes = PackedBytes(n, w);
  *packed = in->current();
  if (!in->Skip(bytes)) {
    return Corruption("truncated bit-packed values at byte {}: need {} bytes, {} remain", at + 1,
                      bytes, in->remaining());
  }
  *width = w;
  return Status::OK();
}

template <bool kSigned>
Status ReadValue(ByteReader* in, const char* what, uint64_t* v) {
  const size_t at = in->position();
  uint64_t raw;
  if (!in->ReadVarint64(&raw)) return Corruption("truncated or malformed {} at byte {}", what, at);
  *v = FromVarint<kSigned>(raw);
  return Status::OK();
}

template <bool kSigned>
Status DecodeRle(ByteReader* in, size_t count, uint64_t* out) {
  const size_t at = in->position();
  uint64_t runs;
  if (!in->ReadVarint64(&runs)) return Corruption("truncated RLE run count at byte {}", at);
  if (runs > count) {
    return Corruption("RLE declares {} runs for {} values at byte {}", runs, count, at);
  }
  size_t filled = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    uint64_t value = 0;
    SW_RETURN_IF_ERROR(ReadValue<kSigned>(in, "RLE value", &value));
    const size_t length_at = in->position();
    uint64_t length_minus_one;
    if (!in->ReadVarint64(&length_minus_one)) {
      return Corruption("truncated RLE run length at byte {}", length_at);
    }
    if (length_minus_one >= count - filled) {
      return Corruption("RLE run {} at byte {} overruns the {} declared values", r, length_at,
                        count);
    }
    std::fill(out + filled, out + filled + length_minus_one + 1, value);
    filled += length_minus_one + 1;
  }
  if (filled != count) return Corruption("RLE runs cover {} of {} values", filled, count);
  return Status::OK();
}

// Where decoded values go: either straight into out[0..count), or, with a sink, chunk by chunk
// through a small buffer that stays in L1 while the sink consumes it.
class ChunkTarget {
 public:
  ChunkTarget(uint64_t* out, IntegerChunkSink sink, void* context)
      : out_(out), sink_(sink), context_(context) {}

  uint64_t* Buffer(size_t offset) { return sink_ ? local_ : out_ + offset; }
  void Emit(const uint64_t* values, size_t offset, size_t n) {
    if (sink_) sink_(context_, reinterpret_cast<const int64_t*>(values), offset, n);
  }

 private:
  uint64_t* out_;
  IntegerChunkSink sink_;
  void* context_;
  uint64_t local_[kIntegerChunk];
};

template <bool kSigned>
Status DecodeImpl(ByteReader* in, size_t count, ChunkTarget* target) {
  const size_t at = in->position();
  uint8_t scheme;
  if (!in->ReadByte(&scheme)) return Corruption("missing integer scheme at byte {}", at);
  switch (static_cast<IntegerScheme>(scheme)) {
    case IntegerScheme::kPlain: {
      std::string_view bytes;
      if (!in->ReadBytes(count * 8, &bytes)) {
        return Corruption("truncated plain integers at byte {}: need {} bytes, {} remain", at + 1,
                          count * 8, in->remaining());
      }
      for (size_t i = 0; i < count; i += kIntegerChunk) {
        const size_t n = std::min(kIntegerChunk, count - i);
        uint64_t* buffer = target->Buffer(i);
        std::memcpy(buffer, bytes.data() + i * 8, n * 8);
        target->Emit(buffer, i, n);
      }
      return Status::OK();
    }
    case IntegerScheme::kConstant: {
      uint64_t value = 0;
      SW_RETURN_IF_ERROR(ReadValue<kSigned>(in, "constant value", &value));
      for (size_t i = 0; i < count; i += kIntegerChunk) {
        const size_t n = std::min(kIntegerChunk, count - i);
        uint64_t* buffer = target->Buffer(i);
        std::fill(buffer, buffer + n, value);
        target->Emit(buffer, i, n);
      }
      return Status::OK();
    }
    case IntegerScheme::kRle: {
      // Runs cross chunk boundaries; decode whole, then hand over. RLE blocks are rare and cheap.
      thread_local std::vector<uint64_t> scratch;
      scratch.resize(count);
      SW_RETURN_IF_ERROR(DecodeRle<kSigned>(in, count, scratch.data()));
      for (size_t i = 0; i < count; i += kIntegerChunk) {
        const size_t n = std::min(kIntegerChunk, count - i);
        uint64_t* buffer = target->Buffer(i);
        std::memcpy(buffer, scratch.data() + i, n * 8);
        target->Emit(buffer, i, n);
      }
      return Status::OK();
    }
    case IntegerScheme::kFor: {
      uint64_t min = 0;
      SW_RETURN_IF_ERROR(ReadValue<kSigned>(in, "frame of reference", &min));
      int width = 0;
      const uint8_t* packed = nullptr;
      SW_RETURN_IF_ERROR(ReadPacked(in, count, &width, &packed));
      const size_t packed_bytes = PackedBytes(count, width);
      // Chunks of kIntegerChunk (a multiple of 8) values start on byte boundaries.
      for (size_t i = 0; i < count; i += kIntegerChunk) {
        const size_t n = std::min(kIntegerChunk, count - i);
        const size_t skip = i * static_cast<size_t>(width) / 8;
        uint64_t* buffer = target->Buffer(i);
        UnpackBits(packed + skip, packed_bytes - skip, n, width, min, buffer);
        target->Emit(buffer, i, n);
      }
      return Status::OK();
    }
    case IntegerScheme::kDeltaFor: {
      if (count < 2) {
        return Corruption("delta scheme at byte {} needs at least 2 values, not {}", at, count);
      }
      uint64_t first = 0;
      SW_RETURN_IF_ERROR(ReadValue<kSigned>(in, "first value", &first));
      uint64_t min_delta = 0;
      SW_RETURN_IF_ERROR(ReadValue<true>(in, "minimum delta", &min_delta));
      int width = 0;
      const uint8_t* packed = nullptr;
      SW_RETURN_IF_ERROR(ReadPacked(in, count - 1, &width, &packed));
      const size_t packed_bytes = PackedBytes(count - 1, width);
      uint64_t* buffer = target->Buffer(0);
      buffer[0] = first;
      target->Emit(buffer, 0, 1);
      // Delta j yields value j + 1; chunks of deltas start on byte boundaries.
      uint64_t acc = first;
      for (size_t j = 0; j < count - 1; j += kIntegerChunk) {
        const size_t n = std::min(kIntegerChunk, count - 1 - j);
        const size_t skip = j * static_cast<size_t>(width) / 8;
        buffer = target->Buffer(j + 1);
        acc = UnpackDeltas(packed + skip, packed_bytes - skip, n, width, min_delta, acc, buffer);
        target->Emit(buffer, j + 1, n);
      }
      return Status::OK();
    }
  }
  return Corruption("unknown integer scheme {} at byte {}", scheme, at);
}

}  // namespace

void EncodeInt64s(std::span<const int64_t> values, std::string* out) {
  // int64_t and uint64_t may alias (they are the signed and unsigned variants of one type).
  EncodeImpl<true>(reinterpret_cast<const uint64_t*>(values.data()), values.size(), out);
}

void EncodeUInt64s(std::span<const uint64_t> values, std::string* out) {
  EncodeImpl<false>(values.data(), values.size(), out);
}

size_t EncodedInt64sSize(std::span<const int64_t> values) {
  return PlanEncoding<true>(reinterpret_cast<const uint64_t*>(values.data()), values.size()).size;
}

Status DecodeInt64s(ByteReader* in, size_t count, int64_t* out) {
  ChunkTarget target(reinterpret_cast<uint64_t*>(out), nullptr, nullptr);
  return DecodeImpl<true>(in, count, &target);
}

Status DecodeUInt64s(ByteReader* in, size_t count, uint64_t* out) {
  ChunkTarget target(out, nullptr, nullptr);
  return DecodeImpl<false>(in, count, &target);
}

Status DecodeInt64Chunks(ByteReader* in, size_t count, IntegerChunkSink sink, void* context) {
  ChunkTarget target(nullptr, sink, context);
  return DecodeImpl<true>(in, count, &target);
}

}  // namespace seaway::codec
