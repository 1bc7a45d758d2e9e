// seaway-inspect wal (tools/inspect).
#include "inspect/inspect_wal.h"

#include <fmt/format.h>

#include "inspect/inspect_format.h"
#include "storage/wal.h"
#include "storage/wal_record.h"

namespace seaway::inspect {
namespace {

std::string FrameTypeName(WalRecordType type) {
  switch (type) {
    case WalRecordType::kWrite: return "write";
    case WalRecordType::kDelete: return "delete";
    case WalRecordType::kDropTable: return "drop";
  }
  return fmt::format("type{}", static_cast<uint8_t>(type));
}

std::string FormatIds(const std::vector<SeriesId>& series) {
  std::string ids;
  for (SeriesId id : series) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", id);
  return ids.empty() ? "-" : ids;
}

void PrintDelete(const DeleteRecord& record) {
  fmt::print("      tenant {}  database {}  table {}  delete {} .. {}  generation {}\n",
             record.tenant, record.database, record.table, FormatTime(record.min_time),
             FormatTime(record.max_time), record.generation);
  fmt::print("      series  {}\n", FormatIds(record.series));
}

void PrintDrop(const DropTableRecord& record) {
  fmt::print("      tenant {}  database {}  table {}  DROP TABLE of generation {}\n", record.tenant,
             record.database, record.table, record.generation);
  fmt::print("      series  {}\n", FormatIds(record.series));
}

void PrintRecord(const WriteRecord& record) {
  fmt::print("      tenant {}  database {}  table {}  series {}  rows {}  generation {}\n",
             record.tenant, record.database, record.table, record.series.size(), record.RowCount(),
             record.generation);
  std::string tags;
  for (const auto& k : record.tag_keys) tags += fmt::format("{}{}", tags.empty() ? "" : ", ", k);
  fmt::print("      tags    {}\n", tags.empty() ? "-" : tags);
  std::string fields;
  for (size_t f = 0; f < record.field_names.size(); ++f) {
    fields += fmt::format("{}{} {}", f == 0 ? "" : ", ", record.field_names[f],
                          FieldTypeName(record.field_types[f]));
  }
  fmt::print("      fields  {}\n", fields.empty() ? "-" : fields);
  for (const auto& s : record.series) {
    // Times are in arrival order within a record, not necessarily sorted.
    int64_t lo = s.times.front(), hi = s.times.front();
    for (int64_t t : s.times) {
      lo = std::min(lo, t);
      hi = std::max(hi, t);
    }
    std::string present;
    for (size_t c = 0; c < s.columns.size(); ++c) {
      size_t n = 0;
      for (uint8_t p : s.columns[c].present) n += p;
      present += fmt::format(" {}:{}", record.field_names[c], n);
    }
    fmt::print("      series {}  {}  rows {}  {} .. {}  values{}\n", s.id,
               FormatTags(record.tag_keys, s.tag_values), s.times.size(), FormatTime(lo),
               FormatTime(hi), present);
  }
}

// Decodes and prints the payload of `frame`.
Status PrintPayload(const WalFrame& frame) {
  if (frame.type == WalRecordType::kDropTable) {
    DropTableRecord record;
    SW_RETURN_IF_ERROR(DecodeDropTableRecord(frame.payload, &record));
    PrintDrop(record);
    return Status::OK();
  }
  if (frame.type == WalRecordType::kDelete) {
    DeleteRecord record;
    SW_RETURN_IF_ERROR(DecodeDeleteRecord(frame.payload, &record));
    PrintDelete(record);
    return Status::OK();
  }
  WriteRecord record;
  SW_RETURN_IF_ERROR(DecodeWriteRecord(frame.payload, &record));
  PrintRecord(record);
  return Status::OK();
}

}  // namespace

Status InspectWal(Env* env, const std::string& path, const WalOptions& options) {
  fmt::print("wal          {}\n", path);
  uint64_t offset = kWalMagic.size();  // frames are contiguous after the magic
  uint64_t first_lsn = 0, last_lsn = 0;
  Status first_error;
  bool header_printed = false;
  auto read = ReadWalFile(env, path, [&](const WalFrame& frame) -> Status {
    if (!header_printed) {
      fmt::print("{:>12}  {:>12}  {:<6}  {:>10}\n", "offset", "lsn", "type", "payload");
      header_printed = true;
    }
    const uint64_t lsn = frame.lsn.value();
    fmt::print("{:>12}  {:>12}  {:<6}  {:>10}\n", offset, lsn, FrameTypeName(frame.type),
               frame.payload.size());
    if (last_lsn != 0 && lsn != last_lsn + 1 && first_error.ok()) {
      // W1: replay refuses a gap or a reordering.
      first_error = Corruption("wal '{}': frame at offset {} has LSN {} where {} was expected (W1)",
                               path, offset, lsn, last_lsn + 1);
      fmt::print("      ^ LSN out of sequence: expected {}\n", last_lsn + 1);
    }
    if (first_lsn == 0) first_lsn = lsn;
    last_lsn = lsn;
    if (options.records) {
      if (Status s = PrintPayload(frame); !s.ok()) {
        fmt::print("      undecodable payload: {}\n", s.message());
        if (first_error.ok()) {
          first_error = s.WithContext(
              fmt::format("wal '{}': frame at offset {} (LSN {}), payload at offset {}", path,
                          offset, lsn, offset + kWalFrameHeader));
        }
      }
    }
    offset += kWalFrameHeader + frame.payload.size();
    return Status::OK();
  });
  if (!read.ok()) return read.status();
  const WalReadResult& r = *read;
  fmt::print("bytes        {} (whole frames end at offset {})\n", r.file_bytes, r.valid_bytes);
  if (r.frames == 0) {
    fmt::print("frames       0\n");
  } else {
    fmt::print("frames       {}, LSN {} .. {}\n", r.frames, first_lsn, last_lsn);
  }
  if (!r.corruption.ok()) {
    fmt::print("end          DAMAGED at offset {}\n", r.corruption_offset);
    // Damage mid-log names its offsets; a bad magic is at offset 0.
    if (r.valid_bytes == 0) return Corruption("{} at offset 0", r.corruption.message());
    return r.corruption;
  }
  if (r.torn_tail) {
    fmt::print(
        "end          torn tail at offset {}: {} bytes after the last whole frame (never "
        "acknowledged; recovery cuts them off if this is the newest file)\n",
        r.valid_bytes, r.file_bytes - r.valid_bytes);
  } else {
    fmt::print("end          clean\n");
  }
  return first_error;
}

}  // namespace seaway::inspect
