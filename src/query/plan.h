// Physical plan: a tree of nodes that push chunks into sinks (src/query).
//
// Execute(ctx, sink) produces the node's rows into `sink`. Streaming nodes (filter, project,
// limit) wrap the sink and run their child; pipeline breakers (aggregate, sort, distinct, the
// build side of a join) run their child into their own state and then emit. Scans drive
// everything: Engine::Scan calls back per series block and the chunk travels up the chain.
//
// A sink may stop its producer early (LIMIT reached) by returning a status that the node which
// asked for it recognises (LimitNode): a scan under a satisfied LIMIT reads no further series.
//
// ExecContext carries the per-query limits: a deadline and a memory budget that
// materialising nodes charge (aggregation states, sort buffers, join tables, results).
//
// Thread-compatible: one query runs on one thread; nodes are used once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "query/aggregate.h"
#include "query/bound_expr.h"
#include "query/vector.h"
#include "storage/engine.h"

namespace seaway::query {

struct ColumnInfo {
  std::string name;
  SqlType type = SqlType::kNull;
  std::string table;  // the table alias it comes from; empty for computed columns
  // The database of the table it comes from when the FROM clause names that table without an
  // alias, so that `db.t.c` finds it (as in PostgreSQL, an alias hides the qualified name);
  // empty otherwise.
  std::string database = {};
};

class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual Status Push(DataChunk& chunk) = 0;
  // Statistics standing for some rows of a series (a ScanNode with `summaries` set sends them
  // only to the aggregation that asked for them).
  virtual Status PushSummary(const SeriesSummary& summary) {
    return Internal("a summary reached a node that cannot use it");
  }
};

struct ExecContext {
  const Engine* engine = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::chrono::milliseconds timeout{0};
  size_t memory_limit = SIZE_MAX;
  // The limit as configured, for messages (a split scan's halves each get half of it).
  size_t memory_limit_configured = SIZE_MAX;
  // Set by the owner to stop the query (server shutdown): checked with the deadline.
  const std::atomic<bool>* cancel = nullptr;

  // DeadlineExceeded-like: ResourceExhausted naming the timeout.
  Status CheckDeadline() const;
  // Fails with ResourceExhausted when `bytes` (the caller's current holding) would push the
  // query over its memory limit. Callers report their holding as it grows.
  Status Charge(size_t* held, size_t now_bytes);

  size_t memory_used = 0;

  // Scans split by series: this execution reads the series with id % partitions == partition.
  int partition = 0;
  int partitions = 1;
  // What the scans read, when set (ScanRequest::snapshot): the partitions of a split share one.
  std::shared_ptr<const EngineSnapshot> snapshot;
  // Threads a query may use (pipelines over partitioned scans).
  int threads = 2;
};

class PlanNode {
 public:
  virtual ~PlanNode() = default;
  virtual Status Execute(ExecContext& ctx, ChunkSink* out) = 0;
  // One line per node, children indented: what EXPLAIN prints.
  virtual void Explain(int depth, std::string* out) const = 0;
  // Whether Execute may run on several threads at once with different ExecContext partitions
  // (a chain of streaming nodes over a scan), and the scan is big enough to be worth it.
  virtual bool Partitionable() const { return false; }

  std::vector<ColumnInfo> columns;
};

using PlanNodePtr = std::unique_ptr<PlanNode>;

// Reads a stored table. Output columns: time, every tag, every field of the schema at plan
// time; fields nobody uses are not read and time nobody uses is not copied (constant NULL
// columns instead), tags are constant vectors per series block.
class ScanNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;
  // Worth splitting unless a tag equality or a short IN list narrows the scan to a few series.
  bool Partitionable() const override;
  // Makes `*row` one row of `info`'s tags in this scan's layout, every other column NULL: what
  // predicates and keys over tags alone are evaluated on, once per series. A row set before
  // keeps its buffers (the tags are assigned in place).
  void SetTagRow(const SeriesInfo& info, DataChunk* row) const;

  ScanRequest request;                // tenant, database, table, time range, tag equalities
  size_t tag_count = 0;               // columns [1, 1 + tag_count) are tags
  std::vector<std::string> tag_keys;  // in column order
  std::vector<FieldSchema> fields;    // in column order after the tags
  std::vector<bool> used;             // per output column
  BoundExprPtr tag_predicate;         // over the output layout, touching tags only; may be null
  bool latest = false;                // read only the newest row of each series (Engine::Latest)
  size_t table_series = 0;            // the table's series when planned (whether to split)
  // Hand whole segment chunks to the sink as statistics (Engine::ScanSummarized); the planner
  // sets it when the aggregation above answers from statistics alone.
  bool summaries = false;
  // With summaries: the time keys of that aggregation (TimeKeyBuckets; owned by it), each
  // summary then holds rows of one bucket of each.
  std::vector<const BoundExpr*> summary_time_keys;
};

// Zero or more literal rows (SELECT without FROM, SHOW results).
class RowsNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  DataChunk rows;
  std::string label = "Rows";
};

class FilterNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;
  bool Partitionable() const override { return child->Partitionable(); }

  PlanNodePtr child;
  BoundExprPtr predicate;
};

class ProjectNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;
  bool Partitionable() const override { return child->Partitionable(); }

  PlanNodePtr child;
  std::vector<BoundExprPtr> exprs;
};

// GROUP BY: output columns are the group keys, then the aggregates. Without keys there is
// exactly one output row (also over no input).
struct PartialAggregate;

class AggregateNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
  std::vector<BoundExprPtr> keys;
  std::vector<AggregateSpec> aggregates;

 private:
  // Aggregates the child's rows of ctx's partition into *partial.
  Status RunPartial(ExecContext& ctx, PartialAggregate* partial);
  // The group of row `row` of the key vectors `kv` in *partial, created when new. `key` is
  // scratch space.
  uint32_t GroupOf(PartialAggregate* partial, const std::vector<const Vector*>& kv, size_t row,
                   std::string* key) const;
  // The prefix (PartialAggregate::split_key) of row `row`: every key but the split one.
  uint32_t PrefixOf(PartialAggregate* partial, const std::vector<const Vector*>& kv, size_t row,
                    std::string* key) const;
};

struct SortKey {
  int column = 0;
  bool descending = false;
  bool nulls_first = false;
};

// ORDER BY, with an optional bound (LIMIT + OFFSET) that keeps only that many rows in memory.
class SortNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
  std::vector<SortKey> keys;
  size_t keep = SIZE_MAX;

 private:
  // Collects (and trims to `keep`) the child's rows of ctx's partition into *buffer.
  Status Collect(ExecContext& ctx, DataChunk* buffer) const;
};

class LimitNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
  size_t limit = SIZE_MAX;
  size_t offset = 0;
};

// ORDER BY a time key (time itself or a bucket of it) first, with a row bound, over one table:
// runs `child` (the bounded sort) over a window from the newest row in the scan's time range
// (oldest, ascending), widening it fourfold until the child yields `keep` rows; a window that
// would reach the rows at the other end is replaced by one run over the whole range. A window
// starts (ascending: ends) on a key boundary, so each key in it has all its rows: the first `keep`
// rows of a window holding that many are the range's first `keep`. "The last 5 minutes with data"
// reads about 5 minutes, not the whole range.
class TimeWindowNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
  ScanNode* scan = nullptr;  // inside `child`: its request's time range is narrowed per window
  BoundExprPtr key;          // the time key over the scan's layout (reads column 0 only)
  bool descending = true;
  size_t keep = 0;
  int64_t initial_width = 0;  // ns: `keep` nominal key widths

 private:
  // The first instant of the key value that `t` falls in, when that is a key boundary (the key
  // of the instant before it is smaller); nullopt when the key does not behave so there.
  Result<std::optional<int64_t>> KeyStart(int64_t t) const;
};

class DistinctNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr child;
};

class UnionAllNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  std::vector<PlanNodePtr> children;  // same column count; types already cast to `columns`
};

// Hash join on equality keys (inner or left), or a nested loop when there are none. Output:
// left columns, then right columns. `residual` (over the output layout) filters matches; for a
// left join, left rows without a passing match get NULLs on the right.
class JoinNode : public PlanNode {
 public:
  Status Execute(ExecContext& ctx, ChunkSink* out) override;
  void Explain(int depth, std::string* out) const override;

  PlanNodePtr left;
  PlanNodePtr right;
  bool left_outer = false;
  std::vector<BoundExprPtr> left_keys;   // over the left layout
  std::vector<BoundExprPtr> right_keys;  // over the right layout, same types
  BoundExprPtr residual;
};

// Collects every chunk, charging the query's memory budget.
class CollectSink : public ChunkSink {
 public:
  explicit CollectSink(ExecContext* ctx) : ctx_(ctx) {}
  Status Push(DataChunk& chunk) override;

  std::vector<DataChunk> chunks;
  size_t rows = 0;

 private:
  ExecContext* ctx_;
  size_t held_ = 0;
};

// Appends rows of `src` (flattening constants) to `dst`, which has the same column types.
void AppendChunk(const DataChunk& src, DataChunk* dst);

// Explain helper: "  " * depth + text + "\n".
void ExplainLine(int depth, std::string_view text, std::string* out);
// A short text of a bound expression for EXPLAIN.
std::string DescribeExpr(const BoundExpr& e, const std::vector<ColumnInfo>& input);
// "+", "=", "<>", "||" ... for binary operator functions; "" for the others.
std::string_view OperatorText(Function f);
// "avg(temperature)", "count(DISTINCT status)", "locf:avg(x)".
std::string DescribeAggregate(const AggregateSpec& a, const std::vector<ColumnInfo>& input);

}  // namespace seaway::query
