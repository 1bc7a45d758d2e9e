// seaway-inspect segment (tools/inspect).
#include "inspect/inspect_segment.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/coding.h"
#include "inspect/inspect_format.h"
#include "storage/segment.h"

namespace seaway::inspect {
namespace {

constexpr size_t kFooterBytes = 32;

// Adds where the footer and index are to an error of Segment::Open, which names only the file:
// the footer layout is in segment.h.
Status WithIndexPosition(Env* env, const std::string& path, const Status& error) {
  auto size = env->GetFileSize(path);
  auto file = env->NewRandomAccessFile(path);
  if (!size.ok() || !file.ok()) return error;
  if (*size < kFooterBytes) return error.WithContext(fmt::format("file of {} bytes", *size));
  char footer[kFooterBytes];
  auto n = (*file)->ReadAt(*size - kFooterBytes, std::as_writable_bytes(std::span(footer)));
  const uint64_t footer_offset = *size - kFooterBytes;
  if (!n.ok() || *n != kFooterBytes || std::string_view(footer + 24, 8) != kSegmentMagic) {
    return Corruption("{} (footer at offset {})", error.message(), footer_offset);
  }
  return Corruption("{} (index at offset {}, {} bytes; footer at offset {})", error.message(),
                    DecodeFixed64(footer), DecodeFixed64(footer + 8), footer_offset);
}

// The codec id byte of a block, named.
std::string BlockCodec(const RandomAccessFile& file, const BlockRef& ref) {
  if (ref.length == 0) return "empty";
  std::byte id[1];
  auto n = file.ReadAt(ref.offset, id);
  if (!n.ok() || *n != 1) return "unreadable";
  return CodecName(static_cast<uint8_t>(id[0]));
}

std::string FormatRef(const RandomAccessFile& file, const BlockRef& ref) {
  return fmt::format("@{} {} B {}", ref.offset, ref.length, BlockCodec(file, ref));
}

std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return {strings.begin(), strings.end()};
}

// The chunks of a series; the segment validated every chunk entry when it opened.
std::vector<Chunk> ChunksOf(const Segment& seg, const SegmentSeries& s) {
  auto chunks = seg.Chunks(s);
  return chunks.ok() ? std::move(*chunks) : std::vector<Chunk>();
}

void PrintHeader(const Segment& seg) {
  uint64_t chunks = 0, values = 0;
  for (const auto& s : seg.series()) {
    chunks += s.chunk_count;
    for (const auto& c : ChunksOf(seg, s)) {
      for (const auto& col : c.columns) values += col.stats.count;
    }
  }
  fmt::print("segment      {}\n", seg.path());
  fmt::print("table        {} (tenant {}, database {})\n", seg.table(), seg.tenant(),
             seg.database());
  fmt::print("generation   {}\n", seg.generation());
  fmt::print("partition    {} .. {} (end exclusive)\n", FormatTime(seg.partition_start()),
             FormatTime(seg.partition_end()));
  fmt::print("max LSN      {}\n", seg.max_lsn());
  fmt::print("file         {} bytes\n", seg.file_bytes());
  fmt::print("rows         {} in {} series, {} chunks\n", seg.rows(), seg.series().size(), chunks);
  fmt::print("values       {} ({} bytes/value)\n", values, FormatRatio(seg.file_bytes(), values));
  std::string tags;
  for (const auto& k : seg.tag_keys()) tags += fmt::format("{}{}", tags.empty() ? "" : ", ", k);
  fmt::print("tag keys     {}\n", tags.empty() ? "-" : tags);
  std::string fields;
  for (const auto& f : seg.fields()) {
    fields += fmt::format("{}{} {}", fields.empty() ? "" : ", ", f.name, FieldTypeName(f.type));
  }
  fmt::print("fields       {}\n", fields.empty() ? "-" : fields);
}

// Blocks, bytes and values per column (times first), from the index alone.
void PrintColumns(const Segment& seg) {
  struct Totals {
    uint64_t blocks = 0, bytes = 0, values = 0;
  };
  std::vector<Totals> totals(seg.fields().size() + 1);
  for (const auto& s : seg.series()) {
    for (const auto& c : ChunksOf(seg, s)) {
      totals[0].blocks += 1;
      totals[0].bytes += c.times.length;
      totals[0].values += c.rows;
      for (size_t f = 0; f < c.columns.size(); ++f) {
        const ColumnChunk& col = c.columns[f];
        Totals& t = totals[f + 1];
        if (col.presence == 2) {
          t.blocks += 1;
          t.bytes += col.validity.length;
        }
        if (col.presence != 1) {
          t.blocks += 1;
          t.bytes += col.values.length;
          t.values += col.stats.count;
        }
      }
    }
  }
  fmt::print("{:<20} {:<10} {:>8} {:>12} {:>12} {:>12}\n", "column", "type", "blocks", "bytes",
             "values", "bytes/value");
  uint64_t data_bytes = 0;
  for (size_t i = 0; i < totals.size(); ++i) {
    const std::string_view name = i == 0 ? "time" : std::string_view(seg.fields()[i - 1].name);
    const std::string_view type = i == 0 ? "timestamp" : FieldTypeName(seg.fields()[i - 1].type);
    fmt::print("{:<20} {:<10} {:>8} {:>12} {:>12} {:>12}\n", name, type, totals[i].blocks,
               totals[i].bytes, totals[i].values, FormatRatio(totals[i].bytes, totals[i].values));
    data_bytes += totals[i].bytes;
  }
  fmt::print("{:<20} {:<10} {:>8} {:>12}\n", "magic+index+footer", "", "",
             seg.file_bytes() - std::min(seg.file_bytes(), data_bytes));
}

std::string FormatStats(FieldType type, const ChunkStats& st) {
  if (type == FieldType::kString) return fmt::format("count {}", st.count);
  return fmt::format("count {}  min {}  max {}  sum {}  first {}  last {}", st.count,
                     FormatBits(type, st.min_bits), FormatBits(type, st.max_bits), st.sum,
                     FormatBits(type, st.first_bits), FormatBits(type, st.last_bits));
}

void PrintChunks(const Segment& seg, const SegmentSeries& s, const RandomAccessFile& file) {
  size_t width = 4;
  for (const auto& f : seg.fields()) width = std::max(width, f.name.size());
  const std::vector<Chunk> chunks = ChunksOf(seg, s);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    fmt::print("  chunk {}  rows {}  {} .. {}  times {}\n", i, c.rows, FormatTime(c.min_time),
               FormatTime(c.max_time), FormatRef(file, c.times));
    for (size_t f = 0; f < c.columns.size(); ++f) {
      const ColumnChunk& col = c.columns[f];
      const FieldSchema& field = seg.fields()[f];
      if (col.presence == 1) {
        fmt::print("    {:<{}}  none\n", field.name, width);
        continue;
      }
      std::string blocks;
      if (col.presence == 2) blocks = fmt::format("validity {}  ", FormatRef(file, col.validity));
      blocks += fmt::format("values {}", FormatRef(file, col.values));
      fmt::print("    {:<{}}  {}  {}  {}\n", field.name, width, col.presence == 0 ? "all " : "some",
                 blocks, FormatStats(field.type, col.stats));
    }
  }
}

// Decodes the first `limit` rows of `s` and prints them as a table.
Status PrintValues(const Segment& seg, const SegmentSeries& s, size_t limit) {
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header{"time"};
  for (const auto& f : seg.fields()) header.push_back(f.name);
  table.push_back(header);
  std::vector<int64_t> times;
  std::vector<ColumnVector> columns(seg.fields().size());
  const std::vector<Chunk> chunks = ChunksOf(seg, s);
  for (size_t i = 0; i < chunks.size() && table.size() <= limit; ++i) {
    const Chunk& c = chunks[i];
    auto where = [&](std::string_view block, const BlockRef& ref) {
      return fmt::format("series {}, chunk {}, {} block at offset {}", s.id, i, block, ref.offset);
    };
    SW_RETURN_IF_ERROR(seg.ReadChunkTimes(c, &times).WithContext(where("times", c.times)));
    for (size_t f = 0; f < columns.size(); ++f) {
      const ColumnChunk& col = c.columns[f];
      std::string context = where(seg.fields()[f].name, col.values);
      if (col.presence == 2) context += fmt::format(", validity at offset {}", col.validity.offset);
      SW_RETURN_IF_ERROR(seg.ReadChunkColumn(c, f, &columns[f]).WithContext(context));
    }
    for (size_t r = 0; r < times.size() && table.size() <= limit; ++r) {
      std::vector<std::string> row{FormatTime(times[r])};
      for (const ColumnVector& col : columns) {
        if (!col.present[r]) {
          row.emplace_back("-");
        } else if (col.type == FieldType::kString) {
          row.push_back(FormatString(col.strings[r]));
        } else {
          row.push_back(FormatBits(col.type, col.bits[r]));
        }
      }
      table.push_back(std::move(row));
    }
  }
  fmt::print("  first {} of {} rows\n", table.size() - 1, s.rows);
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : table) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : table) {
    std::string line = "   ";
    for (size_t i = 0; i < row.size(); ++i) line += fmt::format(" {:<{}}", row[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  }
  return Status::OK();
}

}  // namespace

Status InspectSegment(Env* env, const std::string& path, const SegmentOptions& options) {
  auto opened = Segment::Open(env, path);
  if (!opened.ok()) {
    if (opened.status().code() != StatusCode::kCorruption) return opened.status();
    return WithIndexPosition(env, path, opened.status());
  }
  const Segment& seg = **opened;
  SW_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  PrintHeader(seg);
  PrintColumns(seg);
  if (!options.series && !options.chunks && options.values == 0) return Status::OK();
  const auto keys = Views(seg.tag_keys());
  for (const SegmentSeries& s : seg.series()) {
    fmt::print("series {}  {}  rows {}  chunks {}  {} .. {}\n", s.id,
               FormatTags(keys, s.tag_values()), s.rows, s.chunk_count, FormatTime(s.min_time),
               FormatTime(s.max_time));
    if (options.chunks) PrintChunks(seg, s, *file);
    if (options.values > 0) SW_RETURN_IF_ERROR(PrintValues(seg, s, options.values));
  }
  return Status::OK();
}

}  // namespace seaway::inspect
