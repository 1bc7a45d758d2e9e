// Round trips through every column codec (src/storage/codec/column_codec.h): edge values, empty
// and single-value blocks, full 65,536-value blocks, random data; with and without the
// general-purpose compression pass.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "codec_test_data.h"
#include "storage/codec/column_codec.h"

namespace seaway::codec {
namespace {

using namespace seaway::codec::testing;  // NOLINT(google-build-using-namespace): test data

constexpr EncodeOptions kNoCompression{.general_compression = false};

template <typename T, typename Encode, typename Decode>
void ExpectRoundTrip(const std::vector<T>& values, Encode encode, Decode decode) {
  for (const EncodeOptions& options : {EncodeOptions{}, kNoCompression}) {
    std::string block;
    ASSERT_TRUE(encode(values, &block, options).ok());
    std::vector<T> decoded;
    const Status status = decode(block, &decoded);
    ASSERT_TRUE(status.ok()) << status;
    if constexpr (std::is_same_v<T, double>) {
      ASSERT_EQ(decoded.size(), values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        ASSERT_EQ(std::bit_cast<uint64_t>(decoded[i]), std::bit_cast<uint64_t>(values[i]))
            << "value " << i << ": " << values[i] << " decoded as " << decoded[i];
      }
    } else {
      ASSERT_EQ(decoded, values);
    }
  }
}

void ExpectTimestamps(const std::vector<int64_t>& v) {
  ExpectRoundTrip(v, EncodeTimestampBlock, DecodeTimestampBlock);
}
void ExpectInt64s(const std::vector<int64_t>& v) {
  ExpectRoundTrip(v, EncodeInt64Block, DecodeInt64Block);
}
void ExpectUInt64s(const std::vector<uint64_t>& v) {
  ExpectRoundTrip(v, EncodeUInt64Block, DecodeUInt64Block);
}
void ExpectDoubles(const std::vector<double>& v) {
  ExpectRoundTrip(v, EncodeDoubleBlock, DecodeDoubleBlock);
}
void ExpectBools(const std::vector<uint8_t>& v) {
  ExpectRoundTrip(v, EncodeBoolBlock, DecodeBoolBlock);
}
void ExpectStrings(const std::vector<std::string>& v) {
  ExpectRoundTrip(
      v,
      [](const std::vector<std::string>& values, std::string* out, const EncodeOptions& o) {
        return EncodeStringBlock(Views(values), out, o);
      },
      DecodeStringBlock);
}

constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

TEST(IntegerRoundTripTest, EdgeCases) {
  ExpectInt64s({});
  ExpectInt64s({42});
  ExpectInt64s({kMin64});
  ExpectInt64s({kMin64, kMax64});
  ExpectInt64s({kMax64, kMin64, 0, -1, 1, kMax64, kMax64, kMin64});
  ExpectInt64s(std::vector<int64_t>(kMaxBlockValues, -7));
  ExpectInt64s(std::vector<int64_t>(kMaxBlockValues, kMin64));
  ExpectUInt64s({});
  ExpectUInt64s({kMaxU64});
  ExpectUInt64s({0, kMaxU64, 1, kMaxU64 - 1});
  ExpectUInt64s(std::vector<uint64_t>(1000, kMaxU64));
}

TEST(IntegerRoundTripTest, RandomShapes) {
  std::mt19937_64 rng(3);
  for (size_t n : {size_t{2}, size_t{3}, size_t{127}, size_t{128}, size_t{129}, kMaxBlockValues}) {
    std::vector<int64_t> any(n), small(n), runs(n);
    std::vector<uint64_t> high(n);
    for (size_t i = 0; i < n; ++i) {
      any[i] = static_cast<int64_t>(rng());
      small[i] = static_cast<int64_t>(rng() % 1000) - 500;
      runs[i] = static_cast<int64_t>(i / 100 % 3);
      high[i] = kMaxU64 - rng() % 1000;  // above 2^63: a signed frame would be 64 bits wide
    }
    ExpectInt64s(any);
    ExpectInt64s(small);
    ExpectInt64s(runs);
    ExpectInt64s(Counter(n, n));
    ExpectUInt64s(high);
    std::vector<uint64_t> decreasing(n);
    for (size_t i = 0; i < n; ++i) decreasing[i] = kMaxU64 - 3 * i;
    ExpectUInt64s(decreasing);
  }
}

TEST(TimestampRoundTripTest, Shapes) {
  ExpectTimestamps({});
  ExpectTimestamps({kStart});
  ExpectTimestamps({kStart, kStart + 1});
  ExpectTimestamps({kStart, kStart + 10, kStart + 5});
  ExpectTimestamps(RegularTimestamps(kMaxBlockValues));
  ExpectTimestamps(JitteredTimestamps(kMaxBlockValues, 5'000'000, 1));
  ExpectTimestamps(JitteredTimestamps(1000, 1, 2));
  // Gaps.
  std::vector<int64_t> gaps = RegularTimestamps(10000);
  for (size_t i = 5000; i < gaps.size(); ++i) gaps[i] += 3600 * kSecond;
  ExpectTimestamps(gaps);
  // Out of order within a batch.
  std::vector<int64_t> shuffled = RegularTimestamps(5000);
  std::mt19937_64 rng(5);
  for (size_t i = 0; i + 8 < shuffled.size(); i += 8) {
    std::shuffle(shuffled.begin() + static_cast<std::ptrdiff_t>(i),
                 shuffled.begin() + static_cast<std::ptrdiff_t>(i + 8), rng);
  }
  ExpectTimestamps(shuffled);
  // Fully random, extremes and wrap-around deltas.
  std::vector<int64_t> random(4096);
  for (int64_t& t : random) t = static_cast<int64_t>(rng());
  ExpectTimestamps(random);
  ExpectTimestamps({kMin64, kMax64, kMin64, kMax64, 0, kMin64});
  ExpectTimestamps({0, kMin64, 0, kMin64, 0});
  // Millisecond-precision timestamps: delta-of-deltas share a large common divisor.
  std::vector<int64_t> millis = RegularTimestamps(3000, kSecond);
  for (size_t i = 0; i < millis.size(); ++i) millis[i] += static_cast<int64_t>(rng() % 7) * 1000000;
  ExpectTimestamps(millis);
}

TEST(DoubleRoundTripTest, SpecialValuesAreBitExact) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const double payload_nan = std::bit_cast<double>(uint64_t{0x7ff0000000000abc});  // signalling
  const double negative_nan = std::bit_cast<double>(uint64_t{0xfff8000000000001});
  const std::vector<double> specials = {
      0.0,          -0.0,      nan,      payload_nan,
      negative_nan, inf,       -inf,     DBL_MAX,
      -DBL_MAX,     DBL_MIN,   -DBL_MIN, std::numeric_limits<double>::denorm_min(),
      4.9e-320,     -2.2e-310, 1e300,    1e-300};
  ExpectDoubles({});
  ExpectDoubles({-0.0});
  ExpectDoubles({nan});
  ExpectDoubles(specials);
  // Specials sprinkled into decimal data: ALP exceptions.
  std::vector<double> mixed = DecimalWalk(20000, 2, 20, 90, 1);
  for (size_t i = 0; i < mixed.size(); i += 997) mixed[i] = specials[i % specials.size()];
  ExpectDoubles(mixed);
  // An exception at position 0 and at the last position.
  std::vector<double> ends = DecimalWalk(1000, 1, 0, 100, 2);
  ends.front() = -0.0;
  ends.back() = nan;
  ExpectDoubles(ends);
}

TEST(DoubleRoundTripTest, Shapes) {
  ExpectDoubles({21.5});
  ExpectDoubles(std::vector<double>(kMaxBlockValues, 3.25));
  ExpectDoubles(DecimalWalk(kMaxBlockValues, 2, 20, 90, 3));
  ExpectDoubles(DecimalWalk(kMaxBlockValues, 3, 1, 10, 4));
  ExpectDoubles(DecimalWalk(5000, 0, -1e6, 1e6, 5));
  ExpectDoubles(DecimalWalk(5000, 6, -1, 1, 6));
  ExpectDoubles(RandomDoubles(kMaxBlockValues, 7));
  std::mt19937_64 rng(8);
  std::vector<double> any_bits(10000);
  for (double& d : any_bits) d = std::bit_cast<double>(rng());
  ExpectDoubles(any_bits);
  std::vector<double> big_integers(3000);
  for (size_t i = 0; i < big_integers.size(); ++i) big_integers[i] = 1e17 + 16.0 * i;
  ExpectDoubles(big_integers);
}

TEST(BoolRoundTripTest, Shapes) {
  ExpectBools({});
  ExpectBools({1});
  ExpectBools({0});
  ExpectBools(std::vector<uint8_t>(kMaxBlockValues, 1));
  std::vector<uint8_t> alternating(1001), runs(kMaxBlockValues), sparse(kMaxBlockValues);
  std::mt19937_64 rng(9);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = i % 2;
  for (size_t i = 0; i < runs.size(); ++i) runs[i] = (i / 5000) % 2;
  for (uint8_t& b : sparse) b = rng() % 1000 == 0;
  ExpectBools(alternating);
  ExpectBools(runs);
  ExpectBools(sparse);
}

TEST(BoolRoundTripTest, NonzeroBytesAreTrue) {
  std::string block;
  const std::vector<uint8_t> input = {0, 2, 255, 0, 1};
  ASSERT_TRUE(EncodeBoolBlock(input, &block).ok());
  std::vector<uint8_t> decoded;
  ASSERT_TRUE(DecodeBoolBlock(block, &decoded).ok());
  EXPECT_EQ(decoded, (std::vector<uint8_t>{0, 1, 1, 0, 1}));
}

TEST(StringRoundTripTest, Shapes) {
  ExpectStrings({});
  ExpectStrings({""});
  ExpectStrings({"", "", ""});
  ExpectStrings({std::string("a\0b", 3), "\xff\xfe", ""});
  ExpectStrings(LowCardinalityStrings(kMaxBlockValues, 12, 1));
  std::vector<std::string> unique(5000);
  for (size_t i = 0; i < unique.size(); ++i) unique[i] = "device-" + std::to_string(i * 7919);
  ExpectStrings(unique);
  ExpectStrings({std::string(100000, 'x'), "y", std::string(100000, 'x')});
}

TEST(ColumnCodecTest, DecodingAppends) {
  std::string a, b;
  ASSERT_TRUE(EncodeInt64Block(std::vector<int64_t>{1, 2}, &a).ok());
  ASSERT_TRUE(EncodeInt64Block(std::vector<int64_t>{3}, &b).ok());
  std::vector<int64_t> out;
  ASSERT_TRUE(DecodeInt64Block(a, &out).ok());
  ASSERT_TRUE(DecodeInt64Block(b, &out).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{1, 2, 3}));
}

TEST(ColumnCodecTest, RejectsOversizedBlocks) {
  std::string out = "prefix";
  const std::vector<int64_t> too_many(kMaxBlockValues + 1, 1);
  const Status status = EncodeTimestampBlock(too_many, &out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "timestamp block: 65537 values exceed the 65536 limit");
  EXPECT_EQ(out, "prefix");
}

}  // namespace
}  // namespace seaway::codec
