// Tests for DROP TABLE (Engine::DropTable, src/storage/engine.h): reads after a drop, re-creating
// the name with other types, durability across clean restarts and power losses, WAL replay that
// must not resurrect the table, drops racing with flushes and compactions, the last-value cache,
// tombstones and retention, and the catalog and segment formats before table generations.
#include <atomic>
#include <bit>
#include <condition_variable>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/coding.h"
#include "storage/checksummed_file.h"
#include "storage/engine.h"
#include "storage/fault_injection_env.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

constexpr TenantId kTenant(1);
constexpr int64_t kDay = 86'400'000'000'000;

// `n` rows of table `table`: host h0..h{hosts-1}, field "v" as a double (or, with `as_int`, an
// integer), at times start, start + 1, ...
WriteBatch Rows(const std::string& table, int hosts, int n, int64_t start, bool as_int = false) {
  WriteBatch b(kTenant, "main", table);
  for (int i = 0; i < n; ++i) {
    b.AddRow(start + i);
    EXPECT_TRUE(b.SetTag("host", "h" + std::to_string(i % hosts)).ok());
    if (as_int) {
      EXPECT_TRUE(b.SetInt64("v", i).ok());
    } else {
      EXPECT_TRUE(b.SetDouble("v", i + 0.5).ok());
    }
  }
  return b;
}

// Every row of `table` as host -> time -> value text ("i:N" for integers, "d:X" for doubles), or
// the error of the scan.
Result<std::map<std::string, std::map<int64_t, std::string>>> Scan(const Engine& engine,
                                                                   const std::string& table) {
  std::map<std::string, std::map<int64_t, std::string>> out;
  ScanRequest r{kTenant, "main", table};
  SW_RETURN_IF_ERROR(engine.Scan(r, [&](const SeriesBlock& b) {
    for (size_t i = 0; i < b.rows.times.size(); ++i) {
      for (size_t f = 0; f < b.fields.size(); ++f) {
        const auto& col = b.rows.columns[f];
        if (!col.present[i]) continue;
        out[std::string(b.series->Tag("host"))][b.rows.times[i]] =
            col.type == FieldType::kInt64
                ? "i:" + std::to_string(static_cast<int64_t>(col.bits[i]))
                : "d:" + std::to_string(std::bit_cast<double>(col.bits[i]));
      }
    }
    return Status::OK();
  }));
  return out;
}

size_t RowCount(const Engine& engine, const std::string& table) {
  auto rows = Scan(engine, table);
  EXPECT_TRUE(rows.ok()) << rows.status();
  size_t n = 0;
  if (rows.ok()) {
    for (const auto& [host, r] : *rows) n += r.size();
  }
  return n;
}

void ExpectNoTable(const Engine& engine, const std::string& table) {
  auto rows = Scan(engine, table);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(rows.status().message(),
            fmt::format("table '{}' does not exist in database 'main'", table));
  Status latest = engine.Latest(ScanRequest{kTenant, "main", table},
                                [](const SeriesBlock&) { return Status::OK(); });
  EXPECT_EQ(latest.code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine.series().Match(kTenant, "main", table, {}).empty());
  EXPECT_EQ(engine.catalog().Find(kTenant, "main", table), nullptr);
}

// (segment file, table) of every segment in every shard directory.
std::vector<std::pair<std::string, std::string>> Segments(Env* env, int shards) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int s = 0; s < shards; ++s) {
    const std::string dir = fmt::format("db/shard-{:03}", s);
    auto names = env->GetChildren(dir);
    if (!names.ok()) continue;
    for (const auto& name : *names) {
      if (!name.ends_with(".sws")) continue;
      auto seg = Segment::Open(env, dir + "/" + name);
      EXPECT_TRUE(seg.ok()) << seg.status();
      if (seg.ok()) out.emplace_back(dir + "/" + name, (*seg)->table());
    }
  }
  return out;
}

size_t SegmentsOf(Env* env, int shards, const std::string& table) {
  size_t n = 0;
  for (const auto& [path, t] : Segments(env, shards)) n += t == table;
  return n;
}

class DropTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mem_.SyncDir(".").ok()); }
  void Open(EngineOptions options) {
    engine_.reset();
    options_ = options;
    auto e = Engine::Open(env_ ? env_ : &mem_, "db", options, &metrics_);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  void Reopen() { Open(options_); }
  // Power loss: the engine stops without flushing; unsynced bytes are lost.
  void Crash() {
    engine_->Close();
    engine_.reset();
    mem_.SimulateCrash({CrashOptions::Mode::kDropUnsynced, 1});
  }
  static EngineOptions KeepWal(int shards) {
    EngineOptions o{.shards = shards};
    o.shard.flush_on_close = false;
    return o;
  }

  MemoryEnv mem_;
  Env* env_ = nullptr;
  MetricsRegistry metrics_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(DropTableTest, ReadsAfterADropAreNotFound) {
  Open({.shards = 3});
  ASSERT_TRUE(engine_->Write(Rows("machine", 6, 30, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Rows("machine", 6, 30, 100)).ok());  // in memtables too
  ASSERT_TRUE(engine_->Write(Rows("other", 2, 4, 0)).ok());
  EXPECT_EQ(RowCount(*engine_, "machine"), 60u);
  EXPECT_EQ(engine_->series().size(), 8u);

  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(engine_->Delete(ScanRequest{kTenant, "main", "machine"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->catalog().ListTables(kTenant, "main"), (std::vector<std::string>{"other"}));
  EXPECT_EQ(engine_->series().size(), 2u);
  EXPECT_EQ(RowCount(*engine_, "other"), 4u);
  Status again = engine_->DropTable(kTenant, "main", "machine");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "table 'machine' does not exist in database 'main'");
  EXPECT_EQ(engine_->DropTable(kTenant, "nodb", "other").message(),
            "table 'other' does not exist in database 'nodb'");
  EXPECT_EQ(engine_->DropTable(TenantId(2), "main", "other").code(), StatusCode::kNotFound);
  EXPECT_TRUE(engine_->health().ok());
}

// A deleted tenant (Engine::DropTenant): every table of it goes, in every database and
// shard, and a write or CREATE TABLE racing with the drop cannot bring one back. Other tenants
// keep theirs.
TEST_F(DropTableTest, ADroppedTenantLosesEveryTableAndTakesNoWrites) {
  Open({.shards = 3});
  ASSERT_TRUE(engine_->Write(Rows("machine", 6, 30, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Rows("other", 2, 4, 0)).ok());
  WriteBatch lab(kTenant, "lab", "probe");
  lab.AddRow(1);
  ASSERT_TRUE(lab.SetDouble("v", 1).ok());
  ASSERT_TRUE(engine_->Write(lab).ok());
  const TenantId other(kTenant.value() + 1);
  WriteBatch kept(other, "main", "machine");
  kept.AddRow(1);
  ASSERT_TRUE(kept.SetDouble("v", 2).ok());
  ASSERT_TRUE(engine_->Write(kept).ok());
  ASSERT_TRUE(engine_->SetTenantRetention(kTenant, Duration::Seconds(3600)).ok());

  ASSERT_TRUE(engine_->DropTenant(kTenant).ok());
  EXPECT_TRUE(engine_->catalog().ListDatabases(kTenant).empty());
  EXPECT_EQ(SegmentsOf(&mem_, 3, "machine"), 0u);
  EXPECT_FALSE(engine_->Retention(kTenant, "main", "machine").has_value());
  Status refused = engine_->Write(Rows("machine", 1, 1, 500));
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused;
  EXPECT_EQ(
      engine_->CreateTable(kTenant, "main", "t", {}, {{"v", FieldType::kDouble}}, false).code(),
      StatusCode::kPermissionDenied);
  EXPECT_TRUE(engine_->catalog().ListDatabases(kTenant).empty());
  EXPECT_EQ(engine_->catalog().ListTables(other, "main"), std::vector<std::string>{"machine"});
  EXPECT_TRUE(engine_->DropTenant(kTenant).ok());  // again: nothing left, fine
  // After a restart the rows stay gone (the caller tells the engine again).
  Reopen();
  EXPECT_TRUE(engine_->catalog().ListDatabases(kTenant).empty());
  EXPECT_TRUE(engine_->health().ok());
}

TEST_F(DropTableTest, SegmentFilesOfTheTableAreDeletedInEveryShard) {
  Open({.shards = 3});
  for (int day = 0; day < 2; ++day) {
    ASSERT_TRUE(engine_->Write(Rows("machine", 9, 90, day * kDay)).ok());
    ASSERT_TRUE(engine_->Write(Rows("other", 3, 3, day * kDay)).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  const size_t before = SegmentsOf(&mem_, 3, "machine");
  EXPECT_GE(before, 6u);  // every shard, both days
  const size_t others = SegmentsOf(&mem_, 3, "other");
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  EXPECT_EQ(SegmentsOf(&mem_, 3, "machine"), 0u);
  EXPECT_EQ(SegmentsOf(&mem_, 3, "other"), others);
  // The manifests no longer list them: a restart finds nothing missing.
  Reopen();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(RowCount(*engine_, "other"), 6u);
}

TEST_F(DropTableTest, TheNameCanBeCreatedAgainWithOtherTypes) {
  Open({.shards = 2});
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 10, 0)).ok());  // v is a float
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 10, 50)).ok());
  EXPECT_EQ(engine_->Write(Rows("machine", 2, 1, 0, /*as_int=*/true)).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());

  // Schema-on-write starts a fresh table: v is an integer now, at the same times and tags.
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 4, 0, /*as_int=*/true)).ok());
  auto schema = engine_->catalog().Find(kTenant, "main", "machine");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->generation, 1u);
  ASSERT_EQ(schema->fields.size(), 1u);
  EXPECT_EQ(schema->fields[0].type, FieldType::kInt64);
  const std::map<std::string, std::map<int64_t, std::string>> expected{
      {"h0", {{0, "i:0"}, {2, "i:2"}}}, {"h1", {{1, "i:1"}, {3, "i:3"}}}};
  EXPECT_EQ(*Scan(*engine_, "machine"), expected);
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_EQ(*Scan(*engine_, "machine"), expected);
  Reopen();
  EXPECT_EQ(*Scan(*engine_, "machine"), expected);

  // And by DDL, with the declared types binding.
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  ASSERT_TRUE(engine_
                  ->CreateTable(kTenant, "main", "machine", {"host"},
                                {{"v", FieldType::kString}, {"ok", FieldType::kBool}})
                  .ok());
  EXPECT_EQ(engine_->Write(Rows("machine", 1, 1, 0, true)).message(),
            "table 'machine' field 'v': type integer conflicts with stored type string");
  WriteBatch b(kTenant, "main", "machine");
  b.AddRow(7);
  ASSERT_TRUE(b.SetTag("host", "h0").ok());
  ASSERT_TRUE(b.SetString("v", "seven").ok());
  ASSERT_TRUE(engine_->Write(b).ok());
  Reopen();
  schema = engine_->catalog().Find(kTenant, "main", "machine");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->generation, 2u);
  EXPECT_EQ(schema->fields[0].type, FieldType::kString);
  size_t rows = 0;
  ASSERT_TRUE(engine_
                  ->Scan(ScanRequest{kTenant, "main", "machine"},
                         [&](const SeriesBlock& blk) {
                           rows += blk.rows.times.size();
                           EXPECT_EQ(blk.rows.columns[0].strings[0], "seven");
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(rows, 1u);
}

TEST_F(DropTableTest, ADropSurvivesACleanRestart) {
  Open({.shards = 2});
  ASSERT_TRUE(engine_->Write(Rows("machine", 4, 20, 0)).ok());
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  Reopen();
  ExpectNoTable(*engine_, "machine");
  Open(KeepWal(2));  // the WAL keeps the drop records this time
  ExpectNoTable(*engine_, "machine");
}

TEST_F(DropTableTest, ADropSurvivesAPowerLossAndReplayDoesNotResurrectTheTable) {
  // Rows of the table in the WAL of every shard, some also in segments; the drop; then power
  // loss before anything is flushed. Whichever shard replays first, none brings the table back.
  Open(KeepWal(4));
  ASSERT_TRUE(engine_->Write(Rows("machine", 16, 64, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Write(Rows("machine", 16, 64, 1000)).ok());
  ASSERT_TRUE(engine_->Delete(ScanRequest{kTenant, "main", "machine", 0, 10}).ok());
  ASSERT_TRUE(engine_->Write(Rows("other", 2, 2, 0)).ok());
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  const uint64_t next_id = engine_->series().next_id();
  Crash();
  Reopen();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(RowCount(*engine_, "other"), 2u);
  EXPECT_EQ(engine_->series().size(), 2u);
  EXPECT_EQ(engine_->tombstone_count(), 0u);
  // New series never reuse the ids of dropped ones, even after the restart.
  ASSERT_TRUE(engine_->Write(Rows("machine", 1, 1, 0)).ok());
  EXPECT_GE(engine_->series().Match(kTenant, "main", "machine", {})[0]->id.value(), next_id);
}

TEST_F(DropTableTest, ReplayKeepsOnlyTheNewGenerationAfterARecreateWithOtherTypes) {
  // Old-generation float rows in every shard's WAL, then integer rows of the new generation in
  // some shards: replaying an old record after a new one would conflict on the type of "v".
  Open(KeepWal(4));
  ASSERT_TRUE(engine_->Write(Rows("machine", 16, 64, 0)).ok());
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  ASSERT_TRUE(engine_->Write(Rows("machine", 3, 3, 0, /*as_int=*/true)).ok());
  const auto expected = *Scan(*engine_, "machine");
  ASSERT_EQ(expected.size(), 3u);
  for (int round = 0; round < 2; ++round) {
    Crash();
    Reopen();
    EXPECT_EQ(*Scan(*engine_, "machine"), expected) << "round " << round;
    EXPECT_EQ(engine_->series().Match(kTenant, "main", "machine", {}).size(), 3u);
    EXPECT_EQ(engine_->catalog().Find(kTenant, "main", "machine")->generation, 1u);
  }
  // Flushing the new generation and restarting again leaves the same.
  ASSERT_TRUE(engine_->Flush().ok());
  Reopen();
  EXPECT_EQ(*Scan(*engine_, "machine"), expected);
}

TEST_F(DropTableTest, SegmentsOfADroppedTableLeftByACrashAreDeletedOnOpen) {
  Open(KeepWal(2));
  ASSERT_TRUE(engine_->Write(Rows("machine", 4, 8, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  // Keep copies of the table's segment files and manifests, drop, then put them back: the
  // state of a crash after the catalog committed the drop but before the files went.
  std::map<std::string, std::string> saved;
  for (int s = 0; s < 2; ++s) {
    const std::string dir = fmt::format("db/shard-{:03}", s);
    auto names = mem_.GetChildren(dir);
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) {
      if (name.ends_with(".sws") || name == "MANIFEST") {
        saved[dir + "/" + name] = *ReadFileToString(&mem_, dir + "/" + name);
      }
    }
  }
  ASSERT_FALSE(saved.empty());
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  engine_.reset();
  for (const auto& [path, data] : saved) ASSERT_TRUE(WriteFileAtomically(&mem_, path, data).ok());
  ASSERT_GT(SegmentsOf(&mem_, 2, "machine"), 0u);
  Reopen();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(SegmentsOf(&mem_, 2, "machine"), 0u);
  engine_.reset();
  for (int s = 0; s < 2; ++s) {
    auto manifest = ReadManifest(&mem_, fmt::format("db/shard-{:03}", s));
    ASSERT_TRUE(manifest.ok());
    EXPECT_TRUE(manifest->segments.empty());
  }
}

TEST_F(DropTableTest, LatestAfterADropSeesOnlyTheNewTable) {
  Open({.shards = 2});
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 10, 100)).ok());
  auto latest = [&] {
    std::map<std::string, int64_t> out;
    Status s = engine_->Latest(ScanRequest{kTenant, "main", "machine"}, [&](const SeriesBlock& b) {
      out[std::string(b.series->Tag("host"))] = b.rows.times[0];
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  EXPECT_EQ(latest(), (std::map<std::string, int64_t>{{"h0", 108}, {"h1", 109}}));
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  // Older rows, same tags: the cache of the dropped series must not answer.
  ASSERT_TRUE(engine_->Write(Rows("machine", 1, 3, 0, /*as_int=*/true)).ok());
  EXPECT_EQ(latest(), (std::map<std::string, int64_t>{{"h0", 2}}));
  ASSERT_TRUE(engine_->Flush().ok());
  Reopen();
  EXPECT_EQ(latest(), (std::map<std::string, int64_t>{{"h0", 2}}));
}

TEST_F(DropTableTest, TombstonesAndRetentionOfTheTableAreCleaned) {
  Open({.shards = 2});
  ASSERT_TRUE(engine_->Write(Rows("machine", 4, 40, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  ASSERT_TRUE(engine_->Delete(ScanRequest{kTenant, "main", "machine", 0, 9}).ok());
  ASSERT_TRUE(engine_->Write(Rows("other", 1, 1, 0)).ok());
  ASSERT_TRUE(engine_->Flush().ok());  // the manifests now hold the tombstones
  EXPECT_GT(engine_->tombstone_count(), 0u);
  ASSERT_TRUE(engine_->SetRetention(kTenant, "main", "machine", Duration::Seconds(3600)).ok());
  ASSERT_TRUE(engine_->SetRetention(kTenant, "main", "", Duration::Seconds(7 * 86400)).ok());
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
  EXPECT_EQ(engine_->tombstone_count(), 0u);
  for (int s = 0; s < 2; ++s) {
    auto manifest = ReadManifest(&mem_, fmt::format("db/shard-{:03}", s));
    ASSERT_TRUE(manifest.ok());
    EXPECT_TRUE(manifest->tombstones.empty()) << "shard " << s;
  }
  // The table's own policy is gone; the database's still applies to the name.
  EXPECT_EQ(engine_->Retention(kTenant, "main", "machine"), Duration::Seconds(7 * 86400));
  Reopen();
  EXPECT_EQ(engine_->Retention(kTenant, "main", "machine"), Duration::Seconds(7 * 86400));
  EXPECT_EQ(engine_->tombstone_count(), 0u);
}

// Holds the creation of segment files once closed, so that a test can stop a flush or a
// compaction in the middle of writing its segments.
class GateEnv final : public Env {
 public:
  explicit GateEnv(Env* target) : target_(target) {}
  // Lets `passes` more segment files be created, then holds the next ones.
  void CloseAfter(int passes) {
    std::lock_guard lock(mu_);
    passes_ = passes;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      passes_ = -1;
    }
    cv_.notify_all();
  }
  // Waits until a segment writer is blocked at the gate.
  void AwaitBlocked() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_ > 0; });
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    if (path.ends_with(".sws")) {
      std::unique_lock lock(mu_);
      if (passes_ > 0) {
        --passes_;
      } else if (passes_ == 0) {
        ++blocked_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return passes_ < 0; });
        --blocked_;
      }
    }
    return target_->NewWritableFile(path);
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return target_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return target_->NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return target_->NewAppendableFile(path);
  }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return target_->GetChildren(dir);
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return target_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status CreateDir(const std::string& path) override { return target_->CreateDir(path); }
  Status RemoveDir(const std::string& path) override { return target_->RemoveDir(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return target_->TruncateFile(path, size);
  }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Status RestrictToOwner(const std::string& path) override {
    return target_->RestrictToOwner(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }

 private:
  Env* const target_;
  std::mutex mu_;
  std::condition_variable cv_;
  int passes_ = -1;  // -1: open
  int blocked_ = 0;
};

TEST_F(DropTableTest, ADropDuringAFlushIsSafe) {
  GateEnv gate(&mem_);
  env_ = &gate;
  Open({.shards = 1});
  ASSERT_TRUE(engine_->Write(Rows("machine", 3, 30, 0)).ok());
  ASSERT_TRUE(engine_->Write(Rows("other", 1, 2, 0)).ok());
  gate.CloseAfter(0);
  std::thread flusher([&] { EXPECT_TRUE(engine_->Flush().ok()); });
  gate.AwaitBlocked();  // the flush is about to write its first segment
  std::atomic<bool> dropped = false;
  std::thread dropper([&] {
    EXPECT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());
    dropped = true;
  });
  // The drop commits at once; its file cleanup waits for the flush to finish.
  while (engine_->catalog().Find(kTenant, "main", "machine") != nullptr) std::this_thread::yield();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(RowCount(*engine_, "other"), 2u);
  gate.Open();
  flusher.join();
  dropper.join();
  EXPECT_TRUE(dropped);
  EXPECT_TRUE(engine_->health().ok());
  EXPECT_EQ(SegmentsOf(&mem_, 1, "machine"), 0u);
  EXPECT_EQ(RowCount(*engine_, "other"), 2u);
  Reopen();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(RowCount(*engine_, "other"), 2u);
  engine_.reset();
}

TEST_F(DropTableTest, ADropDuringACompactionIsSafe) {
  GateEnv gate(&mem_);
  env_ = &gate;
  EngineOptions options{.shards = 1};
  options.shard.compaction_trigger = 3;
  Open(options);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(engine_->Write(Rows("machine", 3, 9, i * 10)).ok());
    ASSERT_TRUE(engine_->Flush().ok());
  }
  ASSERT_EQ(SegmentsOf(&mem_, 1, "machine"), 2u);
  ASSERT_TRUE(engine_->Write(Rows("machine", 3, 9, 20)).ok());
  // The flush writes the third segment and then compacts the three: hold the compaction.
  gate.CloseAfter(1);
  std::thread flusher([&] { EXPECT_TRUE(engine_->Flush().ok()); });
  gate.AwaitBlocked();  // the compaction's output
  std::thread dropper([&] { EXPECT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok()); });
  while (engine_->catalog().Find(kTenant, "main", "machine") != nullptr) std::this_thread::yield();
  gate.Open();
  flusher.join();
  dropper.join();
  EXPECT_TRUE(engine_->health().ok());
  EXPECT_EQ(SegmentsOf(&mem_, 1, "machine"), 0u);
  ExpectNoTable(*engine_, "machine");
  Reopen();
  ExpectNoTable(*engine_, "machine");
  engine_.reset();
}

TEST_F(DropTableTest, WritesRacingWithADropLandInOneGenerationOrTheOther) {
  Open({.shards = 3});
  ASSERT_TRUE(engine_->Write(Rows("machine", 5, 10, 0)).ok());
  std::atomic<bool> stop = false;
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        Status s = engine_->Write(Rows("machine", 5, 5, 1000 * t + i));
        EXPECT_TRUE(s.ok()) << s;
      }
    });
  }
  for (int d = 0; d < 5; ++d) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Status s = engine_->DropTable(kTenant, "main", "machine");
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s;
  }
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_TRUE(engine_->health().ok());
  // Whatever survived belongs to the current generation, and a restart agrees.
  const auto before = Scan(*engine_, "machine");
  const uint64_t generation = engine_->catalog().Generation(kTenant, "main", "machine");
  EXPECT_GE(generation, 1u);
  for (const auto& info : engine_->series().Match(kTenant, "main", "machine", {})) {
    EXPECT_EQ(info->generation(), generation);
  }
  ASSERT_TRUE(engine_->Flush().ok());
  for (const auto& [path, table] : Segments(&mem_, 3)) {
    auto seg = Segment::Open(&mem_, path);
    ASSERT_TRUE(seg.ok());
    if (table == "machine") {
      EXPECT_EQ((*seg)->generation(), generation) << path;
    }
  }
  Reopen();
  const auto after = Scan(*engine_, "machine");
  ASSERT_EQ(before.ok(), after.ok());
  if (before.ok()) {
    EXPECT_EQ(*before, *after);
  }
}

TEST_F(DropTableTest, AFailedCatalogWriteLeavesTheTableAndStopsWrites) {
  FaultInjectionEnv faulty(&mem_);
  env_ = &faulty;
  Open({.shards = 2});
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 4, 0)).ok());
  faulty.SetFaults({.fail_sync = true, .path_prefix = "db/CATALOG"});
  Status s = engine_->DropTable(kTenant, "main", "machine");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("drop table 'machine'"), std::string_view::npos) << s;
  // Nothing changed in memory, but the catalog's durable state is unknown: writes stop.
  EXPECT_EQ(RowCount(*engine_, "machine"), 4u);
  EXPECT_EQ(engine_->Write(Rows("machine", 2, 1, 10)).code(), StatusCode::kFailedPrecondition);
  faulty.ClearFaults();
  Reopen();
  EXPECT_EQ(RowCount(*engine_, "machine"), 4u);
  EXPECT_TRUE(engine_->Write(Rows("machine", 2, 1, 10)).ok());
  engine_.reset();
}

TEST_F(DropTableTest, ACatalogOfVersion1IsRead) {
  // Written by builds before table generations: "SEAWCAT1" count (tenant database table
  // tag_count tag* field_count (name type)*)* checksum.
  std::string body;
  PutVarint64(&body, 1);
  PutVarint64(&body, kTenant.value());
  PutLengthPrefixed(&body, "main");
  PutLengthPrefixed(&body, "machine");
  PutVarint64(&body, 1);
  PutLengthPrefixed(&body, "host");
  PutVarint64(&body, 1);
  PutLengthPrefixed(&body, "v");
  body.push_back(static_cast<char>(FieldType::kInt64));
  ASSERT_TRUE(CreateDirs(&mem_, "db").ok());
  ASSERT_TRUE(WriteChecksummedFile(&mem_, "db/CATALOG", "SEAWCAT1", body).ok());
  Open({.shards = 2});
  auto schema = engine_->catalog().Find(kTenant, "main", "machine");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->generation, 0u);
  EXPECT_EQ(schema->fields[0].type, FieldType::kInt64);
  ASSERT_TRUE(engine_->DropTable(kTenant, "main", "machine").ok());  // rewrites it as version 2
  EXPECT_TRUE(ReadFileToString(&mem_, "db/CATALOG")->starts_with("SEAWCAT2"));
  Reopen();
  ExpectNoTable(*engine_, "machine");
  EXPECT_EQ(engine_->catalog().Generation(kTenant, "main", "machine"), 1u);
}

TEST_F(DropTableTest, FlushingAfterDeletesEmptiedASeriesKeepsTheShardHealthy) {
  Open({.shards = 1});
  ASSERT_TRUE(engine_->Write(Rows("machine", 2, 4, 0)).ok());
  ScanRequest all_of_h0{kTenant, "main", "machine", 0, 100, {{"host", "h0"}}};
  ASSERT_TRUE(engine_->Delete(all_of_h0).ok());
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_TRUE(engine_->health().ok());
  EXPECT_EQ(RowCount(*engine_, "machine"), 2u);
}

// A decoded write record of `batch` (one series, id 5, every row), whose bytes `payload` holds.
WriteRecord Decoded(const WriteBatch& batch, std::string* payload) {
  SeriesRows rows{SeriesId(5), {}};
  for (uint32_t r = 0; r < batch.rows(); ++r) rows.rows.push_back(r);
  EncodeWriteRecord(batch, 0, {rows}, payload);
  WriteRecord record;
  EXPECT_TRUE(DecodeWriteRecord(*payload, &record).ok());
  return record;
}

TEST(MemTableTest, ColumnsMatchByNameAndType) {
  // Were a series to see one field name with two types, its values must not mix.
  MemTable mem;
  std::string p1, p2;
  mem.Apply(Decoded(Rows("m", 1, 2, 0), &p1));                    // v float at 0, 1
  mem.Apply(Decoded(Rows("m", 1, 2, 10, /*as_int=*/true), &p2));  // v integer at 10, 11
  SeriesRowsBlock out;
  ASSERT_TRUE(mem.Read(SeriesId(5), INT64_MIN, INT64_MAX, {{"v", FieldType::kDouble}}, &out));
  EXPECT_EQ(out.times, (std::vector<int64_t>{0, 1, 10, 11}));
  EXPECT_EQ(out.columns[0].present, (std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(std::bit_cast<double>(out.columns[0].bits[1]), 1.5);
  ASSERT_TRUE(mem.Read(SeriesId(5), INT64_MIN, INT64_MAX, {{"v", FieldType::kInt64}}, &out));
  EXPECT_EQ(out.columns[0].present, (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(out.columns[0].bits[3], 1u);
  EXPECT_EQ(mem.SeriesFields(SeriesId(5)).size(), 2u);
}

TEST(MemTableTest, FlushedFieldsAreTheOnesWithValues) {
  MemTable mem;
  WriteBatch b(kTenant, "main", "m");
  for (int i = 0; i < 4; ++i) {
    b.AddRow(i);
    ASSERT_TRUE(b.SetDouble("v", i).ok());
    if (i >= 2) {
      ASSERT_TRUE(b.SetInt64("w", i).ok());
    }
  }
  std::string payload;
  mem.Apply(Decoded(b, &payload));
  ASSERT_EQ(mem.SeriesFields(SeriesId(5)).size(), 2u);
  mem.Delete(SeriesId(5), 2, 3);  // the only rows with w
  const auto fields = mem.SeriesFields(SeriesId(5));
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].name, "v");
  mem.EraseSeries({SeriesId(5)});
  EXPECT_EQ(mem.rows(), 0u);
  EXPECT_EQ(mem.ApproximateBytes(), 0u);
  EXPECT_TRUE(mem.SeriesIds().empty());
}

}  // namespace
}  // namespace seaway
