// SeriesIndex (src/storage).
#include "storage/series_index.h"

#include <algorithm>
#include <mutex>
#include <span>
#include <tuple>

#include "common/check.h"
#include "common/coding.h"

namespace seaway {
namespace {

void Canonicalize(TagSet* tags) {
  std::erase_if(*tags, [](const auto& kv) { return kv.second.empty(); });
  std::stable_sort(tags->begin(), tags->end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // A key given twice keeps its last value.
  auto last = std::unique(tags->rbegin(), tags->rend(),
                          [](const auto& a, const auto& b) { return a.first == b.first; });
  tags->erase(tags->begin(), last.base());
}

// Calls fn(key, value) for each tag of an encoding; stops early when fn returns false.
template <typename Fn>
void ForEachTag(std::string_view encoded, Fn fn) {
  Decoder d(encoded);
  std::string_view k, v;
  while (d.GetLengthPrefixed(&k) && d.GetLengthPrefixed(&v)) {
    if (!fn(k, v)) return;
  }
}

}  // namespace

void EncodeTags(const TagSet& sorted_tags, std::string* out) {
  out->clear();
  for (const auto& [k, v] : sorted_tags) {
    PutLengthPrefixed(out, k);
    PutLengthPrefixed(out, v);
  }
}

SeriesInfo::SeriesInfo(SeriesId series_id, const SeriesTable* table, const TagSet& sorted_tags)
    : id(series_id), table_(table) {
  EncodeTags(sorted_tags, &encoded_);
  encoded_.shrink_to_fit();
}

std::string_view SeriesInfo::Tag(std::string_view key) const {
  std::string_view found;
  ForEachTag(encoded_, [&](std::string_view k, std::string_view v) {
    if (k != key) return true;
    found = v;
    return false;
  });
  return found;
}

TagSet SeriesInfo::tags() const {
  TagSet out;
  ForEachTag(encoded_, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  return out;
}

namespace {

// The series holding one tag value, in the order indexed. Most values of an identifying tag
// (a machine id) have one series: it is kept inline (the list is 16 bytes; a std::vector would
// be 24 and a heap block).
class PostingList {
 public:
  void Add(const SeriesInfo* info) {
    if (one_ == nullptr) {
      one_ = info;
      return;
    }
    if (!many_) many_ = std::make_unique<std::vector<const SeriesInfo*>>(1, one_);
    many_->push_back(info);
  }
  std::span<const SeriesInfo* const> series() const {
    if (many_) return *many_;
    return one_ == nullptr ? std::span<const SeriesInfo* const>() : std::span(&one_, 1);
  }
  size_t size() const { return series().size(); }

 private:
  const SeriesInfo* one_ = nullptr;
  std::unique_ptr<std::vector<const SeriesInfo*>> many_;  // every series, once there are two
};

}  // namespace

// The series of one incarnation of a table. Its SeriesInfo objects point to `table`; a
// SeriesMatch shares the store, so the series it found outlive a drop of the table.
struct SeriesIndex::SeriesStore {
  SeriesTable table;
  std::vector<std::unique_ptr<const SeriesInfo>> series;  // in the order created
};

struct SeriesIndex::TableEntry {
  std::shared_ptr<SeriesStore> store = std::make_shared<SeriesStore>();
  SeriesTable& table = store->table;
  // Keys are views into the SeriesInfo objects' encodings, which never move.
  std::unordered_map<std::string_view, const SeriesInfo*> by_tags;
  // The inverted index: tag key -> tag value -> the series with that value (views as above).
  std::unordered_map<std::string_view, std::unordered_map<std::string_view, PostingList>> postings;

  // The series whose tag `key` is `value` (non-empty), or nullptr when none is.
  const PostingList* Postings(std::string_view key, std::string_view value) const {
    auto k = postings.find(key);
    if (k == postings.end()) return nullptr;
    auto v = k->second.find(value);
    return v == k->second.end() ? nullptr : &v->second;
  }
};

SeriesIndex::SeriesIndex() = default;
SeriesIndex::~SeriesIndex() = default;

const SeriesIndex::TableEntry* SeriesIndex::FindTable(TenantId tenant, std::string_view database,
                                                      std::string_view table) const {
  auto it = tables_.find(TableKeyLess::View(tenant.value(), database, table));
  return it == tables_.end() ? nullptr : it->second.get();
}

SeriesIndex::TableEntry* SeriesIndex::FindTable(TenantId tenant, std::string_view database,
                                                std::string_view table, bool create) {
  auto it = tables_.find(TableKeyLess::View(tenant.value(), database, table));
  if (it != tables_.end()) return it->second.get();
  if (!create) return nullptr;
  auto entry = std::make_unique<TableEntry>();
  entry->table = SeriesTable{tenant, std::string(database), std::string(table)};
  TableEntry* raw = entry.get();
  tables_.emplace(std::make_tuple(tenant.value(), std::string(database), std::string(table)),
                  std::move(entry));
  return raw;
}

void SeriesIndex::Insert(SeriesId id, TableEntry* table, const TagSet& sorted_tags) {
  const SeriesInfo* info =
      table->store->series
          .emplace_back(std::make_unique<SeriesInfo>(id, &table->table, sorted_tags))
          .get();
  table->by_tags.emplace(info->encoded_tags(), info);
  ForEachTag(info->encoded_tags(), [&](std::string_view k, std::string_view v) {
    table->postings[k][v].Add(info);
    return true;
  });
  if (by_id_.size() <= id.value()) by_id_.resize(std::max(id.value() + 1, by_id_.size() * 2));
  by_id_[id.value()] = info;
  ++per_tenant_[table->table.tenant.value()];
  ++size_;
  next_id_ = std::max(next_id_, id.value() + 1);
}

SeriesId SeriesIndex::GetOrCreate(TenantId tenant, std::string_view database,
                                  std::string_view table, uint64_t generation, TagSet tags,
                                  bool* created) {
  return GetOrCreateWithin(SIZE_MAX, tenant, database, table, generation, std::move(tags), created)
      .value();
}

Result<SeriesId> SeriesIndex::GetOrCreateWithin(size_t max_per_tenant, TenantId tenant,
                                                std::string_view database, std::string_view table,
                                                uint64_t generation, TagSet tags, bool* created) {
  Canonicalize(&tags);
  std::string key;
  EncodeTags(tags, &key);
  {
    std::shared_lock lock(mu_);
    if (const TableEntry* t = FindTable(tenant, database, table);
        t != nullptr && t->table.generation == generation) {
      if (auto it = t->by_tags.find(key); it != t->by_tags.end()) {
        if (created) *created = false;
        return it->second->id;
      }
    }
  }
  std::unique_lock lock(mu_);
  TableEntry* t = FindTable(tenant, database, table, /*create=*/false);
  if (t != nullptr && t->table.generation != generation) {
    SW_CHECK(t->table.generation < generation);
    RemoveTable(t);
    t = nullptr;
  }
  if (t == nullptr) {
    t = FindTable(tenant, database, table, /*create=*/true);
    t->table.generation = generation;
  }
  if (auto it = t->by_tags.find(key); it != t->by_tags.end()) {
    if (created) *created = false;
    return it->second->id;
  }
  if (auto count = per_tenant_.find(tenant.value());
      count != per_tenant_.end() && count->second >= max_per_tenant) {
    std::string series(table);
    for (const auto& [k, v] : tags) series += fmt::format(",{}={}", k, v);
    return ResourceExhausted(
        "tenant {} has {} series, the limit (--max-series-per-tenant); series '{}' in database "
        "'{}' not created",
        tenant.value(), count->second, series.substr(0, 200), database);
  }
  SeriesId id(next_id_);
  Insert(id, t, tags);
  if (created) *created = true;
  return id;
}

Status SeriesIndex::Restore(SeriesId id, TenantId tenant, std::string_view database,
                            std::string_view table, uint64_t generation, TagSet tags) {
  Canonicalize(&tags);
  std::string key;
  EncodeTags(tags, &key);
  std::unique_lock lock(mu_);
  TableEntry* t = FindTable(tenant, database, table, /*create=*/false);
  if (t == nullptr) {
    t = FindTable(tenant, database, table, /*create=*/true);
    t->table.generation = generation;
  } else if (t->table.generation != generation) {
    return Corruption("series {} of table '{}' has generation {}, another source has {}", id, table,
                      generation, t->table.generation);
  }
  auto by_key = t->by_tags.find(key);
  if (by_key != t->by_tags.end() && by_key->second->id == id) return Status::OK();
  const bool id_taken = id.value() < by_id_.size() && by_id_[id.value()] != nullptr;
  if (by_key != t->by_tags.end() || id_taken || id.value() == 0) {
    return Corruption("series id {} of table '{}' conflicts with an already known series", id,
                      table);
  }
  Insert(id, t, tags);
  return Status::OK();
}

std::vector<SeriesId> SeriesIndex::RemoveTable(TableEntry* table) {
  std::vector<SeriesId> ids;
  ids.reserve(table->store->series.size());
  for (const auto& info : table->store->series) {
    ids.push_back(info->id);
    by_id_[info->id.value()] = nullptr;
  }
  std::sort(ids.begin(), ids.end());
  size_ -= ids.size();
  per_tenant_[table->table.tenant.value()] -= ids.size();
  // The entry goes with its maps; its series stay while a SeriesMatch holds them.
  auto it = tables_.find(
      TableKeyLess::View(table->table.tenant.value(), table->table.database, table->table.table));
  tables_.erase(it);
  return ids;
}

std::vector<SeriesId> SeriesIndex::DropTable(TenantId tenant, std::string_view database,
                                             std::string_view table) {
  std::unique_lock lock(mu_);
  TableEntry* t = FindTable(tenant, database, table, /*create=*/false);
  return t == nullptr ? std::vector<SeriesId>{} : RemoveTable(t);
}

uint64_t SeriesIndex::next_id() const {
  std::shared_lock lock(mu_);
  return next_id_;
}

void SeriesIndex::ReserveIds(uint64_t next_id) {
  std::unique_lock lock(mu_);
  next_id_ = std::max(next_id_, next_id);
}

std::shared_ptr<const SeriesInfo> SeriesIndex::Find(SeriesId id) const {
  std::shared_lock lock(mu_);
  const SeriesInfo* info = id.value() < by_id_.size() ? by_id_[id.value()] : nullptr;
  if (info == nullptr) return nullptr;
  const TableEntry* t = FindTable(info->tenant(), info->database(), info->table());
  SW_CHECK(t != nullptr);
  return std::shared_ptr<const SeriesInfo>(t->store, info);  // shares the table's series
}

SeriesMatch SeriesIndex::Match(TenantId tenant, std::string_view database, std::string_view table,
                               const TagSet& equals, const TagIn& in) const {
  std::shared_lock lock(mu_);
  SeriesMatch match;
  const TableEntry* t = FindTable(tenant, database, table);
  if (t == nullptr) return match;
  match.owner_ = t->store;
  std::vector<const SeriesInfo*>& out = match.series_;

  // The fewest candidates any condition allows: one posting list for an equality, the union of
  // its values' lists for an IN list. "" (an absent tag) has no list: such a condition is only
  // checked.
  std::span<const SeriesInfo* const> list;                 // an equality's list, or
  const std::vector<std::string>* union_values = nullptr;  // an IN list's values
  std::string_view union_key;
  bool chosen = false;
  size_t fewest = 0;
  for (const auto& [k, v] : equals) {
    if (v.empty()) continue;
    const PostingList* l = t->Postings(k, v);
    const size_t n = l == nullptr ? 0 : l->size();
    if (!chosen || n < fewest) {
      chosen = true, union_values = nullptr, fewest = n;
      list = l == nullptr ? std::span<const SeriesInfo* const>() : l->series();
    }
  }
  for (const auto& [k, values] : in) {
    if (std::find(values.begin(), values.end(), "") != values.end()) continue;
    size_t n = 0;
    for (const auto& v : values) {
      if (const PostingList* l = t->Postings(k, v)) n += l->size();
    }
    if (!chosen || n < fewest) chosen = true, union_values = &values, union_key = k, fewest = n;
  }
  std::vector<const SeriesInfo*> merged;
  if (union_values != nullptr) {
    merged.reserve(fewest);
    for (const auto& v : *union_values) {
      if (const PostingList* l = t->Postings(union_key, v)) {
        const auto series = l->series();
        merged.insert(merged.end(), series.begin(), series.end());
      }
    }
    std::sort(merged.begin(), merged.end(),
              [](const SeriesInfo* a, const SeriesInfo* b) { return a->id < b->id; });
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    list = merged;
  }

  const auto matches = [&](const SeriesInfo& info) {
    for (const auto& [k, v] : equals) {
      if (info.Tag(k) != v) return false;
    }
    for (const auto& [k, values] : in) {
      if (!std::binary_search(values.begin(), values.end(), info.Tag(k))) return false;
    }
    return true;
  };
  if (!chosen) {
    out.reserve(t->store->series.size());
    for (const auto& info : t->store->series) {
      if (matches(*info)) out.push_back(info.get());
    }
  } else {
    out.reserve(list.size());
    for (const SeriesInfo* info : list) {
      if (matches(*info)) out.push_back(info);
    }
  }
  return match;
}

size_t SeriesIndex::size() const {
  std::shared_lock lock(mu_);
  return size_;
}

size_t SeriesIndex::CountForTable(TenantId tenant, std::string_view database,
                                  std::string_view table) const {
  std::shared_lock lock(mu_);
  const TableEntry* entry = FindTable(tenant, database, table);
  return entry == nullptr ? 0 : entry->by_tags.size();
}

size_t SeriesIndex::CountForTenant(TenantId tenant) const {
  std::shared_lock lock(mu_);
  auto it = per_tenant_.find(tenant.value());
  return it == per_tenant_.end() ? 0 : it->second;
}

}  // namespace seaway
