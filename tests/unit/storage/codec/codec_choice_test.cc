// Each codec is chosen where it should be, and the sizes that matter stay small
// (src/storage/codec). Sizes are asserted as bounds that a regression would break.
#include <gtest/gtest.h>

#include "codec_test_data.h"
#include "storage/codec/bool_codec.h"
#include "storage/codec/column_codec.h"
#include "storage/codec/float_codec.h"
#include "storage/codec/integer_codec.h"
#include "storage/codec/string_codec.h"
#include "storage/codec/timestamp_codec.h"

namespace seaway::codec {
namespace {

using namespace seaway::codec::testing;  // NOLINT(google-build-using-namespace): test data

constexpr EncodeOptions kNoCompression{.general_compression = false};

// The scheme byte that follows [codec id][varint count] in an uncompressed block.
uint8_t SchemeOf(const std::string& block) {
  ByteReader in(block);
  uint8_t id = 0, scheme = 0xff;
  uint64_t count = 0;
  EXPECT_TRUE(in.ReadByte(&id) && in.ReadVarint64(&count) && in.ReadByte(&scheme));
  return scheme;
}

// The scheme of the integer encoding nested after `skip` payload bytes (past the scheme byte).
uint8_t NestedIntegerScheme(const std::string& block, size_t skip) {
  ByteReader in(block);
  uint8_t byte = 0xff;
  uint64_t count = 0;
  EXPECT_TRUE(in.ReadByte(&byte) && in.ReadVarint64(&count) && in.Skip(1 + skip) &&
              in.ReadByte(&byte));
  return byte;
}

TEST(CodecChoiceTest, RegularTimestampsTakeAFewBytes) {
  std::string block;
  ASSERT_TRUE(EncodeTimestampBlock(RegularTimestamps(kMaxBlockValues), &block).ok());
  EXPECT_LE(block.size(), 24u);
}

TEST(CodecChoiceTest, RegularTimestampsWithGapsStayTiny) {
  std::vector<int64_t> ts = RegularTimestamps(kMaxBlockValues);
  for (size_t gap : {1000, 20000, 50000}) {
    for (size_t i = gap; i < ts.size(); ++i) ts[i] += 600 * kSecond;
  }
  std::string block;
  ASSERT_TRUE(EncodeTimestampBlock(ts, &block, kNoCompression).ok());
  EXPECT_EQ(SchemeOf(block), static_cast<uint8_t>(TimestampScheme::kDodIntegers));
  EXPECT_LE(block.size(), 64u);
}

TEST(CodecChoiceTest, JitteredTimestampsPackTightly) {
  // ±0.5 ms of jitter in ns: 2^20 possible offsets, so about 2.6 bytes per value at best.
  std::string block;
  ASSERT_TRUE(EncodeTimestampBlock(JitteredTimestamps(kMaxBlockValues, 500'000, 1), &block).ok());
  EXPECT_LE(block.size(), kMaxBlockValues * 3);
}

TEST(CodecChoiceTest, SparseJitterWithGapsUsesBuckets) {
  std::vector<int64_t> ts = RegularTimestamps(10000);
  std::mt19937_64 rng(4);
  // Half the timestamps a few ns late, and a day-long gap: FOR widths blow up, RLE finds no runs.
  for (size_t i = 0; i < ts.size(); ++i) ts[i] += static_cast<int64_t>(rng() % 2 * (rng() % 20));
  for (size_t i = 7000; i < ts.size(); ++i) ts[i] += 86400 * kSecond;
  std::string block;
  ASSERT_TRUE(EncodeTimestampBlock(ts, &block, kNoCompression).ok());
  EXPECT_EQ(SchemeOf(block), static_cast<uint8_t>(TimestampScheme::kDodBuckets));
  EXPECT_LE(block.size(), ts.size() * 3 / 2);
}

TEST(CodecChoiceTest, TwoDecimalSensorDataUsesAlp) {
  std::string block;
  ASSERT_TRUE(
      EncodeDoubleBlock(DecimalWalk(kMaxBlockValues, 2, 20, 90, 1), &block, kNoCompression).ok());
  EXPECT_EQ(SchemeOf(block), static_cast<uint8_t>(FloatScheme::kAlp));
  // Steps of at most ±0.05: delta bit packing of 4 bits per value.
  EXPECT_EQ(NestedIntegerScheme(block, 2), static_cast<uint8_t>(IntegerScheme::kDeltaFor));
  EXPECT_LE(block.size(), kMaxBlockValues / 2 + 64);
}

TEST(CodecChoiceTest, ThreeDecimalSensorDataUsesAlp) {
  std::string block;
  ASSERT_TRUE(
      EncodeDoubleBlock(DecimalWalk(kMaxBlockValues, 3, 1, 10, 2), &block, kNoCompression).ok());
  EXPECT_EQ(SchemeOf(block), static_cast<uint8_t>(FloatScheme::kAlp));
  EXPECT_LE(block.size(), kMaxBlockValues / 2 + 64);
}

TEST(CodecChoiceTest, RandomDoublesAreNotAlp) {
  std::string block;
  ASSERT_TRUE(EncodeDoubleBlock(RandomDoubles(10000, 3), &block, kNoCompression).ok());
  EXPECT_NE(SchemeOf(block), static_cast<uint8_t>(FloatScheme::kAlp));
  EXPECT_LE(block.size(), 10000 * 8 + 8u);
}

TEST(CodecChoiceTest, SlowlyChangingDoublesUseXor) {
  // Repeated values with rare changes of arbitrary bits: XOR writes one bit per repeat.
  std::vector<double> values(10000);
  const std::vector<double> random = RandomDoubles(10, 4);
  for (size_t i = 0; i < values.size(); ++i) values[i] = random[i / 1000];
  std::string block;
  ASSERT_TRUE(EncodeDoubleBlock(values, &block, kNoCompression).ok());
  EXPECT_EQ(SchemeOf(block), static_cast<uint8_t>(FloatScheme::kXor));
}

TEST(CodecChoiceTest, IntegerSchemes) {
  auto scheme_of = [](const std::vector<int64_t>& values) {
    std::string block;
    EXPECT_TRUE(EncodeInt64Block(values, &block, kNoCompression).ok());
    return static_cast<IntegerScheme>(SchemeOf(block));
  };
  std::mt19937_64 rng(5);
  std::vector<int64_t> small(1000), runs(1000), any(1000);
  for (size_t i = 0; i < 1000; ++i) {
    small[i] = 1000 + static_cast<int64_t>(rng() % 200);
    runs[i] = static_cast<int64_t>(rng() % 1000000) * static_cast<int64_t>(i < 500);
    any[i] = static_cast<int64_t>(rng());
  }
  for (size_t i = 0; i < 1000; ++i) runs[i] = runs[i / 250 * 250];
  EXPECT_EQ(scheme_of(std::vector<int64_t>(1000, -3)), IntegerScheme::kConstant);
  EXPECT_EQ(scheme_of(runs), IntegerScheme::kRle);
  EXPECT_EQ(scheme_of(small), IntegerScheme::kFor);
  EXPECT_EQ(scheme_of(Counter(1000, 6)), IntegerScheme::kDeltaFor);
  EXPECT_EQ(scheme_of(any), IntegerScheme::kPlain);
}

TEST(CodecChoiceTest, BoolSchemes) {
  auto scheme_of = [](const std::vector<uint8_t>& values) {
    std::string block;
    EXPECT_TRUE(EncodeBoolBlock(values, &block, kNoCompression).ok());
    return static_cast<BoolScheme>(SchemeOf(block));
  };
  std::mt19937_64 rng(6);
  std::vector<uint8_t> random(1000), runs(1000);
  for (size_t i = 0; i < 1000; ++i) {
    random[i] = rng() & 1;
    runs[i] = i >= 600;
  }
  EXPECT_EQ(scheme_of(std::vector<uint8_t>(1000, 1)), BoolScheme::kConstant);
  EXPECT_EQ(scheme_of(random), BoolScheme::kBitmap);
  EXPECT_EQ(scheme_of(runs), BoolScheme::kRle);
}

TEST(CodecChoiceTest, StringSchemes) {
  auto scheme_of = [](const std::vector<std::string>& values) {
    std::string block;
    EXPECT_TRUE(EncodeStringBlock(Views(values), &block, kNoCompression).ok());
    return static_cast<StringScheme>(SchemeOf(block));
  };
  std::vector<std::string> unique(1000);
  for (size_t i = 0; i < unique.size(); ++i) unique[i] = std::to_string(i * 7919);
  EXPECT_EQ(scheme_of(LowCardinalityStrings(1000, 5, 7)), StringScheme::kDictionary);
  EXPECT_EQ(scheme_of(unique), StringScheme::kPlain);
}

TEST(CodecChoiceTest, GeneralCompressionWrapsOnlyWhenItPays) {
  // A period of 100 random doubles: no codec sees the repetition, zstd and LZ4 do.
  const std::vector<double> period = RandomDoubles(100, 8);
  std::vector<double> values(20000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = period[i % 100];
  std::string wrapped, plain;
  ASSERT_TRUE(EncodeDoubleBlock(values, &wrapped).ok());
  ASSERT_TRUE(EncodeDoubleBlock(values, &plain, kNoCompression).ok());
  const auto id = static_cast<CodecId>(wrapped[0]);
  EXPECT_TRUE(id == CodecId::kZstd || id == CodecId::kLz4);
  EXPECT_LE(wrapped.size(), plain.size() / 10);
  std::vector<double> decoded;
  ASSERT_TRUE(DecodeDoubleBlock(wrapped, &decoded).ok());
  EXPECT_EQ(decoded, values);

  // Random doubles do not compress: the block stays unwrapped.
  std::string random;
  ASSERT_TRUE(EncodeDoubleBlock(RandomDoubles(10000, 9), &random).ok());
  EXPECT_EQ(static_cast<CodecId>(random[0]), CodecId::kDouble);
}

}  // namespace
}  // namespace seaway::codec
