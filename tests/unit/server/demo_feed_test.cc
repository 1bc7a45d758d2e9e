// Tests for the demo feed of `seaway serve --demo` (src/server/demo_feed.h): simulated machines
// publish over MQTT to the server's own broker and land in demo.machine.
#include "server/demo_feed.h"

#include <stdlib.h>

#include <thread>

#include <gtest/gtest.h>

#include "server/server.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

TEST(DemoFeedTest, MachinesPublishOverMqttIntoTheEngine) {
  setenv("SEAWAY_ADMIN_TOKEN", "demo-test-token-0123456789", 1);
  MemoryEnv env;
  ServerConfig c;
  c.data_dir = "/data";
  c.http = "127.0.0.1:0";
  c.mqtt = "127.0.0.1:0";
  c.http_threads = 1;
  ASSERT_TRUE(c.Finalize().ok());
  Server server(c, &env, ":memory:");
  ASSERT_TRUE(server.Start().ok());
  DemoFeed feed(server.mqtt_address(), "demo-test-token-0123456789", server.metrics(),
                /*machines=*/5, Duration::Millis(10));
  ASSERT_TRUE(feed.Start().ok());
  Counter* rows = server.metrics()->GetCounter("seaway_demo_rows_total", "");
  for (int i = 0; i < 500 && rows->value() < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  feed.Stop();
  EXPECT_GE(rows->value(), 50u);
  size_t series = 0, stored = 0;
  ScanRequest request{TenantId(1), "demo", "machine"};
  ASSERT_TRUE(server.engine()
                  ->Scan(request,
                         [&](const SeriesBlock& b) {
                           ++series;
                           stored += b.rows.times.size();
                           EXPECT_EQ(b.fields.size(), 7u);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(series, 5u);
  EXPECT_GE(stored, rows->value());  // every acknowledged reading is stored
  server.Stop();
  unsetenv("SEAWAY_ADMIN_TOKEN");
}

TEST(DemoFeedTest, WrongTokenFailsToStart) {
  MemoryEnv env;
  ServerConfig c;
  c.data_dir = "/data";
  c.http = "127.0.0.1:0";
  c.mqtt = "127.0.0.1:0";
  ASSERT_TRUE(c.Finalize().ok());
  Server server(c, &env, ":memory:");
  ASSERT_TRUE(server.Start().ok());
  DemoFeed feed(server.mqtt_address(), "not-a-token-of-this-server", server.metrics(), 2);
  Status s = feed.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad user name or password"), std::string_view::npos) << s;
  server.Stop();
}

}  // namespace
}  // namespace seaway
