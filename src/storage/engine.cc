// Engine (src/storage).
#include "storage/engine.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <functional>
#include <future>
#include <limits>
#include <unordered_map>

#include "common/check.h"
#include "common/coding.h"
#include "common/logging.h"
#include "storage/checksummed_file.h"
#include "storage/wal_record.h"

namespace seaway {
namespace {

constexpr std::string_view kShardCountFile = "SHARDS";

// Reads the shard count fixed at creation, or stores `wanted` for a new directory.
Result<int> FixShardCount(Env* env, const std::string& dir, int wanted) {
  const std::string path = JoinPath(dir, std::string(kShardCountFile));
  if (!env->FileExists(path)) {
    if (wanted < 1 || wanted > 256) return InvalidArgument("shard count {} not in 1..256", wanted);
    SW_RETURN_IF_ERROR(WriteFileAtomically(env, path, fmt::format("{}\n", wanted)));
    return wanted;
  }
  SW_ASSIGN_OR_RETURN(std::string text, ReadFileToString(env, path));
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 1 || n > 256 || (end != text.data() + text.size() && *end != '\n')) {
    return Corruption("'{}' does not hold a shard count from 1 to 256", path);
  }
  return n;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Open(Env* env, std::string dir, EngineOptions options,
                                             MetricsRegistry* metrics) {
  SW_RETURN_IF_ERROR(CreateDirs(env, dir));
  SW_ASSIGN_OR_RETURN(int shard_count, FixShardCount(env, dir, options.shards));
  std::unique_ptr<Engine> engine(
      new Engine(env, dir, options.clock, options.max_series_per_tenant));
  // The first and last whole partitions of the int64 range (see WriteAsync).
  const __int128 span = std::max<int64_t>(options.shard.partition.nanos(), 1);
  const __int128 first = -(-static_cast<__int128>(std::numeric_limits<int64_t>::min()) / span);
  const __int128 last = static_cast<__int128>(std::numeric_limits<int64_t>::max()) / span - 1;
  engine->min_storable_time_ = static_cast<int64_t>(first * span);
  engine->max_storable_time_ = static_cast<int64_t>((last + 1) * span - 1);
  SW_RETURN_IF_ERROR(engine->retention_.Load());
  SW_RETURN_IF_ERROR(engine->LoadCatalog());
  options.shard.retention_cutoff = [e = engine.get()](TenantId t, std::string_view d,
                                                      std::string_view table) {
    return e->retention_.Cutoff(t, d, table);
  };
  engine->segment_index_cache_ = std::make_unique<BlockCache>(options.segment_index_cache_bytes);
  options.shard.segment_index_cache = engine->segment_index_cache_.get();
  engine->rows_written_ =
      metrics->GetCounter("seaway_storage_rows_written_total", "Rows made durable by the engine");
  for (int i = 0; i < shard_count; ++i) {
    engine->shards_.push_back(
        std::make_unique<Shard>(ShardId(i), env, JoinPath(dir, fmt::format("shard-{:03}", i)),
                                options.shard, &engine->series_, &engine->catalog_, metrics));
  }
  RecoveryHooks hooks{
      [e = engine.get()](const Segment& segment) { return e->RestoreSegment(segment); },
      [e = engine.get()](const WriteRecord& record) { return e->RestoreRecord(record); }};
  for (auto& shard : engine->shards_) SW_RETURN_IF_ERROR(shard->Open(hooks));
  metrics->AddCallbackGauge("seaway_storage_series", "Series known to the engine",
                            [e = engine.get()] { return static_cast<double>(e->series_.size()); });
  metrics->AddCallbackGauge(
      "seaway_storage_last_value_cache_bytes", "Heap bytes of the last-value caches",
      [e = engine.get()] { return static_cast<double>(e->cache_stats().last_value_bytes); });
  metrics->AddCallbackGauge(
      "seaway_storage_segment_index_cache_bytes", "Bytes held by the segment index block cache",
      [c = engine->segment_index_cache_.get()] { return static_cast<double>(c->charged_bytes()); });
  metrics->AddCallbackCounter(
      "seaway_storage_segment_index_cache_misses_total",
      "Segment index blocks read from files (not found in the cache)",
      [c = engine->segment_index_cache_.get()] { return static_cast<double>(c->misses()); });
  log::Info("storage opened",
            {{"dir", dir}, {"shards", shard_count}, {"series", engine->series_.size()}});
  return engine;
}

Engine::~Engine() { Close(); }

EngineCacheStats Engine::cache_stats() const {
  EngineCacheStats stats;
  for (const auto& shard : shards_) {
    stats.last_value_bytes += shard->last_values()->memory_bytes();
    stats.last_value_entries += shard->last_values()->size();
  }
  stats.segment_index_bytes = segment_index_cache_->charged_bytes();
  stats.segment_index_capacity = segment_index_cache_->capacity_bytes();
  stats.segment_index_hits = segment_index_cache_->hits();
  stats.segment_index_misses = segment_index_cache_->misses();
  return stats;
}

void Engine::Close() {
  for (auto& shard : shards_) shard->Close();
}

Status Engine::RestoreSegment(const Segment& segment) {
  auto schema = catalog_.Extend(segment.tenant(), segment.database(), segment.table(),
                                segment.tag_keys(), segment.fields());
  if (!schema.ok()) {
    return Corruption("segment '{}' conflicts with the catalog: {}", segment.path(),
                      schema.status());
  }
  for (const auto& s : segment.series()) {
    TagSet tags;
    const auto values = s.tag_values();
    for (size_t k = 0; k < segment.tag_keys().size() && k < values.size(); ++k) {
      tags.emplace_back(segment.tag_keys()[k], std::string(values[k]));
    }
    SW_RETURN_IF_ERROR(series_
                           .Restore(s.id, segment.tenant(), segment.database(), segment.table(),
                                    segment.generation(), std::move(tags))
                           .WithContext(segment.path()));
  }
  return Status::OK();
}

Status Engine::RestoreRecord(const WriteRecord& record) {
  std::vector<std::string> tag_keys(record.tag_keys.begin(), record.tag_keys.end());
  std::vector<FieldSchema> fields;
  for (size_t i = 0; i < record.field_names.size(); ++i) {
    fields.push_back(FieldSchema{std::string(record.field_names[i]), record.field_types[i]});
  }
  auto schema = catalog_.Extend(record.tenant, record.database, record.table, tag_keys, fields);
  if (!schema.ok()) return Corruption("WAL record conflicts with the catalog: {}", schema.status());
  for (const auto& s : record.series) {
    TagSet tags;
    for (size_t k = 0; k < record.tag_keys.size(); ++k) {
      tags.emplace_back(std::string(record.tag_keys[k]), std::string(s.tag_values[k]));
    }
    SW_RETURN_IF_ERROR(series_.Restore(s.id, record.tenant, record.database, record.table,
                                       record.generation, std::move(tags)));
  }
  return Status::OK();
}

Result<std::vector<std::vector<SeriesRows>>> Engine::GroupRows(const WriteBatch& batch,
                                                               uint64_t generation) {
  const size_t n_shards = shards_.size();
  std::vector<std::vector<SeriesRows>> per_shard(n_shards);
  // A batch usually repeats each series several times: find each row's distinct tag combination
  // (its tag values in the batch's column order, which within one batch map one to one onto
  // series) in an open-addressing table of first rows, without building a key per row; resolve
  // each combination to a series once.
  const std::vector<TagValues>& values = batch.tag_values();
  auto hash_row = [&](uint32_t row) {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (const TagValues& column : values) {
      const std::string_view v = column[row];
      h = XXH3_64bits_withSeed(v.data(), v.size(), h);
    }
    return h;
  };
  auto same_tags = [&](uint32_t a, uint32_t b) {
    for (const TagValues& column : values) {
      if (column[a] != column[b]) return false;
    }
    return true;
  };
  struct Slot {
    uint64_t hash;
    uint32_t first_row;  // UINT32_MAX: empty
    uint32_t shard;
    uint32_t group;
  };
  size_t capacity = 16;
  while (capacity < batch.rows() * 2) capacity *= 2;  // load <= 1/2: at most one slot per row
  std::vector<Slot> slots(capacity, Slot{0, UINT32_MAX, 0, 0});
  const size_t mask = capacity - 1;

  std::string prefix;  // the batch's part of the resolved-series cache key
  std::string key;
  TagSet tags;
  for (uint32_t row = 0; row < batch.rows(); ++row) {
    const uint64_t h = hash_row(row);
    size_t i = h & mask;
    while (slots[i].first_row != UINT32_MAX &&
           (slots[i].hash != h || !same_tags(slots[i].first_row, row))) {
      i = (i + 1) & mask;
    }
    Slot& slot = slots[i];
    if (slot.first_row == UINT32_MAX) {
      if (prefix.empty()) prefix = SeriesCacheKeyPrefix(batch, generation);
      key = prefix;
      for (const TagValues& column : values) PutLengthPrefixed(&key, column[row]);
      std::optional<SeriesId> id = CachedSeries(key);
      if (!id) {
        tags.clear();
        for (size_t k = 0; k < batch.tag_keys().size(); ++k) {
          const std::string_view v = values[k][row];
          if (!v.empty()) tags.emplace_back(batch.tag_keys()[k], v);
        }
        SW_ASSIGN_OR_RETURN(
            id, series_.GetOrCreateWithin(max_series_per_tenant_, batch.tenant(), batch.database(),
                                          batch.table(), generation, tags));
        CacheSeries(key, *id);
      }
      const size_t shard = id->value() % n_shards;
      per_shard[shard].push_back(SeriesRows{*id, {}});
      slot = Slot{h, row, static_cast<uint32_t>(shard),
                  static_cast<uint32_t>(per_shard[shard].size() - 1)};
    }
    per_shard[slot.shard][slot.group].rows.push_back(row);
  }
  return per_shard;
}

std::string Engine::SeriesCacheKeyPrefix(const WriteBatch& batch, uint64_t generation) {
  std::string prefix;
  PutVarint64(&prefix, batch.tenant().value());
  PutLengthPrefixed(&prefix, batch.database());
  PutLengthPrefixed(&prefix, batch.table());
  PutVarint64(&prefix, generation);
  PutVarint64(&prefix, batch.tag_keys().size());
  for (const auto& k : batch.tag_keys()) PutLengthPrefixed(&prefix, k);
  return prefix;
}

std::optional<SeriesId> Engine::CachedSeries(const std::string& key) const {
  std::lock_guard lock(series_cache_mu_);
  auto it = series_cache_.find(key);
  if (it == series_cache_.end()) return std::nullopt;
  return it->second;
}

void Engine::CacheSeries(const std::string& key, SeriesId id) {
  std::lock_guard lock(series_cache_mu_);
  if (series_cache_.size() >= kSeriesCacheEntries) series_cache_.clear();  // bounded memory
  series_cache_.emplace(key, id);
}

void Engine::ForgetCachedSeries() {
  std::lock_guard lock(series_cache_mu_);
  series_cache_.clear();
}

Status Engine::CheckTimes(const WriteBatch& batch) const {
  // Partitions are [p * span, (p + 1) * span): the ones that would reach past the int64 range
  // cannot be stored.
  const std::vector<int64_t>& times = batch.times();
  // Rows older than the table's retention would be acknowledged and never seen (and reappear
  // if the policy were raised before maintenance dropped them): refused, as InfluxDB does.
  const int64_t cutoff = retention_.Cutoff(batch.tenant(), batch.database(), batch.table());
  const int64_t oldest = std::max(min_storable_time_, cutoff);
  for (size_t row = 0; row < times.size(); ++row) {
    if (times[row] >= oldest && times[row] <= max_storable_time_) continue;
    if (times[row] >= min_storable_time_ && times[row] < cutoff) {
      return InvalidArgument(
          "row {}: time {} is older than table '{}' keeps (its retention policy drops rows "
          "before {})",
          row + 1, FormatRfc3339Millis(Timestamp::FromNanos(times[row])), batch.table(),
          FormatRfc3339Millis(Timestamp::FromNanos(cutoff)));
    }
    return InvalidArgument(
        "row {}: time {} ns is outside the storable range [{}, {}] (about 1677-09-22 to "
        "2262-04-10 UTC with daily partitions)",
        row + 1, times[row], min_storable_time_, max_storable_time_);
  }
  return Status::OK();
}

Status Engine::CheckWrite(const WriteBatch& batch) const {
  SW_RETURN_IF_ERROR(CheckTimes(batch));
  std::vector<FieldSchema> fields;
  for (const auto& f : batch.fields()) fields.push_back(FieldSchema{f.name, f.type});
  return catalog_.Check(batch.tenant(), batch.database(), batch.table(), batch.tag_keys(), fields);
}

void Engine::WriteAsync(const WriteBatch& batch, std::function<void(Status)> done) {
  if (batch.rows() == 0) return done(Status::OK());
  if (Status s = batch.Validate(); !s.ok()) return done(s);
  if (Status s = CheckTimes(batch); !s.ok()) return done(s);
  std::vector<FieldSchema> fields;
  for (const auto& f : batch.fields()) fields.push_back(FieldSchema{f.name, f.type});

  struct Join {
    std::mutex mu;
    size_t remaining;
    size_t parts = 0;  // shards the batch spans
    size_t failed = 0;
    Status first_error;
    size_t rows;
    std::function<void(Status)> done;
    Counter* rows_written;
  };
  auto join = std::make_shared<Join>();
  join->rows = batch.rows();
  join->done = std::move(done);
  join->rows_written = rows_written_;
  // One count per shard part, plus one that this function holds until it released its locks:
  // `done` never runs under them, even when every shard refuses at once.
  join->remaining = 1;
  auto finish_part = [join](Status status) {
    std::unique_lock lock(join->mu);
    if (!status.ok()) {
      if (join->failed++ == 0) join->first_error = status;
    }
    if (--join->remaining > 0) return;
    Status result = join->first_error;
    if (join->failed > 0 && join->failed < join->parts) {
      result = Status(result.code(),
                      fmt::format("{} (the batch spans {} shards; {} of them stored their rows)",
                                  result.message(), join->parts, join->parts - join->failed));
    }
    if (result.ok()) join->rows_written->Increment(join->rows);
    auto user_done = std::move(join->done);
    lock.unlock();
    user_done(result);
  };
  {
    // Resolving the table's generation and submitting the records happen under one shared
    // hold of the DDL lock, so that a drop never falls between them.
    { std::lock_guard gate(ddl_gate_); }
    std::shared_lock ddl(ddl_mu_);
    if (dropped_tenants_.contains(batch.tenant().value())) {
      ddl.unlock();
      return join->done(PermissionDenied("tenant {} was deleted", batch.tenant()));
    }
    auto schema =
        catalog_.Extend(batch.tenant(), batch.database(), batch.table(), batch.tag_keys(), fields);
    if (!schema.ok()) {
      ddl.unlock();
      return join->done(schema.status());
    }
    const uint64_t generation = (*schema)->generation;

    Result<std::vector<std::vector<SeriesRows>>> grouped = GroupRows(batch, generation);
    if (!grouped.ok()) {
      ddl.unlock();
      return join->done(grouped.status());
    }
    const std::vector<std::vector<SeriesRows>>& per_shard = *grouped;
    const size_t n_shards = shards_.size();
    {
      std::lock_guard lock(join->mu);
      for (const auto& groups : per_shard) join->parts += groups.empty() ? 0 : 1;
      join->remaining += join->parts;
    }
    for (size_t s = 0; s < n_shards; ++s) {
      if (per_shard[s].empty()) continue;
      std::string payload;
      EncodeWriteRecord(batch, generation, per_shard[s], &payload);
      shards_[s]->Submit(std::move(payload), finish_part);
    }
  }
  finish_part(Status::OK());
}

Status Engine::Write(const WriteBatch& batch) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  WriteAsync(batch, [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

Result<std::pair<std::shared_ptr<const TableSchema>, std::vector<FieldSchema>>> Engine::Projection(
    const ScanRequest& request) const {
  auto schema = catalog_.Find(request.tenant, request.database, request.table);
  if (!schema) {
    return NotFound("table '{}' does not exist in database '{}'", request.table, request.database);
  }
  if (request.fields.empty()) return std::pair(schema, schema->fields);
  std::vector<FieldSchema> out;
  for (const auto& name : request.fields) {
    int i = schema->FindField(name);
    if (i < 0) return NotFound("table '{}' has no field '{}'", request.table, name);
    out.push_back(schema->fields[i]);
  }
  return std::pair(schema, std::move(out));
}

namespace {

// The series of the request's table that match it and belong to `schema`'s generation (a
// series of a later one may appear when the table is dropped and re-created meanwhile).
SeriesMatch MatchSeries(const SeriesIndex& index, const ScanRequest& request,
                        const TableSchema& schema) {
  SeriesMatch found = index.Match(request.tenant, request.database, request.table,
                                  request.tag_equals, request.tag_in);
  found.EraseIf([&](const SeriesInfo& info) {
    if (info.generation() != schema.generation) return true;
    if (request.partitions > 1 &&
        static_cast<int>(info.id.value() % static_cast<uint64_t>(request.partitions)) !=
            request.partition) {
      return true;
    }
    return request.series_filter && !request.series_filter(info);
  });
  return found;
}

}  // namespace

namespace {

// Merges the rows of a newer source into `out`; the first source's rows are moved, not copied.
void TakeRows(SeriesRowsBlock* newer, SeriesRowsBlock* out) {
  if (out->times.empty()) {
    std::swap(newer->times, out->times);
    std::swap(newer->columns, out->columns);
    return;
  }
  MergeRowsInto(*newer, out);
}

// Looks series up in one shard's snapshot. Scans ask for series in (mostly) ascending id
// order, so each segment keeps a cursor where the last lookup ended (Segment::Find).
class SeriesLocator {
 public:
  explicit SeriesLocator(const ShardSnapshot& snap)
      : snap_(&snap),
        cursors_(snap.segments.size(), 0),
        states_(snap.segments.size()),
        range_columns_(snap.segments.size()) {
    for (auto& state : states_) state.buffers = &buffers_;
  }
  // Not copied or moved once built: `SeriesSources::states` points into it.
  SeriesLocator(const SeriesLocator&) = delete;
  SeriesLocator& operator=(const SeriesLocator&) = delete;

  const ShardSnapshot& snapshot() const { return *snap_; }

  // Segments flagged here (parallel to the snapshot's) were taken whole by the scan: Locate
  // leaves their entries out and lists the series' time ranges in them as `taken` instead.
  void TakeWhole(std::vector<char> whole) { whole_ = std::move(whole); }

  void Locate(SeriesId id, SeriesSources* out) {
    const size_t n = snap_->segments.size();
    out->entries.resize(n);
    out->ranges.clear();
    out->taken.clear();
    out->states = &states_;
    out->range_columns = &range_columns_;
    for (size_t s = 0; s < n; ++s) {
      const SegmentSeries* e = snap_->segments[s]->Find(id, &cursors_[s]);
      if (e != nullptr && !whole_.empty() && whole_[s]) {
        out->taken.emplace_back(e->min_time, e->max_time);
        e = nullptr;
      }
      out->entries[s] = e;
      if (e != nullptr) out->ranges.emplace_back(e->min_time, e->max_time);
    }
    for (const auto& mem : snap_->memtables) {
      if (auto r = mem->TimeRange(id)) out->ranges.push_back(*r);
    }
  }

 private:
  const ShardSnapshot* snap_;
  std::vector<size_t> cursors_;             // per segment
  std::vector<Segment::ReadState> states_;  // per segment
  std::vector<char> whole_;                 // per segment, or empty (TakeWhole)
  // Per segment: the scan's RangeColumns, once found (one scan, one set of ranges).
  std::vector<std::optional<SegmentRanges>> range_columns_;
  Segment::ReadBuffers buffers_;  // shared by the states: one read runs at a time
};

// A locator per shard snapshot.
std::vector<std::unique_ptr<SeriesLocator>> Locators(const std::vector<ShardSnapshot>& snaps) {
  std::vector<std::unique_ptr<SeriesLocator>> out;
  out.reserve(snaps.size());
  for (const auto& snap : snaps) out.push_back(std::make_unique<SeriesLocator>(snap));
  return out;
}

// Scans of fewer series than this read their chunk entries rather than gather
// Segment::SeriesTotals (kSeriesTotalsPerBlock series' entries at a time) they may never use
// again.
constexpr size_t kMinSeriesForTotals = 256;

// Whether a scan reads `segment`'s Segment::SeriesTotals rather than its series' chunk
// entries: it visits enough series, and at least an eighth of the segment's, that gathering
// blocks of kSeriesTotalsPerBlock series (once, then kept in the index cache) costs less than
// it saves. A few hundred series scattered over a million would each gather a block.
bool UseSeriesTotals(const SeriesSources& where, const Segment& segment) {
  return where.matched_per_shard >= kMinSeriesForTotals &&
         where.matched_per_shard * 8 >= segment.series().size();
}

// About how many series of each shard a scan visits that matched `matched` of its partition.
size_t MatchedPerShard(size_t matched, const ScanRequest& request, size_t shards) {
  return matched * static_cast<size_t>(std::max(1, request.partitions)) /
         std::max<size_t>(1, shards);
}

// Index blocks kept between series (Segment::IndexHold) stay outside the index cache's budget:
// with more segments than this in a snapshot, none is kept.
constexpr size_t kMaxHeldIndexBlocks = 64;

// Whether series whose tag (WholeSegmentTag's) has `value` ("": they lack it) meet the
// request's tag conditions.
bool TagConditionsHold(const ScanRequest& request, std::string_view value) {
  for (const auto& [k, v] : request.tag_equals) {
    if (v != value) return false;
  }
  for (const auto& [k, values] : request.tag_in) {
    if (!std::binary_search(values.begin(), values.end(), value)) return false;
  }
  return true;
}

// Per range: the column of `segment` holding its (DOUBLE) field, or -1.
SegmentRanges RangeColumns(const Segment& segment, const std::vector<FieldRange>& ranges) {
  const auto& fields = segment.fields();
  SegmentRanges out;
  out.columns.assign(ranges.size(), -1);
  out.holds.resize(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (size_t k = 0; k < fields.size(); ++k) {
      if (fields[k].name == ranges[i].field && fields[k].type == FieldType::kDouble) {
        out.columns[i] = static_cast<int>(k);
      }
    }
  }
  return out;
}

// Whether no value with statistics (count, min, max) can meet `r`: none at all, or [min, max]
// outside it. Only NaNs (min or max NaN): undecided, the rows decide.
// `nan`: the rows may hold a NaN, which chunk statistics leave out of min and max (and show by
// a NaN sum). A NaN is above every number (FieldRange), so it meets a range with no upper bound.
bool StatsMissRange(uint64_t count, uint64_t min_bits, uint64_t max_bits, bool nan,
                    const FieldRange& r) {
  if (count == 0) return true;
  if (nan && r.max == std::numeric_limits<double>::infinity() && r.max_inclusive) return false;
  const double lo = std::bit_cast<double>(min_bits), hi = std::bit_cast<double>(max_bits);
  if (std::isnan(lo) || std::isnan(hi)) return false;
  if (hi < r.min || (hi == r.min && !r.min_inclusive)) return true;
  return lo > r.max || (lo == r.max && !r.max_inclusive);
}

// Whether no row of `chunk` can meet every range (`columns`: RangeColumns of its segment): a
// field absent from the chunk fails its range, and so does a chunk whose [min, max] misses it.
bool ChunkMissesRanges(const Chunk& chunk, const std::vector<FieldRange>& ranges,
                       const std::vector<int>& columns) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    const int col = columns[i];
    if (col < 0) return true;
    if (chunk.columns[col].presence == kColumnNotRead) continue;  // not projected: the rows decide
    const ChunkStats& st = chunk.columns[col].stats;
    if (StatsMissRange(st.count, st.min_bits, st.max_bits, std::isnan(st.sum), ranges[i])) {
      return true;
    }
  }
  return false;
}

// Same, for every chunk of `entry` in `segment` at once, from the segment's series totals.
Result<bool> SeriesMissesRanges(const Segment& segment, const SegmentSeries& entry,
                                const std::vector<FieldRange>& ranges, SegmentRanges* where) {
  const size_t position = segment.PositionOf(entry);
  for (size_t i = 0; i < ranges.size(); ++i) {
    const int col = where->columns[i];
    if (col < 0) return true;
    SW_ASSIGN_OR_RETURN(SegmentFieldTotals t,
                        segment.SeriesTotals(static_cast<size_t>(col), position, &where->holds[i]));
    if (StatsMissRange(t.count, t.min_bits, t.max_bits, t.nan, ranges[i])) return true;
  }
  return false;
}

// Whether `segment` holds rows of the request's table, as it is now (the schema's generation).
bool OfTable(const Segment& segment, const ScanRequest& request, const TableSchema& schema) {
  return segment.tenant() == request.tenant && segment.generation() == schema.generation &&
         segment.table() == request.table && segment.database() == request.database;
}

// Per segment of `snap`: whether it holds rows of the request's table, all of them inside
// [min_time, max_time] (and in one bucket, with same_bucket), and nothing else of the snapshot
// may hold a row of its series in its time range: no other segment of the table (of any
// generation, to be safe), no memtable row (as of the snapshot), no delete newer than its rows.
// Such a segment's totals are its rows' statistics for any query with no tag in it.
std::vector<char> WholeSegments(const ShardSnapshot& snap, const ScanRequest& request,
                                const TableSchema& schema, int64_t min_time, int64_t max_time) {
  const auto& segments = snap.segments;
  std::vector<char> whole(segments.size(), 0);
  // The table's segments (any generation) by oldest time: one meets another exactly when a
  // segment before it in that order reaches its oldest time, or the next one starts by its
  // newest.
  std::vector<size_t> order;
  for (size_t s = 0; s < segments.size(); ++s) {
    const Segment& seg = *segments[s];
    if (seg.rows() > 0 && seg.tenant() == request.tenant && seg.table() == request.table &&
        seg.database() == request.database) {
      order.push_back(s);
    }
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return segments[a]->min_time() < segments[b]->min_time(); });
  int64_t reached = std::numeric_limits<int64_t>::min();  // newest time of the ones before
  for (size_t k = 0; k < order.size(); ++k) {
    const Segment& seg = *segments[order[k]];
    const int64_t lo = seg.min_time(), hi = seg.max_time();
    const bool met_before = k > 0 && reached >= lo;
    const bool met_after = k + 1 < order.size() && segments[order[k + 1]]->min_time() <= hi;
    reached = std::max(reached, hi);
    if (met_before || met_after || !OfTable(seg, request, schema)) continue;
    if (lo < min_time || hi > max_time) continue;
    if (request.same_bucket && !request.same_bucket(lo, hi)) continue;
    const auto& mem = snap.memtable_bounds;
    if (mem && mem->first <= hi && lo <= mem->second) continue;
    bool deleted = false;
    for (const Tombstone& t : snap.tombstones) {
      deleted |= t.lsn > seg.max_lsn() && t.min_time <= hi && lo <= t.max_time;
    }
    whole[order[k]] = !deleted;
  }
  return whole;
}

}  // namespace

Status Engine::ReadSeries(const ShardSnapshot& snap, const SeriesSources& where, SeriesId id,
                          int64_t min_time, int64_t max_time,
                          const std::vector<FieldSchema>& fields, SeriesRowsBlock* out,
                          const std::vector<FieldRange>* ranges) const {
  ResetRows(id, fields, out);
  SeriesRowsBlock& part = where.part;
  // Chunks that cannot hold a wanted row are skipped, unless another source overlaps them (its
  // rows would merge with theirs).
  const bool skip_by_ranges = ranges != nullptr && !ranges->empty();
  for (size_t s = 0; s < snap.segments.size(); ++s) {
    const SegmentSeries* entry = where.entries[s];
    if (entry == nullptr || entry->max_time < min_time || entry->min_time > max_time) continue;
    const Segment* segment = snap.segments[s].get();
    // A chunk (or the series' every chunk here) whose rows meet no other source's can be
    // passed over by its statistics; else their rows would merge.
    auto alone = [&where](int64_t lo, int64_t hi) {
      int overlaps = 0;
      for (const auto& [a, b] : where.ranges) overlaps += a <= hi && lo <= b;
      return overlaps <= 1;
    };
    std::function<bool(const Chunk&)> skip;
    std::optional<SegmentRanges> own_ranges;
    if (skip_by_ranges) {
      // Found once per segment and scan where the locator keeps them.
      std::optional<SegmentRanges>& kept =
          where.range_columns != nullptr ? (*where.range_columns)[s] : own_ranges;
      if (!kept) kept = RangeColumns(*segment, *ranges);
      SegmentRanges* at = &*kept;
      if (UseSeriesTotals(where, *segment) && alone(entry->min_time, entry->max_time)) {
        // A block of totals that cannot be gathered (a damaged chunk entry of any of its
        // series) leaves the decision to this series' own chunks, which report their damage.
        const Result<bool> misses = SeriesMissesRanges(*segment, *entry, *ranges, at);
        if (snap.segments.size() > kMaxHeldIndexBlocks) {
          for (auto& hold : at->holds) hold = {};  // kept blocks stay within the budget
        }
        if (misses.ok() && *misses) continue;
      }
      skip = [&, at](const Chunk& c) {
        return alone(c.min_time, c.max_time) && ChunkMissesRanges(c, *ranges, at->columns);
      };
    }
    Segment::ReadState* state = where.states != nullptr ? &(*where.states)[s] : nullptr;
    SW_ASSIGN_OR_RETURN(bool any, segment->ReadRows(*entry, min_time, max_time, fields, &part,
                                                    skip ? &skip : nullptr, state));
    if (state != nullptr && snap.segments.size() > kMaxHeldIndexBlocks) state->hold = {};
    if (!any) continue;
    ApplyTombstones(snap.tombstones, segment->max_lsn(), &part);
    TakeRows(&part, out);
  }
  for (size_t m = 0; m < snap.memtables.size(); ++m) {
    if (!snap.memtables[m]->Read(id, min_time, max_time, fields, &part)) continue;
    ApplyTombstones(snap.tombstones, snap.memtable_lsns[m], &part);
    TakeRows(&part, out);
  }
  return Status::OK();
}

Status Engine::Scan(const ScanRequest& request,
                    const std::function<Status(const SeriesBlock&)>& fn) const {
  SW_ASSIGN_OR_RETURN(auto projection, Projection(request));
  const auto& [schema, fields] = projection;
  const std::shared_ptr<const EngineSnapshot> held = SnapshotFor(request);
  const std::vector<ShardSnapshot>& snaps = held->shards;
  SeriesBlock block;
  block.fields = fields;
  // Expired rows vanish from scans at once, before retention drops their partitions.
  const int64_t min_time =
      std::max(request.min_time,
               retention_.Cutoff(request.tenant, request.database, request.table, held->now));
  auto locators = Locators(snaps);
  SeriesSources where;
  const SeriesMatch matched = MatchSeries(series_, request, *schema);
  where.matched_per_shard = MatchedPerShard(matched.size(), request, shards_.size());
  for (const auto& info : matched) {
    SeriesLocator& locator = *locators[info->id.value() % shards_.size()];
    locator.Locate(info->id, &where);
    SW_RETURN_IF_ERROR(ReadSeries(locator.snapshot(), where, info->id, min_time, request.max_time,
                                  fields, &block.rows, &request.field_ranges));
    if (block.rows.times.empty()) continue;
    block.series = info;
    SW_RETURN_IF_ERROR(fn(block));
  }
  return Status::OK();
}

std::optional<std::string> WholeSegmentTag(const ScanRequest& request) {
  if (!request.summaries_without_series || request.series_filter) return std::nullopt;
  std::string key = request.summary_tag;
  auto one_tag = [&key](const std::string& k) {
    if (key.empty()) key = k;
    return key == k;
  };
  for (const auto& [k, v] : request.tag_equals) {
    if (!one_tag(k)) return std::nullopt;
  }
  for (const auto& [k, values] : request.tag_in) {
    // "" in a list: leave it to the series (absent tags are a corner best not guessed at).
    if (!one_tag(k) || std::find(values.begin(), values.end(), "") != values.end()) {
      return std::nullopt;
    }
  }
  return key;
}

std::shared_ptr<const EngineSnapshot> Engine::Snapshot() const {
  auto snap = std::make_shared<EngineSnapshot>();
  snap->now = clock_->Now();
  snap->shards.reserve(shards_.size());
  for (const auto& shard : shards_) snap->shards.push_back(shard->Snapshot());
  return snap;
}

std::shared_ptr<const EngineSnapshot> Engine::SnapshotFor(const ScanRequest& request) const {
  return request.snapshot != nullptr ? request.snapshot : Snapshot();
}

std::optional<std::pair<int64_t, int64_t>> Engine::TimeBounds(const ScanRequest& request) const {
  auto schema = catalog_.Find(request.tenant, request.database, request.table);
  if (!schema) return std::nullopt;
  const std::shared_ptr<const EngineSnapshot> held = SnapshotFor(request);
  const std::vector<ShardSnapshot>& snaps = held->shards;
  std::optional<std::pair<int64_t, int64_t>> bounds;
  auto widen = [&](int64_t oldest, int64_t newest) {
    if (!bounds) bounds.emplace(oldest, newest);
    bounds->first = std::min(bounds->first, oldest);
    bounds->second = std::max(bounds->second, newest);
  };
  // Every series of the table, and no memtable row: the bounds of the table's segments, without
  // looking at each series.
  bool memtable_rows = false;
  for (const auto& snap : snaps) memtable_rows |= snap.memtable_bounds.has_value();
  if (!memtable_rows && request.tag_equals.empty() && request.tag_in.empty() &&
      !request.series_filter) {
    for (const auto& snap : snaps) {
      for (const auto& seg : snap.segments) {
        if (seg->rows() > 0 && OfTable(*seg, request, *schema)) {
          widen(seg->min_time(), seg->max_time());
        }
      }
    }
    return bounds;
  }
  auto locators = Locators(snaps);
  SeriesSources where;
  for (const auto& info : MatchSeries(series_, request, *schema)) {
    locators[info->id.value() % shards_.size()]->Locate(info->id, &where);
    for (const auto& [oldest, newest] : where.ranges) widen(oldest, newest);
  }
  return bounds;
}

Status Engine::ScanSummarized(const ScanRequest& request,
                              const std::function<Status(const SeriesBlock&)>& rows_fn,
                              const std::function<Status(const SeriesSummary&)>& summary_fn) const {
  SW_ASSIGN_OR_RETURN(auto projection, Projection(request));
  // Plain references: lambdas below use them (clang 14 cannot capture structured bindings).
  const std::shared_ptr<const TableSchema>& schema = projection.first;
  const std::vector<FieldSchema>& fields = projection.second;
  const std::shared_ptr<const EngineSnapshot> held = SnapshotFor(request);
  const std::vector<ShardSnapshot>& snaps = held->shards;
  SeriesBlock block;
  block.fields = fields;
  SeriesSummary summary;
  summary.fields = fields;
  const int64_t min_time =
      std::max(request.min_time,
               retention_.Cutoff(request.tenant, request.database, request.table, held->now));
  const int64_t max_time = request.max_time;
  // Per shard and segment: a buffer for chunk entries (those picked stay until the series is
  // done), the segment's column of each projected field (-1: none), and which columns those
  // are (the others' statistics are not parsed). The index block read last is the locator's.
  struct SegmentState {
    std::vector<Chunk> chunks;
    std::vector<int> columns;
    std::vector<bool> wanted;
    std::vector<Segment::TotalsHold> holds;  // per projected field (Segment::SeriesTotals)
  };
  std::vector<std::vector<SegmentState>> states(snaps.size());
  for (size_t i = 0; i < snaps.size(); ++i) {
    states[i].resize(snaps[i].segments.size());
    for (size_t s = 0; s < snaps[i].segments.size(); ++s) {
      const auto& seg_fields = snaps[i].segments[s]->fields();
      std::vector<int>& columns = states[i][s].columns;
      std::vector<bool>& wanted = states[i][s].wanted;
      columns.assign(fields.size(), -1);
      wanted.assign(seg_fields.size(), false);
      states[i][s].holds.resize(fields.size());
      for (size_t f = 0; f < fields.size(); ++f) {
        for (size_t k = 0; k < seg_fields.size(); ++k) {
          if (seg_fields[k].name == fields[f].name) columns[f] = static_cast<int>(k);
        }
        if (columns[f] >= 0) wanted[columns[f]] = true;
      }
    }
  }
  struct Picked {
    const Chunk* chunk;
    const std::vector<int>* columns;
  };
  auto locators = Locators(snaps);
  // Whole segments: with summaries of many series allowed and every series of the table
  // matching, a segment inside the range that no other source overlaps is one summary from its
  // totals. Per shard: which segments, and whether any series must still be looked at (a
  // memtable or another segment of the table may hold rows in range).
  std::vector<char> per_series(snaps.size(), 1);
  // A split scan must share its snapshot with the other partitions: each decides alone.
  const bool agreed = request.partitions <= 1 || request.snapshot != nullptr;
  const std::optional<std::string> whole_tag = agreed ? WholeSegmentTag(request) : std::nullopt;
  if (whole_tag) {
    for (size_t i = 0; i < snaps.size(); ++i) {
      const ShardSnapshot& snap = snaps[i];
      std::vector<char> whole = WholeSegments(snap, request, *schema, min_time, max_time);
      const auto& mem = snap.memtable_bounds;
      bool rest = mem && mem->first <= max_time && min_time <= mem->second;
      for (size_t s = 0; s < whole.size(); ++s) {
        const Segment& seg = *snap.segments[s];
        if (!OfTable(seg, request, *schema) || seg.rows() == 0 || seg.max_time() < min_time ||
            seg.min_time() > max_time) {
          continue;
        }
        for (int col : states[i][s].columns) {
          if (col >= 0 && seg.totals()[col].nan) whole[s] = 0;  // the chunks' rows decide
        }
        // Grouped by a tag: the segment's totals per value of it, unless it has too many
        // values (every partition gets the same answer: it is kept by the segment).
        const std::vector<TagValueTotals>* by_tag = nullptr;
        if (whole[s] && !whole_tag->empty()) {
          SW_ASSIGN_OR_RETURN(by_tag, seg.TotalsByTag(*whole_tag));
          if (by_tag == nullptr) whole[s] = 0;
        }
        if (!whole[s]) {
          rest = true;
          continue;
        }
        if (request.partition != 0) continue;  // partition 0 hands it up
        auto hand_up = [&](uint64_t rows, const std::vector<SegmentFieldTotals>& totals,
                           std::string_view tag_value) -> Status {
          summary.series = nullptr;
          summary.tag_value = tag_value;
          summary.rows = rows;
          summary.min_time = seg.min_time();
          summary.max_time = seg.max_time();
          summary.stats.assign(fields.size(), SeriesSummary::Field{});
          for (size_t f = 0; f < fields.size(); ++f) {
            const int col = states[i][s].columns[f];
            if (col < 0) continue;
            const SegmentFieldTotals& t = totals[col];
            summary.stats[f] = {t.count, t.min_bits, t.max_bits, t.sum};
          }
          return summary_fn(summary);
        };
        if (by_tag == nullptr) {
          SW_RETURN_IF_ERROR(hand_up(seg.rows(), seg.totals(), {}));
        } else {
          for (const TagValueTotals& t : *by_tag) {
            if (t.rows > 0 && TagConditionsHold(request, t.value)) {
              SW_RETURN_IF_ERROR(hand_up(t.rows, t.fields, t.value));
            }
          }
        }
      }
      per_series[i] = rest;
      locators[i]->TakeWhole(std::move(whole));
    }
    if (std::find(per_series.begin(), per_series.end(), 1) == per_series.end()) {
      return Status::OK();
    }
  }
  // Where the series is, with the time range of every source holding it, to find chunks
  // nobody overlaps.
  SeriesSources where;
  const std::vector<std::pair<int64_t, int64_t>>& ranges = where.ranges;
  std::vector<Picked> picked;
  // Where the series' rows outside the picked chunks can be: chunks not picked, and memtables.
  std::vector<std::pair<int64_t, int64_t>> unread;
  // What no source is read in: picked chunks and the series' part of segments taken whole.
  std::vector<std::pair<int64_t, int64_t>> covered;
  std::vector<bool> seen;
  const SeriesMatch matched = MatchSeries(series_, request, *schema);
  where.matched_per_shard = MatchedPerShard(matched.size(), request, shards_.size());
  for (const auto& info : matched) {
    const size_t shard = info->id.value() % shards_.size();
    if (!per_series[shard]) continue;
    SeriesLocator& locator = *locators[shard];
    const ShardSnapshot& snap = locator.snapshot();
    locator.Locate(info->id, &where);
    picked.clear();
    unread.clear();
    for (size_t s = 0; s < snap.segments.size(); ++s) {
      const Segment& seg = *snap.segments[s];
      const SegmentSeries* e = where.entries[s];
      if (e == nullptr || e->max_time < min_time || e->min_time > max_time) continue;
      SegmentState& state = states[shard][s];
      auto summarisable = [&](const Chunk& c) {
        if (c.min_time < min_time || c.max_time > max_time) return false;
        if (request.same_bucket && !request.same_bucket(c.min_time, c.max_time)) return false;
        // Rows of the chunk must be its own: no other source's range and no delete meets it.
        int overlaps = 0;
        for (const auto& [lo, hi] : ranges) overlaps += lo <= c.max_time && c.min_time <= hi;
        if (overlaps > 1) return false;  // its own segment's range is one
        for (const Tombstone& t : snap.tombstones) {
          if (t.series == info->id && t.min_time <= c.max_time && c.min_time <= t.max_time) {
            return false;
          }
        }
        // A NaN hides in the sum only: let the rows decide what min and max mean then.
        for (int col : state.columns) {
          if (col >= 0 && std::isnan(c.columns[col].stats.sum)) return false;
        }
        return true;
      };
      // Every chunk of the series here in range, in one bucket, met by no other source and no
      // delete: its totals in the segment, read without its chunk entries, stand for one chunk
      // of all its rows (unless a NaN is among them, or a count outgrows a chunk's).
      if (UseSeriesTotals(where, seg) && e->rows <= UINT32_MAX) {
        state.chunks.resize(1);
        Chunk& all = state.chunks[0];
        all.rows = static_cast<uint32_t>(e->rows);
        all.min_time = e->min_time;
        all.max_time = e->max_time;
        all.columns.assign(seg.fields().size(), ColumnChunk{});
        bool taken = summarisable(all);  // the tests that need no statistics (all zero yet)
        const size_t position = seg.PositionOf(*e);
        for (size_t f = 0; f < fields.size() && taken; ++f) {
          const int col = state.columns[f];
          if (col < 0) continue;
          // A block that cannot be gathered leaves it to the chunks (which report damage).
          const Result<SegmentFieldTotals> t =
              seg.SeriesTotals(static_cast<size_t>(col), position, &state.holds[f]);
          taken = t.ok() && !std::isnan(t->sum) && t->count <= UINT32_MAX;
          if (taken) {
            all.columns[col].stats = {static_cast<uint32_t>(t->count), t->min_bits, t->max_bits,
                                      t->sum};
          }
        }
        if (snap.segments.size() > kMaxHeldIndexBlocks) {
          for (auto& h : state.holds) h = {};  // kept blocks stay within the budget
        }
        if (taken) {
          picked.push_back({&all, &state.columns});
          continue;
        }
      }
      Segment::IndexHold& hold = (*where.states)[s].hold;
      SW_RETURN_IF_ERROR(seg.Chunks(*e, &hold, &state.chunks, &state.wanted));
      if (snap.segments.size() > kMaxHeldIndexBlocks) hold = {};
      for (const Chunk& c : state.chunks) {
        if (summarisable(c)) {
          picked.push_back({&c, &state.columns});
        } else {
          unread.emplace_back(c.min_time, c.max_time);
        }
      }
    }
    // Memtables' ranges follow the segments' in `ranges` (SeriesSources).
    size_t segment_ranges = 0;
    for (const SegmentSeries* e : where.entries) segment_ranges += e != nullptr;
    unread.insert(unread.end(), ranges.begin() + static_cast<ptrdiff_t>(segment_ranges),
                  ranges.end());
    std::sort(picked.begin(), picked.end(), [](const Picked& a, const Picked& b) {
      return a.chunk->min_time < b.chunk->min_time;
    });
    // Statistics of the picked chunks: one summary, or one per bucket with same_bucket.
    for (size_t begin = 0, end = 0; begin < picked.size(); begin = end) {
      end = begin + 1;
      if (request.same_bucket) {
        while (end < picked.size() &&
               request.same_bucket(picked[begin].chunk->min_time, picked[end].chunk->max_time)) {
          ++end;
        }
      } else {
        end = picked.size();
      }
      summary.series = info;
      summary.tag_value = {};
      summary.rows = 0;
      summary.min_time = picked[begin].chunk->min_time;
      summary.max_time = picked[end - 1].chunk->max_time;
      summary.stats.assign(fields.size(), SeriesSummary::Field{});
      seen.assign(fields.size(), false);
      for (size_t i = begin; i < end; ++i) {
        const Chunk& chunk = *picked[i].chunk;
        summary.rows += chunk.rows;
        for (size_t f = 0; f < fields.size(); ++f) {
          const int col = (*picked[i].columns)[f];
          if (col < 0) continue;
          const ChunkStats& st = chunk.columns[col].stats;
          if (st.count == 0) continue;
          SeriesSummary::Field& out = summary.stats[f];
          if (!seen[f]) {
            out.min_bits = st.min_bits;
            out.max_bits = st.max_bits;
            seen[f] = true;
          } else {
            if (StatsLess(fields[f].type, st.min_bits, out.min_bits)) out.min_bits = st.min_bits;
            if (StatsLess(fields[f].type, out.max_bits, st.max_bits)) out.max_bits = st.max_bits;
          }
          out.count += st.count;
          out.sum += st.sum;
        }
      }
      SW_RETURN_IF_ERROR(summary_fn(summary));
    }
    // Every other row, read as Scan reads it, between the covered ranges.
    auto read_gap = [&](int64_t lo, int64_t hi) -> Status {
      if (lo > hi) return Status::OK();
      // Nothing unread meets the gap: it holds no row (the usual case: the gaps before, between
      // and after the chunks of sources that do not overlap), and reading it would cost parsing
      // the series' chunk entries in every source again for nothing.
      bool any = false;
      for (const auto& [oldest, newest] : unread) any |= oldest <= hi && lo <= newest;
      if (!any) return Status::OK();
      SW_RETURN_IF_ERROR(
          ReadSeries(snap, where, info->id, lo, hi, fields, &block.rows, &request.field_ranges));
      if (block.rows.times.empty()) return Status::OK();
      block.series = info;
      return rows_fn(block);
    };
    covered.clear();
    for (const Picked& p : picked) covered.emplace_back(p.chunk->min_time, p.chunk->max_time);
    if (!where.taken.empty()) {  // picked chunks are in time order already
      covered.insert(covered.end(), where.taken.begin(), where.taken.end());
      std::sort(covered.begin(), covered.end());
    }
    int64_t from = min_time;
    bool to_the_end = false;  // a covered range reaches the largest time
    for (const auto& [lo, hi] : covered) {
      if (lo > from) SW_RETURN_IF_ERROR(read_gap(from, lo - 1));
      if (hi == std::numeric_limits<int64_t>::max()) {
        to_the_end = true;
        break;
      }
      from = std::max(from, hi + 1);
    }
    if (!to_the_end) SW_RETURN_IF_ERROR(read_gap(from, max_time));
  }
  return Status::OK();
}

namespace {

// One row (`index`) of `rows` as a one-row block.
SeriesRowsBlock OneRow(const SeriesRowsBlock& rows, size_t index) {
  SeriesRowsBlock out;
  out.series = rows.series;
  out.times = {rows.times[index]};
  for (const auto& col : rows.columns) {
    ColumnVector c;
    c.type = col.type;
    c.present = {col.present[index]};
    c.bits = {col.bits[index]};
    if (col.type == FieldType::kString) c.strings = {col.strings[index]};
    out.columns.push_back(std::move(c));
  }
  return out;
}

}  // namespace

Status Engine::Latest(const ScanRequest& request,
                      const std::function<Status(const SeriesBlock&)>& fn) const {
  SW_ASSIGN_OR_RETURN(auto projection, Projection(request));
  const auto& [schema, fields] = projection;
  const std::shared_ptr<const EngineSnapshot> held = SnapshotFor(request);
  const std::vector<ShardSnapshot>& snaps = held->shards;
  const int64_t min_time =
      std::max(request.min_time,
               retention_.Cutoff(request.tenant, request.database, request.table, held->now));
  SeriesBlock block;
  block.fields = fields;
  SeriesRowsBlock rows;
  auto locators = Locators(snaps);
  // Where each projected field is in the schema (the cache's values are by schema index).
  std::vector<int> schema_index(fields.size());
  for (size_t f = 0; f < fields.size(); ++f) schema_index[f] = schema->FindField(fields[f].name);
  SeriesSources where;
  LastValue cache_entry;  // its buffers reused from series to series
  for (const auto& info : MatchSeries(series_, request, *schema)) {
    const Shard& shard = *shards_[info->id.value() % shards_.size()];
    SeriesLocator& locator = *locators[info->id.value() % shards_.size()];
    const ShardSnapshot& snap = locator.snapshot();
    const LastValue* entry =
        shard.last_values()->Get(info->id, &cache_entry) && cache_entry.time != INT64_MIN
            ? &cache_entry
            : nullptr;
    // The cache has seen every memtable row; only segments of an earlier process can hold a
    // newer (or same-time) row it has not seen, and a complete entry says none does: its
    // sources need not be looked up.
    const bool complete = entry != nullptr && entry->complete;
    int64_t segment_max = INT64_MIN;
    if (!complete) {
      locator.Locate(info->id, &where);
      for (const SegmentSeries* e : where.entries) {
        if (e != nullptr) segment_max = std::max(segment_max, e->max_time);
      }
    }
    const bool cached = complete || (entry != nullptr && entry->time > segment_max);
    if (cached && entry->time <= request.max_time) {
      if (entry->time < min_time) continue;  // the newest row is older than the range
      // One row, in the block's vectors of the series before (no allocation per series).
      block.rows.series = info->id;
      block.rows.times.assign(1, entry->time);
      block.rows.columns.resize(fields.size());
      for (size_t f = 0; f < fields.size(); ++f) {
        ColumnVector& c = block.rows.columns[f];
        c.type = fields[f].type;
        c.present.assign(1, 0);
        c.bits.assign(1, 0);
        c.strings.assign(c.type == FieldType::kString ? 1 : 0, std::string());
        for (const auto& v : entry->values) {
          if (v.field != schema_index[f]) continue;
          c.present[0] = 1;
          c.bits[0] = v.bits;
          if (c.type == FieldType::kString && v.is_string) c.strings[0] = entry->String(v);
        }
      }
      block.series = info;
      SW_RETURN_IF_ERROR(fn(block));
      continue;
    }
    if (!cached && request.max_time == INT64_MAX) {
      // Read the newest time of every source, fill the cache, answer from the row.
      int64_t newest = segment_max;
      for (const auto& mem : snap.memtables) {
        if (auto t = mem->MaxTime(info->id)) newest = std::max(newest, *t);
      }
      if (newest == INT64_MIN) continue;
      SW_RETURN_IF_ERROR(ReadSeries(snap, where, info->id, newest, newest, schema->fields, &rows));
      if (rows.times.size() == 1) {  // else a delete removed it: read the whole series below
        shard.last_values()->Fill(info->id, *schema, schema->fields, rows);
        if (newest < min_time) continue;
        // The row holds every field of the schema the projection was taken from.
        block.rows.series = rows.series;
        block.rows.times = rows.times;
        block.rows.columns.clear();
        for (const auto& f : fields) {
          const int index = schema->FindField(f.name);
          if (index < 0) return Internal("field '{}' left the schema of its projection", f.name);
          block.rows.columns.push_back(rows.columns[static_cast<size_t>(index)]);
        }
        block.series = info;
        SW_RETURN_IF_ERROR(fn(block));
        continue;
      }
    }
    // Bounded ranges the cache cannot answer: read the range and keep its last row.
    if (complete) locator.Locate(info->id, &where);
    SW_RETURN_IF_ERROR(
        ReadSeries(snap, where, info->id, min_time, request.max_time, fields, &rows));
    if (rows.times.empty()) continue;
    block.rows = OneRow(rows, rows.times.size() - 1);
    block.series = info;
    SW_RETURN_IF_ERROR(fn(block));
  }
  return Status::OK();
}

Status Engine::Delete(const ScanRequest& request) {
  if (request.min_time > request.max_time) {
    return InvalidArgument("delete: min_time {} is after max_time {}", request.min_time,
                           request.max_time);
  }
  std::vector<std::future<Status>> results;
  {
    // As for writes: the generation stays the table's until the records are queued.
    { std::lock_guard gate(ddl_gate_); }
    std::shared_lock ddl(ddl_mu_);
    auto schema = catalog_.Find(request.tenant, request.database, request.table);
    if (!schema) {
      return NotFound("table '{}' does not exist in database '{}'", request.table,
                      request.database);
    }
    std::vector<DeleteRecord> per_shard(shards_.size());
    for (const auto& info : MatchSeries(series_, request, *schema)) {
      per_shard[info->id.value() % shards_.size()].series.push_back(info->id);
    }
    for (size_t s = 0; s < shards_.size(); ++s) {
      DeleteRecord& record = per_shard[s];
      if (record.series.empty()) continue;
      std::sort(record.series.begin(), record.series.end());
      record.tenant = request.tenant;
      record.database = request.database;
      record.table = request.table;
      record.generation = schema->generation;
      record.min_time = request.min_time;
      record.max_time = request.max_time;
      std::string payload;
      EncodeDeleteRecord(record, &payload);
      auto promise = std::make_shared<std::promise<Status>>();
      results.push_back(promise->get_future());
      shards_[s]->Submit(WalRecordType::kDelete, std::move(payload),
                         [promise](Status status) { promise->set_value(std::move(status)); });
    }
  }
  Status first;
  for (auto& r : results) {
    Status s = r.get();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

namespace {

// Version 1 ("SEAWCAT1") held only the declared tables; version 2 adds the series id floor and
// the generations of dropped names (docs/formats/segment.md, "Other files").
constexpr std::string_view kCatalogMagicV1 = "SEAWCAT1";
constexpr std::string_view kCatalogMagic = "SEAWCAT2";

}  // namespace

bool Engine::IsDeclared(TenantId tenant, std::string_view database, std::string_view table) const {
  std::shared_lock lock(ddl_mu_);
  return declared_.count(TableKey(tenant.value(), std::string(database), std::string(table))) > 0;
}

Status Engine::LoadCatalog() {
  const std::string path = JoinPath(dir_, "CATALOG");
  if (!env_->FileExists(path)) return Status::OK();
  SW_ASSIGN_OR_RETURN(std::string raw, ReadFileToString(env_, path));
  const bool v1 = std::string_view(raw).starts_with(kCatalogMagicV1);
  SW_ASSIGN_OR_RETURN(
      auto body, ReadChecksummedFile(env_, path, v1 ? kCatalogMagicV1 : kCatalogMagic, "catalog"));
  if (!body) return Status::OK();
  auto bad = [&](std::string_view what) { return Corruption("catalog '{}': {}", path, what); };
  Decoder d(*body);
  uint64_t count, series_floor = 0;
  if (!v1 && !d.GetVarint64(&series_floor)) return bad("bad series id floor");
  if (!d.GetBoundedVarint(d.remaining(), &count)) return bad("bad table count");
  std::vector<std::pair<TableKey, TableSchema>> declared;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tenant, tags, fields;
    std::string_view database, table, name;
    if (!d.GetVarint64(&tenant) || !d.GetLengthPrefixed(&database) ||
        !d.GetLengthPrefixed(&table) ||
        !d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining()), &tags)) {
      return bad("bad table header");
    }
    TableSchema schema{std::string(table)};
    for (uint64_t t = 0; t < tags; ++t) {
      if (!d.GetLengthPrefixed(&name)) return bad("bad tag");
      schema.tag_keys.emplace_back(name);
    }
    if (!d.GetBoundedVarint(std::min<uint64_t>(kMaxColumnsPerTable, d.remaining()), &fields)) {
      return bad("bad field count");
    }
    for (uint64_t f = 0; f < fields; ++f) {
      uint8_t type;
      if (!d.GetLengthPrefixed(&name) || !d.GetByte(&type) || !IsValidFieldType(type)) {
        return bad("bad field");
      }
      schema.fields.push_back(FieldSchema{std::string(name), static_cast<FieldType>(type)});
    }
    declared.emplace_back(TableKey(tenant, std::string(database), std::string(table)),
                          std::move(schema));
  }
  // Generations first, so that the declared tables below get theirs.
  if (!v1) {
    if (!d.GetBoundedVarint(d.remaining(), &count)) return bad("bad generation count");
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t tenant, generation;
      std::string_view database, table;
      if (!d.GetVarint64(&tenant) || !d.GetLengthPrefixed(&database) ||
          !d.GetLengthPrefixed(&table) || !d.GetVarint64(&generation)) {
        return bad("bad generation");
      }
      catalog_.RestoreGeneration(TenantId(tenant), database, table, generation);
    }
  }
  if (!d.done()) return bad("unexpected trailing bytes");
  for (auto& [key, schema] : declared) {
    const auto& [tenant, database, table] = key;
    auto extended =
        catalog_.Extend(TenantId(tenant), database, table, schema.tag_keys, schema.fields);
    if (!extended.ok()) return bad(extended.status().message());
    schema.generation = (*extended)->generation;
    declared_[key] = std::move(schema);
  }
  series_.ReserveIds(series_floor);
  return Status::OK();
}

Status Engine::WriteCatalog(const std::map<TableKey, TableSchema>& declared,
                            const std::map<TableKey, uint64_t>& generations,
                            uint64_t series_floor) {
  std::string body;
  PutVarint64(&body, series_floor);
  PutVarint64(&body, declared.size());
  for (const auto& [key, t] : declared) {
    PutVarint64(&body, std::get<0>(key));
    PutLengthPrefixed(&body, std::get<1>(key));
    PutLengthPrefixed(&body, std::get<2>(key));
    PutVarint64(&body, t.tag_keys.size());
    for (const auto& k : t.tag_keys) PutLengthPrefixed(&body, k);
    PutVarint64(&body, t.fields.size());
    for (const auto& f : t.fields) {
      PutLengthPrefixed(&body, f.name);
      body.push_back(static_cast<char>(f.type));
    }
  }
  PutVarint64(&body, generations.size());
  for (const auto& [key, generation] : generations) {
    PutVarint64(&body, std::get<0>(key));
    PutLengthPrefixed(&body, std::get<1>(key));
    PutLengthPrefixed(&body, std::get<2>(key));
    PutVarint64(&body, generation);
  }
  return WriteChecksummedFile(env_, JoinPath(dir_, "CATALOG"), kCatalogMagic, body);
}

Status Engine::SaveDeclared(TenantId tenant, const std::string& database,
                            const TableSchema& schema) {
  auto declared = declared_;
  declared[{tenant.value(), database, schema.name}] = schema;
  SW_RETURN_IF_ERROR(WriteCatalog(declared, catalog_.Generations(), series_.next_id()));
  declared_ = std::move(declared);
  return Status::OK();
}

Status Engine::CreateTable(TenantId tenant, const std::string& database, const std::string& table,
                           const std::vector<std::string>& tag_keys,
                           const std::vector<FieldSchema>& fields, bool if_not_exists) {
  SW_RETURN_IF_ERROR(ValidateName(database, "database"));
  SW_RETURN_IF_ERROR(ValidateName(table, "table"));
  for (const auto& k : tag_keys) SW_RETURN_IF_ERROR(ValidateName(k, "tag"));
  for (const auto& f : fields) {
    SW_RETURN_IF_ERROR(ValidateName(f.name, "field"));
    if (!IsValidFieldType(static_cast<uint8_t>(f.type))) {
      return InvalidArgument("field '{}' has no valid type", f.name);
    }
  }
  std::lock_guard gate(ddl_gate_);
  std::unique_lock lock(ddl_mu_);
  if (dropped_tenants_.contains(tenant.value())) {
    return PermissionDenied("tenant {} was deleted", tenant);
  }
  if (catalog_.Find(tenant, database, table)) {
    if (if_not_exists) return Status::OK();
    return AlreadyExists("table '{}' already exists in database '{}'", table, database);
  }
  SW_ASSIGN_OR_RETURN(auto schema, catalog_.Extend(tenant, database, table, tag_keys, fields));
  return SaveDeclared(tenant, database, *schema);
}

Status Engine::AlterTableAdd(TenantId tenant, const std::string& database, const std::string& table,
                             const std::vector<std::string>& tag_keys,
                             const std::vector<FieldSchema>& fields) {
  for (const auto& k : tag_keys) SW_RETURN_IF_ERROR(ValidateName(k, "tag"));
  for (const auto& f : fields) SW_RETURN_IF_ERROR(ValidateName(f.name, "field"));
  std::lock_guard gate(ddl_gate_);
  std::unique_lock lock(ddl_mu_);
  if (!catalog_.Find(tenant, database, table)) {
    return NotFound("table '{}' does not exist in database '{}'", table, database);
  }
  SW_ASSIGN_OR_RETURN(auto schema, catalog_.Extend(tenant, database, table, tag_keys, fields));
  return SaveDeclared(tenant, database, *schema);
}

Status Engine::DropTenant(TenantId tenant) {
  {
    std::lock_guard gate(ddl_gate_);
    std::unique_lock lock(ddl_mu_);  // after this, no write of the tenant resolves a table
    dropped_tenants_.insert(tenant.value());
  }
  for (const std::string& database : catalog_.ListDatabases(tenant)) {
    for (const std::string& table : catalog_.ListTables(tenant, database)) {
      Status s = DropTable(tenant, database, table);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;  // NotFound: dropped meanwhile
    }
  }
  return SetTenantRetention(tenant, std::nullopt);
}

Status Engine::DropTable(TenantId tenant, const std::string& database, const std::string& table) {
  std::vector<DropTableRecord> per_shard(shards_.size());
  {
    std::lock_guard gate(ddl_gate_);
    std::unique_lock lock(ddl_mu_);  // no write or delete is between resolving and submitting
    auto schema = catalog_.Find(tenant, database, table);
    if (!schema) return NotFound("table '{}' does not exist in database '{}'", table, database);
    const TableKey key(tenant.value(), database, table);

    // The table's own retention policy goes first: were the drop then not to commit, the table
    // would keep its rows longer, never lose them early.
    const auto policy = retention_.TablePolicy(tenant, database, table);
    if (policy) SW_RETURN_IF_ERROR(retention_.Set(tenant, database, table, std::nullopt));

    // The commit point: the catalog with the name's next generation, durable. Memory changes
    // only after it, so a failed write leaves everything as it was.
    auto declared = declared_;
    declared.erase(key);
    auto generations = catalog_.Generations();
    generations[key] = schema->generation + 1;
    if (Status s = WriteCatalog(declared, generations, series_.next_id()); !s.ok()) {
      // Whether the new file is durable is unknown (the rename may have happened): write the
      // current state again, so that it is known, or stop accepting writes if that fails too.
      Status restored = WriteCatalog(declared_, catalog_.Generations(), series_.next_id());
      if (!restored.ok()) {
        for (auto& shard : shards_) {
          shard->Fail(restored.WithContext("rewriting the catalog after a failed DROP TABLE"));
        }
      }
      if (policy) retention_.Set(tenant, database, table, policy).IgnoreError();
      return s.WithContext(fmt::format("drop table '{}'", table));
    }
    declared_ = std::move(declared);
    // Series first: a reader that still finds the table then finds no series rather than the
    // series of a table that is gone.
    ForgetCachedSeries();  // its generation is gone: free the entries
    for (SeriesId id : series_.DropTable(tenant, database, table)) {
      per_shard[id.value() % shards_.size()].series.push_back(id);
    }
    auto dropped = catalog_.Drop(tenant, database, table);
    SW_CHECK(dropped.ok());
    for (auto& record : per_shard) {
      record.tenant = tenant;
      record.database = database;
      record.table = table;
      record.generation = schema->generation;
    }
    log::Info("table dropped", {{"tenant", tenant.value()},
                                {"database", database},
                                {"table", table},
                                {"generation", schema->generation}});
  }
  // Committed. Every shard logs it, forgets the rows and deletes the files; a shard that cannot
  // (read-only) does it at the next start, which skips the dropped generation anyway.
  Status first;
  for (size_t s = 0; s < shards_.size(); ++s) {
    Status status = shards_[s]->DropTable(per_shard[s]);
    if (first.ok() && !status.ok()) {
      first = status.WithContext(fmt::format(
          "table '{}' is dropped, but shard {} could not yet remove its data", table, s));
    }
  }
  return first;
}

Status Engine::SetRetention(TenantId tenant, const std::string& database, const std::string& table,
                            std::optional<Duration> keep) {
  SW_RETURN_IF_ERROR(ValidateName(database, "database"));
  if (!table.empty()) SW_RETURN_IF_ERROR(ValidateName(table, "table"));
  return ChangeRetention(tenant, database, table, keep);
}

Status Engine::SetTenantRetention(TenantId tenant, std::optional<Duration> keep) {
  return ChangeRetention(tenant, "", "", keep);
}

Status Engine::ChangeRetention(TenantId tenant, const std::string& database,
                               const std::string& table, std::optional<Duration> keep) {
  std::lock_guard change(retention_change_mu_);  // one change's before and after at a time
  struct Governed {
    std::string database;
    std::string table;
    int64_t cutoff_before;
  };
  const Timestamp now = clock_->Now();
  std::vector<Governed> governed;
  const std::vector<std::string> databases =
      database.empty() ? catalog_.ListDatabases(tenant) : std::vector<std::string>{database};
  for (const std::string& db : databases) {
    const std::vector<std::string> tables =
        table.empty() ? catalog_.ListTables(tenant, db) : std::vector<std::string>{table};
    for (const std::string& t : tables) {
      governed.push_back({db, t, retention_.Cutoff(tenant, db, t, now)});
    }
  }
  SW_RETURN_IF_ERROR(retention_.Set(tenant, database, table, keep));
  // Scans hide the newly expired rows already; maintenance drops only whole partitions. What is
  // left of a partition's expired rows would be seen again under a longer policy: delete it.
  for (const Governed& g : governed) {
    const int64_t cutoff = retention_.Cutoff(tenant, g.database, g.table, now);
    if (cutoff <= g.cutoff_before) continue;
    ScanRequest expired;
    expired.tenant = tenant;
    expired.database = g.database;
    expired.table = g.table;
    expired.min_time = std::numeric_limits<int64_t>::min();
    expired.max_time = cutoff - 1;
    Status s = Delete(expired);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {  // NotFound: dropped meanwhile
      return s.WithContext(fmt::format("deleting the rows the new retention of '{}.{}' expires",
                                       g.database, g.table));
    }
  }
  return Status::OK();
}

uint64_t Engine::StoredBytes(TenantId tenant) const {
  uint64_t bytes = 0;
  for (const auto& shard : shards_) {
    for (const auto& segment : shard->Snapshot().segments) {
      if (segment->tenant() == tenant) bytes += segment->file_bytes();
    }
  }
  return bytes;
}

Status Engine::Maintain() {
  for (auto& shard : shards_) SW_RETURN_IF_ERROR(shard->Maintain());
  return Status::OK();
}

Status Engine::Flush() {
  for (auto& shard : shards_) SW_RETURN_IF_ERROR(shard->Flush());
  return Status::OK();
}

size_t Engine::tombstone_count() const {
  size_t n = 0;
  for (const auto& shard : shards_) n += shard->tombstone_count();
  return n;
}

Status Engine::health() const {
  for (const auto& shard : shards_) SW_RETURN_IF_ERROR(shard->health());
  return Status::OK();
}

bool IsDiskFull(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find(kDiskFullMarker) != std::string_view::npos;
}

}  // namespace seaway
