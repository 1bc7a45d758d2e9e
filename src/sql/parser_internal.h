// The parser's internal class (src/sql), shared by parser.cc (statements, queries, FROM) and
// expression_parser.cc (expressions). Not part of the public API: use parser.h.
//
// Thread-compatible: one Parser parses one text once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/ast.h"
#include "sql/lexer.h"
#include "sql/parser.h"
#include "sql/source_excerpt.h"

namespace seaway::sql::internal {

// Counts recursion of the parser while alive: `weight` units for the frames it stands for.
class DepthScope {
 public:
  DepthScope() = default;
  DepthScope(const DepthScope&) = delete;
  DepthScope& operator=(const DepthScope&) = delete;
  ~DepthScope() {
    if (depth_ != nullptr) *depth_ -= weight_;
  }
  void Bind(uint32_t* depth, uint32_t weight) {
    depth_ = depth;
    weight_ = weight;
    *depth_ += weight;
  }

 private:
  uint32_t* depth_ = nullptr;
  uint32_t weight_ = 0;
};

class Parser {
 public:
  // REQUIRES: `tokens` come from Tokenize(text) (they end with kEnd).
  Parser(std::string_view text, std::vector<Token> tokens);

  Result<Statement> ParseSingle();
  Result<std::vector<Statement>> ParseAll();
  Result<ExprPtr> ParseStandaloneExpression();

 private:
  static constexpr size_t kNoMatch = std::numeric_limits<size_t>::max();

  // The clause a query ended with: decides what "expected ..." lists after it.
  enum class Clause {
    kSelectList,
    kFrom,
    kWhere,
    kGroupBy,
    kHaving,
    kOrderBy,
    kLimit,
    kOffset,
    kDone,
  };

  // ---- tokens and errors (parser.cc)
  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool At(TokenKind kind) const { return Peek().kind == kind; }
  bool AtKeyword(std::string_view keyword) const { return Peek().IsKeyword(keyword); }
  bool Accept(TokenKind kind);
  bool AcceptKeyword(std::string_view keyword);
  // Errors name `what` (e.g. "')'", "table name") and the token found instead.
  Status Expect(TokenKind kind, std::string_view what);
  Status ExpectKeyword(std::string_view keyword);
  Status ErrorExpected(std::string_view what) const;
  Status ErrorAt(const Token& token, std::string_view message) const;
  static std::string Describe(const Token& token);

  // Nesting limits (see parser.h): recursion of the parser and the height of the tree. Each
  // recursive entry costs units roughly in proportion to the stack it takes: a nested query
  // (about ten frames) costs kQueryRecursionWeight, an expression or a parenthesized join one.
  // The budget is 3 * kMaxNestingDepth units: the canonical text of any tree that passes the
  // height limit takes at most 2 units per level (NOT (NOT (...))), so it parses again.
  static constexpr uint32_t kQueryRecursionWeight = 4;
  static constexpr uint32_t kRecursionBudget = 3 * kMaxNestingDepth;
  Status Enter(DepthScope& scope, uint32_t weight = 1);
  Status CheckHeight(uint32_t height) const;
  Status TooDeep() const;

  // Whether the '(' at token `index` opens a query rather than an expression or a join.
  bool IsQueryInParens(size_t index);

  Result<std::string> ParseIdentifier(std::string_view what);
  bool AtAlias() const;
  // [AS] alias; empty if there is none.
  Result<std::string> ParseOptionalAlias();

  // ---- statements and queries (parser.cc)
  Result<Statement> ParseStatement();
  Result<TableName> ParseTableName();
  std::string QueryContinuations(std::string_view closer) const;
  Status ExpectQueryEnd();
  Result<std::unique_ptr<SelectStatement>> ParseSelectStatement();
  Result<QueryNodePtr> ParseSetExpression();
  Result<QueryNodePtr> ParseSetOperand();
  Result<QueryNodePtr> ParseSelectNode();
  Result<SelectItem> ParseSelectItem();
  Result<std::vector<OrderByItem>> ParseOrderByList();
  Result<TableRefPtr> ParseTableRef();
  Result<TableRefPtr> ParseTablePrimary();

  // ---- expressions (expression_parser.cc)
  Result<ExprPtr> ParseExpr();
  Result<ExprPtr> ParseBinary(int min_precedence);
  Result<ExprPtr> ParseComparison(ExprPtr left);
  Result<ExprPtr> ParseIsNull(ExprPtr left, const Token& op);
  Result<ExprPtr> ParseIn(ExprPtr left, const Token& op, bool negated);
  Result<ExprPtr> ParseLike(ExprPtr left, const Token& op, bool negated);
  Result<ExprPtr> ParseBetween(ExprPtr left, const Token& op, bool negated);
  Status ChainedComparisonError() const;
  Result<ExprPtr> ParsePrefix();
  Result<ExprPtr> ParseUnary();
  Result<ExprPtr> ParseCasts(ExprPtr expr);
  Result<ExprPtr> ParsePrimary();
  Result<ExprPtr> ParseWord();
  Result<ExprPtr> ParseScalarSubquery();
  Result<ExprPtr> ParseNumber(const Token& token, bool negative);
  Result<ExprPtr> ParseColumnRef();
  Result<ExprPtr> ParseFunctionCall();
  Status ParseStandardArguments(FunctionCallExpr& call);
  Status ParseWithinGroup(FunctionCallExpr& call);
  Result<ExprPtr> ParseCase();
  Result<ExprPtr> ParseCast();
  Result<ExprPtr> ParseExtract();
  Result<TypeName> ParseTypeName();
  Result<std::unique_ptr<SelectStatement>> ParseParenthesizedQuery();

  std::string_view text_;
  std::vector<Token> tokens_;
  std::vector<size_t> matching_paren_;  // per token: the index of the matching ')', or kNoMatch
  enum : uint8_t { kUnknown, kNo, kYes };
  std::vector<uint8_t> query_in_parens_;  // per '(' token: memo of IsQueryInParens
  size_t pos_ = 0;
  uint32_t recursion_ = 0;
  Clause last_clause_ = Clause::kDone;
  std::string expected_after_;        // what may follow the statement just parsed
  size_t implicit_alias_ = kNoMatch;  // the token of the last alias written without AS
};

}  // namespace seaway::sql::internal
