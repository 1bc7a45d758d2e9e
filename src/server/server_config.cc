// ServerConfig: flags, environment and config file for `seaway serve` (src/server).
#include "server/server_config.h"

#include <CLI/CLI.hpp>

#include "common/config_file.h"
#include "common/logging.h"
#include "storage/env.h"

namespace seaway {

void AddServeOptions(CLI::App* cmd, ServerConfig* c) {
  cmd->add_option("--config", c->config_file,
                  "Config file of `key = value` lines; keys are these flags without '--'. "
                  "Precedence: flag > environment > config file > default")
      ->envname("SEAWAY_CONFIG")
      ->type_name("FILE");
  cmd->add_option("--data-dir", c->data_dir,
                  "Directory for all stored data (created if absent; one server at a time)")
      ->envname("SEAWAY_DATA_DIR")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--http", c->http,
                  "HTTP listener: API, InfluxDB-compatible writes, /health, /metrics. "
                  "Port 0 picks a free port")
      ->envname("SEAWAY_HTTP")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--mqtt", c->mqtt,
                  "MQTT listener (3.1.1 and 5.0; the password is a tenant token). Port 0 picks a "
                  "free port")
      ->envname("SEAWAY_MQTT")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--mqtt-threads", c->mqtt_threads,
                  "Threads serving MQTT connections; 0 means one per core")
      ->envname("SEAWAY_MQTT_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-connections", c->mqtt_max_connections,
                  "Open MQTT connections at most (TCP and TLS); more are closed at once")
      ->envname("SEAWAY_MQTT_MAX_CONNECTIONS")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-tls", c->mqtt_tls,
                  "MQTT over TLS listener (usually port 8883); requires --mqtt-tls-cert and "
                  "--mqtt-tls-key")
      ->envname("SEAWAY_MQTT_TLS")
      ->type_name("HOST:PORT");
  cmd->add_option("--mqtt-tls-cert", c->mqtt_tls_cert,
                  "PEM certificate (chain, leaf first) of the --mqtt-tls listener")
      ->envname("SEAWAY_MQTT_TLS_CERT")
      ->type_name("FILE");
  cmd->add_option("--mqtt-tls-key", c->mqtt_tls_key,
                  "PEM private key (unencrypted) of --mqtt-tls-cert")
      ->envname("SEAWAY_MQTT_TLS_KEY")
      ->type_name("FILE");
  cmd->add_option("--mqtt-tls-client-ca", c->mqtt_tls_client_ca,
                  "PEM CA certificates: when set, --mqtt-tls clients must present a certificate "
                  "one of them signed")
      ->envname("SEAWAY_MQTT_TLS_CLIENT_CA")
      ->type_name("FILE");
  cmd->add_option("--mqtt-max-packet-bytes", c->broker.max_packet_size,
                  "Largest MQTT packet accepted (announced in 5.0 CONNACKs); larger ones close "
                  "the connection with reason 0x95")
      ->envname("SEAWAY_MQTT_MAX_PACKET_BYTES")
      ->check(CLI::Range(uint32_t{64}, uint32_t{268435455}))
      ->capture_default_str();
  cmd->add_option("--mqtt-receive-maximum", c->broker.receive_maximum,
                  "QoS 1/2 publishes a client may have unacknowledged (announced in CONNACK)")
      ->envname("SEAWAY_MQTT_RECEIVE_MAXIMUM")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-inflight", c->broker.max_inflight,
                  "QoS 1/2 messages the broker sends a session before waiting for acknowledgements")
      ->envname("SEAWAY_MQTT_MAX_INFLIGHT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-queued", c->broker.max_queued_messages,
                  "QoS 1/2 messages queued per session beyond the in-flight ones; more are "
                  "dropped and counted")
      ->envname("SEAWAY_MQTT_MAX_QUEUED")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-subscriptions", c->broker.max_subscriptions,
                  "Subscriptions per session; more are refused in SUBACK (0x97)")
      ->envname("SEAWAY_MQTT_MAX_SUBSCRIPTIONS")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-retained", c->broker.max_retained_per_tenant,
                  "Retained messages per tenant; new topics past it are not retained (counted)")
      ->envname("SEAWAY_MQTT_MAX_RETAINED")
      ->check(CLI::Range(size_t{0}, size_t{100'000'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-write-interval-us", c->mqtt_write_interval_us,
                  "MQTT telemetry is merged into engine writes; one of fewer than 512 messages "
                  "starts at most once per this many microseconds, and messages arriving "
                  "meanwhile join it: less CPU per message, each PUBACK up to this much later. "
                  "0: a write starts as soon as fewer than two are in flight")
      ->envname("SEAWAY_MQTT_WRITE_INTERVAL_US")
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-publish-rate", c->broker.max_publish_rate,
                  "PUBLISH packets a second per connection; past it the broker stops reading "
                  "that connection until it is under. 0: unlimited")
      ->envname("SEAWAY_MQTT_MAX_PUBLISH_RATE")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-connect-rate", c->broker.max_connect_rate,
                  "CONNECTs a second from one IP address; past it CONNACK 0x9F (3.1.1: 3). "
                  "0: unlimited")
      ->envname("SEAWAY_MQTT_MAX_CONNECT_RATE")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  cmd->add_option("--mqtt-connect-timeout-ms", c->mqtt_connect_timeout_ms,
                  "A connection that sends no CONNECT within this is closed")
      ->envname("SEAWAY_MQTT_CONNECT_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}))
      ->capture_default_str();
  cmd->add_option("--mqtt-max-session-expiry-s", c->mqtt_max_session_expiry_s,
                  "Longest an offline persistent session is kept (3.1.1 clean-session-false "
                  "sessions, and 5.0 expiry intervals above it)")
      ->envname("SEAWAY_MQTT_MAX_SESSION_EXPIRY_S")
      ->check(CLI::Range(int64_t{1}, int64_t{4294967295}))
      ->capture_default_str();
  cmd->add_option("--http-threads", c->http_threads,
                  "Threads serving HTTP connections; 0 means one per core")
      ->envname("SEAWAY_HTTP_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_option("--http-max-body-bytes", c->http_max_body_bytes,
                  "Largest accepted HTTP request body; larger ones get 413")
      ->envname("SEAWAY_HTTP_MAX_BODY_BYTES")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 34))
      ->capture_default_str();
  cmd->add_option("--http-max-connections", c->http_max_connections,
                  "Open HTTP connections at most; more get 503 with Retry-After and are closed")
      ->envname("SEAWAY_HTTP_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--http-max-inflight-bytes", c->http_max_inflight_bytes,
                  "Request bodies being received or handled, in bytes across all connections; "
                  "a request that would exceed it gets 503 with Retry-After (one request is "
                  "always admitted)")
      ->envname("SEAWAY_HTTP_MAX_INFLIGHT_BYTES")
      ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--http-tls-cert", c->http_tls_cert,
                  "PEM certificate for HTTPS on the --http listener (the file may hold the chain, "
                  "leaf first); requires --http-tls-key. When set, that port speaks only TLS 1.2+")
      ->envname("SEAWAY_HTTP_TLS_CERT")
      ->type_name("FILE");
  cmd->add_option("--http-tls-key", c->http_tls_key,
                  "PEM private key (unencrypted) of --http-tls-cert; requires --http-tls-cert")
      ->envname("SEAWAY_HTTP_TLS_KEY")
      ->type_name("FILE");
  cmd->add_option("--ingest-max-line-bytes", c->ingest.max_line_bytes,
                  "Longest line of line protocol, NDJSON line or JSON item; longer ones are "
                  "rejected (the other lines are stored)")
      ->envname("SEAWAY_INGEST_MAX_LINE_BYTES")
      ->check(CLI::Range(size_t{16}, size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--ingest-max-tags", c->ingest.max_tags, "Tags per written row at most")
      ->envname("SEAWAY_INGEST_MAX_TAGS")
      ->check(CLI::Range(size_t{1}, size_t{1000}))
      ->capture_default_str();
  cmd->add_option("--ingest-max-fields", c->ingest.max_fields, "Fields per written row at most")
      ->envname("SEAWAY_INGEST_MAX_FIELDS")
      ->check(CLI::Range(size_t{1}, size_t{1000}))
      ->capture_default_str();
  cmd->add_option("--ingest-max-key-bytes", c->ingest.max_key_bytes,
                  "Longest tag or field name, and longest tag value")
      ->envname("SEAWAY_INGEST_MAX_KEY_BYTES")
      ->check(CLI::Range(size_t{1}, size_t{256}))
      ->capture_default_str();
  cmd->add_option("--ingest-max-string-bytes", c->ingest.max_string_bytes,
                  "Longest string field value")
      ->envname("SEAWAY_INGEST_MAX_STRING_BYTES")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-series-per-tenant", c->max_series_per_tenant,
                  "Series one tenant may have; a write that would create more gets 429 naming "
                  "this limit (existing series keep taking rows)")
      ->envname("SEAWAY_MAX_SERIES_PER_TENANT")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--sql-timeout-ms", c->sql_timeout_ms,
                  "Longest time one SQL query may run; past it the query fails (HTTP 422)")
      ->envname("SEAWAY_SQL_TIMEOUT_MS")
      ->capture_default_str();
  cmd->add_option("--sql-max-memory-mb", c->sql_max_memory_mb,
                  "Memory one SQL query may hold for aggregation, sorting, joins and buffered "
                  "results; past it the query fails (HTTP 422)")
      ->envname("SEAWAY_SQL_MAX_MEMORY_MB")
      ->capture_default_str();
  cmd->add_option("--sql-threads", c->sql_threads,
                  "SQL queries running at once, on their own threads (never the HTTP ones)")
      ->envname("SEAWAY_SQL_THREADS")
      ->capture_default_str();
  cmd->add_option("--sql-max-queued", c->sql_max_queued,
                  "SQL queries waiting for a thread; more get 503 with Retry-After")
      ->envname("SEAWAY_SQL_MAX_QUEUED")
      ->capture_default_str();
  cmd->add_option("--wal-sync", c->wal_sync,
                  "When a write is acknowledged. always: after fsync (nothing acknowledged is "
                  "lost). interval:MS: after write(2), fsync every MS ms (a power loss can lose "
                  "up to MS ms of acknowledged writes). none: never fsync (a power loss can lose "
                  "whatever the OS had not written)")
      ->envname("SEAWAY_WAL_SYNC")
      ->type_name("always|interval:MS|none")
      ->capture_default_str();
  cmd->add_option("--wal-recovery", c->wal_recovery,
                  "On damage in the middle of the WAL: strict stops startup naming file and "
                  "offset; truncate keeps what precedes the damage and drops the rest")
      ->envname("SEAWAY_WAL_RECOVERY")
      ->check(CLI::IsMember({"strict", "truncate"}))
      ->capture_default_str();
  cmd->add_option("--storage-shards", c->storage_shards,
                  "Storage shards (one writer thread each); fixed when the data directory is "
                  "created")
      ->envname("SEAWAY_STORAGE_SHARDS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--storage-memory-bytes", c->storage_memory_bytes,
                  "Memory for recent rows across all shards; over it, writes get 'retry later'")
      ->envname("SEAWAY_STORAGE_MEMORY_BYTES")
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--storage-index-cache-bytes", c->storage_index_cache_bytes,
                  "Memory for segment-index blocks read from disk (an LRU shared by the shards); "
                  "the rest is read again when needed")
      ->envname("SEAWAY_STORAGE_INDEX_CACHE_BYTES")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_flag("--metrics-public", c->metrics_public,
                "Serve /metrics to anyone who reaches the HTTP listener (a Prometheus on a "
                "private network); without it /metrics needs the system token, since it shows "
                "every tenant's ingest volumes")
      ->envname("SEAWAY_METRICS_PUBLIC");
  cmd->add_flag("--demo", c->demo,
                "Twenty simulated machines publish over MQTT into database 'demo', table "
                "'machine', every second (make run turns it on)")
      ->envname("SEAWAY_DEMO");
  cmd->add_option("--log-level", c->log_level, "Minimum level of log lines")
      ->envname("SEAWAY_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  cmd->add_option("--log-format", c->log_format, "Log line format on stderr")
      ->envname("SEAWAY_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  Result<std::string> text = ReadFileToString(Env::Default(), path);
  if (!text.ok()) return text.status().WithContext("config file");
  SW_ASSIGN_OR_RETURN(auto entries, ParseConfigText(*text, path));
  for (const ConfigEntry& entry : entries) {
    CLI::Option* option =
        entry.key == "config" ? nullptr : cmd->get_option_no_throw("--" + entry.key);
    if (option == nullptr) {
      return InvalidArgument("config '{}' line {}: unknown key '{}' (see `seaway serve --help`)",
                             path, entry.line, entry.key);
    }
    if (option->count() > 0) continue;  // a flag or environment variable wins
    try {
      option->add_result(entry.value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgument("config '{}' line {}: bad value for '{}': {}", path, entry.line,
                             entry.key, e.what());
    }
  }
  return Status::OK();
}

Status ServerConfig::Finalize() {
  if (data_dir.empty()) return InvalidArgument("--data-dir must not be empty");
  Result<HostPort> h = ParseHostPort(http);
  if (!h.ok()) return h.status().WithContext("--http");
  http_address = *h;
  if (http_tls_cert.empty() != http_tls_key.empty()) {
    return InvalidArgument("{} is required with {}: HTTPS needs a certificate and its key",
                           http_tls_cert.empty() ? "--http-tls-cert" : "--http-tls-key",
                           http_tls_cert.empty() ? "--http-tls-key" : "--http-tls-cert");
  }
  Result<HostPort> m = ParseHostPort(mqtt);
  if (!m.ok()) return m.status().WithContext("--mqtt");
  mqtt_address = *m;
  mqtt_listener.address = mqtt_address;
  mqtt_listener.threads = mqtt_threads;
  mqtt_listener.max_connections = mqtt_max_connections;
  if (!mqtt_tls.empty()) {
    Result<HostPort> t = ParseHostPort(mqtt_tls);
    if (!t.ok()) return t.status().WithContext("--mqtt-tls");
    if (mqtt_tls_cert.empty() || mqtt_tls_key.empty()) {
      return InvalidArgument("--mqtt-tls needs --mqtt-tls-cert and --mqtt-tls-key");
    }
    mqtt_listener.tls_address = *t;
  } else if (!mqtt_tls_cert.empty() || !mqtt_tls_key.empty() || !mqtt_tls_client_ca.empty()) {
    return InvalidArgument(
        "--mqtt-tls-cert, --mqtt-tls-key and --mqtt-tls-client-ca need "
        "--mqtt-tls (the TLS listener's address)");
  }
  mqtt_listener.tls_cert_file = mqtt_tls_cert;
  mqtt_listener.tls_key_file = mqtt_tls_key;
  mqtt_listener.tls_client_ca_file = mqtt_tls_client_ca;
  broker.connect_timeout = Duration::Millis(mqtt_connect_timeout_ms);
  broker.max_session_expiry = Duration::Seconds(mqtt_max_session_expiry_s);
  SW_RETURN_IF_ERROR(log::ParseLevel(log_level).status().WithContext("--log-level"));
  SW_RETURN_IF_ERROR(ParseWalSync(wal_sync, &engine.shard.sync_mode, &engine.shard.sync_interval)
                         .WithContext("--wal-sync"));
  engine.shard.recovery =
      wal_recovery == "truncate" ? WalRecovery::kTruncate : WalRecovery::kStrict;
  engine.shards = storage_shards;
  engine.max_series_per_tenant = max_series_per_tenant;
  engine.shard.memtable_limit_bytes = storage_memory_bytes / static_cast<uint64_t>(storage_shards);
  engine.segment_index_cache_bytes = static_cast<size_t>(storage_index_cache_bytes);
  SW_RETURN_IF_ERROR(log::ParseFormat(log_format).status().WithContext("--log-format"));
  if (sql_timeout_ms < 1 || sql_timeout_ms > 86'400'000) {
    return InvalidArgument("--sql-timeout-ms must be between 1 and 86400000 (one day), not {}",
                           sql_timeout_ms);
  }
  if (sql_max_memory_mb < 1 || sql_max_memory_mb > (int64_t{1} << 20)) {
    return InvalidArgument("--sql-max-memory-mb must be between 1 and 1048576, not {}",
                           sql_max_memory_mb);
  }
  if (sql_threads < 1 || sql_threads > 256) {
    return InvalidArgument("--sql-threads must be between 1 and 256, not {}", sql_threads);
  }
  if (sql_max_queued < 0 || sql_max_queued > 100'000) {
    return InvalidArgument("--sql-max-queued must be between 0 and 100000, not {}", sql_max_queued);
  }
  return Status::OK();
}

}  // namespace seaway
