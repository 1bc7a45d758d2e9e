// Random data and queries for the SQLite differential test; see sql_generator.h.
//
// The shared subset, and how the generator keeps to it. Where the engines differ on purpose
// (SQLite's dynamic typing against PostgreSQL's static types, which Seaway follows) the
// generator renders the PostgreSQL meaning in SQLite, or avoids the construct:
//
//  1. NaN and infinities: SQLite has no NaN (it stores NULL) and no literal for either; the data
//     holds finite doubles only.
//  2. Doubles are multiples of 1/8 (few decimals, negatives, zeros), so sums and products are
//     exact whatever the order of summation; divisions are rounded once in both engines. The
//     comparison still allows a relative 1e-9 (sums of quotients depend on the order).
//  3. Integer overflow fails a Seaway query and turns into a float in SQLite: every integer
//     expression carries a bound of its magnitude and stays below 1e15 (sums count 1e5 rows).
//  4. An integer in a DOUBLE context (a CASE or COALESCE branch, a UNION column) is promoted
//     by Seaway's binder; SQLite keeps an INTEGER per row and would divide it as one later. The
//     SQLite text casts such operands to REAL; Seaway's keeps the implicit promotion (that is
//     what is tested). Explicit promotions are CAST(x AS DOUBLE) / CAST(x AS REAL).
//  5. `%` on doubles: PostgreSQL has none, SQLite truncates to integers: not generated.
//  6. upper()/lower(): SQLite folds ASCII only: applied to tags, whose values are ASCII.
//  7. LIKE: SQLite is case-insensitive unless PRAGMA case_sensitive_like=ON (the test sets it)
//     and has no backslash escape without ESCAPE: patterns hold no backslash.
//  8. NULL order: PostgreSQL (and Seaway) put NULLs last ascending and first descending,
//     SQLite the reverse: the SQLite text always names NULLS FIRST/LAST.
//  9. OFFSET without LIMIT is `LIMIT -1 OFFSET n` in SQLite.
// 10. Timestamps: Seaway's `time` is a TIMESTAMP, SQLite's an INTEGER of nanoseconds. Integer
//     uses go through epoch_ns(time) in Seaway; comparisons with integer literals are the same
//     text in both; a selected TIMESTAMP is compared as its nanoseconds.
// 11. Booleans: SQLite answers 0/1; the comparison maps Seaway's BOOLEAN to 0/1. Booleans are
//     not summed or averaged (PostgreSQL has no sum(boolean)), nor given to min/max.
// 12. Aliases: each query level has its own alias prefix (c, d, e), so that a GROUP BY name
//     never means an output alias in one engine and an input column in the other.
// 13. substr() with a start below 1 or a negative length, round(), floor()/ceil() (not in
//     this SQLite build), greatest()/least() (SQLite's max(a, b) is NULL if any argument is):
//     not generated.
// 14. SQLite accepts parenthesised UNION operands with ORDER BY/LIMIT only as subqueries:
//     UNION operands carry neither, the ORDER BY/LIMIT applies to the whole.
//
// Exclusions until Seaway bugs are fixed are the kExclude... constants below.
#include "sql_generator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <random>

#include <fmt/format.h>

namespace seaway::difftest {
namespace {

constexpr int64_t kBaseNs = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000'000;
// Mixed integer/double IN lists on integer operands: once excluded while Planner::BindIn typed
// the list item by item (fixed; tests/sql/where/filters.test keeps the repro). Setting this
// restricts an integer operand to lists of integers only or doubles only.
constexpr bool kExcludeMixedInListOnIntegers = false;

// The largest magnitude an integer expression may reach (Seaway fails on overflow).
constexpr double kMaxIntBound = 1e15;
// Integers past 2^53 (nanoseconds) are not exact as doubles. PostgreSQL and Seaway compare a
// BIGINT with a DOUBLE as doubles, SQLite exactly: such integers never meet doubles.
constexpr double kExactInDouble = 9007199254740992.0;
// The most rows an aggregate can see (a join of two tables), for the bound of sum().
constexpr double kMaxRows = 1e5;

const std::vector<std::string> kHosts = {"h0", "h1", "h2", "h3", "H1", "a_b"};
const std::vector<std::string> kSites = {"north", "south", "east", "North", "n%s"};
const std::vector<std::string> kZones = {"z1", "z2", "Z1"};
const std::vector<std::string> kTexts = {"",    "a",   "abc",   "ABC", "aBc",   "a_c",
                                         "a%c", "x y", " pad ", "h1",  "north", "é",
                                         "éa",  "ü_x", "10",    "9",   "zz",    "Zz"};

using Rng = std::mt19937_64;

int64_t Uniform(Rng& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
bool Chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }
template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(Uniform(rng, 0, static_cast<int64_t>(v.size()) - 1))];
}

FieldValue RandomValue(Rng& rng, Ty type) {
  switch (type) {
    case Ty::kDouble:
      if (Chance(rng, 0.15)) return static_cast<double>(Uniform(rng, -2, 2));
      return static_cast<double>(Uniform(rng, -8000, 8000)) / 8.0;
    case Ty::kInt: return Chance(rng, 0.7) ? Uniform(rng, -20, 20) : Uniform(rng, -1000, 1000);
    case Ty::kBool: return Chance(rng, 0.5);
    case Ty::kText: return Pick(rng, kTexts);
    case Ty::kTime: break;
  }
  return int64_t{0};
}

std::string QuoteText(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string DoubleLiteral(double d) {
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

Dataset MakeDataset(uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  auto table = [](std::string name, std::vector<ColumnDef> rest) {
    TableDef t{std::move(name), {{"time", Ty::kTime, false}}};
    for (auto& c : rest) t.columns.push_back(std::move(c));
    return t;
  };
  data.tables = {
      table("cpu", {{"host", Ty::kText, true},
                    {"site", Ty::kText, true},
                    {"v", Ty::kDouble},
                    {"i", Ty::kInt},
                    {"b", Ty::kBool},
                    {"s", Ty::kText}}),
      table("mem", {{"host", Ty::kText, true},
                    {"site", Ty::kText, true},
                    {"w", Ty::kDouble},
                    {"j", Ty::kInt},
                    {"n", Ty::kText}}),
      table("env", {{"host", Ty::kText, true},
                    {"zone", Ty::kText, true},
                    {"x", Ty::kDouble},
                    {"k", Ty::kInt},
                    {"c", Ty::kBool}}),
  };
  for (size_t t = 0; t < data.tables.size(); ++t) {
    const TableDef& def = data.tables[t];
    // Series: tag combinations; the second tag is missing (NULL) in some.
    std::vector<std::vector<std::optional<FieldValue>>> series;
    // Some tables are large enough that a series spans several storage chunks (8192 rows at most).
    const bool big = Chance(rng, 0.12);
    const int64_t n_series = big ? Uniform(rng, 1, 2) : Uniform(rng, 2, 7);
    for (int64_t s = 0; s < n_series; ++s) {
      std::vector<std::optional<FieldValue>> cells(def.columns.size());
      cells[1] = FieldValue(Pick(rng, kHosts));
      if (s == 0 || Chance(rng, 0.7)) {
        cells[2] = FieldValue(Pick(rng, def.columns[2].name == "zone" ? kZones : kSites));
      }
      series.push_back(std::move(cells));
    }
    const int64_t n_rows = big ? Uniform(rng, 9000, 20000) : Uniform(rng, 20, 220);
    const int64_t grid = big ? 1 : 10;  // seconds between slots
    const int64_t slots = big ? 12000 : 360;
    std::vector<WriteRow> rows;
    for (int64_t r = 0; r < n_rows; ++r) {
      WriteRow row;
      row.table = t;
      if (!rows.empty() && Chance(rng, big ? 0.02 : 0.12)) {
        // A rewrite of an existing (series, time) giving some fields again.
        const WriteRow& old = Pick(rng, rows);
        row.time = old.time;
        row.cells.assign(old.cells.begin(), old.cells.begin() + 3);
        row.cells.resize(def.columns.size());
      } else {
        // A 10 s grid over two hours around midnight (two day partitions), some rows a day
        // away, some off the grid.
        row.time = kBaseNs + Uniform(rng, -slots, slots - 1) * grid * kSecond;
        if (Chance(rng, 0.08)) row.time += (Chance(rng, 0.5) ? 1 : -1) * 86'400 * kSecond;
        if (Chance(rng, 0.05)) row.time += Uniform(rng, 1, 999) * 1'000'000;
        row.cells = Pick(rng, series);
      }
      bool any = false;
      for (size_t c = 3; c < def.columns.size(); ++c) {
        if (r == 0 || Chance(rng, 0.8)) {
          row.cells[c] = RandomValue(rng, def.columns[c].type);
          any = true;
        }
      }
      if (!any) row.cells[3] = RandomValue(rng, def.columns[3].type);
      rows.push_back(std::move(row));
    }
    data.table_rows.push_back(rows.size());
    data.rows.insert(data.rows.end(), rows.begin(), rows.end());
  }
  data.restart = Chance(rng, 0.3);
  // Interleave the tables; the relative order of one series' writes changes too, which is fine:
  // both engines apply the rows in this one order.
  std::shuffle(data.rows.begin(), data.rows.end(), rng);
  const int64_t flushes = Uniform(rng, 0, 2);
  for (int64_t f = 0; f < flushes; ++f) {
    data.flush_after.push_back(
        static_cast<size_t>(Uniform(rng, 1, static_cast<int64_t>(data.rows.size()) - 1)));
  }
  std::sort(data.flush_after.begin(), data.flush_after.end());
  return data;
}

std::string ToLineProtocol(const Dataset& data, size_t begin, size_t end) {
  std::string out;
  for (size_t r = begin; r < end; ++r) {
    const WriteRow& row = data.rows[r];
    const TableDef& def = data.tables[row.table];
    out += def.name;
    for (size_t c = 1; c < def.columns.size(); ++c) {
      if (def.columns[c].tag && row.cells[c]) {
        out += fmt::format(",{}={}", def.columns[c].name, std::get<std::string>(*row.cells[c]));
      }
    }
    char sep = ' ';
    for (size_t c = 1; c < def.columns.size(); ++c) {
      if (def.columns[c].tag || !row.cells[c]) continue;
      out += sep;
      sep = ',';
      out += def.columns[c].name + "=";
      const FieldValue& v = *row.cells[c];
      if (const auto* d = std::get_if<double>(&v)) {
        out += fmt::format("{}", *d);
      } else if (const auto* i = std::get_if<int64_t>(&v)) {
        out += fmt::format("{}i", *i);
      } else if (const auto* b = std::get_if<bool>(&v)) {
        out += *b ? "true" : "false";
      } else {
        out += "\"" + std::get<std::string>(v) + "\"";
      }
    }
    out += fmt::format(" {}\n", row.time);
  }
  return out;
}

std::vector<std::string> SqliteSchema(const Dataset& data) {
  std::vector<std::string> out;
  for (const TableDef& def : data.tables) {
    std::string sql = fmt::format("CREATE TABLE {} (", def.name);
    for (const ColumnDef& c : def.columns) {
      const char* type = c.type == Ty::kDouble ? "REAL" : c.type == Ty::kText ? "TEXT" : "INTEGER";
      sql += fmt::format("{} {}, ", c.name, type);
    }
    sql += "sk TEXT NOT NULL, UNIQUE (sk, time))";
    out.push_back(std::move(sql));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Queries.

namespace {

// One piece of SQL in both dialects, with a bound of its magnitude for numbers.
struct Sql {
  std::string sw;
  std::string lite;
  double bound = 0;
};

Sql Same(std::string s, double bound = 0) { return {s, s, bound}; }

// Fills each '$' of `pattern` with the next argument, in each dialect.
Sql Fmt(std::string_view pattern, std::initializer_list<const Sql*> args, double bound = 0) {
  Sql out;
  out.bound = bound;
  auto it = args.begin();
  for (char c : pattern) {
    if (c == '$') {
      out.sw += (*it)->sw;
      out.lite += (*it)->lite;
      ++it;
    } else {
      out.sw += c;
      out.lite += c;
    }
  }
  return out;
}

// A column (or group key) an expression may use.
struct Col {
  Sql ref;
  Ty type;
  // A table's own tag or time column: tag values are ASCII (upper()/lower() agree), and both
  // are what the planner pushes into scans.
  bool ascii = false;
};

// A FROM clause and the columns it gives.
struct Source {
  Sql with;  // "WITH q0 AS (...) " when the subquery is a CTE
  Sql from;
  std::vector<Col> cols;
};

struct Select {
  Sql sql;
  std::vector<Ty> types;
  std::vector<double> bounds;
  bool ordered = false;
};

struct SelectOptions {
  const std::vector<Ty>* want = nullptr;  // output types (the second operand of a UNION)
  int nest = 0;
  bool order_limit = true;  // may end with ORDER BY / LIMIT
  // The first output column is the `host` tag and the query groups by it (the side of a join).
  bool group_by_host = false;
  bool union_operand = false;
};

class Generator {
 public:
  Generator(const Dataset& data, uint64_t seed) : data_(data), rng_(seed) {}

  Query Run() {
    Select s;
    if (Chance(rng_, 0.12)) {
      s = Union();
    } else {
      s = MakeSelect(SelectOptions{});
    }
    return Query{s.sql.sw, s.sql.lite, s.ordered};
  }

 private:
  bool P(double p) { return Chance(rng_, p); }
  int64_t U(int64_t lo, int64_t hi) { return Uniform(rng_, lo, hi); }

  // --- Scope ---------------------------------------------------------------------------------

  bool Usable(const Col& c, Ty t) const {
    return c.type == t && !(exact_ints_ && t == Ty::kInt && c.ref.bound > kExactInDouble);
  }
  std::vector<const Col*> ColsOf(Ty t) const {
    std::vector<const Col*> out;
    for (const Col& c : *cols_) {
      if (Usable(c, t)) out.push_back(&c);
    }
    return out;
  }
  std::vector<const Col*> KeysOf(Ty t) const {
    std::vector<const Col*> out;
    if (keys_ == nullptr) return out;
    for (const Col& c : *keys_) {
      if (Usable(c, t)) out.push_back(&c);
    }
    return out;
  }

  // While alive, integer leaves stay exact as doubles (see kExactInDouble).
  class ExactInts {
   public:
    explicit ExactInts(Generator* g) : g_(g), saved_(g->exact_ints_) { g->exact_ints_ = true; }
    ~ExactInts() { g_->exact_ints_ = saved_; }

   private:
    Generator* g_;
    bool saved_;
  };
  const Col* PickOf(const std::vector<const Col*>& v) {
    return v.empty() ? nullptr : v[static_cast<size_t>(U(0, static_cast<int64_t>(v.size()) - 1))];
  }

  // Runs `f` with row-level leaves (inside an aggregate's arguments).
  template <typename F>
  Sql InRowScope(F f) {
    const bool agg = agg_;
    agg_ = false;
    Sql out = f();
    agg_ = agg;
    return out;
  }

  // --- Literals ------------------------------------------------------------------------------

  Sql IntLiteral() {
    const int64_t v = P(0.7) ? U(-5, 10) : U(-1000, 1000);
    return Same(v < 0 ? fmt::format("({})", v) : fmt::format("{}", v),
                static_cast<double>(std::llabs(v)));
  }
  Sql DoubleLiteral() {
    const double v = static_cast<double>(U(-400, 400)) / 8.0;
    const std::string s = difftest::DoubleLiteral(v);
    return Same(v < 0 || std::signbit(v) ? "(" + s + ")" : s, std::fabs(v));
  }
  Sql TextLiteral() {
    const auto& pool = P(0.6) ? kTexts : P(0.5) ? kHosts : P(0.5) ? kSites : kZones;
    return Same(QuoteText(Pick(rng_, pool)));
  }
  Sql Literal(Ty t) {
    switch (t) {
      case Ty::kInt: return IntLiteral();
      case Ty::kDouble: return DoubleLiteral();
      case Ty::kText: return TextLiteral();
      case Ty::kBool: return Same(P(0.5) ? "TRUE" : "FALSE");
      case Ty::kTime: return TimeLiteral();
    }
    return Same("NULL");
  }
  Sql TimeLiteral() {
    if (P(0.25)) return Same(fmt::format("{}", Pick(rng_, data_.rows).time));  // an existing time
    if (P(0.02)) return Same(P(0.5) ? "9223372036854775807" : "(-9223372036854775808)");
    int64_t t = kBaseNs + (P(0.7) ? U(-370, 370) * 10 : U(-12000, 12000)) * kSecond;
    if (P(0.1)) t += (P(0.5) ? 1 : -1) * 86'400 * kSecond;
    return Same(fmt::format("{}", t));
  }

  // --- Expressions ---------------------------------------------------------------------------

  Sql Expr(Ty t, int depth) {
    if (P(0.03)) return Same("NULL");
    switch (t) {
      case Ty::kInt: return IntExpr(depth);
      case Ty::kDouble: return DoubleExpr(depth);
      case Ty::kBool: return BoolExpr(depth);
      case Ty::kText: return TextExpr(depth);
      case Ty::kTime: return TimeExpr();
    }
    return Same("NULL");
  }

  // An operand that must be DOUBLE: sometimes an integer promoted implicitly by Seaway (and
  // explicitly in SQLite, whose row values keep their own type).
  Sql DoubleBranch(int depth) {
    ExactInts exact(this);
    if (P(0.25)) {
      Sql i = IntExpr(depth);
      return Sql{i.sw, "CAST(" + i.lite + " AS REAL)", i.bound};
    }
    return DoubleExpr(depth);
  }

  Sql TimeExpr() {
    if (agg_) {
      if (const Col* k = PickOf(KeysOf(Ty::kTime)); k != nullptr && P(0.4)) return k->ref;
      Sql t = InRowScope([&] { return TimeExpr(); });
      if (t.sw == "NULL") return t;
      return Fmt(P(0.5) ? "min($)" : "max($)", {&t});
    }
    const Col* c = PickOf(ColsOf(Ty::kTime));
    if (c == nullptr) return Same("NULL");
    return P(0.35) ? TimeBucket(c->ref) : c->ref;
  }

  // time_bucket() and date_trunc() of a timestamp; in SQLite, integer arithmetic on
  // nanoseconds (times here are after the origin, so truncating division floors).
  Sql TimeBucket(const Sql& t) {
    struct Width {
      const char* seaway;
      int64_t seconds;
    };
    if (P(0.6)) {
      static const std::vector<Width> widths = {
          {"'10 seconds'", 10},           {"'1 minute'", 60}, {"'5m'", 300},
          {"INTERVAL '15 minutes'", 900}, {"'1 hour'", 3600}, {"'1 day'", 86400}};
      const Width& w = Pick(rng_, widths);
      const int64_t origin = 946'857'600 * kSecond;  // Seaway's default, a Monday
      const int64_t ns = w.seconds * kSecond;
      return Sql{fmt::format("time_bucket({}, {})", w.seaway, t.sw),
                 fmt::format("((({} - {}) / {}) * {} + {})", t.lite, origin, ns, ns, origin)};
    }
    static const std::vector<Width> units = {
        {"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}};
    const Width& u = Pick(rng_, units);
    const int64_t ns = u.seconds * kSecond;
    return Sql{fmt::format("date_trunc('{}', {})", u.seaway, t.sw),
               fmt::format("(({} / {}) * {})", t.lite, ns, ns)};
  }

  // An integer leaf of the row scope derived from a timestamp column.
  Sql TimeDerivedInt(const Col& c) {
    const Sql ns{"epoch_ns(" + c.ref.sw + ")", c.ref.lite, 0};
    switch (U(0, 2)) {
      case 0: return Fmt(fmt::format("(($ - {}) / {})", kBaseNs, kSecond), {&ns}, 2e5);
      case 1: return Fmt(fmt::format("($ / {})", 60 * kSecond), {&ns}, 3e7);
      default: return Fmt(fmt::format("($ / {})", 3600 * kSecond), {&ns}, 5e5);
    }
  }

  Sql IntLeaf() {
    if (agg_) {
      if (const Col* k = PickOf(KeysOf(Ty::kInt)); k != nullptr && P(0.3)) return k->ref;
      if (P(0.8)) return Aggregate(Ty::kInt);
      return IntLiteral();
    }
    if (const Col* t = PickOf(ColsOf(Ty::kTime)); t != nullptr && P(0.1)) {
      return TimeDerivedInt(*t);
    }
    if (const Col* c = PickOf(ColsOf(Ty::kInt)); c != nullptr && P(0.75)) return c->ref;
    return IntLiteral();
  }

  Sql IntExpr(int depth) {
    if (depth <= 0 || P(0.3)) return IntLeaf();
    switch (U(0, 9)) {
      case 0:
      case 1: {
        Sql a = IntExpr(depth - 1), b = IntExpr(depth - 1);
        if (a.bound + b.bound > kMaxIntBound) return a;
        return Fmt(P(0.5) ? "($ + $)" : "($ - $)", {&a, &b}, a.bound + b.bound);
      }
      case 2: {
        Sql a = IntExpr(depth - 1), b = IntExpr(depth - 1);
        if (a.bound * b.bound > kMaxIntBound) return a;
        return Fmt("($ * $)", {&a, &b}, a.bound * b.bound);
      }
      case 3: {
        Sql a = IntExpr(depth - 1), b = IntExpr(depth - 1);
        if (P(0.5)) return Fmt("($ / $)", {&a, &b}, a.bound);
        return Fmt("($ % $)", {&a, &b}, std::min(a.bound, b.bound));
      }
      case 4: {
        Sql a = IntExpr(depth - 1);
        return Fmt(P(0.5) ? "abs($)" : "(- $)", {&a}, a.bound);
      }
      case 5: {
        Sql c = BoolExpr(depth - 1), a = IntExpr(depth - 1), b = IntExpr(depth - 1);
        const double bound = std::max(a.bound, b.bound);
        if (P(0.3)) return Fmt("CASE WHEN $ THEN $ END", {&c, &a}, bound);
        return Fmt("CASE WHEN $ THEN $ ELSE $ END", {&c, &a, &b}, bound);
      }
      case 6: {
        Sql a = IntExpr(depth - 1), b = IntExpr(depth - 1);
        return Fmt(P(0.6) ? "coalesce($, $)" : "nullif($, $)", {&a, &b},
                   std::max(a.bound, b.bound));
      }
      case 7: {
        Sql s = TextExpr(depth - 1);
        return Fmt("length($)", {&s}, 1e3);
      }
      case 8: {
        Sql x = IntExpr(depth - 1), w1 = IntLiteral(), t1 = IntExpr(depth - 1), w2 = IntLiteral(),
            t2 = IntExpr(depth - 1), e = IntExpr(depth - 1);
        return Fmt("CASE $ WHEN $ THEN $ WHEN $ THEN $ ELSE $ END", {&x, &w1, &t1, &w2, &t2, &e},
                   std::max({t1.bound, t2.bound, e.bound}));
      }
      default: return IntLeaf();
    }
  }

  Sql DoubleLeaf() {
    ExactInts exact(this);
    if (agg_) {
      if (const Col* k = PickOf(KeysOf(Ty::kDouble)); k != nullptr && P(0.3)) return k->ref;
      if (P(0.8)) return Aggregate(Ty::kDouble);
      return DoubleLiteral();
    }
    if (const Col* c = PickOf(ColsOf(Ty::kDouble)); c != nullptr && P(0.75)) return c->ref;
    if (P(0.3)) {
      Sql i = IntLeaf();
      return Sql{"CAST(" + i.sw + " AS DOUBLE)", "CAST(" + i.lite + " AS REAL)", i.bound};
    }
    return DoubleLiteral();
  }

  Sql DoubleExpr(int depth) {
    ExactInts exact(this);
    if (depth <= 0 || P(0.3)) return DoubleLeaf();
    // One operand of an arithmetic operator may be an integer; the other is a double.
    auto operands = [&](Sql* a, Sql* b) {
      *a = DoubleExpr(depth - 1);
      *b = P(0.3) ? IntExpr(depth - 1) : DoubleExpr(depth - 1);
      if (P(0.5)) std::swap(*a, *b);
    };
    Sql a, b;
    switch (U(0, 8)) {
      case 0:
      case 1:
        operands(&a, &b);
        return Fmt(P(0.5) ? "($ + $)" : "($ - $)", {&a, &b}, a.bound + b.bound);
      case 2:
        operands(&a, &b);
        if (a.bound * b.bound > 1e12) return a;
        return Fmt("($ * $)", {&a, &b}, a.bound * b.bound);
      case 3:
        operands(&a, &b);
        if (a.bound * 64 > 1e12) return a;
        return Fmt("($ / $)", {&a, &b}, a.bound * 64);
      case 4: a = DoubleExpr(depth - 1); return Fmt(P(0.5) ? "abs($)" : "(- $)", {&a}, a.bound);
      case 5: {
        // One branch is DOUBLE (or Seaway's CASE would be BIGINT), the other may be promoted.
        Sql c = BoolExpr(depth - 1);
        a = DoubleExpr(depth - 1);
        b = DoubleBranch(depth - 1);
        if (P(0.3)) return Fmt("CASE WHEN $ THEN $ END", {&c, &a}, a.bound);
        if (P(0.5)) std::swap(a, b);
        return Fmt("CASE WHEN $ THEN $ ELSE $ END", {&c, &a, &b}, std::max(a.bound, b.bound));
      }
      case 6:
        a = DoubleExpr(depth - 1);
        b = DoubleBranch(depth - 1);
        if (P(0.5)) std::swap(a, b);
        return Fmt("coalesce($, $)", {&a, &b}, std::max(a.bound, b.bound));
      case 7:
        a = DoubleExpr(depth - 1);
        b = DoubleExpr(depth - 1);
        return Fmt("nullif($, $)", {&a, &b}, a.bound);
      default: return DoubleLeaf();
    }
  }

  Sql TextLeaf() {
    if (agg_) {
      if (const Col* k = PickOf(KeysOf(Ty::kText)); k != nullptr && P(0.4)) return k->ref;
      if (P(0.7)) return Aggregate(Ty::kText);
      return TextLiteral();
    }
    if (const Col* c = PickOf(ColsOf(Ty::kText)); c != nullptr && P(0.8)) return c->ref;
    return TextLiteral();
  }

  Sql TextExpr(int depth) {
    if (depth <= 0 || P(0.35)) return TextLeaf();
    Sql a, b, c;
    switch (U(0, 8)) {
      case 0:
        c = BoolExpr(depth - 1);
        a = TextExpr(depth - 1);
        b = TextExpr(depth - 1);
        return Fmt("CASE WHEN $ THEN $ ELSE $ END", {&c, &a, &b});
      case 1:
        a = TextExpr(depth - 1);
        b = TextExpr(depth - 1);
        return Fmt("coalesce($, $)", {&a, &b});
      case 2:
        a = TextExpr(depth - 1);
        b = TextExpr(depth - 1);
        return Fmt("($ || $)", {&a, &b});
      case 3: {
        a = TextExpr(depth - 1);
        const std::string start = fmt::format("{}", U(1, 4));
        if (P(0.3)) return Fmt("substr($, " + start + ")", {&a});
        return Fmt(fmt::format("substr($, {}, {})", start, U(0, 4)), {&a});
      }
      case 4:
        a = TextExpr(depth - 1);
        b = Same(QuoteText(Pick(rng_, std::vector<std::string>{"a", "_", "%", "h", "é", " "})));
        c = TextLiteral();
        if (c.sw == "''" && P(0.5)) c = Same("'-'");
        return Fmt("replace($, $, $)", {&a, &b, &c});
      case 5: a = TextExpr(depth - 1); return Fmt("trim($)", {&a});
      case 6: {
        std::vector<const Col*> ascii;
        if (!agg_) {
          for (const Col* col : ColsOf(Ty::kText)) {
            if (col->ascii) ascii.push_back(col);
          }
        }
        const Col* col = PickOf(ascii);
        if (col == nullptr) return TextLeaf();
        return Fmt(P(0.5) ? "upper($)" : "lower($)", {&col->ref});
      }
      case 7:
        a = TextExpr(depth - 1);
        b = TextLiteral();
        return Fmt("nullif($, $)", {&a, &b});
      default: return TextLeaf();
    }
  }

  Sql BoolLeaf() {
    if (agg_) {
      if (const Col* k = PickOf(KeysOf(Ty::kBool)); k != nullptr && P(0.5)) return k->ref;
    } else if (const Col* c = PickOf(ColsOf(Ty::kBool)); c != nullptr && P(0.5)) {
      return c->ref;
    }
    if (P(0.2)) return Literal(Ty::kBool);
    // A simple comparison of a leaf with a constant.
    Sql a, b;
    if (P(0.4)) {
      a = TextLeaf();
      b = TextLiteral();
    } else {
      ExactInts exact(this);
      a = P(0.5) ? IntLeaf() : DoubleLeaf();
      b = NumericLiteral();
    }
    return Fmt(fmt::format("($ {} $)", CompareOp()), {&a, &b});
  }

  Sql NumericExpr(int depth) { return P(0.5) ? IntExpr(depth) : DoubleExpr(depth); }
  Sql NumericLiteral() { return P(0.6) ? IntLiteral() : DoubleLiteral(); }

  const char* CompareOp() {
    static const std::vector<const char*> ops = {"=", "<>", "!=", "<", "<=", ">", ">="};
    return Pick(rng_, ops);
  }

  std::string LikePattern() {
    std::string s = P(0.5) ? Pick(rng_, kTexts) : P(0.5) ? Pick(rng_, kHosts) : Pick(rng_, kSites);
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char ch = static_cast<unsigned char>(s[i]);
      size_t len = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : 3;  // whole UTF-8 characters
      if (P(0.2)) {
        out += '_';
      } else if (P(0.1)) {
        out += '%';
      } else {
        out += s.substr(i, len);
      }
      i += len - 1;
    }
    if (P(0.3)) out = "%" + out;
    if (P(0.4)) out += "%";
    return QuoteText(out);
  }

  Sql BoolExpr(int depth) {
    if (depth <= 0 || P(0.15)) return BoolLeaf();
    Sql a, b, c;
    switch (U(0, 12)) {
      case 0:
      case 1: {
        if (P(0.3)) {  // integers alone may be large
          a = IntExpr(depth - 1);
          b = P(0.5) ? IntLiteral() : IntExpr(depth - 1);
        } else {
          ExactInts exact(this);
          a = NumericExpr(depth - 1);
          b = P(0.5) ? NumericLiteral() : NumericExpr(depth - 1);
        }
        return Fmt(fmt::format("($ {} $)", CompareOp()), {&a, &b});
      }
      case 2:
        a = TextExpr(depth - 1);
        b = P(0.6) ? TextLiteral() : TextExpr(depth - 1);
        return Fmt(fmt::format("($ {} $)", CompareOp()), {&a, &b});
      case 3:
        a = BoolExpr(depth - 1);
        b = BoolExpr(depth - 1);
        return Fmt(P(0.5) ? "($ AND $)" : "($ OR $)", {&a, &b});
      case 4: a = BoolExpr(depth - 1); return Fmt("(NOT $)", {&a});
      case 5: {
        static const std::vector<Ty> types = {Ty::kInt, Ty::kDouble, Ty::kBool, Ty::kText,
                                              Ty::kTime};
        a = Expr(Pick(rng_, types), depth - 1);
        return Fmt(P(0.5) ? "($ IS NULL)" : "($ IS NOT NULL)", {&a});
      }
      case 6: {
        ExactInts exact(this);
        const bool text = P(0.4), integer = P(0.5);
        a = text ? TextExpr(depth - 1) : integer ? IntExpr(depth - 1) : DoubleExpr(depth - 1);
        const int homogeneous =  // 0: mixed numbers, 1: integers, 2: doubles
            kExcludeMixedInListOnIntegers && integer ? static_cast<int>(U(1, 2)) : 0;
        auto item = [&] {
          if (text) return TextLiteral();
          if (homogeneous != 0) return homogeneous == 1 ? IntLiteral() : DoubleLiteral();
          return NumericLiteral();
        };
        Sql list = item();
        for (int64_t n = U(0, 3); n > 0; --n) {
          Sql next = P(0.08) ? Same("NULL") : item();
          list = Fmt("$, $", {&list, &next});
        }
        return Fmt(P(0.7) ? "($ IN ($))" : "($ NOT IN ($))", {&a, &list});
      }
      case 7: {
        ExactInts exact(this);
        const bool text = P(0.3);
        a = text ? TextExpr(depth - 1) : NumericExpr(depth - 1);
        b = text ? TextLiteral() : NumericLiteral();
        c = text ? TextLiteral() : P(0.3) ? NumericExpr(depth - 1) : NumericLiteral();
        return Fmt(P(0.8) ? "($ BETWEEN $ AND $)" : "($ NOT BETWEEN $ AND $)", {&a, &b, &c});
      }
      case 8:
        a = TextExpr(depth - 1);
        b = Same(LikePattern());
        return Fmt(P(0.8) ? "($ LIKE $)" : "($ NOT LIKE $)", {&a, &b});
      case 9: {
        const Col* t = agg_ ? nullptr : PickOf(ColsOf(Ty::kTime));
        if (t == nullptr) return BoolExpr(depth - 1);
        a = TimeLiteral();
        if (P(0.3)) {
          b = TimeLiteral();
          return Fmt("($ BETWEEN $ AND $)", {&t->ref, &a, &b});
        }
        return Fmt(fmt::format("($ {} $)", CompareOp()), {&t->ref, &a});
      }
      case 10:
        a = BoolExpr(depth - 1);
        b = BoolExpr(depth - 1);
        return Fmt(P(0.5) ? "($ = $)" : "($ <> $)", {&a, &b});
      case 11: {
        if (nest_ >= 2) return BoolLeaf();
        const int64_t k = U(0, 9);
        if (k < 5) {  // x [NOT] IN (SELECT ...)
          const Ty t = P(0.5) ? Ty::kText : P(0.5) ? Ty::kInt : Ty::kDouble;
          a = Expr(t, depth - 1);
          b = SubSelect(t);
          return Fmt(P(0.7) ? "($ IN ($))" : "($ NOT IN ($))", {&a, &b});
        }
        if (k < 8) {  // x <op> (SELECT aggregate ...)
          const Ty t = P(0.5) ? Ty::kInt : Ty::kDouble;
          a = Expr(t, depth - 1);
          b = ScalarSubquery(t);
          return Fmt(fmt::format("($ {} $)", CompareOp()), {&a, &b});
        }
        b = SubSelect(RandomType());
        return Fmt(P(0.7) ? "EXISTS ($)" : "(NOT EXISTS ($))", {&b});
      }
      default: return BoolLeaf();
    }
  }

  // A one-column query of type `t` (for IN and EXISTS).
  Sql SubSelect(Ty t) {
    const std::vector<Ty> want = {t};
    SelectOptions o;
    o.nest = nest_ + 1;
    o.order_limit = false;
    o.want = &want;
    return MakeSelect(o).sql;
  }

  // A one-row query: an aggregate of a table, maybe filtered.
  Sql ScalarSubquery(Ty t) {
    Source src = TableSource(RandomTable(), "");
    const std::vector<Col>* saved_cols = cols_;
    const std::vector<Col>* saved_keys = keys_;
    const bool saved_agg = agg_;
    const int saved_nest = nest_;
    cols_ = &src.cols;
    keys_ = nullptr;
    agg_ = false;
    nest_ = saved_nest + 1;
    Sql where = P(0.6) ? Where() : Sql{};
    agg_ = true;
    Sql e = Aggregate(t);
    Sql out = Fmt("(SELECT $ FROM $", {&e, &src.from}, e.bound);
    if (!where.sw.empty()) out = Fmt("$ WHERE $", {&out, &where}, e.bound);
    out = Fmt("$)", {&out}, e.bound);
    cols_ = saved_cols;
    keys_ = saved_keys;
    agg_ = saved_agg;
    nest_ = saved_nest;
    return out;
  }

  // A WHERE condition: often in the shapes the planner pushes into the scan (time ranges and
  // tag equalities as top-level conjuncts, predicates on tags alone), plus a random predicate.
  Sql Where() {
    std::vector<Sql> conjuncts;
    const Col* time = nullptr;
    for (const Col& c : *cols_) {
      if (c.type == Ty::kTime && c.ascii) time = &c;  // a table's own time column
    }
    if (time != nullptr && P(0.5)) {
      Sql a = TimeLiteral(), b = TimeLiteral();
      switch (U(0, 4)) {
        case 0:
          conjuncts.push_back(Fmt(fmt::format("$ {} $", P(0.5) ? ">=" : ">"), {&time->ref, &a}));
          break;
        case 1:
          conjuncts.push_back(Fmt(fmt::format("$ {} $", P(0.5) ? "<=" : "<"), {&time->ref, &a}));
          break;
        case 2:
          conjuncts.push_back(Fmt("$ >= $", {&time->ref, &a}));
          conjuncts.push_back(Fmt("$ < $", {&time->ref, &b}));
          break;
        case 3: conjuncts.push_back(Fmt("$ = $", {&time->ref, &a})); break;
        default: conjuncts.push_back(Fmt("$ <= $", {&a, &time->ref})); break;
      }
    }
    std::vector<const Col*> tags;
    for (const Col& c : *cols_) {
      if (c.type == Ty::kText && c.ascii) tags.push_back(&c);
    }
    if (!tags.empty() && P(0.4)) {
      for (int64_t n = P(0.15) ? 2 : 1; n > 0; --n) {
        const Col* tag = PickOf(tags);
        Sql v = Same(QuoteText(Pick(rng_, P(0.6) ? kHosts : P(0.5) ? kSites : kZones)));
        conjuncts.push_back(P(0.8) ? Fmt("$ = $", {&tag->ref, &v}) : Fmt("$ = $", {&v, &tag->ref}));
      }
    }
    if (!tags.empty() && P(0.25)) {
      std::vector<Col> tag_cols;
      for (const Col* c : tags) tag_cols.push_back(*c);
      const std::vector<Col>* saved = cols_;
      cols_ = &tag_cols;
      conjuncts.push_back(BoolExpr(2));
      cols_ = saved;
    }
    if (conjuncts.empty() || P(0.5)) conjuncts.push_back(BoolExpr(static_cast<int>(U(1, 3))));
    std::shuffle(conjuncts.begin(), conjuncts.end(), rng_);
    Sql out = conjuncts[0];
    for (size_t i = 1; i < conjuncts.size(); ++i) out = Fmt("$ AND $", {&out, &conjuncts[i]});
    return out;
  }

  // Whether `sql` calls an aggregate outside of subqueries and string literals.
  static bool HasOuterAggregate(std::string_view sql) {
    static const std::vector<std::string_view> names = {"count(", "sum(", "avg(", "min(", "max("};
    int subquery_depth = 0;
    std::vector<bool> open_is_subquery;
    for (size_t i = 0; i < sql.size(); ++i) {
      const char c = sql[i];
      if (c == '\'') {
        i = sql.find('\'', i + 1);
        if (i == std::string_view::npos) return false;
      } else if (c == '(') {
        const bool sub = sql.substr(i + 1, 7) == "SELECT ";
        open_is_subquery.push_back(sub);
        subquery_depth += sub ? 1 : 0;
      } else if (c == ')') {
        if (!open_is_subquery.empty() && open_is_subquery.back()) --subquery_depth;
        if (!open_is_subquery.empty()) open_is_subquery.pop_back();
      } else if (subquery_depth == 0 &&
                 (i == 0 || !std::isalnum(static_cast<unsigned char>(sql[i - 1])))) {
        for (std::string_view n : names) {
          if (sql.substr(i, n.size()) == n) return true;
        }
      }
    }
    return false;
  }

  static bool IsIntegerLiteral(std::string_view s) {
    return s.find_first_not_of("()- 0123456789") == std::string_view::npos;
  }

  // An aggregate call of result type `t` over row-level arguments.
  Sql Aggregate(Ty t) {
    static const std::vector<Ty> any = {Ty::kInt, Ty::kDouble, Ty::kBool, Ty::kText, Ty::kTime};
    const int depth = static_cast<int>(U(0, 2));
    return InRowScope([&]() -> Sql {
      switch (t) {
        case Ty::kInt: {
          const int64_t k = U(0, 5);
          if (k == 0) return Same("count(*)", kMaxRows);
          if (k == 1) {
            Sql a = Expr(Pick(rng_, any), depth);
            return Fmt("count($)", {&a}, kMaxRows);
          }
          if (k == 2) {
            Sql a = Expr(Pick(rng_, any), depth);
            return Fmt("count(DISTINCT $)", {&a}, kMaxRows);
          }
          Sql a = IntExpr(depth);
          if (k == 3 && a.bound * kMaxRows <= kMaxIntBound) {
            return Fmt("sum($)", {&a}, a.bound * kMaxRows);
          }
          return Fmt(P(0.5) ? "min($)" : "max($)", {&a}, a.bound);
        }
        case Ty::kDouble: {
          const int64_t k = U(0, 3);
          if (k == 0) {
            Sql a = DoubleExpr(depth);
            return Fmt("sum($)", {&a}, a.bound * kMaxRows);
          }
          if (k == 1) {
            Sql a = NumericExpr(depth);
            return Fmt("avg($)", {&a}, a.bound);
          }
          Sql a = DoubleExpr(depth);
          return Fmt(P(0.5) ? "min($)" : "max($)", {&a}, a.bound);
        }
        case Ty::kText: {
          Sql a = TextExpr(depth);
          return Fmt(P(0.5) ? "min($)" : "max($)", {&a});
        }
        default: return Literal(t);
      }
    });
  }

  // --- SELECT --------------------------------------------------------------------------------

  Source TableSource(const TableDef& def, const std::string& alias) {
    Source s;
    s.from = Same(alias.empty() ? def.name : def.name + " AS " + alias);
    for (const ColumnDef& c : def.columns) {
      const std::string ref = alias.empty() ? c.name : alias + "." + c.name;
      s.cols.push_back(Col{Same(ref, c.type == Ty::kInt || c.type == Ty::kDouble ? 1000 : 0),
                           c.type, c.tag || c.type == Ty::kTime});
    }
    return s;
  }

  const TableDef& RandomTable() { return Pick(rng_, data_.tables); }

  Source JoinSource(int nest) {
    const size_t li = static_cast<size_t>(U(0, static_cast<int64_t>(data_.tables.size()) - 1));
    const size_t ri = static_cast<size_t>(U(0, static_cast<int64_t>(data_.tables.size()) - 1));
    const TableDef& left = data_.tables[li];
    const TableDef& right = data_.tables[ri];
    Source a = TableSource(left, "a");
    // Joins on host alone of large tables would give millions of rows: join on time too.
    const bool small =
        static_cast<double>(data_.table_rows[li]) * static_cast<double>(data_.table_rows[ri]) <
        200'000;
    Source b;
    std::string b_host = "b.host";
    bool b_is_table = true;
    if (nest < 1 && P(0.3)) {
      // A grouped subquery on the right, keyed by host.
      SelectOptions o;
      o.nest = nest + 1;
      o.group_by_host = true;
      o.order_limit = false;
      Select inner = MakeSelect(o);
      b.from = Fmt("($) AS b", {&inner.sql});
      const std::string prefix = AliasPrefix(nest + 1);
      for (size_t i = 0; i < inner.types.size(); ++i) {
        b.cols.push_back(
            Col{Same(fmt::format("b.{}{}", prefix, i), inner.bounds[i]), inner.types[i]});
      }
      b_host = fmt::format("b.{}0", prefix);
      b_is_table = false;
    } else {
      b = TableSource(right, "b");
    }
    const bool left_join = P(0.4);
    Sql on = Same(fmt::format("a.host = {}", b_host));
    Source joined;
    joined.cols = a.cols;
    joined.cols.insert(joined.cols.end(), b.cols.begin(), b.cols.end());
    if (b_is_table && (!small || P(0.3))) on = Fmt("$ AND a.time = b.time", {&on});
    if (b_is_table && left.columns[2].name == "site" && right.columns[2].name == "site" && P(0.2)) {
      on = Fmt("$ AND a.site = b.site", {&on});
    }
    if (P(0.25)) {
      const std::vector<Col>* saved = cols_;
      cols_ = &joined.cols;
      Sql extra = BoolExpr(2);
      cols_ = saved;
      on = Fmt("$ AND $", {&on, &extra});
    }
    joined.from = Fmt(left_join ? "$ LEFT JOIN $ ON $" : "$ JOIN $ ON $", {&a.from, &b.from, &on});
    return joined;
  }

  static std::string AliasPrefix(int nest) { return std::string(1, static_cast<char>('c' + nest)); }

  Source MakeSource(const SelectOptions& o) {
    if (o.group_by_host) return TableSource(RandomTable(), "");
    const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (o.nest < 2 && r < 0.15) {
      SelectOptions inner;
      inner.nest = o.nest + 1;
      Select sub = MakeSelect(inner);
      const std::string alias = fmt::format("q{}", o.nest);
      const std::string prefix = AliasPrefix(o.nest + 1);
      Source s;
      if (o.nest == 0 && !o.union_operand && P(0.4)) {
        s.with = Fmt("WITH " + alias + " AS ($) ", {&sub.sql});
        s.from = Same(alias);
      } else {
        s.from = Fmt("($) AS " + alias, {&sub.sql});
      }
      for (size_t i = 0; i < sub.types.size(); ++i) {
        s.cols.push_back(
            Col{Same(fmt::format("{}.{}{}", alias, prefix, i), sub.bounds[i]), sub.types[i]});
      }
      return s;
    }
    if (o.nest < 2 && r < 0.32) return JoinSource(o.nest);
    return TableSource(RandomTable(), P(0.2) ? "t" : "");
  }

  Ty RandomType() {
    const int64_t r = U(0, 99);
    return r < 30   ? Ty::kInt
           : r < 55 ? Ty::kDouble
           : r < 80 ? Ty::kText
           : r < 90 ? Ty::kBool
                    : Ty::kTime;
  }

  // An output column of type `t`. In a UNION operand's DOUBLE column an integer expression may
  // stand, which Seaway's UNION promotes (SQLite is told so by a cast); elsewhere a DOUBLE
  // column is DOUBLE in Seaway too, as an outer query may divide it.
  Sql OutputExpr(Ty t, bool union_operand) {
    const int depth = static_cast<int>(U(0, 3));
    if (t == Ty::kDouble && union_operand) return DoubleBranch(depth);
    if (t == Ty::kInt && !agg_ && P(0.08)) {
      if (const Col* c = PickOf(ColsOf(Ty::kTime))) {
        return Sql{"epoch_ns(" + c->ref.sw + ")", c->ref.lite, 2e18};
      }
    }
    return Expr(t, depth);
  }

  Select MakeSelect(const SelectOptions& o) {
    const std::vector<Col>* saved_cols = cols_;
    const std::vector<Col>* saved_keys = keys_;
    const bool saved_agg = agg_;
    const int saved_nest = nest_;
    keys_ = nullptr;
    agg_ = false;
    nest_ = o.nest;
    Source src = MakeSource(o);  // a join condition is row-level, whatever the caller's scope
    cols_ = &src.cols;

    const std::string prefix = AliasPrefix(o.nest);
    const int64_t kind = o.group_by_host ? 1 : U(0, 99) < 50 ? 0 : U(0, 99) < 75 ? 1 : 2;
    std::vector<Sql> items;
    std::vector<Ty> types;
    std::vector<Col> keys;
    std::vector<int> key_item;  // the output position of each key, or -1
    Sql where, having;
    bool has_where = P(kind == 0 ? 0.75 : 0.6);
    if (has_where) where = Where();

    if (kind == 1) {
      // Group keys: mostly columns, sometimes expressions.
      const int64_t n_keys = o.group_by_host ? 1 : U(1, 3);
      for (int64_t k = 0; k < n_keys; ++k) {
        if (o.group_by_host) {
          const Col* host = nullptr;
          for (const Col& c : src.cols) {
            if (c.ref.sw == "host") host = &c;
          }
          keys.push_back(*host);
        } else if (P(0.65)) {
          keys.push_back(Pick(rng_, src.cols));
        } else {
          const Ty t = RandomType();
          Sql e = t == Ty::kTime ? TimeExpr() : Expr(t, static_cast<int>(U(1, 2)));
          if (e.sw == "NULL") e = Literal(t);
          // An integer constant in GROUP BY is a position of the select list.
          if (IsIntegerLiteral(e.sw)) {
            keys.push_back(Pick(rng_, src.cols));
          } else {
            keys.push_back(Col{e, t});
          }
        }
      }
      agg_ = true;
      keys_ = &keys;
      key_item.assign(keys.size(), -1);
      if (o.want != nullptr) {
        for (Ty t : *o.want) {
          std::vector<const Col*> fit = KeysOf(t);
          items.push_back(!fit.empty() && P(0.4) ? PickOf(fit)->ref
                                                 : OutputExpr(t, o.union_operand));
          types.push_back(t);
        }
      } else {
        for (size_t k = 0; k < keys.size(); ++k) {
          if (k == 0 && o.group_by_host) {
            key_item[k] = 0;
          } else if (!P(0.75)) {
            continue;
          }
          key_item[k] = static_cast<int>(items.size());
          items.push_back(keys[k].ref);
          types.push_back(keys[k].type);
        }
        for (int64_t n = U(items.empty() ? 1 : 0, 3); n > 0; --n) {
          const Ty t = RandomType();
          items.push_back(OutputExpr(t, o.union_operand));
          types.push_back(t);
        }
      }
      if (P(0.3)) having = BoolExpr(static_cast<int>(U(1, 2)));
    } else {
      agg_ = kind == 2;
      const size_t n = o.want != nullptr ? o.want->size() : static_cast<size_t>(U(1, 4));
      for (size_t i = 0; i < n; ++i) {
        const Ty t = o.want != nullptr ? (*o.want)[i] : RandomType();
        items.push_back(OutputExpr(t, o.union_operand));
        types.push_back(t);
      }
      // HAVING needs an aggregate in the select list (SQLite; PostgreSQL would group anyway).
      bool aggregated = false;
      for (const Sql& item : items) aggregated |= HasOuterAggregate(item.sw);
      if (kind == 2 && aggregated && P(0.1)) having = BoolExpr(1);
    }

    Select out;
    out.types = types;
    const bool distinct = P(0.12);
    Sql text = Same(distinct ? "SELECT DISTINCT " : "SELECT ");
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) text = Fmt("$, ", {&text});
      text = Fmt(fmt::format("$$ AS {}{}", prefix, i), {&text, &items[i]});
      out.bounds.push_back(items[i].bound);
    }
    text = Fmt("$ FROM $", {&text, &src.from});
    if (has_where) text = Fmt("$ WHERE $", {&text, &where});
    if (kind == 1) {
      text = Fmt("$ GROUP BY ", {&text});
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k > 0) text = Fmt("$, ", {&text});
        if (key_item[k] >= 0 && P(0.35)) {
          text = Fmt(fmt::format("$ {}", key_item[k] + 1), {&text});
        } else if (key_item[k] >= 0 && P(0.3)) {
          text = Fmt(fmt::format("$ {}{}", prefix, key_item[k]), {&text});
        } else {
          text = Fmt("$ $", {&text, &keys[k].ref});
        }
      }
    }
    if (!having.sw.empty()) text = Fmt("$ HAVING $", {&text, &having});
    if (o.order_limit) text = OrderLimit(text, items.size(), prefix, &out.ordered);
    out.sql = text;

    if (!src.with.sw.empty()) out.sql = Fmt("$$", {&src.with, &out.sql});
    cols_ = saved_cols;
    keys_ = saved_keys;
    agg_ = saved_agg;
    nest_ = saved_nest;
    return out;
  }

  // Appends ORDER BY (and LIMIT/OFFSET when the order covers every column) to a query of
  // `n` output columns.
  Sql OrderLimit(Sql text, size_t n, const std::string& prefix, bool* ordered) {
    const double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    *ordered = false;
    if (r > 0.6) return text;
    std::vector<size_t> cols(n);
    for (size_t i = 0; i < n; ++i) cols[i] = i;
    std::shuffle(cols.begin(), cols.end(), rng_);
    const bool full = r < 0.4;
    if (!full) cols.resize(static_cast<size_t>(U(1, static_cast<int64_t>(n))));
    text = Fmt("$ ORDER BY ", {&text});
    for (size_t i = 0; i < cols.size(); ++i) {
      const std::string name =
          P(0.7) ? fmt::format("{}", cols[i] + 1) : fmt::format("{}{}", prefix, cols[i]);
      const int64_t dir = U(0, 2);    // none, ASC, DESC
      const int64_t nulls = U(0, 2);  // default, FIRST, LAST
      const bool desc = dir == 2;
      std::string sw = name, lite = name;
      if (dir == 1) sw += " ASC";
      if (desc) sw += " DESC";
      lite += desc ? " DESC" : " ASC";
      if (nulls == 1) sw += " NULLS FIRST";
      if (nulls == 2) sw += " NULLS LAST";
      const bool nulls_first = nulls == 1 || (nulls == 0 && desc);
      lite += nulls_first ? " NULLS FIRST" : " NULLS LAST";
      Sql term{sw, lite};
      text = Fmt(i == 0 ? "$$" : "$, $", {&text, &term});
    }
    if (full) {
      *ordered = true;
      const bool limit = P(0.5), offset = P(0.3);
      if (limit) text = Fmt(fmt::format("$ LIMIT {}", U(0, 20)), {&text});
      if (offset) {
        const int64_t k = U(0, 10);
        Sql off{fmt::format(" OFFSET {}", k),
                limit ? fmt::format(" OFFSET {}", k) : fmt::format(" LIMIT -1 OFFSET {}", k)};
        text = Fmt("$$", {&text, &off});
      }
    }
    return text;
  }

  Select Union() {
    SelectOptions first;
    first.order_limit = false;
    first.union_operand = true;
    Select a = MakeSelect(first);
    SelectOptions second = first;
    second.want = &a.types;
    Select b = MakeSelect(second);
    Select out;
    out.types = a.types;
    for (size_t i = 0; i < a.bounds.size(); ++i) {
      out.bounds.push_back(std::max(a.bounds[i], b.bounds[i]));
    }
    Sql text = Fmt(P(0.75) ? "$ UNION ALL $" : "$ UNION $", {&a.sql, &b.sql});
    out.sql = OrderLimit(text, a.types.size(), AliasPrefix(0), &out.ordered);
    return out;
  }

  const Dataset& data_;
  Rng rng_;
  const std::vector<Col>* cols_ = nullptr;
  const std::vector<Col>* keys_ = nullptr;
  bool agg_ = false;
  bool exact_ints_ = false;  // see ExactInts
  int nest_ = 0;             // of the SELECT being generated
};

}  // namespace

Query GenerateQuery(const Dataset& data, uint64_t seed) { return Generator(data, seed).Run(); }

}  // namespace seaway::difftest
