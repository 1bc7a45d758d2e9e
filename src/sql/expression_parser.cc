// SQL parser: expressions by precedence climbing (src/sql). The precedence table is in parser.h.
#include <algorithm>
#include <charconv>

#include "sql/parser_internal.h"

namespace seaway::sql::internal {
namespace {

// Binding strength of infix operators; 0: not an infix operator.
enum Precedence : int {
  kOr = 1,
  kAnd,
  kNot,      // prefix NOT
  kCompare,  // comparisons, IS, IN, LIKE, ILIKE, BETWEEN, regex matches
  kConcat,
  kAdditive,
  kMultiplicative,
  kExponent,  // ^: tighter than * / %, looser than unary minus (PostgreSQL's table)
};

int PrecedenceOf(const Token& token, const Token& next) {
  switch (token.kind) {
    case TokenKind::kEqual:
    case TokenKind::kNotEqual:
    case TokenKind::kLess:
    case TokenKind::kLessEqual:
    case TokenKind::kGreater:
    case TokenKind::kGreaterEqual:
    case TokenKind::kRegexMatch:
    case TokenKind::kRegexIMatch:
    case TokenKind::kRegexNotMatch:
    case TokenKind::kRegexNotIMatch: return kCompare;
    case TokenKind::kConcat: return kConcat;
    case TokenKind::kPlus:
    case TokenKind::kMinus: return kAdditive;
    case TokenKind::kStar:
    case TokenKind::kSlash:
    case TokenKind::kPercent: return kMultiplicative;
    case TokenKind::kCaret: return kExponent;
    case TokenKind::kIdentifier: break;
    default: return 0;
  }
  if (token.IsKeyword("OR")) return kOr;
  if (token.IsKeyword("AND")) return kAnd;
  if (token.IsKeyword("IS") || token.IsKeyword("IN") || token.IsKeyword("LIKE") ||
      token.IsKeyword("ILIKE") || token.IsKeyword("BETWEEN")) {
    return kCompare;
  }
  if (token.IsKeyword("NOT") && (next.IsKeyword("IN") || next.IsKeyword("LIKE") ||
                                 next.IsKeyword("ILIKE") || next.IsKeyword("BETWEEN"))) {
    return kCompare;
  }
  return 0;
}

BinaryOp BinaryOpOf(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEqual: return BinaryOp::kEqual;
    case TokenKind::kNotEqual: return BinaryOp::kNotEqual;
    case TokenKind::kLess: return BinaryOp::kLess;
    case TokenKind::kLessEqual: return BinaryOp::kLessEqual;
    case TokenKind::kGreater: return BinaryOp::kGreater;
    case TokenKind::kGreaterEqual: return BinaryOp::kGreaterEqual;
    case TokenKind::kRegexMatch: return BinaryOp::kRegexMatch;
    case TokenKind::kRegexIMatch: return BinaryOp::kRegexIMatch;
    case TokenKind::kRegexNotMatch: return BinaryOp::kRegexNotMatch;
    case TokenKind::kRegexNotIMatch: return BinaryOp::kRegexNotIMatch;
    case TokenKind::kConcat: return BinaryOp::kConcat;
    case TokenKind::kPlus: return BinaryOp::kAdd;
    case TokenKind::kMinus: return BinaryOp::kSubtract;
    case TokenKind::kStar: return BinaryOp::kMultiply;
    case TokenKind::kSlash: return BinaryOp::kDivide;
    case TokenKind::kCaret: return BinaryOp::kPower;
    default: return BinaryOp::kModulo;
  }
}

uint32_t Tallest(std::initializer_list<const Expr*> exprs) {
  uint32_t tallest = 0;
  for (const Expr* expr : exprs) {
    if (expr != nullptr) tallest = std::max(tallest, expr->height);
  }
  return tallest;
}

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return lower;
}

}  // namespace

Result<ExprPtr> Parser::ParseExpr() {
  DepthScope scope;
  SW_RETURN_IF_ERROR(Enter(scope));
  return ParseBinary(kOr);
}

Result<ExprPtr> Parser::ParseBinary(int min_precedence) {
  SW_ASSIGN_OR_RETURN(ExprPtr left, ParsePrefix());
  LogicalExpr* chain = nullptr;  // the AND/OR node this loop extends, if `left` is one
  bool compared = false;         // comparisons do not chain: a = b = c needs parentheses
  while (true) {
    int precedence = PrecedenceOf(Peek(), Peek(1));
    if (precedence == 0 || precedence < min_precedence) break;
    if (precedence == kCompare) {
      if (compared) return ChainedComparisonError();
      compared = true;
      chain = nullptr;
      SW_ASSIGN_OR_RETURN(left, ParseComparison(std::move(left)));
      continue;
    }
    const Token& op = Next();
    if (precedence == kAnd || precedence == kOr) {
      LogicalOp logical_op = precedence == kAnd ? LogicalOp::kAnd : LogicalOp::kOr;
      SW_ASSIGN_OR_RETURN(ExprPtr right, ParseBinary(precedence + 1));
      if (chain == nullptr || chain->op != logical_op) {
        auto logical = std::make_unique<LogicalExpr>(op.offset);
        logical->op = logical_op;
        logical->height = left->height + 1;
        logical->operands.push_back(std::move(left));
        chain = logical.get();
        left = std::move(logical);
      }
      chain->height = std::max(chain->height, right->height + 1);
      chain->operands.push_back(std::move(right));
      SW_RETURN_IF_ERROR(CheckHeight(chain->height));
      compared = false;
      continue;
    }
    auto binary = std::make_unique<BinaryExpr>(op.offset);
    binary->op = BinaryOpOf(op.kind);
    SW_ASSIGN_OR_RETURN(binary->right, ParseBinary(precedence + 1));
    binary->left = std::move(left);
    binary->height = Tallest({binary->left.get(), binary->right.get()}) + 1;
    SW_RETURN_IF_ERROR(CheckHeight(binary->height));
    left = std::move(binary);
    chain = nullptr;
  }
  return left;
}

// Out of line, like the other rare paths below: the recursive path keeps small stack frames.
[[gnu::noinline]] Status Parser::ChainedComparisonError() const {
  return ErrorAt(
      Peek(), fmt::format("{} cannot follow a comparison without parentheses", Describe(Peek())));
}

// The comparison-level operator at the current token, applied to `left`.
Result<ExprPtr> Parser::ParseComparison(ExprPtr left) {
  bool negated = AcceptKeyword("NOT");  // NOT IN, NOT LIKE, NOT ILIKE, NOT BETWEEN
  const Token& op = Next();
  if (op.IsKeyword("IS")) return ParseIsNull(std::move(left), op);
  if (op.IsKeyword("IN")) return ParseIn(std::move(left), op, negated);
  if (op.IsKeyword("LIKE") || op.IsKeyword("ILIKE")) {
    return ParseLike(std::move(left), op, negated);
  }
  if (op.IsKeyword("BETWEEN")) return ParseBetween(std::move(left), op, negated);
  auto node = std::make_unique<BinaryExpr>(op.offset);
  node->op = BinaryOpOf(op.kind);
  SW_ASSIGN_OR_RETURN(node->right, ParseBinary(kConcat));
  node->left = std::move(left);
  node->height = Tallest({node->left.get(), node->right.get()}) + 1;
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

Result<ExprPtr> Parser::ParseIsNull(ExprPtr left, const Token& op) {
  auto node = std::make_unique<IsNullExpr>(op.offset);
  node->negated = AcceptKeyword("NOT");
  if (AcceptKeyword("TRUE")) {
    node->test = IsNullExpr::Test::kTrue;
  } else if (AcceptKeyword("FALSE")) {
    node->test = IsNullExpr::Test::kFalse;
  } else if (AcceptKeyword("DISTINCT")) {
    SW_RETURN_IF_ERROR(ExpectKeyword("FROM"));
    node->test = IsNullExpr::Test::kDistinctFrom;
    SW_ASSIGN_OR_RETURN(node->other, ParseBinary(kConcat));
  } else if (!AcceptKeyword("NULL") && !AcceptKeyword("UNKNOWN")) {
    return ErrorExpected(node->negated ? "NULL, TRUE, FALSE or DISTINCT FROM"
                                       : "NULL, NOT, TRUE, FALSE or DISTINCT FROM");
  }
  node->height = std::max(left->height, node->other ? node->other->height : 0) + 1;
  node->operand = std::move(left);
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

Result<ExprPtr> Parser::ParseIn(ExprPtr left, const Token& op, bool negated) {
  if (!At(TokenKind::kLeftParen)) return ErrorExpected("'('");
  if (IsQueryInParens(pos_)) {
    auto node = std::make_unique<InSubqueryExpr>(op.offset);
    node->negated = negated;
    SW_ASSIGN_OR_RETURN(node->query, ParseParenthesizedQuery());
    node->height = std::max(left->height, node->query->height) + 1;
    node->operand = std::move(left);
    SW_RETURN_IF_ERROR(CheckHeight(node->height));
    return node;
  }
  Next();
  auto node = std::make_unique<InListExpr>(op.offset);
  node->negated = negated;
  uint32_t tallest = left->height;
  do {
    SW_ASSIGN_OR_RETURN(ExprPtr value, ParseExpr());
    tallest = std::max(tallest, value->height);
    node->list.push_back(std::move(value));
  } while (Accept(TokenKind::kComma));
  SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "',' or ')'"));
  node->operand = std::move(left);
  node->height = tallest + 1;
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

Result<ExprPtr> Parser::ParseLike(ExprPtr left, const Token& op, bool negated) {
  auto node = std::make_unique<LikeExpr>(op.offset);
  node->negated = negated;
  node->case_insensitive = op.IsKeyword("ILIKE");
  SW_ASSIGN_OR_RETURN(node->pattern, ParseBinary(kConcat));
  if (AcceptKeyword("ESCAPE")) {
    SW_ASSIGN_OR_RETURN(node->escape, ParseBinary(kConcat));
  }
  node->operand = std::move(left);
  node->height = Tallest({node->operand.get(), node->pattern.get(), node->escape.get()}) + 1;
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

Result<ExprPtr> Parser::ParseBetween(ExprPtr left, const Token& op, bool negated) {
  auto node = std::make_unique<BetweenExpr>(op.offset);
  node->negated = negated;
  SW_ASSIGN_OR_RETURN(node->low, ParseBinary(kConcat));
  SW_RETURN_IF_ERROR(ExpectKeyword("AND"));
  SW_ASSIGN_OR_RETURN(node->high, ParseBinary(kConcat));
  node->operand = std::move(left);
  node->height = Tallest({node->operand.get(), node->low.get(), node->high.get()}) + 1;
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

// Prefix NOT, minus and plus, then a primary with its `::type` suffixes.
Result<ExprPtr> Parser::ParsePrefix() {
  if (AtKeyword("NOT") || At(TokenKind::kMinus) || At(TokenKind::kPlus)) return ParseUnary();
  SW_ASSIGN_OR_RETURN(ExprPtr expr, ParsePrimary());
  if (At(TokenKind::kDoubleColon)) {
    SW_ASSIGN_OR_RETURN(expr, ParseCasts(std::move(expr)));
  }
  if (AtKeyword("AT") && Peek(1).IsKeyword("TIME")) {
    return ErrorAt(Peek(),
                   "AT TIME ZONE is not supported; calendar functions take the zone: "
                   "date_trunc('day', time, 'Europe/Berlin'), date_part('hour', time, "
                   "'Europe/Berlin'), time_bucket('1 day', time, 'Europe/Berlin')");
  }
  return expr;
}

Result<ExprPtr> Parser::ParseUnary() {
  const Token& token = Next();
  DepthScope scope;
  SW_RETURN_IF_ERROR(Enter(scope));
  ExprPtr operand;
  if (token.kind == TokenKind::kMinus) {
    // -5 is a literal (so that -9223372036854775808 fits), unless a cast binds the number
    // first: -5::text is -(5::text).
    const Token& number = Peek();
    bool is_number = number.kind == TokenKind::kInteger || number.kind == TokenKind::kFloat;
    if (is_number && Peek(1).kind != TokenKind::kDoubleColon) {
      Next();
      SW_ASSIGN_OR_RETURN(ExprPtr literal, ParseNumber(number, /*negative=*/true));
      literal->offset = token.offset;
      return literal;
    }
    SW_ASSIGN_OR_RETURN(operand, ParsePrefix());
    if (operand->kind == ExprKind::kLiteral) {  // -(5) is -5 too
      auto& literal = operand->As<LiteralExpr>();
      if (literal.literal_kind == LiteralKind::kFloat) {
        literal.float_value = -literal.float_value;
        literal.offset = token.offset;
        return operand;
      }
      if (literal.literal_kind == LiteralKind::kInteger &&
          literal.int_value != std::numeric_limits<int64_t>::min()) {
        literal.int_value = -literal.int_value;
        literal.offset = token.offset;
        return operand;
      }
      if (literal.literal_kind == LiteralKind::kUnsigned) {  // as if the sign were written on it
        constexpr uint64_t kInt64MinMagnitude = uint64_t{1} << 63;
        if (literal.uint_value == kInt64MinMagnitude) {
          literal.literal_kind = LiteralKind::kInteger;
          literal.int_value = std::numeric_limits<int64_t>::min();
        } else {
          literal.literal_kind = LiteralKind::kFloat;
          literal.float_value = -static_cast<double>(literal.uint_value);
        }
        literal.offset = token.offset;
        return operand;
      }
    }
  } else if (token.kind == TokenKind::kPlus) {
    // +5 and +(5) are the literal 5; +x stays a node, so that the binder can check that x is a
    // number (+'a' is an error, as in PostgreSQL).
    SW_ASSIGN_OR_RETURN(operand, ParsePrefix());
    if (operand->kind == ExprKind::kLiteral) {
      auto& literal = operand->As<LiteralExpr>();
      if (literal.literal_kind == LiteralKind::kInteger ||
          literal.literal_kind == LiteralKind::kUnsigned ||
          literal.literal_kind == LiteralKind::kFloat) {
        literal.offset = token.offset;
        return operand;
      }
    }
  } else {
    SW_ASSIGN_OR_RETURN(operand, ParseBinary(kNot));
  }
  auto unary = std::make_unique<UnaryExpr>(token.offset);
  unary->op = token.kind == TokenKind::kMinus  ? UnaryOp::kNegate
              : token.kind == TokenKind::kPlus ? UnaryOp::kPlus
                                               : UnaryOp::kNot;
  unary->height = operand->height + 1;
  unary->operand = std::move(operand);
  SW_RETURN_IF_ERROR(CheckHeight(unary->height));
  return unary;
}

Result<ExprPtr> Parser::ParseCasts(ExprPtr expr) {
  while (At(TokenKind::kDoubleColon)) {
    auto cast = std::make_unique<CastExpr>(Next().offset);
    SW_ASSIGN_OR_RETURN(cast->type, ParseTypeName());
    cast->height = expr->height + 1;
    cast->operand = std::move(expr);
    SW_RETURN_IF_ERROR(CheckHeight(cast->height));
    expr = std::move(cast);
  }
  return expr;
}

Result<ExprPtr> Parser::ParseNumber(const Token& token, bool negative) {
  std::string text = negative ? "-" : "";
  text.append(token.text);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto literal = std::make_unique<LiteralExpr>(token.offset);
  if (token.kind == TokenKind::kInteger) {
    auto [ptr, ec] = std::from_chars(begin, end, literal->int_value);
    if (ec == std::errc() && ptr == end) {
      literal->literal_kind = LiteralKind::kInteger;
      return literal;
    }
    auto [uptr, uec] = std::from_chars(begin, end, literal->uint_value);  // no '-' taken
    if (uec == std::errc() && uptr == end) {
      literal->literal_kind = LiteralKind::kUnsigned;
      return literal;
    }
  }
  // Decimals, exponents, and integers too large for uint64_t (or below INT64_MIN).
  auto [ptr, ec] = std::from_chars(begin, end, literal->float_value);
  if (ec != std::errc() || ptr != end) {
    return ErrorAt(token, fmt::format("number {} is out of range", text));
  }
  literal->literal_kind = LiteralKind::kFloat;
  return literal;
}

Result<std::unique_ptr<SelectStatement>> Parser::ParseParenthesizedQuery() {
  SW_RETURN_IF_ERROR(Expect(TokenKind::kLeftParen, "'('"));
  SW_ASSIGN_OR_RETURN(auto query, ParseSelectStatement());
  SW_RETURN_IF_ERROR(ExpectQueryEnd());
  return query;
}

Result<ExprPtr> Parser::ParsePrimary() {
  const Token& token = Peek();
  switch (token.kind) {
    case TokenKind::kInteger:
    case TokenKind::kFloat: Next(); return ParseNumber(token, /*negative=*/false);
    case TokenKind::kString: {
      Next();
      auto literal = std::make_unique<LiteralExpr>(token.offset);
      literal->literal_kind = LiteralKind::kString;
      literal->string_value = token.value;
      return literal;
    }
    case TokenKind::kLeftParen: {
      if (IsQueryInParens(pos_)) return ParseScalarSubquery();
      Next();
      SW_ASSIGN_OR_RETURN(ExprPtr inner, ParseExpr());
      SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "an operator or ')'"));
      return inner;
    }
    case TokenKind::kQuotedIdentifier:
    case TokenKind::kIdentifier: {
      // Reserved words and EXTRACT before '(' start special forms: CAST(...), EXISTS (...);
      // LEFT and RIGHT, reserved for joins, name functions there, as in PostgreSQL.
      bool special =
          token.kind == TokenKind::kIdentifier &&
          ((IsReservedWord(token.value) && token.value != "left" && token.value != "right") ||
           token.value == "extract");
      if (Peek(1).kind == TokenKind::kLeftParen && !special) return ParseFunctionCall();
      if (token.kind == TokenKind::kIdentifier) return ParseWord();
      return ParseColumnRef();
    }
    default: return ErrorExpected("expression");
  }
}

Result<ExprPtr> Parser::ParseScalarSubquery() {
  auto subquery = std::make_unique<SubqueryExpr>(Peek().offset);
  SW_ASSIGN_OR_RETURN(subquery->query, ParseParenthesizedQuery());
  subquery->height = subquery->query->height + 1;
  SW_RETURN_IF_ERROR(CheckHeight(subquery->height));
  return subquery;
}

// An expression that starts with an unquoted word: a keyword's literal or special form, or a
// name.
Result<ExprPtr> Parser::ParseWord() {
  const Token& token = Peek();
  const Token& next = Peek(1);
  if (token.IsKeyword("NULL") || token.IsKeyword("TRUE") || token.IsKeyword("FALSE")) {
    Next();
    auto literal = std::make_unique<LiteralExpr>(token.offset);
    literal->literal_kind = token.IsKeyword("NULL") ? LiteralKind::kNull : LiteralKind::kBool;
    literal->bool_value = token.IsKeyword("TRUE");
    return literal;
  }
  if (token.IsKeyword("CASE")) return ParseCase();
  if (token.IsKeyword("CAST")) return ParseCast();
  if (token.IsKeyword("EXISTS")) {
    Next();
    auto exists = std::make_unique<ExistsExpr>(token.offset);
    SW_ASSIGN_OR_RETURN(exists->query, ParseParenthesizedQuery());
    exists->height = exists->query->height + 1;
    SW_RETURN_IF_ERROR(CheckHeight(exists->height));
    return exists;
  }
  if (next.kind == TokenKind::kString) {
    // INTERVAL '5 minutes'; typed literals TIMESTAMP '...', DATE '...', TIME '...'.
    if (token.IsKeyword("INTERVAL")) {
      Next();
      auto literal = std::make_unique<LiteralExpr>(token.offset);
      literal->literal_kind = LiteralKind::kInterval;
      literal->string_value = Next().value;
      return literal;
    }
    if (token.IsKeyword("TIMESTAMP") || token.IsKeyword("TIMESTAMPTZ") || token.IsKeyword("DATE") ||
        token.IsKeyword("TIME")) {
      auto cast = std::make_unique<CastExpr>(token.offset);
      cast->type.name = Next().value;
      cast->type.offset = token.offset;
      auto literal = std::make_unique<LiteralExpr>(next.offset);
      literal->literal_kind = LiteralKind::kString;
      literal->string_value = Next().value;
      cast->operand = std::move(literal);
      cast->height = 2;
      return cast;
    }
  }
  if (token.IsKeyword("EXTRACT") && next.kind == TokenKind::kLeftParen) return ParseExtract();
  if (IsReservedWord(token.value)) return ErrorExpected("expression");
  return ParseColumnRef();
}

// a, t.a, db.t.a
Result<ExprPtr> Parser::ParseColumnRef() {
  const Token& first = Next();
  std::vector<std::string> parts{first.value};
  while (At(TokenKind::kDot)) {
    if (parts.size() == 3) {
      return ErrorAt(Peek(), "a column reference has at most three parts (database.table.column)");
    }
    Next();
    SW_ASSIGN_OR_RETURN(std::string part, ParseIdentifier("column name"));
    parts.push_back(std::move(part));
  }
  auto ref = std::make_unique<ColumnRefExpr>(first.offset);
  ref->column = std::move(parts.back());
  if (parts.size() >= 2) ref->table = std::move(parts[parts.size() - 2]);
  if (parts.size() == 3) ref->database = std::move(parts[0]);
  return ref;
}

Result<ExprPtr> Parser::ParseFunctionCall() {
  const Token& name = Next();
  Next();  // (
  auto call = std::make_unique<FunctionCallExpr>(name.offset);
  call->name = name.value;
  uint32_t tallest = 0;
  const bool standard_form =
      name.kind == TokenKind::kIdentifier &&
      (call->name == "substring" || call->name == "trim" || call->name == "position");
  if (At(TokenKind::kStar) && Peek(1).kind == TokenKind::kRightParen) {
    Next();
    Next();
    call->star = true;
  } else if (standard_form) {
    SW_RETURN_IF_ERROR(ParseStandardArguments(*call));
    for (const auto& arg : call->args) tallest = std::max(tallest, arg->height);
  } else if (!Accept(TokenKind::kRightParen)) {
    call->distinct = AcceptKeyword("DISTINCT");
    if (!call->distinct) AcceptKeyword("ALL");
    do {
      SW_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
      tallest = std::max(tallest, arg->height);
      call->args.push_back(std::move(arg));
    } while (Accept(TokenKind::kComma));
    SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "',' or ')'"));
  }
  if (AtKeyword("WITHIN")) {
    SW_RETURN_IF_ERROR(ParseWithinGroup(*call));
    for (const auto& item : call->within_group) tallest = std::max(tallest, item.expr->height);
  }
  // FILTER (WHERE cond); `filter` without '(' is an alias.
  if (AtKeyword("FILTER") && Peek(1).kind == TokenKind::kLeftParen) {
    Next();
    Next();
    SW_RETURN_IF_ERROR(ExpectKeyword("WHERE"));
    SW_ASSIGN_OR_RETURN(call->filter, ParseExpr());
    SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "an operator or ')'"));
    tallest = std::max(tallest, call->filter->height);
  }
  // Otherwise read as an alias, then failing at the '(' after it: say what is missing instead.
  if (AtKeyword("OVER") && Peek(1).kind == TokenKind::kLeftParen) {
    return ErrorAt(Peek(),
                   "window functions (OVER) are not supported; aggregate with GROUP "
                   "BY, or join the query to its own aggregate");
  }
  call->height = tallest + 1;
  SW_RETURN_IF_ERROR(CheckHeight(call->height));
  return call;
}

// The SQL standard's keyword forms of three calls, as PostgreSQL reads them (the comma forms
// too), up to the closing parenthesis:
//   substring(s FROM start [FOR count]), substring(s FOR count)  -> substring(s, start, count)
//   trim([LEADING | TRAILING | BOTH] [chars] FROM s), trim(s [, chars])
//                                                 -> ltrim / rtrim / btrim(s [, chars])
//   position(x IN s)                                             -> position(x, s)
Status Parser::ParseStandardArguments(FunctionCallExpr& call) {
  if (Accept(TokenKind::kRightParen)) return Status::OK();
  if (call.name == "position") {
    // Operands above the comparisons, so that IN is not read as x IN (list).
    SW_ASSIGN_OR_RETURN(ExprPtr needle, ParseBinary(kConcat));
    SW_RETURN_IF_ERROR(ExpectKeyword("IN"));
    SW_ASSIGN_OR_RETURN(ExprPtr haystack, ParseBinary(kConcat));
    call.args.push_back(std::move(needle));
    call.args.push_back(std::move(haystack));
    return Expect(TokenKind::kRightParen, "')'");
  }
  if (call.name == "trim") {
    call.name = "btrim";
    if (AtKeyword("LEADING") || AtKeyword("TRAILING") || AtKeyword("BOTH")) {
      const Token& side = Next();
      if (side.IsKeyword("LEADING")) call.name = "ltrim";
      if (side.IsKeyword("TRAILING")) call.name = "rtrim";
    }
    ExprPtr chars;
    if (!AcceptKeyword("FROM")) {
      SW_ASSIGN_OR_RETURN(chars, ParseExpr());
      if (!AcceptKeyword("FROM")) {  // trim(s [, chars]): the first is the string
        call.args.push_back(std::move(chars));
        while (Accept(TokenKind::kComma)) {
          SW_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
          call.args.push_back(std::move(arg));
        }
        return Expect(TokenKind::kRightParen, "FROM, ',' or ')'");
      }
    }
    SW_ASSIGN_OR_RETURN(ExprPtr string, ParseExpr());
    call.args.push_back(std::move(string));
    if (chars) call.args.push_back(std::move(chars));
    return Expect(TokenKind::kRightParen, "')'");
  }
  // substring
  SW_ASSIGN_OR_RETURN(ExprPtr string, ParseExpr());
  call.args.push_back(std::move(string));
  if (AtKeyword("FROM") || AtKeyword("FOR")) {
    ExprPtr start, count;
    if (AcceptKeyword("FROM")) {
      SW_ASSIGN_OR_RETURN(start, ParseExpr());
    }
    if (AcceptKeyword("FOR")) {
      SW_ASSIGN_OR_RETURN(count, ParseExpr());
    }
    if (!start) {  // substring(s FOR n) starts at 1
      auto one = std::make_unique<LiteralExpr>(count->offset);
      one->literal_kind = LiteralKind::kInteger;
      one->int_value = 1;
      start = std::move(one);
    }
    call.args.push_back(std::move(start));
    if (count) call.args.push_back(std::move(count));
    return Expect(TokenKind::kRightParen, "')'");
  }
  while (Accept(TokenKind::kComma)) {
    SW_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
    call.args.push_back(std::move(arg));
  }
  return Expect(TokenKind::kRightParen, "FROM, FOR, ',' or ')'");
}

// WITHIN GROUP (ORDER BY ...) after an ordered-set aggregate's arguments.
Status Parser::ParseWithinGroup(FunctionCallExpr& call) {
  Next();  // WITHIN
  SW_RETURN_IF_ERROR(ExpectKeyword("GROUP"));
  SW_RETURN_IF_ERROR(Expect(TokenKind::kLeftParen, "'('"));
  SW_RETURN_IF_ERROR(ExpectKeyword("ORDER"));
  SW_RETURN_IF_ERROR(ExpectKeyword("BY"));
  SW_ASSIGN_OR_RETURN(call.within_group, ParseOrderByList());
  return Expect(TokenKind::kRightParen, "',' or ')'");
}

Result<ExprPtr> Parser::ParseCase() {
  auto node = std::make_unique<CaseExpr>(Next().offset);
  uint32_t tallest = 0;
  if (!AtKeyword("WHEN")) {
    SW_ASSIGN_OR_RETURN(node->operand, ParseExpr());
    tallest = node->operand->height;
    if (!AtKeyword("WHEN")) return ErrorExpected("WHEN");
  }
  while (AcceptKeyword("WHEN")) {
    CaseWhen when;
    SW_ASSIGN_OR_RETURN(when.when, ParseExpr());
    SW_RETURN_IF_ERROR(ExpectKeyword("THEN"));
    SW_ASSIGN_OR_RETURN(when.then, ParseExpr());
    tallest = std::max({tallest, when.when->height, when.then->height});
    node->whens.push_back(std::move(when));
  }
  if (AcceptKeyword("ELSE")) {
    SW_ASSIGN_OR_RETURN(node->else_result, ParseExpr());
    tallest = std::max(tallest, node->else_result->height);
    SW_RETURN_IF_ERROR(ExpectKeyword("END"));
  } else if (!AcceptKeyword("END")) {
    return ErrorExpected("WHEN, ELSE or END");
  }
  node->height = tallest + 1;
  SW_RETURN_IF_ERROR(CheckHeight(node->height));
  return node;
}

Result<ExprPtr> Parser::ParseCast() {
  auto cast = std::make_unique<CastExpr>(Next().offset);
  SW_RETURN_IF_ERROR(Expect(TokenKind::kLeftParen, "'('"));
  SW_ASSIGN_OR_RETURN(cast->operand, ParseExpr());
  SW_RETURN_IF_ERROR(ExpectKeyword("AS"));
  SW_ASSIGN_OR_RETURN(cast->type, ParseTypeName());
  SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "')'"));
  cast->height = cast->operand->height + 1;
  SW_RETURN_IF_ERROR(CheckHeight(cast->height));
  return cast;
}

Result<ExprPtr> Parser::ParseExtract() {
  auto extract = std::make_unique<ExtractExpr>(Next().offset);
  Next();  // (
  const Token& field = Peek();
  bool is_field = field.kind == TokenKind::kQuotedIdentifier || field.kind == TokenKind::kString ||
                  (field.kind == TokenKind::kIdentifier && !IsReservedWord(field.value));
  if (!is_field) {
    return ErrorExpected("a field such as year, day or epoch");
  }
  extract->field = ToLowerAscii(Next().value);
  SW_RETURN_IF_ERROR(ExpectKeyword("FROM"));
  SW_ASSIGN_OR_RETURN(extract->operand, ParseExpr());
  SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "')'"));
  extract->height = extract->operand->height + 1;
  SW_RETURN_IF_ERROR(CheckHeight(extract->height));
  return extract;
}

Result<TypeName> Parser::ParseTypeName() {
  TypeName type;
  type.offset = Peek().offset;
  SW_ASSIGN_OR_RETURN(type.name, ParseIdentifier("type name"));
  if (type.name == "double" && AcceptKeyword("PRECISION")) {
    type.name = "double precision";
  } else if ((type.name == "timestamp" || type.name == "time") &&
             (AtKeyword("WITH") || AtKeyword("WITHOUT")) && Peek(1).IsKeyword("TIME") &&
             Peek(2).IsKeyword("ZONE")) {
    if (Next().IsKeyword("WITH")) type.name += "tz";
    Next();
    Next();
  }
  if (Accept(TokenKind::kLeftParen)) {
    do {
      const Token& param = Peek();
      int64_t value = 0;
      auto [ptr, ec] =
          std::from_chars(param.text.data(), param.text.data() + param.text.size(), value);
      if (param.kind != TokenKind::kInteger || ec != std::errc()) {
        return ErrorExpected("a type parameter (an integer)");
      }
      type.params.push_back(value);
      Next();
    } while (Accept(TokenKind::kComma));
    SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "',' or ')'"));
  }
  return type;
}

}  // namespace seaway::sql::internal
