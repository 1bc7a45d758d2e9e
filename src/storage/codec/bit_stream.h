// Bit- and byte-level building blocks of the column codecs (src/storage/codec): a bit writer and
// reader (LSB-first, buffered in a 64-bit word), fixed-width bit packing, varints, zigzag, and a
// bounds-checked ByteReader over untrusted block bytes. Also the limits every codec shares.
//
// Bit order: bit i of a stream is bit (i % 8) of byte (i / 8). A value written with width w
// occupies the next w bits, least significant bit first. Packed arrays therefore read as
// little-endian words, which is what makes the unpack loops short.
//
// Thread-compatible: every class here is a value type used by one thread at a time.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/coding.h"

namespace seaway::codec {

static_assert(std::endian::native == std::endian::little,
              "the codecs load packed little-endian words directly");

// A block never holds more values than this (docs/formats/column_codecs.md, invariant 1).
inline constexpr size_t kMaxBlockValues = 65536;
// The uncompressed bytes of one block never exceed this; it bounds what a decoder allocates
// when a (possibly corrupt) block declares its decompressed length.
inline constexpr size_t kMaxBlockBytes = size_t{64} << 20;

// Number of bits needed to hold `v` (0 for 0).
inline int BitWidth(uint64_t v) { return static_cast<int>(std::bit_width(v)); }

// Bytes a varint of `v` takes (1..10).
inline size_t VarintLength(uint64_t v) { return (static_cast<size_t>(BitWidth(v | 1)) + 6) / 7; }

// ZigZagEncode/Decode, PutVarint64 (LEB128) and PutFixed64 (little-endian) come from
// common/coding.h, shared with the WAL and segment formats.

inline uint64_t LoadLE64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Bounds-checked cursor over untrusted bytes. Every Read* returns false, consuming nothing, when
// the input ends first; callers turn that into a Corruption naming position().
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  // Offset of the next unread byte from the start of the data given to the constructor.
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  const uint8_t* current() const { return reinterpret_cast<const uint8_t*>(data_.data()) + pos_; }

  bool ReadByte(uint8_t* v) {
    if (pos_ >= data_.size()) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  // Fails on truncation and on varints longer than 10 bytes or overflowing 64 bits.
  bool ReadVarint64(uint64_t* v) {
    // One byte (counts and widths of small blocks) inline; longer ones out of line.
    if (pos_ < data_.size() && (static_cast<uint8_t>(data_[pos_]) & 0x80) == 0) {
      *v = static_cast<uint8_t>(data_[pos_++]);
      return true;
    }
    return ReadLongVarint64(v);
  }
  bool ReadFixed64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = LoadLE64(current());
    pos_ += 8;
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* bytes) {
    if (remaining() < n) return false;
    *bytes = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  bool ReadLongVarint64(uint64_t* v);

  std::string_view data_;
  size_t pos_ = 0;
};

// Appends bits to a string, LSB-first. Finish() must be called once to flush the last byte(s).
class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}

  // Appends the low `width` bits of `value`. REQUIRES: 0 <= width <= 64 and value < 2^width.
  void Write(uint64_t value, int width) {
    if (width == 0) return;
    buffer_ |= value << used_;
    if (used_ + width >= 64) {
      PutFixed64(out_, buffer_);
      // The bits of `value` that did not fit; shifting by 64 would be undefined.
      buffer_ = used_ == 0 ? 0 : value >> (64 - used_);
      used_ = used_ + width - 64;
    } else {
      used_ += width;
    }
  }
  // Appends the buffered bits, padded with zeros to a whole byte.
  void Finish();

 private:
  std::string* out_;
  uint64_t buffer_ = 0;
  int used_ = 0;  // bits of buffer_ in use, 0..63
};

// Reads bits LSB-first from untrusted bytes. Reading past the end yields zeros and sets
// overrun(); decoders check it once per value or once per block.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_bits_(size * 8) {}

  // REQUIRES: 0 <= width <= 64.
  uint64_t Read(int width) {
    if (width == 0) return 0;
    if (width > static_cast<int>(size_bits_ - pos_)) {
      overrun_ = true;
      pos_ = size_bits_;
      return 0;
    }
    const uint64_t v = Peek64();
    pos_ += width;
    return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
  }
  bool ReadBit() { return Read(1) != 0; }

  bool overrun() const { return overrun_; }
  size_t bits_consumed() const { return pos_; }

 private:
  // The 64 bits starting at pos_, zero-filled past the end.
  uint64_t Peek64() const;

  const uint8_t* data_;
  size_t size_bits_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

// Bytes that PackBits writes for `n` values of `width` bits.
inline size_t PackedBytes(size_t n, int width) { return (n * static_cast<size_t>(width) + 7) / 8; }

// Appends values[0..n) at `width` bits each (LSB-first), PackedBytes(n, width) bytes in all.
// REQUIRES: every value < 2^width.
void PackBits(const uint64_t* values, size_t n, int width, std::string* out);

// Unpacks n values of `width` bits from `in`, adding `add` (mod 2^64) to each:
// out[i] = value[i] + add. Reads only in[0..in_size).
// REQUIRES: in_size >= PackedBytes(n, width), 0 <= width <= 64.
void UnpackBits(const uint8_t* in, size_t in_size, size_t n, int width, uint64_t add,
                uint64_t* out);

// Unpacks n deltas and integrates them: out[i] = acc + sum(value[0..i] + add), mod 2^64.
// Returns the last value written (acc if n == 0). Same REQUIRES as UnpackBits.
uint64_t UnpackDeltas(const uint8_t* in, size_t in_size, size_t n, int width, uint64_t add,
                      uint64_t acc, uint64_t* out);

}  // namespace seaway::codec
