// Tests for ProcessStats (src/common/process_stats.h).
#include "common/process_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(ProcessStatsTest, ReadsPlausibleFigures) {
  ProcessStats s = ReadProcessStats();
  EXPECT_GT(s.resident_bytes, 1u << 20);
  EXPECT_GE(s.virtual_bytes, s.resident_bytes);
  EXPECT_GE(s.threads, 1u);
  EXPECT_GE(s.open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_GT(s.resident_anon_bytes, 0u);
  EXPECT_GT(s.resident_file_bytes, 0u);  // the executable's own pages
  EXPECT_LE(s.resident_anon_bytes + s.resident_file_bytes, s.resident_bytes + (1u << 20));
}

TEST(ProcessStatsTest, CountsNewFileDescriptors) {
  uint64_t before = ReadProcessStats().open_fds;
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(open("/dev/null", O_RDONLY));
  EXPECT_EQ(ReadProcessStats().open_fds, before + 5);
  for (int fd : fds) close(fd);
}

TEST(ProcessStatsTest, ResidentMemoryGrowsWhenTouched) {
  uint64_t before = ReadProcessStats().resident_bytes;
  std::vector<char> block(64 << 20, 1);
  uint64_t after = ReadProcessStats().resident_bytes;
  EXPECT_GT(after, before + (32u << 20));
  EXPECT_EQ(block[12345], 1);
}

}  // namespace
}  // namespace seaway
