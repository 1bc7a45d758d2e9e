// Commands to devices over HTTP against the real server (src/http/command_handlers.h,
// docs/mqtt.md "Commands and request/response"): what the caller is told when no session
// receives a command.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace seaway {
namespace {

using nlohmann::json;

class CommandRoutesTest : public testing::ServerFixture {
 protected:
  testing::TestResponse Command(const std::string& device, const std::string& token = kAdminToken) {
    return Send(HttpMethod::kPost, "/api/v1/commands", token,
                {{"device", device}, {"method", "reboot"}});
  }
  static std::string Error(const testing::TestResponse& r) {
    return json::parse(r.body, nullptr, false).value("error", "");
  }
};

// A command to a name that is no device of the tenant (a typo) was answered "device 'pres-7'
// is not listening for commands", as if the device existed; now the answer says it does not.
// A tenant's token may still receive commands for such a name: only a command that reaches no
// session is refused.
TEST_F(CommandRoutesTest, ACommandNobodyReceivesSaysWhetherTheDeviceExists) {
  Create("/api/v1/devices", {{"name", "press-7"}});
  auto r = Command("pres-7");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_TRUE(Error(r).starts_with(
      "device 'pres-7' does not exist, and no session subscribes to 'devices/pres-7/rpc/request/"))
      << r.body;
  r = Command("press-7");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(Error(r).find("device 'press-7' is not listening for commands"), std::string::npos)
      << r.body;
  // Another tenant's device is no device of this one.
  const std::string acme = NewTenant("acme");
  r = Command("press-7", acme);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_TRUE(Error(r).starts_with("device 'press-7' does not exist")) << r.body;

  // A client of the tenant's token that listens for that name gets the command.
  mqtt::ClientLoop loop(1);
  auto gateway = testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "gateway", kAdminToken,
                                             {"devices/pres-7/rpc/request/+"});
  r = Command("pres-7");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["sessions"], 1) << r.body;
}

// A device name with U+0000 (or another control character) went into the request topic, which
// MQTT forbids: a tenant client subscribed to `devices/#` would have been sent a PUBLISH it must
// treat as malformed.
TEST_F(CommandRoutesTest, ADeviceNameWithControlCharactersIsRefused) {
  mqtt::ClientLoop loop(1);
  auto console =
      testing::MqttProbe::Connect(&loop, server_->mqtt_address(), "console", kAdminToken, {"#"});
  for (const std::string& device :
       {std::string("x\0y", 3), std::string("x\ny"), std::string("a\x7f")}) {
    auto r = Command(device);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Error(r), "'device' must not contain '/', '+', '#' or control characters") << r.body;
  }
  EXPECT_TRUE(console->Received().empty());
  EXPECT_FALSE(console->Closed());
}

}  // namespace
}  // namespace seaway
