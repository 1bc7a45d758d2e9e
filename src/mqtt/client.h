// Client: an asynchronous MQTT 3.1.1 / 5.0 client on the broker's codec (src/mqtt), for the
// device simulator (`seaway simulate`, the demo feed) and the benchmark tool (bench/).
//
//   ClientLoop loop(1);                       // io threads
//   auto c = Client::Create(&loop, options);
//   c->Connect([&](Status s, const Connack& ack) { ... });
//   c->Publish(std::move(publish), [](ReasonCode rc) { ... });   // QoS 1/2: on PUBACK/PUBCOMP
//   c->Subscribe({{"a/#", {.max_qos = 1}}}, on_suback);
//   c->OnMessage([](const Publish& p) { ... });                 // QoS 1/2 acknowledged for you
//
// Callbacks run on the loop's threads, one at a time per client. Outgoing QoS 1/2 publishes are
// not limited here: the caller keeps its own window (the broker's receive maximum is in the
// CONNACK). Asio stays inside client.cc.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/status.h"
#include "mqtt/packet.h"

namespace seaway::mqtt {

// Threads running the clients' I/O.
class ClientLoop {
 public:
  explicit ClientLoop(int threads);
  ~ClientLoop();  // stops and joins
  ClientLoop(const ClientLoop&) = delete;
  ClientLoop& operator=(const ClientLoop&) = delete;
  void Stop();

  struct Impl;
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

struct ClientOptions {
  HostPort address{"127.0.0.1", 1883};
  Version version = Version::kV5;
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  uint16_t keep_alive = 60;  // PINGREQ when idle for this long
  bool clean_start = true;
  uint32_t session_expiry = 0;  // 5.0
  std::optional<Will> will;
};

class Client {
 public:
  static std::shared_ptr<Client> Create(ClientLoop* loop, ClientOptions options);
  virtual ~Client() = default;

  // Connects and sends CONNECT; `done` gets the CONNACK, or the error (connection refused,
  // refusal reason code, closed before CONNACK).
  virtual void Connect(std::function<void(Status, const Connack&)> done) = 0;
  // Assigns the packet id. QoS 0: `done` (may be null) runs once the bytes are queued with
  // kSuccess. QoS 1/2: on PUBACK / PUBCOMP with its reason code, or kUnspecifiedError if the
  // connection closes first.
  virtual void Publish(mqtt::Publish publish, std::function<void(ReasonCode)> done) = 0;
  virtual void Subscribe(std::vector<Subscription> subscriptions,
                         std::function<void(const Suback&)> done, uint32_t subscription_id = 0) = 0;
  // Set before Connect.
  virtual void OnMessage(std::function<void(const mqtt::Publish&)> handler) = 0;
  // Called once when the connection ends, with why (DISCONNECT from the server, EOF, error).
  virtual void OnClosed(std::function<void(const Status&)> handler) = 0;
  virtual void Disconnect() = 0;
  // Closes the socket without DISCONNECT (an abnormal end: the broker publishes the will).
  virtual void Abort() = 0;
  // QoS 1/2 publishes sent and not yet acknowledged.
  virtual size_t in_flight() const = 0;
};

}  // namespace seaway::mqtt
