// DemoFeed: simulated machines publishing over MQTT to the server's own broker, so that
// `make run` shows data flowing the way devices send it (src/server). Enabled by
// `seaway serve --demo`.
//
// Twenty machines (the simulator of `seaway simulate`, src/simulate) connect to the MQTT
// listener with the default tenant's admin token and publish one reading a second each as line
// protocol to `write/demo`: database `demo`, table `machine` (tags site, line, machine_id,
// model; fields temperature, vibration, pressure, rpm, power, status, parts).
// seaway_demo_rows_total counts the readings the broker acknowledged (stored durably).
//
// Thread-safe: Start and Stop from the owner thread.
#pragma once

#include <memory>
#include <string>

#include "common/host_port.h"
#include "common/metrics.h"
#include "common/strong_id.h"

namespace seaway {

class Simulator;

class DemoFeed {
 public:
  // `metrics` must outlive the feed.
  DemoFeed(HostPort mqtt, std::string token, MetricsRegistry* metrics, int machines = 20,
           Duration interval = Duration::Seconds(1));
  ~DemoFeed();

  // An error when no machine could connect.
  Status Start();
  void Stop();

 private:
  const HostPort mqtt_;
  const std::string token_;
  const int machines_;
  const Duration interval_;
  Counter* rows_;
  std::unique_ptr<Simulator> simulator_;
};

}  // namespace seaway
