// Shard: one slice of the series space with its own WAL, memtable and writer thread
// (src/storage). Series go to shard (series id % shard count).
//
// Writers hand encoded WAL payloads to Submit; the shard thread takes everything queued, appends
// it to the WAL as one group, syncs once (group commit), applies it to the memtable, and only then
// completes the callbacks. A failed write or sync makes the shard read-only: every later write
// fails with a message naming the file and the error, and nothing is acknowledged after it.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/strong_id.h"
#include "storage/env.h"
#include "storage/memtable.h"
#include "storage/series_index.h"
#include "storage/wal.h"

namespace seaway {

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
  size_t memtable_limit_bytes = 256u << 20;
  size_t queue_limit_bytes = 64u << 20;
  uint64_t wal_file_bytes = 64u << 20;
};

// Called for every recovered record, before it is applied to the memtable, so that the engine
// restores the catalog and the series index.
using RecordObserver = std::function<Status(const WriteRecord&)>;

class Shard {
 public:
  Shard(ShardId id, Env* env, std::string dir, ShardOptions options, MetricsRegistry* metrics);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Replays the WAL into the memtable (passing each record to `observer`) and starts the writer.
  Status Open(const RecordObserver& observer);

  // Queues `payload` (an encoded WriteRecord). `done` runs on the shard thread once the record
  // is durable (per the sync mode) and visible, or with the error that prevented it:
  // Unavailable when the shard is over its memory or queue limit (retry later),
  // FailedPrecondition when the shard is read-only.
  void Submit(std::string payload, std::function<void(Status)> done);

  // Stops the writer after completing what is queued. Idempotent.
  void Close();

  const MemTable& memtable() const { return memtable_; }
  ShardId id() const { return id_; }
  // OK, or why the shard is read-only.
  Status health() const;
  Lsn last_lsn() const;

 private:
  struct Pending {
    std::string payload;
    std::function<void(Status)> done;
  };

  void Run();
  Status Recover(const RecordObserver& observer);
  Status WriteGroup(std::deque<Pending>* group);  // on the shard thread
  void MakeReadOnly(const Status& cause);         // REQUIRES: mu_ held

  const ShardId id_;
  Env* const env_;
  const std::string dir_;
  const ShardOptions options_;

  MemTable memtable_;
  std::unique_ptr<WalWriter> wal_;  // used by the shard thread only (and Open)
  uint64_t next_wal_number_ = 1;
  Lsn next_lsn_{1};
  int64_t last_sync_ns_ = 0;
  bool unsynced_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  Status read_only_;
  Lsn last_lsn_{0};
  std::thread thread_;

  Counter* wal_bytes_;
  Counter* wal_syncs_;
  Counter* group_commits_;
  Counter* records_;
  Counter* rejected_;
};

// "interval:100" -> kInterval with 100 ms, "always", "none".
Status ParseWalSync(std::string_view text, WalSyncMode* mode, Duration* interval);

}  // namespace seaway
