// LastValueCache: the newest row of every series, for "latest reading of every device"
// (src/storage).
//
// Every record a shard applies (live or replayed from the WAL) passes through Observe, so the
// cache has seen every row of the shard's memtables. Rows in segments written by an earlier
// process are the only ones it may not have seen; an entry is therefore authoritative when it is
// `complete` (filled by a read of every source) or newer than every segment row of the series.
// Deletes drop the entries of their series.
//
// Fields are identified by their index in the table's schema (which only ever grows while the
// table lives; a DROP TABLE invalidates the entries of its series, whose ids are never reused),
// and string values sit apart, which keeps an entry small: 16 bytes per field.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/strong_id.h"
#include "storage/memtable.h"
#include "storage/schema.h"
#include "storage/wal_record.h"

namespace seaway {

class LastValueCache {
 public:
  struct Value {
    uint16_t field;          // index in the table schema
    bool is_string = false;  // then `bits` indexes Entry::strings
    uint64_t bits = 0;
  };
  struct Entry {
    int64_t time = INT64_MIN;
    bool complete = false;
    std::vector<Value> values;         // sorted by field index
    std::vector<std::string> strings;  // values of string fields (most tables have none)

    // The string of a string field's value.
    const std::string& String(const Value& v) const { return strings[v.bits]; }
  };

  explicit LastValueCache(const Catalog* catalog) : catalog_(catalog) {}

  // Updates the entries of the record's series with their newest rows.
  void Observe(const WriteRecord& record);
  void Invalidate(SeriesId series);

  std::optional<Entry> Get(SeriesId series) const;

  // Stores the newest row of `series`, read from every source at `time`: `row` has one row and
  // columns parallel to `fields`, which are schema fields of the table.
  void Fill(SeriesId series, const TableSchema& schema, const std::vector<FieldSchema>& fields,
            const SeriesRowsBlock& row);

  size_t size() const;

 private:
  // Merges `row` into `entry`: a newer row replaces it, a row of the same time replaces the
  // fields it has, an older row is ignored.
  static void Merge(Entry* entry, Entry row);
  // Sets a field of `row`, replacing an earlier value of the same field.
  static void Put(Entry* row, uint16_t field, bool is_string, uint64_t bits, std::string_view str);

  const Catalog* const catalog_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace seaway
