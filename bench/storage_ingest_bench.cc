// storage_ingest_bench (bench/): Seaway's side of bench/storage_ingest.sh. Generates a dataset
// (bench/datagen, the same rows the peers load), builds WriteBatches of N rows, writes them into
// a fresh engine from T threads at once (each thread its own batches; Engine::Write returns once
// durable, so concurrent writers share fsyncs through group commit), then closes the engine and
// measures its directory, then reopens it and checks that a scan returns every value written.
//
//   storage_ingest_bench --dataset industrial --rows-per-machine 720 --dir /tmp/sw
//
// The clock covers the Write calls only: batches are built before it starts, as the peers'
// loader prepares its requests before its clock starts. Unlike the peers, no HTTP or text
// parsing is on this path (the engine's embedded API). The last line is key=value pairs for the
// script.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/stat.h>

#include "common/metrics.h"
#include "datagen/batch_rows.h"
#include "datagen/dataset.h"
#include "storage/engine.h"
#include "storage/write_batch.h"

namespace seaway::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Every generated row, in batches of `batch_rows` in generation (time) order.
Result<std::vector<WriteBatch>> BuildBatches(const datagen::DatasetSpec& spec, size_t batch_rows) {
  datagen::Generator gen(spec);
  const datagen::DatasetSchema& schema = gen.schema();
  std::vector<WriteBatch> batches;
  datagen::Row row;
  while (gen.Next(&row)) {
    if (batches.empty() || batches.back().rows() == batch_rows) {
      batches.emplace_back(TenantId(1), "main", schema.measurement);
    }
    SW_RETURN_IF_ERROR(datagen::AppendRow(schema, row, &batches.back()));
  }
  return batches;
}

struct DirUsage {
  uint64_t bytes = 0;          // apparent sizes
  uint64_t allocated = 0;      // blocks the file system allocated (what du reports)
  uint64_t wal_bytes = 0;      // allocated, *.wal
  uint64_t segment_bytes = 0;  // allocated, *.sws
  int wal_files = 0;
  int segment_files = 0;
};

DirUsage MeasureDir(const std::string& dir) {
  DirUsage usage;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    usage.bytes += entry.file_size();
    struct stat st;
    const uint64_t allocated =
        stat(entry.path().c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
    usage.allocated += allocated;
    const std::string ext = entry.path().extension().string();
    if (ext == ".wal") {
      usage.wal_files++;
      usage.wal_bytes += allocated;
    } else if (ext == ".sws") {
      usage.segment_files++;
      usage.segment_bytes += allocated;
    }
  }
  return usage;
}

uint64_t SumCounter(MetricsRegistry* metrics, const char* name, const char* help, int shards) {
  uint64_t total = 0;
  for (int s = 0; s < shards; ++s) {
    total += metrics->GetCounter(name, help, {{"shard", std::to_string(s)}})->value();
  }
  return total;
}

// An order-independent digest of (time, field, value) triples, to check what a scan returns.
struct Digest {
  uint64_t values = 0;
  uint64_t sum = 0;
  void Add(int64_t time, size_t field, uint64_t bits) {
    uint64_t z = bits ^ (static_cast<uint64_t>(time) * 0x9e3779b97f4a7c15ULL) ^ (field << 56);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    sum += z ^ (z >> 31);
    ++values;
  }
};

Digest DigestBatches(const std::vector<WriteBatch>& batches) {
  Digest d;
  for (const WriteBatch& b : batches) {
    for (size_t f = 0; f < b.fields().size(); ++f) {
      const FieldColumn& c = b.fields()[f];
      for (size_t r = 0; r < b.rows(); ++r) {
        if (c.present[r]) d.Add(b.times()[r], f, c.bits[r]);
      }
    }
  }
  return d;
}

// Reopens the engine in `dir` and digests everything it returns for `table`; `rows` counts rows.
Result<Digest> ReadBack(const std::string& dir, const EngineOptions& options,
                        const std::string& table, const std::vector<FieldColumn>& fields,
                        uint64_t* rows, double* open_seconds) {
  MetricsRegistry metrics;
  const auto t0 = Clock::now();
  SW_ASSIGN_OR_RETURN(auto engine, Engine::Open(Env::Default(), dir, options, &metrics));
  *open_seconds = SecondsSince(t0);
  ScanRequest request;
  request.tenant = TenantId(1);
  request.table = table;
  Digest d;
  *rows = 0;
  SW_RETURN_IF_ERROR(engine->Scan(request, [&](const SeriesBlock& block) {
    *rows += block.rows.times.size();
    for (size_t c = 0; c < block.fields.size(); ++c) {
      size_t f = 0;
      while (f < fields.size() && fields[f].name != block.fields[c].name) ++f;
      const ColumnVector& col = block.rows.columns[c];
      for (size_t r = 0; r < block.rows.times.size(); ++r) {
        if (col.present[r]) d.Add(block.rows.times[r], f, col.bits[r]);
      }
    }
    return Status::OK();
  }));
  engine->Close();
  return d;
}

int Run(int argc, char** argv) {
  CLI::App app{"Seaway storage ingest and size benchmark (bench/storage_ingest.sh runs it)"};
  std::string dataset = "industrial", dir, wal_sync = "always";
  datagen::DatasetSpec spec;
  size_t batch_rows = 5000;
  int threads = 2, shards = 2;
  double memtable_gib = 8;
  bool keep = false;
  app.add_option("--dataset", dataset, "industrial | cpu-only")->capture_default_str();
  app.add_option("--scale,--machines,--hosts", spec.entities, "machines or hosts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rows-per-machine", spec.timestamps, "rows per machine or host")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", spec.seed, "dataset seed")->capture_default_str();
  app.add_option("--batch-rows", batch_rows, "rows per WriteBatch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "concurrent writers")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--shards", shards, "engine shards")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--wal-sync", wal_sync, "always | none | interval:MS")->capture_default_str();
  app.add_option("--memtable-gib", memtable_gib, "memtable limit, all shards together")
      ->capture_default_str();
  app.add_option("--dir", dir, "engine directory (must not exist; default: a new temp dir)");
  app.add_flag("--keep", keep, "keep the engine directory");
  CLI11_PARSE(app, argc, argv);
  if (!datagen::ParseDatasetKind(dataset, &spec.kind)) {
    fmt::print(stderr, "storage_ingest_bench: unknown dataset '{}'\n", dataset);
    return 2;
  }

  EngineOptions options;
  options.shards = shards;
  if (Status s = ParseWalSync(wal_sync, &options.shard.sync_mode, &options.shard.sync_interval);
      !s.ok()) {
    fmt::print(stderr, "storage_ingest_bench: {}\n", s);
    return 2;
  }
  options.shard.memtable_limit_bytes =
      static_cast<size_t>(memtable_gib * static_cast<double>(1ULL << 30) / shards);

  std::string remove_after = dir;  // what to delete at the end (unless --keep)
  if (dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = fmt::format("{}/seaway-ingest-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(pattern.data()) == nullptr) {
      fmt::print(stderr, "storage_ingest_bench: mkdtemp '{}' failed\n", pattern);
      return 1;
    }
    dir = pattern + "/engine";
    remove_after = pattern;
  } else if (std::filesystem::exists(dir)) {
    fmt::print(stderr, "storage_ingest_bench: '{}' exists; give a new directory\n", dir);
    return 2;
  }

  auto t_build = Clock::now();
  auto built = BuildBatches(spec, batch_rows);
  if (!built.ok()) {
    fmt::print(stderr, "storage_ingest_bench: building batches: {}\n", built.status());
    return 1;
  }
  std::vector<WriteBatch> batches = std::move(*built);
  const double build_seconds = SecondsSince(t_build);
  const int64_t rows = spec.rows();
  const int64_t fields = static_cast<int64_t>(batches.front().fields().size());
  const int64_t values = rows * fields;

  MetricsRegistry metrics;
  auto opened = Engine::Open(Env::Default(), dir, options, &metrics);
  if (!opened.ok()) {
    fmt::print(stderr, "storage_ingest_bench: open '{}': {}\n", dir, opened.status());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);

  std::atomic<bool> failed{false};
  std::latch start(threads + 1);
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (size_t b = t; b < batches.size() && !failed.load(); b += threads) {
        if (Status s = engine->Write(batches[b]); !s.ok()) {
          fmt::print(stderr, "storage_ingest_bench: batch {}: {}\n", b, s);
          failed.store(true);
        }
      }
    });
  }
  start.arrive_and_wait();
  const auto t0 = Clock::now();
  for (auto& w : writers) w.join();
  const double seconds = SecondsSince(t0);
  if (failed.load()) return 1;

  const uint64_t syncs = SumCounter(&metrics, "seaway_wal_syncs_total", "WAL fsyncs", shards);
  const auto t_close = Clock::now();
  engine->Close();
  engine.reset();
  const double close_seconds = SecondsSince(t_close);
  const DirUsage usage = MeasureDir(dir);
  const char* storage = usage.segment_files > 0 ? "segments+wal" : "wal-only";

  // Everything written must come back after a restart, or the size above means nothing.
  const Digest written = DigestBatches(batches);
  uint64_t rows_read = 0;
  double open_seconds = 0;
  auto read = ReadBack(dir, options, batches.front().table(), batches.front().fields(), &rows_read,
                       &open_seconds);
  if (!read.ok()) {
    fmt::print(stderr, "storage_ingest_bench: reading back: {}\n", read.status());
    return 1;
  }
  if (rows_read != static_cast<uint64_t>(rows) || read->values != written.values ||
      read->sum != written.sum) {
    fmt::print(stderr,
               "storage_ingest_bench: read back {} rows and {} values (digest {:x}) after "
               "reopening; wrote {} rows and {} values (digest {:x})\n",
               rows_read, read->values, read->sum, rows, written.values, written.sum);
    return 1;
  }

  fmt::print(
      "Seaway storage engine: {} rows ({} fields, {} values) of '{}' in {} batches of {} rows,\n"
      "  {} writer threads, {} shards, WAL sync {}; batches built in {:.2f} s (not timed)\n"
      "  write (acknowledged durable): {:.3f} s = {:.0f} rows/s = {:.0f} values/s; {} WAL fsyncs\n"
      "  close (flushes memtables to segments): {:.2f} s; write + close {:.3f} s = {:.0f} rows/s\n"
      "  on disk after close: {} bytes allocated ({} apparent) = {:.2f} bytes/value in '{}':\n"
      "    segments {} bytes in {} files, WAL {} bytes in {} files{}\n"
      "  reopened in {:.3f} s; a scan returned all {} rows and {} values, bit for bit\n",
      rows, fields, values, dataset, batches.size(), batch_rows, threads, shards, wal_sync,
      build_seconds, seconds, rows / seconds, values / seconds, syncs, close_seconds,
      seconds + close_seconds, rows / (seconds + close_seconds), usage.allocated, usage.bytes,
      static_cast<double>(usage.allocated) / values, dir, usage.segment_bytes, usage.segment_files,
      usage.wal_bytes, usage.wal_files,
      usage.segment_files > 0 ? "" : "\n  (WAL only: segments pending, the engine wrote none)",
      open_seconds, rows_read, read->values);
  fmt::print(
      "RESULT rows={} values={} seconds={:.3f} close_seconds={:.3f} bytes={} apparent_bytes={} "
      "segment_bytes={} wal_bytes={} storage={} wal_syncs={} reopen_seconds={:.3f}\n",
      rows, values, seconds, close_seconds, usage.allocated, usage.bytes, usage.segment_bytes,
      usage.wal_bytes, storage, syncs, open_seconds);

  if (!keep) std::filesystem::remove_all(remove_after);
  return 0;
}

}  // namespace
}  // namespace seaway::bench

int main(int argc, char** argv) { return seaway::bench::Run(argc, argv); }
