// TelemetryBridge (src/mqtt).
#include "mqtt/telemetry_bridge.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "ingest/json_telemetry.h"
#include "ingest/line_protocol.h"

namespace seaway::mqtt {
namespace {

constexpr std::string_view kDevicesPrefix = "devices/";
constexpr std::string_view kTelemetrySuffix = "/telemetry";
constexpr std::string_view kWritePrefix = "write/";

ReasonCode ReasonFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kFailedPrecondition: return ReasonCode::kServerBusy;
    case StatusCode::kResourceExhausted: return ReasonCode::kQuotaExceeded;
    case StatusCode::kInvalidArgument: return ReasonCode::kPayloadFormatInvalid;
    default: return ReasonCode::kImplementationSpecificError;
  }
}

// One message's writes: done once each of its batches is durable (or refused).
struct MessageJoin {
  std::mutex mu;
  size_t remaining = 0;
  Status first_error;
  std::function<void(ReasonCode, std::string)> done;
  std::shared_ptr<IngestResult> decoded;  // owns the batches

  void Finish(const Status& s) {
    std::unique_lock lock(mu);
    if (!s.ok() && first_error.ok()) first_error = s;
    if (--remaining > 0) return;
    const Status error = first_error;
    lock.unlock();
    if (error.ok()) return done(ReasonCode::kSuccess, {});
    done(ReasonFor(error), std::string(error.message()));
  }
};

struct Part {
  std::shared_ptr<MessageJoin> join;
  const WriteBatch* batch;  // owned by join->decoded
};

// Rows of one table waiting for the next write round.
struct Group {
  std::unique_ptr<WriteBatch> merged;
  std::vector<Part> parts;
};

using GroupKey = std::tuple<uint64_t, std::string, std::string>;  // tenant, database, table

// Line protocol published to write/<database> while a round is in flight: the payloads are
// concatenated and parsed once when the round is written (most messages are a line or a few,
// and a parse per message costs more than the message).
struct LineMessage {
  size_t offset = 0;  // of the payload in LineGroup::body
  size_t size = 0;
  int64_t received_ns = 0;  // the time for lines without a timestamp
  std::function<void(ReasonCode, std::string)> done;
};
struct LineGroup {
  std::string body;
  std::vector<LineMessage> messages;
};
using LineKey = std::pair<uint64_t, std::string>;  // tenant, database

// Messages that start a round without waiting out the pacing interval: under load rounds
// are large anyway, and need not wait for the timer thread to be scheduled.
constexpr size_t kFullRound = 512;

// A round's writes: the round ends when the last one completes.
struct Round {
  std::mutex mu;
  size_t remaining = 1;  // held by Flush until every write is issued
};

}  // namespace

struct TelemetryBridge::Impl {
  Engine* engine = nullptr;
  int max_rounds = 2;
  Counter* rejected_total;
  Counter* rounds_total;
  Counter* merged_messages_total;

  IngestLimits limits;
  MetricsRegistry* metrics = nullptr;

  // Engine writes whose callbacks have not returned: the destructor waits for them, since a
  // callback may still end its round (RoundDone) after the messages were answered.
  std::mutex idle_mu;
  std::condition_variable idle_cv;
  int outstanding = 0;

  void Write(const WriteBatch& batch, std::function<void(Status)> done) {
    {
      std::lock_guard lock(idle_mu);
      ++outstanding;
    }
    engine->WriteAsync(batch, [this, done = std::move(done)](Status s) {
      done(std::move(s));
      std::lock_guard lock(idle_mu);
      if (--outstanding == 0) idle_cv.notify_all();
    });
  }
  // What the engine would refuse in these batches for their content (Engine::CheckWrite).
  Status CheckContent(const std::vector<WriteBatch>& batches) const {
    for (const WriteBatch& batch : batches) SW_RETURN_IF_ERROR(engine->CheckWrite(batch));
    return Status::OK();
  }
  void WaitIdle() {
    std::unique_lock lock(idle_mu);
    idle_cv.wait(lock, [this] { return outstanding == 0; });
  }

  std::mutex mu;
  std::map<GroupKey, Group> waiting;
  std::map<LineKey, LineGroup> waiting_lines;
  int rounds = 0;               // merged writes in flight
  size_t waiting_messages = 0;  // in `waiting` and `waiting_lines`

  // Pacing: a round of fewer than kFullRound messages starts at most once per
  // min_round_interval_ns (each round costs a write and an fsync per shard, and a few thread
  // wakeups, whatever its size: at a few thousand messages a second, unpaced rounds of two or
  // three messages cost most of a core). Messages arriving sooner wait for the timer thread,
  // or for a round's completion.
  int64_t min_round_interval_ns = 0;
  int64_t last_round_ns = std::numeric_limits<int64_t>::min() / 2;  // the first starts at once
  int64_t timer_deadline_ns = 0;  // 0: the timer thread has nothing to do
  bool timer_stop = false;
  std::condition_variable timer_cv;
  std::thread timer;

  // The real monotonic clock (not the bridge's clock, which stamps rows and may be a test's).
  static int64_t NowNs() { return Clock::Real()->MonotonicNanos(); }
  // Starts a round of the waiting messages if one may start now, else leaves them to the timer
  // or to the completion of a round in flight. REQUIRES: lock holds mu; releases it.
  void Start(std::unique_lock<std::mutex>& lock);
  void RunTimer();

  void Add(std::shared_ptr<MessageJoin> join);
  void AddLines(TenantId tenant, std::string_view database, std::string_view payload,
                int64_t received_ns, std::function<void(ReasonCode, std::string)> done);
  // Writes every waiting group as one round. REQUIRES: lock holds mu; releases it.
  void Flush(std::unique_lock<std::mutex>& lock);
  // Parses and writes one line group as part of `round`.
  void WriteLines(const LineKey& key, LineGroup group, const std::shared_ptr<Round>& round);
  // One message alone: parse, refuse with its first error, or write its rows.
  void WriteAlone(TenantId tenant, const std::string& database, std::string_view payload,
                  int64_t received_ns, std::function<void(ReasonCode, std::string)> done);
  void EndPart(const std::shared_ptr<Round>& round);
  void CountRows(TenantId tenant, size_t rows);
  void RoundDone();
};

namespace {

// Whether a line of line protocol `payload` may write to one of `tables`: its measurement is
// one of them, or has escapes that only a parse resolves.
bool MayWriteTo(std::string_view payload, const TableModels& tables) {
  for (auto [number, line] : SplitLineProtocol(payload)) {
    line.remove_prefix(line.find_first_not_of(" \t"));
    const std::string_view measurement = line.substr(0, line.find_first_of(", \\"));
    if (measurement.size() < line.size() && line[measurement.size()] == '\\') return true;
    if (tables.contains(std::string(measurement))) return true;
  }
  return false;
}

std::string FirstError(const IngestResult& decoded) {
  const IngestError& e = decoded.errors.front();
  return fmt::format("line {}: {}{}", e.line, e.message,
                     decoded.errors.size() > 1
                         ? fmt::format(" (and {} more)", decoded.errors.size() - 1)
                         : std::string());
}

}  // namespace

void TelemetryBridge::Impl::CountRows(TenantId tenant, size_t rows) {
  metrics
      ->GetCounter("seaway_mqtt_telemetry_rows_total", "Rows stored from MQTT telemetry",
                   {{"tenant", std::to_string(tenant.value())}})
      ->Increment(rows);
}

void TelemetryBridge::Impl::AddLines(TenantId tenant, std::string_view database,
                                     std::string_view payload, int64_t received_ns,
                                     std::function<void(ReasonCode, std::string)> done) {
  std::unique_lock lock(mu);
  LineGroup& g = waiting_lines[LineKey(tenant.value(), std::string(database))];
  LineMessage m;
  m.offset = g.body.size();
  m.size = payload.size();
  m.received_ns = received_ns;
  m.done = std::move(done);
  g.body.append(payload);
  if (!payload.empty() && payload.back() != '\n') g.body.push_back('\n');
  g.messages.push_back(std::move(m));
  ++waiting_messages;
  Start(lock);
}

void TelemetryBridge::Impl::WriteAlone(TenantId tenant, const std::string& database,
                                       std::string_view payload, int64_t received_ns,
                                       std::function<void(ReasonCode, std::string)> done) {
  LineProtocolOptions options;
  options.tenant = tenant;
  options.database = database;
  options.default_time_ns = received_ns;
  options.limits = limits;
  auto decoded = std::make_shared<IngestResult>(ParseLineProtocol(payload, options));
  if (!decoded->errors.empty()) {
    rejected_total->Increment();
    return done(ReasonCode::kPayloadFormatInvalid, FirstError(*decoded));
  }
  if (decoded->batches.empty()) return done(ReasonCode::kSuccess, {});
  // Whole or not at all: a line the stored schema refuses refuses the message before any of
  // its rows is written.
  if (Status s = CheckContent(decoded->batches); !s.ok()) {
    rejected_total->Increment();
    return done(ReasonCode::kPayloadFormatInvalid, std::string(s.message()));
  }
  CountRows(tenant, decoded->points);
  auto join = std::make_shared<MessageJoin>();
  join->remaining = decoded->batches.size();
  join->done = std::move(done);
  join->decoded = decoded;
  for (const WriteBatch& batch : decoded->batches) {
    Write(batch, [join](Status st) { join->Finish(st); });
  }
}

void TelemetryBridge::Impl::EndPart(const std::shared_ptr<Round>& round) {
  std::unique_lock lock(round->mu);
  if (--round->remaining > 0) return;
  lock.unlock();
  RoundDone();
}

void TelemetryBridge::Impl::WriteLines(const LineKey& key, LineGroup group,
                                       const std::shared_ptr<Round>& round) {
  const TenantId tenant(key.first);
  merged_messages_total->Increment(group.messages.size());
  auto messages = std::make_shared<LineGroup>(std::move(group));
  LineProtocolOptions options;
  options.tenant = tenant;
  options.database = key.second;
  options.default_time_ns = messages->messages.front().received_ns;
  options.limits = limits;
  auto decoded = std::make_shared<IngestResult>(ParseLineProtocol(messages->body, options));
  // Any error: each message alone, so that only the bad ones are refused (whole).
  auto alone = [this, key, messages] {
    for (LineMessage& m : messages->messages) {
      WriteAlone(TenantId(key.first), key.second,
                 std::string_view(messages->body).substr(m.offset, m.size), m.received_ns,
                 std::move(m.done));
    }
  };
  if (!decoded->errors.empty() || !CheckContent(decoded->batches).ok()) return alone();
  CountRows(tenant, decoded->points);
  if (decoded->batches.empty()) {
    for (LineMessage& m : messages->messages) m.done(ReasonCode::kSuccess, {});
    return;
  }
  struct Join {
    std::mutex mu;
    size_t remaining;
    Status first_error;
  };
  auto join = std::make_shared<Join>();
  join->remaining = decoded->batches.size();
  {
    std::lock_guard lock(round->mu);
    ++round->remaining;
  }
  for (const WriteBatch& batch : decoded->batches) {
    Write(batch, [this, join, decoded, messages, alone, round](Status st) {
      std::unique_lock lock(join->mu);
      if (!st.ok() && join->first_error.ok()) join->first_error = st;
      if (--join->remaining > 0) return;
      const Status error = join->first_error;
      lock.unlock();
      const bool content = error.code() == StatusCode::kInvalidArgument ||
                           error.code() == StatusCode::kResourceExhausted;
      if (!error.ok() && content && messages->messages.size() > 1) {
        // Refused for its content (a type conflict with the stored table, a limit): find
        // whose. Rows of other tables in this group may already be stored; writing them again
        // is idempotent (same series, same time: the later value wins, and it is the same).
        alone();
      } else {
        for (LineMessage& m : messages->messages) {
          if (error.ok()) {
            m.done(ReasonCode::kSuccess, {});
          } else {
            m.done(ReasonFor(error), std::string(error.message()));
          }
        }
      }
      EndPart(round);
    });
  }
}

void TelemetryBridge::Impl::Add(std::shared_ptr<MessageJoin> join) {
  std::vector<Part> alone;  // batches that conflict with rows already waiting
  std::unique_lock lock(mu);
  for (const WriteBatch& batch : join->decoded->batches) {
    Group& g = waiting[GroupKey(batch.tenant().value(), batch.database(), batch.table())];
    if (g.merged == nullptr) {
      g.merged = std::make_unique<WriteBatch>(batch);
    } else if (!g.merged->Append(batch).ok()) {
      alone.push_back(Part{join, &batch});
      continue;
    }
    g.parts.push_back(Part{join, &batch});
  }
  ++waiting_messages;
  Start(lock);
  for (Part& p : alone) {
    Write(*p.batch, [join = p.join](Status s) { join->Finish(s); });
  }
}

void TelemetryBridge::Impl::Flush(std::unique_lock<std::mutex>& lock) {
  std::map<GroupKey, Group> groups;
  groups.swap(waiting);
  std::map<LineKey, LineGroup> lines;
  lines.swap(waiting_lines);
  waiting_messages = 0;
  if (groups.empty() && lines.empty()) {
    lock.unlock();
    return;
  }
  ++rounds;
  last_round_ns = NowNs();
  lock.unlock();
  rounds_total->Increment();
  auto round = std::make_shared<Round>();  // remaining = 1: held until every write is issued
  for (auto& [key, group] : lines) WriteLines(key, std::move(group), round);
  for (auto& [key, group] : groups) {
    merged_messages_total->Increment(group.parts.size());
    auto shared = std::make_shared<Group>(std::move(group));
    const WriteBatch& batch = *shared->merged;
    {
      std::lock_guard rlock(round->mu);
      ++round->remaining;
    }
    Write(batch, [this, shared, round](Status s) {
      if (s.ok() || shared->parts.size() == 1 ||
          (s.code() != StatusCode::kInvalidArgument &&
           s.code() != StatusCode::kResourceExhausted)) {
        for (Part& p : shared->parts) p.join->Finish(s);
      } else {
        // Refused for its content: find whose by writing each message's rows alone.
        for (Part& p : shared->parts) {
          Write(*p.batch, [join = p.join](Status alone) { join->Finish(alone); });
        }
      }
      EndPart(round);
    });
  }
  EndPart(round);
}

void TelemetryBridge::Impl::RoundDone() {
  std::unique_lock lock(mu);
  --rounds;
  Start(lock);
}

void TelemetryBridge::Impl::Start(std::unique_lock<std::mutex>& lock) {
  if (rounds >= max_rounds || (waiting.empty() && waiting_lines.empty())) {
    lock.unlock();  // a round's completion starts the next one
    return;
  }
  const int64_t at = last_round_ns + min_round_interval_ns;
  if (min_round_interval_ns == 0 || waiting_messages >= kFullRound || NowNs() >= at) {
    return Flush(lock);
  }
  if (timer_deadline_ns == 0 || at < timer_deadline_ns) {
    timer_deadline_ns = at;
    timer_cv.notify_one();
  }
  lock.unlock();
}

void TelemetryBridge::Impl::RunTimer() {
  std::unique_lock lock(mu);
  while (!timer_stop) {
    if (timer_deadline_ns == 0) {
      timer_cv.wait(lock);
      continue;
    }
    const int64_t now = NowNs();
    if (now < timer_deadline_ns) {
      timer_cv.wait_for(lock, std::chrono::nanoseconds(timer_deadline_ns - now));
      continue;
    }
    timer_deadline_ns = 0;
    Start(lock);
    lock.lock();
  }
}

TelemetryBridge::TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics,
                                 IngestLimits limits, int rounds_in_flight, TelemetrySchema* schema,
                                 Duration min_round_interval)
    : clock_(clock), limits_(limits), schema_(schema), impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->max_rounds = rounds_in_flight;
  impl_->min_round_interval_ns = std::max<int64_t>(0, min_round_interval.nanos());
  impl_->limits = limits;
  impl_->metrics = metrics;
  impl_->rejected_total = metrics->GetCounter("seaway_mqtt_telemetry_rejected_total",
                                              "Telemetry messages refused for their payload");
  impl_->rounds_total = metrics->GetCounter("seaway_mqtt_telemetry_writes_total",
                                            "Write rounds of merged telemetry messages");
  impl_->merged_messages_total = metrics->GetCounter("seaway_mqtt_telemetry_messages_written_total",
                                                     "Telemetry messages in write rounds");
  if (impl_->min_round_interval_ns > 0) {
    impl_->timer = std::thread([impl = impl_.get()] {
      pthread_setname_np(pthread_self(), "sw-mqtt-pace");
      impl->RunTimer();
    });
  }
}

TelemetryBridge::~TelemetryBridge() {
  if (impl_->timer.joinable()) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->timer_stop = true;
    }
    impl_->timer_cv.notify_one();
    impl_->timer.join();
  }
  // Messages waiting for the timer are written now (or by the completion of a round).
  std::unique_lock lock(impl_->mu);
  impl_->min_round_interval_ns = 0;
  impl_->Start(lock);
  impl_->WaitIdle();
}

// Topics under the storage prefixes that name no table: acknowledging them as plain messages
// would let a device believe its readings were stored.
Status CheckTelemetryTopic(std::string_view topic) {
  if (topic.starts_with(kWritePrefix)) {
    const std::string_view database = topic.substr(kWritePrefix.size());
    if (database.empty()) {
      return InvalidArgument("topic '{}' names no database: write/<database>", topic);
    }
    if (database.find('/') != std::string_view::npos) {
      return InvalidArgument("topic '{}': a database is one topic level: write/<database>", topic);
    }
    if (database == kSystemDatabase) {  // rows there could never be read
      return InvalidArgument(
          "topic '{}': database 'system' is reserved for SQL's system tables (system.tables, "
          "system.series); write to another database",
          topic);
    }
  } else if (topic.starts_with(kDevicesPrefix) && topic.ends_with(kTelemetrySuffix)) {
    const size_t end = topic.size() - kTelemetrySuffix.size();
    const std::string_view device =
        end > kDevicesPrefix.size()
            ? topic.substr(kDevicesPrefix.size(), end - kDevicesPrefix.size())
            : std::string_view();
    if (device.empty()) {
      return InvalidArgument("topic '{}' names no device: devices/<device>/telemetry", topic);
    }
    if (device.find('/') != std::string_view::npos) {
      return InvalidArgument(
          "topic '{}': a device name is one topic level: devices/<device>/telemetry", topic);
    }
  }
  return Status::OK();
}

void TelemetryBridge::OnPublish(const Message& message,
                                std::function<void(ReasonCode, std::string)> done) {
  const std::string_view topic = message.topic;
  if (Status s = CheckTelemetryTopic(topic); !s.ok() && !message.payload.empty()) {
    impl_->rejected_total->Increment();
    return done(ReasonCode::kTopicNameInvalid, std::string(s.message()));
  }
  std::optional<IngestResult> decoded;
  if (topic.starts_with(kDevicesPrefix) && topic.ends_with(kTelemetrySuffix) &&
      topic.size() > kDevicesPrefix.size() + kTelemetrySuffix.size()) {
    const std::string_view device = topic.substr(
        kDevicesPrefix.size(), topic.size() - kDevicesPrefix.size() - kTelemetrySuffix.size());
    if (device.find('/') == std::string_view::npos) {
      if (device.size() > limits_.max_key_bytes) {  // it becomes the `device` tag's value
        impl_->rejected_total->Increment();
        return done(ReasonCode::kPayloadFormatInvalid,
                    fmt::format("device name is {} bytes, over the tag value limit of {}",
                                device.size(), limits_.max_key_bytes));
      }
      std::shared_ptr<const ThingModel> model;
      if (schema_ != nullptr && !message.payload.empty()) {
        Result<std::shared_ptr<const ThingModel>> found = schema_->ModelFor(message.tenant, device);
        if (!found.ok()) {
          return done(ReasonFor(found.status()), std::string(found.status().message()));
        }
        model = std::move(*found);
      }
      JsonTelemetryOptions options;
      options.tenant = message.tenant;
      options.database = "main";
      options.default_time_ns = clock_->Now().nanos();
      options.limits = limits_;
      options.device = JsonTelemetryOptions::Device{model ? model->table : "telemetry", "device",
                                                    std::string(device)};
      decoded = DecodeJsonTelemetry(message.payload, options);
      if (model != nullptr && decoded->errors.empty()) {
        for (const WriteBatch& batch : decoded->batches) {
          if (Status s = ValidateTelemetry(*model, batch); !s.ok()) {
            impl_->rejected_total->Increment();
            return done(ReasonCode::kPayloadFormatInvalid, std::string(s.message()));
          }
        }
      }
      if (decoded->errors.empty()) {
        if (Status s = impl_->CheckContent(decoded->batches); !s.ok()) {
          impl_->rejected_total->Increment();
          return done(ReasonCode::kPayloadFormatInvalid, std::string(s.message()));
        }
      }
    }
  } else if (topic.starts_with(kWritePrefix) && topic.size() > kWritePrefix.size() &&
             topic.find('/', kWritePrefix.size()) == std::string_view::npos) {
    if (message.payload.empty()) return done(ReasonCode::kSuccess, {});  // a retained clear
    const std::string_view database = topic.substr(kWritePrefix.size());
    if (schema_ != nullptr && database == "main") {
      Result<std::shared_ptr<const TableModels>> tables = schema_->ModelsByTable(message.tenant);
      if (!tables.ok())
        return done(ReasonFor(tables.status()), std::string(tables.status().message()));
      if (*tables != nullptr && !(*tables)->empty() && MayWriteTo(message.payload, **tables)) {
        // A line for a model's table: this message is parsed alone once more, to be checked.
        LineProtocolOptions options;
        options.tenant = message.tenant;
        options.database = std::string(database);
        options.default_time_ns = clock_->Now().nanos();
        options.limits = limits_;
        const IngestResult alone = ParseLineProtocol(message.payload, options);
        Status s = ValidateModelTables(**tables, alone.batches);
        if (!s.ok()) {
          impl_->rejected_total->Increment();
          return done(ReasonCode::kPayloadFormatInvalid, std::string(s.message()));
        }
      }
    }
    return impl_->AddLines(message.tenant, topic.substr(kWritePrefix.size()), message.payload,
                           clock_->Now().nanos(), std::move(done));
  }
  if (!decoded || (decoded->batches.empty() && decoded->errors.empty())) {
    return done(ReasonCode::kSuccess, {});  // not telemetry, or empty (a retained clear)
  }
  if (!decoded->errors.empty()) {
    impl_->rejected_total->Increment();
    return done(ReasonCode::kPayloadFormatInvalid, FirstError(*decoded));
  }
  impl_->CountRows(message.tenant, decoded->points);
  auto join = std::make_shared<MessageJoin>();
  join->remaining = decoded->batches.size();
  join->done = std::move(done);
  join->decoded = std::make_shared<IngestResult>(std::move(*decoded));
  impl_->Add(std::move(join));
}

}  // namespace seaway::mqtt
