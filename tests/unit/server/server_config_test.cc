// Tests for ServerConfig (src/server/server_config.h): flags, environment, config file and their
// precedence.
#include "server/server_config.h"

#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "storage/env.h"

namespace seaway {
namespace {

class ServerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"SEAWAY_HTTP", "SEAWAY_DATA_DIR", "SEAWAY_CONFIG", "SEAWAY_MQTT", "SEAWAY_LOG_LEVEL",
          "SEAWAY_HTTP_THREADS", "SEAWAY_HTTP_TLS_CERT", "SEAWAY_HTTP_TLS_KEY"}) {
      unsetenv(name);
    }
    char tmpl[] = "/tmp/seaway_config_XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    config_path_ = tmpl;
  }
  void TearDown() override {
    unlink(config_path_.c_str());
    unsetenv("SEAWAY_HTTP");
    unsetenv("SEAWAY_LOG_LEVEL");
  }

  // Parses `args` as `seaway serve ARGS`, applying the config file if given.
  Status Parse(std::vector<std::string> args, ServerConfig* config) {
    CLI::App app;
    CLI::App* serve = app.add_subcommand("serve");
    AddServeOptions(serve, config);
    std::vector<const char*> argv{"seaway", "serve"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return InvalidArgument("{}", e.what());
    }
    if (!config->config_file.empty())
      SW_RETURN_IF_ERROR(ApplyConfigFile(serve, config->config_file));
    return config->Finalize();
  }

  void WriteConfig(std::string_view text) {
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), config_path_, text).ok());
  }

  std::string config_path_;
};

TEST_F(ServerConfigTest, Defaults) {
  ServerConfig c;
  ASSERT_TRUE(Parse({}, &c).ok());
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.http_address, (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(c.mqtt_address, (HostPort{"127.0.0.1", 1883}));
  EXPECT_EQ(c.log_level, "info");
}

TEST_F(ServerConfigTest, IngestAndOverloadLimits) {
  ServerConfig defaults;
  ASSERT_TRUE(Parse({}, &defaults).ok());
  EXPECT_EQ(defaults.ingest.max_tags, 64u);
  EXPECT_EQ(defaults.http_max_inflight_bytes, 256u << 20);

  ServerConfig c;
  Status s = Parse(
      {"--ingest-max-line-bytes", "1000", "--ingest-max-tags", "3", "--ingest-max-fields", "4",
       "--ingest-max-key-bytes", "32", "--ingest-max-string-bytes", "100", "--http-max-connections",
       "7", "--http-max-inflight-bytes", "1048576", "--max-series-per-tenant", "500"},
      &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.ingest.max_line_bytes, 1000u);
  EXPECT_EQ(c.ingest.max_tags, 3u);
  EXPECT_EQ(c.ingest.max_fields, 4u);
  EXPECT_EQ(c.ingest.max_key_bytes, 32u);
  EXPECT_EQ(c.ingest.max_string_bytes, 100u);
  EXPECT_EQ(c.http_max_connections, 7);
  EXPECT_EQ(c.http_max_inflight_bytes, 1048576u);
  EXPECT_EQ(c.engine.max_series_per_tenant, 500u);

  ServerConfig bad;
  s = Parse({"--ingest-max-key-bytes", "1000"}, &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--ingest-max-key-bytes"), std::string::npos) << s;
}

TEST_F(ServerConfigTest, Flags) {
  ServerConfig c;
  Status s = Parse({"--data-dir", "/tmp/d", "--http", "0.0.0.0:9000", "--mqtt=[::1]:1884",
                    "--http-threads", "3", "--log-format", "json"},
                   &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.data_dir, "/tmp/d");
  EXPECT_EQ(c.http_address, (HostPort{"0.0.0.0", 9000}));
  EXPECT_EQ(c.mqtt_address, (HostPort{"::1", 1884}));
  EXPECT_EQ(c.http_threads, 3);
  EXPECT_EQ(c.log_format, "json");
}

TEST_F(ServerConfigTest, PrecedenceFlagOverEnvOverFileOverDefault) {
  WriteConfig("http = 127.0.0.1:1111\nlog-level = warn\ndata-dir = /from/file\n");
  setenv("SEAWAY_HTTP", "127.0.0.1:2222", 1);
  setenv("SEAWAY_LOG_LEVEL", "error", 1);
  ServerConfig c;
  Status s = Parse({"--config", config_path_, "--http", "127.0.0.1:3333"}, &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.http_address.port, 3333);  // flag beats environment and file
  EXPECT_EQ(c.log_level, "error");       // environment beats file
  EXPECT_EQ(c.data_dir, "/from/file");   // file beats default
}

TEST_F(ServerConfigTest, ConfigFileFromEnvironment) {
  WriteConfig("http-threads = 5\n");
  setenv("SEAWAY_CONFIG", config_path_.c_str(), 1);
  ServerConfig c;
  Status s = Parse({}, &c);
  unsetenv("SEAWAY_CONFIG");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.http_threads, 5);
}

TEST_F(ServerConfigTest, UnknownConfigKeyNamesLine) {
  WriteConfig("# comment\nhtttp = 1.2.3.4:5\n");
  ServerConfig c;
  Status s = Parse({"--config", config_path_}, &c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), fmt::format("config '{}' line 2: unknown key 'htttp' (see `seaway serve "
                                     "--help`)",
                                     config_path_));
}

TEST_F(ServerConfigTest, BadConfigValueNamesLineAndKey) {
  WriteConfig("log-level = loud\n");
  ServerConfig c;
  Status s = Parse({"--config", config_path_}, &c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1: bad value for 'log-level'"), std::string_view::npos) << s;
}

TEST_F(ServerConfigTest, MissingConfigFile) {
  ServerConfig c;
  Status s = Parse({"--config", "/nonexistent/seaway.conf"}, &c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/seaway.conf"), std::string_view::npos) << s;
}

TEST_F(ServerConfigTest, BadAddressNamesTheFlag) {
  ServerConfig c;
  Status s = Parse({"--http", "localhost"}, &c);
  EXPECT_EQ(s.message(), "--http: address 'localhost': expected HOST:PORT, e.g. 127.0.0.1:8080");
}

TEST_F(ServerConfigTest, TlsNeedsBothCertificateAndKey) {
  ServerConfig none;
  ASSERT_TRUE(Parse({}, &none).ok());
  EXPECT_FALSE(none.http_tls());

  ServerConfig both;
  Status s = Parse({"--http-tls-cert", "/etc/c.pem", "--http-tls-key", "/etc/k.pem"}, &both);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(both.http_tls());
  EXPECT_EQ(both.http_tls_cert, "/etc/c.pem");
  EXPECT_EQ(both.http_tls_key, "/etc/k.pem");

  ServerConfig cert_only;
  s = Parse({"--http-tls-cert", "/etc/c.pem"}, &cert_only);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "--http-tls-key is required with --http-tls-cert: HTTPS needs a certificate and its "
            "key");

  ServerConfig key_only;
  s = Parse({"--http-tls-key", "/etc/k.pem"}, &key_only);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--http-tls-cert is required"), std::string_view::npos) << s;

  // The environment and the config file count like the flags.
  setenv("SEAWAY_HTTP_TLS_CERT", "/env/c.pem", 1);
  ServerConfig env_only;
  s = Parse({}, &env_only);
  EXPECT_NE(s.message().find("--http-tls-key is required"), std::string_view::npos) << s;
  WriteConfig("http-tls-key = /file/k.pem\n");
  ServerConfig env_and_file;
  s = Parse({"--config", config_path_}, &env_and_file);
  unsetenv("SEAWAY_HTTP_TLS_CERT");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(env_and_file.http_tls_cert, "/env/c.pem");
  EXPECT_EQ(env_and_file.http_tls_key, "/file/k.pem");
}

TEST_F(ServerConfigTest, StorageSettings) {
  ServerConfig c;
  Status s =
      Parse({"--wal-sync", "interval:50", "--wal-recovery", "truncate", "--storage-shards", "4",
             "--storage-memory-bytes", "8388608", "--storage-index-cache-bytes", "1048576"},
            &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.engine.shard.sync_mode, WalSyncMode::kInterval);
  EXPECT_EQ(c.engine.shard.sync_interval, Duration::Millis(50));
  EXPECT_EQ(c.engine.shard.recovery, WalRecovery::kTruncate);
  EXPECT_EQ(c.engine.shards, 4);
  EXPECT_EQ(c.engine.shard.memtable_limit_bytes, 2u << 20);
  EXPECT_EQ(c.engine.segment_index_cache_bytes, 1u << 20);
  ServerConfig defaults;
  ASSERT_TRUE(Parse({}, &defaults).ok());
  EXPECT_EQ(defaults.engine.segment_index_cache_bytes, size_t{128} << 20);
  ServerConfig d;
  EXPECT_EQ(Parse({"--wal-sync", "often"}, &d).message(),
            "--wal-sync: wal sync 'often': expected always, none or interval:MS (1..60000)");
}

TEST_F(ServerConfigTest, OutOfRangeFlagIsRejected) {
  ServerConfig c;
  EXPECT_FALSE(Parse({"--http-threads", "1000"}, &c).ok());
  EXPECT_FALSE(Parse({"--log-level", "loud"}, &c).ok());
}

}  // namespace
}  // namespace seaway
