// The `seaway` command (src/server): `seaway serve` runs the platform, `seaway sql` queries a
// running one and `seaway simulate` feeds it simulated devices over MQTT (src/cli); later
// subcommands (admin tasks) join here.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>

#include "cli/admin_command.h"
#include "cli/simulate_command.h"
#include "cli/sql_command.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/stop_signals.h"
#include "common/version.h"
#include "server/server.h"
#include "server/server_config.h"

namespace seaway {
namespace {

// Runs the server until SIGINT or SIGTERM. Returns the process exit code.
// `config` is the object the options were bound to: the config file writes through them.
int RunServe(CLI::App* serve, ServerConfig& config) {
  if (!config.config_file.empty()) {
    if (Status s = ApplyConfigFile(serve, config.config_file); !s.ok()) {
      fmt::print(stderr, "seaway serve: {}\n", s.message());
      return 2;
    }
  }
  if (Status s = config.Finalize(); !s.ok()) {
    fmt::print(stderr, "seaway serve: {}\n", s.message());
    return 2;
  }
  log::Configure(*log::ParseLevel(config.log_level), *log::ParseFormat(config.log_format));

  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait below receives them.
  sigset_t stop_signals = BlockStopSignals();

  Server server(config);
  if (Status s = server.Start(); !s.ok()) {
    log::Error("startup failed", {{"error", s.ToString()}});
    return 1;
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const int64_t begin = Clock::Real()->MonotonicNanos();
  log::Info("shutting down", {{"signal", strsignal(signal_number)}});
  server.Stop();
  log::Info("stopped", {{"shutdown_ms", (Clock::Real()->MonotonicNanos() - begin) / 1'000'000}});
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{fmt::format("Seaway {}: an industrial internet platform with its own columnar "
                           "time-series engine",
                           kVersion),
               "seaway"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  ServerConfig config;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the platform: HTTP API and compatibility endpoints, MQTT broker, storage");
  AddServeOptions(serve, &config);

  cli::SqlCommandOptions sql_options;
  CLI::App* sql = app.add_subcommand(
      "sql", "Run SQL against a running server (over HTTP): one query, or an interactive prompt");
  cli::AddSqlOptions(sql, &sql_options);

  cli::AdminCommandOptions admin_options;
  CLI::App* admin = app.add_subcommand(
      "admin", "Administer a running server (over HTTP): customers, users, devices, tokens");
  cli::AddAdminOptions(admin, &admin_options);

  cli::SimulateCommandOptions simulate_options;
  CLI::App* simulate = app.add_subcommand(
      "simulate", "Simulated industrial devices publishing telemetry over MQTT (demo, load)");
  cli::AddSimulateOptions(simulate, &simulate_options);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return RunServe(serve, config);
  if (sql->parsed()) return cli::RunSqlCommand(sql_options);
  if (admin->parsed()) return cli::RunAdminCommand(admin_options);
  if (simulate->parsed()) return cli::RunSimulateCommand(simulate_options);
  return 0;
}

}  // namespace
}  // namespace seaway

int main(int argc, char** argv) { return seaway::Main(argc, argv); }
