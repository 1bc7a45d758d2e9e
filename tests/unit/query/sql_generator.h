// Random data and random queries for the SQLite differential test (tests/unit/query).
//
// A Dataset is a few tables of a fixed schema filled with random rows: tags (some missing),
// fields of every type (some missing), late and out-of-order times, and rewrites of an existing
// (series, time) that give some of the fields again. The test stores it in Seaway through line
// protocol and in SQLite as plain tables (upserting rewrites, field by field, as Seaway merges
// them).
//
// GenerateQuery draws one query from a grammar of the subset both engines share and renders it
// in both dialects. Where the engines differ on purpose the generator either avoids the
// construct or renders the PostgreSQL meaning in SQLite (see the list in sql_generator.cc).
//
// Everything is a pure function of its seed: the same seed gives the same data and queries.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace seaway::difftest {

// The SQL types the generator deals in. kTime is Seaway's TIMESTAMP and an INTEGER of
// nanoseconds in SQLite.
enum class Ty { kInt, kDouble, kBool, kText, kTime };

struct ColumnDef {
  std::string name;
  Ty type;
  bool tag = false;
};

// columns[0] is `time`, then the tags, then the fields.
struct TableDef {
  std::string name;
  std::vector<ColumnDef> columns;
};

using FieldValue = std::variant<double, int64_t, bool, std::string>;

// One line of line protocol: the table's tags and fields by column index (nullopt = absent;
// time is in `time`, cells[0] is unused).
struct WriteRow {
  size_t table = 0;
  int64_t time = 0;
  std::vector<std::optional<FieldValue>> cells;
};

struct Dataset {
  std::vector<TableDef> tables;
  std::vector<WriteRow> rows;  // in write order
  // Seaway flushes its memtables after these many rows (ascending, may be empty), so that
  // queries read segments and memtables together.
  std::vector<size_t> flush_after;
  // Seaway closes and reopens the engine (recovery from WAL and segments) before the queries.
  bool restart = false;
  // Rows written per table (rewrites included), for the generator to keep joins small.
  std::vector<size_t> table_rows;
};

Dataset MakeDataset(uint64_t seed);

// Rows [begin, end) as line protocol, one line each.
std::string ToLineProtocol(const Dataset& data, size_t begin, size_t end);

// SQLite statements that create the tables (with a series key column `sk` and a unique
// (sk, time) key for upserts).
std::vector<std::string> SqliteSchema(const Dataset& data);

// One query in both dialects.
struct Query {
  std::string seaway;
  std::string sqlite;
  // ORDER BY covers every output column, so the row order is part of the answer; otherwise
  // the rows are compared as multisets.
  bool ordered = false;
};

Query GenerateQuery(const Dataset& data, uint64_t seed);

// The SQL-literal text of a double that reads back to the same value, always with a '.' or an
// exponent so that both engines type it DOUBLE.
std::string DoubleLiteral(double d);

}  // namespace seaway::difftest
