// `seaway sql`: the SQL client command (src/cli), over a running server's /api/v1/sql.
//
//   seaway sql [--url http://127.0.0.1:8080] [--token T] [--data-dir DIR] [-d DB]
//              [--format table|csv|json] ["QUERY"]
//
// With a query it runs it and prints the result: an aligned table and "(N rows, X ms)" by
// default, the server's CSV or JSON unchanged with --format (streamed as it arrives). Without
// one it reads statements ending in ';' (they may span lines): an interactive prompt with line
// editing and history in ~/.seaway_history (libedit) on a terminal, plain lines otherwise.
// The token is --token, else $SEAWAY_TOKEN, else the admin token file DATA_DIR/admin-token.
// Exit status: 0 when every statement succeeded, 1 when one failed (the server's message is
// printed on stderr), 2 for bad usage.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace seaway::cli {

struct SqlCommandOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string data_dir = "./data";
  std::string database = "main";
  std::string format = "table";
  std::string query;
};

// Registers the `sql` subcommand's options on `command`, bound to `options`.
void AddSqlOptions(CLI::App* command, SqlCommandOptions* options);

// Runs the command; returns the process exit status.
int RunSqlCommand(const SqlCommandOptions& options);

}  // namespace seaway::cli
