// Tests for the SQL parser and printer (src/sql/parser.h, src/sql/ast_printer.h): each case is
// the query as a user may write it and its canonical form, which shows how it was understood.
// Every case also checks the round trip: the canonical form parses to the same canonical form.
#include "sql/parser.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sql/ast_printer.h"

namespace seaway::sql {
namespace {

struct Case {
  std::string_view input;
  std::string_view canonical;
};

// ---- expressions (parsed as `SELECT <expr>` and alone)

const std::vector<Case> kExpressionCases = {
    // Literals.
    {"1", "1"},
    {"2.5", "2.5"},
    {"'text'", "'text'"},
    {"'it''s'", "'it''s'"},
    {"''", "''"},
    {"TRUE", "TRUE"},
    {"false", "FALSE"},
    {"null", "NULL"},
    {"1e3", "1000.0"},
    {".5", "0.5"},
    {"5.", "5.0"},
    {"1.5E-3", "0.0015"},
    {"100.0", "100.0"},
    {"1e300", "1e+300"},
    {"12345678901234567890", "12345678901234567890"},    // past int64, within uint64: unsigned
    {"18446744073709551616", "1.8446744073709552e+19"},  // past uint64: a float
    {"-12345678901234567890", "-1.2345678901234567e+19"},
    {"-5", "-5"},
    {"- 5", "-5"},
    {"-(5)", "-5"},
    {"-(-5)", "5"},
    {"+5", "5"},
    {"+ 2.5", "2.5"},
    {"+(5)", "5"},
    {"+-5", "-5"},
    {"-+5", "-5"},
    {"-2.5", "-2.5"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"-(-9223372036854775808)", "-(-9223372036854775808)"},
    {"INTERVAL '5 minutes'", "INTERVAL '5 minutes'"},
    {"interval '1 hour'", "INTERVAL '1 hour'"},
    {"TIMESTAMP '2026-01-01T00:00:00Z'", "CAST('2026-01-01T00:00:00Z' AS timestamp)"},
    {"date '2026-01-01'", "CAST('2026-01-01' AS date)"},
    // Column references.
    {"a", "a"},
    {"t.a", "t.a"},
    {"db.t.a", "db.t.a"},
    {"MachineId", "machineid"},
    {"\"MachineId\"", "\"MachineId\""},
    {"\"a\"\"b\"", "\"a\"\"b\""},
    {"\"lower\"", "lower"},
    {"\"order\"", "\"order\""},
    {"\"T\".\"A b\"", "\"T\".\"A b\""},
    {"zürich", "\"zürich\""},
    // Unreserved keywords are names where no special form starts.
    {"first + last + nulls + show + tables", "(((first + last) + nulls) + show) + tables"},
    {"interval + timestamp + extract + date", "((interval + timestamp) + extract) + date"},
    {"time", "time"},
    // Functions.
    {"now()", "now()"},
    {"count(*)", "count(*)"},
    {"COUNT(DISTINCT machine_id)", "count(DISTINCT machine_id)"},
    {"count(ALL x)", "count(x)"},
    {"first(v, time)", "first(v, time)"},
    {"time_bucket('5m', time)", "time_bucket('5m', time)"},
    {"time_bucket(INTERVAL '5 minutes', time)", "time_bucket(INTERVAL '5 minutes', time)"},
    {"date_trunc('day', time)", "date_trunc('day', time)"},
    {"percentile_cont(x, 0.5)", "percentile_cont(x, 0.5)"},
    {"percentile_cont(0.5) within group (order by x)",
     "percentile_cont(0.5) WITHIN GROUP (ORDER BY x)"},
    {"percentile_cont(0.9) WITHIN GROUP (ORDER BY x DESC NULLS FIRST)",
     "percentile_cont(0.9) WITHIN GROUP (ORDER BY x DESC NULLS FIRST)"},
    {"count(*) filter (where v > 1 and s = 'a')", "count(*) FILTER (WHERE (v > 1) AND (s = 'a'))"},
    {"percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE ok)",
     "percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE ok)"},
    {"sum(DISTINCT x) FILTER (WHERE x > 0) + 1", "sum(DISTINCT x) FILTER (WHERE x > 0) + 1"},
    {"\"Weird Fn\"(1)", "\"Weird Fn\"(1)"},
    {"\"extract\"(x)", "\"extract\"(x)"},
    {"\"left\"(s, 2)", "\"left\"(s, 2)"},
    {"left(s, 2) || RIGHT(s, 1)", "\"left\"(s, 2) || \"right\"(s, 1)"},
    // The SQL standard's keyword forms.
    {"substring(s FROM 2 FOR 3)", "substring(s, 2, 3)"},
    {"substring(s from 2)", "substring(s, 2)"},
    {"substring(s for 3)", "substring(s, 1, 3)"},
    {"substring(s, 2, 3)", "substring(s, 2, 3)"},
    {"substring(s from '[0-9]+')", "substring(s, '[0-9]+')"},
    {"trim(both 'x' from s)", "btrim(s, 'x')"},
    {"trim(leading from s)", "ltrim(s)"},
    {"TRIM(TRAILING 'ab' FROM s || t)", "rtrim(s || t, 'ab')"},
    {"trim(s)", "btrim(s)"},
    {"trim(from s)", "btrim(s)"},
    {"trim(s, 'x')", "btrim(s, 'x')"},
    {"\"trim\"(s)", "\"trim\"(s)"},
    {"position('b' in s)", "position('b' IN s)"},
    {"position(a || b in s || t)", "position((a || b) IN (s || t))"},
    {"f(g(h(x)), -1)", "f(g(h(x)), -1)"},
    // Arithmetic and precedence.
    {"a + b * c", "a + (b * c)"},
    {"a * b + c", "(a * b) + c"},
    {"a - b - c", "(a - b) - c"},
    {"a - (b - c)", "a - (b - c)"},
    {"a / b * c % d", "((a / b) * c) % d"},
    {"a ^ b ^ c", "(a ^ b) ^ c"},
    {"a * b ^ c", "a * (b ^ c)"},
    {"a ^ b * c", "(a ^ b) * c"},
    {"a + b ^ 2", "a + (b ^ 2)"},
    {"-a ^ 2", "(-a) ^ 2"},
    {"-2 ^ 2", "(-2) ^ 2"},
    {"a ^ -b", "a ^ (-b)"},
    {"a ^ b::int", "a ^ CAST(b AS int)"},
    {"(a + b) * c", "(a + b) * c"},
    {"((a))", "a"},
    {"a || b || c", "(a || b) || c"},
    {"a || b + c", "a || (b + c)"},
    {"a + b || c", "(a + b) || c"},
    {"-a * b", "(-a) * b"},
    {"a * -b", "a * (-b)"},
    {"a - -1", "a - (-1)"},
    {"a--1\n+ 2", "a + 2"},  // `--` starts a comment
    {"- -a", "-(-a)"},
    {"+a", "+a"},
    {"+a * b", "(+a) * b"},
    {"a - +b", "a - (+b)"},
    {"-+a", "-(+a)"},
    {"+a::int", "+CAST(a AS int)"},
    {"-a::int", "-CAST(a AS int)"},
    {"-5::int", "-CAST(5 AS int)"},
    {"(-5)::int", "CAST(-5 AS int)"},
    {"a::int::text", "CAST(CAST(a AS int) AS text)"},
    {"a + b::float", "a + CAST(b AS float)"},
    // Comparisons.
    {"a = b", "a = b"},
    {"a != b", "a <> b"},
    {"a <> b", "a <> b"},
    {"a < b", "a < b"},
    {"a <= b", "a <= b"},
    {"a > b", "a > b"},
    {"a >= b", "a >= b"},
    {"a + 1 > b * 2", "(a + 1) > (b * 2)"},
    {"a = b || c", "a = (b || c)"},
    {"a = (b = c)", "a = (b = c)"},
    {"time >= now() - INTERVAL '1 hour'", "time >= (now() - INTERVAL '1 hour')"},
    {"a ~ '^s[0-9]+$'", "a ~ '^s[0-9]+$'"},
    {"a ~* 'x' OR b !~ 'y' OR c !~* 'z'", "(a ~* 'x') OR (b !~ 'y') OR (c !~* 'z')"},
    {"a IS NULL", "a IS NULL"},
    {"a is not null", "a IS NOT NULL"},
    {"a is distinct from b + 1", "a IS DISTINCT FROM (b + 1)"},
    {"a not like 'x!%' escape '!'", "a NOT LIKE 'x!%' ESCAPE '!'"},
    {"a || b IS NOT DISTINCT FROM NULL", "(a || b) IS NOT DISTINCT FROM NULL"},
    {"a + 1 IS NULL", "(a + 1) IS NULL"},
    {"NOT a IS NULL", "NOT (a IS NULL)"},
    {"a IN (1, 2, 3)", "a IN (1, 2, 3)"},
    {"a NOT IN ('x')", "a NOT IN ('x')"},
    {"a + 1 IN (1, b + 1)", "(a + 1) IN (1, b + 1)"},
    {"a IN (SELECT b FROM t)", "a IN (SELECT b FROM t)"},
    {"a NOT IN (SELECT b FROM t WHERE c)", "a NOT IN (SELECT b FROM t WHERE c)"},
    {"a IN ((SELECT 1))", "a IN (SELECT 1)"},
    {"a IN ((SELECT 1), 2)", "a IN ((SELECT 1), 2)"},
    {"a LIKE 'x%'", "a LIKE 'x%'"},
    {"a NOT LIKE 'x%'", "a NOT LIKE 'x%'"},
    {"a ILIKE 'x' || '%'", "a ILIKE ('x' || '%')"},
    {"a NOT ILIKE b", "a NOT ILIKE b"},
    {"a BETWEEN 1 AND 10", "a BETWEEN 1 AND 10"},
    {"a NOT BETWEEN b - 1 AND b + 1 AND c", "(a NOT BETWEEN (b - 1) AND (b + 1)) AND c"},
    // Logic.
    {"a AND b AND c AND d", "a AND b AND c AND d"},
    {"(a AND b) AND c", "(a AND b) AND c"},
    {"a OR b OR c", "a OR b OR c"},
    {"a OR b AND c", "a OR (b AND c)"},
    {"a = 1 AND b = 2 OR c = 3", "((a = 1) AND (b = 2)) OR (c = 3)"},
    {"a AND b OR c AND d", "(a AND b) OR (c AND d)"},
    {"NOT a = b", "NOT (a = b)"},
    {"NOT a AND b", "(NOT a) AND b"},
    {"NOT NOT a", "NOT (NOT a)"},
    {"a AND NOT b OR c", "(a AND (NOT b)) OR c"},
    {"a = 1 AND b IS NULL", "(a = 1) AND (b IS NULL)"},
    // CASE, CAST, EXTRACT.
    {"CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END",
     "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END"},
    {"case status when 1 then 'run' when 2 then 'stop' end",
     "CASE status WHEN 1 THEN 'run' WHEN 2 THEN 'stop' END"},
    {"CASE WHEN a THEN CASE WHEN b THEN 1 END END", "CASE WHEN a THEN CASE WHEN b THEN 1 END END"},
    {"CAST(temperature AS double precision)", "CAST(temperature AS double precision)"},
    {"CAST(x AS DOUBLE)", "CAST(x AS double)"},
    {"x::varchar(10)", "CAST(x AS varchar(10))"},
    {"CAST(x AS decimal(10,2))", "CAST(x AS decimal(10, 2))"},
    {"x::timestamp with time zone", "CAST(x AS timestamptz)"},
    {"x::timestamp without time zone", "CAST(x AS timestamp)"},
    {"x::\"My Type\"", "CAST(x AS \"My Type\")"},
    {"EXTRACT(hour FROM time)", "EXTRACT(hour FROM time)"},
    {"extract('EPOCH' from time)", "EXTRACT(epoch FROM time)"},
    {"EXTRACT(\"Day\" FROM t)", "EXTRACT(day FROM t)"},
    {"EXTRACT('week of year' FROM t)", "EXTRACT('week of year' FROM t)"},
    // Subqueries.
    {"(SELECT max(x) FROM t) - 1", "(SELECT max(x) FROM t) - 1"},
    {"((SELECT 1))", "(SELECT 1)"},
    {"((SELECT 1) + 1)", "(SELECT 1) + 1"},
    {"((SELECT 1) UNION (SELECT 2))", "(SELECT 1 UNION SELECT 2)"},
    {"EXISTS (SELECT 1 FROM t) AND NOT EXISTS (SELECT 2)",
     "EXISTS (SELECT 1 FROM t) AND (NOT EXISTS (SELECT 2))"},
};

// ---- statements

const std::vector<Case> kStatementCases = {
    // Select list.
    {"select 1", "SELECT 1"},
    {"SELECT 1;", "SELECT 1"},
    {"SELECT * FROM t", "SELECT * FROM t"},
    {"SELECT t.*, db.t.*, * FROM t", "SELECT t.*, db.t.*, * FROM t"},
    {"SELECT \"T\".* FROM t AS \"T\"", "SELECT \"T\".* FROM t AS \"T\""},
    {"SELECT a AS x, b y, c \"Z z\", d AS \"first\" FROM t",
     "SELECT a AS x, b AS y, c AS \"Z z\", d AS first FROM t"},
    {"SELECT a + 1 total FROM t", "SELECT a + 1 AS total FROM t"},
    {"SeLeCt MachineId FrOm Machines", "SELECT machineid FROM machines"},
    {"SELECT \"order\", \"from\" FROM \"group\"", "SELECT \"order\", \"from\" FROM \"group\""},
    {"SELECT DISTINCT site FROM m", "SELECT DISTINCT site FROM m"},
    {"SELECT ALL site FROM m", "SELECT site FROM m"},
    {"SELECT 1 WHERE TRUE", "SELECT 1 WHERE TRUE"},
    {"SELECT first, last FROM tables", "SELECT first, last FROM tables"},
    // FROM.
    {"SELECT a FROM db.t", "SELECT a FROM db.t"},
    {"SELECT * FROM db.t AS x, db.u y", "SELECT * FROM db.t AS x, db.u AS y"},
    {"SELECT * FROM a JOIN b ON a.id = b.id", "SELECT * FROM a JOIN b ON a.id = b.id"},
    {"SELECT * FROM a INNER JOIN b ON a.id = b.id", "SELECT * FROM a JOIN b ON a.id = b.id"},
    {"SELECT * FROM a LEFT JOIN b ON a.id = b.id LEFT OUTER JOIN c ON c.id = b.id",
     "SELECT * FROM a LEFT JOIN b ON a.id = b.id LEFT JOIN c ON c.id = b.id"},
    {"SELECT * FROM a CROSS JOIN b", "SELECT * FROM a CROSS JOIN b"},
    {"SELECT * FROM a JOIN b USING (id, site)", "SELECT * FROM a JOIN b USING (id, site)"},
    {"SELECT * FROM a, b WHERE a.x = b.x", "SELECT * FROM a, b WHERE a.x = b.x"},
    {"SELECT * FROM a, b JOIN c ON b.x = c.x", "SELECT * FROM a, b JOIN c ON b.x = c.x"},
    {"SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.x = b.x",
     "SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.x = b.x"},
    {"SELECT * FROM (a JOIN b ON TRUE)", "SELECT * FROM a JOIN b ON TRUE"},
    {"SELECT x.a FROM (SELECT a FROM t) AS x", "SELECT x.a FROM (SELECT a FROM t) AS x"},
    {"SELECT * FROM (SELECT a FROM t) x", "SELECT * FROM (SELECT a FROM t) AS x"},
    {"SELECT * FROM (SELECT 1)", "SELECT * FROM (SELECT 1)"},
    {"SELECT * FROM ((SELECT 1)) AS s", "SELECT * FROM (SELECT 1) AS s"},
    {"SELECT * FROM ((SELECT 1) UNION (SELECT 2)) AS u",
     "SELECT * FROM (SELECT 1 UNION SELECT 2) AS u"},
    {"SELECT * FROM a JOIN ((SELECT 1) AS s JOIN c ON TRUE) ON TRUE",
     "SELECT * FROM a JOIN ((SELECT 1) AS s JOIN c ON TRUE) ON TRUE"},
    {"SELECT * FROM ((SELECT 1) AS s)", "SELECT * FROM (SELECT 1) AS s"},
    // Clauses.
    {"SELECT site, avg(t) FROM m WHERE t > 0 GROUP BY site HAVING avg(t) > 10 "
     "ORDER BY 2 DESC, site ASC NULLS LAST LIMIT 10 OFFSET 20",
     "SELECT site, avg(t) FROM m WHERE t > 0 GROUP BY site HAVING avg(t) > 10 "
     "ORDER BY 2 DESC, site ASC NULLS LAST LIMIT 10 OFFSET 20"},
    {"SELECT a, b FROM t GROUP BY 1, 2", "SELECT a, b FROM t GROUP BY 1, 2"},
    {"SELECT a FROM t ORDER BY a NULLS FIRST", "SELECT a FROM t ORDER BY a NULLS FIRST"},
    {"SELECT a FROM t OFFSET 5 LIMIT 10", "SELECT a FROM t LIMIT 10 OFFSET 5"},
    {"SELECT a FROM t OFFSET 5", "SELECT a FROM t OFFSET 5"},
    {"SELECT a FROM t LIMIT ALL", "SELECT a FROM t LIMIT ALL"},
    {"SELECT a FROM t LIMIT null OFFSET 5", "SELECT a FROM t LIMIT ALL OFFSET 5"},
    {"SELECT a FROM t OFFSET 5 LIMIT all", "SELECT a FROM t LIMIT ALL OFFSET 5"},
    {"SELECT a FROM t ORDER BY a + b DESC", "SELECT a FROM t ORDER BY a + b DESC"},
    // Set operations.
    {"SELECT 1 UNION ALL SELECT 2 UNION SELECT 3", "SELECT 1 UNION ALL SELECT 2 UNION SELECT 3"},
    {"SELECT 1 UNION DISTINCT SELECT 2", "SELECT 1 UNION SELECT 2"},
    {"SELECT a FROM t UNION ALL SELECT a FROM u ORDER BY a LIMIT 3",
     "SELECT a FROM t UNION ALL SELECT a FROM u ORDER BY a LIMIT 3"},
    {"(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u ORDER BY a DESC LIMIT 1)",
     "(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u ORDER BY a DESC LIMIT 1)"},
    {"SELECT 1 UNION (SELECT 2 UNION SELECT 3)", "SELECT 1 UNION (SELECT 2 UNION SELECT 3)"},
    {"(SELECT 1 UNION SELECT 2) UNION SELECT 3", "SELECT 1 UNION SELECT 2 UNION SELECT 3"},
    {"((SELECT 1))", "SELECT 1"},
    {"(SELECT 1 LIMIT 1)", "SELECT 1 LIMIT 1"},
    {"(SELECT 1 LIMIT 2) LIMIT 1", "(SELECT 1 LIMIT 2) LIMIT 1"},
    {"((SELECT 1) ORDER BY 1)", "SELECT 1 ORDER BY 1"},
    // WITH.
    {"WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b",
     "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b"},
    {"WITH recursive AS (SELECT 1) SELECT * FROM recursive",
     "WITH recursive AS (SELECT 1) SELECT * FROM recursive"},
    {"(WITH a AS (SELECT 1) SELECT * FROM a) UNION ALL SELECT 2",
     "(WITH a AS (SELECT 1) SELECT * FROM a) UNION ALL SELECT 2"},
    {"SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a) AS s",
     "SELECT * FROM (WITH a AS (SELECT 1) SELECT * FROM a) AS s"},
    // SHOW, DESCRIBE.
    {"SHOW DATABASES", "SHOW DATABASES"},
    {"show tables", "SHOW TABLES"},
    {"SHOW TABLES FROM plant", "SHOW TABLES FROM plant"},
    {"SHOW TABLES IN \"Plant 2\";", "SHOW TABLES FROM \"Plant 2\""},
    {"DESCRIBE machines", "DESCRIBE machines"},
    {"desc plant.machines", "DESCRIBE plant.machines"},
    {"DESCRIBE \"Odd Name\"", "DESCRIBE \"Odd Name\""},
    // Comments and layout.
    {"SELECT a -- the value\n  , b /* the other */ FROM t\n", "SELECT a, b FROM t"},
};

// ---- TSBS-style and industrial queries (bench/ and issue #5)

const std::vector<Case> kWorkloadCases = {
    // The example: average temperature per machine per 5 minutes.
    {"SELECT time_bucket('5 minutes', time) AS t, machine_id, avg(temperature) FROM machines "
     "WHERE time >= now() - INTERVAL '1 hour' AND site IN ('s1','s2') GROUP BY t, machine_id "
     "ORDER BY t LIMIT 100",
     "SELECT time_bucket('5 minutes', time) AS t, machine_id, avg(temperature) FROM machines "
     "WHERE (time >= (now() - INTERVAL '1 hour')) AND (site IN ('s1', 's2')) GROUP BY t, "
     "machine_id ORDER BY t LIMIT 100"},
    // single-groupby
    {"SELECT time_bucket('1 minute', time) AS minute, max(usage_user) AS max_usage_user\n"
     "FROM cpu\n"
     "WHERE hostname IN ('host_249', 'host_1', 'host_30')\n"
     "  AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'\n"
     "GROUP BY minute ORDER BY minute",
     "SELECT time_bucket('1 minute', time) AS minute, max(usage_user) AS max_usage_user FROM cpu "
     "WHERE (hostname IN ('host_249', 'host_1', 'host_30')) AND "
     "(time >= '2016-01-01T00:00:00Z') AND (time < '2016-01-01T01:00:00Z') "
     "GROUP BY minute ORDER BY minute"},
    // double-groupby
    {"SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user "
     "FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND time < '2016-01-02T00:00:00Z' "
     "GROUP BY 1, 2 ORDER BY 1, 2",
     "SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user "
     "FROM cpu WHERE (time >= '2016-01-01T00:00:00Z') AND (time < '2016-01-02T00:00:00Z') "
     "GROUP BY 1, 2 ORDER BY 1, 2"},
    // high-cpu
    {"SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2016-01-01T00:00:00Z' AND "
     "time < '2016-01-01T12:00:00Z' AND hostname = 'host_1'",
     "SELECT * FROM cpu WHERE (usage_user > 90.0) AND (time >= '2016-01-01T00:00:00Z') AND "
     "(time < '2016-01-01T12:00:00Z') AND (hostname = 'host_1')"},
    // lastpoint: latest row of every host, with a CTE and a join
    {"WITH latest AS (\n"
     "  SELECT hostname, max(time) AS time FROM cpu GROUP BY hostname\n"
     ")\n"
     "SELECT c.* FROM cpu c JOIN latest l ON c.hostname = l.hostname AND c.time = l.time\n"
     "ORDER BY c.hostname;",
     "WITH latest AS (SELECT hostname, max(time) AS time FROM cpu GROUP BY hostname) "
     "SELECT c.* FROM cpu AS c JOIN latest AS l ON (c.hostname = l.hostname) AND "
     "(c.time = l.time) ORDER BY c.hostname"},
    // groupby-orderby-limit
    {"SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu "
     "WHERE time < '2016-01-01T12:00:00Z' GROUP BY minute ORDER BY minute DESC LIMIT 5",
     "SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu "
     "WHERE time < '2016-01-01T12:00:00Z' GROUP BY minute ORDER BY minute DESC LIMIT 5"},
    // per-day aggregates
    {"SELECT date_trunc('day', time) AS day, machine_id, min(temperature), max(temperature), "
     "avg(temperature), stddev(temperature), percentile_cont(0.95) WITHIN GROUP (ORDER BY "
     "temperature) AS p95 FROM plant.machines WHERE time >= now() - INTERVAL '7 days' "
     "GROUP BY day, machine_id ORDER BY day, machine_id",
     "SELECT date_trunc('day', time) AS day, machine_id, min(temperature), max(temperature), "
     "avg(temperature), stddev(temperature), percentile_cont(0.95) WITHIN GROUP (ORDER BY "
     "temperature) AS p95 FROM plant.machines WHERE time >= (now() - INTERVAL '7 days') "
     "GROUP BY day, machine_id ORDER BY day, machine_id"},
    // which machines ran hot in the last hour
    {"SELECT machine_id, max(temperature) AS peak FROM machines "
     "WHERE time > now() - INTERVAL '1 hour' GROUP BY machine_id HAVING max(temperature) > 90 "
     "ORDER BY peak DESC",
     "SELECT machine_id, max(temperature) AS peak FROM machines "
     "WHERE time > (now() - INTERVAL '1 hour') GROUP BY machine_id HAVING max(temperature) > 90 "
     "ORDER BY peak DESC"},
    // consumer orders next to production output, per product and day
    {"SELECT o.product, time_bucket('1 day', o.time) AS day, sum(o.quantity) AS ordered, "
     "sum(p.output) AS produced FROM orders o LEFT JOIN production p ON p.product = o.product "
     "AND time_bucket('1 day', p.time) = time_bucket('1 day', o.time) GROUP BY 1, 2",
     "SELECT o.product, time_bucket('1 day', o.time) AS day, sum(o.quantity) AS ordered, "
     "sum(p.output) AS produced FROM orders AS o LEFT JOIN production AS p ON "
     "(p.product = o.product) AND (time_bucket('1 day', p.time) = time_bucket('1 day', o.time)) "
     "GROUP BY 1, 2"},
    // tag filters: regex, LIKE, NOT IN, IS NOT NULL
    {"SELECT count(*) FROM machines WHERE machine_id ~ '^press-[0-9]+$' AND site LIKE 'plant%' "
     "AND line NOT IN ('test') AND vibration IS NOT NULL",
     "SELECT count(*) FROM machines WHERE (machine_id ~ '^press-[0-9]+$') AND "
     "(site LIKE 'plant%') AND (line NOT IN ('test')) AND (vibration IS NOT NULL)"},
    // a union of two sites' latest readings, each limited
    {"(SELECT 'a' AS site, time, temperature FROM a.machines ORDER BY time DESC LIMIT 1)\n"
     "UNION ALL\n"
     "(SELECT 'b', time, temperature FROM b.machines ORDER BY time DESC LIMIT 1)",
     "(SELECT 'a' AS site, time, temperature FROM a.machines ORDER BY time DESC LIMIT 1) "
     "UNION ALL (SELECT 'b', time, temperature FROM b.machines ORDER BY time DESC LIMIT 1)"},
};

std::string Canonical(std::string_view text) {
  auto statement = ParseSql(text);
  EXPECT_TRUE(statement.ok()) << text << "\n" << statement.status();
  return statement.ok() ? ToSql(*statement) : "<error>";
}

void ExpectRoundTrip(std::string_view canonical) {
  auto again = ParseSql(canonical);
  ASSERT_TRUE(again.ok()) << canonical << "\n" << again.status();
  EXPECT_EQ(ToSql(*again), canonical);
}

TEST(ParserTest, Expressions) {
  for (const Case& c : kExpressionCases) {
    auto expr = ParseExpression(c.input);
    ASSERT_TRUE(expr.ok()) << c.input << "\n" << expr.status();
    EXPECT_EQ(ToSql(**expr), c.canonical) << c.input;
    // The same inside a statement.
    EXPECT_EQ(Canonical(fmt::format("SELECT {}", c.input)), fmt::format("SELECT {}", c.canonical))
        << c.input;
  }
}

TEST(ParserTest, Statements) {
  for (const Case& c : kStatementCases) EXPECT_EQ(Canonical(c.input), c.canonical) << c.input;
}

TEST(ParserTest, Workloads) {
  for (const Case& c : kWorkloadCases) EXPECT_EQ(Canonical(c.input), c.canonical) << c.input;
}

// parse -> print -> parse -> print is stable for every case above.
TEST(ParserTest, CanonicalFormRoundTrips) {
  size_t checked = 0;
  for (const Case& c : kExpressionCases) {
    auto expr = ParseExpression(c.canonical);
    ASSERT_TRUE(expr.ok()) << c.canonical << "\n" << expr.status();
    EXPECT_EQ(ToSql(**expr), c.canonical);
    ExpectRoundTrip(fmt::format("SELECT {}", c.canonical));
    ++checked;
  }
  for (const auto* cases : {&kStatementCases, &kWorkloadCases}) {
    for (const Case& c : *cases) {
      ExpectRoundTrip(c.canonical);
      ++checked;
    }
  }
  EXPECT_GT(checked, 200u);
}

TEST(ParserTest, ScriptSplitsStatements) {
  auto script = ParseScript(";; SELECT 1; SHOW TABLES ;\n DESCRIBE t; ;");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->size(), 3u);
  EXPECT_EQ(ToSql((*script)[0]), "SELECT 1");
  EXPECT_EQ(ToSql((*script)[1]), "SHOW TABLES");
  EXPECT_EQ(ToSql((*script)[2]), "DESCRIBE t");
  EXPECT_EQ((*script)[2].offset, 28u);

  auto empty = ParseScript("  -- nothing\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// Empty statements around the one statement are skipped, as PostgreSQL skips them.
TEST(ParserTest, SingleStatementSkipsEmptyStatements) {
  for (const char* text : {"SELECT 1;;", ";SELECT 1", " ; ;SELECT 1 ; ; ", "SELECT 1; -- done\n;",
                           "SELECT 1;/* a */;\n"}) {
    auto statement = ParseSql(text);
    ASSERT_TRUE(statement.ok()) << text << ": " << statement.status();
    EXPECT_EQ(ToSql(*statement), "SELECT 1") << text;
  }
  auto after_semicolons = ParseSql(";; SELECT 1");
  ASSERT_TRUE(after_semicolons.ok());
  EXPECT_EQ(after_semicolons->offset, 3u);  // errors still point into the text sent
}

TEST(ParserTest, StatementKinds) {
  auto show = ParseSql("SHOW TABLES FROM plant");
  ASSERT_TRUE(show.ok());
  ASSERT_TRUE(std::holds_alternative<ShowTablesStatement>(show->node));
  EXPECT_EQ(std::get<ShowTablesStatement>(show->node).database, "plant");

  auto describe = ParseSql("DESC plant.\"Machines\"");
  ASSERT_TRUE(describe.ok());
  const auto& table = std::get<DescribeStatement>(describe->node).table;
  EXPECT_EQ(table.database, "plant");
  EXPECT_EQ(table.name, "Machines");

  auto databases = ParseSql("show databases");
  ASSERT_TRUE(databases.ok());
  EXPECT_TRUE(std::holds_alternative<ShowDatabasesStatement>(databases->node));
}

TEST(ParserTest, SelectStructure) {
  auto parsed = ParseSql(
      "WITH l AS (SELECT 1) SELECT DISTINCT m.site AS s, count(*) FROM plant.machines m "
      "LEFT JOIN l USING (site) WHERE a GROUP BY 1 HAVING b ORDER BY s DESC NULLS LAST "
      "LIMIT 10 OFFSET 5");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const auto& query = std::get<SelectStatement>(parsed->node);
  ASSERT_EQ(query.ctes.size(), 1u);
  EXPECT_EQ(query.ctes[0].name, "l");
  ASSERT_EQ(query.body->kind, QueryNodeKind::kSelect);
  const auto& select = query.body->As<SelectNode>();
  EXPECT_TRUE(select.distinct);
  ASSERT_EQ(select.items.size(), 2u);
  EXPECT_EQ(select.items[0].alias, "s");
  const auto& site = select.items[0].expr->As<ColumnRefExpr>();
  EXPECT_EQ(site.table, "m");
  EXPECT_EQ(site.column, "site");
  EXPECT_TRUE(select.items[1].expr->As<FunctionCallExpr>().star);
  ASSERT_EQ(select.from.size(), 1u);
  const auto& join = select.from[0]->As<JoinTableRef>();
  EXPECT_EQ(join.type, JoinType::kLeft);
  EXPECT_EQ(join.using_columns, std::vector<std::string>{"site"});
  const auto& machines = join.left->As<BaseTableRef>();
  EXPECT_EQ(machines.table.database, "plant");
  EXPECT_EQ(machines.table.name, "machines");
  EXPECT_EQ(machines.alias, "m");
  EXPECT_EQ(select.group_by[0]->As<LiteralExpr>().int_value, 1);
  ASSERT_EQ(query.order_by.size(), 1u);
  EXPECT_EQ(query.order_by[0].direction, SortDirection::kDescending);
  EXPECT_EQ(query.order_by[0].nulls, NullsOrder::kLast);
  EXPECT_EQ(query.limit->As<LiteralExpr>().int_value, 10);
  EXPECT_EQ(query.offset_rows->As<LiteralExpr>().int_value, 5);
}

TEST(ParserTest, LiteralValues) {
  auto literal = [](std::string_view text) -> const LiteralExpr& {
    static std::vector<ExprPtr> keep;
    auto expr = ParseExpression(text);
    EXPECT_TRUE(expr.ok()) << expr.status();
    keep.push_back(std::move(*expr));
    return keep.back()->As<LiteralExpr>();
  };
  EXPECT_EQ(literal("42").literal_kind, LiteralKind::kInteger);
  EXPECT_EQ(literal("42").int_value, 42);
  EXPECT_EQ(literal("-9223372036854775808").int_value, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(literal("9223372036854775807").int_value, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(literal("9223372036854775808").literal_kind, LiteralKind::kUnsigned);
  EXPECT_EQ(literal("18446744073709551615").uint_value, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(literal("18446744073709551616").literal_kind, LiteralKind::kFloat);
  EXPECT_EQ(literal("-9223372036854775809").literal_kind, LiteralKind::kFloat);
  EXPECT_EQ(literal("-(9223372036854775808)").int_value, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(literal("-(10000000000000000001)").float_value, -1e19);
  EXPECT_EQ(literal("2.5e3").float_value, 2500.0);
  EXPECT_EQ(literal("-0.25").float_value, -0.25);
  EXPECT_EQ(literal("'a''b'").string_value, "a'b");
  EXPECT_EQ(literal("INTERVAL '5 minutes'").literal_kind, LiteralKind::kInterval);
  EXPECT_EQ(literal("INTERVAL '5 minutes'").string_value, "5 minutes");
  EXPECT_TRUE(literal("TRUE").bool_value);
  EXPECT_EQ(literal("NULL").literal_kind, LiteralKind::kNull);
}

// Nodes keep the offset of the token that names them.
TEST(ParserTest, NodesKeepTheirOffsets) {
  //                          0         1         2         3
  //                          0123456789012345678901234567890123456
  auto parsed = ParseExpression("f(a) + -x IS NULL AND b NOT IN (1)");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const auto& logical = (*parsed)->As<LogicalExpr>();
  EXPECT_EQ(logical.offset, 18u);
  const auto& is_null = logical.operands[0]->As<IsNullExpr>();
  EXPECT_EQ(is_null.offset, 10u);
  const auto& plus = is_null.operand->As<BinaryExpr>();
  EXPECT_EQ(plus.offset, 5u);
  EXPECT_EQ(plus.left->offset, 0u);
  EXPECT_EQ(plus.right->As<UnaryExpr>().offset, 7u);
  EXPECT_EQ(plus.right->As<UnaryExpr>().operand->offset, 8u);
  const auto& in = logical.operands[1]->As<InListExpr>();
  EXPECT_EQ(in.offset, 28u);
  EXPECT_TRUE(in.negated);
  EXPECT_EQ(in.operand->offset, 22u);
  EXPECT_EQ(in.list[0]->offset, 32u);

  auto statement = ParseSql("SELECT a\nFROM t JOIN u ON TRUE");
  ASSERT_TRUE(statement.ok());
  const auto& select = std::get<SelectStatement>(statement->node).body->As<SelectNode>();
  EXPECT_EQ(select.offset, 0u);
  EXPECT_EQ(select.items[0].offset, 7u);
  EXPECT_EQ(select.from[0]->offset, 16u);
  EXPECT_EQ(select.from[0]->As<JoinTableRef>().left->offset, 14u);
  EXPECT_EQ(select.from[0]->As<JoinTableRef>().right->offset, 21u);
}

TEST(ParserTest, HeightsCountTheTallestBranch) {
  auto parsed = ParseExpression("a + b * (c - d)");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)->height, 4u);  // + -> * -> - -> d
  auto flat = ParseExpression("a OR b OR c OR d");
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)->height, 2u);
  EXPECT_EQ((*flat)->As<LogicalExpr>().operands.size(), 4u);
}

// A long OR of tag values, as query generators write them, stays one flat node.
TEST(ParserTest, LongDisjunctionsAreFlat) {
  std::string text = "SELECT * FROM cpu WHERE hostname = 'host_0'";
  for (int i = 1; i < 5000; ++i) text += fmt::format(" OR hostname = 'host_{}'", i);
  auto parsed = ParseSql(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const auto& where = *std::get<SelectStatement>(parsed->node).body->As<SelectNode>().where;
  EXPECT_EQ(where.As<LogicalExpr>().operands.size(), 5000u);
  EXPECT_EQ(where.height, 3u);
  ExpectRoundTrip(ToSql(*parsed));
}

}  // namespace
}  // namespace seaway::sql
