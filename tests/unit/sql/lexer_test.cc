// Tests for the SQL lexer (src/sql/lexer.h) and error positions (src/sql/source_excerpt.h).
#include "sql/lexer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sql/source_excerpt.h"

namespace seaway::sql {
namespace {

std::vector<Token> Lex(std::string_view text) {
  auto tokens = Tokenize(text);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return tokens.ok() ? std::move(*tokens) : std::vector<Token>{};
}

std::vector<TokenKind> Kinds(std::string_view text) {
  std::vector<TokenKind> kinds;
  for (const Token& token : Lex(text)) kinds.push_back(token.kind);
  return kinds;
}

std::string LexError(std::string_view text) {
  auto tokens = Tokenize(text);
  EXPECT_FALSE(tokens.ok()) << text;
  if (tokens.ok()) return "";
  EXPECT_EQ(tokens.status().code(), StatusCode::kInvalidArgument);
  return std::string(tokens.status().message());
}

TEST(LexerTest, IdentifiersFoldUnquotedAndKeepQuoted) {
  auto tokens = Lex(R"(SeLeCt Machine_ID "Machine ""A""" zürich t$1)");
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kIdentifier);
  EXPECT_EQ(tokens[0].value, "select");
  EXPECT_TRUE(tokens[0].IsKeyword("SELECT"));
  EXPECT_EQ(tokens[1].value, "machine_id");
  EXPECT_FALSE(tokens[1].IsKeyword("SELECT"));
  EXPECT_EQ(tokens[2].kind, TokenKind::kQuotedIdentifier);
  EXPECT_EQ(tokens[2].value, "Machine \"A\"");
  EXPECT_EQ(tokens[2].text, R"("Machine ""A""")");
  EXPECT_FALSE(tokens[2].IsKeyword("MACHINE \"A\""));
  EXPECT_EQ(tokens[3].value, "zürich");
  EXPECT_EQ(tokens[4].value, "t$1");
  EXPECT_EQ(tokens[5].kind, TokenKind::kEnd);
}

TEST(LexerTest, QuotedKeywordIsNotAKeyword) {
  auto tokens = Lex(R"("select" select)");
  EXPECT_FALSE(tokens[0].IsKeyword("SELECT"));
  EXPECT_TRUE(tokens[1].IsKeyword("SELECT"));
}

TEST(LexerTest, StringsWithDoubledQuotes) {
  auto tokens = Lex("'it''s' '' 'multi\nline'");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[0].kind, TokenKind::kString);
  EXPECT_EQ(tokens[0].value, "it's");
  EXPECT_EQ(tokens[0].text, "'it''s'");
  EXPECT_EQ(tokens[1].value, "");
  EXPECT_EQ(tokens[2].value, "multi\nline");
}

TEST(LexerTest, Numbers) {
  auto tokens = Lex("42 3.14 .5 5. 1e9 2.5E-3 7e+2 0");
  std::vector<std::pair<TokenKind, std::string_view>> expected = {
      {TokenKind::kInteger, "42"}, {TokenKind::kFloat, "3.14"}, {TokenKind::kFloat, ".5"},
      {TokenKind::kFloat, "5."},   {TokenKind::kFloat, "1e9"},  {TokenKind::kFloat, "2.5E-3"},
      {TokenKind::kFloat, "7e+2"}, {TokenKind::kInteger, "0"},
  };
  ASSERT_EQ(tokens.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(tokens[i].kind, expected[i].first) << i;
    EXPECT_EQ(tokens[i].text, expected[i].second) << i;
  }
}

TEST(LexerTest, EveryOperator) {
  EXPECT_EQ(Kinds("= <> != < <= > >= + - * / % ^ || ~ ~* !~ !~* :: , . ( ) ;"),
            (std::vector<TokenKind>{
                TokenKind::kEqual,        TokenKind::kNotEqual,      TokenKind::kNotEqual,
                TokenKind::kLess,         TokenKind::kLessEqual,     TokenKind::kGreater,
                TokenKind::kGreaterEqual, TokenKind::kPlus,          TokenKind::kMinus,
                TokenKind::kStar,         TokenKind::kSlash,         TokenKind::kPercent,
                TokenKind::kCaret,        TokenKind::kConcat,        TokenKind::kRegexMatch,
                TokenKind::kRegexIMatch,  TokenKind::kRegexNotMatch, TokenKind::kRegexNotIMatch,
                TokenKind::kDoubleColon,  TokenKind::kComma,         TokenKind::kDot,
                TokenKind::kLeftParen,    TokenKind::kRightParen,    TokenKind::kSemicolon,
                TokenKind::kEnd,
            }));
  // Longest match without spaces.
  EXPECT_EQ(
      Kinds("a<=b<>c!~*d::e"),
      (std::vector<TokenKind>{TokenKind::kIdentifier, TokenKind::kLessEqual, TokenKind::kIdentifier,
                              TokenKind::kNotEqual, TokenKind::kIdentifier,
                              TokenKind::kRegexNotIMatch, TokenKind::kIdentifier,
                              TokenKind::kDoubleColon, TokenKind::kIdentifier, TokenKind::kEnd}));
}

TEST(LexerTest, CommentsAreDropped) {
  auto tokens = Lex("a -- line comment\n/* block /* nested */ still comment */ b--end");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].value, "a");
  EXPECT_EQ(tokens[1].value, "b");
  EXPECT_EQ(tokens[2].kind, TokenKind::kEnd);
  // A minus followed by a comment, and a slash that does not open one.
  EXPECT_EQ(Kinds("1 - -- c\n2 / 3"),
            (std::vector<TokenKind>{TokenKind::kInteger, TokenKind::kMinus, TokenKind::kInteger,
                                    TokenKind::kSlash, TokenKind::kInteger, TokenKind::kEnd}));
}

TEST(LexerTest, OffsetsLinesAndColumns) {
  auto tokens = Lex("SELECT a,\n\tb  -- x\n  FROM \"ü\" ü;");
  struct Expected {
    std::string_view text;
    size_t offset;
    uint32_t line;
    uint32_t column;
  };
  std::vector<Expected> expected = {
      {"SELECT", 0, 1, 1}, {"a", 7, 1, 8},      {",", 8, 1, 9},   {"b", 11, 2, 2},
      {"FROM", 21, 3, 3},  {"\"ü\"", 26, 3, 8}, {"ü", 31, 3, 12}, {";", 33, 3, 13},
  };
  ASSERT_EQ(tokens.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(tokens[i].text, expected[i].text) << i;
    EXPECT_EQ(tokens[i].offset, expected[i].offset) << i;
    EXPECT_EQ(tokens[i].line, expected[i].line) << i;
    EXPECT_EQ(tokens[i].column, expected[i].column) << i;
  }
  // The end token sits right after the last token, not after trailing blanks or comments.
  EXPECT_EQ(tokens.back().offset, 34u);
  EXPECT_EQ(tokens.back().column, 14u);
}

TEST(LexerTest, EmptyInputIsJustTheEnd) {
  EXPECT_EQ(Kinds(""), std::vector<TokenKind>{TokenKind::kEnd});
  EXPECT_EQ(Kinds("  -- only a comment\n /* and another */ "),
            std::vector<TokenKind>{TokenKind::kEnd});
}

TEST(LexerTest, ErrorsPointAtTheirStart) {
  EXPECT_EQ(LexError("SELECT 'abc"),
            "syntax error at line 1, column 8: unterminated string literal\n"
            "SELECT 'abc\n"
            "       ^");
  EXPECT_EQ(LexError("SELECT 'it''s"),
            "syntax error at line 1, column 8: unterminated string literal\n"
            "SELECT 'it''s\n"
            "       ^");
  EXPECT_EQ(LexError("SELECT a\nFROM \"My Table"),
            "syntax error at line 2, column 6: unterminated quoted identifier\n"
            "FROM \"My Table\n"
            "     ^");
  EXPECT_EQ(LexError("SELECT 1 /* a /* b */"),
            "syntax error at line 1, column 10: unterminated block comment\n"
            "SELECT 1 /* a /* b */\n"
            "         ^");
  EXPECT_EQ(LexError("SELECT \"\" FROM t"),
            "syntax error at line 1, column 8: zero-length quoted identifier\n"
            "SELECT \"\" FROM t\n"
            "       ^");
  EXPECT_EQ(LexError("SELECT 12abc"),
            "syntax error at line 1, column 8: invalid number '12abc'\n"
            "SELECT 12abc\n"
            "       ^");
  EXPECT_EQ(LexError("SELECT 1.2.3"),
            "syntax error at line 1, column 8: invalid number '1.2.3'\n"
            "SELECT 1.2.3\n"
            "       ^");
}

TEST(LexerTest, UnexpectedCharacters) {
  EXPECT_EQ(LexError("SELECT a\n  WHERE b # 1"),
            "syntax error at line 2, column 11: unexpected character '#'\n"
            "  WHERE b # 1\n"
            "          ^");
  EXPECT_EQ(LexError("SELECT `a`"),
            "syntax error at line 1, column 8: unexpected character '`' (quote identifiers with "
            "double quotes: \"name\")\n"
            "SELECT `a`\n"
            "       ^");
  EXPECT_EQ(LexError("SELECT a FROM t WHERE b > $1"),
            "syntax error at line 1, column 27: query parameters ($1) are not supported: write "
            "the values into the query\n"
            "SELECT a FROM t WHERE b > $1\n"
            "                          ^");
  for (std::string_view text : {"a ! b", "a | b", "a : b", "a ? b", "a [1]", "a @ b", "a $b"}) {
    std::string message = LexError(text);
    EXPECT_NE(message.find("line 1, column 3: unexpected character"), std::string::npos) << message;
  }
  EXPECT_EQ(LexError(std::string_view("a \x01 b", 5)),
            "syntax error at line 1, column 3: unexpected byte 0x01\n"
            "a ? b\n"
            "  ^");
}

TEST(SourceExcerptTest, PositionsCountCharactersNotBytes) {
  std::string_view text = "ab\nüé x\n";
  EXPECT_EQ(PositionOf(text, 0).line, 1u);
  EXPECT_EQ(PositionOf(text, 2).column, 3u);
  EXPECT_EQ(PositionOf(text, 3).line, 2u);
  EXPECT_EQ(PositionOf(text, 3).column, 1u);
  EXPECT_EQ(PositionOf(text, 8).column, 4u);  // 'x' after two 2-byte characters and a space
  EXPECT_EQ(PositionOf(text, 100).line, 3u);  // past the end: the end
}

TEST(SourceExcerptTest, TabsKeepTheCaretAligned) {
  EXPECT_EQ(SourceExcerpt("\tSELECT\tx", 8), "\tSELECT\tx\n\t      \t^");
}

TEST(SourceExcerptTest, CarriageReturnsAreNotShown) {
  EXPECT_EQ(SourceExcerpt("SELECT 1\r\nFROM x\r\n", 15), "FROM x\n     ^");
}

TEST(SourceExcerptTest, LongLinesShowAWindowAroundTheColumn) {
  std::string text = "SELECT " + std::string(300, 'a') + " FORM t";
  size_t offset = text.find("FORM");
  std::string excerpt = SourceExcerpt(text, offset);
  // 120 characters that end the line: 113 of the a's, then " FORM t"; the caret under FORM.
  std::string expected_line = "..." + std::string(113, 'a') + " FORM t";
  std::string expected_caret = std::string(3 + 114, ' ') + "^";
  EXPECT_EQ(excerpt, expected_line + "\n" + expected_caret);
  // At the start of a long line: cut on the right only.
  std::string start = SourceExcerpt(text, 0);
  EXPECT_EQ(start.substr(0, 10), "SELECT aaa");
  EXPECT_EQ(start.substr(start.find('\n') - 3), "...\n^");
}

TEST(SourceExcerptTest, SyntaxErrorFormat) {
  Status status = SyntaxError("SELECT a\nFORM t", 9, "expected FROM, found 'FORM'");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "syntax error at line 2, column 1: expected FROM, found 'FORM'\nFORM t\n^");
}

// Errors after parsing: the message first, then the same position and excerpt; the code kept.
TEST(SourceExcerptTest, LocatedErrorFormat) {
  Status status = LocateError(NotFound("table \"x\" does not exist"), "SELECT *\nFROM x", 14);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "table \"x\" does not exist at line 2, column 6\nFROM x\n     ^");
}

// The executor marks an error with its offset; the query engine, which has the text, locates
// it. The innermost mark wins; an unmarked status passes unchanged.
TEST(SourceExcerptTest, MarkedErrorsAreLocatedAtTheirMark) {
  const std::string_view text = "SELECT a + b::bigint FROM t";
  Status marked = MarkErrorOffset(InvalidArgument("cannot cast TEXT 'x' to BIGINT"), 11);
  EXPECT_EQ(MarkErrorOffset(marked, 7), marked);  // the enclosing a + ... keeps the cast's mark
  Status located = LocateMarkedError(marked, text);
  EXPECT_EQ(located.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(located.message(),
            "cannot cast TEXT 'x' to BIGINT at line 1, column 12\n"
            "SELECT a + b::bigint FROM t\n"
            "           ^");
  const Status plain = InvalidArgument("no mark");
  EXPECT_EQ(LocateMarkedError(plain, text), plain);
  EXPECT_TRUE(LocateMarkedError(Status::OK(), text).ok());
  EXPECT_TRUE(MarkErrorOffset(Status::OK(), 3).ok());
  // Values quoted in the message, whatever they hold, do not disturb the mark.
  Status odd = MarkErrorOffset(InvalidArgument("cannot cast TEXT 'a\nb\x1f@9' to BIGINT"), 7);
  EXPECT_EQ(LocateMarkedError(odd, text).message().substr(0, 55),
            "cannot cast TEXT 'a\nb\x1f@9' to BIGINT at line 1, column 8");
}

}  // namespace
}  // namespace seaway::sql
