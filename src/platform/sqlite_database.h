// SqliteDatabase: the platform's one SQLite connection (DATA_DIR/metadata.db) with the mutex
// that serialises its use, shared by the stores kept in it (src/platform): the MetadataStore
// (tenants, customers, users, devices, tokens) and the stores that join it (assets, thing
// models, twins). One connection means one transaction domain: a store's foreign keys may name
// another store's tables (an asset's devices), and ":memory:" databases work in tests.
//
// Also the small binding helpers the stores share, and the naming rule for platform objects.
//
// Thread-safe: callers hold mu() around every use of db().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "common/result.h"

namespace seaway {

class SqliteDatabase {
 public:
  // Opens (creating when absent) the database at `path` (":memory:" for tests) with WAL,
  // synchronous=FULL and foreign keys on.
  static Result<std::shared_ptr<SqliteDatabase>> Open(const std::string& path);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  std::mutex& mu() { return mu_; }
  // REQUIRES: mu() held.
  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }

  // Runs `sql` (one or more statements). REQUIRES: mu() held.
  Status Exec(std::string_view sql);
  // IOError "metadata store: <what>: <SQLite's message>". REQUIRES: mu() held.
  Status Error(std::string_view what);

 private:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  std::mutex mu_;
  sqlite3* const db_;
  const std::string path_;
};

// Binding and reading helpers.
void BindText(sqlite3_stmt* st, int index, std::string_view text);
void BindId(sqlite3_stmt* st, int index, uint64_t id);
// Binds NULL for nullopt.
void BindOptionalId(sqlite3_stmt* st, int index, std::optional<uint64_t> id);
std::optional<uint64_t> ColumnId(sqlite3_stmt* st, int column);
std::string_view ColumnText(sqlite3_stmt* st, int column);

// Names of customers, users, devices, assets and models: 1..64 bytes of letters, digits, '-',
// '_', '.' and '@'. InvalidArgument "<what> name ..." otherwise.
Status ValidateObjectName(std::string_view what, std::string_view name);

}  // namespace seaway
