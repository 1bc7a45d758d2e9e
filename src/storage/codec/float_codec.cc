// Float codec: ALP (decimal digits through the integer codec, plus exceptions), Gorilla-style
// XOR, or plain (src/storage/codec).
#include "storage/codec/float_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "storage/codec/integer_codec.h"

namespace seaway::codec {
namespace {

constexpr int kMaxExponent = 18;
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                             1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
constexpr double kInvPow10[] = {1e-0,  1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,  1e-8, 1e-9,
                                1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18};

// Digits live in [-2^51, 2^51): there the "magic number" conversions below are exact, and they
// vectorise where a plain int64 -> double conversion does not (SSE2 has none).
constexpr double kMagic = 6755399441055744.0;  // 2^52 + 2^51
constexpr uint64_t kMagicBits = 0x4338000000000000;
constexpr double kDigitLimit = 2251799813685248.0;  // 2^51

// Exception: 2-byte position + 8 raw bytes.
constexpr size_t kExceptionBytes = 10;
// The high bit of the exponent byte selects division (exact for all short decimals) over
// multiplication by 10^-e (faster to decode, exact for most).
constexpr uint8_t kDivideFlag = 0x80;

struct AlpParams {
  int e = 0;
  int f = 0;
  bool divide = false;
};

inline double AlpDecodeOne(int64_t digit, const AlpParams& p) {
  const double x = static_cast<double>(digit) * kPow10[p.f];
  return p.divide ? x / kPow10[p.e] : x * kInvPow10[p.e];
}

// The digit of `v`, if v round-trips through it exactly (bit for bit).
inline bool AlpEncodeOne(double v, const AlpParams& p, int64_t* digit) {
  const double scaled = v * kPow10[p.e] * kInvPow10[p.f];
  if (!(std::fabs(scaled) < kDigitLimit)) return false;  // also rejects NaN
  const double rounded = (scaled + kMagic) - kMagic;
  *digit = static_cast<int64_t>(rounded);
  return std::bit_cast<uint64_t>(AlpDecodeOne(*digit, p)) == std::bit_cast<uint64_t>(v);
}

// Picks (e, f, mode) on a sample: fewest estimated bits, where an exception costs 80 bits and
// every value the frame-of-reference width of the sample's digits.
AlpParams ChooseAlpParams(std::span<const double> values, size_t* sample_exceptions) {
  constexpr size_t kSample = 64;
  double sample[kSample];
  const size_t n = std::min(values.size(), kSample);
  for (size_t i = 0; i < n; ++i) sample[i] = values[i * values.size() / n];

  AlpParams best;
  size_t best_cost = SIZE_MAX;
  *sample_exceptions = n;
  for (bool divide : {false, true}) {
    for (int e = 0; e <= kMaxExponent; ++e) {
      for (int f = 0; f <= e; ++f) {
        const AlpParams p{e, f, divide};
        size_t exceptions = 0;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t i = 0; i < n; ++i) {
          int64_t d;
          if (AlpEncodeOne(sample[i], p, &d)) {
            lo = std::min(lo, d);
            hi = std::max(hi, d);
          } else {
            ++exceptions;
          }
        }
        const int width = lo > hi ? 0 : BitWidth(static_cast<uint64_t>(hi) - lo);
        const size_t cost = exceptions * kExceptionBytes * 8 + (n - exceptions) * width;
        if (cost < best_cost) {
          best_cost = cost;
          best = p;
          *sample_exceptions = exceptions;
        }
      }
    }
  }
  return best;
}

// Appends the ALP payload (after the scheme byte). Returns false, appending nothing, when ALP
// cannot win: most of the sample are exceptions.
bool EncodeAlp(std::span<const double> values, std::string* out) {
  size_t sample_exceptions;
  const AlpParams p = ChooseAlpParams(values, &sample_exceptions);
  if (sample_exceptions * 2 > std::min<size_t>(values.size(), 64)) return false;

  const size_t n = values.size();
  std::vector<int64_t> digits(n);
  std::vector<uint16_t> positions;
  int64_t first_good = 0;
  bool have_good = false;
  for (size_t i = 0; i < n; ++i) {
    if (AlpEncodeOne(values[i], p, &digits[i])) {
      if (!have_good) first_good = digits[i];
      have_good = true;
    } else {
      positions.push_back(static_cast<uint16_t>(i));
    }
  }
  // Exceptions take the neighbouring digit, so they cost nothing in the frame or the deltas.
  for (uint16_t pos : positions) digits[pos] = pos == 0 ? first_good : digits[pos - 1];

  out->push_back(static_cast<char>(p.e | (p.divide ? kDivideFlag : 0)));
  out->push_back(static_cast<char>(p.f));
  EncodeInt64s(digits, out);
  PutVarint64(out, positions.size());
  for (uint16_t pos : positions) {
    out->push_back(static_cast<char>(pos & 0xff));
    out->push_back(static_cast<char>(pos >> 8));
  }
  for (uint16_t pos : positions) PutFixed64(out, std::bit_cast<uint64_t>(values[pos]));
  return true;
}

// The XOR stream: the first value's 64 bits, then per value
//   '0'                       same as the previous value
//   '1','0' + len bits        XOR fits the current window (leading zeros, length)
//   '1','1' + 6 bits leading zeros + 6 bits (length - 1) + length bits: a new window
void EncodeXor(std::span<const double> values, std::string* out) {
  BitWriter writer(out);
  uint64_t prev = std::bit_cast<uint64_t>(values[0]);
  writer.Write(prev, 64);
  int window_lead = -1, window_len = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    const uint64_t bits = std::bit_cast<uint64_t>(values[i]);
    const uint64_t x = bits ^ prev;
    prev = bits;
    if (x == 0) {
      writer.Write(0, 1);
      continue;
    }
    const int lead = std::countl_zero(x);
    const int trail = std::countr_zero(x);
    const int len = 64 - lead - trail;
    const int window_trail = 64 - window_lead - window_len;
    // Reuse the window when the value fits and the waste is below a new window's 12 bits.
    if (window_lead >= 0 && lead >= window_lead && trail >= window_trail &&
        window_len - len <= 12) {
      writer.Write(0b01, 2);
      writer.Write(x >> window_trail, window_len);
    } else {
      writer.Write(0b11, 2);
      writer.Write(static_cast<uint64_t>(lead), 6);
      writer.Write(static_cast<uint64_t>(len - 1), 6);
      writer.Write(x >> trail, len);
      window_lead = lead;
      window_len = len;
    }
  }
  writer.Finish();
}

Status DecodeXor(ByteReader* in, size_t count, double* out) {
  const size_t at = in->position();
  BitReader bits(in->current(), in->remaining());
  uint64_t prev = bits.Read(64);
  out[0] = std::bit_cast<double>(prev);
  int window_lead = -1, window_len = 0;
  for (size_t i = 1; i < count; ++i) {
    if (bits.ReadBit()) {
      if (bits.ReadBit()) {
        window_lead = static_cast<int>(bits.Read(6));
        window_len = static_cast<int>(bits.Read(6)) + 1;
        if (window_lead + window_len > 64) {
          return Corruption("XOR value {}: leading zeros {} + length {} exceed 64 bits", i,
                            window_lead, window_len);
        }
      } else if (window_lead < 0) {
        return Corruption("XOR value {} reuses a window before any was set", i);
      }
      prev ^= bits.Read(window_len) << (64 - window_lead - window_len);
    }
    out[i] = std::bit_cast<double>(prev);
    if (bits.overrun()) break;
  }
  if (bits.overrun()) {
    return Corruption("truncated XOR stream (starting at byte {}) after {} bits", at,
                      bits.bits_consumed());
  }
  in->Skip((bits.bits_consumed() + 7) / 8);
  return Status::OK();
}

// Digits to doubles: a branch-free loop the compiler vectorises. `bad` collects digits outside
// [-2^51, 2^51), which no encoder writes.
template <bool kDivide>
uint64_t DigitsToDoubles(const int64_t* digits, size_t count, const AlpParams& p, double* out) {
  const double factor = kPow10[p.f];
  const double exponent = kDivide ? kPow10[p.e] : kInvPow10[p.e];
  uint64_t bad = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t biased = static_cast<uint64_t>(digits[i]) + (uint64_t{1} << 51);
    bad |= biased;
    const double x = std::bit_cast<double>(biased + (kMagicBits - (uint64_t{1} << 51))) - kMagic;
    out[i] = kDivide ? x * factor / exponent : x * factor * exponent;
  }
  return bad >> 52;
}

struct AlpSinkContext {
  AlpParams params;
  double* out;
  uint64_t bad = 0;
};

// Receives digits from the integer decoder chunk by chunk, while they are in L1.
template <bool kDivide>
void AlpSink(void* context, const int64_t* digits, size_t offset, size_t n) {
  auto* c = static_cast<AlpSinkContext*>(context);
  c->bad |= DigitsToDoubles<kDivide>(digits, n, c->params, c->out + offset);
}

Status DecodeAlp(ByteReader* in, size_t count, double* out) {
  const size_t at = in->position();
  uint8_t e_byte, f_byte;
  if (!in->ReadByte(&e_byte) || !in->ReadByte(&f_byte)) {
    return Corruption("truncated ALP parameters at byte {}", at);
  }
  const AlpParams p{e_byte & ~kDivideFlag, f_byte, (e_byte & kDivideFlag) != 0};
  if (p.e > kMaxExponent) {
    return Corruption("ALP exponent {} at byte {} exceeds {}", p.e, at, kMaxExponent);
  }
  if (p.f > p.e) {
    return Corruption("ALP factor {} at byte {} exceeds exponent {}", p.f, at + 1, p.e);
  }

  AlpSinkContext context{.params = p, .out = out};
  SW_RETURN_IF_ERROR(
      DecodeInt64Chunks(in, count, p.divide ? AlpSink<true> : AlpSink<false>, &context)
          .WithContext("ALP digits"));
  if (context.bad != 0) {
    return Corruption("ALP digits at byte {} fall outside [-2^51, 2^51)", at + 2);
  }

  const size_t exceptions_at = in->position();
  uint64_t exceptions;
  if (!in->ReadVarint64(&exceptions)) {
    return Corruption("truncated exception count at byte {}", exceptions_at);
  }
  if (exceptions > count) {
    return Corruption("{} exceptions declared at byte {} for {} values", exceptions, exceptions_at,
                      count);
  }
  const uint8_t* positions = in->current();
  if (in->remaining() < exceptions * kExceptionBytes) {
    return Corruption("truncated exception list at byte {}: need {} bytes, {} remain",
                      in->position(), exceptions * kExceptionBytes, in->remaining());
  }
  const uint8_t* raw = positions + 2 * exceptions;
  size_t previous = 0;
  for (size_t k = 0; k < exceptions; ++k) {
    const size_t pos = positions[2 * k] | (size_t{positions[2 * k + 1]} << 8);
    if (pos >= count || (k > 0 && pos <= previous)) {
      return Corruption("exception {} at byte {}: position {} is out of order or beyond {} values",
                        k, in->position() + 2 * k, pos, count);
    }
    previous = pos;
    out[pos] = std::bit_cast<double>(LoadLE64(raw + 8 * k));
  }
  in->Skip(exceptions * kExceptionBytes);
  return Status::OK();
}

}  // namespace

void EncodeDoublePayload(std::span<const double> values, std::string* out) {
  const size_t n = values.size();
  const size_t plain_size = 1 + 8 * n;
  if (n == 0) {
    out->push_back(static_cast<char>(FloatScheme::kPlain));
    return;
  }
  std::string alp(1, static_cast<char>(FloatScheme::kAlp));
  if (!EncodeAlp(values, &alp)) alp.clear();
  // At two bytes a value or less ALP has won: XOR needs at least a control bit per value plus
  // the changed mantissa bits, which decimal data always has. Skipping the trial halves the
  // encode cost of typical sensor columns (flushes run beside ingest).
  if (!alp.empty() && alp.size() <= 2 * n + 16) {
    out->append(alp);
    return;
  }
  std::string xor_stream(1, static_cast<char>(FloatScheme::kXor));
  EncodeXor(values, &xor_stream);

  const std::string* best = &xor_stream;
  if (!alp.empty() && alp.size() <= xor_stream.size()) best = &alp;
  if (best->size() < plain_size) {
    out->append(*best);
    return;
  }
  out->push_back(static_cast<char>(FloatScheme::kPlain));
  out->append(reinterpret_cast<const char*>(values.data()), n * sizeof(double));
}

Status DecodeDoublePayload(ByteReader* in, size_t count, double* out) {
  const size_t at = in->position();
  uint8_t scheme;
  if (!in->ReadByte(&scheme)) return Corruption("missing float scheme at byte {}", at);
  switch (static_cast<FloatScheme>(scheme)) {
    case FloatScheme::kPlain: {
      std::string_view bytes;
      if (!in->ReadBytes(count * 8, &bytes)) {
        return Corruption("truncated plain doubles at byte {}: need {} bytes, {} remain", at + 1,
                          count * 8, in->remaining());
      }
      if (count != 0) std::memcpy(out, bytes.data(), bytes.size());
      return Status::OK();
    }
    case FloatScheme::kAlp: return DecodeAlp(in, count, out);
    case FloatScheme::kXor:
      if (count == 0) return Corruption("XOR scheme at byte {} with no values", at);
      return DecodeXor(in, count, out);
  }
  return Corruption("unknown float scheme {} at byte {}", scheme, at);
}

}  // namespace seaway::codec
