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
// Many devices each sending small messages would cost the engine one write each; instead the
// bridge merges the rows of concurrent messages per table (WriteBatch::Append) while earlier
// writes are in flight, as group commit does: one message at a time under light load, large
// batches under heavy load. When a merged write is refused for its content (a type conflict
// with the stored table, a limit), each message is written alone again, so that one device's bad
// data never fails another's.
//
// Thread-safe.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/metrics.h"
#include "ingest/ingest_result.h"
#include "mqtt/broker.h"
#include "storage/engine.h"

namespace seaway::mqtt {

class TelemetryBridge final : public PublishHandler {
 public:
  // `engine`, `clock` and `metrics` must outlive the bridge. At most `rounds_in_flight`
  // merged writes are outstanding; messages arriving meanwhile wait and are merged.
  TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics, IngestLimits limits,
                  int rounds_in_flight = 2);
  // Waits for the engine writes in flight to complete (the engine must still be open).
  ~TelemetryBridge() override;

  void OnPublish(const Message& message,
                 std::function<void(ReasonCode, std::string)> done) override;

  struct Impl;

 private:
  Clock* const clock_;
  const IngestLimits limits_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway::mqtt
