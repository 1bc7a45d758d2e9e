// Tests for DemoFeed (src/server/demo_feed.h): simulated machines land in the engine.
#include "server/demo_feed.h"

#include <thread>

#include <gtest/gtest.h>

#include "storage/memory_env.h"

namespace seaway {
namespace {

TEST(DemoFeedTest, WritesEveryMachineRepeatedly) {
  MemoryEnv env;
  MetricsRegistry metrics;
  auto engine = Engine::Open(&env, "db", EngineOptions{}, &metrics);
  ASSERT_TRUE(engine.ok()) << engine.status();
  DemoFeed feed(engine->get(), &metrics, /*machines=*/5, Duration::Millis(10));
  feed.Start();
  Counter* rows = metrics.GetCounter("seaway_demo_rows_total", "");
  for (int i = 0; i < 500 && rows->value() < 15; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  feed.Stop();
  EXPECT_GE(rows->value(), 15u);
  size_t series = 0, stored = 0;
  ScanRequest request{TenantId(1), "demo", "machine"};
  ASSERT_TRUE((*engine)
                  ->Scan(request,
                         [&](const SeriesBlock& b) {
                           ++series;
                           stored += b.rows.times.size();
                           EXPECT_EQ(b.fields.size(), 7u);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(series, 5u);
  EXPECT_EQ(stored, rows->value());
}

TEST(DemoFeedTest, ValuesStayInRange) {
  MemoryEnv env;
  MetricsRegistry metrics;
  auto engine = Engine::Open(&env, "db", EngineOptions{}, &metrics);
  ASSERT_TRUE(engine.ok());
  DemoFeed feed(engine->get(), &metrics, 3);
  for (int tick = 0; tick < 2000; ++tick) {
    WriteBatch batch = feed.MakeBatch(tick);
    ASSERT_EQ(batch.rows(), 3u);
    for (const auto& f : batch.fields()) {
      if (f.name != "temperature") continue;
      for (uint64_t bits : f.bits) {
        double t = std::bit_cast<double>(bits);
        ASSERT_GE(t, 20.0);
        ASSERT_LE(t, 90.0);
      }
    }
  }
}

}  // namespace
}  // namespace seaway
