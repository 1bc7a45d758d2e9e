// Tests for escaping result text for the terminal and measuring it in columns (src/cli).
#include "cli/terminal_text.h"

#include <gtest/gtest.h>

namespace seaway::cli {
namespace {

TEST(EscapeForTerminalTest, EscapesEveryControlCharacter) {
  EXPECT_EQ(EscapeForTerminal("\x1b[2J\x1b]0;title\x07 a\tb\r\nc\x7f"),
            "\\x1B[2J\\x1B]0;title\\x07 a\\tb\\r\\nc\\x7F");
  EXPECT_EQ(EscapeForTerminal(std::string("nul\0!", 5)), "nul\\x00!");
  EXPECT_EQ(EscapeForTerminal("\x01\x1f"), "\\x01\\x1F");
}

TEST(EscapeForTerminalTest, EscapesC1ControlsAndLayoutCharacters) {
  // U+009B is an 8-bit CSI; U+0085 a next-line; U+2028 a line separator; U+202E reverses text.
  EXPECT_EQ(EscapeForTerminal("a\u0085b\u009B2J"), "a\\u0085b\\u009B2J");
  EXPECT_EQ(EscapeForTerminal("x\u2028y\u202Ez\u2066w"), "x\\u2028y\\u202Ez\\u2066w");
  EXPECT_EQ(EscapeForTerminal("\u00A0é日本🙂"), "\u00A0é日本🙂");  // printable: unchanged
}

TEST(EscapeForTerminalTest, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(EscapeForTerminal("a\xff"
                              "b"),
            "a\\xFFb");
  EXPECT_EQ(EscapeForTerminal("\xe6\x97"), "\\xE6\\x97");           // truncated sequence
  EXPECT_EQ(EscapeForTerminal("\xc0\xaf"), "\\xC0\\xAF");           // overlong '/'
  EXPECT_EQ(EscapeForTerminal("\xed\xa0\x80"), "\\xED\\xA0\\x80");  // a surrogate
  EXPECT_EQ(EscapeForTerminal("\x9b"), "\\x9B");                    // a raw 8-bit CSI byte
}

TEST(EscapeForTerminalTest, KeepsLineLayoutOfMessages) {
  EXPECT_EQ(EscapeForTerminal("line 1\n\tSELECT '\x1b'\n\t       ^", LineLayout::kKeep),
            "line 1\n\tSELECT '\\x1B'\n\t       ^");
}

TEST(DisplayWidthTest, CountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("é"), 1u);
  EXPECT_EQ(DisplayWidth("e\u0301"), 1u);  // e and a combining acute accent
  EXPECT_EQ(DisplayWidth("日本語テキスト"), 14u);
  EXPECT_EQ(DisplayWidth("한국"), 4u);
  EXPECT_EQ(DisplayWidth("ＡＢ"), 4u);  // fullwidth forms
  EXPECT_EQ(DisplayWidth("🙂🚀"), 4u);
  EXPECT_EQ(DisplayWidth("a\u200Bb"), 2u);  // zero-width space
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u);  // invalid bytes: one column each
}

}  // namespace
}  // namespace seaway::cli
