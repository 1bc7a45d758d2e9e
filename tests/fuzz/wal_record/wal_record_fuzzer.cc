// Fuzz target for WAL record payloads (src/storage/wal_record.h): the input is decoded as a write
// record, as a delete record and as a drop-table record. A rejection must be a Corruption; an
// accepted write record must be internally consistent (every column sized to its series' rows or
// empty, values only where present) with every string view inside the input, and hold no more rows
// than the input has bytes, which keeps a hostile record's memory proportional to its size. There
// is no encoder from a decoded WriteRecord, so no round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "storage/wal_record.h"

#define CHECK FUZZ_CHECK

namespace {

using seaway::FieldType;

void CheckRejection(const seaway::Status& status, std::string_view prefix) {
  CHECK(status.code() == seaway::StatusCode::kCorruption);
  CHECK(status.message().starts_with(prefix));
}

// Whether `view` lies inside `input` (an empty view may sit at its end).
bool Inside(std::string_view view, std::string_view input) {
  const std::less_equal<const char*> le;
  return le(input.data(), view.data()) &&
         le(view.data() + view.size(), input.data() + input.size());
}

void CheckWriteRecord(const seaway::WriteRecord& r, std::string_view input) {
  CHECK(Inside(r.database, input) && Inside(r.table, input));
  for (auto k : r.tag_keys) CHECK(Inside(k, input));
  for (auto f : r.field_names) CHECK(Inside(f, input));
  CHECK(r.field_types.size() == r.field_names.size());
  for (FieldType t : r.field_types) CHECK(seaway::IsValidFieldType(static_cast<uint8_t>(t)));
  CHECK(r.series.size() <= input.size());
  size_t rows_total = 0;
  for (const auto& s : r.series) {
    const size_t rows = s.times.size();
    rows_total += rows;
    CHECK(rows >= 1 && rows <= seaway::kMaxRecordRowsPerSeries);
    CHECK(s.tag_values.size() == r.tag_keys.size());
    for (auto v : s.tag_values) CHECK(Inside(v, input));
    CHECK(s.columns.size() == r.field_names.size());
    for (size_t c = 0; c < s.columns.size(); ++c) {
      const auto& col = s.columns[c];
      CHECK(col.type == r.field_types[c]);
      if (col.present.empty()) {  // no row has the field
        CHECK(col.bits.empty() && col.strings.empty());
        continue;
      }
      CHECK(col.present.size() == rows && col.bits.size() == rows);
      CHECK(col.strings.size() == (col.type == FieldType::kString ? rows : 0));
      for (size_t i = 0; i < rows; ++i) {
        CHECK(col.present[i] <= 1);
        if (!col.present[i]) CHECK(col.bits[i] == 0);
        if (col.type == FieldType::kBool) CHECK(col.bits[i] <= 1);
        if (col.type == FieldType::kString) {
          CHECK(col.present[i] ? Inside(col.strings[i], input) : col.strings[i].empty());
        }
      }
    }
  }
  CHECK(rows_total == r.RowCount());
  CHECK(rows_total <= input.size());  // every row costs at least one byte (its time delta)
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  seaway::WriteRecord record;
  seaway::Status status = seaway::DecodeWriteRecord(input, &record);
  if (status.ok()) {
    CheckWriteRecord(record, input);
  } else {
    CheckRejection(status, "WAL record: ");
  }

  seaway::DeleteRecord del;
  status = seaway::DecodeDeleteRecord(input, &del);
  if (status.ok()) {
    CHECK(del.series.size() <= input.size());
    for (size_t i = 1; i < del.series.size(); ++i) CHECK(del.series[i - 1] < del.series[i]);
  } else {
    CheckRejection(status, "WAL ");
  }

  seaway::DropTableRecord drop;
  status = seaway::DecodeDropTableRecord(input, &drop);
  if (status.ok()) {
    CHECK(drop.series.size() <= input.size());
    for (size_t i = 1; i < drop.series.size(); ++i) CHECK(drop.series[i - 1] < drop.series[i]);
  } else {
    CheckRejection(status, "WAL ");
  }
  return 0;
}
