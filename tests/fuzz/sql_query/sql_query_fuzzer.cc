// Fuzz target for the whole query path (src/query): any text is parsed, bound, planned and run
// against a small engine with two tables. A statement either answers or fails with a user-facing
// error (InvalidArgument, NotFound, ResourceExhausted, NotSupported, FailedPrecondition); never
// Internal, never a crash, within the per-query memory limit and timeout.
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "fuzz/fuzz_check.h"
#include "ingest/line_protocol.h"
#include "query/query_engine.h"
#include "storage/memory_env.h"

namespace {

using seaway::StatusCode;

struct Fixture {
  Fixture() {
    auto opened = seaway::Engine::Open(&env, "db", seaway::EngineOptions{}, &metrics);
    FUZZ_CHECK(opened.ok());
    engine = std::move(*opened);
    seaway::LineProtocolOptions opts;
    opts.tenant = seaway::TenantId(1);
    const char* body =
        "cpu,host=a,dc=east usage=10.5,count=3i,ok=true,note=\"x\" 1767225600000000000\n"
        "cpu,host=b,dc=west usage=-20,count=5i,ok=false 1767225610000000000\n"
        "cpu,host=a,dc=east usage=30,count=-7i 1767225620000000000\n"
        "cpu,host=c usage=40,note=\"hello world\" 1767225630000000000\n"
        "cpu,host=a,dc=east usage=1e300,count=9223372036854775807i 1767229200000000000\n"
        "orders,host=a qty=2i,price=9.99 1767225605000000000\n"
        "orders,host=b qty=1i,price=100 1767225900000000000\n";
    auto parsed = seaway::ParseLineProtocol(body, opts);
    FUZZ_CHECK(parsed.errors.empty());
    for (const auto& b : parsed.batches) FUZZ_CHECK(engine->Write(b).ok());
    queries = std::make_unique<seaway::query::QueryEngine>(engine.get(), &clock);
  }

  seaway::MemoryEnv env;
  seaway::MetricsRegistry metrics;
  seaway::ManualClock clock{seaway::Timestamp::FromNanos(1'767'229'200'000'000'000)};
  std::unique_ptr<seaway::Engine> engine;
  std::unique_ptr<seaway::query::QueryEngine> queries;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  seaway::query::QueryOptions options;
  options.tenant = seaway::TenantId(1);
  options.timeout = std::chrono::milliseconds(2000);
  options.max_memory_bytes = size_t{64} << 20;
  auto result = fixture->queries->Execute(text, options);
  if (!result.ok()) {
    const StatusCode code = result.status().code();
    if (code != StatusCode::kInvalidArgument && code != StatusCode::kNotFound &&
        code != StatusCode::kResourceExhausted && code != StatusCode::kNotSupported &&
        code != StatusCode::kFailedPrecondition) {
      std::fprintf(stderr, "query: %.*s\nerror: %s\n", static_cast<int>(size),
                   reinterpret_cast<const char*>(data), result.status().ToString().c_str());
    }
    FUZZ_CHECK(code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ||
               code == StatusCode::kResourceExhausted || code == StatusCode::kNotSupported ||
               code == StatusCode::kFailedPrecondition);
    FUZZ_CHECK(!result.status().message().empty());
    return 0;
  }
  // Every chunk has the announced columns and types.
  for (const auto& chunk : result->chunks) {
    FUZZ_CHECK(chunk.columns.size() == result->columns.size());
    for (size_t c = 0; c < chunk.columns.size(); ++c) {
      FUZZ_CHECK(chunk.columns[c].type == result->columns[c].type ||
                 chunk.columns[c].type == seaway::query::SqlType::kNull);
      for (size_t r = 0; r < chunk.rows; ++r) (void)chunk.columns[c].Get(r);
    }
  }
  return 0;
}
