// SQL statements from text to rows (src/query).
#include "query/query_engine.h"

#include <algorithm>
#include <cctype>

#include "query/planner.h"
#include "sql/parser.h"
#include "sql/source_excerpt.h"

namespace seaway::query {
namespace {

// "EXPLAIN <query>" (after any empty statements): the query without the keyword, or nullopt.
std::optional<std::string_view> StripExplain(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == ';')) {
    ++i;
  }
  constexpr std::string_view kWord = "explain";
  if (sql.size() - i < kWord.size() + 1) return std::nullopt;
  for (size_t k = 0; k < kWord.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(sql[i + k])) != kWord[k]) return std::nullopt;
  }
  if (!std::isspace(static_cast<unsigned char>(sql[i + kWord.size()]))) return std::nullopt;
  return sql.substr(i + kWord.size());
}

class StreamSink : public ChunkSink {
 public:
  explicit StreamSink(const std::function<Status(const DataChunk&)>& fn) : fn_(fn) {}
  Status Push(DataChunk& chunk) override { return fn_(chunk); }

 private:
  const std::function<Status(const DataChunk&)>& fn_;
};

}  // namespace

Status QueryEngine::ExecuteStreaming(
    std::string_view sql, const QueryOptions& options,
    const std::function<Status(const std::vector<ColumnInfo>&)>& on_columns,
    const std::function<Status(const DataChunk&)>& on_chunk) const {
  // Errors the executor marked with an offset (while planning, e.g. an uncorrelated subquery,
  // or while running) point into the text as binding errors do: line, column and excerpt.
  return sql::LocateMarkedError(Run(sql, options, on_columns, on_chunk), sql);
}

Status QueryEngine::Run(std::string_view sql, const QueryOptions& options,
                        const std::function<Status(const std::vector<ColumnInfo>&)>& on_columns,
                        const std::function<Status(const DataChunk&)>& on_chunk) const {
  ExecContext ctx;
  ctx.engine = engine_;
  ctx.timeout = options.timeout;
  ctx.deadline = std::chrono::steady_clock::now() + options.timeout;
  ctx.memory_limit = ctx.memory_limit_configured = options.max_memory_bytes;
  ctx.cancel = options.cancel;
  const auto explain = StripExplain(sql);
  // EXPLAIN's query is parsed with the keyword blanked out, so that positions in errors still
  // point into the text the user sent.
  std::string blanked;
  if (explain) {
    blanked.assign(sql.size() - explain->size(), ' ');
    blanked.append(*explain);
  }
  SW_ASSIGN_OR_RETURN(sql::Statement statement,
                      sql::ParseSql(explain ? std::string_view(blanked) : sql));
  PlannerOptions popts;
  popts.tenant = options.tenant;
  popts.database = options.database;
  popts.now = clock_->Now().nanos();
  popts.time_zone = options.time_zone;
  if (options.devices) {
    popts.devices = *options.devices;
    std::sort(popts.devices->begin(), popts.devices->end());
  }
  Planner planner(engine_, popts, sql, &ctx);
  SW_ASSIGN_OR_RETURN(PlanNodePtr plan, planner.PlanStatement(statement));
  if (explain) {
    std::string text_plan;
    plan->Explain(0, &text_plan);
    std::vector<ColumnInfo> columns = {{"plan", SqlType::kText, ""}};
    SW_RETURN_IF_ERROR(on_columns(columns));
    DataChunk chunk;
    chunk.columns.resize(1);
    chunk.columns[0].Reset(SqlType::kText);
    size_t start = 0;
    while (start < text_plan.size()) {
      size_t end = text_plan.find('\n', start);
      chunk.columns[0].Append(Value::Text(text_plan.substr(start, end - start)));
      ++chunk.rows;
      start = end + 1;
    }
    return on_chunk(chunk);
  }
  SW_RETURN_IF_ERROR(on_columns(plan->columns));
  StreamSink sink(on_chunk);
  return plan->Execute(ctx, &sink);
}

Result<QueryResult> QueryEngine::Execute(std::string_view sql, const QueryOptions& options) const {
  QueryResult result;
  ExecContext budget;
  budget.memory_limit = budget.memory_limit_configured = options.max_memory_bytes;
  size_t held = 0;
  SW_RETURN_IF_ERROR(ExecuteStreaming(
      sql, options,
      [&](const std::vector<ColumnInfo>& columns) {
        result.columns = columns;
        return Status::OK();
      },
      [&](const DataChunk& chunk) -> Status {
        if (chunk.rows == 0) return Status::OK();
        result.chunks.push_back(chunk);
        result.rows += chunk.rows;
        return budget.Charge(&held, held + result.chunks.back().MemoryBytes());
      }));
  return result;
}

}  // namespace seaway::query
