// Engine: the embedded time-series store (src/storage) — the API front ends and queries use.
//
//   SW_ASSIGN_OR_RETURN(auto engine, Engine::Open(env, "data/storage", options, &metrics));
//   SW_RETURN_IF_ERROR(engine->Write(batch));          // returns once durable
//   engine->Scan(request, [](const SeriesBlock& b) { ...; return Status::OK(); });
//
// Rows go to a shard's WAL and memtable, and are flushed to immutable, compressed, columnar
// segment files per table and time partition, which compaction merges and retention expires
// (docs/ARCHITECTURE.md).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "storage/env.h"
#include "storage/retention.h"
#include "storage/schema.h"
#include "storage/series_index.h"
#include "storage/shard.h"
#include "storage/write_batch.h"

namespace seaway {

struct EngineOptions {
  int shards = 2;  // fixed when the data directory is created; later opens use the stored count
  ShardOptions shard;
  const Clock* clock = Clock::Real();  // "now" for retention
  // Series one tenant may have; a write that would create more fails with ResourceExhausted
  // (no row of the batch is stored).
  size_t max_series_per_tenant = SIZE_MAX;
  // Memory for segment index blocks (chunk references and statistics, about 60 bytes per field
  // per chunk) shared by every shard: queries read index blocks through this LRU cache and
  // read them again from the file (the OS page cache) once evicted.
  size_t segment_index_cache_bytes = size_t{128} << 20;
};

// What the engine's caches hold now (for /metrics and benchmarks).
struct EngineCacheStats {
  size_t last_value_bytes = 0;  // last-value caches of every shard
  size_t last_value_entries = 0;
  size_t segment_index_bytes = 0;  // charged by the segment index cache
  size_t segment_index_capacity = 0;
  uint64_t segment_index_hits = 0;
  uint64_t segment_index_misses = 0;
};

// True when `status` says the disk is full (as opposed to another limit): writes succeed again
// once space is freed.
bool IsDiskFull(const Status& status);

// A condition every row the caller keeps must meet on one DOUBLE field (the caller still checks
// each row): segment chunks whose statistics show that none of their rows can meet it, and that
// no other source of the series overlaps, are not read. A row without the field fails it. A NaN
// is above every number, as the query engine orders DOUBLEs (query/value.h CompareDoubles): it
// meets a range with no upper bound.
struct FieldRange {
  std::string field;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_inclusive = true;
  bool max_inclusive = true;
};

// What every shard held at one moment (Engine::Snapshot): scans given one read exactly it.
struct EngineSnapshot {
  std::vector<ShardSnapshot> shards;  // by shard number
  // When it was taken: retention's cutoff for scans that read it (so that scans sharing it
  // agree on which rows have expired).
  Timestamp now;
};

struct ScanRequest {
  TenantId tenant;
  std::string database = "main";
  std::string table;
  int64_t min_time = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t max_time = std::numeric_limits<int64_t>::max();  // inclusive
  TagSet tag_equals;  // every tag must equal its value ("" = absent)
  // Every listed tag must equal one of its values (sorted, non-empty; "" among them matches a
  // series without the tag, as in SeriesIndex::Match): `tag IN (...)` pushed down.
  TagIn tag_in;
  std::vector<std::string> fields;  // projection; empty means every field
  // When set, only series for which it returns true are read (after tag_equals and tag_in):
  // the query engine pushes any other tag predicate (LIKE, OR, NOT IN, ...) here, so rejected
  // series cost no I/O.
  // Called on the scanning thread; must not call back into the engine.
  std::function<bool(const SeriesInfo&)> series_filter;
  // Conditions on DOUBLE fields that let Scan skip chunks (FieldRange).
  std::vector<FieldRange> field_ranges;
  // Only series with id % partitions == partition are read: one of several scans that split a
  // table's series between threads. Such scans should share one `snapshot`.
  int partition = 0;
  int partitions = 1;
  // When set, the scan reads these shards' snapshot instead of taking its own, so that several
  // scans of one query (the partitions of a split scan) see the same sources.
  std::shared_ptr<const EngineSnapshot> snapshot;
  // ScanSummarized only: the caller reads no tag from summaries, so one summary may stand for
  // many series (SeriesSummary::series is nullptr then): a whole segment inside the time range
  // that nothing else overlaps is taken from its totals at once (partition 0 takes it).
  bool summaries_without_series = false;
  // With summaries_without_series: the one tag the caller reads from summaries (it groups by
  // it), or "". A whole segment then comes as one summary per value of the tag
  // (SeriesSummary::tag_value), when it has at most kMaxTagTotalsValues of them.
  std::string summary_tag;
  // ScanSummarized only. When set, one summary covers rows of one bucket of time (the query
  // engine's GROUP BY time_bucket or date_trunc): a chunk is summarised only when
  // same_bucket(its first time, its last time), and a summary takes the chunks of a series in
  // time order while same_bucket(the first one's first time, the last one's last time). Must
  // be true only of times whose whole range between lies in one bucket.
  std::function<bool(int64_t, int64_t)> same_bucket;
};

// Whether Engine::ScanSummarized may take whole segments for `request` (summaries of many
// series allowed, no series_filter, tag conditions on one tag at most, the grouping tag if
// any), and the tag whose values it needs ("": none): nullopt when it may not.
std::optional<std::string> WholeSegmentTag(const ScanRequest& request);

// One series' rows from a scan, in time order.
struct SeriesBlock {
  const SeriesInfo* series = nullptr;  // valid while the scan that passes the block runs
  std::vector<FieldSchema> fields;     // what `columns` hold, in order
  SeriesRowsBlock rows;
};

// Statistics of some rows of one series, read from segment chunk statistics instead of the rows
// (Engine::ScanSummarized): per projected field, how many rows have it, their min, max (typed
// bits as in ChunkStats; NaN never taken as min or max) and sum (as a double; NaN when a value
// is NaN).
struct SeriesSummary {
  // Valid while the scan that passes the summary runs; nullptr for a summary of many series
  // (ScanRequest::summaries_without_series).
  const SeriesInfo* series = nullptr;
  // Without `series`: the value of ScanRequest::summary_tag those series share ("": none).
  std::string_view tag_value;
  std::vector<FieldSchema> fields;
  uint64_t rows = 0;
  int64_t min_time = 0;  // of the rows summarised
  int64_t max_time = 0;
  struct Field {
    uint64_t count = 0;
    uint64_t min_bits = 0;
    uint64_t max_bits = 0;
    double sum = 0;
  };
  std::vector<Field> stats;  // parallel to `fields`
};

// Where a scan's FieldRanges are in one segment (Engine::ReadSeries).
struct SegmentRanges {
  std::vector<int> columns;                // per range: the column of its DOUBLE field, or -1
  std::vector<Segment::TotalsHold> holds;  // per range: its Segment::SeriesTotals block read last
};

// Where one series is in a shard snapshot: its entry in each segment (nullptr where absent,
// parallel to the snapshot's segments) and the time range of every source holding it.
struct SeriesSources {
  std::vector<const SegmentSeries*> entries;
  // The time range of every source holding the series: the segments' (in `entries` order,
  // one per entry found), then the memtables'.
  std::vector<std::pair<int64_t, int64_t>> ranges;
  // The series' time range in each segment a summarised scan took whole (its rows already
  // counted): no source is read there.
  std::vector<std::pair<int64_t, int64_t>> taken;
  // What the scan reuses per segment between series (parallel to `entries`), or nullptr.
  std::vector<Segment::ReadState>* states = nullptr;
  // Per segment: where the scan's FieldRanges are there, found by the first series that needs
  // it (Engine::ReadSeries), or nullptr.
  std::vector<std::optional<SegmentRanges>>* range_columns = nullptr;
  // About how many series of each shard the scan visits: whether a segment's
  // Segment::SeriesTotals are worth gathering (UseSeriesTotals).
  size_t matched_per_shard = 0;
  // One source's rows before they merge with the others' (Engine::ReadSeries), kept from one
  // series to the next for its buffers.
  mutable SeriesRowsBlock part;
};

// The database SQL reads as its system tables (system.tables, system.series): nothing is stored
// there, and the write front ends refuse it, since rows written there could never be read.
inline constexpr std::string_view kSystemDatabase = "system";

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
  // Same, completing `done` on a shard thread (or, when refused at once, on the calling thread
  // after every engine lock is released) instead of blocking.
  void WriteAsync(const WriteBatch& batch, std::function<void(Status)> done);
  // What Write would refuse for the batch's content, without writing: a time outside the
  // storable range, a conflict with the table's stored schema (Catalog::Check). Front ends check
  // each batch of a request first, so that one bad line does not cost its neighbours. (A
  // concurrent write can still make a checked batch conflict.)
  Status CheckWrite(const WriteBatch& batch) const;

  // Explicit DDL. CreateTable declares a table with its tags and typed fields before any data
  // arrives (AlreadyExists when it exists, unless `if_not_exists`); AlterTableAdd adds tags and
  // fields to an existing table (NotFound when it does not exist). Type conflicts are
  // InvalidArgument naming table, field and both types. Declarations persist in
  // DIR/CATALOG.
  Status CreateTable(TenantId tenant, const std::string& database, const std::string& table,
                     const std::vector<std::string>& tag_keys,
                     const std::vector<FieldSchema>& fields, bool if_not_exists = false);
  Status AlterTableAdd(TenantId tenant, const std::string& database, const std::string& table,
                       const std::vector<std::string>& tag_keys,
                       const std::vector<FieldSchema>& fields);

  // Drops the table (NotFound naming table and database when it does not exist): scans and
  // Latest answer NotFound, its series leave the index and the last-value cache, its own
  // retention policy is removed, and the name can be created again with other types (by DDL or
  // by writing). The drop is committed when DIR/CATALOG, which records the name's next
  // generation, is durable; WAL records and segments of the dropped generation are skipped and
  // deleted from then on, also by recovery. Returns once every shard has logged the drop,
  // removed the table's rows from memory and deleted its segment files. Writes racing with the
  // drop are either dropped with the table or written to the new one.
  Status DropTable(TenantId tenant, const std::string& database, const std::string& table);

  // Drops every table of `tenant` (DropTable each) and its tenant-wide retention: the tenant
  // was deleted. From the call on, until the engine is closed, writes and CREATE TABLE for the
  // tenant are refused (PermissionDenied), so that one racing with the drop cannot bring a
  // table back; callers repeat the call for each deleted tenant after every Open.
  Status DropTenant(TenantId tenant);

  // Deletes the rows of the table's matching series (tag_equals) with min_time <= time <=
  // max_time, durably (a WAL record), and returns once scans no longer see them. Rows written
  // afterwards in the same range are kept. `fields` is ignored: whole rows are deleted.
  Status Delete(const ScanRequest& request);

  // Calls `fn` for every series of the table matching the request, with its rows in range.
  Status Scan(const ScanRequest& request,
              const std::function<Status(const SeriesBlock&)>& fn) const;

  // Scan, except that rows whose segment chunk lies wholly inside the time range, overlaps no
  // other source of the series and no delete are handed to `summary_fn` as chunk statistics
  // instead of being decoded; every other row goes to `rows_fn` as Scan would give it. Each row
  // reaches exactly one of the two. For aggregates that statistics answer (count, min, max,
  // sum, avg).
  Status ScanSummarized(const ScanRequest& request,
                        const std::function<Status(const SeriesBlock&)>& rows_fn,
                        const std::function<Status(const SeriesSummary&)>& summary_fn) const;

  // The latest row of every matching series (time range and projection as in Scan). Answered
  // from the last-value cache when it can be, without reading segments.
  Status Latest(const ScanRequest& request,
                const std::function<Status(const SeriesBlock&)>& fn) const;

  // Bounds on the times of the rows of the series matching the request's table and tags
  // (tag_equals, tag_in, series_filter; not its time range): the oldest and newest times their
  // sources hold, read from the sources' time ranges without reading rows (deleted or expired
  // rows may still count). nullopt when no series matches or the table does not exist.
  std::optional<std::pair<int64_t, int64_t>> TimeBounds(const ScanRequest& request) const;

  // What every shard holds now, for scans that must see the same sources
  // (ScanRequest::snapshot).
  std::shared_ptr<const EngineSnapshot> Snapshot() const;

  // Flushes every shard's memtables to segments and waits. For tests, benchmarks and tools.
  Status Flush();

  // Sets how long `table` of `database` (or the whole database, when `table` is empty) keeps
  // rows; nullopt removes the policy. Expired rows disappear from scans at once; their
  // partitions are dropped at the next maintenance (every 30 s, or Maintain()). Rows that the
  // new policy expires and the old one kept are deleted (as by Delete), so that a longer policy
  // set later does not bring back rows that had gone.
  Status SetRetention(TenantId tenant, const std::string& database, const std::string& table,
                      std::optional<Duration> keep);
  // The tenant's default: how long tables keep rows when neither they nor their database have a
  // policy of their own (a tenant setting, src/platform).
  Status SetTenantRetention(TenantId tenant, std::optional<Duration> keep);
  std::optional<Duration> Retention(TenantId tenant, std::string_view database,
                                    std::string_view table) const {
    return retention_.Get(tenant, database, table);
  }

  // Bytes of the tenant's segment files (compressed, on disk; rows still in memtables and the
  // WAL are not counted). Sums every shard's segment list: for quotas, not for hot paths.
  uint64_t StoredBytes(TenantId tenant) const;

  // Runs retention and compaction on every shard now and waits.
  Status Maintain();

  const Catalog& catalog() const { return catalog_; }
  // Whether the table was declared by CREATE TABLE (its columns keep the declared order; those
  // of a table made by its writes are rebuilt in another order at recovery).
  bool IsDeclared(TenantId tenant, std::string_view database, std::string_view table) const;
  const SeriesIndex& series() const { return series_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  // Tombstones all shards still hold (deletes not yet applied to every older source).
  size_t tombstone_count() const;
  // OK when every shard accepts writes; else the first shard's reason.
  Status health() const;
  EngineCacheStats cache_stats() const;

  void Close();

 private:
  // Sets a policy (database and table as in SetRetention, both empty: the tenant's default)
  // and deletes the rows of every table it governs that it expires and the previous one kept.
  Status ChangeRetention(TenantId tenant, const std::string& database, const std::string& table,
                         std::optional<Duration> keep);
  // The batch's times lie in the storable range (InvalidArgument naming the row otherwise).
  Status CheckTimes(const WriteBatch& batch) const;
  Engine(Env* env, std::string dir, const Clock* clock, size_t max_series_per_tenant)
      : env_(env),
        dir_(dir),
        max_series_per_tenant_(max_series_per_tenant),
        clock_(clock),
        retention_(env, std::move(dir), clock) {}
  Status RestoreRecord(const WriteRecord& record);
  Status LoadCatalog();
  // Records `schema` as declared and rewrites DIR/CATALOG. REQUIRES: ddl_mu_ held exclusively.
  Status SaveDeclared(TenantId tenant, const std::string& database, const TableSchema& schema);
  // Writes DIR/CATALOG: declared tables, generations of dropped names, the series id floor.
  Status WriteCatalog(const std::map<TableKey, TableSchema>& declared,
                      const std::map<TableKey, uint64_t>& generations, uint64_t series_floor);
  Status RestoreSegment(const Segment& segment);
  // The batch's rows grouped by series (created in `generation` of the table when new), and the
  // series by shard. REQUIRES: ddl_mu_ held (shared).
  Result<std::vector<std::vector<SeriesRows>>> GroupRows(const WriteBatch& batch,
                                                         uint64_t generation);
  // Series resolved by recent writes, by (tenant, database, table, generation, the batch's tag
  // keys, the row's tag values): GroupRows skips the series index for them. Bounded (cleared
  // when full); DropTable clears it.
  static std::string SeriesCacheKeyPrefix(const WriteBatch& batch, uint64_t generation);
  std::optional<SeriesId> CachedSeries(const std::string& key) const;
  void CacheSeries(const std::string& key, SeriesId id);
  void ForgetCachedSeries();
  static constexpr size_t kSeriesCacheEntries = 64 * 1024;
  // request.snapshot, or the shards' snapshot now.
  std::shared_ptr<const EngineSnapshot> SnapshotFor(const ScanRequest& request) const;
  // Reads one series from every source of a snapshot (`where` it is in them), newer sources
  // replacing older fields. `ranges`, when given and not empty, lets it skip segment chunks
  // (FieldRange).
  Status ReadSeries(const ShardSnapshot& snap, const SeriesSources& where, SeriesId id,
                    int64_t min_time, int64_t max_time, const std::vector<FieldSchema>& fields,
                    SeriesRowsBlock* out, const std::vector<FieldRange>* ranges = nullptr) const;
  // The table's schema and the fields the request projects.
  Result<std::pair<std::shared_ptr<const TableSchema>, std::vector<FieldSchema>>> Projection(
      const ScanRequest& request) const;

  Env* const env_;
  const std::string dir_;
  const size_t max_series_per_tenant_;
  // Row times a write may carry: those of partitions inside the int64 range (set by Open).
  int64_t min_storable_time_ = std::numeric_limits<int64_t>::min();
  int64_t max_storable_time_ = std::numeric_limits<int64_t>::max();
  Catalog catalog_;
  SeriesIndex series_;
  mutable std::mutex series_cache_mu_;
  std::unordered_map<std::string, SeriesId> series_cache_;
  const Clock* const clock_;
  RetentionPolicies retention_;
  std::mutex retention_change_mu_;  // ChangeRetention's
  // Serialises DDL and the CATALOG file (exclusive), and keeps a table's generation stable
  // while a write or delete resolves and submits its records (shared). ddl_gate_ lets a waiting
  // DDL statement in before new writers.
  mutable std::shared_mutex ddl_mu_;
  std::mutex ddl_gate_;
  std::unordered_set<uint64_t> dropped_tenants_;  // DropTenant's; guarded by ddl_mu_
  std::map<TableKey, TableSchema> declared_;
  // Declared before the shards: their segments use it until they are destroyed.
  std::unique_ptr<BlockCache> segment_index_cache_;
  std::vector<std::unique_ptr<Shard>> shards_;
  Counter* rows_written_ = nullptr;
};

}  // namespace seaway
