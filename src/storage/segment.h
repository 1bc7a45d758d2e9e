// Segment: an immutable, compressed, columnar file holding one table's rows for one time
// partition of one shard (src/storage). Flushes write them; compaction merges them; retention
// deletes them whole. The layout and its invariants are in docs/formats/segment.md.
//
//   file   := magic "SEAWSEG1" block* index footer
//   footer := index_offset:u64 index_length:u64 index_checksum:u32 version:u32 magic (32 bytes)
//
// Each series' rows are cut into chunks of up to kRowsPerChunk rows; a chunk stores its times as
// one block and each field as a values block (present values only) plus, when some rows lack
// the field, a validity block. Every block is encoded by src/storage/codec and carries an XXH3
// checksum in the index; every chunk carries statistics (count, min, max, sum, first, last) so
// that queries skip or answer from them.
//
// An open segment keeps one small entry per series in memory (id, tags, rows, time range, where
// its chunk entries are); chunk entries are parsed from the index when asked for. With a
// BlockCache the index is read through it (pread of 16 KiB blocks, bounded by the cache's
// budget); without one the segment holds its whole index in memory (tools, tests). Data blocks
// are read through RandomAccessFile::View (mapped by PosixEnv: no copy on the scan path).
//
// Segment objects are immutable after Open and thread-safe.
#pragma once

#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "storage/block_cache.h"
#include "storage/env.h"
#include "storage/memtable.h"
#include "storage/schema.h"
#include "storage/series_index.h"

namespace seaway {

inline constexpr std::string_view kSegmentMagic = "SEAWSEG1";
inline constexpr size_t kRowsPerChunk = 8192;
// A chunk also ends where an hour (UTC) begins, once it holds this many rows: chunk statistics
// then answer hourly (and coarser) buckets whole, while a series with a few rows an hour keeps
// its rows together (small chunks would cost their headers and statistics).
inline constexpr size_t kMinRowsBeforeHourCut = 64;

// Where the chunks of a series' sorted times end (exclusive), each at most kRowsPerChunk rows.
std::vector<size_t> ChunkEnds(std::span<const int64_t> times);

struct BlockRef {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t checksum = 0;
};

// Statistics of one field in one chunk, over the rows that have the field.
struct ChunkStats {
  uint32_t count = 0;     // rows with the field
  uint64_t min_bits = 0;  // typed like the column's bits (double bit-cast, int64, uint64, bool)
  uint64_t max_bits = 0;
  double sum = 0;           // doubles, integers and bools (as 0/1); 0 for strings
  uint64_t first_bits = 0;  // value at the earliest row with the field
  uint64_t last_bits = 0;   // value at the latest row with the field
};

// Whether statistic bits `a` order before `b` for a column of `type` (doubles as doubles,
// integers signed, the others unsigned).
inline bool StatsLess(FieldType type, uint64_t a, uint64_t b) {
  switch (type) {
    case FieldType::kDouble: return std::bit_cast<double>(a) < std::bit_cast<double>(b);
    case FieldType::kInt64: return static_cast<int64_t>(a) < static_cast<int64_t>(b);
    default: return a < b;
  }
}

// Statistics of one field over a whole segment (every chunk of every series), gathered while
// the index is validated at open: what a query with no tag in it can take for the segment at
// once (Engine::ScanSummarized).
struct SegmentFieldTotals {
  uint64_t count = 0;     // rows with the field
  uint64_t min_bits = 0;  // typed as in ChunkStats; meaningful when count > 0
  uint64_t max_bits = 0;
  double sum = 0;
  bool nan = false;  // a chunk's sum is NaN: min and max may leave NaNs out, use the chunks
};

// The totals of the series of a segment that share one value of a tag (Segment::TotalsByTag).
struct TagValueTotals {
  std::string value;  // "" for the series without the tag
  uint64_t rows = 0;
  std::vector<SegmentFieldTotals> fields;  // parallel to the segment's fields
};

// Segment::SeriesTotals keeps the totals of this many series in a row as one block of the
// index cache (40 bytes each: 160 KiB a block).
inline constexpr size_t kSeriesTotalsPerBlock = 4096;

// At most this many values of one tag get totals of their own in a segment (TotalsByTag): a
// tag with more (a machine id) has none.
inline constexpr size_t kMaxTagTotalsValues = 64;

// ColumnChunk::presence of a column Segment::Chunks was asked to pass over (nothing else set).
inline constexpr uint8_t kColumnNotRead = 3;

struct ColumnChunk {
  uint8_t presence = 0;  // 0 every row has the field, 1 none, 2 some (validity block present)
  BlockRef validity;
  BlockRef values;
  ChunkStats stats;
};

struct Chunk {
  uint32_t rows = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  BlockRef times;
  std::vector<ColumnChunk> columns;  // parallel to the segment's fields
};

struct SegmentSeries {
  SeriesId id;
  // Values parallel to the segment's tag keys ("" = absent), kept as one length-prefixed string
  // to save memory; tag_values() splits it.
  std::string encoded_tag_values;
  std::vector<std::string_view> tag_values() const;
  uint64_t rows = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint32_t chunk_count = 0;
  uint32_t chunk_offset = 0;  // where its chunk entries start in the index (Segment::Chunks)
  uint32_t chunk_bytes = 0;   // and how many bytes they take
};

// What a flush or compaction hands to WriteSegment: one table's series with rows in time order,
// unique times, columns parallel to `fields`.
struct SegmentInput {
  TenantId tenant;
  std::string database;
  std::string table;
  uint64_t generation = 0;  // of the table (TableSchema::generation)
  std::vector<std::string> tag_keys;
  std::vector<FieldSchema> fields;
  int64_t partition_start = 0;  // inclusive
  int64_t partition_end = 0;    // exclusive
  uint64_t max_lsn = 0;         // the newest WAL record whose rows are in this segment
  struct Series {
    std::shared_ptr<const SeriesInfo> info;
    SeriesRowsBlock rows;
  };
  std::vector<Series> series;  // sorted by id
};

struct SegmentWriteStats {
  uint64_t rows = 0;
  uint64_t values = 0;
  uint64_t file_bytes = 0;
};

// Writes `input` to a new file at `path` and syncs it (not its directory).
Result<SegmentWriteStats> WriteSegment(Env* env, const std::string& path,
                                       const SegmentInput& input);

class SegmentIndexDecoder;

class Segment {
 public:
  // Opens and validates the footer and index. Corruption names the file and what is wrong.
  // With `index_cache` (which must outlive the segment) the index is read from the file at open
  // through a small window and later through the cache; without, it is held in memory.
  static Result<std::shared_ptr<const Segment>> Open(Env* env, const std::string& path,
                                                     BlockCache* index_cache = nullptr);

  const std::string& path() const { return path_; }
  TenantId tenant() const { return tenant_; }
  const std::string& database() const { return database_; }
  const std::string& table() const { return table_; }
  // The table's generation (0 for version 1 indexes, written before tables could be dropped).
  uint64_t generation() const { return generation_; }
  const std::vector<std::string>& tag_keys() const { return tag_keys_; }
  const std::vector<FieldSchema>& fields() const { return fields_; }
  int64_t partition_start() const { return partition_start_; }
  int64_t partition_end() const { return partition_end_; }
  uint64_t max_lsn() const { return max_lsn_; }
  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t rows() const { return rows_; }
  const std::vector<SegmentSeries>& series() const { return series_; }
  // The oldest and newest time of any row (meaningful when rows() > 0).
  int64_t min_time() const { return min_time_; }
  int64_t max_time() const { return max_time_; }
  // Per field (parallel to fields()): its statistics over every row of the segment.
  const std::vector<SegmentFieldTotals>& totals() const { return totals_; }
  // Per value of tag `key` (sorted by value), the totals of the series having it; nullptr when
  // the segment has more than kMaxTagTotalsValues values of it. Gathered from every chunk entry
  // on the first call for a key (outside any lock: concurrent first calls may both gather, the
  // first one kept wins) and kept for the segment's life (at most kMaxTagTotalsValues x fields
  // x 40 bytes a key), so later calls cost a lookup.
  Result<const std::vector<TagValueTotals>*> TotalsByTag(std::string_view key) const;
  // The totals of column `column` over every chunk of series()[position]: what a scan reads to
  // pass over a series without parsing its chunk entries. They come from a block of the totals
  // of kSeriesTotalsPerBlock series in a row, gathered from their chunk entries (that column's
  // statistics only) on first use, outside any lock, and kept in the index cache under its
  // budget (without a cache, for the segment's life). `*hold` keeps the block read last, so
  // that series in order cost a copy each.
  struct TotalsHold {
    BlockCache::Block block;
    uint64_t number = UINT64_MAX;
  };
  Result<SegmentFieldTotals> SeriesTotals(size_t column, size_t position, TotalsHold* hold) const;
  // Where `series` (an entry of this segment) is in series().
  size_t PositionOf(const SegmentSeries& series) const {
    return static_cast<size_t>(&series - series_.data());
  }

  // The series entry, or nullptr.
  const SegmentSeries* Find(SeriesId id) const;
  // Same, for lookups in ascending id order: `*cursor` (0 at first) remembers where the last
  // one ended, and an id at or just after it is found without a binary search. Any order is
  // correct, only slower.
  const SegmentSeries* Find(SeriesId id, size_t* cursor) const;

  // The chunks of a series (references and statistics), parsed from the index on demand.
  Result<std::vector<Chunk>> Chunks(const SegmentSeries& series) const;
  // Same, into `*out` (its capacity reused), keeping the index block read last in `*hold`:
  // scans read the entries of series in id order, mostly from the block of the one before.
  struct IndexHold {
    BlockCache::Block block;
    uint64_t number = UINT64_MAX;
  };
  // With `wanted` (one flag per segment field), the other columns are passed over: their
  // presence is kColumnNotRead and nothing else of them is set.
  Status Chunks(const SegmentSeries& series, IndexHold* hold, std::vector<Chunk>* out,
                const std::vector<bool>* wanted = nullptr) const;

  // Scratch of one ReadRows call (chunk entries): a scan shares one between the segments it
  // reads, as only the running call uses it.
  struct ReadBuffers {
    std::vector<Chunk> chunks;
  };
  // What reading many series from this segment in a row reuses (ReadRows): the index block
  // read last and where each projected field is among the segment's columns. One per segment
  // and scan; not shared between threads. The map is kept for the projection at one address:
  // a projection must keep its address and contents while a state is used with it.
  struct ReadState {
    IndexHold hold;
    ReadBuffers* buffers = nullptr;                        // nullptr: each call uses its own
    const std::vector<FieldSchema>* projection = nullptr;  // what `source` and `wanted` are for
    std::vector<int> source;   // per projected field: its column here, or -1
    std::vector<bool> wanted;  // per column here: projected
  };

  // Reads the rows of `series` with min_time <= time <= max_time, projecting `fields` (a field
  // the segment lacks, or has with another type, reads as absent). Returns false when no row is
  // in range.
  // `skip`, when given, names chunks not to read (their rows are left out); it sees the
  // statistics of the projected columns only when `state` is given (the others are
  // kColumnNotRead). `state` (for this segment) saves work between calls.
  Result<bool> ReadRows(const SegmentSeries& series, int64_t min_time, int64_t max_time,
                        const std::vector<FieldSchema>& fields, SeriesRowsBlock* out,
                        const std::function<bool(const Chunk&)>* skip = nullptr,
                        ReadState* state = nullptr) const;

  // Decodes one column of one chunk: presence per row, and values as 64-bit patterns (or
  // strings). Exposed for the inspector and for queries that read chunk by chunk.
  Status ReadChunkColumn(const Chunk& chunk, size_t column, ColumnVector* out) const;
  Status ReadChunkTimes(const Chunk& chunk, std::vector<int64_t>* out) const;
  // Appends the chunk's times to `*out` (left as it was on an error).
  Status AppendChunkTimes(const Chunk& chunk, std::vector<int64_t>* out) const;
  // Appends rows [begin, end) of one column of one chunk to `*out` (of the column's type).
  Status AppendChunkColumn(const Chunk& chunk, size_t column, size_t begin, size_t end,
                           ColumnVector* out) const;
  // Appends the present values of a float column's chunk, densely (no per-row presence): the
  // fast path for aggregates. REQUIRES: fields()[column].type == kDouble.
  Status ReadChunkDoubles(const Chunk& chunk, size_t column, std::vector<double>* out) const;

 private:
  Segment() = default;
  // Parses the index after the footer: header, series entries; validates chunk entries.
  Status ParseIndex(SegmentIndexDecoder* d);
  // The bytes of a block, checksum verified; `scratch` backs the view where the file is not
  // mapped.
  Result<std::string_view> ReadBlock(const BlockRef& ref, std::string* scratch) const;
  // Bytes [offset, offset + n) of the index: from index_ without a cache, else from cached
  // blocks, the one block in `hold` reused and kept alive (or copied to `scratch` when they
  // span blocks).
  Result<std::string_view> IndexBytes(uint32_t offset, uint32_t n, IndexHold* hold,
                                      std::string* scratch) const;
  // Index block `number` (kIndexBlockBytes from the index start), from the cache or the file.
  Result<BlockCache::Block> IndexBlock(uint64_t number) const;
  // Adds a chunk's statistics (every column parsed) to `totals` (parallel to fields_).
  void AddToTotals(const Chunk& chunk, std::vector<SegmentFieldTotals>* totals) const;
  // SeriesTotals' block `number` of column `column`, gathered from the chunk entries.
  Result<BlockCache::Block> GatherSeriesTotals(size_t column, uint64_t number) const;
  // The error for reading a column that Chunks was told to pass over (a caller's bug).
  Status ColumnNotRead(size_t column) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  BlockCache* index_cache_ = nullptr;
  uint64_t cache_file_id_ = 0;
  std::string index_;  // the whole index, without a cache
  uint64_t index_offset_ = 0;
  uint64_t index_length_ = 0;
  uint64_t file_bytes_ = 0;
  uint64_t data_end_ = 0;
  TenantId tenant_;
  std::string database_;
  std::string table_;
  uint64_t generation_ = 0;
  std::vector<std::string> tag_keys_;
  std::vector<FieldSchema> fields_;
  int64_t partition_start_ = 0;
  int64_t partition_end_ = 0;
  uint64_t max_lsn_ = 0;
  uint64_t rows_ = 0;
  int64_t min_time_ = std::numeric_limits<int64_t>::max();
  int64_t max_time_ = std::numeric_limits<int64_t>::min();
  std::vector<SegmentFieldTotals> totals_;
  // TotalsByTag's answers by tag key (a null vector: too many values).
  mutable std::mutex tag_totals_mu_;
  mutable std::map<std::string, std::unique_ptr<const std::vector<TagValueTotals>>, std::less<>>
      tag_totals_;
  // SeriesTotals' blocks, without an index cache.
  mutable std::mutex series_totals_mu_;
  mutable std::unordered_map<uint64_t, BlockCache::Block> series_totals_;
  std::vector<SegmentSeries> series_;  // sorted by id
};

}  // namespace seaway
