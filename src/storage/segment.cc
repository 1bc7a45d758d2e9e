// Segment files: writer and reader (src/storage). Layout: docs/formats/segment.md.
#include "storage/segment.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "common/coding.h"
#include "common/int_math.h"
#include "storage/checksummed_file.h"
#include "storage/codec/column_codec.h"

namespace seaway {
namespace {

// Version 2 added the table generation after the table name; version 1 reads as generation 0.
constexpr uint8_t kIndexVersion = 2;
constexpr uint32_t kFooterVersion = 1;
constexpr size_t kFooterBytes = 32;

// zstd saves only 10-15% on ALP-encoded floats but costs about a quarter of their scan speed;
// wrap float blocks only when it saves a quarter (docs/BENCHMARKS.md has the figures).
const codec::EncodeOptions kFloatEncodeOptions{.general_compression = true,
                                               .min_compression_savings = 0.25};

void PutRef(std::string* out, const BlockRef& ref) {
  PutVarint64(out, ref.offset);
  PutVarint64(out, ref.length);
  PutFixed32(out, ref.checksum);
}

void PutTime(std::string* out, int64_t t) { PutVarint64(out, ZigZagEncode(t)); }

// Appends blocks to the file, remembering where each went.
class BlockSink {
 public:
  explicit BlockSink(WritableFile* file) : file_(file) {}
  Result<BlockRef> Add(const std::string& block) {
    BlockRef ref{file_->Size(), static_cast<uint32_t>(block.size()), Checksum32(block)};
    SW_RETURN_IF_ERROR(file_->Append(block));
    return ref;
  }

 private:
  WritableFile* file_;
};

// Encodes the present values of rows [begin, end) of `col` and computes their statistics.
Status EncodeColumnChunk(const ColumnVector& col, const std::vector<int64_t>& times, size_t begin,
                         size_t end, BlockSink* sink, ColumnChunk* out) {
  std::vector<uint8_t> present(col.present.begin() + begin, col.present.begin() + end);
  const size_t count = static_cast<size_t>(std::count(present.begin(), present.end(), 1));
  out->stats = ChunkStats{};
  if (count == 0) {
    out->presence = 1;
    return Status::OK();
  }
  std::string block;
  if (count < present.size()) {
    out->presence = 2;
    SW_RETURN_IF_ERROR(codec::EncodeBoolBlock(present, &block));
    SW_ASSIGN_OR_RETURN(out->validity, sink->Add(block));
    block.clear();
  } else {
    out->presence = 0;
  }
  ChunkStats& st = out->stats;
  st.count = static_cast<uint32_t>(count);
  bool first = true;
  auto track = [&](uint64_t bits, auto value, auto less) {
    if (first) {
      st.min_bits = st.max_bits = st.first_bits = bits;
      first = false;
    } else {
      if (less(value, std::bit_cast<decltype(value)>(st.min_bits))) st.min_bits = bits;
      if (less(std::bit_cast<decltype(value)>(st.max_bits), value)) st.max_bits = bits;
    }
    st.last_bits = bits;
  };
  auto lt = [](auto a, auto b) { return a < b; };
  switch (col.type) {
    case FieldType::kDouble: {
      std::vector<double> v;
      v.reserve(count);
      for (size_t r = begin; r < end; ++r) {
        if (!col.present[r]) continue;
        double d = std::bit_cast<double>(col.bits[r]);
        v.push_back(d);
        st.sum += d;
        if (!std::isnan(d)) track(col.bits[r], d, lt);
      }
      if (first) {  // every value is NaN: min and max are NaN too
        st.min_bits = st.max_bits = std::bit_cast<uint64_t>(v.front());
      }
      // first/last follow time order whatever the values are.
      st.first_bits = std::bit_cast<uint64_t>(v.front());
      st.last_bits = std::bit_cast<uint64_t>(v.back());
      SW_RETURN_IF_ERROR(codec::EncodeDoubleBlock(v, &block, kFloatEncodeOptions));
      break;
    }
    case FieldType::kInt64: {
      std::vector<int64_t> v;
      v.reserve(count);
      for (size_t r = begin; r < end; ++r) {
        if (!col.present[r]) continue;
        int64_t x = static_cast<int64_t>(col.bits[r]);
        v.push_back(x);
        st.sum += static_cast<double>(x);
        track(col.bits[r], x, lt);
      }
      SW_RETURN_IF_ERROR(codec::EncodeInt64Block(v, &block));
      break;
    }
    case FieldType::kUInt64: {
      std::vector<uint64_t> v;
      v.reserve(count);
      for (size_t r = begin; r < end; ++r) {
        if (!col.present[r]) continue;
        v.push_back(col.bits[r]);
        st.sum += static_cast<double>(col.bits[r]);
        track(col.bits[r], col.bits[r], lt);
      }
      SW_RETURN_IF_ERROR(codec::EncodeUInt64Block(v, &block));
      break;
    }
    case FieldType::kBool: {
      std::vector<uint8_t> v;
      v.reserve(count);
      for (size_t r = begin; r < end; ++r) {
        if (!col.present[r]) continue;
        v.push_back(col.bits[r] != 0);
        st.sum += col.bits[r] != 0;
        track(col.bits[r] != 0, col.bits[r] != 0 ? uint64_t{1} : uint64_t{0}, lt);
      }
      SW_RETURN_IF_ERROR(codec::EncodeBoolBlock(v, &block));
      break;
    }
    case FieldType::kString: {
      std::vector<std::string_view> v;
      v.reserve(count);
      for (size_t r = begin; r < end; ++r) {
        if (col.present[r]) v.emplace_back(col.strings[r]);
      }
      SW_RETURN_IF_ERROR(codec::EncodeStringBlock(v, &block));
      break;
    }
  }
  (void)times;
  SW_ASSIGN_OR_RETURN(out->values, sink->Add(block));
  return Status::OK();
}

void PutChunk(std::string* index, const Chunk& chunk) {
  PutVarint64(index, chunk.rows);
  PutTime(index, chunk.min_time);
  PutTime(index, chunk.max_time);
  PutRef(index, chunk.times);
  for (const ColumnChunk& c : chunk.columns) {
    index->push_back(static_cast<char>(c.presence));
    if (c.presence == 1) continue;
    if (c.presence == 2) PutRef(index, c.validity);
    PutRef(index, c.values);
    PutVarint64(index, c.stats.count);
    PutFixed64(index, c.stats.min_bits);
    PutFixed64(index, c.stats.max_bits);
    PutFixed64(index, std::bit_cast<uint64_t>(c.stats.sum));
    PutFixed64(index, c.stats.first_bits);
    PutFixed64(index, c.stats.last_bits);
  }
}

}  // namespace

std::vector<size_t> ChunkEnds(std::span<const int64_t> times) {
  constexpr int64_t kHourNs = int64_t{3'600'000'000'000};
  const auto hour = [](int64_t t) { return FloorDiv(t, kHourNs); };
  std::vector<size_t> ends;
  size_t begin = 0;
  for (size_t i = 1; i <= times.size(); ++i) {
    const bool last = i == times.size();
    if (last || i - begin == kRowsPerChunk ||
        (i - begin >= kMinRowsBeforeHourCut && hour(times[i]) != hour(times[i - 1]))) {
      ends.push_back(i);
      begin = i;
    }
  }
  return ends;
}

Result<SegmentWriteStats> WriteSegment(Env* env, const std::string& path,
                                       const SegmentInput& input) {
  SW_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  SW_RETURN_IF_ERROR(file->Append(kSegmentMagic));
  BlockSink sink(file.get());
  SegmentWriteStats stats;

  std::string index;
  index.push_back(static_cast<char>(kIndexVersion));
  PutVarint64(&index, input.tenant.value());
  PutLengthPrefixed(&index, input.database);
  PutLengthPrefixed(&index, input.table);
  PutVarint64(&index, input.generation);
  PutTime(&index, input.partition_start);
  PutTime(&index, input.partition_end);
  PutVarint64(&index, input.max_lsn);
  PutVarint64(&index, input.tag_keys.size());
  for (const auto& k : input.tag_keys) PutLengthPrefixed(&index, k);
  PutVarint64(&index, input.fields.size());
  for (const auto& f : input.fields) {
    PutLengthPrefixed(&index, f.name);
    index.push_back(static_cast<char>(f.type));
  }
  PutVarint64(&index, input.series.size());
  std::string block;
  for (const auto& s : input.series) {
    const SeriesRowsBlock& rows = s.rows;
    const size_t n = rows.times.size();
    PutVarint64(&index, s.info->id.value());
    for (const auto& k : input.tag_keys) PutLengthPrefixed(&index, s.info->Tag(k));
    PutVarint64(&index, n);
    PutTime(&index, n ? rows.times.front() : 0);
    PutTime(&index, n ? rows.times.back() : 0);
    const std::vector<size_t> ends = ChunkEnds(rows.times);
    PutVarint64(&index, ends.size());
    size_t begin = 0;
    for (const size_t end : ends) {
      Chunk chunk;
      chunk.rows = static_cast<uint32_t>(end - begin);
      chunk.min_time = rows.times[begin];
      chunk.max_time = rows.times[end - 1];
      block.clear();
      SW_RETURN_IF_ERROR(codec::EncodeTimestampBlock(
          std::span<const int64_t>(rows.times.data() + begin, end - begin), &block));
      SW_ASSIGN_OR_RETURN(chunk.times, sink.Add(block));
      chunk.columns.resize(input.fields.size());
      for (size_t c = 0; c < input.fields.size(); ++c) {
        SW_RETURN_IF_ERROR(
            EncodeColumnChunk(rows.columns[c], rows.times, begin, end, &sink, &chunk.columns[c]));
        stats.values += chunk.columns[c].stats.count;
      }
      PutChunk(&index, chunk);
      begin = end;
    }
    stats.rows += n;
  }
  const uint64_t index_offset = file->Size();
  SW_RETURN_IF_ERROR(file->Append(index));
  std::string footer;
  PutFixed64(&footer, index_offset);
  PutFixed64(&footer, index.size());
  PutFixed32(&footer, Checksum32(index));
  PutFixed32(&footer, kFooterVersion);
  footer.append(kSegmentMagic);
  SW_RETURN_IF_ERROR(file->Append(footer));
  SW_RETURN_IF_ERROR(file->Sync());
  SW_RETURN_IF_ERROR(file->Close());
  stats.file_bytes = index_offset + index.size() + footer.size();
  return stats;
}

namespace {

// Index decoding helpers: each returns false on malformed input.
template <typename D>
bool GetTime(D* d, int64_t* t) {
  uint64_t z;
  if (!d->GetVarint64(&z)) return false;
  *t = ZigZagDecode(z);
  return true;
}

bool GetRef(Decoder* d, uint64_t data_end, BlockRef* ref) {
  uint64_t length;
  if (!d->GetVarint64(&ref->offset) || !d->GetVarint64(&length) || !d->GetFixed32(&ref->checksum)) {
    return false;
  }
  if (length > UINT32_MAX || ref->offset < kSegmentMagic.size() || ref->offset > data_end ||
      length > data_end - ref->offset) {
    return false;
  }
  ref->length = static_cast<uint32_t>(length);
  return true;
}

// Passes over a block reference (see GetRef).
bool SkipRef(Decoder* d) { return d->SkipVarint() && d->SkipVarint() && d->Skip(4); }

// Parses one chunk entry of the index (see PutChunk); with `wanted`, passes over the columns
// not wanted (entries were validated whole when the segment was opened).
bool ParseChunk(Decoder* d, size_t fields, uint64_t data_end, Chunk* c,
                const std::vector<bool>* wanted = nullptr) {
  uint64_t rows;
  if (!d->GetBoundedVarint(kRowsPerChunk, &rows) || rows == 0 || !GetTime(d, &c->min_time) ||
      !GetTime(d, &c->max_time) || !GetRef(d, data_end, &c->times) || c->min_time > c->max_time) {
    return false;
  }
  c->rows = static_cast<uint32_t>(rows);
  c->columns.resize(fields);
  for (size_t k = 0; k < fields; ++k) {
    ColumnChunk& col = c->columns[k];
    uint8_t presence;
    if (!d->GetByte(&presence) || presence > 2) return false;
    col = ColumnChunk{};  // nothing of the chunk parsed before into this one stays behind
    if (wanted != nullptr && !(*wanted)[k]) {
      // validity (when some rows have it), values, the count, then five 8-byte statistics
      if ((presence == 2 && !SkipRef(d)) ||
          (presence != 1 && (!SkipRef(d) || !d->SkipVarint() || !d->Skip(40)))) {
        return false;
      }
      col.presence = kColumnNotRead;
      continue;
    }
    col.presence = presence;
    if (presence == 1) continue;
    if (presence == 2 && !GetRef(d, data_end, &col.validity)) return false;
    uint64_t sum_bits, stat_count;
    if (!GetRef(d, data_end, &col.values) || !d->GetBoundedVarint(rows, &stat_count) ||
        !d->GetFixed64(&col.stats.min_bits) || !d->GetFixed64(&col.stats.max_bits) ||
        !d->GetFixed64(&sum_bits) || !d->GetFixed64(&col.stats.first_bits) ||
        !d->GetFixed64(&col.stats.last_bits)) {
      return false;
    }
    col.stats.count = static_cast<uint32_t>(stat_count);
    col.stats.sum = std::bit_cast<double>(sum_bits);
  }
  return true;
}

// Upper bound of one chunk entry's bytes (see PutChunk): rows, two times, a times ref, then per
// field a presence byte, two refs, a count and five 8-byte statistics.
size_t MaxChunkEntryBytes(size_t fields) { return 3 * 10 + 24 + fields * (1 + 2 * 24 + 10 + 40); }

// Index blocks read through a BlockCache.
constexpr size_t kIndexBlockBytes = 16 * 1024;
// The window through which Open reads an index from the file.
constexpr size_t kIndexWindowBytes = 256 * 1024;

struct XxhStateDeleter {
  void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
};

}  // namespace

// Decodes a segment index front to back (Decoder's methods, offsets from the index start),
// either held in memory or read from the file through a window, hashing the bytes as they pass
// so that the checksum costs no second read. A view from GetLengthPrefixed lasts until the next
// call.
class SegmentIndexDecoder {
 public:
  explicit SegmentIndexDecoder(std::string_view index) : length_(index.size()), window_(index) {}
  SegmentIndexDecoder(const RandomAccessFile* file, uint64_t begin, uint64_t length)
      : file_(file), begin_(begin), length_(length), hash_(XXH3_createState()) {
    XXH3_64bits_reset(hash_.get());
  }

  uint64_t offset() const { return base_ + pos_; }
  uint64_t remaining() const { return length_ - offset(); }
  bool done() const { return remaining() == 0; }

  bool GetByte(uint8_t* v) {
    return Parse(1, [&](Decoder& d) { return d.GetByte(v); });
  }
  bool GetVarint64(uint64_t* v) {
    return Parse(10, [&](Decoder& d) { return d.GetVarint64(v); });
  }
  bool GetBoundedVarint(uint64_t limit, uint64_t* v) { return GetVarint64(v) && *v <= limit; }
  bool GetLengthPrefixed(std::string_view* s) {
    uint64_t n;
    if (!GetVarint64(&n) || n > remaining()) return false;
    return Parse(n, [&](Decoder& d) { return d.GetBytes(n, s); });
  }

  // Runs `parse` on a Decoder over the next `max_bytes` of the index (or what is left), then
  // moves past what it consumed.
  template <typename F>
  bool Parse(size_t max_bytes, F parse) {
    if (!Refill(max_bytes)) return false;
    Decoder d(window_.substr(pos_));
    const bool ok = parse(d);
    pos_ += d.offset();
    return ok;
  }

  // OK, or the read error met.
  const Status& status() const { return status_; }
  // The checksum of the whole index, reading what parsing left (read from a file only).
  Result<uint32_t> Checksum() {
    while (status_.ok() && base_ + window_.size() < length_) {
      pos_ = window_.size();
      Refill(kIndexWindowBytes);
    }
    if (!status_.ok()) return status_;
    return static_cast<uint32_t>(XXH3_64bits_digest(hash_.get()));
  }

 private:
  // Makes the next `n` bytes (or what is left) available in the window; false on read error.
  bool Refill(size_t n) {
    if (file_ == nullptr || window_.size() - pos_ >= n) return true;
    const uint64_t read_end = base_ + window_.size();
    if (read_end == length_ || !status_.ok()) return status_.ok();
    buffer_.erase(0, pos_);  // keep what is not consumed yet, read on after it
    base_ += pos_;
    pos_ = 0;
    const size_t kept = buffer_.size();
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(n, kIndexWindowBytes), length_ - base_));
    buffer_.resize(want);
    auto got = file_->ReadAt(begin_ + read_end,
                             std::as_writable_bytes(std::span(buffer_.data() + kept, want - kept)));
    if (got.ok() && *got != want - kept) {
      got = Corruption("short read of the index at offset {}", begin_ + read_end + *got);
    }
    if (!got.ok()) {
      status_ = got.status();
      buffer_.resize(kept);
      window_ = buffer_;
      return false;
    }
    XXH3_64bits_update(hash_.get(), buffer_.data() + kept, want - kept);
    window_ = buffer_;
    return true;
  }

  const RandomAccessFile* file_ = nullptr;
  uint64_t begin_ = 0;
  uint64_t length_ = 0;
  std::unique_ptr<XXH3_state_t, XxhStateDeleter> hash_;
  std::string buffer_;       // the window, read from the file
  std::string_view window_;  // index bytes [base_, base_ + window_.size())
  uint64_t base_ = 0;
  size_t pos_ = 0;  // in the window
  Status status_;
};

Result<std::shared_ptr<const Segment>> Segment::Open(Env* env, const std::string& path,
                                                     BlockCache* index_cache) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->path_ = path;
  SW_ASSIGN_OR_RETURN(seg->file_, env->NewRandomAccessFile(path));
  SW_ASSIGN_OR_RETURN(seg->file_bytes_, seg->file_->Size());
  auto bad = [&](std::string_view what) { return Corruption("segment '{}': {}", path, what); };
  if (seg->file_bytes_ < kSegmentMagic.size() + kFooterBytes) return bad("shorter than a footer");
  char footer[kFooterBytes];
  SW_ASSIGN_OR_RETURN(size_t n, seg->file_->ReadAt(seg->file_bytes_ - kFooterBytes,
                                                   std::as_writable_bytes(std::span(footer))));
  if (n != kFooterBytes) return bad("short read of the footer");
  if (std::string_view(footer + 24, 8) != kSegmentMagic) return bad("bad magic in the footer");
  const uint64_t index_offset = DecodeFixed64(footer);
  const uint64_t index_length = DecodeFixed64(footer + 8);
  const uint32_t index_checksum = DecodeFixed32(footer + 16);
  if (DecodeFixed32(footer + 20) != kFooterVersion) return bad("unknown footer version");
  if (index_offset < kSegmentMagic.size() ||
      index_offset + index_length != seg->file_bytes_ - kFooterBytes ||
      index_length > seg->file_bytes_) {
    return bad("index position outside the file");
  }
  seg->data_end_ = index_offset;
  seg->index_offset_ = index_offset;
  seg->index_length_ = index_length;
  if (index_cache == nullptr) {
    // Held in memory: read whole, checked before it is parsed.
    seg->index_.resize(index_length);
    SW_ASSIGN_OR_RETURN(
        size_t read,
        seg->file_->ReadAt(index_offset, std::as_writable_bytes(std::span(seg->index_))));
    if (read != index_length) return bad("short read of the index");
    if (Checksum32(seg->index_) != index_checksum) return bad("index checksum mismatch");
    SegmentIndexDecoder d(seg->index_);
    SW_RETURN_IF_ERROR(seg->ParseIndex(&d));
  } else {
    // Parsed as it is read; the checksum is known at the end, and a mismatch is the error to
    // report even when parsing failed first (it names the cause: damaged bytes).
    seg->index_cache_ = index_cache;
    seg->cache_file_id_ = index_cache->NewFileId();
    SegmentIndexDecoder d(seg->file_.get(), index_offset, index_length);
    Status parsed = seg->ParseIndex(&d);
    auto checksum = d.Checksum();
    if (!checksum.ok()) return checksum.status().WithContext(fmt::format("segment '{}'", path));
    if (*checksum != index_checksum) return bad("index checksum mismatch");
    SW_RETURN_IF_ERROR(parsed);
  }
  return std::shared_ptr<const Segment>(std::move(seg));
}

Status Segment::ParseIndex(SegmentIndexDecoder* decoder) {
  auto bad = [&](std::string_view what) { return Corruption("segment '{}': {}", path_, what); };
  SegmentIndexDecoder& d = *decoder;
  uint8_t version;
  uint64_t tenant, count;
  std::string_view sv;
  if (!d.GetByte(&version) || version < 1 || version > kIndexVersion) {
    return bad("unknown index version");
  }
  if (!d.GetVarint64(&tenant)) return bad("truncated index header");
  tenant_ = TenantId(tenant);
  if (!d.GetLengthPrefixed(&sv)) return bad("truncated database name");
  database_ = std::string(sv);
  if (!d.GetLengthPrefixed(&sv)) return bad("truncated table name");
  table_ = std::string(sv);
  if (version >= 2 && !d.GetVarint64(&generation_)) return bad("truncated table generation");
  if (!GetTime(&d, &partition_start_) || !GetTime(&d, &partition_end_) ||
      !d.GetVarint64(&max_lsn_)) {
    return bad("truncated partition bounds");
  }
  if (!d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining()), &count)) {
    return bad("bad tag count");
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (!d.GetLengthPrefixed(&sv)) return bad("truncated tag key");
    tag_keys_.emplace_back(sv);
  }
  if (!d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining() / 2), &count)) {
    return bad("bad field count");
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t type;
    if (!d.GetLengthPrefixed(&sv) || !d.GetByte(&type) || !IsValidFieldType(type)) {
      return bad("bad field definition");
    }
    fields_.push_back(FieldSchema{std::string(sv), static_cast<FieldType>(type)});
  }
  // A series entry takes at least: id, one byte per tag value, rows, min and max time, chunk
  // count. Checking the count against that before sizing anything from it keeps memory
  // proportional to the index whatever the count claims.
  const size_t min_series_bytes = 5 + tag_keys_.size();
  if (!d.GetBoundedVarint(d.remaining() / min_series_bytes, &count)) {
    return bad("series count larger than the index can hold");
  }
  series_.resize(count);
  totals_.assign(fields_.size(), SegmentFieldTotals{});
  // A chunk entry takes at least: rows, min and max time, a times ref (two varints and a
  // checksum), one presence byte per field.
  const size_t min_chunk_bytes = 9 + fields_.size();
  uint64_t previous_id = 0;
  for (auto& s : series_) {
    uint64_t id, chunks;
    if (!d.GetVarint64(&id) || id <= previous_id) return bad("series ids not increasing");
    previous_id = id;
    s.id = SeriesId(id);
    for (size_t k = 0; k < tag_keys_.size(); ++k) {
      if (!d.GetLengthPrefixed(&sv)) return bad("truncated tag value");
      PutLengthPrefixed(&s.encoded_tag_values, sv);
    }
    s.encoded_tag_values.shrink_to_fit();
    if (!d.GetVarint64(&s.rows) || !GetTime(&d, &s.min_time) || !GetTime(&d, &s.max_time) ||
        !d.GetBoundedVarint(d.remaining() / min_chunk_bytes, &chunks)) {
      return bad("truncated series header");
    }
    // Chunk entries are validated now and parsed again on demand (Segment::Chunks), so that
    // memory holds one small entry per series rather than every chunk's references and stats.
    if (chunks > UINT32_MAX || d.offset() > UINT32_MAX) return bad("index too large");
    s.chunk_count = static_cast<uint32_t>(chunks);
    s.chunk_offset = static_cast<uint32_t>(d.offset());
    uint64_t rows_seen = 0;
    Chunk c;
    const size_t max_chunk_bytes = MaxChunkEntryBytes(fields_.size());
    for (uint64_t i = 0; i < chunks; ++i) {
      if (!d.Parse(max_chunk_bytes, [&](Decoder& chunk) {
            return ParseChunk(&chunk, fields_.size(), data_end_, &c);
          })) {
        return d.status().ok() ? bad("bad chunk entry") : d.status();
      }
      rows_seen += c.rows;
      AddToTotals(c, &totals_);
    }
    if (d.offset() > UINT32_MAX) return bad("index too large");
    s.chunk_bytes = static_cast<uint32_t>(d.offset() - s.chunk_offset);
    if (rows_seen != s.rows) return bad("chunk rows do not add up to the series rows");
    rows_ += s.rows;
    if (s.rows > 0) {
      min_time_ = std::min(min_time_, s.min_time);
      max_time_ = std::max(max_time_, s.max_time);
    }
  }
  if (!d.done()) return bad("unexpected bytes after the index");
  return Status::OK();
}

namespace {

// Adds one chunk's statistics of a column of `type` to `*t`.
void AddStats(FieldType type, const ColumnChunk& column, SegmentFieldTotals* t) {
  const ChunkStats& st = column.stats;
  if (column.presence == 1 || st.count == 0) return;
  if (t->count == 0) {
    t->min_bits = st.min_bits;
    t->max_bits = st.max_bits;
  } else {
    if (StatsLess(type, st.min_bits, t->min_bits)) t->min_bits = st.min_bits;
    if (StatsLess(type, t->max_bits, st.max_bits)) t->max_bits = st.max_bits;
  }
  t->count += st.count;
  t->sum += st.sum;
  t->nan |= std::isnan(st.sum);
}

// Block numbers of SeriesTotals' blocks in the index cache: apart from the index's own blocks
// (offset / kIndexBlockBytes, below 2^32).
constexpr uint64_t kSeriesTotalsBlockBit = uint64_t{1} << 63;

}  // namespace

void Segment::AddToTotals(const Chunk& chunk, std::vector<SegmentFieldTotals>* totals) const {
  for (size_t k = 0; k < fields_.size(); ++k) {
    AddStats(fields_[k].type, chunk.columns[k], &(*totals)[k]);
  }
}

Result<SegmentFieldTotals> Segment::SeriesTotals(size_t column, size_t position,
                                                 TotalsHold* hold) const {
  if (column >= fields_.size() || position >= series_.size()) {
    return Internal("segment '{}': totals of column {} of series {} asked ({} columns, {} series)",
                    path_, column, position, fields_.size(), series_.size());
  }
  const uint64_t number =
      kSeriesTotalsBlockBit | (uint64_t{column} << 32) | (position / kSeriesTotalsPerBlock);
  if (hold->number != number || !hold->block) {
    BlockCache::Block block;
    if (index_cache_ != nullptr) {
      block = index_cache_->Lookup(cache_file_id_, number);
    } else {
      std::lock_guard lock(series_totals_mu_);
      if (auto it = series_totals_.find(number); it != series_totals_.end()) block = it->second;
    }
    if (!block) {
      SW_ASSIGN_OR_RETURN(block, GatherSeriesTotals(column, number));
    }
    hold->block = std::move(block);
    hold->number = number;
  }
  SegmentFieldTotals t;
  const size_t at = (position % kSeriesTotalsPerBlock) * sizeof(t);
  if (at + sizeof(t) > hold->block->size()) {
    return Internal("segment '{}': series totals block {:#x} holds {} bytes", path_, number,
                    hold->block->size());
  }
  std::memcpy(&t, hold->block->data() + at, sizeof(t));
  return t;
}

Result<BlockCache::Block> Segment::GatherSeriesTotals(size_t column, uint64_t number) const {
  static_assert(std::is_trivially_copyable_v<SegmentFieldTotals>);
  const size_t first = static_cast<size_t>(number & UINT32_MAX) * kSeriesTotalsPerBlock;
  const size_t end = std::min(series_.size(), first + kSeriesTotalsPerBlock);
  std::vector<bool> wanted(fields_.size(), false);
  wanted[column] = true;
  std::string data((end - first) * sizeof(SegmentFieldTotals), '\0');
  IndexHold index_hold;
  std::vector<Chunk> chunks;
  for (size_t i = first; i < end; ++i) {
    SW_RETURN_IF_ERROR(Chunks(series_[i], &index_hold, &chunks, &wanted));
    SegmentFieldTotals t;
    for (const Chunk& c : chunks) AddStats(fields_[column].type, c.columns[column], &t);
    std::memcpy(data.data() + (i - first) * sizeof(t), &t, sizeof(t));
  }
  if (index_cache_ != nullptr) return index_cache_->Insert(cache_file_id_, number, std::move(data));
  auto block = std::make_shared<const std::string>(std::move(data));
  std::lock_guard lock(series_totals_mu_);
  return series_totals_.try_emplace(number, std::move(block)).first->second;
}

Result<const std::vector<TagValueTotals>*> Segment::TotalsByTag(std::string_view key) const {
  {
    std::lock_guard lock(tag_totals_mu_);
    if (auto it = tag_totals_.find(key); it != tag_totals_.end()) return it->second.get();
  }
  const auto k = std::find(tag_keys_.begin(), tag_keys_.end(), key);
  auto totals = std::make_unique<std::vector<TagValueTotals>>();
  if (k == tag_keys_.end()) {
    // No series has the tag: one group of every row.
    totals->push_back({"", rows_, totals_});
  } else {
    const size_t index = static_cast<size_t>(k - tag_keys_.begin());
    // The value of each series first: a tag of too many values stops before any chunk is read.
    std::map<std::string, size_t, std::less<>> slot;
    std::vector<size_t> slot_of(series_.size());
    for (size_t i = 0; i < series_.size(); ++i) {
      Decoder d(series_[i].encoded_tag_values);
      std::string_view value;
      for (size_t j = 0; j <= index; ++j) {
        if (!d.GetLengthPrefixed(&value)) return Corruption("segment '{}': bad tag values", path_);
      }
      auto it = slot.find(value);
      if (it == slot.end()) {
        if (totals->size() == kMaxTagTotalsValues) {
          totals.reset();
          break;
        }
        it = slot.emplace(std::string(value), totals->size()).first;
        totals->push_back({std::string(value), 0, {}});
        totals->back().fields.assign(fields_.size(), SegmentFieldTotals{});
      }
      slot_of[i] = it->second;
    }
    if (totals != nullptr) {
      IndexHold hold;
      std::vector<Chunk> chunks;
      for (size_t i = 0; i < series_.size(); ++i) {
        TagValueTotals& t = (*totals)[slot_of[i]];
        t.rows += series_[i].rows;
        SW_RETURN_IF_ERROR(Chunks(series_[i], &hold, &chunks));
        for (const Chunk& c : chunks) AddToTotals(c, &t.fields);
      }
      std::sort(totals->begin(), totals->end(),
                [](const TagValueTotals& a, const TagValueTotals& b) { return a.value < b.value; });
    }
  }
  std::lock_guard lock(tag_totals_mu_);
  auto [it, added] = tag_totals_.try_emplace(std::string(key), std::move(totals));
  return it->second.get();
}

Result<std::vector<Chunk>> Segment::Chunks(const SegmentSeries& series) const {
  IndexHold hold;
  std::vector<Chunk> out;
  SW_RETURN_IF_ERROR(Chunks(series, &hold, &out));
  return out;
}

Status Segment::Chunks(const SegmentSeries& series, IndexHold* hold, std::vector<Chunk>* out,
                       const std::vector<bool>* wanted) const {
  if (wanted != nullptr && wanted->size() != fields_.size()) {
    return Internal("segment '{}': {} wanted flags for {} columns", path_, wanted->size(),
                    fields_.size());
  }
  out->resize(series.chunk_count);
  if (series.chunk_count == 0) return Status::OK();
  std::string scratch;
  SW_ASSIGN_OR_RETURN(std::string_view bytes,
                      IndexBytes(series.chunk_offset, series.chunk_bytes, hold, &scratch));
  Decoder d(bytes);
  for (Chunk& c : *out) {
    if (!ParseChunk(&d, fields_.size(), data_end_, &c, wanted)) {
      return Corruption("segment '{}': bad chunk entry of series {}", path_, series.id);
    }
  }
  return Status::OK();
}

Result<std::string_view> Segment::IndexBytes(uint32_t offset, uint32_t n, IndexHold* hold,
                                             std::string* scratch) const {
  if (uint64_t{offset} + n > index_length_) {
    return Corruption("segment '{}': index range {}+{} past its end", path_, offset, n);
  }
  if (index_cache_ == nullptr) return std::string_view(index_).substr(offset, n);
  if (n == 0) return std::string_view();
  const uint64_t first = offset / kIndexBlockBytes;
  const uint64_t last = (uint64_t{offset} + n - 1) / kIndexBlockBytes;
  if (first == last) {
    if (hold->number != first || !hold->block) {
      SW_ASSIGN_OR_RETURN(hold->block, IndexBlock(first));
      hold->number = first;
    }
    return std::string_view(*hold->block).substr(offset - first * kIndexBlockBytes, n);
  }
  scratch->clear();
  for (uint64_t b = first; b <= last; ++b) {
    SW_ASSIGN_OR_RETURN(BlockCache::Block block, IndexBlock(b));
    const uint64_t begin = std::max<uint64_t>(offset, b * kIndexBlockBytes) - b * kIndexBlockBytes;
    const uint64_t end =
        std::min<uint64_t>(uint64_t{offset} + n, (b + 1) * kIndexBlockBytes) - b * kIndexBlockBytes;
    scratch->append(std::string_view(*block).substr(begin, end - begin));
  }
  return std::string_view(*scratch);
}

Status Segment::ColumnNotRead(size_t column) const {
  return Internal("segment '{}': column '{}' of a chunk was passed over, then read", path_,
                  fields_[column].name);
}

Result<BlockCache::Block> Segment::IndexBlock(uint64_t number) const {
  if (BlockCache::Block block = index_cache_->Lookup(cache_file_id_, number)) return block;
  const uint64_t begin = number * kIndexBlockBytes;
  std::string data(std::min<uint64_t>(kIndexBlockBytes, index_length_ - begin), '\0');
  SW_ASSIGN_OR_RETURN(
      size_t read, file_->ReadAt(index_offset_ + begin, std::as_writable_bytes(std::span(data))));
  if (read != data.size()) {
    return Corruption("segment '{}': short read of the index at offset {}", path_,
                      index_offset_ + begin + read);
  }
  return index_cache_->Insert(cache_file_id_, number, std::move(data));
}

std::vector<std::string_view> SegmentSeries::tag_values() const {
  std::vector<std::string_view> out;
  Decoder d(encoded_tag_values);
  std::string_view v;
  while (d.GetLengthPrefixed(&v)) out.push_back(v);
  return out;
}

const SegmentSeries* Segment::Find(SeriesId id) const {
  auto it = std::lower_bound(series_.begin(), series_.end(), id,
                             [](const SegmentSeries& s, SeriesId v) { return s.id < v; });
  return it != series_.end() && it->id == id ? &*it : nullptr;
}

const SegmentSeries* Segment::Find(SeriesId id, size_t* cursor) const {
  constexpr size_t kNear = 8;  // entries tried one by one past the cursor
  const size_t n = series_.size();
  size_t i = std::min(*cursor, n);
  auto less = [](const SegmentSeries& s, SeriesId v) { return s.id < v; };
  if (i > 0 && !(series_[i - 1].id < id)) {
    i = static_cast<size_t>(
        std::lower_bound(series_.begin(), series_.begin() + static_cast<long>(i), id, less) -
        series_.begin());
  } else {
    const size_t near_end = std::min(n, i + kNear);
    while (i < near_end && series_[i].id < id) ++i;
    if (i == near_end && i < n) {
      i = static_cast<size_t>(
          std::lower_bound(series_.begin() + static_cast<long>(i), series_.end(), id, less) -
          series_.begin());
    }
  }
  if (i < n && series_[i].id == id) {
    *cursor = i + 1;
    return &series_[i];
  }
  *cursor = i;
  return nullptr;
}

Result<std::string_view> Segment::ReadBlock(const BlockRef& ref, std::string* scratch) const {
  SW_ASSIGN_OR_RETURN(std::string_view block, file_->View(ref.offset, ref.length, scratch));
  if (block.size() != ref.length) {
    return Corruption("segment '{}': short read at offset {}", path_, ref.offset);
  }
  if (Checksum32(block) != ref.checksum) {
    return Corruption("segment '{}': block checksum mismatch at offset {}", path_, ref.offset);
  }
  return block;
}

Status Segment::ReadChunkTimes(const Chunk& chunk, std::vector<int64_t>* out) const {
  out->clear();
  return AppendChunkTimes(chunk, out);
}

Status Segment::AppendChunkTimes(const Chunk& chunk, std::vector<int64_t>* out) const {
  std::string scratch;
  SW_ASSIGN_OR_RETURN(std::string_view block, ReadBlock(chunk.times, &scratch));
  const size_t before = out->size();
  SW_RETURN_IF_ERROR(codec::DecodeTimestampBlock(block, out).WithContext(path_));
  if (out->size() - before != chunk.rows) {
    const size_t got = out->size() - before;
    out->resize(before);
    return Corruption("segment '{}': time block has {} values, chunk says {}", path_, got,
                      chunk.rows);
  }
  return Status::OK();
}

Status Segment::ReadChunkDoubles(const Chunk& chunk, size_t column,
                                 std::vector<double>* out) const {
  const ColumnChunk& col = chunk.columns[column];
  if (col.presence == kColumnNotRead) return ColumnNotRead(column);
  if (fields_[column].type != FieldType::kDouble) {
    return InvalidArgument("segment '{}': field '{}' is not a float", path_, fields_[column].name);
  }
  if (col.presence == 1) return Status::OK();
  std::string scratch;
  SW_ASSIGN_OR_RETURN(std::string_view block, ReadBlock(col.values, &scratch));
  const size_t before = out->size();
  SW_RETURN_IF_ERROR(codec::DecodeDoubleBlock(block, out).WithContext(path_));
  if (out->size() - before != col.stats.count) {
    return Corruption("segment '{}': values block has {} values, statistics say {}", path_,
                      out->size() - before, col.stats.count);
  }
  return Status::OK();
}

Status Segment::ReadChunkColumn(const Chunk& chunk, size_t column, ColumnVector* out) const {
  out->type = fields_[column].type;
  out->present.clear();
  out->bits.clear();
  out->strings.clear();
  return AppendChunkColumn(chunk, column, 0, chunk.rows, out);
}

Status Segment::AppendChunkColumn(const Chunk& chunk, size_t column, size_t begin, size_t end,
                                  ColumnVector* out) const {
  const ColumnChunk& col = chunk.columns[column];
  if (col.presence == kColumnNotRead) return ColumnNotRead(column);
  const FieldType type = fields_[column].type;
  const size_t rows = end - begin;
  const size_t base = out->bits.size();
  out->bits.resize(base + rows);
  uint64_t* bits = out->bits.data() + base;
  if (type == FieldType::kString) out->strings.resize(base + rows);
  if (col.presence == 1) {
    out->present.insert(out->present.end(), rows, 0);
    std::fill(bits, bits + rows, 0);
    return Status::OK();
  }
  // Presence of every row of the chunk (kept for the thread's next chunk).
  thread_local std::vector<uint8_t> present;
  std::string scratch;
  if (col.presence == 2) {
    SW_ASSIGN_OR_RETURN(std::string_view block, ReadBlock(col.validity, &scratch));
    present.clear();
    SW_RETURN_IF_ERROR(codec::DecodeBoolBlock(block, &present).WithContext(path_));
    if (present.size() != chunk.rows) {
      return Corruption("segment '{}': validity block has {} values, chunk says {}", path_,
                        present.size(), chunk.rows);
    }
    out->present.insert(out->present.end(), present.begin() + static_cast<long>(begin),
                        present.begin() + static_cast<long>(end));
  } else {
    out->present.insert(out->present.end(), rows, 1);
  }
  const size_t dense_rows =
      col.presence == 0 ? chunk.rows
                        : static_cast<size_t>(std::count(present.begin(), present.end(), 1));
  std::string values_scratch;
  SW_ASSIGN_OR_RETURN(std::string_view block, ReadBlock(col.values, &values_scratch));
  // Dense values go to rows [begin, end): with every row present a straight copy.
  auto spread = [&](auto& dense, auto convert) -> Status {
    if (dense.size() != dense_rows) {
      return Corruption("segment '{}': values block has {} values, validity says {}", path_,
                        dense.size(), dense_rows);
    }
    if (col.presence == 0) {
      using T = typename std::decay_t<decltype(dense)>::value_type;
      if constexpr (std::is_arithmetic_v<T> && sizeof(T) == sizeof(uint64_t)) {
        std::memcpy(bits, dense.data() + begin, rows * sizeof(T));  // the patterns as they are
      } else {
        for (size_t r = begin; r < end; ++r) convert(dense[r], r - begin);
      }
      return Status::OK();
    }
    size_t j = static_cast<size_t>(
        std::count(present.begin(), present.begin() + static_cast<long>(begin), 1));
    for (size_t r = begin; r < end; ++r) {
      if (present[r]) {
        convert(dense[j++], r - begin);
      } else {
        bits[r - begin] = 0;
      }
    }
    return Status::OK();
  };
  // Decoding buffers live on for the thread's next chunk.
  switch (type) {
    case FieldType::kDouble: {
      thread_local std::vector<double> v;
      v.clear();
      SW_RETURN_IF_ERROR(codec::DecodeDoubleBlock(block, &v).WithContext(path_));
      return spread(v, [&](double x, size_t i) { bits[i] = std::bit_cast<uint64_t>(x); });
    }
    case FieldType::kInt64: {
      thread_local std::vector<int64_t> v;
      v.clear();
      SW_RETURN_IF_ERROR(codec::DecodeInt64Block(block, &v).WithContext(path_));
      return spread(v, [&](int64_t x, size_t i) { bits[i] = static_cast<uint64_t>(x); });
    }
    case FieldType::kUInt64: {
      thread_local std::vector<uint64_t> v;
      v.clear();
      SW_RETURN_IF_ERROR(codec::DecodeUInt64Block(block, &v).WithContext(path_));
      return spread(v, [&](uint64_t x, size_t i) { bits[i] = x; });
    }
    case FieldType::kBool: {
      thread_local std::vector<uint8_t> v;
      v.clear();
      SW_RETURN_IF_ERROR(codec::DecodeBoolBlock(block, &v).WithContext(path_));
      return spread(v, [&](uint8_t x, size_t i) { bits[i] = uint64_t{x}; });
    }
    case FieldType::kString: {
      std::vector<std::string> v;
      SW_RETURN_IF_ERROR(codec::DecodeStringBlock(block, &v).WithContext(path_));
      std::string* strings = out->strings.data() + base;
      return spread(v, [&](std::string& x, size_t i) {
        bits[i] = 0;
        strings[i] = std::move(x);
      });
    }
  }
  return Status::OK();
}

Result<bool> Segment::ReadRows(const SegmentSeries& series, int64_t min_time, int64_t max_time,
                               const std::vector<FieldSchema>& fields, SeriesRowsBlock* out,
                               const std::function<bool(const Chunk&)>* skip,
                               ReadState* state) const {
  ResetRows(series.id, fields, out);
  if (series.max_time < min_time || series.min_time > max_time) return false;
  ReadState local;
  if (state == nullptr) state = &local;
  ReadBuffers own;
  ReadBuffers& buffers = state->buffers != nullptr ? *state->buffers : own;
  if (state->projection != &fields || state->source.size() != fields.size()) {
    state->projection = &fields;
    state->source.assign(fields.size(), -1);
    state->wanted.assign(fields_.size(), false);
    for (size_t f = 0; f < fields.size(); ++f) {
      for (size_t j = 0; j < fields_.size(); ++j) {
        if (fields_[j].name == fields[f].name && fields_[j].type == fields[f].type) {
          state->source[f] = static_cast<int>(j);
          state->wanted[j] = true;
        }
      }
    }
  }
  const std::vector<int>& source = state->source;
  std::vector<int64_t>& times = out->times;
  // Without a state (one call), `skip` may look at any column's statistics.
  SW_RETURN_IF_ERROR(
      Chunks(series, &state->hold, &buffers.chunks, state == &local ? nullptr : &state->wanted));
  for (const Chunk& chunk : buffers.chunks) {
    if (chunk.max_time < min_time || chunk.min_time > max_time) continue;
    if (skip != nullptr && (*skip)(chunk)) continue;
    // The chunk's times go straight after the rows so far; those outside the range (a chunk
    // the range cuts, the rare case) are taken out again.
    const size_t base = times.size();
    SW_RETURN_IF_ERROR(AppendChunkTimes(chunk, &times));
    if (times.size() == base) continue;
    const auto first = times.begin() + static_cast<ptrdiff_t>(base);
    size_t begin = 0, end = chunk.rows;
    if (*first < min_time || times.back() > max_time) {  // times ascend
      begin = static_cast<size_t>(std::lower_bound(first, times.end(), min_time) - first);
      end = static_cast<size_t>(std::upper_bound(first, times.end(), max_time) - first);
      if (begin >= end) {
        times.resize(base);
        continue;
      }
      times.erase(first + static_cast<ptrdiff_t>(end), times.end());
      times.erase(first, first + static_cast<ptrdiff_t>(begin));
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      ColumnVector& dst = out->columns[f];
      const size_t rows = end - begin;
      if (source[f] < 0) {
        dst.present.insert(dst.present.end(), rows, 0);
        dst.bits.insert(dst.bits.end(), rows, 0);
        if (dst.type == FieldType::kString) dst.strings.resize(dst.strings.size() + rows);
        continue;
      }
      SW_RETURN_IF_ERROR(
          AppendChunkColumn(chunk, static_cast<size_t>(source[f]), begin, end, &dst));
    }
  }
  return !out->times.empty();
}

}  // namespace seaway
