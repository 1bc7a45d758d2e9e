// Tests for segment files (src/storage/segment.h) and for flushing through the engine.
#include "storage/segment.h"

#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/coding.h"
#include "storage/checksummed_file.h"
#include "storage/engine.h"
#include "storage/fault_injection_env.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

const SeriesTable kTable{TenantId(3), "main", "m"};

std::shared_ptr<const SeriesInfo> Info(uint64_t id, std::string host) {
  return std::make_shared<const SeriesInfo>(SeriesId(id), &kTable,
                                            TagSet{{"host", std::move(host)}});
}

// A series with `n` rows at 10 s steps and one column of each type; every 7th row lacks the
// integer field.
SegmentInput::Series MakeSeries(uint64_t id, size_t n) {
  SegmentInput::Series s{Info(id, "h" + std::to_string(id)), {}};
  s.rows.series = SeriesId(id);
  s.rows.columns.resize(5);
  FieldType types[] = {FieldType::kDouble, FieldType::kInt64, FieldType::kUInt64, FieldType::kBool,
                       FieldType::kString};
  for (int c = 0; c < 5; ++c) s.rows.columns[c].type = types[c];
  for (size_t i = 0; i < n; ++i) {
    // 100 ms apart: 16,484 rows stay within one hour (chunks are cut by rows only).
    s.rows.times.push_back(1'000'000'000'000 + static_cast<int64_t>(i) * 100'000'000);
    auto push = [&](int c, bool present, uint64_t bits, std::string str = {}) {
      s.rows.columns[c].present.push_back(present);
      s.rows.columns[c].bits.push_back(present ? bits : 0);
      if (types[c] == FieldType::kString) s.rows.columns[c].strings.push_back(std::move(str));
    };
    push(0, true, std::bit_cast<uint64_t>(20.0 + static_cast<double>(i % 100) / 100));
    push(1, i % 7 != 0, static_cast<uint64_t>(-static_cast<int64_t>(i)));
    push(2, true, std::numeric_limits<uint64_t>::max() - i);
    push(3, true, i % 3 == 0);
    push(4, true, 0, i % 2 ? "running" : "idle");
  }
  return s;
}

SegmentInput MakeInput(size_t rows_per_series) {
  SegmentInput in;
  in.tenant = TenantId(3);
  in.database = "main";
  in.table = "m";
  in.tag_keys = {"host"};
  in.fields = {{"temp", FieldType::kDouble},
               {"delta", FieldType::kInt64},
               {"serial", FieldType::kUInt64},
               {"on", FieldType::kBool},
               {"state", FieldType::kString}};
  in.partition_start = 0;
  in.partition_end = std::numeric_limits<int64_t>::max();
  in.max_lsn = 77;
  in.series.push_back(MakeSeries(2, rows_per_series));
  in.series.push_back(MakeSeries(5, 3));
  return in;
}

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.SyncDir(".").ok()); }
  MemoryEnv env_;
};

TEST(ChunkEndsTest, ChunksEndAtTheRowLimitAndWhereHoursBegin) {
  constexpr int64_t kSecond = 1'000'000'000, kHour = 3600 * kSecond;
  const auto times = [](int64_t first, int64_t step, size_t n) {
    std::vector<int64_t> t;
    for (size_t i = 0; i < n; ++i) t.push_back(first + static_cast<int64_t>(i) * step);
    return t;
  };
  EXPECT_EQ(ChunkEnds(times(0, 10 * kSecond, 720)), (std::vector<size_t>{360, 720}));
  // Mid-hour start: the first chunk runs to the next hour.
  EXPECT_EQ(ChunkEnds(times(kHour / 2, 10 * kSecond, 720)), (std::vector<size_t>{180, 540, 720}));
  // Before 1970 too: hours are floored, not truncated toward zero.
  EXPECT_EQ(ChunkEnds(times(-kHour / 2, 10 * kSecond, 360)), (std::vector<size_t>{180, 360}));
  // Fewer than kMinRowsBeforeHourCut rows an hour: kept together.
  EXPECT_EQ(ChunkEnds(times(0, kHour, 10)), (std::vector<size_t>{10}));
  EXPECT_EQ(ChunkEnds(times(0, kHour / 32, 100)), (std::vector<size_t>{64, 100}));
  // Dense rows: cut by the row limit.
  EXPECT_EQ(ChunkEnds(times(0, 1000, 2 * kRowsPerChunk + 1)),
            (std::vector<size_t>{kRowsPerChunk, 2 * kRowsPerChunk, 2 * kRowsPerChunk + 1}));
  EXPECT_TRUE(ChunkEnds({}).empty());
}

TEST_F(SegmentTest, RoundTripAcrossChunks) {
  SegmentInput in = MakeInput(kRowsPerChunk * 2 + 100);
  auto stats = WriteSegment(&env_, "s.sws", in);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->rows, kRowsPerChunk * 2 + 103);
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok()) << seg.status();
  EXPECT_EQ((*seg)->table(), "m");
  EXPECT_EQ((*seg)->max_lsn(), 77u);
  EXPECT_EQ((*seg)->fields().size(), 5u);
  ASSERT_EQ((*seg)->series().size(), 2u);
  const SegmentSeries* s2 = (*seg)->Find(SeriesId(2));
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->chunk_count, 3u);
  auto chunks = (*seg)->Chunks(*s2);
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ((*chunks)[2].rows, 100u);
  EXPECT_EQ(s2->tag_values(), (std::vector<std::string_view>{"h2"}));
  EXPECT_EQ((*seg)->Find(SeriesId(3)), nullptr);

  SeriesRowsBlock out;
  auto any = (*seg)->ReadRows(*s2, INT64_MIN, INT64_MAX, in.fields, &out);
  ASSERT_TRUE(any.ok()) << any.status();
  ASSERT_TRUE(*any);
  const auto& expected = in.series[0].rows;
  EXPECT_EQ(out.times, expected.times);
  for (size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(out.columns[c].present, expected.columns[c].present) << c;
    EXPECT_EQ(out.columns[c].bits, expected.columns[c].bits) << c;
    EXPECT_EQ(out.columns[c].strings, expected.columns[c].strings) << c;
  }
}

// The cursor lookup finds what the binary search finds, whatever the order of the ids asked:
// ascending (the scan's order), with gaps, backwards and at random, absent ids included.
TEST_F(SegmentTest, FindWithACursorAgreesWithFind) {
  SegmentInput in = MakeInput(1);
  in.series.clear();
  for (uint64_t id = 3; id < 600; id += 1 + id % 5) in.series.push_back(MakeSeries(id, 1));
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok()) << seg.status();
  std::vector<std::vector<uint64_t>> orders(4);
  for (uint64_t id = 0; id < 620; ++id) orders[0].push_back(id);
  for (uint64_t id = 0; id < 620; id += 7 + id % 13) orders[1].push_back(id);
  for (uint64_t id = 620; id-- > 0;) orders[2].push_back(id);
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) orders[3].push_back(rng() % 640);
  size_t found = 0;
  for (const auto& order : orders) {
    size_t cursor = 0;
    for (uint64_t id : order) {
      const SegmentSeries* expected = (*seg)->Find(SeriesId(id));
      ASSERT_EQ((*seg)->Find(SeriesId(id), &cursor), expected) << "id " << id;
      found += expected != nullptr;
    }
  }
  EXPECT_GT(found, 500u);
}

TEST_F(SegmentTest, TimeRangeProjectionAndMissingFields) {
  SegmentInput in = MakeInput(1000);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok());
  const auto& times = in.series[0].rows.times;
  SeriesRowsBlock out;
  std::vector<FieldSchema> projection{{"state", FieldType::kString},
                                      {"nope", FieldType::kDouble},
                                      {"temp", FieldType::kInt64}};  // wrong type: absent
  ASSERT_TRUE(
      *(*seg)->ReadRows(*(*seg)->Find(SeriesId(2)), times[10], times[19], projection, &out));
  EXPECT_EQ(out.times.size(), 10u);
  EXPECT_EQ(out.columns[0].strings[0], "idle");
  EXPECT_EQ(out.columns[1].present, std::vector<uint8_t>(10, 0));
  EXPECT_EQ(out.columns[2].present, std::vector<uint8_t>(10, 0));
  EXPECT_FALSE(*(*seg)->ReadRows(*(*seg)->Find(SeriesId(2)), 0, 5, projection, &out));
}

TEST_F(SegmentTest, ChunkStatistics) {
  SegmentInput in = MakeInput(100);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok());
  auto chunks = (*seg)->Chunks(*(*seg)->Find(SeriesId(2)));
  ASSERT_TRUE(chunks.ok());
  const Chunk& chunk = (*chunks)[0];
  const ChunkStats& temp = chunk.columns[0].stats;
  EXPECT_EQ(temp.count, 100u);
  EXPECT_EQ(std::bit_cast<double>(temp.min_bits), 20.0);
  EXPECT_EQ(std::bit_cast<double>(temp.max_bits), 20.99);
  EXPECT_NEAR(temp.sum, 100 * 20.0 + 49.5, 1e-9);
  EXPECT_EQ(std::bit_cast<double>(temp.first_bits), 20.0);
  EXPECT_EQ(std::bit_cast<double>(temp.last_bits), 20.99);
  const ChunkStats& delta = chunk.columns[1].stats;
  EXPECT_EQ(chunk.columns[1].presence, 2);
  EXPECT_EQ(delta.count, 100u - 15u);  // rows 0, 7, ..., 98 lack it
  EXPECT_EQ(static_cast<int64_t>(delta.min_bits), -99);
  EXPECT_EQ(static_cast<int64_t>(delta.max_bits), -1);
  EXPECT_EQ(chunk.columns[3].stats.sum, 34);  // bools: rows divisible by 3
}

// A segment's totals, gathered at open, are its rows' statistics: series 2 (three chunks) and
// series 5 (3 rows), each type compared as its type; a NaN marks the field's totals.
TEST_F(SegmentTest, TotalsCoverEveryRowOfEverySeries) {
  SegmentInput in = MakeInput(kRowsPerChunk * 2 + 100);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  BlockCache cache(1 << 20);
  for (BlockCache* c : {static_cast<BlockCache*>(nullptr), &cache}) {
    auto seg = Segment::Open(&env_, "s.sws", c);
    ASSERT_TRUE(seg.ok()) << seg.status();
    const Segment& s = **seg;
    EXPECT_EQ(s.rows(), kRowsPerChunk * 2 + 103);
    EXPECT_EQ(s.min_time(), 1'000'000'000'000);
    EXPECT_EQ(s.max_time(), 1'000'000'000'000 + int64_t{kRowsPerChunk * 2 + 99} * 100'000'000);
    ASSERT_EQ(s.totals().size(), 5u);
    // The expected totals from the rows themselves.
    uint64_t temp_count = 0, delta_count = 0, on_sum = 0;
    double temp_sum = 0, temp_min = 1e300, temp_max = -1e300;
    int64_t delta_min = INT64_MAX, delta_max = INT64_MIN;
    uint64_t serial_min = UINT64_MAX;
    for (const auto& series : in.series) {
      const auto& cols = series.rows.columns;
      for (size_t i = 0; i < series.rows.times.size(); ++i) {
        const double t = std::bit_cast<double>(cols[0].bits[i]);
        ++temp_count;
        temp_sum += t;
        temp_min = std::min(temp_min, t);
        temp_max = std::max(temp_max, t);
        if (cols[1].present[i]) {
          ++delta_count;
          delta_min = std::min(delta_min, static_cast<int64_t>(cols[1].bits[i]));
          delta_max = std::max(delta_max, static_cast<int64_t>(cols[1].bits[i]));
        }
        serial_min = std::min(serial_min, cols[2].bits[i]);
        on_sum += cols[3].bits[i];
      }
    }
    const auto& t = s.totals();
    EXPECT_EQ(t[0].count, temp_count);
    EXPECT_NEAR(t[0].sum, temp_sum, 1e-6);
    EXPECT_EQ(std::bit_cast<double>(t[0].min_bits), temp_min);
    EXPECT_EQ(std::bit_cast<double>(t[0].max_bits), temp_max);
    EXPECT_FALSE(t[0].nan);
    EXPECT_EQ(t[1].count, delta_count);
    EXPECT_EQ(static_cast<int64_t>(t[1].min_bits), delta_min);  // signed, not as bits
    EXPECT_EQ(static_cast<int64_t>(t[1].max_bits), delta_max);
    EXPECT_EQ(t[2].min_bits, serial_min);  // unsigned
    EXPECT_EQ(t[3].sum, static_cast<double>(on_sum));
    EXPECT_EQ(t[4].count, s.rows());  // strings: the count only
  }
  // One NaN in one chunk: the field's totals say so (their min and max would leave it out).
  in.series[1].rows.columns[0].bits[1] = std::bit_cast<uint64_t>(std::nan(""));
  ASSERT_TRUE(WriteSegment(&env_, "n.sws", in).ok());
  auto seg = Segment::Open(&env_, "n.sws");
  ASSERT_TRUE(seg.ok());
  EXPECT_TRUE((*seg)->totals()[0].nan);
  EXPECT_FALSE((*seg)->totals()[1].nan);
}

TEST_F(SegmentTest, SpecialDoublesSurvive) {
  SegmentInput in = MakeInput(6);
  auto& col = in.series[0].rows.columns[0];
  const double specials[] = {
      std::numeric_limits<double>::quiet_NaN(),  -0.0,
      std::numeric_limits<double>::infinity(),   -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};
  for (int i = 0; i < 6; ++i) col.bits[i] = std::bit_cast<uint64_t>(specials[i]);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok());
  SeriesRowsBlock out;
  ASSERT_TRUE(*(*seg)->ReadRows(*(*seg)->Find(SeriesId(2)), INT64_MIN, INT64_MAX, in.fields, &out));
  EXPECT_EQ(out.columns[0].bits, col.bits);
  // NaN does not poison min/max.
  auto chunks = (*seg)->Chunks(*(*seg)->Find(SeriesId(2)));
  ASSERT_TRUE(chunks.ok());
  const ChunkStats& st = (*chunks)[0].columns[0].stats;
  EXPECT_EQ(std::bit_cast<double>(st.min_bits), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(std::bit_cast<double>(st.max_bits), std::numeric_limits<double>::infinity());
}

TEST_F(SegmentTest, EveryTruncationFailsToOpen) {
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", MakeInput(50)).ok());
  std::string data = *ReadFileToString(&env_, "s.sws");
  for (size_t cut = 0; cut < data.size(); cut += 7) {
    ASSERT_TRUE(WriteFileAtomically(&env_, "t.sws", data.substr(0, cut)).ok());
    auto seg = Segment::Open(&env_, "t.sws");
    ASSERT_FALSE(seg.ok()) << "cut " << cut;
    EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
    EXPECT_NE(seg.status().message().find("segment 't.sws'"), std::string_view::npos);
  }
}

TEST_F(SegmentTest, GenerationRoundTripsAndVersion1IndexesReadAsGenerationZero) {
  SegmentInput in = MakeInput(50);
  in.generation = 5;
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok()) << seg.status();
  EXPECT_EQ((*seg)->generation(), 5u);

  // The same file as a version 1 index (before table generations): no generation varint.
  in.generation = 0;
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  std::string data = *ReadFileToString(&env_, "s.sws");
  const size_t footer = data.size() - 32;
  const uint64_t index_offset = DecodeFixed64(data.data() + footer);
  std::string index = data.substr(index_offset, footer - index_offset);
  const size_t generation_at = 1 + 1 + 5 + 2;  // version tenant "main" "m"
  ASSERT_EQ(index[0], '\x02');
  ASSERT_EQ(index[generation_at], '\0');
  index.erase(generation_at, 1);
  index[0] = 1;
  std::string v1 = data.substr(0, index_offset) + index;
  PutFixed64(&v1, index_offset);
  PutFixed64(&v1, index.size());
  PutFixed32(&v1, Checksum32(index));
  PutFixed32(&v1, 1);
  v1 += kSegmentMagic;
  ASSERT_TRUE(WriteFileAtomically(&env_, "v1.sws", v1).ok());
  auto old = Segment::Open(&env_, "v1.sws");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ((*old)->generation(), 0u);
  EXPECT_EQ((*old)->rows(), (*seg)->rows());
  SeriesRowsBlock out;
  ASSERT_TRUE(*(*old)->ReadRows(*(*old)->Find(SeriesId(2)), INT64_MIN, INT64_MAX, in.fields, &out));
  EXPECT_EQ(out.times, in.series[0].rows.times);
  EXPECT_EQ(out.columns[4].strings, in.series[0].rows.columns[4].strings);
}

TEST_F(SegmentTest, DamagedBlockIsReportedOnRead) {
  SegmentInput in = MakeInput(50);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  std::string data = *ReadFileToString(&env_, "s.sws");
  data[kSegmentMagic.size() + 2] ^= 0x10;  // inside the first block
  ASSERT_TRUE(WriteFileAtomically(&env_, "s.sws", data).ok());
  auto seg = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(seg.ok());  // the index is intact
  SeriesRowsBlock out;
  auto r = (*seg)->ReadRows(*(*seg)->Find(SeriesId(2)), INT64_MIN, INT64_MAX, in.fields, &out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "segment 's.sws': block checksum mismatch at offset 8");
}

TEST_F(SegmentTest, RandomDamageNeverCrashes) {
  SegmentInput in = MakeInput(300);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  const std::string data = *ReadFileToString(&env_, "s.sws");
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string damaged = data;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    ASSERT_TRUE(WriteFileAtomically(&env_, "d.sws", damaged).ok());
    auto seg = Segment::Open(&env_, "d.sws");
    if (!seg.ok()) continue;
    SeriesRowsBlock out;
    for (const auto& s : (*seg)->series()) {
      (*seg)->ReadRows(s, INT64_MIN, INT64_MAX, in.fields, &out).status().IgnoreError();
    }
  }
}

// --- segment indexes read through a BlockCache -------------------------------------------------

// 600 small series (their chunk entries straddle 16 KiB cache blocks here and there) and one of
// three chunks.
SegmentInput ManySeriesInput() {
  SegmentInput in = MakeInput(1);
  in.series.clear();
  for (uint64_t id = 1; id <= 600; ++id) {
    in.series.push_back(MakeSeries(id, id == 300 ? 2 * kRowsPerChunk + 5 : 3));
  }
  return in;
}

// Totals per value of a tag: each value's series' rows and statistics, "" for series without
// the tag, one group of everything for a tag no series has, none for a tag of too many values.
TEST_F(SegmentTest, TotalsByTagSplitTheTotalsPerValue) {
  SegmentInput in = ManySeriesInput();  // 600 series, host h1..h600
  in.tag_keys = {"host", "site"};
  for (auto& series : in.series) {
    const uint64_t id = series.rows.series.value();
    TagSet tags{{"host", "h" + std::to_string(id)}};
    if (id % 4 != 0) tags.emplace_back("site", "s" + std::to_string(id % 4));  // s1, s2, s3, ""
    series.info = std::make_shared<const SeriesInfo>(SeriesId(id), &kTable, tags);
  }
  ASSERT_TRUE(WriteSegment(&env_, "t.sws", in).ok());
  BlockCache cache(1 << 20);
  auto seg = Segment::Open(&env_, "t.sws", &cache);
  ASSERT_TRUE(seg.ok()) << seg.status();
  auto by_site = (*seg)->TotalsByTag("site");
  ASSERT_TRUE(by_site.ok()) << by_site.status();
  ASSERT_NE(*by_site, nullptr);
  ASSERT_EQ((*by_site)->size(), 4u);
  // Expected from the rows: rows, temp count and sum, delta min per site.
  std::map<std::string, std::tuple<uint64_t, uint64_t, double, int64_t>> want;
  for (const auto& series : in.series) {
    const uint64_t id = series.rows.series.value();
    auto& [rows, count, sum, delta_min] = want[id % 4 ? "s" + std::to_string(id % 4) : ""];
    if (rows == 0) delta_min = INT64_MAX;
    rows += series.rows.times.size();
    for (size_t i = 0; i < series.rows.times.size(); ++i) {
      ++count;
      sum += std::bit_cast<double>(series.rows.columns[0].bits[i]);
      if (series.rows.columns[1].present[i]) {
        delta_min = std::min(delta_min, static_cast<int64_t>(series.rows.columns[1].bits[i]));
      }
    }
  }
  uint64_t all_rows = 0;
  for (const TagValueTotals& t : **by_site) {
    SCOPED_TRACE(t.value);
    ASSERT_EQ(want.count(t.value), 1u);
    const auto& [rows, count, sum, delta_min] = want[t.value];
    EXPECT_EQ(t.rows, rows);
    EXPECT_EQ(t.fields[0].count, count);
    EXPECT_NEAR(t.fields[0].sum, sum, 1e-6);
    EXPECT_EQ(static_cast<int64_t>(t.fields[1].min_bits), delta_min);
    all_rows += t.rows;
  }
  EXPECT_EQ(all_rows, (*seg)->rows());
  EXPECT_EQ((**by_site)[0].value, "");  // sorted by value
  // Asked again: the same answer, kept.
  auto again = (*seg)->TotalsByTag("site");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *by_site);
  // A tag no series has: every row in one group.
  auto none = (*seg)->TotalsByTag("line");
  ASSERT_TRUE(none.ok());
  ASSERT_NE(*none, nullptr);
  ASSERT_EQ((*none)->size(), 1u);
  EXPECT_EQ((**none)[0].rows, (*seg)->rows());
  EXPECT_EQ((**none)[0].fields[0].count, (*seg)->totals()[0].count);
  // 600 hosts: more values than kMaxTagTotalsValues.
  auto hosts = (*seg)->TotalsByTag("host");
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(*hosts, nullptr);
}

// Each series' totals of each column are its rows' statistics, wherever it is among the blocks
// of kSeriesTotalsPerBlock series, asked in order or not, with or without an index cache (and
// with one that keeps nothing); a NaN shows; out-of-range asks are errors.
TEST_F(SegmentTest, SeriesTotalsAreEachSeriesStatistics) {
  SegmentInput in = MakeInput(1);
  in.series.clear();
  const uint64_t n = kSeriesTotalsPerBlock + 300;  // two blocks
  for (uint64_t id = 1; id <= n; ++id) {
    in.series.push_back(MakeSeries(id, id == 4100 ? kRowsPerChunk + 5 : 1 + id % 5));
  }
  // Series 9 has a NaN; series 12 lacks "delta" altogether.
  in.series[8].rows.columns[0].bits[1] = std::bit_cast<uint64_t>(std::nan(""));
  for (auto& p : in.series[11].rows.columns[1].present) p = 0;
  ASSERT_TRUE(WriteSegment(&env_, "t.sws", in).ok());
  // Expected from the rows: count, min, max and sum of temp; count, min and max of delta.
  struct Want {
    uint64_t temp_count = 0, delta_count = 0;
    double temp_min = 1e300, temp_max = -1e300, temp_sum = 0;
    int64_t delta_min = INT64_MAX, delta_max = INT64_MIN;
    bool nan = false;
  };
  std::vector<Want> want(n);
  for (uint64_t i = 0; i < n; ++i) {
    const auto& cols = in.series[i].rows.columns;
    Want& w = want[i];
    for (size_t r = 0; r < in.series[i].rows.times.size(); ++r) {
      const double t = std::bit_cast<double>(cols[0].bits[r]);
      ++w.temp_count;
      w.temp_sum += t;
      w.nan |= std::isnan(t);
      if (!std::isnan(t)) {
        w.temp_min = std::min(w.temp_min, t);
        w.temp_max = std::max(w.temp_max, t);
      }
      if (cols[1].present[r]) {
        ++w.delta_count;
        w.delta_min = std::min(w.delta_min, static_cast<int64_t>(cols[1].bits[r]));
        w.delta_max = std::max(w.delta_max, static_cast<int64_t>(cols[1].bits[r]));
      }
    }
  }
  BlockCache none(0), cache(16 << 20);
  for (BlockCache* c : {static_cast<BlockCache*>(nullptr), &none, &cache}) {
    SCOPED_TRACE(c == nullptr ? "no cache" : c == &none ? "a cache keeping nothing" : "a cache");
    auto seg = Segment::Open(&env_, "t.sws", c);
    ASSERT_TRUE(seg.ok()) << seg.status();
    ASSERT_EQ((*seg)->series().size(), n);
    // In order, then from the end backwards (a block change at every boundary).
    for (int pass = 0; pass < 2; ++pass) {
      Segment::TotalsHold temp_hold, delta_hold;
      for (uint64_t k = 0; k < n; ++k) {
        const uint64_t i = pass == 0 ? k : n - 1 - k;
        SCOPED_TRACE("series " + std::to_string(i + 1));
        ASSERT_EQ((*seg)->PositionOf((*seg)->series()[i]), i);
        auto temp = (*seg)->SeriesTotals(0, i, &temp_hold);
        auto delta = (*seg)->SeriesTotals(1, i, &delta_hold);
        ASSERT_TRUE(temp.ok() && delta.ok()) << temp.status() << delta.status();
        const Want& w = want[i];
        ASSERT_EQ(temp->count, w.temp_count);
        ASSERT_EQ(temp->nan, w.nan);
        if (!w.nan) {
          ASSERT_NEAR(temp->sum, w.temp_sum, 1e-6);
          ASSERT_EQ(std::bit_cast<double>(temp->min_bits), w.temp_min);
          ASSERT_EQ(std::bit_cast<double>(temp->max_bits), w.temp_max);
        }
        ASSERT_EQ(delta->count, w.delta_count);
        if (w.delta_count > 0) {
          ASSERT_EQ(static_cast<int64_t>(delta->min_bits), w.delta_min);  // signed order
          ASSERT_EQ(static_cast<int64_t>(delta->max_bits), w.delta_max);
        }
      }
    }
    Segment::TotalsHold hold;
    EXPECT_EQ((*seg)->SeriesTotals(5, 0, &hold).status().code(), StatusCode::kInternal);
    EXPECT_EQ((*seg)->SeriesTotals(0, n, &hold).status().code(), StatusCode::kInternal);
    if (c == &cache) {
      // Kept: asking again reads nothing from the index.
      const uint64_t misses = cache.misses();
      auto again = (*seg)->SeriesTotals(0, 5, &hold);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(cache.misses(), misses);
    }
  }
}

std::string Describe(const BlockRef& r) {
  return std::to_string(r.offset) + "+" + std::to_string(r.length) + "#" +
         std::to_string(r.checksum);
}

// Every field of every chunk, as text.
std::string Describe(const std::vector<Chunk>& chunks) {
  std::string out;
  for (const Chunk& c : chunks) {
    out += std::to_string(c.rows) + " " + std::to_string(c.min_time) + ".." +
           std::to_string(c.max_time) + " " + Describe(c.times) + " [";
    for (const ColumnChunk& col : c.columns) {
      out += std::to_string(col.presence) + " " + Describe(col.validity) + " " +
             Describe(col.values) + " " + std::to_string(col.stats.count) + " " +
             std::to_string(col.stats.min_bits) + " " + std::to_string(col.stats.max_bits) + " " +
             std::to_string(col.stats.sum) + " " + std::to_string(col.stats.first_bits) + " " +
             std::to_string(col.stats.last_bits) + "; ";
    }
    out += "]\n";
  }
  return out;
}

TEST_F(SegmentTest, IndexReadThroughACacheMatchesTheIndexInMemory) {
  SegmentInput in = ManySeriesInput();
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  auto plain = Segment::Open(&env_, "s.sws");
  ASSERT_TRUE(plain.ok()) << plain.status();
  size_t straddling = 0;
  for (const auto& s : (*plain)->series()) {
    straddling += s.chunk_offset / (16 << 10) != (s.chunk_offset + s.chunk_bytes - 1) / (16 << 10);
  }
  ASSERT_GT(straddling, 0u) << "the test needs chunk entries that span two cache blocks";

  // Nothing kept; about one block per cache shard (constant eviction); everything kept.
  for (size_t capacity : {size_t{0}, size_t{300} << 10, size_t{16} << 20}) {
    BlockCache cache(capacity);
    auto cached = Segment::Open(&env_, "s.sws", &cache);
    ASSERT_TRUE(cached.ok()) << cached.status();
    ASSERT_EQ((*cached)->series().size(), (*plain)->series().size());
    EXPECT_EQ((*cached)->rows(), (*plain)->rows());
    uint64_t misses_after_first_pass = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < (*plain)->series().size(); ++i) {
        const SegmentSeries& a = (*plain)->series()[i];
        const SegmentSeries& b = (*cached)->series()[i];
        ASSERT_EQ(a.id, b.id);
        ASSERT_EQ(a.tag_values(), b.tag_values());
        ASSERT_EQ(a.chunk_offset, b.chunk_offset);
        ASSERT_EQ(a.chunk_bytes, b.chunk_bytes);
        auto from_memory = (*plain)->Chunks(a);
        auto from_cache = (*cached)->Chunks(b);
        ASSERT_TRUE(from_memory.ok() && from_cache.ok());
        ASSERT_EQ(Describe(*from_cache), Describe(*from_memory))
            << "series " << a.id.value() << ", cache of " << capacity << " bytes";
      }
      EXPECT_LE(cache.charged_bytes(), capacity);
      if (pass == 0) misses_after_first_pass = cache.misses();
    }
    if (capacity == 0) {
      EXPECT_EQ(cache.hits(), 0u);
    }
    if (capacity == (size_t{16} << 20)) {
      EXPECT_EQ(cache.misses(), misses_after_first_pass) << "the second pass should only hit";
    }
    SeriesRowsBlock out;
    ASSERT_TRUE(*(*cached)->ReadRows(*(*cached)->Find(SeriesId(300)), INT64_MIN, INT64_MAX,
                                     in.fields, &out));
    EXPECT_EQ(out.times, in.series[299].rows.times);
    EXPECT_EQ(out.columns[4].strings, in.series[299].rows.columns[4].strings);
  }
}

// Chunks told which columns are wanted parses those exactly as a full parse does and passes
// over the others (presence kColumnNotRead), whatever their presence (every row, some rows with
// a validity block, none); reading a passed-over column is an error, not garbage.
TEST_F(SegmentTest, ChunksPassOverColumnsNotWanted) {
  SegmentInput in = ManySeriesInput();
  // Series 7 lacks "serial" entirely (presence 1); "delta" has a validity block (presence 2).
  in.series[6].rows.columns[2].present.assign(in.series[6].rows.times.size(), 0);
  in.series[6].rows.columns[2].bits.assign(in.series[6].rows.times.size(), 0);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  BlockCache cache(16 << 20);
  auto seg = Segment::Open(&env_, "s.sws", &cache);
  ASSERT_TRUE(seg.ok()) << seg.status();
  const std::vector<std::vector<bool>> masks = {{true, false, false, false, true},
                                                {false, true, false, false, false},
                                                {false, false, true, true, false},
                                                {false, false, false, false, false}};
  size_t not_read = 0;
  for (const auto& mask : masks) {
    Segment::IndexHold hold;
    std::vector<Chunk> chunks;  // reused across series, as scans do
    for (const SegmentSeries& series : (*seg)->series()) {
      auto full = (*seg)->Chunks(series);
      ASSERT_TRUE(full.ok());
      ASSERT_TRUE((*seg)->Chunks(series, &hold, &chunks, &mask).ok());
      ASSERT_EQ(chunks.size(), full->size());
      for (size_t c = 0; c < chunks.size(); ++c) {
        EXPECT_EQ(chunks[c].rows, (*full)[c].rows);
        EXPECT_EQ(chunks[c].max_time, (*full)[c].max_time);
        for (size_t k = 0; k < mask.size(); ++k) {
          if (mask[k]) {
            std::vector<Chunk> one{chunks[c]}, expected{(*full)[c]};
            one[0].columns = {chunks[c].columns[k]};
            expected[0].columns = {(*full)[c].columns[k]};
            EXPECT_EQ(Describe(one), Describe(expected)) << "series " << series.id.value();
          } else {
            ASSERT_EQ(chunks[c].columns[k].presence, kColumnNotRead);
            ++not_read;
            ColumnVector out;
            Status st = (*seg)->AppendChunkColumn(chunks[c], k, 0, 1, &out);
            EXPECT_EQ(st.code(), StatusCode::kInternal);
          }
        }
      }
    }
  }
  EXPECT_GT(not_read, 600u * 3);
}

// ReadRows with a state kept across series and projections (as scans keep one per segment)
// reads what it reads without one.
TEST_F(SegmentTest, ReadRowsWithAStateAgreesWithoutOne) {
  SegmentInput in = ManySeriesInput();
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  BlockCache cache(16 << 20);
  auto seg = Segment::Open(&env_, "s.sws", &cache);
  ASSERT_TRUE(seg.ok()) << seg.status();
  const std::vector<FieldSchema> all = in.fields;
  const std::vector<FieldSchema> some = {
      {"state", FieldType::kString}, {"nope", FieldType::kDouble}, {"delta", FieldType::kInt64}};
  Segment::ReadState state;
  Segment::ReadBuffers buffers;  // shared as a scan shares them between segments
  state.buffers = &buffers;
  // Skips chunks whose "delta" is absent from some row (statistics of a wanted column).
  std::function<bool(const Chunk&)> skip = [](const Chunk& c) {
    return c.columns[1].presence == 2;
  };
  size_t compared = 0, skipped_all = 0;
  for (const SegmentSeries& series : (*seg)->series()) {
    for (const auto* projection : {&all, &some, &some, &all}) {
      for (const auto* use_skip : {static_cast<decltype(&skip)>(nullptr), &skip}) {
        SeriesRowsBlock with, without;
        auto a =
            (*seg)->ReadRows(series, INT64_MIN, INT64_MAX, *projection, &with, use_skip, &state);
        auto b = (*seg)->ReadRows(series, INT64_MIN, INT64_MAX, *projection, &without, use_skip);
        ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
        ASSERT_EQ(*a, *b);
        skipped_all += !*a;
        ASSERT_EQ(with.times, without.times);
        ASSERT_EQ(with.columns.size(), projection->size());
        for (size_t c = 0; c < projection->size(); ++c) {
          EXPECT_EQ(with.columns[c].present, without.columns[c].present);
          EXPECT_EQ(with.columns[c].bits, without.columns[c].bits);
          EXPECT_EQ(with.columns[c].strings, without.columns[c].strings);
        }
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 600u * 8);
  EXPECT_GT(skipped_all, 0u);
}

TEST_F(SegmentTest, DamagedIndexFailsToOpenWithOrWithoutACache) {
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", MakeInput(50)).ok());
  const std::string data = *ReadFileToString(&env_, "s.sws");
  const size_t footer = data.size() - 32;
  const uint64_t index_offset = DecodeFixed64(data.data() + footer);
  BlockCache cache(1 << 20);
  for (size_t at = index_offset; at < footer; at += 3) {
    std::string damaged = data;
    damaged[at] ^= 0x41;
    ASSERT_TRUE(WriteFileAtomically(&env_, "d.sws", damaged).ok());
    // The checksum is what names the damage, also when the parser trips over it first.
    for (BlockCache* c : {static_cast<BlockCache*>(nullptr), &cache}) {
      auto seg = Segment::Open(&env_, "d.sws", c);
      ASSERT_FALSE(seg.ok()) << "byte " << at;
      EXPECT_EQ(seg.status().message(), "segment 'd.sws': index checksum mismatch");
    }
  }
  for (size_t cut = 0; cut < data.size(); cut += 7) {
    ASSERT_TRUE(WriteFileAtomically(&env_, "t.sws", data.substr(0, cut)).ok());
    auto seg = Segment::Open(&env_, "t.sws", &cache);
    ASSERT_FALSE(seg.ok()) << "cut " << cut;
    EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
  }
}

TEST_F(SegmentTest, IndexReadErrorsSurfaceThroughACache) {
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", ManySeriesInput()).ok());
  FaultInjectionEnv faulty(&env_);
  BlockCache cache(16 << 20);
  faulty.SetFaults({.fail_read = true});
  auto failed = Segment::Open(&faulty, "s.sws", &cache);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
  faulty.ClearFaults();
  auto seg = Segment::Open(&faulty, "s.sws", &cache);
  ASSERT_TRUE(seg.ok()) << seg.status();
  const SegmentSeries& first = (*seg)->series().front();
  ASSERT_TRUE((*seg)->Chunks(first).ok());
  faulty.SetFaults({.fail_read = true});
  EXPECT_TRUE((*seg)->Chunks(first).ok()) << "its block is cached";
  auto last = (*seg)->Chunks((*seg)->series().back());
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), StatusCode::kIOError);
  faulty.ClearFaults();
  EXPECT_TRUE((*seg)->Chunks((*seg)->series().back()).ok()) << "a failed read is not cached";
}

TEST_F(SegmentTest, RandomDamageNeverCrashesThroughACache) {
  SegmentInput in = ManySeriesInput();
  in.series.resize(40);
  ASSERT_TRUE(WriteSegment(&env_, "s.sws", in).ok());
  const std::string data = *ReadFileToString(&env_, "s.sws");
  std::mt19937 rng(9);
  BlockCache cache(1 << 20);
  for (int i = 0; i < 300; ++i) {
    std::string damaged = data;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    ASSERT_TRUE(WriteFileAtomically(&env_, "d.sws", damaged).ok());
    auto seg = Segment::Open(&env_, "d.sws", &cache);
    if (!seg.ok()) continue;
    SeriesRowsBlock out;
    for (const auto& s : (*seg)->series()) {
      (*seg)->ReadRows(s, INT64_MIN, INT64_MAX, in.fields, &out).status().IgnoreError();
    }
  }
}

// --- flushing through the engine ---------------------------------------------------------------

constexpr TenantId kTenant(1);

WriteBatch Rows(const std::vector<std::tuple<std::string, int64_t, double>>& rows) {
  WriteBatch b(kTenant, "main", "t");
  for (const auto& [host, time, v] : rows) {
    b.AddRow(time);
    EXPECT_TRUE(b.SetTag("host", host).ok());
    EXPECT_TRUE(b.SetDouble("v", v).ok());
  }
  return b;
}

std::map<std::pair<std::string, int64_t>, double> ReadAll(const Engine& e) {
  std::map<std::pair<std::string, int64_t>, double> out;
  ScanRequest r{kTenant, "main", "t"};
  Status s = e.Scan(r, [&](const SeriesBlock& b) {
    for (size_t i = 0; i < b.rows.times.size(); ++i) {
      if (b.rows.columns[0].present[i]) {
        out[{std::string(b.series->Tag("host")), b.rows.times[i]}] =
            std::bit_cast<double>(b.rows.columns[0].bits[i]);
      }
    }
    return Status::OK();
  });
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s;
  return out;
}

std::vector<std::string> Files(Env* env, const std::string& dir, std::string_view suffix) {
  std::vector<std::string> out;
  auto children = env->GetChildren(dir);
  for (const auto& n : *children) {
    if (n.ends_with(suffix)) out.push_back(n);
  }
  return out;
}

class FlushTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mem_.SyncDir(".").ok()); }
  std::unique_ptr<Engine> Open(EngineOptions options = {.shards = 1}) {
    auto e = Engine::Open(&mem_, "db", options, &metrics_);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }
  MemoryEnv mem_;
  MetricsRegistry metrics_;
};

constexpr int64_t kDay = 86'400'000'000'000;

TEST_F(FlushTest, FlushedRowsReadBackAndMergeWithNewerWrites) {
  auto e = Open();
  ASSERT_TRUE(e->Write(Rows({{"a", 10, 1.0}, {"a", 20, 2.0}, {"b", 10, 3.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 1u);
  // Overwrite a flushed row, add a late one before it, and a new one.
  ASSERT_TRUE(e->Write(Rows({{"a", 20, 20.0}, {"a", 5, 0.5}, {"a", 30, 3.0}})).ok());
  auto expected = std::map<std::pair<std::string, int64_t>, double>{
      {{"a", 5}, 0.5}, {{"a", 10}, 1.0}, {{"a", 20}, 20.0}, {{"a", 30}, 3.0}, {{"b", 10}, 3.0}};
  EXPECT_EQ(ReadAll(*e), expected);
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 2u);
  EXPECT_EQ(ReadAll(*e), expected);  // the newer segment wins
  e.reset();
  e = Open();
  EXPECT_EQ(ReadAll(*e), expected);
}

TEST_F(FlushTest, RestartAfterFlushReplaysNothing) {
  auto e = Open();
  ASSERT_TRUE(e->Write(Rows({{"a", 10, 1.0}})).ok());
  e.reset();                                                   // clean close flushes
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".wal").size(), 1u);  // only the fresh, empty one
  EXPECT_EQ(*mem_.GetFileSize("db/shard-000/" + Files(&mem_, "db/shard-000", ".wal")[0]),
            kWalMagic.size());
  e = Open();
  EXPECT_EQ(ReadAll(*e).size(), 1u);
  EXPECT_EQ(e->series().size(), 1u);  // restored from the segment
}

TEST_F(FlushTest, RestartsRemoveWalFilesHoldingOnlyFlushedRecords) {
  EngineOptions keep = {.shards = 1};
  keep.shard.flush_on_close = false;
  auto e = Open(keep);
  ASSERT_TRUE(e->Write(Rows({{"a", 10, 1.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Write(Rows({{"a", 20, 2.0}})).ok());  // logged, not flushed
  e.reset();
  for (int i = 0; i < 4; ++i) {
    e = Open(keep);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(ReadAll(*e).size(), 2u) << "start " << i;
    e.reset();
    // The file holding the unflushed record stays; each start's empty file is removed by the
    // next one, so only the newest of them is left beside it.
    EXPECT_EQ(Files(&mem_, "db/shard-000", ".wal").size(), 2u) << "start " << i;
  }
  e = Open();  // flushes at its close
  e.reset();
  e = Open();
  EXPECT_EQ(ReadAll(*e).size(), 2u);
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".wal").size(), 1u);
  e.reset();
  mem_.SimulateCrash();  // what was removed was removed durably, and the rows are in segments
  e = Open();
  EXPECT_EQ(ReadAll(*e).size(), 2u);
}
TEST_F(FlushTest, OneSegmentPerTablePartition) {
  auto e = Open();
  ASSERT_TRUE(
      e->Write(
           Rows({{"a", 1, 1.0}, {"a", kDay + 1, 2.0}, {"a", 2 * kDay + 1, 3.0}, {"a", -1, 4.0}}))
          .ok());
  WriteBatch other(kTenant, "main", "other");
  other.AddRow(1);
  ASSERT_TRUE(other.SetDouble("x", 1).ok());
  ASSERT_TRUE(e->Write(other).ok());
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 5u);  // 4 days of t, 1 of other
  EXPECT_EQ(ReadAll(*e).size(), 4u);
}

TEST_F(FlushTest, AutomaticFlushUnderLoadKeepsEveryRow) {
  EngineOptions options{.shards = 2};
  options.shard.flush_bytes = 4 * 1024;
  auto e = Open(options);
  std::map<std::pair<std::string, int64_t>, double> expected;
  for (int batch = 0; batch < 200; ++batch) {
    std::vector<std::tuple<std::string, int64_t, double>> rows;
    for (int i = 0; i < 20; ++i) {
      std::string host = "h" + std::to_string(i);
      rows.emplace_back(host, batch, batch * 100 + i);
      expected[{host, batch}] = batch * 100 + i;
    }
    ASSERT_TRUE(e->Write(Rows(rows)).ok());
    if (batch % 50 == 0) {
      EXPECT_EQ(ReadAll(*e).size(), expected.size());
    }
  }
  EXPECT_GE(metrics_.GetCounter("seaway_storage_flushes_total", "", {{"shard", "0"}})->value(), 2u);
  EXPECT_EQ(ReadAll(*e), expected);
  e.reset();
  e = Open();
  EXPECT_EQ(ReadAll(*e), expected);
}

TEST_F(FlushTest, FailedManifestWriteKeepsDataInTheWal) {
  FaultInjectionEnv faulty(&mem_);
  EngineOptions options{.shards = 1};
  auto opened = Engine::Open(&faulty, "db", options, &metrics_);
  ASSERT_TRUE(opened.ok());
  auto e = std::move(*opened);
  ASSERT_TRUE(e->Write(Rows({{"a", 10, 1.0}})).ok());
  faulty.SetFaults({.fail_open = true, .path_prefix = "db/shard-000/MANIFEST"});
  Status s = e->Flush();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("flush"), std::string_view::npos) << s;
  EXPECT_EQ(ReadAll(*e).size(), 1u);  // still readable from memory
  e.reset();
  faulty.ClearFaults();
  opened = Engine::Open(&faulty, "db", options, &metrics_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  e = std::move(*opened);
  EXPECT_EQ(ReadAll(*e).size(), 1u);  // replayed from the WAL; the orphan segment is gone
  e.reset();
}

TEST_F(FlushTest, PowerLossAroundFlushes) {
  EngineOptions options{.shards = 1};
  options.shard.flush_bytes = 512;
  options.shard.flush_on_close = false;
  std::map<std::pair<std::string, int64_t>, double> acked;
  for (uint64_t round = 1; round <= 6; ++round) {
    auto e = Open(options);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(ReadAll(*e), acked) << "round " << round;
    for (int i = 0; i < 60; ++i) {
      int64_t t = static_cast<int64_t>(round * 1000 + i);
      ASSERT_TRUE(e->Write(Rows({{"h" + std::to_string(i % 4), t, static_cast<double>(t)}})).ok());
      acked[{"h" + std::to_string(i % 4), t}] = static_cast<double>(t);
    }
    e->Close();
    mem_.SimulateCrash({CrashOptions::Mode::kTearUnsynced, round});
  }
}

TEST_F(FlushTest, CompactionMergesAPartitionsSegments) {
  EngineOptions options{.shards = 1};
  options.shard.compaction_trigger = 3;
  auto e = Open(options);
  std::map<std::pair<std::string, int64_t>, double> expected;
  for (int flush = 0; flush < 3; ++flush) {
    // Each flush overwrites one earlier row and adds new ones, all in one partition.
    ASSERT_TRUE(e->Write(Rows({{"a", 10, 100.0 + flush},
                               {"a", 20 + flush, 1.0 * flush},
                               {"b", 5 * flush, 7.0}}))
                    .ok());
    expected[{"a", 10}] = 100.0 + flush;
    expected[{"a", 20 + flush}] = 1.0 * flush;
    expected[{"b", 5 * flush}] = 7.0;
    ASSERT_TRUE(e->Flush().ok());
  }
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 1u);  // 3 flushes, then compacted
  EXPECT_EQ(metrics_.GetCounter("seaway_storage_compactions_total", "", {{"shard", "0"}})->value(),
            1u);
  EXPECT_EQ(ReadAll(*e), expected);
  e.reset();
  e = Open(options);
  EXPECT_EQ(ReadAll(*e), expected);
}

TEST_F(FlushTest, CompactionLeavesOtherPartitionsAlone) {
  EngineOptions options{.shards = 1};
  options.shard.compaction_trigger = 2;
  auto e = Open(options);
  ASSERT_TRUE(e->Write(Rows({{"a", 1, 1.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Write(Rows({{"a", kDay + 1, 2.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 2u);  // two partitions, one each
  ASSERT_TRUE(e->Write(Rows({{"a", 2, 3.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 2u);  // day 0 compacted 2 -> 1
  EXPECT_EQ(ReadAll(*e).size(), 3u);
}

// Below the trigger, a partition is compacted once settled: no memtable holds rows of it and
// its segments are of like size (checked by the periodic maintenance and Maintain, not right
// after a flush).
class SettledCompactionTest : public FlushTest {
 protected:
  // Writes rows i in [from, from + n) at time i (+ `day` days) across 50 series.
  void Write(Engine& e, int from, int n, int64_t day = 0) {
    std::vector<std::tuple<std::string, int64_t, double>> rows;
    for (int i = from; i < from + n; ++i) {
      rows.emplace_back("h" + std::to_string(i % 50), day * kDay + i, 1.0 * i);
    }
    ASSERT_TRUE(e.Write(Rows(rows)).ok());
  }
  size_t Segments() { return Files(&mem_, "db/shard-000", ".sws").size(); }
};

TEST_F(SettledCompactionTest, ASettledPartitionIsCompactedAndOneStillWrittenIsNot) {
  auto e = Open(EngineOptions{.shards = 1});  // the default trigger, 4
  Write(*e, 0, 500);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 500, 500);
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Segments(), 2u);  // not right after the flush
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 1u);
  EXPECT_EQ(ReadAll(*e).size(), 1000u);

  Write(*e, 1000, 1000);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 2000, 10);  // the memtable holds rows of the partition: still written to
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 2u);
  EXPECT_EQ(ReadAll(*e).size(), 2010u);
}

TEST_F(SettledCompactionTest, ASmallNewcomerWaitsForTheTrigger) {
  auto e = Open(EngineOptions{.shards = 1});
  Write(*e, 0, 1000);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 1000, 10);  // a few late rows must not rewrite the whole partition
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 2u);
  EXPECT_EQ(ReadAll(*e).size(), 1010u);
}

TEST_F(SettledCompactionTest, AnOverlappingSmallerSegmentIsMergedOnceSettled) {
  // A bulk load whose batches arrive slightly out of order: the last flush overlaps the
  // partition's other segment in time, so every scan would merge rows instead of summing
  // statistics. Smaller than "like sized", but not a few late rows either.
  auto e = Open(EngineOptions{.shards = 1});
  Write(*e, 0, 1000);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 900, 300);  // 900..1199: overlaps 0..999
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 1u);
  EXPECT_EQ(ReadAll(*e).size(), 1200u);
  // A few late rows inside the partition's range wait for the trigger (read merged till then).
  Write(*e, 0, 1000, /*day=*/1);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 500, 2, /*day=*/1);
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 1u + 2u);
  EXPECT_EQ(ReadAll(*e).size(), 2200u);
}

TEST_F(SettledCompactionTest, RowsOfAnotherPartitionInMemoryDoNotHoldOneBack) {
  auto e = Open(EngineOptions{.shards = 1});
  Write(*e, 0, 500);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 500, 500);
  ASSERT_TRUE(e->Flush().ok());
  Write(*e, 0, 10, /*day=*/1);  // in memory: the next day's rows only
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Segments(), 1u);
  EXPECT_EQ(ReadAll(*e).size(), 1010u);
}

TEST_F(FlushTest, DeletesReachFlushedRowsAndSurviveFlushRestartAndCompaction) {
  EngineOptions options{.shards = 1};
  options.shard.compaction_trigger = 3;
  auto e = Open(options);
  ASSERT_TRUE(e->Write(Rows({{"a", 10, 1.0}, {"a", 20, 2.0}, {"b", 20, 3.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());  // segment 1 holds the rows
  ASSERT_TRUE(e->Delete(ScanRequest{kTenant, "main", "t", 15, 25, {{"host", "a"}}}).ok());
  auto expected =
      std::map<std::pair<std::string, int64_t>, double>{{{"a", 10}, 1.0}, {{"b", 20}, 3.0}};
  EXPECT_EQ(ReadAll(*e), expected);  // the tombstone hides the flushed row
  ASSERT_TRUE(e->Write(Rows({{"c", 5, 4.0}})).ok());
  expected[{"c", 5}] = 4.0;
  e.reset();  // flushes segment 2: the delete leaves the WAL, the manifest keeps its tombstone
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 2u);
  e = Open(options);
  EXPECT_EQ(ReadAll(*e), expected);
  ASSERT_TRUE(e->Write(Rows({{"a", 20, 9.0}})).ok());  // rewritten after the delete: visible
  expected[{"a", 20}] = 9.0;
  EXPECT_EQ(e->tombstone_count(), 1u);
  ASSERT_TRUE(e->Flush().ok());  // segment 3, then compaction applies the tombstone for good
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 1u);
  EXPECT_EQ(e->tombstone_count(), 0u);  // spent: no older source holds the series any more
  EXPECT_EQ(ReadAll(*e), expected);
  e.reset();
  e = Open(options);
  EXPECT_EQ(ReadAll(*e), expected);
}

TEST_F(FlushTest, RetentionHidesThenDropsExpiredPartitions) {
  ManualClock clock(Timestamp::FromNanos(10 * kDay));
  EngineOptions options{.shards = 1};
  options.clock = &clock;
  auto e = Open(options);
  ASSERT_TRUE(
      e->Write(Rows({{"a", 1 * kDay + 5, 1.0}, {"a", 5 * kDay + 5, 5.0}, {"a", 9 * kDay + 5, 9.0}}))
          .ok());
  ASSERT_TRUE(e->Flush().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 3u);
  // Keep 7 days: day 1 is expired (its partition ends at day 2 <= day 3).
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "", Duration::Seconds(7 * 86400)).ok());
  EXPECT_EQ(ReadAll(*e).size(), 2u);  // hidden at once
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 2u);  // dropped whole
  EXPECT_EQ(
      metrics_.GetCounter("seaway_storage_expired_segments_total", "", {{"shard", "0"}})->value(),
      1u);
  // A table policy overrides its database's, and survives a restart.
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "t", Duration::Seconds(2 * 86400)).ok());
  e.reset();
  e = Open(options);
  EXPECT_EQ(e->Retention(kTenant, "main", "t"), Duration::Seconds(2 * 86400));
  EXPECT_EQ(e->Retention(kTenant, "main", "other"), Duration::Seconds(7 * 86400));
  EXPECT_EQ(ReadAll(*e).size(), 1u);
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 1u);
  // Time moves on: the last partition expires too.
  clock.Advance(Duration::Seconds(5 * 86400));
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_TRUE(ReadAll(*e).empty());
  EXPECT_TRUE(Files(&mem_, "db/shard-000", ".sws").empty());
  EXPECT_EQ(e->SetRetention(kTenant, "main", "", Duration::Nanos(0)).message(),
            "retention of 'main' must be positive");
}

// Rows a shorter policy expired stay gone when a longer one follows, before maintenance dropped
// their partition (part of a partition never is) and after a restart; a table whose own policy
// keeps them keeps them.
TEST_F(FlushTest, ALongerRetentionDoesNotBringBackWhatAShorterOneExpired) {
  ManualClock clock(Timestamp::FromNanos(10 * kDay));
  EngineOptions options{.shards = 1};
  options.clock = &clock;
  auto e = Open(options);
  ASSERT_TRUE(
      e->Write(
           Rows({{"a", 8 * kDay, 8.0}, {"a", 8 * kDay + kDay / 2, 8.5}, {"a", 9 * kDay + 5, 9.0}}))
          .ok());
  WriteBatch other(kTenant, "main", "kept");
  other.AddRow(8 * kDay);
  ASSERT_TRUE(other.SetTag("host", "a").ok());
  ASSERT_TRUE(other.SetDouble("v", 1.0).ok());
  ASSERT_TRUE(e->Write(other).ok());
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "kept", Duration::Seconds(30 * 86400)).ok());
  ASSERT_TRUE(e->Flush().ok());
  // Keep 1.25 days: the cutoff (8.75 days) lies inside day 8's partition, which ends after it:
  // maintenance keeps that partition, and its two rows are only hidden.
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "", Duration::Nanos(kDay + kDay / 4)).ok());
  ASSERT_TRUE(e->Maintain().ok());
  const std::map<std::pair<std::string, int64_t>, double> left{{{"a", 9 * kDay + 5}, 9.0}};
  EXPECT_EQ(ReadAll(*e), left);
  EXPECT_EQ(Files(&mem_, "db/shard-000", ".sws").size(), 3u);  // day 8 partly expired, kept
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "", Duration::Seconds(30 * 86400)).ok());
  EXPECT_EQ(ReadAll(*e), left);
  e.reset();
  e = Open(options);
  EXPECT_EQ(ReadAll(*e), left);
  ASSERT_TRUE(e->Flush().ok());
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_EQ(ReadAll(*e), left);
  // The table with a policy of its own was not touched; nor by the tenant's default.
  ASSERT_TRUE(e->SetTenantRetention(kTenant, Duration::Seconds(86400)).ok());
  ScanRequest kept{kTenant, "main", "kept"};
  size_t rows = 0;
  ASSERT_TRUE(e->Scan(kept, [&](const SeriesBlock& b) {
                 rows += b.rows.times.size();
                 return Status::OK();
               }).ok());
  EXPECT_EQ(rows, 1u);
  e.reset();  // before `clock`
}

// The tenant's default (a tenant setting) applies to tables whose database has no policy; the
// segments' bytes are counted per tenant.
TEST_F(FlushTest, TenantRetentionIsTheDefaultAndStoredBytesCountPerTenant) {
  ManualClock clock(Timestamp::FromNanos(10 * kDay));
  EngineOptions options{.shards = 1};
  options.clock = &clock;
  auto e = Open(options);
  EXPECT_EQ(e->StoredBytes(kTenant), 0u);
  ASSERT_TRUE(e->Write(Rows({{"a", 1 * kDay + 5, 1.0}, {"a", 9 * kDay + 5, 9.0}})).ok());
  ASSERT_TRUE(e->Flush().ok());
  uint64_t on_disk = 0;
  for (const auto& f : Files(&mem_, "db/shard-000", ".sws"))
    on_disk += *mem_.GetFileSize("db/shard-000/" + f);
  EXPECT_EQ(e->StoredBytes(kTenant), on_disk);
  EXPECT_GT(on_disk, 0u);
  EXPECT_EQ(e->StoredBytes(TenantId(kTenant.value() + 1)), 0u);
  ASSERT_TRUE(e->SetTenantRetention(kTenant, Duration::Seconds(3 * 86400)).ok());
  EXPECT_EQ(e->Retention(kTenant, "main", "t"), Duration::Seconds(3 * 86400));
  EXPECT_FALSE(e->Retention(TenantId(kTenant.value() + 1), "main", "t").has_value());
  EXPECT_EQ(ReadAll(*e).size(), 1u);
  ASSERT_TRUE(e->Maintain().ok());
  EXPECT_LT(e->StoredBytes(kTenant), on_disk);
  // A database policy wins over the tenant's default; removing the default keeps it.
  ASSERT_TRUE(e->SetRetention(kTenant, "main", "", Duration::Seconds(30 * 86400)).ok());
  EXPECT_EQ(e->Retention(kTenant, "main", "t"), Duration::Seconds(30 * 86400));
  ASSERT_TRUE(e->SetTenantRetention(kTenant, std::nullopt).ok());
  EXPECT_EQ(e->Retention(kTenant, "main", "t"), Duration::Seconds(30 * 86400));
  EXPECT_FALSE(e->Retention(kTenant, "other", "t").has_value());
}

}  // namespace
}  // namespace seaway
