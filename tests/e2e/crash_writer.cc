// crash_writer: drives the storage engine in its own process for the crash-loop test
// (tests/e2e/crash_loop_test.sh), which kills it with SIGKILL at random moments.
//
//   crash_writer write DIR START   writes batches of rows numbered START, START+1, ... forever,
//                                  printing "ack N" once row N's batch is acknowledged (durable)
//   crash_writer verify DIR ACKS   reopens DIR and checks that every row listed in the file ACKS
//                                  is stored whole (every field present and equal to the value
//                                  derived from its number), and that no stored row is partial
//
// Rows go to 50 series over 3 shards so a batch spans shards; every row carries 4 fields. The
// writer flushes every 256 KiB per shard, so kills also land inside flushes.
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "common/metrics.h"
#include "storage/engine.h"

namespace seaway {
namespace {

constexpr int kSeries = 50;
constexpr int kRowsPerBatch = 20;

std::string Host(uint64_t n) { return "dev" + std::to_string(n % kSeries); }

int Write(const std::string& dir, uint64_t start) {
  MetricsRegistry metrics;
  EngineOptions options;
  options.shards = 3;
  options.shard.flush_bytes = 256 << 10;  // flushes, WAL deletion and manifests under the kills
  auto engine = Engine::Open(Env::Default(), dir, options, &metrics);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  for (uint64_t n = start;; n += kRowsPerBatch) {
    WriteBatch batch(TenantId(1), "main", "crash");
    for (uint64_t i = n; i < n + kRowsPerBatch; ++i) {
      batch.AddRow(static_cast<int64_t>(i));
      if (!batch.SetTag("host", Host(i)).ok() ||
          !batch.SetInt64("n", static_cast<int64_t>(i)).ok() ||
          !batch.SetDouble("half", static_cast<double>(i) / 2).ok() ||
          !batch.SetString("label", "row-" + std::to_string(i)).ok() ||
          !batch.SetBool("even", i % 2 == 0).ok()) {
        return 1;
      }
    }
    Status s = (*engine)->Write(batch);
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
      return 1;
    }
    for (uint64_t i = n; i < n + kRowsPerBatch; ++i) std::printf("ack %lu\n", i);
    std::fflush(stdout);
  }
}

int Verify(const std::string& dir, const std::string& acks_path) {
  std::set<uint64_t> acked;
  std::ifstream in(acks_path);
  std::string word;
  uint64_t n;
  while (in >> word >> n) acked.insert(n);

  MetricsRegistry metrics;
  auto engine = Engine::Open(Env::Default(), dir, EngineOptions{}, &metrics);
  if (!engine.ok()) {
    std::fprintf(stderr, "FAIL reopen: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::set<uint64_t> stored;
  size_t partial = 0, wrong = 0;
  ScanRequest request{TenantId(1), "main", "crash"};
  Status s = (*engine)->Scan(request, [&](const SeriesBlock& b) {
    for (size_t r = 0; r < b.rows.times.size(); ++r) {
      uint64_t row = static_cast<uint64_t>(b.rows.times[r]);
      bool whole = true;
      for (const auto& col : b.rows.columns) whole &= col.present[r] != 0;
      if (!whole) {
        ++partial;
        continue;
      }
      for (size_t c = 0; c < b.fields.size(); ++c) {
        const auto& col = b.rows.columns[c];
        const std::string& name = b.fields[c].name;
        bool ok = (name == "n" && col.bits[r] == row) ||
                  (name == "half" &&
                   std::bit_cast<double>(col.bits[r]) == static_cast<double>(row) / 2) ||
                  (name == "label" && col.strings[r] == "row-" + std::to_string(row)) ||
                  (name == "even" && col.bits[r] == (row % 2 == 0 ? 1u : 0u));
        if (!ok || b.series->Tag("host") != Host(row)) ++wrong;
      }
      stored.insert(row);
    }
    return Status::OK();
  });
  if (!s.ok() && !(s.code() == StatusCode::kNotFound && acked.empty())) {
    std::fprintf(stderr, "FAIL scan: %s\n", s.ToString().c_str());
    return 1;
  }
  size_t lost = 0;
  for (uint64_t a : acked) lost += stored.count(a) == 0;
  std::printf("acked=%zu stored=%zu lost=%zu partial=%zu wrong=%zu\n", acked.size(), stored.size(),
              lost, partial, wrong);
  return lost == 0 && partial == 0 && wrong == 0 ? 0 : 1;
}

}  // namespace
}  // namespace seaway

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "write") {
    return seaway::Write(argv[2], std::strtoull(argv[3], nullptr, 10));
  }
  if (argc == 4 && std::string(argv[1]) == "verify") return seaway::Verify(argv[2], argv[3]);
  std::fprintf(stderr, "usage: crash_writer write DIR START | verify DIR ACKS\n");
  return 2;
}
