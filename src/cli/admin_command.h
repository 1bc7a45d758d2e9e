// `seaway admin`: the common administration tasks against a running server (src/cli), over its
// HTTP API (docs/security.md), so the same checks apply as for any client.
//
//   seaway admin [--url U] [--token T] [--data-dir DIR] customer create NAME [--parent ID]
//   seaway admin ... customer list
//   seaway admin ... user create NAME --role ROLE [--customer ID]   (password: first stdin line)
//   seaway admin ... user list
//   seaway admin ... device create NAME [--customer ID]             (prints the device's token)
//   seaway admin ... device import FILE.csv                         (CSV name[,customer])
//   seaway admin ... device list
//   seaway admin ... asset create NAME --type TYPE [--parent ID] [--customer ID]
//   seaway admin ... asset list
//   seaway admin ... token create DESCRIPTION [--scope P]... [--expires-in-s N]
//
// The server's answer is printed as it comes (JSON, or CSV for an import). The token is --token,
// else $SEAWAY_TOKEN, else DATA_DIR/admin-token. Exit status: 0 on success, 1 when the server
// refused (its message on stderr), 2 for bad usage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace seaway::cli {

struct AdminCommandOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string data_dir = "./data";
  // The action chosen and its arguments.
  std::string object;  // tenant, customer, user, device, asset, token
  std::string action;  // create, list, import, delete
  std::string name;    // NAME, FILE or DESCRIPTION
  std::string role;
  std::string type;      // an asset's
  int64_t customer = 0;  // 0: none
  int64_t parent = 0;
  std::vector<std::string> scopes;
  int64_t expires_in_s = 0;
  uint64_t id = 0;          // delete's
  std::string time_zone;    // a tenant's, "" for the default
  int64_t retention_s = 0;  // a tenant's, 0 for none
};

// Registers the `admin` subcommand tree on `command`, bound to `options`.
void AddAdminOptions(CLI::App* command, AdminCommandOptions* options);

// Runs the chosen action; returns the process exit status.
int RunAdminCommand(const AdminCommandOptions& options);

}  // namespace seaway::cli
