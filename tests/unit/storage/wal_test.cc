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
  EncodeWriteRecord(batch, /*generation=*/3, Groups(), &payload);
  WriteRecord r;
  ASSERT_TRUE(DecodeWriteRecord(payload, &r).ok());
  EXPECT_EQ(r.tenant, TenantId(7));
  EXPECT_EQ(r.database, "plant");
  EXPECT_EQ(r.table, "machine");
  EXPECT_EQ(r.generation, 3u);
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
  EncodeWriteRecord(SampleBatch(), 0, Groups(), &payload);
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
  EncodeWriteRecord(SampleBatch(), 0, Groups(), &payload);
  std::mt19937 rng(42);
  WriteRecord r;
  for (int i = 0; i < 5000; ++i) {
    std::string damaged = payload;
    for (int k = 0; k < 3; ++k) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    DecodeWriteRecord(damaged, &r).IgnoreError();
  }
}

TEST(WalRecordTest, Version1RecordsReadAsGenerationZero) {
  // A version 2 record without its generation varint is the version 1 layout.
  std::string v2;
  EncodeWriteRecord(SampleBatch(), 0, Groups(), &v2);
  const size_t generation_at = 1 + 1 + 1 + 5 + 1 + 7;  // version tenant "plant" "machine"
  ASSERT_EQ(v2[generation_at], '\0');
  std::string v1 = v2.substr(0, generation_at) + v2.substr(generation_at + 1);
  v1[0] = 1;
  WriteRecord a, b;
  ASSERT_TRUE(DecodeWriteRecord(v1, &a).ok());
  ASSERT_TRUE(DecodeWriteRecord(v2, &b).ok());
  EXPECT_EQ(a.generation, 0u);
  EXPECT_EQ(a.table, "machine");
  EXPECT_EQ(a.RowCount(), b.RowCount());
  EXPECT_EQ(a.series[1].columns[4].strings, b.series[1].columns[4].strings);
  v1[0] = 3;
  EXPECT_EQ(DecodeWriteRecord(v1, &a).message(),
            "WAL record: unknown version 3 (this build reads versions 1 to 2)");
}

TEST(WalRecordTest, DeleteAndDropRecordsRoundTrip) {
  DeleteRecord del{TenantId(2), "main", "m", 4, {SeriesId(3), SeriesId(9)}, -5, 70};
  std::string payload;
  EncodeDeleteRecord(del, &payload);
  DeleteRecord del2;
  ASSERT_TRUE(DecodeDeleteRecord(payload, &del2).ok());
  EXPECT_EQ(del2.generation, 4u);
  EXPECT_EQ(del2.series, del.series);
  EXPECT_EQ(del2.min_time, -5);
  EXPECT_EQ(del2.max_time, 70);
  // Version 1: no generation.
  std::string v1 = payload;
  v1[0] = 1;
  v1.erase(1 + 1 + 5 + 2, 1);
  ASSERT_TRUE(DecodeDeleteRecord(v1, &del2).ok());
  EXPECT_EQ(del2.generation, 0u);
  EXPECT_EQ(del2.series, del.series);

  DropTableRecord drop{TenantId(2), "main", "m", 7, {SeriesId(1), SeriesId(2), SeriesId(40)}};
  payload.clear();
  EncodeDropTableRecord(drop, &payload);
  DropTableRecord drop2;
  ASSERT_TRUE(DecodeDropTableRecord(payload, &drop2).ok());
  EXPECT_EQ(drop2.tenant, TenantId(2));
  EXPECT_EQ(drop2.table, "m");
  EXPECT_EQ(drop2.generation, 7u);
  EXPECT_EQ(drop2.series, drop.series);
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_EQ(DecodeDropTableRecord(payload.substr(0, n), &drop2).code(), StatusCode::kCorruption);
  }
  EXPECT_EQ(DecodeDropTableRecord(payload + "x", &drop2).code(), StatusCode::kCorruption);
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
