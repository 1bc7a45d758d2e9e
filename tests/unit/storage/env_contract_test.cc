// The Env contract (src/storage/env.h), run against every implementation: what the storage
// engine may rely on must hold for real files and for the test file systems alike.
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "storage/env.h"
#include "storage/fault_injection_env.h"
#include "storage/memory_env.h"
#include "storage/posix_env.h"

namespace seaway {
namespace {

struct EnvFactory {
  std::string name;
  std::function<std::unique_ptr<Env>()> make;
};

// Owns the Env and, for PosixEnv, a temporary directory that is removed afterwards.
class EnvContractTest : public ::testing::TestWithParam<EnvFactory> {
 protected:
  void SetUp() override {
    env_ = GetParam().make();
    if (GetParam().name == "posix") {
      char tmpl[] = "/tmp/seaway_env_test_XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      root_ = tmpl;
    } else {
      root_ = "/root";
      ASSERT_TRUE(env_->CreateDir(root_).ok());
    }
  }
  void TearDown() override {
    if (GetParam().name == "posix") std::filesystem::remove_all(root_);
  }
  std::string Path(std::string_view name) { return JoinPath(root_, name); }

  Status Write(const std::string& path, std::string_view data) {
    SW_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(path));
    SW_RETURN_IF_ERROR(f->Append(data));
    SW_RETURN_IF_ERROR(f->Sync());
    return f->Close();
  }

  std::unique_ptr<Env> env_;
  std::string root_;
};

TEST_P(EnvContractTest, WriteThenReadSequentialAndRandom) {
  auto f = env_->NewWritableFile(Path("a"));
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append("hello ").ok());
  std::string big(200 * 1024, 'x');  // larger than any write buffer
  ASSERT_TRUE((*f)->Append(big).ok());
  ASSERT_TRUE((*f)->Append("end").ok());
  EXPECT_EQ((*f)->Size(), 6 + big.size() + 3);
  ASSERT_TRUE((*f)->Close().ok());

  auto content = ReadFileToString(env_.get(), Path("a"));
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "hello " + big + "end");

  auto r = env_->NewRandomAccessFile(Path("a"));
  ASSERT_TRUE(r.ok());
  std::byte buf[8];
  auto n = (*r)->ReadAt(3, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 8u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 8), "lo xxxxx");
  n = (*r)->ReadAt(6 + big.size() + 1, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);  // short read at the end
  n = (*r)->ReadAt(1 << 30, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(*(*r)->Size(), 6 + big.size() + 3);
  EXPECT_EQ(*env_->GetFileSize(Path("a")), 6 + big.size() + 3);

  std::string scratch;
  auto view = (*r)->View(3, 8, &scratch);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, "lo xxxxx");
  view = (*r)->View(6 + big.size() + 1, 100, &scratch);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(*view, "nd");  // short at the end
  view = (*r)->View(1 << 30, 4, &scratch);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->empty());
}

TEST_P(EnvContractTest, SequentialSkip) {
  ASSERT_TRUE(Write(Path("s"), "0123456789").ok());
  auto f = env_->NewSequentialFile(Path("s"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Skip(4).ok());
  std::byte buf[3];
  EXPECT_EQ(*(*f)->Read(buf), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "456");
}

TEST_P(EnvContractTest, NewWritableFileTruncates) {
  ASSERT_TRUE(Write(Path("t"), "long old content").ok());
  ASSERT_TRUE(Write(Path("t"), "new").ok());
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("t")), "new");
}

TEST_P(EnvContractTest, AppendableFileAppends) {
  ASSERT_TRUE(Write(Path("log"), "one,").ok());
  auto f = env_->NewAppendableFile(Path("log"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Size(), 4u);
  ASSERT_TRUE((*f)->Append("two").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("log")), "one,two");
  auto g = env_->NewAppendableFile(Path("fresh"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->Size(), 0u);
}

TEST_P(EnvContractTest, MissingFilesAreErrors) {
  EXPECT_FALSE(env_->NewSequentialFile(Path("nope")).ok());
  EXPECT_FALSE(env_->NewRandomAccessFile(Path("nope")).ok());
  EXPECT_FALSE(env_->GetFileSize(Path("nope")).ok());
  EXPECT_FALSE(env_->RemoveFile(Path("nope")).ok());
  EXPECT_FALSE(env_->FileExists(Path("nope")));
  EXPECT_FALSE(env_->NewWritableFile(Path("no-dir/file")).ok());
}

TEST_P(EnvContractTest, DirectoriesAndChildren) {
  ASSERT_TRUE(CreateDirs(env_.get(), Path("x/y/z")).ok());
  ASSERT_TRUE(env_->CreateDir(Path("x")).ok());  // exists: fine
  ASSERT_TRUE(Write(Path("x/b"), "1").ok());
  ASSERT_TRUE(Write(Path("x/a"), "2").ok());
  auto children = env_->GetChildren(Path("x"));
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, (std::vector<std::string>{"a", "b", "y"}));
  EXPECT_FALSE(env_->RemoveDir(Path("x/y")).ok());  // not empty
  ASSERT_TRUE(env_->RemoveDir(Path("x/y/z")).ok());
  ASSERT_TRUE(env_->RemoveDir(Path("x/y")).ok());
  EXPECT_FALSE(env_->FileExists(Path("x/y")));
  // A file where a directory is wanted is a clear error.
  Status s = env_->CreateDir(Path("x/a"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  ASSERT_TRUE(env_->SyncDir(Path("x")).ok());
}

TEST_P(EnvContractTest, RenameReplacesAtomically) {
  ASSERT_TRUE(Write(Path("from"), "new").ok());
  ASSERT_TRUE(Write(Path("to"), "old").ok());
  ASSERT_TRUE(env_->RenameFile(Path("from"), Path("to")).ok());
  EXPECT_FALSE(env_->FileExists(Path("from")));
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("to")), "new");
  EXPECT_FALSE(env_->RenameFile(Path("from"), Path("to")).ok());
}

TEST_P(EnvContractTest, TruncateAndRemove) {
  ASSERT_TRUE(Write(Path("f"), "0123456789").ok());
  ASSERT_TRUE(env_->TruncateFile(Path("f"), 4).ok());
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("f")), "0123");
  ASSERT_TRUE(env_->RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_->FileExists(Path("f")));
}

TEST_P(EnvContractTest, WriteFileAtomically) {
  ASSERT_TRUE(WriteFileAtomically(env_.get(), Path("secret"), "s", FileAccess::kOwnerOnly).ok());
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("secret")), "s");
  ASSERT_TRUE(WriteFileAtomically(env_.get(), Path("meta"), "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(env_.get(), Path("meta"), "v2").ok());
  EXPECT_EQ(*ReadFileToString(env_.get(), Path("meta")), "v2");
  EXPECT_FALSE(env_->FileExists(Path("meta.tmp")));
}

TEST_P(EnvContractTest, LockIsExclusiveUntilReleased) {
  auto first = env_->LockFile(Path("LOCK"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = env_->LockFile(Path("LOCK"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(env_->LockFile(Path("LOCK")).ok());
}

TEST_P(EnvContractTest, ConcurrentRandomReads) {
  std::string data(1 << 16, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(Write(Path("r"), data).ok());
  auto file = env_->NewRandomAccessFile(Path("r"));
  ASSERT_TRUE(file.ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::byte buf[64];
      for (size_t off = t; off + 64 < data.size(); off += 997) {
        auto n = (*file)->ReadAt(off, buf);
        if (!n.ok() || *n != 64 || std::memcmp(buf, data.data() + off, 64) != 0) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(PathTest, DirAndBaseNames) {
  EXPECT_EQ(DirName("/a/b/c"), "/a/b");
  EXPECT_EQ(DirName("/a/b/"), "/a");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(BaseName("/a/b/c"), "c");
  EXPECT_EQ(BaseName("c"), "c");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

// A FaultInjectionEnv with no faults must be transparent; it keeps the MemoryEnv it wraps alive.
class TransparentFaultEnv final : public Env {
 public:
  TransparentFaultEnv() : fault_(&mem_) {}
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& p) override {
    return fault_.NewSequentialFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return fault_.NewRandomAccessFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return fault_.NewWritableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return fault_.NewAppendableFile(p);
  }
  bool FileExists(const std::string& p) override { return fault_.FileExists(p); }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return fault_.GetChildren(d);
  }
  Result<uint64_t> GetFileSize(const std::string& p) override { return fault_.GetFileSize(p); }
  Status RemoveFile(const std::string& p) override { return fault_.RemoveFile(p); }
  Status CreateDir(const std::string& p) override { return fault_.CreateDir(p); }
  Status RemoveDir(const std::string& p) override { return fault_.RemoveDir(p); }
  Status RenameFile(const std::string& a, const std::string& b) override {
    return fault_.RenameFile(a, b);
  }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return fault_.TruncateFile(p, n);
  }
  Status SyncDir(const std::string& d) override { return fault_.SyncDir(d); }
  Status RestrictToOwner(const std::string& p) override { return fault_.RestrictToOwner(p); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return fault_.LockFile(p);
  }

 private:
  MemoryEnv mem_;
  FaultInjectionEnv fault_;
};

INSTANTIATE_TEST_SUITE_P(
    AllEnvs, EnvContractTest,
    ::testing::Values(EnvFactory{"posix", [] { return NewPosixEnv(); }},
                      EnvFactory{"memory", [] { return std::make_unique<MemoryEnv>(); }},
                      EnvFactory{"fault", [] { return std::make_unique<TransparentFaultEnv>(); }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace seaway
