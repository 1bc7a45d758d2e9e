// `seaway simulate` (src/cli).
#include "cli/simulate_command.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/token.h"
#include "common/clock.h"
#include "common/stop_signals.h"

namespace seaway::cli {

void AddSimulateOptions(CLI::App* cmd, SimulateCommandOptions* o) {
  cmd->add_option("--mqtt", o->mqtt, "Broker address HOST:PORT")->capture_default_str();
  cmd->add_option("--token", o->token,
                  "Tenant token, sent as the MQTT password; default $SEAWAY_TOKEN, else "
                  "DATA_DIR/admin-token");
  cmd->add_option("--data-dir", o->data_dir, "Where to find admin-token when no token is given")
      ->capture_default_str();
  cmd->add_option("--devices", o->simulator.devices, "Simulated devices (one connection each)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--rate", o->simulator.rate, "Messages per second per device")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--qos", o->simulator.qos, "QoS of the publishes")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  cmd->add_option("--protocol", o->protocol, "MQTT version")
      ->check(CLI::IsMember({"5", "3.1.1"}))
      ->capture_default_str();
  cmd->add_option("--format", o->format,
                  "json: devices/<id>/telemetry; line: line protocol to write/<database>")
      ->check(CLI::IsMember({"json", "line"}))
      ->capture_default_str();
  cmd->add_option("--database", o->simulator.database, "Database for --format line")
      ->capture_default_str();
  cmd->add_option("--id-prefix", o->simulator.id_prefix, "Device ids are PREFIX001, ...")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "Seconds to run; 0 runs until Ctrl-C")
      ->capture_default_str();
  cmd->add_option("--window", o->simulator.window,
                  "QoS 1/2 messages a device may have unacknowledged")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", o->simulator.threads, "Client I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
}

int RunSimulateCommand(SimulateCommandOptions o) {
  Result<HostPort> address = ParseHostPort(o.mqtt);
  if (!address.ok()) {
    fmt::print(stderr, "seaway simulate: --mqtt: {}\n", address.status().message());
    return 2;
  }
  o.simulator.mqtt = *address;
  o.simulator.token = FindToken(o.token, o.data_dir);
  if (o.simulator.token.empty()) {
    fmt::print(stderr,
               "seaway simulate: no token: pass --token, set SEAWAY_TOKEN, or point --data-dir "
               "at the server's data directory\n");
    return 2;
  }
  o.simulator.version = o.protocol == "3.1.1" ? mqtt::Version::kV311 : mqtt::Version::kV5;
  o.simulator.format =
      o.format == "line" ? SimulatorOptions::Format::kLine : SimulatorOptions::Format::kJson;

  sigset_t stop_signals = BlockStopSignals();

  Simulator simulator(o.simulator);
  if (Status s = simulator.Start(); !s.ok()) {
    fmt::print(stderr, "seaway simulate: {}\n", s.message());
    return 1;
  }
  const int64_t begin = Clock::Real()->MonotonicNanos();
  SimulatorStats last;
  int64_t last_at = begin;
  timespec one_second{1, 0};
  while (true) {
    siginfo_t info;
    const bool signalled = sigtimedwait(&stop_signals, &info, &one_second) > 0;
    const int64_t now = Clock::Real()->MonotonicNanos();
    const SimulatorStats st = simulator.TakeStats();
    const double dt = static_cast<double>(now - last_at) / 1e9;
    fmt::print(
        "t={:.0f}s connected={} published={} ({:.0f}/s) acked={} ({:.0f}/s) refused={} "
        "throttled={} disconnects={} latency p50={:.2f}ms p99={:.2f}ms max={:.2f}ms\n",
        static_cast<double>(now - begin) / 1e9, st.connected, st.published,
        static_cast<double>(st.published - last.published) / dt, st.acknowledged,
        static_cast<double>(st.acknowledged - last.acknowledged) / dt, st.refused, st.throttled,
        st.disconnects, st.p50_ms, st.p99_ms, st.max_ms);
    std::fflush(stdout);
    last = st;
    last_at = now;
    if (signalled) break;
    if (o.duration_s > 0 && static_cast<double>(now - begin) / 1e9 >= o.duration_s) break;
  }
  simulator.Stop();
  return last.refused > 0 ? 1 : 0;
}

}  // namespace seaway::cli
