// Tenants and their settings over HTTP (src/http), issue #7.
//
//   GET   /api/v1/tenants        every tenant with its settings (tenants.manage: the system
//                                token only)
//   POST  /api/v1/tenants        {"name", "settings"?} -> 201 {"id", "name", "settings",
//                                "admin_token"}: the new tenant's administrator token, shown
//                                once (only its hash is kept)
//   GET   /api/v1/tenant         the caller's tenant: {"id", "name", "settings", "usage":
//                                {"devices", "stored_bytes"}}
//   PATCH /api/v1/tenant         a JSON merge patch of the settings (tenant.manage):
//                                {"time_zone"?, "retention_s"?}, null resets a member; -> 200
//                                with the tenant as GET answers. "quotas" only with the system
//                                token (a tenant does not set its own limits)
//   GET   /api/v1/tenants/{id}   any tenant as GET /api/v1/tenant answers (tenants.manage)
//   PATCH /api/v1/tenants/{id}   the same for any tenant, quotas included (tenants.manage)
//   DELETE /api/v1/tenants/{id}  204: the tenant, every object of it and all its data are
//                                gone, its MQTT clients disconnected (tenants.manage; not the
//                                caller's own tenant). Its id is never given again.
//
// Settings and quotas: platform/tenant_settings.h. A new retention_s applies at once (the
// engine's tenant-wide default, Engine::SetTenantRetention); new quotas apply to the next
// request (QuotaEnforcer::Invalidate).
//
// Thread-safe.
#pragma once

#include <functional>

#include "http/router.h"
#include "platform/metadata_store.h"
#include "platform/quota_enforcer.h"
#include "platform/tenant_settings_cache.h"
#include "storage/engine.h"

namespace seaway {

struct TenantRoutesContext {
  MetadataStore* metadata = nullptr;
  QuotaEnforcer* quotas = nullptr;                // told when settings change, when set
  Engine* engine = nullptr;                       // retention and usage
  TenantSettingsCache* settings_cache = nullptr;  // told when settings change, when set
  // Drops what a deleted tenant left outside the metadata store (its data, MQTT sessions,
  // caches); when unset, DELETE /api/v1/tenants/{id} is refused.
  std::function<Status(TenantId)> purge_tenant;
};

// `context` and what it points to must outlive the router.
void AddTenantRoutes(Router* router, const TenantRoutesContext* context);

}  // namespace seaway
