// Bit packing, varints and the bit reader/writer of the column codecs (src/storage/codec).
#include "storage/codec/bit_stream.h"

#include <algorithm>
#include <array>
#include <utility>

namespace seaway::codec {

bool ByteReader::ReadLongVarint64(uint64_t* v) {
  uint64_t result = 0;
  size_t p = pos_;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= data_.size()) return false;
    const uint64_t byte = static_cast<uint8_t>(data_[p++]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && byte > 1) return false;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      pos_ = p;
      *v = result;
      return true;
    }
  }
  return false;
}

void BitWriter::Finish() {
  const int bytes = (used_ + 7) / 8;
  char buf[8];
  std::memcpy(buf, &buffer_, sizeof(buffer_));
  out_->append(buf, bytes);
  buffer_ = 0;
  used_ = 0;
}

namespace {

// The `width` bits starting at bit `bit` of in[0..in_size), zero-filled past the end.
uint64_t ExtractSafe(const uint8_t* in, size_t in_size, size_t bit, int width) {
  uint8_t buf[16] = {};
  const size_t byte = bit / 8;
  if (byte < in_size) std::memcpy(buf, in + byte, std::min<size_t>(16, in_size - byte));
  const int shift = static_cast<int>(bit % 8);
  uint64_t v = LoadLE64(buf) >> shift;
  if (shift != 0) v |= static_cast<uint64_t>(buf[8]) << (64 - shift);
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

template <int W, int J>
inline uint64_t ExtractFixed(const uint8_t* p) {
  constexpr uint64_t kMask = W == 64 ? ~uint64_t{0} : (uint64_t{1} << W) - 1;
  constexpr int kBit = J * W;
  constexpr int kByte = kBit / 8;
  constexpr int kShift = kBit % 8;
  if constexpr (W == 0) return 0;  // no bytes to read: the input may be empty
  uint64_t v = LoadLE64(p + kByte) >> kShift;
  if constexpr (W + kShift > 64) v |= static_cast<uint64_t>(p[kByte + 8]) << (64 - kShift);
  return v & kMask;
}

// kDelta: out[j] = (acc += value + add), a running sum (delta decoding); otherwise
// out[j] = value + add (frame of reference). Fusing the add into the unpack keeps values in
// registers between the two steps.
template <int W, bool kDelta, size_t... J>
inline void UnpackGroup(const uint8_t* p, uint64_t add, uint64_t& acc, uint64_t* out,
                        std::index_sequence<J...>) {
  if constexpr (kDelta) {
    ((out[J] = acc += ExtractFixed<W, static_cast<int>(J)>(p) + add), ...);
  } else {
    ((out[J] = ExtractFixed<W, static_cast<int>(J)>(p) + add), ...);
  }
}

// Eight values of W bits take exactly W bytes, so every group starts on a byte boundary and all
// shifts are compile-time constants. Groups whose loads could run past the input take the safe
// path instead; that is at most the last two groups.
template <int W, bool kDelta>
uint64_t UnpackFixed(const uint8_t* in, size_t in_size, size_t n, uint64_t add, uint64_t acc,
                     uint64_t* out) {
  size_t fast_groups = 0;
  if constexpr (W > 0) {
    constexpr size_t kGroupReach = (7 * W) / 8 + 9;  // bytes a group's loads may touch
    if (in_size >= kGroupReach) fast_groups = std::min(n / 8, (in_size - kGroupReach) / W + 1);
  } else {
    fast_groups = n / 8;
  }
  for (size_t g = 0; g < fast_groups; ++g) {
    UnpackGroup<W, kDelta>(in + g * W, add, acc, out + g * 8, std::make_index_sequence<8>());
  }
  size_t i = fast_groups * 8;
  if constexpr (W > 0) {
    // The rest from one zero-padded copy of the bytes it spans, then plain loads: a small
    // block is all rest. (It spans under kGroupReach + W bytes when the reach stopped the
    // groups, else under 8 values' bytes: the copy always fits; ExtractSafe is the fallback.)
    uint8_t tail[2 * 64 + 32] = {};
    const size_t from = fast_groups * W;
    const size_t rest = std::min(in_size - std::min(in_size, from), ((n - i) * W + 7) / 8);
    if (i < n && rest + 9 <= sizeof(tail)) {
      std::memcpy(tail, in + from, rest);
      for (size_t k = 0; i < n; ++i, ++k) {
        const size_t bit = k * W;
        const int shift = static_cast<int>(bit % 8);
        uint64_t v = LoadLE64(tail + bit / 8) >> shift;
        if (shift != 0 && W + shift > 64)
          v |= static_cast<uint64_t>(tail[bit / 8 + 8]) << (64 - shift);
        v = (W == 64 ? v : v & ((uint64_t{1} << W) - 1)) + add;
        out[i] = kDelta ? acc += v : v;
      }
    }
  }
  for (; i < n; ++i) {
    const uint64_t v = (W == 0 ? 0 : ExtractSafe(in, in_size, i * W, W)) + add;
    out[i] = kDelta ? acc += v : v;
  }
  return acc;
}

using UnpackFn = uint64_t (*)(const uint8_t*, size_t, size_t, uint64_t, uint64_t, uint64_t*);

template <bool kDelta, size_t... W>
constexpr std::array<UnpackFn, sizeof...(W)> MakeUnpackTable(std::index_sequence<W...>) {
  return {&UnpackFixed<static_cast<int>(W), kDelta>...};
}

constexpr auto kUnpackTable = MakeUnpackTable<false>(std::make_index_sequence<65>());
constexpr auto kUnpackDeltaTable = MakeUnpackTable<true>(std::make_index_sequence<65>());

}  // namespace

uint64_t BitReader::Peek64() const {
  const size_t byte = pos_ / 8;
  const int shift = static_cast<int>(pos_ % 8);
  if (byte + 9 <= size_bits_ / 8) {
    uint64_t v = LoadLE64(data_ + byte) >> shift;
    if (shift != 0) v |= static_cast<uint64_t>(data_[byte + 8]) << (64 - shift);
    return v;
  }
  return ExtractSafe(data_, size_bits_ / 8, pos_, 64);
}

void PackBits(const uint64_t* values, size_t n, int width, std::string* out) {
  if (width == 0) return;
  BitWriter writer(out);
  for (size_t i = 0; i < n; ++i) writer.Write(values[i], width);
  writer.Finish();
}

void UnpackBits(const uint8_t* in, size_t in_size, size_t n, int width, uint64_t add,
                uint64_t* out) {
  kUnpackTable[static_cast<size_t>(width)](in, in_size, n, add, 0, out);
}

uint64_t UnpackDeltas(const uint8_t* in, size_t in_size, size_t n, int width, uint64_t add,
                      uint64_t acc, uint64_t* out) {
  return kUnpackDeltaTable[static_cast<size_t>(width)](in, in_size, n, add, acc, out);
}

}  // namespace seaway::codec
