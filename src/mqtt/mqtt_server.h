// MqttServer: the MQTT TCP listener (src/mqtt), on Boost.Asio, feeding a Broker.
//
// Each connection waits for readability without a buffer of its own and reads into a
// per-thread buffer, so an idle connection costs little memory (10,000 idle devices are the
// normal case). Writes queue per connection; QoS 0 deliveries to a client whose queue is over
// `max_write_queue_bytes` are dropped (counted), never QoS 1/2 (those are bounded by the
// session's in-flight window and queue). A timer calls Broker::Tick four times a second.
// Optionally a second listener speaks MQTT over TLS, with the same broker behind it.
//
// Asio is confined to mqtt_server.cc. Thread-safe; Start and Stop from one owner thread.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "common/host_port.h"
#include "common/metrics.h"
#include "common/status.h"
#include "mqtt/broker.h"

namespace seaway::mqtt {

struct MqttServerOptions {
  HostPort address{"127.0.0.1", 1883};
  int threads = 0;  // 0: one per core
  size_t max_connections = 100000;
  size_t max_write_queue_bytes = 8 << 20;
  // A second listener speaking MQTT over TLS 1.2+ (usually port 8883), with a PEM certificate
  // (chain) and key; with a client CA file, clients must present a certificate it signed.
  std::optional<HostPort> tls_address;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
};

class MqttServer {
 public:
  // `broker` and `metrics` must outlive the server.
  MqttServer(MqttServerOptions options, Broker* broker, MetricsRegistry* metrics);
  ~MqttServer();
  MqttServer(const MqttServer&) = delete;
  MqttServer& operator=(const MqttServer&) = delete;

  // Binds and listens; a clear error when the address cannot be resolved or bound.
  Status Start();
  // The bound address (the real port when 0 was asked). REQUIRES: Start() returned OK.
  HostPort local_address() const;
  // The bound TLS address. REQUIRES: Start() returned OK with a TLS listener configured.
  HostPort tls_address() const;
  // Stops accepting, closes every connection (the broker saves its state after this), joins
  // the threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway::mqtt
