// Tests for Result<T> (src/common/result.h).
#include "common/result.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace seaway {
namespace {

Result<int> Parse(std::string_view s) {
  if (s.empty()) return InvalidArgument("empty");
  return static_cast<int>(s.size());
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = Parse("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsError) {
  Result<int> r = Parse("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r = Status::OK();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

Result<int> Twice(std::string_view s) {
  SW_ASSIGN_OR_RETURN(int n, Parse(s));
  return n * 2;
}

Result<std::string> Describe(std::string_view s) {
  SW_ASSIGN_OR_RETURN(auto n, Twice(s));
  SW_ASSIGN_OR_RETURN(auto m, Twice(s));
  return std::to_string(n + m);
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Twice("ab"), 4);
  EXPECT_EQ(Twice("").status().message(), "empty");
  EXPECT_EQ(*Describe("a"), "4");
  EXPECT_EQ(Describe("").status().code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, ArrowAccessesMembers) {
  Result<std::string> r = std::string("hello");
  EXPECT_EQ(r->size(), 5u);
}

}  // namespace
}  // namespace seaway
