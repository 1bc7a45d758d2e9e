// Timestamp codec: raw integers, or delta-of-deltas as integers or in variable-width buckets
// (src/storage/codec).
#include "storage/codec/timestamp_codec.h"

#include <numeric>
#include <vector>

#include "storage/codec/integer_codec.h"

namespace seaway::codec {
namespace {

// Bucket i of the delta-of-delta stream: a prefix of i one-bits closed by a zero (the last
// bucket needs no zero), then the zigzagged value in kBucketBits[i] bits.
constexpr int kBucketBits[] = {0, 8, 16, 32, 64};
constexpr int kBuckets = 5;

inline int BucketOf(uint64_t zz) {
  if (zz == 0) return 0;
  if (zz < (uint64_t{1} << 8)) return 1;
  if (zz < (uint64_t{1} << 16)) return 2;
  if (zz < (uint64_t{1} << 32)) return 3;
  return 4;
}
inline int PrefixBits(int bucket) { return bucket == kBuckets - 1 ? bucket : bucket + 1; }

struct DeltaOfDeltas {
  int64_t first = 0;
  int64_t first_delta = 0;
  uint64_t scale = 1;
  std::vector<int64_t> scaled;  // (delta[i] - delta[i-1]) / scale for i = 2..n-1
};

DeltaOfDeltas ComputeDeltaOfDeltas(std::span<const int64_t> values) {
  DeltaOfDeltas d;
  const size_t n = values.size();
  const auto* v = reinterpret_cast<const uint64_t*>(values.data());
  d.first = values[0];
  d.first_delta = static_cast<int64_t>(v[1] - v[0]);
  d.scaled.resize(n - 2);
  uint64_t gcd = 0;
  for (size_t i = 2; i < n; ++i) {
    const uint64_t dod = (v[i] - v[i - 1]) - (v[i - 1] - v[i - 2]);
    d.scaled[i - 2] = static_cast<int64_t>(dod);
    const uint64_t magnitude = static_cast<int64_t>(dod) < 0 ? 0 - dod : dod;
    gcd = std::gcd(gcd, magnitude);
  }
  // A scale above 2^62 only arises from INT64_MIN-sized jumps; not worth the edge cases.
  d.scale = (gcd == 0 || gcd > (uint64_t{1} << 62)) ? 1 : gcd;
  if (d.scale != 1) {
    const auto scale = static_cast<int64_t>(d.scale);
    for (int64_t& q : d.scaled) q /= scale;
  }
  return d;
}

size_t BucketStreamBytes(const std::vector<int64_t>& scaled) {
  size_t bits = 0;
  for (int64_t q : scaled) {
    const int bucket = BucketOf(ZigZagEncode(q));
    bits += static_cast<size_t>(PrefixBits(bucket) + kBucketBits[bucket]);
  }
  return (bits + 7) / 8;
}

void WriteBucketStream(const std::vector<int64_t>& scaled, std::string* out) {
  BitWriter writer(out);
  for (int64_t q : scaled) {
    const uint64_t zz = ZigZagEncode(q);
    const int bucket = BucketOf(zz);
    // `bucket` one-bits then a zero, LSB first: the low `bucket` bits set.
    writer.Write((uint64_t{1} << bucket) - 1, PrefixBits(bucket));
    writer.Write(zz, kBucketBits[bucket]);
  }
  writer.Finish();
}

size_t HeaderBytes(const DeltaOfDeltas& d) {
  return VarintLength(ZigZagEncode(d.first)) + VarintLength(ZigZagEncode(d.first_delta)) +
         VarintLength(d.scale);
}

Status ReadVarintField(ByteReader* in, const char* what, uint64_t* v) {
  const size_t at = in->position();
  if (!in->ReadVarint64(v)) return Corruption("truncated or malformed {} at byte {}", what, at);
  return Status::OK();
}

// Rebuilds values from out[0], out[1] and the scaled delta-of-deltas held in out[2..count).
void IntegrateDeltaOfDeltas(uint64_t scale, size_t count, int64_t* out) {
  auto* v = reinterpret_cast<uint64_t*>(out);
  uint64_t delta = v[1] - v[0];
  for (size_t i = 2; i < count; ++i) {
    delta += v[i] * scale;
    v[i] = v[i - 1] + delta;
  }
}

Status DecodeBucketStream(ByteReader* in, size_t count, int64_t* out) {
  const size_t at = in->position();
  BitReader bits(in->current(), in->remaining());
  for (size_t i = 2; i < count; ++i) {
    int bucket = 0;
    while (bucket < kBuckets - 1 && bits.ReadBit()) ++bucket;
    out[i] = ZigZagDecode(bits.Read(kBucketBits[bucket]));
    if (bits.overrun()) {
      return Corruption("truncated delta-of-delta stream at value {} (stream starts at byte {})", i,
                        at);
    }
  }
  if (!in->Skip((bits.bits_consumed() + 7) / 8)) {
    return Internal("bucket stream overran its input");
  }
  return Status::OK();
}

}  // namespace

void EncodeTimestampPayload(std::span<const int64_t> values, std::string* out) {
  const size_t n = values.size();
  const size_t raw_size = EncodedInt64sSize(values);
  if (n < 3) {
    out->push_back(static_cast<char>(TimestampScheme::kIntegers));
    EncodeInt64s(values, out);
    return;
  }
  const DeltaOfDeltas d = ComputeDeltaOfDeltas(values);
  const size_t dod_integers_size = HeaderBytes(d) + EncodedInt64sSize(d.scaled);
  const size_t dod_buckets_size = HeaderBytes(d) + BucketStreamBytes(d.scaled);
  if (raw_size <= dod_integers_size && raw_size <= dod_buckets_size) {
    out->push_back(static_cast<char>(TimestampScheme::kIntegers));
    EncodeInt64s(values, out);
    return;
  }
  const bool buckets = dod_buckets_size < dod_integers_size;
  out->push_back(
      static_cast<char>(buckets ? TimestampScheme::kDodBuckets : TimestampScheme::kDodIntegers));
  PutVarint64(out, ZigZagEncode(d.first));
  PutVarint64(out, ZigZagEncode(d.first_delta));
  PutVarint64(out, d.scale);
  if (buckets) {
    WriteBucketStream(d.scaled, out);
  } else {
    EncodeInt64s(d.scaled, out);
  }
}

Status DecodeTimestampPayload(ByteReader* in, size_t count, int64_t* out) {
  const size_t at = in->position();
  uint8_t scheme;
  if (!in->ReadByte(&scheme)) return Corruption("missing timestamp scheme at byte {}", at);
  if (scheme == static_cast<uint8_t>(TimestampScheme::kIntegers)) {
    return DecodeInt64s(in, count, out);
  }
  if (scheme != static_cast<uint8_t>(TimestampScheme::kDodIntegers) &&
      scheme != static_cast<uint8_t>(TimestampScheme::kDodBuckets)) {
    return Corruption("unknown timestamp scheme {} at byte {}", scheme, at);
  }
  if (count < 3) {
    return Corruption("delta-of-delta scheme at byte {} needs at least 3 values, not {}", at,
                      count);
  }
  uint64_t first, first_delta, scale;
  SW_RETURN_IF_ERROR(ReadVarintField(in, "first timestamp", &first));
  SW_RETURN_IF_ERROR(ReadVarintField(in, "first delta", &first_delta));
  const size_t scale_at = in->position();
  SW_RETURN_IF_ERROR(ReadVarintField(in, "delta-of-delta scale", &scale));
  if (scale == 0) return Corruption("delta-of-delta scale 0 at byte {}", scale_at);
  out[0] = ZigZagDecode(first);
  out[1] = static_cast<int64_t>(static_cast<uint64_t>(out[0]) +
                                static_cast<uint64_t>(ZigZagDecode(first_delta)));
  if (scheme == static_cast<uint8_t>(TimestampScheme::kDodIntegers)) {
    SW_RETURN_IF_ERROR(DecodeInt64s(in, count - 2, out + 2));
  } else {
    SW_RETURN_IF_ERROR(DecodeBucketStream(in, count, out));
  }
  IntegrateDeltaOfDeltas(scale, count, out);
  return Status::OK();
}

}  // namespace seaway::codec
