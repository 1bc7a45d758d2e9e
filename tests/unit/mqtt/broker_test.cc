// Tests of the MQTT broker core (src/mqtt/broker.h), driven without sockets: each client is a
// FakeLink that decodes what the broker sends with the codec, fed through
// BrokerConnection::OnBytes. Time is a ManualClock moved by the test and applied with Tick();
// the PublishHandler either accepts at once or holds the callbacks for the test to complete in
// any order. Covers CONNECT, tenancy, QoS 0/1/2, ordering, persistent sessions (in memory and
// across a restart on the SQLite store), retained messages, wills, keepalive, takeover, the 5.0
// features and $SYS, for 3.1.1 and 5.0 where both apply, and a multi-threaded run for TSan.
#include "mqtt/broker.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "mqtt/broker_store.h"
#include "mqtt/packet.h"

namespace seaway::mqtt {
namespace {

using ::testing::TestWithParam;
using ::testing::Values;

constexpr TenantId kTenantA{1};
constexpr TenantId kTenantB{2};

// A client's end of a connection: records what the broker sends, decoded, and Close() calls.
class FakeLink final : public ClientLink {
 public:
  explicit FakeLink(Version version) : version_(version) {}

  bool Send(std::string bytes, bool droppable) override {
    std::lock_guard lock(mu_);
    raw_ += bytes;
    buffer_ += bytes;
    while (true) {
      FixedHeader header;
      if (ReadFixedHeader(buffer_, UINT32_MAX, &header) != FrameStatus::kComplete) break;
      if (buffer_.size() < header.packet_size()) break;
      Packet packet;
      const DecodeError error = Decode(
          header.byte0, std::string_view(buffer_).substr(header.size, header.remaining_length),
          version_, &packet);
      if (!error.ok()) ADD_FAILURE() << "the broker sent an undecodable packet: " << error.message;
      packets_.push_back(std::move(packet));
      buffer_.erase(0, header.packet_size());
    }
    return true;
  }
  void Close() override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      ++close_calls_;
      hook = std::move(on_close_);
    }
    if (hook) hook();
  }
  // Runs once at the next Close(), outside the link's lock: lets a test interleave broker calls.
  void set_on_close(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    on_close_ = std::move(hook);
  }
  void ResumeReading() override {
    std::lock_guard lock(mu_);
    ++resumes_;
  }
  std::string peer() const override { return "fake"; }

  // Removes and returns the received packets of type T, leaving the others.
  template <typename T>
  std::vector<T> Take() {
    std::lock_guard lock(mu_);
    std::vector<T> out;
    std::deque<Packet> rest;
    for (Packet& p : packets_) {
      if (std::holds_alternative<T>(p)) {
        out.push_back(std::move(std::get<T>(p)));
      } else {
        rest.push_back(std::move(p));
      }
    }
    packets_.swap(rest);
    return out;
  }
  // Removes and returns everything received.
  std::vector<Packet> TakeAll() {
    std::lock_guard lock(mu_);
    std::vector<Packet> out(std::make_move_iterator(packets_.begin()),
                            std::make_move_iterator(packets_.end()));
    packets_.clear();
    return out;
  }
  size_t pending() {
    std::lock_guard lock(mu_);
    return packets_.size();
  }
  std::string raw() {
    std::lock_guard lock(mu_);
    return raw_;
  }
  int close_calls() {
    std::lock_guard lock(mu_);
    return close_calls_;
  }
  bool closed() { return close_calls() > 0; }
  int resumes() {
    std::lock_guard lock(mu_);
    return resumes_;
  }

 private:
  const Version version_;
  std::mutex mu_;
  std::string raw_;
  std::string buffer_;
  std::deque<Packet> packets_;
  int close_calls_ = 0;
  int resumes_ = 0;
  std::function<void()> on_close_;
};

// Password -> tenant.
class FakeAuthenticator final : public Authenticator {
 public:
  Result<ClientIdentity> Authenticate(std::string_view client_id,
                                      const std::optional<std::string>& username,
                                      const std::optional<std::string>& password,
                                      std::string_view address, std::string_view) override {
    if (password) {
      auto it = identities_.find(*password);
      if (it != identities_.end()) return it->second;
    }
    return Status(StatusCode::kUnauthenticated, "bad password");
  }

 private:
  // Tenant tokens "a" and "b"; "dev-press-7": device press-7 of tenant A.
  const std::map<std::string, ClientIdentity> identities_ = {
      {"a", {kTenantA, ""}}, {"b", {kTenantB, ""}}, {"dev-press-7", {kTenantA, "press-7"}}};
};

// Accepts at once, or holds the callbacks until the test completes them.
class FakeHandler final : public PublishHandler {
 public:
  using Done = std::function<void(ReasonCode, std::string)>;
  struct Held {
    Message message;
    Done done;
  };

  void OnPublish(const Message& message, Done done) override {
    {
      std::lock_guard lock(mu_);
      seen_.push_back(message.topic);
      if (hold_) {
        held_.push_back(Held{message, std::move(done)});
        return;
      }
    }
    done(ReasonCode::kSuccess, {});
  }

  void set_hold(bool hold) {
    std::lock_guard lock(mu_);
    hold_ = hold;
  }
  size_t held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  // Completes the i-th held callback (in order of arrival, 0-based, never reused).
  void Complete(size_t i, ReasonCode reason = ReasonCode::kSuccess, std::string why = {}) {
    Done done;
    {
      std::lock_guard lock(mu_);
      ASSERT_LT(i, held_.size());
      ASSERT_TRUE(held_[i].done) << "callback " << i << " completed twice";
      done = std::move(held_[i].done);
      held_[i].done = nullptr;
    }
    done(reason, std::move(why));
  }
  // Takes every held callback not yet completed.
  std::vector<Done> TakeHeld() {
    std::lock_guard lock(mu_);
    std::vector<Done> out;
    for (Held& h : held_) {
      if (h.done) out.push_back(std::move(h.done));
      h.done = nullptr;
    }
    return out;
  }
  size_t seen() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

 private:
  std::mutex mu_;
  bool hold_ = false;
  std::vector<Held> held_;
  std::vector<std::string> seen_;
};

// One client: encodes packets and feeds them to its BrokerConnection.
class TestClient {
 public:
  TestClient(Broker* broker, Version version)
      : version_(version),
        link_(std::make_shared<FakeLink>(version)),
        conn_(broker->Accept(link_)) {}

  Version version() const { return version_; }
  FakeLink& link() { return *link_; }
  BrokerConnection& conn() { return *conn_; }
  bool closed() { return link_->closed(); }

  bool Send(const Packet& packet) {
    std::string bytes;
    Encode(packet, version_, &bytes);
    return conn_->OnBytes(bytes);
  }

  mqtt::Connect MakeConnect(std::string client_id, std::string password = "a", bool clean = true) {
    mqtt::Connect c;
    c.version = version_;
    c.client_id = std::move(client_id);
    c.username = "user";  // 3.1.1 allows a password only with a user name
    c.password = std::move(password);
    c.clean_start = clean;
    c.keep_alive = 0;
    return c;
  }

  // Sends CONNECT and returns the CONNACK (reason 0xFF when none came).
  Connack Connect(const mqtt::Connect& c) {
    Send(c);
    std::vector<Connack> acks = link_->Take<Connack>();
    if (acks.size() != 1) {
      ADD_FAILURE() << "expected one CONNACK, got " << acks.size();
      Connack none;
      none.reason = static_cast<ReasonCode>(0xFF);
      return none;
    }
    return acks[0];
  }

  // Publishes; returns the packet id used (0 for QoS 0).
  uint16_t Publish(std::string topic, std::string payload, uint8_t qos = 0, bool retain = false,
                   Properties properties = {}) {
    mqtt::Publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    p.qos = qos;
    p.retain = retain;
    p.packet_id = qos > 0 ? NextId() : 0;
    p.properties = std::move(properties);
    Send(p);
    return p.packet_id;
  }

  Suback Subscribe(std::vector<Subscription> subs, uint32_t subscription_id = 0) {
    mqtt::Subscribe s;
    s.packet_id = NextId();
    s.subscriptions = std::move(subs);
    if (subscription_id != 0) s.properties.subscription_identifiers.push_back(subscription_id);
    Send(s);
    std::vector<Suback> acks = link_->Take<Suback>();
    if (acks.size() != 1) {
      ADD_FAILURE() << "expected one SUBACK, got " << acks.size();
      return Suback{};
    }
    EXPECT_EQ(acks[0].packet_id, s.packet_id);
    return acks[0];
  }
  Suback Subscribe(std::string filter, uint8_t qos, SubscribeOptions options = {},
                   uint32_t subscription_id = 0) {
    options.max_qos = qos;
    return Subscribe({Subscription{std::move(filter), options}}, subscription_id);
  }

  Unsuback Unsubscribe(std::string filter) {
    mqtt::Unsubscribe u;
    u.packet_id = NextId();
    u.filters.push_back(std::move(filter));
    Send(u);
    std::vector<Unsuback> acks = link_->Take<Unsuback>();
    if (acks.size() != 1) {
      ADD_FAILURE() << "expected one UNSUBACK, got " << acks.size();
      return Unsuback{};
    }
    return acks[0];
  }

  void SendAck(PacketType type, uint16_t id, ReasonCode reason = ReasonCode::kSuccess) {
    Send(Ack{type, id, reason, {}});
  }
  void Disconnect(ReasonCode reason = ReasonCode::kSuccess, Properties properties = {}) {
    Send(mqtt::Disconnect{reason, std::move(properties)});
    conn_->OnClosed();  // the client then closes the socket
  }
  // The socket goes away without DISCONNECT.
  void Drop() { conn_->OnClosed(); }

  std::vector<mqtt::Publish> Publishes() { return link_->Take<mqtt::Publish>(); }
  std::vector<Ack> Acks() { return link_->Take<Ack>(); }
  std::vector<mqtt::Disconnect> Disconnects() { return link_->Take<mqtt::Disconnect>(); }
  // The payloads of the PUBLISH packets received; QoS 1/2 ones are acknowledged.
  std::vector<std::string> Payloads(bool ack = true) {
    std::vector<std::string> out;
    for (const mqtt::Publish& p : Publishes()) {
      out.push_back(p.payload);
      if (!ack) continue;
      if (p.qos == 1) SendAck(PacketType::kPuback, p.packet_id);
      if (p.qos == 2) {
        SendAck(PacketType::kPubrec, p.packet_id);
        for (const Ack& rel : Acks()) {
          if (rel.type == PacketType::kPubrel) SendAck(PacketType::kPubcomp, rel.packet_id);
        }
      }
    }
    return out;
  }

 private:
  uint16_t NextId() {
    if (next_id_ == 0) next_id_ = 1;  // wrapped: 0 is not a packet id
    return next_id_++;
  }

  const Version version_;
  std::shared_ptr<FakeLink> link_;
  std::shared_ptr<BrokerConnection> conn_;
  uint16_t next_id_ = 1;
};

using Strings = std::vector<std::string>;

class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest() { Reset(BrokerOptions{}); }

  // A new broker (the previous one, if any, is stopped).
  void Reset(BrokerOptions options, BrokerStore* store = nullptr) {
    if (broker_) {
      EXPECT_TRUE(broker_->Stop().ok());
    }
    broker_.reset();
    metrics_ = std::make_unique<MetricsRegistry>();
    broker_ = std::make_unique<Broker>(options, &auth_, &handler_, store, metrics_.get(), &clock_);
    ASSERT_TRUE(broker_->Start().ok());
  }

  std::unique_ptr<TestClient> NewClient(Version version = Version::kV5) {
    return std::make_unique<TestClient>(broker_.get(), version);
  }

  // A connected client with a clean session that ends at disconnect.
  std::unique_ptr<TestClient> Connected(std::string id, Version version = Version::kV5,
                                        std::string password = "a") {
    auto c = NewClient(version);
    const Connack ack = c->Connect(c->MakeConnect(std::move(id), std::move(password)));
    EXPECT_EQ(ack.reason, ReasonCode::kSuccess);
    return c;
  }

  // A connected client whose session persists (3.1.1 clean session 0, 5.0 expiry 3600 s).
  std::unique_ptr<TestClient> Persistent(std::string id, Version version = Version::kV5,
                                         bool* session_present = nullptr) {
    auto c = NewClient(version);
    Connect connect = c->MakeConnect(std::move(id), "a", /*clean=*/false);
    if (version == Version::kV5) connect.properties.session_expiry_interval = 3600;
    const Connack ack = c->Connect(connect);
    EXPECT_EQ(ack.reason, ReasonCode::kSuccess);
    if (session_present) *session_present = ack.session_present;
    return c;
  }

  void Advance(int64_t seconds) { clock_.Advance(Duration::Seconds(seconds)); }

  ManualClock clock_{Timestamp::FromNanos(1'000'000'000'000)};
  FakeAuthenticator auth_;
  FakeHandler handler_;
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<Broker> broker_;
};

class BrokerVersionTest : public BrokerTest, public ::testing::WithParamInterface<Version> {
 protected:
  Version version() const { return GetParam(); }
  bool v5() const { return GetParam() == Version::kV5; }
};

INSTANTIATE_TEST_SUITE_P(Versions, BrokerVersionTest, Values(Version::kV311, Version::kV5),
                         [](const testing::TestParamInfo<Version>& info) {
                           return info.param == Version::kV5 ? "V5" : "V311";
                         });

std::optional<Will> MakeWill(std::string topic, std::string payload, uint8_t qos = 0) {
  Will w;
  w.topic = std::move(topic);
  w.payload = std::move(payload);
  w.qos = qos;
  return w;
}

// ---- CONNECT ------------------------------------------------------------------------------

TEST_P(BrokerVersionTest, BadPasswordIsRefusedAndClosed) {
  auto c = NewClient(version());
  const Connack ack = c->Connect(c->MakeConnect("dev", "wrong"));
  EXPECT_EQ(ack.reason, ReasonCode::kBadUserNameOrPassword);
  EXPECT_TRUE(c->closed());
  if (!v5()) {
    EXPECT_EQ(c->link().raw(), std::string("\x20\x02\x00\x04", 4));  // return code 4
  }
  EXPECT_EQ(broker_->connected_clients(), 0u);
  EXPECT_EQ(broker_->sessions(), 0u);
  // Bytes after the refusal are ignored.
  c->Publish("t", "x");
  EXPECT_EQ(c->link().pending(), 0u);
}

TEST_P(BrokerVersionTest, FirstPacketNotConnectCloses) {
  auto c = NewClient(version());
  c->Send(Pingreq{});
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(c->link().pending(), 0u);  // no CONNACK, no DISCONNECT before CONNECT
}

TEST_P(BrokerVersionTest, SecondConnectCloses) {
  auto c = Connected("dev", version());
  c->Send(c->MakeConnect("dev"));
  EXPECT_TRUE(c->closed());
  const std::vector<Disconnect> d = c->Disconnects();
  if (v5()) {
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, ReasonCode::kProtocolError);
  } else {
    EXPECT_TRUE(d.empty());
  }
  EXPECT_TRUE(c->link().Take<Connack>().empty());
  EXPECT_EQ(broker_->connected_clients(), 0u);
}

TEST_F(BrokerTest, EmptyClientIdGetsAnAssignedIdV5) {
  auto c = NewClient();
  const Connack ack = c->Connect(c->MakeConnect(""));
  EXPECT_EQ(ack.reason, ReasonCode::kSuccess);
  ASSERT_TRUE(ack.properties.assigned_client_identifier.has_value());
  EXPECT_FALSE(ack.properties.assigned_client_identifier->empty());
  auto d = NewClient();
  const Connack ack2 = d->Connect(d->MakeConnect(""));
  ASSERT_TRUE(ack2.properties.assigned_client_identifier.has_value());
  EXPECT_NE(*ack.properties.assigned_client_identifier,
            *ack2.properties.assigned_client_identifier);
  EXPECT_FALSE(c->closed());  // distinct ids: no takeover
  EXPECT_EQ(broker_->connected_clients(), 2u);
}

TEST_F(BrokerTest, AssignedClientIdsDifferAcrossRestarts) {
  // The number in an assigned id starts again with each broker: ids of two brokers (a restart,
  // whose persistent sessions stay) must still differ, or a new client resumes an old session.
  std::set<std::string> ids;
  for (int run = 0; run < 3; ++run) {
    Reset(BrokerOptions{});
    auto c = NewClient();
    const Connack ack = c->Connect(c->MakeConnect(""));
    ASSERT_TRUE(ack.properties.assigned_client_identifier.has_value());
    EXPECT_TRUE(ack.properties.assigned_client_identifier->starts_with("seaway-"));
    ids.insert(*ack.properties.assigned_client_identifier);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(BrokerTest, EmptyClientIdV311) {
  auto c = NewClient(Version::kV311);
  EXPECT_EQ(c->Connect(c->MakeConnect("", "a", /*clean=*/true)).reason, ReasonCode::kSuccess);
  EXPECT_FALSE(c->closed());

  auto d = NewClient(Version::kV311);
  const Connack ack = d->Connect(d->MakeConnect("", "a", /*clean=*/false));
  EXPECT_EQ(ack.reason, ReasonCode::kClientIdentifierNotValid);
  EXPECT_EQ(d->link().raw(), std::string("\x20\x02\x00\x02", 4));  // return code 2
  EXPECT_TRUE(d->closed());
}

TEST_P(BrokerVersionTest, MalformedConnectIsRefusedInTheClientsVersion) {
  auto c = NewClient(version());
  Connect connect = c->MakeConnect("dev");
  connect.username.reset();  // a password without a user name: malformed in 3.1.1 only
  if (v5()) {
    connect.will = MakeWill("bad/+", "x");  // a will topic with a wildcard
  }
  c->Send(connect);
  EXPECT_TRUE(c->closed());
  if (v5()) {
    const std::vector<Connack> acks = c->link().Take<Connack>();
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_TRUE(IsError(acks[0].reason));
  } else {
    EXPECT_EQ(c->link().raw(), "");  // 3.1.1 has no CONNACK code for it: just closed
  }
  EXPECT_EQ(broker_->sessions(), 0u);
}

TEST_P(BrokerVersionTest, SessionPresentFlag) {
  bool present = true;
  auto c = Persistent("dev", version(), &present);
  EXPECT_FALSE(present);
  c->Disconnect();
  auto d = Persistent("dev", version(), &present);
  EXPECT_TRUE(present);
  d->Disconnect();
  // A clean start never reports a session.
  auto e = NewClient(version());
  EXPECT_FALSE(e->Connect(e->MakeConnect("dev", "a", /*clean=*/true)).session_present);
}

// ---- Tenancy ------------------------------------------------------------------------------

TEST_P(BrokerVersionTest, ADeviceUsesOnlyItsOwnTopics) {
  const bool v5 = version() == Version::kV5;
  auto tenant = Connected("console", version(), "a");
  tenant->Subscribe("#", 1);
  auto device = Connected("press-7", version(), "dev-press-7");

  // Its own topics: published and routed.
  device->Publish("devices/press-7/telemetry", "{\"t\":1}", 1);
  EXPECT_EQ(device->Acks()[0].reason, ReasonCode::kSuccess);
  // Another device's topic, line protocol for any series, the tenant's other topics: refused.
  for (const char* topic : {"devices/press-8/telemetry", "devices/press-7x/telemetry", "write/main",
                            "alarms/line-1", "devices/press-7"}) {
    device->Publish(topic, "x", 1);
    const std::vector<Ack> acks = device->Acks();
    ASSERT_EQ(acks.size(), 1u) << topic;
    // 3.1.1 cannot say no: acknowledged and dropped.
    EXPECT_EQ(acks[0].reason, v5 ? ReasonCode::kNotAuthorized : ReasonCode::kSuccess) << topic;
  }
  device->Publish("devices/press-8/telemetry", "qos0", 0);
  EXPECT_FALSE(device->closed());
  EXPECT_EQ(tenant->Payloads(), Strings{"{\"t\":1}"});

  // Subscriptions: its commands and twin only.
  const Suback ack = device->Subscribe({{"devices/press-7/rpc/request/+", {}},
                                        {"devices/press-7/twin/#", {}},
                                        {"devices/press-7/telemetry", {}},
                                        {"devices/+/rpc/request/+", {}},
                                        {"#", {}},
                                        {"$share/g/devices/press-7/rpc/#", {}},
                                        {"$share/g/devices/press-8/rpc/#", {}}});
  const ReasonCode no = v5 ? ReasonCode::kNotAuthorized : ReasonCode::kUnspecifiedError;
  EXPECT_EQ(ack.reasons, (std::vector<ReasonCode>{ReasonCode::kSuccess, ReasonCode::kSuccess, no,
                                                  no, no, ReasonCode::kSuccess, no}));
  tenant->Publish("devices/press-7/rpc/request/1", "cmd", 0);
  tenant->Publish("devices/press-8/rpc/request/1", "other", 0);
  const Strings got = device->Payloads();
  EXPECT_FALSE(got.empty());
  EXPECT_EQ(std::count(got.begin(), got.end(), "other"), 0);

  // A will outside its topics refuses the CONNECT.
  auto bad = NewClient(version());
  Connect c = bad->MakeConnect("press-7-will", "dev-press-7");
  c.will = Will{"alarms/press-7", "gone", 1, false, {}};
  EXPECT_EQ(bad->Connect(c).reason, ReasonCode::kNotAuthorized);
  EXPECT_TRUE(bad->closed());
}

TEST_P(BrokerVersionTest, ADeviceCannotTakeAnotherIdentitysSession) {
  // A dashboard's persistent session subscribed to everything, with a message queued.
  auto dashboard = Persistent("dashboard", version());
  dashboard->Subscribe("#", 1);
  dashboard->Drop();
  auto pub = Connected("pub", version());
  pub->Publish("plant/secret", "queued", 1);
  // A device naming that client id, resuming or starting clean, is refused: it must not get the
  // dashboard's subscriptions and messages, nor end its session.
  for (const bool clean : {false, true}) {
    auto device = NewClient(version());
    Connect c = device->MakeConnect("dashboard", "dev-press-7", clean);
    if (v5()) c.properties.session_expiry_interval = 3600;
    const Connack ack = device->Connect(c);
    EXPECT_EQ(ack.reason, ReasonCode::kClientIdentifierNotValid) << clean;
    EXPECT_FALSE(ack.session_present);
    EXPECT_TRUE(device->closed());
    EXPECT_TRUE(device->Publishes().empty());
  }
  bool present = false;
  auto back = Persistent("dashboard", version(), &present);
  EXPECT_TRUE(present);
  EXPECT_EQ(back->Payloads(), Strings{"queued"});
  // Nor may it displace a connected client.
  auto device = NewClient(version());
  EXPECT_EQ(device->Connect(device->MakeConnect("dashboard", "dev-press-7")).reason,
            ReasonCode::kClientIdentifierNotValid);
  EXPECT_FALSE(back->closed());
  // And the other way round: a device's session is its own.
  auto own = NewClient(version());
  EXPECT_EQ(own->Connect(own->MakeConnect("press-7", "dev-press-7")).reason, ReasonCode::kSuccess);
  auto token = NewClient(version());
  EXPECT_EQ(token->Connect(token->MakeConnect("press-7", "a")).reason,
            ReasonCode::kClientIdentifierNotValid);
  EXPECT_FALSE(own->closed());
}

TEST_P(BrokerVersionTest, ARevokedDeviceIsDisconnected) {
  auto device = Connected("press-7", version(), "dev-press-7");
  auto other = Connected("console", version(), "a");
  EXPECT_EQ(broker_->DisconnectDevice(kTenantB, "press-7"), 0u);  // another tenant's
  EXPECT_EQ(broker_->DisconnectDevice(kTenantA, "press-8"), 0u);
  EXPECT_FALSE(device->closed());
  EXPECT_EQ(broker_->DisconnectDevice(kTenantA, "press-7"), 1u);
  EXPECT_TRUE(device->closed());
  if (version() == Version::kV5) {
    const auto d = device->Disconnects();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, ReasonCode::kNotAuthorized);
  }
  EXPECT_FALSE(other->closed());  // a tenant token is no device
}

// A deleted tenant (Broker::DropTenant): its connections close, its sessions end (persistent
// ones with their queued messages), its retained messages go; other tenants keep theirs.
TEST_P(BrokerVersionTest, ADroppedTenantLeavesNothingBehind) {
  auto offline = Persistent("offline", version());
  offline->Subscribe("t/#", 1);
  offline->Disconnect();
  auto pub = Connected("pub", version(), "a");
  pub->Publish("t/1", "queued", 1);
  pub->Publish("cfg", "a-config", 1, /*retain=*/true);
  auto device = Connected("press-7", version(), "dev-press-7");
  auto b = Connected("pub", version(), "b");
  b->Publish("cfg", "b-config", 1, /*retain=*/true);
  EXPECT_EQ(broker_->sessions(), 4u);

  EXPECT_EQ(broker_->DropTenant(kTenantA), 2u);
  EXPECT_TRUE(pub->closed());
  EXPECT_TRUE(device->closed());
  EXPECT_FALSE(b->closed());
  EXPECT_EQ(broker_->sessions(), 1u);
  // The tenant's clients are refused from now on (its tokens are gone too, in the server).
  auto again = NewClient(version());
  EXPECT_EQ(again->Connect(again->MakeConnect("offline", "a", /*clean=*/false)).reason,
            ReasonCode::kNotAuthorized);
  EXPECT_EQ(broker_->sessions(), 1u);
  auto b_sub = Connected("sub", version(), "b");
  b_sub->Subscribe("#", 1);
  EXPECT_EQ(b_sub->Payloads(), Strings{"b-config"});
}

TEST_P(BrokerVersionTest, SameClientIdInTwoTenantsDoesNotCollide) {
  auto a = Connected("dev", version(), "a");
  auto b = Connected("dev", version(), "b");
  EXPECT_FALSE(a->closed());
  EXPECT_FALSE(b->closed());
  EXPECT_TRUE(a->Disconnects().empty());
  EXPECT_EQ(broker_->connected_clients(), 2u);
  EXPECT_EQ(broker_->sessions(), 2u);
}

TEST_P(BrokerVersionTest, WildcardSubscriberSeesOnlyItsTenant) {
  auto a_sub = Connected("sub", version(), "a");
  auto b_sub = Connected("sub", version(), "b");
  auto b_pub = Connected("pub", version(), "b");
  auto a_pub = Connected("pub", version(), "a");
  a_sub->Subscribe("#", 1);
  b_sub->Subscribe("#", 1);
  b_pub->Publish("plant/1/temp", "from-b", 1);
  a_pub->Publish("plant/1/temp", "from-a", 1);
  EXPECT_EQ(a_sub->Payloads(), Strings{"from-a"});
  EXPECT_EQ(b_sub->Payloads(), Strings{"from-b"});
}

TEST_P(BrokerVersionTest, RetainedMessagesAreIsolated) {
  auto b_pub = Connected("pub", version(), "b");
  b_pub->Publish("cfg", "b-config", 1, /*retain=*/true);
  auto a_sub = Connected("sub", version(), "a");
  a_sub->Subscribe("#", 1);
  EXPECT_TRUE(a_sub->Publishes().empty());
  auto b_sub = Connected("sub", version(), "b");
  b_sub->Subscribe("#", 1);
  EXPECT_EQ(b_sub->Payloads(), Strings{"b-config"});
}

// ---- QoS ----------------------------------------------------------------------------------

TEST_P(BrokerVersionTest, Qos0) {
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t/+", 2);
  pub->Publish("t/1", "hello", 0);
  EXPECT_TRUE(pub->link().TakeAll().empty());  // no acknowledgement for QoS 0
  const std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "t/1");
  EXPECT_EQ(got[0].payload, "hello");
  EXPECT_EQ(got[0].qos, 0);
  EXPECT_FALSE(got[0].retain);
}

TEST_P(BrokerVersionTest, Qos1BothDirections) {
  BrokerOptions options;
  options.max_inflight = 1;
  Reset(options);
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t", 1);
  const uint16_t id = pub->Publish("t", "m1", 1);
  const uint16_t id2 = pub->Publish("t", "m2", 2);  // downgraded to the subscription's QoS 1
  const std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].type, PacketType::kPuback);
  EXPECT_EQ(acks[0].packet_id, id);
  EXPECT_EQ(acks[1].type, PacketType::kPubrec);
  EXPECT_EQ(acks[1].packet_id, id2);
  pub->SendAck(PacketType::kPubrel, id2);
  ASSERT_EQ(pub->Acks().size(), 1u);

  // One in flight at a time: m2 waits for the PUBACK of m1.
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "m1");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_NE(got[0].packet_id, 0);
  EXPECT_FALSE(got[0].dup);
  sub->SendAck(PacketType::kPuback, got[0].packet_id);
  got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "m2");
  EXPECT_EQ(got[0].qos, 1);
  // A stale PUBACK is ignored.
  sub->SendAck(PacketType::kPuback, 999);
  EXPECT_FALSE(sub->closed());
}

TEST_P(BrokerVersionTest, Qos2BothDirections) {
  BrokerOptions options;
  options.max_inflight = 1;
  Reset(options);
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t", 2);

  const uint16_t id = pub->Publish("t", "m1", 2);
  pub->Publish("t", "m2", 2);
  std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].type, PacketType::kPubrec);
  EXPECT_EQ(acks[0].packet_id, id);
  pub->SendAck(PacketType::kPubrel, id);
  acks = pub->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::kPubcomp);
  EXPECT_EQ(acks[0].packet_id, id);
  EXPECT_EQ(acks[0].reason, ReasonCode::kSuccess);

  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].qos, 2);
  EXPECT_EQ(got[0].payload, "m1");
  const uint16_t out_id = got[0].packet_id;
  sub->SendAck(PacketType::kPubrec, out_id);
  acks = sub->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::kPubrel);
  EXPECT_EQ(acks[0].packet_id, out_id);
  EXPECT_TRUE(sub->Publishes().empty());  // m2 waits for the PUBCOMP
  sub->SendAck(PacketType::kPubcomp, out_id);
  got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "m2");
}

TEST_P(BrokerVersionTest, DuplicateQos2PublishIsRoutedOnce) {
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t", 0);
  Publish p;
  p.topic = "t";
  p.payload = "once";
  p.qos = 2;
  p.packet_id = 7;
  pub->Send(p);
  p.dup = true;
  pub->Send(p);
  std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);  // PUBREC for both
  for (const Ack& a : acks) {
    EXPECT_EQ(a.type, PacketType::kPubrec);
    EXPECT_EQ(a.packet_id, 7);
  }
  EXPECT_EQ(sub->Payloads(), Strings{"once"});
  pub->SendAck(PacketType::kPubrel, 7);
  ASSERT_EQ(pub->Acks().size(), 1u);
  // After PUBCOMP the id is free: the same id is a new message.
  p.dup = false;
  p.payload = "again";
  pub->Send(p);
  EXPECT_EQ(sub->Payloads(), Strings{"again"});
}

TEST_P(BrokerVersionTest, PubrelOfUnknownId) {
  auto c = Connected("c", version());
  c->SendAck(PacketType::kPubrel, 42);
  const std::vector<Ack> acks = c->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::kPubcomp);
  EXPECT_EQ(acks[0].packet_id, 42);
  if (v5()) {
    EXPECT_EQ(acks[0].reason, ReasonCode::kPacketIdentifierNotFound);
  }
  EXPECT_FALSE(c->closed());
}

// ---- Ordering through the PublishHandler --------------------------------------------------

TEST_P(BrokerVersionTest, AcksAndDeliveriesKeepOrderOfReceipt) {
  handler_.set_hold(true);
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t", 1);
  const uint16_t id1 = pub->Publish("t", "1", 1);
  const uint16_t id2 = pub->Publish("t", "2", 1);
  const uint16_t id3 = pub->Publish("t", "3", 1);
  ASSERT_EQ(handler_.held(), 3u);
  EXPECT_TRUE(pub->Acks().empty());

  handler_.Complete(2);
  EXPECT_TRUE(pub->Acks().empty());
  EXPECT_TRUE(sub->Publishes().empty());

  handler_.Complete(0);
  std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].packet_id, id1);
  EXPECT_EQ(sub->Payloads(), Strings{"1"});

  handler_.Complete(1);
  acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].packet_id, id2);
  EXPECT_EQ(acks[1].packet_id, id3);
  EXPECT_EQ(sub->Payloads(), (Strings{"2", "3"}));
}

TEST_P(BrokerVersionTest, RefusedMessageIsNotRoutedAndTheNextFlows) {
  handler_.set_hold(true);
  auto sub = Connected("sub", version());
  auto pub = Connected("pub", version());
  sub->Subscribe("t", 1);
  const uint16_t id1 = pub->Publish("t", "bad", 1);
  const uint16_t id2 = pub->Publish("t", "good", 1);
  handler_.Complete(0, ReasonCode::kPayloadFormatInvalid, "not a telemetry line");
  handler_.Complete(1);
  const std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].packet_id, id1);
  EXPECT_EQ(acks[1].packet_id, id2);
  EXPECT_EQ(acks[1].reason, ReasonCode::kSuccess);
  if (v5()) {
    EXPECT_EQ(acks[0].reason, ReasonCode::kPayloadFormatInvalid);
    EXPECT_EQ(acks[0].properties.reason_string, "not a telemetry line");
  }
  EXPECT_EQ(sub->Payloads(), Strings{"good"});
  EXPECT_FALSE(pub->closed());
}

TEST_F(BrokerTest, RefusedQos2FreesItsPacketId) {
  handler_.set_hold(true);
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("t", 2);
  Publish p;
  p.topic = "t";
  p.payload = "bad";
  p.qos = 2;
  p.packet_id = 9;
  pub->Send(p);
  handler_.Complete(0, ReasonCode::kPayloadFormatInvalid, "no");
  std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::kPubrec);
  EXPECT_EQ(acks[0].reason, ReasonCode::kPayloadFormatInvalid);
  p.payload = "good";
  pub->Send(p);  // a new message, not a duplicate
  ASSERT_EQ(handler_.held(), 2u);
  handler_.Complete(1);
  EXPECT_EQ(sub->Payloads(), Strings{"good"});
}

TEST_F(BrokerTest, PacketIdsInFlightAreNeverReusedAcrossTheWrap) {
  BrokerOptions options;
  options.max_inflight = 2000;
  Reset(options);
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("t", 1);
  // Three deliveries stay unacknowledged while 70,000 others pass: after the ids wrap at
  // 65,535, the broker must skip the three.
  std::set<uint16_t> held, in_flight;
  size_t delivered = 0;
  for (int i = 0; i < 70'000; ++i) {
    pub->Publish("t", "m", 1);
    if (i % 256 == 255) pub->Acks();
    for (const mqtt::Publish& p : sub->Publishes()) {
      ++delivered;
      ASSERT_NE(p.packet_id, 0);
      ASSERT_TRUE(in_flight.insert(p.packet_id).second)
          << "packet id " << p.packet_id << " given while in flight (delivery " << delivered << ")";
      if (held.size() < 3 && p.packet_id >= 5) {
        held.insert(p.packet_id);
        continue;
      }
      sub->SendAck(PacketType::kPuback, p.packet_id);
      in_flight.erase(p.packet_id);
    }
  }
  EXPECT_EQ(delivered, 70'000u);
  EXPECT_EQ(in_flight, held);
}

TEST_F(BrokerTest, InvalidUtf8WithPayloadFormatIndicatorIsRefused) {
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("t", 1);
  Properties props;
  props.payload_format_indicator = 1;
  pub->Publish("t", std::string("\xff\xfe", 2), 1, false, props);
  pub->Publish("t", "fine", 1, false, props);
  const std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(acks[1].reason, ReasonCode::kSuccess);
  EXPECT_EQ(sub->Payloads(), Strings{"fine"});
}

TEST_F(BrokerTest, FullPipelinePausesReadingUntilDrained) {
  BrokerOptions options;
  options.max_pipeline = 4;
  Reset(options);
  handler_.set_hold(true);
  auto sub = Connected("sub");
  sub->Subscribe("t", 0);
  auto pub = Connected("pub");
  Publish p;
  p.topic = "t";
  for (int i = 0; i < 3; ++i) {
    p.payload = std::to_string(i);
    EXPECT_TRUE(pub->Send(p));
  }
  p.payload = "3";
  EXPECT_FALSE(pub->Send(p));  // the fourth fills the pipeline: pause reading
  EXPECT_EQ(pub->link().resumes(), 0);
  handler_.Complete(0);
  handler_.Complete(1);
  EXPECT_EQ(pub->link().resumes(), 0);  // still half full
  handler_.Complete(2);
  EXPECT_EQ(pub->link().resumes(), 1);
  handler_.Complete(3);
  EXPECT_EQ(sub->Payloads(), (Strings{"0", "1", "2", "3"}));
}

// ---- Persistent sessions ------------------------------------------------------------------

TEST_P(BrokerVersionTest, QueuedWhileOfflineDeliveredInOrder) {
  auto sub = Persistent("sub", version());
  sub->Subscribe("t/#", 1);
  sub->Disconnect();
  EXPECT_EQ(broker_->sessions(), 1u);
  auto pub = Connected("pub", version());
  pub->Publish("t/1", "1", 1);
  pub->Publish("t/2", "2", 2);
  pub->Publish("t/3", "3", 1);
  pub->Publish("t/4", "qos0", 0);  // QoS 0 is not queued for offline clients
  bool present = false;
  auto again = Persistent("sub", version(), &present);
  EXPECT_TRUE(present);
  const std::vector<Publish> got = again->Publishes();
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].payload, std::to_string(i + 1));
    EXPECT_EQ(got[i].qos, 1);
    EXPECT_FALSE(got[i].dup);
  }
  // The subscription is still there.
  pub->Publish("t/5", "5", 1);
  EXPECT_EQ(again->Payloads(), Strings{"5"});
}

TEST_P(BrokerVersionTest, InflightResentWithDupAtReconnect) {
  auto sub = Persistent("sub", version());
  sub->Subscribe("t", 2);
  auto pub = Connected("pub", version());
  pub->Publish("t", "q1", 1);
  pub->Publish("t", "q2", 2);
  std::vector<Publish> first = sub->Publishes();
  ASSERT_EQ(first.size(), 2u);
  sub->Drop();  // unacknowledged
  auto again = Persistent("sub", version());
  const std::vector<Publish> got = again->Publishes();
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].payload, first[i].payload);
    EXPECT_EQ(got[i].packet_id, first[i].packet_id);
    EXPECT_TRUE(got[i].dup);
  }
  // Acknowledged now: not resent again.
  again->SendAck(PacketType::kPuback, got[0].packet_id);
  again->SendAck(PacketType::kPubrec, got[1].packet_id);
  const std::vector<Ack> rel = again->Acks();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].type, PacketType::kPubrel);
  again->SendAck(PacketType::kPubcomp, got[1].packet_id);
  again->Disconnect();
  auto third = Persistent("sub", version());
  EXPECT_TRUE(third->link().TakeAll().empty());
}

TEST_F(BrokerTest, ResendingAtReconnectKeepsTheNewReceiveMaximum) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  auto pub = Connected("pub");
  for (const char* m : {"m1", "m2", "m3"}) pub->Publish("t", m, 1);
  ASSERT_EQ(sub->Publishes().size(), 3u);
  sub->Drop();  // none acknowledged
  auto back = NewClient();
  Connect c = back->MakeConnect("sub", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 3600;
  c.properties.receive_maximum = 1;
  ASSERT_TRUE(back->Connect(c).session_present);
  pub->Publish("t", "m4", 1);
  // One at a time (5.0 3.3.4), each with its packet id and DUP, then the queue.
  Strings got;
  for (int i = 0; i < 4; ++i) {
    std::vector<Publish> p = back->Publishes();
    ASSERT_EQ(p.size(), 1u) << i;
    got.push_back(p[0].payload);
    EXPECT_EQ(p[0].dup, i < 3);
    back->SendAck(PacketType::kPuback, p[0].packet_id);
  }
  EXPECT_EQ(got, (Strings{"m1", "m2", "m3", "m4"}));
  EXPECT_TRUE(back->Publishes().empty());
}

TEST_F(BrokerTest, AMessageInFlightTooLargeForTheNewConnectionIsDropped) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  auto pub = Connected("pub");
  pub->Publish("t", std::string(500, 'x'), 1);
  ASSERT_EQ(sub->Publishes().size(), 1u);
  sub->Drop();
  auto back = NewClient();
  Connect c = back->MakeConnect("sub", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 3600;
  c.properties.receive_maximum = 1;
  c.properties.maximum_packet_size = 200;
  ASSERT_TRUE(back->Connect(c).session_present);
  // Discarded as if delivered (5.0 3.1.2.11.4): it no longer holds the only slot.
  pub->Publish("t", "small", 1);
  EXPECT_EQ(back->Payloads(), Strings{"small"});
}

TEST_P(BrokerVersionTest, CleanStartDiscardsTheSession) {
  auto sub = Persistent("sub", version());
  sub->Subscribe("t", 1);
  sub->Disconnect();
  auto pub = Connected("pub", version());
  pub->Publish("t", "queued", 1);
  auto clean = NewClient(version());
  const Connack ack = clean->Connect(clean->MakeConnect("sub", "a", /*clean=*/true));
  EXPECT_FALSE(ack.session_present);
  EXPECT_TRUE(clean->Publishes().empty());
  pub->Publish("t", "after", 1);
  EXPECT_TRUE(clean->Publishes().empty());  // the subscription went with the session
  clean->Disconnect();
  EXPECT_EQ(broker_->sessions(), 1u);  // "pub" only
}

TEST_F(BrokerTest, SessionExpiryV5) {
  auto sub = NewClient();
  Connect c = sub->MakeConnect("sub", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 60;
  sub->Connect(c);
  sub->Subscribe("t", 1);
  sub->Disconnect();
  auto pub = Connected("pub");
  pub->Publish("t", "queued", 1);
  Advance(59);
  broker_->Tick();
  EXPECT_EQ(broker_->sessions(), 2u);
  Advance(2);
  broker_->Tick();
  EXPECT_EQ(broker_->sessions(), 1u);
  auto again = NewClient();
  const Connack ack = again->Connect(c);
  EXPECT_FALSE(ack.session_present);
  EXPECT_TRUE(again->Publishes().empty());
  pub->Publish("t", "later", 1);
  EXPECT_TRUE(again->Publishes().empty());
}

TEST_F(BrokerTest, SessionExpiryZeroEndsAtDisconnectAndDisconnectCanChangeIt) {
  auto c = Connected("c");  // expiry 0
  c->Disconnect();
  EXPECT_EQ(broker_->sessions(), 0u);

  auto d = NewClient();
  Connect connect = d->MakeConnect("d", "a", false);
  connect.properties.session_expiry_interval = 10;
  d->Connect(connect);
  Properties props;
  props.session_expiry_interval = 0;
  d->Disconnect(ReasonCode::kSuccess, props);
  EXPECT_EQ(broker_->sessions(), 0u);

  // Turning expiry 0 into a persistent session at DISCONNECT is a protocol error.
  auto e = Connected("e");
  props.session_expiry_interval = 10;
  e->Send(Disconnect{ReasonCode::kSuccess, props});
  const std::vector<Disconnect> ds = e->Disconnects();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].reason, ReasonCode::kProtocolError);
  EXPECT_TRUE(e->closed());
}

class BrokerRestartTest : public BrokerTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/seaway_mqtt_broker_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    OpenStoreAndBroker();
  }
  void TearDown() override {
    if (broker_) {
      EXPECT_TRUE(broker_->Stop().ok());
    }
    broker_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A restart: the old broker stops and saves, a new one starts on a new store on the file.
  void OpenStoreAndBroker() {
    if (broker_) {
      ASSERT_TRUE(broker_->Stop().ok());
    }
    broker_.reset();
    store_.reset();
    auto store = OpenSqliteBrokerStore(dir_ + "/mqtt.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    Reset(BrokerOptions{}, store_.get());
  }
  std::string dir_;
  std::unique_ptr<BrokerStore> store_;
};

TEST_F(BrokerRestartTest, SessionsSubscriptionsQueuesAndRetainedSurviveARestart) {
  // v5 session with a QoS 2 message past PUBREC (awaiting PUBCOMP) and a queue.
  auto sub = Persistent("sub");
  sub->Subscribe("t/#", 2, SubscribeOptions{}, /*subscription_id=*/5);
  auto old = Persistent("old", Version::kV311);
  old->Subscribe("t/#", 1);
  auto pub = Connected("pub");
  pub->Publish("t/x", "exactly-once", 2);
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  const uint16_t qos2_id = got[0].packet_id;
  sub->SendAck(PacketType::kPubrec, qos2_id);
  ASSERT_EQ(sub->Acks().size(), 1u);  // PUBREL, not completed
  sub->Drop();
  EXPECT_EQ(old->Payloads(), Strings{"exactly-once"});
  old->Drop();
  Properties expiring;
  expiring.message_expiry_interval = 100;
  expiring.user_properties = {{"k", "v"}};
  pub->Publish("t/1", "q1", 1, false, expiring);
  pub->Publish("t/2", "q2", 2);
  pub->Publish("t/3", "q3", 1);
  pub->Publish("cfg/a", "retained-a", 1, /*retain=*/true);
  pub->Disconnect();

  OpenStoreAndBroker();
  EXPECT_EQ(broker_->sessions(), 2u);
  Advance(10);

  bool present = false;
  auto back = Persistent("sub", Version::kV5, &present);
  EXPECT_TRUE(present);
  const std::vector<Ack> rel = back->Acks();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].type, PacketType::kPubrel);
  EXPECT_EQ(rel[0].packet_id, qos2_id);
  back->SendAck(PacketType::kPubcomp, qos2_id);
  got = back->Publishes();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, "q1");
  EXPECT_EQ(got[0].topic, "t/1");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_EQ(got[0].properties.message_expiry_interval, 90u);
  EXPECT_EQ(got[0].properties.user_properties, expiring.user_properties);
  EXPECT_EQ(got[1].payload, "q2");
  EXPECT_EQ(got[1].qos, 2);
  EXPECT_EQ(got[2].payload, "q3");
  for (const Publish& p : got) EXPECT_EQ(p.properties.subscription_identifiers.size(), 1u);

  auto old_back = Persistent("old", Version::kV311, &present);
  EXPECT_TRUE(present);
  EXPECT_EQ(old_back->Payloads(), (Strings{"q1", "q2", "q3"}));

  // The subscriptions were restored: new messages reach both.
  auto pub2 = Connected("pub2");
  pub2->Publish("t/new", "fresh", 1);
  EXPECT_EQ(old_back->Payloads(), Strings{"fresh"});
  got = back->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties.subscription_identifiers, std::vector<uint32_t>{5});

  // Retained messages too.
  auto fresh = Connected("fresh");
  fresh->Subscribe("cfg/#", 1);
  got = fresh->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "retained-a");
  EXPECT_TRUE(got[0].retain);
}

TEST_F(BrokerRestartTest, InflightAtStopIsResentWithDupAfterRestart) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  auto pub = Connected("pub");
  pub->Publish("t", "m", 1);
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  OpenStoreAndBroker();  // Stop() closes the connections: 5.0 clients get 0x8B
  const std::vector<Disconnect> d = sub->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kServerShuttingDown);
  auto back = Persistent("sub");
  const std::vector<Publish> again = back->Publishes();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].dup);
  EXPECT_EQ(again[0].packet_id, got[0].packet_id);
  EXPECT_EQ(again[0].payload, "m");
}

TEST_F(BrokerRestartTest, AnInflightMessageThatExpiresIsStillResentAfterARestart) {
  // Delivery began before the expiry: the copy is the client's until it acknowledges it, as it
  // would be if the session were resumed without a restart (5.0 3.3.2.3.3).
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  auto pub = Connected("pub");
  Properties short_lived;
  short_lived.message_expiry_interval = 5;
  pub->Publish("t", "m", 1, false, short_lived);
  std::vector<Publish> got = sub->Publishes();  // sent, not acknowledged
  ASSERT_EQ(got.size(), 1u);
  Advance(10);  // expired while in flight
  OpenStoreAndBroker();
  auto back = Persistent("sub");
  const std::vector<Publish> again = back->Publishes();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].dup);
  EXPECT_EQ(again[0].packet_id, got[0].packet_id);
  EXPECT_EQ(again[0].payload, "m");
}

TEST_F(BrokerRestartTest, MessageExpiryCountsTheTimeTheBrokerWasDown) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  sub->Disconnect();
  auto pub = Connected("pub");
  Properties short_lived;
  short_lived.message_expiry_interval = 5;
  Properties long_lived;
  long_lived.message_expiry_interval = 60;
  pub->Publish("t", "short", 1, false, short_lived);
  pub->Publish("t", "long", 1, false, long_lived);
  pub->Publish("r", "retained", 1, /*retain=*/true, short_lived);
  pub->Disconnect();
  ASSERT_TRUE(broker_->Stop().ok());
  Advance(10);  // down for 10 s
  OpenStoreAndBroker();
  auto back = Persistent("sub");
  const std::vector<Publish> got = back->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "long");
  EXPECT_EQ(got[0].properties.message_expiry_interval, 50u);
  back->Subscribe("r", 1);
  EXPECT_TRUE(back->Publishes().empty());
}

TEST_F(BrokerRestartTest, SessionOwnersSurviveARestart) {
  auto dashboard = Persistent("dashboard");
  dashboard->Subscribe("#", 1);
  dashboard->Disconnect();
  OpenStoreAndBroker();
  auto device = NewClient();
  Connect c = device->MakeConnect("dashboard", "dev-press-7", /*clean=*/false);
  c.properties.session_expiry_interval = 3600;
  EXPECT_EQ(device->Connect(c).reason, ReasonCode::kClientIdentifierNotValid);
  bool present = false;
  auto back = Persistent("dashboard", Version::kV5, &present);
  EXPECT_TRUE(present);
}

TEST_F(BrokerRestartTest, ADelayedWillSurvivesARestart) {
  auto watcher = Persistent("watcher");
  watcher->Subscribe("will/#", 1);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 600;
  c.will = MakeWill("will/dev", "gone", 1);
  c.will->properties.will_delay_interval = 10;
  dev->Connect(c);
  dev->Drop();  // the will is due in 10 s
  Advance(4);
  OpenStoreAndBroker();  // down for no time, up again
  watcher = Persistent("watcher");
  broker_->Tick();
  EXPECT_TRUE(watcher->Publishes().empty());
  Advance(7);
  broker_->Tick();
  EXPECT_EQ(watcher->Payloads(), Strings{"gone"});
}

TEST_F(BrokerRestartTest, AKeptWillsExpiryCountsFromItsPublicationAfterTheRestart) {
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 600;
  c.will = MakeWill("status/dev", "offline", 1);
  c.will->retain = true;
  c.will->properties.will_delay_interval = 30;
  c.will->properties.message_expiry_interval = 20;
  dev->Connect(c);
  ASSERT_TRUE(broker_->Stop().ok());  // kept with its delay for the restart
  Advance(10);
  OpenStoreAndBroker();
  Advance(25);
  broker_->Tick();  // due 30 s after the shutdown: published now, retained for 20 s
  Advance(15);
  auto late = Connected("late");
  late->Subscribe("status/dev", 1);
  const std::vector<Publish> got = late->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "offline");
  EXPECT_EQ(got[0].properties.message_expiry_interval, 5u);
}

TEST_F(BrokerRestartTest, WillsOfClientsConnectedAtShutdownAreKeptForTheRestart) {
  auto watcher = Persistent("watcher");
  watcher->Subscribe("status/#", 1);
  // A clean session (its will is due when the shutdown ends it) and a persistent one whose
  // will waits 30 s for it to come back.
  auto clean = NewClient();
  Connect c = clean->MakeConnect("clean");
  c.will = MakeWill("status/clean", "offline", 1);
  c.will->retain = true;
  clean->Connect(c);
  auto back = NewClient();
  Connect p = back->MakeConnect("back", "a", /*clean=*/false);
  p.properties.session_expiry_interval = 600;
  p.will = MakeWill("status/back", "offline", 1);
  p.will->properties.will_delay_interval = 30;
  back->Connect(p);
  ASSERT_TRUE(broker_->Stop().ok());
  EXPECT_TRUE(watcher->Publishes().empty());  // nothing published while stopping
  Advance(5);
  OpenStoreAndBroker();
  // The clean session's will went out at the start, before any client could connect.
  auto late = Connected("late");
  late->Subscribe("status/clean", 1);
  EXPECT_EQ(late->Payloads(), Strings{"offline"});
  watcher = Persistent("watcher");
  EXPECT_EQ(watcher->Payloads(), Strings{"offline"});
  // The persistent one comes back within its will delay: no will.
  auto again = NewClient();
  p.will.reset();
  EXPECT_TRUE(again->Connect(p).session_present);
  Advance(60);
  broker_->Tick();
  EXPECT_TRUE(watcher->Publishes().empty());
}

TEST_F(BrokerRestartTest, ExpiredSessionIsNotRestored) {
  auto sub = NewClient();
  Connect c = sub->MakeConnect("sub", "a", false);
  c.properties.session_expiry_interval = 30;
  sub->Connect(c);
  sub->Subscribe("t", 1);
  sub->Disconnect();
  ASSERT_TRUE(broker_->Stop().ok());
  Advance(31);
  OpenStoreAndBroker();
  EXPECT_EQ(broker_->sessions(), 0u);
}

TEST_F(BrokerRestartTest, PeriodicSaveOnTick) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  sub->Disconnect();
  Advance(3);
  broker_->Tick();  // saves: the state is dirty and save_interval passed
  // A crash: the broker is dropped without Stop().
  broker_.reset();
  store_.reset();
  auto store = OpenSqliteBrokerStore(dir_ + "/mqtt.db");
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  Reset(BrokerOptions{}, store_.get());
  EXPECT_EQ(broker_->sessions(), 1u);
}

// Counts the saves it passes on.
class CountingStore final : public BrokerStore {
 public:
  explicit CountingStore(BrokerStore* inner) : inner_(inner) {}
  Status Save(const BrokerSnapshot& snapshot) override {
    ++saves;
    return inner_->Save(snapshot);
  }
  Result<BrokerSnapshot> Load() override { return inner_->Load(); }
  int saves = 0;

 private:
  BrokerStore* const inner_;
};

// Messages flowing only through sessions that end with their connection change nothing that is
// saved: the periodic save (an SQLite transaction on an I/O thread) does not run for them.
TEST_F(BrokerRestartTest, CleanSessionTrafficDoesNotTriggerSaves) {
  CountingStore counting(store_.get());
  Reset(BrokerOptions{}, &counting);
  {
    auto sub = Connected("sub");
    sub->Subscribe("t", 1);
    auto pub = Connected("pub");
    Advance(3);
    broker_->Tick();  // a save if anything is dirty (a clean session itself is never saved)
    const int before = counting.saves;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 5; ++i) pub->Publish("t", std::to_string(i), 1);
      Advance(3);
      broker_->Tick();
    }
    EXPECT_EQ(sub->Payloads().size(), 15u);
    EXPECT_EQ(counting.saves, before);
    // A persistent session's queue still is saved.
    auto keeper = Persistent("keeper");
    keeper->Subscribe("t", 1);
    keeper->Disconnect();
    Advance(3);
    broker_->Tick();
    const int with_keeper = counting.saves;
    pub->Publish("t", "kept", 1);
    Advance(3);
    broker_->Tick();
    EXPECT_EQ(counting.saves, with_keeper + 1);
  }
  ASSERT_TRUE(broker_->Stop().ok());
  broker_.reset();  // before `counting` goes
}

TEST_F(BrokerTest, QueueLimitDropsTheNewest) {
  BrokerOptions options;
  options.max_queued_messages = 2;
  Reset(options);
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  sub->Disconnect();
  auto pub = Connected("pub");
  for (int i = 0; i < 5; ++i) pub->Publish("t", std::to_string(i), 1);
  EXPECT_EQ(pub->Acks().size(), 5u);  // the publisher is not penalized
  auto back = Persistent("sub");
  EXPECT_EQ(back->Payloads(), (Strings{"0", "1"}));
}

TEST_F(BrokerTest, SessionExpiryIsCappedInTheConnack) {
  BrokerOptions options;
  options.max_session_expiry = Duration::Seconds(100);
  Reset(options);
  auto c = NewClient();
  Connect connect = c->MakeConnect("c", "a", false);
  connect.properties.session_expiry_interval = 1000;
  EXPECT_EQ(c->Connect(connect).properties.session_expiry_interval, 100u);
  c->Drop();
  Advance(101);
  broker_->Tick();
  EXPECT_EQ(broker_->sessions(), 0u);
}

TEST_F(BrokerTest, SubscriberRefusingAQos2MessageEndsTheExchange) {
  BrokerOptions options;
  options.max_inflight = 1;
  Reset(options);
  auto sub = Connected("sub");
  sub->Subscribe("t", 2);
  auto pub = Connected("pub");
  pub->Publish("t", "1", 2);
  pub->Publish("t", "2", 2);
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  sub->SendAck(PacketType::kPubrec, got[0].packet_id, ReasonCode::kUnspecifiedError);
  EXPECT_TRUE(sub->Acks().empty());  // no PUBREL
  got = sub->Publishes();            // the window is free again
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "2");
}

// ---- Retained -----------------------------------------------------------------------------

TEST_P(BrokerVersionTest, RetainedSetReplaceClear) {
  auto pub = Connected("pub", version());
  pub->Publish("cfg/1", "v1", 1, true);
  pub->Publish("cfg/1", "v2", 1, true);  // replaces
  pub->Publish("cfg/2", "other", 0, true);
  auto s1 = Connected("s1", version());
  s1->Subscribe("cfg/#", 1);
  std::vector<Publish> got = s1->Publishes();
  ASSERT_EQ(got.size(), 2u);
  std::map<std::string, Publish> by_topic;
  for (Publish& p : got) by_topic[p.topic] = p;
  EXPECT_EQ(by_topic["cfg/1"].payload, "v2");
  EXPECT_TRUE(by_topic["cfg/1"].retain);
  EXPECT_EQ(by_topic["cfg/1"].qos, 1);
  EXPECT_EQ(by_topic["cfg/2"].qos, 0);
  EXPECT_TRUE(by_topic["cfg/2"].retain);
  if (by_topic["cfg/1"].qos == 1) s1->SendAck(PacketType::kPuback, by_topic["cfg/1"].packet_id);

  // A live retained message reaches existing subscribers without the retain flag.
  pub->Publish("cfg/1", "v3", 1, true);
  got = s1->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].retain);
  s1->SendAck(PacketType::kPuback, got[0].packet_id);

  pub->Publish("cfg/1", "", 1, true);  // clears
  auto s2 = Connected("s2", version());
  s2->Subscribe("cfg/#", 1);
  got = s2->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "cfg/2");
}

TEST_F(BrokerTest, RetainHandling) {
  auto pub = Connected("pub");
  pub->Publish("cfg", "r", 0, true);
  auto c = Connected("c");
  SubscribeOptions o;
  o.retain_handling = 1;  // only for a new subscription
  c->Subscribe("cfg", 0, o);
  EXPECT_EQ(c->Payloads(), Strings{"r"});
  c->Subscribe("cfg", 0, o);  // exists: nothing
  EXPECT_TRUE(c->Publishes().empty());
  o.retain_handling = 0;  // always
  c->Subscribe("cfg", 0, o);
  EXPECT_EQ(c->Payloads(), Strings{"r"});

  auto d = Connected("d");
  o.retain_handling = 2;  // never
  d->Subscribe("cfg", 0, o);
  d->Subscribe("#", 0, o);
  EXPECT_TRUE(d->Publishes().empty());

  auto e = Connected("e");
  e->Subscribe("$share/g/cfg", 0);  // shared: never
  EXPECT_TRUE(e->Publishes().empty());
}

TEST_F(BrokerTest, RetainAsPublished) {
  auto pub = Connected("pub");
  auto rap = Connected("rap");
  auto plain = Connected("plain");
  SubscribeOptions o;
  o.retain_as_published = true;
  rap->Subscribe("t", 0, o);
  plain->Subscribe("t", 0);
  pub->Publish("t", "r", 0, true);
  pub->Publish("t", "n", 0, false);
  std::vector<Publish> got = rap->Publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].retain);
  EXPECT_FALSE(got[1].retain);
  got = plain->Publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].retain);
  EXPECT_FALSE(got[1].retain);
}

// ---- Wills --------------------------------------------------------------------------------

TEST_P(BrokerVersionTest, WillOnAbnormalCloseOnly) {
  auto watcher = Connected("watcher", version());
  watcher->Subscribe("will/#", 1);

  auto dropped = NewClient(version());
  Connect c = dropped->MakeConnect("dropped");
  c.will = MakeWill("will/dropped", "gone", 1);
  dropped->Connect(c);
  dropped->Drop();
  EXPECT_EQ(watcher->Payloads(), Strings{"gone"});

  auto polite = NewClient(version());
  c = polite->MakeConnect("polite");
  c.will = MakeWill("will/polite", "never");
  polite->Connect(c);
  polite->Disconnect();
  EXPECT_TRUE(watcher->Publishes().empty());

  if (v5()) {
    auto with_will = NewClient(version());
    c = with_will->MakeConnect("with_will");
    c.will = MakeWill("will/ww", "asked-for");
    with_will->Connect(c);
    with_will->Disconnect(ReasonCode::kDisconnectWithWill);
    EXPECT_EQ(watcher->Payloads(), Strings{"asked-for"});
  }
}

TEST_F(BrokerTest, AWillGoesThroughTheHandlerBeforeItsSubscribers) {
  auto watcher = Connected("watcher");
  watcher->Subscribe("devices/+/telemetry", 1);
  const size_t before = handler_.seen();
  handler_.set_hold(true);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev");
  c.will = MakeWill("devices/d9/telemetry", R"({"online":false})", 1);
  dev->Connect(c);
  dev->Drop();
  // Stored first (a telemetry will is a reading like any other), then delivered.
  for (int i = 0; i < 200 && handler_.held() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(handler_.held(), 1u);
  EXPECT_EQ(handler_.seen(), before + 1);
  EXPECT_TRUE(watcher->Publishes().empty());
  handler_.Complete(0);
  EXPECT_EQ(watcher->Payloads(), Strings{R"({"online":false})"});

  // A will the handler refuses reaches nobody, as a refused PUBLISH does.
  auto bad = NewClient();
  c = bad->MakeConnect("bad");
  c.will = MakeWill("devices/d8/telemetry", "not json", 1);
  bad->Connect(c);
  bad->Drop();
  for (int i = 0; i < 200 && handler_.held() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(handler_.held(), 2u);
  handler_.Complete(1, ReasonCode::kPayloadFormatInvalid, "not json");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(watcher->Publishes().empty());
  handler_.set_hold(false);
}

TEST_F(BrokerTest, WillPropertiesAndRetain) {
  auto dropped = NewClient();
  Connect c = dropped->MakeConnect("dropped");
  c.will = MakeWill("will/x", "bye", 1);
  c.will->retain = true;
  c.will->properties.content_type = "text/plain";
  c.will->properties.user_properties = {{"why", "test"}};
  dropped->Connect(c);
  dropped->Drop();
  auto late = Connected("late");
  late->Subscribe("will/#", 1);
  const std::vector<Publish> got = late->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].retain);
  EXPECT_EQ(got[0].properties.content_type, "text/plain");
  EXPECT_EQ(got[0].properties.user_properties, c.will->properties.user_properties);
}

TEST_F(BrokerTest, WillDelay) {
  auto watcher = Connected("watcher");
  watcher->Subscribe("will/#", 0);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 100;
  c.will = MakeWill("will/dev", "late");
  c.will->properties.will_delay_interval = 10;
  dev->Connect(c);
  dev->Drop();
  Advance(5);
  broker_->Tick();
  EXPECT_TRUE(watcher->Publishes().empty());
  // Reconnecting within the delay cancels it.
  auto back = NewClient();
  Connect c2 = c;
  c2.will.reset();
  EXPECT_TRUE(back->Connect(c2).session_present);
  Advance(20);
  broker_->Tick();
  EXPECT_TRUE(watcher->Publishes().empty());
  back->Disconnect();

  // Not cancelled: published after the delay.
  auto again = NewClient();
  again->Connect(c);
  again->Drop();
  Advance(9);
  broker_->Tick();
  EXPECT_TRUE(watcher->Publishes().empty());
  Advance(2);
  broker_->Tick();
  EXPECT_EQ(watcher->Payloads(), Strings{"late"});
}

TEST_F(BrokerTest, ADelayedWillsExpiryCountsFromItsPublication) {
  // The will lives 5 s once published, after a 10 s delay: a persistent subscriber that is
  // offline when it is published still gets it within those 5 s, with the time left.
  auto watcher = Persistent("watcher");
  watcher->Subscribe("will/#", 1);
  watcher->Disconnect();
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", /*clean=*/false);
  c.properties.session_expiry_interval = 100;
  c.will = MakeWill("will/dev", "late", 1);
  c.will->properties.will_delay_interval = 10;
  c.will->properties.message_expiry_interval = 5;
  dev->Connect(c);
  dev->Drop();
  Advance(11);
  broker_->Tick();  // published now, expires at 16 s
  Advance(2);
  auto back = Persistent("watcher");
  const std::vector<Publish> got = back->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "late");
  EXPECT_EQ(got[0].properties.message_expiry_interval, 3u);
}

TEST_F(BrokerTest, DelayedWillIsPublishedWhenTheSessionEndsFirst) {
  auto watcher = Connected("watcher");
  watcher->Subscribe("will/#", 0);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", false);
  c.properties.session_expiry_interval = 5;
  c.will = MakeWill("will/dev", "session-ended");
  c.will->properties.will_delay_interval = 60;
  dev->Connect(c);
  dev->Drop();
  Advance(6);
  broker_->Tick();
  EXPECT_EQ(watcher->Payloads(), Strings{"session-ended"});
}

TEST_F(BrokerTest, CleanStartEndsTheOldSessionAndPublishesItsDelayedWill) {
  auto watcher = Connected("watcher");
  watcher->Subscribe("will/#", 0);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev", "a", false);
  c.properties.session_expiry_interval = 100;
  c.will = MakeWill("will/dev", "old-session-ended");
  c.will->properties.will_delay_interval = 60;
  dev->Connect(c);
  dev->Drop();
  EXPECT_TRUE(watcher->Publishes().empty());  // delayed
  // A clean start within the delay ends the old session: its will is due now (5.0 3.1.2.5).
  auto fresh = NewClient();
  Connect clean = fresh->MakeConnect("dev", "a", /*clean=*/true);
  EXPECT_FALSE(fresh->Connect(clean).session_present);
  EXPECT_EQ(watcher->Payloads(), Strings{"old-session-ended"});
}

TEST_P(BrokerVersionTest, KeepAliveTimeoutClosesAndPublishesTheWill) {
  auto watcher = Connected("watcher", version());
  watcher->Subscribe("will/#", 0);
  auto dev = NewClient(version());
  Connect c = dev->MakeConnect("dev");
  c.keep_alive = 10;
  c.will = MakeWill("will/dev", "timed-out");
  dev->Connect(c);
  Advance(14);
  broker_->Tick();
  EXPECT_FALSE(dev->closed());
  dev->Send(Pingreq{});  // activity resets the timer
  EXPECT_EQ(dev->link().Take<Pingresp>().size(), 1u);
  Advance(14);
  broker_->Tick();
  EXPECT_FALSE(dev->closed());
  Advance(2);  // 16 s since the PINGREQ
  broker_->Tick();
  EXPECT_TRUE(dev->closed());
  const std::vector<Disconnect> d = dev->Disconnects();
  if (v5()) {
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, ReasonCode::kKeepAliveTimeout);
  } else {
    EXPECT_TRUE(d.empty());
  }
  EXPECT_EQ(watcher->Payloads(), Strings{"timed-out"});
  EXPECT_FALSE(watcher->closed());  // keep alive 0: never times out
}

TEST_F(BrokerTest, ServerKeepAliveCapsTheClients) {
  BrokerOptions options;
  options.max_keep_alive = 30;
  Reset(options);
  auto dev = NewClient();
  Connect c = dev->MakeConnect("dev");
  c.keep_alive = 0;
  const Connack ack = dev->Connect(c);
  EXPECT_EQ(ack.properties.server_keep_alive, 30);
  Advance(46);
  broker_->Tick();
  EXPECT_TRUE(dev->closed());
}

TEST_F(BrokerTest, ConnectTimeout) {
  auto idle = NewClient();
  auto partial = NewClient();
  partial->conn().OnBytes(std::string("\x10", 1));  // half a fixed header
  Advance(9);
  broker_->Tick();
  EXPECT_FALSE(idle->closed());
  Advance(2);
  broker_->Tick();
  EXPECT_TRUE(idle->closed());
  EXPECT_TRUE(partial->closed());
  EXPECT_EQ(idle->link().pending(), 0u);
}

// ---- Takeover -----------------------------------------------------------------------------

TEST_P(BrokerVersionTest, TakeoverClosesTheFirstConnectionAndKeepsTheSession) {
  bool present = true;
  auto first = Persistent("dev", version(), &present);
  EXPECT_FALSE(present);
  first->Subscribe("t", 1);
  auto second = Persistent("dev", version(), &present);
  EXPECT_TRUE(present);
  EXPECT_TRUE(first->closed());
  const std::vector<Disconnect> d = first->Disconnects();
  if (v5()) {
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].reason, ReasonCode::kSessionTakenOver);
  } else {
    EXPECT_TRUE(d.empty());
  }
  EXPECT_FALSE(second->closed());
  EXPECT_EQ(broker_->connected_clients(), 1u);
  EXPECT_EQ(broker_->sessions(), 1u);
  auto pub = Connected("pub", version());
  pub->Publish("t", "to-second", 1);
  EXPECT_EQ(second->Payloads(), Strings{"to-second"});
  EXPECT_TRUE(first->Publishes().empty());
  // The old connection's late socket close does not detach the new one.
  first->Drop();
  pub->Publish("t", "still", 1);
  EXPECT_EQ(second->Payloads(), Strings{"still"});
}

// A session that ends with its connection (5.0 expiry 0, 3.1.1 clean session) ends at a
// takeover: a non-clean CONNECT then starts afresh, as it does once the old connection's
// DISCONNECT has been read (the two come on two sockets, read in either order).
TEST_P(BrokerVersionTest, TakeoverOfASessionThatEndsWithItsConnectionStartsAfresh) {
  auto first = Connected("dev", version());
  first->Subscribe("t", 1);
  bool present = true;
  auto second = Persistent("dev", version(), &present);
  EXPECT_FALSE(present);
  EXPECT_TRUE(first->closed());
  EXPECT_EQ(broker_->sessions(), 1u);
  auto pub = Connected("pub", version());
  pub->Publish("t", "nobody", 1);
  EXPECT_TRUE(second->Publishes().empty());  // the old subscription went with its session
  EXPECT_TRUE(first->Publishes().empty());
  // The persistent session is kept through the next takeover.
  second->Subscribe("t", 1);
  auto third = Persistent("dev", version(), &present);
  EXPECT_TRUE(present);
  pub->Publish("t", "kept", 1);
  EXPECT_EQ(third->Payloads(), Strings{"kept"});
}

// The timer thread may run Tick while a CONNECT takes a session over: between the old
// connection leaving the session and the new one attaching to it, the session is not offline.
TEST_F(BrokerTest, TickDuringTakeoverKeepsTheSession) {
  auto first = Persistent("dev");  // session expiry 3600 s
  first->Subscribe("t", 1);
  Advance(4000);  // connected for longer than the expiry interval
  first->link().set_on_close([this] { broker_->Tick(); });
  bool present = false;
  auto second = Persistent("dev", Version::kV5, &present);
  EXPECT_TRUE(first->closed());
  EXPECT_TRUE(present);
  EXPECT_EQ(broker_->sessions(), 1u);
  auto pub = Connected("pub");
  pub->Publish("t", "after-takeover", 1);
  EXPECT_EQ(second->Payloads(), Strings{"after-takeover"});
}

TEST_F(BrokerTest, TakeoverOfACleanSessionClient) {
  auto first = Connected("dev");
  auto second = Connected("dev");
  EXPECT_TRUE(first->closed());
  EXPECT_FALSE(second->closed());
  EXPECT_EQ(broker_->sessions(), 1u);
  second->Disconnect();
  EXPECT_EQ(broker_->sessions(), 0u);
}

// ---- MQTT 5.0 -----------------------------------------------------------------------------

TEST_F(BrokerTest, ConnackAdvertisesLimits) {
  auto c = NewClient();
  const Connack ack = c->Connect(c->MakeConnect("c"));
  EXPECT_EQ(ack.properties.receive_maximum, 256);
  EXPECT_EQ(ack.properties.topic_alias_maximum, 64);
  EXPECT_EQ(ack.properties.maximum_packet_size, 1u << 20);
  EXPECT_EQ(ack.properties.shared_subscription_available, 1);
}

TEST_F(BrokerTest, TopicAliasSetAndUsed) {
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("plant/#", 0);
  Properties set;
  set.topic_alias = 3;
  pub->Publish("plant/line1/temp", "1", 0, false, set);
  pub->Publish("", "2", 0, false, set);
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].topic, "plant/line1/temp");
  EXPECT_EQ(got[1].topic, "plant/line1/temp");
  EXPECT_EQ(got[1].payload, "2");
  EXPECT_FALSE(got[1].properties.topic_alias.has_value());  // aliases are per direction
  // Re-pointing the alias.
  pub->Publish("plant/line2/temp", "3", 0, false, set);
  pub->Publish("", "4", 0, false, set);
  got = sub->Publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].topic, "plant/line2/temp");
  EXPECT_FALSE(pub->closed());
}

TEST_F(BrokerTest, TopicAliasOutOfRangeOrUnsetIsAnError) {
  for (const uint16_t alias : {uint16_t{0}, uint16_t{65}}) {
    auto pub = Connected("pub");
    Properties p;
    p.topic_alias = alias;
    pub->Publish("t", "x", 0, false, p);
    const std::vector<Disconnect> d = pub->Disconnects();
    ASSERT_EQ(d.size(), 1u) << alias;
    EXPECT_EQ(d[0].reason, ReasonCode::kTopicAliasInvalid);
    EXPECT_TRUE(pub->closed());
  }
  auto pub = Connected("pub");
  Properties p;
  p.topic_alias = 5;
  pub->Publish("", "x", 0, false, p);  // never set
  const std::vector<Disconnect> d = pub->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kProtocolError);
}

TEST_F(BrokerTest, ReceiveMaximumExceeded) {
  BrokerOptions options;
  options.receive_maximum = 2;
  Reset(options);
  handler_.set_hold(true);
  auto pub = Connected("pub");
  pub->Publish("t", "1", 1);
  pub->Publish("t", "2", 2);
  EXPECT_FALSE(pub->closed());
  pub->Publish("t", "3", 1);
  EXPECT_TRUE(pub->closed());
  const std::vector<Disconnect> d = pub->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kReceiveMaximumExceeded);
  // The held callbacks may still complete after the close.
  handler_.Complete(0);
  handler_.Complete(1);
  EXPECT_TRUE(pub->Acks().empty());
}

TEST_F(BrokerTest, ReceiveMaximumCountsQos2UntilItIsReleased) {
  BrokerOptions options;
  options.receive_maximum = 2;
  Reset(options);
  auto pub = Connected("pub");
  const uint16_t first = pub->Publish("t", "1", 2);
  pub->Publish("t", "2", 2);
  EXPECT_EQ(pub->Acks().size(), 2u);  // PUBREC, PUBREC: both still count
  pub->SendAck(PacketType::kPubrel, first);
  EXPECT_EQ(pub->Acks().size(), 1u);  // PUBCOMP: one slot free again
  pub->Publish("t", "3", 2);
  EXPECT_FALSE(pub->closed());
  pub->Publish("t", "4", 1);
  EXPECT_TRUE(pub->closed());
  const std::vector<Disconnect> d = pub->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kReceiveMaximumExceeded);
}

TEST_F(BrokerTest, ReceiveMaximumCountsOnlyUnacknowledged) {
  BrokerOptions options;
  options.receive_maximum = 2;
  Reset(options);
  auto pub = Connected("pub");
  for (int i = 0; i < 10; ++i) pub->Publish("t", "m", 1);
  EXPECT_FALSE(pub->closed());
  EXPECT_EQ(pub->Acks().size(), 10u);
}

TEST_F(BrokerTest, SubscriptionIdentifiers) {
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("a/#", 1, SubscribeOptions{}, 5);
  sub->Subscribe("a/+", 0, SubscribeOptions{}, 7);
  sub->Subscribe("a/b", 0);  // no identifier
  pub->Publish("a/b", "x", 1);
  std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);  // one delivery for overlapping subscriptions, at the highest QoS
  EXPECT_EQ(got[0].qos, 1);
  std::vector<uint32_t> ids = got[0].properties.subscription_identifiers;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint32_t>{5, 7}));
  sub->SendAck(PacketType::kPuback, got[0].packet_id);
  pub->Publish("a/b/c", "y", 0);
  got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties.subscription_identifiers, std::vector<uint32_t>{5});
}

TEST_F(BrokerTest, NoLocal) {
  auto self = Connected("self");
  auto other = Connected("other");
  SubscribeOptions o;
  o.no_local = true;
  self->Subscribe("t", 0, o);
  other->Subscribe("t", 0, o);
  self->Publish("t", "mine", 0);
  EXPECT_TRUE(self->Publishes().empty());
  EXPECT_EQ(other->Payloads(), Strings{"mine"});
  // No local on a shared subscription is a protocol error.
  Subscribe shared;
  shared.packet_id = 100;
  shared.subscriptions.push_back(Subscription{"$share/g/t", o});
  self->Send(shared);
  EXPECT_TRUE(self->closed());
  const std::vector<Disconnect> d = self->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kProtocolError);
  EXPECT_TRUE(self->link().Take<Suback>().empty());
}

TEST_F(BrokerTest, PropertiesAreForwarded) {
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("req", 1);
  Properties p;
  p.response_topic = "resp/42";
  p.correlation_data = std::string("\x00\x01\x02", 3);
  p.content_type = "application/json";
  p.payload_format_indicator = 1;
  p.user_properties = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  pub->Publish("req", "{}", 1, false, p);
  const std::vector<Publish> got = sub->Publishes();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties.response_topic, p.response_topic);
  EXPECT_EQ(got[0].properties.correlation_data, p.correlation_data);
  EXPECT_EQ(got[0].properties.content_type, p.content_type);
  EXPECT_EQ(got[0].properties.payload_format_indicator, 1);
  EXPECT_EQ(got[0].properties.user_properties, p.user_properties);
  EXPECT_FALSE(got[0].properties.message_expiry_interval.has_value());

  // A 3.1.1 subscriber gets the message without the properties.
  auto old = Connected("old", Version::kV311);
  old->Subscribe("req", 0);
  pub->Publish("req", "{}", 1, false, p);
  EXPECT_EQ(old->Payloads(), Strings{"{}"});
}

TEST_F(BrokerTest, MessageExpiry) {
  auto sub = Persistent("sub");
  sub->Subscribe("t", 1);
  sub->Disconnect();
  auto pub = Connected("pub");
  Properties short_lived;
  short_lived.message_expiry_interval = 5;
  Properties long_lived;
  long_lived.message_expiry_interval = 60;
  pub->Publish("t", "short", 1, false, short_lived);
  pub->Publish("t", "long", 1, false, long_lived);
  pub->Publish("t", "forever", 1);
  Advance(10);
  auto back = Persistent("sub");
  const std::vector<Publish> got = back->Publishes();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "long");
  EXPECT_EQ(got[0].properties.message_expiry_interval, 50u);
  EXPECT_EQ(got[1].payload, "forever");
  EXPECT_FALSE(got[1].properties.message_expiry_interval.has_value());

  // An expired retained message is not delivered either.
  pub->Publish("r", "retained", 0, true, short_lived);
  Advance(6);
  back->Subscribe("r", 0);
  EXPECT_TRUE(back->Publishes().empty());
}

TEST_F(BrokerTest, ClientMaximumPacketSize) {
  auto sub = NewClient();
  Connect c = sub->MakeConnect("sub");
  c.properties.maximum_packet_size = 64;
  sub->Connect(c);
  sub->Subscribe("t", 1);
  auto pub = Connected("pub");
  pub->Publish("t", std::string(100, 'x'), 1);
  pub->Publish("t", "small", 1);
  pub->Publish("t", std::string(100, 'y'), 0);
  EXPECT_EQ(sub->Payloads(), Strings{"small"});
  for (const std::string& raw : {sub->link().raw()}) EXPECT_LT(raw.size(), 200u);
}

TEST_F(BrokerTest, AcknowledgementsFollowTheClientsLimits) {
  handler_.set_hold(true);
  // No problem information asked: a refused PUBLISH's PUBACK carries no reason string.
  auto quiet = NewClient();
  Connect c = quiet->MakeConnect("quiet");
  c.properties.request_problem_information = 0;
  quiet->Connect(c);
  quiet->Publish("t", "x", 1);
  handler_.Complete(0, ReasonCode::kPayloadFormatInvalid, "field 'x' is not a number");
  std::vector<Ack> acks = quiet->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_FALSE(acks[0].properties.reason_string.has_value());
  // A small maximum packet size: the reason string goes, and every packet fits.
  auto small = NewClient();
  c = small->MakeConnect("small");
  c.properties.maximum_packet_size = 20;
  small->Connect(c);
  small->Publish("t", "x", 1);
  handler_.Complete(1, ReasonCode::kPayloadFormatInvalid, "field 'x' is not a number");
  acks = small->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_FALSE(acks[0].properties.reason_string.has_value());
  small->Send(small->MakeConnect("small"));  // a second CONNECT: DISCONNECT 0x82
  const std::vector<Disconnect> d = small->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kProtocolError);
  EXPECT_FALSE(d[0].properties.reason_string.has_value());
  // Without limits, both carry the reason.
  auto plain = Connected("plain");
  plain->Publish("t", "x", 1);
  handler_.Complete(2, ReasonCode::kPayloadFormatInvalid, "field 'x' is not a number");
  acks = plain->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].properties.reason_string, "field 'x' is not a number");
}

TEST_F(BrokerTest, SharedSubscriptionDeliversEachMessageToOneMember) {
  auto m1 = Connected("m1");
  auto m2 = Connected("m2");
  auto plain = Connected("plain");
  m1->Subscribe("$share/workers/jobs/+", 1);
  m2->Subscribe("$share/workers/jobs/+", 1);
  plain->Subscribe("jobs/+", 0);
  auto pub = Connected("pub");
  for (int i = 0; i < 20; ++i) pub->Publish("jobs/a", std::to_string(i), 1);
  const Strings got1 = m1->Payloads();
  const Strings got2 = m2->Payloads();
  EXPECT_EQ(got1.size() + got2.size(), 20u);
  EXPECT_FALSE(got1.empty());
  EXPECT_FALSE(got2.empty());
  std::set<std::string> all(got1.begin(), got1.end());
  all.insert(got2.begin(), got2.end());
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(plain->Payloads().size(), 20u);  // non-shared subscribers get everything

  // An offline member is skipped while another is online.
  m2->Drop();
  for (int i = 0; i < 5; ++i) pub->Publish("jobs/b", "x", 1);
  EXPECT_EQ(m1->Payloads().size(), 5u);
}

TEST_F(BrokerTest, MaxSubscriptions) {
  BrokerOptions options;
  options.max_subscriptions = 2;
  Reset(options);
  auto c = Connected("c");
  const Suback ack = c->Subscribe(
      {Subscription{"a", {.max_qos = 1}}, Subscription{"b", {}}, Subscription{"c", {}}});
  ASSERT_EQ(ack.reasons.size(), 3u);
  EXPECT_EQ(ack.reasons[0], ReasonCode::kGrantedQos1);
  EXPECT_EQ(ack.reasons[1], ReasonCode::kSuccess);
  EXPECT_EQ(ack.reasons[2], ReasonCode::kQuotaExceeded);
  // Replacing an existing one is fine; after an unsubscribe there is room again.
  EXPECT_EQ(c->Subscribe("a", 2).reasons[0], ReasonCode::kGrantedQos2);
  EXPECT_EQ(c->Unsubscribe("b").reasons[0], ReasonCode::kSuccess);
  EXPECT_EQ(c->Unsubscribe("b").reasons[0], ReasonCode::kNoSubscriptionExisted);
  EXPECT_EQ(c->Subscribe("c", 0).reasons[0], ReasonCode::kSuccess);
}

TEST_F(BrokerTest, InvalidFilterClosesTheConnection) {
  auto c = Connected("c");
  Subscribe sub;
  sub.packet_id = 1;
  sub.subscriptions = {Subscription{"ok", {}}, Subscription{"a/#/b", {}}};
  c->Send(sub);
  EXPECT_TRUE(c->closed());
  const std::vector<Disconnect> d = c->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kTopicFilterInvalid);
}

TEST_F(BrokerTest, UnsubscribeStopsDelivery) {
  auto sub = Connected("sub");
  auto pub = Connected("pub");
  sub->Subscribe("t", 0);
  pub->Publish("t", "1");
  EXPECT_EQ(sub->Unsubscribe("t").reasons[0], ReasonCode::kSuccess);
  pub->Publish("t", "2");
  EXPECT_EQ(sub->Payloads(), Strings{"1"});
}

TEST_F(BrokerTest, PacketTooLarge) {
  BrokerOptions options;
  options.max_packet_size = 100;
  Reset(options);
  auto pub = Connected("pub");
  pub->Publish("t", std::string(200, 'x'));
  const std::vector<Disconnect> d = pub->Disconnects();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason, ReasonCode::kPacketTooLarge);
  EXPECT_TRUE(pub->closed());
}

TEST_F(BrokerTest, BytesSplitAcrossCalls) {
  auto sub = Connected("sub");
  auto pub = NewClient();
  std::string bytes;
  Encode(pub->MakeConnect("pub"), Version::kV5, &bytes);
  Publish p;
  p.topic = "t";
  p.payload = "split";
  Encode(p, Version::kV5, &bytes);
  Encode(p, Version::kV5, &bytes);
  sub->Subscribe("t", 0);
  for (char ch : bytes) pub->conn().OnBytes(std::string_view(&ch, 1));
  EXPECT_EQ(pub->link().Take<Connack>().size(), 1u);
  EXPECT_EQ(sub->Payloads(), (Strings{"split", "split"}));
}

// ---- $SYS ---------------------------------------------------------------------------------

TEST_F(BrokerTest, SysTopics) {
  BrokerOptions options;
  options.sys_interval = Duration::Seconds(10);
  Reset(options);
  auto sys = Connected("sys");
  auto all = Connected("all");
  auto other_tenant = Connected("sys", Version::kV5, "b");
  sys->Subscribe("$SYS/#", 0);
  all->Subscribe("#", 0);
  other_tenant->Subscribe("#", 0);
  Advance(10);
  broker_->Tick();
  std::map<std::string, std::string> topics;
  for (const Publish& p : sys->Publishes()) topics[p.topic] = p.payload;
  EXPECT_TRUE(topics.contains("$SYS/broker/version"));
  EXPECT_TRUE(topics.contains("$SYS/broker/uptime"));
  ASSERT_TRUE(topics.contains("$SYS/broker/clients/connected"));
  EXPECT_EQ(topics["$SYS/broker/clients/connected"], "2");  // tenant A's own figure
  for (const auto& [topic, payload] : topics) EXPECT_EQ(topic.rfind("$SYS/broker/", 0), 0u);
  EXPECT_TRUE(all->Publishes().empty());
  EXPECT_TRUE(other_tenant->Publishes().empty());
  // Not again before the interval.
  Advance(5);
  broker_->Tick();
  EXPECT_TRUE(sys->Publishes().empty());
  Advance(5);
  broker_->Tick();
  EXPECT_FALSE(sys->Publishes().empty());
}

TEST_F(BrokerTest, ClientsCannotPublishToSysTopics) {
  auto sub = Connected("sub");
  sub->Subscribe("$SYS/#", 0);
  auto pub = Connected("pub");
  pub->Publish("$SYS/broker/version", "forged", 1, /*retain=*/true);
  const std::vector<Ack> acks = pub->Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason, ReasonCode::kNotAuthorized);
  EXPECT_TRUE(sub->Publishes().empty());
  auto late = Connected("late");
  late->Subscribe("$SYS/broker/version", 0);
  EXPECT_TRUE(late->Publishes().empty());  // nothing retained
  auto willing = NewClient();
  Connect c = willing->MakeConnect("willing");
  c.will = MakeWill("$SYS/broker/clients/connected", "0");
  EXPECT_EQ(willing->Connect(c).reason, ReasonCode::kNotAuthorized);
}

TEST_F(BrokerTest, PublishInternal) {
  auto sub = Connected("sub");
  sub->Subscribe("cmd/#", 1);
  Message m;
  m.tenant = kTenantA;
  m.topic = "cmd/reboot";
  m.payload = "now";
  m.qos = 1;
  broker_->PublishInternal(m);
  m.tenant = kTenantB;
  m.payload = "other tenant";
  broker_->PublishInternal(m);
  EXPECT_EQ(sub->Payloads(), Strings{"now"});
}

// ---- Concurrency (for TSan) ---------------------------------------------------------------

TEST_F(BrokerTest, SimultaneousConnectsWithOneClientIdLeaveOneConnection) {
  for (int round = 0; round < 20; ++round) {
    constexpr int kClients = 6;
    const std::string id = "same-" + std::to_string(round);
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < kClients; ++i) clients.push_back(NewClient());
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < kClients; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kClients) std::this_thread::yield();
        clients[i]->Send(clients[i]->MakeConnect(id, "a", /*clean=*/i % 2 == 0));
      });
    }
    for (auto& t : threads) t.join();
    int open = 0;
    for (auto& c : clients) open += c->closed() ? 0 : 1;
    EXPECT_EQ(open, 1) << "round " << round;
    // The survivor owns the only session of that id: a message to it arrives.
    for (auto& c : clients) {
      if (c->closed()) continue;
      c->Subscribe("race/" + id, 0);
      auto pub = Connected("pub-" + id);
      pub->Publish("race/" + id, "hello", 0);
      EXPECT_EQ(c->Payloads(), Strings{"hello"});
    }
  }
}

TEST_F(BrokerTest, ConcurrentPublishersAndSubscribers) {
  constexpr int kPublishers = 4;
  constexpr int kMessages = 300;
  handler_.set_hold(true);

  auto stable = Connected("stable");
  stable->Subscribe("data/#", 0);

  std::vector<std::unique_ptr<TestClient>> pubs;
  for (int i = 0; i < kPublishers; ++i) pubs.push_back(Connected("pub" + std::to_string(i)));
  std::vector<std::unique_ptr<TestClient>> churn;
  for (int i = 0; i < 2; ++i) churn.push_back(Connected("churn" + std::to_string(i)));

  std::atomic<bool> stop{false};
  std::atomic<int> publishers_left{kPublishers};
  std::vector<std::vector<uint16_t>> acked(kPublishers);  // PUBACK/PUBREC ids, in order
  auto drain_acks = [&](int i) {
    for (const Ack& a : pubs[i]->Acks()) {
      if (a.type == PacketType::kPuback || a.type == PacketType::kPubrec) {
        acked[i].push_back(a.packet_id);
      }
      if (a.type == PacketType::kPubrec) pubs[i]->SendAck(PacketType::kPubrel, a.packet_id);
    }
  };
  std::vector<std::thread> publishers;
  for (int i = 0; i < kPublishers; ++i) {
    publishers.emplace_back([&, i] {
      for (int n = 0; n < kMessages; ++n) {
        pubs[i]->Publish(fmt::format("data/{}", i), std::to_string(n), 1 + n % 2);
        drain_acks(i);
        // Within the broker's receive maximum (256).
        while (n + 1 - acked[i].size() >= 100) {
          std::this_thread::yield();
          drain_acks(i);
        }
      }
      publishers_left.fetch_sub(1);
    });
  }
  // Completes held callbacks in reverse order of arrival, from its own thread.
  std::thread completer([&] {
    while (true) {
      const bool last = publishers_left.load() == 0;
      std::vector<FakeHandler::Done> held = handler_.TakeHeld();
      for (auto it = held.rbegin(); it != held.rend(); ++it) (*it)(ReasonCode::kSuccess, {});
      if (last && held.empty()) break;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> others;
  for (int i = 0; i < 2; ++i) {
    others.emplace_back([&, i] {
      const std::string filter = i == 0 ? "data/#" : "$share/g/data/+";
      while (!stop.load()) {
        churn[i]->Subscribe(filter, 1);
        churn[i]->Payloads();
        churn[i]->Unsubscribe(filter);
        churn[i]->Payloads();
      }
    });
  }
  others.emplace_back([&] {
    while (!stop.load()) {
      broker_->Tick();
      std::this_thread::yield();
    }
  });
  for (std::thread& t : publishers) t.join();
  completer.join();
  stop.store(true);
  for (std::thread& t : others) t.join();
  for (int i = 0; i < kPublishers; ++i) {
    drain_acks(i);
    ASSERT_EQ(acked[i].size(), static_cast<size_t>(kMessages));
    for (int n = 0; n < kMessages; ++n) ASSERT_EQ(acked[i][n], n + 1) << "publisher " << i;
  }

  // Every publisher's messages reached the stable subscriber, in order per publisher.
  std::vector<int> next(kPublishers, 0);
  for (const Publish& p : stable->Publishes()) {
    const int i = p.topic.back() - '0';
    ASSERT_EQ(p.payload, std::to_string(next[i])) << p.topic;
    ++next[i];
  }
  for (int i = 0; i < kPublishers; ++i) EXPECT_EQ(next[i], kMessages);
}

}  // namespace
}  // namespace seaway::mqtt
