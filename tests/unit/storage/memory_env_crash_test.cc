// Crash simulation of MemoryEnv (src/storage/memory_env.h): only what the durability contract
// promises survives SimulateCrash.
#include <gtest/gtest.h>

#include "storage/memory_env.h"

namespace seaway {
namespace {

class MemoryEnvCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/db").ok());
    ASSERT_TRUE(env_.SyncDir("/").ok());
  }
  std::string Read(const std::string& path) {
    auto r = ReadFileToString(&env_, path);
    return r.ok() ? *r : "<" + std::string(StatusCodeName(r.status().code())) + ">";
  }
  MemoryEnv env_;
};

TEST_F(MemoryEnvCrashTest, UnsyncedBytesAreDropped) {
  auto f = env_.NewWritableFile("/db/wal");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE((*f)->Append("durable|").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("lost").ok());
  env_.SimulateCrash();
  EXPECT_EQ(Read("/db/wal"), "durable|");
}

TEST_F(MemoryEnvCrashTest, FileWithoutDirSyncDisappears) {
  auto f = env_.NewWritableFile("/db/new");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("data").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists("/db/new"));
}

TEST_F(MemoryEnvCrashTest, RenameWithoutDirSyncIsUndone) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/CURRENT", "v1").ok());
  // Same steps as WriteFileAtomically, minus the final SyncDir.
  auto f = env_.NewWritableFile("/db/CURRENT.tmp");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("v2").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env_.RenameFile("/db/CURRENT.tmp", "/db/CURRENT").ok());
  EXPECT_EQ(Read("/db/CURRENT"), "v2");
  env_.SimulateCrash();
  EXPECT_EQ(Read("/db/CURRENT"), "v1");
}

TEST_F(MemoryEnvCrashTest, AtomicWriteSurvives) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/CURRENT", "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/CURRENT", "v2").ok());
  env_.SimulateCrash();
  EXPECT_EQ(Read("/db/CURRENT"), "v2");
}

TEST_F(MemoryEnvCrashTest, RemoveWithoutDirSyncIsUndone) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/seg", "segment").ok());
  ASSERT_TRUE(env_.RemoveFile("/db/seg").ok());
  env_.SimulateCrash();
  EXPECT_EQ(Read("/db/seg"), "segment");
  ASSERT_TRUE(env_.RemoveFile("/db/seg").ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists("/db/seg"));
}

TEST_F(MemoryEnvCrashTest, DirectoryWithoutParentSyncTakesItsFilesAlong) {
  ASSERT_TRUE(env_.CreateDir("/db/part").ok());
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/part/seg", "x").ok());  // syncs /db/part only
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists("/db/part"));
  EXPECT_FALSE(env_.FileExists("/db/part/seg"));
}

TEST_F(MemoryEnvCrashTest, HandlesFromBeforeTheCrashFail) {
  auto f = env_.NewWritableFile("/db/wal");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  auto r = env_.NewRandomAccessFile("/db/wal");
  ASSERT_TRUE(r.ok());
  env_.SimulateCrash();
  EXPECT_EQ((*f)->Append("late").code(), StatusCode::kIOError);
  EXPECT_EQ((*f)->Sync().code(), StatusCode::kIOError);
  std::byte b[1];
  EXPECT_FALSE((*r)->ReadAt(0, b).ok());
}

TEST_F(MemoryEnvCrashTest, CrashReleasesLocks) {
  auto lock = env_.LockFile("/db/LOCK");
  ASSERT_TRUE(lock.ok());
  env_.SimulateCrash();
  EXPECT_TRUE(env_.LockFile("/db/LOCK").ok());
}

TEST_F(MemoryEnvCrashTest, TornTailKeepsSyncedPrefixIntact) {
  const std::string synced(3000, 'S');
  const std::string unsynced(5000, 'U');
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemoryEnv env;
    auto f = env.NewWritableFile("wal");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(env.SyncDir(".").ok());
    ASSERT_TRUE((*f)->Append(synced).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append(unsynced).ok());
    env.SimulateCrash({CrashOptions::Mode::kTearUnsynced, seed});
    std::string after = *ReadFileToString(&env, "wal");
    ASSERT_GE(after.size(), synced.size());
    ASSERT_LE(after.size(), synced.size() + unsynced.size());
    EXPECT_EQ(after.substr(0, synced.size()), synced) << "seed " << seed;
  }
}

TEST_F(MemoryEnvCrashTest, TornTailSometimesGarblesBytes) {
  int garbled = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemoryEnv env;
    auto f = env.NewWritableFile("wal");
    ASSERT_TRUE(env.SyncDir(".").ok());
    ASSERT_TRUE((*f)->Append(std::string(8192, 'U')).ok());
    env.SimulateCrash({CrashOptions::Mode::kTearUnsynced, seed});
    std::string after = *ReadFileToString(&env, "wal");
    if (after.find_first_not_of('U') != std::string::npos) ++garbled;
  }
  EXPECT_GT(garbled, 10);  // the recovery code must meet garbage, not only clean cuts
}

TEST_F(MemoryEnvCrashTest, TotalFileBytes) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/a", "12345").ok());
  ASSERT_TRUE(WriteFileAtomically(&env_, "/db/b", "123").ok());
  EXPECT_EQ(env_.TotalFileBytes(), 8u);
}

}  // namespace
}  // namespace seaway
