// JSON string escaping (src/common/json_text.h): every byte against the rule, one at a time and
// inside runs of plain text.
#include "common/json_text.h"

#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace seaway {
namespace {

// The rule, one byte at a time.
std::string Escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

TEST(JsonTextTest, EscapesExactlyQuotesBackslashesAndControlCharacters) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\re\tf\x01g\x7fh\xc3\xa9", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\xc3\xa9\"");
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    std::string got = "x";  // appends after what is there
    AppendJsonEscaped(one, &got);
    EXPECT_EQ(got, "x" + Escaped(one)) << "byte " << b;
  }
  std::mt19937_64 rng(29);
  for (int trial = 0; trial < 500; ++trial) {
    std::string text(rng() % 64, ' ');
    for (char& c : text) c = static_cast<char>(rng() % 5 == 0 ? rng() % 256 : 'a' + rng() % 26);
    std::string got;
    AppendJsonEscaped(text, &got);
    EXPECT_EQ(got, Escaped(text));
  }
}

}  // namespace
}  // namespace seaway
