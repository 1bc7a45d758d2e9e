// Tests for the SQL parser's errors (src/sql/parser.h): the exact message users see, with the
// line, the column and the caret excerpt; and the nesting limits.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sql/ast_printer.h"
#include "sql/parser.h"

namespace seaway::sql {
namespace {

struct ErrorCase {
  std::string_view input;
  std::string_view message;
};

const std::vector<ErrorCase> kErrorCases = {
    // Lexical errors surface through the parser unchanged.
    {"SELECT a\nFROM t\nWHERE s = 'abc\n",
     "syntax error at line 3, column 11: unterminated string literal\n"
     "WHERE s = 'abc\n"
     "          ^"},
    {"SELECT \"Machine",
     "syntax error at line 1, column 8: unterminated quoted identifier\n"
     "SELECT \"Machine\n"
     "       ^"},
    {"SELECT 1 /* note",
     "syntax error at line 1, column 10: unterminated block comment\n"
     "SELECT 1 /* note\n"
     "         ^"},
    {"SELECT a FROM t WHERE a # 1",
     "syntax error at line 1, column 25: unexpected character '#'\n"
     "SELECT a FROM t WHERE a # 1\n"
     "                        ^"},
    {"SELECT 3rd FROM t",
     "syntax error at line 1, column 8: invalid number '3rd'\n"
     "SELECT 3rd FROM t\n"
     "       ^"},
    // A misspelt keyword read as an alias is reported at the misspelling.
    {"SELECT a,\n  b, c FORM t",
     "syntax error at line 2, column 8: expected FROM or end of statement, found 'FORM'\n"
     "  b, c FORM t\n"
     "       ^"},
    {"SELECT a FROM t WHRE x = 1",
     "syntax error at line 1, column 17: expected JOIN, WHERE, GROUP BY, ORDER BY, LIMIT or end "
     "of statement, found 'WHRE'\n"
     "SELECT a FROM t WHRE x = 1\n"
     "                ^"},
    // ... but a real alias followed by junk is reported at the junk.
    {"SELECT a total sum",
     "syntax error at line 1, column 16: expected FROM or end of statement, "
     "found 'sum'\n"
     "SELECT a total sum\n"
     "               ^"},
    {"SELECT a FROM t WHERE x GROUP y",
     "syntax error at line 1, column 31: expected BY, found 'y'\n"
     "SELECT a FROM t WHERE x GROUP y\n"
     "                              ^"},
    {"SELECT a FROM t WHERE x GROUP BY y ORDER BY y LIMIT 1 LIMIT 2",
     "syntax error at line 1, column 55: expected OFFSET or end of statement, found 'LIMIT'\n"
     "SELECT a FROM t WHERE x GROUP BY y ORDER BY y LIMIT 1 LIMIT 2\n"
     "                                                      ^"},
    // End of input: the caret goes right after the last token.
    {"SELECT a FROM",
     "syntax error at line 1, column 14: expected table name, found end of input\n"
     "SELECT a FROM\n"
     "             ^"},
    {"SELECT a FROM t WHERE  -- why?\n",
     "syntax error at line 1, column 22: expected expression, found end of input\n"
     "SELECT a FROM t WHERE  -- why?\n"
     "                     ^"},
    // A text without a statement (empty statements are skipped, as PostgreSQL skips them).
    {"",
     "empty query: the text holds no statement (only spaces, comments or ';'); send one such as "
     "SELECT 1"},
    {" ; -- nothing\n;",
     "empty query: the text holds no statement (only spaces, comments or ';'); send one such as "
     "SELECT 1"},
    {"SELECT 1;; SELECT 2",
     "syntax error at line 1, column 12: expected end of input after ';' (one statement only), "
     "found 'SELECT'\n"
     "SELECT 1;; SELECT 2\n"
     "           ^"},
    {"SELEC 1",
     "syntax error at line 1, column 1: expected SELECT, WITH, SHOW or DESCRIBE, "
     "found 'SELEC'\n"
     "SELEC 1\n"
     "^"},
    {"SELECT 1; SELECT 2",
     "syntax error at line 1, column 11: expected end of input after ';' (one statement only), "
     "found 'SELECT'\n"
     "SELECT 1; SELECT 2\n"
     "          ^"},
    // Expressions.
    {"SELECT a = b = c",
     "syntax error at line 1, column 14: '=' cannot follow a comparison without parentheses\n"
     "SELECT a = b = c\n"
     "             ^"},
    {"SELECT a < b IS NULL",
     "syntax error at line 1, column 14: 'IS' cannot follow a comparison without parentheses\n"
     "SELECT a < b IS NULL\n"
     "             ^"},
    {"SELECT x IS 5",
     "syntax error at line 1, column 13: expected NULL, NOT, TRUE, FALSE or DISTINCT FROM, found "
     "'5'\n"
     "SELECT x IS 5\n"
     "            ^"},
    {"SELECT x IS NOT 5",
     "syntax error at line 1, column 17: expected NULL, TRUE, FALSE or DISTINCT FROM, found '5'\n"
     "SELECT x IS NOT 5\n"
     "                ^"},
    {"SELECT f(1,)",
     "syntax error at line 1, column 12: expected expression, found ')'\n"
     "SELECT f(1,)\n"
     "           ^"},
    {"SELECT f(1 2)",
     "syntax error at line 1, column 12: expected ',' or ')', found '2'\n"
     "SELECT f(1 2)\n"
     "           ^"},
    {"SELECT (1, 2)",
     "syntax error at line 1, column 10: expected an operator or ')', found ','\n"
     "SELECT (1, 2)\n"
     "         ^"},
    {"SELECT 1e999",
     "syntax error at line 1, column 8: number 1e999 is out of range\n"
     "SELECT 1e999\n"
     "       ^"},
    {"SELECT a.b.c.d",
     "syntax error at line 1, column 13: a column reference has at most three parts "
     "(database.table.column)\n"
     "SELECT a.b.c.d\n"
     "            ^"},
    {"SELECT t.* + 1 FROM t",
     "syntax error at line 1, column 12: expected FROM or end of statement, found '+'\n"
     "SELECT t.* + 1 FROM t\n"
     "           ^"},
    {"SELECT count(DISTINCT *)",
     "syntax error at line 1, column 23: expected expression, found "
     "'*'\n"
     "SELECT count(DISTINCT *)\n"
     "                      ^"},
    {"SELECT a IN 1",
     "syntax error at line 1, column 13: expected '(', found '1'\n"
     "SELECT a IN 1\n"
     "            ^"},
    {"SELECT a IN ()",
     "syntax error at line 1, column 14: expected expression, found ')'\n"
     "SELECT a IN ()\n"
     "             ^"},
    {"SELECT a BETWEEN 1 OR 2",
     "syntax error at line 1, column 20: expected AND, found 'OR'\n"
     "SELECT a BETWEEN 1 OR 2\n"
     "                   ^"},
    {"SELECT CASE x END",
     "syntax error at line 1, column 15: expected WHEN, found 'END'\n"
     "SELECT CASE x END\n"
     "              ^"},
    {"SELECT CASE WHEN 1 THEN 2",
     "syntax error at line 1, column 26: expected WHEN, ELSE or END, "
     "found end of input\n"
     "SELECT CASE WHEN 1 THEN 2\n"
     "                         ^"},
    {"SELECT CASE WHEN 1 2 END",
     "syntax error at line 1, column 20: expected THEN, found '2'\n"
     "SELECT CASE WHEN 1 2 END\n"
     "                   ^"},
    {"SELECT CAST(x int)",
     "syntax error at line 1, column 15: expected AS, found 'int'\n"
     "SELECT CAST(x int)\n"
     "              ^"},
    {"SELECT x::",
     "syntax error at line 1, column 11: expected type name, found end of input\n"
     "SELECT x::\n"
     "          ^"},
    {"SELECT x::varchar(n)",
     "syntax error at line 1, column 19: expected a type parameter (an integer), found 'n'\n"
     "SELECT x::varchar(n)\n"
     "                  ^"},
    {"SELECT EXTRACT(FROM t)",
     "syntax error at line 1, column 16: expected a field such as year, day or epoch, found "
     "'FROM'\n"
     "SELECT EXTRACT(FROM t)\n"
     "               ^"},
    {"SELECT EXTRACT(day t)",
     "syntax error at line 1, column 20: expected FROM, found 't'\n"
     "SELECT EXTRACT(day t)\n"
     "                   ^"},
    {"SELECT p(0.5) WITHIN (ORDER BY x)",
     "syntax error at line 1, column 22: expected GROUP, found '('\n"
     "SELECT p(0.5) WITHIN (ORDER BY x)\n"
     "                     ^"},
    {"SELECT FROM t",
     "syntax error at line 1, column 8: expected expression, found 'FROM'\n"
     "SELECT FROM t\n"
     "       ^"},
    {"SELECT a AS FROM t",
     "syntax error at line 1, column 13: expected alias, found 'FROM' (a reserved word; write "
     "\"from\" to use it as a name)\n"
     "SELECT a AS FROM t\n"
     "            ^"},
    // FROM.
    {"SELECT a FROM order",
     "syntax error at line 1, column 15: expected table name, found 'order' (a reserved word; "
     "write \"order\" to use it as a name)\n"
     "SELECT a FROM order\n"
     "              ^"},
    {"SELECT * FROM a JOIN b",
     "syntax error at line 1, column 23: expected ON or USING, found end "
     "of input\n"
     "SELECT * FROM a JOIN b\n"
     "                      ^"},
    {"SELECT * FROM a LEFT b",
     "syntax error at line 1, column 22: expected JOIN, found 'b'\n"
     "SELECT * FROM a LEFT b\n"
     "                     ^"},
    {"SELECT * FROM a RIGHT JOIN b ON TRUE",
     "syntax error at line 1, column 17: RIGHT JOIN is not supported (swap the tables and use "
     "LEFT JOIN)\n"
     "SELECT * FROM a RIGHT JOIN b ON TRUE\n"
     "                ^"},
    // PostgreSQL constructs not supported: said so at the word, not read as an alias.
    {"SELECT avg(v) OVER (PARTITION BY h) FROM t",
     "syntax error at line 1, column 15: window functions (OVER) are not supported; aggregate "
     "with GROUP BY, or join the query to its own aggregate\n"
     "SELECT avg(v) OVER (PARTITION BY h) FROM t\n"
     "              ^"},
    {"SELECT position('a', s) FROM t",
     "syntax error at line 1, column 20: expected IN, found ','\n"
     "SELECT position('a', s) FROM t\n"
     "                   ^"},
    {"SELECT count(*) FILTER (v > 1) FROM t",
     "syntax error at line 1, column 25: expected WHERE, found 'v'\n"
     "SELECT count(*) FILTER (v > 1) FROM t\n"
     "                        ^"},
    {"SELECT time AT TIME ZONE 'UTC' FROM t",
     "syntax error at line 1, column 13: AT TIME ZONE is not supported; calendar functions take "
     "the zone: date_trunc('day', time, 'Europe/Berlin'), date_part('hour', time, "
     "'Europe/Berlin'), time_bucket('1 day', time, 'Europe/Berlin')\n"
     "SELECT time AT TIME ZONE 'UTC' FROM t\n"
     "            ^"},
    {"SELECT DISTINCT ON (h) h, v FROM t",
     "syntax error at line 1, column 17: SELECT DISTINCT ON (...) is not supported; for each "
     "key's newest row use GROUP BY key with last(v, time)\n"
     "SELECT DISTINCT ON (h) h, v FROM t\n"
     "                ^"},
    {"SELECT * FROM a FULL OUTER JOIN b ON TRUE",
     "syntax error at line 1, column 17: FULL JOIN is not supported\n"
     "SELECT * FROM a FULL OUTER JOIN b ON TRUE\n"
     "                ^"},
    {"SELECT * FROM a JOIN b USING ()",
     "syntax error at line 1, column 31: expected column name, found ')'\n"
     "SELECT * FROM a JOIN b USING ()\n"
     "                              ^"},
    {"SELECT * FROM (SELECT 1",
     "syntax error at line 1, column 24: expected FROM or ')', found "
     "end of input\n"
     "SELECT * FROM (SELECT 1\n"
     "                       ^"},
    {"SELECT (SELECT 1 FROM t x y)",
     "syntax error at line 1, column 27: expected JOIN, WHERE, GROUP BY, ORDER BY, LIMIT or ')', "
     "found 'y'\n"
     "SELECT (SELECT 1 FROM t x y)\n"
     "                          ^"},
    {"SELECT * FROM (a JOIN b ON TRUE",
     "syntax error at line 1, column 32: expected JOIN or ')', found end of input\n"
     "SELECT * FROM (a JOIN b ON TRUE\n"
     "                               ^"},
    // Clauses and statements.
    {"SELECT a FROM t ORDER a",
     "syntax error at line 1, column 23: expected BY, found 'a'\n"
     "SELECT a FROM t ORDER a\n"
     "                      ^"},
    {"SELECT a FROM t ORDER BY a NULLS LATER",
     "syntax error at line 1, column 34: expected FIRST or LAST, found 'LATER'\n"
     "SELECT a FROM t ORDER BY a NULLS LATER\n"
     "                                 ^"},
    {"SELECT 1 INTERSECT SELECT 2",
     "syntax error at line 1, column 10: INTERSECT is not supported (only UNION and UNION ALL)\n"
     "SELECT 1 INTERSECT SELECT 2\n"
     "         ^"},
    {"SELECT 1 UNION 2",
     "syntax error at line 1, column 16: expected SELECT or '(', found '2'\n"
     "SELECT 1 UNION 2\n"
     "               ^"},
    {"WITH RECURSIVE r AS (SELECT 1) SELECT 1",
     "syntax error at line 1, column 6: WITH RECURSIVE is not supported\n"
     "WITH RECURSIVE r AS (SELECT 1) SELECT 1\n"
     "     ^"},
    {"WITH x (SELECT 1) SELECT 1",
     "syntax error at line 1, column 8: expected AS, found '('\n"
     "WITH x (SELECT 1) SELECT 1\n"
     "       ^"},
    {"WITH x AS (SELECT 1)",
     "syntax error at line 1, column 21: expected SELECT or '(', found "
     "end of input\n"
     "WITH x AS (SELECT 1)\n"
     "                    ^"},
    {"SHOW USERS",
     "syntax error at line 1, column 6: expected DATABASES or TABLES, found 'USERS'\n"
     "SHOW USERS\n"
     "     ^"},
    {"SHOW TABLES plant",
     "syntax error at line 1, column 13: expected FROM or end of statement, "
     "found 'plant'\n"
     "SHOW TABLES plant\n"
     "            ^"},
    {"DESCRIBE",
     "syntax error at line 1, column 9: expected table name, found end of input\n"
     "DESCRIBE\n"
     "        ^"},
    {"DESCRIBE a.b.c",
     "syntax error at line 1, column 13: expected end of statement, found '.'\n"
     "DESCRIBE a.b.c\n"
     "            ^"},
    // Long tokens are cut in the message.
    {"SELECT a 'a very long string literal that goes on and on and on'",
     "syntax error at line 1, column 10: expected FROM or end of statement, found string literal "
     "'a very long string literal that goes on...\n"
     "SELECT a 'a very long string literal that goes on and on and on'\n"
     "         ^"},
};

TEST(ParserErrorTest, MessagesNameTheProblemAndPointAtIt) {
  for (const ErrorCase& c : kErrorCases) {
    auto statement = ParseSql(c.input);
    ASSERT_FALSE(statement.ok()) << c.input << "\nparsed as " << ToSql(*statement);
    EXPECT_EQ(statement.status().code(), StatusCode::kInvalidArgument) << c.input;
    EXPECT_EQ(statement.status().message(), c.message) << c.input;
  }
}

TEST(ParserErrorTest, ScriptErrorsPointIntoTheRightStatement) {
  auto script = ParseScript("SELECT 1;\nSELECT 2 FROM;\nSELECT 3");
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.status().message(),
            "syntax error at line 2, column 14: expected table name, found ';'\n"
            "SELECT 2 FROM;\n"
            "             ^");
  auto missing_semicolon = ParseScript("SELECT 1\nSELECT 2");
  ASSERT_FALSE(missing_semicolon.ok());
  EXPECT_EQ(missing_semicolon.status().message(),
            "syntax error at line 2, column 1: expected FROM or end of statement, found 'SELECT'\n"
            "SELECT 2\n"
            "^");
}

TEST(ParserErrorTest, StandaloneExpressionErrors) {
  auto expr = ParseExpression("temperature > 90 AND");
  ASSERT_FALSE(expr.ok());
  EXPECT_EQ(expr.status().message(),
            "syntax error at line 1, column 21: expected expression, found end of input\n"
            "temperature > 90 AND\n"
            "                    ^");
  auto trailing = ParseExpression("a b");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().message(),
            "syntax error at line 1, column 3: expected an operator or end of expression, found "
            "'b'\n"
            "a b\n"
            "  ^");
}

// ---- nesting limits

std::string Repeat(std::string_view part, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) text += part;
  return text;
}

std::string FirstLine(const Status& status) {
  std::string_view message = status.message();
  return std::string(message.substr(0, message.find('\n')));
}

constexpr std::string_view kTooDeep = "query is nested too deeply (more than 256 levels)";

TEST(ParserErrorTest, TreesUpToTheLimitParse) {
  // f(f(...f(1)...)): a tree of n + 1 levels.
  auto calls = [](size_t n) { return Repeat("f(", n) + "1" + Repeat(")", n); };
  auto at_limit = ParseExpression(calls(kMaxNestingDepth - 1));
  ASSERT_TRUE(at_limit.ok()) << FirstLine(at_limit.status());
  EXPECT_EQ((*at_limit)->height, kMaxNestingDepth);
  // The canonical text of a tree at the limit parses again.
  std::string printed = ToSql(**at_limit);
  auto again = ParseExpression(printed);
  ASSERT_TRUE(again.ok()) << FirstLine(again.status());
  EXPECT_EQ(ToSql(**again), printed);

  auto over = ParseExpression(calls(kMaxNestingDepth));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(FirstLine(over.status()).find(kTooDeep), std::string::npos) << over.status();
}

TEST(ParserErrorTest, PrefixChainsAtTheLimitRoundTrip) {
  // NOT NOT ... a prints as NOT (NOT (... a)): twice the parser recursion of the input.
  for (std::string_view prefix : {"NOT ", "- "}) {
    std::string text = Repeat(prefix, kMaxNestingDepth - 1) + "a";
    auto parsed = ParseExpression(text);
    ASSERT_TRUE(parsed.ok()) << FirstLine(parsed.status());
    std::string printed = ToSql(**parsed);
    auto again = ParseExpression(printed);
    ASSERT_TRUE(again.ok()) << FirstLine(again.status());
    EXPECT_EQ(ToSql(**again), printed);
    auto over = ParseExpression(Repeat(prefix, kMaxNestingDepth) + "a");
    ASSERT_FALSE(over.ok());
    EXPECT_NE(FirstLine(over.status()).find(kTooDeep), std::string::npos);
  }
}

TEST(ParserErrorTest, DeepNestingIsAnErrorNotACrash) {
  struct Deep {
    std::string name;
    std::string text;
  };
  const size_t n = 20000;
  std::vector<Deep> cases = {
      {"parentheses", "SELECT " + Repeat("(", n) + "1" + Repeat(")", n)},
      {"unclosed parentheses", "SELECT " + Repeat("(", n)},
      {"function calls", "SELECT " + Repeat("f(", n) + "1" + Repeat(")", n)},
      {"NOT", "SELECT " + Repeat("NOT ", n) + "a"},
      {"minus", "SELECT " + Repeat("- ", n) + "a"},
      {"left-deep sums", "SELECT 1" + Repeat(" + 1", n)},
      {"left-deep concatenation", "SELECT 'a'" + Repeat(" || 'a'", n)},
      {"casts", "SELECT a" + Repeat("::int", n)},
      {"scalar subqueries", "SELECT " + Repeat("(SELECT ", n) + "1" + Repeat(")", n)},
      {"FROM subqueries", Repeat("SELECT * FROM (", n) + "t" + Repeat(")", n)},
      {"joins", "SELECT * FROM t" + Repeat(" JOIN t ON TRUE", n)},
      {"nested joins", "SELECT * FROM " + Repeat("t JOIN (", n) + "t" + Repeat(") ON TRUE", n)},
      {"unions", "SELECT 1" + Repeat(" UNION SELECT 1", n)},
      {"parenthesized unions", Repeat("(", n) + "SELECT 1" + Repeat(")", n)},
      {"CASE", "SELECT " + Repeat("CASE WHEN a THEN ", n) + "1" + Repeat(" END", n)},
      {"IN lists", "SELECT " + Repeat("a IN (", n) + "1" + Repeat(")", n)},
  };
  for (const Deep& deep : cases) {
    auto statement = ParseSql(deep.text);
    ASSERT_FALSE(statement.ok()) << deep.name;
    EXPECT_NE(FirstLine(statement.status()).find(kTooDeep), std::string::npos)
        << deep.name << ": " << FirstLine(statement.status());
  }
}

TEST(ParserErrorTest, DeepButRedundantParenthesesAreFine) {
  // Parentheses that add no node cost recursion only: 700 levels still parse.
  auto parsed = ParseSql("SELECT " + Repeat("(", 700) + "1" + Repeat(")", 700));
  ASSERT_TRUE(parsed.ok()) << FirstLine(parsed.status());
  EXPECT_EQ(ToSql(*parsed), "SELECT 1");
}

TEST(ParserErrorTest, TooDeepPointsAtWhereTheLimitWasCrossed) {
  std::string text = "SELECT " + Repeat("NOT ", 300) + "a";
  auto statement = ParseSql(text);
  ASSERT_FALSE(statement.ok());
  EXPECT_EQ(FirstLine(statement.status()),
            fmt::format("syntax error at line 1, column {}: {}", text.size() + 1, kTooDeep));
}

}  // namespace
}  // namespace seaway::sql
