// TelemetryBridge (src/mqtt).
#include "mqtt/telemetry_bridge.h"

#include <map>
#include <mutex>
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

}  // namespace

struct TelemetryBridge::Impl {
  Engine* engine = nullptr;
  int max_rounds = 2;
  Counter* rejected_total;
  Counter* rounds_total;
  Counter* merged_messages_total;

  std::mutex mu;
  std::map<GroupKey, Group> waiting;
  int rounds = 0;  // merged writes in flight

  void Add(std::shared_ptr<MessageJoin> join);
  // Writes every waiting group as one round. REQUIRES: lock holds mu; releases it.
  void Flush(std::unique_lock<std::mutex>& lock);
  void RoundDone();
};

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
  if (rounds < max_rounds) {
    Flush(lock);
  } else {
    lock.unlock();
  }
  for (Part& p : alone) {
    engine->WriteAsync(*p.batch, [join = p.join](Status s) { join->Finish(s); });
  }
}

void TelemetryBridge::Impl::Flush(std::unique_lock<std::mutex>& lock) {
  std::map<GroupKey, Group> groups;
  groups.swap(waiting);
  if (groups.empty()) {
    lock.unlock();
    return;
  }
  ++rounds;
  lock.unlock();
  rounds_total->Increment();
  struct Round {
    std::mutex mu;
    size_t remaining;
  };
  auto round = std::make_shared<Round>();
  round->remaining = groups.size();
  for (auto& [key, group] : groups) {
    merged_messages_total->Increment(group.parts.size());
    auto shared = std::make_shared<Group>(std::move(group));
    const WriteBatch& batch = *shared->merged;
    engine->WriteAsync(batch, [this, shared, round](Status s) {
      if (s.ok() || shared->parts.size() == 1 ||
          (s.code() != StatusCode::kInvalidArgument &&
           s.code() != StatusCode::kResourceExhausted)) {
        for (Part& p : shared->parts) p.join->Finish(s);
      } else {
        // Refused for its content: find whose by writing each message's rows alone.
        for (Part& p : shared->parts) {
          engine->WriteAsync(*p.batch, [join = p.join](Status alone) { join->Finish(alone); });
        }
      }
      std::unique_lock rlock(round->mu);
      if (--round->remaining == 0) {
        rlock.unlock();
        RoundDone();
      }
    });
  }
}

void TelemetryBridge::Impl::RoundDone() {
  std::unique_lock lock(mu);
  --rounds;
  if (!waiting.empty()) {
    Flush(lock);
  }
}

TelemetryBridge::TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics,
                                 IngestLimits limits, int rounds_in_flight)
    : engine_(engine),
      clock_(clock),
      metrics_(metrics),
      limits_(limits),
      impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->max_rounds = rounds_in_flight;
  impl_->rejected_total = metrics->GetCounter("seaway_mqtt_telemetry_rejected_total",
                                              "Telemetry messages refused for their payload");
  impl_->rounds_total = metrics->GetCounter("seaway_mqtt_telemetry_writes_total",
                                            "Write rounds of merged telemetry messages");
  impl_->merged_messages_total = metrics->GetCounter("seaway_mqtt_telemetry_messages_written_total",
                                                     "Telemetry messages in write rounds");
}

TelemetryBridge::~TelemetryBridge() = default;

void TelemetryBridge::OnPublish(const Message& message,
                                std::function<void(ReasonCode, std::string)> done) {
  const std::string_view topic = message.topic;
  std::optional<IngestResult> decoded;
  if (topic.starts_with(kDevicesPrefix) && topic.ends_with(kTelemetrySuffix) &&
      topic.size() > kDevicesPrefix.size() + kTelemetrySuffix.size()) {
    const std::string_view device = topic.substr(
        kDevicesPrefix.size(), topic.size() - kDevicesPrefix.size() - kTelemetrySuffix.size());
    if (device.find('/') == std::string_view::npos) {
      JsonTelemetryOptions options;
      options.tenant = message.tenant;
      options.database = "main";
      options.default_time_ns = clock_->Now().nanos();
      options.limits = limits_;
      options.device = JsonTelemetryOptions::Device{"telemetry", "device", std::string(device)};
      decoded = DecodeJsonTelemetry(message.payload, options);
    }
  } else if (topic.starts_with(kWritePrefix) && topic.size() > kWritePrefix.size() &&
             topic.find('/', kWritePrefix.size()) == std::string_view::npos) {
    LineProtocolOptions options;
    options.tenant = message.tenant;
    options.database = std::string(topic.substr(kWritePrefix.size()));
    options.default_time_ns = clock_->Now().nanos();
    options.limits = limits_;
    decoded = ParseLineProtocol(message.payload, options);
  }
  if (!decoded || (decoded->batches.empty() && decoded->errors.empty())) {
    return done(ReasonCode::kSuccess, {});  // not telemetry, or empty (a retained clear)
  }
  if (!decoded->errors.empty()) {
    impl_->rejected_total->Increment();
    const IngestError& e = decoded->errors.front();
    return done(ReasonCode::kPayloadFormatInvalid,
                fmt::format("line {}: {}{}", e.line, e.message,
                            decoded->errors.size() > 1
                                ? fmt::format(" (and {} more)", decoded->errors.size() - 1)
                                : std::string()));
  }
  metrics_
      ->GetCounter("seaway_mqtt_telemetry_rows_total", "Rows stored from MQTT telemetry",
                   {{"tenant", std::to_string(message.tenant.value())}})
      ->Increment(decoded->points);
  auto join = std::make_shared<MessageJoin>();
  join->remaining = decoded->batches.size();
  join->done = std::move(done);
  join->decoded = std::make_shared<IngestResult>(std::move(*decoded));
  impl_->Add(std::move(join));
}

}  // namespace seaway::mqtt
