// Line protocol parser (src/ingest).
//
// Speed matters here (issue #4: <= 150 ns per industrial line), so the parser works on views of
// the body. One SIMD pass (AVX2 when the CPU has it, else SSE2) marks a line's commas, spaces
// and equals signs, and tokens are the gaps between marks. A plain line (no escapes, strings or
// control characters) that names the same tags and fields, in the same order and with the same
// types, as the previous line of its batch takes AddLikePrevious: names are compared with the
// expected ones and values go straight into their columns. Another plain line takes
// ParseLineFast. Any other line, and any line the fast paths doubt, goes through ParseLine's
// byte-by-byte grammar, which owns every error message; tokens with escapes are unescaped into a
// per-line arena that never reallocates. Short decimals and integers are parsed with SWAR
// arithmetic, longer plain ones with an exact loop; the first batch is sized for the body.
#include "ingest/line_protocol.h"

#include <algorithm>
#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SEAWAY_LINE_PROTOCOL_AVX2 1  // BuildAvx2, chosen at run time
#endif
#include <simdjson.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "storage/schema.h"

namespace seaway {
namespace {

// Byte classes; a scan stops at any class in its mask.
enum : uint8_t {
  kComma = 1,
  kSpace = 2,
  kEquals = 4,
  kBackslash = 8,
  kControl = 16,  // bytes below 0x20 and 0x7f: not allowed in names
};

constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kControl;
  t[0x7f] = kControl;
  t[','] = kComma;
  t[' '] = kSpace;
  t['='] = kEquals;
  t['\\'] = kBackslash;
  return t;
}();

struct ParsedField {
  std::string_view key;
  FieldType type;
  uint64_t bits = 0;
  std::string_view str;
};

// A list whose elements are reused from line to line: clearing keeps them, and adding one is a
// few stores (std::vector's emplace_back is an out-of-line call per field otherwise).
template <typename T>
class ReusedList {
 public:
  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return items_[i]; }
  const T& operator[](size_t i) const { return items_[i]; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }
  // The new element keeps what it held on an earlier line: the caller sets every member it reads.
  T& emplace_back() {
    if (size_ == items_.size()) [[unlikely]]
      items_.emplace_back();
    return items_[size_++];
  }
  template <typename A, typename B>
  void emplace_back(A a, B b) {
    emplace_back() = T{a, b};
  }

 private:
  std::vector<T> items_;
  size_t size_ = 0;
};

struct ParsedLine {
  std::string_view measurement;
  ReusedList<std::pair<std::string_view, std::string_view>> tags;
  ReusedList<ParsedField> fields;
  int64_t time = 0;
};

// Equality of two short strings without a call to memcmp (names are mostly under 16 bytes).
inline bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    if (n > 16) return std::memcmp(p, q, n) == 0;
    uint64_t x0, y0, x1, y1;  // two overlapping 8-byte words cover 8..16 bytes
    std::memcpy(&x0, p, 8);
    std::memcpy(&y0, q, 8);
    std::memcpy(&x1, p + n - 8, 8);
    std::memcpy(&y1, q + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4) {
    uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, p, 4);
    std::memcpy(&y0, q, 4);
    std::memcpy(&x1, p + n - 4, 4);
    std::memcpy(&y1, q + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

// Unescaped tokens of the current line. Reserved to the line's size before the first write, so
// the views handed out stay valid for the whole line (unescaping never makes text longer).
class Arena {
 public:
  void StartLine(size_t line_size) {
    buffer_.clear();
    line_size_ = line_size;
  }
  char* Begin() {
    if (buffer_.capacity() < line_size_) buffer_.reserve(line_size_);
    return buffer_.data() + buffer_.size();
  }
  void Append(char c) { buffer_.push_back(c); }
  std::string_view Since(const char* begin) const {
    return std::string_view(begin, buffer_.data() + buffer_.size() - begin);
  }

 private:
  std::string buffer_;
  size_t line_size_ = 0;
};

// Reads a token from *pos up to the first unescaped byte whose class is in `stop`. A backslash
// before a byte of class `escapable` stands for that byte; before anything else it is kept.
// Sets *control when the token holds a control character.
std::string_view ReadEscapedToken(std::string_view line, size_t start, size_t* pos, uint8_t stop,
                                  uint8_t escapable, Arena* arena, bool* control);

// Reads a token from *pos up to the first unescaped byte whose class is in `stop`. A backslash
// before a byte of class `escapable` stands for that byte; before anything else it is kept.
// Sets *control when the token holds a control character.
inline std::string_view ReadToken(std::string_view line, size_t* pos, uint8_t stop,
                                  uint8_t escapable, Arena* arena, bool* control) {
  const char* p = line.data();
  const size_t n = line.size();
  const size_t start = *pos;
  const uint8_t fast_stop = stop | kBackslash | kControl;
  size_t i = start;
  while (i < n && (kClass[static_cast<uint8_t>(p[i])] & fast_stop) == 0) ++i;
  if (i == n || (kClass[static_cast<uint8_t>(p[i])] & stop) != 0) [[likely]] {
    *pos = i;
    return line.substr(start, i - start);
  }
  *pos = i;
  return ReadEscapedToken(line, start, pos, stop, escapable, arena, control);
}

// The rest of a token from *pos on, which starts with an escape or a control character.
[[gnu::noinline]] std::string_view ReadEscapedToken(std::string_view line, size_t start,
                                                    size_t* pos, uint8_t stop, uint8_t escapable,
                                                    Arena* arena, bool* control) {
  const char* p = line.data();
  const size_t n = line.size();
  size_t i = *pos;
  const char* begin = arena->Begin();
  for (size_t k = start; k < i; ++k) arena->Append(p[k]);
  while (i < n) {
    const char c = p[i];
    const uint8_t cls = kClass[static_cast<uint8_t>(c)];
    if ((cls & kBackslash) && i + 1 < n && (kClass[static_cast<uint8_t>(p[i + 1])] & escapable)) {
      arena->Append(p[i + 1]);
      i += 2;
      continue;
    }
    if (cls & stop) break;
    *control |= (cls & kControl) != 0;
    arena->Append(c);
    ++i;
  }
  *pos = i;
  return arena->Since(begin);
}

bool IsBoolTrue(std::string_view v) {
  return v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE";
}
bool IsBoolFalse(std::string_view v) {
  return v == "f" || v == "F" || v == "false" || v == "False" || v == "FALSE";
}

// Eight ASCII digits at `p` as a number, with SWAR arithmetic (no loop-carried multiply per
// digit); false if any of the eight bytes is not a digit.
inline bool ParseEightDigits(const char* p, uint32_t* out) {
  static_assert(std::endian::native == std::endian::little,
                "SWAR digit order assumes little endian");
  uint64_t v;
  std::memcpy(&v, p, 8);
  if ((v & 0xF0F0F0F0F0F0F0F0) != 0x3030303030303030 ||
      ((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) != 0x3030303030303030) {
    return false;
  }
  v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;  // little-endian: first digit is the low byte
  v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16;
  *out = static_cast<uint32_t>((v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32);
  return true;
}

// Exact powers of ten: a mantissa below 2^53 divided by one of them is correctly rounded.
constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// At line[*pos]: a field value of the forms sensors send, [+-]digits[.digits] with at most 15
// digits in all (a float) or [+-]digits followed by 'i' (an integer of up to 18 digits), ending at
// a comma, a space or the end of the line. Advances *pos and returns true when it is one; false
// for anything else (exponents, long numbers, booleans, junk), which the general path handles.
inline bool ParsePlainNumber(std::string_view line, size_t* pos, ParsedField* out) {
  const char* p = line.data() + *pos;
  const char* end = line.data() + line.size();
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) negative = *p++ == '-';
  uint64_t mantissa = 0;
  int digits = 0;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
    ++digits;
  }
  auto at_end = [end](const char* q) { return q == end || *q == ',' || *q == ' '; };
  if (p < end && *p == 'i' && digits > 0 && digits <= 18 && at_end(p + 1) &&
      line[*pos] != '+') {  // as from_chars, integers take no '+'
    out->type = FieldType::kInt64;
    out->bits = static_cast<uint64_t>(negative ? -static_cast<int64_t>(mantissa)
                                               : static_cast<int64_t>(mantissa));
    *pos = p + 1 - line.data();
    return true;
  }
  int decimals = 0;
  if (p < end && *p == '.') {
    ++p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
      ++decimals;
    }
  }
  if (!at_end(p) || digits + decimals == 0 || digits + decimals > 15) return false;
  double v = static_cast<double>(mantissa);
  if (decimals > 0) v /= kPow10[decimals];
  out->type = FieldType::kDouble;
  out->bits = std::bit_cast<uint64_t>(negative ? -v : v);
  *pos = p - line.data();
  return true;
}

// The number that eight ASCII digits spell, first digit in the low byte.
inline uint32_t EightDigitsValue(uint64_t v) {
  v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8;
  v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16;
  return static_cast<uint32_t>((v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32);
}

// 0x80 in each byte of `w` that is not an ASCII digit. A byte over 0xf9 carries into the next one,
// whose flag is then not to be trusted.
inline uint64_t NonDigitBytes(uint64_t w) {
  const uint64_t off = ((w & 0xF0F0F0F0F0F0F0F0) ^ 0x3030303030303030) |
                       (((w + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) ^ 0x3030303030303030);
  return (((off >> 4) & 0x0F0F0F0F0F0F0F0F) + 0x7F7F7F7F7F7F7F7F) & 0x8080808080808080;
}

// kLeadingZeros[k]: '0' in the low k bytes.
constexpr std::array<uint64_t, 8> kLeadingZeros = [] {
  std::array<uint64_t, 8> t{};
  for (size_t k = 1; k < 8; ++k) t[k] = 0x3030303030303030 & ((uint64_t{1} << (8 * k)) - 1);
  return t;
}();

// ParsePlainNumber for a token [p, p + length) of at most 8 bytes, with 8 bytes readable from
// its start (up to `limit`): the token is shifted into one word behind leading zeros, a sign
// becomes one more '0', and the digits are checked and combined with SWAR arithmetic instead of a
// loop whose exits mispredict as digit counts vary. Same results as ParsePlainNumber; false for
// every other token (the caller then asks ParsePlainNumber).
[[gnu::always_inline]] inline bool ParseShortNumber(const char* p, size_t length, const char* limit,
                                                    ParsedField* out) {
  if (length - 1 >= 8 || limit - p < 8) return false;  // length in 1..8
  uint64_t w;
  std::memcpy(&w, p, 8);
  const size_t pad = 8 - length;  // leading '0's; the token ends in the high byte
  w = (w << (8 * pad)) | kLeadingZeros[pad];
  const bool negative = *p == '-';
  const bool plus = *p == '+';
  if (negative || plus) w += static_cast<uint64_t>('0' - *p) << (8 * pad);  // no carry
  const size_t chars = length - (negative || plus);  // digits and a '.' or an 'i'
  const uint64_t non_digit = NonDigitBytes(w);
  if (non_digit == 0) {  // an integral float
    if (chars == 0) return false;
    const double d = static_cast<double>(EightDigitsValue(w));
    out->type = FieldType::kDouble;
    out->bits = std::bit_cast<uint64_t>(negative ? -d : d);
    return true;
  }
  // One non-digit, and no carry before it: an 'i' last, or a '.' anywhere, and a digit.
  if ((non_digit & (non_digit - 1)) != 0 || chars < 2) return false;
  const int at = std::countr_zero(non_digit) / 8;
  const char c = static_cast<char>(w >> (8 * at));
  if (c == 'i') {
    if (at != 7 || plus) return false;  // as from_chars, integers take no '+'
    const int64_t magnitude = EightDigitsValue(w << 8 | 0x30);
    out->type = FieldType::kInt64;
    out->bits = static_cast<uint64_t>(negative ? -magnitude : magnitude);
    return true;
  }
  if (c != '.') return false;
  const uint64_t before = (uint64_t{1} << (8 * at)) - 1;
  const uint64_t after = ~(before | uint64_t{0xFF} << (8 * at));
  double d = static_cast<double>(EightDigitsValue((w & before) << 8 | (w & after) | 0x30));
  const int decimals = 7 - at;
  if (decimals > 0) d /= kPow10[decimals];
  out->type = FieldType::kDouble;
  out->bits = std::bit_cast<uint64_t>(negative ? -d : d);
  return true;
}

Status ParseFieldValue(std::string_view token, std::string_view key, ParsedField* out) {
  if (token.empty()) return InvalidArgument("field '{}' has no value", key);
  size_t consumed = 0;
  if (ParsePlainNumber(token, &consumed, out)) return Status::OK();  // the whole token
  if (IsBoolTrue(token) || IsBoolFalse(token)) {
    out->type = FieldType::kBool;
    out->bits = IsBoolTrue(token) ? 1 : 0;
    return Status::OK();
  }
  const char last = token.back();
  if (last == 'i' || last == 'u') {
    std::string_view digits = token.substr(0, token.size() - 1);
    if (last == 'i') {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (digits.empty() || ec == std::errc::result_out_of_range) {
        return InvalidArgument("field '{}': integer '{}' is out of range", key, token);
      }
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return InvalidArgument("field '{}': invalid integer '{}'", key, token);
      }
      out->type = FieldType::kInt64;
      out->bits = static_cast<uint64_t>(i);
    } else {
      uint64_t u = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
      if (digits.empty() || ec == std::errc::result_out_of_range) {
        return InvalidArgument("field '{}': unsigned integer '{}' is out of range", key, token);
      }
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return InvalidArgument("field '{}': invalid unsigned integer '{}'", key, token);
      }
      out->type = FieldType::kUInt64;
      out->bits = u;
    }
    return Status::OK();
  }
  const char* begin = token.data();
  if (*begin == '+') {  // from_chars does not take a leading '+'; "+-1" stays invalid
    ++begin;
    if (begin == token.data() + token.size() || *begin == '-') {
      return InvalidArgument("field '{}': invalid number '{}'", key, token);
    }
  }
  double v = 0;
  auto [end, ec] = std::from_chars(begin, token.data() + token.size(), v);
  if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(v)) {
    return InvalidArgument("field '{}': invalid number '{}'", key, token);
  }
  out->type = FieldType::kDouble;
  out->bits = std::bit_cast<uint64_t>(v);
  return Status::OK();
}

// `t` in units of `precision` as nanoseconds in *out; false when that overflows.
inline bool ToNanoseconds(int64_t t, Precision precision, int64_t* out) {
  int64_t factor = 1;
  switch (precision) {
    case Precision::kNanoseconds: break;
    case Precision::kMicroseconds: factor = 1'000; break;
    case Precision::kMilliseconds: factor = 1'000'000; break;
    case Precision::kSeconds: factor = 1'000'000'000; break;
    case Precision::kMinutes: factor = 60'000'000'000; break;
    case Precision::kHours: factor = 3'600'000'000'000; break;
  }
  return !__builtin_mul_overflow(t, factor, out);
}

Result<int64_t> ScaleTime(int64_t t, Precision precision) {
  int64_t out;
  if (!ToNanoseconds(t, precision, &out)) {
    return InvalidArgument("timestamp {} is out of range for its precision", t);
  }
  return out;
}

// The precise check of a tag or field name, with its error message.
Status CheckKey(std::string_view what, std::string_view key, const LineProtocolOptions& o) {
  SW_RETURN_IF_ERROR(ValidateName(key, what));
  if (key.size() > o.limits.max_key_bytes) {
    return InvalidArgument("{} '{}...' is {} bytes, over the limit of {}", what, key.substr(0, 32),
                           key.size(), o.limits.max_key_bytes);
  }
  if (key == "time") return InvalidArgument("'time' cannot be a {} name", what);
  return Status::OK();
}

// The cheap test that decides whether CheckKey must run.
bool KeyNeedsCheck(std::string_view key, bool control, const LineProtocolOptions& o) {
  return control || key.empty() || key.size() > o.limits.max_key_bytes ||
         key.size() > kMaxNameBytes || (key.size() == 4 && std::memcmp(key.data(), "time", 4) == 0);
}

// The fast path for the common line: no escapes, no quoted strings, no control characters.
// One SIMD pass marks the structural bytes (comma, space, equals) of the line in a bitmap; the
// tokens are then the gaps between marks. Anything unusual — an escape, a string, an error —
// returns false and the line goes through the byte-by-byte parser below, which has the exact
// grammar and error messages.
class StructuralIndex {
 public:
  // Marks `line`; false when it holds a backslash, a quote or a control character.
  bool Build(std::string_view line) {
    if (words_.size() <= line.size() / 64) words_.resize(line.size() / 64 + 1);
#if defined(SEAWAY_LINE_PROTOCOL_AVX2)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2 && line.size() >= 32) return BuildAvx2(line);
#endif
    return BuildSse2(line);
  }

  // The first mark at or after `pos` (the line's size when none is left).
  size_t Next(size_t pos) const { return Next(words_.data(), pos); }

  // The marks, for a caller that keeps them in a register across stores (see Next).
  const uint64_t* words() const { return words_.data(); }
  static size_t Next(const uint64_t* words, size_t pos) {
    size_t w = pos / 64;
    const uint64_t ahead = words[w] >> (pos % 64);
    if (ahead != 0) [[likely]]
      return pos + static_cast<size_t>(std::countr_zero(ahead));
    uint64_t word;
    do {
      word = words[++w];
    } while (word == 0);
    return w * 64 + static_cast<size_t>(std::countr_zero(word));
  }

 private:
  bool BuildSse2(std::string_view line) {
    const size_t n = line.size();
    const char* p = line.data();
    size_t i = 0;
    uint64_t word = 0;  // the marks of bytes [i / 64 * 64, i)
    uint64_t special = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
      uint64_t structural, odd;
      ClassifySse2(p + i, &structural, &odd);
      word |= structural << (i % 64);
      special |= odd;
      if (i % 64 == 48) {
        words_[i / 64] = word;
        word = 0;
      }
    }
    if (i < n && n >= 16) {  // the last n - i bytes, as the tail of the line's last 16
      uint64_t structural, odd;
      ClassifySse2(p + n - 16, &structural, &odd);
      const int shift = static_cast<int>(16 - (n - i));
      word |= (structural >> shift) << (i % 64);  // i % 64 <= 48 and n - i < 16: one word
      special |= odd >> shift;
      i = n;
    }
#endif
    for (; i < n; ++i) {
      const uint8_t cls = kClass[static_cast<uint8_t>(p[i])];
      word |= uint64_t{(cls & (kComma | kSpace | kEquals)) != 0} << (i % 64);
      special |= (cls & (kBackslash | kControl)) | (p[i] == '"');
      if (i % 64 == 63) {
        words_[i / 64] = word;
        word = 0;
      }
    }
    words_[n / 64] = word | uint64_t{1} << (n % 64);  // a sentinel mark at the end of the line
    return special == 0;
  }

#if defined(__SSE2__)
  // The structural and the odd bytes of the 16 at `q`, as two masks.
  static void ClassifySse2(const char* q, uint64_t* structural, uint64_t* odd) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i s = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8(' '))),
        _mm_cmpeq_epi8(v, _mm_set1_epi8('=')));
    const __m128i control = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v),
                                         _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    const __m128i o = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
        control);
    *structural = static_cast<uint32_t>(_mm_movemask_epi8(s));
    *odd = static_cast<uint32_t>(_mm_movemask_epi8(o));
  }
#endif

#if defined(SEAWAY_LINE_PROTOCOL_AVX2)
  // BuildSse2 32 bytes at a time, for lines of 32 bytes or more on CPUs that have AVX2.
  [[gnu::target("avx2")]] bool BuildAvx2(std::string_view line) {
    const size_t n = line.size();
    const char* p = line.data();
    size_t i = 0;
    uint64_t special = 0;
    for (; i + 64 <= n; i += 64) {  // a word at a time
      uint64_t low, high, odd_low, odd_high;
      ClassifyAvx2(p + i, &low, &odd_low);
      ClassifyAvx2(p + i + 32, &high, &odd_high);
      words_[i / 64] = low | high << 32;
      special |= odd_low | odd_high;
    }
    uint64_t word = 0;  // the marks of bytes [i / 64 * 64, i)
    if (i + 32 <= n) {
      uint64_t odd;
      ClassifyAvx2(p + i, &word, &odd);
      special |= odd;
      i += 32;
    }
    if (i < n) {  // the last n - i bytes, as the tail of the line's last 32
      uint64_t structural, odd;
      ClassifyAvx2(p + n - 32, &structural, &odd);
      const int shift = static_cast<int>(32 - (n - i));
      word |= (structural >> shift) << (i % 64);  // i % 64 <= 32 and n - i < 32: one word
      special |= odd >> shift;
    }
    words_[n / 64] = word | uint64_t{1} << (n % 64);  // a sentinel mark at the end of the line
    return special == 0;
  }

  [[gnu::target("avx2")]] static void ClassifyAvx2(const char* q, uint64_t* structural,
                                                   uint64_t* odd) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i s = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(',')),
                                                      _mm256_cmpeq_epi8(v, _mm256_set1_epi8(' '))),
                                      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('=')));
    const __m256i control =
        _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v),
                        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f)));
    const __m256i o = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')),
                                                      _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'))),
                                      control);
    *structural = static_cast<uint32_t>(_mm256_movemask_epi8(s));
    *odd = static_cast<uint32_t>(_mm256_movemask_epi8(o));
  }
#endif

  std::vector<uint64_t> words_;
};

// The value of a field of a plain line at line[*pos], up to the mark at `e`; advances *pos to
// `e`. False when the general parser must judge it (a string, an error).
[[gnu::always_inline]] inline bool ParseValueFast(std::string_view line, size_t* pos, size_t e,
                                                  ParsedField* field) {
  const size_t n = line.size();
  if (ParseShortNumber(line.data() + *pos, e - *pos, line.data() + n, field)) {
    *pos = e;
    return true;
  }
  if (ParsePlainNumber(line, pos, field)) return true;
  if (e < n && line[e] == '=') return false;
  if (!ParseFieldValue(line.substr(*pos, e - *pos), field->key, field).ok()) return false;
  *pos = e;
  return true;
}

// The end of a plain line from line[pos] on, after its last field: spaces, then an optional
// timestamp and spaces. False when the general parser must judge it.
[[gnu::always_inline]] inline bool ParseTimeFast(std::string_view line, size_t pos,
                                                 const LineProtocolOptions& o, int64_t* time) {
  const size_t n = line.size();
  while (pos < n && line[pos] == ' ') ++pos;
  if (pos == n) {
    *time = o.default_time_ns;
    return true;
  }
  size_t end = n;
  while (line[end - 1] == ' ') --end;
  // Up to 19 digits fit a uint64 without overflow; the range check comes after.
  const bool negative = line[pos] == '-';
  pos += negative;
  if (pos == end || end - pos > 19) return false;
  uint64_t magnitude = 0;
  for (const size_t lead_end = pos + (end - pos) % 8; pos < lead_end; ++pos) {  // 8k remain
    const unsigned digit = static_cast<unsigned>(line[pos] - '0');
    if (digit > 9) return false;
    magnitude = magnitude * 10 + digit;
  }
  for (; pos < end; pos += 8) {
    uint32_t eight;
    if (!ParseEightDigits(line.data() + pos, &eight)) return false;
    magnitude = magnitude * 100'000'000 + eight;
  }
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  const int64_t t = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return ToNanoseconds(t, o.precision, time);
}

// The measurement of a plain line: its first token, ending at a comma or a space. Zero when the
// general parser must judge it.
inline size_t MeasurementEnd(std::string_view line, const StructuralIndex& index) {
  const size_t e = index.Next(0);
  if (e == 0 || e == line.size() || line[e] == '=' || e > kMaxNameBytes) return 0;
  return e;
}

// REQUIRES: index->Build(line) returned true (the line is plain).
bool ParseLineFast(std::string_view line, const LineProtocolOptions& o,
                   const StructuralIndex& index, ParsedLine* out) {
  const size_t n = line.size();
  size_t e = MeasurementEnd(line, index);
  if (e == 0) return false;
  out->measurement = line.substr(0, e);
  out->tags.clear();
  while (line[e] == ',') {
    const size_t key = e + 1;
    e = index.Next(key);
    if (e == n || line[e] != '=') return false;
    const size_t value = e + 1;
    const std::string_view k = line.substr(key, e - key);
    e = index.Next(value);
    if (e == n) return false;  // a line of tags only
    const std::string_view v = line.substr(value, e - value);
    if (line[e] == '=' || v.empty() || v.size() > o.limits.max_key_bytes ||
        out->tags.size() == o.limits.max_tags) {
      return false;
    }
    out->tags.emplace_back(k, v);
  }
  if (line[e] != ' ') return false;
  size_t pos = e + 1;
  while (pos < n && line[pos] == ' ') ++pos;
  out->fields.clear();
  while (true) {
    e = index.Next(pos);
    if (e == n || line[e] != '=' || out->fields.size() == o.limits.max_fields) return false;
    ParsedField& field = out->fields.emplace_back();
    field.key = line.substr(pos, e - pos);
    pos = e + 1;
    if (!ParseValueFast(line, &pos, index.Next(pos), &field)) return false;
    if (pos == n || line[pos] != ',') break;
    ++pos;
  }
  return ParseTimeFast(line, pos, o, &out->time);
}

// `plain`: the caller built `index` for the line, which holds no escapes, strings or control
// characters, and is within the size limit.
Status ParseLine(std::string_view line, const LineProtocolOptions& o, bool plain,
                 const StructuralIndex& index, Arena* arena, ParsedLine* out) {
  if (line.size() > o.limits.max_line_bytes) {
    return InvalidArgument("line is {} bytes, over the limit of {}", line.size(),
                           o.limits.max_line_bytes);
  }
  if (plain && ParseLineFast(line, o, index, out)) return Status::OK();
  arena->StartLine(line.size());
  size_t pos = 0;
  bool control = false;
  out->measurement = ReadToken(line, &pos, kComma | kSpace, kComma | kSpace, arena, &control);
  if (out->measurement.empty()) return InvalidArgument("missing measurement");
  if (control || out->measurement.size() > kMaxNameBytes) {
    SW_RETURN_IF_ERROR(ValidateName(out->measurement, "measurement"));
  }
  out->tags.clear();
  while (pos < line.size() && line[pos] == ',') {
    ++pos;
    control = false;
    std::string_view key = ReadToken(line, &pos, kEquals | kComma | kSpace,
                                     kComma | kEquals | kSpace, arena, &control);
    if (pos >= line.size() || line[pos] != '=') {
      return InvalidArgument("tag '{}' has no '=value'", key);
    }
    ++pos;
    bool value_control = false;  // allowed in tag values
    std::string_view value =
        ReadToken(line, &pos, kComma | kSpace, kComma | kEquals | kSpace, arena, &value_control);
    if (KeyNeedsCheck(key, control, o)) SW_RETURN_IF_ERROR(CheckKey("tag", key, o));
    if (value.empty()) return InvalidArgument("tag '{}' has an empty value", key);
    if (value.size() > o.limits.max_key_bytes) {
      return InvalidArgument("tag '{}' value is {} bytes, over the limit of {}", key, value.size(),
                             o.limits.max_key_bytes);
    }
    out->tags.emplace_back(key, value);
    if (out->tags.size() > o.limits.max_tags) {
      return InvalidArgument("more than {} tags", o.limits.max_tags);
    }
  }
  if (pos >= line.size() || line[pos] != ' ') return InvalidArgument("missing fields");
  while (pos < line.size() && line[pos] == ' ') ++pos;

  out->fields.clear();
  while (true) {
    // Filled in place: building a local and copying it in stalls on store forwarding.
    ParsedField& field = out->fields.emplace_back();
    control = false;
    field.key = ReadToken(line, &pos, kEquals | kComma | kSpace, kComma | kEquals | kSpace, arena,
                          &control);
    if (pos >= line.size() || line[pos] != '=') {
      return InvalidArgument("field '{}' has no '=value'", field.key);
    }
    ++pos;
    if (KeyNeedsCheck(field.key, control, o)) SW_RETURN_IF_ERROR(CheckKey("field", field.key, o));
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      const size_t start = pos;
      while (pos < line.size() && line[pos] != '"' && line[pos] != '\\') ++pos;
      if (pos < line.size() && line[pos] == '"') {
        field.str = line.substr(start, pos - start);
        ++pos;
      } else {
        const char* begin = arena->Begin();
        for (size_t k = start; k < pos; ++k) arena->Append(line[k]);
        bool closed = false;
        while (pos < line.size()) {
          char c = line[pos];
          if (c == '\\' && pos + 1 < line.size() &&
              (line[pos + 1] == '"' || line[pos + 1] == '\\')) {
            arena->Append(line[pos + 1]);
            pos += 2;
            continue;
          }
          ++pos;
          if (c == '"') {
            closed = true;
            break;
          }
          arena->Append(c);
        }
        if (!closed) return InvalidArgument("field '{}': unterminated string", field.key);
        field.str = arena->Since(begin);
      }
      if (field.str.size() > o.limits.max_string_bytes) {
        return InvalidArgument("field '{}': string of {} bytes is over the limit of {}", field.key,
                               field.str.size(), o.limits.max_string_bytes);
      }
      field.type = FieldType::kString;
    } else if (!ParsePlainNumber(line, &pos, &field)) {
      const size_t start = pos;
      while (pos < line.size() &&
             (kClass[static_cast<uint8_t>(line[pos])] & (kComma | kSpace)) == 0)
        ++pos;
      SW_RETURN_IF_ERROR(ParseFieldValue(line.substr(start, pos - start), field.key, &field));
    }
    if (out->fields.size() > o.limits.max_fields) {
      return InvalidArgument("more than {} fields", o.limits.max_fields);
    }
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    break;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (pos == line.size()) {
    out->time = o.default_time_ns;
    return Status::OK();
  }
  std::string_view ts = line.substr(pos);
  while (!ts.empty() && ts.back() == ' ') ts.remove_suffix(1);
  int64_t t = 0;
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
  if (ec != std::errc() || end != ts.data() + ts.size()) {
    return InvalidArgument("invalid timestamp '{}'", ts.substr(0, 40));
  }
  SW_ASSIGN_OR_RETURN(out->time, ScaleTime(t, o.precision));
  return Status::OK();
}

// One row's values in column order, for WriteBatch::AddFullRow; reused from line to line.
struct FullRow {
  std::vector<std::string_view> tags;
  std::vector<uint64_t> bits;
  std::vector<std::string_view> strings;
};

// The previous line of a batch: its tag keys and field names and types, in that line's order,
// and the columns they resolved to. Lines of one batch usually name the same tags and fields in
// the same order: then the names are matched once per line against the expected ones,
// duplicates are impossible (the previous line had none), and values go straight into their
// columns.
struct BatchShape {
  std::vector<std::string> tag_keys;
  std::vector<std::string> field_keys;
  std::vector<FieldType> field_types;
  std::vector<uint32_t> tag_columns;
  std::vector<uint32_t> field_columns;
  bool all_columns = false;  // the line named every column of the batch (WriteBatch::AddFullRow)
  // No name holds a byte that StructuralIndex marks or that makes a line not plain: in a plain
  // line, the bytes of such a name followed by '=' are that name, without looking for marks.
  bool plain_names = false;
  FullRow row;  // as many values as the batch has columns
};

// Whether `name` is one that a plain line spells as is (see BatchShape::plain_names).
bool IsPlainName(std::string_view name) {
  for (char c : name) {
    if ((kClass[static_cast<uint8_t>(c)] & (kComma | kSpace | kEquals | kBackslash | kControl)) ||
        c == '"') {
      return false;
    }
  }
  return true;
}

bool SameShape(const ParsedLine& parsed, const BatchShape& shape) {
  if (parsed.tags.size() != shape.tag_keys.size() ||
      parsed.fields.size() != shape.field_keys.size()) {
    return false;
  }
  for (size_t i = 0; i < parsed.tags.size(); ++i) {
    if (!SameBytes(shape.tag_keys[i], parsed.tags[i].first)) return false;
  }
  for (size_t i = 0; i < parsed.fields.size(); ++i) {
    if (shape.field_types[i] != parsed.fields[i].type ||
        !SameBytes(shape.field_keys[i], parsed.fields[i].key)) {
      return false;
    }
  }
  return true;
}

// Resolves the line's names to columns of `batch` (adding new ones) into `shape`. Names are
// checked here rather than in ParseLineFast: a line shaped like the previous one of its batch
// names columns that passed these checks already. In the order ParseLine checks them, so that
// both paths report a line's first error.
Status ResolveShape(const ParsedLine& parsed, const LineProtocolOptions& o, WriteBatch* batch,
                    BatchShape* shape) {
  for (const auto& [key, value] : parsed.tags) {
    if (KeyNeedsCheck(key, false, o)) SW_RETURN_IF_ERROR(CheckKey("tag", key, o));
  }
  for (const auto& f : parsed.fields) {
    if (KeyNeedsCheck(f.key, false, o)) SW_RETURN_IF_ERROR(CheckKey("field", f.key, o));
  }
  for (size_t i = 0; i < parsed.tags.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (parsed.tags[k].first == parsed.tags[i].first) {
        return InvalidArgument("tag '{}' appears twice", parsed.tags[i].first);
      }
    }
  }
  for (size_t i = 0; i < parsed.fields.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (parsed.fields[k].key == parsed.fields[i].key) {
        return InvalidArgument("field '{}' appears twice", parsed.fields[i].key);
      }
    }
  }
  BatchShape resolved;
  for (const auto& [key, value] : parsed.tags) {
    resolved.tag_keys.emplace_back(key);
    resolved.tag_columns.push_back(static_cast<uint32_t>(batch->TagColumn(key)));
  }
  for (const auto& f : parsed.fields) {
    SW_ASSIGN_OR_RETURN(size_t column, batch->FieldColumnIndex(f.key, f.type));
    resolved.field_keys.emplace_back(f.key);
    resolved.field_types.push_back(f.type);
    resolved.field_columns.push_back(static_cast<uint32_t>(column));
  }
  // Columns are only added here, and DropLastRow takes back those of a failed row: the flag
  // holds until the batch's next ResolveShape.
  resolved.all_columns = resolved.tag_columns.size() == batch->tag_keys().size() &&
                         resolved.field_columns.size() == batch->fields().size();
  resolved.plain_names =
      std::all_of(resolved.tag_keys.begin(), resolved.tag_keys.end(), IsPlainName) &&
      std::all_of(resolved.field_keys.begin(), resolved.field_keys.end(), IsPlainName);
  resolved.row.tags.resize(batch->tag_keys().size());
  resolved.row.bits.resize(batch->fields().size());
  resolved.row.strings.resize(batch->fields().size());
  *shape = std::move(resolved);
  return Status::OK();
}

// Adds a plain line shaped like the previous line of `batch` (the same measurement, and the same
// tag keys and field names and types in the same order, naming every column) as a row, its
// values going straight into their columns: no ParsedLine, no SameShape. False, having changed
// nothing, for any other line, which the general path then parses. The checks are ParseLineFast's.
// REQUIRES: index.Build(line) returned true; the shape is the batch's, with all_columns and
// plain_names.
bool AddLikePrevious(std::string_view line, const LineProtocolOptions& o,
                     const StructuralIndex& index, BatchShape* shape_and_row, WriteBatch* batch) {
  const BatchShape& shape = *shape_and_row;
  FullRow* row = &shape_and_row->row;
  const size_t n = line.size();
  const char* p = line.data();
  size_t e = MeasurementEnd(line, index);
  if (e == 0 || !SameBytes(std::string_view(p, e), batch->table())) return false;
  // Locals rather than members in the loops: each store of a value may alias a member.
  const uint64_t* const marks = index.words();
  std::string_view* const tags = row->tags.data();
  uint64_t* const bits = row->bits.data();
  const std::string* const tag_keys = shape.tag_keys.data();
  const uint32_t* const tag_columns = shape.tag_columns.data();
  const size_t tag_count = shape.tag_keys.size();
  const size_t max_value = o.limits.max_key_bytes;
  for (size_t i = 0; i < tag_count; ++i) {
    if (p[e] != ',') return false;
    const size_t key = e + 1;
    e = key + tag_keys[i].size();  // the expected '='
    if (e >= n || p[e] != '=' || !SameBytes(std::string_view(p + key, e - key), tag_keys[i])) {
      return false;
    }
    const size_t value = e + 1;
    e = StructuralIndex::Next(marks, value);
    if (e == n || p[e] == '=' || e == value || e - value > max_value) return false;
    tags[tag_columns[i]] = std::string_view(p + value, e - value);
  }
  if (p[e] != ' ') return false;
  size_t pos = e + 1;
  while (pos < n && p[pos] == ' ') ++pos;
  const std::string* const field_keys = shape.field_keys.data();
  const FieldType* const field_types = shape.field_types.data();
  const uint32_t* const field_columns = shape.field_columns.data();
  const size_t field_count = shape.field_keys.size();
  ParsedField field;
  for (size_t i = 0; i < field_count; ++i) {
    if (i > 0) {
      if (pos == n || p[pos] != ',') return false;
      ++pos;
    }
    e = pos + field_keys[i].size();  // the expected '='
    field.key = std::string_view(p + pos, e - pos);
    if (e >= n || p[e] != '=' || !SameBytes(field.key, field_keys[i])) return false;
    pos = e + 1;
    if (!ParseValueFast(line, &pos, StructuralIndex::Next(marks, pos), &field) ||
        field.type != field_types[i]) {
      return false;
    }
    bits[field_columns[i]] = field.bits;  // no strings: a plain line has no quotes
  }
  if (pos < n && p[pos] == ',') return false;  // more fields than the previous line
  int64_t time;
  if (!ParseTimeFast(line, pos, o, &time)) return false;
  batch->AddFullRow(time, row->tags, row->bits, row->strings);
  return true;
}

Status AddToBatch(const ParsedLine& parsed, const LineProtocolOptions& o, WriteBatch* batch,
                  BatchShape* shape) {
  const bool same_shape = SameShape(parsed, *shape);
  if (same_shape && shape->all_columns) {  // the usual line names every column of its batch
    FullRow* row = &shape->row;
    for (size_t i = 0; i < parsed.tags.size(); ++i) {
      row->tags[shape->tag_columns[i]] = parsed.tags[i].second;
    }
    for (size_t i = 0; i < parsed.fields.size(); ++i) {
      const uint32_t column = shape->field_columns[i];
      row->bits[column] = parsed.fields[i].bits;
      row->strings[column] = parsed.fields[i].str;  // read for string columns only
    }
    batch->AddFullRow(parsed.time, row->tags, row->bits, row->strings);
    return Status::OK();
  }
  batch->AddRow(parsed.time);
  if (!same_shape) SW_RETURN_IF_ERROR(ResolveShape(parsed, o, batch, shape));
  for (size_t i = 0; i < parsed.tags.size(); ++i) {
    batch->SetTagAt(shape->tag_columns[i], parsed.tags[i].second);
  }
  for (size_t i = 0; i < parsed.fields.size(); ++i) {
    const ParsedField& f = parsed.fields[i];
    if (f.type == FieldType::kString) {
      batch->SetStringAt(shape->field_columns[i], f.str);
    } else {
      batch->SetFixedAt(shape->field_columns[i], f.bits);
    }
  }
  return Status::OK();
}

}  // namespace

Result<Precision> ParsePrecision(std::string_view text) {
  if (text.empty() || text == "ns" || text == "n") return Precision::kNanoseconds;
  if (text == "u" || text == "us" || text == "µ") return Precision::kMicroseconds;
  if (text == "ms") return Precision::kMilliseconds;
  if (text == "s") return Precision::kSeconds;
  if (text == "m") return Precision::kMinutes;
  if (text == "h") return Precision::kHours;
  return InvalidArgument("precision '{}': expected ns, us (u), ms, s, m or h", text);
}

std::vector<std::pair<size_t, std::string_view>> SplitLineProtocol(std::string_view body) {
  std::vector<std::pair<size_t, std::string_view>> lines;
  size_t number = 0;
  while (!body.empty()) {
    ++number;
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    // As ParseLineProtocol tells a point's line from a blank one or a comment, but the line
    // itself is kept whole: parsed alone it is read exactly as within the body.
    const std::string_view text = line.ends_with('\r') ? line.substr(0, line.size() - 1) : line;
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || text[first] == '#') continue;
    lines.emplace_back(number, line);
  }
  return lines;
}

IngestResult ParseLineProtocol(std::string_view body, const LineProtocolOptions& options) {
  IngestResult result;
  // Line protocol is UTF-8, and so are the JSON answers its names and strings end up in: one
  // pass over the body (SIMD), and line by line only when it fails.
  const bool valid_utf8 = simdjson::validate_utf8(body.data(), body.size());
  std::vector<BatchShape> shapes;  // parallel to result.batches
  std::unordered_map<std::string, size_t> batch_of;
  size_t last_batch = SIZE_MAX;  // consecutive lines usually share their measurement
  ParsedLine parsed;
  Arena arena;
  StructuralIndex index;
  size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const char* nl = static_cast<const char*>(std::memchr(body.data(), '\n', body.size()));
    std::string_view line = nl == nullptr ? body : body.substr(0, nl - body.data());
    body = nl == nullptr ? std::string_view() : body.substr(line.size() + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = 0;
    while (first < line.size() && (line[first] == ' ' || line[first] == '\t')) ++first;
    if (first == line.size() || line[first] == '#') continue;
    line.remove_prefix(first);
    if (!valid_utf8 && !simdjson::validate_utf8(line.data(), line.size())) {
      result.errors.push_back(IngestError{line_no, "the line is not valid UTF-8"});
      continue;
    }

    const bool plain =
        options.fast_path && line.size() <= options.limits.max_line_bytes && index.Build(line);
    if (plain && last_batch != SIZE_MAX && shapes[last_batch].all_columns &&
        shapes[last_batch].plain_names &&
        AddLikePrevious(line, options, index, &shapes[last_batch], &result.batches[last_batch])) {
      ++result.points;
      continue;
    }
    Status s = ParseLine(line, options, plain, index, &arena, &parsed);
    if (s.ok()) {
      bool new_batch = false;
      if (last_batch == SIZE_MAX ||
          !SameBytes(result.batches[last_batch].table(), parsed.measurement)) {
        auto [it, inserted] =
            batch_of.try_emplace(std::string(parsed.measurement), result.batches.size());
        if (inserted) {
          result.batches.emplace_back(options.tenant, options.database,
                                      std::string(parsed.measurement));
          shapes.emplace_back();
          new_batch = true;
        }
        last_batch = it->second;
      }
      WriteBatch& batch = result.batches[last_batch];
      s = AddToBatch(parsed, options, &batch, &shapes[last_batch]);
      if (!s.ok() && new_batch) {
        // A bad name, a name twice: the measurement appears with its first stored row.
        batch_of.erase(std::string(parsed.measurement));
        result.batches.pop_back();
        shapes.pop_back();
        last_batch = SIZE_MAX;
      } else if (!s.ok()) {
        batch.DropLastRow();  // or a type conflict with an earlier line of the body
      } else if (batch.rows() == 1 && result.batches.size() == 1) {
        // Bodies usually hold one measurement: size its columns for the lines left, guessed
        // from this one's length, rather than doubling them (each doubling copies, and touches
        // fresh pages). A body of many measurements over-reserves this first batch only.
        batch.Reserve(1 + body.size() / (line.size() + 1));
      }
    }
    if (s.ok()) {
      ++result.points;
    } else {
      result.errors.push_back(IngestError{line_no, std::string(s.message())});
    }
  }
  return result;
}

}  // namespace seaway
