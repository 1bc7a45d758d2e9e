// Bit writer/reader, bit packing, varints and zigzag (src/storage/codec/bit_stream.h).
#include "storage/codec/bit_stream.h"

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace seaway::codec {
namespace {

TEST(ZigZagTest, RoundTripsExtremes) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ZigZagDecode(ZigZagEncode(v)), v);
  }
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<int64_t>::min()), ~uint64_t{0});
}

TEST(VarintTest, RoundTripsAndReportsLength) {
  std::string buf;
  const std::vector<uint64_t> values = {0,           1, 127, 128, 16383, 16384, uint64_t{1} << 63,
                                        ~uint64_t{0}};
  for (uint64_t v : values) {
    const size_t before = buf.size();
    PutVarint64(&buf, v);
    EXPECT_EQ(buf.size() - before, VarintLength(v)) << v;
  }
  ByteReader in(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(in.ReadVarint64(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(VarintTest, RejectsTruncatedAndOverlongInput) {
  uint64_t v;
  ByteReader truncated(std::string_view("\x80\x80", 2));
  EXPECT_FALSE(truncated.ReadVarint64(&v));
  EXPECT_EQ(truncated.position(), 0u);
  // Ten bytes whose last carries more than the 64th bit.
  ByteReader overflow(std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10));
  EXPECT_FALSE(overflow.ReadVarint64(&v));
  ByteReader overlong(std::string_view("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11));
  EXPECT_FALSE(overlong.ReadVarint64(&v));
}

TEST(BitStreamTest, WriterAndReaderAgreeOnRandomWidths) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<uint64_t, int>> items;
  std::string buf;
  BitWriter writer(&buf);
  size_t total_bits = 0;
  for (int i = 0; i < 5000; ++i) {
    const int width = static_cast<int>(rng() % 65);
    const uint64_t value = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
    items.emplace_back(value, width);
    writer.Write(value, width);
    total_bits += static_cast<size_t>(width);
  }
  writer.Finish();
  EXPECT_EQ(buf.size(), (total_bits + 7) / 8);
  BitReader reader(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  for (const auto& [value, width] : items) ASSERT_EQ(reader.Read(width), value);
  EXPECT_FALSE(reader.overrun());
  reader.Read(9);  // at most 7 padding bits remain
  EXPECT_TRUE(reader.overrun());
}

TEST(BitPackingTest, EveryWidthRoundTrips) {
  std::mt19937_64 rng(11);
  for (int width = 0; width <= 64; ++width) {
    for (size_t n : {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 33, 79, 100, 1027}) {
      std::vector<uint64_t> values(n);
      for (uint64_t& v : values) v = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
      std::string packed;
      PackBits(values.data(), n, width, &packed);
      ASSERT_EQ(packed.size(), PackedBytes(n, width));
      // Copy into an exactly-sized heap buffer so that ASan catches any read past the end.
      std::vector<uint8_t> exact(packed.begin(), packed.end());
      std::vector<uint64_t> unpacked(n, 12345);
      UnpackBits(exact.data(), exact.size(), n, width, 0, unpacked.data());
      ASSERT_EQ(unpacked, values) << "width " << width << " n " << n;
      // Followed by other bytes (a block's values, then more of the block): the same values.
      std::vector<uint8_t> longer(packed.begin(), packed.end());
      longer.insert(longer.end(), 40, 0xff);
      std::vector<uint64_t> from_longer(n, 12345);
      UnpackBits(longer.data(), longer.size(), n, width, 0, from_longer.data());
      ASSERT_EQ(from_longer, values) << "width " << width << " n " << n << ", bytes after";

      // With a frame of reference, and integrated as deltas; both wrap modulo 2^64.
      const uint64_t add = ~uint64_t{0} - 2;
      std::vector<uint64_t> framed(n), integrated(n), expected_framed(n), expected_integrated(n);
      uint64_t acc = 1000;
      for (size_t i = 0; i < n; ++i) {
        expected_framed[i] = values[i] + add;
        expected_integrated[i] = acc += values[i] + add;
      }
      UnpackBits(exact.data(), exact.size(), n, width, add, framed.data());
      ASSERT_EQ(framed, expected_framed) << "width " << width << " n " << n;
      EXPECT_EQ(UnpackDeltas(exact.data(), exact.size(), n, width, add, 1000, integrated.data()),
                acc);
      ASSERT_EQ(integrated, expected_integrated) << "width " << width << " n " << n;
    }
  }
}

}  // namespace
}  // namespace seaway::codec
