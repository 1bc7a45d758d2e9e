// Differential test of Seaway's SQL against SQLite (tests/unit/query): random data stored in
// both engines, random queries of the subset they share (sql_generator.h) run on both, and
// the answers compared.
//
// CI (`make test`) runs 500 queries from a fixed seed. The long variant is the same binary
// with more queries and other seeds (tests/long/sql_differential.sh runs 10,000):
//
//   SEAWAY_DIFF_QUERIES=10000 SEAWAY_DIFF_SEED=7 build/release/tests/unit/query/differential_test
//
// Other knobs, all environment variables:
//   SEAWAY_DIFF_PER_DATASET   queries per random dataset (default 250); then fresh data
//   SEAWAY_DIFF_REPLAY=D:Q    runs only query Q of dataset D (a failure prints both numbers)
//                             and prints both answers
//   SEAWAY_DIFF_SQL=text      with SEAWAY_DIFF_REPLAY, runs this query (same text in both
//                             engines) instead of the generated one, for minimising a repro
//   SEAWAY_DIFF_DUMP=path     writes each dataset as a sqllogictest `write` record, for turning
//                             a mismatch into a golden test (tests/sql)
//   SEAWAY_DIFF_VERBOSE=1     prints every query with its number of rows
//   SEAWAY_DIFF_MAX_FAILURES  stops after this many mismatches (default 10)
//
// Comparison: the same number of columns and rows; NULL equals NULL; integers exactly;
// doubles within a relative 1e-9 (absolute near zero); Seaway's BOOLEAN as 0/1 and TIMESTAMP
// as nanoseconds against SQLite's integers; the rows of both sides sorted unless the query's
// ORDER BY covers every column. A query that either engine rejects is a failure too (Seaway
// should accept the shared subset; SQLite rejecting one is a generator bug).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "ingest/line_protocol.h"
#include "query/query_engine.h"
#include "sql_generator.h"
#include "storage/memory_env.h"

namespace seaway::difftest {
namespace {

constexpr TenantId kTenant(1);
constexpr uint64_t kDefaultSeed = 20260101;

// --- Answers ---------------------------------------------------------------------------------

struct Cell {
  enum Kind { kNull, kInt, kReal, kText } kind = kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;
};
using Row = std::vector<Cell>;

struct Answer {
  std::string error;  // empty when the query ran
  size_t columns = 0;
  std::vector<Row> rows;
};

double Number(const Cell& c) { return c.kind == Cell::kInt ? static_cast<double>(c.i) : c.d; }

bool CellsEqual(const Cell& a, const Cell& b) {
  if (a.kind == Cell::kNull || b.kind == Cell::kNull) return a.kind == b.kind;
  if (a.kind == Cell::kText || b.kind == Cell::kText) return a.kind == b.kind && a.s == b.s;
  if (a.kind == Cell::kInt && b.kind == Cell::kInt) return a.i == b.i;
  const double x = Number(a), y = Number(b);
  return std::fabs(x - y) <= 1e-9 * std::max({1.0, std::fabs(x), std::fabs(y)});
}

// A total order for sorting unordered answers: NULL, then numbers, then text.
bool CellLess(const Cell& a, const Cell& b) {
  auto rank = [](const Cell& c) {
    return c.kind == Cell::kNull ? 0 : c.kind == Cell::kText ? 2 : 1;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  if (rank(a) == 1) return Number(a) < Number(b);
  return a.s < b.s;
}

bool RowLess(const Row& a, const Row& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), CellLess);
}

std::string FormatCell(const Cell& c) {
  switch (c.kind) {
    case Cell::kNull: return "NULL";
    case Cell::kInt: return fmt::format("{}", c.i);
    case Cell::kReal: return fmt::format("{}", c.d);  // shortest text that reads back exactly
    case Cell::kText: return "'" + c.s + "'";
  }
  return "?";
}

std::string FormatAnswer(const Answer& a, size_t max_rows = 40) {
  if (!a.error.empty()) return "  error: " + a.error + "\n";
  std::string out = fmt::format("  {} row(s) of {} column(s)\n", a.rows.size(), a.columns);
  for (size_t r = 0; r < a.rows.size() && r < max_rows; ++r) {
    out += "  ";
    for (size_t c = 0; c < a.rows[r].size(); ++c) {
      out += (c > 0 ? " | " : "") + FormatCell(a.rows[r][c]);
    }
    out += "\n";
  }
  if (a.rows.size() > max_rows) out += "  ...\n";
  return out;
}

// Empty when the answers agree, else what differs. Sorts unordered answers in place.
std::string Diff(Answer* seaway, Answer* sqlite, bool ordered) {
  if (!seaway->error.empty() || !sqlite->error.empty()) {
    return !sqlite->error.empty() ? "SQLite rejected the query (a generator bug)"
                                  : "Seaway rejected a query of the shared subset";
  }
  if (seaway->columns != sqlite->columns) {
    return fmt::format("{} columns in Seaway, {} in SQLite", seaway->columns, sqlite->columns);
  }
  if (!ordered) {
    std::sort(seaway->rows.begin(), seaway->rows.end(), RowLess);
    std::sort(sqlite->rows.begin(), sqlite->rows.end(), RowLess);
  }
  if (seaway->rows.size() != sqlite->rows.size()) {
    return fmt::format("{} rows in Seaway, {} in SQLite", seaway->rows.size(), sqlite->rows.size());
  }
  for (size_t r = 0; r < seaway->rows.size(); ++r) {
    for (size_t c = 0; c < seaway->columns; ++c) {
      if (!CellsEqual(seaway->rows[r][c], sqlite->rows[r][c])) {
        return fmt::format("row {} column {}: Seaway {}, SQLite {}{}", r, c,
                           FormatCell(seaway->rows[r][c]), FormatCell(sqlite->rows[r][c]),
                           ordered ? "" : " (rows sorted)");
      }
    }
  }
  return "";
}

// --- Engines ---------------------------------------------------------------------------------

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// One dataset stored in a fresh Seaway engine (on MemoryEnv) and a fresh SQLite database.
class Engines {
 public:
  // Fails the test (fatally) if the data cannot be stored.
  void Load(const Dataset& data) {
    ASSERT_NO_FATAL_FAILURE(OpenSeaway());
    size_t begin = 0;
    std::vector<size_t> ends = data.flush_after;
    ends.push_back(data.rows.size());
    for (size_t end : ends) {
      LineProtocolOptions opts;
      opts.tenant = kTenant;
      auto parsed = ParseLineProtocol(ToLineProtocol(data, begin, end), opts);
      ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].message;
      for (const auto& batch : parsed.batches) ASSERT_TRUE(engine_->Write(batch).ok());
      if (end != data.rows.size()) {
        ASSERT_TRUE(engine_->Flush().ok());
      }
      begin = end;
    }
    if (data.restart) {
      engine_->Close();
      queries_.reset();
      engine_.reset();
      ASSERT_NO_FATAL_FAILURE(OpenSeaway());
    }

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite_.reset(db);
    ASSERT_NO_FATAL_FAILURE(Exec("PRAGMA case_sensitive_like = ON"));
    for (const std::string& sql : SqliteSchema(data)) ASSERT_NO_FATAL_FAILURE(Exec(sql));
    ASSERT_NO_FATAL_FAILURE(Exec("BEGIN"));
    std::vector<Statement> inserts;
    for (const TableDef& def : data.tables) inserts.push_back(Prepare(UpsertSql(def)));
    for (const WriteRow& row : data.rows) {
      const TableDef& def = data.tables[row.table];
      sqlite3_stmt* st = inserts[row.table].get();
      ASSERT_NE(st, nullptr);
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      sqlite3_bind_int64(st, 1, row.time);
      std::string series_key;
      for (size_t c = 1; c < def.columns.size(); ++c) {
        const int at = static_cast<int>(c) + 1;
        if (!row.cells[c]) continue;  // NULL
        const FieldValue& v = *row.cells[c];
        if (const auto* d = std::get_if<double>(&v)) {
          sqlite3_bind_double(st, at, *d);
        } else if (const auto* i = std::get_if<int64_t>(&v)) {
          sqlite3_bind_int64(st, at, *i);
        } else if (const auto* b = std::get_if<bool>(&v)) {
          sqlite3_bind_int64(st, at, *b ? 1 : 0);
        } else {
          const auto& s = std::get<std::string>(v);
          sqlite3_bind_text(st, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
          if (def.columns[c].tag) series_key += def.columns[c].name + "=" + s + ",";
        }
      }
      sqlite3_bind_text(st, static_cast<int>(def.columns.size()) + 1, series_key.data(),
                        static_cast<int>(series_key.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(sqlite_.get());
    }
    ASSERT_NO_FATAL_FAILURE(Exec("COMMIT"));
  }

  Answer RunSeaway(const std::string& sql) const {
    Answer a;
    query::QueryOptions options;
    options.tenant = kTenant;
    auto r = queries_->Execute(sql, options);
    if (!r.ok()) {
      a.error = r.status().ToString();
      return a;
    }
    a.columns = r->columns.size();
    for (const auto& chunk : r->chunks) {
      for (size_t row = 0; row < chunk.rows; ++row) {
        Row out;
        for (const auto& column : chunk.columns) {
          const query::Value v = column.Get(row);
          Cell c;
          if (v.is_null) {
            c.kind = Cell::kNull;
          } else if (v.type == query::SqlType::kDouble) {
            c.kind = Cell::kReal;
            c.d = v.d;
          } else if (v.type == query::SqlType::kText) {
            c.kind = Cell::kText;
            c.s = v.s;
          } else if (v.type == query::SqlType::kInterval) {
            c.kind = Cell::kText;  // never generated; shows up as a mismatch
            c.s = v.ToString();
          } else {
            c.kind = Cell::kInt;  // BOOLEAN 0/1, BIGINT, UBIGINT, TIMESTAMP nanoseconds
            c.i = v.i;
          }
          out.push_back(std::move(c));
        }
        a.rows.push_back(std::move(out));
      }
    }
    return a;
  }

  Answer RunSqlite(const std::string& sql) const {
    Answer a;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(sqlite_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      a.error = sqlite3_errmsg(sqlite_.get());
      return a;
    }
    Statement st(raw);
    a.columns = static_cast<size_t>(sqlite3_column_count(raw));
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      Row out;
      for (int c = 0; c < static_cast<int>(a.columns); ++c) {
        Cell cell;
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_NULL: cell.kind = Cell::kNull; break;
          case SQLITE_INTEGER:
            cell.kind = Cell::kInt;
            cell.i = sqlite3_column_int64(raw, c);
            break;
          case SQLITE_FLOAT:
            cell.kind = Cell::kReal;
            cell.d = sqlite3_column_double(raw, c);
            break;
          default:
            cell.kind = Cell::kText;
            cell.s.assign(reinterpret_cast<const char*>(sqlite3_column_text(raw, c)),
                          static_cast<size_t>(sqlite3_column_bytes(raw, c)));
            break;
        }
        out.push_back(std::move(cell));
      }
      a.rows.push_back(std::move(out));
    }
    if (rc != SQLITE_DONE) {
      a.error = sqlite3_errmsg(sqlite_.get());
      a.rows.clear();
    }
    return a;
  }

 private:
  void OpenSeaway() {
    auto engine = Engine::Open(&env_, "db", EngineOptions{}, &metrics_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    queries_ = std::make_unique<query::QueryEngine>(engine_.get(), &clock_);
  }

  static std::string UpsertSql(const TableDef& def) {
    std::string names, params, updates;
    for (size_t c = 0; c < def.columns.size(); ++c) {
      names += def.columns[c].name + ", ";
      params += fmt::format("?{}, ", c + 1);
      if (c > 0 && !def.columns[c].tag) {
        // A rewrite of (series, time) replaces the fields it gives and keeps the others.
        updates += fmt::format("{}{} = coalesce(excluded.{}, {})", updates.empty() ? "" : ", ",
                               def.columns[c].name, def.columns[c].name, def.columns[c].name);
      }
    }
    return fmt::format(
        "INSERT INTO {} ({}sk) VALUES ({}?{}) ON CONFLICT (sk, time) DO UPDATE SET {}", def.name,
        names, params, def.columns.size() + 1, updates);
  }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(sqlite_.get(), sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
  }

  Statement Prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(sqlite_.get(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(sqlite_.get());
    }
    return Statement(st);
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_{Timestamp::FromNanos(1'767'225'600'000'000'000)};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<query::QueryEngine> queries_;
  std::unique_ptr<sqlite3, SqliteCloser> sqlite_;
};

// --- Settings --------------------------------------------------------------------------------

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// splitmix64 of the seed and a position: independent streams per dataset and per query.
uint64_t Mix(uint64_t seed, uint64_t dataset, uint64_t query) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL ^ (dataset + 1) * 0xBF58476D1CE4E5B9ULL ^
               (query + 1) * 0x94D049BB133111EBULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
constexpr uint64_t kDataStream = ~uint64_t{0};

std::string DumpRecord(const Dataset& data) {
  return "write\n" + ToLineProtocol(data, 0, data.rows.size()) + "\n";
}

// --- Tests -----------------------------------------------------------------------------------

TEST(SqlDifferentialTest, RandomQueriesAgreeWithSqlite) {
  const uint64_t seed = EnvNumber("SEAWAY_DIFF_SEED", kDefaultSeed);
  const uint64_t total = EnvNumber("SEAWAY_DIFF_QUERIES", 500);
  const uint64_t per_dataset = std::max<uint64_t>(1, EnvNumber("SEAWAY_DIFF_PER_DATASET", 250));
  const uint64_t max_failures = EnvNumber("SEAWAY_DIFF_MAX_FAILURES", 10);
  const char* replay = std::getenv("SEAWAY_DIFF_REPLAY");
  const char* dump = std::getenv("SEAWAY_DIFF_DUMP");
  const bool verbose = EnvNumber("SEAWAY_DIFF_VERBOSE", 0) != 0;
  uint64_t only_dataset = 0, only_query = 0;
  const bool replaying = replay != nullptr && *replay != '\0';
  if (replaying) {
    ASSERT_EQ(std::sscanf(replay, "%lu:%lu", &only_dataset, &only_query), 2)
        << "SEAWAY_DIFF_REPLAY wants DATASET:QUERY";
  }

  uint64_t run = 0, failures = 0, with_rows = 0, rows_compared = 0;
  for (uint64_t d = 0; run < total && failures < max_failures; ++d) {
    if (replaying && d != only_dataset) continue;
    const Dataset data = MakeDataset(Mix(seed, d, kDataStream));
    if (dump != nullptr && *dump != '\0') {
      std::ofstream(dump, std::ios::app) << DumpRecord(data);
    }
    Engines engines;
    ASSERT_NO_FATAL_FAILURE(engines.Load(data));
    for (uint64_t q = 0; q < per_dataset && run < total && failures < max_failures; ++q) {
      if (replaying && q != only_query) continue;
      Query query = GenerateQuery(data, Mix(seed, d, q));
      if (const char* sql = std::getenv("SEAWAY_DIFF_SQL"); replaying && sql != nullptr) {
        query = Query{sql, sql, false};
      }
      Answer sw = engines.RunSeaway(query.seaway);
      Answer lite = engines.RunSqlite(query.sqlite);
      ++run;
      const std::string diff = Diff(&sw, &lite, query.ordered);
      if (verbose) {
        std::printf("%lu:%lu %zu rows: %s\n", d, q, sw.rows.size(), query.seaway.c_str());
      }
      if (replaying) {
        std::printf("Seaway:  %s\n%sSQLite:  %s\n%s", query.seaway.c_str(),
                    FormatAnswer(sw, 1000).c_str(), query.sqlite.c_str(),
                    FormatAnswer(lite, 1000).c_str());
      }
      if (!diff.empty()) {
        ++failures;
        ADD_FAILURE() << "mismatch: " << diff << "\nrepro: SEAWAY_DIFF_SEED=" << seed
                      << " SEAWAY_DIFF_PER_DATASET=" << per_dataset << " SEAWAY_DIFF_REPLAY=" << d
                      << ":" << q << "\nSeaway query:\n  " << query.seaway << "\nSeaway answer:\n"
                      << FormatAnswer(sw) << "SQLite query:\n  " << query.sqlite
                      << "\nSQLite answer:\n"
                      << FormatAnswer(lite);
        continue;
      }
      with_rows += sw.rows.empty() ? 0 : 1;
      rows_compared += sw.rows.size();
    }
    if (replaying) break;
  }
  std::printf("differential: seed %lu, %lu queries, %lu mismatches, %lu with rows, %lu rows\n",
              seed, run, failures, with_rows, rows_compared);
  // A generator whose queries mostly return nothing would prove little.
  if (!replaying && failures == 0) {
    EXPECT_GE(with_rows * 3, run) << "too many empty answers";
  }
}

// The comparison itself: what must count as equal and what must not.
TEST(SqlDifferentialTest, ComparisonRules) {
  auto answer = [](std::vector<Row> rows) {
    Answer a;
    a.columns = rows.empty() ? 1 : rows[0].size();
    a.rows = std::move(rows);
    return a;
  };
  auto i = [](int64_t v) { return Cell{Cell::kInt, v, 0, ""}; };
  auto d = [](double v) { return Cell{Cell::kReal, 0, v, ""}; };
  auto t = [](std::string v) { return Cell{Cell::kText, 0, 0, std::move(v)}; };
  const Cell null;
  auto diff = [](Answer a, Answer b, bool ordered) { return Diff(&a, &b, ordered); };

  EXPECT_EQ(diff(answer({{i(3)}}), answer({{d(3.0)}}), true), "");
  EXPECT_EQ(diff(answer({{d(0.1 + 0.2)}}), answer({{d(0.3)}}), true), "");
  EXPECT_EQ(diff(answer({{null}}), answer({{null}}), true), "");
  EXPECT_NE(diff(answer({{null}}), answer({{i(0)}}), true), "");
  EXPECT_NE(diff(answer({{i(1)}}), answer({{i(2)}}), true), "");
  EXPECT_NE(diff(answer({{d(1.0)}}), answer({{d(1.0001)}}), true), "");
  EXPECT_NE(diff(answer({{t("1")}}), answer({{i(1)}}), true), "");
  EXPECT_NE(diff(answer({{t("a")}}), answer({{t("A")}}), true), "");
  EXPECT_NE(diff(answer({{i(1)}}), answer({{i(1)}, {i(1)}}), false), "");
  // Order matters only when the query orders every column.
  EXPECT_NE(diff(answer({{i(1)}, {i(2)}}), answer({{i(2)}, {i(1)}}), true), "");
  EXPECT_EQ(diff(answer({{i(1)}, {null}}), answer({{null}, {i(1)}}), false), "");
  Answer error;
  error.error = "boom";
  EXPECT_NE(diff(error, answer({{i(1)}}), true), "");
}

// Both engines hold the same rows: every table's count and a few sums over the raw data.
TEST(SqlDifferentialTest, DataLoadsAlike) {
  const Dataset data = MakeDataset(Mix(kDefaultSeed, 0, kDataStream));
  Engines engines;
  ASSERT_NO_FATAL_FAILURE(engines.Load(data));
  for (const char* sql :
       {"SELECT count(*), count(v), count(i), count(b), count(s), count(site), sum(v), sum(i), "
        "count(DISTINCT host) FROM cpu",
        "SELECT count(*), count(w), count(j), count(n), sum(w), sum(j) FROM mem",
        "SELECT count(*), count(x), count(k), count(c), count(zone), sum(x) FROM env"}) {
    Answer sw = engines.RunSeaway(sql);
    Answer lite = engines.RunSqlite(sql);
    EXPECT_EQ(Diff(&sw, &lite, true), "") << sql << "\n" << FormatAnswer(sw) << FormatAnswer(lite);
  }
}

}  // namespace
}  // namespace seaway::difftest
