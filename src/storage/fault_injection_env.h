// FaultInjectionEnv: wraps another Env and fails operations on command (src/storage).
//
// Tests use it to check that the engine never acknowledges a write after a failed fsync, that a
// full disk refuses writes with a clear status and accepts them again when space returns, and
// that I/O errors surface as errors rather than as lost or invented data.
//
//   MemoryEnv mem;
//   FaultInjectionEnv env(&mem);
//   env.SetFaults({.fail_sync = true, .path_prefix = "/db/wal"});
//
// Thread-safe. The wrapped Env must outlive this one.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/env.h"

namespace seaway {

struct FaultSpec {
  bool fail_sync = false;             // WritableFile::Sync and SyncDir fail with IOError (EIO)
  int64_t syncs_before_failure = -1;  // >= 0: that many more syncs succeed, then fail_sync starts
  bool fail_append = false;           // Append and Flush fail with IOError
  bool fail_read = false;             // reads fail with IOError
  bool fail_open = false;             // opening or creating any file fails with IOError
  // Total bytes the "disk" holds; appends beyond it fail with ResourceExhausted (ENOSPC).
  std::optional<uint64_t> disk_capacity_bytes;
  // Faults apply only to paths starting with this prefix; empty means every path.
  std::string path_prefix;
};

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* target);
  ~FaultInjectionEnv() override;

  // Replaces the active faults. Open files see the change immediately.
  void SetFaults(FaultSpec spec);
  void ClearFaults() { SetFaults(FaultSpec{}); }

  // Bytes appended through this Env to files that still exist (the "disk usage").
  uint64_t bytes_used() const;
  uint64_t sync_count() const { return sync_count_.load(); }
  uint64_t injected_failures() const { return injected_failures_.load(); }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status RestrictToOwner(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Used by the wrapped files. Each returns OK or the injected error for `path`.
  Status CheckSync(const std::string& path);
  Status CheckAppend(const std::string& path, uint64_t bytes);
  Status CheckRead(const std::string& path);
  void RecordAppend(const std::shared_ptr<uint64_t>& usage, uint64_t bytes);

 private:
  bool Applies(const std::string& path) const;  // REQUIRES: mu_ held
  Status CheckOpen(const std::string& path);
  std::shared_ptr<uint64_t> UsageFor(const std::string& path, bool truncate);

  Env* const target_;
  mutable std::mutex mu_;
  FaultSpec spec_;
  uint64_t used_ = 0;
  std::map<std::string, std::shared_ptr<uint64_t>> usage_;  // bytes per live file
  std::atomic<uint64_t> sync_count_{0};
  std::atomic<uint64_t> injected_failures_{0};
};

}  // namespace seaway
