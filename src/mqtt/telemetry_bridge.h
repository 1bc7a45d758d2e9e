// TelemetryBridge: stores what devices publish on telemetry topics (src/mqtt).
//
//   devices/<device>/telemetry   a JSON object of fields, e.g. {"temperature": 21.5, "ok": true}
//                                with an optional "time" (ns integer or RFC 3339), or an array
//                                or NDJSON of such objects; stored in database `main`, table
//                                `telemetry`, tag device=<device>
//   write/<database>             InfluxDB line protocol, stored in <database>; in database
//                                `main`, rows for a table a thing model declares must follow it
//
// in the publisher's tenant. A device that follows a thing model (platform/thing_model.h, looked
// up through the TelemetrySchema seam) has its telemetry checked against the model and stored in
// the model's table instead of `telemetry`; a message with a field the model lacks, of another
// type or out of range is refused whole with 0x99 naming the field, the value and the limit.
// Devices without a model are schemaless. A message is stored whole or not at all: one bad line or
// item refuses it with reason 0x99 (payload format invalid) naming the line and the problem, and it
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
#include <string_view>

#include "common/clock.h"
#include "common/metrics.h"
#include "ingest/ingest_result.h"
#include "mqtt/broker.h"
#include "platform/thing_model.h"
#include "storage/engine.h"

namespace seaway::mqtt {

// Which thing model a device's telemetry must follow. Asked once per telemetry message, so
// implementations answer from memory (platform/model_cache.h), never with a query.
//
// Thread-safe.
class TelemetrySchema {
 public:
  virtual ~TelemetrySchema() = default;
  // The model `device` of `tenant` follows; nullptr when none (its telemetry is schemaless). An
  // error refuses the message with the error's reason.
  virtual Result<std::shared_ptr<const ThingModel>> ModelFor(TenantId tenant,
                                                             std::string_view device) = 0;
  // The tenant's models by the table they declare: write/main messages to those tables must
  // follow them (ValidateModelTables). Null or empty when there are none.
  virtual Result<std::shared_ptr<const TableModels>> ModelsByTable(TenantId tenant) = 0;
};

// OK unless `topic` is under a storage prefix without naming a table's place: `write/`,
// `write/a/b`, `devices//telemetry`, `devices/a/b/telemetry`. Such messages are refused with
// 0x90 rather than routed as plain messages, which a device would take for stored readings.
Status CheckTelemetryTopic(std::string_view topic);

class TelemetryBridge final : public PublishHandler {
 public:
  // `engine`, `clock`, `metrics` and `schema` (when set) must outlive the bridge. At most
  // `rounds_in_flight` merged writes are outstanding, and one starts at most once per
  // `min_round_interval`; messages arriving meanwhile wait and are merged. Without a schema
  // every device is schemaless.
  TelemetryBridge(Engine* engine, Clock* clock, MetricsRegistry* metrics, IngestLimits limits,
                  int rounds_in_flight = 2, TelemetrySchema* schema = nullptr,
                  Duration min_round_interval = Duration::Nanos(0));
  // Waits for the engine writes in flight to complete (the engine must still be open).
  ~TelemetryBridge() override;

  void OnPublish(const Message& message,
                 std::function<void(ReasonCode, std::string)> done) override;

  struct Impl;

 private:
  Clock* const clock_;
  const IngestLimits limits_;
  TelemetrySchema* const schema_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway::mqtt
