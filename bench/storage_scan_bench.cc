// Storage scan benchmark (bench/): how fast one float column of warm segments is aggregated
// (sum, min, max, count) on one core, decoding every chunk; and, for reference, the same
// aggregate from chunk statistics alone, and a full Engine::Scan that materialises rows.
//
//   build/release/bench/storage_scan_bench [--rows-per-machine 8640] [--repeat 5]
//
// Data: the industrial dataset (bench/datagen), written through the engine, flushed and
// compacted, then read back from the segment files (in the page cache: "warm").
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/metrics.h"
#include "datagen/batch_rows.h"
#include "datagen/dataset.h"
#include "storage/engine.h"
#include "storage/manifest.h"
#include "storage/segment.h"

namespace seaway::bench {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Aggregate {
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  uint64_t count = 0;
};

int Run(int argc, char** argv) {
  CLI::App app{"Seaway storage scan benchmark"};
  int timestamps = 8640;
  int machines = 1000;
  int repeat = 5;
  std::string field = "temperature";
  app.add_option("--rows-per-machine", timestamps, "rows per machine (8640 = one day at 10 s)");
  app.add_option("--machines", machines, "machines");
  app.add_option("--repeat", repeat, "timed passes over the column");
  app.add_option("--field", field, "float field to aggregate");
  CLI11_PARSE(app, argc, argv);

  datagen::DatasetSpec spec;
  spec.entities = machines;
  spec.timestamps = timestamps;
  datagen::Generator gen(spec);
  const datagen::DatasetSchema& schema = gen.schema();

  const std::string dir = fmt::format("/tmp/seaway-scan-{}", getpid());
  std::filesystem::remove_all(dir);
  MetricsRegistry metrics;
  {
    EngineOptions options;
    options.shard.memtable_limit_bytes = size_t{8} << 30;
    auto engine = Engine::Open(Env::Default(), dir, options, &metrics);
    if (!engine.ok()) {
      fmt::print(stderr, "open: {}\n", engine.status());
      return 1;
    }
    if (Status s = datagen::WriteAll(&gen, engine->get()); !s.ok()) {
      fmt::print(stderr, "write: {}\n", s);
      return 1;
    }
    if (!(*engine)->Flush().ok() || !(*engine)->Maintain().ok()) return 1;
  }

  // The segment files, opened directly: what a query's scan operator reads.
  std::vector<std::shared_ptr<const Segment>> segments;
  uint64_t segment_bytes = 0;
  for (const auto& shard : std::filesystem::directory_iterator(dir)) {
    if (!shard.is_directory()) continue;
    auto manifest = ReadManifest(Env::Default(), shard.path());
    if (!manifest.ok()) return 1;
    for (uint64_t n : manifest->segments) {
      auto seg = Segment::Open(Env::Default(), shard.path() / SegmentFileName(n));
      if (!seg.ok()) {
        fmt::print(stderr, "{}\n", seg.status());
        return 1;
      }
      segment_bytes += (*seg)->file_bytes();
      segments.push_back(std::move(*seg));
    }
  }

  // Decode-and-aggregate, one core.
  Aggregate agg;
  std::vector<double> values;
  double best = std::numeric_limits<double>::infinity();
  for (int pass = 0; pass <= repeat; ++pass) {  // pass 0 warms the page cache
    agg = Aggregate{};
    auto start = std::chrono::steady_clock::now();
    for (const auto& seg : segments) {
      size_t column = seg->fields().size();
      for (size_t c = 0; c < seg->fields().size(); ++c) {
        if (seg->fields()[c].name == field) column = c;
      }
      if (column == seg->fields().size()) continue;
      for (const auto& series : seg->series()) {
        auto chunks = seg->Chunks(series);
        if (!chunks.ok()) return 1;
        for (const auto& chunk : *chunks) {
          values.clear();
          if (!seg->ReadChunkDoubles(chunk, column, &values).ok()) return 1;
          // Four independent lanes so that the additions do not wait on each other.
          double sum[4] = {0, 0, 0, 0};
          double mn[4] = {agg.min, agg.min, agg.min, agg.min};
          double mx[4] = {agg.max, agg.max, agg.max, agg.max};
          const size_t n = values.size();
          size_t i = 0;
          for (; i + 4 <= n; i += 4) {
            for (int l = 0; l < 4; ++l) {
              const double v = values[i + l];
              sum[l] += v;
              mn[l] = v < mn[l] ? v : mn[l];
              mx[l] = v > mx[l] ? v : mx[l];
            }
          }
          for (; i < n; ++i) {
            sum[0] += values[i];
            mn[0] = values[i] < mn[0] ? values[i] : mn[0];
            mx[0] = values[i] > mx[0] ? values[i] : mx[0];
          }
          agg.sum += (sum[0] + sum[1]) + (sum[2] + sum[3]);
          agg.min = std::min(std::min(mn[0], mn[1]), std::min(mn[2], mn[3]));
          agg.max = std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
          agg.count += n;
        }
      }
    }
    if (pass > 0) best = std::min(best, Seconds(start));
  }

  // The same aggregate from chunk statistics, without decoding.
  Aggregate from_stats;
  auto start = std::chrono::steady_clock::now();
  for (const auto& seg : segments) {
    for (size_t c = 0; c < seg->fields().size(); ++c) {
      if (seg->fields()[c].name != field) continue;
      for (const auto& series : seg->series()) {
        auto chunks = seg->Chunks(series);
        if (!chunks.ok()) return 1;
        for (const auto& chunk : *chunks) {
          const ChunkStats& st = chunk.columns[c].stats;
          from_stats.sum += st.sum;
          from_stats.count += st.count;
          from_stats.min = std::min(from_stats.min, std::bit_cast<double>(st.min_bits));
          from_stats.max = std::max(from_stats.max, std::bit_cast<double>(st.max_bits));
        }
      }
    }
  }
  const double stats_seconds = Seconds(start);

  // A full scan through the engine API (materialises every row of every series).
  double scan_seconds = 0;
  uint64_t scanned = 0;
  {
    auto engine = Engine::Open(Env::Default(), dir, EngineOptions{}, &metrics);
    if (!engine.ok()) return 1;
    ScanRequest request{TenantId(1), "main", schema.measurement};
    request.fields = {field};
    start = std::chrono::steady_clock::now();
    Status s = (*engine)->Scan(request, [&](const SeriesBlock& b) {
      scanned += b.rows.times.size();
      return Status::OK();
    });
    scan_seconds = Seconds(start);
    if (!s.ok()) return 1;
  }
  std::filesystem::remove_all(dir);

  fmt::print("Seaway storage scan: field '{}' of {} rows in {} segments ({:.1f} MiB)\n", field,
             spec.rows(), segments.size(), static_cast<double>(segment_bytes) / (1 << 20));
  fmt::print(
      "  decode + sum/min/max/count, one core: best of {} passes {:.4f} s = {:.0f} M values/s\n",
      repeat, best, static_cast<double>(agg.count) / best / 1e6);
  fmt::print("  answer from chunk statistics:         {:.6f} s ({} values covered)\n",
             stats_seconds, from_stats.count);
  fmt::print("  Engine::Scan materialising rows:       {:.3f} s = {:.0f} M rows/s\n", scan_seconds,
             static_cast<double>(scanned) / scan_seconds / 1e6);
  fmt::print("  check: sum {:.6f} vs stats {:.6f}; min {} max {}; count {} vs {}\n", agg.sum,
             from_stats.sum, agg.min, agg.max, agg.count, from_stats.count);
  const bool consistent = agg.count == from_stats.count &&
                          agg.count == static_cast<uint64_t>(spec.rows()) &&
                          agg.min == from_stats.min && agg.max == from_stats.max &&
                          std::abs(agg.sum - from_stats.sum) <= 1e-6 * std::abs(agg.sum);
  fmt::print("RESULT values={} seconds={:.6f} mvalues_per_s={:.1f} consistent={}\n", agg.count,
             best, static_cast<double>(agg.count) / best / 1e6, consistent);
  return consistent ? 0 : 1;
}

}  // namespace
}  // namespace seaway::bench

int main(int argc, char** argv) { return seaway::bench::Run(argc, argv); }
