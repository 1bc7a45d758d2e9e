// The shared SQLite connection of the platform's stores (src/platform/sqlite_database.h).
#include "platform/sqlite_database.h"

namespace seaway {

Result<std::shared_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = IOError("metadata store '{}': {}", path, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return s;
  }
  std::shared_ptr<SqliteDatabase> out(new SqliteDatabase(db, path));
  std::lock_guard lock(out->mu());
  SW_RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL;"
                               "PRAGMA synchronous=FULL;"
                               "PRAGMA foreign_keys=ON;"
                               "PRAGMA busy_timeout=5000;")
                         .WithContext(path));
  return out;
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

Status SqliteDatabase::Exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Status s = IOError("metadata store: {}", message ? message : "unknown error");
    sqlite3_free(message);
    return s;
  }
  return Status::OK();
}

Status SqliteDatabase::Error(std::string_view what) {
  return IOError("metadata store: {}: {}", what, sqlite3_errmsg(db_));
}

void BindText(sqlite3_stmt* st, int index, std::string_view text) {
  sqlite3_bind_text(st, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void BindId(sqlite3_stmt* st, int index, uint64_t id) {
  sqlite3_bind_int64(st, index, static_cast<sqlite3_int64>(id));
}

void BindOptionalId(sqlite3_stmt* st, int index, std::optional<uint64_t> id) {
  if (id) {
    BindId(st, index, *id);
  } else {
    sqlite3_bind_null(st, index);
  }
}

std::optional<uint64_t> ColumnId(sqlite3_stmt* st, int column) {
  if (sqlite3_column_type(st, column) == SQLITE_NULL) return std::nullopt;
  return static_cast<uint64_t>(sqlite3_column_int64(st, column));
}

std::string_view ColumnText(sqlite3_stmt* st, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, column));
  return text == nullptr
             ? std::string_view()
             : std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(st, column)));
}

Status ValidateObjectName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("{} name must be 1 to 64 bytes, got {}", what, name.size());
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '@';
    if (!ok) {
      return InvalidArgument("{} name '{}': only letters, digits, '-', '_', '.' and '@'", what,
                             name);
    }
  }
  return Status::OK();
}

}  // namespace seaway
