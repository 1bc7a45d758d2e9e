// MetadataStore over SQLite, and token hashing (src/platform).
#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "platform/login_limiter.h"
#include "platform/metadata_store.h"
#include "platform/password.h"
#include "platform/sqlite_database.h"
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

constexpr int64_t kSessionTtlNs = int64_t{12} * 3600 * 1'000'000'000;

class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(std::shared_ptr<SqliteDatabase> database)
      : database_(std::move(database)),
        mu_(database_->mu()),
        db_(database_->db()),
        limiter_(Clock::Real()) {
    std::lock_guard lock(mu_);
    sqlite3_update_hook(db_, &SqliteMetadataStore::OnRowChange, this);
  }
  ~SqliteMetadataStore() override {
    std::lock_guard lock(mu_);
    sqlite3_update_hook(db_, nullptr, nullptr);  // the connection may outlive the store
  }

  // Schema versions (PRAGMA user_version): 1 tenants and tokens; 2 customers, users, and
  // tokens of users with an expiry; 3 devices and their tokens; 4 token scopes; 5 tenant
  // settings, customer quotas, system and session tokens; 6 device passwords and certificates,
  // provisioning keys.
  Status Init() {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(
        Exec("CREATE TABLE IF NOT EXISTS tenants("
             "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ns INTEGER NOT NULL);"
             "CREATE TABLE IF NOT EXISTS tokens("
             "  hash TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
             "  description TEXT NOT NULL, created_ns INTEGER NOT NULL);"));
    int version = 0;
    {
      SqliteStatement st(db_, "PRAGMA user_version");
      if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return Error("schema version");
      version = sqlite3_column_int(st.get(), 0);
    }
    Status upgraded = Upgrade(version);
    // sqlite3_exec stops at the first failing statement, BEGIN still open.
    if (!upgraded.ok() && !sqlite3_get_autocommit(db_)) (void)Exec("ROLLBACK");
    return upgraded;
  }

  Status Upgrade(int version) {
    if (version < 2) SW_RETURN_IF_ERROR(UpgradeToVersion2());
    if (version < 3) SW_RETURN_IF_ERROR(UpgradeToVersion3());
    if (version < 4) SW_RETURN_IF_ERROR(UpgradeToVersion4());
    if (version < 5) SW_RETURN_IF_ERROR(UpgradeToVersion5());
    if (version < 6) SW_RETURN_IF_ERROR(UpgradeToVersion6());
    if (version < 7) SW_RETURN_IF_ERROR(UpgradeToVersion7());
    return Status::OK();
  }

  // Deleted tenants: their ids are never given again (the engine's data is keyed by them), and
  // the server drops what is left of them outside this store at every start.
  Status UpgradeToVersion7() {
    return Exec(
        "BEGIN;"
        "CREATE TABLE deleted_tenants("
        "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, deleted_ns INTEGER NOT NULL);"
        "PRAGMA user_version=7;"
        "COMMIT;");
  }

  // Device passwords and certificates, provisioning keys.
  Status UpgradeToVersion6() {
    return Exec(
        "BEGIN;"
        "CREATE TABLE device_passwords("
        "  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
        "  username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, created_ns INTEGER NOT "
        "NULL);"
        "CREATE TABLE device_certificates("
        "  sha256 TEXT PRIMARY KEY,"
        "  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
        "  created_ns INTEGER NOT NULL);"
        "CREATE INDEX device_certificates_by_device ON device_certificates(device_id);"
        "CREATE TABLE provisioning_keys("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  name TEXT NOT NULL, key TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL,"
        "  customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,"
        "  model TEXT NOT NULL DEFAULT '', max_devices INTEGER,"
        "  provisioned INTEGER NOT NULL DEFAULT 0, created_ns INTEGER NOT NULL,"
        "  UNIQUE(tenant_id, name));"
        "PRAGMA user_version=6;"
        "COMMIT;");
  }

  // Tenant settings, customer quotas, and token kinds (the default tenant's first admin tokens
  // become system tokens).
  Status UpgradeToVersion5() {
    return Exec(
        "BEGIN;"
        "ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE customers ADD COLUMN quotas TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE tokens ADD COLUMN system INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE tokens ADD COLUMN session INTEGER NOT NULL DEFAULT 0;"
        "UPDATE tokens SET system = 1 WHERE user_id IS NULL"
        "  AND description IN ('admin', 'admin (SEAWAY_ADMIN_TOKEN)')"
        "  AND tenant_id = (SELECT id FROM tenants WHERE name = 'default');"
        "UPDATE tokens SET session = 1 WHERE user_id IS NOT NULL"
        "  AND description LIKE 'session of %';"
        "PRAGMA user_version=5;"
        "COMMIT;");
  }

  Status UpgradeToVersion4() {
    return Exec(
        "BEGIN;"
        "ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';"
        "PRAGMA user_version=4;"
        "COMMIT;");
  }

  Status UpgradeToVersion3() {
    return Exec(
        "BEGIN;"
        "CREATE TABLE devices("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  customer_id INTEGER REFERENCES customers(id), name TEXT NOT NULL,"
        "  created_ns INTEGER NOT NULL, UNIQUE(tenant_id, name));"
        "CREATE TABLE device_tokens("
        "  hash TEXT PRIMARY KEY,"
        "  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
        "  created_ns INTEGER NOT NULL);"
        "PRAGMA user_version=3;"
        "COMMIT;");
  }

  Status UpgradeToVersion2() {
    return Exec(
        "BEGIN;"
        "CREATE TABLE customers("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  parent_id INTEGER REFERENCES customers(id), name TEXT NOT NULL,"
        "  created_ns INTEGER NOT NULL, UNIQUE(tenant_id, name));"
        "CREATE TABLE users("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  customer_id INTEGER REFERENCES customers(id), name TEXT NOT NULL, role TEXT NOT NULL,"
        "  password_hash TEXT NOT NULL, created_ns INTEGER NOT NULL, UNIQUE(tenant_id, name));"
        "ALTER TABLE tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;"
        "ALTER TABLE tokens ADD COLUMN expires_ns INTEGER NOT NULL DEFAULT 0;"
        "PRAGMA user_version=2;"
        "COMMIT;");
  }

  Result<TenantId> CreateTenant(std::string_view name) override {
    SW_RETURN_IF_ERROR(ValidateTenantName(name));
    std::lock_guard lock(mu_);
    // Never the id of a deleted tenant (its data may still be being dropped).
    SqliteStatement st(db_,
                       "INSERT INTO tenants(id, name, created_ns) VALUES("
                       " 1 + MAX(COALESCE((SELECT MAX(id) FROM tenants), 0),"
                       "         COALESCE((SELECT MAX(id) FROM deleted_tenants), 0)), ?1, ?2)");
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

  Status AddToken(TenantId tenant, std::string_view token, std::string_view description,
                  TokenKind kind) override {
    if (token.size() < 16) return InvalidArgument("a token must be at least 16 bytes");
    const std::string hash = HashToken(token);
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "INSERT INTO tokens(hash, tenant_id, description, created_ns, system) "
                       "VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_text(st.get(), 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(tenant.value()));
    sqlite3_bind_text(st.get(), 3, description.data(), static_cast<int>(description.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 4, Clock::Real()->Now().nanos());
    sqlite3_bind_int64(st.get(), 5, kind == TokenKind::kSystem ? 1 : 0);
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
    SW_ASSIGN_OR_RETURN(const Principal who, AuthenticatePrincipal(token));
    return who.tenant;
  }

  Result<Principal> AuthenticatePrincipal(std::string_view token) override {
    const std::string hash = HashToken(token);
    std::lock_guard lock(mu_);
    if (auto it = principals_.find(hash); it != principals_.end()) {
      const int64_t expires = it->second.expires_ns;
      if (expires != 0 && expires <= Clock::Real()->Now().nanos()) {
        return Unauthenticated("invalid token");
      }
      return it->second.who;
    }
    SqliteStatement st(db_,
                       "SELECT t.tenant_id, t.user_id, t.expires_ns, u.role, u.customer_id, "
                       "t.scopes, t.system FROM tokens t LEFT JOIN users u ON u.id = t.user_id "
                       "WHERE t.hash = ?1");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, hash);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return Unauthenticated("invalid token");
    if (rc != SQLITE_ROW) return Error("authenticate");
    const int64_t expires = sqlite3_column_int64(st.get(), 2);
    if (expires != 0 && expires <= Clock::Real()->Now().nanos()) {
      return Unauthenticated("invalid token");
    }
    Principal who;
    who.tenant = TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
    if (auto user = ColumnId(st.get(), 1)) {
      who.user = UserId(*user);
      auto role = ParseRole(ColumnText(st.get(), 3));
      if (!role.ok()) return Unauthenticated("invalid token");
      who.role = *role;
      if (auto customer = ColumnId(st.get(), 4)) who.customer = CustomerId(*customer);
    }
    auto scopes = ParseScopes(ColumnText(st.get(), 5));
    if (!scopes.ok()) return Unauthenticated("invalid token");
    who.scopes = std::move(*scopes);
    who.system = !who.user && sqlite3_column_int64(st.get(), 6) != 0;
    if (principals_.size() >= kMaxCachedPrincipals) principals_.clear();
    principals_.emplace(hash, CachedPrincipal{who, expires});
    return who;
  }

  Result<CustomerId> CreateCustomer(TenantId tenant, std::string_view name,
                                    std::optional<CustomerId> parent) override {
    SW_RETURN_IF_ERROR(ValidateObjectName("customer", name));
    std::lock_guard lock(mu_);
    if (parent) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *parent, "parent"));
    SqliteStatement st(db_,
                       "INSERT INTO customers(tenant_id, parent_id, name, created_ns) "
                       "VALUES(?1, ?2, ?3, ?4)");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
    if (parent) sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(parent->value()));
    BindText(st.get(), 3, name);
    sqlite3_bind_int64(st.get(), 4, Clock::Real()->Now().nanos());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      return Taken(tenant, fmt::format("customer '{}'", name), "customers' names");
    }
    if (rc != SQLITE_DONE) return Error("create customer");
    return CustomerId(static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)));
  }

  Result<std::vector<CustomerInfo>> ListCustomers(TenantId tenant) override {
    std::lock_guard lock(mu_);
    return Customers(tenant);
  }

  Result<std::vector<CustomerId>> CustomerSubtree(TenantId tenant, CustomerId root) override {
    std::lock_guard lock(mu_);
    SW_ASSIGN_OR_RETURN(const auto all, Customers(tenant));
    std::multimap<uint64_t, uint64_t> children;  // parent -> child
    bool found = false;
    for (const auto& c : all) {
      found |= c.id == root;
      if (c.parent) children.emplace(c.parent->value(), c.id.value());
    }
    if (!found) return NotFound("customer {} does not exist", root);
    std::vector<CustomerId> out{root};
    for (size_t i = 0; i < out.size(); ++i) {
      auto [begin, end] = children.equal_range(out[i].value());
      for (auto it = begin; it != end; ++it) out.push_back(CustomerId(it->second));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<UserId> CreateUser(TenantId tenant, const NewUser& user) override {
    SW_RETURN_IF_ERROR(ValidateObjectName("user", user.name));
    if (IsCustomerRole(user.role) && !user.customer) {
      return InvalidArgument("role '{}' needs a customer", RoleName(user.role));
    }
    if (!IsCustomerRole(user.role) && user.customer) {
      return InvalidArgument("role '{}' belongs to the tenant, not to a customer",
                             RoleName(user.role));
    }
    // Argon2id takes tens of milliseconds: outside the lock.
    SW_ASSIGN_OR_RETURN(const std::string hash, HashPassword(user.password));
    std::lock_guard lock(mu_);
    if (user.customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *user.customer, "user's"));
    SqliteStatement st(db_,
                       "INSERT INTO users(tenant_id, customer_id, name, role, password_hash, "
                       "created_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
    if (user.customer) {
      sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(user.customer->value()));
    }
    BindText(st.get(), 3, user.name);
    BindText(st.get(), 4, RoleName(user.role));
    BindText(st.get(), 5, hash);
    sqlite3_bind_int64(st.get(), 6, Clock::Real()->Now().nanos());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      return Taken(tenant, fmt::format("user '{}'", user.name), "users' names");
    }
    if (rc != SQLITE_DONE) return Error("create user");
    return UserId(static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)));
  }

  Result<std::vector<UserInfo>> ListUsers(TenantId tenant) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "SELECT id, customer_id, name, role FROM users WHERE tenant_id = ?1 "
                       "ORDER BY id");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
    std::vector<UserInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      UserInfo u;
      u.id = UserId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
      if (auto c = ColumnId(st.get(), 1)) u.customer = CustomerId(*c);
      u.name = std::string(ColumnText(st.get(), 2));
      SW_ASSIGN_OR_RETURN(u.role, ParseRole(ColumnText(st.get(), 3)));
      out.push_back(std::move(u));
    }
    if (rc != SQLITE_DONE) return Error("list users");
    return out;
  }

  Result<CreatedDevice> CreateDevice(TenantId tenant, const NewDevice& device) override {
    SW_ASSIGN_OR_RETURN(std::vector<CreatedDevice> created, CreateDevices(tenant, {device}));
    return std::move(created[0]);
  }

  Result<std::vector<CreatedDevice>> CreateDevices(TenantId tenant,
                                                   const std::vector<NewDevice>& devices) override {
    std::vector<CreatedDevice> created;
    std::vector<std::string> hashes;
    for (size_t i = 0; i < devices.size(); ++i) {
      Status valid = ValidateObjectName("device", devices[i].name);
      if (!valid.ok()) {
        return devices.size() == 1 ? valid
                                   : InvalidArgument("device {}: {}", i + 1, valid.message());
      }
      SW_ASSIGN_OR_RETURN(std::string token, NewRandomToken());
      hashes.push_back(HashToken(token));
      created.push_back(CreatedDevice{DeviceId(0), std::move(token)});
    }
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < devices.size(); ++i) {
      if (!devices[i].customer) continue;
      Status s = CheckCustomer(tenant, *devices[i].customer, "device's");
      if (!s.ok()) {
        return devices.size() == 1
                   ? s
                   : Status(s.code(), fmt::format("device {}: {}", i + 1, s.message()));
      }
    }
    const int64_t now = Clock::Real()->Now().nanos();
    // All or none: one transaction.
    SW_RETURN_IF_ERROR(Exec("BEGIN"));
    auto insert = [&](const NewDevice& device, const std::string& hash) -> Result<DeviceId> {
      SqliteStatement st(db_,
                         "INSERT INTO devices(tenant_id, customer_id, name, created_ns) "
                         "VALUES(?1, ?2, ?3, ?4)");
      if (!st.ok()) return Error("prepare");
      sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
      if (device.customer) {
        sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(device.customer->value()));
      }
      BindText(st.get(), 3, device.name);
      sqlite3_bind_int64(st.get(), 4, now);
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_CONSTRAINT) {
        return Taken(tenant, fmt::format("device '{}'", device.name), "devices' names");
      }
      if (rc != SQLITE_DONE) return Error("create device");
      const DeviceId id(static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)));
      SqliteStatement t(
          db_, "INSERT INTO device_tokens(hash, device_id, created_ns) VALUES(?1, ?2, ?3)");
      if (!t.ok()) return Error("prepare");
      BindText(t.get(), 1, hash);
      sqlite3_bind_int64(t.get(), 2, static_cast<sqlite3_int64>(id.value()));
      sqlite3_bind_int64(t.get(), 3, now);
      if (sqlite3_step(t.get()) != SQLITE_DONE) return Error("create device token");
      return id;
    };
    Status failed;
    for (size_t i = 0; i < devices.size() && failed.ok(); ++i) {
      Result<DeviceId> id = insert(devices[i], hashes[i]);
      if (id.ok()) {
        created[i].id = *id;
      } else {
        failed = devices.size() == 1
                     ? id.status()
                     : Status(id.status().code(),
                              fmt::format("device {}: {}", i + 1, id.status().message()));
      }
    }
    SW_RETURN_IF_ERROR(EndTransaction(failed));
    return created;
  }

  Status DeleteDevice(TenantId tenant, DeviceId id) override {
    return DeleteRow("devices", "device", tenant, id.value());
  }

  Status DeleteUser(TenantId tenant, UserId id) override {
    return DeleteRow("users", "user", tenant, id.value());
  }

  Result<std::vector<DeviceInfo>> ListDevices(TenantId tenant) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(
        db_, "SELECT id, name, customer_id FROM devices WHERE tenant_id = ?1 ORDER BY id");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
    std::vector<DeviceInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(DeviceAt(st.get(), 0));
    if (rc != SQLITE_DONE) return Error("list devices");
    return out;
  }

  Result<std::pair<TenantId, DeviceInfo>> AuthenticateDevice(std::string_view token) override {
    const std::string hash = HashToken(token);
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "SELECT d.tenant_id, d.id, d.name, d.customer_id FROM device_tokens t "
                       "JOIN devices d ON d.id = t.device_id WHERE t.hash = ?1");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, hash);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return Unauthenticated("invalid token");
    if (rc != SQLITE_ROW) return Error("authenticate device");
    return std::pair(TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0))),
                     DeviceAt(st.get(), 1));
  }

  Result<std::pair<ApiTokenInfo, std::string>> CreateApiToken(const Principal& owner,
                                                              const NewApiToken& token) override {
    if (token.description.empty() || token.description.size() > 200) {
      return InvalidArgument("a token's description must be 1 to 200 bytes, got {}",
                             token.description.size());
    }
    if (token.expires_in_ns && *token.expires_in_ns <= 0) {
      return InvalidArgument("a token's expiry must be in the future");
    }
    std::vector<Permission> asked;  // token.scopes, each once
    for (Permission p : token.scopes) {
      // An API token is never a system token (TokenKind::kSystem), so it could not use it.
      if (p == Permission::kTenantsManage) {
        return InvalidArgument(
            "scope 'tenants.manage' cannot be given to an API token: only the system token "
            "manages tenants");
      }
      if (!owner.Can(p)) {
        return PermissionDenied("scope '{}' is beyond what the token's creator may do",
                                PermissionName(p));
      }
      if (std::find(asked.begin(), asked.end(), p) == asked.end()) asked.push_back(p);
    }
    ApiTokenInfo info;
    info.user = owner.user;
    info.description = token.description;
    // A scoped creator makes only scoped tokens: at most its own scopes.
    info.scopes = asked.empty() ? owner.scopes : std::move(asked);
    std::string scopes;
    for (Permission p : info.scopes) {
      if (!scopes.empty()) scopes += ',';
      scopes += PermissionName(p);
    }
    SW_ASSIGN_OR_RETURN(std::string secret, NewRandomToken());
    const std::string hash = HashToken(secret);
    const int64_t now = Clock::Real()->Now().nanos();
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "INSERT INTO tokens(hash, tenant_id, description, created_ns, user_id, "
                       "expires_ns, scopes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, hash);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(owner.tenant.value()));
    BindText(st.get(), 3, token.description);
    sqlite3_bind_int64(st.get(), 4, now);
    if (owner.user)
      sqlite3_bind_int64(st.get(), 5, static_cast<sqlite3_int64>(owner.user->value()));
    info.created_ns = now;
    info.expires_ns = token.expires_in_ns ? now + *token.expires_in_ns : 0;
    sqlite3_bind_int64(st.get(), 6, info.expires_ns);
    BindText(st.get(), 7, scopes);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("create token");
    info.id = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));  // ListApiTokens' rowid
    return std::pair(std::move(info), std::move(secret));
  }

  Result<std::string> Login(std::string_view tenant_name, std::string_view user_name,
                            std::string_view password, std::string_view address) override {
    const std::string user_key = fmt::format("user:{}/{}", tenant_name, user_name);
    const std::string address_key = fmt::format("addr:{}", address);
    SW_RETURN_IF_ERROR(limiter_.Check(user_key, fmt::format("user '{}'", user_name)));
    SW_RETURN_IF_ERROR(limiter_.Check(address_key, fmt::format("address {}", address)));
    std::optional<std::pair<TenantId, UserId>> found;
    std::string hash;
    {
      std::lock_guard lock(mu_);
      SqliteStatement st(db_,
                         "SELECT u.tenant_id, u.id, u.password_hash FROM users u "
                         "JOIN tenants t ON t.id = u.tenant_id WHERE t.name = ?1 AND u.name = ?2");
      if (!st.ok()) return Error("prepare");
      BindText(st.get(), 1, tenant_name);
      BindText(st.get(), 2, user_name);
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_ROW) {
        found.emplace(TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0))),
                      UserId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 1))));
        hash = std::string(ColumnText(st.get(), 2));
      } else if (rc != SQLITE_DONE) {
        return Error("login");
      }
    }
    // An unknown user costs a verification too, so that timing does not tell users apart.
    if (!found) {
      SW_ASSIGN_OR_RETURN(hash, DummyHash());
    }
    SW_ASSIGN_OR_RETURN(const bool match, VerifyPassword(password, hash));
    if (!found || !match) {
      limiter_.RecordFailure(user_key);
      limiter_.RecordFailure(address_key);
      return Unauthenticated("invalid tenant, user or password");
    }
    limiter_.RecordSuccess(user_key);
    SW_ASSIGN_OR_RETURN(std::string token, NewRandomToken());
    const std::string token_hash = HashToken(token);
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "INSERT INTO tokens(hash, tenant_id, description, created_ns, user_id, "
                       "expires_ns, session) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 1)");
    if (!st.ok()) return Error("prepare");
    const int64_t now = Clock::Real()->Now().nanos();
    BindText(st.get(), 1, token_hash);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(found->first.value()));
    BindText(st.get(), 3, fmt::format("session of {}", user_name));
    sqlite3_bind_int64(st.get(), 4, now);
    sqlite3_bind_int64(st.get(), 5, static_cast<sqlite3_int64>(found->second.value()));
    sqlite3_bind_int64(st.get(), 6, now + kSessionTtlNs);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("login");
    return token;
  }

  Result<TenantInfo> GetTenant(TenantId id) override {
    std::lock_guard lock(mu_);
    SW_ASSIGN_OR_RETURN(auto tenants, Tenants(id));
    if (tenants.empty()) return NotFound("tenant {} does not exist", id);
    return std::move(tenants[0]);
  }

  Result<std::vector<TenantInfo>> ListTenants() override {
    std::lock_guard lock(mu_);
    return Tenants(std::nullopt);
  }

  Status DeleteTenant(TenantId id) override {
    std::lock_guard lock(mu_);
    std::string name;
    {
      SqliteStatement st(db_, "SELECT name FROM tenants WHERE id = ?1");
      if (!st.ok()) return Error("prepare");
      BindId(st.get(), 1, id.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) return NotFound("tenant {} does not exist", id);
      if (rc != SQLITE_ROW) return Error("find tenant");
      name = ColumnText(st.get(), 0);
    }
    // Every table of the database with a tenant_id column: this store's and those of the
    // stores sharing the database (assets, thing models, ...); rows without one (device
    // tokens, twins, ...) go with their device (ON DELETE CASCADE). Foreign keys are checked
    // at COMMIT, so the order of the tables does not matter.
    std::vector<std::string> tables;
    {
      SqliteStatement st(db_,
                         "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c"
                         " WHERE m.type = 'table' AND c.name = 'tenant_id' ORDER BY m.name");
      if (!st.ok()) return Error("prepare");
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        tables.emplace_back(ColumnText(st.get(), 0));
      }
      if (rc != SQLITE_DONE) return Error("list tables");
    }
    SW_RETURN_IF_ERROR(Exec("BEGIN; PRAGMA defer_foreign_keys = ON;"));
    Status s = [&]() -> Status {
      for (const std::string& table : tables) {
        SqliteStatement st(db_,
                           fmt::format("DELETE FROM \"{}\" WHERE tenant_id = ?1", table).c_str());
        if (!st.ok()) return Error("prepare");
        BindId(st.get(), 1, id.value());
        if (sqlite3_step(st.get()) != SQLITE_DONE) return Error(fmt::format("delete {}", table));
      }
      SqliteStatement del(db_, "DELETE FROM tenants WHERE id = ?1");
      if (!del.ok()) return Error("prepare");
      BindId(del.get(), 1, id.value());
      if (sqlite3_step(del.get()) != SQLITE_DONE) return Error("delete tenant");
      SqliteStatement retire(
          db_, "INSERT INTO deleted_tenants(id, name, deleted_ns) VALUES(?1, ?2, ?3)");
      if (!retire.ok()) return Error("prepare");
      BindId(retire.get(), 1, id.value());
      BindText(retire.get(), 2, name);
      sqlite3_bind_int64(retire.get(), 3, Clock::Real()->Now().nanos());
      if (sqlite3_step(retire.get()) != SQLITE_DONE) return Error("record deleted tenant");
      return Status::OK();
    }();
    return EndTransaction(s);
  }

  Result<std::vector<TenantId>> DeletedTenants() override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, "SELECT id FROM deleted_tenants ORDER BY id");
    if (!st.ok()) return Error("prepare");
    std::vector<TenantId> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out.emplace_back(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
    }
    if (rc != SQLITE_DONE) return Error("list deleted tenants");
    return out;
  }

  Status SetTenantSettings(TenantId id, const TenantSettings& settings) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, "UPDATE tenants SET settings = ?1 WHERE id = ?2");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, SerializeTenantSettings(settings));
    BindId(st.get(), 2, id.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("set tenant settings");
    if (sqlite3_changes(db_) == 0) return NotFound("tenant {} does not exist", id);
    return Status::OK();
  }

  Status UpdateCustomer(TenantId tenant, CustomerId id, const CustomerUpdate& update) override {
    if (update.name) SW_RETURN_IF_ERROR(ValidateObjectName("customer", *update.name));
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckCustomer(tenant, id, "the"));
    SW_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = [&]() -> Status {
      if (update.name) {
        SqliteStatement st(db_, "UPDATE customers SET name = ?1 WHERE id = ?2");
        if (!st.ok()) return Error("prepare");
        BindText(st.get(), 1, *update.name);
        BindId(st.get(), 2, id.value());
        const int rc = sqlite3_step(st.get());
        if (rc == SQLITE_CONSTRAINT) {
          return AlreadyExists("customer '{}' already exists", *update.name);
        }
        if (rc != SQLITE_DONE) return Error("rename customer");
      }
      if (update.quotas) {
        SqliteStatement st(db_, "UPDATE customers SET quotas = ?1 WHERE id = ?2");
        if (!st.ok()) return Error("prepare");
        BindText(st.get(), 1, SerializeQuotas(*update.quotas));
        BindId(st.get(), 2, id.value());
        if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("set customer quotas");
      }
      return Status::OK();
    }();
    return EndTransaction(s);
  }

  Status DeleteCustomer(TenantId tenant, CustomerId id) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "SELECT name,"
                       " (SELECT COUNT(*) FROM customers WHERE parent_id = ?1),"
                       " (SELECT COUNT(*) FROM users WHERE customer_id = ?1),"
                       " (SELECT COUNT(*) FROM devices WHERE customer_id = ?1),"
                       " (SELECT COUNT(*) FROM provisioning_keys WHERE customer_id = ?1)"
                       " FROM customers WHERE id = ?1 AND tenant_id = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return NotFound("customer {} does not exist", id);
    if (rc != SQLITE_ROW) return Error("find customer");
    const std::string name(ColumnText(st.get(), 0));
    std::string held;
    const char* kinds[] = {"sub-customer", "user", "device", "provisioning key"};
    for (int i = 0; i < 4; ++i) {
      const int64_t n = sqlite3_column_int64(st.get(), i + 1);
      if (n == 0) continue;
      held += fmt::format("{}{} {}{}", held.empty() ? "" : ", ", n, kinds[i], n == 1 ? "" : "s");
    }
    if (!held.empty()) {
      return FailedPrecondition("customer '{}' still has {}: move or delete them first", name,
                                held);
    }
    SqliteStatement del(db_, "DELETE FROM customers WHERE id = ?1 AND tenant_id = ?2");
    if (!del.ok()) return Error("prepare");
    BindId(del.get(), 1, id.value());
    BindId(del.get(), 2, tenant.value());
    const int drc = sqlite3_step(del.get());
    if (drc == SQLITE_CONSTRAINT) {
      return FailedPrecondition(
          "customer '{}' still has objects assigned to it (such as assets): move or delete them "
          "first",
          name);
    }
    if (drc != SQLITE_DONE) return Error("delete customer");
    return Status::OK();
  }

  Status UpdateUser(TenantId tenant, UserId id, const UserUpdate& update) override {
    std::optional<std::string> hash;
    if (update.password) {
      SW_ASSIGN_OR_RETURN(hash, HashPassword(*update.password));  // outside the lock
    }
    std::lock_guard lock(mu_);
    SqliteStatement find(db_,
                         "SELECT role, customer_id FROM users WHERE id = ?1 AND tenant_id = ?2");
    if (!find.ok()) return Error("prepare");
    BindId(find.get(), 1, id.value());
    BindId(find.get(), 2, tenant.value());
    const int rc = sqlite3_step(find.get());
    if (rc == SQLITE_DONE) return NotFound("user {} does not exist", id);
    if (rc != SQLITE_ROW) return Error("find user");
    SW_ASSIGN_OR_RETURN(Role role, ParseRole(ColumnText(find.get(), 0)));
    std::optional<CustomerId> customer;
    if (auto c = ColumnId(find.get(), 1)) customer = CustomerId(*c);
    if (update.role) role = *update.role;
    if (update.customer) customer = *update.customer;
    if (IsCustomerRole(role) && !customer) {
      return InvalidArgument("role '{}' needs a customer", RoleName(role));
    }
    if (!IsCustomerRole(role) && customer) {
      return InvalidArgument("role '{}' belongs to the tenant, not to a customer", RoleName(role));
    }
    if (customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *customer, "user's"));
    SW_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = [&]() -> Status {
      SqliteStatement st(db_,
                         "UPDATE users SET role = ?1, customer_id = ?2, "
                         "password_hash = COALESCE(?3, password_hash) WHERE id = ?4");
      if (!st.ok()) return Error("prepare");
      BindText(st.get(), 1, RoleName(role));
      BindOptionalId(st.get(), 2, customer ? std::optional(customer->value()) : std::nullopt);
      if (hash) BindText(st.get(), 3, *hash);
      BindId(st.get(), 4, id.value());
      if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("update user");
      if (update.role || update.customer || update.password) {
        // A changed role, customer or password ends the sessions signed in under the old one.
        SqliteStatement end(db_, "DELETE FROM tokens WHERE user_id = ?1 AND session = 1");
        if (!end.ok()) return Error("prepare");
        BindId(end.get(), 1, id.value());
        if (sqlite3_step(end.get()) != SQLITE_DONE) return Error("end sessions");
      }
      return Status::OK();
    }();
    return EndTransaction(s);
  }

  Status SetDeviceCustomer(TenantId tenant, DeviceId id,
                           std::optional<CustomerId> customer) override {
    std::lock_guard lock(mu_);
    if (customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *customer, "device's"));
    SqliteStatement st(db_, "UPDATE devices SET customer_id = ?1 WHERE id = ?2 AND tenant_id = ?3");
    if (!st.ok()) return Error("prepare");
    BindOptionalId(st.get(), 1, customer ? std::optional(customer->value()) : std::nullopt);
    BindId(st.get(), 2, id.value());
    BindId(st.get(), 3, tenant.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("assign device");
    if (sqlite3_changes(db_) == 0) return NotFound("device {} does not exist", id);
    return Status::OK();
  }

  Result<std::vector<ApiTokenInfo>> ListApiTokens(TenantId tenant,
                                                  std::optional<UserId> user) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "SELECT rowid, user_id, description, scopes, created_ns, expires_ns, "
                       "session, system FROM tokens WHERE tenant_id = ?1 "
                       "AND (?2 IS NULL OR user_id = ?2) AND (expires_ns = 0 OR expires_ns > ?3) "
                       "ORDER BY rowid");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindOptionalId(st.get(), 2, user ? std::optional(user->value()) : std::nullopt);
    sqlite3_bind_int64(st.get(), 3, Clock::Real()->Now().nanos());
    std::vector<ApiTokenInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      ApiTokenInfo t;
      t.id = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
      if (auto u = ColumnId(st.get(), 1)) t.user = UserId(*u);
      t.description = std::string(ColumnText(st.get(), 2));
      SW_ASSIGN_OR_RETURN(t.scopes, ParseScopes(ColumnText(st.get(), 3)));
      t.created_ns = sqlite3_column_int64(st.get(), 4);
      t.expires_ns = sqlite3_column_int64(st.get(), 5);
      t.session = sqlite3_column_int64(st.get(), 6) != 0;
      t.system = sqlite3_column_int64(st.get(), 7) != 0;
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return Error("list tokens");
    return out;
  }

  Status RevokeApiToken(TenantId tenant, uint64_t id, std::optional<UserId> user) override {
    std::lock_guard lock(mu_);
    // The installation's system token is not a tenant's to revoke.
    SqliteStatement st(db_,
                       "DELETE FROM tokens WHERE rowid = ?1 AND tenant_id = ?2 "
                       "AND (?3 IS NULL OR user_id = ?3) AND system = 0");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id);
    BindId(st.get(), 2, tenant.value());
    BindOptionalId(st.get(), 3, user ? std::optional(user->value()) : std::nullopt);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("revoke token");
    if (sqlite3_changes(db_) == 0) return NotFound("token {} does not exist", id);
    return Status::OK();
  }

  Result<std::pair<TenantId, DeviceInfo>> AuthenticateDevicePassword(
      std::string_view username, std::string_view password) override {
    std::pair<TenantId, DeviceInfo> found;
    std::string hash;
    {
      std::lock_guard lock(mu_);
      SqliteStatement st(db_,
                         "SELECT d.tenant_id, d.id, d.name, d.customer_id, p.password_hash "
                         "FROM device_passwords p JOIN devices d ON d.id = p.device_id "
                         "WHERE p.username = ?1");
      if (!st.ok()) return Error("prepare");
      BindText(st.get(), 1, username);
      const int rc = sqlite3_step(st.get());
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("authenticate device");
      if (rc == SQLITE_DONE) {
        hash.clear();  // verified against a dummy hash below: timing does not tell names apart
      } else {
        found = {TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0))),
                 DeviceAt(st.get(), 1)};
        hash = std::string(ColumnText(st.get(), 4));
      }
      // A device reconnecting with the password that worked last time skips Argon2id: the
      // cache holds a hash of it made with a per-process key, for as long as the stored hash is
      // the same.
      auto it = verified_.find(std::string(username));
      if (it != verified_.end() && it->second.first == hash &&
          it->second.second == HashToken(verified_key_ + std::string(password))) {
        return found;
      }
    }
    if (hash.empty()) {
      SW_ASSIGN_OR_RETURN(const std::string dummy, DummyHash());
      (void)VerifyPassword(password, dummy);
      return Unauthenticated("invalid user name or password");
    }
    SW_ASSIGN_OR_RETURN(const bool match, VerifyPassword(password, hash));
    if (!match) return Unauthenticated("invalid user name or password");
    std::lock_guard lock(mu_);
    if (verified_.size() >= 100'000) verified_.clear();
    verified_[std::string(username)] = {hash, HashToken(verified_key_ + std::string(password))};
    return found;
  }

  Result<std::pair<TenantId, DeviceInfo>> AuthenticateDeviceCertificate(
      std::string_view sha256) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "SELECT d.tenant_id, d.id, d.name, d.customer_id FROM device_certificates c "
                       "JOIN devices d ON d.id = c.device_id WHERE c.sha256 = ?1");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, sha256);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return Unauthenticated("unknown certificate");
    if (rc != SQLITE_ROW) return Error("authenticate device");
    return std::pair(TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0))),
                     DeviceAt(st.get(), 1));
  }

  Result<DeviceCredentials> GetDeviceCredentials(TenantId tenant, DeviceId id) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckDevice(tenant, id));
    DeviceCredentials out;
    {
      SqliteStatement st(db_, "SELECT username FROM device_passwords WHERE device_id = ?1");
      if (!st.ok()) return Error("prepare");
      BindId(st.get(), 1, id.value());
      if (sqlite3_step(st.get()) == SQLITE_ROW) out.username = std::string(ColumnText(st.get(), 0));
    }
    SqliteStatement st(
        db_, "SELECT sha256 FROM device_certificates WHERE device_id = ?1 ORDER BY sha256");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      out.certificates.emplace_back(ColumnText(st.get(), 0));
    }
    return out;
  }

  Status UpdateDeviceCredentials(TenantId tenant, DeviceId id,
                                 const DeviceCredentialsUpdate& update) override {
    std::optional<std::string> hash;
    if (update.password && *update.password) {
      SW_RETURN_IF_ERROR(ValidateObjectName("device user", (*update.password)->first));
      SW_ASSIGN_OR_RETURN(hash, HashPassword((*update.password)->second));  // outside the lock
    }
    std::vector<std::string> certificates;
    if (update.certificates) {
      for (const std::string& c : *update.certificates) {
        SW_ASSIGN_OR_RETURN(std::string fingerprint, CertificateFingerprint(c));
        certificates.push_back(std::move(fingerprint));
      }
      if (certificates.size() > 16) {
        return InvalidArgument("a device has at most 16 certificates, got {}", certificates.size());
      }
    }
    const int64_t now = Clock::Real()->Now().nanos();
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckDevice(tenant, id));
    SW_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = [&]() -> Status {
      if (update.password) {
        SqliteStatement del(db_, "DELETE FROM device_passwords WHERE device_id = ?1");
        if (!del.ok()) return Error("prepare");
        BindId(del.get(), 1, id.value());
        if (sqlite3_step(del.get()) != SQLITE_DONE) return Error("remove device password");
        if (*update.password) {
          SqliteStatement st(db_,
                             "INSERT INTO device_passwords(device_id, username, password_hash, "
                             "created_ns) VALUES(?1, ?2, ?3, ?4)");
          if (!st.ok()) return Error("prepare");
          BindId(st.get(), 1, id.value());
          BindText(st.get(), 2, (*update.password)->first);
          BindText(st.get(), 3, *hash);
          sqlite3_bind_int64(st.get(), 4, now);
          const int rc = sqlite3_step(st.get());
          if (rc == SQLITE_CONSTRAINT) {
            return AlreadyExists("device user name '{}' cannot be used: choose another",
                                 (*update.password)->first);
          }
          if (rc != SQLITE_DONE) return Error("set device password");
        }
      }
      if (update.certificates) {
        SqliteStatement del(db_, "DELETE FROM device_certificates WHERE device_id = ?1");
        if (!del.ok()) return Error("prepare");
        BindId(del.get(), 1, id.value());
        if (sqlite3_step(del.get()) != SQLITE_DONE) return Error("remove device certificates");
        for (const std::string& fingerprint : certificates) {
          SqliteStatement st(db_,
                             "INSERT OR IGNORE INTO device_certificates(sha256, device_id, "
                             "created_ns) VALUES(?1, ?2, ?3)");
          if (!st.ok()) return Error("prepare");
          BindText(st.get(), 1, fingerprint);
          BindId(st.get(), 2, id.value());
          sqlite3_bind_int64(st.get(), 3, now);
          if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("add device certificate");
          if (sqlite3_changes(db_) == 0) {
            // Either listed twice or another device's.
            SqliteStatement q(db_, "SELECT device_id FROM device_certificates WHERE sha256 = ?1");
            BindText(q.get(), 1, fingerprint);
            if (q.ok() && sqlite3_step(q.get()) == SQLITE_ROW &&
                static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0)) != id.value()) {
              return AlreadyExists("certificate {} cannot be registered: it is in use",
                                   fingerprint);
            }
          }
        }
      }
      return Status::OK();
    }();
    return EndTransaction(s);
  }

  Result<std::string> RotateDeviceToken(TenantId tenant, DeviceId id) override {
    SW_ASSIGN_OR_RETURN(std::string token, NewRandomToken());
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckDevice(tenant, id));
    SW_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = [&]() -> Status {
      SqliteStatement del(db_, "DELETE FROM device_tokens WHERE device_id = ?1");
      if (!del.ok()) return Error("prepare");
      BindId(del.get(), 1, id.value());
      if (sqlite3_step(del.get()) != SQLITE_DONE) return Error("revoke device tokens");
      SqliteStatement st(
          db_, "INSERT INTO device_tokens(hash, device_id, created_ns) VALUES(?1, ?2, ?3)");
      if (!st.ok()) return Error("prepare");
      BindText(st.get(), 1, HashToken(token));
      BindId(st.get(), 2, id.value());
      sqlite3_bind_int64(st.get(), 3, Clock::Real()->Now().nanos());
      if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("create device token");
      return Status::OK();
    }();
    SW_RETURN_IF_ERROR(EndTransaction(s));
    return token;
  }

  Result<std::pair<ProvisioningKeyInfo, std::string>> CreateProvisioningKey(
      TenantId tenant, const NewProvisioningKey& key) override {
    SW_RETURN_IF_ERROR(ValidateObjectName("provisioning key", key.name));
    if (!key.model.empty()) SW_RETURN_IF_ERROR(ValidateObjectName("model", key.model));
    SW_ASSIGN_OR_RETURN(std::string public_key, NewRandomToken());
    public_key.resize(32);  // 16 random bytes: an identifier, not a secret
    SW_ASSIGN_OR_RETURN(std::string secret, NewRandomToken());
    std::lock_guard lock(mu_);
    if (key.customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *key.customer, "the key's"));
    // Checked here rather than when a device provisions: a key that can make no device is
    // refused where it is made. The model store refuses to delete a model a key names.
    if (!key.model.empty()) SW_RETURN_IF_ERROR(CheckModelName(tenant, key.model));
    SqliteStatement st(db_,
                       "INSERT INTO provisioning_keys(tenant_id, name, key, secret_hash, "
                       "customer_id, model, max_devices, created_ns) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindText(st.get(), 2, key.name);
    BindText(st.get(), 3, public_key);
    BindText(st.get(), 4, HashToken(secret));
    BindOptionalId(st.get(), 5, key.customer ? std::optional(key.customer->value()) : std::nullopt);
    BindText(st.get(), 6, key.model);
    BindOptionalId(st.get(), 7, key.max_devices);
    sqlite3_bind_int64(st.get(), 8, Clock::Real()->Now().nanos());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      return AlreadyExists("provisioning key '{}' already exists", key.name);
    }
    if (rc != SQLITE_DONE) return Error("create provisioning key");
    ProvisioningKeyInfo info{static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)),
                             tenant,
                             key.name,
                             public_key,
                             key.customer,
                             key.model,
                             key.max_devices,
                             0};
    return std::pair(std::move(info), std::move(secret));
  }

  Result<std::vector<ProvisioningKeyInfo>> ListProvisioningKeys(TenantId tenant) override {
    std::lock_guard lock(mu_);
    return ProvisioningKeys("tenant_id = ?1",
                            [&](sqlite3_stmt* st) { BindId(st, 1, tenant.value()); });
  }

  Status DeleteProvisioningKey(TenantId tenant, uint64_t id) override {
    return DeleteRow("provisioning_keys", "provisioning key", tenant, id);
  }

  Result<std::pair<ProvisioningKeyInfo, CreatedDevice>> ProvisionDevice(
      std::string_view key, std::string_view secret, std::string_view name,
      const std::function<Status(const ProvisioningKeyInfo&)>& admit,
      const std::function<Status(const ProvisioningKeyInfo&, DeviceId)>& made) override {
    std::vector<ProvisioningKeyInfo> found;
    {
      std::lock_guard lock(mu_);
      SW_ASSIGN_OR_RETURN(found,
                          ProvisioningKeys("key = ?1 AND secret_hash = ?2", [&](sqlite3_stmt* st) {
                            BindText(st, 1, key);
                            BindText(st, 2, HashToken(secret));
                          }));
    }
    if (found.empty()) return Unauthenticated("invalid provisioning key or secret");
    const ProvisioningKeyInfo& info = found[0];
    SW_RETURN_IF_ERROR(admit(info));
    // Take one of the key's devices first, atomically, so that racing devices never exceed
    // max_devices; give it back when the device cannot be made.
    SW_RETURN_IF_ERROR(CountProvisioned(info, +1));
    Result<CreatedDevice> device =
        CreateDevice(info.tenant, NewDevice{std::string(name), info.customer});
    if (!device.ok()) {
      (void)CountProvisioned(info, -1);
      return device.status();
    }
    if (made) {
      // All or nothing: a device the client is told failed neither exists nor counts.
      if (Status s = made(info, device->id); !s.ok()) {
        (void)DeleteDevice(info.tenant, device->id);
        (void)CountProvisioned(info, -1);
        return s;
      }
    }
    return std::pair(info, std::move(*device));
  }

 private:
  // Provisioning keys matching `where` (bound by `bind`). REQUIRES: mu_ held.
  Result<std::vector<ProvisioningKeyInfo>> ProvisioningKeys(
      const char* where, const std::function<void(sqlite3_stmt*)>& bind) {
    SqliteStatement st(db_, fmt::format("SELECT id, tenant_id, name, key, customer_id, model, "
                                        "max_devices, provisioned FROM provisioning_keys "
                                        "WHERE {} ORDER BY id",
                                        where)
                                .c_str());
    if (!st.ok()) return Error("prepare");
    bind(st.get());
    std::vector<ProvisioningKeyInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      ProvisioningKeyInfo k;
      k.id = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
      k.tenant = TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 1)));
      k.name = std::string(ColumnText(st.get(), 2));
      k.key = std::string(ColumnText(st.get(), 3));
      if (auto c = ColumnId(st.get(), 4)) k.customer = CustomerId(*c);
      k.model = std::string(ColumnText(st.get(), 5));
      k.max_devices = ColumnId(st.get(), 6);
      k.provisioned = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 7));
      out.push_back(std::move(k));
    }
    if (rc != SQLITE_DONE) return Error("list provisioning keys");
    return out;
  }

  // Adds `delta` to the key's count of devices made; ResourceExhausted when +1 would pass
  // max_devices.
  Status CountProvisioned(const ProvisioningKeyInfo& key, int delta) {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_,
                       "UPDATE provisioning_keys SET provisioned = provisioned + ?2 WHERE id = ?1 "
                       "AND (?2 < 0 OR max_devices IS NULL OR provisioned < max_devices)");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, key.id);
    sqlite3_bind_int64(st.get(), 2, delta);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("count provisioned device");
    if (sqlite3_changes(db_) == 0 && delta > 0) {
      return ResourceExhausted("provisioning key '{}' has made its {} devices", key.name,
                               key.max_devices.value_or(0));
    }
    return Status::OK();
  }

  // REQUIRES: mu_ held.
  Status CheckDevice(TenantId tenant, DeviceId id) {
    SqliteStatement st(db_, "SELECT 1 FROM devices WHERE id = ?1 AND tenant_id = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Status::OK();
    if (rc == SQLITE_DONE) return NotFound("device {} does not exist", id);
    return Error("find device");
  }

  static Result<std::vector<Permission>> ParseScopes(std::string_view scopes) {
    std::vector<Permission> out;
    for (size_t at = 0; at < scopes.size();) {
      size_t comma = scopes.find(',', at);
      if (comma == std::string_view::npos) comma = scopes.size();
      SW_ASSIGN_OR_RETURN(Permission scope, ParsePermission(scopes.substr(at, comma - at)));
      out.push_back(scope);
      at = comma + 1;
    }
    return out;
  }

  // Tenant `only`, or every tenant. REQUIRES: mu_ held.
  Result<std::vector<TenantInfo>> Tenants(std::optional<TenantId> only) {
    SqliteStatement st(db_,
                       "SELECT id, name, settings FROM tenants WHERE ?1 IS NULL OR id = ?1 "
                       "ORDER BY id");
    if (!st.ok()) return Error("prepare");
    BindOptionalId(st.get(), 1, only ? std::optional(only->value()) : std::nullopt);
    std::vector<TenantInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      TenantInfo t;
      t.id = TenantId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
      t.name = std::string(ColumnText(st.get(), 1));
      SW_ASSIGN_OR_RETURN(t.settings, ParseTenantSettings(ColumnText(st.get(), 2)));
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return Error("list tenants");
    return out;
  }

  // REQUIRES: mu_ held.
  Status Exec(const char* sql) { return database_->Exec(sql); }
  // Commits when `s` is OK, else rolls back; a failed COMMIT rolls back too, so that no
  // transaction stays open on the shared connection. Returns `s` or the COMMIT's error.
  // REQUIRES: mu_ held, a transaction open.
  Status EndTransaction(Status s) {
    if (s.ok()) {
      s = Exec("COMMIT");
      if (s.ok()) return s;
    }
    if (!sqlite3_get_autocommit(db_)) (void)Exec("ROLLBACK");
    return s;
  }
  Status Error(std::string_view what) { return database_->Error(what); }

  // Deletes row `id` of `table` when it is the tenant's; its tokens go with it (ON DELETE
  // CASCADE).
  Status DeleteRow(const char* table, const char* what, TenantId tenant, uint64_t id) {
    std::lock_guard lock(mu_);
    SqliteStatement st(
        db_, fmt::format("DELETE FROM {} WHERE id = ?1 AND tenant_id = ?2", table).c_str());
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(id));
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(tenant.value()));
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error(fmt::format("delete {}", what));
    if (sqlite3_changes(db_) == 0) return NotFound("{} {} does not exist", what, id);
    return Status::OK();
  }

  // A device from columns id, name, customer_id starting at `first`.
  static DeviceInfo DeviceAt(sqlite3_stmt* st, int first) {
    DeviceInfo d;
    d.id = DeviceId(static_cast<uint64_t>(sqlite3_column_int64(st, first)));
    d.name = std::string(ColumnText(st, first + 1));
    if (auto c = ColumnId(st, first + 2)) d.customer = CustomerId(*c);
    return d;
  }

  // The error of an INSERT of `what` into a table whose rows belong to a tenant that failed a
  // constraint: the tenant does not exist (a foreign key), or the name is taken (`unique`: what
  // is unique in the tenant). REQUIRES: mu_ held, right after the failed step.
  Status Taken(TenantId tenant, std::string_view what, std::string_view unique) {
    if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_FOREIGNKEY) {
      return NotFound("tenant {} does not exist", tenant);
    }
    return AlreadyExists("{} already exists ({} are unique in the tenant)", what, unique);
  }

  // REQUIRES: mu_ held.
  Status CheckCustomer(TenantId tenant, CustomerId id, std::string_view what) {
    SqliteStatement st(db_, "SELECT 1 FROM customers WHERE id = ?1 AND tenant_id = ?2");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(id.value()));
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(tenant.value()));
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Status::OK();
    if (rc == SQLITE_DONE) return NotFound("{} customer {} does not exist", what, id);
    return Error("find customer");
  }

  // OK when the tenant has a thing model named `name` (table thing_models of the ModelStore,
  // in this database); InvalidArgument naming it otherwise, also when no ModelStore was ever
  // opened on this database. REQUIRES: mu_ held.
  Status CheckModelName(TenantId tenant, std::string_view name) {
    {
      SqliteStatement st(db_,
                         "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                         "'thing_models'");
      if (!st.ok()) return Error("prepare");
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE)
        return InvalidArgument("'model': thing model '{}' does not exist", name);
      if (rc != SQLITE_ROW) return Error("find models");
    }
    SqliteStatement st(db_, "SELECT 1 FROM thing_models WHERE tenant_id = ?1 AND name = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindText(st.get(), 2, name);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Status::OK();
    if (rc == SQLITE_DONE) return InvalidArgument("'model': thing model '{}' does not exist", name);
    return Error("find model");
  }

  // REQUIRES: mu_ held.
  Result<std::vector<CustomerInfo>> Customers(TenantId tenant) {
    SqliteStatement st(
        db_, "SELECT id, parent_id, name, quotas FROM customers WHERE tenant_id = ?1 ORDER BY id");
    if (!st.ok()) return Error("prepare");
    sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(tenant.value()));
    std::vector<CustomerInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      CustomerInfo c;
      c.id = CustomerId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
      if (auto parent = ColumnId(st.get(), 1)) c.parent = CustomerId(*parent);
      c.name = std::string(ColumnText(st.get(), 2));
      SW_ASSIGN_OR_RETURN(c.quotas, ParseQuotas(ColumnText(st.get(), 3)));
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return Error("list customers");
    return out;
  }

  // A hash of no one's password, made once.
  Result<std::string> DummyHash() {
    std::call_once(dummy_once_, [this] {
      auto hash = HashPassword("no user has this password");
      dummy_hash_ = hash.ok() ? *hash : std::string();
    });
    if (dummy_hash_.empty()) return Internal("hashing a password failed");
    return dummy_hash_;
  }

  const std::shared_ptr<SqliteDatabase> database_;
  std::mutex& mu_;  // the database's

  // Principals by token hash (AuthenticatePrincipal asks per request, twice), emptied by any
  // change to a row of tokens, users or tenants: SQLite calls OnRowChange for every row this
  // connection inserts, updates or deletes, cascaded deletes included, under mu_ (every write
  // holds it). A revoked token, a changed role or a deleted tenant applies at the next request;
  // expiry is checked at each use.
  struct CachedPrincipal {
    Principal who;
    int64_t expires_ns = 0;  // 0: never
  };
  static constexpr size_t kMaxCachedPrincipals = 100'000;
  std::unordered_map<std::string, CachedPrincipal> principals_;  // guarded by mu_
  static void OnRowChange(void* self, int, const char*, const char* table, sqlite3_int64) {
    const std::string_view t(table);
    if (t == "tokens" || t == "users" || t == "tenants") {
      static_cast<SqliteMetadataStore*>(self)->principals_.clear();
    }
  }
  sqlite3* const db_;
  LoginLimiter limiter_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
  // Device user name -> (stored password hash, keyed hash of the password that matched it).
  std::unordered_map<std::string, std::pair<std::string, std::string>> verified_;
  const std::string verified_key_ = NewRandomToken().value_or("seaway");
};

}  // namespace

std::string HashToken(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

Result<std::string> CertificateFingerprint(std::string_view text) {
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (cert == nullptr) {
      ERR_clear_error();
      return InvalidArgument("the PEM certificate cannot be read");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const int ok = X509_digest(cert, EVP_sha256(), digest, &length);
    X509_free(cert);
    if (ok != 1) return Internal("hashing a certificate failed");
    return Hex(digest, length);
  }
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((lower >= '0' && lower <= '9') || (lower >= 'a' && lower <= 'f'))) {
      hex.clear();
      break;
    }
    hex += lower;
  }
  if (hex.size() != 64) {
    return InvalidArgument(
        "a certificate must be a SHA-256 fingerprint (64 hex digits) or a PEM certificate");
  }
  return hex;
}

Result<std::string> NewRandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Internal("the system random generator failed");
  }
  return Hex(bytes, sizeof(bytes));
}

Result<std::optional<std::vector<std::string>>> VisibleDeviceNames(MetadataStore* store,
                                                                   const Principal& who) {
  if (!IsCustomerRole(who.role)) return std::optional<std::vector<std::string>>();
  if (!who.customer) return PermissionDenied("a customer role without a customer");
  SW_ASSIGN_OR_RETURN(const std::vector<CustomerId> subtree,
                      store->CustomerSubtree(who.tenant, *who.customer));
  SW_ASSIGN_OR_RETURN(const std::vector<DeviceInfo> devices, store->ListDevices(who.tenant));
  std::vector<std::string> names;
  for (const DeviceInfo& d : devices) {
    if (d.customer && std::binary_search(subtree.begin(), subtree.end(), *d.customer)) {
      names.push_back(d.name);
    }
  }
  std::sort(names.begin(), names.end());
  return std::optional<std::vector<std::string>>(std::move(names));
}

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(
    std::shared_ptr<SqliteDatabase> database) {
  const std::string path = database->path();
  auto store = std::make_unique<SqliteMetadataStore>(std::move(database));
  SW_RETURN_IF_ERROR(store->Init().WithContext(path));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path) {
  SW_ASSIGN_OR_RETURN(std::shared_ptr<SqliteDatabase> database, SqliteDatabase::Open(path));
  return OpenSqliteMetadataStore(std::move(database));
}

}  // namespace seaway
