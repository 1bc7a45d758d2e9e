// QueryEngine: SQL text in, rows out (src/query) — what the HTTP endpoint, the CLI and tests
// call.
//
//   QueryEngine queries(engine, Clock::Real());
//   QueryOptions options;
//   options.tenant = tenant;
//   SW_ASSIGN_OR_RETURN(QueryResult result, queries.Execute("SELECT ...", options));
//
// A statement is parsed (src/sql), bound and planned (planner.h) and run (plan.h) within the
// options' timeout and memory limit. `EXPLAIN <query>` returns the plan as text rows. Errors are
// InvalidArgument (syntax, types, unknown functions), NotFound (tables, databases) and
// ResourceExhausted (limits), each with a position excerpt where one applies.
//
// Thread-safe: any number of queries may run at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/strong_id.h"
#include "query/plan.h"
#include "storage/engine.h"

namespace seaway::query {

struct QueryOptions {
  TenantId tenant;
  std::string database = "main";
  std::chrono::milliseconds timeout{30'000};
  size_t max_memory_bytes = size_t{256} << 20;
  // When set and true, the query stops at its next check with Unavailable.
  const std::atomic<bool>* cancel = nullptr;
  // When set (a customer's user, docs/security.md): every table reads only the series whose
  // `device` tag is one of these names, and system.series lists only those series; a table
  // holding none of them (one without that tag too) does not exist for the statement, nor a
  // database without such a table, and a table has only the tags those series hold
  // (docs/sql.md, Metadata).
  std::optional<std::vector<std::string>> devices;
  // The time zone of calendar functions that name none: the tenant's setting (docs/sql.md).
  // Empty: UTC. REQUIRES: a valid IANA name.
  std::string time_zone;
};

struct QueryResult {
  std::vector<ColumnInfo> columns;
  std::vector<DataChunk> chunks;
  size_t rows = 0;
};

class QueryEngine {
 public:
  QueryEngine(const Engine* engine, const Clock* clock) : engine_(engine), clock_(clock) {}

  // Runs one statement and collects its result (within the memory limit).
  Result<QueryResult> Execute(std::string_view sql, const QueryOptions& options) const;

  // Runs one statement, handing its columns once and then every chunk as it is produced, so
  // that large results stream (only the HTTP/CLI writer's buffer is held). Errors after the
  // first chunk are returned too; the caller decides how to report them mid-stream.
  Status ExecuteStreaming(std::string_view sql, const QueryOptions& options,
                          const std::function<Status(const std::vector<ColumnInfo>&)>& on_columns,
                          const std::function<Status(const DataChunk&)>& on_chunk) const;

 private:
  // ExecuteStreaming before its errors are located in the text.
  Status Run(std::string_view sql, const QueryOptions& options,
             const std::function<Status(const std::vector<ColumnInfo>&)>& on_columns,
             const std::function<Status(const DataChunk&)>& on_chunk) const;

  const Engine* engine_;
  const Clock* clock_;
};

}  // namespace seaway::query
