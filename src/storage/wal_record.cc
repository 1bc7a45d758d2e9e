// WAL write-record payload codec (src/storage). Layout: docs/formats/wal.md.
#include "storage/wal_record.h"

#include "common/coding.h"

namespace seaway {
namespace {

// Version 2 added the table generation after the table name (write and delete records);
// version 1 records are read as generation 0.
constexpr uint8_t kRecordVersion = 2;
constexpr uint8_t kDropRecordVersion = 1;
// Per-series, per-column presence encodings.
constexpr uint8_t kAllPresent = 0;
constexpr uint8_t kNonePresent = 1;
constexpr uint8_t kBitmap = 2;

void EncodeColumn(const FieldColumn& f, const std::vector<uint32_t>& rows, std::string* out) {
  size_t present = 0;
  for (uint32_t r : rows) present += f.present[r];
  if (present == rows.size()) {
    out->push_back(static_cast<char>(kAllPresent));
  } else if (present == 0) {
    out->push_back(static_cast<char>(kNonePresent));
    return;
  } else {
    out->push_back(static_cast<char>(kBitmap));
    std::string bitmap((rows.size() + 7) / 8, '\0');
    for (size_t i = 0; i < rows.size(); ++i) {
      if (f.present[rows[i]]) bitmap[i / 8] |= static_cast<char>(1 << (i % 8));
    }
    out->append(bitmap);
  }
  for (uint32_t r : rows) {
    if (!f.present[r]) continue;
    switch (f.type) {
      case FieldType::kDouble: PutFixed64(out, f.bits[r]); break;
      case FieldType::kInt64:
        PutVarint64(out, ZigZagEncode(static_cast<int64_t>(f.bits[r])));
        break;
      case FieldType::kUInt64: PutVarint64(out, f.bits[r]); break;
      case FieldType::kBool: out->push_back(static_cast<char>(f.bits[r] != 0)); break;
      case FieldType::kString: PutLengthPrefixed(out, f.strings[r]); break;
    }
  }
}

// The fewest bytes one encoded value of `type` takes: the decoder checks counts against it
// before it allocates.
size_t MinValueBytes(FieldType type) { return type == FieldType::kDouble ? 8 : 1; }

Status Truncated(std::string_view what, size_t offset) {
  return Corruption("WAL record: malformed or truncated {} at byte {}", what, offset);
}

}  // namespace

size_t WriteRecord::RowCount() const {
  size_t n = 0;
  for (const auto& s : series) n += s.times.size();
  return n;
}

void EncodeWriteRecord(const WriteBatch& batch, uint64_t generation,
                       const std::vector<SeriesRows>& groups, std::string* out) {
  out->push_back(static_cast<char>(kRecordVersion));
  PutVarint64(out, batch.tenant().value());
  PutLengthPrefixed(out, batch.database());
  PutLengthPrefixed(out, batch.table());
  PutVarint64(out, generation);
  PutVarint64(out, batch.tag_keys().size());
  for (const auto& k : batch.tag_keys()) PutLengthPrefixed(out, k);
  PutVarint64(out, batch.fields().size());
  for (const auto& f : batch.fields()) {
    PutLengthPrefixed(out, f.name);
    out->push_back(static_cast<char>(f.type));
  }
  PutVarint64(out, groups.size());
  for (const SeriesRows& g : groups) {
    PutVarint64(out, g.id.value());
    const uint32_t first = g.rows.front();
    for (const auto& values : batch.tag_values()) PutLengthPrefixed(out, values[first]);
    PutVarint64(out, g.rows.size());
    int64_t prev = 0;
    for (uint32_t r : g.rows) {
      int64_t t = batch.times()[r];
      PutVarint64(out, ZigZagEncode(static_cast<int64_t>(static_cast<uint64_t>(t) -
                                                         static_cast<uint64_t>(prev))));
      prev = t;
    }
    for (const auto& f : batch.fields()) EncodeColumn(f, g.rows, out);
  }
}

Status DecodeWriteRecord(std::string_view payload, WriteRecord* out) {
  // Reuse the vectors of a previous decode: a record holds thousands of small ones.
  out->tag_keys.clear();
  out->field_names.clear();
  out->field_types.clear();
  Decoder d(payload);
  uint8_t version;
  if (!d.GetByte(&version)) return Truncated("version", d.offset());
  if (version < 1 || version > kRecordVersion) {
    return Corruption("WAL record: unknown version {} (this build reads versions 1 to {})", version,
                      kRecordVersion);
  }
  uint64_t tenant, count;
  if (!d.GetVarint64(&tenant)) return Truncated("tenant", d.offset());
  out->tenant = TenantId(tenant);
  if (!d.GetLengthPrefixed(&out->database)) return Truncated("database name", d.offset());
  if (!d.GetLengthPrefixed(&out->table)) return Truncated("table name", d.offset());
  out->generation = 0;
  if (version >= 2 && !d.GetVarint64(&out->generation)) {
    return Truncated("table generation", d.offset());
  }
  // Every count is checked against what the remaining bytes could encode before anything is
  // sized from it (a tag key takes >= 1 byte, a field >= 2), so memory stays proportional to
  // the payload whatever it claims.
  if (!d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining()), &count)) {
    return Truncated("tag count", d.offset());
  }
  out->tag_keys.resize(count);
  for (auto& k : out->tag_keys) {
    if (!d.GetLengthPrefixed(&k)) return Truncated("tag key", d.offset());
  }
  if (!d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining() / 2), &count)) {
    return Truncated("field count", d.offset());
  }
  out->field_names.resize(count);
  out->field_types.resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint8_t type;
    if (!d.GetLengthPrefixed(&out->field_names[i]) || !d.GetByte(&type)) {
      return Truncated("field definition", d.offset());
    }
    if (!IsValidFieldType(type)) {
      return Corruption("WAL record: field '{}' has unknown type {} at byte {}",
                        out->field_names[i], type, d.offset());
    }
    out->field_types[i] = static_cast<FieldType>(type);
  }
  const size_t tags = out->tag_keys.size();
  const size_t fields = out->field_names.size();
  // A series takes at least: id, one byte per tag value, row count, one time, one presence
  // byte per field.
  const size_t min_series_bytes = 3 + tags + fields;
  if (!d.GetBoundedVarint(d.remaining() / min_series_bytes, &count)) {
    return Truncated("series count", d.offset());
  }
  out->series.resize(count);
  for (auto& s : out->series) {
    uint64_t id, rows;
    if (d.remaining() < min_series_bytes || !d.GetVarint64(&id)) {
      return Truncated("series id", d.offset());
    }
    s.id = SeriesId(id);
    s.tag_values.resize(tags);
    for (auto& v : s.tag_values) {
      if (!d.GetLengthPrefixed(&v)) return Truncated("tag value", d.offset());
    }
    // Each time takes >= 1 byte, and each field's presence byte follows the times.
    if (!d.GetBoundedVarint(kMaxRecordRowsPerSeries, &rows) || rows == 0 ||
        d.remaining() < fields || rows > d.remaining() - fields) {
      return Truncated("row count", d.offset());
    }
    s.times.resize(rows);
    uint64_t prev = 0;
    for (auto& t : s.times) {
      uint64_t delta;
      if (!d.GetVarint64(&delta)) return Truncated("timestamp", d.offset());
      prev += static_cast<uint64_t>(ZigZagDecode(delta));
      t = static_cast<int64_t>(prev);
    }
    s.columns.resize(out->field_names.size());
    for (size_t c = 0; c < s.columns.size(); ++c) {
      auto& col = s.columns[c];
      col.type = out->field_types[c];
      uint8_t presence;
      if (!d.GetByte(&presence)) return Truncated("presence", d.offset());
      // Nothing is materialised for an absent column, so memory stays proportional to the
      // payload even for a hostile record with many empty columns.
      if (presence == kNonePresent) {
        col.present.clear();
        col.bits.clear();
        col.strings.clear();
        continue;
      }
      std::string_view bitmap;
      size_t present = rows;
      if (presence == kBitmap) {
        if (!d.GetBytes((rows + 7) / 8, &bitmap)) return Truncated("presence bitmap", d.offset());
        present = 0;
        for (size_t i = 0; i < rows; ++i) present += (bitmap[i / 8] >> (i % 8)) & 1;
      } else if (presence != kAllPresent) {
        return Corruption("WAL record: unknown presence encoding {} at byte {}", presence,
                          d.offset());
      }
      // The values must fit in what is left before the column is sized from the row count.
      if (present > d.remaining() / MinValueBytes(col.type)) {
        return Truncated(fmt::format("values of field '{}'", out->field_names[c]), d.offset());
      }
      col.present.assign(rows, presence == kAllPresent ? 1 : 0);
      if (presence == kBitmap) {
        for (size_t i = 0; i < rows; ++i) col.present[i] = (bitmap[i / 8] >> (i % 8)) & 1;
      }
      col.bits.assign(rows, 0);
      col.strings.clear();
      if (col.type == FieldType::kString) col.strings.resize(rows);
      for (size_t i = 0; i < rows; ++i) {
        if (!col.present[i]) continue;
        bool ok = true;
        switch (col.type) {
          case FieldType::kDouble: ok = d.GetFixed64(&col.bits[i]); break;
          case FieldType::kInt64: {
            uint64_t z;
            ok = d.GetVarint64(&z);
            col.bits[i] = static_cast<uint64_t>(ZigZagDecode(z));
            break;
          }
          case FieldType::kUInt64: ok = d.GetVarint64(&col.bits[i]); break;
          case FieldType::kBool: {
            uint8_t b = 0;
            ok = d.GetByte(&b) && b <= 1;
            col.bits[i] = b;
            break;
          }
          case FieldType::kString: ok = d.GetLengthPrefixed(&col.strings[i]); break;
        }
        if (!ok)
          return Truncated(fmt::format("value of field '{}'", out->field_names[c]), d.offset());
      }
    }
  }
  if (!d.done()) {
    return Corruption("WAL record: {} unexpected bytes after the last series", d.remaining());
  }
  return Status::OK();
}

namespace {

void PutSeriesIds(const std::vector<SeriesId>& ids, std::string* out) {
  PutVarint64(out, ids.size());
  uint64_t previous = 0;
  for (SeriesId id : ids) {
    PutVarint64(out, id.value() - previous);
    previous = id.value();
  }
}

// Reads what PutSeriesIds wrote: a count, then ascending ids as gaps (the first absolute).
Status GetSeriesIds(Decoder* d, std::vector<SeriesId>* ids) {
  uint64_t count;
  if (!d->GetBoundedVarint(d->remaining(), &count)) return Truncated("series count", d->offset());
  ids->reserve(count);
  uint64_t id = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta;
    // Ids strictly increase: a zero or wrapping delta is corruption.
    if (!d->GetVarint64(&delta) || (i > 0 && delta == 0) || delta > UINT64_MAX - id) {
      return Truncated("series id", d->offset());
    }
    id += delta;
    ids->emplace_back(id);
  }
  return Status::OK();
}

}  // namespace

void EncodeDeleteRecord(const DeleteRecord& record, std::string* out) {
  out->push_back(static_cast<char>(kRecordVersion));
  PutVarint64(out, record.tenant.value());
  PutLengthPrefixed(out, record.database);
  PutLengthPrefixed(out, record.table);
  PutVarint64(out, record.generation);
  PutVarint64(out, ZigZagEncode(record.min_time));
  PutVarint64(out, ZigZagEncode(record.max_time));
  PutSeriesIds(record.series, out);
}

Status DecodeDeleteRecord(std::string_view payload, DeleteRecord* out) {
  *out = DeleteRecord{};
  Decoder d(payload);
  uint8_t version;
  uint64_t tenant, min_z, max_z;
  std::string_view database, table;
  if (!d.GetByte(&version) || version < 1 || version > kRecordVersion) {
    return Corruption("WAL delete record: unknown version");
  }
  if (!d.GetVarint64(&tenant) || !d.GetLengthPrefixed(&database) || !d.GetLengthPrefixed(&table) ||
      (version >= 2 && !d.GetVarint64(&out->generation)) || !d.GetVarint64(&min_z) ||
      !d.GetVarint64(&max_z)) {
    return Truncated("delete header", d.offset());
  }
  out->tenant = TenantId(tenant);
  out->database = std::string(database);
  out->table = std::string(table);
  out->min_time = ZigZagDecode(min_z);
  out->max_time = ZigZagDecode(max_z);
  SW_RETURN_IF_ERROR(GetSeriesIds(&d, &out->series));
  if (!d.done())
    return Corruption("WAL delete record: {} unexpected trailing bytes", d.remaining());
  return Status::OK();
}

void EncodeDropTableRecord(const DropTableRecord& record, std::string* out) {
  out->push_back(static_cast<char>(kDropRecordVersion));
  PutVarint64(out, record.tenant.value());
  PutLengthPrefixed(out, record.database);
  PutLengthPrefixed(out, record.table);
  PutVarint64(out, record.generation);
  PutSeriesIds(record.series, out);
}

Status DecodeDropTableRecord(std::string_view payload, DropTableRecord* out) {
  *out = DropTableRecord{};
  Decoder d(payload);
  uint8_t version;
  uint64_t tenant;
  std::string_view database, table;
  if (!d.GetByte(&version) || version != kDropRecordVersion) {
    return Corruption("WAL drop-table record: unknown version");
  }
  if (!d.GetVarint64(&tenant) || !d.GetLengthPrefixed(&database) || !d.GetLengthPrefixed(&table) ||
      !d.GetVarint64(&out->generation)) {
    return Truncated("drop-table header", d.offset());
  }
  out->tenant = TenantId(tenant);
  out->database = std::string(database);
  out->table = std::string(table);
  SW_RETURN_IF_ERROR(GetSeriesIds(&d, &out->series));
  if (!d.done()) {
    return Corruption("WAL drop-table record: {} unexpected trailing bytes", d.remaining());
  }
  return Status::OK();
}

}  // namespace seaway
