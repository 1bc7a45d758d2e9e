// Corrupt blocks (src/storage/codec/column_codec.h): truncation at every byte and random byte
// flips must yield Corruption or a value, never a crash or an out-of-bounds read (run under ASan
// too); specific malformations must be named precisely.
#include <gtest/gtest.h>
#include <lz4.h>

#include "codec_test_data.h"
#include "storage/codec/column_codec.h"

namespace seaway::codec {
namespace {

using namespace seaway::codec::testing;  // NOLINT(google-build-using-namespace): test data
using namespace std::string_view_literals;

constexpr ColumnType kAllTypes[] = {ColumnType::kTimestamp, ColumnType::kDouble,
                                    ColumnType::kInt64,     ColumnType::kUInt64,
                                    ColumnType::kBool,      ColumnType::kString};

Status DecodeAs(ColumnType type, std::string_view block) {
  switch (type) {
    case ColumnType::kTimestamp: {
      std::vector<int64_t> out;
      return DecodeTimestampBlock(block, &out);
    }
    case ColumnType::kDouble: {
      std::vector<double> out;
      return DecodeDoubleBlock(block, &out);
    }
    case ColumnType::kInt64: {
      std::vector<int64_t> out;
      return DecodeInt64Block(block, &out);
    }
    case ColumnType::kUInt64: {
      std::vector<uint64_t> out;
      return DecodeUInt64Block(block, &out);
    }
    case ColumnType::kBool: {
      std::vector<uint8_t> out;
      return DecodeBoolBlock(block, &out);
    }
    case ColumnType::kString: {
      std::vector<std::string> out;
      return DecodeStringBlock(block, &out);
    }
  }
  return Internal("unreachable");
}

struct Sample {
  std::string name;
  ColumnType type;
  std::string block;
};

// Valid blocks covering every scheme, small enough to truncate at every byte.
std::vector<Sample> Samples() {
  std::vector<Sample> samples;
  auto add = [&samples](std::string name, ColumnType type, auto encode) {
    for (bool compress : {false, true}) {
      std::string block;
      EXPECT_TRUE(encode(&block, EncodeOptions{.general_compression = compress}).ok());
      samples.push_back({name + (compress ? "/compressed" : ""), type, block});
    }
  };
  std::mt19937_64 rng(1);
  std::vector<int64_t> gaps = RegularTimestamps(300);
  for (size_t i = 100; i < gaps.size(); ++i) gaps[i] += 1000 * kSecond;
  std::vector<int64_t> sparse_jitter = RegularTimestamps(300);
  for (size_t i = 0; i < sparse_jitter.size(); i += 30) sparse_jitter[i] += 77;
  std::vector<int64_t> random(200), runs(300);
  for (int64_t& v : random) v = static_cast<int64_t>(rng());
  for (size_t i = 0; i < runs.size(); ++i) runs[i] = static_cast<int64_t>(i / 40) * 1000003;
  std::vector<double> mixed = DecimalWalk(300, 2, 20, 90, 2);
  mixed[0] = -0.0;
  mixed[150] = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> repeated(300);
  const std::vector<double> few = RandomDoubles(3, 3);
  for (size_t i = 0; i < repeated.size(); ++i) repeated[i] = few[i / 100];
  std::vector<uint8_t> bitmap(300), bool_runs(300);
  for (size_t i = 0; i < 300; ++i) {
    bitmap[i] = rng() & 1;
    bool_runs[i] = (i / 70) % 2;
  }
  const std::vector<std::string> low = LowCardinalityStrings(200, 4, 4);
  std::vector<std::string> unique(100);
  for (size_t i = 0; i < unique.size(); ++i) unique[i] = std::to_string(i * 7919);

  using O = const EncodeOptions&;
  add("ts/regular", ColumnType::kTimestamp,
      [](std::string* b, O o) { return EncodeTimestampBlock(RegularTimestamps(300), b, o); });
  add("ts/gaps", ColumnType::kTimestamp,
      [&](std::string* b, O o) { return EncodeTimestampBlock(gaps, b, o); });
  add("ts/buckets", ColumnType::kTimestamp,
      [&](std::string* b, O o) { return EncodeTimestampBlock(sparse_jitter, b, o); });
  add("ts/jitter", ColumnType::kTimestamp, [](std::string* b, O o) {
    return EncodeTimestampBlock(JitteredTimestamps(200, 1000, 5), b, o);
  });
  add("int/plain", ColumnType::kInt64,
      [&](std::string* b, O o) { return EncodeInt64Block(random, b, o); });
  add("int/rle", ColumnType::kInt64,
      [&](std::string* b, O o) { return EncodeInt64Block(runs, b, o); });
  add("int/counter", ColumnType::kInt64,
      [](std::string* b, O o) { return EncodeInt64Block(Counter(300, 6), b, o); });
  add("int/constant", ColumnType::kInt64,
      [](std::string* b, O o) { return EncodeInt64Block(std::vector<int64_t>(100, -9), b, o); });
  add("uint/for", ColumnType::kUInt64, [](std::string* b, O o) {
    std::vector<uint64_t> v(300);
    for (size_t i = 0; i < v.size(); ++i) v[i] = (i * 7919) % 1000;
    return EncodeUInt64Block(v, b, o);
  });
  add("float/alp", ColumnType::kDouble,
      [&](std::string* b, O o) { return EncodeDoubleBlock(mixed, b, o); });
  add("float/xor", ColumnType::kDouble,
      [&](std::string* b, O o) { return EncodeDoubleBlock(repeated, b, o); });
  add("float/plain", ColumnType::kDouble,
      [](std::string* b, O o) { return EncodeDoubleBlock(RandomDoubles(100, 7), b, o); });
  add("bool/bitmap", ColumnType::kBool,
      [&](std::string* b, O o) { return EncodeBoolBlock(bitmap, b, o); });
  add("bool/rle", ColumnType::kBool,
      [&](std::string* b, O o) { return EncodeBoolBlock(bool_runs, b, o); });
  add("string/dictionary", ColumnType::kString,
      [&](std::string* b, O o) { return EncodeStringBlock(Views(low), b, o); });
  add("string/plain", ColumnType::kString,
      [&](std::string* b, O o) { return EncodeStringBlock(Views(unique), b, o); });
  return samples;
}

std::string Prefix(ColumnType type) { return std::string(ColumnTypeName(type)) + " block: "; }

TEST(CodecCorruptionTest, SamplesDecode) {
  for (const Sample& s : Samples()) EXPECT_TRUE(DecodeAs(s.type, s.block).ok()) << s.name;
}

TEST(CodecCorruptionTest, TruncationAtEveryByteIsCorruption) {
  for (const Sample& s : Samples()) {
    for (size_t length = 0; length < s.block.size(); ++length) {
      // A heap copy of exactly `length` bytes, so that ASan sees any read past the end.
      const std::unique_ptr<char[]> copy(new char[length + 1]);
      std::memcpy(copy.get(), s.block.data(), length);
      const Status status = DecodeAs(s.type, std::string_view(copy.get(), length));
      ASSERT_EQ(status.code(), StatusCode::kCorruption)
          << s.name << " truncated to " << length << " of " << s.block.size() << " bytes";
      ASSERT_TRUE(status.message().starts_with(Prefix(s.type))) << status;
    }
  }
}

TEST(CodecCorruptionTest, RandomByteFlipsNeverCrash) {
  std::mt19937_64 rng(42);
  size_t rejected = 0, total = 0;
  for (const Sample& s : Samples()) {
    for (int round = 0; round < 300; ++round) {
      std::string damaged = s.block;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] ^= 1 + rng() % 255;
      for (ColumnType type : kAllTypes) {
        const Status status = DecodeAs(type, damaged);
        ++total;
        if (status.ok()) continue;
        ++rejected;
        ASSERT_EQ(status.code(), StatusCode::kCorruption) << status;
        ASSERT_TRUE(status.message().starts_with(Prefix(type))) << status;
      }
    }
  }
  // Most damage is detected: at least every decode as a different type.
  EXPECT_GE(rejected, total * 5 / 6);
}

// Builds [codec id][varint count] + payload.
std::string Block(CodecId id, uint64_t count, std::string_view payload) {
  std::string block(1, static_cast<char>(id));
  PutVarint64(&block, count);
  block.append(payload);
  return block;
}

void ExpectCorruption(ColumnType type, std::string_view block, std::string_view message) {
  const Status status = DecodeAs(type, block);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(status.message(), message);
}

TEST(CodecCorruptionTest, NamesWhatIsWrong) {
  ExpectCorruption(ColumnType::kTimestamp, "", "timestamp block: empty block");
  ExpectCorruption(ColumnType::kTimestamp, Block(CodecId::kTimestamp, 70000, "\x00\x01\x00"sv),
                   "timestamp block: declared 70000 values exceeds the 65536 limit");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId::kDouble, 1, ""sv),
                   "int64 block: codec id 2 is a float block");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId{0x33}, 1, ""),
                   "int64 block: unknown codec id 51");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId::kInt64, 1, "\x01\x04\x00"sv),
                   "int64 block: 1 trailing bytes after the payload at byte 4");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId::kInt64, 3, "\x03\x00\x41"sv),
                   "int64 block: bit width 65 exceeds 64 at byte 4");
  ExpectCorruption(ColumnType::kUInt64, Block(CodecId::kUInt64, 9, "\x03\x00\x08"sv),
                   "uint64 block: truncated bit-packed values at byte 5: need 9 bytes, 0 remain");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId::kInt64, 2, "\x02\x01\x00\x04"sv),
                   "int64 block: RLE run 0 at byte 5 overruns the 2 declared values");
  ExpectCorruption(ColumnType::kInt64, Block(CodecId::kInt64, 2, "\x09"sv),
                   "int64 block: unknown integer scheme 9 at byte 2");
  ExpectCorruption(ColumnType::kBool, Block(CodecId::kBool, 3, "\x01\x02"sv),
                   "bool block: constant 2 at byte 3 is not 0 or 1");
  // ALP with e=2, f=0, three constant digits, then two exceptions but only 12 of 20 bytes.
  const std::string alp = std::string("\x01\x02\x00\x01\x0a\x02", 6) + std::string(12, '\0');
  ExpectCorruption(ColumnType::kDouble, Block(CodecId::kDouble, 3, alp),
                   "float block: truncated exception list at byte 8: need 20 bytes, 12 remain");
  const std::string alp_bad_exponent("\x01\x13\x00", 3);
  ExpectCorruption(ColumnType::kDouble, Block(CodecId::kDouble, 1, alp_bad_exponent),
                   "float block: ALP exponent 19 at byte 3 exceeds 18");
  const std::string alp_bad_digits = std::string("\x01\x02\x00\x09", 4);
  ExpectCorruption(ColumnType::kDouble, Block(CodecId::kDouble, 1, alp_bad_digits),
                   "float block: ALP digits: unknown integer scheme 9 at byte 5");
  // Dictionary of one entry "a", ids constant 1.
  const std::string dict("\x01\x01\x01\x01\x61\x01\x01", 7);
  ExpectCorruption(ColumnType::kString, Block(CodecId::kString, 2, dict),
                   "string block: dictionary id 1 of value 0 (ids at byte 7) exceeds 1 entries");
  ExpectCorruption(ColumnType::kString, Block(CodecId::kString, 1, "\x00\x01\x05"sv),
                   "string block: string lengths at byte 5 exceed the 0 bytes that remain");
}

TEST(CodecCorruptionTest, CompressedWrappersAreChecked) {
  std::string huge(1, static_cast<char>(CodecId::kZstd));
  PutVarint64(&huge, uint64_t{1} << 40);
  ExpectCorruption(ColumnType::kDouble, huge,
                   "float block: compressed block declares 1099511627776 bytes, over the 67108864 "
                   "byte limit");
  // A period of 100 random values: incompressible for the integer codec, not for zstd/LZ4.
  std::mt19937_64 rng(3);
  std::vector<int64_t> period(100), values(20000);
  for (int64_t& v : period) v = static_cast<int64_t>(rng());
  for (size_t i = 0; i < values.size(); ++i) values[i] = period[i % period.size()];
  std::string twice;
  ASSERT_TRUE(EncodeInt64Block(values, &twice).ok());
  ASSERT_TRUE(twice[0] == static_cast<char>(CodecId::kZstd) ||
              twice[0] == static_cast<char>(CodecId::kLz4));
  // Wrap a wrapped block once more by hand: nesting is refused.
  std::string nested(1, static_cast<char>(CodecId::kLz4));
  PutVarint64(&nested, twice.size());
  std::string compressed(static_cast<size_t>(LZ4_compressBound(static_cast<int>(twice.size()))),
                         '\0');
  const int size =
      LZ4_compress_default(twice.data(), compressed.data(), static_cast<int>(twice.size()),
                           static_cast<int>(compressed.size()));
  ASSERT_GT(size, 0);
  nested.append(compressed.data(), static_cast<size_t>(size));
  ExpectCorruption(ColumnType::kInt64, nested,
                   "int64 block: lz4: compressed block nested inside a compressed block");
  ExpectCorruption(ColumnType::kInt64, std::string("\x41\x50\x40\x00\x00\x00\x00", 7),
                   "int64 block: LZ4 payload at byte 2 does not decompress to the declared 80 "
                   "bytes");
}

TEST(CodecCorruptionTest, FailedDecodeLeavesOutputUntouched) {
  std::string block;
  ASSERT_TRUE(EncodeDoubleBlock(DecimalWalk(1000, 2, 0, 50, 1), &block).ok());
  block.push_back('\0');  // a trailing byte: detected only after the payload decoded
  std::vector<double> out = {1.0, 2.0};
  EXPECT_FALSE(DecodeDoubleBlock(block, &out).ok());
  EXPECT_EQ(out, (std::vector<double>{1.0, 2.0}));
  std::vector<std::string> strings = {"kept"};
  std::string string_block;
  ASSERT_TRUE(EncodeStringBlock(Views(LowCardinalityStrings(100, 3, 1)), &string_block).ok());
  string_block.push_back('\0');
  EXPECT_FALSE(DecodeStringBlock(string_block, &strings).ok());
  EXPECT_EQ(strings, std::vector<std::string>{"kept"});
}

}  // namespace
}  // namespace seaway::codec
