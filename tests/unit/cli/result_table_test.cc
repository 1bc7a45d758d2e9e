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

TEST(ResultTableTest, EscapesControlCharactersFromTheData) {
  // What a device could write to a string field to take over an operator's terminal: clear the
  // screen, colour, set the window title (OSC ... BEL), DEL, an 8-bit CSI.
  nlohmann::json doc = {
      {"columns", {{{"name", "s"}, {"type", "TEXT"}}}},
      {"rows", {{"\x1b[2J\x1b[31mRED\x1b[0m \x1b]0;pwned\x07 del\x7f"}, {"c1 \u009b2J"}}}};
  auto table = ResultTable::FromJson(doc);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " s\n"
            "----------------------------------------------------\n"
            " \\x1B[2J\\x1B[31mRED\\x1B[0m \\x1B]0;pwned\\x07 del\\x7F\n"
            " c1 \\u009B2J\n");
}

TEST(ResultTableTest, EscapesColumnNames) {
  auto table = ResultTable::FromJson(nlohmann::json::parse(
      R"({"columns":[{"name":"multi\nline","type":"TEXT"},{"name":"t\u001b[0m","type":"BIGINT"}],
          "rows":[["x",1]]})"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " multi\\nline | t\\x1B[0m\n"
            "-------------+----------\n"
            " x           |        1\n");
}

TEST(ResultTableTest, AlignsWideCharactersByDisplayWidth) {
  auto table = ResultTable::FromJson(nlohmann::json::parse(
      R"({"columns":[{"name":"a","type":"TEXT"},{"name":"b","type":"BIGINT"}],
          "rows":[["日本語テキスト",1],["abcdefghijklmn",2],["🙂 ok",3],["e\u0301",4]]})"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " a              | b\n"
            "----------------+---\n"
            " 日本語テキスト | 1\n"
            " abcdefghijklmn | 2\n"
            " 🙂 ok          | 3\n"
            " e\u0301              | 4\n");
}

TEST(ResultTableTest, InvalidUtf8IsEscapedAndAligned) {
  // The server's JSON never carries invalid UTF-8, but the table does not rely on it.
  nlohmann::json doc = {{"columns", {{{"name", "s"}, {"type", "TEXT"}}}},
                        {"rows", {{"ab"}, {std::string("\xff\xe6\x97")}}}};
  auto table = ResultTable::FromJson(doc);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " s\n"
            "--------------\n"
            " ab\n"
            " \\xFF\\xE6\\x97\n");
}

TEST(ResultTableTest, NullAndTheTextNullLookDifferent) {
  auto table = ResultTable::FromJson(nlohmann::json::parse(
      R"({"columns":[{"name":"a","type":"TEXT"},{"name":"b","type":"TEXT"}],
          "rows":[["NULL",null],["null","'NULL'"],["it's","NULLS"]]})"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Render(),
            " a      | b\n"
            "--------+------------\n"
            " 'NULL' | NULL\n"
            " 'null' | '''NULL'''\n"
            " it's   | NULLS\n");
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
