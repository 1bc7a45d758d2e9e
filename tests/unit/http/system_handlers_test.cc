// Tests for /health and /metrics (src/http/system_handlers.h), without sockets.
#include "http/system_handlers.h"

#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/version.h"

namespace seaway {
namespace {

HttpResponse Get(const Router& router, std::string target) {
  HttpRequest request;
  request.target = std::move(target);
  std::optional<HttpResponse> out;
  router.Dispatch(request, HttpReply([&](HttpResponse r) { out = std::move(r); }));
  return *out;
}

class SystemHandlersTest : public ::testing::Test {
 protected:
  SystemHandlersTest()
      : clock_(Timestamp::FromNanos(1764085538'000'000'000)),
        info_{&metrics_, &clock_, clock_.Now(), clock_.MonotonicNanos()} {
    RegisterProcessMetrics(&metrics_, &info_);
    AddSystemRoutes(&router_, &info_);
  }
  ManualClock clock_;
  MetricsRegistry metrics_;
  SystemInfo info_;
  Router router_;
};

TEST_F(SystemHandlersTest, HealthReportsVersionAndUptime) {
  clock_.Advance(Duration::Millis(2500));
  HttpResponse r = Get(router_, "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["status"], "ok");
  EXPECT_EQ(json["version"], kVersion);
  EXPECT_EQ(json["started_at"], "2025-11-25T15:45:38.000Z");
  EXPECT_DOUBLE_EQ(json["uptime_seconds"].get<double>(), 2.5);
}

TEST_F(SystemHandlersTest, MetricsInPrometheusFormat) {
  clock_.Advance(Duration::Seconds(3));
  HttpResponse r = Get(router_, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find(fmt::format("seaway_build_info{{version=\"{}\"}} 1\n", kVersion)),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("seaway_uptime_seconds 3\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(r.body.find("process_resident_memory_bytes "), std::string::npos);
}

}  // namespace
}  // namespace seaway
