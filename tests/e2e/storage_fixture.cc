// storage_fixture: writes a small, known data directory with the real storage engine, for the
// inspector test (tests/e2e/inspect_test.sh) and for the seed corpora of the storage fuzzers
// (tests/fuzz/{segment,wal_file,wal_record}).
//
//   storage_fixture write DIR   one shard: tables "plant" (two daily partitions, every field
//                               type, fields present in all, some or no rows, a series without a
//                               tag) and "energy" (8200 rows: 3 chunks) flushed to segments 1-3
//                               (LSN 1-2); a delete (a tombstone in the manifest) and rows
//                               flushed to segment 4 (LSN 3-4); two writes and a delete left in
//                               WAL file 3 (LSN 5-7)
//   storage_fixture seeds OUT   runs `write` in OUT/data, then writes OUT/segment/*.bin (the
//                               segment files), OUT/wal_file/*.bin (the WAL file, torn copies)
//                               and OUT/wal_record/*.bin (its record payloads); removes OUT/data
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/metrics.h"
#include "storage/engine.h"
#include "storage/manifest.h"
#include "storage/wal.h"

namespace seaway {
namespace {

constexpr int64_t kDay1 = 1'717'200'000'000'000'000;  // 2024-06-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000'000;

// Rows of "plant" starting at `start`: machine m1 has every field (count missing on every third
// row), m2 only temp and serial, and line b (no machine tag) temp and state.
Status AddPlantRows(WriteBatch* b, int64_t start, int rows) {
  for (int i = 0; i < rows; ++i) {
    b->AddRow(start + i * 10 * kSecond);
    SW_RETURN_IF_ERROR(b->SetTag("line", "a"));
    SW_RETURN_IF_ERROR(b->SetTag("machine", "m1"));
    SW_RETURN_IF_ERROR(b->SetDouble("temp", 20.5 + i * 0.25));
    if (i % 3 != 0) SW_RETURN_IF_ERROR(b->SetInt64("count", -40 + i));
    SW_RETURN_IF_ERROR(b->SetUInt64("serial", 1000 + static_cast<uint64_t>(i)));
    SW_RETURN_IF_ERROR(b->SetBool("running", i % 2 == 0));
    SW_RETURN_IF_ERROR(b->SetString("state", i % 2 == 0 ? "run" : "idle"));
    b->AddRow(start + i * 10 * kSecond);
    SW_RETURN_IF_ERROR(b->SetTag("line", "a"));
    SW_RETURN_IF_ERROR(b->SetTag("machine", "m2"));
    SW_RETURN_IF_ERROR(b->SetDouble("temp", 30.0 - i));
    SW_RETURN_IF_ERROR(b->SetUInt64("serial", 2000));
  }
  b->AddRow(start + kSecond / 4);
  SW_RETURN_IF_ERROR(b->SetTag("line", "b"));
  SW_RETURN_IF_ERROR(b->SetDouble("temp", -1.5));
  return b->SetString("state", "maintenance \"weekly\"");
}

Status WriteFixture(const std::string& dir) {
  MetricsRegistry metrics;
  EngineOptions options;
  options.shards = 1;
  options.shard.flush_on_close = false;  // leave LSN 5-7 in the WAL
  SW_ASSIGN_OR_RETURN(auto engine, Engine::Open(Env::Default(), dir, options, &metrics));

  WriteBatch plant(TenantId(7), "main", "plant");
  SW_RETURN_IF_ERROR(AddPlantRows(&plant, kDay1, 6));
  SW_RETURN_IF_ERROR(AddPlantRows(&plant, kDay1 + 86400 * kSecond, 2));  // the next partition
  SW_RETURN_IF_ERROR(engine->Write(plant));                              // LSN 1
  WriteBatch energy(TenantId(7), "main", "energy");
  for (int i = 0; i < 8200; ++i) {
    energy.AddRow(kDay1 + i * kSecond);
    SW_RETURN_IF_ERROR(energy.SetTag("meter", "x"));
    SW_RETURN_IF_ERROR(energy.SetDouble("kwh", i * 0.5));
  }
  SW_RETURN_IF_ERROR(engine->Write(energy));  // LSN 2
  SW_RETURN_IF_ERROR(engine->Flush());        // segments 1-3

  // A delete of flushed rows becomes a tombstone in the manifest with the next flush.
  ScanRequest m2{TenantId(7), "main", "plant"};
  m2.tag_equals = {{"machine", "m2"}};
  m2.min_time = kDay1;
  m2.max_time = kDay1 + 20 * kSecond;
  SW_RETURN_IF_ERROR(engine->Delete(m2));  // LSN 3
  WriteBatch hour1(TenantId(7), "main", "plant");
  SW_RETURN_IF_ERROR(AddPlantRows(&hour1, kDay1 + 3600 * kSecond, 2));
  SW_RETURN_IF_ERROR(engine->Write(hour1));  // LSN 4
  SW_RETURN_IF_ERROR(engine->Flush());       // segment 4

  WriteBatch hour2(TenantId(7), "main", "plant");
  SW_RETURN_IF_ERROR(AddPlantRows(&hour2, kDay1 + 7200 * kSecond, 3));
  SW_RETURN_IF_ERROR(engine->Write(hour2));  // LSN 5
  WriteBatch old(TenantId(7), "main", "energy");
  old.AddRow(-86400 * kSecond + 1);  // before 1970, nanosecond precision
  SW_RETURN_IF_ERROR(old.SetTag("meter", "y"));
  SW_RETURN_IF_ERROR(old.SetDouble("kwh", 0.125));
  SW_RETURN_IF_ERROR(engine->Write(old));  // LSN 6
  ScanRequest b{TenantId(7), "main", "plant"};
  b.tag_equals = {{"line", "b"}};
  b.min_time = kDay1;
  b.max_time = kDay1 + 2 * 86400 * kSecond;
  SW_RETURN_IF_ERROR(engine->Delete(b));  // LSN 7
  engine->Close();
  return Status::OK();
}

void WriteBytes(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Status WriteSeeds(const std::string& out) {
  const std::string data = out + "/data";
  SW_RETURN_IF_ERROR(WriteFixture(data));
  Env* env = Env::Default();
  const std::string shard = data + "/shard-000";
  SW_ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(env, shard));
  const char* segment_names[] = {"energy_two_chunks", "plant_day1", "plant_day2", "plant_hour1"};
  for (size_t i = 0; i < manifest.segments.size() && i < 4; ++i) {
    SW_ASSIGN_OR_RETURN(
        std::string bytes,
        ReadFileToString(env, JoinPath(shard, SegmentFileName(manifest.segments[i]))));
    WriteBytes(fmt::format("{}/segment/{}.bin", out, segment_names[i]), bytes);
  }
  const std::string wal_path = JoinPath(shard, WalFileName(3));
  SW_ASSIGN_OR_RETURN(std::string wal, ReadFileToString(env, wal_path));
  WriteBytes(out + "/wal_file/write_write_delete.bin", wal);
  WriteBytes(out + "/wal_file/torn_last_frame.bin",
             std::string_view(wal).substr(0, wal.size() - 9));
  WriteBytes(out + "/wal_file/magic_only.bin", kWalMagic);
  int n = 0;
  auto read = ReadWalFile(env, wal_path, [&](const WalFrame& frame) {
    const bool write = frame.type == WalRecordType::kWrite;
    WriteBytes(fmt::format("{}/wal_record/lsn{}_{}.bin", out, frame.lsn.value(),
                           write ? "write" : "delete"),
               frame.payload);
    ++n;
    return Status::OK();
  });
  if (!read.ok()) return read.status();
  std::filesystem::remove_all(data);
  std::printf("seeds: %zu segments, 3 WAL files, %d records in %s\n", manifest.segments.size(), n,
              out.c_str());
  return Status::OK();
}

}  // namespace
}  // namespace seaway

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  seaway::Status s;
  if (mode == "write") {
    s = seaway::WriteFixture(argv[2]);
  } else if (mode == "seeds") {
    s = seaway::WriteSeeds(argv[2]);
  } else {
    std::fprintf(stderr, "usage: storage_fixture write DIR | seeds OUT\n");
    return 2;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "storage_fixture: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
