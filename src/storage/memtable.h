// MemTable: the recent rows of one shard, per series, in column buffers (src/storage).
//
// Rows arrive in WAL order (already durable) and are kept in arrival order; readers get them in
// time order with rows of equal time merged so that a later write replaces the earlier values of
// the fields it gives (retries are idempotent). Late and out-of-order rows cost nothing extra on
// write; the sort happens on read.
//
// Thread-safe: one writer (the shard thread) and any number of readers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strong_id.h"
#include "storage/schema.h"
#include "storage/wal_record.h"

namespace seaway {

// One column of a read result.
struct ColumnVector {
  FieldType type = FieldType::kDouble;
  std::vector<uint8_t> present;
  std::vector<uint64_t> bits;
  std::vector<std::string> strings;  // kString only
};

// Rows of one series, in time order, with the requested columns.
struct SeriesRowsBlock {
  SeriesId series;
  std::vector<int64_t> times;
  std::vector<ColumnVector> columns;  // parallel to the requested fields
};

// Empties `block` for rows of `series` projecting `fields` (a column of each one's type),
// keeping its buffers for the rows to come.
void ResetRows(SeriesId series, const std::vector<FieldSchema>& fields, SeriesRowsBlock* block);

// Merges `newer` into `base` (both in time order with unique times, columns alike): rows of
// equal time take the fields `newer` has and keep the others. Used wherever sources of one
// series meet: scans (segments, then memtables) and compaction (older, then newer segments).
void MergeRowsInto(const SeriesRowsBlock& newer, SeriesRowsBlock* base);

class MemTable {
 public:
  // Appends the rows of `record`'s series (whose ids are already resolved). A record's column
  // goes to the series' column of the same name and type.
  void Apply(const WriteRecord& record);

  // Removes the rows of `series` with min_time <= time <= max_time.
  void Delete(SeriesId series, int64_t min_time, int64_t max_time);

  // Removes every row of these series (DROP TABLE), releasing their memory.
  void EraseSeries(const std::vector<SeriesId>& series);

  // Reads `series` rows with min_time <= time <= max_time into *out (replacing its content),
  // projecting `fields`. Returns false when the memtable has no rows of the series in range.
  bool Read(SeriesId series, int64_t min_time, int64_t max_time,
            const std::vector<FieldSchema>& fields, SeriesRowsBlock* out) const;

  // The newest time of `series`, if the memtable has rows of it.
  std::optional<int64_t> MaxTime(SeriesId series) const;

  size_t ApproximateBytes() const;
  size_t rows() const;

  // Series with rows here, and the fields each has a value of (name and type), for flushing.
  std::vector<SeriesId> SeriesIds() const;
  std::vector<FieldSchema> SeriesFields(SeriesId series) const;
  // Oldest and newest time of a series' rows, if any.
  std::optional<std::pair<int64_t, int64_t>> TimeRange(SeriesId series) const;
  // Oldest and newest time of any row ever applied (deleted and erased rows still count), if
  // any: no row of any series lies outside.
  std::optional<std::pair<int64_t, int64_t>> TimeBounds() const;

 private:
  struct Column {
    std::string name;
    FieldType type;
    // One per row, or empty while every row has the field (the usual case: appending a row
    // then writes one value instead of two, to memory that is rarely in cache).
    std::vector<uint8_t> present;
    std::vector<uint64_t> bits;
    std::vector<std::string> strings;

    bool IsPresent(size_t row) const { return present.empty() || present[row] != 0; }
    // Gives `present` its one-per-row form for the `rows` rows so far.
    void MaterializePresence(size_t rows) {
      if (present.empty()) present.assign(rows, 1);
    }
  };
  struct Buffer {
    std::vector<int64_t> times;
    std::vector<Column> columns;
    bool sorted = true;  // times are non-decreasing
    int64_t max_time = INT64_MIN;
    size_t bytes = 0;  // its share of bytes_
  };

  mutable std::shared_mutex mu_;
  // Apply's maps, record column -> buffer column and back (guarded by mu_).
  std::vector<int> target_scratch_;
  std::vector<int> source_scratch_;
  std::unordered_map<uint64_t, Buffer> series_;
  size_t bytes_ = 0;
  size_t rows_ = 0;
  int64_t min_time_ = INT64_MAX;  // of every row applied (TimeBounds)
  int64_t max_time_ = INT64_MIN;
};

}  // namespace seaway
