// Storage limits benchmark (bench/): restart time after a crash with a full WAL, and memory for
// one million series.
//
//   build/release/bench/storage_limits_bench restart [--rows 2000000]
//   build/release/bench/storage_limits_bench cardinality [--series 1000000]
//
// restart: writes the industrial dataset with flushing held back, so that every row is only in
// the WAL (as after a crash just before a flush), abandons the engine without closing it (the
// process state is thrown away, as a kill would), and times Engine::Open replaying the WAL.
// cardinality: writes one row to each of N distinct series (4 tags, 7 fields), flushes, reopens,
// answers Latest for all of them (which reads every series' newest row from the segments and
// fills the last-value cache), then once more (from the cache), and reports resident memory at
// each step with what the engine's caches hold.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/metrics.h"
#include "common/process_stats.h"
#include "datagen/batch_rows.h"
#include "datagen/dataset.h"
#include "storage/engine.h"

namespace seaway::bench {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Resident memory after returning freed heap to the system, so that memory the previous phase
// freed does not count against the next one.
double ResidentMiB() {
  malloc_trim(0);
  return static_cast<double>(ReadProcessStats().resident_bytes) / (1 << 20);
}

// The same split into anonymous memory (heap: indexes, caches) and mapped file pages (segment
// files in the page cache, which the kernel reclaims under pressure).
std::string ResidentSplit() {
  ProcessStats s = ReadProcessStats();
  return fmt::format("{:.0f} MiB heap + {:.0f} MiB mapped segment pages",
                     static_cast<double>(s.resident_anon_bytes) / (1 << 20),
                     static_cast<double>(s.resident_file_bytes) / (1 << 20));
}

uint64_t DirBytes(const std::string& dir, std::string_view suffix) {
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().string().ends_with(suffix)) bytes += e.file_size();
  }
  return bytes;
}

int Restart(int64_t rows) {
  const std::string dir = fmt::format("/tmp/seaway-restart-{}", getpid());
  std::filesystem::remove_all(dir);
  datagen::DatasetSpec spec;
  spec.timestamps = static_cast<int>(rows / spec.entities);
  datagen::Generator gen(spec);
  const auto& schema = gen.schema();
  MetricsRegistry metrics;
  EngineOptions options;
  options.shard.flush_bytes = size_t{4} << 30;  // hold everything in the WAL
  options.shard.memtable_limit_bytes = size_t{8} << 30;
  options.shard.wal_file_bytes = uint64_t{1} << 40;
  {
    auto engine = Engine::Open(Env::Default(), dir, options, &metrics);
    if (!engine.ok()) return 1;
    if (Status s = datagen::WriteAll(&gen, engine->get()); !s.ok()) {
      fmt::print(stderr, "write: {}\n", s);
      return 1;
    }
    // A crash: the engine is never closed (its threads and memory are simply abandoned).
    (void)engine->release();
  }
  const uint64_t wal_bytes = DirBytes(dir, ".wal");
  options.shard.flush_on_close = false;
  auto start = std::chrono::steady_clock::now();
  auto engine = Engine::Open(Env::Default(), dir, options, &metrics);
  const double open_seconds = Seconds(start);
  if (!engine.ok()) {
    fmt::print(stderr, "reopen: {}\n", engine.status());
    return 1;
  }
  uint64_t seen = 0;
  ScanRequest request{TenantId(1), "main", schema.measurement};
  if (!(*engine)
           ->Scan(request,
                  [&](const SeriesBlock& b) {
                    seen += b.rows.times.size();
                    return Status::OK();
                  })
           .ok()) {
    return 1;
  }
  (*engine)->Close();
  std::filesystem::remove_all(dir);
  fmt::print(
      "restart after a crash: {} rows ({:.1f} MiB of WAL) replayed in {:.3f} s; {} rows "
      "readable\n",
      spec.rows(), static_cast<double>(wal_bytes) / (1 << 20), open_seconds, seen);
  fmt::print("RESULT restart_seconds={:.3f} wal_bytes={} rows={}\n", open_seconds, wal_bytes, seen);
  return seen == static_cast<uint64_t>(spec.rows()) ? 0 : 1;
}

int Cardinality(int series) {
  const std::string dir = fmt::format("/tmp/seaway-cardinality-{}", getpid());
  std::filesystem::remove_all(dir);
  MetricsRegistry metrics;
  const double base = ResidentMiB();
  double after_write = 0, after_reopen = 0, after_latest = 0;
  double write_seconds = 0, reopen_seconds = 0, latest_seconds = 0;
  uint64_t retries = 0;
  const char* fields[] = {"temperature", "vibration", "pressure", "current", "speed"};
  {
    auto engine = Engine::Open(Env::Default(), dir, EngineOptions{}, &metrics);
    if (!engine.ok()) return 1;
    auto start = std::chrono::steady_clock::now();
    for (int b = 0; b < series; b += 5000) {
      WriteBatch batch(TenantId(1), "main", "machine");
      for (int i = b; i < std::min(series, b + 5000); ++i) {
        batch.AddRow(1767225600LL * 1'000'000'000);
        (void)batch.SetTag("site", fmt::format("site{}", i % 50));
        (void)batch.SetTag("line", fmt::format("line{}", i % 400));
        (void)batch.SetTag("machine_id", fmt::format("m{:07}", i));
        (void)batch.SetTag("model", fmt::format("model{}", i % 8));
        for (const char* f : fields) (void)batch.SetDouble(f, 20.0 + i % 100);
        (void)batch.SetInt64("parts", i);
        (void)batch.SetInt64("status", i % 6);
      }
      // A client retries what the engine refuses with "retry later" (back-pressure).
      Status s;
      while ((s = (*engine)->Write(batch)).code() == StatusCode::kUnavailable) {
        ++retries;
        usleep(1000);
      }
      if (!s.ok()) {
        fmt::print(stderr, "write: {}\n", s);
        return 1;
      }
    }
    if (!(*engine)->Flush().ok()) return 1;
    write_seconds = Seconds(start);
    after_write = ResidentMiB();
  }
  {
    auto start = std::chrono::steady_clock::now();
    auto engine = Engine::Open(Env::Default(), dir, EngineOptions{}, &metrics);
    if (!engine.ok()) return 1;
    reopen_seconds = Seconds(start);
    after_reopen = ResidentMiB();
    const std::string reopen_split = ResidentSplit();
    uint64_t latest = 0;
    start = std::chrono::steady_clock::now();
    ScanRequest request{TenantId(1), "main", "machine"};
    if (!(*engine)
             ->Latest(request,
                      [&](const SeriesBlock&) {
                        ++latest;
                        return Status::OK();
                      })
             .ok()) {
      return 1;
    }
    latest_seconds = Seconds(start);
    after_latest = ResidentMiB();
    const std::string latest_split = ResidentSplit();
    const EngineCacheStats caches = (*engine)->cache_stats();
    start = std::chrono::steady_clock::now();
    uint64_t cached_latest = 0;
    if (!(*engine)
             ->Latest(request,
                      [&](const SeriesBlock&) {
                        ++cached_latest;
                        return Status::OK();
                      })
             .ok() ||
        cached_latest != latest) {
      return 1;
    }
    const double cached_latest_seconds = Seconds(start);
    fmt::print(
        "cardinality: {} series written+flushed in {:.1f} s ({} batches retried after "
        "back-pressure); resident {:.0f} MiB before, {:.0f} MiB after writing\n",
        series, write_seconds, retries, base, after_write);
    fmt::print(
        "  reopened in {:.2f} s: resident {:.0f} MiB = {} (series index, catalog, segment "
        "indexes)\n  Latest of all {} series in {:.2f} s: resident {:.0f} MiB = {} (with the "
        "last-value cache full)\n",
        reopen_seconds, after_reopen, reopen_split, latest, latest_seconds, after_latest,
        latest_split);
    fmt::print(
        "  caches: last-value {:.0f} MiB ({} entries, {:.0f} bytes each); segment index blocks "
        "{:.0f} of {:.0f} MiB ({} hits, {} misses)\n  Latest again, from the cache: {:.2f} s\n",
        static_cast<double>(caches.last_value_bytes) / (1 << 20), caches.last_value_entries,
        static_cast<double>(caches.last_value_bytes) /
            static_cast<double>(std::max<size_t>(1, caches.last_value_entries)),
        static_cast<double>(caches.segment_index_bytes) / (1 << 20),
        static_cast<double>(caches.segment_index_capacity) / (1 << 20), caches.segment_index_hits,
        caches.segment_index_misses, cached_latest_seconds);
    fmt::print("RESULT series={} rss_after_reopen_mib={:.0f} rss_after_latest_mib={:.0f}\n", series,
               after_reopen, after_latest);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

int Run(int argc, char** argv) {
  CLI::App app{"Seaway storage limits benchmark"};
  app.require_subcommand(1);
  int64_t rows = 2'000'000;
  int series = 1'000'000;
  auto* restart = app.add_subcommand("restart", "restart time with a full WAL");
  restart->add_option("--rows", rows, "rows in the WAL");
  auto* cardinality = app.add_subcommand("cardinality", "memory for many series");
  cardinality->add_option("--series", series, "distinct series");
  CLI11_PARSE(app, argc, argv);
  if (restart->parsed()) return Restart(rows);
  return Cardinality(series);
}

}  // namespace
}  // namespace seaway::bench

int main(int argc, char** argv) { return seaway::bench::Run(argc, argv); }
