// Device twins over MQTT (src/mqtt/twin_bridge.h).
#include "mqtt/twin_bridge.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seaway::mqtt {
namespace {

constexpr std::string_view kDevicesPrefix = "devices/";
constexpr std::string_view kReportedSuffix = "/twin/reported";

// The <device> of "devices/<device>/twin/reported", or empty.
std::string_view ReportingDevice(std::string_view topic) {
  if (!topic.starts_with(kDevicesPrefix) || !topic.ends_with(kReportedSuffix)) return {};
  topic.remove_prefix(kDevicesPrefix.size());
  topic.remove_suffix(kReportedSuffix.size());
  return topic.find('/') == std::string_view::npos ? topic : std::string_view();
}

Message DeviceMessage(TenantId tenant, std::string_view device, std::string_view leaf,
                      std::string payload, bool retain) {
  Message m;
  m.tenant = tenant;
  m.topic = fmt::format("devices/{}/twin/{}", device, leaf);
  m.payload = std::move(payload);
  m.qos = 1;
  m.retain = retain;
  return m;
}

}  // namespace

void TwinBridge::OnPublish(const Message& message,
                           std::function<void(ReasonCode, std::string)> done) {
  const std::string_view device = ReportingDevice(message.topic);
  if (device.empty()) return next_->OnPublish(message, std::move(done));
  const nlohmann::json patch =
      nlohmann::json::parse(message.payload, nullptr, /*allow_exceptions=*/false);
  if (patch.is_discarded() || !patch.is_object()) {
    return done(ReasonCode::kPayloadFormatInvalid,
                "a reported twin update must be a JSON object (a merge patch)");
  }
  Result<DeviceTwin> twin = twins_->PatchReported(message.tenant, device, patch);
  if (!twin.ok()) {
    const bool bad_input = twin.status().code() == StatusCode::kInvalidArgument ||
                           twin.status().code() == StatusCode::kNotFound;
    return done(bad_input ? ReasonCode::kPayloadFormatInvalid : ReasonCode::kUnspecifiedError,
                std::string(twin.status().message()));
  }
  done(ReasonCode::kSuccess, {});
}

void PushDesired(Broker* broker, TenantId tenant, const DeviceTwin& twin) {
  nlohmann::json desired = twin.desired;
  desired["$version"] = twin.desired_version;
  nlohmann::json delta = TwinDelta(twin);
  delta["$version"] = twin.desired_version;
  broker->PublishInternal(
      DeviceMessage(tenant, twin.device_name, "desired", desired.dump(), /*retain=*/true));
  broker->PublishInternal(
      DeviceMessage(tenant, twin.device_name, "delta", delta.dump(), /*retain=*/false));
}

void ClearDesired(Broker* broker, TenantId tenant, std::string_view device) {
  // An empty retained message removes the retained one (MQTT 3.3.1.3).
  broker->PublishInternal(DeviceMessage(tenant, device, "desired", "", /*retain=*/true));
}

}  // namespace seaway::mqtt
