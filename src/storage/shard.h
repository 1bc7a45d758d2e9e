// Shard: one slice of the series space with its own WAL, memtables, segment files, writer thread
// and flush thread (src/storage). Series go to shard (series id % shard count).
//
// Write path: writers hand encoded WAL payloads to Submit; the writer thread takes everything
// queued, appends it to the WAL as one group, syncs once (group commit), applies it to the active
// memtable, and only then completes the callbacks. A failed write or sync makes the shard
// read-only: every later write fails with a message naming the file and the error.
//
// Flush path: when the active memtable passes flush_bytes, the writer starts a new WAL file and
// hands the memtable to the flush thread, which writes one segment per table and time partition,
// replaces the manifest, and deletes the WAL files the segments now cover. Restart replays only
// what was not flushed.
//
// Readers take a ShardSnapshot: immutable views of memtables and segments.
//
// Dropped tables: every WAL record and segment carries its table's generation. Data whose
// generation is older than the catalog's for its table belongs to a dropped table: recovery skips
// such records and deletes such segments, flushes leave out series the index no longer knows,
// and maintenance deletes such segments (docs/formats/wal.md, "Dropped tables").
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/strong_id.h"
#include "storage/env.h"
#include "storage/last_value_cache.h"
#include "storage/manifest.h"
#include "storage/memtable.h"
#include "storage/schema.h"
#include "storage/segment.h"
#include "storage/series_index.h"
#include "storage/wal.h"
#include "storage/wal_record.h"

namespace seaway {

// Ends the message of every write refused because the disk is full (IsDiskFull, engine.h).
inline constexpr std::string_view kDiskFullMarker = "retry when space is freed";

enum class WalSyncMode {
  kAlways,    // fsync before every acknowledgement (default): nothing acknowledged is ever lost
  kInterval,  // acknowledge after write(2); fsync every interval: a power loss loses <= interval
  kNone,      // never fsync; the OS decides: a power loss loses whatever it had not written
};

enum class WalRecovery {
  kStrict,    // damage in the middle of the log stops startup, naming file and offset
  kTruncate,  // keep everything before the damage, drop the rest (logged loudly)
};

struct ShardOptions {
  WalSyncMode sync_mode = WalSyncMode::kAlways;
  Duration sync_interval = Duration::Millis(100);
  WalRecovery recovery = WalRecovery::kStrict;
  size_t memtable_limit_bytes = 256u << 20;  // active + flushing; over it writes are refused
  size_t flush_bytes = 64u << 20;            // the active memtable is flushed past this
  // ... or once it holds this much and no write has come for `idle_flush_after` (0: never):
  // rows loaded and then left alone are read from segments, with their block statistics,
  // instead of row by row from memory, and are not replayed from the WAL at the next start.
  size_t idle_flush_bytes = 8u << 20;
  Duration idle_flush_after = Duration::Seconds(5);
  size_t queue_limit_bytes = 64u << 20;
  uint64_t wal_file_bytes = 64u << 20;
  Duration partition = Duration::Seconds(86400);  // time span of one partition
  bool flush_on_close = true;  // Close writes memory to segments (tests turn it off)
  // A table's partition with this many segments is compacted into one; so is one with two or
  // more once it is settled: no memtable holds rows of it (writes have moved on or stopped) and
  // its segments are of like size (the smallest at least half the largest, so that a few late
  // rows do not rewrite a whole partition each flush). Below 2: never.
  size_t compaction_trigger = 4;
  // How often the flush thread runs retention and compaction when it has nothing to flush.
  Duration maintenance_interval = Duration::Seconds(30);
  // The oldest time a table keeps (rows before it are expired), or INT64_MIN. Set by the engine.
  std::function<int64_t(TenantId, std::string_view, std::string_view)> retention_cutoff;
  // Segment indexes are read through it (nullptr: each segment holds its index in memory).
  // Set by the engine, which owns it and keeps it alive longer than the shard's segments.
  BlockCache* segment_index_cache = nullptr;
};

// Called during recovery so that the engine restores the catalog and the series index.
struct RecoveryHooks {
  std::function<Status(const Segment&)> segment;
  std::function<Status(const WriteRecord&)> record;
};

// What a reader sees: everything in it is immutable or internally synchronized.
struct ShardSnapshot {
  std::vector<std::shared_ptr<const Segment>> segments;  // oldest first
  // Oldest first, the active one last; only those holding rows when the snapshot was taken.
  std::vector<std::shared_ptr<const MemTable>> memtables;
  std::vector<uint64_t> memtable_lsns;  // newest record of each memtable (max for the active one)
  std::vector<Tombstone> tombstones;    // deletes that older sources may still hold rows of
  // Oldest and newest time of the memtables' rows when the snapshot was taken (nullopt: none).
  // The memtables take rows after that; scans that must agree with each other on what overlaps
  // what (Engine::ScanSummarized's whole segments) decide by this instead.
  std::optional<std::pair<int64_t, int64_t>> memtable_bounds;
};

class Shard {
 public:
  Shard(ShardId id, Env* env, std::string dir, ShardOptions options, const SeriesIndex* series,
        const Catalog* catalog, MetricsRegistry* metrics);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Loads segments and replays the WAL, then starts the writer and flush threads.
  Status Open(const RecoveryHooks& hooks);

  // Queues `payload` (an encoded WriteRecord). `done` runs on the shard thread once the record
  // is durable (per the sync mode) and visible, or with the error that prevented it:
  // Unavailable when the shard is over its memory or queue limit (retry later),
  // ResourceExhausted when the disk is full, FailedPrecondition when the shard is read-only.
  void Submit(std::string payload, std::function<void(Status)> done) {
    Submit(WalRecordType::kWrite, std::move(payload), std::move(done));
  }
  // Same for any record type (a delete carries an encoded DeleteRecord). A drop-table record is
  // never refused for memory or queue limits: it frees memory.
  void Submit(WalRecordType type, std::string payload, std::function<void(Status)> done);

  // Logs the drop of a table (its generation and its series of this shard), removes their rows
  // from the active memtable, the last-value cache and the tombstones, then deletes the shard's
  // segments of older generations than the catalog's, and waits. REQUIRES: the catalog and the
  // series index already forgot the table.
  Status DropTable(const DropTableRecord& record);

  // Flushes the active memtable and waits for every flush to finish. For tests, benchmarks
  // and shutdown.
  Status Flush();

  // Runs retention (drops segments of expired partitions) and compaction now, on the flush
  // thread, and waits.
  Status Maintain();

  // Stops the threads after completing what is queued, flushing memory to segments when the
  // shard is healthy so that the next start replays nothing. Idempotent.
  void Close();

  ShardSnapshot Snapshot() const;
  // Deletes still filtering older sources (for tests and /metrics).
  size_t tombstone_count() const {
    std::lock_guard lock(mu_);
    return tombstones_.size();
  }
  // The newest row of each series of this shard (thread-safe; queries fill it too).
  LastValueCache* last_values() const { return &last_values_; }
  ShardId id() const { return id_; }
  // OK, or why the shard is read-only.
  Status health() const;
  // Makes the shard read-only (the engine's catalog could not be made durable).
  void Fail(const Status& cause);

 private:
  struct Pending {
    WalRecordType type;
    std::string payload;
    std::function<void(Status)> done;
  };
  struct Frozen {
    std::shared_ptr<const MemTable> memtable;
    uint64_t last_lsn;  // newest record in it
    uint64_t wal_cut;   // WAL files numbered below this hold only records <= last_lsn
    bool idle = false;  // frozen after a quiet spell: its partitions are likely settled now
  };

  // Groups logged by the writer (durable unless in interval or none mode), waiting to be
  // applied to the memtable and acknowledged.
  struct Logged {
    uint64_t first_lsn;
    std::deque<Pending> group;
  };

  void RunWriter();
  // Applies logged groups to the active memtable and acknowledges them, in log order, while the
  // writer logs and syncs the next group: applying overlaps the next fsync.
  void RunApplier();
  // Blocks until every logged group is applied. On the writer thread, before it swaps the
  // active memtable.
  void WaitApplied();
  void RunFlusher();
  Status Recover(const RecoveryHooks& hooks);
  // Removes segments of dropped tables found on open from the manifest, then their files.
  Status RemoveStaleSegments(const std::vector<std::shared_ptr<const Segment>>& stale);
  Status ReplayWal(const RecoveryHooks& hooks);
  // Whether data of `generation` of a table is current (false: the table was dropped since).
  // Corruption when it is newer than the catalog's (the catalog is older than the data).
  Result<bool> IsCurrent(TenantId tenant, std::string_view database, std::string_view table,
                         uint64_t generation) const;
  Status WriteGroup(std::deque<Pending>* group);  // on the writer thread
  Status SyncWal();  // wal_->Sync(), counted and timed; on the writer thread
  // Applies a durable record to the active memtable (and, for deletes, the tombstones).
  Status ApplyRecord(WalRecordType type, std::string_view payload, uint64_t lsn,
                     const std::function<Status(const WriteRecord&)>& observer);
  Status FreezeActive(bool idle = false);    // on the writer thread
  Status FlushFrozen(const Frozen& frozen);  // on the flush thread
  // On the flush thread. `compact_settled`: settled partitions below the trigger too;
  // `flushed`: a memtable already in a segment, whose rows do not count as in memory.
  Status RunMaintenance(bool compact_settled, const MemTable* flushed = nullptr);
  Status RemoveDroppedSegments();  // on the flush thread
  void DropSpentTombstones();      // on the flush thread
  // Compaction below the trigger (ShardOptions::compaction_trigger). Per table (tenant,
  // database, name, generation): the time ranges the memtables hold rows in, merged.
  using TableKey = std::tuple<uint64_t, std::string, std::string, uint64_t>;
  using MemoryRanges = std::map<TableKey, std::vector<std::pair<int64_t, int64_t>>>;
  MemoryRanges RangesInMemory(const MemTable* flushed = nullptr) const;
  // Whether the smallest segment of `group` is at least 1/`fraction` of the largest (bytes).
  static bool SmallestAtLeast(const std::vector<std::shared_ptr<const Segment>>& group,
                              uint64_t fraction);
  // Whether a partition's segments are of like size (the smallest at least half the largest).
  static bool LikeSized(const std::vector<std::shared_ptr<const Segment>>& group);
  // Whether segments of a partition overlap in time (a scan then merges their rows instead of
  // summing their statistics) and the smallest is at least an eighth of the largest: a bulk
  // load whose flushes interleave, not a few late rows, which the trigger count waits for.
  static bool OverlapWorthMerging(const std::vector<std::shared_ptr<const Segment>>& group);
  // Whether no memtable holds rows of `segment`'s table and partition.
  static bool Settled(const MemoryRanges& in_memory, const Segment& segment);
  Status ApplyRetention();  // on the flush thread
  Status CompactGroup(const std::vector<std::shared_ptr<const Segment>>& inputs);
  // Replaces `removed` segments by `added` in the manifest and the published list, then deletes
  // the removed files (on the flush thread).
  Status SwapSegments(const std::vector<std::shared_ptr<const Segment>>& removed,
                      std::vector<std::shared_ptr<const Segment>> added, Manifest next);
  void MakeReadOnly(const Status& cause);  // REQUIRES: mu_ held
  size_t MemoryBytes() const;              // REQUIRES: mu_ held

  const ShardId id_;
  Env* const env_;
  const std::string dir_;
  const ShardOptions options_;
  const SeriesIndex* const series_index_;
  const Catalog* const catalog_;

  // Applier-thread state (recovery runs before the thread starts).
  WriteRecord scratch_record_;  // decoded records reuse its vectors
  // Writer-thread state.
  std::unique_ptr<WalWriter> wal_;
  uint64_t next_wal_number_ = 1;
  Lsn next_lsn_{1};
  int64_t last_sync_ns_ = 0;
  bool unsynced_ = false;
  uint64_t logged_since_freeze_ = 0;  // WAL bytes of the active memtable (idle_flush_bytes)

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;
  std::condition_variable flush_cv_;  // flusher waits for work; Flush() waits for completion
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  Status read_only_;
  std::shared_ptr<MemTable> active_;
  std::deque<Frozen> frozen_;  // oldest first
  std::vector<std::shared_ptr<const Segment>> segments_;
  std::vector<Tombstone> tombstones_;
  // Series of dropped tables whose tombstones the manifest may still list (sorted when used).
  std::vector<SeriesId> dropped_series_;
  mutable LastValueCache last_values_;
  Manifest manifest_;  // owned by the flush thread after Open; published copy for readers
  bool flusher_stop_ = false;
  uint64_t maintenance_requests_ = 0;  // Maintain() calls so far
  uint64_t maintenance_served_ = 0;    // requests covered by a finished maintenance run
  std::thread writer_;
  std::thread applier_;
  std::thread flusher_;

  // Hand-off from the writer to the applier.
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;  // the applier waits for work, WaitApplied for idleness
  std::deque<Logged> logged_;
  bool applying_ = false;
  bool applier_stop_ = false;

  Counter* wal_bytes_;
  Counter* wal_syncs_;
  Histogram* wal_sync_seconds_;
  Counter* group_commits_;
  Counter* records_;
  Counter* rejected_;
  Counter* flushes_;
  Counter* idle_flushes_;
  Counter* segment_bytes_;
  Counter* compactions_;
  Counter* expired_segments_;
};

// "interval:100" -> kInterval with 100 ms, "always", "none".
Status ParseWalSync(std::string_view text, WalSyncMode* mode, Duration* interval);

}  // namespace seaway
