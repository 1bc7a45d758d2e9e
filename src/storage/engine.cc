// Engine (src/storage).
#include "storage/engine.h"

#include <atomic>
#include <charconv>
#include <future>
#include <unordered_map>

#include "common/logging.h"
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
  std::unique_ptr<Engine> engine(new Engine(env, dir));
  engine->rows_written_ =
      metrics->GetCounter("seaway_storage_rows_written_total", "Rows made durable by the engine");
  for (int i = 0; i < shard_count; ++i) {
    engine->shards_.push_back(std::make_unique<Shard>(
        ShardId(i), env, JoinPath(dir, fmt::format("shard-{:03}", i)), options.shard, metrics));
  }
  for (auto& shard : engine->shards_) {
    SW_RETURN_IF_ERROR(shard->Open(
        [e = engine.get()](const WriteRecord& record) { return e->RestoreRecord(record); }));
  }
  metrics->AddCallbackGauge("seaway_storage_series", "Series known to the engine",
                            [e = engine.get()] { return static_cast<double>(e->series_.size()); });
  log::Info("storage opened",
            {{"dir", dir}, {"shards", shard_count}, {"series", engine->series_.size()}});
  return engine;
}

Engine::~Engine() { Close(); }

void Engine::Close() {
  for (auto& shard : shards_) shard->Close();
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
    SW_RETURN_IF_ERROR(
        series_.Restore(s.id, record.tenant, record.database, record.table, std::move(tags)));
  }
  return Status::OK();
}

void Engine::WriteAsync(const WriteBatch& batch, std::function<void(Status)> done) {
  if (batch.rows() == 0) return done(Status::OK());
  if (Status s = batch.Validate(); !s.ok()) return done(s);
  std::vector<FieldSchema> fields;
  for (const auto& f : batch.fields()) fields.push_back(FieldSchema{f.name, f.type});
  auto schema =
      catalog_.Extend(batch.tenant(), batch.database(), batch.table(), batch.tag_keys(), fields);
  if (!schema.ok()) return done(schema.status());

  // Group rows by series, and series by shard.
  const size_t n_shards = shards_.size();
  std::vector<std::vector<SeriesRows>> per_shard(n_shards);
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> where;  // series -> (shard, group)
  TagSet tags;
  for (uint32_t row = 0; row < batch.rows(); ++row) {
    tags.clear();
    for (size_t k = 0; k < batch.tag_keys().size(); ++k) {
      const std::string& v = batch.tag_values()[k][row];
      if (!v.empty()) tags.emplace_back(batch.tag_keys()[k], v);
    }
    SeriesId id = series_.GetOrCreate(batch.tenant(), batch.database(), batch.table(), tags);
    auto [it, inserted] = where.try_emplace(id.value());
    if (inserted) {
      size_t shard = id.value() % n_shards;
      per_shard[shard].push_back(SeriesRows{id, {}});
      it->second = {shard, per_shard[shard].size() - 1};
    }
    per_shard[it->second.first][it->second.second].rows.push_back(row);
  }

  struct Join {
    std::mutex mu;
    size_t remaining;
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
  join->remaining = 0;
  for (const auto& groups : per_shard) join->remaining += groups.empty() ? 0 : 1;
  const size_t parts = join->remaining;

  for (size_t s = 0; s < n_shards; ++s) {
    if (per_shard[s].empty()) continue;
    std::string payload;
    EncodeWriteRecord(batch, per_shard[s], &payload);
    shards_[s]->Submit(std::move(payload), [join, parts](Status status) {
      std::unique_lock lock(join->mu);
      if (!status.ok()) {
        if (join->failed++ == 0) join->first_error = status;
      }
      if (--join->remaining > 0) return;
      Status result = join->first_error;
      if (join->failed > 0 && join->failed < parts) {
        result = Status(result.code(),
                        fmt::format("{} (the batch spans {} shards; {} of them stored their rows)",
                                    result.message(), parts, parts - join->failed));
      }
      if (result.ok()) join->rows_written->Increment(join->rows);
      auto done = std::move(join->done);
      lock.unlock();
      done(result);
    });
  }
}

Status Engine::Write(const WriteBatch& batch) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  WriteAsync(batch, [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

Result<std::vector<FieldSchema>> Engine::Projection(const ScanRequest& request) const {
  auto schema = catalog_.Find(request.tenant, request.database, request.table);
  if (!schema) {
    return NotFound("table '{}' does not exist in database '{}'", request.table, request.database);
  }
  if (request.fields.empty()) return schema->fields;
  std::vector<FieldSchema> out;
  for (const auto& name : request.fields) {
    int i = schema->FindField(name);
    if (i < 0) return NotFound("table '{}' has no field '{}'", request.table, name);
    out.push_back(schema->fields[i]);
  }
  return out;
}

Status Engine::Scan(const ScanRequest& request,
                    const std::function<Status(const SeriesBlock&)>& fn) const {
  SW_ASSIGN_OR_RETURN(auto fields, Projection(request));
  SeriesBlock block;
  block.fields = fields;
  for (const auto& info :
       series_.Match(request.tenant, request.database, request.table, request.tag_equals)) {
    const Shard& shard = *shards_[info->id.value() % shards_.size()];
    if (!shard.memtable().Read(info->id, request.min_time, request.max_time, fields, &block.rows)) {
      continue;
    }
    block.series = info;
    SW_RETURN_IF_ERROR(fn(block));
  }
  return Status::OK();
}

Status Engine::Latest(const ScanRequest& request,
                      const std::function<Status(const SeriesBlock&)>& fn) const {
  SW_ASSIGN_OR_RETURN(auto fields, Projection(request));
  SeriesBlock block;
  block.fields = fields;
  for (const auto& info :
       series_.Match(request.tenant, request.database, request.table, request.tag_equals)) {
    const Shard& shard = *shards_[info->id.value() % shards_.size()];
    auto max_time = shard.memtable().MaxTime(info->id);
    if (!max_time) continue;
    int64_t t = std::min(*max_time, request.max_time);
    // The newest row within range: when the newest overall is beyond max_time, read the range
    // and keep its last row.
    if (!shard.memtable().Read(info->id, t == *max_time ? t : request.min_time, t, fields,
                               &block.rows)) {
      continue;
    }
    if (block.rows.times.size() > 1) {
      const size_t last = block.rows.times.size() - 1;
      block.rows.times = {block.rows.times[last]};
      for (auto& col : block.rows.columns) {
        col.present = {col.present[last]};
        col.bits = {col.bits[last]};
        if (col.type == FieldType::kString) col.strings = {col.strings[last]};
      }
    }
    if (block.rows.times.front() < request.min_time) continue;
    block.series = info;
    SW_RETURN_IF_ERROR(fn(block));
  }
  return Status::OK();
}

Status Engine::health() const {
  for (const auto& shard : shards_) SW_RETURN_IF_ERROR(shard->health());
  return Status::OK();
}

}  // namespace seaway
