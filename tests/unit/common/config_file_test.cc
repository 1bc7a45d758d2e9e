// Tests for the config-file parser (src/common/config_file.h).
#include "common/config_file.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(ConfigFileTest, ParsesKeysValuesAndComments) {
  auto r = ParseConfigText(
      "# Seaway\n"
      "\n"
      "data-dir = \"/var/lib/seaway data\"  # quoted\n"
      "  http=127.0.0.1:9000\r\n"
      "log_level = debug # trailing comment\n"
      "empty = \"\"\n",
      "test.conf");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].key, "data-dir");
  EXPECT_EQ((*r)[0].value, "/var/lib/seaway data");
  EXPECT_EQ((*r)[0].line, 3);
  EXPECT_EQ((*r)[1].key, "http");
  EXPECT_EQ((*r)[1].value, "127.0.0.1:9000");
  EXPECT_EQ((*r)[2].value, "debug");
  EXPECT_EQ((*r)[3].value, "");
}

TEST(ConfigFileTest, Escapes) {
  auto r = ParseConfigText(R"(k = "a\"b\\c\td\ne")", "t");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].value, "a\"b\\c\td\ne");
}

struct BadCase {
  const char* text;
  const char* expected_message;
};

class ConfigFileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigFileErrorTest, NamesTheLineAndProblem) {
  auto r = ParseConfigText(GetParam().text, "my.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), GetParam().expected_message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigFileErrorTest,
    ::testing::Values(
        BadCase{"a = 1\nnovalue\n", "config 'my.conf' line 2: expected '=' after key 'novalue'"},
        BadCase{"= 1", "config 'my.conf' line 1: expected a key, found '='"},
        BadCase{"a = \"open", "config 'my.conf' line 1: unterminated quoted value for 'a'"},
        BadCase{"a = \"x\" y", "config 'my.conf' line 1: unexpected text after the value of 'a'"},
        BadCase{"a = two words",
                "config 'my.conf' line 1: value of 'a' has spaces; quote it (\"...\")"},
        BadCase{"a = 1\n# c\na = 2", "config 'my.conf' line 3: key 'a' is set twice"},
        BadCase{"a = \"\\q\"", "config 'my.conf' line 1: unknown escape '\\q' in value of 'a'"},
        BadCase{"a = \"ends with backslash\\",
                "config 'my.conf' line 1: unterminated quoted value for 'a'"}));

TEST(ConfigFileTest, RejectsHugeInput) {
  std::string big(2 << 20, '#');
  auto r = ParseConfigText(big, "big.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string_view::npos);
}

}  // namespace
}  // namespace seaway
