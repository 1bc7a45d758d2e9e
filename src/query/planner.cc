// Binding and planning (src/query).
#include "query/planner.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_set>

#include <re2/re2.h>

#include "query/expression_executor.h"
#include "query/gap_fill.h"
#include "sql/ast_printer.h"
#include "sql/source_excerpt.h"

namespace seaway::query {

namespace {

using sql::Expr;
using sql::ExprKind;

// Where a column of a FROM relation comes from: a scan column, so that binding a reference
// marks it as read.
struct Origin {
  ScanNode* scan = nullptr;
  int column = -1;
  bool hidden = false;  // not found by unqualified names (the right side of JOIN ... USING)
};

// The tables of database `system` (SystemTableColumns), by name.
constexpr std::array<const char*, 2> kSystemTables = {"series", "tables"};

struct Relation {
  PlanNodePtr node;
  std::vector<Origin> origins;  // parallel to node->columns
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean "x"?)" when a candidate is close to `name`.
std::string Nearest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = EditDistance(name, c);
    // A name with none of its characters kept is no misspelling of it ("h" is not "dc").
    if (d < best_d && d < name.size()) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", best);
}

BoundExprPtr Constant(Value v, size_t offset) {
  auto e = std::make_unique<BoundExpr>();
  e->kind = BoundKind::kConstant;
  e->type = v.type;
  e->offset = offset;
  e->key = v.is_null ? "NULL" : fmt::format("{}:{}", SqlTypeName(v.type), v.ToString());
  if (v.type == SqlType::kText && !v.is_null) e->key = sql::QuoteString(v.s);
  e->constant = std::move(v);
  return e;
}

BoundExprPtr ColumnRef(int column, SqlType type, std::string name) {
  auto e = std::make_unique<BoundExpr>();
  e->kind = BoundKind::kColumn;
  e->column = column;
  e->type = type;
  e->key = fmt::format("#{}", column);
  (void)name;
  return e;
}

bool IsAggregateName(std::string_view name) {
  double f = 0;
  return FindAggregate(name, false, false, &f).has_value();
}

// Whether `e` calls an aggregate outside subqueries.
bool ContainsAggregate(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kFunctionCall: {
      const auto& f = e.As<sql::FunctionCallExpr>();
      if (IsAggregateName(f.name)) return true;
      for (const auto& a : f.args) {
        if (ContainsAggregate(*a)) return true;
      }
      return false;
    }
    case ExprKind::kUnary: return ContainsAggregate(*e.As<sql::UnaryExpr>().operand);
    case ExprKind::kBinary: {
      const auto& b = e.As<sql::BinaryExpr>();
      return ContainsAggregate(*b.left) || ContainsAggregate(*b.right);
    }
    case ExprKind::kLogical:
      for (const auto& o : e.As<sql::LogicalExpr>().operands) {
        if (ContainsAggregate(*o)) return true;
      }
      return false;
    case ExprKind::kIsNull: {
      const auto& i = e.As<sql::IsNullExpr>();
      return ContainsAggregate(*i.operand) || (i.other && ContainsAggregate(*i.other));
    }
    case ExprKind::kInList: {
      const auto& in = e.As<sql::InListExpr>();
      if (ContainsAggregate(*in.operand)) return true;
      for (const auto& x : in.list) {
        if (ContainsAggregate(*x)) return true;
      }
      return false;
    }
    case ExprKind::kInSubquery: return ContainsAggregate(*e.As<sql::InSubqueryExpr>().operand);
    case ExprKind::kLike: {
      const auto& l = e.As<sql::LikeExpr>();
      return ContainsAggregate(*l.operand) || ContainsAggregate(*l.pattern) ||
             (l.escape && ContainsAggregate(*l.escape));
    }
    case ExprKind::kBetween: {
      const auto& b = e.As<sql::BetweenExpr>();
      return ContainsAggregate(*b.operand) || ContainsAggregate(*b.low) ||
             ContainsAggregate(*b.high);
    }
    case ExprKind::kCase: {
      const auto& c = e.As<sql::CaseExpr>();
      if (c.operand && ContainsAggregate(*c.operand)) return true;
      for (const auto& w : c.whens) {
        if (ContainsAggregate(*w.when) || ContainsAggregate(*w.then)) return true;
      }
      return c.else_result && ContainsAggregate(*c.else_result);
    }
    case ExprKind::kCast: return ContainsAggregate(*e.As<sql::CastExpr>().operand);
    case ExprKind::kExtract: return ContainsAggregate(*e.As<sql::ExtractExpr>().operand);
    default: return false;
  }
}

Result<SqlType> TypeFromName(const sql::TypeName& t) {
  const std::string& n = t.name;
  if (n == "double precision" || n == "double" || n == "float" || n == "float8" || n == "real" ||
      n == "float4" || n == "numeric" || n == "decimal") {
    return SqlType::kDouble;
  }
  if (n == "bigint" || n == "int" || n == "integer" || n == "int8" || n == "int4" ||
      n == "smallint" || n == "int2") {
    return SqlType::kBigInt;
  }
  if (n == "ubigint" || n == "uint64" || n == "unsigned") return SqlType::kUBigInt;
  if (n == "text" || n == "varchar" || n == "char" || n == "string" || n == "character varying" ||
      n == "character") {
    return SqlType::kText;
  }
  if (n == "boolean" || n == "bool") return SqlType::kBoolean;
  if (n == "timestamp" || n == "timestamptz" || n == "date") return SqlType::kTimestamp;
  if (n == "interval") return SqlType::kInterval;
  if (n == "time" || n == "timetz") {
    return InvalidArgument(
        "type {} (a time of day) is not supported: take the hours of a TIMESTAMP with "
        "EXTRACT(hour FROM t), or write a duration as INTERVAL '08:30'",
        n);
  }
  return InvalidArgument("unknown type '{}'", n);
}

// Columns referenced by `e` (kColumn indexes).
void CollectColumns(const BoundExpr& e, std::vector<int>* out) {
  if (e.kind == BoundKind::kColumn) out->push_back(e.column);
  for (const auto& c : e.children) CollectColumns(*c, out);
}

void ShiftColumns(BoundExpr* e, int delta) {
  if (e->kind == BoundKind::kColumn) {
    e->column += delta;
    e->key = fmt::format("#{}", e->column);
  }
  for (auto& c : e->children) ShiftColumns(c.get(), delta);
}

void SplitConjuncts(BoundExprPtr e, std::vector<BoundExprPtr>* out) {
  if (e->kind == BoundKind::kAnd) {
    for (auto& c : e->children) SplitConjuncts(std::move(c), out);
    return;
  }
  out->push_back(std::move(e));
}

BoundExprPtr AndOf(std::vector<BoundExprPtr> parts) {
  if (parts.empty()) return nullptr;
  if (parts.size() == 1) return std::move(parts[0]);
  auto e = std::make_unique<BoundExpr>();
  e->kind = BoundKind::kAnd;
  e->type = SqlType::kBoolean;
  e->key = "AND(";
  for (auto& p : parts) {
    e->key += p->key + ",";
    e->children.push_back(std::move(p));
  }
  e->key += ")";
  return e;
}

// LIKE pattern -> anchored RE2 syntax. `escape` (one UTF-8 character, or empty for none)
// escapes the next character; a pattern ending in the escape character is an error, as in
// PostgreSQL (which raises it once a match reaches the end; a constant pattern is refused
// before any row).
Result<std::string> LikeToRegex(std::string_view pattern, std::string_view escape = "\\") {
  std::string out = "^(?s:";
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (!escape.empty() && pattern.substr(i, escape.size()) == escape) {
      i += escape.size() - 1;
      if (i + 1 == pattern.size()) {
        return InvalidArgument("LIKE pattern must not end with escape character");
      }
      // The escaped character, whole (a UTF-8 character may take several bytes).
      size_t end = i + 2;
      while (end < pattern.size() && (static_cast<unsigned char>(pattern[end]) & 0xC0) == 0x80) {
        ++end;
      }
      out += RE2::QuoteMeta(std::string(pattern.substr(i + 1, end - i - 1)));
      i = end - 1;
      continue;
    }
    if (c == '%') {
      out += ".*";
    } else if (c == '_') {
      out += ".";
    } else {
      out += RE2::QuoteMeta(std::string(1, c));
    }
  }
  out += ")$";
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Planner::Impl {
  const Engine* engine;
  PlannerOptions options;
  std::string_view text;
  ExecContext* ctx;
  // CTEs visible by name, innermost last.
  std::vector<std::pair<std::string, const sql::SelectStatement*>> ctes;
  int subquery_depth = 0;
  // The scopes of the queries enclosing the subquery being planned, outermost first.
  std::vector<const std::vector<ColumnInfo>*> outer_columns_;
  // time_bucket_gapfill calls bound in the current SELECT's GROUP BY.
  struct GapFillRequest {
    std::string key;  // the bound time_bucket's key
    std::optional<int64_t> start, finish;
    size_t offset = 0;
  };
  std::vector<GapFillRequest> gapfill_requests;

  Status At(size_t offset, const std::string& message) const {
    return sql::LocateError(InvalidArgument("{}", message), text, offset);
  }
  // `s` at `offset`, or where the executor marked it (a part of the expression at `offset`);
  // a message that holds an excerpt already (a line break) as it is.
  Status At(const Status& s, size_t offset) const {
    const Status located = sql::LocateMarkedError(s, text);
    if (located != s || s.message().find('\n') != std::string_view::npos) return located;
    return sql::LocateError(s, text, offset);
  }

  // ---------------------------------------------------------------------------------------
  // Expression binding

  struct Scope {
    const std::vector<ColumnInfo>* columns = nullptr;
    const std::vector<Origin>* origins = nullptr;
    std::string_view clause = "SELECT";
    // Aggregation: `post` binds over [keys..., aggregates...] of the aggregate node.
    bool post = false;
    std::vector<BoundExprPtr>* keys = nullptr;
    std::vector<AggregateSpec>* aggregates = nullptr;
    // Select-list aliases, for GROUP BY and ORDER BY lookups (not in expressions).
  };

  Status Fold(BoundExprPtr* e) {
    BoundExpr& x = **e;
    if (x.kind == BoundKind::kConstant || x.kind == BoundKind::kColumn) return Status::OK();
    for (const auto& c : x.children) {
      if (c->kind != BoundKind::kConstant) return Status::OK();
    }
    // Casts of constants go through CastValue, which keeps an interval's months (vectors hold
    // nanoseconds only).
    auto v = x.kind == BoundKind::kCast ? CastValue(x.children[0]->constant, x.type)
                                        : EvaluateConstant(x);
    if (!v.ok()) return At(v.status(), x.offset);
    Value val = *v;
    if (val.is_null) val.type = x.type;
    auto c = Constant(std::move(val), x.offset);
    c->type = x.type;
    *e = std::move(c);
    return Status::OK();
  }

  Result<BoundExprPtr> Coerce(BoundExprPtr e, SqlType to) {
    if (e->type == to) return e;
    if (e->type == SqlType::kNull && e->kind == BoundKind::kConstant) {
      e->type = to;
      e->constant.type = to;
      return e;
    }
    if (to == SqlType::kTimestamp && IsTextConstant(*e) && !e->constant.is_null &&
        !DefaultZone().empty()) {
      // A literal without a zone is wall-clock time in the tenant's zone, as PostgreSQL reads
      // it in the session's (the calendar functions use the same zone).
      auto t = ParseTimestampIn(e->constant.s, DefaultZone());
      if (!t.ok()) {
        return At(e->offset, fmt::format("cannot cast '{}' to TIMESTAMP: {}", e->constant.s,
                                         t.status().message()));
      }
      return Constant(Value::Timestamp(*t), e->offset);
    }
    auto c = std::make_unique<BoundExpr>();
    c->kind = BoundKind::kCast;
    c->type = to;
    c->offset = e->offset;
    c->key = fmt::format("CAST({} AS {})", e->key, SqlTypeName(to));
    c->children.push_back(std::move(e));
    SW_RETURN_IF_ERROR(Fold(&c));
    return c;
  }

  // A condition (WHERE, HAVING, ON, CASE WHEN, AND/OR/NOT operands) must be BOOLEAN, as in
  // PostgreSQL: only NULL and string literals ('true') convert; numbers do not.
  Result<BoundExprPtr> AsCondition(BoundExprPtr e) {
    if (e->type == SqlType::kNull || IsTextConstant(*e))
      return Coerce(std::move(e), SqlType::kBoolean);
    return e;
  }

  static bool IsTextConstant(const BoundExpr& e) {
    return e.kind == BoundKind::kConstant && e.type == SqlType::kText;
  }

  // The type two operands of a comparison (or a CASE, COALESCE, UNION...) are brought to.
  Result<SqlType> CommonType(const BoundExpr& a, const BoundExpr& b, size_t offset,
                             std::string_view what) {
    const SqlType x = a.type, y = b.type;
    if (x == y) return x;
    if (x == SqlType::kNull) return y;
    if (y == SqlType::kNull) return x;
    // A string literal takes the type of the other side ('2026-01-01' against a timestamp).
    if (IsTextConstant(a)) return y;
    if (IsTextConstant(b)) return x;
    if (IsNumeric(x) && IsNumeric(y)) {
      if (x == SqlType::kDouble || y == SqlType::kDouble) return SqlType::kDouble;
      // UBIGINT with a literal that is one too (`u > 0`, `u - 1`): unsigned, so that values
      // from 2^63 on, which BIGINT cannot hold, still compare and compute.
      auto unsigned_literal = [](const BoundExpr& e) {
        return e.kind == BoundKind::kConstant && e.type == SqlType::kBigInt && e.constant.i >= 0;
      };
      if ((x == SqlType::kUBigInt && unsigned_literal(b)) ||
          (y == SqlType::kUBigInt && unsigned_literal(a))) {
        return SqlType::kUBigInt;
      }
      // An integer literal past BIGINT (a UBIGINT constant from 2^63 on) with BIGINT: DOUBLE,
      // which holds both (PostgreSQL compares them as numeric).
      auto past_bigint = [](const BoundExpr& e) {
        return e.kind == BoundKind::kConstant && e.type == SqlType::kUBigInt &&
               !e.constant.is_null && e.constant.i < 0;
      };
      if (past_bigint(a) || past_bigint(b)) return SqlType::kDouble;
      return SqlType::kBigInt;  // BIGINT with UBIGINT
    }
    // Integers as nanoseconds against timestamps: time > 1700000000000000000.
    if ((x == SqlType::kTimestamp && y == SqlType::kBigInt) ||
        (y == SqlType::kTimestamp && x == SqlType::kBigInt)) {
      return SqlType::kTimestamp;
    }
    return At(offset, fmt::format("cannot {} {} and {}", what, SqlTypeName(x), SqlTypeName(y)));
  }

  Result<BoundExprPtr> MakeFunction(Function f, SqlType type, std::vector<BoundExprPtr> args,
                                    size_t offset, std::string_view name) {
    auto e = std::make_unique<BoundExpr>();
    e->kind = BoundKind::kFunction;
    e->function = f;
    e->type = type;
    e->offset = offset;
    e->key = fmt::format("{}(", name);
    for (auto& a : args) {
      e->key += a->key + ",";
      e->children.push_back(std::move(a));
    }
    e->key += ")";
    SW_RETURN_IF_ERROR(Fold(&e));
    return e;
  }

  Result<BoundExprPtr> BindComparison(Function f, BoundExprPtr l, BoundExprPtr r, size_t offset) {
    SW_ASSIGN_OR_RETURN(SqlType t, CommonType(*l, *r, offset, "compare"));
    if (t == SqlType::kNull) t = SqlType::kBoolean;
    auto cl = Coerce(std::move(l), t);
    if (!cl.ok()) return At(cl.status(), offset);
    auto cr = Coerce(std::move(r), t);
    if (!cr.ok()) return At(cr.status(), offset);
    std::vector<BoundExprPtr> args;
    args.push_back(std::move(*cl));
    args.push_back(std::move(*cr));
    // INTERVAL constants with months compare as 30-day months (as PostgreSQL does).
    for (auto& a : args) {
      if (a->kind == BoundKind::kConstant && a->type == SqlType::kInterval) {
        a->constant.i += a->constant.months * 30 * kNanosPerDay;
        a->constant.months = 0;
      }
    }
    return MakeFunction(f, SqlType::kBoolean, std::move(args), offset, OperatorText(f));
  }

  // Whether an INTERVAL expression may carry months: a constant with months, or anything made
  // from one (only constants have months; time - time never does).
  static bool MayHaveMonths(const BoundExpr& e) {
    if (e.kind == BoundKind::kConstant) return e.constant.months != 0;
    for (const auto& c : e.children) {
      if (c->type == SqlType::kInterval && MayHaveMonths(*c)) return true;
    }
    return false;
  }

  Result<BoundExprPtr> BindArithmetic(Function f, BoundExprPtr l, BoundExprPtr r, size_t offset) {
    const SqlType x = l->type, y = r->type;
    std::vector<BoundExprPtr> args;
    // Timestamps and intervals.
    if (f == Function::kAdd && x == SqlType::kInterval && y == SqlType::kTimestamp) {
      std::swap(l, r);
      return BindArithmetic(f, std::move(l), std::move(r), offset);
    }
    if (x == SqlType::kTimestamp && (y == SqlType::kInterval || IsTextConstant(*r)) &&
        (f == Function::kAdd || f == Function::kSubtract)) {
      SW_ASSIGN_OR_RETURN(r, Coerce(std::move(r), SqlType::kInterval));
      if (r->kind == BoundKind::kConstant) {
        Interval iv = r->constant.interval();
        if (f == Function::kSubtract) iv = {-iv.months, -iv.nanos};
        args.push_back(std::move(l));
        auto e = std::make_unique<BoundExpr>();
        e->kind = BoundKind::kFunction;
        e->function = Function::kTimestampAddInterval;
        e->type = SqlType::kTimestamp;
        e->offset = offset;
        e->interval = iv;
        e->key = fmt::format("ts_add({},{},{})", args[0]->key, iv.months, iv.nanos);
        e->children = std::move(args);
        SW_RETURN_IF_ERROR(Fold(&e));
        return e;
      }
      args.push_back(std::move(l));
      args.push_back(std::move(r));
      return MakeFunction(f, SqlType::kTimestamp, std::move(args), offset, OperatorText(f));
    }
    if (x == SqlType::kTimestamp && f == Function::kSubtract &&
        (y == SqlType::kTimestamp || IsTextConstant(*r))) {
      SW_ASSIGN_OR_RETURN(r, Coerce(std::move(r), SqlType::kTimestamp));
      args.push_back(std::move(l));
      args.push_back(std::move(r));
      return MakeFunction(Function::kTimestampSubtract, SqlType::kInterval, std::move(args), offset,
                          "ts_sub");
    }
    // INTERVAL * n, n * INTERVAL, INTERVAL / n.
    auto number = [](SqlType t) { return IsNumeric(t) || t == SqlType::kNull; };
    if (f == Function::kMultiply && number(x) && y == SqlType::kInterval) std::swap(l, r);
    if (l->type == SqlType::kInterval && number(r->type) &&
        (f == Function::kMultiply || f == Function::kDivide)) {
      SW_ASSIGN_OR_RETURN(r, Coerce(std::move(r), SqlType::kDouble));
      if (MayHaveMonths(*l) && r->kind != BoundKind::kConstant) {
        return At(offset,
                  "an INTERVAL of months times a column is not supported (a month has no "
                  "fixed length); scale days instead: INTERVAL '30 days' * n");
      }
      args.push_back(std::move(l));
      args.push_back(std::move(r));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kIntervalScale;
      e->type = SqlType::kInterval;
      e->offset = offset;
      e->unit = f == Function::kDivide ? "/" : "*";
      e->key = fmt::format("interval_scale({},{},{})", e->unit, args[0]->key, args[1]->key);
      e->children = std::move(args);
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (x == SqlType::kInterval && y == SqlType::kInterval &&
        (f == Function::kAdd || f == Function::kSubtract)) {
      if ((MayHaveMonths(*l) || MayHaveMonths(*r)) &&
          (l->kind != BoundKind::kConstant || r->kind != BoundKind::kConstant)) {
        return At(offset,
                  "adding an INTERVAL of months to a computed INTERVAL is not supported "
                  "(a month has no fixed length)");
      }
      args.push_back(std::move(l));
      args.push_back(std::move(r));
      return MakeFunction(f, SqlType::kInterval, std::move(args), offset, OperatorText(f));
    }
    const bool lx = IsNumeric(x) || x == SqlType::kNull || IsTextConstant(*l);
    const bool ry = IsNumeric(y) || y == SqlType::kNull || IsTextConstant(*r);
    if (!lx || !ry) {
      return At(offset, fmt::format("operator {} cannot take {} and {}", OperatorText(f),
                                    SqlTypeName(x), SqlTypeName(y)));
    }
    SW_ASSIGN_OR_RETURN(SqlType t, CommonType(*l, *r, offset, "combine"));
    if (t == SqlType::kNull || t == SqlType::kText) t = SqlType::kDouble;
    auto cl = Coerce(std::move(l), t);
    if (!cl.ok()) return At(cl.status(), offset);
    auto cr = Coerce(std::move(r), t);
    if (!cr.ok()) return At(cr.status(), offset);
    args.push_back(std::move(*cl));
    args.push_back(std::move(*cr));
    return MakeFunction(f, t, std::move(args), offset, OperatorText(f));
  }

  // x ^ p: power(x, p) over DOUBLEs, as PostgreSQL's float8 ^ float8 (integers too: 2 ^ 3 is
  // the DOUBLE 8). Its errors name the operator (`overflow in 10 ^ 400`), hence `unit`.
  Result<BoundExprPtr> BindPowerOperator(BoundExprPtr l, BoundExprPtr r, size_t offset) {
    for (const BoundExprPtr* side : {&l, &r}) {
      const BoundExpr& x = **side;
      if (!IsNumeric(x.type) && x.type != SqlType::kNull && !IsTextConstant(x)) {
        return At(offset, fmt::format("operator ^ cannot take {} and {}", SqlTypeName(l->type),
                                      SqlTypeName(r->type)));
      }
    }
    auto e = std::make_unique<BoundExpr>();
    e->kind = BoundKind::kFunction;
    e->function = Function::kPower;
    e->type = SqlType::kDouble;
    e->offset = offset;
    e->unit = "^";
    e->key = "power(";
    for (BoundExprPtr* side : {&l, &r}) {
      auto c = Coerce(std::move(*side), SqlType::kDouble);
      if (!c.ok()) return At(c.status(), offset);
      e->key += (*c)->key + ",";
      e->children.push_back(std::move(*c));
    }
    e->key += ")";
    SW_RETURN_IF_ERROR(Fold(&e));
    return e;
  }

  Result<BoundExprPtr> BindMatch(BoundExprPtr operand, const BoundExpr& pattern, bool like,
                                 bool case_insensitive, bool negated, size_t offset,
                                 std::string_view escape = "\\") {
    if (pattern.kind != BoundKind::kConstant || pattern.type != SqlType::kText) {
      if (pattern.kind == BoundKind::kConstant && pattern.constant.is_null) {
        return Constant(Value::Null(SqlType::kBoolean), offset);
      }
      return At(offset, "the pattern must be a string constant");
    }
    SW_ASSIGN_OR_RETURN(operand, Coerce(std::move(operand), SqlType::kText));
    std::string source = pattern.constant.s;
    if (like) {
      auto regex = LikeToRegex(source, escape);
      if (!regex.ok()) return At(regex.status(), offset);
      source = std::move(*regex);
    }
    RE2::Options opts;
    opts.set_case_sensitive(!case_insensitive);
    opts.set_dot_nl(true);  // as in PostgreSQL, '.' matches a newline
    opts.set_log_errors(false);
    opts.set_max_mem(8 << 20);
    auto re = std::make_shared<RE2>(source, opts);
    if (!re->ok()) {
      return At(offset, fmt::format("invalid regular expression '{}': {}", pattern.constant.s,
                                    re->error()));
    }
    auto e = std::make_unique<BoundExpr>();
    e->kind = BoundKind::kMatch;
    e->type = SqlType::kBoolean;
    e->offset = offset;
    e->negated = negated;
    e->regex = std::move(re);
    e->key = fmt::format("match({},{},{},{})", operand->key, sql::QuoteString(source),
                         case_insensitive, negated);
    e->children.push_back(std::move(operand));
    SW_RETURN_IF_ERROR(Fold(&e));
    return e;
  }

  // Runs an uncorrelated subquery now; returns its rows. `outer` is the enclosing query's scope,
  // only to tell a reference to it (a correlated subquery) from an unknown name.
  Result<DataChunk> RunSubquery(const sql::SelectStatement& q, size_t offset, const Scope& outer) {
    if (++subquery_depth > 16) return At(offset, "subqueries nested too deeply");
    outer_columns_.push_back(outer.columns);
    auto plan = PlanQuery(q);
    outer_columns_.pop_back();
    --subquery_depth;
    if (!plan.ok()) return plan.status();
    CollectSink sink(ctx);
    SW_RETURN_IF_ERROR((*plan)->Execute(*ctx, &sink));
    DataChunk all;
    all.columns.resize((*plan)->columns.size());
    for (size_t c = 0; c < all.columns.size(); ++c) all.columns[c].Reset((*plan)->columns[c].type);
    for (const auto& c : sink.chunks) AppendChunk(c, &all);
    return all;
  }

  Result<BoundExprPtr> BindFunction(const sql::FunctionCallExpr& f, Scope& scope) {
    const std::string& name = f.name;
    if ((name == "locf" || name == "interpolate") && scope.post && f.args.size() == 1 &&
        f.args[0]->kind == ExprKind::kFunctionCall &&
        IsAggregateName(f.args[0]->As<sql::FunctionCallExpr>().name)) {
      return BindAggregate(f.args[0]->As<sql::FunctionCallExpr>(), scope, name == "locf" ? 1 : 2);
    }
    if (IsAggregateName(name)) {
      if (!scope.post) {
        return At(f.offset,
                  fmt::format("aggregate function {}() is not allowed in {}", name, scope.clause));
      }
      return BindAggregate(f, scope);
    }
    if (f.distinct || f.star || !f.within_group.empty() || f.filter) {
      return At(f.offset, fmt::format("{}() is not an aggregate function", name));
    }
    std::vector<BoundExprPtr> args;
    for (const auto& a : f.args) {
      SW_ASSIGN_OR_RETURN(auto b, BindExpr(*a, scope));
      args.push_back(std::move(b));
    }
    auto arity = [&](size_t lo, size_t hi) -> Status {
      if (args.size() < lo || args.size() > hi) {
        if (lo == hi) {
          return At(f.offset, fmt::format("{}() takes {} argument{}, not {}", name, lo,
                                          lo == 1 ? "" : "s", args.size()));
        }
        return At(f.offset,
                  fmt::format("{}() takes {} to {} arguments, not {}", name, lo, hi, args.size()));
      }
      return Status::OK();
    };
    auto need = [&](size_t i, SqlType t) -> Status {
      // Text functions take text: lower(3.5) is an error, as in PostgreSQL (cast explicitly).
      if (t == SqlType::kText && args[i]->type != SqlType::kText &&
          args[i]->type != SqlType::kNull) {
        return At(f.offset, fmt::format("{}() argument {} must be TEXT, not {} (cast it: x::text)",
                                        name, i + 1, SqlTypeName(args[i]->type)));
      }
      auto c = Coerce(std::move(args[i]), t);
      if (!c.ok()) return At(c.status(), f.offset);
      args[i] = std::move(*c);
      if (args[i]->type != t) {
        return At(f.offset, fmt::format("{}() argument {} must be {}, not {}", name, i + 1,
                                        SqlTypeName(t), SqlTypeName(args[i]->type)));
      }
      return Status::OK();
    };
    auto need_numeric = [&](size_t i) -> Status {
      if (IsTextConstant(*args[i])) return need(i, SqlType::kDouble);
      if (!IsNumeric(args[i]->type) && args[i]->type != SqlType::kNull) {
        return At(f.offset, fmt::format("{}() argument {} must be a number, not {}", name, i + 1,
                                        SqlTypeName(args[i]->type)));
      }
      return Status::OK();
    };
    auto text_constant = [&](size_t i, std::string_view what) -> Result<std::string> {
      if (args[i]->kind != BoundKind::kConstant ||
          (args[i]->type != SqlType::kText && args[i]->type != SqlType::kNull)) {
        return At(f.offset, fmt::format("{}() {} must be a string constant", name, what));
      }
      return args[i]->constant.s;
    };
    auto simple = [&](Function fn, SqlType type) {
      return MakeFunction(fn, type, std::move(args), f.offset, name);
    };

    if (name == "now" || name == "current_timestamp") {
      SW_RETURN_IF_ERROR(arity(0, 0));
      return Constant(Value::Timestamp(options.now), f.offset);
    }
    if (name == "abs" || name == "sign") {
      SW_RETURN_IF_ERROR(arity(1, 1));
      SW_RETURN_IF_ERROR(need_numeric(0));
      if (name == "sign") SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
      const SqlType t = args[0]->type == SqlType::kNull ? SqlType::kDouble : args[0]->type;
      return simple(name == "abs" ? Function::kAbs : Function::kSign, t);
    }
    if (name == "round" || name == "floor" || name == "ceil" || name == "ceiling" ||
        name == "trunc") {
      SW_RETURN_IF_ERROR(arity(1, name == "round" || name == "trunc" ? 2 : 1));
      SW_RETURN_IF_ERROR(need_numeric(0));
      if (args.size() == 2) {
        SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
        SW_RETURN_IF_ERROR(need(1, SqlType::kBigInt));
      }
      const SqlType t = args[0]->type == SqlType::kNull ? SqlType::kDouble : args[0]->type;
      const Function fn = name == "round"   ? Function::kRound
                          : name == "floor" ? Function::kFloor
                          : name == "trunc" ? Function::kTrunc
                                            : Function::kCeil;
      return simple(fn, t);
    }
    if (name == "log" && args.size() == 2) {  // log(base, x)
      SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
      SW_RETURN_IF_ERROR(need(1, SqlType::kDouble));
      if (args[0]->kind == BoundKind::kConstant && !args[0]->constant.is_null &&
          args[0]->constant.d == 10) {  // exact powers of ten: log10 itself
        args.erase(args.begin());
        return simple(Function::kLog10, SqlType::kDouble);
      }
      return simple(Function::kLog, SqlType::kDouble);
    }
    if (name == "sqrt" || name == "ln" || name == "log10" || name == "log" || name == "exp") {
      SW_RETURN_IF_ERROR(arity(1, 1));
      SW_RETURN_IF_ERROR(need_numeric(0));
      SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
      const Function fn = name == "sqrt"  ? Function::kSqrt
                          : name == "ln"  ? Function::kLn
                          : name == "exp" ? Function::kExp
                                          : Function::kLog10;
      return simple(fn, SqlType::kDouble);
    }
    if (name == "power" || name == "pow") {
      SW_RETURN_IF_ERROR(arity(2, 2));
      SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
      SW_RETURN_IF_ERROR(need(1, SqlType::kDouble));
      return simple(Function::kPower, SqlType::kDouble);
    }
    if (name == "trim" || name == "ltrim" || name == "rtrim" || name == "btrim") {
      // The characters to strip (a second argument) default to the space.
      SW_RETURN_IF_ERROR(arity(1, 2));
      for (size_t i = 0; i < args.size(); ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kText));
      if (name == "ltrim") return simple(Function::kLtrim, SqlType::kText);
      if (name == "rtrim") return simple(Function::kRtrim, SqlType::kText);
      return simple(Function::kTrim, SqlType::kText);
    }
    if (name == "lower" || name == "upper" || name == "length" || name == "char_length") {
      SW_RETURN_IF_ERROR(arity(1, 1));
      SW_RETURN_IF_ERROR(need(0, SqlType::kText));
      if (name == "lower") return simple(Function::kLower, SqlType::kText);
      if (name == "upper") return simple(Function::kUpper, SqlType::kText);
      return simple(Function::kLength, SqlType::kBigInt);
    }
    if (name == "position" || name == "strpos") {  // position(x IN s), strpos(s, x)
      SW_RETURN_IF_ERROR(arity(2, 2));
      for (size_t i = 0; i < 2; ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kText));
      if (name == "position") std::swap(args[0], args[1]);
      return simple(Function::kStrpos, SqlType::kBigInt);
    }
    if (name == "substring" && args.size() == 2 && args[1]->type == SqlType::kText) {
      // substring(s FROM pattern): the first match of a POSIX-style regular expression, or
      // of its first parenthesised part, as in PostgreSQL; NULL without a match.
      SW_RETURN_IF_ERROR(need(0, SqlType::kText));
      SW_ASSIGN_OR_RETURN(std::string pattern, text_constant(1, "pattern"));
      RE2::Options opts;
      opts.set_dot_nl(true);
      opts.set_log_errors(false);
      opts.set_max_mem(8 << 20);
      auto re = std::make_shared<RE2>(pattern, opts);
      if (!re->ok()) {
        return At(f.offset,
                  fmt::format("invalid regular expression '{}': {}", pattern, re->error()));
      }
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kRegexSubstr;
      e->type = SqlType::kText;
      e->offset = f.offset;
      e->regex = std::move(re);
      e->key = fmt::format("regex_substr({},{})", args[0]->key, sql::QuoteString(pattern));
      e->children.push_back(std::move(args[0]));
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (name == "substr" || name == "substring") {
      SW_RETURN_IF_ERROR(arity(2, 3));
      SW_RETURN_IF_ERROR(need(0, SqlType::kText));
      for (size_t i = 1; i < args.size(); ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kBigInt));
      return simple(Function::kSubstr, SqlType::kText);
    }
    if (name == "left" || name == "right") {
      SW_RETURN_IF_ERROR(arity(2, 2));
      SW_RETURN_IF_ERROR(need(0, SqlType::kText));
      SW_RETURN_IF_ERROR(need(1, SqlType::kBigInt));
      return simple(name == "left" ? Function::kLeft : Function::kRight, SqlType::kText);
    }
    if (name == "replace") {
      SW_RETURN_IF_ERROR(arity(3, 3));
      for (size_t i = 0; i < 3; ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kText));
      return simple(Function::kReplace, SqlType::kText);
    }
    if (name == "split_part") {
      SW_RETURN_IF_ERROR(arity(3, 3));
      for (size_t i = 0; i < 2; ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kText));
      SW_RETURN_IF_ERROR(need(2, SqlType::kBigInt));
      return simple(Function::kSplitPart, SqlType::kText);
    }
    if (name == "concat_ws") {  // any values after the separator, as text (as concat takes them)
      if (args.empty()) return At(f.offset, "concat_ws() needs at least one argument");
      SW_RETURN_IF_ERROR(need(0, SqlType::kText));
      for (size_t i = 1; i < args.size(); ++i) {
        SW_ASSIGN_OR_RETURN(args[i], Coerce(std::move(args[i]), SqlType::kText));
      }
      return simple(Function::kConcatWs, SqlType::kText);
    }
    if (name == "mod") {  // x % y, whose division by zero is NULL
      SW_RETURN_IF_ERROR(arity(2, 2));
      return BindArithmetic(Function::kModulo, std::move(args[0]), std::move(args[1]), f.offset);
    }
    if (name == "starts_with") {
      SW_RETURN_IF_ERROR(arity(2, 2));
      for (size_t i = 0; i < 2; ++i) SW_RETURN_IF_ERROR(need(i, SqlType::kText));
      return simple(Function::kStartsWith, SqlType::kBoolean);
    }
    if (name == "concat") {
      if (args.empty()) return Constant(Value::Text(""), f.offset);
      // concat() skips NULLs: fold pairwise with coalesce(x, '').
      BoundExprPtr acc;
      for (auto& a : args) {
        SW_ASSIGN_OR_RETURN(auto t, Coerce(std::move(a), SqlType::kText));
        std::vector<BoundExprPtr> co;
        co.push_back(std::move(t));
        co.push_back(Constant(Value::Text(""), f.offset));
        SW_ASSIGN_OR_RETURN(auto c, MakeFunction(Function::kCoalesce, SqlType::kText, std::move(co),
                                                 f.offset, "coalesce"));
        if (!acc) {
          acc = std::move(c);
          continue;
        }
        std::vector<BoundExprPtr> pair;
        pair.push_back(std::move(acc));
        pair.push_back(std::move(c));
        SW_ASSIGN_OR_RETURN(
            acc, MakeFunction(Function::kConcat, SqlType::kText, std::move(pair), f.offset, "||"));
      }
      return acc;
    }
    if (name == "coalesce" || name == "greatest" || name == "least" || name == "nullif") {
      if (name == "nullif") {
        SW_RETURN_IF_ERROR(arity(2, 2));
      } else if (args.empty()) {
        return At(f.offset, fmt::format("{}() needs at least one argument", name));
      }
      SqlType t = SqlType::kNull;
      for (auto& a : args) {
        Constant(Value::Null(t), 0);
        auto probe = Constant(Value::Null(t), 0);
        SW_ASSIGN_OR_RETURN(t, CommonType(*probe, *a, f.offset, "combine"));
      }
      for (size_t i = 0; i < args.size(); ++i) SW_RETURN_IF_ERROR(need(i, t));
      const Function fn = name == "coalesce"   ? Function::kCoalesce
                          : name == "greatest" ? Function::kGreatest
                          : name == "least"    ? Function::kLeast
                                               : Function::kNullIf;
      return simple(fn, t);
    }
    const bool gapfill = name == "time_bucket_gapfill";
    if (gapfill) {
      // time_bucket_gapfill(width, time [, zone] [, start, finish]) (TimescaleDB's forms):
      // time_bucket that also asks for empty buckets (gap_fill.h).
      SW_RETURN_IF_ERROR(arity(2, 5));
      BoundExprPtr zone;
      if (args.size() >= 3 && IsTextConstant(*args[2]) && CheckTimeZone(args[2]->constant.s).ok()) {
        zone = std::move(args[2]);
        args.erase(args.begin() + 2);
      }
      if (args.size() > 4) {
        return At(f.offset,
                  "time_bucket_gapfill() takes (width, time [, zone] [, start, "
                  "finish]); the third of five arguments must be a time zone");
      }
      GapFillRequest request;
      request.offset = f.offset;
      for (size_t i = 2; i < args.size(); ++i) {
        SW_RETURN_IF_ERROR(need(i, SqlType::kTimestamp));
        if (args[i]->kind != BoundKind::kConstant || args[i]->constant.is_null) {
          return At(f.offset, "time_bucket_gapfill() start and finish must be constant times");
        }
        (i == 2 ? request.start : request.finish) = args[i]->constant.i;
      }
      args.resize(2);
      if (zone) args.push_back(std::move(zone));  // time_bucket's third argument
      gapfill_requests.push_back(std::move(request));
    }
    if (name == "time_bucket" || gapfill) {
      SW_RETURN_IF_ERROR(arity(2, 3));
      if (IsTextConstant(*args[0])) SW_RETURN_IF_ERROR(need(0, SqlType::kInterval));
      if (args[0]->kind != BoundKind::kConstant || args[0]->type != SqlType::kInterval) {
        return At(f.offset,
                  "time_bucket() width must be an interval constant such as '5m' or "
                  "INTERVAL '5 minutes'");
      }
      const Interval width = args[0]->constant.interval();
      if ((width.months != 0 && width.nanos != 0) || width.months < 0 || width.nanos < 0 ||
          (width.months == 0 && width.nanos == 0)) {
        return At(f.offset,
                  "time_bucket() width must be positive and either months/years or a "
                  "fixed duration, not both");
      }
      SW_RETURN_IF_ERROR(need(1, SqlType::kTimestamp));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kTimeBucket;
      e->type = SqlType::kTimestamp;
      e->offset = f.offset;
      e->interval = width;
      e->origin = width.months > 0 ? 0 : 946'857'600LL * kNanosPerSecond;
      if (args.size() == 2) e->zone = DefaultZone();
      if (args.size() == 3) {
        SW_ASSIGN_OR_RETURN(std::string third,
                            text_constant(2, "third argument (time zone or origin)"));
        if (CheckTimeZone(third).ok()) {
          e->zone = third;
        } else {
          auto origin = ParseTimestamp(third);  // in UTC: the buckets are UTC's
          if (!origin.ok()) {
            return At(f.offset, fmt::format("time_bucket() third argument '{}' is neither a time "
                                            "zone nor an origin timestamp",
                                            third));
          }
          e->origin = *origin;
        }
      }
      e->key = fmt::format("time_bucket({},{},{},{},{})", width.months, width.nanos, e->origin,
                           e->zone, args[1]->key);
      e->children.push_back(std::move(args[1]));
      if (gapfill) gapfill_requests.back().key = e->key;
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (name == "locf" || name == "interpolate") {
      return At(f.offset, fmt::format("{}() takes an aggregate, e.g. {}(avg(x)), in a query "
                                      "grouped by time_bucket_gapfill()",
                                      name, name));
    }
    if (name == "date_trunc") {
      SW_RETURN_IF_ERROR(arity(2, 3));
      SW_ASSIGN_OR_RETURN(std::string unit, text_constant(0, "unit"));
      for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto s = CheckDateTruncUnit(unit); !s.ok()) return At(s, f.offset);
      SW_RETURN_IF_ERROR(need(1, SqlType::kTimestamp));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kDateTrunc;
      e->type = SqlType::kTimestamp;
      e->offset = f.offset;
      e->unit = unit;
      e->zone = DefaultZone();
      if (args.size() == 3) {
        SW_ASSIGN_OR_RETURN(e->zone, text_constant(2, "time zone"));
        if (auto s = CheckTimeZone(e->zone); !s.ok()) return At(s, f.offset);
      }
      e->key = fmt::format("date_trunc({},{},{})", unit, e->zone, args[1]->key);
      e->children.push_back(std::move(args[1]));
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (name == "date_part") {
      SW_RETURN_IF_ERROR(arity(2, 3));
      SW_ASSIGN_OR_RETURN(std::string field, text_constant(0, "field"));
      std::string zone = DefaultZone();
      if (args.size() == 3) {
        SW_ASSIGN_OR_RETURN(zone, text_constant(2, "time zone"));
      }
      return BindExtract(field, std::move(args[1]), zone, f.offset);
    }
    if (name == "to_char") {  // PostgreSQL's, of a timestamp in the tenant's zone
      SW_RETURN_IF_ERROR(arity(2, 2));
      if (args[0]->type != SqlType::kTimestamp && !IsTextConstant(*args[0]) &&
          args[0]->type != SqlType::kNull) {
        return At(f.offset, fmt::format("to_char() of {} is not supported, only of a TIMESTAMP "
                                        "(for a number: round(x, 2)::text)",
                                        SqlTypeName(args[0]->type)));
      }
      SW_RETURN_IF_ERROR(need(0, SqlType::kTimestamp));
      SW_ASSIGN_OR_RETURN(std::string format, text_constant(1, "template"));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kToChar;
      e->type = SqlType::kText;
      e->offset = f.offset;
      e->format = format;
      e->zone = DefaultZone();
      e->key = fmt::format("to_char({},{},{})", sql::QuoteString(format), e->zone, args[0]->key);
      e->children.push_back(std::move(args[0]));
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (name == "format_time" || name == "strftime") {
      SW_RETURN_IF_ERROR(arity(2, 3));
      SW_RETURN_IF_ERROR(need(0, SqlType::kTimestamp));
      SW_ASSIGN_OR_RETURN(std::string format, text_constant(1, "format"));
      auto e = std::make_unique<BoundExpr>();
      e->kind = BoundKind::kFunction;
      e->function = Function::kFormatTime;
      e->type = SqlType::kText;
      e->offset = f.offset;
      e->format = format;
      e->zone = DefaultZone();
      if (args.size() == 3) {
        SW_ASSIGN_OR_RETURN(e->zone, text_constant(2, "time zone"));
        if (auto s = CheckTimeZone(e->zone); !s.ok()) return At(s, f.offset);
      }
      e->key =
          fmt::format("format_time({},{},{})", sql::QuoteString(format), e->zone, args[0]->key);
      e->children.push_back(std::move(args[0]));
      SW_RETURN_IF_ERROR(Fold(&e));
      return e;
    }
    if (name == "to_timestamp") {
      SW_RETURN_IF_ERROR(arity(1, 1));
      if (args[0]->type == SqlType::kText) return Coerce(std::move(args[0]), SqlType::kTimestamp);
      SW_RETURN_IF_ERROR(need_numeric(0));
      SW_RETURN_IF_ERROR(need(0, SqlType::kDouble));
      std::vector<BoundExprPtr> mul;
      mul.push_back(std::move(args[0]));
      mul.push_back(Constant(Value::Double(1e9), f.offset));
      SW_ASSIGN_OR_RETURN(auto ns, MakeFunction(Function::kMultiply, SqlType::kDouble,
                                                std::move(mul), f.offset, "*"));
      return Coerce(std::move(ns), SqlType::kTimestamp);
    }
    if (name == "epoch_ns") {
      SW_RETURN_IF_ERROR(arity(1, 1));
      SW_RETURN_IF_ERROR(need(0, SqlType::kTimestamp));
      return simple(Function::kEpochNanos, SqlType::kBigInt);
    }
    static const std::vector<std::string> kKnown = {
        "abs",          "sign",       "round",      "floor",           "ceil",
        "trunc",        "sqrt",       "ln",         "log10",           "exp",
        "power",        "lower",      "upper",      "length",          "trim",
        "substr",       "left",       "right",      "replace",         "starts_with",
        "position",     "strpos",     "split_part", "concat",          "concat_ws",
        "mod",          "coalesce",   "greatest",   "least",           "nullif",
        "time_bucket",  "date_trunc", "date_part",  "format_time",     "to_char",
        "to_timestamp", "epoch_ns",   "now",        "count",           "sum",
        "avg",          "min",        "max",        "first",           "last",
        "stddev",       "variance",   "median",     "percentile_cont", "spread",
        "bool_and",     "bool_or",    "log"};
    return At(f.offset, fmt::format("unknown function {}(){}", name, Nearest(name, kKnown)));
  }

  // A date is the day (as PostgreSQL's date of a timestamptz: in the session's, here the
  // tenant's, zone), kept a TIMESTAMP at its midnight: date_trunc('day', x).
  Result<BoundExprPtr> DayOf(BoundExprPtr x, size_t offset) {
    auto day = std::make_unique<BoundExpr>();
    day->kind = BoundKind::kFunction;
    day->function = Function::kDateTrunc;
    day->type = SqlType::kTimestamp;
    day->offset = offset;
    day->unit = "day";
    day->zone = DefaultZone();
    day->key = fmt::format("date_trunc(day,{},{})", day->zone, x->key);
    day->children.push_back(std::move(x));
    SW_RETURN_IF_ERROR(Fold(&day));
    return day;
  }

  // The zone of calendar functions that name none: the tenant's ("" for UTC).
  std::string DefaultZone() const {
    return options.time_zone == "UTC" ? std::string() : options.time_zone;
  }

  Result<BoundExprPtr> BindExtract(std::string field, BoundExprPtr operand, std::string zone,
                                   size_t offset) {
    for (char& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto s = CheckExtractField(field); !s.ok()) return At(s, offset);
    if (!zone.empty()) {
      if (auto s = CheckTimeZone(zone); !s.ok()) return At(s, offset);
    }
    if (operand->type == SqlType::kInterval) {
      if (field != "epoch") {
        return At(offset, fmt::format("EXTRACT({} FROM interval) is not supported; take "
                                      "EXTRACT(epoch FROM interval), its length in seconds",
                                      field));
      }
      std::vector<BoundExprPtr> args;
      args.push_back(std::move(operand));
      return MakeFunction(Function::kIntervalEpoch, SqlType::kDouble, std::move(args), offset,
                          "interval_epoch");
    }
    auto ts = Coerce(std::move(operand), SqlType::kTimestamp);
    if (!ts.ok()) return At(ts.status(), offset);
    if ((*ts)->type != SqlType::kTimestamp) {
      return At(offset, fmt::format("EXTRACT needs a TIMESTAMP, not {}", SqlTypeName((*ts)->type)));
    }
    auto e = std::make_unique<BoundExpr>();
    e->kind = BoundKind::kFunction;
    e->function = Function::kExtract;
    const bool fractional = field == "second" || field == "epoch" || field == "millisecond" ||
                            field == "milliseconds" || field == "microsecond" ||
                            field == "microseconds";
    e->type = fractional ? SqlType::kDouble : SqlType::kBigInt;
    e->offset = offset;
    e->unit = field;
    e->zone = zone;
    e->key = fmt::format("extract({},{},{})", field, zone, (*ts)->key);
    e->children.push_back(std::move(*ts));
    SW_RETURN_IF_ERROR(Fold(&e));
    return e;
  }

  Result<BoundExprPtr> BindAggregate(const sql::FunctionCallExpr& f, Scope& scope,
                                     uint8_t fill = 0) {
    double fraction = 0.5;
    auto kind = FindAggregate(f.name, f.distinct, f.star, &fraction);
    if (f.distinct && *kind != AggregateKind::kCountDistinct) {
      return At(f.offset, fmt::format("DISTINCT is supported in count() only, not {}()", f.name));
    }
    Scope inner = scope;
    inner.post = false;
    inner.clause = "an aggregate function's arguments";
    std::vector<BoundExprPtr> args;
    for (const auto& a : f.args) {
      SW_ASSIGN_OR_RETURN(auto b, BindExpr(*a, inner));
      args.push_back(std::move(b));
    }
    for (const auto& w : f.within_group) {
      SW_ASSIGN_OR_RETURN(auto b, BindExpr(*w.expr, inner));
      args.insert(args.begin(), std::move(b));  // percentile_cont(f) WITHIN GROUP (ORDER BY x)
    }
    if ((f.name == "bool_and" || f.name == "bool_or" || f.name == "every") && args.size() == 1) {
      SW_ASSIGN_OR_RETURN(args[0], AsCondition(std::move(args[0])));
      if (args[0]->type != SqlType::kBoolean && args[0]->type != SqlType::kNull) {
        return At(f.offset,
                  fmt::format("{}() takes a BOOLEAN, not {}", f.name, SqlTypeName(args[0]->type)));
      }
    }
    AggregateSpec spec;
    spec.offset = f.offset;
    auto want = [&](size_t n) -> Status {
      if (args.size() != n) {
        return At(f.offset, fmt::format("{}() takes {} argument{}, not {}", f.name, n,
                                        n == 1 ? "" : "s", args.size()));
      }
      return Status::OK();
    };
    switch (*kind) {
      case AggregateKind::kCountStar: SW_RETURN_IF_ERROR(want(0)); break;
      case AggregateKind::kFirst:
      case AggregateKind::kLast:
        if (args.size() == 1) {
          // first(v) / last(v): by the table's time column, bound as if written (so that the
          // scan reads it).
          sql::ColumnRefExpr time_ref(f.offset);
          time_ref.column = "time";
          auto time = BindColumn(time_ref, inner);
          if (!time.ok() && args[0]->kind == BoundKind::kColumn) {
            // In a join: the time of the value's own table.
            time_ref.table = (*scope.columns)[args[0]->column].table;
            time_ref.database = (*scope.columns)[args[0]->column].database;
            if (!time_ref.table.empty()) time = BindColumn(time_ref, inner);
          }
          if (!time.ok() || (*time)->type != SqlType::kTimestamp) {
            return At(f.offset,
                      fmt::format("{}(value) needs one TIMESTAMP column named time; write "
                                  "{}(value, t) with the time column t",
                                  f.name, f.name));
          }
          args.push_back(std::move(*time));
        }
        SW_RETURN_IF_ERROR(want(2));
        {
          auto t = Coerce(std::move(args[1]), SqlType::kTimestamp);
          if (!t.ok()) return At(t.status(), f.offset);
          args[1] = std::move(*t);
          if (args[1]->type != SqlType::kTimestamp) {
            return At(f.offset, fmt::format("{}() second argument must be a TIMESTAMP", f.name));
          }
        }
        break;
      case AggregateKind::kPercentileCont:
      case AggregateKind::kPercentileDisc:
        if (f.name != "median") {
          SW_RETURN_IF_ERROR(want(2));
          SW_ASSIGN_OR_RETURN(args[1], Coerce(std::move(args[1]), SqlType::kDouble));
          if (args[1]->kind != BoundKind::kConstant || args[1]->constant.is_null ||
              args[1]->constant.d < 0 || args[1]->constant.d > 1) {
            return At(f.offset,
                      fmt::format("{}() fraction must be a constant between 0 and 1", f.name));
          }
          fraction = args[1]->constant.d;
          args.pop_back();
        }
        SW_RETURN_IF_ERROR(want(1));
        break;
      default: SW_RETURN_IF_ERROR(want(1)); break;
    }
    if (f.filter) {
      SW_RETURN_IF_ERROR(ApplyFilter(f, inner, kind, &args));
    }
    spec.kind = *kind;
    spec.fraction = fraction;
    // WITHIN GROUP (ORDER BY x DESC): ranks count from the largest value.
    spec.descending =
        !f.within_group.empty() && f.within_group[0].direction == sql::SortDirection::kDescending;
    spec.input_type = args.empty() ? SqlType::kNull : args[0]->type;
    auto rt = AggregateResultType(*kind, spec.input_type, f.name);
    if (!rt.ok()) return At(rt.status(), f.offset);
    spec.result_type = *rt;
    spec.key = fmt::format("{}({}", f.name, f.distinct ? "DISTINCT " : "");
    if (*kind == AggregateKind::kPercentileCont || *kind == AggregateKind::kPercentileDisc) {
      spec.key += fmt::format("{}{},", fraction, spec.descending ? " desc" : "");
    }
    for (const auto& a : args) spec.key += a->key + ",";
    spec.key += ")";
    if (fill != 0) spec.key = (fill == 1 ? "locf:" : "interpolate:") + spec.key;
    spec.fill = fill;
    spec.args = std::move(args);
    auto& aggs = *scope.aggregates;
    size_t index = aggs.size();
    for (size_t i = 0; i < aggs.size(); ++i) {
      if (aggs[i].key == spec.key) index = i;
    }
    const SqlType type = spec.result_type;
    if (index == aggs.size()) aggs.push_back(std::move(spec));
    auto ref = ColumnRef(static_cast<int>(scope.keys->size() + index), type, f.name);
    ref->key = "agg:" + aggs[index].key;
    return ref;
  }

  // FILTER (WHERE cond) of an aggregate: its value argument becomes CASE WHEN cond THEN value
  // END, which every aggregate then skips where cond is not true (they all skip NULLs), and
  // count(*) becomes count(CASE WHEN cond THEN TRUE END). So over rows none of which passes,
  // count is 0 and the others NULL, as in PostgreSQL.
  Status ApplyFilter(const sql::FunctionCallExpr& f, const Scope& inner,
                     std::optional<AggregateKind>& kind, std::vector<BoundExprPtr>* args) {
    Scope where = inner;
    where.clause = "FILTER";
    SW_ASSIGN_OR_RETURN(auto cond, BindExpr(*f.filter, where));
    SW_ASSIGN_OR_RETURN(cond, AsCondition(std::move(cond)));
    if (cond->type != SqlType::kBoolean && cond->type != SqlType::kNull) {
      return At(f.filter->offset,
                fmt::format("FILTER needs a BOOLEAN, not {}", SqlTypeName(cond->type)));
    }
    if (*kind == AggregateKind::kCountStar) {
      kind = AggregateKind::kCount;
      args->push_back(Constant(Value::Boolean(true), f.offset));
    }
    BoundExprPtr& value = (*args)[0];
    auto n = std::make_unique<BoundExpr>();
    n->kind = BoundKind::kCase;
    n->type = value->type;
    n->offset = f.filter->offset;
    n->key = "CASE(" + cond->key + "," + value->key + ",)";
    n->children.push_back(std::move(cond));
    n->children.push_back(std::move(value));
    SW_RETURN_IF_ERROR(Fold(&n));
    value = std::move(n);
    return Status::OK();
  }

  // x IS [NOT] TRUE / FALSE: never NULL. x IS TRUE is (x IS NOT NULL) AND x; IS FALSE has
  // NOT x; IS NOT ... negates the whole.
  Result<BoundExprPtr> BindIsTruth(const sql::IsNullExpr& i, BoundExprPtr operand) {
    SW_ASSIGN_OR_RETURN(operand, AsCondition(std::move(operand)));
    if (operand->type != SqlType::kBoolean && operand->type != SqlType::kNull) {
      return At(i.offset, fmt::format("IS TRUE / IS FALSE need a BOOLEAN, not {}",
                                      SqlTypeName(operand->type)));
    }
    auto node = [&](BoundKind kind, std::string key, std::vector<BoundExprPtr> children,
                    bool negated = false) -> Result<BoundExprPtr> {
      auto n = std::make_unique<BoundExpr>();
      n->kind = kind;
      n->type = SqlType::kBoolean;
      n->offset = i.offset;
      n->negated = negated;
      n->key = std::move(key);
      n->children = std::move(children);
      SW_RETURN_IF_ERROR(Fold(&n));
      return n;
    };
    const std::string key = operand->key;
    std::vector<BoundExprPtr> one;
    one.push_back(CloneExpr(*operand));
    SW_ASSIGN_OR_RETURN(auto present,
                        node(BoundKind::kIsNull, fmt::format("isnull({},1)", key), std::move(one),
                             /*negated=*/true));
    BoundExprPtr value = std::move(operand);
    if (i.test == sql::IsNullExpr::Test::kFalse) {
      std::vector<BoundExprPtr> v;
      v.push_back(std::move(value));
      SW_ASSIGN_OR_RETURN(value, node(BoundKind::kNot, "NOT(" + key + ")", std::move(v)));
    }
    std::vector<BoundExprPtr> both;
    const std::string and_key = "AND(" + present->key + "," + value->key + ")";
    both.push_back(std::move(present));
    both.push_back(std::move(value));
    SW_ASSIGN_OR_RETURN(auto truth, node(BoundKind::kAnd, and_key, std::move(both)));
    if (!i.negated) return truth;
    std::vector<BoundExprPtr> t;
    const std::string not_key = "NOT(" + truth->key + ")";
    t.push_back(std::move(truth));
    return node(BoundKind::kNot, not_key, std::move(t));
  }

  // a IS [NOT] DISTINCT FROM b: never NULL. IS DISTINCT FROM is coalesce(a <> b, (a IS NULL)
  // <> (b IS NULL)): a <> b where both are values, else whether one only is NULL.
  Result<BoundExprPtr> BindDistinctFrom(const sql::IsNullExpr& i, BoundExprPtr a, BoundExprPtr b) {
    auto is_null = [&](const BoundExpr& x) -> Result<BoundExprPtr> {
      auto n = std::make_unique<BoundExpr>();
      n->kind = BoundKind::kIsNull;
      n->type = SqlType::kBoolean;
      n->offset = i.offset;
      n->key = fmt::format("isnull({},0)", x.key);
      n->children.push_back(CloneExpr(x));
      SW_RETURN_IF_ERROR(Fold(&n));
      return n;
    };
    SW_ASSIGN_OR_RETURN(auto a_null, is_null(*a));
    SW_ASSIGN_OR_RETURN(auto b_null, is_null(*b));
    SW_ASSIGN_OR_RETURN(auto differ,
                        BindComparison(Function::kNotEqual, std::move(a), std::move(b), i.offset));
    SW_ASSIGN_OR_RETURN(auto one_null, BindComparison(Function::kNotEqual, std::move(a_null),
                                                      std::move(b_null), i.offset));
    std::vector<BoundExprPtr> args;
    args.push_back(std::move(differ));
    args.push_back(std::move(one_null));
    SW_ASSIGN_OR_RETURN(auto distinct, MakeFunction(Function::kCoalesce, SqlType::kBoolean,
                                                    std::move(args), i.offset, "coalesce"));
    if (!i.negated) return distinct;
    auto n = std::make_unique<BoundExpr>();
    n->kind = BoundKind::kNot;
    n->type = SqlType::kBoolean;
    n->offset = i.offset;
    n->key = "NOT(" + distinct->key + ")";
    n->children.push_back(std::move(distinct));
    SW_RETURN_IF_ERROR(Fold(&n));
    return n;
  }

  // Whether column `col` is one that qualifier `database`.`table` (either may be empty) names.
  static bool QualifierMatches(const ColumnInfo& col, const std::string& database,
                               const std::string& table) {
    return (table.empty() || col.table == table) && (database.empty() || col.database == database);
  }

  // The error for a qualifier `database`.`table` that no FROM item answers to, at `offset`.
  Status MissingFromEntry(size_t offset, const std::string& database, const std::string& table,
                          const std::vector<ColumnInfo>& cols, std::string_view example) const {
    if (database.empty()) {
      return At(offset, fmt::format("missing FROM-clause entry for table \"{}\"", table));
    }
    // db.t names a table read under its own name: say what the FROM clause has instead.
    std::string hint;
    for (const auto& col : cols) {
      if (col.table != table) continue;
      hint = col.database.empty()
                 ? fmt::format(" (\"{}\" is an alias, which takes no database: write {}.{})", table,
                               table, example)
                 : fmt::format(" (the FROM clause reads {}.{})", col.database, table);
      break;
    }
    return At(offset, fmt::format("missing FROM-clause entry for table \"{}.{}\"{}", database,
                                  table, hint));
  }

  Result<BoundExprPtr> BindColumn(const sql::ColumnRefExpr& c, Scope& scope) {
    const auto& cols = *scope.columns;
    int found = -1;
    int matches = 0;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].name != c.column) continue;
      if (!QualifierMatches(cols[i], c.database, c.table)) continue;
      if (c.table.empty() && scope.origins && (*scope.origins)[i].hidden) continue;
      if (found < 0) found = static_cast<int>(i);
      ++matches;
    }
    if (matches > 1) {
      return At(c.offset, fmt::format("column reference \"{}\" is ambiguous", c.column));
    }
    if (found < 0) {
      if (c.table.empty() && (c.column == "current_timestamp" || c.column == "now")) {
        return Constant(Value::Timestamp(options.now), c.offset);
      }
      if (c.table.empty() && c.column == "current_date") {  // today, at its midnight
        return DayOf(Constant(Value::Timestamp(options.now), c.offset), c.offset);
      }
      std::vector<std::string> names;
      for (const auto& col : cols) names.push_back(col.name);
      bool table_known = false;
      for (const auto& col : cols) table_known |= QualifierMatches(col, c.database, c.table);
      if (c.table.empty() || !table_known) {
        for (const std::vector<ColumnInfo>* outer : outer_columns_) {
          for (size_t i = 0; outer != nullptr && i < outer->size(); ++i) {
            const ColumnInfo& o = (*outer)[i];
            if (o.name == c.column && QualifierMatches(o, c.database, c.table)) {
              std::string name = c.column;
              if (!c.table.empty()) name = c.table + "." + name;
              if (!c.database.empty()) name = c.database + "." + name;
              return At(c.offset,
                        fmt::format("\"{}\" belongs to an enclosing query: correlated subqueries "
                                    "are not supported (join the tables, or aggregate by the key "
                                    "in the subquery and join on it)",
                                    name));
            }
          }
        }
      }
      if (!c.table.empty() && !table_known) {
        return MissingFromEntry(c.offset, c.database, c.table, cols, c.column);
      }
      return At(c.offset,
                fmt::format("column \"{}\" does not exist{}", c.column, Nearest(c.column, names)));
    }
    if (scope.origins) {
      const Origin& o = (*scope.origins)[found];
      if (o.scan) o.scan->used[o.column] = true;
    }
    auto e = ColumnRef(found, cols[found].type, c.column);
    e->offset = c.offset;
    return e;
  }

  Result<BoundExprPtr> BindExpr(const Expr& e, Scope& scope) {
    if (scope.post) {
      if (e.kind == ExprKind::kFunctionCall &&
          IsAggregateName(e.As<sql::FunctionCallExpr>().name)) {
        return BindAggregate(e.As<sql::FunctionCallExpr>(), scope);
      }
      if (!ContainsAggregate(e)) {
        Scope pre = scope;
        pre.post = false;
        SW_ASSIGN_OR_RETURN(auto bound, BindExpr(e, pre));
        if (bound->kind == BoundKind::kConstant) return bound;
        for (size_t k = 0; k < scope.keys->size(); ++k) {
          if ((*scope.keys)[k]->key == bound->key) {
            auto ref = ColumnRef(static_cast<int>(k), bound->type, "");
            ref->key = "key:" + bound->key;
            return ref;
          }
        }
        if (e.kind == ExprKind::kColumnRef) {
          return At(e.offset,
                    fmt::format("column \"{}\" must appear in the GROUP BY clause or be used in "
                                "an aggregate function",
                                e.As<sql::ColumnRefExpr>().column));
        }
      }
    }
    switch (e.kind) {
      case ExprKind::kLiteral: {
        const auto& l = e.As<sql::LiteralExpr>();
        switch (l.literal_kind) {
          case sql::LiteralKind::kNull: return Constant(Value::Null(), e.offset);
          case sql::LiteralKind::kBool: return Constant(Value::Boolean(l.bool_value), e.offset);
          case sql::LiteralKind::kInteger: return Constant(Value::BigInt(l.int_value), e.offset);
          case sql::LiteralKind::kUnsigned: return Constant(Value::UBigInt(l.uint_value), e.offset);
          case sql::LiteralKind::kFloat: return Constant(Value::Double(l.float_value), e.offset);
          case sql::LiteralKind::kString: return Constant(Value::Text(l.string_value), e.offset);
          case sql::LiteralKind::kInterval: {
            auto iv = ParseInterval(l.string_value);
            if (!iv.ok()) return At(iv.status(), e.offset);
            return Constant(Value::OfInterval(*iv), e.offset);
          }
        }
        break;
      }
      case ExprKind::kColumnRef: return BindColumn(e.As<sql::ColumnRefExpr>(), scope);
      case ExprKind::kStar:
        return At(e.offset, "* is allowed only in the select list and in count(*)");
      case ExprKind::kFunctionCall: return BindFunction(e.As<sql::FunctionCallExpr>(), scope);
      case ExprKind::kUnary: {
        const auto& u = e.As<sql::UnaryExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*u.operand, scope));
        if (u.op == sql::UnaryOp::kNot) {
          SW_ASSIGN_OR_RETURN(operand, AsCondition(std::move(operand)));
          if (operand->type != SqlType::kBoolean) {
            return At(e.offset,
                      fmt::format("NOT needs a BOOLEAN, not {}", SqlTypeName(operand->type)));
          }
          auto n = std::make_unique<BoundExpr>();
          n->kind = BoundKind::kNot;
          n->type = SqlType::kBoolean;
          n->offset = e.offset;
          n->key = "NOT(" + operand->key + ")";
          n->children.push_back(std::move(operand));
          SW_RETURN_IF_ERROR(Fold(&n));
          return n;
        }
        if (u.op == sql::UnaryOp::kPlus) {  // numbers only, as in PostgreSQL; the value as is
          if (!IsNumeric(operand->type) && operand->type != SqlType::kNull) {
            return At(e.offset,
                      fmt::format("unary + needs a number, not {}", SqlTypeName(operand->type)));
          }
          return operand;
        }
        if (operand->type == SqlType::kInterval && operand->kind == BoundKind::kConstant) {
          Value v = operand->constant;
          v.i = -v.i;
          v.months = -v.months;
          return Constant(v, e.offset);
        }
        if (!IsNumeric(operand->type) && operand->type != SqlType::kNull) {
          return At(e.offset, fmt::format("cannot negate {}", SqlTypeName(operand->type)));
        }
        SqlType t = operand->type == SqlType::kNull ? SqlType::kDouble : operand->type;
        if (t == SqlType::kUBigInt) t = SqlType::kBigInt;
        SW_ASSIGN_OR_RETURN(operand, Coerce(std::move(operand), t));
        std::vector<BoundExprPtr> args;
        args.push_back(std::move(operand));
        return MakeFunction(Function::kNegate, t, std::move(args), e.offset, "neg");
      }
      case ExprKind::kBinary: {
        const auto& b = e.As<sql::BinaryExpr>();
        SW_ASSIGN_OR_RETURN(auto l, BindExpr(*b.left, scope));
        SW_ASSIGN_OR_RETURN(auto r, BindExpr(*b.right, scope));
        switch (b.op) {
          case sql::BinaryOp::kEqual:
            return BindComparison(Function::kEqual, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kNotEqual:
            return BindComparison(Function::kNotEqual, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kLess:
            return BindComparison(Function::kLess, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kLessEqual:
            return BindComparison(Function::kLessEqual, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kGreater:
            return BindComparison(Function::kGreater, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kGreaterEqual:
            return BindComparison(Function::kGreaterEqual, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kRegexMatch:
            return BindMatch(std::move(l), *r, false, false, false, e.offset);
          case sql::BinaryOp::kRegexIMatch:
            return BindMatch(std::move(l), *r, false, true, false, e.offset);
          case sql::BinaryOp::kRegexNotMatch:
            return BindMatch(std::move(l), *r, false, false, true, e.offset);
          case sql::BinaryOp::kRegexNotIMatch:
            return BindMatch(std::move(l), *r, false, true, true, e.offset);
          case sql::BinaryOp::kConcat: {
            SW_ASSIGN_OR_RETURN(l, Coerce(std::move(l), SqlType::kText));
            SW_ASSIGN_OR_RETURN(r, Coerce(std::move(r), SqlType::kText));
            std::vector<BoundExprPtr> args;
            args.push_back(std::move(l));
            args.push_back(std::move(r));
            return MakeFunction(Function::kConcat, SqlType::kText, std::move(args), e.offset, "||");
          }
          case sql::BinaryOp::kAdd:
            return BindArithmetic(Function::kAdd, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kSubtract:
            return BindArithmetic(Function::kSubtract, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kMultiply:
            return BindArithmetic(Function::kMultiply, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kDivide:
            return BindArithmetic(Function::kDivide, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kModulo:
            return BindArithmetic(Function::kModulo, std::move(l), std::move(r), e.offset);
          case sql::BinaryOp::kPower:
            return BindPowerOperator(std::move(l), std::move(r), e.offset);
        }
        break;
      }
      case ExprKind::kLogical: {
        const auto& lg = e.As<sql::LogicalExpr>();
        auto n = std::make_unique<BoundExpr>();
        n->kind = lg.op == sql::LogicalOp::kAnd ? BoundKind::kAnd : BoundKind::kOr;
        n->type = SqlType::kBoolean;
        n->offset = e.offset;
        n->key = lg.op == sql::LogicalOp::kAnd ? "AND(" : "OR(";
        for (const auto& o : lg.operands) {
          SW_ASSIGN_OR_RETURN(auto b, BindExpr(*o, scope));
          SW_ASSIGN_OR_RETURN(b, AsCondition(std::move(b)));
          if (b->type != SqlType::kBoolean) {
            return At(o->offset, fmt::format("{} needs BOOLEAN operands, not {}",
                                             lg.op == sql::LogicalOp::kAnd ? "AND" : "OR",
                                             SqlTypeName(b->type)));
          }
          n->key += b->key + ",";
          n->children.push_back(std::move(b));
        }
        n->key += ")";
        SW_RETURN_IF_ERROR(Fold(&n));
        return n;
      }
      case ExprKind::kIsNull: {
        const auto& i = e.As<sql::IsNullExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*i.operand, scope));
        if (i.test == sql::IsNullExpr::Test::kDistinctFrom) {
          SW_ASSIGN_OR_RETURN(auto other, BindExpr(*i.other, scope));
          return BindDistinctFrom(i, std::move(operand), std::move(other));
        }
        if (i.test != sql::IsNullExpr::Test::kNull) return BindIsTruth(i, std::move(operand));
        auto n = std::make_unique<BoundExpr>();
        n->kind = BoundKind::kIsNull;
        n->type = SqlType::kBoolean;
        n->offset = e.offset;
        n->negated = i.negated;
        n->key = fmt::format("isnull({},{})", operand->key, i.negated);
        n->children.push_back(std::move(operand));
        SW_RETURN_IF_ERROR(Fold(&n));
        return n;
      }
      case ExprKind::kInList: {
        const auto& in = e.As<sql::InListExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*in.operand, scope));
        std::vector<BoundExprPtr> items;
        bool all_constant = true;
        for (const auto& x : in.list) {
          SW_ASSIGN_OR_RETURN(auto b, BindExpr(*x, scope));
          all_constant &= b->kind == BoundKind::kConstant;
          items.push_back(std::move(b));
        }
        return BindIn(std::move(operand), std::move(items), all_constant, in.negated, e.offset);
      }
      case ExprKind::kInSubquery: {
        const auto& in = e.As<sql::InSubqueryExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*in.operand, scope));
        SW_ASSIGN_OR_RETURN(DataChunk rows, RunSubquery(*in.query, e.offset, scope));
        if (rows.columns.size() != 1) {
          return At(e.offset, fmt::format("the subquery of IN must return one column, not {}",
                                          rows.columns.size()));
        }
        // Each distinct value once: a subquery over rows repeats its values (the hosts of every
        // reading above a threshold), and a list of them all would be matched per row.
        std::vector<BoundExprPtr> items;
        std::unordered_set<std::string> seen;
        for (size_t r = 0; r < rows.rows; ++r) {
          Value v = rows.columns[0].Get(r);
          std::string key = "n";  // NULL
          if (!v.is_null) {
            key = v.type == SqlType::kDouble
                      ? "d" + std::string(reinterpret_cast<const char*>(&v.d), sizeof v.d)
                      : "v" + v.ToString();  // exact for every other type
          }
          if (!seen.insert(std::move(key)).second) continue;
          items.push_back(Constant(std::move(v), e.offset));
        }
        if (items.empty()) return Constant(Value::Boolean(in.negated), e.offset);
        return BindIn(std::move(operand), std::move(items), true, in.negated, e.offset);
      }
      case ExprKind::kExists: {
        SW_ASSIGN_OR_RETURN(DataChunk rows,
                            RunSubquery(*e.As<sql::ExistsExpr>().query, e.offset, scope));
        return Constant(Value::Boolean(rows.rows > 0), e.offset);
      }
      case ExprKind::kSubquery: {
        SW_ASSIGN_OR_RETURN(DataChunk rows,
                            RunSubquery(*e.As<sql::SubqueryExpr>().query, e.offset, scope));
        if (rows.columns.size() != 1) {
          return At(e.offset, fmt::format("a scalar subquery must return one column, not {}",
                                          rows.columns.size()));
        }
        if (rows.rows > 1) {
          return At(e.offset, fmt::format("a scalar subquery returned {} rows; it may return at "
                                          "most one",
                                          rows.rows));
        }
        if (rows.rows == 0) return Constant(Value::Null(rows.columns[0].type), e.offset);
        return Constant(rows.columns[0].Get(0), e.offset);
      }
      case ExprKind::kLike: {
        const auto& l = e.As<sql::LikeExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*l.operand, scope));
        SW_ASSIGN_OR_RETURN(auto pattern, BindExpr(*l.pattern, scope));
        std::string escape = "\\";
        if (l.escape) {  // ESCAPE 'c': one character, or '' for none (PostgreSQL's rule)
          SW_ASSIGN_OR_RETURN(auto bound, BindExpr(*l.escape, scope));
          if (bound->kind == BoundKind::kConstant && bound->constant.is_null) {
            return Constant(Value::Null(SqlType::kBoolean), e.offset);
          }
          if (bound->kind != BoundKind::kConstant || bound->type != SqlType::kText) {
            return At(l.escape->offset, "the ESCAPE character must be a string constant");
          }
          escape = bound->constant.s;
          const size_t lead = escape.empty() ? 0 : 1;
          size_t rest = lead;
          while (rest < escape.size() &&
                 (static_cast<unsigned char>(escape[rest]) & 0xC0) == 0x80) {
            ++rest;
          }
          if (rest != escape.size()) {
            return At(l.escape->offset, "invalid escape string: it must be empty or one character");
          }
        }
        return BindMatch(std::move(operand), *pattern, true, l.case_insensitive, l.negated,
                         e.offset, escape);
      }
      case ExprKind::kBetween: {
        const auto& b = e.As<sql::BetweenExpr>();
        SW_ASSIGN_OR_RETURN(auto x1, BindExpr(*b.operand, scope));
        SW_ASSIGN_OR_RETURN(auto x2, BindExpr(*b.operand, scope));
        SW_ASSIGN_OR_RETURN(auto lo, BindExpr(*b.low, scope));
        SW_ASSIGN_OR_RETURN(auto hi, BindExpr(*b.high, scope));
        std::vector<BoundExprPtr> parts;
        SW_ASSIGN_OR_RETURN(auto p1,
                            BindComparison(b.negated ? Function::kLess : Function::kGreaterEqual,
                                           std::move(x1), std::move(lo), e.offset));
        SW_ASSIGN_OR_RETURN(auto p2,
                            BindComparison(b.negated ? Function::kGreater : Function::kLessEqual,
                                           std::move(x2), std::move(hi), e.offset));
        auto n = std::make_unique<BoundExpr>();
        n->kind = b.negated ? BoundKind::kOr : BoundKind::kAnd;
        n->type = SqlType::kBoolean;
        n->offset = e.offset;
        n->key = fmt::format("{}({},{})", b.negated ? "OR" : "AND", p1->key, p2->key);
        n->children.push_back(std::move(p1));
        n->children.push_back(std::move(p2));
        SW_RETURN_IF_ERROR(Fold(&n));
        return n;
      }
      case ExprKind::kCase: {
        const auto& c = e.As<sql::CaseExpr>();
        std::vector<BoundExprPtr> whens, thens;
        for (const auto& w : c.whens) {
          BoundExprPtr cond;
          if (c.operand) {
            SW_ASSIGN_OR_RETURN(auto x, BindExpr(*c.operand, scope));
            SW_ASSIGN_OR_RETURN(auto v, BindExpr(*w.when, scope));
            SW_ASSIGN_OR_RETURN(
                cond, BindComparison(Function::kEqual, std::move(x), std::move(v), w.when->offset));
          } else {
            SW_ASSIGN_OR_RETURN(cond, BindExpr(*w.when, scope));
            SW_ASSIGN_OR_RETURN(cond, AsCondition(std::move(cond)));
            if (cond->type != SqlType::kBoolean) {
              return At(w.when->offset,
                        fmt::format("CASE WHEN needs a BOOLEAN, not {}", SqlTypeName(cond->type)));
            }
          }
          whens.push_back(std::move(cond));
          SW_ASSIGN_OR_RETURN(auto t, BindExpr(*w.then, scope));
          thens.push_back(std::move(t));
        }
        BoundExprPtr otherwise;
        if (c.else_result) {
          SW_ASSIGN_OR_RETURN(otherwise, BindExpr(*c.else_result, scope));
        }
        BoundExprPtr acc = Constant(Value::Null(), e.offset);
        for (const auto& t : thens) {
          SW_ASSIGN_OR_RETURN(acc->type, CommonType(*acc, *t, e.offset, "combine CASE results of"));
        }
        if (otherwise) {
          SW_ASSIGN_OR_RETURN(acc->type,
                              CommonType(*acc, *otherwise, e.offset, "combine CASE results of"));
        }
        const SqlType t = acc->type;
        auto n = std::make_unique<BoundExpr>();
        n->kind = BoundKind::kCase;
        n->type = t;
        n->offset = e.offset;
        n->key = "CASE(";
        for (size_t i = 0; i < whens.size(); ++i) {
          SW_ASSIGN_OR_RETURN(auto th, Coerce(std::move(thens[i]), t));
          n->key += whens[i]->key + "," + th->key + ",";
          n->children.push_back(std::move(whens[i]));
          n->children.push_back(std::move(th));
        }
        if (otherwise) {
          SW_ASSIGN_OR_RETURN(otherwise, Coerce(std::move(otherwise), t));
          n->key += "ELSE," + otherwise->key;
          n->children.push_back(std::move(otherwise));
        }
        n->key += ")";
        SW_RETURN_IF_ERROR(Fold(&n));
        return n;
      }
      case ExprKind::kCast: {
        const auto& c = e.As<sql::CastExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*c.operand, scope));
        auto t = TypeFromName(c.type);
        if (!t.ok()) return At(t.status(), c.type.offset);
        auto r = Coerce(std::move(operand), *t);
        if (!r.ok()) return At(r.status(), e.offset);
        if ((c.type.name == "numeric" || c.type.name == "decimal") && !c.type.params.empty() &&
            (*r)->type == SqlType::kDouble) {
          // numeric(precision[, scale]): the value rounded to `scale` decimals (0 when not
          // given) as PostgreSQL rounds, kept a DOUBLE; the precision is not enforced.
          const int64_t scale = c.type.params.size() > 1 ? c.type.params[1] : 0;
          if (scale < 0 || scale > 15) {
            return At(c.type.offset, fmt::format("{}({}, {}): the scale must be between 0 and 15",
                                                 c.type.name, c.type.params[0], scale));
          }
          std::vector<BoundExprPtr> args;
          args.push_back(std::move(*r));
          args.push_back(Constant(Value::BigInt(scale), c.type.offset));
          return MakeFunction(Function::kRound, SqlType::kDouble, std::move(args), e.offset,
                              "round");
        }
        if (c.type.name == "date" && (*r)->type == SqlType::kTimestamp) {
          return DayOf(std::move(*r), e.offset);
        }
        return r;
      }
      case ExprKind::kExtract: {
        const auto& x = e.As<sql::ExtractExpr>();
        SW_ASSIGN_OR_RETURN(auto operand, BindExpr(*x.operand, scope));
        return BindExtract(x.field, std::move(operand), DefaultZone(), e.offset);
      }
    }
    return At(e.offset, "unsupported expression");
  }

  Result<BoundExprPtr> BindIn(BoundExprPtr operand, std::vector<BoundExprPtr> items,
                              bool all_constant, bool negated, size_t offset) {
    if (!all_constant) {
      // x IN (a, b) with non-constant items: x = a OR x = b.
      auto n = std::make_unique<BoundExpr>();
      n->kind = BoundKind::kOr;
      n->type = SqlType::kBoolean;
      n->offset = offset;
      n->key = "OR(";
      for (auto& it : items) {
        auto copy = CloneExpr(*operand);
        SW_ASSIGN_OR_RETURN(
            auto eq, BindComparison(Function::kEqual, std::move(copy), std::move(it), offset));
        n->key += eq->key + ",";
        n->children.push_back(std::move(eq));
      }
      n->key += ")";
      if (!negated) return BoundExprPtr(std::move(n));
      auto no = std::make_unique<BoundExpr>();
      no->kind = BoundKind::kNot;
      no->type = SqlType::kBoolean;
      no->offset = offset;
      no->key = "NOT(" + n->key + ")";
      no->children.push_back(std::move(n));
      return BoundExprPtr(std::move(no));
    }
    SqlType t = operand->type;
    for (const auto& it : items) {
      if (t == SqlType::kNull) t = it->type;
      if (it->type != t && it->type != SqlType::kNull && !IsTextConstant(*it)) {
        // The type so far (not the operand's) meets the item: 3, 2.5, 4 stays DOUBLE.
        const auto so_far = ColumnRef(0, t, "");
        SW_ASSIGN_OR_RETURN(t, CommonType(*so_far, *it, offset, "compare"));
      }
    }
    if (t == SqlType::kNull) return Constant(Value::Null(SqlType::kBoolean), offset);
    SW_ASSIGN_OR_RETURN(operand, Coerce(std::move(operand), t));
    auto n = std::make_unique<BoundExpr>();
    n->kind = BoundKind::kInList;
    n->type = SqlType::kBoolean;
    n->offset = offset;
    n->negated = negated;
    std::set<std::string> keys;
    for (auto& it : items) {
      auto c = Coerce(std::move(it), t);
      if (!c.ok()) return At(c.status(), offset);
      if ((*c)->constant.is_null) {
        n->list_has_null = true;
        continue;
      }
      n->list.push_back((*c)->constant);
      keys.insert((*c)->key);
    }
    n->list_index = MakeInListIndex(n->list);
    n->key = fmt::format("in({},{},{}:", operand->key, negated, n->list_has_null);
    for (const auto& k : keys) n->key += k + ",";
    n->key += ")";
    n->children.push_back(std::move(operand));
    SW_RETURN_IF_ERROR(Fold(&n));
    return BoundExprPtr(std::move(n));
  }

  static BoundExprPtr CloneExpr(const BoundExpr& e) {
    auto c = std::make_unique<BoundExpr>();
    c->kind = e.kind;
    c->type = e.type;
    c->offset = e.offset;
    c->constant = e.constant;
    c->column = e.column;
    c->function = e.function;
    c->negated = e.negated;
    c->list = e.list;
    c->list_has_null = e.list_has_null;
    c->list_index = e.list_index;
    c->regex = e.regex;
    c->interval = e.interval;
    c->origin = e.origin;
    c->unit = e.unit;
    c->zone = e.zone;
    c->format = e.format;
    c->key = e.key;
    for (const auto& ch : e.children) c->children.push_back(CloneExpr(*ch));
    return c;
  }

  // ---------------------------------------------------------------------------------------
  // FROM

  Result<Relation> PlanTable(const sql::BaseTableRef& t) {
    const std::string& db = t.table.database.empty() ? options.database : t.table.database;
    if (t.table.database.empty()) {
      for (auto it = ctes.rbegin(); it != ctes.rend(); ++it) {
        if (it->first != t.table.name) continue;
        // Plan the CTE's query with only the CTEs defined before it visible.
        const sql::SelectStatement* q = it->second;
        auto saved = ctes;
        ctes.erase(ctes.begin() + (ctes.rend() - it) - 1, ctes.end());
        auto plan = PlanQuery(*q);
        ctes = std::move(saved);
        if (!plan.ok()) return plan.status();
        Relation rel;
        rel.node = std::move(*plan);
        for (auto& c : rel.node->columns) {
          c.table = t.alias.empty() ? t.table.name : t.alias;
          c.database.clear();
        }
        rel.origins.resize(rel.node->columns.size());
        return rel;
      }
    }
    if (db == kSystemDatabase) return PlanSystemTable(t);
    auto schema = VisibleSchema(db, t.table.name);
    if (schema == nullptr) {
      std::vector<std::string> names;  // a CTE may be what was meant
      for (const auto& c : ctes) names.push_back(c.first);
      return MissingTable(t.offset, db, t.table.name, std::move(names));
    }
    schema = InColumnOrder(db, t.table.name, std::move(schema));
    auto scan = std::make_unique<ScanNode>();
    scan->request.tenant = options.tenant;
    scan->request.database = db;
    scan->request.table = t.table.name;
    scan->table_series = engine->series().CountForTable(options.tenant, db, t.table.name);
    scan->tag_count = schema->tag_keys.size();
    scan->tag_keys = schema->tag_keys;
    scan->fields = schema->fields;
    const std::string alias = t.alias.empty() ? t.table.name : t.alias;
    scan->columns.push_back({"time", SqlType::kTimestamp, alias});
    for (const auto& k : schema->tag_keys) scan->columns.push_back({k, SqlType::kText, alias});
    for (const auto& f : schema->fields) {
      SqlType type = SqlType::kDouble;
      switch (f.type) {
        case FieldType::kDouble: type = SqlType::kDouble; break;
        case FieldType::kInt64: type = SqlType::kBigInt; break;
        case FieldType::kUInt64: type = SqlType::kUBigInt; break;
        case FieldType::kBool: type = SqlType::kBoolean; break;
        case FieldType::kString: type = SqlType::kText; break;
      }
      scan->columns.push_back({f.name, type, alias});
    }
    if (t.alias.empty()) {
      for (auto& c : scan->columns) c.database = db;
    }
    scan->used.assign(scan->columns.size(), false);  // time too: not copied unless referenced
    // A customer's statement reads its devices' series only, whatever it asks.
    if (options.devices) scan->request.tag_in.emplace_back("device", *options.devices);
    Relation rel;
    for (size_t c = 0; c < scan->columns.size(); ++c) {
      rel.origins.push_back({scan.get(), static_cast<int>(c), false});
    }
    rel.node = std::move(scan);
    return rel;
  }

  // What the caller sees of the tenant's catalog. A tenant role sees it whole. For a customer's
  // statement (options.devices) a table exists only while it holds a series of one of its
  // devices, with only the tags such series hold (fields are not known per series: all of them),
  // and a database only while one of its tables does; SELECT, DESCRIBE, SHOW, system.tables and
  // the names errors suggest all use this view, so that none shows another customer's names.
  std::shared_ptr<const TableSchema> VisibleSchema(const std::string& db,
                                                   const std::string& table) const {
    auto schema = engine->catalog().Find(options.tenant, db, table);
    if (schema == nullptr || !options.devices) return schema;
    const TagIn devices = {{"device", *options.devices}};
    const SeriesMatch series = engine->series().Match(options.tenant, db, table, {}, devices);
    std::set<std::string> keys;
    bool any = false;
    for (const SeriesInfo* info : series) {
      if (info->generation() != schema->generation) continue;
      any = true;
      for (auto& [key, value] : info->tags()) keys.insert(std::move(key));
    }
    if (!any) return nullptr;
    auto visible = std::make_shared<TableSchema>(*schema);
    std::erase_if(visible->tag_keys, [&](const std::string& k) { return !keys.contains(k); });
    return visible;
  }

  std::vector<std::string> VisibleTables(const std::string& db) const {
    auto tables = engine->catalog().ListTables(options.tenant, db);
    if (options.devices) {
      std::erase_if(tables, [&](const std::string& t) { return VisibleSchema(db, t) == nullptr; });
    }
    return tables;
  }

  std::vector<std::string> VisibleDatabases() const {
    auto databases = engine->catalog().ListDatabases(options.tenant);
    if (options.devices) {
      std::erase_if(databases, [&](const std::string& db) { return VisibleTables(db).empty(); });
    }
    return databases;
  }

  // The schema with its columns in the order SELECT * and DESCRIBE show: as declared for a
  // table made by CREATE TABLE; tags, then fields, each by name for a table made by its writes
  // (as InfluxDB orders them), whose order of first appearance a restart does not keep.
  std::shared_ptr<const TableSchema> InColumnOrder(const std::string& db, const std::string& table,
                                                   std::shared_ptr<const TableSchema> schema) {
    if (engine->IsDeclared(options.tenant, db, table)) return schema;
    auto sorted = std::make_shared<TableSchema>(*schema);
    std::sort(sorted->tag_keys.begin(), sorted->tag_keys.end());
    std::sort(sorted->fields.begin(), sorted->fields.end(),
              [](const FieldSchema& a, const FieldSchema& b) { return a.name < b.name; });
    return sorted;
  }

  Status NotFoundAt(size_t offset, const std::string& message) const {
    Status s = At(offset, message);
    return Status(StatusCode::kNotFound, s.message());
  }

  // NotFound for table `table` of database `db`, which the catalog lacks: the database when the
  // tenant has none of that name (main, the default, always exists), else the table; each with
  // the nearest existing name (for a table, `more_names` are candidates too).
  Status MissingTable(size_t offset, const std::string& db, const std::string& table,
                      std::vector<std::string> more_names = {}) const {
    // One copy of the list: begin() and end() of two temporaries walk off the heap.
    const auto databases = VisibleDatabases();
    if (db != "main" && std::find(databases.begin(), databases.end(), db) == databases.end()) {
      return NotFoundAt(
          offset, fmt::format("database \"{}\" does not exist{}", db, Nearest(db, databases)));
    }
    auto tables = VisibleTables(db);
    tables.insert(tables.end(), more_names.begin(), more_names.end());
    return NotFoundAt(offset, fmt::format("table \"{}\" does not exist in database \"{}\"{}", table,
                                          db, Nearest(table, tables)));
  }

  // The columns of system table `name` (SELECT and DESCRIBE), or NotFound at `offset`:
  //   system.tables: one row per table of the tenant (database, table_name, tags, fields).
  //   system.series: one row per series of the tenant (database, table_name, series_id, tags),
  //   series_id numbering a table's series from 1 in the order they were created.
  Result<std::vector<ColumnInfo>> SystemTableColumns(const std::string& name,
                                                     const std::string& alias,
                                                     size_t offset) const {
    if (name == "tables") {
      return std::vector<ColumnInfo>{{"database", SqlType::kText, alias},
                                     {"table_name", SqlType::kText, alias},
                                     {"tags", SqlType::kBigInt, alias},
                                     {"fields", SqlType::kBigInt, alias}};
    }
    if (name == "series") {
      return std::vector<ColumnInfo>{{"database", SqlType::kText, alias},
                                     {"table_name", SqlType::kText, alias},
                                     {"series_id", SqlType::kBigInt, alias},
                                     {"tags", SqlType::kText, alias}};
    }
    return NotFoundAt(offset, fmt::format("table \"system.{}\" does not exist (system tables: {})",
                                          name, fmt::join(kSystemTables, ", ")));
  }

  Result<Relation> PlanSystemTable(const sql::BaseTableRef& t) {
    const std::string alias = t.alias.empty() ? t.table.name : t.alias;
    auto node = std::make_unique<RowsNode>();
    SW_ASSIGN_OR_RETURN(node->columns, SystemTableColumns(t.table.name, alias, t.offset));
    if (t.alias.empty()) {
      for (auto& c : node->columns) c.database = std::string(kSystemDatabase);
    }
    node->label = "System " + t.table.name;
    DataChunk& rows = node->rows;
    rows.columns.resize(node->columns.size());
    for (size_t c = 0; c < node->columns.size(); ++c) rows.columns[c].Reset(node->columns[c].type);
    if (t.table.name == "tables") {
      for (const auto& db : engine->catalog().ListDatabases(options.tenant)) {
        for (const auto& table : engine->catalog().ListTables(options.tenant, db)) {
          auto schema = VisibleSchema(db, table);
          if (!schema) continue;
          rows.columns[0].Append(Value::Text(db));
          rows.columns[1].Append(Value::Text(table));
          rows.columns[2].Append(Value::BigInt(static_cast<int64_t>(schema->tag_keys.size())));
          rows.columns[3].Append(Value::BigInt(static_cast<int64_t>(schema->fields.size())));
          ++rows.rows;
        }
      }
    } else {
      size_t held = 0;
      for (const auto& db : engine->catalog().ListDatabases(options.tenant)) {
        for (const auto& table : engine->catalog().ListTables(options.tenant, db)) {
          auto schema = engine->catalog().Find(options.tenant, db, table);
          if (!schema) continue;
          SeriesMatch series = engine->series().Match(options.tenant, db, table, {});
          series.EraseIf([&](const SeriesInfo& info) {
            return info.generation() != schema->generation ||
                   (options.devices &&
                    !std::binary_search(options.devices->begin(), options.devices->end(),
                                        info.Tag("device")));
          });
          // The storage ids are global to the server: their gaps would show how many series
          // other tenants create. A series is shown by its rank in its table instead (ids grow
          // as series are created, so ranks keep their order), counting only what the caller
          // sees.
          std::vector<const SeriesInfo*> in_order(series.begin(), series.end());
          std::sort(in_order.begin(), in_order.end(),
                    [](const SeriesInfo* a, const SeriesInfo* b) { return a->id < b->id; });
          int64_t number = 0;
          for (const SeriesInfo* info : in_order) {
            std::string tags;
            for (const auto& [k, v] : info->tags()) {
              if (!tags.empty()) tags += ',';
              tags += k + "=" + v;
            }
            rows.columns[0].Append(Value::Text(db));
            rows.columns[1].Append(Value::Text(table));
            rows.columns[2].Append(Value::BigInt(++number));
            rows.columns[3].Append(Value::Text(std::move(tags)));
            ++rows.rows;
          }
          SW_RETURN_IF_ERROR(ctx->Charge(&held, rows.MemoryBytes()));
        }
      }
    }
    Relation rel;
    rel.origins.resize(node->columns.size());
    rel.node = std::move(node);
    return rel;
  }

  Result<Relation> PlanFromItem(const sql::TableRef& ref) {
    switch (ref.kind) {
      case sql::TableRefKind::kTable: return PlanTable(ref.As<sql::BaseTableRef>());
      case sql::TableRefKind::kSubquery: {
        const auto& s = ref.As<sql::SubqueryTableRef>();
        SW_ASSIGN_OR_RETURN(auto plan, PlanQuery(*s.query));
        Relation rel;
        rel.node = std::move(plan);
        for (auto& c : rel.node->columns) {
          c.table = s.alias;
          c.database.clear();
        }
        rel.origins.resize(rel.node->columns.size());
        return rel;
      }
      case sql::TableRefKind::kJoin: return PlanJoin(ref.As<sql::JoinTableRef>());
    }
    return Internal("unknown FROM item");
  }

  static Relation Combine(Relation left, Relation right, bool left_outer) {
    auto join = std::make_unique<JoinNode>();
    join->columns = left.node->columns;
    join->columns.insert(join->columns.end(), right.node->columns.begin(),
                         right.node->columns.end());
    join->left_outer = left_outer;
    Relation rel;
    rel.origins = left.origins;
    rel.origins.insert(rel.origins.end(), right.origins.begin(), right.origins.end());
    join->left = std::move(left.node);
    join->right = std::move(right.node);
    rel.node = std::move(join);
    return rel;
  }

  // As in PostgreSQL, two items of one FROM clause may not go by one name (FROM t a JOIN u a,
  // FROM t, t), which would leave a.c to whichever has a column c; two tables of different
  // databases read under their own names may (db.t.c tells them apart). `offset`: the second.
  Status CheckDistinctNames(const Relation& left, const Relation& right, size_t offset) const {
    std::set<std::pair<std::string_view, std::string_view>> names;  // (table, database)
    for (const auto& c : left.node->columns) names.emplace(c.table, c.database);
    for (const auto& c : right.node->columns) {
      if (c.table.empty()) continue;  // a subquery without an alias
      for (auto it = names.lower_bound({c.table, ""}); it != names.end() && it->first == c.table;
           ++it) {
        if (it->second.empty() || c.database.empty() || it->second == c.database) {
          return At(offset, fmt::format("table name \"{}\" specified more than once (give each "
                                        "its own alias)",
                                        c.table));
        }
      }
    }
    return Status::OK();
  }

  Result<Relation> PlanJoin(const sql::JoinTableRef& j) {
    SW_ASSIGN_OR_RETURN(Relation left, PlanFromItem(*j.left));
    SW_ASSIGN_OR_RETURN(Relation right, PlanFromItem(*j.right));
    SW_RETURN_IF_ERROR(CheckDistinctNames(left, right, j.right->offset));
    const size_t left_width = left.node->columns.size();
    Relation rel = Combine(std::move(left), std::move(right), j.type == sql::JoinType::kLeft);
    auto* join = static_cast<JoinNode*>(rel.node.get());
    std::vector<BoundExprPtr> conjuncts;
    Scope scope;
    scope.columns = &rel.node->columns;
    scope.origins = &rel.origins;
    scope.clause = "JOIN conditions";
    if (!j.using_columns.empty()) {
      for (const auto& name : j.using_columns) {
        int l = -1, r = -1;
        for (size_t c = 0; c < rel.node->columns.size(); ++c) {
          if (rel.node->columns[c].name != name || rel.origins[c].hidden) continue;
          (c < left_width ? l : r) = static_cast<int>(c);
        }
        if (l < 0 || r < 0) {
          return At(j.offset,
                    fmt::format("column \"{}\" named in USING is not on both sides", name));
        }
        rel.origins[r].hidden = true;
        for (int c : {l, r}) {
          if (rel.origins[c].scan) rel.origins[c].scan->used[rel.origins[c].column] = true;
        }
        SW_ASSIGN_OR_RETURN(
            auto eq, BindComparison(Function::kEqual, ColumnRef(l, rel.node->columns[l].type, name),
                                    ColumnRef(r, rel.node->columns[r].type, name), j.offset));
        conjuncts.push_back(std::move(eq));
      }
    } else if (j.condition) {
      SW_ASSIGN_OR_RETURN(auto cond, BindExpr(*j.condition, scope));
      SW_ASSIGN_OR_RETURN(cond, AsCondition(std::move(cond)));
      if (cond->type != SqlType::kBoolean) {
        return At(j.condition->offset, "a JOIN condition must be BOOLEAN");
      }
      SplitConjuncts(std::move(cond), &conjuncts);
    }
    // Equalities between one side and the other become hash keys; the rest filters matches.
    std::vector<BoundExprPtr> residual;
    for (auto& c : conjuncts) {
      if (c->kind == BoundKind::kFunction && c->function == Function::kEqual) {
        std::vector<int> lc, rc;
        CollectColumns(*c->children[0], &lc);
        CollectColumns(*c->children[1], &rc);
        auto side = [&](const std::vector<int>& cols) {
          int s = 0;  // 1 left, 2 right, 3 both
          for (int x : cols) s |= x < static_cast<int>(left_width) ? 1 : 2;
          return s;
        };
        const int ls = side(lc), rs = side(rc);
        if ((ls == 1 && rs == 2) || (ls == 2 && rs == 1)) {
          BoundExprPtr a = std::move(c->children[0]), b = std::move(c->children[1]);
          if (ls == 2) std::swap(a, b);
          ShiftColumns(b.get(), -static_cast<int>(left_width));
          join->left_keys.push_back(std::move(a));
          join->right_keys.push_back(std::move(b));
          continue;
        }
      }
      residual.push_back(std::move(c));
    }
    join->residual = AndOf(std::move(residual));
    return rel;
  }

  // ---------------------------------------------------------------------------------------
  // WHERE pushdown

  // Applies `conjuncts` (over rel's layout) to `rel`: into the scan where it can (time range,
  // tag equality, tag-only predicates), below an inner join to the side they touch, and as a
  // filter for the rest.
  void ApplyFilter(Relation* rel, std::vector<BoundExprPtr> conjuncts) {
    if (conjuncts.empty()) return;
    if (auto* scan = dynamic_cast<ScanNode*>(rel->node.get())) {
      std::vector<BoundExprPtr> rest, tag_only;
      for (auto& c : conjuncts) {
        if (PushIntoScan(scan, *c)) continue;
        std::vector<int> cols;
        CollectColumns(*c, &cols);
        const bool tags_only = !cols.empty() && std::all_of(cols.begin(), cols.end(), [&](int x) {
          return x >= 1 && x < static_cast<int>(1 + scan->tag_count);
        });
        if (!tags_only) AddFieldRange(scan, *c);  // still checked per row
        (tags_only ? tag_only : rest).push_back(std::move(c));
      }
      if (!tag_only.empty()) {
        if (scan->tag_predicate) tag_only.push_back(std::move(scan->tag_predicate));
        scan->tag_predicate = AndOf(std::move(tag_only));
      }
      conjuncts = std::move(rest);
    } else if (auto* join = dynamic_cast<JoinNode*>(rel->node.get())) {
      const int left_width = static_cast<int>(join->left->columns.size());
      std::vector<BoundExprPtr> left_part, right_part, rest;
      for (auto& c : conjuncts) {
        std::vector<int> cols;
        CollectColumns(*c, &cols);
        if (cols.empty()) {
          rest.push_back(std::move(c));
          continue;
        }
        const bool all_left =
            std::all_of(cols.begin(), cols.end(), [&](int x) { return x < left_width; });
        const bool all_right =
            std::all_of(cols.begin(), cols.end(), [&](int x) { return x >= left_width; });
        if (all_left) {
          left_part.push_back(std::move(c));
        } else if (all_right && !join->left_outer) {
          ShiftColumns(c.get(), -left_width);
          right_part.push_back(std::move(c));
        } else {
          rest.push_back(std::move(c));
        }
      }
      Relation l{std::move(join->left), {}};
      l.origins.assign(rel->origins.begin(), rel->origins.begin() + left_width);
      ApplyFilter(&l, std::move(left_part));
      join->left = std::move(l.node);
      Relation r{std::move(join->right), {}};
      r.origins.assign(rel->origins.begin() + left_width, rel->origins.end());
      ApplyFilter(&r, std::move(right_part));
      join->right = std::move(r.node);
      conjuncts = std::move(rest);
    }
    if (conjuncts.empty()) return;
    auto filter = std::make_unique<FilterNode>();
    filter->columns = rel->node->columns;
    filter->predicate = AndOf(std::move(conjuncts));
    filter->child = std::move(rel->node);
    rel->node = std::move(filter);
  }

  // The two operands of a binary comparison with a column reference first when there is one
  // (`5 < x` becomes `x > 5`): *col, *val and *f describe `col f val`.
  static void ColumnFirst(const BoundExpr& c, const BoundExpr** col, const BoundExpr** val,
                          Function* f) {
    *col = c.children[0].get();
    *val = c.children[1].get();
    if ((*col)->kind == BoundKind::kColumn) return;
    std::swap(*col, *val);
    switch (*f) {
      case Function::kLess: *f = Function::kGreater; break;
      case Function::kLessEqual: *f = Function::kGreaterEqual; break;
      case Function::kGreater: *f = Function::kLess; break;
      case Function::kGreaterEqual: *f = Function::kLessEqual; break;
      default: break;
    }
  }

  // `field <op> constant` on a DOUBLE field: a range that lets the scan skip chunks whose
  // statistics rule every row out (the row filter stays).
  static void AddFieldRange(ScanNode* scan, const BoundExpr& c) {
    if (c.kind != BoundKind::kFunction || c.children.size() != 2) return;
    const BoundExpr* col = nullptr;
    const BoundExpr* val = nullptr;
    Function f = c.function;
    ColumnFirst(c, &col, &val, &f);
    if (col->kind != BoundKind::kColumn || val->kind != BoundKind::kConstant ||
        val->constant.is_null || val->type != SqlType::kDouble || col->type != SqlType::kDouble ||
        col->column < static_cast<int>(1 + scan->tag_count) || std::isnan(val->constant.d)) {
      return;
    }
    FieldRange r;
    r.field = scan->fields[col->column - 1 - scan->tag_count].name;
    const double x = val->constant.d;
    switch (f) {
      case Function::kEqual: r.min = r.max = x; break;
      case Function::kGreater:
        r.min = x;
        r.min_inclusive = false;
        break;
      case Function::kGreaterEqual: r.min = x; break;
      case Function::kLess:
        r.max = x;
        r.max_inclusive = false;
        break;
      case Function::kLessEqual: r.max = x; break;
      default: return;
    }
    scan->request.field_ranges.push_back(std::move(r));
  }

  // time <op> constant, tag = 'constant' and tag IN ('constant', ...), exactly; true when `c`
  // needs no filter after.
  static bool PushIntoScan(ScanNode* scan, const BoundExpr& c) {
    if (c.kind == BoundKind::kInList && !c.negated && c.children.size() == 1) {
      // NULLs in the list never match a row that IN keeps; a series without the tag has NULL.
      const BoundExpr& col = *c.children[0];
      if (col.kind != BoundKind::kColumn || col.column < 1 ||
          col.column >= static_cast<int>(1 + scan->tag_count) || col.type != SqlType::kText) {
        return false;
      }
      std::vector<std::string> values;
      for (const Value& v : c.list) {
        if (v.is_null || v.type != SqlType::kText) return false;
        if (!v.s.empty()) values.push_back(v.s);
      }
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      scan->request.tag_in.emplace_back(scan->tag_keys[col.column - 1], std::move(values));
      return true;
    }
    if (c.kind != BoundKind::kFunction || c.children.size() != 2) return false;
    const BoundExpr* col = nullptr;
    const BoundExpr* val = nullptr;
    Function f = c.function;
    ColumnFirst(c, &col, &val, &f);
    if (col->kind != BoundKind::kColumn || val->kind != BoundKind::kConstant) return false;
    if (val->constant.is_null) return false;
    auto& req = scan->request;
    if (col->column == 0 && val->type == SqlType::kTimestamp) {
      const int64_t t = val->constant.i;
      switch (f) {
        case Function::kEqual:
          req.min_time = std::max(req.min_time, t);
          req.max_time = std::min(req.max_time, t);
          return true;
        case Function::kGreaterEqual: req.min_time = std::max(req.min_time, t); return true;
        case Function::kGreater:
          if (t == std::numeric_limits<int64_t>::max()) return false;
          req.min_time = std::max(req.min_time, t + 1);
          return true;
        case Function::kLessEqual: req.max_time = std::min(req.max_time, t); return true;
        case Function::kLess:
          if (t == std::numeric_limits<int64_t>::min()) return false;
          req.max_time = std::min(req.max_time, t - 1);
          return true;
        default: return false;
      }
    }
    if (f == Function::kEqual && col->column >= 1 &&
        col->column < static_cast<int>(1 + scan->tag_count) && val->type == SqlType::kText &&
        !val->constant.s.empty()) {
      const std::string& key = scan->tag_keys[col->column - 1];
      for (const auto& [k, v] : req.tag_equals) {
        if (k == key) return false;  // a second equality on the tag: leave it to the filter
      }
      req.tag_equals.emplace_back(key, val->constant.s);
      std::sort(req.tag_equals.begin(), req.tag_equals.end());
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // SELECT

  static std::string OutputName(const sql::SelectItem& item) {
    if (!item.alias.empty()) return item.alias;
    return ExprName(*item.expr);
  }

  // PostgreSQL's column name of an expression: a column's or function's name, that of a cast's
  // operand (else the type's), or "?column?".
  static std::string ExprName(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kColumnRef: return e.As<sql::ColumnRefExpr>().column;
      case ExprKind::kFunctionCall: return e.As<sql::FunctionCallExpr>().name;
      case ExprKind::kCast: {
        std::string inner = ExprName(*e.As<sql::CastExpr>().operand);
        return inner != "?column?" ? inner : e.As<sql::CastExpr>().type.name;
      }
      case ExprKind::kExtract: return "extract";
      case ExprKind::kCase: return "case";
      default: return "?column?";
    }
  }

  // An integer literal in GROUP BY / ORDER BY: a 1-based select-list position.
  static std::optional<int64_t> Ordinal(const Expr& e) {
    if (e.kind != ExprKind::kLiteral) return std::nullopt;
    const auto& l = e.As<sql::LiteralExpr>();
    if (l.literal_kind != sql::LiteralKind::kInteger) return std::nullopt;
    return l.int_value;
  }

  // Puts a GapFillNode over `agg` (which `node` is) for the SELECT's time_bucket_gapfill.
  Result<PlanNodePtr> AddGapFill(PlanNodePtr node, AggregateNode* agg) {
    const GapFillRequest request = gapfill_requests.front();
    for (const auto& other : gapfill_requests) {
      if (other.key != request.key) {
        return At(other.offset, "a query may group by one time_bucket_gapfill() only");
      }
    }
    int bucket = -1;
    for (size_t k = 0; k < agg->keys.size(); ++k) {
      if (agg->keys[k]->key == request.key) bucket = static_cast<int>(k);
    }
    if (bucket < 0) return At(request.offset, "time_bucket_gapfill() must be a GROUP BY key");
    const BoundExpr& key = *agg->keys[bucket];
    if (key.kind != BoundKind::kFunction || key.function != Function::kTimeBucket) {
      return At(request.offset, "time_bucket_gapfill() must group by a time column");
    }
    // The range: given, or the WHERE time range the scan got.
    const PlanNode* below = agg->child.get();
    while (auto* f = dynamic_cast<const FilterNode*>(below)) below = f->child.get();
    const auto* scan = dynamic_cast<const ScanNode*>(below);
    int64_t start = std::numeric_limits<int64_t>::min(),
            finish = std::numeric_limits<int64_t>::max();
    if (scan) {
      start = scan->request.min_time;
      if (scan->request.max_time != std::numeric_limits<int64_t>::max()) {
        finish = scan->request.max_time + 1;
      }
    }
    if (request.start) start = *request.start;
    if (request.finish) finish = *request.finish;
    if (start == std::numeric_limits<int64_t>::min() ||
        finish == std::numeric_limits<int64_t>::max()) {
      return At(request.offset,
                "time_bucket_gapfill() needs a time range: a WHERE clause with time >= ... AND "
                "time < ..., or start and finish arguments");
    }
    auto gap = std::make_unique<GapFillNode>();
    gap->columns = node->columns;
    gap->bucket_column = bucket;
    for (size_t k = 0; k < agg->keys.size(); ++k) {
      if (static_cast<int>(k) != bucket) gap->group_columns.push_back(static_cast<int>(k));
    }
    gap->fill.assign(node->columns.size(), FillMode::kNull);
    for (size_t a = 0; a < agg->aggregates.size(); ++a) {
      gap->fill[agg->keys.size() + a] = static_cast<FillMode>(agg->aggregates[a].fill);
    }
    gap->bucket = CloneExpr(key);
    gap->bucket->children[0] = ColumnRef(0, SqlType::kTimestamp, "time");
    gap->start = start;
    gap->finish = finish;
    gap->child = std::move(node);
    return PlanNodePtr(std::move(gap));
  }

  Result<PlanNodePtr> PlanSelect(const sql::SelectNode& s,
                                 const std::vector<sql::OrderByItem>* order_by, size_t keep) {
    auto saved = std::move(gapfill_requests);
    gapfill_requests.clear();
    auto result = PlanSelectInner(s, order_by, keep);
    gapfill_requests = std::move(saved);
    return result;
  }

  Result<PlanNodePtr> PlanSelectInner(const sql::SelectNode& s,
                                      const std::vector<sql::OrderByItem>* order_by, size_t keep) {
    // FROM
    Relation rel;
    if (s.from.empty()) {
      auto one = std::make_unique<RowsNode>();
      one->rows.rows = 1;
      one->label = "OneRow";
      rel.node = std::move(one);
    } else {
      SW_ASSIGN_OR_RETURN(rel, PlanFromItem(*s.from[0]));
      for (size_t i = 1; i < s.from.size(); ++i) {
        SW_ASSIGN_OR_RETURN(Relation next, PlanFromItem(*s.from[i]));
        SW_RETURN_IF_ERROR(CheckDistinctNames(rel, next, s.from[i]->offset));
        rel = Combine(std::move(rel), std::move(next), false);
      }
    }
    const std::vector<ColumnInfo> input = rel.node->columns;
    const std::vector<Origin> origins = rel.origins;
    Scope scope;
    scope.columns = &input;
    scope.origins = &origins;

    // WHERE
    if (s.where) {
      scope.clause = "WHERE";
      SW_ASSIGN_OR_RETURN(auto where, BindExpr(*s.where, scope));
      SW_ASSIGN_OR_RETURN(where, AsCondition(std::move(where)));
      if (where->type != SqlType::kBoolean) {
        return At(s.where->offset,
                  fmt::format("WHERE needs a BOOLEAN condition, not {}", SqlTypeName(where->type)));
      }
      std::vector<BoundExprPtr> conjuncts;
      if (!(where->kind == BoundKind::kConstant && !where->constant.is_null && where->constant.i)) {
        SplitConjuncts(std::move(where), &conjuncts);
      }
      ApplyFilter(&rel, std::move(conjuncts));
    }

    // Star expansion.
    struct Item {
      const Expr* expr = nullptr;  // null for an expanded star column
      int star_column = -1;
      std::string name;
      size_t offset = 0;
    };
    std::vector<Item> items;
    for (const auto& it : s.items) {
      if (it.expr->kind == ExprKind::kStar) {
        const auto& st = it.expr->As<sql::StarExpr>();
        bool any = false;
        for (size_t c = 0; c < input.size(); ++c) {
          if (st.table.empty() ? origins.size() > c && origins[c].hidden
                               : !QualifierMatches(input[c], st.database, st.table)) {
            continue;
          }
          items.push_back({nullptr, static_cast<int>(c), input[c].name, it.offset});
          if (origins.size() > c && origins[c].scan)
            origins[c].scan->used[origins[c].column] = true;
          any = true;
        }
        if (!any && !st.table.empty()) {
          return MissingFromEntry(it.offset, st.database, st.table, input, "*");
        }
        continue;
      }
      items.push_back({it.expr.get(), -1, OutputName(it), it.offset});
    }
    if (items.empty()) return At(s.offset, "SELECT needs at least one column");

    // Aggregation?
    bool aggregating = !s.group_by.empty() || (s.having != nullptr);
    for (const auto& it : items) aggregating |= it.expr && ContainsAggregate(*it.expr);
    if (order_by) {
      for (const auto& o : *order_by) aggregating |= ContainsAggregate(*o.expr);
    }

    // SELECT DISTINCT without aggregates groups by its select list: the same rows, and the
    // aggregate's paths (tags grouped per series, statistics, the series index) apply to it.
    const bool distinct_by_grouping = s.distinct && !aggregating;
    aggregating |= distinct_by_grouping;

    std::vector<BoundExprPtr> keys;
    std::vector<AggregateSpec> aggregates;
    AggregateNode* agg = nullptr;
    std::vector<ColumnInfo> post_columns;
    if (aggregating) {
      if (distinct_by_grouping) {
        scope.clause = "SELECT";
        for (const auto& it : items) {
          BoundExprPtr k;
          if (it.expr) {
            SW_ASSIGN_OR_RETURN(k, BindExpr(*it.expr, scope));
          } else {
            k = ColumnRef(it.star_column, input[it.star_column].type, it.name);
          }
          bool dup = false;
          for (const auto& existing : keys) dup |= existing->key == k->key;
          if (!dup) keys.push_back(std::move(k));
        }
      }
      scope.clause = "GROUP BY";
      for (const auto& g : s.group_by) {
        const Expr* ge = g.get();
        if (auto ord = Ordinal(*ge)) {
          if (*ord < 1 || *ord > static_cast<int64_t>(items.size()) || !items[*ord - 1].expr) {
            return At(ge->offset,
                      fmt::format("GROUP BY position {} is not in the select list", *ord));
          }
          ge = items[*ord - 1].expr;
        } else if (ge->kind == ExprKind::kColumnRef && ge->As<sql::ColumnRefExpr>().table.empty()) {
          // An output alias, unless an input column has the name.
          const auto& name = ge->As<sql::ColumnRefExpr>().column;
          bool is_input = false;
          for (const auto& c : input) is_input |= c.name == name;
          if (!is_input) {
            for (const auto& it : items) {
              if (it.expr && it.name == name) ge = it.expr;
            }
          }
        }
        if (ContainsAggregate(*ge))
          return At(ge->offset, "aggregate functions are not allowed in GROUP BY");
        SW_ASSIGN_OR_RETURN(auto k, BindExpr(*ge, scope));
        bool dup = false;
        for (const auto& existing : keys) dup |= existing->key == k->key;
        if (!dup) keys.push_back(std::move(k));
      }
      scope.post = true;
      scope.keys = &keys;
      scope.aggregates = &aggregates;
    }

    // Select list.
    scope.clause = "SELECT";
    std::vector<BoundExprPtr> exprs;
    std::vector<ColumnInfo> out_columns;
    for (const auto& it : items) {
      BoundExprPtr b;
      if (it.expr) {
        SW_ASSIGN_OR_RETURN(b, BindExpr(*it.expr, scope));
      } else {
        if (aggregating) {
          auto ref = ColumnRef(it.star_column, input[it.star_column].type, it.name);
          bool matched = false;
          for (size_t k = 0; k < keys.size(); ++k) {
            if (keys[k]->key == ref->key) {
              b = ColumnRef(static_cast<int>(k), ref->type, it.name);
              matched = true;
            }
          }
          if (!matched) {
            return At(it.offset, fmt::format("column \"{}\" must appear in the GROUP BY clause or "
                                             "be used in an aggregate function",
                                             it.name));
          }
        } else {
          b = ColumnRef(it.star_column, input[it.star_column].type, it.name);
        }
      }
      out_columns.push_back({it.name, b->type, ""});
      exprs.push_back(std::move(b));
    }
    const size_t visible = exprs.size();

    // HAVING
    BoundExprPtr having;
    if (s.having) {
      scope.clause = "HAVING";
      SW_ASSIGN_OR_RETURN(having, BindExpr(*s.having, scope));
      SW_ASSIGN_OR_RETURN(having, AsCondition(std::move(having)));
      if (having->type != SqlType::kBoolean)
        return At(s.having->offset, "HAVING needs a BOOLEAN condition");
    }

    // ORDER BY: output columns by name or position, else expressions (hidden columns).
    std::vector<SortKey> sort_keys;
    if (order_by) {
      scope.clause = "ORDER BY";
      for (const auto& o : *order_by) {
        SortKey key;
        key.descending = o.direction == sql::SortDirection::kDescending;
        key.nulls_first = o.nulls == sql::NullsOrder::kDefault ? key.descending
                                                               : o.nulls == sql::NullsOrder::kFirst;
        int column = -1;
        if (auto ord = Ordinal(*o.expr)) {
          if (*ord < 1 || *ord > static_cast<int64_t>(visible)) {
            return At(o.expr->offset,
                      fmt::format("ORDER BY position {} is not in the select list", *ord));
          }
          column = static_cast<int>(*ord - 1);
        } else if (o.expr->kind == ExprKind::kColumnRef &&
                   o.expr->As<sql::ColumnRefExpr>().table.empty()) {
          const auto& name = o.expr->As<sql::ColumnRefExpr>().column;
          for (size_t i = 0; i < visible; ++i) {
            if (out_columns[i].name == name) {
              if (column >= 0 && exprs[column]->key != exprs[i]->key) {
                return At(o.expr->offset, fmt::format("ORDER BY \"{}\" is ambiguous", name));
              }
              column = static_cast<int>(i);
            }
          }
        }
        if (column < 0 && distinct_by_grouping) {
          // Over the groups, an expression of no select item fails to bind; an expression
          // wrong in itself keeps its own error.
          Scope rows = scope;
          rows.post = false;
          SW_RETURN_IF_ERROR(BindExpr(*o.expr, rows).status());
          if (!BindExpr(*o.expr, scope).ok()) {
            return At(o.expr->offset,
                      "for SELECT DISTINCT, ORDER BY expressions must appear in the select list");
          }
        }
        if (column < 0) {
          SW_ASSIGN_OR_RETURN(auto b, BindExpr(*o.expr, scope));
          for (size_t i = 0; i < exprs.size(); ++i) {
            if (exprs[i]->key == b->key) column = static_cast<int>(i);
          }
          if (column < 0) {
            if (s.distinct) {
              return At(o.expr->offset,
                        "for SELECT DISTINCT, ORDER BY expressions must appear in "
                        "the select list");
            }
            column = static_cast<int>(exprs.size());
            out_columns.push_back({"?sort?", b->type, ""});
            exprs.push_back(std::move(b));
          }
        }
        key.column = column;
        sort_keys.push_back(key);
      }
    }

    // Assemble: [aggregate] -> [having] -> project -> [distinct] -> [sort] -> [trim].
    PlanNodePtr node = std::move(rel.node);
    if (aggregating) {
      auto a = std::make_unique<AggregateNode>();
      agg = a.get();
      for (const auto& k : keys) {
        std::string name = "?key?";
        if (k->kind == BoundKind::kColumn) name = input[k->column].name;
        a->columns.push_back({name, k->type, ""});
      }
      for (const auto& sp : aggregates) {
        a->columns.push_back({DescribeAggregate(sp, input), sp.result_type, ""});
      }
      a->keys = std::move(keys);
      a->aggregates = std::move(aggregates);
      a->child = std::move(node);
      node = std::move(a);
      MaybeUseLatest(agg);
      MaybeUseSummaries(agg);
      if (!gapfill_requests.empty()) {
        SW_ASSIGN_OR_RETURN(node, AddGapFill(std::move(node), agg));
      }
      if (having) {
        auto f = std::make_unique<FilterNode>();
        f->columns = node->columns;
        f->predicate = std::move(having);
        f->child = std::move(node);
        node = std::move(f);
      }
    }
    auto project = std::make_unique<ProjectNode>();
    project->columns = out_columns;
    project->exprs = std::move(exprs);
    project->child = std::move(node);
    node = std::move(project);
    if (s.distinct && !distinct_by_grouping) {
      auto d = std::make_unique<DistinctNode>();
      d->columns = node->columns;
      d->child = std::move(node);
      node = std::move(d);
    }
    if (!sort_keys.empty()) {
      auto sort = std::make_unique<SortNode>();
      sort->columns = node->columns;
      sort->keys = sort_keys;
      sort->keep = keep;
      sort->child = std::move(node);
      node = WindowByTime(std::move(sort));
    }
    if (out_columns.size() > visible) {
      auto trim = std::make_unique<ProjectNode>();
      for (size_t i = 0; i < visible; ++i) {
        trim->exprs.push_back(
            ColumnRef(static_cast<int>(i), out_columns[i].type, out_columns[i].name));
        trim->columns.push_back(out_columns[i]);
      }
      trim->child = std::move(node);
      node = std::move(trim);
    }
    return node;
  }

  // last(field, time) of every aggregate, grouped by tags, straight over a scan: the newest row
  // of each series is enough (the scan falls back to every row of a series whose newest row
  // lacks one of the fields).
  static void MaybeUseLatest(AggregateNode* agg) {
    auto* scan = dynamic_cast<ScanNode*>(agg->child.get());
    if (scan == nullptr || agg->aggregates.empty()) return;
    for (const auto& k : agg->keys) {
      if (k->kind != BoundKind::kColumn || k->column < 1 ||
          k->column >= static_cast<int>(1 + scan->tag_count)) {
        return;
      }
    }
    for (const auto& a : agg->aggregates) {
      if (a.kind != AggregateKind::kLast) return;
      if (a.args[0]->kind != BoundKind::kColumn || a.args[1]->kind != BoundKind::kColumn ||
          a.args[1]->column != 0 || a.args[0]->column < static_cast<int>(1 + scan->tag_count)) {
        return;
      }
    }
    scan->latest = true;
  }

  // Whether `e` reads tags only (scan columns [1, 1 + tags)), not time or fields: one value per
  // series.
  static bool OfTagsOnly(const BoundExpr& e, size_t tags) {
    if (e.kind == BoundKind::kColumn) {
      return e.column >= 1 && e.column < static_cast<int>(1 + tags);
    }
    for (const auto& c : e.children) {
      if (!OfTagsOnly(*c, tags)) return false;
    }
    return true;
  }

  // Aggregates that chunk statistics answer, grouped by tags (or expressions of tags) and time
  // buckets (TimeKeyBuckets), straight over a scan: whole chunks inside the time range (and
  // inside one bucket) are read as statistics (count, sum, min, max) instead of rows.
  static void MaybeUseSummaries(AggregateNode* agg) {
    auto* scan = dynamic_cast<ScanNode*>(agg->child.get());
    if (scan == nullptr || scan->latest) return;
    std::vector<const BoundExpr*> time_keys, tag_keys;
    for (const auto& k : agg->keys) {
      if (TimeKeyBuckets::For(*k)) {
        time_keys.push_back(k.get());
        continue;
      }
      if (!OfTagsOnly(*k, scan->tag_count)) return;  // a tag, or an expression of tags
      tag_keys.push_back(k.get());
    }
    bool of_tags = false;  // an aggregate reads a tag (count(DISTINCT tag), the only one allowed)
    for (const auto& a : agg->aggregates) {
      const bool of_tag = !a.args.empty() && a.args[0]->kind == BoundKind::kColumn &&
                          OfTagsOnly(*a.args[0], scan->tag_count);
      if (a.kind == AggregateKind::kCountDistinct && of_tag) {
        of_tags = true;
        continue;  // one value a series
      }
      if (!SupportsSummary(a)) return;
      if (a.args.empty()) continue;
      if (a.args[0]->kind != BoundKind::kColumn ||
          a.args[0]->column < static_cast<int>(1 + scan->tag_count)) {
        return;  // an expression, or a tag or time: needs the rows
      }
    }
    scan->summaries = true;
    // No tag in the aggregates and at most one plain tag among the keys: a summary may stand
    // for many series (those sharing the tag's value).
    const bool one_tag = tag_keys.size() == 1 && tag_keys[0]->kind == BoundKind::kColumn;
    scan->request.summaries_without_series = !of_tags && (tag_keys.empty() || one_tag);
    if (scan->request.summaries_without_series && one_tag) {
      scan->request.summary_tag = scan->columns[tag_keys[0]->column].name;
    }
    scan->summary_time_keys = std::move(time_keys);
  }

  // The nominal width in ns of one value of a time key over a scan's layout: time itself (one
  // second: rows have no width, and a second is a first guess), time_bucket or date_trunc of a
  // time key; nullopt for anything else.
  static std::optional<int64_t> TimeKeyWidth(const BoundExpr& e) {
    constexpr int64_t kSecond = 1'000'000'000, kDay = 86400 * kSecond;
    if (e.kind == BoundKind::kColumn) {
      if (e.column != 0 || e.type != SqlType::kTimestamp) return std::nullopt;
      return kSecond;
    }
    if (e.kind != BoundKind::kFunction || e.children.size() != 1) return std::nullopt;
    auto inner = TimeKeyWidth(*e.children[0]);
    if (!inner) return std::nullopt;
    int64_t width = 0;
    if (e.function == Function::kTimeBucket) {
      width = e.interval.months > 0 ? e.interval.months * 31 * kDay : e.interval.nanos;
    } else if (e.function == Function::kDateTrunc) {
      static const std::pair<std::string_view, int64_t> kUnits[] = {
          {"microsecond", 1000},    {"millisecond", 1'000'000}, {"second", kSecond},
          {"minute", 60 * kSecond}, {"hour", 3600 * kSecond},   {"day", kDay},
          {"week", 7 * kDay},       {"month", 31 * kDay},       {"quarter", 92 * kDay},
          {"year", 366 * kDay},     {"decade", 3660 * kDay},    {"century", 36600 * kDay}};
      std::string_view unit = e.unit;
      if (unit.size() > 1 && unit.back() == 's') unit.remove_suffix(1);
      for (const auto& [name, ns] : kUnits) {
        if (unit == name) width = ns;
      }
    } else {
      return std::nullopt;
    }
    if (width <= 0) return std::nullopt;
    return std::max(width, *inner);
  }

  // ORDER BY a time key first with a row bound, straight over one table: the sort runs over
  // growing windows of time (TimeWindowNode) instead of the whole range. Past a few thousand
  // rows the windows are not worth it.
  static PlanNodePtr WindowByTime(std::unique_ptr<SortNode> sort) {
    constexpr size_t kMaxRows = 10'000;
    if (sort->keep == 0 || sort->keep > kMaxRows || sort->keys.empty()) return sort;
    PlanNode* below = sort->child.get();
    if (auto* d = dynamic_cast<DistinctNode*>(below)) below = d->child.get();
    auto* project = dynamic_cast<ProjectNode*>(below);
    if (project == nullptr) return sort;
    const BoundExpr* key = project->exprs[sort->keys[0].column].get();
    PlanNode* input = project->child.get();
    if (auto* having = dynamic_cast<FilterNode*>(input);
        having != nullptr && dynamic_cast<AggregateNode*>(having->child.get()) != nullptr) {
      input = having->child.get();
    }
    if (auto* agg = dynamic_cast<AggregateNode*>(input)) {
      if (key->kind != BoundKind::kColumn || key->column < 0 ||
          key->column >= static_cast<int>(agg->keys.size())) {
        return sort;
      }
      key = agg->keys[key->column].get();
      input = agg->child.get();
    }
    while (auto* filter = dynamic_cast<FilterNode*>(input)) input = filter->child.get();
    auto* scan = dynamic_cast<ScanNode*>(input);
    if (scan == nullptr || scan->latest) return sort;
    const std::optional<int64_t> width = TimeKeyWidth(*key);
    if (!width) return sort;
    auto window = std::make_unique<TimeWindowNode>();
    window->columns = sort->columns;
    window->scan = scan;
    window->key = CloneExpr(*key);
    window->descending = sort->keys[0].descending;
    window->keep = sort->keep;
    window->initial_width =
        *width > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(sort->keep)
            ? std::numeric_limits<int64_t>::max()
            : *width * static_cast<int64_t>(sort->keep);
    window->child = std::move(sort);
    return window;
  }

  Result<PlanNodePtr> PlanBody(const sql::QueryNode& body,
                               const std::vector<sql::OrderByItem>* order_by, size_t keep) {
    switch (body.kind) {
      case sql::QueryNodeKind::kSelect:
        return PlanSelect(body.As<sql::SelectNode>(), order_by, keep);
      case sql::QueryNodeKind::kParenthesized:
        return PlanQuery(*body.As<sql::ParenthesizedQueryNode>().query);
      case sql::QueryNodeKind::kSetOperation: {
        const auto& u = body.As<sql::SetOperationNode>();
        SW_ASSIGN_OR_RETURN(auto left, PlanBody(*u.left, nullptr, SIZE_MAX));
        SW_ASSIGN_OR_RETURN(auto right, PlanBody(*u.right, nullptr, SIZE_MAX));
        if (left->columns.size() != right->columns.size()) {
          return At(u.offset, fmt::format("each UNION query must have the same number of columns "
                                          "({} and {})",
                                          left->columns.size(), right->columns.size()));
        }
        auto node = std::make_unique<UnionAllNode>();
        node->columns = left->columns;
        for (size_t c = 0; c < node->columns.size(); ++c) {
          // As PostgreSQL: NULL takes the other side's type, numbers meet as numbers, and
          // nothing else converts (TEXT against DOUBLE would fail only on the rows).
          const SqlType x = left->columns[c].type, y = right->columns[c].type;
          SqlType& t = node->columns[c].type;
          if (x == y || y == SqlType::kNull) {
            t = x;
          } else if (x == SqlType::kNull) {
            t = y;
          } else if (IsNumeric(x) && IsNumeric(y)) {
            t = x == SqlType::kDouble || y == SqlType::kDouble ? SqlType::kDouble
                                                               : SqlType::kBigInt;
          } else if (x == SqlType::kText && IsTextLiteralColumn(*left, c)) {
            t = y;  // a string literal takes the other side's type ('2026-01-01', '2')
          } else if (y == SqlType::kText && IsTextLiteralColumn(*right, c)) {
            t = x;
          } else {
            return At(u.offset,
                      fmt::format("UNION types {} and {} cannot be matched (column {} \"{}\"); "
                                  "cast one side, e.g. x::text",
                                  SqlTypeName(x), SqlTypeName(y), c + 1, left->columns[c].name));
          }
          node->columns[c].table.clear();
          node->columns[c].database.clear();
        }
        SW_ASSIGN_OR_RETURN(left, CastTo(std::move(left), node->columns));
        SW_ASSIGN_OR_RETURN(right, CastTo(std::move(right), node->columns));
        node->children.push_back(std::move(left));
        node->children.push_back(std::move(right));
        PlanNodePtr out = std::move(node);
        if (!u.all) {
          auto d = std::make_unique<DistinctNode>();
          d->columns = out->columns;
          d->child = std::move(out);
          out = std::move(d);
        }
        if (order_by && !order_by->empty()) {
          auto sort = std::make_unique<SortNode>();
          sort->columns = out->columns;
          sort->keep = keep;
          for (const auto& o : *order_by) {
            SortKey key;
            key.descending = o.direction == sql::SortDirection::kDescending;
            key.nulls_first = o.nulls == sql::NullsOrder::kDefault
                                  ? key.descending
                                  : o.nulls == sql::NullsOrder::kFirst;
            int column = -1;
            if (auto ord = Ordinal(*o.expr)) {
              if (*ord >= 1 && *ord <= static_cast<int64_t>(out->columns.size()))
                column = static_cast<int>(*ord - 1);
            } else if (o.expr->kind == ExprKind::kColumnRef) {
              // The output of a UNION belongs to no table: a qualified name names nothing
              // there (as in PostgreSQL; the qualifier was ignored).
              const auto& ref = o.expr->As<sql::ColumnRefExpr>();
              if (!ref.table.empty()) {
                return MissingFromEntry(o.expr->offset, ref.database, ref.table, {}, ref.column);
              }
              for (size_t c = 0; c < out->columns.size(); ++c) {
                if (out->columns[c].name != ref.column) continue;
                if (column >= 0) {
                  return At(o.expr->offset,
                            fmt::format("ORDER BY \"{}\" is ambiguous", ref.column));
                }
                column = static_cast<int>(c);
              }
            }
            if (column < 0) {
              return At(o.expr->offset,
                        "ORDER BY over UNION must name an output column or position");
            }
            key.column = column;
            sort->keys.push_back(key);
          }
          sort->child = std::move(out);
          out = std::move(sort);
        }
        return out;
      }
    }
    return Internal("unknown query node");
  }

  // Whether column `c` of `plan` is a string literal: a projection of a TEXT constant.
  static bool IsTextLiteralColumn(const PlanNode& plan, size_t c) {
    const auto* p = dynamic_cast<const ProjectNode*>(&plan);
    return p != nullptr && c < p->exprs.size() && IsTextConstant(*p->exprs[c]);
  }

  Result<PlanNodePtr> CastTo(PlanNodePtr node, const std::vector<ColumnInfo>& columns) {
    bool same = true;
    for (size_t c = 0; c < columns.size(); ++c) same &= node->columns[c].type == columns[c].type;
    if (same) return node;
    auto p = std::make_unique<ProjectNode>();
    // A failing cast points at the select item the column comes from, when there is one.
    const auto* items = dynamic_cast<const ProjectNode*>(node.get());
    for (size_t c = 0; c < columns.size(); ++c) {
      auto ref = ColumnRef(static_cast<int>(c), node->columns[c].type, "");
      if (items != nullptr && c < items->exprs.size()) ref->offset = items->exprs[c]->offset;
      SW_ASSIGN_OR_RETURN(auto e, Coerce(std::move(ref), columns[c].type));
      p->exprs.push_back(std::move(e));
      p->columns.push_back({node->columns[c].name, columns[c].type, ""});
    }
    p->child = std::move(node);
    return PlanNodePtr(std::move(p));
  }

  // The value of LIMIT or OFFSET; none when absent or NULL (LIMIT ALL), as in PostgreSQL.
  Result<std::optional<size_t>> RowCount(const Expr* e, std::string_view what) {
    if (e == nullptr) return std::optional<size_t>();
    Scope none;
    std::vector<ColumnInfo> empty;
    none.columns = &empty;
    none.clause = what;
    SW_ASSIGN_OR_RETURN(auto b, BindExpr(*e, none));
    if (b->kind == BoundKind::kConstant && b->constant.is_null &&
        (b->type == SqlType::kNull || IsNumeric(b->type))) {
      return std::optional<size_t>();
    }
    if (b->kind != BoundKind::kConstant || b->constant.is_null ||
        (b->type != SqlType::kBigInt && b->type != SqlType::kUBigInt) || b->constant.i < 0) {
      return At(e->offset, fmt::format("{} must be a non-negative integer constant", what));
    }
    return std::optional<size_t>(static_cast<size_t>(b->constant.i));
  }

  Result<PlanNodePtr> PlanQuery(const sql::SelectStatement& q) {
    // One WITH names each query once, as in PostgreSQL (a second one hid the first); an inner
    // WITH may reuse a name of an outer one.
    for (size_t i = 0; i < q.ctes.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (q.ctes[j].name == q.ctes[i].name) {
          return At(q.ctes[i].offset,
                    fmt::format("WITH query name \"{}\" specified more than once", q.ctes[i].name));
        }
      }
    }
    const size_t saved = ctes.size();
    for (const auto& c : q.ctes) ctes.emplace_back(c.name, c.query.get());
    auto result = PlanQueryBody(q);
    ctes.resize(saved);
    return result;
  }

  Result<PlanNodePtr> PlanQueryBody(const sql::SelectStatement& q) {
    SW_ASSIGN_OR_RETURN(auto limit, RowCount(q.limit.get(), "LIMIT"));
    SW_ASSIGN_OR_RETURN(auto offset, RowCount(q.offset_rows.get(), "OFFSET"));
    size_t keep = SIZE_MAX;
    if (limit) keep = *limit + offset.value_or(0);
    SW_ASSIGN_OR_RETURN(auto node,
                        PlanBody(*q.body, q.order_by.empty() ? nullptr : &q.order_by, keep));
    if (limit || offset) {
      auto l = std::make_unique<LimitNode>();
      l->columns = node->columns;
      l->limit = limit.value_or(SIZE_MAX);
      l->offset = offset.value_or(0);
      l->child = std::move(node);
      node = std::move(l);
    }
    return node;
  }

  // ---------------------------------------------------------------------------------------
  // SHOW and DESCRIBE

  static PlanNodePtr TextRows(std::vector<std::string> names,
                              std::vector<std::vector<std::string>> rows, std::string label) {
    auto node = std::make_unique<RowsNode>();
    node->label = std::move(label);
    node->rows.columns.resize(names.size());
    for (auto& c : node->rows.columns) c.Reset(SqlType::kText);
    for (const auto& n : names) node->columns.push_back({n, SqlType::kText, ""});
    for (const auto& r : rows) {
      for (size_t c = 0; c < names.size(); ++c) node->rows.columns[c].Append(Value::Text(r[c]));
      ++node->rows.rows;
    }
    return node;
  }

  Result<PlanNodePtr> PlanStatement(const sql::Statement& st) {
    if (const auto* q = std::get_if<sql::SelectStatement>(&st.node)) return PlanQuery(*q);
    if (std::holds_alternative<sql::ShowDatabasesStatement>(st.node)) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& db : VisibleDatabases()) rows.push_back({db});
      return TextRows({"database"}, std::move(rows), "ShowDatabases");
    }
    if (const auto* s = std::get_if<sql::ShowTablesStatement>(&st.node)) {
      const std::string db = s->database.empty() ? options.database : s->database;
      // A database named other than the default must exist (one exists while it has tables).
      if (!s->database.empty() && db != kSystemDatabase && db != "main" && db != options.database) {
        const auto databases = VisibleDatabases();
        if (std::find(databases.begin(), databases.end(), db) == databases.end()) {
          return NotFoundAt(s->database_offset, fmt::format("database \"{}\" does not exist{}", db,
                                                            Nearest(db, databases)));
        }
      }
      std::vector<std::vector<std::string>> rows;
      if (db == kSystemDatabase) {
        for (const char* t : kSystemTables) rows.push_back({t});
      } else {
        for (const auto& t : VisibleTables(db)) rows.push_back({t});
      }
      return TextRows({"table_name"}, std::move(rows), "ShowTables");
    }
    if (const auto* d = std::get_if<sql::DescribeStatement>(&st.node)) {
      const std::string db = d->table.database.empty() ? options.database : d->table.database;
      if (db == kSystemDatabase) {  // the columns of system tables are of kind "system"
        SW_ASSIGN_OR_RETURN(auto columns, SystemTableColumns(d->table.name, "", d->table_offset));
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : columns) {
          rows.push_back({c.name, std::string(SqlTypeName(c.type)), "system"});
        }
        return TextRows({"column_name", "type", "kind"}, std::move(rows), "Describe");
      }
      auto schema = VisibleSchema(db, d->table.name);
      if (!schema) return MissingTable(d->table_offset, db, d->table.name);
      schema = InColumnOrder(db, d->table.name, std::move(schema));
      std::vector<std::vector<std::string>> rows;
      rows.push_back({"time", "TIMESTAMP", "time"});
      for (const auto& k : schema->tag_keys) rows.push_back({k, "TEXT", "tag"});
      for (const auto& f : schema->fields) {
        const char* type = "DOUBLE";
        switch (f.type) {
          case FieldType::kInt64: type = "BIGINT"; break;
          case FieldType::kUInt64: type = "UBIGINT"; break;
          case FieldType::kBool: type = "BOOLEAN"; break;
          case FieldType::kString: type = "TEXT"; break;
          default: break;
        }
        rows.push_back({f.name, type, "field"});
      }
      return TextRows({"column_name", "type", "kind"}, std::move(rows), "Describe");
    }
    return Internal("unknown statement");
  }
};

Planner::Planner(const Engine* engine, PlannerOptions options, std::string_view text,
                 ExecContext* ctx)
    : impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->options = std::move(options);
  impl_->text = text;
  impl_->ctx = ctx;
}

Planner::~Planner() = default;

Result<PlanNodePtr> Planner::PlanStatement(const sql::Statement& statement) {
  return impl_->PlanStatement(statement);
}

Result<PlanNodePtr> Planner::PlanQuery(const sql::SelectStatement& query) {
  return impl_->PlanQuery(query);
}

}  // namespace seaway::query
