// Tests of TelemetryBridge (src/mqtt/telemetry_bridge.h): telemetry topics into a real engine,
// messages merged while writes are in flight, each still stored whole or refused whole.
#include "mqtt/telemetry_bridge.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "storage/memory_env.h"

namespace seaway::mqtt {
namespace {

class TelemetryBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Open(&env_, "db", EngineOptions{}, &metrics_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    bridge_ = std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                                /*rounds_in_flight=*/1);
  }

  struct Outcome {
    ReasonCode reason = ReasonCode::kUnspecifiedError;
    std::string reason_string;
    bool done = false;
    std::chrono::steady_clock::time_point at;  // when answered
  };

  // Publishes without waiting; Wait() collects every outcome.
  size_t Publish(std::string topic, std::string payload, TenantId tenant = TenantId(1)) {
    Message m;
    m.tenant = tenant;
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    size_t index;
    {
      std::lock_guard lock(mu_);
      index = outcomes_.size();
      outcomes_.emplace_back();
    }
    bridge_->OnPublish(m, [this, index](ReasonCode rc, std::string why) {
      std::lock_guard lock(mu_);
      outcomes_[index] = Outcome{rc, std::move(why), true, std::chrono::steady_clock::now()};
      cv_.notify_all();
    });
    return index;
  }

  std::vector<Outcome> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] {
      for (const Outcome& o : outcomes_) {
        if (!o.done) return false;
      }
      return true;
    });
    return outcomes_;
  }

  size_t Rows(const std::string& database, const std::string& table) {
    size_t rows = 0;
    Status s = engine_->Scan(ScanRequest{TenantId(1), database, table}, [&](const SeriesBlock& b) {
      rows += b.rows.times.size();
      return Status::OK();
    });
    return s.ok() ? rows : 0;
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_{Timestamp::FromNanos(1'700'000'000'000'000'000)};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<TelemetryBridge> bridge_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> outcomes_;
};

TEST_F(TelemetryBridgeTest, ManyLineMessagesAreStoredAndAcknowledged) {
  for (int i = 0; i < 500; ++i) {
    Publish("write/plant",
            fmt::format("machine,id=m{} temp={}.5 {}\nmachine,id=x{} temp=1 {}", i % 50, i,
                        1'700'000'000'000'000'000 + i, i % 7, 1'700'000'000'000'000'000 + i));
  }
  for (const Outcome& o : Wait()) {
    ASSERT_TRUE(o.done);
    EXPECT_EQ(o.reason, ReasonCode::kSuccess) << o.reason_string;
  }
  EXPECT_EQ(Rows("plant", "machine"), 1000u);
  // Messages were merged: fewer write rounds than messages.
  EXPECT_LT(metrics_.GetCounter("seaway_mqtt_telemetry_writes_total", "")->value(), 500u);
}

// With a minimum interval between rounds, messages trickling in share rounds: at most about
// one a interval, where each would otherwise start its own.
TEST_F(TelemetryBridgeTest, PacedRoundsMergeMessagesArrivingWithinTheInterval) {
  bridge_ =
      std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                        /*rounds_in_flight=*/2, nullptr, Duration::Millis(50));
  Counter* rounds = metrics_.GetCounter("seaway_mqtt_telemetry_writes_total", "");
  const uint64_t rounds_before = rounds->value();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::chrono::steady_clock::time_point> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back(std::chrono::steady_clock::now());
    Publish("write/plant",
            fmt::format("machine,id=m{} temp={}.5 {}", i % 5, i, 1'700'000'000'000'000'000 + i));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::vector<Outcome> outcomes = Wait();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    ASSERT_TRUE(outcomes[i].done);
    EXPECT_EQ(outcomes[i].reason, ReasonCode::kSuccess) << outcomes[i].reason_string;
    // Each waits at most the interval and one round: a timer that fired late, or only when a
    // round completed, would show here (the slack is for slow machines).
    EXPECT_LT(outcomes[i].at - sent[i], std::chrono::milliseconds(50 + 500)) << i;
  }
  const double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const uint64_t written = rounds->value() - rounds_before;
  EXPECT_LE(written, static_cast<uint64_t>(elapsed_ms / 50) + 2) << elapsed_ms << " ms";
  EXPECT_EQ(Rows("plant", "machine"), 40u);
}

// Messages waiting for the next paced round are written when the bridge is destroyed, not
// dropped: each still gets its answer after its rows are stored.
TEST_F(TelemetryBridgeTest, MessagesWaitingForAPacedRoundAreWrittenAtDestruction) {
  bridge_ =
      std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                        /*rounds_in_flight=*/2, nullptr, Duration::Seconds(60));
  Publish("write/plant", "machine,id=a temp=1 1700000000000000000");  // starts a round at once
  Publish("write/plant", "machine,id=b temp=2 1700000000000000000");  // waits up to 60 s
  Publish("write/plant", "machine,id=c temp=3 1700000000000000000");
  const auto start = std::chrono::steady_clock::now();
  bridge_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  for (const Outcome& o : Wait()) {
    ASSERT_TRUE(o.done);
    EXPECT_EQ(o.reason, ReasonCode::kSuccess) << o.reason_string;
  }
  EXPECT_EQ(Rows("plant", "machine"), 3u);
}

TEST_F(TelemetryBridgeTest, ABadMessageIsRefusedWholeAndTheOthersAreStored) {
  std::vector<size_t> bad;
  for (int i = 0; i < 200; ++i) {
    if (i % 17 == 5) {
      // A good line and a bad one: the message is refused whole, its good line not stored.
      bad.push_back(Publish(
          "write/plant", fmt::format("m,id=a{} v=1 {}\nm,id=b v=oops {}", i, 1000 + i, 1000 + i)));
    } else {
      Publish("write/plant", fmt::format("m,id=a{} v={} {}", i, i, 1000 + i));
    }
  }
  const std::vector<Outcome> got = Wait();
  size_t good = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool is_bad = std::find(bad.begin(), bad.end(), i) != bad.end();
    if (is_bad) {
      EXPECT_EQ(got[i].reason, ReasonCode::kPayloadFormatInvalid);
      EXPECT_NE(got[i].reason_string.find("line 2"), std::string::npos) << got[i].reason_string;
    } else {
      EXPECT_EQ(got[i].reason, ReasonCode::kSuccess) << got[i].reason_string;
      ++good;
    }
  }
  EXPECT_EQ(Rows("plant", "m"), good);
}

TEST_F(TelemetryBridgeTest, TypeConflictBetweenMessagesFailsOnlyTheConflictingOne) {
  // Stored as a float first; then, in one round, floats and a string for the same field.
  Publish("write/plant", "t,id=a v=1.5 1");
  Wait();
  std::vector<size_t> strings;
  for (int i = 0; i < 100; ++i) {
    if (i % 10 == 3) {
      strings.push_back(Publish("write/plant", fmt::format("t,id=s{} v=\"text\" {}", i, 10 + i)));
    } else {
      Publish("write/plant", fmt::format("t,id=f{} v={}.25 {}", i, i, 10 + i));
    }
  }
  const std::vector<Outcome> got = Wait();
  size_t good = 1;
  for (size_t i = 1; i < got.size(); ++i) {
    const bool is_string = std::find(strings.begin(), strings.end(), i) != strings.end();
    if (is_string) {
      EXPECT_EQ(got[i].reason, ReasonCode::kPayloadFormatInvalid) << got[i].reason_string;
    } else {
      EXPECT_EQ(got[i].reason, ReasonCode::kSuccess) << got[i].reason_string;
      ++good;
    }
  }
  EXPECT_EQ(Rows("plant", "t"), good);
}

TEST_F(TelemetryBridgeTest, AMessageTheStoredSchemaRefusesStoresNothing) {
  Publish("write/atom", "tb v=1.5 1");
  Wait();
  // A good line of another table beside a type conflict, or beside a time past the storable
  // range: refused whole, the good line not stored (alone and merged with other messages).
  const size_t conflict = Publish("write/atom", "ta v=2 2\ntb v=\"conflict\" 2");
  const size_t range = Publish("write/atom", "td v=5 5\nte v=1 9223372036854775807");
  const size_t fine = Publish("write/atom", "tc v=3 3");
  const size_t device = Publish("devices/d1/telemetry", R"({"tb":"text"})");
  const std::vector<Outcome> got = Wait();
  EXPECT_EQ(got[conflict].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_NE(got[conflict].reason_string.find("type string conflicts with stored type float"),
            std::string::npos)
      << got[conflict].reason_string;
  EXPECT_EQ(got[range].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_NE(got[range].reason_string.find("outside the storable range"), std::string::npos)
      << got[range].reason_string;
  EXPECT_EQ(got[fine].reason, ReasonCode::kSuccess) << got[fine].reason_string;
  EXPECT_EQ(got[device].reason, ReasonCode::kSuccess) << got[device].reason_string;
  EXPECT_EQ(Rows("atom", "ta"), 0u);
  EXPECT_EQ(Rows("atom", "td"), 0u);
  EXPECT_EQ(Rows("atom", "tb"), 1u);
  EXPECT_EQ(Rows("atom", "tc"), 1u);
  // A device name past the tag value limit (it becomes the `device` tag) is refused.
  Publish("devices/" + std::string(300, 'd') + "/telemetry", R"({"x":1})");
  const std::vector<Outcome> long_name = Wait();
  EXPECT_EQ(long_name.back().reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_NE(long_name.back().reason_string.find("device name is 300 bytes"), std::string::npos)
      << long_name.back().reason_string;
  // The same for a device's JSON: its table's field is a float now.
  Publish("devices/d1/telemetry", R"({"tb":2.5})");
  const std::vector<Outcome> again = Wait();
  EXPECT_EQ(again.back().reason, ReasonCode::kPayloadFormatInvalid) << again.back().reason_string;
  EXPECT_EQ(Rows("main", "telemetry"), 1u);
}

TEST_F(TelemetryBridgeTest, DeviceJsonAndOtherTopics) {
  Publish("devices/press-7/telemetry", R"({"temperature": 81.5, "status": "run"})");
  Publish("devices/press-7/telemetry", R"({"temperature": )");
  Publish("plain/topic", "not telemetry at all");
  Publish("devices/press-7/status", "not telemetry either");
  const std::vector<Outcome> got = Wait();
  EXPECT_EQ(got[0].reason, ReasonCode::kSuccess);
  EXPECT_EQ(got[1].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[2].reason, ReasonCode::kSuccess);
  EXPECT_EQ(got[3].reason, ReasonCode::kSuccess);
  EXPECT_EQ(Rows("main", "telemetry"), 1u);
}

// A topic under a storage prefix that names no table's place is refused, not routed as a plain
// message the publisher would take for stored readings.
TEST_F(TelemetryBridgeTest, StorageTopicsWithoutAPlaceAreRefused) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"write/", "names no database"},
      {"write/plant/line1", "a database is one topic level"},
      {"devices//telemetry", "names no device"},
      {"devices/telemetry", "names no device"},
      {"devices/gw/sensor-1/telemetry", "a device name is one topic level"},
      {"write/system", "reserved for SQL's system tables"},
  };
  for (const auto& [topic, why] : refused) Publish(topic, "m,k=v f=1 1\n");
  Publish("write/plant", "");  // an empty payload (a retained clear) stores nothing either way
  Publish("write/plant/line1", "");
  Publish("writes/plant/line1", "m f=1 1");  // not the prefix
  const std::vector<Outcome> got = Wait();
  for (size_t i = 0; i < refused.size(); ++i) {
    EXPECT_EQ(got[i].reason, ReasonCode::kTopicNameInvalid) << refused[i].first;
    EXPECT_NE(got[i].reason_string.find(refused[i].second), std::string::npos)
        << got[i].reason_string;
    EXPECT_NE(got[i].reason_string.find(refused[i].first), std::string::npos)
        << got[i].reason_string;
  }
  for (size_t i = refused.size(); i < got.size(); ++i)
    EXPECT_EQ(got[i].reason, ReasonCode::kSuccess);
  EXPECT_EQ(Rows("plant", "m"), 0u);
  EXPECT_EQ(Rows("main", "telemetry"), 0u);
}

// A message whose line the engine would refuse for its columns is refused whole, nothing of it
// stored: a new table whose line names one column as a tag and a field, beside good lines.
TEST_F(TelemetryBridgeTest, AMessageWithAConflictingLineOfANewTableStoresNothing) {
  Publish("write/plant",
          "first v=1 1700000000000000000\n"
          "bad,a=x a=1 1700000000000000001\n"
          "last v=2 1700000000000000000\n");
  Publish("write/plant", "ok v=3 1700000000000000000\n");
  const std::vector<Outcome> got = Wait();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_NE(got[0].reason_string.find("'a' is both a tag and a field"), std::string::npos)
      << got[0].reason_string;
  EXPECT_EQ(got[1].reason, ReasonCode::kSuccess);
  EXPECT_EQ(Rows("plant", "first"), 0u);
  EXPECT_EQ(Rows("plant", "last"), 0u);
  EXPECT_EQ(Rows("plant", "ok"), 1u);
}

// A schema as the server's cache answers it: a fixed device -> model map, counting lookups.
class FixedSchema final : public TelemetrySchema {
 public:
  Result<std::shared_ptr<const ThingModel>> ModelFor(TenantId tenant,
                                                     std::string_view device) override {
    std::lock_guard lock(mu);
    ++lookups;
    if (fail) return Unavailable("metadata store busy");
    auto it = models.find(std::pair(tenant.value(), std::string(device)));
    return it == models.end() ? nullptr : it->second;
  }
  // The tables of the tenant's models (every device's model counts, as the store's list).
  Result<std::shared_ptr<const TableModels>> ModelsByTable(TenantId tenant) override {
    std::lock_guard lock(mu);
    ++table_lookups;
    auto tables = std::make_shared<TableModels>();
    for (const auto& [key, model] : models) {
      if (key.first == tenant.value()) (*tables)[model->table] = {model};
    }
    return std::shared_ptr<const TableModels>(std::move(tables));
  }
  std::mutex mu;
  std::map<std::pair<uint64_t, std::string>, std::shared_ptr<const ThingModel>> models;
  int lookups = 0;
  int table_lookups = 0;
  bool fail = false;
};

std::shared_ptr<const ThingModel> MillModel() {
  auto m = ParseThingModel(R"({"name": "cnc-mill", "properties": [
      {"name": "temperature", "type": "float", "min": -20, "max": 150, "access": "read-only"},
      {"name": "rpm", "type": "integer", "min": 0, "access": "read-write"},
      {"name": "status", "type": "string", "access": "read-only"}]})");
  EXPECT_TRUE(m.ok()) << m.status();
  return std::make_shared<const ThingModel>(m.ok() ? *m : ThingModel{});
}

TEST_F(TelemetryBridgeTest, DevicesWithAModelAreCheckedAndStoredInItsTable) {
  FixedSchema schema;
  schema.models[{1, "mill-1"}] = MillModel();
  bridge_.reset();
  bridge_ = std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                              /*rounds_in_flight=*/1, &schema);
  const size_t good = Publish("devices/mill-1/telemetry",
                              R"([{"temperature": 81.5, "rpm": 1200, "status": "run", "time": 1},
                                  {"temperature": 82, "rpm": 1250, "time": 2}])");
  // One bad item refuses the message whole: its good first item is not stored either.
  const size_t hot =
      Publish("devices/mill-1/telemetry", R"([{"temperature": 90}, {"temperature": 412.5}])");
  const size_t unknown = Publish("devices/mill-1/telemetry", R"({"humidity": 40})");
  const size_t fraction = Publish("devices/mill-1/telemetry", R"({"rpm": 12.5})");
  const size_t type = Publish("devices/mill-1/telemetry", R"({"status": 3})");
  // Another device, without a model, stays schemaless and goes to `telemetry`.
  const size_t other = Publish("devices/press-7/telemetry", R"({"humidity": 40, "x": "y"})");
  const std::vector<Outcome> got = Wait();
  EXPECT_EQ(got[good].reason, ReasonCode::kSuccess) << got[good].reason_string;
  EXPECT_EQ(got[hot].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[hot].reason_string,
            "field 'temperature' = 412.5 is above the model's max 150 (model 'cnc-mill')");
  EXPECT_EQ(got[unknown].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[unknown].reason_string, "field 'humidity' is not a property of model 'cnc-mill'");
  EXPECT_EQ(got[fraction].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[type].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[type].reason_string,
            "field 'status' is float, the model's property is string (model 'cnc-mill')");
  EXPECT_EQ(got[other].reason, ReasonCode::kSuccess) << got[other].reason_string;

  EXPECT_EQ(Rows("main", "cnc_mill"), 2u);   // only the good message's rows
  EXPECT_EQ(Rows("main", "telemetry"), 1u);  // only the other device's
  EXPECT_EQ(metrics_.GetCounter("seaway_mqtt_telemetry_rejected_total", "")->value(), 4u);
  std::set<std::string> devices;
  ASSERT_TRUE(engine_
                  ->Scan(ScanRequest{TenantId(1), "main", "cnc_mill"},
                         [&](const SeriesBlock& b) {
                           devices.insert("device=" + std::string(b.series->Tag("device")));
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(devices, std::set<std::string>{"device=mill-1"});
}

TEST_F(TelemetryBridgeTest, ModelsAreLookedUpPerTenantAndFailuresRefuse) {
  FixedSchema schema;
  schema.models[{2, "m"}] = MillModel();  // tenant 2's device m, not tenant 1's
  bridge_.reset();
  bridge_ = std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                              /*rounds_in_flight=*/1, &schema);
  const size_t free = Publish("devices/m/telemetry", R"({"humidity": 40})");
  Publish("write/plant", "m,id=a v=1 1");  // line protocol never asks
  Publish("devices/m/telemetry", "");      // a retained clear asks nothing either
  Wait();
  EXPECT_EQ(outcomes_[free].reason, ReasonCode::kSuccess);
  EXPECT_EQ(schema.lookups, 1);
  schema.fail = true;
  const size_t busy = Publish("devices/m/telemetry", R"({"humidity": 41})");
  const std::vector<Outcome> got = Wait();
  EXPECT_EQ(got[busy].reason, ReasonCode::kServerBusy);
  EXPECT_EQ(got[busy].reason_string, "metadata store busy");
  EXPECT_EQ(Rows("main", "telemetry"), 1u);
}

// write/main to a table a model declares: each message is checked whole against the model
// (0x99 naming table, field, value and limit); other tables and databases stay schemaless.
TEST_F(TelemetryBridgeTest, LineProtocolToAModelsTableFollowsTheModel) {
  FixedSchema schema;
  schema.models[{1, "mill-1"}] = MillModel();
  bridge_.reset();
  bridge_ = std::make_unique<TelemetryBridge>(engine_.get(), &clock_, &metrics_, IngestLimits{},
                                              /*rounds_in_flight=*/1, &schema);
  const size_t good = Publish("write/main",
                              "cnc_mill,device=mill-2 temperature=81.5,rpm=1200i 1\n"
                              "cnc_mill,device=mill-2 temperature=82 2");
  const size_t hot = Publish("write/main",
                             "cnc_mill,device=mill-2 temperature=90 3\n"
                             "cnc_mill,device=mill-2 temperature=412.5 4");
  const size_t unknown = Publish("write/main", "cnc_mill,device=mill-2 humidity=40 5");
  const size_t other_table = Publish("write/main", "boiler,site=n humidity=40 5");
  const size_t other_db = Publish("write/lab", "cnc_mill,device=x humidity=40 5");
  const std::vector<Outcome> got = Wait();
  EXPECT_EQ(got[good].reason, ReasonCode::kSuccess) << got[good].reason_string;
  EXPECT_EQ(got[hot].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[hot].reason_string,
            "table 'cnc_mill': field 'temperature' = 412.5 is above the model's max 150 (model "
            "'cnc-mill')");
  EXPECT_EQ(got[unknown].reason, ReasonCode::kPayloadFormatInvalid);
  EXPECT_EQ(got[other_table].reason, ReasonCode::kSuccess) << got[other_table].reason_string;
  EXPECT_EQ(got[other_db].reason, ReasonCode::kSuccess) << got[other_db].reason_string;
  EXPECT_EQ(Rows("main", "cnc_mill"), 2u);
  EXPECT_EQ(Rows("main", "boiler"), 1u);
  EXPECT_EQ(Rows("lab", "cnc_mill"), 1u);
  // Another tenant's table of that name is not the model's.
  const size_t tenant2 = Publish("write/main", "cnc_mill humidity=1 6", TenantId(2));
  EXPECT_EQ(Wait()[tenant2].reason, ReasonCode::kSuccess);
}

}  // namespace
}  // namespace seaway::mqtt
