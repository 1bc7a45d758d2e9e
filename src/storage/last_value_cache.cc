// LastValueCache (src/storage).
#include "storage/last_value_cache.h"

#include <algorithm>

namespace seaway {

void LastValueCache::Put(Entry* row, uint16_t field, bool is_string, uint64_t bits,
                         std::string_view str) {
  auto it = std::lower_bound(row->values.begin(), row->values.end(), field,
                             [](const Value& a, uint16_t f) { return a.field < f; });
  if (it == row->values.end() || it->field != field) {
    it = row->values.insert(it, Value{field, false, 0});
  } else if (it->is_string && is_string) {
    row->strings[it->bits] = std::string(str);  // reuse the slot
    return;
  }
  it->is_string = is_string;
  if (is_string) {
    row->strings.emplace_back(str);
    it->bits = row->strings.size() - 1;
  } else {
    it->bits = bits;
  }
}

void LastValueCache::MergeFields(const Entry& from, Entry* into) {
  for (const Value& v : from.values) {
    Put(into, v.field, v.is_string, v.bits, v.is_string ? std::string_view(from.String(v)) : "");
  }
  into->complete = into->complete || from.complete;
}

void LastValueCache::Observe(const WriteRecord& record) {
  auto schema = catalog_->Find(record.tenant, record.database, record.table);
  if (!schema) return;  // cannot happen: the catalog is extended before records are written
  std::vector<int> field_index(record.field_names.size());
  for (size_t c = 0; c < record.field_names.size(); ++c) {
    field_index[c] = schema->FindField(record.field_names[c]);
  }
  Entry row, entry;  // reused from series to series
  for (const auto& s : record.series) {
    if (s.times.empty()) continue;
    const int64_t newest = *std::max_element(s.times.begin(), s.times.end());
    // The merge of this record's rows at its newest time; later rows win.
    row.time = newest;
    row.complete = false;
    row.values.clear();
    row.strings.clear();
    for (size_t r = 0; r < s.times.size(); ++r) {
      if (s.times[r] != newest) continue;
      for (size_t c = 0; c < s.columns.size(); ++c) {
        const auto& col = s.columns[c];
        if (col.present.empty() || !col.present[r] || field_index[c] < 0) continue;
        const bool is_string = col.type == FieldType::kString;
        Put(&row, static_cast<uint16_t>(field_index[c]), is_string, col.bits[r],
            is_string ? col.strings[r] : std::string_view());
      }
    }
    Stripe& stripe = StripeOf(s.id);
    std::lock_guard lock(stripe.mu);
    const int64_t time = stripe.table.Time(s.id.value());
    if (newest < time) continue;
    if (newest == time && stripe.table.Get(s.id.value(), &entry)) {
      MergeFields(row, &entry);
      stripe.table.Put(s.id.value(), entry);
    } else {
      stripe.table.Put(s.id.value(), row);
    }
  }
}

void LastValueCache::Invalidate(SeriesId series) {
  Stripe& stripe = StripeOf(series);
  std::lock_guard lock(stripe.mu);
  stripe.table.Erase(series.value());
}

std::optional<LastValueCache::Entry> LastValueCache::Get(SeriesId series) const {
  Entry entry;
  if (!Get(series, &entry)) return std::nullopt;
  return entry;
}

bool LastValueCache::Get(SeriesId series, Entry* out) const {
  const Stripe& stripe = StripeOf(series);
  std::lock_guard lock(stripe.mu);
  return stripe.table.Get(series.value(), out);
}

void LastValueCache::Fill(SeriesId series, const TableSchema& schema,
                          const std::vector<FieldSchema>& fields, const SeriesRowsBlock& row) {
  if (row.times.size() != 1) return;
  Entry filled;
  filled.time = row.times[0];
  filled.complete = true;
  for (size_t f = 0; f < fields.size(); ++f) {
    const int index = schema.FindField(fields[f].name);
    const auto& col = row.columns[f];
    if (index < 0 || !col.present[0]) continue;
    const bool is_string = col.type == FieldType::kString;
    Put(&filled, static_cast<uint16_t>(index), is_string, col.bits[0],
        is_string ? std::string_view(col.strings[0]) : std::string_view());
  }
  Stripe& stripe = StripeOf(series);
  Entry entry;
  std::lock_guard lock(stripe.mu);
  const int64_t time = stripe.table.Time(series.value());
  if (time > filled.time) return;  // a newer write arrived meanwhile
  // Our read saw every source up to its snapshot; an entry at the same time holds writes that
  // came after it, so its fields win.
  if (time == filled.time && stripe.table.Get(series.value(), &entry)) {
    MergeFields(entry, &filled);
  }
  stripe.table.Put(series.value(), filled);
}

size_t LastValueCache::size() const {
  size_t n = 0;
  for (const Stripe& stripe : stripes_) {
    std::lock_guard lock(stripe.mu);
    n += stripe.table.size();
  }
  return n;
}

size_t LastValueCache::memory_bytes() const {
  size_t n = 0;
  for (const Stripe& stripe : stripes_) {
    std::lock_guard lock(stripe.mu);
    n += stripe.table.memory_bytes();
  }
  return n;
}

}  // namespace seaway
