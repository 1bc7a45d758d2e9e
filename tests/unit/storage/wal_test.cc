// Tests for WAL records and files (src/storage/wal_record.h, src/storage/wal.h).
#include "storage/wal.h"

#include <random>

#include <gtest/gtest.h>

#include "storage/memory_env.h"
#include "storage/wal_record.h"

namespace seaway {
namespace {

WriteBatch SampleBatch() {
  WriteBatch b(TenantId(7), "plant", "machine");
  for (int i = 0; i < 4; ++i) {
    b.AddRow(1'700'000'000'000'000'000 + i * 10'000'000'000LL);
    EXPECT_TRUE(b.SetTag("site", "north").ok());
    EXPECT_TRUE(b.SetTag("machine_id", i % 2 ? "m1" : "m2").ok());
    EXPECT_TRUE(b.SetDouble("temp", 20.5 + i).ok());
    if (i != 2) {
      EXPECT_TRUE(b.SetInt64("count", -i * 1000).ok());
    }
    EXPECT_TRUE(b.SetUInt64("serial", UINT64_MAX - i).ok());
    EXPECT_TRUE(b.SetBool("running", i % 2 == 0).ok());
    EXPECT_TRUE(b.SetString("state", i == 3 ? "" : "ok \"quoted\"").ok());
  }
  return b;
}

std::vector<SeriesRows> Groups() { return {{SeriesId(5), {0, 2}}, {SeriesId(9), {1, 3}}}; }

TEST(WalRecordTest, RoundTrip) {
  WriteBatch batch = SampleBatch();
  std::string payload;
  EncodeWriteRecord(batch, Groups(), &payload);
  WriteRecord r;
  ASSERT_TRUE(DecodeWriteRecord(payload, &r).ok());
  EXPECT_EQ(r.tenant, TenantId(7));
  EXPECT_EQ(r.database, "plant");
  EXPECT_EQ(r.table, "machine");
  ASSERT_EQ(r.tag_keys, (std::vector<std::string_view>{"site", "machine_id"}));
  ASSERT_EQ(r.field_names.size(), 5u);
  ASSERT_EQ(r.series.size(), 2u);
  const auto& s = r.series[0];
  EXPECT_EQ(s.id, SeriesId(5));
  EXPECT_EQ(s.tag_values, (std::vector<std::string_view>{"north", "m2"}));
  EXPECT_EQ(s.times, (std::vector<int64_t>{1'700'000'000'000'000'000, 1'700'000'020'000'000'000}));
  EXPECT_EQ(std::bit_cast<double>(s.columns[0].bits[1]), 22.5);
  EXPECT_EQ(s.columns[1].present, (std::vector<uint8_t>{1, 0}));  // count absent in row 2
  EXPECT_EQ(static_cast<int64_t>(s.columns[1].bits[0]), 0);
  EXPECT_EQ(r.series[1].columns[1].bits[1], static_cast<uint64_t>(-3000));
  EXPECT_EQ(s.columns[2].bits[0], UINT64_MAX);
  EXPECT_EQ(s.columns[3].bits, (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(s.columns[4].strings[0], "ok \"quoted\"");
  EXPECT_EQ(r.series[1].columns[4].strings[1], "");
  EXPECT_EQ(r.RowCount(), 4u);
}

TEST(WalRecordTest, EveryTruncationIsAnErrorNotACrash) {
  std::string payload;
  EncodeWriteRecord(SampleBatch(), Groups(), &payload);
  WriteRecord r;
  for (size_t n = 0; n < payload.size(); ++n) {
    Status s = DecodeWriteRecord(std::string_view(payload).substr(0, n), &r);
    ASSERT_FALSE(s.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
  }
  EXPECT_EQ(DecodeWriteRecord(payload + "x", &r).message(),
            "WAL record: 1 unexpected bytes after the last series");
}

TEST(WalRecordTest, RandomByteFlipsNeverCrash) {
  std::string payload;
  EncodeWriteRecord(SampleBatch(), Groups(), &payload);
  std::mt19937 rng(42);
  WriteRecord r;
  for (int i = 0; i < 5000; ++i) {
    std::string damaged = payload;
    for (int k = 0; k < 3; ++k) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    DecodeWriteRecord(damaged, &r).IgnoreError();
  }
}

TEST(WalFileTest, NamesRoundTrip) {
  EXPECT_EQ(WalFileName(42), "000000000042.wal");
  EXPECT_EQ(ParseWalFileName("000000000042.wal"), 42u);
  EXPECT_EQ(ParseWalFileName("42.wal"), 0u);
  EXPECT_EQ(ParseWalFileName("00000000004x.wal"), 0u);
}

class WalFileReadTest : public ::testing::Test {
 protected:
  // Writes a WAL file with `n` frames whose payloads are "record-<lsn>".
  std::string Write(int n, std::string tail = "") {
    std::string data(kWalMagic);
    for (int i = 1; i <= n; ++i) {
      AppendWalFrame(Lsn(i), WalRecordType::kWrite, fmt::format("record-{}", i), &data);
    }
    data += tail;
    EXPECT_TRUE(WriteFileAtomically(&env_, "w.wal", data).ok());
    return data;
  }
  Result<WalReadResult> Read(std::vector<std::string>* payloads) {
    return ReadWalFile(&env_, "w.wal", [&](const WalFrame& f) {
      payloads->emplace_back(f.payload);
      return Status::OK();
    });
  }
  MemoryEnv env_;
};

TEST_F(WalFileReadTest, ReadsAllFrames) {
  std::string data = Write(3);
  std::vector<std::string> payloads;
  auto r = Read(&payloads);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(payloads, (std::vector<std::string>{"record-1", "record-2", "record-3"}));
  EXPECT_EQ(r->valid_bytes, data.size());
  EXPECT_FALSE(r->torn_tail);
  EXPECT_TRUE(r->corruption.ok());
}

TEST_F(WalFileReadTest, EveryCutIsATornTail) {
  std::string full = Write(3);
  for (size_t cut = kWalMagic.size(); cut < full.size(); ++cut) {
    ASSERT_TRUE(WriteFileAtomically(&env_, "w.wal", full.substr(0, cut)).ok());
    std::vector<std::string> payloads;
    auto r = Read(&payloads);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->corruption.ok()) << "cut at " << cut;
    EXPECT_LE(r->valid_bytes, cut);
    EXPECT_EQ(r->torn_tail, r->valid_bytes != cut);
    EXPECT_LT(payloads.size(), 3u);
  }
}

TEST_F(WalFileReadTest, GarbageTailIsTorn) {
  Write(2, std::string(5000, '\xAB'));
  std::vector<std::string> payloads;
  auto r = Read(&payloads);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->torn_tail);
  EXPECT_TRUE(r->corruption.ok());
  EXPECT_EQ(payloads.size(), 2u);
}

TEST_F(WalFileReadTest, DamageInTheMiddleIsCorruption) {
  std::string data = Write(3);
  // Flip a payload byte of the second frame; the third stays valid.
  size_t second = kWalMagic.size() + kWalFrameHeader + 8 + kWalFrameHeader + 2;
  data[second] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomically(&env_, "w.wal", data).ok());
  std::vector<std::string> payloads;
  auto r = Read(&payloads);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->corruption.ok());
  EXPECT_EQ(r->corruption_offset, kWalMagic.size() + kWalFrameHeader + 8);
  EXPECT_NE(r->corruption.message().find("damaged frame at offset 33"), std::string_view::npos)
      << r->corruption;
  EXPECT_EQ(payloads.size(), 1u);
}

TEST_F(WalFileReadTest, BadMagic) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "w.wal", "NOTAWAL!xxxxxxxxxxxxxxxxx").ok());
  std::vector<std::string> payloads;
  auto r = Read(&payloads);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->corruption.ok());
}

}  // namespace
}  // namespace seaway
