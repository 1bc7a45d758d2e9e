// MemTable (src/storage).
#include "storage/memtable.h"

#include <algorithm>
#include <mutex>
#include <numeric>

namespace seaway {

namespace {

// Memory accounting follows what the allocator really holds, so that the shard's limit protects
// the process even for many sparse series: a hash node and buffer per series, a column object
// with its name and three vectors per column, vector growth slack, and std::string objects.
constexpr size_t kSeriesOverhead = 160;
constexpr size_t kColumnOverhead = 160;
constexpr size_t kStringCell = sizeof(std::string);

size_t RowBytes(size_t columns) { return (8 + 9 * columns) * 3 / 2; }

}  // namespace

void MemTable::Apply(const WriteRecord& record) {
  std::unique_lock lock(mu_);
  for (const auto& s : record.series) {
    auto [it, inserted] = series_.try_emplace(s.id.value());
    Buffer& buf = it->second;
    const size_t bytes_before = buf.bytes;
    if (inserted) buf.bytes += kSeriesOverhead;
    const size_t old_rows = buf.times.size();
    const size_t n = s.times.size();
    // Map the record's columns onto the buffer's by name and type, adding new ones padded with
    // absent rows. (A series belongs to one table generation, whose fields keep their types;
    // matching the type too keeps a mismatch from ever mixing value kinds in one column.)
    std::vector<int>& target = target_scratch_;
    target.assign(record.field_names.size(), -1);
    auto same = [&](size_t b, size_t c) {
      return buf.columns[b].type == record.field_types[c] &&
             buf.columns[b].name == record.field_names[c];
    };
    for (size_t c = 0; c < record.field_names.size(); ++c) {
      if (s.columns[c].present.empty()) continue;  // no row of this series has the field
      if (c < buf.columns.size() && same(c, c)) {  // the usual case: the same column order
        target[c] = static_cast<int>(c);
      } else {
        for (size_t b = 0; b < buf.columns.size(); ++b) {
          if (same(b, c)) target[c] = static_cast<int>(b);
        }
      }
      if (target[c] < 0) {
        Column col{std::string(record.field_names[c]), record.field_types[c]};
        col.present.assign(old_rows, 0);
        col.bits.assign(old_rows, 0);
        if (col.type == FieldType::kString) col.strings.resize(old_rows);
        buf.columns.push_back(std::move(col));
        target[c] = static_cast<int>(buf.columns.size() - 1);
        buf.bytes += kColumnOverhead + buf.columns.back().name.size() + old_rows * 9 * 3 / 2;
        if (buf.columns.back().type == FieldType::kString) buf.bytes += old_rows * kStringCell;
      }
    }
    for (int64_t t : s.times) {
      if (t < buf.max_time) buf.sorted = false;
      buf.max_time = std::max(buf.max_time, t);
      min_time_ = std::min(min_time_, t);
    }
    max_time_ = std::max(max_time_, buf.max_time);
    buf.times.insert(buf.times.end(), s.times.begin(), s.times.end());
    std::vector<int>& source = source_scratch_;
    source.assign(buf.columns.size(), -1);
    for (size_t c = 0; c < target.size(); ++c) {
      if (target[c] >= 0) source[target[c]] = static_cast<int>(c);
    }
    for (size_t b = 0; b < buf.columns.size(); ++b) {
      Column& col = buf.columns[b];
      if (source[b] < 0) {  // none of these rows has the field
        col.MaterializePresence(old_rows);
        col.present.resize(old_rows + n, 0);
        col.bits.resize(old_rows + n, 0);
        if (col.type == FieldType::kString) col.strings.resize(old_rows + n);
        continue;
      }
      const auto& src = s.columns[source[b]];
      if (!col.present.empty() ||
          std::find(src.present.begin(), src.present.end(), 0) != src.present.end()) {
        col.MaterializePresence(old_rows);
        col.present.insert(col.present.end(), src.present.begin(), src.present.end());
      }
      col.bits.insert(col.bits.end(), src.bits.begin(), src.bits.end());
      if (col.type == FieldType::kString) {
        for (size_t i = 0; i < n; ++i) {
          col.strings.emplace_back(src.strings[i]);
          buf.bytes += src.strings[i].size();
        }
      }
    }
    buf.bytes += n * RowBytes(buf.columns.size());
    for (const auto& col : buf.columns) {
      if (col.type == FieldType::kString) buf.bytes += n * kStringCell;
    }
    bytes_ += buf.bytes - bytes_before;
    rows_ += n;
  }
}

void MemTable::EraseSeries(const std::vector<SeriesId>& series) {
  std::unique_lock lock(mu_);
  for (SeriesId id : series) {
    auto it = series_.find(id.value());
    if (it == series_.end()) continue;
    bytes_ -= std::min(bytes_, it->second.bytes);
    rows_ -= it->second.times.size();
    series_.erase(it);
  }
}

void MemTable::Delete(SeriesId series, int64_t min_time, int64_t max_time) {
  std::unique_lock lock(mu_);
  auto it = series_.find(series.value());
  if (it == series_.end()) return;
  Buffer& buf = it->second;
  size_t kept = 0;
  for (size_t r = 0; r < buf.times.size(); ++r) {
    if (buf.times[r] >= min_time && buf.times[r] <= max_time) continue;
    buf.times[kept] = buf.times[r];
    for (auto& col : buf.columns) {
      if (!col.present.empty()) col.present[kept] = col.present[r];
      col.bits[kept] = col.bits[r];
      if (col.type == FieldType::kString) col.strings[kept] = std::move(col.strings[r]);
    }
    ++kept;
  }
  rows_ -= buf.times.size() - kept;
  buf.times.resize(kept);
  for (auto& col : buf.columns) {
    if (!col.present.empty()) col.present.resize(kept);
    col.bits.resize(kept);
    if (col.type == FieldType::kString) col.strings.resize(kept);
  }
  buf.max_time = INT64_MIN;
  for (int64_t t : buf.times) buf.max_time = std::max(buf.max_time, t);
}

bool MemTable::Read(SeriesId series, int64_t min_time, int64_t max_time,
                    const std::vector<FieldSchema>& fields, SeriesRowsBlock* out) const {
  std::shared_lock lock(mu_);
  ResetRows(series, fields, out);
  auto it = series_.find(series.value());
  if (it == series_.end()) return false;
  const Buffer& buf = it->second;

  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < buf.times.size(); ++i) {
    if (buf.times[i] >= min_time && buf.times[i] <= max_time) order.push_back(i);
  }
  if (order.empty()) return false;
  if (!buf.sorted) {
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return buf.times[a] < buf.times[b]; });
  }
  // Output row for each input row: rows of equal time share one.
  std::vector<uint32_t> out_row(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    int64_t t = buf.times[order[i]];
    if (out->times.empty() || out->times.back() != t) out->times.push_back(t);
    out_row[i] = static_cast<uint32_t>(out->times.size() - 1);
  }
  const size_t rows = out->times.size();
  for (size_t f = 0; f < fields.size(); ++f) {
    ColumnVector& dst = out->columns[f];
    dst.type = fields[f].type;
    dst.present.assign(rows, 0);
    dst.bits.assign(rows, 0);
    if (dst.type == FieldType::kString) dst.strings.assign(rows, {});
    const Column* src = nullptr;
    for (const auto& c : buf.columns) {
      if (c.name == fields[f].name && c.type == fields[f].type) src = &c;
    }
    if (src == nullptr) continue;
    // Later rows (in arrival order) overwrite earlier ones of the same time.
    for (size_t i = 0; i < order.size(); ++i) {
      uint32_t r = order[i];
      if (!src->IsPresent(r)) continue;
      dst.present[out_row[i]] = 1;
      dst.bits[out_row[i]] = src->bits[r];
      if (dst.type == FieldType::kString) dst.strings[out_row[i]] = src->strings[r];
    }
  }
  return true;
}

std::optional<int64_t> MemTable::MaxTime(SeriesId series) const {
  std::shared_lock lock(mu_);
  auto it = series_.find(series.value());
  if (it == series_.end() || it->second.times.empty()) return std::nullopt;
  return it->second.max_time;
}

size_t MemTable::ApproximateBytes() const {
  std::shared_lock lock(mu_);
  return bytes_;
}

std::vector<SeriesId> MemTable::SeriesIds() const {
  std::shared_lock lock(mu_);
  std::vector<SeriesId> ids;
  ids.reserve(series_.size());
  for (const auto& [id, buf] : series_) ids.emplace_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<FieldSchema> MemTable::SeriesFields(SeriesId series) const {
  std::shared_lock lock(mu_);
  std::vector<FieldSchema> out;
  auto it = series_.find(series.value());
  if (it == series_.end()) return out;
  // A column whose values were all deleted (or that never had one) is left out, so that a
  // segment never lists a field it holds no value of.
  for (const auto& c : it->second.columns) {
    const bool any = c.present.empty()
                         ? !c.bits.empty()
                         : std::find(c.present.begin(), c.present.end(), 1) != c.present.end();
    if (any) {
      out.push_back(FieldSchema{c.name, c.type});
    }
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> MemTable::TimeRange(SeriesId series) const {
  std::shared_lock lock(mu_);
  auto it = series_.find(series.value());
  if (it == series_.end() || it->second.times.empty()) return std::nullopt;
  const auto& times = it->second.times;
  const int64_t oldest =
      it->second.sorted ? times.front() : *std::min_element(times.begin(), times.end());
  return std::pair(oldest, it->second.max_time);
}

std::optional<std::pair<int64_t, int64_t>> MemTable::TimeBounds() const {
  std::shared_lock lock(mu_);
  if (min_time_ > max_time_) return std::nullopt;
  return std::pair(min_time_, max_time_);
}

size_t MemTable::rows() const {
  std::shared_lock lock(mu_);
  return rows_;
}

void ResetRows(SeriesId series, const std::vector<FieldSchema>& fields, SeriesRowsBlock* block) {
  block->series = series;
  block->times.clear();
  block->columns.resize(fields.size());
  for (size_t f = 0; f < fields.size(); ++f) {
    ColumnVector& c = block->columns[f];
    c.type = fields[f].type;
    c.present.clear();
    c.bits.clear();
    c.strings.clear();
  }
}

void MergeRowsInto(const SeriesRowsBlock& newer, SeriesRowsBlock* base) {
  if (newer.times.empty()) return;
  if (base->times.empty() || base->times.back() < newer.times.front()) {
    base->times.insert(base->times.end(), newer.times.begin(), newer.times.end());
    for (size_t c = 0; c < base->columns.size(); ++c) {
      auto& dst = base->columns[c];
      const auto& src = newer.columns[c];
      dst.present.insert(dst.present.end(), src.present.begin(), src.present.end());
      dst.bits.insert(dst.bits.end(), src.bits.begin(), src.bits.end());
      dst.strings.insert(dst.strings.end(), src.strings.begin(), src.strings.end());
    }
    return;
  }
  SeriesRowsBlock out;
  out.series = base->series;
  out.columns.resize(base->columns.size());
  for (size_t c = 0; c < out.columns.size(); ++c) out.columns[c].type = base->columns[c].type;
  size_t i = 0, j = 0;
  auto copy_row = [&](const SeriesRowsBlock& from, size_t r) {
    out.times.push_back(from.times[r]);
    for (size_t c = 0; c < out.columns.size(); ++c) {
      out.columns[c].present.push_back(from.columns[c].present[r]);
      out.columns[c].bits.push_back(from.columns[c].bits[r]);
      if (out.columns[c].type == FieldType::kString) {
        out.columns[c].strings.push_back(from.columns[c].strings[r]);
      }
    }
  };
  while (i < base->times.size() || j < newer.times.size()) {
    if (j == newer.times.size() || (i < base->times.size() && base->times[i] < newer.times[j])) {
      copy_row(*base, i++);
    } else if (i == base->times.size() || newer.times[j] < base->times[i]) {
      copy_row(newer, j++);
    } else {
      copy_row(*base, i++);
      const size_t r = out.times.size() - 1;
      for (size_t c = 0; c < out.columns.size(); ++c) {
        if (!newer.columns[c].present[j]) continue;
        out.columns[c].present[r] = 1;
        out.columns[c].bits[r] = newer.columns[c].bits[j];
        if (out.columns[c].type == FieldType::kString) {
          out.columns[c].strings[r] = newer.columns[c].strings[j];
        }
      }
      ++j;
    }
  }
  *base = std::move(out);
}

}  // namespace seaway
