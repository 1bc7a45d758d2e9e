// What a thing model costs on the MQTT telemetry path (bench/): one device message decoded
// alone, and decoded with the model lookup (ModelCache hit) and ValidateTelemetry, as the
// telemetry bridge does for a device that follows a model; the cache lookup alone from 1 and 2
// threads.
//
//   build/release/bench/thing_model_bench
#include <benchmark/benchmark.h>

#include "common/check.h"
#include "ingest/json_telemetry.h"
#include "platform/metadata_store.h"
#include "platform/model_cache.h"

namespace seaway {
namespace {

constexpr char kPayload[] = R"({"temperature": 81.5, "rpm": 1200, "status": "run", "ok": true})";

// A tenant with 1,000 devices following one model, in an in-memory metadata database.
struct Fixture {
  std::shared_ptr<SqliteDatabase> db;
  std::unique_ptr<MetadataStore> metadata;
  std::unique_ptr<ModelStore> store;
  std::unique_ptr<ModelCache> cache;
  TenantId tenant;

  Fixture() {
    db = *SqliteDatabase::Open(":memory:");
    metadata = std::move(*OpenSqliteMetadataStore(db));
    store = std::move(*OpenSqliteModelStore(db));
    cache = std::make_unique<ModelCache>(store.get());
    tenant = *metadata->CreateTenant("t");
    ThingModel model = *ParseThingModel(R"({"name": "cnc-mill", "properties": [
        {"name": "temperature", "type": "float", "min": -20, "max": 150, "access": "read-only"},
        {"name": "rpm", "type": "integer", "min": 0, "max": 24000, "access": "read-write"},
        {"name": "status", "type": "string", "access": "read-only"},
        {"name": "ok", "type": "boolean", "access": "read-only"}]})");
    const ModelId id = *store->CreateModel(tenant, model);
    for (int i = 0; i < 1000; ++i) {
      auto d = metadata->CreateDevice(tenant, NewDevice{fmt::format("mill-{}", i), std::nullopt});
      SW_CHECK(store->AssignModel(tenant, d->id, id).ok());
      SW_CHECK(cache->ModelFor(tenant, fmt::format("mill-{}", i)).ok());  // warm
    }
  }
};

Fixture& Shared() {
  static Fixture* f = new Fixture();
  return *f;
}

JsonTelemetryOptions Options(const std::string& table, const std::string& device) {
  JsonTelemetryOptions options;
  options.tenant = TenantId(1);
  options.default_time_ns = 1;
  options.device = JsonTelemetryOptions::Device{table, "device", device};
  return options;
}

void BM_DecodeSchemaless(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    const std::string device = fmt::format("mill-{}", i++ % 1000);
    IngestResult r = DecodeJsonTelemetry(kPayload, Options("telemetry", device));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeSchemaless);

void BM_DecodeWithModel(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = 0;
  for (auto _ : state) {
    const std::string device = fmt::format("mill-{}", i++ % 1000);
    auto model = f.cache->ModelFor(f.tenant, device);
    IngestResult r = DecodeJsonTelemetry(kPayload, Options((*model)->table, device));
    for (const WriteBatch& b : r.batches) SW_CHECK(ValidateTelemetry(**model, b).ok());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeWithModel);

void BM_ValidateOnly(benchmark::State& state) {
  Fixture& f = Shared();
  auto model = *f.cache->ModelFor(f.tenant, "mill-0");
  IngestResult r = DecodeJsonTelemetry(kPayload, Options(model->table, "mill-0"));
  for (auto _ : state) {
    for (const WriteBatch& b : r.batches) SW_CHECK(ValidateTelemetry(*model, b).ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateOnly);

void BM_ModelCacheHit(benchmark::State& state) {
  Fixture& f = Shared();
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back(fmt::format("mill-{}", i));
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    auto model = f.cache->ModelFor(f.tenant, names[i++ % names.size()]);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ModelCacheHit)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace seaway

BENCHMARK_MAIN();
