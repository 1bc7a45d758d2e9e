// Tests for the platform routes (src/http/platform_handlers.h, tenant_handlers.h) through a
// Router over an in-memory metadata store: request bodies that name a field the route does not
// know are refused naming it, rather than acted on without it.
#include "http/platform_handlers.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/model_handlers.h"
#include "http/tenant_handlers.h"
#include "http/twin_handlers.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr char kSystemToken[] = "system-token-0123456789abcdef";
constexpr char kAcmeToken[] = "acme-tenant-token-0123456789";

class PlatformRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status();
    auto metadata = OpenSqliteMetadataStore(*db);
    ASSERT_TRUE(metadata.ok()) << metadata.status();
    metadata_ = std::move(*metadata);
    const TenantId system = *metadata_->CreateTenant("default");
    acme_ = *metadata_->CreateTenant("acme");
    ASSERT_TRUE(metadata_->AddToken(system, kSystemToken, "system", TokenKind::kSystem).ok());
    ASSERT_TRUE(metadata_->AddToken(acme_, kAcmeToken, "test").ok());
    platform_ = PlatformRoutesContext{metadata_.get()};
    AddPlatformRoutes(&router_, &platform_);
    tenants_ = TenantRoutesContext{metadata_.get()};
    tenants_.purge_tenant = [](TenantId) { return Status::OK(); };
    AddTenantRoutes(&router_, &tenants_);
    auto models = OpenSqliteModelStore(*db);
    ASSERT_TRUE(models.ok()) << models.status();
    models_ = std::move(*models);
    model_routes_ = ModelRoutesContext{metadata_.get(), models_.get()};
    AddModelRoutes(&router_, &model_routes_);
    auto twins = OpenSqliteTwinStore(*db);
    ASSERT_TRUE(twins.ok()) << twins.status();
    twins_ = std::move(*twins);
    twin_routes_ = TwinRoutesContext{metadata_.get(), twins_.get()};
    AddTwinRoutes(&router_, &twin_routes_);
  }

  HttpResponse Call(HttpMethod method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.remote_address = "127.0.0.1:5000";
    if (!token.empty()) request.headers.emplace_back("Authorization", "Token " + token);
    HttpResponse out;
    bool answered = false;
    router_.Dispatch(request, HttpReply([&](HttpResponse r) {
                       out = std::move(r);
                       answered = true;
                     }));
    EXPECT_TRUE(answered);
    return out;
  }

  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<ModelStore> models_;
  ModelRoutesContext model_routes_;
  std::unique_ptr<TwinStore> twins_;
  TwinRoutesContext twin_routes_;
  TenantId acme_;
  PlatformRoutesContext platform_;
  TenantRoutesContext tenants_;
  Router router_;
};

// A misspelt optional field was ignored: {"scope": [...]} made a token with every permission of
// its creator, {"expires_in": 60} one that never expires, {"custmer": 7} an unassigned device.
TEST_F(PlatformRoutesTest, UnknownBodyFieldsAreRefusedNamingThem) {
  struct Case {
    const char* target;
    const char* body;
    const char* field;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"/api/v1/tokens", R"({"description":"ro","scope":["data.read"]})", "scope"},
           {"/api/v1/tokens", R"({"description":"short","expires_in":60})", "expires_in"},
           {"/api/v1/devices", R"({"name":"press","custmer":1})", "custmer"},
           {"/api/v1/customers", R"({"name":"line","parnt":1})", "parnt"},
           {"/api/v1/users",
            R"({"name":"carol","role":"viewer","password":"secret-pass","custmer":1})", "custmer"},
           {"/api/v1/provisioning-keys", R"({"name":"k","max_device":1})", "max_device"},
       }) {
    HttpResponse r = Call(HttpMethod::kPost, c.target, kAcmeToken, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body << ": " << r.body;
    EXPECT_NE(r.body.find(fmt::format("unknown field '{}'", c.field)), std::string::npos)
        << c.target << ": " << r.body;
  }
  // Nothing was made.
  auto tokens = metadata_->ListApiTokens(acme_, std::nullopt);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 1u);
  EXPECT_TRUE(metadata_->ListDevices(acme_)->empty());
  EXPECT_TRUE(metadata_->ListCustomers(acme_)->empty());
  EXPECT_TRUE(metadata_->ListUsers(acme_)->empty());

  // The known fields still work.
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken,
                        R"({"description":"ro","scopes":["data.read"],"expires_in_s":60})");
  EXPECT_EQ(r.status, 201) << r.body;
  r = Call(HttpMethod::kPost, "/api/v1/tenants", kSystemToken, R"({"name":"beta","setting":{}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("unknown field 'setting'"), std::string::npos) << r.body;
}

// A list route took any query parameter and ignored the ones it did not know, so that a
// misspelt filter (?limt=, ?parnt=) returned the whole list; and GET /api/v1/twins refused
// the `p` token parameter that every other route takes.
TEST_F(PlatformRoutesTest, ListsRefuseUnknownQueryParameters) {
  for (const auto& [path, token] : std::initializer_list<std::pair<const char*, const char*>>{
           {"/api/v1/tokens", kAcmeToken},
           {"/api/v1/provisioning-keys", kAcmeToken},
           {"/api/v1/models", kAcmeToken},
           {"/api/v1/tenants", kSystemToken},
       }) {
    HttpResponse r = Call(HttpMethod::kGet, fmt::format("{}?limt=1", path), token);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_NE(r.body.find("unknown query parameter 'limt' (expected limit, offset)"),
              std::string::npos)
        << path << ": " << r.body;
    r = Call(HttpMethod::kGet, fmt::format("{}?limit=1&offset=0", path), token);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  }
  ASSERT_TRUE(metadata_->CreateDevice(acme_, {"press-1", std::nullopt}).ok());
  HttpResponse r =
      Call(HttpMethod::kGet, fmt::format("/api/v1/twins?p={}&limit=5", kAcmeToken), "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["total"], 1) << r.body;
  r = Call(HttpMethod::kGet, "/api/v1/twins?tags.site=lyon", kAcmeToken);
  EXPECT_EQ(r.status, 400) << r.body;
}

// A creation answered {"id"} for customers and users and left the device's customer out, so
// that a client had to GET what it had just made to see it as the lists show it.
TEST_F(PlatformRoutesTest, CreationsAnswerWithTheFieldsGetShows) {
  struct Case {
    const char* path;
    std::string body;
  };
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/customers", kAcmeToken, R"({"name":"plant"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const uint64_t plant = json::parse(r.body)["id"];
  for (const Case& c : std::initializer_list<Case>{
           {"/api/v1/customers", fmt::format(R"({{"name":"line","parent":{}}})", plant)},
           {"/api/v1/users", fmt::format(R"({{"name":"carol","role":"customer-user","customer":{},)"
                                         R"("password":"carol-password"}})",
                                         plant)},
           {"/api/v1/users", R"({"name":"olga","role":"operator","password":"olga-password"})"},
           {"/api/v1/devices", fmt::format(R"({{"name":"press-1","customer":{}}})", plant)},
           {"/api/v1/devices", R"({"name":"press-2"})"},
       }) {
    r = Call(HttpMethod::kPost, c.path, kAcmeToken, c.body);
    ASSERT_EQ(r.status, 201) << c.path << " " << c.body << ": " << r.body;
    json created = json::parse(r.body);
    created.erase("token");
    created.erase("mqtt");
    HttpResponse got = Call(
        HttpMethod::kGet, fmt::format("{}/{}", c.path, created["id"].get<uint64_t>()), kAcmeToken);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(created, json::parse(got.body)) << c.path << " " << c.body;
  }
}

// A CSV import's errors name the line: an unknown customer and any error of a one-line import
// did not, and a name given twice in the file was said to "already exist".
TEST_F(PlatformRoutesTest, ImportErrorsNameTheLine) {
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/customers", kAcmeToken, R"({"name":"plant"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const uint64_t plant = json::parse(r.body)["id"];
  ASSERT_TRUE(metadata_->CreateDevice(acme_, {"press-0", std::nullopt}).ok());
  struct Case {
    std::string csv;
    int status;
    std::string error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {fmt::format("name,customer\npress-1,{}\npress-2,999\n", plant), 404,
            "line 3: device's customer 999 does not exist"},
           {"press-1,999\n", 404, "line 1: device's customer 999 does not exist"},
           {"\nbad name\n", 400,
            "line 2: device name 'bad name': only letters, digits, '-', '_', '.' and '@'"},
           {"press-1\npress-2\npress-1\n", 400,
            "line 3: device 'press-1' is named twice (also on line 1)"},
           {"press-0\n", 409,
            "line 1: device 'press-0' already exists (devices' names are unique in the tenant)"},
           {"press-1\npress-0\n", 409,
            "line 2: device 'press-0' already exists (devices' names are unique in the tenant)"},
       }) {
    r = Call(HttpMethod::kPost, "/api/v1/devices/import", kAcmeToken, c.csv);
    EXPECT_EQ(r.status, c.status) << c.csv << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"], c.error) << c.csv;
  }
  EXPECT_EQ(metadata_->ListDevices(acme_)->size(), 1u);  // none of them made a device
  r = Call(HttpMethod::kPost, "/api/v1/devices/import", kAcmeToken,
           fmt::format("press-1,{}\npress-2\n", plant));
  EXPECT_EQ(r.status, 201) << r.body;
}

// {"scopes": []} made a token with every permission of its creator (no scopes means all of
// them), the opposite of what it reads as; it is refused, and leaving 'scopes' out still
// means all of the creator's.
TEST_F(PlatformRoutesTest, AnEmptyScopeListIsRefused) {
  HttpResponse r =
      Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken, R"({"description":"x","scopes":[]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"],
            "'scopes' is empty: list the permissions the token may use, or leave 'scopes' out for "
            "all of the caller's");
  EXPECT_EQ(metadata_->ListApiTokens(acme_, std::nullopt)->size(), 1u);
  r = Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken, R"({"description":"x"})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = Call(HttpMethod::kGet, "/api/v1/auth/whoami", json::parse(r.body)["token"]);
  const json permissions = json::parse(r.body)["permissions"];
  EXPECT_NE(std::find(permissions.begin(), permissions.end(), "users.manage"), permissions.end())
      << r.body;
}

// GET /api/v1/devices/{id}/model needs devices.read besides models.read; a token scoped to
// models.read alone was told "role 'tenant-admin' lacks permission 'devices.read'", which the
// role has: it is the token's scopes that lack it.
TEST_F(PlatformRoutesTest, ADeviceModelRefusalNamesTheTokensScopes) {
  auto device = metadata_->CreateDevice(acme_, {"press-1", std::nullopt});
  ASSERT_TRUE(device.ok()) << device.status();
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken,
                        R"({"description":"models","scopes":["models.read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = Call(HttpMethod::kGet, fmt::format("/api/v1/devices/{}/model", device->id.value()),
           json::parse(r.body)["token"]);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"], "the token's scopes do not include 'devices.read'");
}

// A token made by a scoped token without scopes of its own has its creator's scopes; the answer
// said "scopes": [], which reads as every permission.
TEST_F(PlatformRoutesTest, ATokenMadeByAScopedTokenShowsTheScopesItHas) {
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken,
                        R"({"description":"manager","scopes":["tokens.manage","data.read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string manager = json::parse(r.body)["token"];
  r = Call(HttpMethod::kPost, "/api/v1/tokens", manager, R"({"description":"child"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["scopes"], json({"tokens.manage", "data.read"})) << r.body;
  const std::string child = json::parse(r.body)["token"];
  r = Call(HttpMethod::kGet, "/api/v1/auth/whoami", child);
  EXPECT_EQ(json::parse(r.body)["permissions"], json({"data.read", "tokens.manage"})) << r.body;
}

// POST /api/v1/tokens answered without the token's id, so that its caller could neither find
// it in GET /api/v1/tokens nor revoke it with DELETE /api/v1/tokens/{id}. It answers with the
// fields GET lists, and the token.
TEST_F(PlatformRoutesTest, ANewTokenHasTheIdAndFieldsItIsListedWith) {
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/tokens", kAcmeToken,
                        R"({"description":"ci","scopes":["data.read"],"expires_in_s":3600})");
  ASSERT_EQ(r.status, 201) << r.body;
  json created = json::parse(r.body);
  ASSERT_TRUE(created["id"].is_number_unsigned()) << r.body;
  const std::string secret = created["token"];
  EXPECT_EQ(created["expires_in_s"], 3600) << r.body;
  EXPECT_EQ(created["expires_ns"].get<int64_t>() - created["created_ns"].get<int64_t>(),
            int64_t{3600} * 1'000'000'000)
      << r.body;
  r = Call(HttpMethod::kGet, "/api/v1/tokens", kAcmeToken);
  ASSERT_EQ(r.status, 200) << r.body;
  const json list = json::parse(r.body);
  json listed;
  for (const json& t : list["items"]) {
    if (t["id"] == created["id"]) listed = t;
  }
  created.erase("token");
  created.erase("expires_in_s");
  EXPECT_EQ(created, listed) << r.body;
  EXPECT_EQ(listed["kind"], "api");
  EXPECT_EQ(listed["scopes"], json({"data.read"}));

  r = Call(HttpMethod::kDelete, fmt::format("/api/v1/tokens/{}", created["id"].get<uint64_t>()),
           kAcmeToken);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/auth/whoami", secret).status, 401);
}

// docs/security.md: a tenant's quotas are set "with the system token (PATCH
// /api/v1/tenants/{id}, or `quotas` in POST /api/v1/tenants)"; a top-level "quotas" was ignored
// and the tenant made without limits.
TEST_F(PlatformRoutesTest, QuotasInTenantCreationApply) {
  HttpResponse r = Call(HttpMethod::kPost, "/api/v1/tenants", kSystemToken,
                        R"({"name":"beta","quotas":{"devices":3}})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = json::parse(r.body);
  EXPECT_EQ(created["settings"]["quotas"]["devices"], 3) << r.body;
  auto stored = metadata_->GetTenant(TenantId(created["id"].get<uint64_t>()));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->settings.quotas.devices, std::optional<uint64_t>(3));

  r = Call(HttpMethod::kPost, "/api/v1/tenants", kSystemToken,
           R"({"name":"gamma","quotas":{"devices":-1}})");
  EXPECT_EQ(r.status, 400) << r.body;
}

// A customer role sees only its subtree's devices; the model list told it how many devices of
// the whole tenant follow each model.
TEST_F(PlatformRoutesTest, ModelListCountsOnlyTheDevicesACustomerRoleSees) {
  const CustomerId mine = *metadata_->CreateCustomer(acme_, "mine", std::nullopt);
  const CustomerId other = *metadata_->CreateCustomer(acme_, "other", std::nullopt);
  HttpResponse r =
      Call(HttpMethod::kPost, "/api/v1/models", kAcmeToken, R"({"name":"mill","properties":[]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const ModelId mill(json::parse(r.body)["id"].get<uint64_t>());
  int n = 0;
  for (std::optional<CustomerId> owner : {std::optional(mine), std::optional(other),
                                          std::optional(other), std::optional<CustomerId>()}) {
    auto d = metadata_->CreateDevice(acme_, {fmt::format("mill-{}", ++n), owner});
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_TRUE(models_->AssignModel(acme_, d->id, mill).ok());
  }
  auto user = metadata_->CreateUser(acme_, {"carol", Role::kCustomerUser, mine, "password-1"});
  ASSERT_TRUE(user.ok()) << user.status();
  auto created = metadata_->CreateApiToken(Principal{acme_, *user, mine, Role::kCustomerUser, {}},
                                           {"test", {}, std::nullopt});
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string* token = &created->second;

  r = Call(HttpMethod::kGet, "/api/v1/models", *token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["items"][0]["devices"], 1) << r.body;
  r = Call(HttpMethod::kGet, "/api/v1/models", kAcmeToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["items"][0]["devices"], 4) << r.body;

  // Nor does the tenant's usage tell it how many devices the tenant has.
  r = Call(HttpMethod::kGet, "/api/v1/tenant", *token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body).contains("usage")) << r.body;
  EXPECT_EQ(json::parse(r.body)["name"], "acme") << r.body;
  r = Call(HttpMethod::kGet, "/api/v1/tenant", kAcmeToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["usage"]["devices"], 4) << r.body;
}

}  // namespace
}  // namespace seaway
