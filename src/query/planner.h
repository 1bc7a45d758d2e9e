// Planner: binds a parsed statement against the catalog and builds its physical plan
// (src/query).
//
// Binding resolves names (tables of the caller's tenant, CTEs, aliases, columns; unknown names
// get the nearest existing one in the error), types every expression, folds constants and
// checks aggregation rules. Planning pushes what the storage scan can do into it: time ranges,
// tag equalities and any other predicate on tags only (evaluated once per series, before its
// rows are read), and the projection; `last(v, time) ... GROUP BY tags` reads only the newest row
// of each series.
//
// Uncorrelated subqueries (scalar, IN, EXISTS) run while planning and become constants.
//
// Thread-compatible: one Planner per statement.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "query/plan.h"
#include "sql/ast.h"
#include "storage/engine.h"

namespace seaway::query {

struct PlannerOptions {
  TenantId tenant;
  std::string database = "main";  // for unqualified table names
  int64_t now = 0;                // now(), ns since the epoch: one instant for the whole statement
  // When set: the only values of the `device` tag the statement may read (QueryOptions::devices).
  std::optional<std::vector<std::string>> devices;
  // The zone of calendar functions (time_bucket, date_trunc, EXTRACT, date_part, format_time)
  // that name none (QueryOptions::time_zone). Empty or "UTC": UTC.
  std::string time_zone;
};

class Planner {
 public:
  // `text` is the statement's source, for error excerpts; `ctx` runs subqueries while planning.
  Planner(const Engine* engine, PlannerOptions options, std::string_view text, ExecContext* ctx);
  ~Planner();

  Result<PlanNodePtr> PlanStatement(const sql::Statement& statement);
  Result<PlanNodePtr> PlanQuery(const sql::SelectStatement& query);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway::query
