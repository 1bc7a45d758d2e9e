// SeriesIndex: series keys <-> series ids (src/storage).
//
// A series is one tenant's database, table and set of tag values. Its canonical key sorts the
// tags by name and leaves out empty values, so `host=a,dc=x` and `dc=x,host=a` are one series.
// Ids are assigned in increasing order from 1 and are persisted with every WAL record, so they are
// stable across restarts.
//
// Thread-safe.
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

struct SeriesInfo {
  SeriesId id;
  TenantId tenant;
  std::string database;
  std::string table;
  TagSet tags;

  // The value of tag `key`, or "" when the series lacks it.
  std::string_view Tag(std::string_view key) const;
};

// The canonical encoding of a series key (used as the map key).
std::string EncodeSeriesKey(TenantId tenant, std::string_view database, std::string_view table,
                            const TagSet& sorted_tags);

class SeriesIndex {
 public:
  // The id of the series with `tags` (need not be sorted; empty values are dropped), creating it.
  // `created` is set when the series is new.
  SeriesId GetOrCreate(TenantId tenant, std::string_view database, std::string_view table,
                       TagSet tags, bool* created = nullptr);

  // Registers a series read back from the WAL or a segment under its persisted id.
  // Fails with Corruption if the id is already taken by another key.
  Status Restore(SeriesId id, TenantId tenant, std::string_view database, std::string_view table,
                 TagSet tags);

  std::shared_ptr<const SeriesInfo> Find(SeriesId id) const;

  // Series of a table whose tags equal every (key, value) in `equals` ("" matches absent tags).
  std::vector<std::shared_ptr<const SeriesInfo>> Match(TenantId tenant, std::string_view database,
                                                       std::string_view table,
                                                       const TagSet& equals) const;

  size_t size() const;
  size_t CountForTenant(TenantId tenant) const;

 private:
  using TableKey = std::tuple<uint64_t, std::string, std::string>;
  std::shared_ptr<const SeriesInfo> Insert(SeriesId id, TenantId tenant, std::string_view database,
                                           std::string_view table, TagSet tags,
                                           std::string key);  // REQUIRES: mu_ held exclusively

  mutable std::shared_mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, SeriesId> by_key_;
  std::unordered_map<uint64_t, std::shared_ptr<const SeriesInfo>> by_id_;
  std::map<TableKey, std::vector<std::shared_ptr<const SeriesInfo>>> by_table_;
  std::unordered_map<uint64_t, size_t> per_tenant_;
};

}  // namespace seaway
