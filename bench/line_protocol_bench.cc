// Line-protocol parser speed (bench/): ns per line of the industrial dataset on one core, from
// text to WriteBatches (issue #4 target: <= 150 ns per industrial line).
//
//   build/release/bench/line_protocol_bench
#include <benchmark/benchmark.h>

#include "datagen/dataset.h"
#include "datagen/row_format.h"
#include "ingest/line_protocol.h"

namespace seaway {
namespace {

// 5,000 industrial lines: one HTTP batch as Telegraf or the loader sends it.
const std::string& IndustrialBody() {
  static const std::string body = [] {
    datagen::DatasetSpec spec;
    spec.timestamps = 5;
    datagen::Generator gen(spec);
    datagen::RowFormatter formatter(gen.schema());
    std::string out;
    datagen::Row row;
    while (gen.Next(&row)) formatter.AppendLineProtocol(row, &out);
    return out;
  }();
  return body;
}

void BM_ParseIndustrialLines(benchmark::State& state) {
  const std::string& body = IndustrialBody();
  LineProtocolOptions options;
  options.tenant = TenantId(1);
  size_t lines = 0;
  for (auto _ : state) {
    IngestResult result = ParseLineProtocol(body, options);
    lines += result.points;
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(lines));
  state.counters["ns_per_line"] = benchmark::Counter(
      static_cast<double>(lines), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_line"] = static_cast<double>(body.size()) / 5000;
}
BENCHMARK(BM_ParseIndustrialLines)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seaway

BENCHMARK_MAIN();
