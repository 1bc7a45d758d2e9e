// A server on free ports with in-memory metadata, and HTTP calls against it, for the tests of
// tests/unit/server that drive the platform's REST API.
#pragma once

#include <stdlib.h>

#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mqtt/client.h"
#include "platform/permissions.h"
#include "server/server.h"
#include "storage/memory_env.h"
#include "util/http_test_client.h"

namespace seaway::testing {

inline TestResponse Call(int port, HttpMethod method, const std::string& path,
                         const std::string& token, const std::string& body) {
  HttpTestClient client;
  EXPECT_TRUE(client.Connect("127.0.0.1", port).ok());
  std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                                    HttpMethodName(method), path);
  if (!token.empty()) request += fmt::format("Authorization: Token {}\r\n", token);
  request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                         body.size(), body);
  EXPECT_TRUE(client.SendRaw(request).ok());
  auto response = client.ReadResponse();
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : TestResponse{};
}

// An MQTT client of the server under test that records what it receives ("topic payload") and
// whether the server closed it.
class MqttProbe {
 public:
  // Connects as `id` (also the user name) with `password`, subscribing to `filters` at QoS 1;
  // expects the CONNECT to succeed, or to be refused when `expect` is not kSuccess.
  static std::shared_ptr<MqttProbe> Connect(mqtt::ClientLoop* loop, const HostPort& address,
                                            const std::string& id, const std::string& password,
                                            const std::vector<std::string>& filters,
                                            mqtt::ReasonCode expect = mqtt::ReasonCode::kSuccess) {
    auto probe = std::make_shared<MqttProbe>();
    mqtt::ClientOptions options;
    options.address = address;
    options.client_id = id;
    options.username = id;
    options.password = password;
    probe->client_ = mqtt::Client::Create(loop, options);
    // Weak: the client holds its handlers, the probe holds the client.
    std::weak_ptr<MqttProbe> weak = probe;
    probe->client_->OnMessage([weak](const mqtt::Publish& p) {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mu_);
        self->received_.push_back(p.topic + " " + p.payload);
      }
    });
    probe->client_->OnClosed([weak](const Status&) {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mu_);
        self->closed_ = true;
      }
    });
    std::promise<mqtt::ReasonCode> connected;
    probe->client_->Connect([&connected](Status s, const mqtt::Connack& ack) {
      connected.set_value(s.ok() ? ack.reason : mqtt::ReasonCode::kUnspecifiedError);
    });
    const mqtt::ReasonCode got = connected.get_future().get();
    // A refused CONNECT may end in its CONNACK's code or in the closed connection.
    if (expect == mqtt::ReasonCode::kSuccess) {
      EXPECT_EQ(got, expect) << id;
    } else {
      EXPECT_NE(got, mqtt::ReasonCode::kSuccess) << id;
    }
    std::vector<mqtt::Subscription> subscriptions;
    for (const std::string& f : filters) subscriptions.push_back({f, {.max_qos = 1}});
    if (!subscriptions.empty() && expect == mqtt::ReasonCode::kSuccess) {
      std::promise<void> subscribed;
      probe->client_->Subscribe(subscriptions,
                                [&subscribed](const mqtt::Suback&) { subscribed.set_value(); });
      subscribed.get_future().get();
    }
    return probe;
  }

  // Publishes at QoS 1; the PUBACK's reason code.
  mqtt::ReasonCode Publish(const std::string& topic, const std::string& payload, bool retain) {
    std::promise<mqtt::ReasonCode> acked;
    mqtt::Publish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = 1;
    p.retain = retain;
    client_->Publish(p, [&acked](mqtt::ReasonCode code) { acked.set_value(code); });
    return acked.get_future().get();
  }

  std::vector<std::string> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool Closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  mqtt::Client* client() { return client_.get(); }

 private:
  std::shared_ptr<mqtt::Client> client_;
  std::mutex mu_;
  std::vector<std::string> received_;
  bool closed_ = false;
};

// A server configuration on `data_dir` with free loopback ports and one HTTP thread.
inline ServerConfig TestServerConfig(const std::string& data_dir) {
  ServerConfig c;
  c.data_dir = data_dir;
  c.http = "127.0.0.1:0";
  c.mqtt = "127.0.0.1:0";
  c.http_threads = 1;
  EXPECT_TRUE(c.Finalize().ok());
  return c;
}

// Starts a server whose system token (the default tenant's first admin) is kAdminToken.
class ServerFixture : public ::testing::Test {
 protected:
  static constexpr char kAdminToken[] = "server-fixture-admin-token-0123456789";

  void SetUp() override {
    setenv("SEAWAY_ADMIN_TOKEN", kAdminToken, 1);
    server_ = std::make_unique<Server>(TestServerConfig("/data"), &env_, ":memory:");
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->http_address().port;
  }
  void TearDown() override {
    server_->Stop();
    unsetenv("SEAWAY_ADMIN_TOKEN");
  }

  TestResponse Send(HttpMethod method, const std::string& path, const std::string& token,
                    const nlohmann::json& body = nlohmann::json::object()) {
    return Call(port_, method, path, token, body.dump());
  }

  // POSTs `body` as `token` (the system token by default); the "id" of the 201 answer.
  uint64_t Create(const std::string& path, const nlohmann::json& body,
                  const std::string& token = kAdminToken) {
    auto r = Send(HttpMethod::kPost, path, token, body);
    EXPECT_EQ(r.status, 201) << path << ": " << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("id", uint64_t{0});
  }

  // A session token of a new user with `role` in `tenant`, created with `admin_token`.
  std::string SessionOf(Role role, uint64_t customer, const std::string& tenant = "default",
                        const std::string& admin_token = kAdminToken) {
    const std::string name = fmt::format("user-{}", RoleName(role));
    nlohmann::json user{{"name", name}, {"role", RoleName(role)}, {"password", name + "-password"}};
    if (IsCustomerRole(role)) user["customer"] = customer;
    Create("/api/v1/users", user, admin_token);
    auto r = Send(HttpMethod::kPost, "/api/v1/auth/login", "",
                  {{"tenant", tenant}, {"user", name}, {"password", name + "-password"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("token", "");
  }

  // Creates tenant `name` with the system token; its admin token.
  std::string NewTenant(const std::string& name,
                        const nlohmann::json& settings = nlohmann::json::object()) {
    auto r = Send(HttpMethod::kPost, "/api/v1/tenants", kAdminToken,
                  {{"name", name}, {"settings", settings}});
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("admin_token", "");
  }

  MemoryEnv env_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

}  // namespace seaway::testing
