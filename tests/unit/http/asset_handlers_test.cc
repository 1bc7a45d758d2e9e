// Tests for the asset routes (src/http/asset_handlers.h) through a Router over in-memory
// stores: the hierarchy over REST, a customer user seeing only its customers' assets and
// devices, and a second tenant seeing none of the first's.
#include "http/asset_handlers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/platform_request.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr char kAcmeToken[] = "acme-tenant-token-0123456789";
constexpr char kBetaToken[] = "beta-tenant-token-0123456789";

class AssetRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status();
    auto metadata = OpenSqliteMetadataStore(*db);
    ASSERT_TRUE(metadata.ok()) << metadata.status();
    metadata_ = std::move(*metadata);
    auto assets = OpenSqliteAssetStore(*db);
    ASSERT_TRUE(assets.ok()) << assets.status();
    assets_ = std::move(*assets);
    acme_ = *metadata_->CreateTenant("acme");
    beta_ = *metadata_->CreateTenant("beta");
    ASSERT_TRUE(metadata_->AddToken(acme_, kAcmeToken, "test").ok());
    ASSERT_TRUE(metadata_->AddToken(beta_, kBetaToken, "test").ok());
    context_ = AssetRoutesContext{metadata_.get(), assets_.get()};
    AddAssetRoutes(&router_, &context_);
  }

  HttpResponse Call(HttpMethod method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
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

  // POSTs an asset as acme's admin; its id.
  uint64_t Post(const json& asset, const std::string& token = kAcmeToken) {
    auto r = Call(HttpMethod::kPost, "/api/v1/assets", token, asset.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false).value("id", uint64_t{0});
  }

  // The "name"s of a list answer's items, in order.
  static std::vector<std::string> Names(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("items")) {
      for (const json& item : j["items"]) out.push_back(item.value("name", ""));
    }
    return out;
  }

  // An API token acting as a new user of acme with `role` (and `customer` for customer roles).
  std::string TokenOf(Role role, std::optional<CustomerId> customer,
                      std::vector<Permission> scopes = {}) {
    const std::string name = fmt::format("user-{}-{}", RoleName(role), ++users_);
    auto user = metadata_->CreateUser(acme_, {name, role, customer, "password-" + name});
    EXPECT_TRUE(user.ok()) << user.status();
    Principal who{acme_, *user, customer, role, {}};
    auto token = metadata_->CreateApiToken(who, {"test", std::move(scopes), std::nullopt});
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->second : std::string();
  }

  DeviceId Device(TenantId tenant, std::string name, std::optional<CustomerId> customer = {}) {
    auto d = metadata_->CreateDevice(tenant, {std::move(name), customer});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->id : DeviceId();
  }

  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<AssetStore> assets_;
  TenantId acme_, beta_;
  AssetRoutesContext context_;
  Router router_;
  int users_ = 0;
};

TEST_F(AssetRoutesTest, BuildsMovesAndDeletesTheHierarchy) {
  const uint64_t site = Post({{"name", "lyon"}, {"type", "site"}, {"attributes", {{"m2", 9000}}}});
  const uint64_t line1 = Post({{"name", "line-1"}, {"type", "line"}, {"parent", site}});
  const uint64_t line2 = Post({{"name", "line-2"}, {"type", "line"}, {"parent", site}});
  const uint64_t press = Post({{"name", "press"}, {"type", "machine"}, {"parent", line1}});

  auto got = Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}", site), kAcmeToken);
  ASSERT_EQ(got.status, 200) << got.body;
  const json asset = json::parse(got.body);
  EXPECT_EQ(asset["name"], "lyon");
  EXPECT_EQ(asset["type"], "site");
  EXPECT_EQ(asset["parent"], nullptr);
  EXPECT_EQ(asset["customer"], nullptr);
  EXPECT_EQ(asset["attributes"], (json{{"m2", 9000}}));

  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets", kAcmeToken)),
            (std::vector<std::string>{"lyon", "line-1", "line-2", "press"}));
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets?parent={}", site), kAcmeToken)),
      (std::vector<std::string>{"line-1", "line-2"}));
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets?parent=root", kAcmeToken)),
            (std::vector<std::string>{"lyon"}));
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets?type=line&limit=1&offset=1", kAcmeToken)),
            (std::vector<std::string>{"line-2"}));
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/assets?parent=x", kAcmeToken).status, 400);

  // Bad bodies: unknown fields, attributes that are not an object, a missing type.
  auto bad = Call(HttpMethod::kPost, "/api/v1/assets", kAcmeToken,
                  json{{"name", "x"}, {"type", "site"}, {"parent_id", site}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unknown field 'parent_id'"), std::string::npos) << bad.body;
  EXPECT_EQ(Call(HttpMethod::kPost, "/api/v1/assets", kAcmeToken,
                 json{{"name", "x"}, {"type", "site"}, {"attributes", "[]"}}.dump())
                .status,
            400);
  EXPECT_EQ(
      Call(HttpMethod::kPost, "/api/v1/assets", kAcmeToken, json{{"name", "x"}}.dump()).status,
      400);

  // Move the press under line-2, then try to move the site below itself.
  auto moved = Call(HttpMethod::kPatch, fmt::format("/api/v1/assets/{}", press), kAcmeToken,
                    json{{"parent", line2}, {"attributes", {{"tons", 200}}}}.dump());
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(json::parse(moved.body)["parent"], line2);
  EXPECT_EQ(json::parse(moved.body)["attributes"]["tons"], 200);
  auto cycle = Call(HttpMethod::kPatch, fmt::format("/api/v1/assets/{}", site), kAcmeToken,
                    json{{"parent", press}}.dump());
  EXPECT_EQ(cycle.status, 400);
  EXPECT_NE(cycle.body.find("its own ancestor"), std::string::npos) << cycle.body;
  auto top = Call(HttpMethod::kPatch, fmt::format("/api/v1/assets/{}", line1), kAcmeToken,
                  json{{"parent", nullptr}}.dump());
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(json::parse(top.body)["parent"], nullptr);

  // Devices.
  const DeviceId sensor = Device(acme_, "vibration");
  const std::string attach = fmt::format("/api/v1/assets/{}/devices/{}", press, sensor);
  EXPECT_EQ(Call(HttpMethod::kPut, attach, kAcmeToken).status, 204);
  EXPECT_EQ(Call(HttpMethod::kPut, attach, kAcmeToken).status, 204);
  auto elsewhere = Call(HttpMethod::kPut,
                        fmt::format("/api/v1/assets/{}/devices/{}", line1, sensor), kAcmeToken);
  EXPECT_EQ(elsewhere.status, 409) << elsewhere.body;
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}/devices", site), kAcmeToken)),
      std::vector<std::string>{});
  auto subtree = Call(HttpMethod::kGet,
                      fmt::format("/api/v1/assets/{}/devices?recursive=true", site), kAcmeToken);
  EXPECT_EQ(Names(subtree), (std::vector<std::string>{"vibration"}));
  EXPECT_EQ(json::parse(subtree.body)["items"][0]["asset"], press);

  // Delete: refused with children, then recursively; the device outlives its asset.
  auto refused = Call(HttpMethod::kDelete, fmt::format("/api/v1/assets/{}", site), kAcmeToken);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("has 1 child asset"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("?recursive=true"), std::string::npos) << refused.body;
  EXPECT_EQ(
      Call(HttpMethod::kDelete, fmt::format("/api/v1/assets/{}?recursive=yes", site), kAcmeToken)
          .status,
      400);
  EXPECT_EQ(
      Call(HttpMethod::kDelete, fmt::format("/api/v1/assets/{}?recursive=true", site), kAcmeToken)
          .status,
      204);
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets", kAcmeToken)),
            (std::vector<std::string>{"line-1"}));
  EXPECT_EQ(Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}", press), kAcmeToken).status,
            404);
  EXPECT_EQ(metadata_->ListDevices(acme_)->size(), 1u);
  EXPECT_EQ(Call(HttpMethod::kDelete, fmt::format("/api/v1/assets/{}/devices/{}", line1, sensor),
                 kAcmeToken)
                .status,
            404);
}

TEST_F(AssetRoutesTest, ACustomerUserSeesOnlyItsAssetsAndDevices) {
  const CustomerId east = *metadata_->CreateCustomer(acme_, "east", std::nullopt);
  const CustomerId east1 = *metadata_->CreateCustomer(acme_, "east-1", east);
  const CustomerId west = *metadata_->CreateCustomer(acme_, "west", std::nullopt);
  const uint64_t east_site =
      Post({{"name", "east-site"}, {"type", "district"}, {"customer", east.value()}});
  const uint64_t east_meters = Post(
      {{"name", "meters"}, {"type", "group"}, {"parent", east_site}, {"customer", east1.value()}});
  const uint64_t unassigned = Post({{"name", "pumps"}, {"type", "group"}, {"parent", east_site}});
  const uint64_t west_site =
      Post({{"name", "west-site"}, {"type", "district"}, {"customer", west.value()}});
  ASSERT_TRUE(
      assets_->AttachDevice(acme_, AssetId(east_meters), Device(acme_, "meter-e", east1)).ok());
  ASSERT_TRUE(
      assets_->AttachDevice(acme_, AssetId(east_meters), Device(acme_, "meter-w", west)).ok());
  ASSERT_TRUE(assets_->AttachDevice(acme_, AssetId(unassigned), Device(acme_, "pump", east)).ok());
  ASSERT_TRUE(
      assets_->AttachDevice(acme_, AssetId(west_site), Device(acme_, "meter-x", west)).ok());

  const std::string user = TokenOf(Role::kCustomerUser, east);
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets", user)),
            (std::vector<std::string>{"east-site", "meters"}));
  EXPECT_EQ(json::parse(Call(HttpMethod::kGet, "/api/v1/assets", user).body)["total"], 2);
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets?customer={}", west.value()), user)),
      std::vector<std::string>{});
  EXPECT_EQ(Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}", east_meters), user).status,
            200);

  // Another customer's asset and the tenant's own answer exactly as a missing one.
  for (uint64_t hidden : {west_site, unassigned}) {
    auto r = Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}", hidden), user);
    auto missing = Call(HttpMethod::kGet, "/api/v1/assets/999", user);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body,
              fmt::format(R"({{"error":"asset {} does not exist","code":"NotFound"}})", hidden));
    EXPECT_EQ(missing.body, R"({"error":"asset 999 does not exist","code":"NotFound"})");
    EXPECT_EQ(Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}/devices", hidden), user).body,
              r.body);
  }
  // Of the subtree's devices, only its own, and only in assets it sees: not the west meter in
  // its asset, not its pump in the unassigned asset.
  EXPECT_EQ(Names(Call(HttpMethod::kGet,
                       fmt::format("/api/v1/assets/{}/devices?recursive=true", east_site), user)),
            (std::vector<std::string>{"meter-e"}));
  // The tenant's view of the same subtree.
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet,
                 fmt::format("/api/v1/assets/{}/devices?recursive=true", east_site), kAcmeToken)),
      (std::vector<std::string>{"meter-e", "meter-w", "pump"}));

  // No writes for customer roles, even a customer admin.
  const std::string admin = TokenOf(Role::kCustomerAdmin, east);
  for (const std::string& token : {user, admin}) {
    EXPECT_EQ(Call(HttpMethod::kPost, "/api/v1/assets", token,
                   json{{"name", "x"}, {"type", "site"}, {"customer", east.value()}}.dump())
                  .status,
              403);
    EXPECT_EQ(Call(HttpMethod::kPatch, fmt::format("/api/v1/assets/{}", east_site), token,
                   json{{"name", "renamed"}}.dump())
                  .status,
              403);
    EXPECT_EQ(
        Call(HttpMethod::kDelete, fmt::format("/api/v1/assets/{}", east_meters), token).status,
        403);
  }
  EXPECT_EQ(assets_->GetAsset(acme_, AssetId(east_site))->name, "east-site");

  // A viewer sees everything and writes nothing; a token scoped to assets.read alone does not
  // list devices.
  const std::string viewer = TokenOf(Role::kViewer, std::nullopt);
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets", viewer)).size(), 4u);
  EXPECT_EQ(Call(HttpMethod::kPost, "/api/v1/assets", viewer,
                 json{{"name", "x"}, {"type", "site"}}.dump())
                .status,
            403);
  const std::string scoped = TokenOf(Role::kViewer, std::nullopt, {Permission::kAssetsRead});
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/assets", scoped).status, 200);
  EXPECT_EQ(
      Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}/devices", east_site), scoped).status,
      403);
}

TEST_F(AssetRoutesTest, ASecondTenantSeesNoneOfTheFirsts) {
  const uint64_t site = Post({{"name", "acme-secret-site"}, {"type", "site"}});
  const DeviceId acme_device = Device(acme_, "acme-meter");
  ASSERT_TRUE(assets_->AttachDevice(acme_, AssetId(site), acme_device).ok());
  const uint64_t beta_site = Post({{"name", "beta-site"}, {"type", "site"}}, kBetaToken);
  const DeviceId beta_device = Device(beta_, "beta-meter");

  auto list = Call(HttpMethod::kGet, "/api/v1/assets", kBetaToken);
  EXPECT_EQ(Names(list), (std::vector<std::string>{"beta-site"}));
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets?parent={}", site), kBetaToken)),
      std::vector<std::string>{});

  const std::string not_found =
      fmt::format(R"({{"error":"asset {} does not exist","code":"NotFound"}})", site);
  const std::string path = fmt::format("/api/v1/assets/{}", site);
  std::vector<HttpResponse> answers = {
      Call(HttpMethod::kGet, path, kBetaToken),
      Call(HttpMethod::kPatch, path, kBetaToken, json{{"name", "taken"}}.dump()),
      Call(HttpMethod::kDelete, path + "?recursive=true", kBetaToken),
      Call(HttpMethod::kGet, path + "/devices?recursive=true", kBetaToken),
      Call(HttpMethod::kPut, fmt::format("{}/devices/{}", path, beta_device), kBetaToken),
      Call(HttpMethod::kDelete, fmt::format("{}/devices/{}", path, acme_device), kBetaToken),
  };
  for (const HttpResponse& r : answers) {
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(r.body, not_found);
  }
  // Nor through beta's own asset: acme's device and acme's asset as a parent are unknown.
  auto attach =
      Call(HttpMethod::kPut, fmt::format("/api/v1/assets/{}/devices/{}", beta_site, acme_device),
           kBetaToken);
  EXPECT_EQ(attach.status, 404);
  EXPECT_EQ(attach.body, fmt::format(R"({{"error":"device {} does not exist","code":"NotFound"}})",
                                     acme_device));
  EXPECT_EQ(Call(HttpMethod::kPost, "/api/v1/assets", kBetaToken,
                 json{{"name", "x"}, {"type", "line"}, {"parent", site}}.dump())
                .status,
            404);
  EXPECT_EQ(Call(HttpMethod::kPatch, fmt::format("/api/v1/assets/{}", beta_site), kBetaToken,
                 json{{"parent", site}}.dump())
                .status,
            404);
  // Acme's asset is untouched and still holds its device.
  auto still = Call(HttpMethod::kGet, path + "/devices", kAcmeToken);
  EXPECT_EQ(Names(still), (std::vector<std::string>{"acme-meter"}));
  EXPECT_EQ(Call(HttpMethod::kGet, path, kAcmeToken).status, 200);
}

// The asset lists ignored query parameters they did not know: ?parnt=7 (a misspelt filter)
// answered every asset of the tenant, ?recursiv=true an asset's own devices only.
TEST_F(AssetRoutesTest, ListsRefuseUnknownQueryParameters) {
  const uint64_t site = Post({{"name", "site"}, {"type", "site"}});
  Post({{"name", "line"}, {"type", "line"}, {"parent", site}});
  HttpResponse r = Call(HttpMethod::kGet, fmt::format("/api/v1/assets?parnt={}", site), kAcmeToken);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find(
                "unknown query parameter 'parnt' (expected parent, type, customer, limit, offset)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets?parent={}&type=line&limit=5", site),
                 kAcmeToken)),
      std::vector<std::string>{"line"});
  r = Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}/devices?recursiv=true", site),
           kAcmeToken);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("unknown query parameter 'recursiv'"), std::string::npos) << r.body;
  r = Call(HttpMethod::kGet, fmt::format("/api/v1/assets/{}/devices?recursive=true", site),
           kAcmeToken);
  EXPECT_EQ(r.status, 200) << r.body;
}

// Devices and users filter ?customer=none (the tenant's own); the asset list took only an id
// and refused 'none', so that the tenant's unassigned assets could not be listed.
TEST_F(AssetRoutesTest, ListsTheTenantsOwnAssetsWithCustomerNone) {
  const CustomerId east = *metadata_->CreateCustomer(acme_, "east", std::nullopt);
  const uint64_t site = Post({{"name", "site"}, {"type", "site"}});
  Post({{"name", "east-line"}, {"type", "line"}, {"parent", site}, {"customer", east.value()}});
  Post({{"name", "spare-line"}, {"type", "line"}, {"parent", site}});
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets?customer=none", kAcmeToken)),
            (std::vector<std::string>{"site", "spare-line"}));
  EXPECT_EQ(
      Names(Call(HttpMethod::kGet, "/api/v1/assets?customer=none&type=line&limit=1", kAcmeToken)),
      std::vector<std::string>{"spare-line"});
  EXPECT_EQ(Names(Call(HttpMethod::kGet, fmt::format("/api/v1/assets?customer={}", east.value()),
                       kAcmeToken)),
            std::vector<std::string>{"east-line"});
  // A customer role sees none of the tenant's own.
  EXPECT_EQ(Names(Call(HttpMethod::kGet, "/api/v1/assets?customer=none",
                       TokenOf(Role::kCustomerUser, east))),
            std::vector<std::string>{});
  HttpResponse r = Call(HttpMethod::kGet, "/api/v1/assets?customer=nobody", kAcmeToken);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("'customer' must be a customer id or 'none'"), std::string::npos) << r.body;
}

TEST_F(AssetRoutesTest, RefusesCallersWithoutAValidToken) {
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/assets", "").status, 401);
  EXPECT_EQ(Call(HttpMethod::kGet, "/api/v1/assets", "not-a-valid-token-0000000000").status, 401);
  EXPECT_EQ(Call(HttpMethod::kPost, "/api/v1/assets", "", "{}").status, 401);
}

}  // namespace
}  // namespace seaway
