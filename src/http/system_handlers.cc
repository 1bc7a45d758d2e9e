// /health and /metrics (src/http).
#include "http/system_handlers.h"

#include "common/process_stats.h"
#include "common/version.h"

namespace seaway {
namespace {

// The permission only the installation's system token holds (docs/security.md).
constexpr std::string_view kMetricsAccess = "tenants.manage";

double UptimeSeconds(const SystemInfo& info) {
  return static_cast<double>(info.clock->MonotonicNanos() - info.started_monotonic_ns) / 1e9;
}

}  // namespace

void AddSystemRoutes(Router* router, const SystemInfo* info) {
  router->Add(HttpMethod::kGet, "/health", "health", std::string(kPublicAccess),
              SyncHandler([info](const HttpRequest&) {
                return HttpResponse::Json(
                    200, fmt::format(R"({{"status":"ok","version":"{}","started_at":"{}",)"
                                     R"("uptime_seconds":{:.3f}}})",
                                     kVersion, FormatRfc3339Millis(info->started_at),
                                     UptimeSeconds(*info)));
              }));
  router->Add(HttpMethod::kGet, "/metrics", "metrics",
              std::string(info->metrics_public ? kPublicAccess : kMetricsAccess),
              SyncHandler([info](const HttpRequest&) {
                return HttpResponse::Text(200, info->metrics->RenderPrometheus(),
                                          "text/plain; version=0.0.4; charset=utf-8");
              }));
}

void RegisterProcessMetrics(MetricsRegistry* metrics, const SystemInfo* info) {
  metrics
      ->GetGauge("seaway_build_info", "Build of the running server (value is always 1)",
                 {{"version", kVersion}})
      ->Set(1);
  metrics->AddCallbackGauge("seaway_uptime_seconds", "Seconds since the server started",
                            [info] { return UptimeSeconds(*info); });
  metrics->AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes",
                            [] { return static_cast<double>(ReadProcessStats().resident_bytes); });
  metrics->AddCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes",
                            [] { return static_cast<double>(ReadProcessStats().virtual_bytes); });
  metrics->AddCallbackGauge("process_open_fds", "Open file descriptors",
                            [] { return static_cast<double>(ReadProcessStats().open_fds); });
  metrics->AddCallbackGauge("process_threads", "Operating-system threads",
                            [] { return static_cast<double>(ReadProcessStats().threads); });
  metrics->AddCallbackCounter("process_cpu_seconds_total", "User and system CPU time in seconds",
                              [] { return ReadProcessStats().cpu_seconds; });
  metrics->GetGauge("process_start_time_seconds", "Start time since the Unix epoch in seconds")
      ->Set(static_cast<double>(info->started_at.nanos()) / 1e9);
}

}  // namespace seaway
