// In-process latency of the SQL query set (issue #5) on the industrial dataset: the engine
// alone, without HTTP, for profiling the planner and executor. The comparison with ClickHouse and
// InfluxDB goes through their HTTP APIs (bench/sql_query.sh).
//
//   build/release/bench/sql_query_bench [--machines 1000] [--timestamps 720] [--runs 9]
//                                       [--query NAME] [--dir DIR (reuse)]
//
// Prints each query's median, best and worst time over `runs` runs and its row count.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/clock.h"
#include "datagen/batch_rows.h"
#include "query/query_engine.h"

namespace seaway {
namespace {

struct NamedQuery {
  const char* name;
  const char* sql;
};

// 2026-01-01T00:00:00Z plus 2 hours of 10 s readings.
constexpr NamedQuery kQueries[] = {
    {"single-groupby-1-1-1",
     "SELECT time_bucket('5m', time) AS t, max(temperature) FROM machines "
     "WHERE machine_id = 'm0042' AND time >= '2026-01-01T00:30:00Z' AND "
     "time < '2026-01-01T01:30:00Z' GROUP BY t ORDER BY t"},
    {"single-groupby-5-8-1",
     "SELECT time_bucket('5m', time) AS t, max(temperature), max(vibration), max(pressure), "
     "max(current), max(speed) FROM machines WHERE machine_id IN ('m0001', 'm0101', 'm0201', "
     "'m0301', 'm0401', 'm0501', 'm0601', 'm0701') AND time >= '2026-01-01T00:30:00Z' AND "
     "time < '2026-01-01T01:30:00Z' GROUP BY t ORDER BY t"},
    {"double-groupby-1",
     "SELECT machine_id, time_bucket('5m', time) AS t, avg(temperature) FROM machines "
     "GROUP BY machine_id, t ORDER BY machine_id, t"},
    {"double-groupby-all",
     "SELECT machine_id, time_bucket('5m', time) AS t, avg(temperature), avg(vibration), "
     "avg(pressure), avg(current), avg(speed) FROM machines GROUP BY machine_id, t "
     "ORDER BY machine_id, t"},
    {"high-temp-all",
     "SELECT time, machine_id, temperature FROM machines WHERE temperature > 90 ORDER BY time, "
     "machine_id"},
    {"lastpoint",
     "SELECT machine_id, last(temperature, time), last(vibration, time), last(status, time) "
     "FROM machines GROUP BY machine_id ORDER BY machine_id"},
    {"groupby-orderby-limit",
     "SELECT time_bucket('1m', time) AS t, max(temperature) FROM machines "
     "WHERE time < '2026-01-01T01:00:00Z' GROUP BY t ORDER BY t DESC LIMIT 5"},
    {"per-site-hour",
     "SELECT site, date_trunc('hour', time) AS h, avg(temperature), max(parts) - min(parts) "
     "FROM machines GROUP BY site, h ORDER BY site, h"},
    {"count-all", "SELECT count(*), avg(temperature), max(speed) FROM machines"},
};

int Main(int argc, char** argv) {
  CLI::App app{"SQL query latency, in process"};
  int machines = 1000, timestamps = 720, runs = 9;
  std::string only, dir;
  app.add_option("--machines", machines);
  app.add_option("--timestamps", timestamps);
  app.add_option("--runs", runs);
  app.add_option("--query", only);
  std::string sql;
  bool print = false;
  app.add_flag("--print", print, "prints the rows of each query's first run");
  app.add_option("--sql", sql, "a query to time instead of the set (named \"sql\")");
  app.add_option("--dir", dir, "engine directory to reuse (loaded when empty)");
  CLI11_PARSE(app, argc, argv);

  bool load = true;
  if (dir.empty()) {
    dir = fmt::format("/tmp/seaway-sqlbench-{}", getpid());
    std::filesystem::remove_all(dir);
  } else if (std::filesystem::exists(dir)) {
    load = false;
  }
  MetricsRegistry metrics;
  auto engine = Engine::Open(Env::Default(), dir, EngineOptions{}, &metrics);
  if (!engine.ok()) {
    fmt::print(stderr, "open: {}\n", engine.status());
    return 1;
  }
  if (load) {
    datagen::DatasetSpec spec;
    spec.entities = machines;
    spec.timestamps = timestamps;
    datagen::Generator gen(spec);
    if (Status s = datagen::WriteAll(&gen, engine->get()); !s.ok()) {
      fmt::print(stderr, "write: {}\n", s);
      return 1;
    }
    if (!(*engine)->Flush().ok() || !(*engine)->Maintain().ok()) return 1;
  }
  query::QueryEngine queries(engine->get(), Clock::Real());
  query::QueryOptions options;
  options.tenant = TenantId(1);
  fmt::print("{:<24} {:>10} {:>10} {:>10} {:>8}\n", "query", "median_ms", "best_ms", "worst_ms",
             "rows");
  std::vector<NamedQuery> set(std::begin(kQueries), std::end(kQueries));
  if (!sql.empty()) set = {{"sql", sql.c_str()}};
  for (const auto& q : set) {
    if (!only.empty() && only != q.name) continue;
    std::vector<double> ms;
    size_t rows = 0;
    for (int r = 0; r < runs; ++r) {
      const auto start = std::chrono::steady_clock::now();
      auto result = queries.Execute(q.sql, options);
      const auto end = std::chrono::steady_clock::now();
      if (!result.ok()) {
        fmt::print(stderr, "{}: {}\n", q.name, result.status());
        return 1;
      }
      rows = result->rows;
      if (print && r == 0) {
        for (const auto& chunk : result->chunks) {
          for (size_t i = 0; i < chunk.rows; ++i) {
            std::string line;
            for (const auto& column : chunk.columns) {
              line += (line.empty() ? "" : " | ") + column.Get(i).ToString();
            }
            fmt::print("  {}\n", line);
          }
        }
      }
      ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(ms.begin(), ms.end());
    fmt::print("{:<24} {:>10.2f} {:>10.2f} {:>10.2f} {:>8}\n", q.name, ms[ms.size() / 2],
               ms.front(), ms.back(), rows);
  }
  return 0;
}

}  // namespace
}  // namespace seaway

int main(int argc, char** argv) { return seaway::Main(argc, argv); }
