// Line protocol parser (src/ingest).
//
// Speed matters here (issue #4: <= 150 ns per industrial line), so the parser works on views of
// the body. A plain line (no escapes, strings or control characters) takes ParseLineFast: one
// SSE2 pass marks its commas, spaces and equals signs, and tokens are the gaps between marks.
// Any other line, and any line the fast path doubts, goes through ParseLine's byte-by-byte
// grammar, which owns every error message; tokens with escapes are unescaped into a per-line
// arena that never reallocates. Plain decimals and integers take an exact fast path on both.
// Rows that repeat their batch's previous tags and fields are written by column index.
#include "ingest/line_protocol.h"

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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
  T& emplace_back() {
    if (size_ == items_.size()) items_.emplace_back();
    T& item = items_[size_++];
    item = T{};
    return item;
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

Result<int64_t> ScaleTime(int64_t t, Precision precision) {
  int64_t factor = 1;
  switch (precision) {
    case Precision::kNanoseconds: return t;
    case Precision::kMicroseconds: factor = 1'000; break;
    case Precision::kMilliseconds: factor = 1'000'000; break;
    case Precision::kSeconds: factor = 1'000'000'000; break;
  }
  int64_t out;
  if (__builtin_mul_overflow(t, factor, &out)) {
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
    const size_t n = line.size();
    words_.assign(n / 64 + 1, 0);
    const char* p = line.data();
    size_t i = 0;
    uint64_t special = 0;
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(',');
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i equals = _mm_set1_epi8('=');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i below_space = _mm_set1_epi8(0x1f);
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const __m128i structural =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, space)),
                       _mm_cmpeq_epi8(v, equals));
      const __m128i control =
          _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, below_space), v), _mm_cmpeq_epi8(v, del));
      const __m128i odd = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, quote)), control);
      words_[i / 64] |= static_cast<uint64_t>(_mm_movemask_epi8(structural)) << (i % 64);
      special |= static_cast<uint64_t>(_mm_movemask_epi8(odd));
    }
#endif
    for (; i < n; ++i) {
      const uint8_t cls = kClass[static_cast<uint8_t>(p[i])];
      if (cls & (kComma | kSpace | kEquals)) words_[i / 64] |= uint64_t{1} << (i % 64);
      special |= (cls & (kBackslash | kControl)) | (p[i] == '"');
    }
    words_.back() |= uint64_t{1} << (n % 64);  // a sentinel mark at the end of the line
    return special == 0;
  }

  // The first mark at or after `pos` (the line's size when none is left).
  size_t Next(size_t pos) const {
    size_t w = pos / 64;
    uint64_t word = words_[w] & (~uint64_t{0} << (pos % 64));
    while (word == 0) word = words_[++w];
    return w * 64 + static_cast<size_t>(std::countr_zero(word));
  }

 private:
  std::vector<uint64_t> words_;
};

bool ParseLineFast(std::string_view line, const LineProtocolOptions& o, StructuralIndex* index,
                   ParsedLine* out) {
  if (!index->Build(line)) return false;
  const size_t n = line.size();
  size_t e = index->Next(0);
  if (e == 0 || e == n || line[e] == '=' || e > kMaxNameBytes) return false;
  out->measurement = line.substr(0, e);
  out->tags.clear();
  while (line[e] == ',') {
    const size_t key = e + 1;
    e = index->Next(key);
    if (e == n || line[e] != '=') return false;
    const size_t value = e + 1;
    const std::string_view k = line.substr(key, e - key);
    e = index->Next(value);
    if (e == n) return false;  // a line of tags only
    const std::string_view v = line.substr(value, e - value);
    if (line[e] == '=' || KeyNeedsCheck(k, false, o) || v.empty() ||
        v.size() > o.limits.max_key_bytes || out->tags.size() == o.limits.max_tags) {
      return false;
    }
    out->tags.emplace_back(k, v);
  }
  if (line[e] != ' ') return false;
  size_t pos = e + 1;
  while (pos < n && line[pos] == ' ') ++pos;
  out->fields.clear();
  while (true) {
    e = index->Next(pos);
    if (e == n || line[e] != '=' || out->fields.size() == o.limits.max_fields) return false;
    ParsedField& field = out->fields.emplace_back();
    field.key = line.substr(pos, e - pos);
    if (KeyNeedsCheck(field.key, false, o)) return false;
    pos = e + 1;
    if (!ParsePlainNumber(line, &pos, &field)) {
      e = index->Next(pos);
      if (e < n && line[e] == '=') return false;
      if (!ParseFieldValue(line.substr(pos, e - pos), field.key, &field).ok()) return false;
      pos = e;
    }
    if (pos == n || line[pos] != ',') break;
    ++pos;
  }
  while (pos < n && line[pos] == ' ') ++pos;
  if (pos == n) {
    out->time = o.default_time_ns;
    return true;
  }
  size_t end = n;
  while (line[end - 1] == ' ') --end;
  // Up to 19 digits fit a uint64 without overflow; the range check comes after.
  const bool negative = line[pos] == '-';
  pos += negative;
  if (pos == end || end - pos > 19) return false;
  uint64_t magnitude = 0;
  for (; end - pos > 8 && (end - pos) % 8 != 0; ++pos) {  // leading digits: 8k remain after
    const unsigned digit = static_cast<unsigned>(line[pos] - '0');
    if (digit > 9) return false;
    magnitude = magnitude * 10 + digit;
  }
  for (; end - pos >= 8; pos += 8) {
    uint32_t eight;
    if (!ParseEightDigits(line.data() + pos, &eight)) return false;
    magnitude = magnitude * 100'000'000 + eight;
  }
  for (; pos < end; ++pos) {
    const unsigned digit = static_cast<unsigned>(line[pos] - '0');
    if (digit > 9) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  const int64_t t = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  Result<int64_t> scaled = ScaleTime(t, o.precision);
  if (!scaled.ok()) return false;
  out->time = *scaled;
  return true;
}

Status ParseLine(std::string_view line, const LineProtocolOptions& o, StructuralIndex* index,
                 Arena* arena, ParsedLine* out) {
  if (line.size() > o.limits.max_line_bytes) {
    return InvalidArgument("line is {} bytes, over the limit of {}", line.size(),
                           o.limits.max_line_bytes);
  }
  if (o.fast_path && ParseLineFast(line, o, index, out)) return Status::OK();
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

// The columns the previous line of a batch used, in that line's order. Lines of one batch
// usually name the same tags and fields in the same order: then the names are matched once per
// line against the expected column, duplicates are impossible (the previous line had none), and
// values go straight into their columns.
struct BatchShape {
  std::vector<uint32_t> tag_columns;
  std::vector<uint32_t> field_columns;
};

bool SameShape(const ParsedLine& parsed, const WriteBatch& batch, const BatchShape& shape) {
  if (parsed.tags.size() != shape.tag_columns.size() ||
      parsed.fields.size() != shape.field_columns.size()) {
    return false;
  }
  for (size_t i = 0; i < parsed.tags.size(); ++i) {
    if (!SameBytes(batch.tag_keys()[shape.tag_columns[i]], parsed.tags[i].first)) return false;
  }
  for (size_t i = 0; i < parsed.fields.size(); ++i) {
    const FieldColumn& column = batch.fields()[shape.field_columns[i]];
    if (column.type != parsed.fields[i].type || !SameBytes(column.name, parsed.fields[i].key)) {
      return false;
    }
  }
  return true;
}

// Resolves the line's names to columns of `batch` (adding new ones) into `shape`.
Status ResolveShape(const ParsedLine& parsed, WriteBatch* batch, BatchShape* shape) {
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
    resolved.tag_columns.push_back(static_cast<uint32_t>(batch->TagColumn(key)));
  }
  for (const auto& f : parsed.fields) {
    SW_ASSIGN_OR_RETURN(size_t column, batch->FieldColumnIndex(f.key, f.type));
    resolved.field_columns.push_back(static_cast<uint32_t>(column));
  }
  *shape = std::move(resolved);
  return Status::OK();
}

Status AddToBatch(const ParsedLine& parsed, WriteBatch* batch, BatchShape* shape) {
  batch->AddRow(parsed.time);
  if (!SameShape(parsed, *batch, *shape)) SW_RETURN_IF_ERROR(ResolveShape(parsed, batch, shape));
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
  return InvalidArgument("precision '{}': expected ns, u, ms or s", text);
}

IngestResult ParseLineProtocol(std::string_view body, const LineProtocolOptions& options) {
  IngestResult result;
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

    Status s = ParseLine(line, options, &index, &arena, &parsed);
    if (s.ok()) {
      if (last_batch == SIZE_MAX ||
          !SameBytes(result.batches[last_batch].table(), parsed.measurement)) {
        auto [it, inserted] =
            batch_of.try_emplace(std::string(parsed.measurement), result.batches.size());
        if (inserted) {
          result.batches.emplace_back(options.tenant, options.database,
                                      std::string(parsed.measurement));
          shapes.emplace_back();
        }
        last_batch = it->second;
      }
      WriteBatch& batch = result.batches[last_batch];
      s = AddToBatch(parsed, &batch, &shapes[last_batch]);
      if (!s.ok()) batch.DropLastRow();  // a type conflict with an earlier line of the body
    }
    if (s.ok()) {
      ++result.points;
    } else {
      result.errors.push_back(IngestError{line_no, std::string(s.message())});
    }
  }
  // A measurement whose every line failed leaves an empty batch behind: drop it.
  std::erase_if(result.batches, [](const WriteBatch& b) { return b.rows() == 0; });
  return result;
}

}  // namespace seaway
