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
// table lives; a DROP TABLE invalidates the entries of its series, whose ids are never reused).
// Entries are stored compactly (LastValueTable: about 100 bytes for a 7-field series) in 16
// stripes chosen by a hash of the series id, each with its own mutex, so that the applier's
// Observe and queries' Get and Fill rarely wait on each other.
//
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/strong_id.h"
#include "storage/last_value_table.h"
#include "storage/memtable.h"
#include "storage/schema.h"
#include "storage/wal_record.h"

namespace seaway {

class LastValueCache {
 public:
  using Value = LastValue::Value;
  using Entry = LastValue;

  explicit LastValueCache(const Catalog* catalog) : catalog_(catalog) {}

  // Updates the entries of the record's series with their newest rows: a newer row replaces an
  // entry, a row of the same time replaces the fields it has, an older row is ignored.
  void Observe(const WriteRecord& record);
  void Invalidate(SeriesId series);

  // A copy of the entry of `series`, or nullopt when the cache has none.
  std::optional<Entry> Get(SeriesId series) const;
  // Same, into `*out` (its vectors' memory reused: a scan of many series allocates nothing per
  // series); false, `*out` unspecified, when the cache has none.
  bool Get(SeriesId series, Entry* out) const;

  // Stores the newest row of `series`, read from every source at `time`: `row` has one row and
  // columns parallel to `fields`, which are schema fields of the table. An entry newer than the
  // row stays; an entry of the same time keeps its fields (they came after the read).
  void Fill(SeriesId series, const TableSchema& schema, const std::vector<FieldSchema>& fields,
            const SeriesRowsBlock& row);

  size_t size() const;
  // Heap bytes the entries take (tables, value slabs, strings).
  size_t memory_bytes() const;

 private:
  static constexpr size_t kStripes = 16;  // a power of two
  struct Stripe {
    mutable std::mutex mu;
    LastValueTable table;  // guarded by mu
  };

  Stripe& StripeOf(SeriesId series) const {
    return stripes_[MixSeriesId(series.value()) & (kStripes - 1)];
  }
  // Sets a field of `row`, replacing an earlier value of the same field.
  static void Put(Entry* row, uint16_t field, bool is_string, uint64_t bits, std::string_view str);
  // Puts every field of `from` into `into` (same time), and carries completeness over.
  static void MergeFields(const Entry& from, Entry* into);

  const Catalog* const catalog_;
  mutable std::array<Stripe, kStripes> stripes_;
};

}  // namespace seaway
