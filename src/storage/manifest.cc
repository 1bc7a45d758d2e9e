// Manifest (src/storage).
#include "storage/manifest.h"

#include <charconv>

#include "common/coding.h"
#include "storage/checksummed_file.h"

namespace seaway {
namespace {

constexpr std::string_view kManifestMagic = "SEAWMAN1";
constexpr uint8_t kManifestVersion = 1;

}  // namespace

std::string SegmentFileName(uint64_t number) { return fmt::format("seg-{:012}.sws", number); }

uint64_t ParseSegmentFileName(std::string_view name) {
  if (name.size() != 20 || !name.starts_with("seg-") || !name.ends_with(".sws")) return 0;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data() + 4, name.data() + 16, n);
  return ec == std::errc() && end == name.data() + 16 ? n : 0;
}

Result<Manifest> ReadManifest(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, "MANIFEST");
  Manifest m;
  SW_ASSIGN_OR_RETURN(auto body, ReadChecksummedFile(env, path, kManifestMagic, "manifest"));
  if (!body) return m;
  auto bad = [&](std::string_view what) { return Corruption("manifest '{}': {}", path, what); };
  Decoder d(*body);
  uint8_t version;
  uint64_t count;
  if (!d.GetByte(&version) || version != kManifestVersion) return bad("unknown version");
  if (!d.GetFixed64(&m.flushed_lsn) || !d.GetFixed64(&m.next_segment) ||
      !d.GetBoundedVarint(d.remaining(), &count)) {
    return bad("truncated header");
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t n;
    if (!d.GetVarint64(&n) || n == 0 || n >= m.next_segment ||
        (!m.segments.empty() && n <= m.segments.back())) {
      return bad("segment numbers out of order");
    }
    m.segments.push_back(n);
  }
  if (!d.GetBoundedVarint(d.remaining(), &count)) return bad("bad tombstone count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t series, min_z, max_z;
    Tombstone t;
    if (!d.GetVarint64(&series) || !d.GetVarint64(&min_z) || !d.GetVarint64(&max_z) ||
        !d.GetVarint64(&t.lsn) || t.lsn > m.flushed_lsn) {
      return bad("bad tombstone");
    }
    t.series = SeriesId(series);
    t.min_time = ZigZagDecode(min_z);
    t.max_time = ZigZagDecode(max_z);
    m.tombstones.push_back(t);
  }
  if (!d.done()) return bad("unexpected trailing bytes");
  return m;
}

Status WriteManifest(Env* env, const std::string& dir, const Manifest& m) {
  std::string body;
  body.push_back(static_cast<char>(kManifestVersion));
  PutFixed64(&body, m.flushed_lsn);
  PutFixed64(&body, m.next_segment);
  PutVarint64(&body, m.segments.size());
  for (uint64_t n : m.segments) PutVarint64(&body, n);
  PutVarint64(&body, m.tombstones.size());
  for (const Tombstone& t : m.tombstones) {
    PutVarint64(&body, t.series.value());
    PutVarint64(&body, ZigZagEncode(t.min_time));
    PutVarint64(&body, ZigZagEncode(t.max_time));
    PutVarint64(&body, t.lsn);
  }
  return WriteChecksummedFile(env, JoinPath(dir, "MANIFEST"), kManifestMagic, body);
}

void ApplyTombstones(const std::vector<Tombstone>& tombstones, uint64_t source_lsn,
                     SeriesRowsBlock* rows) {
  for (const Tombstone& t : tombstones) {
    if (t.series != rows->series || t.lsn <= source_lsn || rows->times.empty()) continue;
    size_t kept = 0;
    for (size_t r = 0; r < rows->times.size(); ++r) {
      if (rows->times[r] >= t.min_time && rows->times[r] <= t.max_time) continue;
      rows->times[kept] = rows->times[r];
      for (auto& col : rows->columns) {
        col.present[kept] = col.present[r];
        col.bits[kept] = col.bits[r];
        if (col.type == FieldType::kString) col.strings[kept] = std::move(col.strings[r]);
      }
      ++kept;
    }
    rows->times.resize(kept);
    for (auto& col : rows->columns) {
      col.present.resize(kept);
      col.bits.resize(kept);
      if (col.type == FieldType::kString) col.strings.resize(kept);
    }
  }
}

}  // namespace seaway
