// `seaway simulate`: simulated industrial devices publishing over MQTT (src/cli), a demo source
// and a load generator.
//
//   seaway simulate [--mqtt 127.0.0.1:1883] [--token T] [--devices 20] [--rate 1] [--qos 1]
//                   [--protocol 5|3.1.1] [--format json|line] [--database demo]
//                   [--duration SECONDS] [--window 16] [--threads 1]
//
// Prints one line a second: devices connected, messages published and acknowledged (with the
// rates), refusals, throttled sends (a device's window of unacknowledged messages was full),
// and publish->PUBACK latency p50/p99/max. Stops after --duration, or on Ctrl-C; exit status 1
// when no device could connect or any message was refused.
#pragma once

#include <string>

#include "simulate/simulator.h"

namespace CLI {
class App;
}  // namespace CLI

namespace seaway::cli {

struct SimulateCommandOptions {
  SimulatorOptions simulator;
  std::string mqtt = "127.0.0.1:1883";
  std::string token;
  std::string data_dir = "./data";
  std::string protocol = "5";
  std::string format = "json";
  double duration_s = 0;  // 0: until Ctrl-C
};

void AddSimulateOptions(CLI::App* command, SimulateCommandOptions* options);
int RunSimulateCommand(SimulateCommandOptions options);

}  // namespace seaway::cli
