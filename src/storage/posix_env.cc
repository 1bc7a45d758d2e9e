// PosixEnv implementation (src/storage).
#include "storage/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

namespace seaway {
namespace {

constexpr size_t kWriteBufferSize = 64 * 1024;

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
Status WriteAll(int fd, const std::string& path, const std::byte* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::OK();
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Result<size_t> Read(std::span<std::byte> buf) override {
    while (true) {
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoError("read", path_, errno);
    }
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return ErrnoError("seek", path_, errno);
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  // Maps the file when it is not empty; files opened for random access (segments) are immutable.
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    struct stat st;
    if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd_, 0);
      if (p != MAP_FAILED) {
        map_ = static_cast<const char*>(p);
        map_size_ = static_cast<size_t>(st.st_size);
      }
    }
  }
  ~PosixRandomAccessFile() override {
    if (map_ != nullptr) ::munmap(const_cast<char*>(map_), map_size_);
    ::close(fd_);
  }

  Result<std::string_view> View(uint64_t offset, size_t n, std::string* scratch) const override {
    if (map_ == nullptr) return RandomAccessFile::View(offset, n, scratch);
    if (offset >= map_size_) return std::string_view();
    return std::string_view(map_ + offset, std::min<uint64_t>(n, map_size_ - offset));
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<std::byte> buf) const override {
    size_t done = 0;
    while (done < buf.size()) {
      ssize_t n =
          ::pread(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read", path_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  const std::string path_;
  const int fd_;
  const char* map_ = nullptr;
  size_t map_size_ = 0;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t initial_size)
      : path_(std::move(path)), fd_(fd), size_(initial_size) {
    buffer_.reserve(kWriteBufferSize);
  }
  ~PosixWritableFile() override { Close().IgnoreError(); }

  Status Append(std::span<const std::byte> data) override {
    SW_RETURN_IF_ERROR(CheckUsable());
    size_ += data.size();
    if (buffer_.size() + data.size() <= kWriteBufferSize) {
      buffer_.insert(buffer_.end(), data.begin(), data.end());
      return Status::OK();
    }
    SW_RETURN_IF_ERROR(Flush());
    if (data.size() < kWriteBufferSize) {
      buffer_.assign(data.begin(), data.end());
      return Status::OK();
    }
    return Remember(WriteAll(fd_, path_, data.data(), data.size()));
  }

  Status Flush() override {
    SW_RETURN_IF_ERROR(CheckUsable());
    if (buffer_.empty()) return Status::OK();
    Status s = WriteAll(fd_, path_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return Remember(std::move(s));
  }

  Status Sync() override {
    SW_RETURN_IF_ERROR(Flush());
    if (::fdatasync(fd_) != 0) return Remember(ErrnoError("fdatasync", path_, errno));
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = error_.ok() ? Flush() : error_;
    if (::close(fd_) != 0 && s.ok()) s = ErrnoError("close", path_, errno);
    fd_ = -1;
    return s;
  }

  uint64_t Size() const override { return size_; }

 private:
  Status CheckUsable() const {
    if (!error_.ok()) return error_;
    if (fd_ < 0) return FailedPrecondition("file '{}' is closed", path_);
    return Status::OK();
  }
  // A failed write or sync leaves the file in an unknown state: keep failing (contract point 3).
  Status Remember(Status s) {
    if (!s.ok() && error_.ok()) error_ = s;
    return s;
  }

  const std::string path_;
  int fd_;
  uint64_t size_;
  std::vector<std::byte> buffer_;
  Status error_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  const int fd_;
};

Result<int> OpenFd(const std::string& path, int flags) {
  while (true) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    if (errno != EINTR) return ErrnoError("open", path, errno);
  }
}

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY));
    return std::unique_ptr<SequentialFile>(std::make_unique<PosixSequentialFile>(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY));
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_WRONLY | O_CREAT | O_TRUNC));
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd, 0));
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_WRONLY | O_CREAT | O_APPEND));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = ErrnoError("stat", path, errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoError("open directory", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(d)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError("remove", path, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::OK();
    }
    if (err == EEXIST) return FailedPrecondition("'{}' exists and is not a directory", path);
    return ErrnoError("create directory", path, err);
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoError("remove directory", path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError("rename", fmt::format("{}' to '{}", from, to), errno);
    }
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return ErrnoError("truncate", path, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(dir, O_RDONLY | O_DIRECTORY));
    Status s;
    if (::fsync(fd) != 0) s = ErrnoError("fsync directory", dir, errno);
    ::close(fd);
    return s;
  }

  Status RestrictToOwner(const std::string& path) override {
    if (::chmod(path.c_str(), 0600) != 0) return ErrnoError("chmod", path, errno);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    SW_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDWR | O_CREAT));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return FailedPrecondition(
            "'{}' is locked by another process (is a server already running "
            "on this data directory?)",
            path);
      }
      return ErrnoError("lock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }
};

}  // namespace

std::unique_ptr<Env> NewPosixEnv() { return std::make_unique<PosixEnv>(); }

Env* Env::Default() {
  static Env* const env = NewPosixEnv().release();
  return env;
}

}  // namespace seaway
