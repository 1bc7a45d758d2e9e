// Tests for `seaway sql`'s table rendering and URL parsing (src/cli).
#include "cli/result_table.h"

#include <gtest/gtest.h>

#include "cli/sql_client.h"

namespace seaway::cli {
namespace {

TEST(ResultTableTest, AlignsNumbersRightAndShowsNull) {
  auto doc = nlohmann::json::parse(R"({"columns":[{"name":"host","type":"TEXT"},
      {"name":"count","type":"BIGINT"},{"name":"v","type":"DOUBLE"}],
      "rows":[["a",3,1.5],["long-host",null,-20.25],["é\n",12345,null]]})");
  auto table = ResultTable::FromJson(doc);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " host      | count |      v\n"
            "-----------+-------+--------\n"
            " a         |     3 |    1.5\n"
            " long-host |  NULL | -20.25\n"
            " é\\n       | 12345 |   NULL\n");
}

TEST(ResultTableTest, EmptyResultHasHeaderOnly) {
  auto table = ResultTable::FromJson(
      nlohmann::json::parse(R"({"columns":[{"name":"x","type":"UBIGINT"}],"rows":[]})"));
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Render(), " x\n---\n");
}

TEST(ResultTableTest, RejectsOtherDocuments) {
  EXPECT_FALSE(ResultTable::FromJson(nlohmann::json::parse(R"({"error":"x"})")).ok());
  EXPECT_FALSE(
      ResultTable::FromJson(nlohmann::json::parse(R"({"columns":[{"name":"x"}],"rows":[[1,2]]})"))
          .ok());
}

TEST(ServerUrlTest, ParsesHostPortAndPrefix) {
  auto url = ParseServerUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->prefix, "");
  url = ParseServerUrl("http://db.example/seaway/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "db.example");
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->prefix, "/seaway");
  url = ParseServerUrl("http://[::1]:9000");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9000");
  EXPECT_FALSE(ParseServerUrl("https://x:1").ok());
  EXPECT_FALSE(ParseServerUrl("127.0.0.1:8080").ok());
  EXPECT_FALSE(ParseServerUrl("http://host:port").ok());
}

}  // namespace
}  // namespace seaway::cli
