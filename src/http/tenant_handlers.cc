// Tenants and their settings over HTTP (src/http/tenant_handlers.h).
#include "http/tenant_handlers.h"

#include <nlohmann/json.hpp>

#include "http/platform_request.h"

namespace seaway {
namespace {

using nlohmann::json;

json TenantJson(const TenantInfo& t) {
  return json{{"id", t.id.value()}, {"name", t.name}, {"settings", ToJson(t.settings)}};
}

// Makes the engine keep the tenant's rows as long as its settings say.
Status ApplyRetention(const TenantRoutesContext* ctx, TenantId tenant,
                      const TenantSettings& settings) {
  if (ctx->engine == nullptr) return Status::OK();
  std::optional<Duration> keep;
  if (settings.retention_s) keep = Duration::Seconds(*settings.retention_s);
  return ctx->engine->SetTenantRetention(tenant, keep);
}

HttpResponse TenantAnswer(const TenantRoutesContext* ctx, TenantId id, bool with_usage = true) {
  auto tenant = ctx->metadata->GetTenant(id);
  if (!tenant.ok()) return Fail(tenant.status());
  json out = TenantJson(*tenant);
  if (with_usage) {
    auto devices = ctx->metadata->ListDevices(id);
    if (!devices.ok()) return Fail(devices.status());
    out["usage"] = json{{"devices", devices->size()},
                        {"stored_bytes", ctx->engine ? ctx->engine->StoredBytes(id) : 0}};
  }
  return HttpResponse::Json(200, out.dump());
}

HttpResponse ListTenants(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantsManage);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {}); !s.ok()) return Fail(s);
  auto all = ctx->metadata->ListTenants();
  if (!all.ok()) return Fail(all.status());
  return PageOf(*all, *page, TenantJson);
}

HttpResponse CreateTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantsManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"name", "settings", "quotas"});
  if (!body.ok()) return Fail(body.status());
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  TenantSettings settings;
  if (auto it = body->find("settings"); it != body->end() && !it->is_null()) {
    if (Status s = PatchTenantSettings(*it, &settings); !s.ok()) return Fail(s);
  }
  // The tenant's quotas, as `settings.quotas` (docs/security.md, "Quotas").
  if (auto it = body->find("quotas"); it != body->end()) {
    if (Status s = PatchTenantSettings(json{{"quotas", *it}}, &settings); !s.ok()) return Fail(s);
  }
  auto token = NewRandomToken();
  if (!token.ok()) return Fail(token.status());
  auto id = ctx->metadata->CreateTenant(**name);
  if (!id.ok()) return Fail(id.status());
  for (Status s : {ctx->metadata->SetTenantSettings(*id, settings),
                   ctx->metadata->AddToken(*id, *token, "admin (created with the tenant)"),
                   ApplyRetention(ctx, *id, settings)}) {
    if (s.ok()) continue;
    // No half-made tenant: one without its token could not be used, and its name is taken.
    if (ctx->metadata->DeleteTenant(*id).ok() && ctx->purge_tenant) (void)ctx->purge_tenant(*id);
    return Fail(s);
  }
  json out = TenantJson(TenantInfo{*id, **name, settings});
  out["admin_token"] = *token;
  return HttpResponse::Json(201, out.dump());
}

HttpResponse GetTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Caller(ctx->metadata, request);
  if (!who.ok()) return Fail(who.status());
  // The tenant's usage (all its devices, all its stored bytes) is not a customer role's to see:
  // it would tell how many devices lie outside its subtree (docs/security.md).
  return TenantAnswer(ctx, who->tenant, /*with_usage=*/!IsCustomerRole(who->role));
}

// Applies a settings merge patch to tenant `id` and makes it take effect.
HttpResponse ChangeSettings(const TenantRoutesContext* ctx, TenantId id, const json& patch) {
  auto tenant = ctx->metadata->GetTenant(id);
  if (!tenant.ok()) return Fail(tenant.status());
  TenantSettings settings = tenant->settings;
  if (Status s = PatchTenantSettings(patch, &settings); !s.ok()) return Fail(s);
  Status s = ctx->metadata->SetTenantSettings(id, settings);
  if (s.ok()) s = ApplyRetention(ctx, id, settings);
  // Whatever was stored takes effect, also when applying the retention failed.
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(id);
  if (ctx->settings_cache != nullptr) ctx->settings_cache->Invalidate(id);
  if (!s.ok()) return Fail(s);
  return TenantAnswer(ctx, id);
}

HttpResponse PatchTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  // A tenant's quotas are the installation operator's to set, not the tenant's.
  if (body->contains("quotas") && !who->Can(Permission::kTenantsManage)) {
    return Fail(
        PermissionDenied("a tenant's quotas are set by the installation's system token (PATCH "
                         "/api/v1/tenants/{{id}})"));
  }
  return ChangeSettings(ctx, who->tenant, *body);
}

HttpResponse PatchAnyTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantsManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  return ChangeSettings(ctx, TenantId(*id), *body);
}

HttpResponse GetAnyTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantsManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  return TenantAnswer(ctx, TenantId(*id));
}

HttpResponse DeleteAnyTenant(const TenantRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTenantsManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  if (TenantId(*id) == who->tenant) {
    return Fail(
        FailedPrecondition("tenant {} holds the system token making this request: it "
                           "cannot delete itself",
                           *id));
  }
  if (!ctx->purge_tenant) return Fail(NotSupported("deleting tenants is not enabled here"));
  if (Status s = ctx->metadata->DeleteTenant(TenantId(*id)); !s.ok()) return Fail(s);
  // Nothing authenticates as the tenant any more; what it stored goes now (or, should this
  // fail, at the next start).
  if (Status s = ctx->purge_tenant(TenantId(*id)); !s.ok()) {
    return Fail(
        Internal("tenant {} was deleted, but dropping its data failed ({}); the server "
                 "retries at its next start",
                 *id, s.ToString()));
  }
  return HttpResponse::Text(204, "");
}

}  // namespace

void AddTenantRoutes(Router* router, const TenantRoutesContext* ctx) {
  auto add = [&](HttpMethod method, const char* path, const char* name, std::string_view access,
                 HttpResponse (*handler)(const TenantRoutesContext*, const HttpRequest&)) {
    router->Add(method, path, name, std::string(access),
                [ctx, handler](const HttpRequest& request, HttpReply reply) {
                  reply.Send(handler(ctx, request));
                });
  };
  add(HttpMethod::kGet, "/api/v1/tenants", "tenants", "tenants.manage", ListTenants);
  add(HttpMethod::kPost, "/api/v1/tenants", "tenants", "tenants.manage", CreateTenant);
  add(HttpMethod::kGet, "/api/v1/tenant", "tenant", kAuthenticatedAccess, GetTenant);
  add(HttpMethod::kPatch, "/api/v1/tenant", "tenant", "tenant.manage", PatchTenant);
  add(HttpMethod::kPatch, "/api/v1/tenants/{id}", "tenants", "tenants.manage", PatchAnyTenant);
  add(HttpMethod::kGet, "/api/v1/tenants/{id}", "tenants", "tenants.manage", GetAnyTenant);
  add(HttpMethod::kDelete, "/api/v1/tenants/{id}", "tenants", "tenants.manage", DeleteAnyTenant);
}

}  // namespace seaway
