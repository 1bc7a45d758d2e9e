// Tests for the metrics registry (src/common/metrics.h).
#include "common/metrics.h"

#include <thread>

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(MetricsTest, RendersCountersAndGaugesInTextFormat) {
  MetricsRegistry registry;
  registry.GetCounter("seaway_lines_total", "Lines seen", {{"tenant", "acme"}})->Increment(3);
  registry.GetCounter("seaway_lines_total", "Lines seen", {{"tenant", "beta"}})->Increment();
  registry.GetGauge("seaway_temp", "A gauge")->Set(1.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP seaway_lines_total Lines seen\n"
            "# TYPE seaway_lines_total counter\n"
            "seaway_lines_total{tenant=\"acme\"} 3\n"
            "seaway_lines_total{tenant=\"beta\"} 1\n"
            "# HELP seaway_temp A gauge\n"
            "# TYPE seaway_temp gauge\n"
            "seaway_temp 1.5\n");
}

TEST(MetricsTest, SameNameAndLabelsIsSameMetric) {
  MetricsRegistry registry;
  Counter* a = registry.GetCounter("c", "h", {{"k", "v"}});
  Counter* b = registry.GetCounter("c", "h", {{"k", "v"}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, registry.GetCounter("c", "h", {{"k", "w"}}));
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(MetricsTest, HistogramIsCumulative) {
  MetricsRegistry registry;
  Histogram* h = registry.GetHistogram("lat", "Latency", {0.1, 1}, {{"route", "x"}});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(0.5);
  h->Observe(7);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP lat Latency\n"
            "# TYPE lat histogram\n"
            "lat_bucket{route=\"x\",le=\"0.1\"} 1\n"
            "lat_bucket{route=\"x\",le=\"1\"} 3\n"
            "lat_bucket{route=\"x\",le=\"+Inf\"} 4\n"
            "lat_sum{route=\"x\"} 8.05\n"
            "lat_count{route=\"x\"} 4\n");
}

TEST(MetricsTest, CallbacksAreEvaluatedAtRenderTime) {
  MetricsRegistry registry;
  double v = 1;
  registry.AddCallbackGauge("g", "h", [&] { return v; });
  registry.AddCallbackCounter("c_total", "h", [&] { return v * 2; });
  v = 4;
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("g 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE c_total counter\nc_total 8\n"), std::string::npos) << text;
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  Counter* c = registry.GetCounter("n", "h");
  Gauge* g = registry.GetGauge("g", "h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
        g->Add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->value(), 40000u);
  EXPECT_EQ(g->value(), 40000);
}

TEST(MetricsDeathTest, KindConflictIsAProgrammingError) {
  MetricsRegistry registry;
  registry.GetCounter("x", "h");
  EXPECT_DEATH(registry.GetGauge("x", "h"), "check failed");
  EXPECT_DEATH(registry.GetCounter("bad name", "h"), "check failed");
}

}  // namespace
}  // namespace seaway
