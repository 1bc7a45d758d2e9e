// MemoryEnv implementation (src/storage).
#include "storage/memory_env.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace seaway {

struct MemoryEnv::Node {
  std::string data;
  size_t synced = 0;  // data[0, synced) survives a crash
};

struct MemoryEnv::Shared {
  mutable std::mutex mu;
  uint64_t generation = 0;  // bumped by every crash; stale handles fail
};

namespace {

using Node = MemoryEnv::Node;
using Shared = MemoryEnv::Shared;

std::string Normalize(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Status StaleHandle(const std::string& path) {
  return IOError("'{}': file handle predates a simulated crash", path);
}

class MemSequentialFile final : public SequentialFile {
 public:
  MemSequentialFile(std::shared_ptr<Shared> shared, std::shared_ptr<Node> node, std::string path)
      : shared_(std::move(shared)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(shared_->generation) {}

  Result<size_t> Read(std::span<std::byte> buf) override {
    std::lock_guard lock(shared_->mu);
    if (generation_ != shared_->generation) return StaleHandle(path_);
    size_t avail = pos_ < node_->data.size() ? node_->data.size() - pos_ : 0;
    size_t n = std::min(avail, buf.size());
    std::memcpy(buf.data(), node_->data.data() + pos_, n);
    pos_ += n;
    return n;
  }

  Status Skip(uint64_t n) override {
    std::lock_guard lock(shared_->mu);
    pos_ += n;
    return Status::OK();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Node> node_;
  const std::string path_;
  const uint64_t generation_;
  size_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<Shared> shared, std::shared_ptr<Node> node, std::string path)
      : shared_(std::move(shared)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(shared_->generation) {}

  Result<size_t> ReadAt(uint64_t offset, std::span<std::byte> buf) const override {
    std::lock_guard lock(shared_->mu);
    if (generation_ != shared_->generation) return StaleHandle(path_);
    if (offset >= node_->data.size()) return size_t{0};
    size_t n = std::min<uint64_t>(node_->data.size() - offset, buf.size());
    std::memcpy(buf.data(), node_->data.data() + offset, n);
    return n;
  }

  Result<uint64_t> Size() const override {
    std::lock_guard lock(shared_->mu);
    if (generation_ != shared_->generation) return StaleHandle(path_);
    return static_cast<uint64_t>(node_->data.size());
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Node> node_;
  const std::string path_;
  const uint64_t generation_;
};

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<Shared> shared, std::shared_ptr<Node> node, std::string path)
      : shared_(std::move(shared)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(shared_->generation) {}

  Status Append(std::span<const std::byte> data) override {
    std::lock_guard lock(shared_->mu);
    SW_RETURN_IF_ERROR(CheckUsable());
    node_->data.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::OK();
  }

  Status Flush() override {
    std::lock_guard lock(shared_->mu);
    return CheckUsable();
  }

  Status Sync() override {
    std::lock_guard lock(shared_->mu);
    SW_RETURN_IF_ERROR(CheckUsable());
    node_->synced = node_->data.size();
    return Status::OK();
  }

  Status Close() override {
    std::lock_guard lock(shared_->mu);
    closed_ = true;
    return Status::OK();
  }

  uint64_t Size() const override {
    std::lock_guard lock(shared_->mu);
    return node_->data.size();
  }

 private:
  Status CheckUsable() const {
    if (generation_ != shared_->generation) return StaleHandle(path_);
    if (closed_) return FailedPrecondition("file '{}' is closed", path_);
    return Status::OK();
  }

  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Node> node_;
  const std::string path_;
  const uint64_t generation_;
  bool closed_ = false;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<Shared> shared, std::set<std::string>* locked, std::string path)
      : shared_(std::move(shared)),
        locked_(locked),
        path_(std::move(path)),
        generation_(shared_->generation) {}
  ~MemFileLock() override {
    std::lock_guard lock(shared_->mu);
    if (generation_ == shared_->generation) locked_->erase(path_);
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::set<std::string>* locked_;
  const std::string path_;
  const uint64_t generation_;
};

}  // namespace

MemoryEnv::MemoryEnv() : shared_(std::make_shared<Shared>()) {}
MemoryEnv::~MemoryEnv() = default;

bool MemoryEnv::IsDir(const std::string& path) const {
  if (path == "." || path == "/") return true;
  auto it = live_.find(path);
  return it != live_.end() && it->second.is_dir;
}

Status MemoryEnv::CheckParentExists(const std::string& path) const {
  std::string parent = DirName(path);
  if (!IsDir(parent)) return IOError("'{}': parent directory '{}' does not exist", path, parent);
  return Status::OK();
}

Result<std::unique_ptr<SequentialFile>> MemoryEnv::NewSequentialFile(const std::string& path) {
  std::lock_guard lock(shared_->mu);
  auto it = live_.find(Normalize(path));
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", path);
  return std::unique_ptr<SequentialFile>(
      std::make_unique<MemSequentialFile>(shared_, it->second.node, path));
}

Result<std::unique_ptr<RandomAccessFile>> MemoryEnv::NewRandomAccessFile(const std::string& path) {
  std::lock_guard lock(shared_->mu);
  auto it = live_.find(Normalize(path));
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", path);
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<MemRandomAccessFile>(shared_, it->second.node, path));
}

Result<std::shared_ptr<Node>> MemoryEnv::OpenForWrite(const std::string& raw_path, bool truncate) {
  std::lock_guard lock(shared_->mu);
  const std::string path = Normalize(raw_path);
  SW_RETURN_IF_ERROR(CheckParentExists(path));
  auto it = live_.find(path);
  if (it != live_.end()) {
    if (it->second.is_dir) return FailedPrecondition("'{}' is a directory", path);
    if (truncate) {
      it->second.node->data.clear();
      it->second.node->synced = 0;
    }
    return it->second.node;
  }
  auto node = std::make_shared<Node>();
  live_[path] = Entry{false, node};
  return node;
}

Result<std::unique_ptr<WritableFile>> MemoryEnv::NewWritableFile(const std::string& path) {
  SW_ASSIGN_OR_RETURN(auto node, OpenForWrite(path, /*truncate=*/true));
  return std::unique_ptr<WritableFile>(std::make_unique<MemWritableFile>(shared_, node, path));
}

Result<std::unique_ptr<WritableFile>> MemoryEnv::NewAppendableFile(const std::string& path) {
  SW_ASSIGN_OR_RETURN(auto node, OpenForWrite(path, /*truncate=*/false));
  return std::unique_ptr<WritableFile>(std::make_unique<MemWritableFile>(shared_, node, path));
}

bool MemoryEnv::FileExists(const std::string& path) {
  std::lock_guard lock(shared_->mu);
  const std::string p = Normalize(path);
  return IsDir(p) || live_.count(p) > 0;
}

Result<std::vector<std::string>> MemoryEnv::GetChildren(const std::string& raw_dir) {
  std::lock_guard lock(shared_->mu);
  const std::string dir = Normalize(raw_dir);
  if (!IsDir(dir)) return NotFound("directory '{}' does not exist", dir);
  std::vector<std::string> names;
  for (const auto& [path, entry] : live_) {
    if (DirName(path) == dir) names.push_back(BaseName(path));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<uint64_t> MemoryEnv::GetFileSize(const std::string& path) {
  std::lock_guard lock(shared_->mu);
  auto it = live_.find(Normalize(path));
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", path);
  return static_cast<uint64_t>(it->second.node->data.size());
}

Status MemoryEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(shared_->mu);
  auto it = live_.find(Normalize(path));
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", path);
  live_.erase(it);
  return Status::OK();
}

Status MemoryEnv::CreateDir(const std::string& raw_path) {
  std::lock_guard lock(shared_->mu);
  const std::string path = Normalize(raw_path);
  if (IsDir(path)) return Status::OK();
  if (live_.count(path)) return FailedPrecondition("'{}' exists and is not a directory", path);
  SW_RETURN_IF_ERROR(CheckParentExists(path));
  live_[path] = Entry{true, nullptr};
  return Status::OK();
}

Status MemoryEnv::RemoveDir(const std::string& raw_path) {
  std::lock_guard lock(shared_->mu);
  const std::string path = Normalize(raw_path);
  auto it = live_.find(path);
  if (it == live_.end() || !it->second.is_dir) {
    return NotFound("directory '{}' does not exist", path);
  }
  for (const auto& [p, entry] : live_) {
    if (DirName(p) == path) return FailedPrecondition("directory '{}' is not empty", path);
  }
  live_.erase(it);
  return Status::OK();
}

Status MemoryEnv::RenameFile(const std::string& raw_from, const std::string& raw_to) {
  std::lock_guard lock(shared_->mu);
  const std::string from = Normalize(raw_from);
  const std::string to = Normalize(raw_to);
  auto it = live_.find(from);
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", from);
  SW_RETURN_IF_ERROR(CheckParentExists(to));
  if (IsDir(to)) return FailedPrecondition("rename target '{}' is a directory", to);
  Entry entry = it->second;
  live_.erase(it);
  live_[to] = std::move(entry);
  return Status::OK();
}

Status MemoryEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard lock(shared_->mu);
  auto it = live_.find(Normalize(path));
  if (it == live_.end() || it->second.is_dir) return NotFound("file '{}' does not exist", path);
  Node& node = *it->second.node;
  node.data.resize(size, '\0');
  node.synced = std::min<size_t>(node.synced, size);
  return Status::OK();
}

Status MemoryEnv::SyncDir(const std::string& raw_dir) {
  std::lock_guard lock(shared_->mu);
  const std::string dir = Normalize(raw_dir);
  if (!IsDir(dir)) return NotFound("directory '{}' does not exist", dir);
  for (auto it = durable_.begin(); it != durable_.end();) {
    if (DirName(it->first) == dir && live_.count(it->first) == 0) {
      it = durable_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [path, entry] : live_) {
    if (DirName(path) == dir) durable_[path] = entry;
  }
  return Status::OK();
}

Status MemoryEnv::RestrictToOwner(const std::string& path) {
  if (!FileExists(path)) return NotFound("file '{}' does not exist", path);
  return Status::OK();  // no permissions in memory
}

Result<std::unique_ptr<FileLock>> MemoryEnv::LockFile(const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  {
    SW_ASSIGN_OR_RETURN(auto node, OpenForWrite(path, /*truncate=*/false));
    (void)node;
  }
  std::lock_guard lock(shared_->mu);
  if (!locked_.insert(path).second) {
    return FailedPrecondition("'{}' is locked by another holder", path);
  }
  return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(shared_, &locked_, path));
}

void MemoryEnv::SimulateCrash(const CrashOptions& options) {
  std::lock_guard lock(shared_->mu);
  ++shared_->generation;
  locked_.clear();
  std::mt19937_64 rng(options.seed);

  // Entries whose parent directory did not survive are gone too.
  std::map<std::string, Entry> survivors;
  for (const auto& [path, entry] : durable_) {
    bool reachable = true;
    for (std::string p = DirName(path); p != "." && p != "/"; p = DirName(p)) {
      auto it = durable_.find(p);
      if (it == durable_.end() || !it->second.is_dir) {
        reachable = false;
        break;
      }
    }
    if (reachable) survivors.emplace(path, entry);
  }

  // Content: fresh nodes, so that handles from before the crash cannot touch the new state.
  std::map<Node*, std::shared_ptr<Node>> copies;
  for (auto& [path, entry] : survivors) {
    if (entry.is_dir) continue;
    auto& copy = copies[entry.node.get()];
    if (!copy) {
      const Node& old = *entry.node;
      copy = std::make_shared<Node>();
      size_t keep = old.synced;
      if (options.mode == CrashOptions::Mode::kTearUnsynced && old.data.size() > old.synced) {
        size_t unsynced = old.data.size() - old.synced;
        keep += std::uniform_int_distribution<size_t>(0, unsynced)(rng);
        copy->data = old.data.substr(0, keep);
        // Garble one 512-byte sector of the surviving unsynced bytes, as a torn page would.
        if (keep > old.synced) {
          size_t sector =
              (old.synced + std::uniform_int_distribution<size_t>(0, keep - old.synced - 1)(rng)) /
              512 * 512;
          for (size_t i = std::max(sector, old.synced); i < std::min(sector + 512, keep); ++i) {
            copy->data[i] = static_cast<char>(rng());
          }
        }
      } else {
        copy->data = old.data.substr(0, keep);
      }
      copy->synced = copy->data.size();
    }
    entry.node = copy;
  }
  live_ = survivors;
  durable_ = std::move(survivors);
}

uint64_t MemoryEnv::TotalFileBytes() const {
  std::lock_guard lock(shared_->mu);
  uint64_t total = 0;
  for (const auto& [path, entry] : live_) {
    if (!entry.is_dir) total += entry.node->data.size();
  }
  return total;
}

}  // namespace seaway
