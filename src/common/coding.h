// Byte encoding helpers for on-disk and on-wire formats (src/common): little-endian fixed-width
// integers, LEB128 varints, zigzag, and length-prefixed strings.
//
// Put* append to a std::string. Decoder reads from a borrowed byte range and never reads past its
// end: each Get* returns false on truncated or malformed input, and the caller turns that into a
// Corruption status naming the structure and offset.
//
// Thread-compatible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace seaway {

inline void PutFixed32(std::string* out, uint32_t v) {
  char buf[4];
  std::memcpy(buf, &v, 4);  // x86-64 and aarch64 are little-endian; formats are little-endian
  out->append(buf, 4);
}

inline void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}

inline void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Reads values from a byte range front to back.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

  bool GetFixed32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = DecodeFixed32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (remaining() < 8) return false;
    *v = DecodeFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool GetByte(uint8_t* v) {
    if (remaining() < 1) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool GetVarint64(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63 && pos_ < data_.size(); shift += 7) {
      uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) return false;  // overflows 64 bits
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  // A varint that must not exceed `limit` (counts and lengths from untrusted bytes).
  bool GetBoundedVarint(uint64_t limit, uint64_t* v) { return GetVarint64(v) && *v <= limit; }
  bool GetLengthPrefixed(std::string_view* s) {
    uint64_t n;
    if (!GetVarint64(&n) || n > remaining()) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool GetBytes(size_t n, std::string_view* s) {
    if (n > remaining()) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  // Passes over a varint without decoding it (at most 10 bytes).
  bool SkipVarint() {
    for (size_t end = std::min(data_.size(), pos_ + 10); pos_ < end;) {
      if ((static_cast<uint8_t>(data_[pos_++]) & 0x80) == 0) return true;
    }
    return false;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace seaway
