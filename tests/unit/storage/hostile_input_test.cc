// Tests that the decoders of untrusted storage bytes (WAL record payloads, segment indexes) size
// nothing from a count before checking it against the bytes that could encode it: crafted
// inputs that claim huge counts fail cleanly with Corruption, and the memory a decode allocates
// stays proportional to its input. This binary counts every allocation of the thread that
// decodes (global operator new is replaced here, so it is its own test target).
#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "common/coding.h"
#include "storage/checksummed_file.h"
#include "storage/memory_env.h"
#include "storage/segment.h"
#include "storage/wal_record.h"

namespace {
thread_local size_t allocated_bytes = 0;
}  // namespace

void* operator new(size_t n) {
  allocated_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace seaway {
namespace {

// Bytes allocated by the current thread while `fn` runs.
template <typename Fn>
size_t AllocatedBy(Fn fn) {
  const size_t before = allocated_bytes;
  fn();
  return allocated_bytes - before;
}

// A write-record payload header: version 1, tenant 1, database "d", table "t".
std::string RecordHeader() {
  std::string p(1, '\x01');
  PutVarint64(&p, 1);
  PutLengthPrefixed(&p, "d");
  PutLengthPrefixed(&p, "t");
  return p;
}

// The decoding budget the tests hold decoders to: a presence-bitmap bit may become a row of a
// column (1 + 8 + 16 bytes), so 200 bytes per input byte is the honest worst case; anything
// sized from an unchecked count is orders of magnitude above it.
constexpr size_t kBytesPerInputByte = 256;
constexpr size_t kFixedAllowance = 64 << 10;

void ExpectCorruptionWithinBudget(std::string_view payload, std::string_view what) {
  WriteRecord record;
  Status status;
  const size_t bytes = AllocatedBy([&] { status = DecodeWriteRecord(payload, &record); });
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status;
  EXPECT_NE(status.message().find(what), std::string_view::npos) << status;
  EXPECT_LE(bytes, kBytesPerInputByte * payload.size() + kFixedAllowance)
      << "decoding " << payload.size() << " bytes allocated " << bytes;
}

TEST(HostileWalRecordTest, SeriesCountIsBoundedByTheBytesASeriesNeeds) {
  // 1024 tag keys, so a series needs over 1 KiB; the count claims one series per byte left.
  std::string p = RecordHeader();
  PutVarint64(&p, 1024);
  p.append(1024, '\0');  // empty tag keys
  PutVarint64(&p, 0);    // no fields
  const size_t padding = 1 << 20;
  PutVarint64(&p, padding);
  p.append(padding, '\0');
  ExpectCorruptionWithinBudget(p, "series count");
  // Before the bound, the series vector alone took ~100 bytes per claimed series.
}

TEST(HostileWalRecordTest, TagValuesOfATruncatedSeriesAreNotMaterialized) {
  // The count fits, but the payload ends inside the first series' tag values.
  std::string p = RecordHeader();
  PutVarint64(&p, 1024);
  p.append(1024, '\0');
  PutVarint64(&p, 0);
  PutVarint64(&p, 0);  // zero series is fine ...
  WriteRecord record;
  EXPECT_TRUE(DecodeWriteRecord(p, &record).ok());
  p.back() = '\x01';  // ... one series needs 1027 more bytes
  p.append(100, '\0');
  ExpectCorruptionWithinBudget(p, "series count");
}

TEST(HostileWalRecordTest, RowCountIsBoundedByTheBytesLeft) {
  std::string p = RecordHeader();
  PutVarint64(&p, 0);  // no tags
  PutVarint64(&p, 1);
  PutLengthPrefixed(&p, "v");
  p.push_back(static_cast<char>(FieldType::kDouble));
  PutVarint64(&p, 1);  // one series
  PutVarint64(&p, 7);  // id
  PutVarint64(&p, kMaxRecordRowsPerSeries);
  p.append(1000, '\0');
  ExpectCorruptionWithinBudget(p, "row count");
}

TEST(HostileWalRecordTest, ValuesAreCheckedAgainstTheBytesLeftBeforeAColumnIsSized) {
  // 100k rows with one-byte times, then an all-present float column with one byte per value
  // where eight are needed.
  const size_t rows = 100'000;
  std::string p = RecordHeader();
  PutVarint64(&p, 0);
  PutVarint64(&p, 1);
  PutLengthPrefixed(&p, "v");
  p.push_back(static_cast<char>(FieldType::kDouble));
  PutVarint64(&p, 1);
  PutVarint64(&p, 7);
  PutVarint64(&p, rows);
  p.append(rows, '\x02');  // time deltas of +1
  p.push_back('\0');       // every row present
  p.append(rows, '\0');
  ExpectCorruptionWithinBudget(p, "values of field 'v'");

  // A bitmap that marks more rows than there are bytes for values.
  std::string q = RecordHeader();
  PutVarint64(&q, 0);
  PutVarint64(&q, 1);
  PutLengthPrefixed(&q, "v");
  q.push_back(static_cast<char>(FieldType::kInt64));
  PutVarint64(&q, 1);
  PutVarint64(&q, 7);
  PutVarint64(&q, rows);
  q.append(rows, '\x02');
  q.push_back('\x02');
  q.append(rows / 8, '\xff');
  q.append(10, '\0');
  ExpectCorruptionWithinBudget(q, "values of field 'v'");
}

TEST(HostileWalRecordTest, SparseBitmapsStayWithinTheBudget) {
  // The most a valid record can expand: 64 string columns with one value in 8192 rows each.
  const size_t rows = 8192;
  const size_t fields = 64;
  std::string p = RecordHeader();
  PutVarint64(&p, 0);
  PutVarint64(&p, fields);
  for (size_t f = 0; f < fields; ++f) {
    PutLengthPrefixed(&p, "f" + std::to_string(f));
    p.push_back(static_cast<char>(FieldType::kString));
  }
  PutVarint64(&p, 1);
  PutVarint64(&p, 7);
  PutVarint64(&p, rows);
  p.append(rows, '\x02');
  for (size_t f = 0; f < fields; ++f) {
    p.push_back('\x02');
    std::string bitmap(rows / 8, '\0');
    bitmap[f] = 1;
    p.append(bitmap);
    PutLengthPrefixed(&p, "");
  }
  WriteRecord record;
  Status status;
  const size_t bytes = AllocatedBy([&] { status = DecodeWriteRecord(p, &record); });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(record.RowCount(), rows);
  EXPECT_LE(bytes, kBytesPerInputByte * p.size() + kFixedAllowance);
}

// A segment file around `index`: magic, no blocks, the index, a valid footer.
std::string SegmentAround(const std::string& index) {
  std::string file(kSegmentMagic);
  file += index;
  PutFixed64(&file, kSegmentMagic.size());
  PutFixed64(&file, index.size());
  PutFixed32(&file, Checksum32(index));
  PutFixed32(&file, 1);
  file += kSegmentMagic;
  return file;
}

// An index header with `tags` empty tag keys and no fields.
std::string SegmentIndexHeader(size_t tags) {
  std::string index(1, '\x01');
  PutVarint64(&index, 3);  // tenant
  PutLengthPrefixed(&index, "main");
  PutLengthPrefixed(&index, "m");
  PutVarint64(&index, ZigZagEncode(0));
  PutVarint64(&index, ZigZagEncode(86'400'000'000'000));
  PutVarint64(&index, 1);  // max_lsn
  PutVarint64(&index, tags);
  index.append(tags, '\0');
  PutVarint64(&index, 0);  // fields
  return index;
}

class HostileSegmentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.SyncDir(".").ok()); }

  // Opens the file with its index held in memory and read through a cache; both must fail the
  // same way within the budget.
  Status OpenWithinBudget(const std::string& file) {
    EXPECT_TRUE(WriteFileAtomically(&env_, "s.sws", file).ok());
    Status status;
    const size_t bytes = AllocatedBy([&] { status = Segment::Open(&env_, "s.sws").status(); });
    // The index is copied once from the MemoryEnv file; what is sized from it must stay small.
    EXPECT_LE(bytes, 16 * file.size() + kFixedAllowance)
        << "opening " << file.size() << " bytes allocated " << bytes;
    BlockCache cache(1 << 20);
    Status cached;
    const size_t cached_bytes =
        AllocatedBy([&] { cached = Segment::Open(&env_, "s.sws", &cache).status(); });
    EXPECT_LE(cached_bytes, 16 * file.size() + kFixedAllowance)
        << "opening " << file.size() << " bytes through a cache allocated " << cached_bytes;
    EXPECT_EQ(cached.code(), status.code());
    EXPECT_EQ(cached.message(), status.message());
    return status;
  }

  MemoryEnv env_;
};

TEST_F(HostileSegmentTest, SeriesCountIsBoundedByTheBytesASeriesNeeds) {
  std::string index = SegmentIndexHeader(1024);
  const size_t padding = 1 << 20;
  PutVarint64(&index, padding);  // one series per byte left, each needing over 1 KiB
  index.append(padding, '\0');
  Status s = OpenWithinBudget(SegmentAround(index));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "segment 's.sws': series count larger than the index can hold");
}

TEST_F(HostileSegmentTest, ChunkCountIsBoundedByTheBytesAChunkNeeds) {
  std::string index = SegmentIndexHeader(0);
  PutVarint64(&index, 1);  // one series
  PutVarint64(&index, 2);  // id
  PutVarint64(&index, 1);  // rows
  PutVarint64(&index, 0);  // min time
  PutVarint64(&index, 0);  // max time
  PutVarint64(&index, 1000);
  index.append(1000, '\0');  // one byte per claimed chunk, where nine are needed
  Status s = OpenWithinBudget(SegmentAround(index));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "segment 's.sws': truncated series header");
}

TEST_F(HostileSegmentTest, TagCountIsBoundedByTheBytesLeft) {
  std::string index = SegmentIndexHeader(0);
  index.resize(index.size() - 2);  // drop the tag and field counts
  PutVarint64(&index, 1000);       // 1000 tag keys in 3 bytes
  index.append(3, '\0');
  Status s = OpenWithinBudget(SegmentAround(index));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "segment 's.sws': bad tag count");
}

}  // namespace
}  // namespace seaway
