// The authorization matrix (issue #7, docs/security.md): every route the server serves, called
// with no token, a bad token, the tenant token and a session of every role, against the access
// the route declares. A route that declares no access does not compile; one that declares an
// unknown permission, or is public without being listed here, fails this test.
#include <stdlib.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/openapi.h"
#include "platform/permissions.h"
#include "server/server.h"
#include "storage/memory_env.h"
#include "util/http_test_client.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr char kAdminToken[] = "authz-matrix-admin-token-0123456789";

// The routes anyone may call, on purpose. Adding a public route means adding it here.
const std::set<std::string> kPublicRoutes = {"GET /health",
                                             "GET /metrics",
                                             "GET /ping",
                                             "HEAD /ping",
                                             "POST /api/v1/auth/login",
                                             "GET /api/v1/openapi.json"};

testing::TestResponse Call(int port, HttpMethod method, const std::string& path,
                           const std::string& token, const std::string& body) {
  testing::HttpTestClient client;
  EXPECT_TRUE(client.Connect("127.0.0.1", port).ok());
  std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                                    HttpMethodName(method), path);
  if (!token.empty()) request += fmt::format("Authorization: Token {}\r\n", token);
  request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                         body.size(), body);
  EXPECT_TRUE(client.SendRaw(request).ok());
  auto response = client.ReadResponse();
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : testing::TestResponse{};
}

class AuthorizationMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("SEAWAY_ADMIN_TOKEN", kAdminToken, 1);
    ServerConfig c;
    c.data_dir = "/data";
    c.http = "127.0.0.1:0";
    c.mqtt = "127.0.0.1:0";
    c.http_threads = 1;
    ASSERT_TRUE(c.Finalize().ok());
    server_ = std::make_unique<Server>(c, &env_, ":memory:");
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->http_address().port;
  }
  void TearDown() override {
    server_->Stop();
    unsetenv("SEAWAY_ADMIN_TOKEN");
  }

  // POST `body` with the admin token; the "id" of the 201 answer.
  uint64_t Create(const std::string& path, const json& body) {
    auto r = Call(port_, HttpMethod::kPost, path, kAdminToken, body.dump());
    EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false).value("id", uint64_t{0});
  }

  // A session token of a new user with `role`.
  std::string SessionOf(Role role, uint64_t customer) {
    const std::string name = fmt::format("user-{}", RoleName(role));
    json user{{"name", name}, {"role", RoleName(role)}, {"password", name + "-password"}};
    if (IsCustomerRole(role)) user["customer"] = customer;
    Create("/api/v1/users", user);
    auto r =
        Call(port_, HttpMethod::kPost, "/api/v1/auth/login", "",
             json{{"tenant", "default"}, {"user", name}, {"password", name + "-password"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("token", "");
  }

  MemoryEnv env_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

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
