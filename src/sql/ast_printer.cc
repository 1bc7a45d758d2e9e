// Canonical SQL text of a syntax tree (src/sql).
#include "sql/ast_printer.h"

#include <cmath>

#include <fmt/format.h>

#include "sql/parser.h"

namespace seaway::sql {
namespace {

bool IsBareName(std::string_view name) {
  if (name.empty() || IsReservedWord(name)) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) return false;
  }
  return true;
}

std::string_view BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqual: return "=";
    case BinaryOp::kNotEqual: return "<>";
    case BinaryOp::kLess: return "<";
    case BinaryOp::kLessEqual: return "<=";
    case BinaryOp::kGreater: return ">";
    case BinaryOp::kGreaterEqual: return ">=";
    case BinaryOp::kRegexMatch: return "~";
    case BinaryOp::kRegexIMatch: return "~*";
    case BinaryOp::kRegexNotMatch: return "!~";
    case BinaryOp::kRegexNotIMatch: return "!~*";
    case BinaryOp::kConcat: return "||";
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSubtract: return "-";
    case BinaryOp::kMultiply: return "*";
    case BinaryOp::kDivide: return "/";
    case BinaryOp::kModulo: return "%";
    case BinaryOp::kPower: return "^";
  }
  return "?";
}

// Shortest text that reads back as the same double, always with a '.' or an exponent so that
// it reads back as a float.
std::string FloatText(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

class Printer {
 public:
  std::string Take() { return std::move(out_); }

  void TopLevel(const Statement& statement) {
    std::visit([this](const auto& node) { Node(node); }, statement.node);
  }

  void Node(const SelectStatement& query) { Query(query); }
  void Node(const ShowDatabasesStatement&) { out_ += "SHOW DATABASES"; }
  void Node(const ShowTablesStatement& show) {
    out_ += "SHOW TABLES";
    if (!show.database.empty()) out_ += " FROM " + QuoteIdentifier(show.database);
  }
  void Node(const DescribeStatement& describe) {
    out_ += "DESCRIBE ";
    Table(describe.table);
  }

  void Query(const SelectStatement& query) {
    if (!query.ctes.empty()) {
      out_ += "WITH ";
      for (size_t i = 0; i < query.ctes.size(); ++i) {
        if (i > 0) out_ += ", ";
        out_ += QuoteIdentifier(query.ctes[i].name) + " AS (";
        Query(*query.ctes[i].query);
        out_ += ")";
      }
      out_ += " ";
    }
    Body(*query.body);
    if (!query.order_by.empty()) {
      out_ += " ORDER BY ";
      OrderBy(query.order_by);
    }
    if (query.limit) {
      out_ += " LIMIT ";
      const bool all = query.limit->kind == ExprKind::kLiteral &&
                       query.limit->As<LiteralExpr>().literal_kind == LiteralKind::kNull;
      if (all) {
        out_ += "ALL";
      } else {
        Expression(*query.limit);
      }
    }
    if (query.offset_rows) {
      out_ += " OFFSET ";
      Expression(*query.offset_rows);
    }
  }

  void Expression(const sql::Expr& expr) {
    switch (expr.kind) {
      case ExprKind::kLiteral: return Literal(expr.As<LiteralExpr>());
      case ExprKind::kColumnRef: {
        const auto& ref = expr.As<ColumnRefExpr>();
        if (!ref.database.empty()) out_ += QuoteIdentifier(ref.database) + ".";
        if (!ref.table.empty()) out_ += QuoteIdentifier(ref.table) + ".";
        out_ += QuoteIdentifier(ref.column);
        return;
      }
      case ExprKind::kStar: {
        const auto& star = expr.As<StarExpr>();
        if (!star.database.empty()) out_ += QuoteIdentifier(star.database) + ".";
        if (!star.table.empty()) out_ += QuoteIdentifier(star.table) + ".";
        out_ += "*";
        return;
      }
      case ExprKind::kFunctionCall: return FunctionCall(expr.As<FunctionCallExpr>());
      case ExprKind::kUnary: {
        const auto& unary = expr.As<UnaryExpr>();
        out_ += unary.op == UnaryOp::kNot ? "NOT " : unary.op == UnaryOp::kPlus ? "+" : "-";
        return Operand(*unary.operand);
      }
      case ExprKind::kBinary: {
        const auto& binary = expr.As<BinaryExpr>();
        Operand(*binary.left);
        out_ += fmt::format(" {} ", BinaryOpText(binary.op));
        return Operand(*binary.right);
      }
      case ExprKind::kLogical: {
        const auto& logical = expr.As<LogicalExpr>();
        for (size_t i = 0; i < logical.operands.size(); ++i) {
          if (i > 0) out_ += logical.op == LogicalOp::kAnd ? " AND " : " OR ";
          Operand(*logical.operands[i]);
        }
        return;
      }
      case ExprKind::kIsNull: {
        const auto& is_null = expr.As<IsNullExpr>();
        Operand(*is_null.operand);
        out_ += is_null.negated ? " IS NOT " : " IS ";
        if (is_null.test == IsNullExpr::Test::kDistinctFrom) {
          out_ += "DISTINCT FROM ";
          return Operand(*is_null.other);
        }
        out_ += is_null.test == IsNullExpr::Test::kTrue    ? "TRUE"
                : is_null.test == IsNullExpr::Test::kFalse ? "FALSE"
                                                           : "NULL";
        return;
      }
      case ExprKind::kInList: {
        const auto& in = expr.As<InListExpr>();
        Operand(*in.operand);
        out_ += in.negated ? " NOT IN (" : " IN (";
        ExprList(in.list);
        out_ += ")";
        return;
      }
      case ExprKind::kInSubquery: {
        const auto& in = expr.As<InSubqueryExpr>();
        Operand(*in.operand);
        out_ += in.negated ? " NOT IN (" : " IN (";
        Query(*in.query);
        out_ += ")";
        return;
      }
      case ExprKind::kLike: {
        const auto& like = expr.As<LikeExpr>();
        Operand(*like.operand);
        out_ += like.negated ? " NOT" : "";
        out_ += like.case_insensitive ? " ILIKE " : " LIKE ";
        Operand(*like.pattern);
        if (like.escape) {
          out_ += " ESCAPE ";
          Operand(*like.escape);
        }
        return;
      }
      case ExprKind::kBetween: {
        const auto& between = expr.As<BetweenExpr>();
        Operand(*between.operand);
        out_ += between.negated ? " NOT BETWEEN " : " BETWEEN ";
        Operand(*between.low);
        out_ += " AND ";
        return Operand(*between.high);
      }
      case ExprKind::kCase: return Case(expr.As<CaseExpr>());
      case ExprKind::kCast: {
        const auto& cast = expr.As<CastExpr>();
        out_ += "CAST(";
        Expression(*cast.operand);
        out_ += " AS ";
        Type(cast.type);
        out_ += ")";
        return;
      }
      case ExprKind::kExtract: {
        const auto& extract = expr.As<ExtractExpr>();
        out_ += "EXTRACT(";
        out_ += IsBareName(extract.field) ? extract.field : QuoteString(extract.field);
        out_ += " FROM ";
        Expression(*extract.operand);
        out_ += ")";
        return;
      }
      case ExprKind::kSubquery:
        out_ += "(";
        Query(*expr.As<SubqueryExpr>().query);
        out_ += ")";
        return;
      case ExprKind::kExists:
        out_ += "EXISTS (";
        Query(*expr.As<ExistsExpr>().query);
        out_ += ")";
        return;
    }
  }

 private:
  // An operand of an operator: in parentheses if it is an operator expression itself (or a
  // negative number, so that `a - -1` never prints as the comment `a --1`).
  void Operand(const sql::Expr& expr) {
    bool parenthesize = false;
    switch (expr.kind) {
      case ExprKind::kUnary:
      case ExprKind::kBinary:
      case ExprKind::kLogical:
      case ExprKind::kIsNull:
      case ExprKind::kInList:
      case ExprKind::kInSubquery:
      case ExprKind::kLike:
      case ExprKind::kBetween: parenthesize = true; break;
      case ExprKind::kLiteral: {
        const auto& literal = expr.As<LiteralExpr>();
        parenthesize =
            (literal.literal_kind == LiteralKind::kInteger && literal.int_value < 0) ||
            (literal.literal_kind == LiteralKind::kFloat && std::signbit(literal.float_value));
        break;
      }
      default: break;
    }
    if (parenthesize) out_ += "(";
    Expression(expr);
    if (parenthesize) out_ += ")";
  }

  void Literal(const LiteralExpr& literal) {
    switch (literal.literal_kind) {
      case LiteralKind::kNull: out_ += "NULL"; return;
      case LiteralKind::kBool: out_ += literal.bool_value ? "TRUE" : "FALSE"; return;
      case LiteralKind::kInteger: out_ += fmt::format("{}", literal.int_value); return;
      case LiteralKind::kUnsigned: out_ += fmt::format("{}", literal.uint_value); return;
      case LiteralKind::kFloat: out_ += FloatText(literal.float_value); return;
      case LiteralKind::kString: out_ += QuoteString(literal.string_value); return;
      case LiteralKind::kInterval: out_ += "INTERVAL " + QuoteString(literal.string_value); return;
    }
  }

  void ExprList(const std::vector<ExprPtr>& exprs) {
    for (size_t i = 0; i < exprs.size(); ++i) {
      if (i > 0) out_ += ", ";
      Expression(*exprs[i]);
    }
  }

  void FunctionCall(const FunctionCallExpr& call) {
    // EXTRACT( starts the special form; a function of that name needs quotes. So do trim and
    // position, whose keyword forms (`position(x IN s)`) the parser reads instead.
    if (call.name == "position" && call.args.size() == 2 && !call.star && !call.distinct &&
        call.within_group.empty() && !call.filter) {
      out_ += "position(";
      Operand(*call.args[0]);
      out_ += " IN ";
      Operand(*call.args[1]);
      out_ += ")";
      return;
    }
    const bool special = call.name == "extract" || call.name == "trim" || call.name == "position";
    out_ += special ? "\"" + call.name + "\"" : QuoteIdentifier(call.name);
    out_ += "(";
    if (call.star) out_ += "*";
    if (call.distinct) out_ += "DISTINCT ";
    ExprList(call.args);
    out_ += ")";
    if (!call.within_group.empty()) {
      out_ += " WITHIN GROUP (ORDER BY ";
      OrderBy(call.within_group);
      out_ += ")";
    }
    if (call.filter) {
      out_ += " FILTER (WHERE ";
      Expression(*call.filter);
      out_ += ")";
    }
  }

  void Case(const CaseExpr& node) {
    out_ += "CASE";
    if (node.operand) {
      out_ += " ";
      Expression(*node.operand);
    }
    for (const CaseWhen& when : node.whens) {
      out_ += " WHEN ";
      Expression(*when.when);
      out_ += " THEN ";
      Expression(*when.then);
    }
    if (node.else_result) {
      out_ += " ELSE ";
      Expression(*node.else_result);
    }
    out_ += " END";
  }

  void Type(const TypeName& type) {
    out_ += IsBareName(type.name) || type.name == "double precision" ? type.name
                                                                     : QuoteIdentifier(type.name);
    for (size_t i = 0; i < type.params.size(); ++i) {
      out_ += fmt::format("{}{}", i == 0 ? "(" : ", ", type.params[i]);
    }
    if (!type.params.empty()) out_ += ")";
  }

  void OrderBy(const std::vector<OrderByItem>& items) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += ", ";
      Expression(*items[i].expr);
      if (items[i].direction == SortDirection::kAscending) out_ += " ASC";
      if (items[i].direction == SortDirection::kDescending) out_ += " DESC";
      if (items[i].nulls == NullsOrder::kFirst) out_ += " NULLS FIRST";
      if (items[i].nulls == NullsOrder::kLast) out_ += " NULLS LAST";
    }
  }

  void Body(const QueryNode& node) {
    switch (node.kind) {
      case QueryNodeKind::kSelect: return Select(node.As<SelectNode>());
      case QueryNodeKind::kSetOperation: {
        const auto& set = node.As<SetOperationNode>();
        Body(*set.left);
        out_ += set.all ? " UNION ALL " : " UNION ";
        // Left-associative: only a set operation on the right needs parentheses.
        bool parenthesize = set.right->kind == QueryNodeKind::kSetOperation;
        if (parenthesize) out_ += "(";
        Body(*set.right);
        if (parenthesize) out_ += ")";
        return;
      }
      case QueryNodeKind::kParenthesized:
        out_ += "(";
        Query(*node.As<ParenthesizedQueryNode>().query);
        out_ += ")";
        return;
    }
  }

  void Select(const SelectNode& select) {
    out_ += select.distinct ? "SELECT DISTINCT " : "SELECT ";
    for (size_t i = 0; i < select.items.size(); ++i) {
      if (i > 0) out_ += ", ";
      Expression(*select.items[i].expr);
      if (!select.items[i].alias.empty()) out_ += " AS " + QuoteIdentifier(select.items[i].alias);
    }
    if (!select.from.empty()) {
      out_ += " FROM ";
      for (size_t i = 0; i < select.from.size(); ++i) {
        if (i > 0) out_ += ", ";
        TableRefText(*select.from[i]);
      }
    }
    if (select.where) {
      out_ += " WHERE ";
      Expression(*select.where);
    }
    if (!select.group_by.empty()) {
      out_ += " GROUP BY ";
      ExprList(select.group_by);
    }
    if (select.having) {
      out_ += " HAVING ";
      Expression(*select.having);
    }
  }

  void Table(const TableName& table) {
    if (!table.database.empty()) out_ += QuoteIdentifier(table.database) + ".";
    out_ += QuoteIdentifier(table.name);
  }

  void TableRefText(const TableRef& ref) {
    switch (ref.kind) {
      case TableRefKind::kTable: {
        const auto& table = ref.As<BaseTableRef>();
        Table(table.table);
        if (!table.alias.empty()) out_ += " AS " + QuoteIdentifier(table.alias);
        return;
      }
      case TableRefKind::kSubquery: {
        const auto& subquery = ref.As<SubqueryTableRef>();
        out_ += "(";
        Query(*subquery.query);
        out_ += ")";
        if (!subquery.alias.empty()) out_ += " AS " + QuoteIdentifier(subquery.alias);
        return;
      }
      case TableRefKind::kJoin: {
        const auto& join = ref.As<JoinTableRef>();
        TableRefText(*join.left);
        switch (join.type) {
          case JoinType::kInner: out_ += " JOIN "; break;
          case JoinType::kLeft: out_ += " LEFT JOIN "; break;
          case JoinType::kCross: out_ += " CROSS JOIN "; break;
        }
        // Joins chain to the left; a join on the right was written in parentheses.
        bool parenthesize = join.right->kind == TableRefKind::kJoin;
        if (parenthesize) out_ += "(";
        TableRefText(*join.right);
        if (parenthesize) out_ += ")";
        if (join.condition) {
          out_ += " ON ";
          Expression(*join.condition);
        }
        if (!join.using_columns.empty()) {
          out_ += " USING (";
          for (size_t i = 0; i < join.using_columns.size(); ++i) {
            if (i > 0) out_ += ", ";
            out_ += QuoteIdentifier(join.using_columns[i]);
          }
          out_ += ")";
        }
        return;
      }
    }
  }

  std::string out_;
};

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  if (IsBareName(name)) return std::string(name);
  std::string quoted = "\"";
  for (char c : name) {
    quoted += c;
    if (c == '"') quoted += '"';
  }
  return quoted + "\"";
}

std::string QuoteString(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

std::string ToSql(const Statement& statement) {
  Printer printer;
  printer.TopLevel(statement);
  return printer.Take();
}

std::string ToSql(const SelectStatement& query) {
  Printer printer;
  printer.Query(query);
  return printer.Take();
}

std::string ToSql(const Expr& expr) {
  Printer printer;
  printer.Expression(expr);
  return printer.Take();
}

}  // namespace seaway::sql
