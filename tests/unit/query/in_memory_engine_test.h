// A fixture for query tests that run SQL over data they write: an engine over a MemoryEnv and a
// query engine on it, with a manual clock.
#pragma once

#include <cstdint>
#include <memory>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/metrics.h"
#include "query/query_engine.h"
#include "storage/engine.h"
#include "storage/memory_env.h"

namespace seaway::query {

class InMemoryEngineTest : public ::testing::Test {
 protected:
  // The clock reads `now_nanos` (since the Unix epoch) until a test moves it.
  explicit InMemoryEngineTest(int64_t now_nanos) : clock_(Timestamp::FromNanos(now_nanos)) {}

  void SetUp() override {
    auto engine = Engine::Open(&env_, "db", EngineOptions{}, &metrics_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    queries_ = std::make_unique<QueryEngine>(engine_.get(), &clock_);
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<QueryEngine> queries_;
};

}  // namespace seaway::query
