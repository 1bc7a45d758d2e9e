// Thing models over HTTP (src/http/model_handlers.h).
#include "http/model_handlers.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/platform_request.h"

namespace seaway {
namespace {

using nlohmann::json;

json Summary(const StoredModel& m) {
  return json{{"id", m.id.value()},
              {"name", m.model.name},
              {"version", m.model.version},
              {"description", m.model.description},
              {"table", m.model.table},
              {"properties", m.model.properties.size()},
              {"events", m.model.events.size()},
              {"commands", m.model.commands.size()},
              {"devices", m.devices},
              {"created_ns", m.created_ns},
              {"updated_ns", m.updated_ns}};
}

HttpResponse Created(int status, ModelId id, const ThingModel& model) {
  return HttpResponse::Json(
      status, json{{"id", id.value()}, {"name", model.name}, {"table", model.table}}.dump());
}

HttpResponse ListModels(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsRead);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {}); !s.ok()) return Fail(s);
  auto all = ctx->models->ListModels(who->tenant);
  if (!all.ok()) return Fail(all.status());
  // A customer role counts only the devices it sees: the tenant's count would tell it how many
  // devices lie outside its subtree (docs/security.md, "Scoped to the customer").
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (*visible) {
    auto devices = ctx->metadata->ListDevices(who->tenant);
    if (!devices.ok()) return Fail(devices.status());
    std::map<ModelId, size_t> followers;
    for (const DeviceInfo& d : *devices) {
      if (!ContainsOwner(*visible, d.customer)) continue;
      auto model = ctx->models->ModelIdOfDevice(who->tenant, d.name);
      if (!model.ok()) return Fail(model.status());
      if (*model) ++followers[**model];
    }
    for (StoredModel& m : *all) m.devices = followers[m.id];
  }
  return PageOf(*all, *page, Summary);
}

HttpResponse CreateModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsManage);
  if (!who.ok()) return Fail(who.status());
  auto model = ParseThingModel(request.body);
  if (!model.ok()) return Fail(model.status());
  auto id = ctx->models->CreateModel(who->tenant, *model);
  if (!id.ok()) return Fail(id.status());
  return Created(201, *id, *model);
}

HttpResponse GetModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsRead);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto stored = ctx->models->GetModel(who->tenant, ModelId(*id));
  if (!stored.ok()) return Fail(stored.status());
  return HttpResponse::Json(200, ThingModelToJson(stored->model));
}

HttpResponse ReplaceModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto model = ParseThingModel(request.body);
  if (!model.ok()) return Fail(model.status());
  if (Status s = ctx->models->ReplaceModel(who->tenant, ModelId(*id), *model); !s.ok()) {
    return Fail(s);
  }
  return Created(200, ModelId(*id), *model);
}

HttpResponse DeleteModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  if (Status s = ctx->models->DeleteModel(who->tenant, ModelId(*id)); !s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

HttpResponse AssignModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsManage);
  if (!who.ok()) return Fail(who.status());
  if (!who->Can(Permission::kDevicesManage)) {
    return Fail(who->Refusal(Permission::kDevicesManage));
  }
  auto device = PathId(request, 1);
  if (!device.ok()) return Fail(device.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  if (!body->contains("model")) {
    return Fail(InvalidArgument("'model' is required: a model id, or null for none"));
  }
  auto model = IdField(*body, "model");
  if (!model.ok()) return Fail(model.status());
  std::optional<ModelId> id;
  if (*model) id = ModelId(**model);
  if (Status s = ctx->models->AssignModel(who->tenant, DeviceId(*device), id); !s.ok()) {
    return Fail(s);
  }
  return HttpResponse::Json(
      200, json{{"device", *device}, {"model", *model ? json(**model) : json(nullptr)}}.dump());
}

HttpResponse DeviceModel(const ModelRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kModelsRead);
  if (!who.ok()) return Fail(who.status());
  if (!who->Can(Permission::kDevicesRead)) {
    return Fail(who->Refusal(Permission::kDevicesRead));
  }
  auto device = PathId(request, 1);
  if (!device.ok()) return Fail(device.status());
  // A customer role sees only its subtree's devices; others are 404, as if absent.
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (*visible) {
    auto devices = ctx->metadata->ListDevices(who->tenant);
    if (!devices.ok()) return Fail(devices.status());
    bool seen = false;
    for (const DeviceInfo& d : *devices) {
      seen |= d.id.value() == *device && ContainsOwner(*visible, d.customer);
    }
    if (!seen) return Fail(NotFound("device {} does not exist", *device));
  }
  auto model = ctx->models->ModelOfDevice(who->tenant, DeviceId(*device));
  if (!model.ok()) return Fail(model.status());
  return HttpResponse::Json(
      200, json{{"device", *device}, {"model", *model ? json((*model)->id.value()) : json(nullptr)}}
               .dump());
}

}  // namespace

void AddModelRoutes(Router* router, const ModelRoutesContext* ctx) {
  auto add = [&](HttpMethod method, const char* path, const char* name, std::string_view access,
                 HttpResponse (*handler)(const ModelRoutesContext*, const HttpRequest&)) {
    router->Add(method, path, name, std::string(access),
                [ctx, handler](const HttpRequest& request, HttpReply reply) {
                  reply.Send(handler(ctx, request));
                });
  };
  add(HttpMethod::kGet, "/api/v1/models", "models", "models.read", ListModels);
  add(HttpMethod::kPost, "/api/v1/models", "models", "models.manage", CreateModel);
  add(HttpMethod::kGet, "/api/v1/models/{id}", "model", "models.read", GetModel);
  add(HttpMethod::kPut, "/api/v1/models/{id}", "model", "models.manage", ReplaceModel);
  add(HttpMethod::kDelete, "/api/v1/models/{id}", "model", "models.manage", DeleteModel);
  add(HttpMethod::kPut, "/api/v1/devices/{id}/model", "device_model", "models.manage", AssignModel);
  add(HttpMethod::kGet, "/api/v1/devices/{id}/model", "device_model", "models.read", DeviceModel);
}

}  // namespace seaway
