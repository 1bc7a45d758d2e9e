// Tests for Status (src/common/status.h).
#include "common/status.h"

#include <cerrno>
#include <set>

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, FactoriesFormatTheMessage) {
  Status s = InvalidArgument("line {}: field '{}' is not a number", 7, "temp");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "line 7: field 'temp' is not a number");
  EXPECT_EQ(s.ToString(), "InvalidArgument: line 7: field 'temp' is not a number");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    names.insert(StatusCodeName(static_cast<StatusCode>(c)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(StatusCode::kInternal) + 1);
  EXPECT_EQ(names.count("Unknown"), 0u);
}

TEST(StatusTest, CopyIsIndependent) {
  Status a = NotFound("table '{}'", "cpu");
  Status b = a;
  EXPECT_EQ(a, b);
  b = Status::OK();
  EXPECT_FALSE(a.ok());
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(a.message(), "table 'cpu'");
}

TEST(StatusTest, WithContextPrefixesAndKeepsCode) {
  Status s = IOError("disk").WithContext("flush shard 3");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(s.message(), "flush shard 3: disk");
  EXPECT_TRUE(Status::OK().WithContext("anything").ok());
}

TEST(StatusTest, ErrnoErrorNamesPathAndReason) {
  Status s = ErrnoError("open", "/x/y", ENOENT);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(s.message(), "open '/x/y': No such file or directory");
  EXPECT_EQ(ErrnoError("write", "/f", ENOSPC).code(), StatusCode::kResourceExhausted);
}

Status FailsWhenNegative(int x) {
  if (x < 0) return InvalidArgument("negative: {}", x);
  return Status::OK();
}

Status Chain(int x, bool* reached_end) {
  SW_RETURN_IF_ERROR(FailsWhenNegative(x));
  *reached_end = true;
  return Status::OK();
}

TEST(StatusTest, ReturnIfErrorReturnsEarly) {
  bool reached = false;
  EXPECT_EQ(Chain(-1, &reached).message(), "negative: -1");
  EXPECT_FALSE(reached);
  EXPECT_TRUE(Chain(1, &reached).ok());
  EXPECT_TRUE(reached);
}

TEST(StatusTest, FormatsWithFmt) {
  EXPECT_EQ(fmt::format("{}", Unavailable("busy")), "Unavailable: busy");
}

}  // namespace
}  // namespace seaway
