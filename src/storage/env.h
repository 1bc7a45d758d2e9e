// Env: the file-system seam (src/storage). Every file operation of the storage engine, the WAL,
// the metadata files and the server's data directory goes through an Env, so that tests can run
// on an in-memory file system, drop unsynced bytes to simulate power loss, and inject fsync
// failures, I/O errors and a full disk.
//
// Implementations: PosixEnv (real files), MemoryEnv (in memory, with crash simulation) and
// FaultInjectionEnv (wraps another Env and fails on command).
//
// Durability contract, the same for every implementation:
//   1. Bytes given to WritableFile::Append are durable only after WritableFile::Sync returns OK.
//   2. A created, renamed or removed directory entry is durable only after SyncDir(parent) returns
//      OK. A crash may undo any entry change made since the parent's last SyncDir.
//   3. After Sync fails, the file's state on disk is unknown: callers must not retry and hope;
//      the file reports the same error from every later call.
//
// Env objects are thread-safe. File objects are thread-compatible (one user at a time), and must
// not outlive the Env that created them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace seaway {

// Reads a file front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to buf.size() bytes; returns how many were read (0 at end of file).
  virtual Result<size_t> Read(std::span<std::byte> buf) = 0;
  // Skips `n` bytes (or to end of file).
  virtual Status Skip(uint64_t n) = 0;
};

// Reads a file at arbitrary offsets. Thread-safe: concurrent reads are allowed.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to buf.size() bytes at `offset`; returns how many were read (fewer only at end).
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<std::byte> buf) const = 0;
  virtual Result<uint64_t> Size() const = 0;

  // The `n` bytes at `offset` (fewer only at end), without a copy where the implementation can
  // (PosixEnv maps immutable files); otherwise read into `scratch`. The view lives as long as
  // the file object and `scratch`.
  virtual Result<std::string_view> View(uint64_t offset, size_t n, std::string* scratch) const;
};

// Appends to a file. May buffer in user space until Flush, Sync or Close.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::span<const std::byte> data) = 0;
  Status Append(std::string_view data) {
    return Append(std::as_bytes(std::span<const char>(data.data(), data.size())));
  }
  // Hands buffered bytes to the operating system (no durability).
  virtual Status Flush() = 0;
  // Flushes and makes every appended byte durable (fdatasync).
  virtual Status Sync() = 0;
  // Flushes and closes. Idempotent. Does not sync.
  virtual Status Close() = 0;
  // Bytes in the file including those appended and not yet flushed.
  virtual uint64_t Size() const = 0;
};

// An exclusive lock on a file, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide PosixEnv. Never destroyed.
  static Env* Default();

  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Creates `path`, truncating it if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it if absent.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates one directory; OK if it already exists as a directory.
  virtual Status CreateDir(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the entries of `dir` durable (see contract point 2).
  virtual Status SyncDir(const std::string& dir) = 0;
  // Makes `path` readable and writable by its owner only (mode 0600). File systems without
  // permissions (MemoryEnv) accept it and do nothing.
  virtual Status RestrictToOwner(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if absent); fails with FailedPrecondition when
  // another holder (this or another process) has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Creates `path` and any missing parents, syncing each parent so the new entries are durable.
Status CreateDirs(Env* env, const std::string& path);

// Reads a whole file.
Result<std::string> ReadFileToString(Env* env, const std::string& path);

enum class FileAccess { kShared, kOwnerOnly };

// Writes `data` to `path` so that after a crash the file holds either its old content or `data`:
// write to a temporary sibling, sync, rename over `path`, sync the directory. kOwnerOnly
// restricts the file before any byte is written (for secrets).
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data,
                           FileAccess access = FileAccess::kShared);

// The parent directory of `path` ("." when there is none) and the last component.
std::string DirName(std::string_view path);
std::string BaseName(std::string_view path);
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace seaway
