// TelemetryBridge: stores what devices publish on telemetry topics (src/mqtt).
//
//   devices/<device>/telemetry   a JSON object of fields, e.g. {"temperature": 21.5, "ok": true}
//                                with an optional "time" (ns integer or RFC 3339), or an array
//                                or NDJSON of such objects; stored in database `main`, table
//                                `telemetry`, tag device=<device>
//   write/<database>             InfluxDB line protocol, stored in <database>
//
// in the publisher's tenant. A message is stored whole or not at all: one bad line or item
// refuses it with reason 0x99 (payload format invalid) naming the line and the problem, and it
// is not routed to subscribers. A good message is acknowledged (and routed) only once durable,
// as an HTTP write's 204. Other topics pass through untouched.
//
// Thread-safe.
#pragma once

#include "common/clock.h"
#include "common/metrics.h"
#include "ingest/ingest_result.h"
#include "mqtt/broker.h"
#include "storage/engine.h"

namespace seaway::mqtt {

class TelemetryBridge final : public PublishHandler {
 public:
  // `engine`, `clock` and `metrics` must outlive the bridge.
  TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics, IngestLimits limits);

  void OnPublish(const Message& message,
                 std::function<void(ReasonCode, std::string)> done) override;

 private:
  Engine* const engine_;
  Clock* const clock_;
  MetricsRegistry* const metrics_;
  const IngestLimits limits_;
  Counter* rejected_total_;
};

}  // namespace seaway::mqtt
