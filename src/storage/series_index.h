// SeriesIndex: series keys <-> series ids (src/storage).
//
// A series is one tenant's database, table and set of tag values. Its canonical key sorts the
// tags by name and leaves out empty values, so `host=a,dc=x` and `dc=x,host=a` are one series.
// Ids are assigned in increasing order from 1 and are persisted with every WAL record and
// segment, so they are stable across restarts. DropTable forgets a table's series; their ids are
// not handed out again (ReserveIds restores the floor the engine persists).
//
// Memory matters here (a million series must fit in well under a gigabyte with the caches):
// table names are stored once per table, a series keeps only its id, a pointer to its table and
// one string with its encoded tags, and the lookup maps point into that string. The inverted
// index (tag key -> value -> series) keeps a value held by one series inline, so an identifying
// tag such as a machine id costs one hash node a series (about 100 bytes per series for four
// tags, one of them identifying).
//
// Thread-safe. SeriesInfo objects are immutable and live as long as the index holds their
// table (DropTable), or as long as a SeriesMatch or Find's pointer holds them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"

namespace seaway {

using TagSet = std::vector<std::pair<std::string, std::string>>;  // sorted by key, values non-empty
// Tags that must each equal one of their values (`tag IN (...)`): values sorted.
using TagIn = std::vector<std::pair<std::string, std::vector<std::string>>>;

// A table that has series, named once.
struct SeriesTable {
  TenantId tenant;
  std::string database;
  std::string table;
  uint64_t generation = 0;  // the table's incarnation (TableSchema::generation)
};

class SeriesInfo {
 public:
  // `table` must outlive the object; `tags` sorted by key without empty values.
  SeriesInfo(SeriesId id, const SeriesTable* table, const TagSet& sorted_tags);

  SeriesId id;

  TenantId tenant() const { return table_->tenant; }
  const std::string& database() const { return table_->database; }
  const std::string& table() const { return table_->table; }
  uint64_t generation() const { return table_->generation; }

  // The value of tag `key`, or "" when the series lacks it.
  std::string_view Tag(std::string_view key) const;
  // Every tag, sorted by key.
  TagSet tags() const;
  // The canonical encoding of the tags (the lookup key within the table).
  std::string_view encoded_tags() const { return encoded_; }

 private:
  const SeriesTable* table_;
  std::string encoded_;  // (key length, key, value length, value)*, sorted by key
};

// The canonical encoding of sorted tags, as SeriesInfo::encoded_tags() holds it.
void EncodeTags(const TagSet& sorted_tags, std::string* out);

// The series SeriesIndex::Match found, as plain pointers. They stay valid as long as this object
// lives, even when the table is dropped meanwhile: it shares ownership of the table's series (one
// reference for all of them, not one per series).
class SeriesMatch {
 public:
  using const_iterator = std::vector<const SeriesInfo*>::const_iterator;
  const_iterator begin() const { return series_.begin(); }
  const_iterator end() const { return series_.end(); }
  size_t size() const { return series_.size(); }
  bool empty() const { return series_.empty(); }
  const SeriesInfo* operator[](size_t i) const { return series_[i]; }

  // Drops the series for which `pred(const SeriesInfo&)` is true.
  template <typename Pred>
  void EraseIf(Pred pred) {
    std::erase_if(series_, [&](const SeriesInfo* info) { return pred(*info); });
  }

 private:
  friend class SeriesIndex;
  std::shared_ptr<const void> owner_;
  std::vector<const SeriesInfo*> series_;
};

class SeriesIndex {
 public:
  SeriesIndex();
  ~SeriesIndex();

  // The id of the series with `tags` (need not be sorted; empty values are dropped) in
  // generation `generation` of the table, creating it. `created` is set when the series is new.
  // The series of an older generation still indexed (which DropTable normally removes first)
  // are forgotten. REQUIRES: `generation` is not older than the table's indexed one (the engine
  // passes the catalog's current generation under its DDL lock).
  SeriesId GetOrCreate(TenantId tenant, std::string_view database, std::string_view table,
                       uint64_t generation, TagSet tags, bool* created = nullptr);
  // As GetOrCreate, but a new series that would give the tenant more than `max_per_tenant`
  // series is not created: ResourceExhausted naming the tenant, the limit and the series.
  Result<SeriesId> GetOrCreateWithin(size_t max_per_tenant, TenantId tenant,
                                     std::string_view database, std::string_view table,
                                     uint64_t generation, TagSet tags, bool* created = nullptr);

  // Registers a series read back from the WAL or a segment under its persisted id. Fails with
  // Corruption if the id is already taken by another key, or the table is indexed with another
  // generation.
  Status Restore(SeriesId id, TenantId tenant, std::string_view database, std::string_view table,
                 uint64_t generation, TagSet tags);

  // Forgets every series of the table (DROP TABLE) and returns their ids, ascending. Ids are
  // never handed out again by this index.
  std::vector<SeriesId> DropTable(TenantId tenant, std::string_view database,
                                  std::string_view table);

  // The id the next new series gets; ReserveIds raises it (to a floor persisted by the engine,
  // so that a restart never reuses the ids of dropped series).
  uint64_t next_id() const;
  void ReserveIds(uint64_t next_id);

  // The series, or nullptr. The pointer keeps the table's series alive (as SeriesMatch does).
  std::shared_ptr<const SeriesInfo> Find(SeriesId id) const;

  // Series of a table whose tags equal every (key, value) in `equals` ("" matches absent tags)
  // and, for every (key, values) in `in`, one of the values (sorted; "" matches absent tags).
  // An inverted index (tag value -> series) answers from the shortest posting list the
  // conditions name, so a selective condition costs its matches, not the table's series; with
  // no usable condition every series of the table is checked. The order of the series is
  // unspecified.
  SeriesMatch Match(TenantId tenant, std::string_view database, std::string_view table,
                    const TagSet& equals, const TagIn& in = {}) const;

  size_t size() const;
  size_t CountForTenant(TenantId tenant) const;
  // The series a table has now (0 for a table without any).
  size_t CountForTable(TenantId tenant, std::string_view database, std::string_view table) const;

 private:
  struct SeriesStore;
  struct TableEntry;
  // The table's entry, created when `create`. REQUIRES: mu_ held (exclusively when creating).
  TableEntry* FindTable(TenantId tenant, std::string_view database, std::string_view table,
                        bool create);
  const TableEntry* FindTable(TenantId tenant, std::string_view database,
                              std::string_view table) const;
  // REQUIRES: mu_ held exclusively; the id and key are free.
  void Insert(SeriesId id, TableEntry* table, const TagSet& sorted_tags);
  // Removes a table's entry and its series. REQUIRES: mu_ held exclusively.
  std::vector<SeriesId> RemoveTable(TableEntry* table);

  mutable std::shared_mutex mu_;
  uint64_t next_id_ = 1;
  size_t size_ = 0;
  std::vector<const SeriesInfo*> by_id_;  // index = id; null where unused
  // Orders (tenant, database, table) keys and lets views of them look entries up.
  struct TableKeyLess {
    using is_transparent = void;
    using View = std::tuple<uint64_t, std::string_view, std::string_view>;
    static View AsView(const std::tuple<uint64_t, std::string, std::string>& k) {
      return View(std::get<0>(k), std::get<1>(k), std::get<2>(k));
    }
    static View AsView(const View& v) { return v; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return AsView(a) < AsView(b);
    }
  };
  std::map<std::tuple<uint64_t, std::string, std::string>, std::unique_ptr<TableEntry>,
           TableKeyLess>
      tables_;
  std::unordered_map<uint64_t, size_t> per_tenant_;
};

}  // namespace seaway
