// The payload of a WAL write record (src/storage): one table's rows, grouped by series, in a
// compact binary form. Socket-free and file-free so that it is fuzzed alone
// (tests/fuzz/wal_record). The layout is in docs/formats/wal.md.
//
// A record is self-describing: it names tenant, database and table, lists the tag keys and the
// field names and types it uses, and gives every series' id and tag values. Recovery rebuilds the
// catalog and the series index from records alone.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "storage/schema.h"
#include "storage/write_batch.h"

namespace seaway {

// Rows of one series inside a WriteBatch.
struct SeriesRows {
  SeriesId id;
  std::vector<uint32_t> rows;  // indexes into the batch, in batch order
};

// Appends the payload for `groups` of `batch`, written to generation `generation` of its table,
// to *out.
void EncodeWriteRecord(const WriteBatch& batch, uint64_t generation,
                       const std::vector<SeriesRows>& groups, std::string* out);

// A decoded payload. Views point into the payload bytes, which must outlive it.
struct WriteRecord {
  struct Column {
    FieldType type;
    std::vector<uint8_t> present;  // per row of the series; empty when no row has the field
    std::vector<uint64_t> bits;
    std::vector<std::string_view> strings;
  };
  struct Series {
    SeriesId id;
    std::vector<std::string_view> tag_values;  // parallel to tag_keys; "" = absent
    std::vector<int64_t> times;
    std::vector<Column> columns;  // parallel to field_names
  };

  TenantId tenant;
  std::string_view database;
  std::string_view table;
  uint64_t generation = 0;  // of the table (TableSchema::generation); 0 in version 1 records
  std::vector<std::string_view> tag_keys;
  std::vector<std::string_view> field_names;
  std::vector<FieldType> field_types;
  std::vector<Series> series;

  size_t RowCount() const;
};

// Limits that a decoder enforces before allocating (the payload is untrusted on recovery).
inline constexpr uint64_t kMaxRecordRowsPerSeries = 1 << 22;

// Decodes `payload` into *out, reusing its vectors; Corruption naming the part and offset on
// any malformed input (then *out holds a partial record). Every count is checked against the
// bytes that could encode it before anything is sized from it, so a decode allocates O(payload)
// whatever the payload claims: at most about 200 bytes per payload byte, the worst case being a
// presence bitmap whose every bit becomes a row of a string column.
Status DecodeWriteRecord(std::string_view payload, WriteRecord* out);

// The payload of a delete record: rows of these series with min_time <= time <= max_time.
struct DeleteRecord {
  TenantId tenant;
  std::string database;
  std::string table;
  uint64_t generation = 0;       // of the table; 0 in version 1 records
  std::vector<SeriesId> series;  // ascending
  int64_t min_time = 0;
  int64_t max_time = 0;
};

void EncodeDeleteRecord(const DeleteRecord& record, std::string* out);
Status DecodeDeleteRecord(std::string_view payload, DeleteRecord* out);

// The payload of a drop-table record: generation `generation` of the table is dropped, and
// these series (the table's series of one shard) with it. Recovery relies on the catalog's
// generations, not on these records; they order the drop among the shard's writes and show
// it to the inspector.
struct DropTableRecord {
  TenantId tenant;
  std::string database;
  std::string table;
  uint64_t generation = 0;       // the dropped one
  std::vector<SeriesId> series;  // ascending
};

void EncodeDropTableRecord(const DropTableRecord& record, std::string* out);
Status DecodeDropTableRecord(std::string_view payload, DropTableRecord* out);

}  // namespace seaway
