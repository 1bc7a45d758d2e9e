// TelemetryBridge (src/mqtt).
#include "mqtt/telemetry_bridge.h"

#include <mutex>

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

}  // namespace

TelemetryBridge::TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics,
                                 IngestLimits limits)
    : engine_(engine), clock_(clock), metrics_(metrics), limits_(limits) {
  rejected_total_ = metrics->GetCounter("seaway_mqtt_telemetry_rejected_total",
                                        "Telemetry messages refused for their payload");
}

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
    rejected_total_->Increment();
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
  struct Join {
    std::mutex mu;
    size_t remaining;
    Status first_error;
    std::function<void(ReasonCode, std::string)> done;
  };
  auto join = std::make_shared<Join>();
  join->remaining = decoded->batches.size();
  join->done = std::move(done);
  auto batches = std::make_shared<IngestResult>(std::move(*decoded));
  for (const WriteBatch& batch : batches->batches) {
    engine_->WriteAsync(batch, [join, batches](Status s) {
      std::unique_lock lock(join->mu);
      if (!s.ok() && join->first_error.ok()) join->first_error = s;
      if (--join->remaining > 0) return;
      const Status error = join->first_error;
      lock.unlock();
      if (error.ok()) return join->done(ReasonCode::kSuccess, {});
      join->done(ReasonFor(error), std::string(error.message()));
    });
  }
}

}  // namespace seaway::mqtt
