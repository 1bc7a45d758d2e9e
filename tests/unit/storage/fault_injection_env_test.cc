// Tests for FaultInjectionEnv (src/storage/fault_injection_env.h).
#include "storage/fault_injection_env.h"

#include <gtest/gtest.h>

#include "storage/memory_env.h"

namespace seaway {
namespace {

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  FaultInjectionEnvTest() : env_(&mem_) {}
  MemoryEnv mem_;
  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionEnvTest, FailedSyncIsStickyAndCounted) {
  auto f = env_.NewWritableFile("wal");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("a").ok());
  env_.SetFaults({.fail_sync = true});
  Status s = (*f)->Sync();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("fsync 'wal'"), std::string_view::npos) << s;
  env_.ClearFaults();
  // The file's durable state is unknown after a failed fsync: it never reports success again.
  EXPECT_EQ((*f)->Sync().code(), StatusCode::kIOError);
  EXPECT_EQ((*f)->Append("b").code(), StatusCode::kIOError);
  EXPECT_EQ(env_.injected_failures(), 1u);
  // A new file works.
  auto g = env_.NewWritableFile("wal2");
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE((*g)->Sync().ok());
}

TEST_F(FaultInjectionEnvTest, SyncsBeforeFailure) {
  auto f = env_.NewWritableFile("wal");
  ASSERT_TRUE(f.ok());
  env_.SetFaults({.syncs_before_failure = 2});
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_FALSE((*f)->Sync().ok());
  EXPECT_EQ(env_.sync_count(), 3u);
}

TEST_F(FaultInjectionEnvTest, PathPrefixLimitsFaults) {
  ASSERT_TRUE(env_.CreateDir("wal").ok());
  ASSERT_TRUE(env_.CreateDir("seg").ok());
  env_.SetFaults({.fail_sync = true, .path_prefix = "wal/"});
  auto w = env_.NewWritableFile("wal/1");
  auto s = env_.NewWritableFile("seg/1");
  ASSERT_TRUE(w.ok() && s.ok());
  EXPECT_FALSE((*w)->Sync().ok());
  EXPECT_TRUE((*s)->Sync().ok());
}

TEST_F(FaultInjectionEnvTest, DiskFullRefusesThenRecovers) {
  env_.SetFaults({.disk_capacity_bytes = 10});
  auto f = env_.NewWritableFile("data");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("12345678").ok());
  Status full = (*f)->Append("abc");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("No space left on device"), std::string_view::npos);
  EXPECT_EQ(env_.bytes_used(), 8u);
  // Space returns when a file is removed; the same handle writes again (no restart).
  auto other = env_.NewWritableFile("other");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(env_.TruncateFile("data", 2).ok());
  EXPECT_EQ(env_.bytes_used(), 2u);
  EXPECT_TRUE((*f)->Append("abc").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  // MemoryEnv truncation came first, so the file holds "12" + "abc".
  EXPECT_EQ(*ReadFileToString(&env_, "data"), "12abc");
}

TEST_F(FaultInjectionEnvTest, UsageFollowsRemoveRenameAndTruncate) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "a", "12345").ok());
  EXPECT_EQ(env_.bytes_used(), 5u);
  ASSERT_TRUE(WriteFileAtomically(&env_, "a", "12").ok());  // rename over the old file
  EXPECT_EQ(env_.bytes_used(), 2u);
  ASSERT_TRUE(env_.RemoveFile("a").ok());
  EXPECT_EQ(env_.bytes_used(), 0u);
}

TEST_F(FaultInjectionEnvTest, ReadAndOpenFaults) {
  ASSERT_TRUE(WriteFileAtomically(&env_, "f", "x").ok());
  env_.SetFaults({.fail_read = true});
  EXPECT_EQ(ReadFileToString(&env_, "f").status().code(), StatusCode::kIOError);
  env_.SetFaults({.fail_open = true});
  EXPECT_EQ(env_.NewWritableFile("g").status().code(), StatusCode::kIOError);
  env_.ClearFaults();
  EXPECT_EQ(*ReadFileToString(&env_, "f"), "x");
}

TEST_F(FaultInjectionEnvTest, AppendFailure) {
  auto f = env_.NewWritableFile("f");
  ASSERT_TRUE(f.ok());
  env_.SetFaults({.fail_append = true});
  EXPECT_EQ((*f)->Append("x").code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace seaway
