// seaway-inspect manifest (tools/inspect).
#include "inspect/inspect_manifest.h"

#include <algorithm>

#include <fmt/format.h>

#include "inspect/inspect_format.h"
#include "storage/manifest.h"
#include "storage/wal.h"

namespace seaway::inspect {
namespace {

// What a file that the manifest does not list is, and what the next open does with it.
std::string Describe(std::string_view name, const Manifest& m) {
  if (ParseWalFileName(name) != 0) {
    return fmt::format("WAL: records after LSN {} are replayed on open", m.flushed_lsn);
  }
  if (ParseSegmentFileName(name) != 0) return "unlisted segment: deleted on the next open";
  if (name == "MANIFEST.tmp") return "interrupted manifest update: deleted on the next open";
  return "not a storage file";
}

}  // namespace

Status InspectManifest(Env* env, const std::string& dir) {
  SW_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  const std::string path = JoinPath(dir, "MANIFEST");
  if (!env->FileExists(path)) {
    const bool engine_dir = std::any_of(
        names.begin(), names.end(), [](const std::string& n) { return n.starts_with("shard-"); });
    if (engine_dir) {
      return InvalidArgument(
          "'{}' is an engine directory: pass one of its shard directories ({}/shard-000, ...)", dir,
          dir);
    }
  }
  auto read = ReadManifest(env, dir);
  if (!read.ok()) {
    auto bytes = env->GetFileSize(path);
    if (read.status().code() != StatusCode::kCorruption || !bytes.ok()) return read.status();
    return Corruption("{} (a file of {} bytes; the checksum is at offset {})",
                      read.status().message(), *bytes, *bytes < 4 ? 0 : *bytes - 4);
  }
  const Manifest& m = *read;
  if (env->FileExists(path)) {
    SW_ASSIGN_OR_RETURN(uint64_t bytes, env->GetFileSize(path));
    fmt::print("manifest     {} ({} bytes)\n", path, bytes);
  } else {
    fmt::print("manifest     {} absent: no flush yet (an empty manifest)\n", path);
  }
  fmt::print("flushed LSN  {}\n", m.flushed_lsn);
  fmt::print("next segment {}\n", m.next_segment);

  Status missing;
  uint64_t total = 0;
  std::vector<std::string> lines;
  for (uint64_t number : m.segments) {
    const std::string name = SegmentFileName(number);
    auto size = env->GetFileSize(JoinPath(dir, name));
    if (size.ok()) {
      total += *size;
      lines.push_back(fmt::format("  {:<24} {:>12} bytes", name, *size));
    } else {
      lines.push_back(fmt::format("  {:<24} {:>12}", name, "MISSING"));
      if (missing.ok()) {
        missing = Corruption("manifest '{}' lists {}, which is missing (M1): {}", path, name,
                             size.status().message());
      }
    }
  }
  fmt::print("segments     {} listed, {} bytes\n", m.segments.size(), total);
  for (const auto& line : lines) fmt::print("{}\n", line);
  fmt::print("tombstones   {}\n", m.tombstones.size());
  for (const Tombstone& t : m.tombstones) {
    fmt::print("  series {}  {} .. {}  LSN {}\n", t.series, FormatTime(t.min_time),
               FormatTime(t.max_time), t.lsn);
  }

  std::vector<std::string> unlisted;
  for (const auto& name : names) {
    if (name == "MANIFEST") continue;
    const uint64_t n = ParseSegmentFileName(name);
    if (n != 0 && std::binary_search(m.segments.begin(), m.segments.end(), n)) continue;
    auto size = env->GetFileSize(JoinPath(dir, name));
    unlisted.push_back(fmt::format("  {:<24} {:>12} bytes  {}", name,
                                   size.ok() ? fmt::format("{}", *size) : "?", Describe(name, m)));
  }
  fmt::print("not listed   {}\n", unlisted.size());
  for (const auto& line : unlisted) fmt::print("{}\n", line);
  return missing;
}

}  // namespace seaway::inspect
