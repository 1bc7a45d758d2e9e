// MemoryEnv: an in-memory Env that models what survives a power loss (src/storage).
//
// Every file remembers how many of its bytes a successful Sync covered, and every directory
// remembers its entries as of its last SyncDir. SimulateCrash() throws away everything else, so a
// test can write, "lose power" at any point and check what recovery finds — the durability
// contract of env.h, enforced strictly (stricter than most real file systems).
//
// Thread-safe. Files opened before a crash fail every later call with IOError.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/env.h"

namespace seaway {

struct CrashOptions {
  enum class Mode {
    kDropUnsynced,  // every file is cut back to its last synced length
    kTearUnsynced,  // a random prefix of the unsynced bytes survives, with one garbled sector
  };
  Mode mode = Mode::kDropUnsynced;
  uint64_t seed = 1;
};

class MemoryEnv final : public Env {
 public:
  MemoryEnv();
  ~MemoryEnv() override;

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

  // Simulates power loss (see the file comment). Locks are released.
  void SimulateCrash(const CrashOptions& options = {});

  // Sum of the sizes of all live files.
  uint64_t TotalFileBytes() const;

  // Implementation details shared with the file objects.
  struct Node;
  struct Shared;

 private:
  struct Entry {
    bool is_dir = false;
    std::shared_ptr<Node> node;  // null for directories
  };

  Result<std::shared_ptr<Node>> OpenForWrite(const std::string& path, bool truncate);
  Status CheckParentExists(const std::string& path) const;  // REQUIRES: mu_ held
  bool IsDir(const std::string& path) const;                // REQUIRES: mu_ held

  std::shared_ptr<Shared> shared_;  // mutex and crash generation, shared with open files
  std::map<std::string, Entry> live_;
  std::map<std::string, Entry> durable_;
  std::set<std::string> locked_;
};

}  // namespace seaway
