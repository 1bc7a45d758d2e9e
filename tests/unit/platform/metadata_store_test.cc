// Tests for the SQLite MetadataStore and token hashing (src/platform/metadata_store.h).
#include "platform/metadata_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "platform/asset_store.h"
#include "platform/device_csv.h"
#include "platform/login_limiter.h"
#include "platform/sqlite_database.h"
#include "platform/twin_store.h"

namespace seaway {
namespace {

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/seaway_meta_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/metadata.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<MetadataStore> Open() {
    auto store = OpenSqliteMetadataStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string dir_, path_;
};

TEST(TokenHashTest, KnownVectorAndRandomTokens) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = NewRandomToken();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->size(), 64u);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(MetadataStoreTest, TenantsAndTokens) {
  auto store = Open();
  auto acme = store->CreateTenant("acme");
  ASSERT_TRUE(acme.ok()) << acme.status();
  auto beta = store->CreateTenant("beta");
  ASSERT_TRUE(beta.ok());
  EXPECT_NE(*acme, *beta);
  EXPECT_EQ(store->CreateTenant("acme").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateTenant("bad name!").status().message(),
            "tenant name 'bad name!': only letters, digits, '-', '_' and '.'");
  EXPECT_EQ(*store->FindTenant("beta"), *beta);
  EXPECT_EQ(store->FindTenant("zeta").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store->AddToken(*acme, "acme-secret-token-0001", "admin").ok());
  ASSERT_TRUE(store->AddToken(*beta, "beta-secret-token-0001", "admin").ok());
  EXPECT_EQ(*store->Authenticate("acme-secret-token-0001"), *acme);
  EXPECT_EQ(*store->Authenticate("beta-secret-token-0001"), *beta);
  auto denied = store->Authenticate("acme-secret-token-0002");
  EXPECT_EQ(denied.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(denied.status().message(), "invalid token");
  EXPECT_EQ(store->AddToken(*acme, "acme-secret-token-0001", "again").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->AddToken(*acme, "short", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddToken(TenantId(999), "orphan-token-000001", "x").code(),
            StatusCode::kNotFound);
}

TEST_F(MetadataStoreTest, PersistsAndStoresOnlyHashes) {
  TenantId acme;
  {
    auto store = Open();
    acme = *store->CreateTenant("acme");
    ASSERT_TRUE(store->AddToken(acme, "plaintext-token-must-not-leak", "admin").ok());
  }
  auto store = Open();
  EXPECT_EQ(*store->FindTenant("acme"), acme);
  EXPECT_EQ(*store->Authenticate("plaintext-token-must-not-leak"), acme);
  store.reset();
  // Nothing on disk (database and its WAL) holds the token itself.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("plaintext-token-must-not-leak"), std::string::npos) << entry.path();
  }
}

TEST_F(MetadataStoreTest, CustomersFormATreePerTenant) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  const TenantId beta = *store->CreateTenant("beta");
  auto plant = store->CreateCustomer(acme, "plant-lyon", std::nullopt);
  ASSERT_TRUE(plant.ok()) << plant.status();
  auto line = store->CreateCustomer(acme, "lyon-line-1", *plant);
  ASSERT_TRUE(line.ok()) << line.status();
  auto cell = *store->CreateCustomer(acme, "lyon-cell-7", *line);
  auto other = *store->CreateCustomer(acme, "plant-turin", std::nullopt);
  EXPECT_EQ(store->CreateCustomer(acme, "plant-lyon", std::nullopt).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateCustomer(acme, "bad name", std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  // Another tenant may reuse the name, but not hang a customer under acme's.
  EXPECT_TRUE(store->CreateCustomer(beta, "plant-lyon", std::nullopt).ok());
  EXPECT_EQ(store->CreateCustomer(beta, "intruder", *plant).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(*store->CustomerSubtree(acme, *plant), (std::vector<CustomerId>{*plant, *line, cell}));
  EXPECT_EQ(*store->CustomerSubtree(acme, other), (std::vector<CustomerId>{other}));
  EXPECT_EQ(store->CustomerSubtree(beta, *plant).status().code(), StatusCode::kNotFound);
  auto listed = *store->ListCustomers(acme);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[1].name, "lyon-line-1");
  EXPECT_EQ(listed[1].parent, std::make_optional(*plant));
  EXPECT_EQ(store->ListCustomers(beta)->size(), 1u);
}

TEST_F(MetadataStoreTest, UsersLogInAndTheirSessionsCarryTheirRole) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  const TenantId beta = *store->CreateTenant("beta");
  const CustomerId plant = *store->CreateCustomer(acme, "plant-lyon", std::nullopt);
  auto admin = store->CreateUser(acme, {"alice", Role::kTenantAdmin, std::nullopt, "alice-pass-1"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto viewer = store->CreateUser(acme, {"carol@plant", Role::kCustomerUser, plant, "carol-pass"});
  ASSERT_TRUE(viewer.ok()) << viewer.status();
  EXPECT_EQ(
      store->CreateUser(acme, {"alice", Role::kViewer, std::nullopt, "x-pass"}).status().code(),
      StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateUser(acme, {"dan", Role::kCustomerUser, std::nullopt, "dan-pass"})
                .status()
                .message(),
            "role 'customer-user' needs a customer");
  EXPECT_EQ(
      store->CreateUser(acme, {"erin", Role::kOperator, plant, "erin-pass"}).status().message(),
      "role 'operator' belongs to the tenant, not to a customer");
  EXPECT_EQ(
      store->CreateUser(beta, {"mallory", Role::kCustomerUser, plant, "m-pass"}).status().code(),
      StatusCode::kNotFound);  // acme's customer, not beta's
  EXPECT_EQ(store->CreateUser(acme, {"frank", Role::kViewer, std::nullopt, ""}).status().code(),
            StatusCode::kInvalidArgument);

  auto users = *store->ListUsers(acme);
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[1].name, "carol@plant");
  EXPECT_EQ(users[1].role, Role::kCustomerUser);
  EXPECT_EQ(users[1].customer, std::make_optional(plant));
  EXPECT_TRUE(store->ListUsers(beta)->empty());

  auto session = store->Login("acme", "carol@plant", "carol-pass", "10.0.0.1");
  ASSERT_TRUE(session.ok()) << session.status();
  auto who = store->AuthenticatePrincipal(*session);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->tenant, acme);
  EXPECT_EQ(who->user, std::make_optional(*viewer));
  EXPECT_EQ(who->customer, std::make_optional(plant));
  EXPECT_EQ(who->role, Role::kCustomerUser);
  EXPECT_TRUE(who->Can(Permission::kDataRead));
  EXPECT_FALSE(who->Can(Permission::kDataWrite));
  EXPECT_EQ(*store->Authenticate(*session), acme);  // the routes check the role

  auto admin_session = store->Login("acme", "alice", "alice-pass-1", "10.0.0.1");
  ASSERT_TRUE(admin_session.ok());
  EXPECT_EQ(*store->Authenticate(*admin_session), acme);
  // A tenant token is the tenant's administrator.
  ASSERT_TRUE(store->AddToken(acme, "acme-secret-token-0001", "script").ok());
  auto script = *store->AuthenticatePrincipal("acme-secret-token-0001");
  EXPECT_EQ(script.role, Role::kTenantAdmin);
  EXPECT_FALSE(script.user.has_value());

  // Every wrong part gets the same answer.
  for (auto [tenant, user, password] :
       {std::tuple("acme", "alice", "wrong"), std::tuple("acme", "nobody", "alice-pass-1"),
        std::tuple("beta", "alice", "alice-pass-1")}) {
    auto bad = store->Login(tenant, user, password, "10.0.0.2");
    EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(bad.status().message(), "invalid tenant, user or password");
  }
  // Sessions survive a reopen; tokens are stored as hashes only.
  store.reset();
  store = Open();
  EXPECT_EQ(store->AuthenticatePrincipal(*session)->role, Role::kCustomerUser);
}

TEST_F(MetadataStoreTest, DevicesHaveTheirOwnTokens) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  const TenantId beta = *store->CreateTenant("beta");
  const CustomerId plant = *store->CreateCustomer(acme, "plant-lyon", std::nullopt);
  auto press = store->CreateDevice(acme, {"press-7", plant});
  ASSERT_TRUE(press.ok()) << press.status();
  EXPECT_EQ(press->token.size(), 64u);
  auto meter = store->CreateDevice(acme, {"meter-1", std::nullopt});
  ASSERT_TRUE(meter.ok());
  EXPECT_TRUE(store->CreateDevice(beta, {"press-7", std::nullopt}).ok());  // another tenant
  EXPECT_EQ(store->CreateDevice(acme, {"press-7", std::nullopt}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CreateDevice(acme, {"a/b", std::nullopt}).status().code(),
            StatusCode::kInvalidArgument);  // names its topics: no '/', '+', '#'
  EXPECT_EQ(store->CreateDevice(beta, {"intruder", plant}).status().code(), StatusCode::kNotFound);

  auto listed = *store->ListDevices(acme);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "press-7");
  EXPECT_EQ(listed[0].customer, std::make_optional(plant));
  EXPECT_FALSE(listed[1].customer.has_value());

  auto who = store->AuthenticateDevice(press->token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->first, acme);
  EXPECT_EQ(who->second.name, "press-7");
  EXPECT_EQ(who->second.id, press->id);
  // A device token is no tenant token, and the other way round.
  EXPECT_EQ(store->Authenticate(press->token).status().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(store->AddToken(acme, "acme-secret-token-0001", "admin").ok());
  EXPECT_EQ(store->AuthenticateDevice("acme-secret-token-0001").status().code(),
            StatusCode::kUnauthenticated);
  // Persisted, as a hash only.
  store.reset();
  store = Open();
  EXPECT_EQ(store->AuthenticateDevice(meter->token)->second.name, "meter-1");
}

TEST_F(MetadataStoreTest, BulkDevicesAreAllOrNone) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  const CustomerId plant = *store->CreateCustomer(acme, "plant", std::nullopt);
  ASSERT_TRUE(store->CreateDevice(acme, {"meter-2", std::nullopt}).ok());
  // The third device exists already: none of the batch is created.
  auto refused = store->CreateDevices(
      acme, {{"meter-1", plant}, {"meter-3", std::nullopt}, {"meter-2", std::nullopt}});
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(refused.status().message().starts_with("device 3: ")) << refused.status();
  EXPECT_EQ(store->ListDevices(acme)->size(), 1u);
  EXPECT_EQ(store->CreateDevices(acme, {{"ok", std::nullopt}, {"bad/name", std::nullopt}})
                .status()
                .message()
                .substr(0, 10),
            "device 2: ");
  auto created = store->CreateDevices(acme, {{"meter-1", plant}, {"meter-3", std::nullopt}});
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->size(), 2u);
  EXPECT_NE((*created)[0].token, (*created)[1].token);
  EXPECT_EQ(store->AuthenticateDevice((*created)[1].token)->second.name, "meter-3");
  EXPECT_EQ(store->ListDevices(acme)->size(), 3u);
}

// A name taken in the tenant said "customer 'plant' already exists (or tenant 2 does not)",
// though the caller's tenant always exists; the tenant's absence has its own error.
TEST_F(MetadataStoreTest, ATakenNameSaysWhatIsUnique) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  const CustomerId plant = *store->CreateCustomer(acme, "plant", std::nullopt);
  const CustomerId other = *store->CreateCustomer(acme, "other", std::nullopt);
  EXPECT_EQ(store->CreateCustomer(acme, "plant", other).status().message(),
            "customer 'plant' already exists (customers' names are unique in the tenant)");
  ASSERT_TRUE(store->CreateUser(acme, {"olga", Role::kOperator, std::nullopt, "olga-pass"}).ok());
  auto user = store->CreateUser(acme, {"olga", Role::kViewer, std::nullopt, "olga-pass"});
  EXPECT_EQ(user.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(user.status().message(),
            "user 'olga' already exists (users' names are unique in the tenant)");
  ASSERT_TRUE(store->CreateDevice(acme, {"press-1", plant}).ok());
  auto device = store->CreateDevice(acme, {"press-1", std::nullopt});
  EXPECT_EQ(device.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(device.status().message(),
            "device 'press-1' already exists (devices' names are unique in the tenant)");
  auto devices = store->CreateDevices(acme, {{"press-2", std::nullopt}, {"press-1", std::nullopt}});
  EXPECT_EQ(devices.status().message(),
            "device 2: device 'press-1' already exists (devices' names are unique in the tenant)");
  for (const Status& s :
       {store->CreateCustomer(TenantId(999), "plant", std::nullopt).status(),
        store->CreateUser(TenantId(999), {"ann", Role::kViewer, std::nullopt, "ann-pass"}).status(),
        store->CreateDevice(TenantId(999), {"press-1", std::nullopt}).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << s;
    EXPECT_EQ(s.message(), "tenant 999 does not exist");
  }
}

TEST_F(MetadataStoreTest, ApiTokensAreScopedAndExpire) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  ASSERT_TRUE(store->AddToken(acme, "acme-secret-token-0001", "admin").ok());
  const Principal admin = *store->AuthenticatePrincipal("acme-secret-token-0001");

  auto reader = store->CreateApiToken(admin, {"dashboards", {Permission::kDataRead}, {}});
  ASSERT_TRUE(reader.ok()) << reader.status();
  const Principal r = *store->AuthenticatePrincipal(reader->second);
  EXPECT_EQ(r.tenant, acme);
  EXPECT_EQ(r.role, Role::kTenantAdmin);
  EXPECT_TRUE(r.Can(Permission::kDataRead));
  EXPECT_FALSE(r.Can(Permission::kDataWrite));
  EXPECT_FALSE(r.Can(Permission::kUsersManage));
  // A scoped token cannot mint a broader one, scoped or not.
  EXPECT_EQ(store->CreateApiToken(r, {"more", {Permission::kDataWrite}, {}}).status().code(),
            StatusCode::kPermissionDenied);
  auto inherited = store->CreateApiToken(r, {"same", {}, {}});
  ASSERT_TRUE(inherited.ok());
  EXPECT_FALSE(store->AuthenticatePrincipal(inherited->second)->Can(Permission::kDataWrite));

  // A user's token acts as that user: no more than the role.
  ASSERT_TRUE(store->CreateUser(acme, {"olga", Role::kOperator, std::nullopt, "olga-pass"}).ok());
  const Principal olga =
      *store->AuthenticatePrincipal(*store->Login("acme", "olga", "olga-pass", "10.0.0.1"));
  EXPECT_EQ(store->CreateApiToken(olga, {"x", {Permission::kUsersManage}, {}}).status().message(),
            "scope 'users.manage' is beyond what the token's creator may do");
  auto ops = store->CreateApiToken(olga, {"line writer", {Permission::kDataWrite}, {}});
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(store->AuthenticatePrincipal(ops->second)->role, Role::kOperator);
  EXPECT_EQ(store->AuthenticatePrincipal(ops->second)->user, olga.user);

  EXPECT_EQ(store->CreateApiToken(admin, {"", {}, {}}).status().code(),
            StatusCode::kInvalidArgument);
  auto brief = store->CreateApiToken(admin, {"brief", {}, int64_t{1}});  // 1 ns
  ASSERT_TRUE(brief.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(store->AuthenticatePrincipal(brief->second).status().code(),
            StatusCode::kUnauthenticated);
  // Scopes survive a reopen.
  store.reset();
  store = Open();
  EXPECT_FALSE(store->AuthenticatePrincipal(reader->second)->Can(Permission::kDataWrite));
}

// CreateApiToken tells the new token's id (what RevokeApiToken takes) and describes it as
// ListApiTokens does; it returned only the secret, so that a caller could not find or revoke
// the token it had just made.
TEST_F(MetadataStoreTest, ANewApiTokenIsListedAsCreated) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  ASSERT_TRUE(store->AddToken(acme, "acme-secret-token-0001", "admin").ok());
  const Principal admin = *store->AuthenticatePrincipal("acme-secret-token-0001");
  auto reader = store->CreateApiToken(
      admin,
      {"dashboards", {Permission::kDataRead, Permission::kModelsRead}, int64_t{60'000'000'000}});
  ASSERT_TRUE(reader.ok()) << reader.status();
  const Principal r = *store->AuthenticatePrincipal(reader->second);
  auto child = store->CreateApiToken(r, {"child", {}, {}});
  ASSERT_TRUE(child.ok()) << child.status();
  const auto listed = *store->ListApiTokens(acme, std::nullopt);
  ASSERT_EQ(listed.size(), 3u);
  for (const auto& [made, at] : {std::pair(&reader->first, 1), std::pair(&child->first, 2)}) {
    const ApiTokenInfo& l = listed[at];
    EXPECT_EQ(made->id, l.id);
    EXPECT_EQ(made->user, l.user);
    EXPECT_EQ(made->description, l.description);
    EXPECT_EQ(made->scopes, l.scopes);
    EXPECT_EQ(made->created_ns, l.created_ns);
    EXPECT_EQ(made->expires_ns, l.expires_ns);
    EXPECT_EQ(made->session, l.session);
    EXPECT_EQ(made->system, l.system);
  }
  EXPECT_NE(reader->first.id, child->first.id);
  EXPECT_EQ(reader->first.expires_ns, reader->first.created_ns + 60'000'000'000);
  // The child has its scoped creator's scopes.
  EXPECT_EQ(child->first.scopes,
            std::vector<Permission>({Permission::kDataRead, Permission::kModelsRead}));
  ASSERT_TRUE(store->RevokeApiToken(acme, child->first.id, std::nullopt).ok());
  EXPECT_FALSE(store->AuthenticatePrincipal(child->second).ok());
  EXPECT_TRUE(store->AuthenticatePrincipal(reader->second).ok());
}

// The system token could make an API token scoped to tenants.manage: API tokens are never
// system tokens, so that token could do nothing at all, yet it listed the scope. A scope named
// twice was stored and listed twice.
TEST_F(MetadataStoreTest, ATokenScopeIsOneItCanUseOnce) {
  auto store = Open();
  const TenantId system = *store->CreateTenant("default");
  ASSERT_TRUE(
      store->AddToken(system, "system-secret-token-0001", "system", TokenKind::kSystem).ok());
  const Principal operator_ = *store->AuthenticatePrincipal("system-secret-token-0001");
  ASSERT_TRUE(operator_.Can(Permission::kTenantsManage));
  auto made = store->CreateApiToken(operator_, {"tenants", {Permission::kTenantsManage}, {}});
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument) << made.status();
  EXPECT_EQ(made.status().message(),
            "scope 'tenants.manage' cannot be given to an API token: only the system token "
            "manages tenants");
  made = store->CreateApiToken(
      operator_,
      {"reader", {Permission::kDataRead, Permission::kModelsRead, Permission::kDataRead}, {}});
  ASSERT_TRUE(made.ok()) << made.status();
  const std::vector<Permission> once = {Permission::kDataRead, Permission::kModelsRead};
  EXPECT_EQ(made->first.scopes, once);
  EXPECT_EQ(store->ListApiTokens(system, std::nullopt)->back().scopes, once);
  EXPECT_EQ(store->AuthenticatePrincipal(made->second)->scopes, once);
}

// AuthenticatePrincipal answers from memory after a token's first use: every change to the
// token, its user or its tenant still applies at the next call, and so does its expiry.
TEST_F(MetadataStoreTest, CachedPrincipalsFollowEveryChange) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  ASSERT_TRUE(store->CreateUser(acme, {"olga", Role::kOperator, std::nullopt, "olga-pass"}).ok());
  const std::string session = *store->Login("acme", "olga", "olga-pass", "10.0.0.1");
  const Principal olga = *store->AuthenticatePrincipal(session);
  const std::string api = store->CreateApiToken(olga, {"ci", {}, {}})->second;
  const std::string brief =
      store->CreateApiToken(olga, {"brief", {}, int64_t{80'000'000}})->second;  // 80 ms
  for (int i = 0; i < 2; ++i) {  // the second time from memory
    EXPECT_EQ(store->AuthenticatePrincipal(api)->role, Role::kOperator);
    EXPECT_TRUE(store->AuthenticatePrincipal(brief).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->AuthenticatePrincipal(brief).status().code(), StatusCode::kUnauthenticated);
  // A role change (which also ends the user's sessions).
  UserUpdate viewer;
  viewer.role = Role::kViewer;
  ASSERT_TRUE(store->UpdateUser(acme, *olga.user, viewer).ok());
  EXPECT_EQ(store->AuthenticatePrincipal(api)->role, Role::kViewer);
  EXPECT_FALSE(store->AuthenticatePrincipal(session).ok());
  // Revocation, and the user's deletion (its tokens go by cascade).
  const std::string other = store->CreateApiToken(olga, {"other", {}, {}})->second;
  EXPECT_TRUE(store->AuthenticatePrincipal(other).ok());
  const auto tokens = *store->ListApiTokens(acme, std::nullopt);
  for (const ApiTokenInfo& t : tokens) {
    if (t.description == "ci") {
      ASSERT_TRUE(store->RevokeApiToken(acme, t.id, std::nullopt).ok());
    }
  }
  EXPECT_FALSE(store->AuthenticatePrincipal(api).ok());
  EXPECT_TRUE(store->AuthenticatePrincipal(other).ok());
  ASSERT_TRUE(store->DeleteUser(acme, *olga.user).ok());
  EXPECT_FALSE(store->AuthenticatePrincipal(other).ok());
  // A tenant's deletion.
  ASSERT_TRUE(store->AddToken(acme, "acme-secret-token-0001", "admin").ok());
  EXPECT_TRUE(store->AuthenticatePrincipal("acme-secret-token-0001").ok());
  ASSERT_TRUE(store->DeleteTenant(acme).ok());
  EXPECT_FALSE(store->AuthenticatePrincipal("acme-secret-token-0001").ok());
}

TEST_F(MetadataStoreTest, RepeatedLoginFailuresAreRefusedForTheUserAndTheAddress) {
  auto store = Open();
  const TenantId acme = *store->CreateTenant("acme");
  ASSERT_TRUE(store->CreateUser(acme, {"alice", Role::kViewer, std::nullopt, "right-pass"}).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(store->Login("acme", "alice", "guess", "10.0.0.9").status().code(),
              StatusCode::kUnauthenticated);
  }
  // Now even the right password waits, from any address.
  auto blocked = store->Login("acme", "alice", "right-pass", "10.0.0.10");
  EXPECT_EQ(blocked.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(blocked.status().message().find("too many failed logins for user 'alice'"),
            std::string_view::npos)
      << blocked.status();
  // The guessing address is refused for other users too.
  auto address = store->Login("acme", "bob", "x", "10.0.0.9");
  EXPECT_EQ(address.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(address.status().message().find("address 10.0.0.9"), std::string_view::npos);
}

TEST_F(MetadataStoreTest, AVersionOneDatabaseIsUpgradedInPlace) {
  {
    // The schema of the first release: tenants and tokens only, user_version 0.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const std::string hash = HashToken("old-token-from-v1-0001");
    const std::string sql =
        "CREATE TABLE tenants(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " created_ns INTEGER NOT NULL);"
        "CREATE TABLE tokens(hash TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL"
        " REFERENCES tenants(id), description TEXT NOT NULL, created_ns INTEGER NOT NULL);"
        "INSERT INTO tenants VALUES(7, 'acme', 1), (8, 'default', 1);"
        "INSERT INTO tokens VALUES('" +
        hash + "', 7, 'admin', 1), ('" + HashToken("old-default-admin-0001") + "', 8, 'admin', 1);";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->Authenticate("old-token-from-v1-0001"), TenantId(7));
  // The default tenant's first admin token manages tenants (version 5); others do not.
  EXPECT_TRUE(store->AuthenticatePrincipal("old-default-admin-0001")->system);
  EXPECT_FALSE(store->AuthenticatePrincipal("old-token-from-v1-0001")->system);
  EXPECT_EQ(store->GetTenant(TenantId(7))->settings, TenantSettings());
  EXPECT_TRUE(
      store->CreateUser(TenantId(7), {"alice", Role::kViewer, std::nullopt, "p-pass"}).ok());
  store.reset();
  EXPECT_EQ(Open()->ListUsers(TenantId(7))->size(), 1u);  // upgraded once, reopened as is
  EXPECT_TRUE(Open()->CreateDevice(TenantId(7), {"press-1", std::nullopt}).ok());
}

TEST(DeviceCsvTest, RowsHeaderBlankLinesAndErrors) {
  auto rows = ParseDeviceCsv("name,customer\r\npress-1,3\r\n\r\npress-2,\nmeter-9");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].device.name, "press-1");
  EXPECT_EQ((*rows)[0].device.customer, std::make_optional(CustomerId(3)));
  EXPECT_EQ((*rows)[0].line, 2u);
  EXPECT_FALSE((*rows)[1].device.customer.has_value());
  EXPECT_EQ((*rows)[2].line, 5u);
  // "name" is a header only on the first line.
  EXPECT_EQ(ParseDeviceCsv("a\nname\n")->size(), 2u);
  EXPECT_EQ(ParseDeviceCsv("a,1\nb,x2\n").status().message(),
            "line 2: customer 'x2' is not a customer id");
  EXPECT_EQ(ParseDeviceCsv("name,customer\n\n").status().message(),
            "no devices: send CSV lines name[,customer]");
  std::string many;
  for (size_t i = 0; i <= kMaxDevicesPerImport; ++i) many += "d" + std::to_string(i) + "\n";
  EXPECT_EQ(ParseDeviceCsv(many).status().message(),
            "line 10001: at most 10000 devices per import");
}

TEST(LoginLimiterTest, RefusesAfterTheLimitUntilTheWindowPasses) {
  ManualClock clock;
  LoginLimiterOptions options;
  options.max_failures = 3;
  options.window_ns = 60'000'000'000;
  LoginLimiter limiter(&clock, options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Check("k", "user 'a'").ok());
    limiter.RecordFailure("k");
    clock.Advance(Duration::Seconds(10));
  }
  Status refused = limiter.Check("k", "user 'a'");
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "too many failed logins for user 'a'; retry in 30 s");
  EXPECT_TRUE(limiter.Check("other", "user 'b'").ok());
  clock.Advance(Duration::Seconds(30));  // the first failure leaves the window
  EXPECT_TRUE(limiter.Check("k", "user 'a'").ok());
  limiter.RecordFailure("k");
  EXPECT_FALSE(limiter.Check("k", "user 'a'").ok());
  limiter.RecordSuccess("k");
  EXPECT_TRUE(limiter.Check("k", "user 'a'").ok());
}

TEST_F(MetadataStoreTest, UnopenablePathIsAClearError) {
  auto store = OpenSqliteMetadataStore("/nonexistent-dir/x/metadata.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/x/metadata.db"), std::string_view::npos)
      << store.status();
}

}  // namespace
}  // namespace seaway

namespace seaway {
namespace {

class DeviceCredentialsTest : public MetadataStoreTest {
 protected:
  void SetUp() override {
    MetadataStoreTest::SetUp();
    store_ = Open();
    acme_ = *store_->CreateTenant("acme");
    beta_ = *store_->CreateTenant("beta");
    press_ = store_->CreateDevice(acme_, {"press-7", std::nullopt})->id;
    meter_ = store_->CreateDevice(beta_, {"meter-1", std::nullopt})->id;
  }
  std::unique_ptr<MetadataStore> store_;
  TenantId acme_, beta_;
  DeviceId press_, meter_;
};

constexpr char kFingerprint[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST_F(DeviceCredentialsTest, UserNameAndPassword) {
  DeviceCredentialsUpdate update;
  update.password = std::pair(std::string("press-7@acme"), std::string("s3cret-press"));
  ASSERT_TRUE(store_->UpdateDeviceCredentials(acme_, press_, update).ok());
  auto who = store_->AuthenticateDevicePassword("press-7@acme", "s3cret-press");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->first, acme_);
  EXPECT_EQ(who->second.name, "press-7");
  // Again (from the verified cache), and wrong ones.
  EXPECT_TRUE(store_->AuthenticateDevicePassword("press-7@acme", "s3cret-press").ok());
  EXPECT_EQ(store_->AuthenticateDevicePassword("press-7@acme", "s3cret-pres").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(store_->AuthenticateDevicePassword("press-8@acme", "s3cret-press").ok());
  // A new password replaces the old, also in the cache.
  update.password = std::pair(std::string("press-7@acme"), std::string("new-secret"));
  ASSERT_TRUE(store_->UpdateDeviceCredentials(acme_, press_, update).ok());
  EXPECT_FALSE(store_->AuthenticateDevicePassword("press-7@acme", "s3cret-press").ok());
  EXPECT_TRUE(store_->AuthenticateDevicePassword("press-7@acme", "new-secret").ok());
  EXPECT_EQ(store_->GetDeviceCredentials(acme_, press_)->username, "press-7@acme");
  // User names are unique across tenants; another tenant cannot touch the device.
  DeviceCredentialsUpdate taken;
  taken.password = std::pair(std::string("press-7@acme"), std::string("x"));
  EXPECT_EQ(store_->UpdateDeviceCredentials(beta_, meter_, taken).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->UpdateDeviceCredentials(beta_, press_, update).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDeviceCredentials(beta_, press_).status().code(), StatusCode::kNotFound);
  // Removing the password, or the device, ends it.
  DeviceCredentialsUpdate remove;
  remove.password = std::optional<std::pair<std::string, std::string>>();
  ASSERT_TRUE(store_->UpdateDeviceCredentials(acme_, press_, remove).ok());
  EXPECT_FALSE(store_->AuthenticateDevicePassword("press-7@acme", "new-secret").ok());
  EXPECT_FALSE(store_->GetDeviceCredentials(acme_, press_)->username.has_value());
}

TEST_F(DeviceCredentialsTest, CertificatesByFingerprint) {
  DeviceCredentialsUpdate update;
  update.certificates = std::vector<std::string>{
      "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
      "CD:EF"};
  ASSERT_TRUE(store_->UpdateDeviceCredentials(acme_, press_, update).ok());
  auto who = store_->AuthenticateDeviceCertificate(kFingerprint);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->second.name, "press-7");
  EXPECT_EQ(store_->GetDeviceCredentials(acme_, press_)->certificates,
            std::vector<std::string>{kFingerprint});
  // One certificate, one device.
  DeviceCredentialsUpdate steal;
  steal.certificates = std::vector<std::string>{kFingerprint};
  EXPECT_EQ(store_->UpdateDeviceCredentials(beta_, meter_, steal).code(),
            StatusCode::kAlreadyExists);
  steal.certificates = std::vector<std::string>{"not-a-fingerprint"};
  EXPECT_EQ(store_->UpdateDeviceCredentials(acme_, press_, steal).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->AuthenticateDeviceCertificate(kFingerprint).ok()) << "a refused update "
                                                                           "changes nothing";
  ASSERT_TRUE(store_->DeleteDevice(acme_, press_).ok());
  EXPECT_FALSE(store_->AuthenticateDeviceCertificate(kFingerprint).ok());
}

TEST_F(DeviceCredentialsTest, PemCertificatesAndRotatedTokens) {
  EXPECT_EQ(CertificateFingerprint("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----")
                .status()
                .message(),
            "the PEM certificate cannot be read");
  auto rotated = store_->RotateDeviceToken(acme_, press_);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(store_->AuthenticateDevice(*rotated)->second.name, "press-7");
  auto again = store_->RotateDeviceToken(acme_, press_);
  EXPECT_FALSE(store_->AuthenticateDevice(*rotated).ok());
  EXPECT_TRUE(store_->AuthenticateDevice(*again).ok());
  EXPECT_EQ(store_->RotateDeviceToken(beta_, press_).status().code(), StatusCode::kNotFound);
}

TEST_F(DeviceCredentialsTest, ProvisioningKeysMakeDevicesUpToTheirLimit) {
  const CustomerId plant = *store_->CreateCustomer(acme_, "plant", std::nullopt);
  // Without a ModelStore there are no thing models to name (model_store_test has them).
  EXPECT_EQ(
      store_->CreateProvisioningKey(acme_, {"line-2", plant, "cnc-mill", 2}).status().message(),
      "'model': thing model 'cnc-mill' does not exist");
  auto key = store_->CreateProvisioningKey(acme_, {"line-2", plant, "", 2});
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string public_key = key->first.key, secret = key->second;
  auto admit = [](const ProvisioningKeyInfo&) { return Status::OK(); };
  auto made = store_->ProvisionDevice(public_key, secret, "mill-1", admit);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->first.tenant, acme_);
  EXPECT_EQ(made->first.name, "line-2");
  auto device = store_->AuthenticateDevice(made->second.token);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ(device->second.customer, std::make_optional(plant));
  EXPECT_EQ(store_->ProvisionDevice(public_key, "wrong", "mill-2", admit).status().message(),
            "invalid provisioning key or secret");
  EXPECT_EQ(store_->ProvisionDevice(public_key, secret, "mill-1", admit).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_
                ->ProvisionDevice(
                    public_key, secret, "mill-2",
                    [](const ProvisioningKeyInfo&) { return ResourceExhausted("quota 'devices'"); })
                .status()
                .message(),
            "quota 'devices'");
  EXPECT_TRUE(store_->ProvisionDevice(public_key, secret, "mill-2", admit).ok());
  EXPECT_EQ(store_->ProvisionDevice(public_key, secret, "mill-3", admit).status().message(),
            "provisioning key 'line-2' has made its 2 devices");
  EXPECT_EQ((*store_->ListProvisioningKeys(acme_))[0].provisioned, 2u);
  EXPECT_TRUE(store_->ListProvisioningKeys(beta_)->empty());
  EXPECT_EQ(store_->DeleteProvisioningKey(beta_, key->first.id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteProvisioningKey(acme_, key->first.id).ok());
  EXPECT_EQ(store_->ProvisionDevice(public_key, secret, "mill-3", admit).status().code(),
            StatusCode::kUnauthenticated);
}

// A device that cannot be finished (e.g. its key names a thing model that no longer exists) is
// not made: it was deleted again, but still counted against the key's max_devices, so that a
// few failed attempts used the key up.
TEST_F(DeviceCredentialsTest, AProvisionedDeviceThatCannotBeFinishedNeitherExistsNorCounts) {
  auto key = store_->CreateProvisioningKey(acme_, {"line-3", std::nullopt, "", 1});
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string public_key = key->first.key, secret = key->second;
  auto admit = [](const ProvisioningKeyInfo&) { return Status::OK(); };
  DeviceId seen;
  auto fail = [&](const ProvisioningKeyInfo& k, DeviceId d) {
    seen = d;
    return FailedPrecondition("provisioning key '{}' names model 'gone', which does not exist",
                              k.name);
  };
  const size_t devices = store_->ListDevices(acme_)->size();
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto made = store_->ProvisionDevice(public_key, secret, "mill-9", admit, fail);
    EXPECT_EQ(made.status().code(), StatusCode::kFailedPrecondition) << made.status();
    EXPECT_NE(seen, DeviceId());
    EXPECT_EQ(store_->ListDevices(acme_)->size(), devices);
  }
  EXPECT_EQ((*store_->ListProvisioningKeys(acme_))[0].provisioned, 0u);
  // Once it can be finished, the key still makes its one device.
  auto made =
      store_->ProvisionDevice(public_key, secret, "mill-9", admit,
                              [](const ProvisioningKeyInfo&, DeviceId) { return Status::OK(); });
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*store_->ListProvisioningKeys(acme_))[0].provisioned, 1u);
  EXPECT_EQ(store_->ListDevices(acme_)->size(), devices + 1);
}

}  // namespace
}  // namespace seaway

namespace seaway {
namespace {

class TwinStoreTest : public DeviceCredentialsTest {
 protected:
  void SetUp() override {
    DeviceCredentialsTest::SetUp();
    auto db = SqliteDatabase::Open(path_);
    ASSERT_TRUE(db.ok());
    // A second connection to the same file: the twin store's, next to the metadata store's.
    auto twins = OpenSqliteTwinStore(*db);
    ASSERT_TRUE(twins.ok()) << twins.status();
    twins_ = std::move(*twins);
  }
  std::unique_ptr<TwinStore> twins_;
};

TEST_F(TwinStoreTest, DesiredReportedDeltaAndVersions) {
  using nlohmann::json;
  auto twin = twins_->GetTwin(acme_, press_);
  ASSERT_TRUE(twin.ok()) << twin.status();
  EXPECT_EQ(twin->desired_version, 0u);
  EXPECT_TRUE(TwinDelta(*twin).empty());
  twin = twins_->PatchDesired(acme_, press_, json{{"rpm", 1200}, {"mode", "auto"}},
                              json{{"line", "L2"}});
  ASSERT_TRUE(twin.ok()) << twin.status();
  EXPECT_EQ(twin->desired_version, 1u);
  EXPECT_EQ(TwinDelta(*twin), (json{{"rpm", 1200}, {"mode", "auto"}}));
  twin = twins_->PatchReported(acme_, "press-7", json{{"rpm", 1200}, {"temp", 40}});
  ASSERT_TRUE(twin.ok()) << twin.status();
  EXPECT_EQ(twin->reported_version, 1u);
  EXPECT_EQ(TwinDelta(*twin), (json{{"mode", "auto"}}));
  // Merge patches: null removes; an unchanged patch keeps the version.
  twin = twins_->PatchDesired(acme_, press_, json{{"mode", nullptr}}, nullptr);
  EXPECT_EQ(twin->desired_version, 2u);
  EXPECT_TRUE(TwinDelta(*twin).empty());
  twin = twins_->PatchDesired(acme_, press_, json{{"rpm", 1200}}, nullptr);
  EXPECT_EQ(twin->desired_version, 2u);
  EXPECT_EQ(twins_->GetTwin(acme_, press_)->tags, (json{{"line", "L2"}}));
  // Refusals change nothing.
  EXPECT_EQ(twins_->PatchDesired(acme_, press_, json{{"$version", 9}}, nullptr).status().message(),
            "'desired.$version': members starting with '$' are reserved");
  EXPECT_EQ(twins_->PatchDesired(acme_, press_, json::array(), nullptr).status().message(),
            "'desired' must be a JSON object");
  EXPECT_NE(twins_->PatchReported(acme_, "press-7", json{{"blob", std::string(40000, 'x')}})
                .status()
                .message()
                .find("would exceed 32768 bytes"),
            std::string::npos);
  EXPECT_EQ(twins_->GetTwin(acme_, press_)->reported_version, 1u);
  // Tenants: another's device is not there.
  EXPECT_EQ(twins_->GetTwin(beta_, press_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(twins_->PatchReported(beta_, "press-7", json{{"x", 1}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(twins_->ListTwins(beta_)->size(), 1u);  // meter-1's, empty
  // The twin goes with its device.
  ASSERT_TRUE(store_->DeleteDevice(acme_, press_).ok());
  EXPECT_EQ(twins_->GetTwin(acme_, press_).status().code(), StatusCode::kNotFound);
  const DeviceId again = store_->CreateDevice(acme_, {"press-7", std::nullopt})->id;
  EXPECT_EQ(twins_->GetTwin(acme_, again)->desired_version, 0u);
}

}  // namespace
}  // namespace seaway

namespace seaway {
namespace {

TEST_F(TwinStoreTest, CustomersAreDeletedOnlyWhenTheyHoldNothing) {
  const CustomerId plant = *store_->CreateCustomer(acme_, "plant", std::nullopt);
  const CustomerId line = *store_->CreateCustomer(acme_, "line", plant);
  ASSERT_TRUE(store_->SetDeviceCustomer(acme_, press_, line).ok());
  ASSERT_TRUE(store_->CreateUser(acme_, {"ann", Role::kCustomerUser, line, "ann-password-1"}).ok());
  ASSERT_TRUE(store_->CreateProvisioningKey(acme_, {"line-key", line, "", std::nullopt}).ok());
  auto refused = store_->DeleteCustomer(acme_, line);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "customer 'line' still has 1 user, 1 device, 1 provisioning key: move or delete them "
            "first");
  EXPECT_EQ(store_->DeleteCustomer(acme_, plant).message(),
            "customer 'plant' still has 1 sub-customer: move or delete them first");
  // Another tenant cannot delete it, nor learn what it holds.
  EXPECT_EQ(store_->DeleteCustomer(beta_, line).code(), StatusCode::kNotFound);

  // Assets hold it too (a table of another store, in the same database).
  auto assets = OpenSqliteAssetStore(*SqliteDatabase::Open(path_));
  ASSERT_TRUE(assets.ok()) << assets.status();
  const AssetId site = *(*assets)->CreateAsset(acme_, {"site", "site", std::nullopt, line});

  ASSERT_TRUE(store_->SetDeviceCustomer(acme_, press_, std::nullopt).ok());
  const UserId ann = store_->ListUsers(acme_)->front().id;
  ASSERT_TRUE(store_->DeleteUser(acme_, ann).ok());
  ASSERT_TRUE(
      store_->DeleteProvisioningKey(acme_, store_->ListProvisioningKeys(acme_)->front().id).ok());
  EXPECT_EQ(store_->DeleteCustomer(acme_, line).message(),
            "customer 'line' still has objects assigned to it (such as assets): move or delete "
            "them first");
  ASSERT_TRUE((*assets)->DeleteAsset(acme_, site, /*recursive=*/false).ok());
  EXPECT_TRUE(store_->DeleteCustomer(acme_, line).ok());
  EXPECT_TRUE(store_->DeleteCustomer(acme_, plant).ok());
  EXPECT_TRUE(store_->ListCustomers(acme_)->empty());
  EXPECT_EQ(store_->DeleteCustomer(acme_, plant).code(), StatusCode::kNotFound);
}

TEST_F(TwinStoreTest, DeletingATenantRemovesEveryObjectOfItAndRetiresItsId) {
  const CustomerId plant = *store_->CreateCustomer(acme_, "plant", std::nullopt);
  ASSERT_TRUE(store_->SetDeviceCustomer(acme_, press_, plant).ok());
  ASSERT_TRUE(
      store_->CreateUser(acme_, {"ann", Role::kOperator, std::nullopt, "ann-password-1"}).ok());
  ASSERT_TRUE(store_->AddToken(acme_, "acme-admin-token-0123456789", "admin").ok());
  const std::string device_token = store_->RotateDeviceToken(acme_, press_).value();
  ASSERT_TRUE(store_->CreateProvisioningKey(acme_, {"key", plant, "", std::nullopt}).ok());
  ASSERT_TRUE(
      twins_->PatchDesired(acme_, press_, nlohmann::json{{"rpm", 1}}, nlohmann::json()).ok());
  auto assets = OpenSqliteAssetStore(*SqliteDatabase::Open(path_));
  ASSERT_TRUE(assets.ok()) << assets.status();
  ASSERT_TRUE((*assets)->CreateAsset(acme_, {"site", "site", std::nullopt, plant}).ok());
  EXPECT_TRUE(store_->DeletedTenants()->empty());

  ASSERT_TRUE(store_->DeleteTenant(acme_).ok());
  EXPECT_EQ(store_->GetTenant(acme_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->FindTenant("acme").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->Authenticate("acme-admin-token-0123456789").ok());
  EXPECT_FALSE(store_->AuthenticateDevice(device_token).ok());
  EXPECT_EQ(store_->Login("acme", "ann", "ann-password-1", "10.0.0.1").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->ListDevices(acme_)->empty());
  EXPECT_TRUE(store_->ListCustomers(acme_)->empty());
  EXPECT_TRUE(store_->ListProvisioningKeys(acme_)->empty());
  EXPECT_TRUE((*assets)->ListAssets(acme_, {})->empty());
  EXPECT_TRUE(twins_->ListTwins(acme_)->empty());
  EXPECT_EQ(store_->DeleteTenant(acme_).code(), StatusCode::kNotFound);
  // Beta is untouched.
  EXPECT_EQ(store_->ListDevices(beta_)->size(), 1u);

  // Its data outside this store is to be dropped (by the server, at every start too).
  EXPECT_EQ(*store_->DeletedTenants(), std::vector<TenantId>{acme_});

  // The name is free again; the id (the engine's key for the tenant's data) is never reused,
  // also when the deleted tenant had the highest id.
  ASSERT_TRUE(store_->DeleteTenant(beta_).ok());
  const TenantId again = *store_->CreateTenant("acme");
  EXPECT_GT(again.value(), beta_.value());
  EXPECT_NE(again, acme_);
  EXPECT_TRUE(store_->ListDevices(again)->empty());
  // The retirement survives a reopening.
  store_.reset();
  twins_.reset();
  store_ = Open();
  EXPECT_EQ(*store_->DeletedTenants(), (std::vector<TenantId>{acme_, beta_}));
  EXPECT_GT(store_->CreateTenant("gamma")->value(), again.value());
}

}  // namespace
}  // namespace seaway
