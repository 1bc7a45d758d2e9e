// Broker: the MQTT 3.1.1 / 5.0 broker core (src/mqtt), without sockets.
//
// A listener (mqtt_server.h, or a test) hands each accepted connection to Accept() with a
// ClientLink that can send bytes and close, then feeds the bytes it reads to
// BrokerConnection::OnBytes. The broker decodes packets (packet.h), authenticates CONNECT
// (password = a tenant token), keeps sessions per (tenant, client id), routes PUBLISH through
// each tenant's subscription tree (topic.h), and hands every publish to a PublishHandler first:
// the telemetry bridge stores telemetry topics in the engine and says when the data is durable.
//
// Per connection, incoming messages pass through an ordered pipeline: a message is routed to
// subscribers and acknowledged (PUBACK, or PUBREC for QoS 2) only when it and every message
// received before it on the connection are accepted, so acknowledgements and deliveries keep the
// order of receipt (MQTT 4.6) even when storage completes out of order.
//
// Tenancy: every session, subscription tree, retained message and $SYS topic belongs to the
// tenant of the CONNECT's credentials; nothing is routed across tenants and client ids of
// different tenants never collide.
//
// Timers: Tick(now) enforces keepalive (1.5x), the CONNECT timeout, will delays, session and
// message expiry, and publishes $SYS statistics; the listener calls it a few times a second.
//
// Persistence: sessions (subscriptions, in-flight and queued QoS 1/2 messages) and retained
// messages are saved to a BrokerStore on Stop() and every `save_interval` while they change,
// and restored by Start(). Telemetry never depends on this: it is acknowledged only once durable
// in the engine.
//
// Thread-safe: connections may be fed from many threads; one connection's calls are serialized
// by its listener.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/byte_link.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/strong_id.h"
#include "mqtt/packet.h"
#include "mqtt/topic.h"

namespace seaway::mqtt {

struct BrokerOptions {
  uint32_t max_packet_size = 1 << 20;  // advertised in CONNACK; larger packets: 0x95
  uint16_t receive_maximum = 256;      // QoS 1/2 publishes a client may have unacknowledged
  uint16_t max_inflight = 512;         // outgoing QoS 1/2 in flight per session (cap)
  size_t max_queued_messages = 10000;  // per session, beyond in-flight; then dropped, counted
  uint16_t topic_alias_maximum = 64;   // client-to-broker aliases accepted
  size_t max_subscriptions = 1000;     // per session
  size_t max_retained_per_tenant = 100000;
  size_t max_pipeline = 1024;   // incoming messages awaiting acceptance per connection
  uint16_t max_keep_alive = 0;  // 0: as the client asks; else the broker's cap (5.0)
  Duration connect_timeout = Duration::Seconds(10);
  // 3.1.1 persistent sessions (and 5.0 "never" expiry) end after this long offline.
  Duration max_session_expiry = Duration::Seconds(7 * 24 * 3600);
  // PUBLISH packets a second one connection may send (a burst of one second's worth is
  // allowed); past it the broker stops reading from the connection until it is back under.
  // 0: unlimited.
  double max_publish_rate = 0;
  // CONNECTs a second from one IP address; past it CONNACK 0x9F (3.1.1: 3). 0: unlimited.
  double max_connect_rate = 0;
  Duration sys_interval = Duration::Seconds(10);  // $SYS statistics, 0: off
  Duration save_interval = Duration::Seconds(2);  // broker state saved when changed
};

// The transport of one client connection (TCP, TLS, WebSocket, or a test's fake).
using ClientLink = ByteLink;

// Who a client is, from its CONNECT.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The identity of the credentials from the client at `address` (IP, no port); an error means
  // refuse: ResourceExhausted after too many failures (CONNACK 0x9F, 3.1.1: 3), any other
  // error bad credentials (0x86, 3.1.1: 4).
  // `certificate_sha256`: the client's TLS certificate (ByteLink::peer_certificate_sha256), or
  // empty.
  virtual Result<ClientIdentity> Authenticate(std::string_view client_id,
                                              const std::optional<std::string>& username,
                                              const std::optional<std::string>& password,
                                              std::string_view address,
                                              std::string_view certificate_sha256) = 0;
};

// A message as the broker routes it: immutable once built, shared by every delivery.
struct Message {
  TenantId tenant;
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  // Forwarded 5.0 properties: payload format, content type, response topic, correlation data,
  // user properties. Message expiry is kept as `expiry_at` instead.
  Properties properties;
  int64_t expiry_at = 0;         // monotonic ns; 0: never expires
  const void* origin = nullptr;  // the publishing session, for no-local
};

// Sees every PUBLISH before it is routed (the telemetry bridge). Thread-safe.
class PublishHandler {
 public:
  virtual ~PublishHandler() = default;
  // Calls `done` exactly once, from any thread: kSuccess to route and acknowledge the message,
  // an error reason code (e.g. kPayloadFormatInvalid) to refuse it: it is not routed and a 5.0
  // client's PUBACK/PUBREC carries the code with `reason_string`.
  virtual void OnPublish(const Message& message,
                         std::function<void(ReasonCode, std::string reason_string)> done) = 0;
};

class BrokerStore;

// One client connection, from Accept() until it closes: the transport feeds it bytes.
using BrokerConnection = ByteSink;

class Broker {
 public:
  // `auth`, `handler` (may be null), `store` (may be null: nothing persists), `metrics` and
  // `clock` must outlive the broker.
  Broker(BrokerOptions options, Authenticator* auth, PublishHandler* handler, BrokerStore* store,
         MetricsRegistry* metrics, Clock* clock);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Restores saved sessions and retained messages.
  Status Start();
  // Saves the state; connections should be closed first.
  Status Stop();

  std::shared_ptr<BrokerConnection> Accept(std::shared_ptr<ClientLink> link);

  // Timers: keepalive, CONNECT timeout, will delay, session expiry, $SYS, periodic save.
  void Tick();

  // Closes every connection of device `device` of `tenant` (its credentials were revoked): 5.0
  // clients get DISCONNECT 0x87 first; no will is published. Returns how many were closed.
  size_t DisconnectDevice(TenantId tenant, std::string_view device);

  // Forgets tenant `tenant` (it was deleted): closes its connections (DISCONNECT 0x87, no
  // will), ends its sessions (persistent ones too, with their queued messages) and drops its
  // retained messages; until the broker stops, its CONNECTs are refused (0x87) and nothing is
  // routed in it. Returns how many connections were closed. Callers repeat it for each deleted
  // tenant after every Start (the saved state may predate the drop).
  size_t DropTenant(TenantId tenant);

  // Publishes a message as the broker itself (the command API, $SYS); routed in its tenant.
  // Returns the sessions it reached (sent to, or queued for an offline persistent session).
  size_t PublishInternal(Message message);

  // Calls `done` once: with the next message published to exactly `topic` in `tenant` (it is
  // also routed as usual), or with null after `timeout` (checked by Tick) or at Stop. False
  // when the topic already has a waiter. For request/response: the command API waits on a
  // device's response topic.
  bool AwaitMessage(TenantId tenant, std::string topic, Duration timeout,
                    std::function<void(const Message*)> done);

  // Counts, for tests and $SYS.
  size_t connected_clients() const;
  size_t sessions() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway::mqtt
