// LastValueCache (src/storage).
#include "storage/last_value_cache.h"

#include <algorithm>

namespace seaway {

void LastValueCache::Merge(Entry* entry, int64_t time, std::vector<Value> values) {
  if (time < entry->time) return;
  if (time > entry->time) {
    entry->time = time;
    entry->values = std::move(values);
    return;
  }
  for (auto& v : values) {
    auto it = std::lower_bound(entry->values.begin(), entry->values.end(), v.field,
                               [](const Value& a, uint16_t f) { return a.field < f; });
    if (it != entry->values.end() && it->field == v.field) {
      *it = std::move(v);
    } else {
      entry->values.insert(it, std::move(v));
    }
  }
}

void LastValueCache::Observe(const WriteRecord& record) {
  auto schema = catalog_->Find(record.tenant, record.database, record.table);
  if (!schema) return;  // cannot happen: the catalog is extended before records are written
  std::vector<int> field_index(record.field_names.size());
  for (size_t c = 0; c < record.field_names.size(); ++c) {
    field_index[c] = schema->FindField(record.field_names[c]);
  }
  std::lock_guard lock(mu_);
  for (const auto& s : record.series) {
    // The newest time of this record's rows, and the merge of its rows at that time.
    int64_t newest = *std::max_element(s.times.begin(), s.times.end());
    Entry& entry = entries_[s.id.value()];
    if (newest < entry.time) continue;
    std::vector<Value> values;
    for (size_t r = 0; r < s.times.size(); ++r) {
      if (s.times[r] != newest) continue;
      for (size_t c = 0; c < s.columns.size(); ++c) {
        const auto& col = s.columns[c];
        if (col.present.empty() || !col.present[r] || field_index[c] < 0) continue;
        Value v{static_cast<uint16_t>(field_index[c]), col.bits[r],
                col.type == FieldType::kString ? std::string(col.strings[r]) : std::string()};
        auto it = std::find_if(values.begin(), values.end(),
                               [&](const Value& x) { return x.field == v.field; });
        if (it != values.end()) {
          *it = std::move(v);  // a later row of the same time wins
        } else {
          values.push_back(std::move(v));
        }
      }
    }
    std::sort(values.begin(), values.end(),
              [](const Value& a, const Value& b) { return a.field < b.field; });
    Merge(&entry, newest, std::move(values));
  }
}

void LastValueCache::Invalidate(SeriesId series) {
  std::lock_guard lock(mu_);
  entries_.erase(series.value());
}

std::optional<LastValueCache::Entry> LastValueCache::Get(SeriesId series) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(series.value());
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void LastValueCache::Fill(SeriesId series, const TableSchema& schema,
                          const std::vector<FieldSchema>& fields, const SeriesRowsBlock& row) {
  if (row.times.size() != 1) return;
  std::vector<Value> values;
  for (size_t f = 0; f < fields.size(); ++f) {
    int index = schema.FindField(fields[f].name);
    const auto& col = row.columns[f];
    if (index < 0 || !col.present[0]) continue;
    values.push_back(Value{static_cast<uint16_t>(index), col.bits[0],
                           col.type == FieldType::kString ? col.strings[0] : std::string()});
  }
  std::sort(values.begin(), values.end(),
            [](const Value& a, const Value& b) { return a.field < b.field; });
  std::lock_guard lock(mu_);
  Entry& entry = entries_[series.value()];
  if (entry.time > row.times[0]) return;  // a newer write arrived meanwhile
  // Our read saw every source up to its snapshot; an entry at the same time holds writes that
  // came after it, so its fields win.
  Entry filled{row.times[0], true, std::move(values)};
  if (entry.time == row.times[0]) Merge(&filled, entry.time, entry.values);
  entry = std::move(filled);
}

size_t LastValueCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace seaway
