// FaultInjectionEnv implementation (src/storage).
#include "storage/fault_injection_env.h"

namespace seaway {
namespace {

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(FaultInjectionEnv* env, std::string path,
                      std::unique_ptr<SequentialFile> target)
      : env_(env), path_(std::move(path)), target_(std::move(target)) {}

  Result<size_t> Read(std::span<std::byte> buf) override {
    SW_RETURN_IF_ERROR(env_->CheckRead(path_));
    return target_->Read(buf);
  }
  Status Skip(uint64_t n) override { return target_->Skip(n); }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<SequentialFile> target_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultInjectionEnv* env, std::string path,
                        std::unique_ptr<RandomAccessFile> target)
      : env_(env), path_(std::move(path)), target_(std::move(target)) {}

  Result<size_t> ReadAt(uint64_t offset, std::span<std::byte> buf) const override {
    SW_RETURN_IF_ERROR(env_->CheckRead(path_));
    return target_->ReadAt(offset, buf);
  }
  Result<uint64_t> Size() const override { return target_->Size(); }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<RandomAccessFile> target_;
};

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> target,
                    std::shared_ptr<uint64_t> usage)
      : env_(env), path_(std::move(path)), target_(std::move(target)), usage_(std::move(usage)) {}

  Status Append(std::span<const std::byte> data) override {
    if (!error_.ok()) return error_;
    SW_RETURN_IF_ERROR(Sticky(env_->CheckAppend(path_, data.size())));
    SW_RETURN_IF_ERROR(Sticky(target_->Append(data)));
    env_->RecordAppend(usage_, data.size());
    return Status::OK();
  }
  Status Flush() override {
    if (!error_.ok()) return error_;
    SW_RETURN_IF_ERROR(Sticky(env_->CheckAppend(path_, 0)));
    return Sticky(target_->Flush());
  }
  Status Sync() override {
    if (!error_.ok()) return error_;
    SW_RETURN_IF_ERROR(Sticky(env_->CheckSync(path_)));
    return Sticky(target_->Sync());
  }
  Status Close() override { return target_->Close(); }
  uint64_t Size() const override { return target_->Size(); }

 private:
  // After a failed sync the file stays failed (env.h contract point 3).
  Status Sticky(Status s) {
    if (!s.ok() && s.code() != StatusCode::kResourceExhausted && error_.ok()) error_ = s;
    return s;
  }

  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<WritableFile> target_;
  std::shared_ptr<uint64_t> usage_;
  Status error_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* target) : target_(target) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::SetFaults(FaultSpec spec) {
  std::lock_guard lock(mu_);
  spec_ = std::move(spec);
}

uint64_t FaultInjectionEnv::bytes_used() const {
  std::lock_guard lock(mu_);
  return used_;
}

bool FaultInjectionEnv::Applies(const std::string& path) const {
  return spec_.path_prefix.empty() || path.starts_with(spec_.path_prefix);
}

Status FaultInjectionEnv::CheckSync(const std::string& path) {
  sync_count_.fetch_add(1);
  std::lock_guard lock(mu_);
  if (!Applies(path)) return Status::OK();
  if (spec_.syncs_before_failure > 0) {
    --spec_.syncs_before_failure;
    return Status::OK();
  }
  if (spec_.syncs_before_failure == 0) spec_.fail_sync = true;
  if (!spec_.fail_sync) return Status::OK();
  injected_failures_.fetch_add(1);
  return IOError("fsync '{}': Input/output error (injected)", path);
}

Status FaultInjectionEnv::CheckAppend(const std::string& path, uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (!Applies(path)) return Status::OK();
  if (spec_.fail_append) {
    injected_failures_.fetch_add(1);
    return IOError("write '{}': Input/output error (injected)", path);
  }
  if (spec_.disk_capacity_bytes && used_ + bytes > *spec_.disk_capacity_bytes) {
    injected_failures_.fetch_add(1);
    return ResourceExhausted("write '{}': No space left on device (injected; {} of {} bytes used)",
                             path, used_, *spec_.disk_capacity_bytes);
  }
  return Status::OK();
}

Status FaultInjectionEnv::CheckRead(const std::string& path) {
  std::lock_guard lock(mu_);
  if (!Applies(path) || !spec_.fail_read) return Status::OK();
  injected_failures_.fetch_add(1);
  return IOError("read '{}': Input/output error (injected)", path);
}

Status FaultInjectionEnv::CheckOpen(const std::string& path) {
  std::lock_guard lock(mu_);
  if (!Applies(path) || !spec_.fail_open) return Status::OK();
  injected_failures_.fetch_add(1);
  return IOError("open '{}': Input/output error (injected)", path);
}

void FaultInjectionEnv::RecordAppend(const std::shared_ptr<uint64_t>& usage, uint64_t bytes) {
  std::lock_guard lock(mu_);
  *usage += bytes;
  used_ += bytes;
}

std::shared_ptr<uint64_t> FaultInjectionEnv::UsageFor(const std::string& path, bool truncate) {
  std::lock_guard lock(mu_);
  auto& usage = usage_[path];
  if (!usage) {
    usage = std::make_shared<uint64_t>(0);
  } else if (truncate) {
    used_ -= *usage;
    usage = std::make_shared<uint64_t>(0);  // the old inode's handles no longer count
  }
  return usage;
}

Result<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(
    const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  SW_ASSIGN_OR_RETURN(auto file, target_->NewSequentialFile(path));
  return std::unique_ptr<SequentialFile>(
      std::make_unique<FaultSequentialFile>(this, path, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  SW_ASSIGN_OR_RETURN(auto file, target_->NewRandomAccessFile(path));
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<FaultRandomAccessFile>(this, path, std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  SW_ASSIGN_OR_RETURN(auto file, target_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(
      this, path, std::move(file), UsageFor(path, /*truncate=*/true)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  SW_ASSIGN_OR_RETURN(auto file, target_->NewAppendableFile(path));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(
      this, path, std::move(file), UsageFor(path, /*truncate=*/false)));
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return target_->FileExists(path); }

Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  SW_RETURN_IF_ERROR(CheckRead(dir));
  return target_->GetChildren(dir);
}

Result<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return target_->GetFileSize(path);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  SW_RETURN_IF_ERROR(target_->RemoveFile(path));
  std::lock_guard lock(mu_);
  if (auto it = usage_.find(path); it != usage_.end()) {
    used_ -= *it->second;
    *it->second = 0;
    usage_.erase(it);
  }
  return Status::OK();
}

Status FaultInjectionEnv::CreateDir(const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  return target_->CreateDir(path);
}

Status FaultInjectionEnv::RemoveDir(const std::string& path) { return target_->RemoveDir(path); }

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  SW_RETURN_IF_ERROR(target_->RenameFile(from, to));
  std::lock_guard lock(mu_);
  if (auto it = usage_.find(to); it != usage_.end()) {
    used_ -= *it->second;
    *it->second = 0;
    usage_.erase(it);
  }
  if (auto it = usage_.find(from); it != usage_.end()) {
    usage_[to] = it->second;
    usage_.erase(from);
  }
  return Status::OK();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  SW_RETURN_IF_ERROR(target_->TruncateFile(path, size));
  std::lock_guard lock(mu_);
  if (auto it = usage_.find(path); it != usage_.end() && *it->second > size) {
    used_ -= *it->second - size;
    *it->second = size;
  }
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  SW_RETURN_IF_ERROR(CheckSync(dir));
  return target_->SyncDir(dir);
}

Status FaultInjectionEnv::RestrictToOwner(const std::string& path) {
  return target_->RestrictToOwner(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  SW_RETURN_IF_ERROR(CheckOpen(path));
  return target_->LockFile(path);
}

}  // namespace seaway
