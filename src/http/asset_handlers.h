// Assets over HTTP (src/http): the tenant's hierarchy of sites, lines, machines, stores,
// freezers, districts, meters... with devices attached (issue #7; platform/asset_store.h).
//
//   GET    /api/v1/assets        ?parent=<id>|root &type= &customer=<id>|none &limit= &offset=
//                                -> {"items": [asset...], "total"}
//   POST   /api/v1/assets        {"name", "type", "parent"?, "customer"?, "attributes"?: {...}}
//                                -> 201 asset
//   GET    /api/v1/assets/{id}   -> asset
//   PATCH  /api/v1/assets/{id}   any of {"name", "type", "attributes", "parent" (null: to the top
//                                level), "customer" (null: unassign)} -> 200 asset; 400 for a
//                                move under the asset itself or one of its descendants
//   DELETE /api/v1/assets/{id}   ?recursive=true -> 204; 409 naming the count of child assets
//                                without it. Attached devices are detached, not deleted.
//   GET    /api/v1/assets/{id}/devices   ?recursive=true (the whole subtree) &limit= &offset=
//                                -> {"items": [{"id", "name", "customer", "asset"}], "total"}
//   PUT    /api/v1/assets/{id}/devices/{device_id}   attach -> 204 (again: 204); 409 when the
//                                device sits in another asset (a device is in at most one)
//   DELETE /api/v1/assets/{id}/devices/{device_id}   detach -> 204; 404 when not attached
//
// An asset is {"id", "parent", "customer", "name", "type", "attributes", "created_ns"}. Reads
// need assets.read (and, for an asset's devices, devices.read too); writes need assets.manage
// and a tenant role. Customer roles see only the assets assigned to a customer of their subtree
// (assignment is per asset, not inherited), and of those assets' devices only their own: any
// other asset answers 404 exactly as a missing one. Unknown body fields are refused (400), so
// that a misspelt "parent" does not pass silently. Errors are {"error", "code"}.
//
// Thread-safe.
#pragma once

#include "http/router.h"
#include "platform/asset_store.h"
#include "platform/metadata_store.h"

namespace seaway {

struct AssetRoutesContext {
  MetadataStore* metadata = nullptr;  // tokens, customers (visibility)
  AssetStore* assets = nullptr;
};

// `context` and what it points to must outlive the router.
void AddAssetRoutes(Router* router, const AssetRoutesContext* context);

}  // namespace seaway
