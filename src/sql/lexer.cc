// SQL lexer (src/sql).
#include "sql/lexer.h"

#include <fmt/format.h>

#include "sql/source_excerpt.h"

namespace seaway::sql {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || IsDigit(c) || c == '$'; }
char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "'#'" for printable ASCII, "byte 0x01" otherwise.
std::string DescribeCharacter(char c) {
  auto b = static_cast<unsigned char>(c);
  if (b >= 0x21 && b < 0x7f) return fmt::format("character '{}'", c);
  return fmt::format("byte 0x{:02x}", b);
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text), tracker_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    size_t end_of_last = 0;
    while (true) {
      SW_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (pos_ >= text_.size()) break;
      Token token;
      token.offset = pos_;
      SW_RETURN_IF_ERROR(Scan(token));
      token.text = text_.substr(token.offset, pos_ - token.offset);
      SourcePosition position = tracker_.Advance(token.offset);
      token.line = position.line;
      token.column = position.column;
      end_of_last = pos_;
      tokens.push_back(std::move(token));
    }
    Token end;
    end.offset = end_of_last;
    SourcePosition position = tracker_.Advance(end_of_last);
    end.line = position.line;
    end.column = position.column;
    tokens.push_back(std::move(end));
    return tokens;
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool AtEnd(size_t ahead = 0) const { return pos_ + ahead >= text_.size(); }

  Status Error(size_t offset, std::string_view message) const {
    return SyntaxError(text_, offset, message);
  }

  Status SkipSpaceAndComments() {
    while (!AtEnd()) {
      char c = Peek();
      if (IsSpace(c)) {
        ++pos_;
      } else if (c == '-' && Peek(1) == '-') {
        size_t newline = text_.find('\n', pos_);
        pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
      } else if (c == '/' && Peek(1) == '*') {
        SW_RETURN_IF_ERROR(SkipBlockComment());
      } else {
        break;
      }
    }
    return Status::OK();
  }

  // Block comments nest, as in PostgreSQL: /* a /* b */ c */ is one comment.
  Status SkipBlockComment() {
    size_t start = pos_;
    size_t depth = 0;
    while (!AtEnd()) {
      if (Peek() == '/' && Peek(1) == '*') {
        ++depth;
        pos_ += 2;
      } else if (Peek() == '*' && Peek(1) == '/') {
        pos_ += 2;
        if (--depth == 0) return Status::OK();
      } else {
        ++pos_;
      }
    }
    return Error(start, "unterminated block comment");
  }

  Status Scan(Token& token) {
    char c = Peek();
    if (IsIdentifierStart(c)) return ScanIdentifier(token);
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return ScanNumber(token);
    if (c == '\'') return ScanQuoted(token, '\'');
    if (c == '"') return ScanQuoted(token, '"');
    return ScanOperator(token);
  }

  Status ScanIdentifier(Token& token) {
    token.kind = TokenKind::kIdentifier;
    while (!AtEnd() && IsIdentifierPart(Peek())) token.value += ToLower(text_[pos_++]);
    return Status::OK();
  }

  Status ScanNumber(Token& token) {
    token.kind = TokenKind::kInteger;
    while (IsDigit(Peek())) ++pos_;
    if (Peek() == '.') {
      token.kind = TokenKind::kFloat;
      ++pos_;
      while (IsDigit(Peek())) ++pos_;
    }
    if ((Peek() == 'e' || Peek() == 'E') &&
        (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
      token.kind = TokenKind::kFloat;
      pos_ += 2;
      while (IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (IsIdentifierPart(Peek()) || Peek() == '.')) {
      size_t end = pos_;
      while (end < text_.size() && (IsIdentifierPart(text_[end]) || text_[end] == '.')) ++end;
      return Error(token.offset, fmt::format("invalid number '{}'",
                                             text_.substr(token.offset, end - token.offset)));
    }
    return Status::OK();
  }

  // 'string' or "identifier"; a doubled quote stands for one.
  Status ScanQuoted(Token& token, char quote) {
    bool is_string = quote == '\'';
    token.kind = is_string ? TokenKind::kString : TokenKind::kQuotedIdentifier;
    ++pos_;
    while (true) {
      size_t close = text_.find(quote, pos_);
      if (close == std::string_view::npos) {
        return Error(token.offset,
                     is_string ? "unterminated string literal" : "unterminated quoted identifier");
      }
      token.value.append(text_.substr(pos_, close - pos_));
      pos_ = close + 1;
      if (Peek() != quote) break;
      token.value += quote;
      ++pos_;
    }
    if (!is_string && token.value.empty()) {
      return Error(token.offset, "zero-length quoted identifier");
    }
    return Status::OK();
  }

  Status ScanOperator(Token& token) {
    char next = Peek(1);
    auto emit = [&](TokenKind kind, size_t length) {
      token.kind = kind;
      pos_ += length;
      return Status::OK();
    };
    switch (Peek()) {
      case ',': return emit(TokenKind::kComma, 1);
      case '.': return emit(TokenKind::kDot, 1);
      case '(': return emit(TokenKind::kLeftParen, 1);
      case ')': return emit(TokenKind::kRightParen, 1);
      case ';': return emit(TokenKind::kSemicolon, 1);
      case '+': return emit(TokenKind::kPlus, 1);
      case '-': return emit(TokenKind::kMinus, 1);
      case '*': return emit(TokenKind::kStar, 1);
      case '/': return emit(TokenKind::kSlash, 1);
      case '%': return emit(TokenKind::kPercent, 1);
      case '^': return emit(TokenKind::kCaret, 1);
      case '=': return emit(TokenKind::kEqual, 1);
      case '<':
        if (next == '>') return emit(TokenKind::kNotEqual, 2);
        if (next == '=') return emit(TokenKind::kLessEqual, 2);
        return emit(TokenKind::kLess, 1);
      case '>':
        if (next == '=') return emit(TokenKind::kGreaterEqual, 2);
        return emit(TokenKind::kGreater, 1);
      case '~':
        if (next == '*') return emit(TokenKind::kRegexIMatch, 2);
        return emit(TokenKind::kRegexMatch, 1);
      case '!':
        if (next == '=') return emit(TokenKind::kNotEqual, 2);
        if (next == '~' && Peek(2) == '*') return emit(TokenKind::kRegexNotIMatch, 3);
        if (next == '~') return emit(TokenKind::kRegexNotMatch, 2);
        break;
      case '|':
        if (next == '|') return emit(TokenKind::kConcat, 2);
        break;
      case ':':
        if (next == ':') return emit(TokenKind::kDoubleColon, 2);
        break;
      default: break;
    }
    std::string message = "unexpected " + DescribeCharacter(Peek());
    if (Peek() == '`') message += " (quote identifiers with double quotes: \"name\")";
    if (Peek() == '$' && IsDigit(next)) {
      message = "query parameters ($1) are not supported: write the values into the query";
    }
    return Error(pos_, message);
  }

  std::string_view text_;
  PositionTracker tracker_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd: return "end of input";
    case TokenKind::kIdentifier: return "identifier";
    case TokenKind::kQuotedIdentifier: return "quoted identifier";
    case TokenKind::kString: return "string literal";
    case TokenKind::kInteger: return "integer";
    case TokenKind::kFloat: return "number";
    case TokenKind::kComma: return "','";
    case TokenKind::kDot: return "'.'";
    case TokenKind::kLeftParen: return "'('";
    case TokenKind::kRightParen: return "')'";
    case TokenKind::kSemicolon: return "';'";
    case TokenKind::kPlus: return "'+'";
    case TokenKind::kMinus: return "'-'";
    case TokenKind::kStar: return "'*'";
    case TokenKind::kSlash: return "'/'";
    case TokenKind::kPercent: return "'%'";
    case TokenKind::kCaret: return "'^'";
    case TokenKind::kConcat: return "'||'";
    case TokenKind::kEqual: return "'='";
    case TokenKind::kNotEqual: return "'<>'";
    case TokenKind::kLess: return "'<'";
    case TokenKind::kLessEqual: return "'<='";
    case TokenKind::kGreater: return "'>'";
    case TokenKind::kGreaterEqual: return "'>='";
    case TokenKind::kRegexMatch: return "'~'";
    case TokenKind::kRegexIMatch: return "'~*'";
    case TokenKind::kRegexNotMatch: return "'!~'";
    case TokenKind::kRegexNotIMatch: return "'!~*'";
    case TokenKind::kDoubleColon: return "'::'";
  }
  return "token";
}

bool Token::IsKeyword(std::string_view keyword) const {
  if (kind != TokenKind::kIdentifier || value.size() != keyword.size()) return false;
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (value[i] != ToLower(keyword[i])) return false;
  }
  return true;
}

Result<std::vector<Token>> Tokenize(std::string_view text) { return Lexer(text).Run(); }

}  // namespace seaway::sql
