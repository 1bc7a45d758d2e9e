// ServerConfig: every setting of `seaway serve` (src/server).
//
// Each setting is a command-line flag, an environment variable and a config-file key, with one
// precedence: flag > environment > config file (--config / SEAWAY_CONFIG) > built-in default.
// `seaway serve --help` lists them all with their variables and defaults.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "common/host_port.h"
#include "common/status.h"
#include "ingest/ingest_result.h"
#include "mqtt/broker.h"
#include "mqtt/mqtt_server.h"
#include "storage/engine.h"

namespace CLI {
class App;
}  // namespace CLI

namespace seaway {

struct ServerConfig {
  std::string config_file;
  std::string data_dir = "./data";
  std::string http = "127.0.0.1:8080";
  std::string mqtt = "127.0.0.1:1883";
  int http_threads = 0;
  uint64_t http_max_body_bytes = 25 * 1024 * 1024;
  int http_max_connections = 10000;
  uint64_t http_max_inflight_bytes = 256 * 1024 * 1024;
  std::string http_tls_cert;  // PEM certificate (chain); with http_tls_key, the listener is HTTPS
  std::string http_tls_key;   // PEM private key
  IngestLimits ingest;        // --ingest-max-*
  uint64_t max_series_per_tenant = 10'000'000;
  int64_t sql_timeout_ms = 30'000;  // one query's time limit
  int64_t sql_max_memory_mb = 256;  // one query's memory limit
  int sql_threads = 2;              // queries running at once
  int sql_max_queued = 16;          // queries waiting for a thread; more get 503
  std::string log_level = "info";
  std::string log_format = "text";
  std::string wal_sync = "always";
  std::string wal_recovery = "strict";
  int storage_shards = 2;
  uint64_t storage_memory_bytes = 1ull << 30;
  uint64_t storage_index_cache_bytes = 128ull << 20;  // segment-index blocks kept in memory
  bool demo = false;
  bool metrics_public = false;  // /metrics without the system token
  // MQTT: the listener, an optional TLS listener, and the broker's limits (--mqtt-*).
  int mqtt_threads = 0;
  size_t mqtt_max_connections = 100000;
  std::string mqtt_tls;  // HOST:PORT of the TLS listener; empty: none
  std::string mqtt_tls_cert;
  std::string mqtt_tls_key;
  std::string mqtt_tls_client_ca;  // set: clients must present a certificate it signed
  mqtt::BrokerOptions broker;
  int64_t mqtt_connect_timeout_ms = 10'000;
  int64_t mqtt_write_interval_us = 3'000;
  int64_t mqtt_max_session_expiry_s = 7 * 24 * 3600;

  // Filled by Finalize() from the strings above.
  HostPort http_address;
  HostPort mqtt_address;
  mqtt::MqttServerOptions mqtt_listener;  // addresses, threads, TLS files
  EngineOptions engine;

  // Validates the settings and parses the addresses; errors name the setting.
  Status Finalize();

  bool http_tls() const { return !http_tls_cert.empty(); }
};

// Registers every setting of `serve` on `command`, bound to `config`.
void AddServeOptions(CLI::App* command, ServerConfig* config);

// Applies the `key = value` file at `path` to the options of `command` that were given neither
// as flags nor through the environment. REQUIRES: `command` has been parsed.
Status ApplyConfigFile(CLI::App* command, const std::string& path);

}  // namespace seaway
