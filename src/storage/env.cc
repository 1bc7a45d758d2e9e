// Helpers shared by every Env implementation (src/storage).
#include "storage/env.h"

#include <array>

namespace seaway {

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

Result<std::string_view> RandomAccessFile::View(uint64_t offset, size_t n,
                                                std::string* scratch) const {
  scratch->resize(n);
  SW_ASSIGN_OR_RETURN(size_t got, ReadAt(offset, std::as_writable_bytes(std::span(*scratch))));
  return std::string_view(scratch->data(), got);
}

Status CreateDirs(Env* env, const std::string& path) {
  if (path.empty() || path == "." || path == "/") return Status::OK();
  if (env->FileExists(path)) return env->CreateDir(path);  // reports "not a directory"
  std::string parent = DirName(path);
  if (parent != path) SW_RETURN_IF_ERROR(CreateDirs(env, parent));
  SW_RETURN_IF_ERROR(env->CreateDir(path));
  // A new directory's entry is durable only once its parent is synced (contract point 2).
  return env->SyncDir(parent);
}

Result<std::string> ReadFileToString(Env* env, const std::string& path) {
  SW_ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  std::string out;
  std::array<std::byte, 64 * 1024> buf;
  while (true) {
    SW_ASSIGN_OR_RETURN(size_t n, file->Read(buf));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data,
                           FileAccess access) {
  const std::string tmp = path + ".tmp";
  {
    SW_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
    Status s = access == FileAccess::kOwnerOnly ? env->RestrictToOwner(tmp) : Status::OK();
    if (s.ok()) s = file->Append(data);
    if (s.ok()) s = file->Sync();
    if (s.ok()) s = file->Close();
    if (!s.ok()) {
      env->RemoveFile(tmp).IgnoreError();
      return s;
    }
  }
  SW_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

}  // namespace seaway
