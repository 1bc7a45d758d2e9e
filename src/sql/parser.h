// SQL parser (src/sql): text -> syntax tree (ast.h), with errors that point at the problem.
//
// Recursive descent for statements and clauses, precedence climbing for expressions. From
// loosest to tightest binding:
//
//   OR  <  AND  <  NOT  <  = <> != < <= > >= ~ ~* !~ !~*, IS [NOT] NULL, IS [NOT] DISTINCT FROM,
//   [NOT] IN, [NOT] LIKE / ILIKE, [NOT] BETWEEN  <  ||  <  + -  <  * / %  <  ^  <  unary - +
//   <  ::
//
// Binary operators are left-associative; the comparison level does not chain (`a = b = c` is an
// error asking for parentheses, rather than a silent `(a = b) = c`). docs/sql.md lists the
// accepted dialect.
//
// Every error is InvalidArgument, formatted by SyntaxError() (source_excerpt.h):
//
//   syntax error at line 2, column 8: expected FROM or end of statement, found 'FORM'
//   <the source line>
//          ^
//
// Trees taller than kMaxNestingDepth, and inputs whose parentheses nest deeper than about
// 3 * kMaxNestingDepth (fewer for nested queries), are rejected with "query is nested too
// deeply", so that neither the parser nor a later recursive pass can run out of stack: the
// parser takes under 1 MB of stack at the limit (about 2.5 MB with AddressSanitizer).
//
// Thread-compatible; the functions are pure.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "sql/ast.h"

namespace seaway::sql {

inline constexpr uint32_t kMaxNestingDepth = 256;

// Exactly one statement, with any number of empty statements (';') before and after it. A text
// without a statement (empty, or only spaces, comments and ';') is InvalidArgument "empty query".
Result<Statement> ParseSql(std::string_view text);

// Statements separated by ';' (empty statements are skipped; an empty script has none).
Result<std::vector<Statement>> ParseScript(std::string_view text);

// One expression, e.g. a rule's condition.
Result<ExprPtr> ParseExpression(std::string_view text);

// Reserved words cannot be unquoted names or aliases (SELECT "order" FROM t). `word` is lower
// case. The list is in docs/sql.md.
bool IsReservedWord(std::string_view word);

}  // namespace seaway::sql
