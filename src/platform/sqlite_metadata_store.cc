// MetadataStore over SQLite, and token hashing (src/platform).
#include <mutex>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "platform/metadata_store.h"
#include "platform/sqlite_statement.h"

namespace seaway {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

Status ValidateTenantName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("tenant name must be 1 to 64 bytes, got {}", name.size());
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return InvalidArgument("tenant name '{}': only letters, digits, '-', '_' and '.'", name);
    }
  }
  return Status::OK();
}

class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(sqlite3* db) : db_(db) {}
  ~SqliteMetadataStore() override { sqlite3_close(db_); }

  Status Init() {
    return Exec(
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "PRAGMA foreign_keys=ON;"
        "CREATE TABLE IF NOT EXISTS tenants("
        "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ns INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS tokens("
        "  hash TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  description TEXT NOT NULL, created_ns INTEGER NOT NULL);");
  }

  Result<TenantId> CreateTenant(std::string_view name) override {
    SW_RETURN_IF_ERROR(ValidateTenantName(name));
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, "INSERT INTO tenants(name, created_ns) VALUES(?1, ?2)");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_text(st.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 2, Clock::Real()->Now().nanos());
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) return AlreadyExists("tenant '{}' already exists", name);
    if (rc != SQLITE_DONE) return Error("create tenant");
    return TenantId(static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)));
  }

  Result<TenantId> FindTenant(std::string_view name) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, "SELECT id FROM tenants WHERE name = ?1");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_text(st.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
    if (rc == SQLITE_DONE) return NotFound("tenant '{}' does not exist", name);
    return Error("find tenant");
  }

  Status AddToken(TenantId tenant, std::string_view token, std::string_view description) override {
    if (token.size() < 16) return InvalidArgument("a token must be at least 16 bytes");
    const std::string hash = HashToken(token);
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "INSERT INTO tokens(hash, tenant_id, description, created_ns) "
                       "VALUES(?1, ?2, ?3, ?4)");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_text(st.get(), 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(tenant.value()));
    sqlite3_bind_text(st.get(), 3, description.data(), static_cast<int>(description.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 4, Clock::Real()->Now().nanos());
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      // Either the token exists or the tenant does not (foreign key).
      SqliteStatement q(db_, "SELECT 1 FROM tokens WHERE hash = ?1");
      sqlite3_bind_text(q.get(), 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
      if (q.ok() && sqlite3_step(q.get()) == SQLITE_ROW) {
        return AlreadyExists("the token is registered already");
      }
      return NotFound("tenant {} does not exist", tenant);
    }
    if (rc != SQLITE_DONE) return Error("add token");
    return Status::OK();
  }

  Result<TenantId> Authenticate(std::string_view token) override {
    const std::string hash = HashToken(token);
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, "SELECT tenant_id FROM tokens WHERE hash = ?1");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_text(st.get(), 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
    if (rc == SQLITE_DONE) return Unauthenticated("invalid token");
    return Error("authenticate");
  }

 private:
  Status Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Status s = IOError("metadata store: {}", message ? message : "unknown error");
      sqlite3_free(message);
      return s;
    }
    return Status::OK();
  }
  Status Error(std::string_view what) {
    return IOError("metadata store: {}: {}", what, sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  sqlite3* const db_;
};

}  // namespace

std::string HashToken(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

Result<std::string> NewRandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Internal("the system random generator failed");
  }
  return Hex(bytes, sizeof(bytes));
}

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = IOError("metadata store '{}': {}", path, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return s;
  }
  auto store = std::make_unique<SqliteMetadataStore>(db);
  SW_RETURN_IF_ERROR(store->Init().WithContext(path));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace seaway
