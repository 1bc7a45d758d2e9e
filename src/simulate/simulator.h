// Simulator: simulated industrial devices publishing telemetry over MQTT (src/simulate).
//
// Each device keeps its own connection and publishes readings of the industrial profile
// (temperature, vibration, pressure, rpm, power, status, part counter) at `rate` messages per
// second, either as JSON to `devices/<id>/telemetry` or as line protocol to `write/<database>`
// (table `machine`, tags site, line, machine_id, model). It backs `seaway simulate` (a load
// generator that reports throughput and publish->PUBACK latency) and the demo feed of
// `seaway serve --demo`.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/host_port.h"
#include "common/metrics.h"
#include "common/status.h"
#include "mqtt/packet.h"

namespace seaway {

struct SimulatorOptions {
  HostPort mqtt{"127.0.0.1", 1883};
  std::string token;  // the MQTT password
  int devices = 20;
  double rate = 1.0;  // messages per second per device
  int qos = 1;
  mqtt::Version version = mqtt::Version::kV5;
  enum class Format { kJson, kLine } format = Format::kJson;
  std::string database = "demo";  // for kLine
  std::string id_prefix = "m";    // device ids: m001, m002, ...
  int window = 16;                // QoS 1/2 publishes in flight per device at most
  int threads = 1;
  Counter* acknowledged_counter = nullptr;  // when set, counts successful acknowledgements
};

struct SimulatorStats {
  uint64_t connected = 0;
  uint64_t published = 0;
  uint64_t acknowledged = 0;
  uint64_t refused = 0;    // acknowledged with an error reason code
  uint64_t throttled = 0;  // due but skipped: the device's window was full
  uint64_t disconnects = 0;
  // publish -> PUBACK latency percentiles over the acknowledgements since the last call.
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Connects every device (waiting up to 10 s) and starts publishing; an error when no device
  // could connect (the first device's reason).
  Status Start();
  void Stop();
  // Counters since Start; latency percentiles since the previous call.
  SimulatorStats TakeStats();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One reading of device `index` at `tick`, in `format` (exposed for tests).
std::string SimulatedPayload(int index, uint64_t tick, SimulatorOptions::Format format,
                             const std::string& device_id, int64_t time_ns);

}  // namespace seaway
