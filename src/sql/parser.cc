// SQL parser: statements, queries and the FROM clause (src/sql). Expressions are in
// expression_parser.cc; the shared Parser class is in parser_internal.h.
#include "sql/parser.h"

#include <algorithm>

#include "sql/parser_internal.h"

namespace seaway::sql {
namespace {

// Sorted, lower case. Words that would be ambiguous as bare names or aliases.
constexpr std::string_view kReservedWords[] = {
    "all",    "and",   "as",       "asc",    "between", "by",      "case",   "cast",
    "cross",  "desc",  "distinct", "else",   "end",     "except",  "exists", "false",
    "from",   "full",  "group",    "having", "ilike",   "in",      "inner",  "intersect",
    "is",     "join",  "left",     "like",   "limit",   "natural", "not",    "null",
    "offset", "on",    "or",       "order",  "outer",   "right",   "select", "then",
    "true",   "union", "using",    "when",   "where",   "with",    "within",
};
static_assert(std::is_sorted(std::begin(kReservedWords), std::end(kReservedWords)));

}  // namespace

bool IsReservedWord(std::string_view word) {
  return std::binary_search(std::begin(kReservedWords), std::end(kReservedWords), word);
}

namespace internal {

Parser::Parser(std::string_view text, std::vector<Token> tokens)
    : text_(text),
      tokens_(std::move(tokens)),
      matching_paren_(tokens_.size(), kNoMatch),
      query_in_parens_(tokens_.size(), kUnknown) {
  std::vector<size_t> open;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].kind == TokenKind::kLeftParen) {
      open.push_back(i);
    } else if (tokens_[i].kind == TokenKind::kRightParen && !open.empty()) {
      matching_paren_[open.back()] = i;
      open.pop_back();
    }
  }
}

// ---- tokens and errors

const Token& Parser::Peek(size_t ahead) const {
  return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
}

const Token& Parser::Next() {
  const Token& token = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return token;
}

bool Parser::Accept(TokenKind kind) {
  if (!At(kind)) return false;
  Next();
  return true;
}

bool Parser::AcceptKeyword(std::string_view keyword) {
  if (!AtKeyword(keyword)) return false;
  Next();
  return true;
}

Status Parser::Expect(TokenKind kind, std::string_view what) {
  if (Accept(kind)) return Status::OK();
  return ErrorExpected(what);
}

Status Parser::ExpectKeyword(std::string_view keyword) {
  if (AcceptKeyword(keyword)) return Status::OK();
  return ErrorExpected(keyword);
}

std::string Parser::Describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMaxShown = 40;
  std::string text(token.text.substr(0, kMaxShown));
  // Cut at a character boundary.
  if (token.text.size() > kMaxShown) {
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) {
      text.pop_back();
    }
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "...";
  }
  switch (token.kind) {
    case TokenKind::kString: return "string literal " + text;
    case TokenKind::kQuotedIdentifier: return "identifier " + text;
    default: break;
  }
  return "'" + text + "'";
}

Status Parser::ErrorAt(const Token& token, std::string_view message) const {
  return SyntaxError(text_, token.offset, message);
}

namespace {

// Edit distance of at most one, counting a swap of neighbours as one edit.
bool WithinOneEdit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return true;
  if (a.size() == b.size()) {
    if (a.substr(i + 1) == b.substr(i + 1)) return true;  // substitution
    return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           a.substr(i + 2) == b.substr(i + 2);  // transposition
  }
  return a.substr(i) == b.substr(i + 1);  // insertion
}

// Whether `word` (lower case) looks like a misspelling of an upper-case keyword in `expected`.
bool LooksLikeExpectedKeyword(std::string_view word, std::string_view expected) {
  std::string upper(word);
  for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  size_t i = 0;
  while (i < expected.size()) {
    size_t j = i;
    while (j < expected.size() && expected[j] >= 'A' && expected[j] <= 'Z') ++j;
    std::string_view keyword = expected.substr(i, j - i);
    if (keyword.size() >= 4 && keyword != upper && WithinOneEdit(upper, keyword)) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

Status Parser::ErrorExpected(std::string_view what) const {
  // `SELECT a FORM t` reads FORM as an alias of `a` and fails at `t`; point at the misspelling.
  if (implicit_alias_ != kNoMatch && implicit_alias_ + 1 == pos_ &&
      LooksLikeExpectedKeyword(tokens_[implicit_alias_].value, what)) {
    const Token& alias = tokens_[implicit_alias_];
    return ErrorAt(alias, fmt::format("expected {}, found {}", what, Describe(alias)));
  }
  return ErrorAt(Peek(), fmt::format("expected {}, found {}", what, Describe(Peek())));
}

Status Parser::TooDeep() const {
  return ErrorAt(Peek(),
                 fmt::format("query is nested too deeply (more than {} levels)", kMaxNestingDepth));
}

Status Parser::Enter(DepthScope& scope, uint32_t weight) {
  scope.Bind(&recursion_, weight);
  if (recursion_ > kRecursionBudget) return TooDeep();
  return Status::OK();
}

Status Parser::CheckHeight(uint32_t height) const {
  if (height > kMaxNestingDepth) return TooDeep();
  return Status::OK();
}

bool Parser::IsQueryInParens(size_t index) {
  // `(` opens a query if SELECT or WITH follows, possibly after more `(` whose groups are
  // followed by what may follow a query operand: ((SELECT 1) UNION (SELECT 2)). Every '(' of
  // such a run has the same answer; remember it, so that deep runs cost linear time.
  std::vector<size_t> run;
  bool answer = false;
  while (index + 1 < tokens_.size()) {
    if (query_in_parens_[index] != kUnknown) {
      answer = query_in_parens_[index] == kYes;
      break;
    }
    run.push_back(index);
    const Token& next = tokens_[index + 1];
    if (next.IsKeyword("SELECT") || next.IsKeyword("WITH")) {
      answer = true;
      break;
    }
    if (next.kind != TokenKind::kLeftParen) break;
    size_t close = matching_paren_[index + 1];
    if (close == kNoMatch || close + 1 >= tokens_.size()) break;
    const Token& after = tokens_[close + 1];
    bool continues_query = after.kind == TokenKind::kRightParen || after.IsKeyword("UNION") ||
                           after.IsKeyword("INTERSECT") || after.IsKeyword("EXCEPT") ||
                           after.IsKeyword("ORDER") || after.IsKeyword("LIMIT") ||
                           after.IsKeyword("OFFSET");
    if (!continues_query) break;
    ++index;
  }
  for (size_t i : run) query_in_parens_[i] = answer ? kYes : kNo;
  return answer;
}

Result<std::string> Parser::ParseIdentifier(std::string_view what) {
  const Token& token = Peek();
  if (token.kind == TokenKind::kQuotedIdentifier ||
      (token.kind == TokenKind::kIdentifier && !IsReservedWord(token.value))) {
    Next();
    return token.value;
  }
  if (token.kind == TokenKind::kIdentifier) {
    return ErrorAt(token, fmt::format("expected {}, found {} (a reserved word; write \"{}\" to use "
                                      "it as a name)",
                                      what, Describe(token), token.value));
  }
  return ErrorExpected(what);
}

bool Parser::AtAlias() const {
  const Token& token = Peek();
  return token.kind == TokenKind::kQuotedIdentifier ||
         (token.kind == TokenKind::kIdentifier && !IsReservedWord(token.value));
}

Result<std::string> Parser::ParseOptionalAlias() {
  if (AcceptKeyword("AS")) return ParseIdentifier("alias");
  if (!AtAlias()) return std::string();
  implicit_alias_ = pos_;
  return Next().value;
}

// ---- statements

Result<Statement> Parser::ParseStatement() {
  Statement statement;
  const Token& first = Peek();
  statement.offset = first.offset;
  expected_after_ = "end of statement";
  if (first.IsKeyword("SELECT") || first.IsKeyword("WITH") || first.kind == TokenKind::kLeftParen) {
    SW_ASSIGN_OR_RETURN(auto query, ParseSelectStatement());
    statement.node = std::move(*query);
    expected_after_ = QueryContinuations("end of statement");
  } else if (AcceptKeyword("SHOW")) {
    if (AcceptKeyword("DATABASES")) {
      statement.node = ShowDatabasesStatement{};
    } else if (AcceptKeyword("TABLES")) {
      ShowTablesStatement show;
      if (AcceptKeyword("FROM") || AcceptKeyword("IN")) {
        show.database_offset = Peek().offset;
        SW_ASSIGN_OR_RETURN(show.database, ParseIdentifier("database name"));
      } else {
        expected_after_ = "FROM or end of statement";
      }
      statement.node = std::move(show);
    } else {
      return ErrorExpected("DATABASES or TABLES");
    }
  } else if (AcceptKeyword("DESCRIBE") || AcceptKeyword("DESC")) {
    DescribeStatement describe;
    describe.table_offset = Peek().offset;
    SW_ASSIGN_OR_RETURN(describe.table, ParseTableName());
    statement.node = std::move(describe);
  } else {
    return ErrorExpected("SELECT, WITH, SHOW or DESCRIBE");
  }
  return statement;
}

Result<Statement> Parser::ParseSingle() {
  // Empty statements (nothing but spaces and comments before a ';') are skipped, as PostgreSQL
  // skips them.
  while (Accept(TokenKind::kSemicolon)) {
  }
  if (At(TokenKind::kEnd)) {
    return InvalidArgument(
        "empty query: the text holds no statement (only spaces, comments or "
        "';'); send one such as SELECT 1");
  }
  SW_ASSIGN_OR_RETURN(Statement statement, ParseStatement());
  if (Accept(TokenKind::kSemicolon)) {
    while (Accept(TokenKind::kSemicolon)) {
    }
    if (!At(TokenKind::kEnd)) return ErrorExpected("end of input after ';' (one statement only)");
  } else if (!At(TokenKind::kEnd)) {
    return ErrorExpected(expected_after_);
  }
  return statement;
}

Result<std::vector<Statement>> Parser::ParseAll() {
  std::vector<Statement> statements;
  while (true) {
    while (Accept(TokenKind::kSemicolon)) {
    }
    if (At(TokenKind::kEnd)) break;
    SW_ASSIGN_OR_RETURN(Statement statement, ParseStatement());
    if (!At(TokenKind::kSemicolon) && !At(TokenKind::kEnd)) {
      return ErrorExpected(expected_after_);
    }
    statements.push_back(std::move(statement));
  }
  return statements;
}

Result<ExprPtr> Parser::ParseStandaloneExpression() {
  SW_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr());
  if (!At(TokenKind::kEnd)) return ErrorExpected("an operator or end of expression");
  return expr;
}

Result<TableName> Parser::ParseTableName() {
  TableName table;
  SW_ASSIGN_OR_RETURN(table.name, ParseIdentifier("table name"));
  if (Accept(TokenKind::kDot)) {
    table.database = std::move(table.name);
    SW_ASSIGN_OR_RETURN(table.name, ParseIdentifier("table name"));
  }
  return table;
}

// ---- queries

std::string Parser::QueryContinuations(std::string_view closer) const {
  std::string_view clauses;
  switch (last_clause_) {
    case Clause::kSelectList: clauses = "FROM"; break;
    case Clause::kFrom: clauses = "JOIN, WHERE, GROUP BY, ORDER BY, LIMIT"; break;
    case Clause::kWhere: clauses = "GROUP BY, ORDER BY, LIMIT"; break;
    case Clause::kGroupBy: clauses = "HAVING, ORDER BY, LIMIT"; break;
    case Clause::kHaving: clauses = "ORDER BY, LIMIT"; break;
    case Clause::kOrderBy: clauses = "LIMIT, OFFSET"; break;
    case Clause::kLimit: clauses = "OFFSET"; break;
    case Clause::kOffset: clauses = "LIMIT"; break;
    case Clause::kDone: break;
  }
  if (clauses.empty()) return std::string(closer);
  return fmt::format("{} or {}", clauses, closer);
}

Status Parser::ExpectQueryEnd() {
  if (Accept(TokenKind::kRightParen)) return Status::OK();
  return ErrorExpected(QueryContinuations("')'"));
}

namespace {

bool HasClausesOfItsOwn(const SelectStatement& query) {
  return !query.ctes.empty() || !query.order_by.empty() || query.limit || query.offset_rows;
}

uint32_t HeightOf(const ExprPtr& expr) { return expr ? expr->height : 0; }

}  // namespace

Result<std::unique_ptr<SelectStatement>> Parser::ParseSelectStatement() {
  DepthScope scope;
  SW_RETURN_IF_ERROR(Enter(scope, kQueryRecursionWeight));
  auto query = std::make_unique<SelectStatement>();
  query->offset = Peek().offset;
  uint32_t tallest = 0;
  if (AcceptKeyword("WITH")) {
    // A CTE may be named "recursive"; WITH RECURSIVE name ... is the unsupported feature.
    const Token& after = Peek(1);
    if (AtKeyword("RECURSIVE") &&
        (after.kind == TokenKind::kQuotedIdentifier ||
         (after.kind == TokenKind::kIdentifier && !IsReservedWord(after.value)))) {
      return ErrorAt(Peek(), "WITH RECURSIVE is not supported");
    }
    do {
      CommonTableExpr cte;
      cte.offset = Peek().offset;
      SW_ASSIGN_OR_RETURN(cte.name, ParseIdentifier("name of a WITH query"));
      SW_RETURN_IF_ERROR(ExpectKeyword("AS"));
      SW_RETURN_IF_ERROR(Expect(TokenKind::kLeftParen, "'('"));
      SW_ASSIGN_OR_RETURN(cte.query, ParseSelectStatement());
      SW_RETURN_IF_ERROR(ExpectQueryEnd());
      tallest = std::max(tallest, cte.query->height);
      query->ctes.push_back(std::move(cte));
    } while (Accept(TokenKind::kComma));
  }
  SW_ASSIGN_OR_RETURN(query->body, ParseSetExpression());
  tallest = std::max(tallest, query->body->height);
  if (AtKeyword("ORDER")) {
    Next();
    SW_RETURN_IF_ERROR(ExpectKeyword("BY"));
    SW_ASSIGN_OR_RETURN(query->order_by, ParseOrderByList());
    for (const auto& item : query->order_by) tallest = std::max(tallest, HeightOf(item.expr));
    last_clause_ = Clause::kOrderBy;
  }
  while (true) {
    if (!query->limit && AcceptKeyword("LIMIT")) {
      if (AtKeyword("ALL")) {  // LIMIT ALL is LIMIT NULL: no limit, as in PostgreSQL
        auto all = std::make_unique<LiteralExpr>(Next().offset);
        all->literal_kind = LiteralKind::kNull;
        query->limit = std::move(all);
      } else {
        SW_ASSIGN_OR_RETURN(query->limit, ParseExpr());
      }
      tallest = std::max(tallest, HeightOf(query->limit));
    } else if (!query->offset_rows && AcceptKeyword("OFFSET")) {
      SW_ASSIGN_OR_RETURN(query->offset_rows, ParseExpr());
      tallest = std::max(tallest, HeightOf(query->offset_rows));
    } else {
      break;
    }
    last_clause_ = query->limit && query->offset_rows ? Clause::kDone
                   : query->limit                     ? Clause::kLimit
                                                      : Clause::kOffset;
  }
  // `(SELECT ... LIMIT 1)` alone is that query, not a wrapper around it.
  if (!HasClausesOfItsOwn(*query) && query->body->kind == QueryNodeKind::kParenthesized) {
    auto& parenthesized = static_cast<ParenthesizedQueryNode&>(*query->body);
    return std::move(parenthesized.query);
  }
  query->height = tallest + 1;
  SW_RETURN_IF_ERROR(CheckHeight(query->height));
  return query;
}

Result<QueryNodePtr> Parser::ParseSetExpression() {
  SW_ASSIGN_OR_RETURN(QueryNodePtr left, ParseSetOperand());
  while (AtKeyword("UNION")) {
    auto node = std::make_unique<SetOperationNode>(Next().offset);
    node->all = AcceptKeyword("ALL");
    if (!node->all) AcceptKeyword("DISTINCT");
    node->left = std::move(left);
    SW_ASSIGN_OR_RETURN(node->right, ParseSetOperand());
    node->height = std::max(node->left->height, node->right->height) + 1;
    SW_RETURN_IF_ERROR(CheckHeight(node->height));
    left = std::move(node);
  }
  if (AtKeyword("INTERSECT") || AtKeyword("EXCEPT")) {
    return ErrorAt(Peek(),
                   fmt::format("{} is not supported (only UNION and UNION ALL)", Peek().text));
  }
  return left;
}

Result<QueryNodePtr> Parser::ParseSetOperand() {
  if (At(TokenKind::kLeftParen)) {
    size_t offset = Next().offset;
    SW_ASSIGN_OR_RETURN(auto inner, ParseSelectStatement());
    SW_RETURN_IF_ERROR(ExpectQueryEnd());
    last_clause_ = Clause::kDone;
    if (!HasClausesOfItsOwn(*inner)) return std::move(inner->body);
    auto node = std::make_unique<ParenthesizedQueryNode>(offset);
    node->height = inner->height + 1;
    node->query = std::move(inner);
    SW_RETURN_IF_ERROR(CheckHeight(node->height));
    return node;
  }
  if (!AtKeyword("SELECT")) return ErrorExpected("SELECT or '('");
  return ParseSelectNode();
}

Result<QueryNodePtr> Parser::ParseSelectNode() {
  auto select = std::make_unique<SelectNode>(Next().offset);  // SELECT
  uint32_t tallest = 0;
  auto grow = [&tallest](uint32_t height) { tallest = std::max(tallest, height); };
  select->distinct = AcceptKeyword("DISTINCT");
  if (select->distinct && AtKeyword("ON") && Peek(1).kind == TokenKind::kLeftParen) {
    return ErrorAt(Peek(),
                   "SELECT DISTINCT ON (...) is not supported; for each key's newest "
                   "row use GROUP BY key with last(v, time)");
  }
  if (!select->distinct) AcceptKeyword("ALL");
  do {
    SW_ASSIGN_OR_RETURN(SelectItem item, ParseSelectItem());
    grow(item.expr->height);
    select->items.push_back(std::move(item));
  } while (Accept(TokenKind::kComma));
  last_clause_ = Clause::kSelectList;
  if (AcceptKeyword("FROM")) {
    do {
      SW_ASSIGN_OR_RETURN(TableRefPtr table, ParseTableRef());
      grow(table->height);
      select->from.push_back(std::move(table));
    } while (Accept(TokenKind::kComma));
    last_clause_ = Clause::kFrom;
  }
  if (AcceptKeyword("WHERE")) {
    SW_ASSIGN_OR_RETURN(select->where, ParseExpr());
    grow(select->where->height);
    last_clause_ = Clause::kWhere;
  }
  if (AtKeyword("GROUP")) {
    Next();
    SW_RETURN_IF_ERROR(ExpectKeyword("BY"));
    do {
      SW_ASSIGN_OR_RETURN(ExprPtr key, ParseExpr());
      grow(key->height);
      select->group_by.push_back(std::move(key));
    } while (Accept(TokenKind::kComma));
    last_clause_ = Clause::kGroupBy;
  }
  if (AcceptKeyword("HAVING")) {
    SW_ASSIGN_OR_RETURN(select->having, ParseExpr());
    grow(select->having->height);
    last_clause_ = Clause::kHaving;
  }
  select->height = tallest + 1;
  SW_RETURN_IF_ERROR(CheckHeight(select->height));
  return select;
}

Result<SelectItem> Parser::ParseSelectItem() {
  SelectItem item;
  item.offset = Peek().offset;
  // *, t.*, db.t.*
  auto is_name = [this](size_t ahead) {
    const Token& token = Peek(ahead);
    return token.kind == TokenKind::kQuotedIdentifier ||
           (token.kind == TokenKind::kIdentifier && !IsReservedWord(token.value));
  };
  auto is = [this](size_t ahead, TokenKind kind) { return Peek(ahead).kind == kind; };
  size_t parts = 0;
  if (is(0, TokenKind::kStar)) {
    parts = 0;
  } else if (is_name(0) && is(1, TokenKind::kDot) && is(2, TokenKind::kStar)) {
    parts = 1;
  } else if (is_name(0) && is(1, TokenKind::kDot) && is_name(2) && is(3, TokenKind::kDot) &&
             is(4, TokenKind::kStar)) {
    parts = 2;
  } else {
    SW_ASSIGN_OR_RETURN(item.expr, ParseExpr());
    SW_ASSIGN_OR_RETURN(item.alias, ParseOptionalAlias());
    return item;
  }
  auto star = std::make_unique<StarExpr>(item.offset);
  if (parts == 2) {
    star->database = Peek(0).value;
    star->table = Peek(2).value;
  } else if (parts == 1) {
    star->table = Peek(0).value;
  }
  for (size_t i = 0; i < 2 * parts + 1; ++i) Next();
  item.expr = std::move(star);
  return item;
}

Result<std::vector<OrderByItem>> Parser::ParseOrderByList() {
  std::vector<OrderByItem> items;
  do {
    OrderByItem item;
    item.offset = Peek().offset;
    SW_ASSIGN_OR_RETURN(item.expr, ParseExpr());
    if (AcceptKeyword("ASC")) {
      item.direction = SortDirection::kAscending;
    } else if (AcceptKeyword("DESC")) {
      item.direction = SortDirection::kDescending;
    }
    if (AcceptKeyword("NULLS")) {
      if (AcceptKeyword("FIRST")) {
        item.nulls = NullsOrder::kFirst;
      } else if (AcceptKeyword("LAST")) {
        item.nulls = NullsOrder::kLast;
      } else {
        return ErrorExpected("FIRST or LAST");
      }
    }
    items.push_back(std::move(item));
  } while (Accept(TokenKind::kComma));
  return items;
}

// ---- FROM

Result<TableRefPtr> Parser::ParseTableRef() {
  SW_ASSIGN_OR_RETURN(TableRefPtr left, ParseTablePrimary());
  while (true) {
    const Token& token = Peek();
    size_t join_offset = token.offset;
    JoinType type;
    if (token.IsKeyword("JOIN")) {
      type = JoinType::kInner;
    } else if (token.IsKeyword("INNER")) {
      Next();
      type = JoinType::kInner;
    } else if (token.IsKeyword("LEFT")) {
      Next();
      AcceptKeyword("OUTER");
      type = JoinType::kLeft;
    } else if (token.IsKeyword("CROSS")) {
      Next();
      type = JoinType::kCross;
    } else if (token.IsKeyword("RIGHT")) {
      return ErrorAt(token, "RIGHT JOIN is not supported (swap the tables and use LEFT JOIN)");
    } else if (token.IsKeyword("FULL") || token.IsKeyword("NATURAL")) {
      return ErrorAt(token, fmt::format("{} JOIN is not supported", token.text));
    } else {
      break;
    }
    auto join = std::make_unique<JoinTableRef>(join_offset);
    SW_RETURN_IF_ERROR(ExpectKeyword("JOIN"));
    join->type = type;
    join->left = std::move(left);
    SW_ASSIGN_OR_RETURN(join->right, ParseTablePrimary());
    uint32_t tallest = std::max(join->left->height, join->right->height);
    if (type != JoinType::kCross) {
      if (AcceptKeyword("ON")) {
        SW_ASSIGN_OR_RETURN(join->condition, ParseExpr());
        tallest = std::max(tallest, join->condition->height);
      } else if (AcceptKeyword("USING")) {
        SW_RETURN_IF_ERROR(Expect(TokenKind::kLeftParen, "'('"));
        do {
          SW_ASSIGN_OR_RETURN(std::string column, ParseIdentifier("column name"));
          join->using_columns.push_back(std::move(column));
        } while (Accept(TokenKind::kComma));
        SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "',' or ')'"));
      } else {
        return ErrorExpected("ON or USING");
      }
    }
    join->height = tallest + 1;
    SW_RETURN_IF_ERROR(CheckHeight(join->height));
    left = std::move(join);
  }
  return left;
}

Result<TableRefPtr> Parser::ParseTablePrimary() {
  size_t offset = Peek().offset;
  if (At(TokenKind::kLeftParen)) {
    DepthScope scope;
    SW_RETURN_IF_ERROR(Enter(scope));
    if (IsQueryInParens(pos_)) {
      Next();
      auto subquery = std::make_unique<SubqueryTableRef>(offset);
      SW_ASSIGN_OR_RETURN(subquery->query, ParseSelectStatement());
      SW_RETURN_IF_ERROR(ExpectQueryEnd());
      SW_ASSIGN_OR_RETURN(subquery->alias, ParseOptionalAlias());
      subquery->height = subquery->query->height + 1;
      SW_RETURN_IF_ERROR(CheckHeight(subquery->height));
      return subquery;
    }
    Next();
    SW_ASSIGN_OR_RETURN(TableRefPtr inner, ParseTableRef());
    SW_RETURN_IF_ERROR(Expect(TokenKind::kRightParen, "JOIN or ')'"));
    return inner;
  }
  auto table = std::make_unique<BaseTableRef>(offset);
  SW_ASSIGN_OR_RETURN(table->table, ParseTableName());
  SW_ASSIGN_OR_RETURN(table->alias, ParseOptionalAlias());
  return table;
}

}  // namespace internal

Result<Statement> ParseSql(std::string_view text) {
  SW_ASSIGN_OR_RETURN(auto tokens, Tokenize(text));
  return internal::Parser(text, std::move(tokens)).ParseSingle();
}

Result<std::vector<Statement>> ParseScript(std::string_view text) {
  SW_ASSIGN_OR_RETURN(auto tokens, Tokenize(text));
  return internal::Parser(text, std::move(tokens)).ParseAll();
}

Result<ExprPtr> ParseExpression(std::string_view text) {
  SW_ASSIGN_OR_RETURN(auto tokens, Tokenize(text));
  return internal::Parser(text, std::move(tokens)).ParseStandaloneExpression();
}

}  // namespace seaway::sql
