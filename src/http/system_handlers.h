// System routes of the HTTP front end (src/http): GET /health and GET /metrics.
//
//   GET /health   {"status":"ok","version":"0.1.0","started_at":"...","uptime_seconds":12.5}
//   GET /metrics  the MetricsRegistry in the Prometheus text format
//
// /health needs no token: load balancers probe it, and it reveals nothing of any tenant.
// /metrics carries figures per tenant (ingest volumes by tenant id) and of the whole
// installation, so it is the operator's: the system token (`tenants.manage`), which Prometheus
// sends as a bearer token; `metrics_public` (--metrics-public) opens it to anyone who reaches
// the listener, for a scraper on a private network.
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
  bool metrics_public = false;
};

// Adds /health and /metrics. `info` must outlive the router.
void AddSystemRoutes(Router* router, const SystemInfo* info);

// Registers process and build figures (resident memory, CPU, open files, uptime, version).
void RegisterProcessMetrics(MetricsRegistry* metrics, const SystemInfo* info);

}  // namespace seaway
