// Engine: the embedded time-series store (src/storage) — the API front ends and queries use.
//
//   SW_ASSIGN_OR_RETURN(auto engine, Engine::Open(env, "data/storage", options, &metrics));
//   SW_RETURN_IF_ERROR(engine->Write(batch));          // returns once durable
//   engine->Scan(request, [](const SeriesBlock& b) { ...; return Status::OK(); });
//
// Today the engine keeps data in per-shard WALs and memtables; immutable compressed segments,
// compaction, retention and deletes join it next (see docs/ARCHITECTURE.md). Until then a shard
// that reaches its memory limit refuses writes with Unavailable.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "storage/env.h"
#include "storage/schema.h"
#include "storage/series_index.h"
#include "storage/shard.h"
#include "storage/write_batch.h"

namespace seaway {

struct EngineOptions {
  int shards = 2;  // fixed when the data directory is created; later opens use the stored count
  ShardOptions shard;
};

struct ScanRequest {
  TenantId tenant;
  std::string database = "main";
  std::string table;
  int64_t min_time = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t max_time = std::numeric_limits<int64_t>::max();  // inclusive
  TagSet tag_equals;                // every tag must equal its value ("" = absent)
  std::vector<std::string> fields;  // projection; empty means every field
};

// One series' rows from a scan, in time order.
struct SeriesBlock {
  std::shared_ptr<const SeriesInfo> series;
  std::vector<FieldSchema> fields;  // what `columns` hold, in order
  SeriesRowsBlock rows;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(Env* env, std::string dir, EngineOptions options,
                                              MetricsRegistry* metrics);
  ~Engine();

  // Stores `batch` and returns once it is durable (per the WAL sync mode) and visible to scans.
  // Errors: InvalidArgument (names, types: nothing stored), Unavailable (over a memory or queue
  // limit: retry later), FailedPrecondition (a shard is read-only). Rows are atomic; a batch
  // spanning shards can be partly stored when a shard fails, and the error says so.
  Status Write(const WriteBatch& batch);
  // Same, completing `done` on a shard thread instead of blocking.
  void WriteAsync(const WriteBatch& batch, std::function<void(Status)> done);

  // Calls `fn` for every series of the table matching the request, with its rows in range.
  Status Scan(const ScanRequest& request,
              const std::function<Status(const SeriesBlock&)>& fn) const;

  // The latest row of every matching series (time range and projection as in Scan).
  Status Latest(const ScanRequest& request,
                const std::function<Status(const SeriesBlock&)>& fn) const;

  const Catalog& catalog() const { return catalog_; }
  const SeriesIndex& series() const { return series_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  // OK when every shard accepts writes; else the first shard's reason.
  Status health() const;

  void Close();

 private:
  Engine(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Status RestoreRecord(const WriteRecord& record);
  Result<std::vector<FieldSchema>> Projection(const ScanRequest& request) const;

  Env* const env_;
  const std::string dir_;
  Catalog catalog_;
  SeriesIndex series_;
  std::vector<std::unique_ptr<Shard>> shards_;
  Counter* rows_written_ = nullptr;
};

}  // namespace seaway
