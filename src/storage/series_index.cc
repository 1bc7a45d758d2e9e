// SeriesIndex (src/storage).
#include "storage/series_index.h"

#include <algorithm>
#include <mutex>

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

}  // namespace

std::string_view SeriesInfo::Tag(std::string_view key) const {
  for (const auto& [k, v] : tags) {
    if (k == key) return v;
  }
  return {};
}

std::string EncodeSeriesKey(TenantId tenant, std::string_view database, std::string_view table,
                            const TagSet& sorted_tags) {
  std::string key;
  PutVarint64(&key, tenant.value());
  PutLengthPrefixed(&key, database);
  PutLengthPrefixed(&key, table);
  for (const auto& [k, v] : sorted_tags) {
    PutLengthPrefixed(&key, k);
    PutLengthPrefixed(&key, v);
  }
  return key;
}

std::shared_ptr<const SeriesInfo> SeriesIndex::Insert(SeriesId id, TenantId tenant,
                                                      std::string_view database,
                                                      std::string_view table, TagSet tags,
                                                      std::string key) {
  auto info = std::make_shared<const SeriesInfo>(
      SeriesInfo{id, tenant, std::string(database), std::string(table), std::move(tags)});
  by_key_.emplace(std::move(key), id);
  by_id_.emplace(id.value(), info);
  by_table_[TableKey(tenant.value(), info->database, info->table)].push_back(info);
  ++per_tenant_[tenant.value()];
  next_id_ = std::max(next_id_, id.value() + 1);
  return info;
}

SeriesId SeriesIndex::GetOrCreate(TenantId tenant, std::string_view database,
                                  std::string_view table, TagSet tags, bool* created) {
  Canonicalize(&tags);
  std::string key = EncodeSeriesKey(tenant, database, table, tags);
  {
    std::shared_lock lock(mu_);
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      if (created) *created = false;
      return it->second;
    }
  }
  std::unique_lock lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    if (created) *created = false;
    return it->second;
  }
  SeriesId id(next_id_);
  Insert(id, tenant, database, table, std::move(tags), std::move(key));
  if (created) *created = true;
  return id;
}

Status SeriesIndex::Restore(SeriesId id, TenantId tenant, std::string_view database,
                            std::string_view table, TagSet tags) {
  Canonicalize(&tags);
  std::string key = EncodeSeriesKey(tenant, database, table, tags);
  std::unique_lock lock(mu_);
  auto by_key = by_key_.find(key);
  auto by_id = by_id_.find(id.value());
  if (by_key != by_key_.end() && by_key->second == id) return Status::OK();
  if (by_key != by_key_.end() || by_id != by_id_.end()) {
    return Corruption("series id {} of table '{}' conflicts with an already known series", id,
                      table);
  }
  Insert(id, tenant, database, table, std::move(tags), std::move(key));
  return Status::OK();
}

std::shared_ptr<const SeriesInfo> SeriesIndex::Find(SeriesId id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id.value());
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const SeriesInfo>> SeriesIndex::Match(TenantId tenant,
                                                                  std::string_view database,
                                                                  std::string_view table,
                                                                  const TagSet& equals) const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const SeriesInfo>> out;
  auto it = by_table_.find(TableKey(tenant.value(), std::string(database), std::string(table)));
  if (it == by_table_.end()) return out;
  for (const auto& info : it->second) {
    bool ok = true;
    for (const auto& [k, v] : equals) {
      if (info->Tag(k) != v) {
        ok = false;
        break;
      }
    }
    if (ok) out.push_back(info);
  }
  return out;
}

size_t SeriesIndex::size() const {
  std::shared_lock lock(mu_);
  return by_id_.size();
}

size_t SeriesIndex::CountForTenant(TenantId tenant) const {
  std::shared_lock lock(mu_);
  auto it = per_tenant_.find(tenant.value());
  return it == per_tenant_.end() ? 0 : it->second;
}

}  // namespace seaway
