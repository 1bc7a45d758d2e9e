// Shard: WAL, group commit, memtables, flushes to segments (src/storage).
#include "storage/shard.h"

#include <pthread.h>

#include <charconv>
#include <future>
#include <map>
#include <set>
#include <tuple>

#include "common/clock.h"
#include "common/int_math.h"
#include "common/logging.h"

namespace seaway {

Status ParseWalSync(std::string_view text, WalSyncMode* mode, Duration* interval) {
  if (text == "always") {
    *mode = WalSyncMode::kAlways;
    return Status::OK();
  }
  if (text == "none") {
    *mode = WalSyncMode::kNone;
    return Status::OK();
  }
  if (text.starts_with("interval:")) {
    std::string_view ms = text.substr(9);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), value);
    if (ec == std::errc() && end == ms.data() + ms.size() && value > 0 && value <= 60000) {
      *mode = WalSyncMode::kInterval;
      *interval = Duration::Millis(value);
      return Status::OK();
    }
  }
  return InvalidArgument("wal sync '{}': expected always, none or interval:MS (1..60000)", text);
}

Shard::Shard(ShardId id, Env* env, std::string dir, ShardOptions options, const SeriesIndex* series,
             const Catalog* catalog, MetricsRegistry* metrics)
    : id_(id),
      env_(env),
      dir_(std::move(dir)),
      options_(options),
      series_index_(series),
      catalog_(catalog),
      active_(std::make_shared<MemTable>()),
      last_values_(catalog) {
  MetricLabels labels{{"shard", std::to_string(id.value())}};
  wal_bytes_ = metrics->GetCounter("seaway_wal_bytes_total", "Bytes appended to the WAL", labels);
  wal_syncs_ = metrics->GetCounter("seaway_wal_syncs_total", "WAL fsyncs", labels);
  // The disk's share of a write's latency: with --wal-sync always, every acknowledgement waits
  // for one of these. Buckets from a fast SSD's 0.1 ms to a stalled disk's seconds.
  wal_sync_seconds_ = metrics->GetHistogram(
      "seaway_wal_sync_seconds", "Time one WAL fdatasync took",
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
      labels);
  group_commits_ = metrics->GetCounter("seaway_wal_group_commits_total",
                                       "Groups of records committed together", labels);
  records_ = metrics->GetCounter("seaway_wal_records_total", "WAL records committed", labels);
  rejected_ =
      metrics->GetCounter("seaway_storage_rejected_writes_total",
                          "Writes refused by a shard (memory, queue, disk, read-only)", labels);
  flushes_ =
      metrics->GetCounter("seaway_storage_flushes_total", "Memtables flushed to segments", labels);
  idle_flushes_ = metrics->GetCounter("seaway_storage_idle_flushes_total",
                                      "Memtables frozen for flushing after a quiet spell", labels);
  segment_bytes_ = metrics->GetCounter("seaway_storage_segment_bytes_written_total",
                                       "Bytes of segment files written", labels);
  compactions_ = metrics->GetCounter("seaway_storage_compactions_total",
                                     "Segment groups compacted into one", labels);
  expired_segments_ = metrics->GetCounter("seaway_storage_expired_segments_total",
                                          "Segments dropped by retention", labels);
}

Shard::~Shard() { Close(); }

Status Shard::Open(const RecoveryHooks& hooks) {
  SW_RETURN_IF_ERROR(CreateDirs(env_, dir_));
  SW_RETURN_IF_ERROR(Recover(hooks));
  SW_ASSIGN_OR_RETURN(wal_, WalWriter::Create(env_, dir_, next_wal_number_++));
  last_sync_ns_ = Clock::Real()->MonotonicNanos();
  // Named for `top -H` and perf: sw-wal-N, sw-apply-N, sw-flush-N.
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), fmt::format("sw-wal-{}", id_.value()).c_str());
    RunWriter();
  });
  applier_ = std::thread([this] {
    pthread_setname_np(pthread_self(), fmt::format("sw-apply-{}", id_.value()).c_str());
    RunApplier();
  });
  flusher_ = std::thread([this] {
    pthread_setname_np(pthread_self(), fmt::format("sw-flush-{}", id_.value()).c_str());
    RunFlusher();
  });
  return Status::OK();
}

Result<bool> Shard::IsCurrent(TenantId tenant, std::string_view database, std::string_view table,
                              uint64_t generation) const {
  const uint64_t current = catalog_->Generation(tenant, database, table);
  if (generation > current) {
    return Corruption(
        "table '{}' of database '{}' has data of generation {}, but the catalog's is {} (the "
        "storage CATALOG file is older than the data)",
        table, database, generation, current);
  }
  return generation == current;
}

Status Shard::Recover(const RecoveryHooks& hooks) {
  SW_ASSIGN_OR_RETURN(manifest_, ReadManifest(env_, dir_));
  tombstones_ = manifest_.tombstones;
  std::set<uint64_t> live(manifest_.segments.begin(), manifest_.segments.end());
  std::vector<std::shared_ptr<const Segment>> stale;
  for (uint64_t number : manifest_.segments) {
    SW_ASSIGN_OR_RETURN(auto segment, Segment::Open(env_, JoinPath(dir_, SegmentFileName(number)),
                                                    options_.segment_index_cache));
    auto current =
        IsCurrent(segment->tenant(), segment->database(), segment->table(), segment->generation());
    if (!current.ok()) return current.status().WithContext(segment->path());
    if (!*current) {  // a dropped table's: its drop committed before its files were deleted
      stale.push_back(std::move(segment));
      continue;
    }
    SW_RETURN_IF_ERROR(hooks.segment(*segment));
    segments_.push_back(std::move(segment));
  }
  // Segment files the manifest does not list are leftovers of an interrupted flush or
  // compaction (M1): their rows are still in the WAL or in listed segments.
  SW_ASSIGN_OR_RETURN(auto names, env_->GetChildren(dir_));
  for (const auto& name : names) {
    uint64_t n = ParseSegmentFileName(name);
    if ((n != 0 && live.count(n) == 0) || name == "MANIFEST.tmp") {
      log::Warn("removing unlisted file", {{"shard", id_}, {"file", name}});
      SW_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(dir_, name)));
    }
  }
  SW_RETURN_IF_ERROR(RemoveStaleSegments(stale));
  return ReplayWal(hooks);
}

Status Shard::RemoveStaleSegments(const std::vector<std::shared_ptr<const Segment>>& stale) {
  if (stale.empty()) return Status::OK();
  std::set<uint64_t> gone, series;
  for (const auto& seg : stale) {
    gone.insert(ParseSegmentFileName(BaseName(seg->path())));
    for (const auto& s : seg->series()) series.insert(s.id.value());
    log::Info("removing a segment of a dropped table", {{"shard", id_},
                                                        {"table", seg->table()},
                                                        {"generation", seg->generation()},
                                                        {"segment", BaseName(seg->path())}});
  }
  Manifest next = manifest_;
  std::erase_if(next.segments, [&](uint64_t n) { return gone.count(n) > 0; });
  // Their series' tombstones go too: ids of dropped series are never used again.
  std::erase_if(next.tombstones, [&](const Tombstone& t) {
    return series.count(t.series.value()) > 0 && series_index_->Find(t.series) == nullptr;
  });
  SW_RETURN_IF_ERROR(WriteManifest(env_, dir_, next));
  manifest_ = next;
  tombstones_ = next.tombstones;
  for (const auto& seg : stale) SW_RETURN_IF_ERROR(env_->RemoveFile(seg->path()));
  return env_->SyncDir(dir_);
}

Status Shard::ApplyRecord(WalRecordType type, std::string_view payload, uint64_t lsn,
                          const std::function<Status(const WriteRecord&)>& observer) {
  if (type == WalRecordType::kDropTable) {
    DropTableRecord drop;
    SW_RETURN_IF_ERROR(DecodeDropTableRecord(payload, &drop));
    active_->EraseSeries(drop.series);
    for (SeriesId id : drop.series) last_values_.Invalidate(id);
    std::lock_guard lock(mu_);
    std::erase_if(tombstones_, [&](const Tombstone& t) {
      return std::binary_search(drop.series.begin(), drop.series.end(), t.series);
    });
    dropped_series_.insert(dropped_series_.end(), drop.series.begin(), drop.series.end());
    return Status::OK();
  }
  if (type == WalRecordType::kDelete) {
    DeleteRecord del;
    SW_RETURN_IF_ERROR(DecodeDeleteRecord(payload, &del));
    // A delete of a dropped table's rows has nothing left to delete.
    SW_ASSIGN_OR_RETURN(bool current,
                        IsCurrent(del.tenant, del.database, del.table, del.generation));
    if (!current) return Status::OK();
    std::vector<Tombstone> added;
    for (SeriesId id : del.series) {
      active_->Delete(id, del.min_time, del.max_time);
      last_values_.Invalidate(id);
      added.push_back(Tombstone{id, del.min_time, del.max_time, lsn});
    }
    std::lock_guard lock(mu_);
    // Only sources older than the delete need the tombstone: the active memtable is now clean.
    if (!frozen_.empty() || !segments_.empty()) {
      tombstones_.insert(tombstones_.end(), added.begin(), added.end());
    }
    return Status::OK();
  }
  WriteRecord& record = scratch_record_;
  SW_RETURN_IF_ERROR(DecodeWriteRecord(payload, &record));
  // Rows of a dropped table: on replay, whichever shard replays first (the catalog's generation
  // is durable before a drop is acknowledged); live, a write that raced with the drop and was
  // logged before it, so the drop removes it anyway.
  SW_ASSIGN_OR_RETURN(bool current,
                      IsCurrent(record.tenant, record.database, record.table, record.generation));
  if (!current) return Status::OK();
  if (observer) SW_RETURN_IF_ERROR(observer(record));
  active_->Apply(record);
  last_values_.Observe(record);
  return Status::OK();
}

Status Shard::ReplayWal(const RecoveryHooks& hooks) {
  SW_ASSIGN_OR_RETURN(auto names, env_->GetChildren(dir_));
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const auto& name : names) {
    if (uint64_t n = ParseWalFileName(name)) files.emplace_back(n, JoinPath(dir_, name));
  }
  std::sort(files.begin(), files.end());
  const uint64_t flushed = manifest_.flushed_lsn;
  uint64_t last = 0;  // newest LSN seen, flushed or not
  uint64_t replayed = 0;
  // Files read whole that hold no record after `flushed` (M2): every start leaves a new WAL
  // file, and without writes no flush would ever remove the old ones.
  std::vector<std::string> spent;
  for (size_t i = 0; i < files.size(); ++i) {
    const uint64_t number = files[i].first;
    const std::string& path = files[i].second;
    next_wal_number_ = number + 1;
    bool unflushed = false;
    auto read = ReadWalFile(env_, path, [&](const WalFrame& frame) -> Status {
      const uint64_t lsn = frame.lsn.value();
      // W1; the first record after the flushed ones must follow them directly.
      const uint64_t expected = last != 0 ? last + 1 : 0;
      if ((expected != 0 && lsn != expected) ||
          (lsn > flushed && last < flushed && lsn != flushed + 1)) {
        return Corruption("WAL file '{}': LSN {} where {} was expected (a gap or a reordering)",
                          path, lsn, expected != 0 ? expected : flushed + 1);
      }
      last = lsn;
      if (lsn <= flushed) return Status::OK();  // already in segments (M2)
      unflushed = true;
      SW_RETURN_IF_ERROR(
          ApplyRecord(frame.type, frame.payload, lsn, hooks.record).WithContext(path));
      ++replayed;
      return Status::OK();
    });
    if (!read.ok()) return read.status();
    const bool last_file = i + 1 == files.size();
    if (!read->corruption.ok() || (read->torn_tail && !last_file)) {
      Status damage = read->corruption.ok()
                          ? Corruption(
                                "WAL file '{}': damaged tail at offset {} in a file that "
                                "is not the last one",
                                path, read->valid_bytes)
                          : read->corruption;
      if (options_.recovery == WalRecovery::kStrict) {
        return damage.WithContext(
            "WAL recovery stopped; start with --wal-recovery=truncate to keep the data before "
            "the damage and drop the rest");
      }
      log::Error("wal damaged: keeping the data before the damage, dropping the rest",
                 {{"shard", id_},
                  {"file", path},
                  {"offset", read->valid_bytes},
                  {"error", damage.message()}});
      SW_RETURN_IF_ERROR(env_->TruncateFile(path, read->valid_bytes));
      for (size_t j = i + 1; j < files.size(); ++j) {
        SW_RETURN_IF_ERROR(env_->RemoveFile(files[j].second));
        log::Error("wal file dropped after damage", {{"shard", id_}, {"file", files[j].second}});
      }
      SW_RETURN_IF_ERROR(env_->SyncDir(dir_));
      break;
    }
    if (read->torn_tail) {
      log::Warn("wal torn tail repaired: dropped bytes that were never acknowledged",
                {{"shard", id_},
                 {"file", path},
                 {"offset", read->valid_bytes},
                 {"dropped_bytes", read->file_bytes - read->valid_bytes}});
      SW_RETURN_IF_ERROR(env_->TruncateFile(path, read->valid_bytes));
    }
    if (!unflushed) spent.push_back(path);
  }
  for (const auto& path : spent) SW_RETURN_IF_ERROR(env_->RemoveFile(path));
  if (!spent.empty()) SW_RETURN_IF_ERROR(env_->SyncDir(dir_));
  next_lsn_ = Lsn(std::max(last, flushed) + 1);
  if (replayed > 0) log::Info("wal replayed", {{"shard", id_}, {"records", replayed}});
  return Status::OK();
}

size_t Shard::MemoryBytes() const {
  size_t bytes = active_->ApproximateBytes();
  for (const auto& f : frozen_) bytes += f.memtable->ApproximateBytes();
  return bytes;
}

void Shard::Submit(WalRecordType type, std::string payload, std::function<void(Status)> done) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (!read_only_.ok()) {
      refused = read_only_;
    } else if (stopping_) {
      refused = Unavailable("shard {} is shutting down", id_);
    } else if (type == WalRecordType::kDropTable) {
      queued_bytes_ += payload.size();
      queue_.push_back(Pending{type, std::move(payload), std::move(done)});
    } else if (MemoryBytes() > options_.memtable_limit_bytes) {
      refused = Unavailable(
          "shard {} holds {} bytes in memory, over its limit of {} (flushing is behind); retry "
          "later",
          id_, MemoryBytes(), options_.memtable_limit_bytes);
    } else if (queued_bytes_ + payload.size() > options_.queue_limit_bytes && !queue_.empty()) {
      refused =
          Unavailable("shard {} write queue is full ({} bytes); retry later", id_, queued_bytes_);
    } else {
      queued_bytes_ += payload.size();
      queue_.push_back(Pending{type, std::move(payload), std::move(done)});
    }
  }
  if (!refused.ok()) {
    rejected_->Increment();
    done(refused);
    return;
  }
  writer_cv_.notify_one();
}

Status Shard::SyncWal() {
  const int64_t start = Clock::Real()->MonotonicNanos();
  Status s = wal_->Sync();
  wal_syncs_->Increment();
  wal_sync_seconds_->Observe(static_cast<double>(Clock::Real()->MonotonicNanos() - start) / 1e9);
  return s;
}

void Shard::MakeReadOnly(const Status& cause) {
  if (!read_only_.ok()) return;
  read_only_ =
      FailedPrecondition("shard {} is read-only after a failed write: {}", id_, cause.ToString());
  log::Error("shard is read-only", {{"shard", id_}, {"error", cause.ToString()}});
  flush_cv_.notify_all();
}

Status Shard::WriteGroup(std::deque<Pending>* group) {
  if (wal_->size() >= options_.wal_file_bytes) {
    SW_RETURN_IF_ERROR(SyncWal());
    SW_RETURN_IF_ERROR(wal_->Close());
    SW_ASSIGN_OR_RETURN(wal_, WalWriter::Create(env_, dir_, next_wal_number_++));
  }
  std::string frames;
  Lsn lsn = next_lsn_;
  for (const auto& p : *group) {
    AppendWalFrame(lsn, p.type, p.payload, &frames);
    lsn = lsn.Next();
  }
  const uint64_t good_size = wal_->size();
  Status s = wal_->AppendFrames(frames);
  if (s.ok() && options_.sync_mode == WalSyncMode::kAlways) {
    s = SyncWal();
  } else if (s.ok()) {
    s = wal_->Flush();
    unsynced_ = true;
  }
  if (s.code() == StatusCode::kResourceExhausted) {
    // Disk full (W5): cut the file back to its last whole frame so that the log stays clean,
    // and keep the shard writable; the writes are refused and may be retried.
    const uint64_t number = wal_->number();
    const std::string path = wal_->path();
    wal_->Close().IgnoreError();
    wal_.reset();
    SW_RETURN_IF_ERROR(env_->TruncateFile(path, good_size).WithContext("after disk full"));
    SW_ASSIGN_OR_RETURN(wal_, WalWriter::Reopen(env_, dir_, number));
    return s;
  }
  SW_RETURN_IF_ERROR(s);
  wal_bytes_->Increment(frames.size());
  logged_since_freeze_ += frames.size();
  next_lsn_ = lsn;
  return Status::OK();
}

Status Shard::FreezeActive(bool idle) {
  logged_since_freeze_ = 0;
  if (active_->rows() == 0) return Status::OK();
  // Records up to next_lsn_ - 1 are in the active memtable and in WAL files below the new one.
  SW_RETURN_IF_ERROR(SyncWal());
  unsynced_ = false;
  SW_RETURN_IF_ERROR(wal_->Close());
  SW_ASSIGN_OR_RETURN(wal_, WalWriter::Create(env_, dir_, next_wal_number_++));
  {
    std::lock_guard lock(mu_);
    frozen_.push_back(Frozen{active_, next_lsn_.value() - 1, wal_->number(), idle});
    active_ = std::make_shared<MemTable>();
  }
  flush_cv_.notify_all();
  return Status::OK();
}

void Shard::RunWriter() {
  while (true) {
    std::deque<Pending> group;
    bool flush_now = false;
    bool idle = false;  // no write for idle_flush_after
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stopping_ || flush_requested_ || !queue_.empty(); };
      if (options_.sync_mode == WalSyncMode::kInterval && unsynced_) {
        writer_cv_.wait_for(lock, std::chrono::nanoseconds(options_.sync_interval.nanos()), ready);
      } else if (options_.idle_flush_after.nanos() > 0 &&
                 logged_since_freeze_ >= options_.idle_flush_bytes) {
        idle = !writer_cv_.wait_for(
            lock, std::chrono::nanoseconds(options_.idle_flush_after.nanos()), ready);
      } else {
        writer_cv_.wait(lock, ready);
      }
      group.swap(queue_);
      queued_bytes_ = 0;
      flush_now = flush_requested_ || idle;
      if (idle) idle_flushes_->Increment();
      if (group.empty() && stopping_) break;
    }

    if (unsynced_ && options_.sync_mode == WalSyncMode::kInterval &&
        Clock::Real()->MonotonicNanos() - last_sync_ns_ >= options_.sync_interval.nanos()) {
      Status s = SyncWal();
      last_sync_ns_ = Clock::Real()->MonotonicNanos();
      unsynced_ = false;
      if (!s.ok()) {
        std::lock_guard lock(mu_);
        MakeReadOnly(s);
      }
    }

    if (!group.empty()) {
      Status status;
      {
        std::lock_guard lock(mu_);
        status = read_only_;
      }
      if (status.ok()) {
        status = WriteGroup(&group);
        if (status.code() == StatusCode::kResourceExhausted) {
          status = ResourceExhausted("shard {}: {}; {}", id_, status.message(), kDiskFullMarker);
        } else if (!status.ok()) {
          std::lock_guard lock(mu_);
          MakeReadOnly(status);
          status = read_only_;
        }
      }
      if (status.ok()) {
        group_commits_->Increment();
        records_->Increment(group.size());
        const uint64_t first_lsn = next_lsn_.value() - group.size();
        {
          std::lock_guard lock(apply_mu_);
          logged_.push_back(Logged{first_lsn, std::move(group)});
        }
        apply_cv_.notify_all();
      } else {
        rejected_->Increment(group.size());
        for (auto& p : group) p.done(status);
      }
    }

    if (flush_now || active_->ApproximateBytes() >= options_.flush_bytes) {
      Status s;
      {
        std::lock_guard lock(mu_);
        s = read_only_;
      }
      if (s.ok()) {
        WaitApplied();
        s = FreezeActive(idle);
      }
      std::lock_guard lock(mu_);
      if (!s.ok()) MakeReadOnly(s);
      if (flush_now) flush_requested_ = false;
      flush_cv_.notify_all();
    }
  }
  // Shutting down: hand the last rows to the flusher so that the next start replays nothing.
  WaitApplied();
  bool healthy;
  {
    std::lock_guard lock(mu_);
    healthy = read_only_.ok();
  }
  if (healthy && options_.flush_on_close) {
    Status s = FreezeActive();
    if (!s.ok()) log::Error("final freeze failed", {{"shard", id_}, {"error", s.ToString()}});
  } else if (unsynced_ && healthy) {
    Status s = SyncWal();
    if (!s.ok()) log::Error("final wal sync failed", {{"shard", id_}, {"error", s.ToString()}});
  }
}

void Shard::RunApplier() {
  while (true) {
    Logged logged;
    {
      std::unique_lock lock(apply_mu_);
      apply_cv_.wait(lock, [&] { return applier_stop_ || !logged_.empty(); });
      if (logged_.empty()) return;  // stopping, and everything is applied
      logged = std::move(logged_.front());
      logged_.pop_front();
      applying_ = true;
    }
    uint64_t lsn = logged.first_lsn;
    for (auto& p : logged.group) {
      // Encoded by this process: decoding fails only if memory is corrupt.
      Status applied = ApplyRecord(p.type, p.payload, lsn++, nullptr);
      p.done(applied.ok() ? Status::OK() : Internal("{}", applied.ToString()));
    }
    {
      std::lock_guard lock(apply_mu_);
      applying_ = false;
    }
    apply_cv_.notify_all();
  }
}

void Shard::WaitApplied() {
  std::unique_lock lock(apply_mu_);
  apply_cv_.wait(lock, [&] { return logged_.empty() && !applying_; });
}

Status Shard::FlushFrozen(const Frozen& frozen) {
  const MemTable& mem = *frozen.memtable;
  const int64_t span = options_.partition.nanos();
  // (tenant, database, table, generation, partition) -> series, in id order.
  using GroupKey = std::tuple<uint64_t, std::string, std::string, uint64_t, int64_t>;
  std::map<GroupKey, std::vector<std::shared_ptr<const SeriesInfo>>> groups;
  for (SeriesId id : mem.SeriesIds()) {
    auto range = mem.TimeRange(id);
    if (!range) continue;  // deletes removed every row
    // The index forgets a series only when its table is dropped: its rows are never flushed.
    auto info = series_index_->Find(id);
    if (!info) continue;
    for (int64_t p = FloorDiv(range->first, span); p <= FloorDiv(range->second, span); ++p) {
      groups[GroupKey(info->tenant().value(), info->database(), info->table(), info->generation(),
                      p)]
          .push_back(info);
    }
  }

  Manifest next = manifest_;
  next.flushed_lsn = frozen.last_lsn;
  {
    // Deletes up to the flushed LSN leave the WAL with this flush; the manifest keeps them.
    std::lock_guard lock(mu_);
    next.tombstones.clear();
    for (const Tombstone& t : tombstones_) {
      if (t.lsn <= frozen.last_lsn) next.tombstones.push_back(t);
    }
  }
  std::vector<std::shared_ptr<const Segment>> written;
  for (const auto& [key, infos] : groups) {
    const auto& [tenant, database, table, generation, partition] = key;
    SegmentInput input;
    input.tenant = TenantId(tenant);
    input.database = database;
    input.table = table;
    input.generation = generation;
    input.partition_start = partition * span;
    input.partition_end = input.partition_start + span;
    input.max_lsn = frozen.last_lsn;
    std::set<std::string> tag_keys;
    for (const auto& info : infos) {
      for (const auto& [k, v] : info->tags()) tag_keys.insert(k);
      for (const auto& f : mem.SeriesFields(info->id)) {
        bool known = false;
        for (const auto& g : input.fields) known |= g.name == f.name && g.type == f.type;
        if (!known) input.fields.push_back(f);
      }
    }
    input.tag_keys.assign(tag_keys.begin(), tag_keys.end());
    for (const auto& info : infos) {
      SegmentInput::Series s{info, {}};
      if (mem.Read(info->id, input.partition_start, input.partition_end - 1, input.fields,
                   &s.rows)) {
        input.series.push_back(std::move(s));
      }
    }
    if (input.series.empty()) continue;
    const uint64_t number = next.next_segment++;
    const std::string path = JoinPath(dir_, SegmentFileName(number));
    SW_ASSIGN_OR_RETURN(SegmentWriteStats stats, WriteSegment(env_, path, input));
    segment_bytes_->Increment(stats.file_bytes);
    SW_ASSIGN_OR_RETURN(auto segment, Segment::Open(env_, path, options_.segment_index_cache));
    written.push_back(std::move(segment));
  }
  SW_RETURN_IF_ERROR(SwapSegments({}, std::move(written), std::move(next)));
  // M2: the manifest is durable, so WAL files below the cut are no longer needed.
  SW_ASSIGN_OR_RETURN(auto names, env_->GetChildren(dir_));
  for (const auto& name : names) {
    uint64_t n = ParseWalFileName(name);
    if (n != 0 && n < frozen.wal_cut) SW_RETURN_IF_ERROR(env_->RemoveFile(JoinPath(dir_, name)));
  }
  SW_RETURN_IF_ERROR(env_->SyncDir(dir_));
  flushes_->Increment();
  return Status::OK();
}

void Shard::RunFlusher() {
  while (true) {
    Frozen frozen;
    bool maintain = false;
    uint64_t serving = 0;
    {
      std::unique_lock lock(mu_);
      auto requested = [&] { return maintenance_requests_ > maintenance_served_; };
      auto ready = [&] {
        return (!frozen_.empty() && read_only_.ok()) || flusher_stop_ || requested();
      };
      const bool woken = flush_cv_.wait_for(
          lock, std::chrono::nanoseconds(options_.maintenance_interval.nanos()), ready);
      maintain = requested() || (!woken && read_only_.ok());  // asked for, or periodic
      serving = maintenance_requests_;
      if (!maintain && (frozen_.empty() || !read_only_.ok())) {
        // Stopping, or the shard turned read-only: unflushed rows stay in memory and the WAL.
        if (flusher_stop_) break;
        continue;
      }
      if (!maintain) frozen = frozen_.front();
    }
    Status s = maintain ? RunMaintenance(/*compact_settled=*/true) : FlushFrozen(frozen);
    // A flush may complete a compaction group (its partition is likely still written to: the
    // settled ones wait for the periodic round, unless writes have stopped). The memtable
    // just flushed is in its segment: its rows no longer hold a partition back.
    if (s.ok() && !maintain) {
      s = RunMaintenance(/*compact_settled=*/frozen.idle, frozen.memtable.get());
    }
    std::lock_guard lock(mu_);
    if (!maintain && s.ok()) frozen_.pop_front();
    if (maintain) maintenance_served_ = std::max(maintenance_served_, serving);
    if (!s.ok()) MakeReadOnly(s.WithContext(maintain ? "maintenance" : "flush"));
    flush_cv_.notify_all();
  }
}

namespace {

uint64_t SegmentNumber(const Segment& segment) {
  return ParseSegmentFileName(BaseName(segment.path()));
}

}  // namespace

Status Shard::SwapSegments(const std::vector<std::shared_ptr<const Segment>>& removed,
                           std::vector<std::shared_ptr<const Segment>> added, Manifest next) {
  std::set<uint64_t> gone;
  for (const auto& seg : removed) gone.insert(SegmentNumber(*seg));
  std::erase_if(next.segments, [&](uint64_t n) { return gone.count(n) > 0; });
  for (const auto& seg : added) next.segments.push_back(SegmentNumber(*seg));
  std::sort(next.segments.begin(), next.segments.end());
  if (!added.empty()) SW_RETURN_IF_ERROR(env_->SyncDir(dir_));  // M1
  SW_RETURN_IF_ERROR(WriteManifest(env_, dir_, next));
  manifest_ = next;
  {
    std::lock_guard lock(mu_);
    std::erase_if(segments_, [&](const auto& seg) { return gone.count(SegmentNumber(*seg)) > 0; });
    segments_.insert(segments_.end(), added.begin(), added.end());
    std::sort(segments_.begin(), segments_.end(),
              [](const auto& a, const auto& b) { return SegmentNumber(*a) < SegmentNumber(*b); });
  }
  // Readers holding a snapshot keep their open files; the names can go now.
  for (const auto& seg : removed) SW_RETURN_IF_ERROR(env_->RemoveFile(seg->path()));
  if (!removed.empty()) SW_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return Status::OK();
}

Status Shard::ApplyRetention() {
  if (!options_.retention_cutoff) return Status::OK();
  std::vector<std::shared_ptr<const Segment>> expired;
  {
    std::lock_guard lock(mu_);
    for (const auto& seg : segments_) {
      if (seg->partition_end() <=
          options_.retention_cutoff(seg->tenant(), seg->database(), seg->table())) {
        expired.push_back(seg);
      }
    }
  }
  if (expired.empty()) return Status::OK();
  for (const auto& seg : expired) {
    log::Info("retention: dropping expired partition", {{"shard", id_},
                                                        {"table", seg->table()},
                                                        {"segment", BaseName(seg->path())},
                                                        {"rows", seg->rows()}});
  }
  SW_RETURN_IF_ERROR(SwapSegments(expired, {}, manifest_));
  expired_segments_->Increment(expired.size());
  return Status::OK();
}

Status Shard::CompactGroup(const std::vector<std::shared_ptr<const Segment>>& inputs) {
  const Segment& first = *inputs.front();
  SegmentInput input;
  input.tenant = first.tenant();
  input.database = first.database();
  input.table = first.table();
  input.generation = first.generation();
  input.partition_start = first.partition_start();
  input.partition_end = first.partition_end();
  std::set<std::string> tag_keys;
  std::set<uint64_t> ids;
  for (const auto& seg : inputs) {
    input.max_lsn = std::max(input.max_lsn, seg->max_lsn());
    tag_keys.insert(seg->tag_keys().begin(), seg->tag_keys().end());
    for (const auto& f : seg->fields()) {
      bool known = false;
      for (const auto& g : input.fields) known |= g.name == f.name && g.type == f.type;
      if (!known) input.fields.push_back(f);
    }
    for (const auto& series : seg->series()) ids.insert(series.id.value());
  }
  input.tag_keys.assign(tag_keys.begin(), tag_keys.end());
  std::vector<Tombstone> tombstones;
  {
    std::lock_guard lock(mu_);
    tombstones = tombstones_;
  }
  SeriesRowsBlock part;
  for (uint64_t id : ids) {
    auto info = series_index_->Find(SeriesId(id));
    if (!info) {
      // Dropped meanwhile (the index forgets series only then): the next maintenance deletes
      // the inputs.
      if (catalog_->Generation(input.tenant, input.database, input.table) > input.generation) {
        return Status::OK();
      }
      return Internal("shard {}: series {} in a segment is unknown to the index", id_, id);
    }
    SegmentInput::Series out{info, {}};
    out.rows.series = SeriesId(id);
    out.rows.columns.resize(input.fields.size());
    for (size_t c = 0; c < input.fields.size(); ++c)
      out.rows.columns[c].type = input.fields[c].type;
    for (const auto& seg : inputs) {  // oldest first: newer rows replace older fields
      const SegmentSeries* entry = seg->Find(SeriesId(id));
      if (entry == nullptr) continue;
      SW_ASSIGN_OR_RETURN(bool any,
                          seg->ReadRows(*entry, INT64_MIN, INT64_MAX, input.fields, &part));
      if (!any) continue;
      ApplyTombstones(tombstones, seg->max_lsn(), &part);  // the output holds no deleted rows
      MergeRowsInto(part, &out.rows);
    }
    if (!out.rows.times.empty()) input.series.push_back(std::move(out));
  }
  Manifest next = manifest_;
  const uint64_t number = next.next_segment++;
  const std::string path = JoinPath(dir_, SegmentFileName(number));
  SW_ASSIGN_OR_RETURN(SegmentWriteStats stats, WriteSegment(env_, path, input));
  segment_bytes_->Increment(stats.file_bytes);
  SW_ASSIGN_OR_RETURN(auto output, Segment::Open(env_, path, options_.segment_index_cache));
  SW_RETURN_IF_ERROR(SwapSegments(inputs, {std::move(output)}, std::move(next)));
  compactions_->Increment();
  log::Debug("compacted", {{"shard", id_},
                           {"table", input.table},
                           {"inputs", inputs.size()},
                           {"rows", stats.rows},
                           {"bytes", stats.file_bytes}});
  return Status::OK();
}

Status Shard::RemoveDroppedSegments() {
  std::vector<std::shared_ptr<const Segment>> segments, stale;
  std::vector<SeriesId> dropped;
  {
    std::lock_guard lock(mu_);
    segments = segments_;
    dropped = dropped_series_;
  }
  for (const auto& seg : segments) {
    if (catalog_->Generation(seg->tenant(), seg->database(), seg->table()) > seg->generation()) {
      stale.push_back(seg);
      log::Info("removing a segment of a dropped table", {{"shard", id_},
                                                          {"table", seg->table()},
                                                          {"generation", seg->generation()},
                                                          {"segment", BaseName(seg->path())}});
    }
  }
  std::sort(dropped.begin(), dropped.end());
  Manifest next = manifest_;
  const size_t tombstones = next.tombstones.size();
  std::erase_if(next.tombstones, [&](const Tombstone& t) {
    return std::binary_search(dropped.begin(), dropped.end(), t.series);
  });
  if (!stale.empty() || next.tombstones.size() != tombstones) {
    SW_RETURN_IF_ERROR(SwapSegments(stale, {}, std::move(next)));
  }
  std::lock_guard lock(mu_);
  std::erase_if(dropped_series_, [&](SeriesId id) {
    return std::binary_search(dropped.begin(), dropped.end(), id);
  });
  return Status::OK();
}

Status Shard::RunMaintenance(bool compact_settled, const MemTable* flushed) {
  SW_RETURN_IF_ERROR(RemoveDroppedSegments());
  SW_RETURN_IF_ERROR(ApplyRetention());
  if (options_.compaction_trigger < 2) return Status::OK();
  using GroupKey = std::tuple<uint64_t, std::string, std::string, uint64_t, int64_t>;
  std::map<GroupKey, std::vector<std::shared_ptr<const Segment>>> groups;
  {
    std::lock_guard lock(mu_);
    for (const auto& seg : segments_) {  // in number order, so each group is oldest first
      groups[GroupKey(seg->tenant().value(), seg->database(), seg->table(), seg->generation(),
                      seg->partition_start())]
          .push_back(seg);
    }
  }
  std::optional<MemoryRanges> in_memory;  // built once, when a smaller group asks (below)
  for (const auto& [key, inputs] : groups) {
    bool compact = inputs.size() >= options_.compaction_trigger;
    if (!compact && compact_settled && inputs.size() >= 2 &&
        (LikeSized(inputs) || OverlapWorthMerging(inputs))) {
      if (!in_memory) in_memory = RangesInMemory(flushed);
      compact = Settled(*in_memory, *inputs.front());
    }
    if (compact) SW_RETURN_IF_ERROR(CompactGroup(inputs));
  }
  DropSpentTombstones();
  return Status::OK();
}

bool Shard::SmallestAtLeast(const std::vector<std::shared_ptr<const Segment>>& group,
                            uint64_t fraction) {
  uint64_t smallest = UINT64_MAX, largest = 0;
  for (const auto& seg : group) {
    smallest = std::min(smallest, seg->file_bytes());
    largest = std::max(largest, seg->file_bytes());
  }
  return smallest * fraction >= largest;
}

bool Shard::LikeSized(const std::vector<std::shared_ptr<const Segment>>& group) {
  return SmallestAtLeast(group, 2);  // a small newcomer waits for the trigger
}

bool Shard::OverlapWorthMerging(const std::vector<std::shared_ptr<const Segment>>& group) {
  if (!SmallestAtLeast(group, 8)) return false;  // a few late rows: merged when read
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const auto& seg : group) ranges.emplace_back(seg->min_time(), seg->max_time());
  std::sort(ranges.begin(), ranges.end());
  int64_t end = ranges.front().second;
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first <= end) return true;
    end = std::max(end, ranges[i].second);
  }
  return false;
}

Shard::MemoryRanges Shard::RangesInMemory(const MemTable* flushed) const {
  MemoryRanges out;
  const ShardSnapshot snap = Snapshot();
  for (const auto& mem : snap.memtables) {
    if (mem.get() == flushed) continue;
    for (SeriesId id : mem->SeriesIds()) {
      std::shared_ptr<const SeriesInfo> info = series_index_->Find(id);
      if (info == nullptr) continue;  // its table was dropped
      if (auto range = mem->TimeRange(id)) {
        out[TableKey(info->tenant().value(), info->database(), info->table(), info->generation())]
            .push_back(*range);
      }
    }
  }
  for (auto& [table, ranges] : out) {  // merged, so that a lookup costs what is distinct
    std::sort(ranges.begin(), ranges.end());
    size_t kept = 0;
    for (const auto& r : ranges) {
      if (kept > 0 && r.first <= ranges[kept - 1].second) {
        ranges[kept - 1].second = std::max(ranges[kept - 1].second, r.second);
      } else {
        ranges[kept++] = r;
      }
    }
    ranges.resize(kept);
  }
  return out;
}

bool Shard::Settled(const MemoryRanges& in_memory, const Segment& segment) {
  auto it = in_memory.find(TableKey(segment.tenant().value(), segment.database(), segment.table(),
                                    segment.generation()));
  if (it == in_memory.end()) return true;
  // The first merged range ending at or after the partition's start meets it if it begins
  // before the partition's end.
  const auto& ranges = it->second;
  auto r = std::lower_bound(
      ranges.begin(), ranges.end(), segment.partition_start(),
      [](const std::pair<int64_t, int64_t>& range, int64_t t) { return range.second < t; });
  return r == ranges.end() || r->first >= segment.partition_end();
}

void Shard::DropSpentTombstones() {
  std::lock_guard lock(mu_);
  // A tombstone is spent once no source older than it can hold rows of its series: compaction
  // applied it, or the segments that held such rows expired. The manifest drops it at the next
  // flush; until then a restart merely restores a harmless filter.
  std::erase_if(tombstones_, [&](const Tombstone& t) {
    for (const auto& f : frozen_) {
      if (f.last_lsn < t.lsn) return false;
    }
    for (const auto& seg : segments_) {
      if (seg->max_lsn() < t.lsn && seg->Find(t.series) != nullptr) return false;
    }
    return true;
  });
}

Status Shard::Maintain() {
  std::unique_lock lock(mu_);
  if (!read_only_.ok()) return read_only_;
  const uint64_t mine = ++maintenance_requests_;
  flush_cv_.notify_all();
  flush_cv_.wait(lock, [&] { return maintenance_served_ >= mine || !read_only_.ok(); });
  return read_only_;
}

Status Shard::Flush() {
  std::unique_lock lock(mu_);
  if (!read_only_.ok()) return read_only_;
  flush_requested_ = true;
  writer_cv_.notify_one();
  flush_cv_.wait(lock, [&] { return (!flush_requested_ && frozen_.empty()) || !read_only_.ok(); });
  return read_only_;
}

void Shard::Close() {
  {
    std::lock_guard lock(mu_);
    if (!writer_.joinable() && !flusher_.joinable()) return;
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // hands its last memtable to the flusher
  {
    std::lock_guard lock(apply_mu_);
    applier_stop_ = true;
  }
  apply_cv_.notify_all();
  if (applier_.joinable()) applier_.join();  // the writer waited: nothing is left to apply
  {
    std::lock_guard lock(mu_);
    flusher_stop_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();  // drains what is frozen, unless read-only
  if (wal_) wal_->Close().IgnoreError();
}

ShardSnapshot Shard::Snapshot() const {
  std::lock_guard lock(mu_);
  ShardSnapshot snap;
  snap.segments = segments_;
  snap.tombstones = tombstones_;
  // A memtable without rows now is left out: a scan then looks each series up in the memtables
  // holding rows only (rows written into one after this moment are not the snapshot's).
  auto add = [&snap](std::shared_ptr<const MemTable> mem, uint64_t lsn) {
    const auto bounds = mem->TimeBounds();
    if (!bounds) return;
    snap.memtables.push_back(std::move(mem));
    snap.memtable_lsns.push_back(lsn);
    if (!snap.memtable_bounds) snap.memtable_bounds = bounds;
    snap.memtable_bounds->first = std::min(snap.memtable_bounds->first, bounds->first);
    snap.memtable_bounds->second = std::max(snap.memtable_bounds->second, bounds->second);
  };
  for (const auto& f : frozen_) add(f.memtable, f.last_lsn);
  add(active_, UINT64_MAX);
  return snap;
}

Status Shard::health() const {
  std::lock_guard lock(mu_);
  return read_only_;
}

void Shard::Fail(const Status& cause) {
  std::lock_guard lock(mu_);
  MakeReadOnly(cause);
}

Status Shard::DropTable(const DropTableRecord& record) {
  std::string payload;
  EncodeDropTableRecord(record, &payload);
  auto logged = std::make_shared<std::promise<Status>>();
  auto result = logged->get_future();
  Submit(WalRecordType::kDropTable, std::move(payload),
         [logged](Status s) { logged->set_value(std::move(s)); });
  SW_RETURN_IF_ERROR(result.get());
  return Maintain();  // deletes the table's segments
}

}  // namespace seaway
