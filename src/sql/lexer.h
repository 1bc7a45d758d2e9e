// SQL lexer (src/sql): text -> tokens, each with its byte offset, line and column.
//
// The first phase of the query path (lexer -> parser -> binder -> planner -> executor). Tokens:
//   identifiers      unquoted (ASCII letters, digits, '_', '$' and any byte >= 0x80; folded to
//                    lower case, so keywords and names are case-insensitive) or "double quoted"
//                    (case kept, "" is a literal quote);
//   string literals  'single quoted', '' is a literal quote;
//   numbers          123, 1.5, .5, 5., 1e9, 2.5E-3 (a letter right after a number is an error);
//   operators        = <> != < <= > >= + - * / % ^ || ~ ~* !~ !~* :: , . ( ) ;
// Whitespace, -- line comments and /* block comments */ (nested, as in PostgreSQL) separate
// tokens and are dropped.
//
// Errors are InvalidArgument in the format of SyntaxError() (source_excerpt.h): an unterminated
// string, quoted identifier or block comment (pointing at where it starts), an empty quoted
// identifier, junk after a number, an unexpected character.
//
// Thread-compatible; Tokenize is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace seaway::sql {

enum class TokenKind : uint8_t {
  kEnd,               // end of input; always the last token
  kIdentifier,        // unquoted: keywords too (the parser decides by context)
  kQuotedIdentifier,  // "Name"
  kString,            // 'text'
  kInteger,           // digits only
  kFloat,             // with a '.' or an exponent
  kComma,             // ,
  kDot,               // .
  kLeftParen,         // (
  kRightParen,        // )
  kSemicolon,         // ;
  kPlus,              // +
  kMinus,             // -
  kStar,              // *
  kSlash,             // /
  kPercent,           // %
  kCaret,             // ^
  kConcat,            // ||
  kEqual,             // =
  kNotEqual,          // <> or !=
  kLess,              // <
  kLessEqual,         // <=
  kGreater,           // >
  kGreaterEqual,      // >=
  kRegexMatch,        // ~
  kRegexIMatch,       // ~*
  kRegexNotMatch,     // !~
  kRegexNotIMatch,    // !~*
  kDoubleColon,       // ::
};

// A short name for messages and tests, e.g. "identifier", "'<='".
std::string_view TokenKindName(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kEnd;
  // The token as written (quotes included); empty for kEnd.
  std::string_view text;
  // Identifiers: the name (unquoted ones folded to lower case); strings: the unescaped content;
  // empty for the other kinds.
  std::string value;
  size_t offset = 0;  // byte offset of the first byte; kEnd: just past the last token
  uint32_t line = 1;  // 1-based
  // 1-based, in characters (UTF-8 code points) from the start of the line; a tab counts one.
  uint32_t column = 1;

  // True for an unquoted identifier spelled `keyword` in any case. `keyword` is upper case.
  bool IsKeyword(std::string_view keyword) const;
};

// Splits `text` into tokens, ending with one kEnd token. `text` must outlive the tokens.
Result<std::vector<Token>> Tokenize(std::string_view text);

}  // namespace seaway::sql
