// Canonical SQL text of a syntax tree (src/sql).
//
// ToSql prints one spelling per tree: keywords in upper case, names quoted only when they must
// be, `x::t` as CAST(x AS t), `!=` as `<>`, explicit `AS` for aliases, and every operand that is
// itself an operator expression in parentheses, so the grouping is visible:
//
//   select a+b*c from t where x>1 and not y
//   SELECT a + (b * c) FROM t WHERE (x > 1) AND (NOT y)
//
// Parsing the printed text gives the same tree again (tests/unit/sql and the fuzzer check it),
// which makes it fit for EXPLAIN, logs and test expectations.
//
// Thread-compatible; pure functions.
#pragma once

#include <string>
#include <string_view>

#include "sql/ast.h"

namespace seaway::sql {

std::string ToSql(const Statement& statement);
std::string ToSql(const SelectStatement& query);
std::string ToSql(const Expr& expr);

// `name` as written in SQL: bare when it is lower case letters, digits, '_' and '$' (not first)
// and not a reserved word; otherwise in double quotes with quotes doubled.
std::string QuoteIdentifier(std::string_view name);

// 'text' with quotes doubled.
std::string QuoteString(std::string_view text);

}  // namespace seaway::sql
