// Shard: WAL, group commit, memtable (src/storage).
#include "storage/shard.h"

#include <charconv>

#include "common/clock.h"
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

Shard::Shard(ShardId id, Env* env, std::string dir, ShardOptions options, MetricsRegistry* metrics)
    : id_(id), env_(env), dir_(std::move(dir)), options_(options) {
  MetricLabels labels{{"shard", std::to_string(id.value())}};
  wal_bytes_ = metrics->GetCounter("seaway_wal_bytes_total", "Bytes appended to the WAL", labels);
  wal_syncs_ = metrics->GetCounter("seaway_wal_syncs_total", "WAL fsyncs", labels);
  group_commits_ = metrics->GetCounter("seaway_wal_group_commits_total",
                                       "Groups of records committed together", labels);
  records_ = metrics->GetCounter("seaway_wal_records_total", "WAL records committed", labels);
  rejected_ = metrics->GetCounter("seaway_storage_rejected_writes_total",
                                  "Writes refused by a shard (memory, queue, read-only)", labels);
}

Shard::~Shard() { Close(); }

Status Shard::Open(const RecordObserver& observer) {
  SW_RETURN_IF_ERROR(CreateDirs(env_, dir_));
  SW_RETURN_IF_ERROR(Recover(observer));
  SW_ASSIGN_OR_RETURN(wal_, WalWriter::Create(env_, dir_, next_wal_number_++));
  last_sync_ns_ = Clock::Real()->MonotonicNanos();
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

Status Shard::Recover(const RecordObserver& observer) {
  SW_ASSIGN_OR_RETURN(auto names, env_->GetChildren(dir_));
  std::vector<std::pair<uint64_t, std::string>> files;
  for (const auto& name : names) {
    if (uint64_t n = ParseWalFileName(name)) files.emplace_back(n, JoinPath(dir_, name));
  }
  std::sort(files.begin(), files.end());
  Lsn last{0};
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [number, path] = files[i];
    next_wal_number_ = number + 1;
    WriteRecord record;
    auto read = ReadWalFile(env_, path, [&](const WalFrame& frame) -> Status {
      if (last.value() != 0 && frame.lsn != last.Next()) {
        return Corruption("WAL file '{}': LSN {} follows {} (a gap or a reordering)", path,
                          frame.lsn.value(), last.value());
      }
      last = frame.lsn;
      SW_RETURN_IF_ERROR(DecodeWriteRecord(frame.payload, &record).WithContext(path));
      SW_RETURN_IF_ERROR(observer(record));
      memtable_.Apply(record);
      return Status::OK();
    });
    if (!read.ok()) return read.status();
    const bool last_file = i + 1 == files.size();
    uint64_t cut = 0;
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
      cut = read->valid_bytes;
      SW_RETURN_IF_ERROR(env_->TruncateFile(path, cut));
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
  }
  next_lsn_ = last.Next();
  last_lsn_ = last;
  return Status::OK();
}

void Shard::Submit(std::string payload, std::function<void(Status)> done) {
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (!read_only_.ok()) {
      refused = read_only_;
    } else if (stopping_) {
      refused = Unavailable("shard {} is shutting down", id_);
    } else if (memtable_.ApproximateBytes() > options_.memtable_limit_bytes) {
      refused = Unavailable("shard {} holds {} bytes in memory, over its limit of {}; retry later",
                            id_, memtable_.ApproximateBytes(), options_.memtable_limit_bytes);
    } else if (queued_bytes_ + payload.size() > options_.queue_limit_bytes && !queue_.empty()) {
      refused =
          Unavailable("shard {} write queue is full ({} bytes); retry later", id_, queued_bytes_);
    } else {
      queued_bytes_ += payload.size();
      queue_.push_back(Pending{std::move(payload), std::move(done)});
    }
  }
  if (!refused.ok()) {
    rejected_->Increment();
    done(refused);
    return;
  }
  cv_.notify_one();
}

void Shard::MakeReadOnly(const Status& cause) {
  if (!read_only_.ok()) return;
  read_only_ = FailedPrecondition("shard {} is read-only after a failed WAL write: {}", id_,
                                  cause.ToString());
  log::Error("shard is read-only", {{"shard", id_}, {"error", cause.ToString()}});
}

Status Shard::WriteGroup(std::deque<Pending>* group) {
  if (wal_->size() >= options_.wal_file_bytes) {
    // The old file's frames were synced when they were acknowledged (kAlways), or are synced now.
    SW_RETURN_IF_ERROR(wal_->Sync());
    SW_RETURN_IF_ERROR(wal_->Close());
    SW_ASSIGN_OR_RETURN(wal_, WalWriter::Create(env_, dir_, next_wal_number_++));
  }
  std::string frames;
  Lsn lsn = next_lsn_;
  for (const auto& p : *group) {
    AppendWalFrame(lsn, WalRecordType::kWrite, p.payload, &frames);
    lsn = lsn.Next();
  }
  const uint64_t good_size = wal_->size();
  Status s = wal_->AppendFrames(frames);
  if (s.ok() && options_.sync_mode == WalSyncMode::kAlways) {
    s = wal_->Sync();
    wal_syncs_->Increment();
  } else if (s.ok()) {
    s = wal_->Flush();
    unsynced_ = true;
  }
  if (s.code() == StatusCode::kResourceExhausted) {
    // Disk full: cut the file back to its last whole frame so that the log stays clean, and keep
    // the shard writable; the writes are refused and may be retried when space returns.
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
  next_lsn_ = lsn;
  return Status::OK();
}

void Shard::Run() {
  while (true) {
    std::deque<Pending> group;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (options_.sync_mode == WalSyncMode::kInterval && unsynced_) {
        cv_.wait_for(lock, std::chrono::nanoseconds(options_.sync_interval.nanos()), ready);
      } else {
        cv_.wait(lock, ready);
      }
      group.swap(queue_);
      queued_bytes_ = 0;
      if (group.empty() && stopping_) break;
    }

    if (unsynced_ && options_.sync_mode == WalSyncMode::kInterval &&
        Clock::Real()->MonotonicNanos() - last_sync_ns_ >= options_.sync_interval.nanos()) {
      Status s = wal_->Sync();
      wal_syncs_->Increment();
      last_sync_ns_ = Clock::Real()->MonotonicNanos();
      unsynced_ = false;
      if (!s.ok()) {
        std::lock_guard lock(mu_);
        MakeReadOnly(s);
      }
    }
    if (group.empty()) continue;

    Status status;
    {
      std::lock_guard lock(mu_);
      status = read_only_;
    }
    if (status.ok()) {
      status = WriteGroup(&group);
      if (status.code() == StatusCode::kResourceExhausted) {
        status =
            ResourceExhausted("shard {}: {}; retry when space is freed", id_, status.message());
      } else if (!status.ok()) {
        std::lock_guard lock(mu_);
        MakeReadOnly(status);
        status = read_only_;
      }
    }
    if (status.ok()) {
      group_commits_->Increment();
      records_->Increment(group.size());
      WriteRecord record;
      for (auto& p : group) {
        // The payload was encoded by this process; decoding cannot fail unless memory is corrupt.
        Status decoded = DecodeWriteRecord(p.payload, &record);
        if (decoded.ok()) memtable_.Apply(record);
        p.done(decoded.ok() ? Status::OK() : Internal("{}", decoded.ToString()));
      }
      std::lock_guard lock(mu_);
      last_lsn_ = Lsn(next_lsn_.value() - 1);
    } else {
      for (auto& p : group) p.done(status);
    }
  }
  if (unsynced_) {
    Status s = wal_->Sync();
    if (!s.ok()) log::Error("final wal sync failed", {{"shard", id_}, {"error", s.ToString()}});
  }
}

void Shard::Close() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (wal_) wal_->Close().IgnoreError();
}

Status Shard::health() const {
  std::lock_guard lock(mu_);
  return read_only_;
}

Lsn Shard::last_lsn() const {
  std::lock_guard lock(mu_);
  return last_lsn_;
}

}  // namespace seaway
