// Device twins over HTTP (src/http; platform/twin_store.h, docs/security.md).
//
//   GET   /api/v1/devices/{id}/twin   {"device", "name", "tags", "desired", "desired_version",
//                                     "reported", "reported_version", "delta"} (devices.read;
//                                     404 outside a customer role's reach)
//   PATCH /api/v1/devices/{id}/twin   {"desired"?: merge patch, "tags"?: merge patch}
//                                     (devices.manage): a changed desired state is pushed to the
//                                     device over MQTT (twin/desired retained, twin/delta)
//   GET   /api/v1/twins               the twins of the caller's devices (devices.read), filtered
//                                     by ?tag.<name>=<value> (tags equal, as text),
//                                     ?reported.<name>=<value>, ?pending=true (a non-empty
//                                     delta); limit/offset
//
// Thread-safe.
#pragma once

#include "http/router.h"
#include "mqtt/broker.h"
#include "platform/metadata_store.h"
#include "platform/twin_store.h"

namespace seaway {

struct TwinRoutesContext {
  MetadataStore* metadata = nullptr;
  TwinStore* twins = nullptr;
  mqtt::Broker* broker = nullptr;  // when set, desired changes are pushed to the device
};

// `context` and what it points to must outlive the router.
void AddTwinRoutes(Router* router, const TwinRoutesContext* context);

}  // namespace seaway
