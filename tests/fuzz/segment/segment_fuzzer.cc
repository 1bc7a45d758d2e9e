// Fuzz target for segment files (src/storage/segment.h): the input is written to a MemoryEnv file
// and opened; if it opens, the index must satisfy the invariants Open promises (docs/formats/
// segment.md S1-S4: refs inside the data region, increasing series ids, chunk rows that add up),
// and every series is read with all fields, over all time and over a narrow range, with a field
// the segment lacks; every chunk is also read column by column, float columns also densely (the
// two readers must agree). Errors must be Corruption naming
// the file; crashes, sanitizer reports and allocations beyond the input's proportion fail.
//
// Checksums would stop almost every mutation at the index or block check, so each input also
// runs a second time with its checksums repaired: the index checksum in the footer, then every
// block's checksum found in the index (by its old value, in index order). That lets the fuzzer
// reach the index parser and the block glue (presence, counts, codec ids) with altered bytes.
#include <xxhash.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "fuzz/fuzz_check.h"
#include "storage/memory_env.h"
#include "storage/segment.h"

#define CHECK FUZZ_CHECK

namespace {

using seaway::BlockRef;
using seaway::Segment;

constexpr size_t kFooterBytes = 32;
constexpr char kPath[] = "/s.sws";

void CheckError(const seaway::Status& status) {
  CHECK(status.code() == seaway::StatusCode::kCorruption);
  CHECK(status.message().find(kPath) != std::string_view::npos);
}

uint32_t Checksum(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

void CheckRef(const BlockRef& ref, uint64_t file_bytes) {
  CHECK(ref.offset >= 8 && ref.offset <= file_bytes - kFooterBytes &&
        ref.length <= file_bytes - kFooterBytes - ref.offset);
}

void CheckRows(const Segment& seg, const seaway::SegmentSeries& s,
               const std::vector<seaway::FieldSchema>& fields, int64_t min_time, int64_t max_time) {
  seaway::SeriesRowsBlock block;
  auto any = seg.ReadRows(s, min_time, max_time, fields, &block);
  if (!any.ok()) return CheckError(any.status());
  CHECK(block.times.size() <= s.rows && *any == !block.times.empty());
  CHECK(block.columns.size() == fields.size());
  for (size_t f = 0; f < fields.size(); ++f) {
    const seaway::ColumnVector& col = block.columns[f];
    CHECK(col.type == fields[f].type);
    CHECK(col.present.size() == block.times.size() && col.bits.size() == block.times.size());
    if (col.type == seaway::FieldType::kString) CHECK(col.strings.size() == block.times.size());
  }
}

void CheckSegment(std::string_view file) {
  seaway::MemoryEnv env;
  auto out = env.NewWritableFile(kPath);
  CHECK(out.ok() && (*out)->Append(file).ok() && (*out)->Close().ok());
  auto opened = Segment::Open(&env, kPath);
  if (!opened.ok()) return CheckError(opened.status());
  const Segment& seg = **opened;
  CHECK(seg.file_bytes() == file.size() && file.size() >= 8 + kFooterBytes);
  uint64_t rows = 0, previous_id = 0;
  for (const auto& s : seg.series()) {
    CHECK(s.id.value() > previous_id);  // S3
    previous_id = s.id.value();
    CHECK(s.tag_values().size() == seg.tag_keys().size());
    uint64_t chunk_rows = 0;
    auto chunks = seg.Chunks(s);
    CHECK(chunks.ok() && chunks->size() == s.chunk_count);  // validated at open
    for (const auto& c : *chunks) {
      CHECK(c.rows >= 1 && c.rows <= seaway::kRowsPerChunk && c.min_time <= c.max_time);  // S4
      CHECK(c.columns.size() == seg.fields().size());
      chunk_rows += c.rows;
      CheckRef(c.times, file.size());  // S2
      for (const auto& col : c.columns) {
        CHECK(col.presence <= 2 && col.stats.count <= c.rows);
        if (col.presence == 2) CheckRef(col.validity, file.size());
        if (col.presence != 1) CheckRef(col.values, file.size());
      }
    }
    CHECK(chunk_rows == s.rows);
    rows += s.rows;
  }
  CHECK(rows == seg.rows());

  std::vector<seaway::FieldSchema> fields = seg.fields();
  fields.push_back({"fuzz_absent_field", seaway::FieldType::kDouble});
  for (const auto& s : seg.series()) {
    CHECK(seg.Find(s.id) == &s);
    CheckRows(seg, s, fields, std::numeric_limits<int64_t>::min(),
              std::numeric_limits<int64_t>::max());
    CheckRows(seg, s, fields, s.min_time, s.min_time);
    auto chunks = seg.Chunks(s);
    CHECK(chunks.ok());
    for (const auto& c : *chunks) {
      std::vector<int64_t> times;
      seaway::Status status = seg.ReadChunkTimes(c, &times);
      if (!status.ok()) {
        CheckError(status);
      } else {
        CHECK(times.size() == c.rows);
      }
      for (size_t f = 0; f < seg.fields().size(); ++f) {
        seaway::ColumnVector col;
        status = seg.ReadChunkColumn(c, f, &col);
        if (!status.ok()) {
          CheckError(status);
          continue;
        }
        CHECK(col.present.size() == c.rows && col.bits.size() == c.rows);
        if (seg.fields()[f].type != seaway::FieldType::kDouble) continue;
        // The dense reader must agree with the per-row one wherever both accept the chunk.
        std::vector<double> dense{1.5};  // appended to
        status = seg.ReadChunkDoubles(c, f, &dense);
        if (!status.ok()) {
          CheckError(status);
          continue;
        }
        size_t j = 1;
        for (size_t r = 0; r < c.rows; ++r) {
          if (!col.present[r]) continue;
          CHECK(j < dense.size() && std::bit_cast<uint64_t>(dense[j]) == col.bits[r]);
          ++j;
        }
        CHECK(j == dense.size());
      }
    }
  }
}

// The index's position from the footer, if the footer is plausible.
bool IndexPosition(const std::string& file, uint64_t* offset, uint64_t* length) {
  if (file.size() < 8 + kFooterBytes) return false;
  const char* footer = file.data() + file.size() - kFooterBytes;
  if (std::string_view(footer + 24, 8) != seaway::kSegmentMagic) return false;
  *offset = seaway::DecodeFixed64(footer);
  *length = seaway::DecodeFixed64(footer + 8);
  return *offset >= 8 && *offset <= file.size() - kFooterBytes &&
         *length == file.size() - kFooterBytes - *offset;
}

void FixIndexChecksum(std::string* file, uint64_t offset, uint64_t length) {
  const uint32_t sum = Checksum(std::string_view(*file).substr(offset, length));
  std::memcpy(file->data() + file->size() - 16, &sum, 4);
}

// Repairs the index checksum, then block checksums; returns whether anything changed.
bool RepairChecksums(std::string* file) {
  const std::string original = *file;
  uint64_t index_offset, index_length;
  if (!IndexPosition(*file, &index_offset, &index_length)) return false;
  FixIndexChecksum(file, index_offset, index_length);
  seaway::MemoryEnv env;
  auto out = env.NewWritableFile(kPath);
  CHECK(out.ok() && (*out)->Append(*file).ok() && (*out)->Close().ok());
  auto opened = Segment::Open(&env, kPath);
  if (opened.ok()) {
    size_t cursor = index_offset;  // refs appear in the index in this order
    const size_t index_end = index_offset + index_length;
    auto repair = [&](const BlockRef& ref) {
      const uint32_t actual = Checksum(std::string_view(*file).substr(ref.offset, ref.length));
      char old_bytes[4];
      std::memcpy(old_bytes, &ref.checksum, 4);
      const size_t at =
          std::string_view(*file).substr(0, index_end).find(std::string_view(old_bytes, 4), cursor);
      if (at == std::string_view::npos) return;
      std::memcpy(file->data() + at, &actual, 4);
      cursor = at + 4;
    };
    for (const auto& s : (*opened)->series()) {
      auto chunks = (*opened)->Chunks(s);
      if (!chunks.ok()) continue;
      for (const auto& c : *chunks) {
        repair(c.times);
        for (const auto& col : c.columns) {
          if (col.presence == 2) repair(col.validity);
          if (col.presence != 1) repair(col.values);
        }
      }
    }
    FixIndexChecksum(file, index_offset, index_length);
  }
  return *file != original;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file(reinterpret_cast<const char*>(data), size);
  CheckSegment(file);
  if (RepairChecksums(&file)) CheckSegment(file);
  return 0;
}
