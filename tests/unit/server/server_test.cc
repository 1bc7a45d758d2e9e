// Tests for Server (src/server/server.h): start on a free port, serve /health, hold the data
// directory lock, stop cleanly.
#include "server/server.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "server_fixture.h"
#include "storage/memory_env.h"
#include "util/http_test_client.h"

namespace seaway {
namespace {

using testing::TestServerConfig;

TEST(ServerTest, ServesHealthAndMetrics) {
  MemoryEnv env;
  Server server(TestServerConfig("/data"), &env, ":memory:");
  ASSERT_TRUE(server.Start().ok());
  int port = server.http_address().port;
  auto health = testing::HttpTestClient::Get(port, "/health");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find("\"status\":\"ok\""), std::string::npos);
  // /metrics is the system token's (AuthorizationMatrixTest.MetricsNeedTheSystemToken) ...
  auto refused = testing::HttpTestClient::Get(port, "/metrics");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401) << refused->body;
  server.Stop();
  EXPECT_FALSE(testing::HttpTestClient::Get(port, "/health").ok());

  // ... unless --metrics-public opens it to a scraper without credentials.
  ServerConfig config = TestServerConfig("/data");
  config.metrics_public = true;
  Server open(config, &env, ":memory:");
  ASSERT_TRUE(open.Start().ok());
  ASSERT_TRUE(testing::HttpTestClient::Get(open.http_address().port, "/health").ok());
  auto metrics = testing::HttpTestClient::Get(open.http_address().port, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("seaway_http_requests_total{route=\"health\",code=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
}

TEST(ServerTest, CreatesDataDirectoryAndLocksIt) {
  MemoryEnv env;
  Server first(TestServerConfig("/srv/seaway/data"), &env, ":memory:");
  ASSERT_TRUE(first.Start().ok());
  EXPECT_TRUE(env.FileExists("/srv/seaway/data/LOCK"));
  Server second(TestServerConfig("/srv/seaway/data"), &env, ":memory:");
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  first.Stop();
  Server third(TestServerConfig("/srv/seaway/data"), &env, ":memory:");
  EXPECT_TRUE(third.Start().ok());
}

TEST(ServerTest, DataDirThatIsAFileFailsClearly) {
  MemoryEnv env;
  ASSERT_TRUE(WriteFileAtomically(&env, "/not-a-dir", "x").ok());
  Server server(TestServerConfig("/not-a-dir"), &env, ":memory:");
  Status s = server.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--data-dir"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("not a directory"), std::string_view::npos) << s;
}

}  // namespace
}  // namespace seaway
