// Manifest: the list of a shard's live segment files and how far the WAL is flushed
// (src/storage). Replaced atomically (write temporary, sync, rename, sync directory) after every
// flush and compaction; recovery trusts it and deletes segment files it does not list.
//
//   file := magic "SEAWMAN1" version:u8 flushed_lsn:u64 next_segment:u64
//           count:varint segment_number:varint*
//           tombstone_count:varint (series:varint min_time:zigzag max_time:zigzag lsn:varint)*
//           checksum:u32
//
// Invariants (docs/formats/segment.md):
//   M1. Every listed segment file exists and was synced, with its directory, before the manifest
//       naming it was written.
//   M2. Every WAL record with LSN <= flushed_lsn has its rows in listed segments; WAL files
//       holding only such records may be deleted, and only after the manifest is durable.
//   M3. next_segment is greater than every segment number ever used in the shard.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "storage/env.h"
#include "storage/memtable.h"

namespace seaway {

// A delete: rows of `series` with min_time <= time <= max_time, in every source older than the
// delete (a segment or frozen memtable whose newest record precedes `lsn`), are gone.
struct Tombstone {
  SeriesId series;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t lsn = 0;
  friend bool operator==(const Tombstone&, const Tombstone&) = default;
};

struct Manifest {
  uint64_t flushed_lsn = 0;
  uint64_t next_segment = 1;
  std::vector<uint64_t> segments;     // ascending: a later number holds newer writes
  std::vector<Tombstone> tombstones;  // deletes whose WAL records are gone (lsn <= flushed_lsn)
};

// Removes from `rows` (of one series, read from a source whose newest record is `source_lsn`)
// the rows that a newer tombstone covers.
void ApplyTombstones(const std::vector<Tombstone>& tombstones, uint64_t source_lsn,
                     SeriesRowsBlock* rows);

std::string SegmentFileName(uint64_t number);          // "seg-000000000042.sws"
uint64_t ParseSegmentFileName(std::string_view name);  // 0 when not a segment name

// Reads DIR/MANIFEST; a missing file is an empty manifest.
Result<Manifest> ReadManifest(Env* env, const std::string& dir);
Status WriteManifest(Env* env, const std::string& dir, const Manifest& manifest);

}  // namespace seaway
