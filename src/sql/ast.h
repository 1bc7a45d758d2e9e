// The SQL syntax tree (src/sql): what ParseSql produces and ToSql prints.
//
// A faithful picture of the text, before any name is resolved: the binder (next phase) checks
// names against the catalog, types the expressions and rejects what the grammar allows but the
// engine cannot run (e.g. `*` outside the select list, count(DISTINCT *)).
//
// Conventions:
//   - Every node keeps `offset`, the byte offset in the query text of the token that names it:
//     the operator of an operator expression, the keyword of a clause or special form, the first
//     name part of a reference, the name of a function. Later phases report errors there
//     (source_excerpt.h turns it into line, column and a caret excerpt).
//   - Every node keeps `height`: 1 for a leaf, else 1 + the tallest child (subqueries included).
//     The parser rejects trees taller than kMaxNestingDepth (parser.h), so recursive passes over
//     a parsed tree have a bounded depth.
//   - Names are as the binder should compare them: unquoted identifiers folded to lower case,
//     "quoted" ones verbatim. An empty name means "absent" (quoted names cannot be empty).
//   - Children are owned through std::unique_ptr; a null pointer is an absent optional part.
//
// Thread-compatible: a tree is a value with one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/check.h"

namespace seaway::sql {

struct SelectStatement;

// ---------------------------------------------------------------------------------------------
// Expressions

enum class ExprKind : uint8_t {
  kLiteral,       // 1, 2.5, 'text', TRUE, NULL, INTERVAL '5 minutes'
  kColumnRef,     // a, t.a, db.t.a
  kStar,          // * or t.* (select list only)
  kFunctionCall,  // f(a, b), count(*), count(DISTINCT a), percentile_cont(0.5) WITHIN GROUP (...)
  kUnary,         // NOT a, -a, +a
  kBinary,        // a + b, a = b, a ~ 'x', ...
  kLogical,       // a AND b AND c, a OR b (flattened chains)
  kIsNull,        // a IS [NOT] NULL
  kInList,        // a [NOT] IN (1, 2)
  kInSubquery,    // a [NOT] IN (SELECT ...)
  kLike,          // a [NOT] LIKE|ILIKE 'x%'
  kBetween,       // a [NOT] BETWEEN b AND c
  kCase,          // CASE [a] WHEN ... THEN ... [ELSE ...] END
  kCast,          // CAST(a AS type), a::type, TIMESTAMP '...'
  kExtract,       // EXTRACT(field FROM a)
  kSubquery,      // (SELECT ...) as a scalar
  kExists,        // EXISTS (SELECT ...)
};

struct Expr {
  Expr(ExprKind kind, size_t offset) : kind(kind), offset(offset) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  // The node as its concrete type. REQUIRES: kind == T::kKind.
  template <typename T>
  const T& As() const {
    SW_CHECK(kind == T::kKind);
    return static_cast<const T&>(*this);
  }
  template <typename T>
  T& As() {
    SW_CHECK(kind == T::kKind);
    return static_cast<T&>(*this);
  }

  const ExprKind kind;
  size_t offset;
  uint32_t height = 1;
};

using ExprPtr = std::unique_ptr<Expr>;

enum class SortDirection : uint8_t { kDefault, kAscending, kDescending };
enum class NullsOrder : uint8_t { kDefault, kFirst, kLast };

// One key of ORDER BY (statement or WITHIN GROUP): expr [ASC|DESC] [NULLS FIRST|LAST].
struct OrderByItem {
  ExprPtr expr;
  SortDirection direction = SortDirection::kDefault;
  NullsOrder nulls = NullsOrder::kDefault;
  size_t offset = 0;
};

// A type as written in CAST(x AS type) or x::type: lower-case name ("double precision",
// "timestamptz" for timestamp with time zone) and optional integer parameters (varchar(10)).
struct TypeName {
  std::string name;
  std::vector<int64_t> params;
  size_t offset = 0;
};

enum class LiteralKind : uint8_t { kNull, kBool, kInteger, kUnsigned, kFloat, kString, kInterval };

struct LiteralExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kLiteral;
  explicit LiteralExpr(size_t offset) : Expr(kKind, offset) {}

  LiteralKind literal_kind = LiteralKind::kNull;
  bool bool_value = false;
  // A minus sign right before a number is part of the literal: -5 is the integer -5. Integers
  // past int64_t that fit uint64_t are kUnsigned (uint_value); larger ones become floats.
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double float_value = 0;
  std::string string_value;  // kString: the text; kInterval: the quoted text ('5 minutes')
};

struct ColumnRefExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kColumnRef;
  explicit ColumnRefExpr(size_t offset) : Expr(kKind, offset) {}

  std::string database;  // empty unless db.t.c
  std::string table;     // empty unless t.c or db.t.c
  std::string column;
};

struct StarExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kStar;
  explicit StarExpr(size_t offset) : Expr(kKind, offset) {}

  std::string database;  // db.t.*
  std::string table;     // t.*; empty for a bare *
};

// Aggregates and scalar functions alike: the binder tells them apart by name. Ordered-set
// aggregates are accepted in both spellings:
//   percentile_cont(0.5) WITHIN GROUP (ORDER BY x)   -> args {0.5}, within_group {x}
//   percentile_cont(x, 0.5)                          -> args {x, 0.5}
// An aggregate may have FILTER (WHERE cond): count(*) FILTER (WHERE v > 5) -> filter {v > 5}.
struct FunctionCallExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kFunctionCall;
  explicit FunctionCallExpr(size_t offset) : Expr(kKind, offset) {}

  std::string name;  // lower case unless quoted
  std::vector<ExprPtr> args;
  bool distinct = false;  // f(DISTINCT ...)
  bool star = false;      // f(*); args is empty
  std::vector<OrderByItem> within_group;
  ExprPtr filter;  // FILTER (WHERE ...); null when absent
};

enum class UnaryOp : uint8_t { kNot, kNegate, kPlus };  // NOT a, -a, +a

struct UnaryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kUnary;
  explicit UnaryExpr(size_t offset) : Expr(kKind, offset) {}

  UnaryOp op = UnaryOp::kNot;
  ExprPtr operand;
};

enum class BinaryOp : uint8_t {
  kEqual,
  kNotEqual,  // <> and !=
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kRegexMatch,      // ~
  kRegexIMatch,     // ~*
  kRegexNotMatch,   // !~
  kRegexNotIMatch,  // !~*
  kConcat,          // ||
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kPower,  // ^ (DOUBLE ^ DOUBLE, as in PostgreSQL)
};

struct BinaryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kBinary;
  explicit BinaryExpr(size_t offset) : Expr(kKind, offset) {}

  BinaryOp op = BinaryOp::kEqual;
  ExprPtr left;
  ExprPtr right;
};

enum class LogicalOp : uint8_t { kAnd, kOr };

// `a AND b AND c` is one node with three operands (a long OR of tag values stays shallow);
// parentheses keep their grouping: `(a AND b) AND c` is two nodes.
struct LogicalExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kLogical;
  explicit LogicalExpr(size_t offset) : Expr(kKind, offset) {}

  LogicalOp op = LogicalOp::kAnd;
  std::vector<ExprPtr> operands;  // at least two
};

struct IsNullExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kIsNull;
  explicit IsNullExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  bool negated = false;  // IS NOT NULL
  // IS [NOT] TRUE / FALSE instead of NULL (IS UNKNOWN is IS NULL), or IS [NOT] DISTINCT FROM
  // `other`.
  enum class Test : uint8_t { kNull, kTrue, kFalse, kDistinctFrom } test = Test::kNull;
  ExprPtr other;  // kDistinctFrom only
};

struct InListExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kInList;
  explicit InListExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  std::vector<ExprPtr> list;  // at least one
  bool negated = false;
};

struct LikeExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kLike;
  explicit LikeExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  ExprPtr pattern;
  ExprPtr escape;  // ESCAPE 'c'; null when absent (the escape character is then '\\')
  bool negated = false;
  bool case_insensitive = false;  // ILIKE
};

struct BetweenExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kBetween;
  explicit BetweenExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  ExprPtr low;
  ExprPtr high;
  bool negated = false;
};

struct CaseWhen {
  ExprPtr when;  // a condition, or a value compared with CaseExpr::operand
  ExprPtr then;
};

struct CaseExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kCase;
  explicit CaseExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;              // CASE x WHEN ...; null for the searched form CASE WHEN cond ...
  std::vector<CaseWhen> whens;  // at least one
  ExprPtr else_result;          // null without ELSE
};

// CAST(x AS type), x::type and typed literals such as TIMESTAMP '2026-01-01T00:00:00Z'.
struct CastExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kCast;
  explicit CastExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  TypeName type;
};

struct ExtractExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kExtract;
  explicit ExtractExpr(size_t offset) : Expr(kKind, offset) {}

  std::string field;  // lower case: year, month, day, hour, epoch, ...
  ExprPtr operand;
};

// ---------------------------------------------------------------------------------------------
// FROM clause

enum class TableRefKind : uint8_t { kTable, kSubquery, kJoin };

struct TableRef {
  TableRef(TableRefKind kind, size_t offset) : kind(kind), offset(offset) {}
  virtual ~TableRef() = default;
  TableRef(const TableRef&) = delete;
  TableRef& operator=(const TableRef&) = delete;

  template <typename T>
  const T& As() const {
    SW_CHECK(kind == T::kKind);
    return static_cast<const T&>(*this);
  }

  const TableRefKind kind;
  size_t offset;
  uint32_t height = 1;
};

using TableRefPtr = std::unique_ptr<TableRef>;

struct TableName {
  std::string database;  // empty: the session's database
  std::string name;
};

struct BaseTableRef : TableRef {
  static constexpr TableRefKind kKind = TableRefKind::kTable;
  explicit BaseTableRef(size_t offset) : TableRef(kKind, offset) {}

  TableName table;
  std::string alias;
};

enum class JoinType : uint8_t { kInner, kLeft, kCross };

struct JoinTableRef : TableRef {
  static constexpr TableRefKind kKind = TableRefKind::kJoin;
  explicit JoinTableRef(size_t offset) : TableRef(kKind, offset) {}

  JoinType type = JoinType::kInner;
  TableRefPtr left;
  TableRefPtr right;
  ExprPtr condition;                       // ON; null for CROSS and USING
  std::vector<std::string> using_columns;  // USING (a, b)
};

// ---------------------------------------------------------------------------------------------
// Queries

enum class QueryNodeKind : uint8_t { kSelect, kSetOperation, kParenthesized };

struct QueryNode {
  QueryNode(QueryNodeKind kind, size_t offset) : kind(kind), offset(offset) {}
  virtual ~QueryNode() = default;
  QueryNode(const QueryNode&) = delete;
  QueryNode& operator=(const QueryNode&) = delete;

  template <typename T>
  const T& As() const {
    SW_CHECK(kind == T::kKind);
    return static_cast<const T&>(*this);
  }

  const QueryNodeKind kind;
  size_t offset;
  uint32_t height = 1;
};

using QueryNodePtr = std::unique_ptr<QueryNode>;

struct SelectItem {
  ExprPtr expr;       // a StarExpr for * and t.*
  std::string alias;  // empty without one
  size_t offset = 0;
};

// SELECT [DISTINCT] items [FROM ...] [WHERE ...] [GROUP BY ...] [HAVING ...]
struct SelectNode : QueryNode {
  static constexpr QueryNodeKind kKind = QueryNodeKind::kSelect;
  explicit SelectNode(size_t offset) : QueryNode(kKind, offset) {}

  bool distinct = false;
  std::vector<SelectItem> items;
  std::vector<TableRefPtr> from;  // FROM a, b: several; each may be a join tree
  ExprPtr where;
  // Expressions as written; an integer literal is an ordinal of the select list (GROUP BY 1).
  std::vector<ExprPtr> group_by;
  ExprPtr having;
};

// left UNION [ALL] right; chains are left-deep.
struct SetOperationNode : QueryNode {
  static constexpr QueryNodeKind kKind = QueryNodeKind::kSetOperation;
  explicit SetOperationNode(size_t offset) : QueryNode(kKind, offset) {}

  bool all = false;  // UNION ALL keeps duplicates
  QueryNodePtr left;
  QueryNodePtr right;
};

// WITH name AS (query)
struct CommonTableExpr {
  std::string name;
  std::unique_ptr<SelectStatement> query;
  size_t offset = 0;
};

// A complete query: [WITH ...] body [ORDER BY ...] [LIMIT n] [OFFSET n]. ORDER BY, LIMIT and
// OFFSET apply to the whole body (to the union, for a set operation).
struct SelectStatement {
  std::vector<CommonTableExpr> ctes;
  QueryNodePtr body;
  std::vector<OrderByItem> order_by;
  ExprPtr limit;        // LIMIT ALL is a NULL literal, as LIMIT NULL (no limit)
  ExprPtr offset_rows;  // OFFSET
  size_t offset = 0;
  uint32_t height = 1;
};

// A query in parentheses that has its own WITH, ORDER BY, LIMIT or OFFSET, as an operand of a
// set operation: (SELECT ... ORDER BY t LIMIT 1) UNION ALL (...). Parentheses around a plain
// query leave no node.
struct ParenthesizedQueryNode : QueryNode {
  static constexpr QueryNodeKind kKind = QueryNodeKind::kParenthesized;
  explicit ParenthesizedQueryNode(size_t offset) : QueryNode(kKind, offset) {}

  std::unique_ptr<SelectStatement> query;
};

// (SELECT ...) [AS] alias in FROM.
struct SubqueryTableRef : TableRef {
  static constexpr TableRefKind kKind = TableRefKind::kSubquery;
  explicit SubqueryTableRef(size_t offset) : TableRef(kKind, offset) {}

  std::unique_ptr<SelectStatement> query;
  std::string alias;  // optional
};

struct InSubqueryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kInSubquery;
  explicit InSubqueryExpr(size_t offset) : Expr(kKind, offset) {}

  ExprPtr operand;
  std::unique_ptr<SelectStatement> query;
  bool negated = false;
};

struct SubqueryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kSubquery;
  explicit SubqueryExpr(size_t offset) : Expr(kKind, offset) {}

  std::unique_ptr<SelectStatement> query;
};

struct ExistsExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::kExists;
  explicit ExistsExpr(size_t offset) : Expr(kKind, offset) {}

  std::unique_ptr<SelectStatement> query;
};

// ---------------------------------------------------------------------------------------------
// Statements

struct ShowDatabasesStatement {};

struct ShowTablesStatement {
  std::string database;        // SHOW TABLES FROM db; empty: the session's database
  size_t database_offset = 0;  // where `database` is in the text
};

// DESCRIBE t, DESC t
struct DescribeStatement {
  TableName table;
  size_t table_offset = 0;  // where the (qualified) table name starts in the text
};

struct Statement {
  std::variant<SelectStatement, ShowDatabasesStatement, ShowTablesStatement, DescribeStatement>
      node;
  size_t offset = 0;
};

}  // namespace seaway::sql
