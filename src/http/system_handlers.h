// System routes of the HTTP front end (src/http): GET /health and GET /metrics.
//
//   GET /health   {"status":"ok","version":"0.1.0","started_at":"...","uptime_seconds":12.5}
//   GET /metrics  the MetricsRegistry in the Prometheus text format
//
// Neither needs a token: load balancers and Prometheus scrape them. They reveal no tenant data.
#pragma once

#include "common/clock.h"
#include "common/metrics.h"
#include "http/router.h"

namespace seaway {

struct SystemInfo {
  MetricsRegistry* metrics = nullptr;
  const Clock* clock = nullptr;
  Timestamp started_at;
  int64_t started_monotonic_ns = 0;
};

// Adds /health and /metrics. `info` must outlive the router.
void AddSystemRoutes(Router* router, const SystemInfo* info);

// Registers process and build figures (resident memory, CPU, open files, uptime, version).
void RegisterProcessMetrics(MetricsRegistry* metrics, const SystemInfo* info);

}  // namespace seaway
