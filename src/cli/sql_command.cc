// `seaway sql` (src/cli): options, one-shot queries and the interactive prompt.
#include "cli/sql_command.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <editline/readline.h>
#include <nlohmann/json.hpp>

#include "cli/result_table.h"
#include "cli/sql_client.h"
#include "cli/statement_splitter.h"
#include "cli/terminal_text.h"
#include "cli/token.h"

namespace seaway::cli {
namespace {

// The message of an error document {"error":"...","code":"..."}, or the body itself, escaped for
// the terminal: it may quote values from the data.
std::string ErrorMessage(const std::string& body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
    return EscapeForTerminal(doc["error"].get<std::string>(), LineLayout::kKeep);
  }
  return EscapeForTerminal(Trim(body), LineLayout::kKeep);
}

// Runs one statement and prints its result; false when it failed.
bool RunStatement(const SqlClient& client, const std::string& format, std::string_view sql) {
  const auto start = std::chrono::steady_clock::now();
  const bool table = format == "table";
  std::string body;  // the whole body, or the tail of a streamed one
  bool streamed = false;
  Result<SqlResponse> response =
      client.Run(sql, table ? "json" : format, [&](int status, std::string_view part) {
        body.append(part);
        if (table || status != 200) return;
        // A successful CSV or JSON result streams to stdout; only its tail is kept, where the
        // server puts its error record when the query fails part-way.
        streamed = true;
        std::fwrite(part.data(), 1, part.size(), stdout);
        if (body.size() > 8192) body.erase(0, body.size() - 4096);
      });
  if (!response.ok()) {
    std::fprintf(stderr, "seaway sql: %s\n", std::string(response.status().message()).c_str());
    return false;
  }
  if (response->status != 200) {
    std::fprintf(stderr, "ERROR: %s\n", ErrorMessage(body).c_str());
    return false;
  }
  if (!table) {
    std::fflush(stdout);
    if (!response->complete) {
      // The body ends with the server's error record (query/result_format.h).
      std::string tail = streamed ? Trim(body) : std::string();
      tail = tail.substr(tail.rfind('\n') == std::string::npos ? 0 : tail.rfind('\n') + 1);
      std::fprintf(stderr, "ERROR: %s\n",
                   tail.empty() ? "the server ended the result early" : ErrorMessage(tail).c_str());
      return false;
    }
    return true;
  }
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error")) {
    std::fprintf(stderr, "ERROR: %s\n", ErrorMessage(body).c_str());
    return false;
  }
  if (!response->complete || doc.is_discarded()) {
    std::fprintf(stderr, "ERROR: the server ended the result early\n");
    return false;
  }
  Result<ResultTable> result = ResultTable::FromJson(doc);
  if (!result.ok()) {
    std::fprintf(stderr, "ERROR: %s\n", std::string(result.status().message()).c_str());
    return false;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::fputs(result->Render().c_str(), stdout);
  std::printf("(%zu %s, %lld ms)\n", result->rows.size(), result->rows.size() == 1 ? "row" : "rows",
              static_cast<long long>(ms));
  std::fflush(stdout);
  return true;
}

// Runs each statement in `text` (a query argument or a script), in order, however many fail.
bool RunStatements(const SqlClient& client, const std::string& format, std::string_view text) {
  StatementSplitter splitter;
  std::vector<std::string> statements = splitter.Add(text);
  if (std::string rest = splitter.TakeRest(); !rest.empty()) statements.push_back(rest);
  bool all_ok = true;
  for (const std::string& sql : statements) {
    if (!RunStatement(client, format, sql)) all_ok = false;
  }
  return all_ok;
}

// Set by SIGINT while the prompt waits for a line.
volatile sig_atomic_t interrupted = 0;

void OnInterrupt(int) { interrupted = 1; }

// One line typed at the prompt. Ctrl-C discards what is typed, as in psql: SIGINT is caught only
// while readline waits (a query in flight is still ended by it), without SA_RESTART so that the
// read returns and readline gives nullptr.
enum class Typed { kLine, kInterrupted, kEnd };
Typed ReadPromptLine(const char* prompt, std::string* line) {
  struct sigaction catch_it {};
  catch_it.sa_handler = OnInterrupt;
  sigemptyset(&catch_it.sa_mask);
  struct sigaction before {};
  interrupted = 0;
  sigaction(SIGINT, &catch_it, &before);
  char* raw = readline(prompt);
  sigaction(SIGINT, &before, nullptr);
  if (raw != nullptr) {
    *line = raw;
    std::free(raw);
    return Typed::kLine;
  }
  return interrupted != 0 ? Typed::kInterrupted : Typed::kEnd;
}

// Reads statements ending in ';' and runs each as soon as it ends. With a terminal: prompts,
// line editing and history; otherwise plain lines. Returns the exit status.
int RunShell(const SqlClient& client, const std::string& format) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  std::string history_file;
  if (const char* home = std::getenv("HOME"); tty && home != nullptr) {
    history_file = std::string(home) + "/.seaway_history";
    using_history();
    read_history(history_file.c_str());
  }
  if (tty) std::printf("Connected. End statements with ';'. \\q quits. Ctrl-C clears the input.\n");
  bool all_ok = true;
  StatementSplitter splitter;
  std::string typed;  // the lines typed since the input was last complete, for the history
  for (;;) {
    std::string line;
    if (tty) {
      const Typed got = ReadPromptLine(splitter.InStatement() ? "     -> " : "seaway> ", &line);
      if (got == Typed::kEnd) break;
      if (got == Typed::kInterrupted) {
        std::printf("\n");
        splitter.Clear();
        typed.clear();
        continue;
      }
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    const std::string trimmed = Trim(line);
    if (!splitter.InStatement() && (trimmed == "\\q" || trimmed == "quit" || trimmed == "exit")) {
      break;
    }
    if (trimmed.empty() && !splitter.InStatement()) continue;
    line.push_back('\n');
    const std::vector<std::string> statements = splitter.Add(line);
    if (tty) {
      typed += line;
      if (!splitter.InStatement()) {
        add_history(Trim(typed).c_str());
        if (!history_file.empty()) write_history(history_file.c_str());
        typed.clear();
      }
    }
    for (const std::string& sql : statements) {
      if (!RunStatement(client, format, sql)) all_ok = false;
    }
  }
  if (const std::string sql = splitter.TakeRest(); !sql.empty()) {
    if (tty) {
      // Ctrl-D in the middle of a statement leaves it, as psql does: it may be half typed.
      std::printf("\nunfinished statement not run (end it with ';' to run it)\n");
    } else if (!RunStatement(client, format, sql)) {  // a script's last may lack its ';'
      all_ok = false;
    }
  } else if (tty) {
    std::printf("\n");  // after the prompt that Ctrl-D ended
  }
  return all_ok ? 0 : 1;
}

}  // namespace

void AddSqlOptions(CLI::App* cmd, SqlCommandOptions* o) {
  cmd->add_option("query", o->query,
                  "The statement to run; without it, read statements ending "
                  "in ';' (an interactive prompt on a terminal)");
  cmd->add_option("--url", o->url, "The server's HTTP address")
      ->envname("SEAWAY_URL")
      ->capture_default_str();
  cmd->add_option("--token", o->token,
                  "API token (names the tenant); default $SEAWAY_TOKEN, else DATA_DIR/admin-token")
      ->type_name("TOKEN");
  cmd->add_option("--data-dir", o->data_dir, "Where to find admin-token when no token is given")
      ->envname("SEAWAY_DATA_DIR")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("-d,--database", o->database, "Database to query")->capture_default_str();
  cmd->add_option("--format", o->format,
                  "table: aligned columns and a row count; csv or json: the server's output, "
                  "streamed, for scripts")
      ->check(CLI::IsMember({"table", "csv", "json", "ndjson"}))
      ->capture_default_str();
}

int RunSqlCommand(const SqlCommandOptions& options) {
  SqlClientOptions client_options;
  client_options.url = options.url;
  client_options.database = options.database;
  client_options.token = FindToken(options.token, options.data_dir);
  if (Result<ServerUrl> url = ParseServerUrl(options.url); !url.ok()) {
    std::fprintf(stderr, "seaway sql: --url %s\n", std::string(url.status().message()).c_str());
    return 2;
  }
  if (client_options.token.empty()) {
    std::fprintf(stderr,
                 "seaway sql: no token: pass --token, set SEAWAY_TOKEN, or point --data-dir at "
                 "the server's data directory (its admin-token file)\n");
    return 2;
  }
  SqlClient client(client_options);
  if (!options.query.empty()) {
    return RunStatements(client, options.format, options.query) ? 0 : 1;
  }
  return RunShell(client, options.format);
}

}  // namespace seaway::cli
