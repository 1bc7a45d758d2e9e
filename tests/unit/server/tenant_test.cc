// Tenants, their settings and quotas, and the update and token routes of the platform API
// (src/http/tenant_handlers.h, src/http/platform_handlers.h, src/platform/quota_enforcer.h),
// through a running server.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/metadata_store.h"
#include "server_fixture.h"
#include "storage/write_batch.h"

namespace seaway {
namespace {

using nlohmann::json;
using testing::Call;

class TenantTest : public testing::ServerFixture {
 protected:
  json Body(const testing::TestResponse& r) { return json::parse(r.body, nullptr, false); }
};

TEST_F(TenantTest, TheSystemTokenCreatesTenantsWithTheirOwnAdmin) {
  const std::string acme = NewTenant("acme", {{"time_zone", "Europe/Paris"}});
  ASSERT_EQ(acme.size(), 64u);
  auto tenant = Send(HttpMethod::kGet, "/api/v1/tenant", acme);
  ASSERT_EQ(tenant.status, 200) << tenant.body;
  EXPECT_EQ(Body(tenant)["name"], "acme");
  EXPECT_EQ(Body(tenant)["settings"]["time_zone"], "Europe/Paris");
  EXPECT_EQ(Body(tenant)["usage"]["devices"], 0);
  // The new tenant's admin is not the installation's operator.
  auto list = Send(HttpMethod::kGet, "/api/v1/tenants", acme);
  EXPECT_EQ(list.status, 403) << list.body;
  EXPECT_EQ(Send(HttpMethod::kPost, "/api/v1/tenants", acme, {{"name", "evil"}}).status, 403);
  list = Send(HttpMethod::kGet, "/api/v1/tenants", kAdminToken);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Body(list)["total"], 2);
  // Names are unique and checked; settings too.
  EXPECT_EQ(Send(HttpMethod::kPost, "/api/v1/tenants", kAdminToken, {{"name", "acme"}}).status,
            409);
  auto bad = Send(HttpMethod::kPost, "/api/v1/tenants", kAdminToken,
                  {{"name", "zeta"}, {"settings", {{"time_zone", "Mars/Olympus"}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unknown time zone 'Mars/Olympus'"), std::string::npos) << bad.body;
  // The new admin logs its users in to its tenant, not another.
  Create("/api/v1/users", {{"name", "ann"}, {"role", "viewer"}, {"password", "ann-password-1"}},
         acme);
  EXPECT_EQ(Send(HttpMethod::kPost, "/api/v1/auth/login", "",
                 {{"tenant", "acme"}, {"user", "ann"}, {"password", "ann-password-1"}})
                .status,
            200);
  EXPECT_EQ(Send(HttpMethod::kPost, "/api/v1/auth/login", "",
                 {{"tenant", "default"}, {"user", "ann"}, {"password", "ann-password-1"}})
                .status,
            401);
}

TEST_F(TenantTest, SettingsPatchMergesAndValidates) {
  auto r = Send(HttpMethod::kPatch, "/api/v1/tenant", kAdminToken,
                {{"retention_s", 86400}, {"quotas", {{"devices", 10}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["settings"]["retention_s"], 86400);
  EXPECT_EQ(Body(r)["settings"]["quotas"]["devices"], 10);
  EXPECT_EQ(Body(r)["settings"]["time_zone"], "UTC");
  // The engine keeps the tenant's rows a day now.
  auto tenant = Body(Send(HttpMethod::kGet, "/api/v1/tenant", kAdminToken));
  const TenantId id(tenant["id"].get<uint64_t>());
  ASSERT_TRUE(server_->engine()->Retention(id, "main", "telemetry").has_value());
  EXPECT_EQ(server_->engine()->Retention(id, "main", "telemetry")->nanos(),
            int64_t{86400} * 1'000'000'000);
  // Merge: other members stay; null resets one.
  r = Send(HttpMethod::kPatch, "/api/v1/tenant", kAdminToken,
           {{"time_zone", "Asia/Tokyo"}, {"retention_s", nullptr}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["settings"]["quotas"]["devices"], 10);
  EXPECT_TRUE(Body(r)["settings"]["retention_s"].is_null());
  EXPECT_FALSE(server_->engine()->Retention(id, "main", "telemetry").has_value());
  // Errors name the member and change nothing.
  for (const auto& [patch, message] : std::vector<std::pair<json, std::string>>{
           {{{"quotas", {{"devicez", 1}}}}, "'quotas.devicez' is not a quota"},
           {{{"quotas", {{"devices", -1}}}}, "'quotas.devices' must be an integer"},
           {{{"retention_s", 0}}, "'retention_s' must be 1 to"},
           {{{"colour", "blue"}}, "'colour' is not a tenant setting"}}) {
    r = Send(HttpMethod::kPatch, "/api/v1/tenant", kAdminToken, patch);
    EXPECT_EQ(r.status, 400) << patch;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  }
  EXPECT_EQ(Body(Send(HttpMethod::kGet, "/api/v1/tenant", kAdminToken))["settings"]["time_zone"],
            "Asia/Tokyo");
  // Viewers read the settings, only tenant admins change them.
  const std::string viewer = SessionOf(Role::kViewer, 0);
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/tenant", viewer).status, 200);
  EXPECT_EQ(Send(HttpMethod::kPatch, "/api/v1/tenant", viewer, {{"time_zone", "UTC"}}).status, 403);
}

// SQL's calendar functions use the tenant's time zone when a query names none.
TEST_F(TenantTest, TheTenantTimeZoneIsSqlsDefault) {
  const json query{{"query",
                    "SELECT date_trunc('day', TIMESTAMP '2026-01-01T20:00:00Z') AS d, "
                    "extract(hour FROM TIMESTAMP '2026-01-01T20:00:00Z') AS h, "
                    "date_trunc('day', TIMESTAMP '2026-01-01T20:00:00Z', 'UTC') AS u"}};
  auto r = Send(HttpMethod::kPost, "/api/v1/sql", kAdminToken, query);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["rows"][0][0], "2026-01-01T00:00:00Z") << r.body;
  EXPECT_EQ(Body(r)["rows"][0][1], 20) << r.body;
  ASSERT_EQ(Send(HttpMethod::kPatch, "/api/v1/tenant", kAdminToken, {{"time_zone", "Asia/Kolkata"}})
                .status,
            200);
  r = Send(HttpMethod::kPost, "/api/v1/sql", kAdminToken, query);
  ASSERT_EQ(r.status, 200) << r.body;
  // 20:00 UTC is 01:30 on January 2nd in India, whose day began at 18:30 UTC.
  EXPECT_EQ(Body(r)["rows"][0][0], "2026-01-01T18:30:00Z") << r.body;
  EXPECT_EQ(Body(r)["rows"][0][1], 1) << r.body;
  EXPECT_EQ(Body(r)["rows"][0][2], "2026-01-01T00:00:00Z") << r.body;  // named: kept
  // Other tenants keep UTC.
  const std::string acme = NewTenant("acme");
  r = Send(HttpMethod::kPost, "/api/v1/sql", acme, query);
  EXPECT_EQ(Body(r)["rows"][0][0], "2026-01-01T00:00:00Z") << r.body;
}

// A device that provisions itself follows its key's thing model. A key naming no model that
// exists is refused when it is made, not when a device first uses it; the model cannot be
// deleted while a key names it, and a key follows its model's renaming.
TEST_F(TenantTest, ProvisionedDevicesFollowTheKeysModel) {
  Create("/api/v1/models",
         {{"name", "cnc-mill"},
          {"properties", {{{"name", "rpm"}, {"type", "float"}, {"access", "read-only"}}}}});
  auto key = Body(Send(HttpMethod::kPost, "/api/v1/provisioning-keys", kAdminToken,
                       {{"name", "mills"}, {"model", "cnc-mill"}}));
  auto r = Send(HttpMethod::kPost, "/api/v1/provision", "",
                {{"key", key["key"]}, {"secret", key["secret"]}, {"device", "mill-1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto model =
      Send(HttpMethod::kGet, fmt::format("/api/v1/devices/{}/model", Body(r)["id"].get<uint64_t>()),
           kAdminToken);
  EXPECT_EQ(model.status, 200) << model.body;
  EXPECT_EQ(Body(model)["model"], 1) << model.body;
  auto ghost = Send(HttpMethod::kPost, "/api/v1/provisioning-keys", kAdminToken,
                    {{"name", "ghosts"}, {"model", "no-such-model"}});
  EXPECT_EQ(ghost.status, 400) << ghost.body;
  EXPECT_EQ(Body(ghost)["error"], "'model': thing model 'no-such-model' does not exist");
  EXPECT_EQ(Body(Send(HttpMethod::kGet, "/api/v1/provisioning-keys", kAdminToken))["total"], 1);

  auto gone = Send(HttpMethod::kDelete, "/api/v1/models/1", kAdminToken);
  EXPECT_EQ(gone.status, 409) << gone.body;
  // The device follows it too; the key is named once the device is not.
  EXPECT_NE(gone.body.find("model 'cnc-mill' is used by 1 device"), std::string::npos) << gone.body;
  ASSERT_EQ(
      Send(HttpMethod::kPut, fmt::format("/api/v1/devices/{}/model", Body(r)["id"].get<uint64_t>()),
           kAdminToken, {{"model", nullptr}})
          .status,
      200);
  gone = Send(HttpMethod::kDelete, "/api/v1/models/1", kAdminToken);
  EXPECT_EQ(gone.status, 409) << gone.body;
  EXPECT_EQ(Body(gone)["error"],
            "model 'cnc-mill' is named by provisioning key 'mills': delete the key first");

  // A new version under a new name: the key's next device follows it.
  auto renamed =
      Send(HttpMethod::kPut, "/api/v1/models/1", kAdminToken,
           {{"name", "cnc-mill-2"},
            {"properties", {{{"name", "rpm"}, {"type", "float"}, {"access", "read-only"}}}}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  r = Send(HttpMethod::kPost, "/api/v1/provision", "",
           {{"key", key["key"]}, {"secret", key["secret"]}, {"device", "mill-2"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["model"], "cnc-mill-2") << r.body;
  model = Send(HttpMethod::kGet,
               fmt::format("/api/v1/devices/{}/model", Body(r)["id"].get<uint64_t>()), kAdminToken);
  EXPECT_EQ(Body(model)["model"], 1) << model.body;
  EXPECT_EQ(
      Body(Send(HttpMethod::kGet, "/api/v1/provisioning-keys", kAdminToken))["items"][0]["model"],
      "cnc-mill-2");
}

TEST_F(TenantTest, DeviceQuotasOfTenantAndCustomer) {
  const std::string acme = NewTenant("acme", {{"quotas", {{"devices", 3}}}});
  const uint64_t plant = Create("/api/v1/customers", {{"name", "plant"}}, acme);
  // The tenant cannot lift its own quotas; the system token sets them.
  auto lift = Send(HttpMethod::kPatch, "/api/v1/tenant", acme, {{"quotas", nullptr}});
  EXPECT_EQ(lift.status, 403) << lift.body;
  const uint64_t acme_id = Body(Send(HttpMethod::kGet, "/api/v1/tenant", acme))["id"];
  EXPECT_EQ(Send(HttpMethod::kPatch, fmt::format("/api/v1/tenants/{}", acme_id), acme,
                 {{"quotas", nullptr}})
                .status,
            403);
  auto set = Send(HttpMethod::kPatch, fmt::format("/api/v1/tenants/{}", acme_id), kAdminToken,
                  {{"quotas", {{"devices", 3}}}});
  EXPECT_EQ(set.status, 200) << set.body;
  auto r = Send(HttpMethod::kPatch, fmt::format("/api/v1/customers/{}", plant), acme,
                {{"quotas", {{"devices", 1}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["quotas"]["devices"], 1);
  Create("/api/v1/devices", {{"name", "press-1"}, {"customer", plant}}, acme);
  r = Send(HttpMethod::kPost, "/api/v1/devices", acme, {{"name", "press-2"}, {"customer", plant}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("quota 'devices' of customer 'plant' reached: 1 of 1 devices"),
            std::string::npos)
      << r.body;
  // A sub-customer's devices count against its parent's quota.
  const uint64_t line = Create("/api/v1/customers", {{"name", "line"}, {"parent", plant}}, acme);
  r = Send(HttpMethod::kPost, "/api/v1/devices", acme, {{"name", "press-9"}, {"customer", line}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("quota 'devices' of customer 'plant'"), std::string::npos) << r.body;
  Create("/api/v1/devices", {{"name", "press-2"}}, acme);
  // Bulk: all or none, against the tenant's quota.
  r = Call(port_, HttpMethod::kPost, "/api/v1/devices/import", acme, "press-3\npress-4\n");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("quota 'devices' of tenant 'acme' reached: 2 of 3 devices, 2 more asked"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Body(Send(HttpMethod::kGet, "/api/v1/devices", acme))["total"], 2);
  r = Call(port_, HttpMethod::kPost, "/api/v1/devices/import", acme, "press-3\n");
  EXPECT_EQ(r.status, 201) << r.body;
  // Moving a device into a full customer is refused too.
  auto devices = Body(Send(HttpMethod::kGet, "/api/v1/devices", acme))["items"];
  r = Send(HttpMethod::kPatch, fmt::format("/api/v1/devices/{}", devices[2]["id"].get<uint64_t>()),
           acme, {{"customer", plant}});
  EXPECT_EQ(r.status, 429) << r.body;
  // A customer admin cannot lift its own quota.
  const std::string admin = SessionOf(Role::kCustomerAdmin, plant, "acme", acme);
  r = Send(HttpMethod::kPatch, fmt::format("/api/v1/customers/{}", plant), admin,
           {{"quotas", nullptr}});
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(TenantTest, RateQuotasAnswer429NamingTheQuota) {
  const std::string acme = NewTenant("acme", {{"quotas", {{"api_requests_per_s", 3}}}});
  int refused = 0;
  std::string message;
  for (int i = 0; i < 10; ++i) {
    auto r = Send(HttpMethod::kGet, "/api/v1/devices", acme);
    if (r.status == 429) {
      ++refused;
      message = r.body;
    }
  }
  // A bucket of 3 refills at 3 per second: most of 10 quick calls are refused.
  EXPECT_GE(refused, 5);
  EXPECT_NE(message.find("quota 'api_requests_per_s' of tenant 'acme' exceeded (3 per second)"),
            std::string::npos)
      << message;
  // Other tenants are not affected.
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/devices", kAdminToken).status, 200);
  // Writes count as messages (as MQTT PUBLISHes do).
  const std::string factory = NewTenant("factory", {{"quotas", {{"messages_per_s", 2}}}});
  int stored = 0;
  refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = Call(port_, HttpMethod::kPost, "/write?db=main", factory,
                  fmt::format("m,device=d v={} {}", i, 1700000000000000000 + i));
    if (r.status == 204) ++stored;
    if (r.status == 429) {
      ++refused;
      message = r.body;
    }
  }
  EXPECT_GE(refused, 3);
  EXPECT_GE(stored, 1);
  EXPECT_NE(message.find("quota 'messages_per_s' of tenant 'factory' exceeded"), std::string::npos)
      << message;
}

TEST_F(TenantTest, UsersChangeRoleAndLoseTheirSessions) {
  const uint64_t plant = Create("/api/v1/customers", {{"name", "plant"}});
  const uint64_t id =
      Create("/api/v1/users", {{"name", "bob"}, {"role", "viewer"}, {"password", "bob-password"}});
  auto login = [&](const std::string& password) {
    auto r = Send(HttpMethod::kPost, "/api/v1/auth/login", "",
                  {{"tenant", "default"}, {"user", "bob"}, {"password", password}});
    return r.status == 200 ? Body(r)["token"].get<std::string>() : std::string();
  };
  const std::string session = login("bob-password");
  ASSERT_FALSE(session.empty());
  const std::string path = fmt::format("/api/v1/users/{}", id);
  // Customer roles need a customer; tenant roles refuse one.
  auto r = Send(HttpMethod::kPatch, path, kAdminToken, {{"role", "customer-user"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Send(HttpMethod::kPatch, path, kAdminToken, {{"role", "customer-user"}, {"customer", plant}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/auth/whoami", session).status, 401);
  const std::string second = login("bob-password");
  auto whoami = Body(Send(HttpMethod::kGet, "/api/v1/auth/whoami", second));
  EXPECT_EQ(whoami["role"], "customer-user");
  EXPECT_EQ(whoami["customer"], plant);
  r = Send(HttpMethod::kPatch, path, kAdminToken, {{"password", "bob-new-password"}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(login("bob-password").empty());
  EXPECT_FALSE(login("bob-new-password").empty());
  EXPECT_EQ(Send(HttpMethod::kPatch, path, kAdminToken, {{"name", "robert"}}).status, 400);
  EXPECT_EQ(
      Send(HttpMethod::kPatch, "/api/v1/users/999999", kAdminToken, {{"role", "viewer"}}).status,
      404);
}

TEST_F(TenantTest, TokensAreListedAndRevoked) {
  const std::string viewer_session = SessionOf(Role::kOperator, 0);
  auto created = Send(HttpMethod::kPost, "/api/v1/tokens", viewer_session,
                      {{"description", "ci"}, {"scopes", {"data.read"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string ci = Body(created)["token"];
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/auth/whoami", ci).status, 200);
  // The operator sees its own session and token; the admin sees every one.
  auto mine = Send(HttpMethod::kGet, "/api/v1/tokens", viewer_session);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Body(mine)["total"], 2) << mine.body;
  EXPECT_EQ(mine.body.find(ci), std::string::npos) << "a listing never shows a secret";
  const json all = Body(Send(HttpMethod::kGet, "/api/v1/tokens", kAdminToken));
  EXPECT_GE(all["total"].get<int>(), 3) << all;
  uint64_t ci_id = 0, admin_id = 0;
  for (const json& t : all["items"]) {
    if (t["description"] == "ci") {
      ci_id = t["id"].get<uint64_t>();
      EXPECT_EQ(t["scopes"], json::array({"data.read"}));
      EXPECT_EQ(t["kind"], "api");
    }
    if (t["kind"] == "system") admin_id = t["id"].get<uint64_t>();
  }
  ASSERT_NE(ci_id, 0u);
  ASSERT_NE(admin_id, 0u);
  // Not even a tenant-admin revokes the installation's system token.
  const std::string admin_session = SessionOf(Role::kTenantAdmin, 0);
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/tokens/{}", admin_id), admin_session).status,
      404);
  // The operator cannot revoke the admin's token; it revokes its own.
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/tokens/{}", admin_id), viewer_session).status,
      404);
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/tokens/{}", ci_id), viewer_session).status,
      204);
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/auth/whoami", ci).status, 401);
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/auth/whoami", kAdminToken).status, 200);
}

// DELETE /api/v1/tenants/{id}: the system token deletes a tenant with every object and all data
// of it; its clients are disconnected, its tokens stop working, and a tenant created later under
// the same name starts empty.
TEST_F(TenantTest, DeletingATenantRemovesItsObjectsDataAndSessions) {
  const std::string acme = NewTenant("acme");
  const TenantId acme_id(
      Body(Send(HttpMethod::kGet, "/api/v1/tenant", acme))["id"].get<uint64_t>());
  const uint64_t plant = Create("/api/v1/customers", {{"name", "plant"}}, acme);
  auto device =
      Send(HttpMethod::kPost, "/api/v1/devices", acme, {{"name", "press-7"}, {"customer", plant}});
  ASSERT_EQ(device.status, 201) << device.body;
  const std::string device_token = Body(device)["token"];
  ASSERT_EQ(Call(port_, HttpMethod::kPost, "/write?db=main", acme,
                 "acme_secret,device=press-7 v=424242 1700000000000000000")
                .status,
            204);
  mqtt::ClientLoop loop(1);
  auto admin = testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "acme-console", acme,
                                           {"devices/#"});
  auto press =
      testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "press-7", device_token, {});
  EXPECT_EQ(admin->Publish("plant/acme", "424242 retained", /*retain=*/true),
            mqtt::ReasonCode::kSuccess);
  ASSERT_FALSE(server_->engine()->catalog().ListDatabases(acme_id).empty());

  // Only the system token deletes tenants, and not its own.
  const std::string beta = NewTenant("beta");
  EXPECT_EQ(Send(HttpMethod::kDelete, fmt::format("/api/v1/tenants/{}", acme_id), acme).status,
            403);
  EXPECT_EQ(Send(HttpMethod::kDelete, fmt::format("/api/v1/tenants/{}", acme_id), beta).status,
            403);
  const json system = Body(Send(HttpMethod::kGet, "/api/v1/tenant", kAdminToken));
  auto own = Send(HttpMethod::kDelete, fmt::format("/api/v1/tenants/{}", system["id"].get<int>()),
                  kAdminToken);
  EXPECT_EQ(own.status, 409) << own.body;
  EXPECT_NE(own.body.find("cannot delete itself"), std::string::npos) << own.body;
  EXPECT_EQ(Send(HttpMethod::kDelete, "/api/v1/tenants/999", kAdminToken).status, 404);

  auto one = Send(HttpMethod::kGet, fmt::format("/api/v1/tenants/{}", acme_id), kAdminToken);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Body(one)["name"], "acme");
  EXPECT_EQ(Body(one)["usage"]["devices"], 1);
  EXPECT_EQ(Send(HttpMethod::kGet, fmt::format("/api/v1/tenants/{}", acme_id), beta).status, 403);
  auto deleted = Send(HttpMethod::kDelete, fmt::format("/api/v1/tenants/{}", acme_id), kAdminToken);
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/tenant", acme).status, 401);
  EXPECT_EQ(Send(HttpMethod::kGet, fmt::format("/api/v1/tenants/{}", acme_id), kAdminToken).status,
            404);
  EXPECT_EQ(Call(port_, HttpMethod::kPost, "/write?db=main", acme, "m v=1").status, 401);
  EXPECT_TRUE(server_->engine()->catalog().ListDatabases(acme_id).empty());
  EXPECT_EQ(*server_->metadata()->DeletedTenants(), std::vector<TenantId>{acme_id});
  // Its MQTT clients were closed and cannot come back.
  for (int i = 0; i < 100 && !(admin->Closed() && press->Closed()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(admin->Closed());
  EXPECT_TRUE(press->Closed());
  testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "press-7", device_token, {},
                              mqtt::ReasonCode::kBadUserNameOrPassword);
  auto tenants = Body(Send(HttpMethod::kGet, "/api/v1/tenants", kAdminToken));
  EXPECT_EQ(tenants["total"], 2) << tenants;  // default and beta

  // A new "acme" is a new tenant: another id, no devices, no data, no retained message.
  const std::string acme2 = NewTenant("acme");
  const json fresh = Body(Send(HttpMethod::kGet, "/api/v1/tenant", acme2));
  EXPECT_GT(fresh["id"].get<uint64_t>(), acme_id.value());
  EXPECT_EQ(fresh["usage"]["devices"], 0);
  auto sql =
      Send(HttpMethod::kPost, "/api/v1/sql", acme2, {{"query", "SELECT * FROM acme_secret"}});
  EXPECT_EQ(sql.status, 404) << sql.body;
  EXPECT_EQ(sql.body.find("424242"), std::string::npos) << sql.body;
  auto late =
      testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "acme-console", acme2, {"#"});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (const std::string& m : late->Received()) {
    EXPECT_EQ(m.find("424242"), std::string::npos) << m;
  }
  late->client()->Disconnect();
  loop.Stop();
}

// A server that stopped right after a tenant's metadata was deleted (before its data went)
// drops the data at its next start, and refuses the tenant's writes from then on.
TEST(TenantRestartTest, ADeletedTenantsDataIsDroppedAtTheNextStart) {
  char tmpl[] = "/tmp/seaway_tenant_restart_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  setenv("SEAWAY_ADMIN_TOKEN", "restart-test-admin-token-0123456789", 1);
  const ServerConfig c = testing::TestServerConfig(dir);
  TenantId acme;
  {
    Server server(c);
    ASSERT_TRUE(server.Start().ok());
    const int port = server.http_address().port;
    auto r = Call(port, HttpMethod::kPost, "/api/v1/tenants", "restart-test-admin-token-0123456789",
                  R"({"name": "acme"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const json created = json::parse(r.body);
    acme = TenantId(created["id"].get<uint64_t>());
    ASSERT_EQ(Call(port, HttpMethod::kPost, "/write?db=main", created["admin_token"],
                   "acme_secret,site=x v=424242 1700000000000000000")
                  .status,
              204);
    ASSERT_TRUE(server.engine()->Flush().ok());
    ASSERT_GT(server.engine()->StoredBytes(acme), 0u);
    server.Stop();
  }
  {
    // The deletion's metadata transaction, and then the server is gone.
    auto store = OpenSqliteMetadataStore(dir + "/metadata.db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->DeleteTenant(acme).ok());
  }
  {
    Server server(c);
    ASSERT_TRUE(server.Start().ok());
    EXPECT_TRUE(server.engine()->catalog().ListDatabases(acme).empty());
    EXPECT_EQ(server.engine()->StoredBytes(acme), 0u);
    WriteBatch late(acme, "main", "acme_secret");
    late.AddRow(1);
    ASSERT_TRUE(late.SetDouble("v", 1).ok());
    EXPECT_EQ(server.engine()->Write(late).code(), StatusCode::kPermissionDenied);
    server.Stop();
  }
  unsetenv("SEAWAY_ADMIN_TOKEN");
  std::filesystem::remove_all(dir);
}

TEST_F(TenantTest, CustomersUsersAndDevicesByIdAndByFilter) {
  const uint64_t plant = Create("/api/v1/customers", {{"name", "plant"}});
  const uint64_t line = Create("/api/v1/customers", {{"name", "line"}, {"parent", plant}});
  for (const char* name : {"press-1", "press-2", "oven-1"}) {
    Create("/api/v1/devices", {{"name", name}, {"customer", line}});
  }
  Create("/api/v1/devices", {{"name", "press-9"}});
  const uint64_t ann = Create("/api/v1/users", {{"name", "ann"},
                                                {"role", "customer-admin"},
                                                {"customer", line},
                                                {"password", "ann-password-1"}});
  Create("/api/v1/users", {{"name", "bob"}, {"role", "operator"}, {"password", "bob-password-1"}});

  auto names = [&](const std::string& path) {
    auto r = Send(HttpMethod::kGet, path, kAdminToken);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    std::vector<std::string> out;
    const json body = Body(r);  // not a temporary: the loop below outlives the statement
    for (const json& item : body["items"]) out.push_back(item["name"]);
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(fmt::format("/api/v1/devices?customer={}", line)),
            (Names{"press-1", "press-2", "oven-1"}));
  EXPECT_EQ(names("/api/v1/devices?customer=none"), (Names{"press-9"}));
  EXPECT_EQ(names("/api/v1/devices?name_prefix=press"), (Names{"press-1", "press-2", "press-9"}));
  EXPECT_EQ(names(fmt::format("/api/v1/devices?name_prefix=press&customer={}&limit=1", line)),
            (Names{"press-1"}));
  EXPECT_EQ(names(fmt::format("/api/v1/customers?parent={}", plant)), (Names{"line"}));
  EXPECT_EQ(names("/api/v1/customers?parent=root"), (Names{"plant"}));
  EXPECT_EQ(names("/api/v1/customers?name_prefix=li"), (Names{"line"}));
  EXPECT_EQ(names("/api/v1/users?role=operator"), (Names{"bob"}));
  EXPECT_EQ(names(fmt::format("/api/v1/users?customer={}", line)), (Names{"ann"}));
  EXPECT_EQ(names("/api/v1/users?name_prefix=a"), (Names{"ann"}));
  // A misspelt or bad filter is an error, not the whole list.
  auto bad = Send(HttpMethod::kGet, "/api/v1/devices?custmer=1", kAdminToken);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unknown query parameter 'custmer'"), std::string::npos) << bad.body;
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/users?role=king", kAdminToken).status, 400);
  // The token may come as ?p= (as InfluxDB 1.x clients send it): not a filter.
  EXPECT_EQ(Call(port_, HttpMethod::kGet,
                 fmt::format("/api/v1/devices?customer=none&p={}", kAdminToken), "", "")
                .status,
            200);
  EXPECT_EQ(Send(HttpMethod::kGet, "/api/v1/devices?customer=x", kAdminToken).status, 400);

  // One user by id; a customer admin sees only its own subtree's users.
  auto r = Send(HttpMethod::kGet, fmt::format("/api/v1/users/{}", ann), kAdminToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["role"], "customer-admin");
  EXPECT_EQ(Body(r)["customer"], line);
  auto login = Send(HttpMethod::kPost, "/api/v1/auth/login", "",
                    {{"tenant", "default"}, {"user", "ann"}, {"password", "ann-password-1"}});
  const std::string ann_session = Body(login)["token"];
  const uint64_t bob =
      Body(Send(HttpMethod::kGet, "/api/v1/users?name_prefix=bob", kAdminToken))["items"][0]["id"];
  EXPECT_EQ(Send(HttpMethod::kGet, fmt::format("/api/v1/users/{}", bob), ann_session).status, 404);
  EXPECT_EQ(Send(HttpMethod::kGet, fmt::format("/api/v1/users/{}", ann), ann_session).status, 200);
  // The customer admin lists its customer's devices, never press-9.
  auto seen = Body(Send(HttpMethod::kGet, "/api/v1/devices?customer=none", ann_session));
  EXPECT_EQ(seen["total"], 0) << seen;

  // Customers are deleted only when empty; the answer says what is left.
  auto refused = Send(HttpMethod::kDelete, fmt::format("/api/v1/customers/{}", line), kAdminToken);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("customer 'line' still has 1 user, 3 devices"), std::string::npos)
      << refused.body;
  // A customer admin cannot delete its own customer.
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/customers/{}", line), ann_session).status,
      403);
  ASSERT_EQ(Send(HttpMethod::kDelete, fmt::format("/api/v1/users/{}", ann), kAdminToken).status,
            204);
  const json in_line =
      Body(Send(HttpMethod::kGet, fmt::format("/api/v1/devices?customer={}", line), kAdminToken));
  ASSERT_EQ(in_line["items"].size(), 3u);
  for (const json& d : in_line["items"]) {
    ASSERT_EQ(Send(HttpMethod::kDelete, fmt::format("/api/v1/devices/{}", d["id"].get<int>()),
                   kAdminToken)
                  .status,
              204);
  }
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/customers/{}", line), kAdminToken).status,
      204);
  EXPECT_EQ(Send(HttpMethod::kGet, fmt::format("/api/v1/customers/{}", line), kAdminToken).status,
            404);
  EXPECT_EQ(
      Send(HttpMethod::kDelete, fmt::format("/api/v1/customers/{}", plant), kAdminToken).status,
      204);
}

}  // namespace
}  // namespace seaway
