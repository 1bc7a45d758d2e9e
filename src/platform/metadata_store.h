// MetadataStore: the platform's object model (src/platform): tenants, their customers (a tree),
// users with roles and passwords, and tokens. The first implementation keeps them in SQLite
// (DATA_DIR/metadata.db); the interface lets a PostgreSQL backend follow. Secrets are stored
// only as hashes: tokens as SHA-256 (a leaked database file does not leak a usable token),
// passwords as Argon2id (platform/password.h).
//
// Devices, thing models, twins and assets join this interface with issue #7's next steps.
//
// Thread-safe.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "platform/permissions.h"
#include "platform/sqlite_database.h"
#include "platform/tenant_settings.h"

namespace seaway {

struct TenantInfo {
  TenantId id;
  std::string name;
  TenantSettings settings;
};

struct CustomerInfo {
  CustomerId id;
  std::optional<CustomerId> parent;  // none: a top-level customer of the tenant
  std::string name;
  Quotas quotas;
};

// A change to a customer: members left nullopt stay as they are.
struct CustomerUpdate {
  std::optional<std::string> name;
  std::optional<Quotas> quotas;
};

// A change to a user: members left nullopt stay as they are. Changing the role or password
// ends the user's sessions (its API tokens stay, limited by the new role).
struct UserUpdate {
  std::optional<Role> role;
  std::optional<std::optional<CustomerId>> customer;  // set to nullopt: no customer
  std::optional<std::string> password;
};

// An API token or session as listed (never the secret).
struct ApiTokenInfo {
  uint64_t id = 0;
  std::optional<UserId> user;  // none: a tenant token
  std::string description;
  std::vector<Permission> scopes;
  int64_t created_ns = 0;
  int64_t expires_ns = 0;  // 0: never
  bool session = false;    // from Login
  bool system = false;     // may manage tenants (TokenKind::kSystem)
};

enum class TokenKind : uint8_t {
  kTenant,  // its tenant's administrator
  kSystem,  // its tenant's administrator who also manages tenants: the installation's operator
            // (SEAWAY_ADMIN_TOKEN or the token printed at first start)
};

struct UserInfo {
  UserId id;
  std::optional<CustomerId> customer;  // set exactly for customer roles
  std::string name;
  Role role = Role::kViewer;
};

struct NewUser {
  std::string name;  // 1..64 bytes of letters, digits, '-', '_', '.' and '@'
  Role role = Role::kViewer;
  std::optional<CustomerId> customer;  // required for customer roles, refused for the others
  std::string password;                // platform/password.h limits
};

struct DeviceInfo {
  DeviceId id;
  std::string name;  // as users' names (NewUser::name): it names the device's MQTT topics
  std::optional<CustomerId> customer;
};

struct NewDevice {
  std::string name;
  std::optional<CustomerId> customer;  // the customer it is assigned to, if any
};

// A new device and its access token (shown once: only its hash is stored).
struct CreatedDevice {
  DeviceId id;
  std::string token;
};

// Who a token speaks for.
struct Principal {
  TenantId tenant;
  std::optional<UserId> user;          // none: a tenant API token (scripts, SEAWAY_ADMIN_TOKEN)
  std::optional<CustomerId> customer;  // customer roles: the customer whose subtree they see
  Role role = Role::kTenantAdmin;
  // An API token's scopes: it may do only these (and only what the role allows). Empty: all
  // the role allows (sessions, unscoped tokens).
  std::vector<Permission> scopes;
  // The installation's operator (TokenKind::kSystem): also tenants.manage, which no role has.
  bool system = false;

  bool Can(Permission permission) const {
    return Granted(permission) &&
           (scopes.empty() || std::find(scopes.begin(), scopes.end(), permission) != scopes.end());
  }
  // Why Can(permission) is false, naming the role or the token's scopes, as a PermissionDenied.
  Status Refusal(Permission permission) const {
    if (!Granted(permission)) {
      return PermissionDenied("role '{}' lacks permission '{}'", RoleName(role),
                              PermissionName(permission));
    }
    return PermissionDenied("the token's scopes do not include '{}'", PermissionName(permission));
  }

 private:
  bool Granted(Permission permission) const {
    return permission == Permission::kTenantsManage ? system : RoleAllows(role, permission);
  }
};

// A device's credentials besides its token, as listed (never a secret).
struct DeviceCredentials {
  std::optional<std::string> username;    // MQTT user name of its password, if it has one
  std::vector<std::string> certificates;  // SHA-256 fingerprints (lower-case hex), sorted
};

// A change to a device's credentials: members left nullopt stay as they are.
struct DeviceCredentialsUpdate {
  // Set: the device's MQTT user name and password (the user name unique in the installation,
  // as users' names; the password stored as its Argon2id hash); set to nullopt: none.
  std::optional<std::optional<std::pair<std::string, std::string>>> password;
  // The fingerprints of its X.509 certificates (64 hex characters each), replacing the old.
  std::optional<std::vector<std::string>> certificates;
};

// A key and secret devices present to register themselves (POST /api/v1/provision), bound to a
// customer and a thing model for the devices it makes, and to how many it may make.
struct NewProvisioningKey {
  std::string name;  // as users' names, unique in the tenant
  std::optional<CustomerId> customer;
  std::string model;  // thing model name given to the devices ("" for none): an existing one
  std::optional<uint64_t> max_devices;
};

struct ProvisioningKeyInfo {
  uint64_t id = 0;
  TenantId tenant;
  std::string name;
  std::string key;  // public: the device sends it with the secret
  std::optional<CustomerId> customer;
  std::string model;
  std::optional<uint64_t> max_devices;
  uint64_t provisioned = 0;  // devices made with it so far
};

struct NewApiToken {
  std::string description;               // 1..200 bytes
  std::vector<Permission> scopes;        // empty: every permission of the creator
  std::optional<int64_t> expires_in_ns;  // none: never expires
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Creates a tenant; AlreadyExists when the name is taken. Names: 1..64 bytes of letters,
  // digits, '-', '_' and '.'.
  virtual Result<TenantId> CreateTenant(std::string_view name) = 0;
  // NotFound when no tenant has the name.
  virtual Result<TenantId> FindTenant(std::string_view name) = 0;
  // NotFound when there is no such tenant.
  virtual Result<TenantInfo> GetTenant(TenantId id) = 0;
  // Every tenant, by id.
  virtual Result<std::vector<TenantInfo>> ListTenants() = 0;
  virtual Status SetTenantSettings(TenantId id, const TenantSettings& settings) = 0;
  // Deletes a tenant and, in one transaction, every object of it (tokens, users, customers,
  // devices, keys, and the rows of the stores sharing the database). Its id is never given
  // again and is listed by DeletedTenants, so that what the tenant left outside this store
  // (stored data, MQTT state) can be dropped, again at every start. NotFound when it does not
  // exist.
  virtual Status DeleteTenant(TenantId id) = 0;
  virtual Result<std::vector<TenantId>> DeletedTenants() = 0;

  // Registers `token` (stored as its hash) for `tenant`. InvalidArgument for tokens shorter
  // than 16 bytes; AlreadyExists when the token is registered already.
  virtual Status AddToken(TenantId tenant, std::string_view token, std::string_view description,
                          TokenKind kind = TokenKind::kTenant) = 0;
  // The tenant of a valid token (any kind: AuthenticatePrincipal); Unauthenticated (without
  // saying why) otherwise. The caller checks what the token may do.
  virtual Result<TenantId> Authenticate(std::string_view token) = 0;
  // Who a token speaks for: a tenant token is its tenant's administrator; a session token from
  // Login is its user. Unauthenticated (without saying why) for unknown or expired tokens and
  // tokens of deleted users.
  virtual Result<Principal> AuthenticatePrincipal(std::string_view token) = 0;

  // Creates a customer of `tenant`, under `parent` when given (which must be the tenant's).
  // Names: as users' (NewUser::name), unique among the tenant's customers.
  virtual Result<CustomerId> CreateCustomer(TenantId tenant, std::string_view name,
                                            std::optional<CustomerId> parent) = 0;
  // Every customer of the tenant, by id.
  virtual Result<std::vector<CustomerInfo>> ListCustomers(TenantId tenant) = 0;
  // Renames a customer or changes its quotas; NotFound when it is not the tenant's,
  // AlreadyExists when the new name is taken.
  virtual Status UpdateCustomer(TenantId tenant, CustomerId id, const CustomerUpdate& update) = 0;
  // Deletes an empty customer: FailedPrecondition naming what it still holds (sub-customers,
  // users, devices, provisioning keys, or other objects assigned to it, such as assets);
  // NotFound when it is not the tenant's.
  virtual Status DeleteCustomer(TenantId tenant, CustomerId id) = 0;
  // `root` and every customer below it, by id; NotFound when `root` is not the tenant's.
  virtual Result<std::vector<CustomerId>> CustomerSubtree(TenantId tenant, CustomerId root) = 0;

  // Creates a user; the password is stored as its Argon2id hash. AlreadyExists when the tenant
  // has a user of that name; InvalidArgument naming the field otherwise.
  virtual Result<UserId> CreateUser(TenantId tenant, const NewUser& user) = 0;
  // Every user of the tenant, by id (no password hashes).
  virtual Result<std::vector<UserInfo>> ListUsers(TenantId tenant) = 0;
  // Changes a user's role, customer or password (the same rules as CreateUser); NotFound when
  // the tenant has no such user.
  virtual Status UpdateUser(TenantId tenant, UserId id, const UserUpdate& update) = 0;
  // Deletes a user of the tenant with its sessions and tokens. NotFound when there is none.
  virtual Status DeleteUser(TenantId tenant, UserId id) = 0;

  // Creates a device with a new access token (for MQTT: the CONNECT password). AlreadyExists
  // when the tenant has a device of that name; NotFound for a customer not the tenant's.
  virtual Result<CreatedDevice> CreateDevice(TenantId tenant, const NewDevice& device) = 0;
  // Creates every device or none (bulk provisioning); errors name the device's 1-based place
  // in `devices`.
  virtual Result<std::vector<CreatedDevice>> CreateDevices(
      TenantId tenant, const std::vector<NewDevice>& devices) = 0;
  // Every device of the tenant, by id.
  virtual Result<std::vector<DeviceInfo>> ListDevices(TenantId tenant) = 0;
  // Assigns a device to a customer (or to none); NotFound for a device or customer not the
  // tenant's.
  virtual Status SetDeviceCustomer(TenantId tenant, DeviceId id,
                                   std::optional<CustomerId> customer) = 0;
  // Deletes a device of the tenant and its tokens: its MQTT clients cannot connect again (the
  // HTTP route also closes those connected, mqtt::Broker::DisconnectDevice). NotFound when the
  // tenant has no such device.
  virtual Status DeleteDevice(TenantId tenant, DeviceId id) = 0;
  // The device a device token belongs to, with its tenant; Unauthenticated otherwise.
  virtual Result<std::pair<TenantId, DeviceInfo>> AuthenticateDevice(std::string_view token) = 0;
  // The device whose MQTT user name and password these are; Unauthenticated otherwise. The
  // first success costs an Argon2id verification; repeated ones with the same password are
  // answered from memory until the password changes.
  virtual Result<std::pair<TenantId, DeviceInfo>> AuthenticateDevicePassword(
      std::string_view username, std::string_view password) = 0;
  // The device with the X.509 certificate of this SHA-256 fingerprint; Unauthenticated
  // otherwise.
  virtual Result<std::pair<TenantId, DeviceInfo>> AuthenticateDeviceCertificate(
      std::string_view sha256) = 0;
  virtual Result<DeviceCredentials> GetDeviceCredentials(TenantId tenant, DeviceId id) = 0;
  // AlreadyExists naming the user name or fingerprint another device holds; InvalidArgument
  // for malformed ones; NotFound for a device not the tenant's.
  virtual Status UpdateDeviceCredentials(TenantId tenant, DeviceId id,
                                         const DeviceCredentialsUpdate& update) = 0;
  // Replaces the device's tokens by a new one (returned once).
  virtual Result<std::string> RotateDeviceToken(TenantId tenant, DeviceId id) = 0;

  // Provisioning keys: the secret is returned once (only its hash is kept). The key's model,
  // when named, must be one of the tenant's thing models (the ModelStore's, in the same
  // database): InvalidArgument naming it otherwise; NotFound for a customer not the tenant's.
  virtual Result<std::pair<ProvisioningKeyInfo, std::string>> CreateProvisioningKey(
      TenantId tenant, const NewProvisioningKey& key) = 0;
  virtual Result<std::vector<ProvisioningKeyInfo>> ListProvisioningKeys(TenantId tenant) = 0;
  virtual Status DeleteProvisioningKey(TenantId tenant, uint64_t id) = 0;
  // Creates device `name` for the key's tenant, assigned to its customer, when `secret` is the
  // key's and it has devices left (ResourceExhausted naming the key's max_devices otherwise);
  // Unauthenticated ("invalid provisioning key or secret") for any wrong part. `admit` runs
  // before the device is made (the tenant's quotas); `made` (when set) after, to finish it (the
  // key's thing model): when it fails, the device is deleted again and does not count against
  // the key's max_devices, and its error is returned.
  virtual Result<std::pair<ProvisioningKeyInfo, CreatedDevice>> ProvisionDevice(
      std::string_view key, std::string_view secret, std::string_view name,
      const std::function<Status(const ProvisioningKeyInfo&)>& admit,
      const std::function<Status(const ProvisioningKeyInfo&, DeviceId)>& made = {}) = 0;

  // A new API token acting as `owner` (the same user, or the tenant for a tenant token),
  // restricted to `token.scopes`, which must be within what the owner may do (PermissionDenied
  // naming the scope otherwise: a token never grants more than its creator has; InvalidArgument
  // for tenants.manage, which only the system token holds). Returns the
  // token as ListApiTokens lists it (its id is what RevokeApiToken takes; its scopes are those
  // it has, the owner's when it asked for none and the owner is scoped) and the token itself,
  // returned once; only its hash is stored.
  virtual Result<std::pair<ApiTokenInfo, std::string>> CreateApiToken(const Principal& owner,
                                                                      const NewApiToken& token) = 0;

  // The tenant's tokens and sessions (of `user` only, when given), by id; expired ones left out.
  virtual Result<std::vector<ApiTokenInfo>> ListApiTokens(TenantId tenant,
                                                          std::optional<UserId> user) = 0;
  // Revokes a token or session of the tenant (of `user` only, when given): it stops working at
  // once. NotFound otherwise.
  virtual Status RevokeApiToken(TenantId tenant, uint64_t id, std::optional<UserId> user) = 0;

  // Checks a user's password and returns a new session token (valid for 12 hours).
  // Unauthenticated ("invalid tenant, user or password") for any wrong part; ResourceExhausted
  // after 5 failures in 15 minutes for the user, or from `address` (LoginLimiter).
  virtual Result<std::string> Login(std::string_view tenant_name, std::string_view user_name,
                                    std::string_view password, std::string_view address) = 0;
};

// The names of the devices a customer principal may see: those assigned to its customer or one
// below it, sorted. nullopt for tenant roles (every device of the tenant).
Result<std::optional<std::vector<std::string>>> VisibleDeviceNames(MetadataStore* store,
                                                                   const Principal& who);

// The SQLite store in `database` (creating or upgrading its tables).
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(
    std::shared_ptr<SqliteDatabase> database);
// Opens (creating when absent) the SQLite store at `path` on a connection of its own.
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path);

// A certificate's SHA-256 fingerprint as lower-case hex, from 64 hex digits (colons allowed,
// any case) or a PEM certificate ("-----BEGIN CERTIFICATE-----"). InvalidArgument otherwise.
Result<std::string> CertificateFingerprint(std::string_view hex_or_pem);

// Lower-case hex SHA-256 of `token`.
std::string HashToken(std::string_view token);

// A new random token: 32 bytes from the system's CSPRNG, as 64 hex characters.
Result<std::string> NewRandomToken();

}  // namespace seaway
