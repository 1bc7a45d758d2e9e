// Tests of WriteBatch::Append (src/storage/write_batch.h): merging the batches of many messages.
#include "storage/write_batch.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

WriteBatch Batch() { return WriteBatch(TenantId(1), "main", "telemetry"); }

TEST(WriteBatchAppendTest, MapsColumnsByNameAndKeepsAbsences) {
  WriteBatch a = Batch();
  a.AddRow(10);
  ASSERT_TRUE(a.SetTag("device", "d1").ok());
  ASSERT_TRUE(a.SetDouble("temp", 21.5).ok());

  WriteBatch b = Batch();
  b.AddRow(20);
  ASSERT_TRUE(b.SetTag("site", "north").ok());  // a tag new to `a`
  ASSERT_TRUE(b.SetTag("device", "d2").ok());
  ASSERT_TRUE(b.SetString("state", "run").ok());  // a field new to `a`
  b.AddRow(30);
  ASSERT_TRUE(b.SetTag("device", "d3").ok());
  ASSERT_TRUE(b.SetDouble("temp", 22.0).ok());

  ASSERT_TRUE(a.Append(b).ok());
  ASSERT_TRUE(a.Validate().ok());

  // The same rows written one by one into one batch.
  WriteBatch want = Batch();
  want.AddRow(10);
  ASSERT_TRUE(want.SetTag("device", "d1").ok());
  ASSERT_TRUE(want.SetDouble("temp", 21.5).ok());
  want.AddRow(20);
  ASSERT_TRUE(want.SetTag("site", "north").ok());
  ASSERT_TRUE(want.SetTag("device", "d2").ok());
  ASSERT_TRUE(want.SetString("state", "run").ok());
  want.AddRow(30);
  ASSERT_TRUE(want.SetTag("device", "d3").ok());
  ASSERT_TRUE(want.SetDouble("temp", 22.0).ok());
  EXPECT_EQ(a, want);
}

TEST(WriteBatchAppendTest, TypeConflictChangesNothing) {
  WriteBatch a = Batch();
  a.AddRow(10);
  ASSERT_TRUE(a.SetDouble("temp", 21.5).ok());
  const WriteBatch before = a;

  WriteBatch b = Batch();
  b.AddRow(20);
  ASSERT_TRUE(b.SetDouble("other", 1).ok());
  ASSERT_TRUE(b.SetString("temp", "hot").ok());
  Status s = a.Append(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'temp'"), std::string_view::npos) << s.message();
  EXPECT_EQ(a, before);
}

TEST(WriteBatchAppendTest, EmptyOtherIsANoOp) {
  WriteBatch a = Batch();
  a.AddRow(10);
  ASSERT_TRUE(a.SetDouble("temp", 21.5).ok());
  const WriteBatch before = a;
  ASSERT_TRUE(a.Append(Batch()).ok());
  EXPECT_EQ(a, before);
}

}  // namespace
}  // namespace seaway
