// Commands down to devices over MQTT (src/http): the HTTP side of request/response.
//
//   POST /api/v1/commands
//   {"device": "press-7", "method": "setSpeed", "params": {"rpm": 1200},
//    "wait": true, "timeout_ms": 5000, "qos": 1}
//
// publishes {"method": ..., "params": ...} to `devices/<device>/rpc/request/<id>` in the caller's
// tenant (the token names it). To 5.0 devices the PUBLISH also carries the response topic
// `devices/<device>/rpc/response/<id>` and the correlation data <id>; 3.1.1 devices take the id
// from the topic and answer on that same response topic (docs/mqtt.md).
//
//   "wait": false (default)  202 {"id", "topic", "sessions"}: sent to, or queued for, that many
//                            sessions subscribed to the request topic
//   "wait": true             200 {"id", "response", "latency_ms"} once the device publishes its
//                            answer (JSON stays JSON, anything else is a string); 504 when none
//                            comes within timeout_ms (default 10000, at most 300000)
//
// No subscribed session: 404 naming the topic, so a command is never accepted and then lost.
// Bad bodies: 400 naming the field. A device that follows a thing model takes only the model's
// commands, with their input parameters (platform/thing_model.h ValidateCommand): 400 naming
// the command, parameter and limit otherwise.
//
// Thread-safe.
#pragma once

#include "common/clock.h"
#include "http/router.h"
#include "mqtt/broker.h"
#include "platform/metadata_store.h"
#include "platform/model_cache.h"

namespace seaway {

struct CommandRoutesContext {
  mqtt::Broker* broker = nullptr;
  MetadataStore* metadata = nullptr;
  const Clock* clock = nullptr;
  ModelCache* models = nullptr;  // when set: commands to devices with a model are checked
};

// `context` and what it points to must outlive the router.
void AddCommandRoutes(Router* router, const CommandRoutesContext* context);

}  // namespace seaway
