// Thing models over HTTP (src/http): import, export and assignment to devices (issue #7;
// docs/models.md).
//
//   GET    /api/v1/models        ?limit=&offset= -> {"items": [{"id", "name", "version",
//                                "table", "properties", "events", "commands", "devices", ...}],
//                                "total"}                                     (models.read)
//   POST   /api/v1/models        the model document (import) -> 201 {"id", "name", "table"};
//                                400 naming the JSON path of the problem      (models.manage)
//   GET    /api/v1/models/{id}   the model document (export)                  (models.read)
//   PUT    /api/v1/models/{id}   a new version of the document -> 200 {"id", "name", "table"};
//                                the devices following it are checked against it from now on
//                                                                              (models.manage)
//   DELETE /api/v1/models/{id}   204; 409 naming how many devices still follow it
//                                                                              (models.manage)
//   PUT    /api/v1/devices/{id}/model  {"model": id | null} -> 200 {"device", "model"}: the
//                                device's telemetry is checked against the model (null: none,
//                                schemaless)               (models.manage and devices.manage)
//   GET    /api/v1/devices/{id}/model  {"device", "model": id | null}, for a device the caller
//                                may see                      (models.read and devices.read)
//
// Models are the tenant's: another tenant's ids are 404. Every route takes
// `Authorization: Token <token>`; the router's authorizer checks the declared permission and
// each handler checks again (and the second permission of the device routes).
//
// Thread-safe.
#pragma once

#include "http/router.h"
#include "platform/metadata_store.h"
#include "platform/model_store.h"

namespace seaway {

struct ModelRoutesContext {
  MetadataStore* metadata = nullptr;
  ModelStore* models = nullptr;  // the ModelCache in the server, so that changes reach MQTT
};

// `context` and what it points to must outlive the router.
void AddModelRoutes(Router* router, const ModelRoutesContext* context);

}  // namespace seaway
