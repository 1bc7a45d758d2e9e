// Thing models over HTTP against the real server (src/http/model_handlers.h, docs/models.md):
// import, export, list, new versions, assignment, deletion refused while used, and the caller's
// permissions.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr char kMill[] = R"({"name": "cnc-mill", "version": "1",
  "properties": [{"name": "temperature", "type": "float", "unit": "°C", "min": -20, "max": 150,
                  "access": "read-only"}],
  "events": [{"name": "overheat", "level": "alert", "fields": []}],
  "commands": [{"name": "stop", "input": [], "output": []}]})";

class ModelRoutesTest : public testing::ServerFixture {
 protected:
  testing::TestResponse Call(const char* method, const std::string& path,
                             const std::string& body = "", const std::string& token = kAdminToken) {
    HttpMethod m = HttpMethod::kGet;
    for (HttpMethod candidate : {HttpMethod::kGet, HttpMethod::kPost, HttpMethod::kPut,
                                 HttpMethod::kPatch, HttpMethod::kDelete}) {
      if (HttpMethodName(candidate) == method) m = candidate;
    }
    return testing::Call(port_, m, path, token, body);
  }

  uint64_t CreateDevice(const std::string& name) {
    return Create("/api/v1/devices", json{{"name", name}});
  }
};

TEST_F(ModelRoutesTest, ImportExportListReplaceDelete) {
  auto r = Call("POST", "/api/v1/models", kMill);
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = json::parse(r.body);
  EXPECT_EQ(created["name"], "cnc-mill");
  EXPECT_EQ(created["table"], "cnc_mill");
  const uint64_t id = created["id"];
  EXPECT_EQ(Call("POST", "/api/v1/models", kMill).status, 409);

  r = Call("POST", "/api/v1/models",
           R"({"name": "x", "properties": [{"name": "a", "type": "float", "min": "low",
               "access": "read-only"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("properties[0].min: must be a number"), std::string::npos) << r.body;

  r = Call("GET", fmt::format("/api/v1/models/{}", id));
  ASSERT_EQ(r.status, 200) << r.body;
  const json exported = json::parse(r.body);
  EXPECT_EQ(exported["table"], "cnc_mill");
  EXPECT_EQ(exported["properties"][0]["unit"], "°C");
  EXPECT_EQ(exported["commands"][0]["name"], "stop");
  // Import of the export (renamed) exports the same document.
  json copy = exported;
  copy["name"] = "cnc-mill-2";
  r = Call("POST", "/api/v1/models", copy.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const uint64_t copy_id = json::parse(r.body)["id"];
  r = Call("GET", fmt::format("/api/v1/models/{}", copy_id));
  EXPECT_EQ(json::parse(r.body), copy);

  r = Call("GET", "/api/v1/models?limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json list = json::parse(r.body);
  EXPECT_EQ(list["total"], 2);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["name"], "cnc-mill");
  EXPECT_EQ(list["items"][0]["properties"], 1);
  EXPECT_EQ(list["items"][0]["devices"], 0);

  json v2 = exported;
  v2["version"] = "2";
  r = Call("PUT", fmt::format("/api/v1/models/{}", id), v2.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(Call("GET", fmt::format("/api/v1/models/{}", id)).body)["version"], "2");
  EXPECT_EQ(Call("PUT", "/api/v1/models/999", v2.dump()).status, 404);
  EXPECT_EQ(Call("PUT", fmt::format("/api/v1/models/{}", id), "{").status, 400);

  EXPECT_EQ(Call("DELETE", fmt::format("/api/v1/models/{}", copy_id)).status, 204);
  EXPECT_EQ(Call("GET", fmt::format("/api/v1/models/{}", copy_id)).status, 404);
}

TEST_F(ModelRoutesTest, AssignAndDeleteRefusedWhileUsed) {
  const uint64_t id = json::parse(Call("POST", "/api/v1/models", kMill).body)["id"];
  const uint64_t device = CreateDevice("mill-1");
  const std::string path = fmt::format("/api/v1/devices/{}/model", device);

  auto r = Call("GET", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["model"].is_null());
  EXPECT_EQ(Call("PUT", path, "{}").status, 400);  // "model" is required, null included
  EXPECT_EQ(Call("PUT", path, R"({"model": 999})").status, 404);
  EXPECT_EQ(Call("PUT", "/api/v1/devices/999/model", fmt::format(R"({{"model": {}}})", id)).status,
            404);
  r = Call("PUT", path, fmt::format(R"({{"model": {}}})", id));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(Call("GET", path).body)["model"], id);

  r = Call("DELETE", fmt::format("/api/v1/models/{}", id));
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("model 'cnc-mill' is used by 1 device"), std::string::npos) << r.body;

  r = Call("PUT", path, R"({"model": null})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["model"].is_null());
  EXPECT_EQ(Call("DELETE", fmt::format("/api/v1/models/{}", id)).status, 204);
}

TEST_F(ModelRoutesTest, DeletingADeviceReleasesItsModel) {
  const uint64_t id = json::parse(Call("POST", "/api/v1/models", kMill).body)["id"];
  const uint64_t device = CreateDevice("mill-1");
  ASSERT_EQ(Call("PUT", fmt::format("/api/v1/devices/{}/model", device),
                 fmt::format(R"({{"model": {}}})", id))
                .status,
            200);
  ASSERT_EQ(Call("DELETE", fmt::format("/api/v1/devices/{}", device)).status, 204);
  EXPECT_EQ(Call("DELETE", fmt::format("/api/v1/models/{}", id)).status, 204);
}

TEST_F(ModelRoutesTest, ViewersReadButDoNotManage) {
  ASSERT_EQ(Call("POST", "/api/v1/users",
                 R"({"name": "vera", "role": "viewer", "password": "vera-password"})")
                .status,
            201);
  auto login = Call("POST", "/api/v1/auth/login",
                    R"({"tenant": "default", "user": "vera", "password": "vera-password"})", "");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string vera = json::parse(login.body)["token"];
  const uint64_t id = json::parse(Call("POST", "/api/v1/models", kMill).body)["id"];
  EXPECT_EQ(Call("GET", "/api/v1/models", "", vera).status, 200);
  EXPECT_EQ(Call("GET", fmt::format("/api/v1/models/{}", id), "", vera).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/models", kMill, vera).status, 403);
  EXPECT_EQ(Call("DELETE", fmt::format("/api/v1/models/{}", id), "", vera).status, 403);
  const uint64_t device = CreateDevice("mill-1");
  EXPECT_EQ(Call("PUT", fmt::format("/api/v1/devices/{}/model", device),
                 fmt::format(R"({{"model": {}}})", id), vera)
                .status,
            403);

  // A token scoped to models.manage alone may not assign (that also needs devices.manage).
  auto token = Call("POST", "/api/v1/tokens",
                    R"({"description": "models only", "scopes": ["models.manage"]})");
  ASSERT_EQ(token.status, 201) << token.body;
  const std::string scoped = json::parse(token.body)["token"];
  auto r = Call("PUT", fmt::format("/api/v1/devices/{}/model", device),
                fmt::format(R"({{"model": {}}})", id), scoped);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("devices.manage"), std::string::npos) << r.body;
}

// A device with a model takes only the model's commands; others take anything.
TEST_F(ModelRoutesTest, CommandsToADeviceWithAModelFollowIt) {
  const uint64_t id = json::parse(Call("POST", "/api/v1/models", kMill).body)["id"];
  const uint64_t device = CreateDevice("mill-1");
  CreateDevice("press-7");
  ASSERT_EQ(Call("PUT", fmt::format("/api/v1/devices/{}/model", device),
                 fmt::format(R"({{"model": {}}})", id))
                .status,
            200);
  auto r = Call("POST", "/api/v1/commands", R"({"device": "mill-1", "method": "reboot"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'reboot' is not a command of model 'cnc-mill' (its commands: stop)"),
            std::string::npos)
      << r.body;
  r = Call("POST", "/api/v1/commands",
           R"({"device": "mill-1", "method": "stop", "params": {"now": true}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'now' is not an input parameter"), std::string::npos) << r.body;
  // A valid command goes on: nobody is subscribed, so 404 naming the topic.
  r = Call("POST", "/api/v1/commands", R"({"device": "mill-1", "method": "stop"})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("devices/mill-1/rpc/request/"), std::string::npos) << r.body;
  r = Call("POST", "/api/v1/commands", R"({"device": "press-7", "method": "reboot"})");
  EXPECT_EQ(r.status, 404) << r.body;
}

// A model's table accepts, over HTTP too, only rows that follow the model: each bad line or item
// is named (number, field, value, limit), the others are stored. Other tables stay schemaless.
TEST_F(ModelRoutesTest, HttpWritesToAModelsTableFollowTheModel) {
  auto count = [&](const std::string& table) {
    auto r = Call("POST", "/api/v1/sql",
                  json{{"query", fmt::format("SELECT count(*) FROM {}", table)}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false)["rows"][0][0];
  };
  // Before the model exists, the table is schemaless.
  ASSERT_EQ(Call("POST", "/write?db=main", "cnc_mill,device=m0 humidity=40 1").status, 204);
  ASSERT_EQ(Call("POST", "/api/v1/models", kMill).status, 201);

  // A partial write's rejected lines or items: (number, error) each.
  using Rejected = std::vector<std::pair<int, std::string>>;
  auto rejected = [&](const char* path, const std::string& body) {
    auto r = Call("POST", path, body);
    EXPECT_EQ(r.status, 400) << r.body;
    Rejected out;
    const json answer = json::parse(r.body, nullptr, false);
    const char* key = std::string_view(path).starts_with("/write") ? "line" : "item";
    for (const json& e : answer["rejected"]) out.emplace_back(e[key], e["error"]);
    return out;
  };
  EXPECT_EQ(rejected("/write?db=main",
                     "cnc_mill,device=m1 temperature=81.5 2\n"
                     "\n"
                     "cnc_mill,device=m1 temperature=412.5 3\n"
                     "boiler,site=n humidity=40 3\n"
                     "cnc_mill,device=m1 humidity=40 4\n"
                     "cnc_mill,device=m1 temperature=82 5\n"),
            (Rejected{{3,
                       "table 'cnc_mill': field 'temperature' = 412.5 is above the model's max "
                       "150 (model 'cnc-mill')"},
                      {5,
                       "table 'cnc_mill': field 'humidity' is not a property of model "
                       "'cnc-mill'"}}));
  EXPECT_EQ(count("cnc_mill"), 3);  // m0's, from before the model, and lines 1 and 6
  EXPECT_EQ(count("boiler"), 1);

  // JSON telemetry: the item's number.
  const Rejected items =
      rejected("/api/v1/telemetry",
               R"([{"table": "cnc_mill", "tags": {"device": "m2"}, "fields": {"temperature": 20}},
          {"table": "cnc_mill", "tags": {"device": "m2"}, "fields": {"temperature": -40}},
          {"table": "cnc_mill", "fields": "bad"}])");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].first, 2);
  EXPECT_NE(items[0].second.find("below the model's min -20"), std::string::npos)
      << items[0].second;
  EXPECT_EQ(items[1].first, 3);
  EXPECT_EQ(count("cnc_mill"), 4);
  // CRLF, comments and blank lines keep their numbers; a type conflict between two lines that
  // each follow the model is named at the later one.
  const Rejected crlf = rejected("/write?db=main",
                                 "# a comment\r\n"
                                 "cnc_mill,device=m4 temperature=20 8\r\n"
                                 "\r\n"
                                 "cnc_mill,device=m4 temperature=999 9\r\n"
                                 "cnc_mill,device=m4 temperature=\"hot\" 10\r\n");
  ASSERT_EQ(crlf.size(), 2u);
  EXPECT_EQ(crlf[0].first, 4);
  EXPECT_EQ(crlf[1].first, 5);
  EXPECT_EQ(count("cnc_mill"), 5);
  // NDJSON: line numbers (the JSON format's item numbers), blank lines counted.
  const Rejected lines = rejected("/api/v1/telemetry",
                                  "{\"table\": \"cnc_mill\", \"fields\": {\"temperature\": 1}}\n\n"
                                  "{\"table\": \"cnc_mill\", \"fields\": {\"rpm\": 1}}\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, 3);
  EXPECT_EQ(count("cnc_mill"), 6);
  // A good body is one lookup and one check: 204.
  EXPECT_EQ(Call("POST", "/write?db=main", "cnc_mill,device=m3 temperature=1 7").status, 204);
  // Another database's table of that name is not the model's.
  EXPECT_EQ(Call("POST", "/write?db=lab", "cnc_mill,device=m3 humidity=1 7").status, 204);
}

}  // namespace
}  // namespace seaway
