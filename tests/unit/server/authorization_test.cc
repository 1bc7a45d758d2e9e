// The authorization matrix (issue #7, docs/security.md): every route the server serves, called
// with no token, a bad token, the tenant token and a session of every role, against the access
// the route declares. A route that declares no access does not compile; one that declares an
// unknown permission, or is public without being listed here, fails this test.
#include <cctype>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/openapi.h"
#include "mqtt/client.h"
#include "server_fixture.h"

namespace seaway {
namespace {

using nlohmann::json;

// The routes anyone may call, on purpose. Adding a public route means adding it here.
const std::set<std::string> kPublicRoutes = {"GET /health",
                                             "GET /ping",
                                             "HEAD /ping",
                                             "POST /api/v1/auth/login",
                                             "POST /api/v1/provision",
                                             "GET /api/v1/openapi.json"};

using testing::Call;

class AuthorizationMatrixTest : public testing::ServerFixture {};

TEST_F(AuthorizationMatrixTest, EveryRouteAgainstEveryRole) {
  const uint64_t customer = Create("/api/v1/customers", json{{"name", "plant-lyon"}});
  std::vector<std::pair<Role, std::string>> sessions;
  for (Role role : AllRoles()) sessions.emplace_back(role, SessionOf(role, customer));

  size_t checked = 0;
  for (const Router::Route& route : server_->router().routes()) {
    const std::string where =
        fmt::format("{} {} (access '{}')", HttpMethodName(route.method), route.path, route.access);
    if (route.access == kPublicAccess) {
      EXPECT_TRUE(
          kPublicRoutes.contains(fmt::format("{} {}", HttpMethodName(route.method), route.path)))
          << where << " is public but not listed as such";
      continue;
    }
    std::optional<Permission> permission;
    if (route.access != kAuthenticatedAccess) {
      auto parsed = ParsePermission(route.access);
      ASSERT_TRUE(parsed.ok()) << where << ": " << parsed.status();
      permission = *parsed;
    }
    for (const char* token : {"", "not-a-valid-token-0000000000000000"}) {
      auto r = Call(port_, route.method, route.path, token, "{}");
      EXPECT_EQ(r.status, 401) << where << " with token '" << token << "': " << r.body;
      EXPECT_TRUE(r.body.starts_with("{\"error\":")) << where << ": " << r.body;
    }
    for (const auto& [role, token] : sessions) {
      auto r = Call(port_, route.method, route.path, token, "{}");
      const bool allowed = !permission || RoleAllows(role, *permission);
      if (allowed) {
        EXPECT_NE(r.status, 401) << where << " as " << RoleName(role) << ": " << r.body;
        EXPECT_NE(r.status, 403) << where << " as " << RoleName(role) << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << where << " as " << RoleName(role) << ": " << r.body;
        // The refusal carries nothing but the error.
        EXPECT_TRUE(r.body.starts_with("{\"error\":\"role '")) << where << ": " << r.body;
      }
      ++checked;
    }
    auto admin = Call(port_, route.method, route.path, kAdminToken, "{}");
    EXPECT_NE(admin.status, 401) << where << ": " << admin.body;
    EXPECT_NE(admin.status, 403) << where << ": " << admin.body;
  }
  // Every non-public route was checked for all five roles.
  EXPECT_GE(checked, 5u * 10);
}

// /metrics counts every tenant's ingest by tenant id: it is the installation's, not a tenant's.
TEST_F(AuthorizationMatrixTest, MetricsNeedTheSystemToken) {
  const std::string other_admin = NewTenant("beta");
  auto r = Call(port_, HttpMethod::kPost, "/write?db=plant", other_admin, "m,host=a v=1 1\n");
  ASSERT_EQ(r.status, 204) << r.body;
  auto tenant = Call(port_, HttpMethod::kGet, "/metrics", other_admin, "");
  EXPECT_EQ(tenant.status, 403) << tenant.body;
  EXPECT_EQ(tenant.body.find("seaway_"), std::string::npos) << tenant.body;
  EXPECT_EQ(Call(port_, HttpMethod::kGet, "/metrics", "", "").status, 401);
  auto system = Call(port_, HttpMethod::kGet, "/metrics", kAdminToken, "");
  EXPECT_EQ(system.status, 200) << system.body;
  EXPECT_NE(system.body.find("seaway_ingest_lines_total{tenant=\"2\"} 1"), std::string::npos)
      << system.body;
}

// Two tenants: every route, called by every role of tenant "beta" (and its admin token) with
// tenant "alpha"'s object ids in the path and alpha's customer in the body. Ids in the path are
// refused (403/404); no answer carries a byte of alpha's names, data or tokens; and alpha's
// objects and data are unchanged afterwards. Beta's objects are made first, so that alpha's ids
// are larger than any of beta's of the same kind: a refusal is never beta's own object.
TEST_F(AuthorizationMatrixTest, NoRouteLetsOneTenantReachAnother) {
  const std::string beta = NewTenant("beta");
  const uint64_t beta_customer = Create("/api/v1/customers", {{"name", "beta-plant"}}, beta);
  std::vector<std::pair<std::string, std::string>> callers{{"beta admin token", beta}};
  for (Role role : AllRoles()) {
    callers.emplace_back(std::string(RoleName(role)), SessionOf(role, beta_customer, "beta", beta));
  }
  Create("/api/v1/devices", {{"name", "beta-press"}, {"customer", beta_customer}}, beta);

  const std::string alpha = NewTenant("alpha");
  std::map<std::string, uint64_t> alpha_ids;  // by the path segment naming the kind
  alpha_ids["tenants"] = json::parse(Send(HttpMethod::kGet, "/api/v1/tenant", alpha).body)["id"];
  alpha_ids["customers"] = Create("/api/v1/customers", {{"name", "alpha-secret-customer"}}, alpha);
  alpha_ids["users"] = Create("/api/v1/users",
                              {{"name", "alpha-secret-user"},
                               {"role", "customer-user"},
                               {"customer", alpha_ids["customers"]},
                               {"password", "alpha-secret-password"}},
                              alpha);
  auto device = Send(HttpMethod::kPost, "/api/v1/devices", alpha,
                     {{"name", "alpha-secret-device"}, {"customer", alpha_ids["customers"]}});
  ASSERT_EQ(device.status, 201) << device.body;
  const json device_json = json::parse(device.body);
  alpha_ids["devices"] = device_json["id"].get<uint64_t>();
  const std::string alpha_device_token = device_json["token"].get<std::string>();
  auto token = Send(HttpMethod::kPost, "/api/v1/tokens", alpha, {{"description", "alpha-secret"}});
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string alpha_api_token = json::parse(token.body)["token"].get<std::string>();
  const json tokens = json::parse(Send(HttpMethod::kGet, "/api/v1/tokens", alpha).body);
  for (const json& t : tokens["items"]) {
    if (t["description"] == "alpha-secret") alpha_ids["tokens"] = t["id"].get<uint64_t>();
  }
  ASSERT_TRUE(alpha_ids.contains("tokens")) << tokens;
  alpha_ids["assets"] = Create(
      "/api/v1/assets",
      {{"name", "alpha-secret-site"}, {"type", "site"}, {"customer", alpha_ids["customers"]}},
      alpha);
  ASSERT_EQ(
      Send(HttpMethod::kPut,
           fmt::format("/api/v1/assets/{}/devices/{}", alpha_ids["assets"], alpha_ids["devices"]),
           alpha)
          .status,
      204);
  alpha_ids["models"] =
      Create("/api/v1/models",
             {{"name", "alpha-secret-model"},
              {"properties", {{{"name", "reading"}, {"type", "float"}, {"access", "read-only"}}}}},
             alpha);
  ASSERT_EQ(Send(HttpMethod::kPatch, fmt::format("/api/v1/devices/{}/twin", alpha_ids["devices"]),
                 alpha, {{"tags", {{"site", "alpha-secret-site"}}}})
                .status,
            200);
  auto key = Send(HttpMethod::kPost, "/api/v1/provisioning-keys", alpha,
                  {{"name", "alpha-secret-key"}, {"customer", alpha_ids["customers"]}});
  ASSERT_EQ(key.status, 201) << key.body;
  alpha_ids["provisioning-keys"] = json::parse(key.body)["id"].get<uint64_t>();
  const std::string alpha_provisioning_secret = json::parse(key.body)["secret"];
  auto write =
      Call(port_, HttpMethod::kPost, "/write?db=main", alpha,
           "alpha_secret,device=alpha-secret-device reading=424242.25 1700000000000000000");
  ASSERT_EQ(write.status, 204) << write.body;

  const std::vector<std::string> markers = {
      "alpha-secret",  "alpha_secret",           "424242", alpha, alpha_device_token,
      alpha_api_token, alpha_provisioning_secret};
  auto snapshot = [&] {
    std::string out;
    for (const char* path : {"/api/v1/customers", "/api/v1/users", "/api/v1/devices",
                             "/api/v1/tokens", "/api/v1/tenant", "/api/v1/assets",
                             "/api/v1/provisioning-keys", "/api/v1/models", "/api/v1/twins"}) {
      out += Send(HttpMethod::kGet, path, alpha).body;
    }
    out += Send(HttpMethod::kPost, "/api/v1/sql", alpha,
                {{"query", "SELECT count(*), sum(reading) FROM alpha_secret"}})
               .body;
    return out;
  };
  const std::string before = snapshot();
  ASSERT_NE(before.find("424242.25"), std::string::npos) << before;

  size_t calls = 0;
  for (const Router::Route& route : server_->router().routes()) {
    if (route.access == kPublicAccess) continue;
    // Alpha's id for every {placeholder}, by the kind the segment before it names.
    std::string path, missing_path;  // alpha's ids; ids that exist nowhere
    std::string_view rest = route.path, previous;
    bool known = true;
    while (!rest.empty()) {
      const size_t slash = rest.find('/', 1);
      const std::string_view segment = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      if (segment.starts_with("/{")) {
        const std::string kind(previous.substr(1));
        known &= alpha_ids.contains(kind);
        path += fmt::format("/{}", alpha_ids[kind]);
        missing_path += "/999999999";
      } else {
        path += segment;
        missing_path += segment;
      }
      previous = segment;
    }
    ASSERT_TRUE(known) << route.path << ": add alpha's object of this kind to the test";
    const bool has_id = path != route.path;
    for (const auto& [who, caller_token] : callers) {
      const json body{
          {"name", fmt::format("beta-probe-{}", calls)}, {"parent", alpha_ids["customers"]},
          {"customer", alpha_ids["customers"]},          {"role", "customer-user"},
          {"password", "beta-probe-password"},           {"description", "beta probe"},
          {"query", "SELECT * FROM system.series"},      {"device", "beta-no-such-device"}};
      auto r = Call(port_, route.method, path, caller_token, body.dump());
      const std::string where = fmt::format(
          "{} {} as beta's {}: {} {}", HttpMethodName(route.method), path, who, r.status, r.body);
      if (has_id && r.status != 403 && r.status != 404) {
        // Refused for another reason (a body the route does not take): the same answer as
        // for ids that exist nowhere, so it tells nothing of alpha's object.
        auto missing = Call(port_, route.method, missing_path, caller_token, body.dump());
        EXPECT_TRUE(r.status >= 400 && r.status < 500) << where;
        EXPECT_EQ(r.status, missing.status) << where;
        EXPECT_EQ(r.body, missing.body) << where;
      }
      for (const std::string& marker : markers) {
        EXPECT_EQ(r.body.find(marker), std::string::npos) << where << " carries '" << marker << "'";
      }
      ++calls;
    }
  }
  EXPECT_GE(calls, 6u * 25);
  // No role of beta can name alpha's table (those that may read data get "does not exist").
  for (const auto& [who, caller_token] : callers) {
    auto sql = Send(HttpMethod::kPost, "/api/v1/sql", caller_token,
                    {{"query", "SELECT * FROM alpha_secret"}});
    EXPECT_TRUE(sql.status == 404 || sql.status == 403) << who << ": " << sql.body;
    EXPECT_EQ(sql.body.find("424242"), std::string::npos) << who << ": " << sql.body;
  }
  auto command = Send(HttpMethod::kPost, "/api/v1/commands", beta,
                      {{"device", "alpha-secret-device"}, {"method", "stop"}});
  EXPECT_EQ(command.status, 404) << command.body;
  EXPECT_EQ(snapshot(), before);
}

// The same two tenants over MQTT: a subscriber to '#' with beta's admin token, and beta's device,
// receive nothing alpha publishes (telemetry, retained messages, commands), alpha's device
// receives no command beta sends to its topic, and one client id in both tenants names two
// sessions (neither takes the other over).
TEST_F(AuthorizationMatrixTest, NoMqttTopicCrossesTenants) {
  const std::string alpha = NewTenant("alpha");
  const std::string beta = NewTenant("beta");
  auto device_token = [&](const std::string& tenant_token, const std::string& name) {
    auto r = Send(HttpMethod::kPost, "/api/v1/devices", tenant_token, {{"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false).value("token", "");
  };
  const std::string alpha_device = device_token(alpha, "alpha-secret-device");
  const std::string beta_device = device_token(beta, "beta-press");

  mqtt::ClientLoop loop(1);
  auto connect = [&](const std::string& id, const std::string& password,
                     const std::vector<std::string>& filters) {
    return testing::MqttProbe::Connect(&loop, server_->mqtt_address(), id, password, filters);
  };
  auto publish = [](testing::MqttProbe& from, const std::string& topic, const std::string& payload,
                    bool retain) { return from.Publish(topic, payload, retain); };

  auto beta_all = connect("shared-id", beta, {"#"});
  auto beta_press = connect("beta-press", beta_device, {"devices/beta-press/#"});
  auto alpha_admin = connect("shared-id", alpha, {});
  auto alpha_press =
      connect("alpha-secret-device", alpha_device, {"devices/alpha-secret-device/rpc/request/+"});
  EXPECT_EQ(
      publish(*alpha_press, "devices/alpha-secret-device/telemetry", "{\"reading\":424242}", false),
      mqtt::ReasonCode::kSuccess);
  EXPECT_EQ(publish(*alpha_admin, "plant/alpha", "424242 retained", true),
            mqtt::ReasonCode::kSuccess);
  EXPECT_EQ(publish(*alpha_admin, "devices/alpha-secret-device/rpc/request/1", "424242 from alpha",
                    false),
            mqtt::ReasonCode::kSuccess);
  EXPECT_EQ(publish(*beta_all, "devices/alpha-secret-device/rpc/request/2", "from beta", false),
            mqtt::ReasonCode::kSuccess);
  // A late subscriber in beta gets no retained message of alpha's.
  auto beta_late = connect("beta-late", beta, {"plant/#", "#"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  auto received = [](testing::MqttProbe& p) { return p.Received(); };
  for (const auto& [name, probe] :
       {std::pair("beta '#'", beta_all.get()), std::pair("beta device", beta_press.get()),
        std::pair("beta late", beta_late.get())}) {
    for (const std::string& m : received(*probe)) {
      EXPECT_EQ(m.find("424242"), std::string::npos) << name << " received alpha's " << m;
    }
  }
  // Beta's own publish reached beta's '#' subscriber: the subscription works.
  EXPECT_EQ(received(*beta_all),
            std::vector<std::string>{"devices/alpha-secret-device/rpc/request/2 from beta"});
  EXPECT_EQ(
      received(*alpha_press),
      std::vector<std::string>{"devices/alpha-secret-device/rpc/request/1 424242 from alpha"});
  // "shared-id" in alpha did not take beta's session over.
  EXPECT_FALSE(beta_all->Closed());
  for (testing::MqttProbe* p :
       {beta_all.get(), beta_press.get(), alpha_admin.get(), alpha_press.get(), beta_late.get()}) {
    p->client()->Disconnect();
  }
  loop.Stop();
}

// GET /api/v1/openapi.json documents exactly the routes the server serves, each with the access
// it declares.
TEST_F(AuthorizationMatrixTest, TheOpenApiDocumentListsEveryRoute) {
  auto r = Call(port_, HttpMethod::kGet, "/api/v1/openapi.json", "", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json doc = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc.value("openapi", ""), "3.0.3");
  size_t operations = 0;
  for (const auto& [path, methods] : doc["paths"].items()) operations += methods.size();
  EXPECT_EQ(operations, server_->router().routes().size());
  for (const Router::Route& route : server_->router().routes()) {
    std::string method(HttpMethodName(route.method));
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(doc["paths"].contains(route.path)) << route.path;
    const json& op = doc["paths"][route.path][method];
    EXPECT_FALSE(op.value("summary", "").empty()) << method << " " << route.path;
    EXPECT_EQ(op.value("x-seaway-access", ""), route.access) << route.path;
    EXPECT_EQ(op.contains("security"), route.access != kPublicAccess) << route.path;
  }
}

TEST(OpenApiTest, ARouteWithoutASummaryIsAnError) {
  Router router;
  router.Add(HttpMethod::kGet, "/api/v1/undocumented", "x", "data.read",
             SyncHandler([](const HttpRequest&) { return HttpResponse{}; }));
  auto doc = OpenApiDocument(router);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(), "routes without an OpenAPI summary: GET /api/v1/undocumented");
}

}  // namespace
}  // namespace seaway
