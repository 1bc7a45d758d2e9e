// TwinBridge: device twins over MQTT (src/mqtt; platform/twin_store.h, docs/mqtt.md).
//
//   devices/<device>/twin/reported   device -> Seaway: a JSON object merged into the twin's
//                                    reported state (a merge patch: null removes a member)
//   devices/<device>/twin/desired    Seaway -> device, retained: the whole desired state with
//                                    "$version", after every change (a device that connects
//                                    later gets it at once by subscribing)
//   devices/<device>/twin/delta      Seaway -> device: what the device has still to apply (the
//                                    desired members reported differs from), with "$version"
//
// The bridge sees every PUBLISH before the next handler (the telemetry bridge): a reported
// update is stored before it is acknowledged and routed; a bad one (not a JSON object, a '$'
// member, too large, an unknown device) is refused with 0x99 and a reason string, and stops
// there. Other topics go on untouched. PushDesired publishes the two Seaway -> device topics.
//
// Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "mqtt/broker.h"
#include "platform/twin_store.h"

namespace seaway::mqtt {

class TwinBridge final : public PublishHandler {
 public:
  // `twins` and `next` must outlive the bridge.
  TwinBridge(TwinStore* twins, PublishHandler* next) : twins_(twins), next_(next) {}

  void OnPublish(const Message& message,
                 std::function<void(ReasonCode, std::string)> done) override;

 private:
  TwinStore* const twins_;
  PublishHandler* const next_;
};

// Publishes `twin`'s desired state (retained) and its delta to its device, QoS 1.
void PushDesired(Broker* broker, TenantId tenant, const DeviceTwin& twin);
// Clears the retained desired state of a deleted device.
void ClearDesired(Broker* broker, TenantId tenant, std::string_view device);

}  // namespace seaway::mqtt
