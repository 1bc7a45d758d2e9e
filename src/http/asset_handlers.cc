// Assets over HTTP (src/http/asset_handlers.h).
#include "http/asset_handlers.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/platform_request.h"

namespace seaway {
namespace {

using nlohmann::json;

json OptionalAsset(const std::optional<AssetId>& id) {
  return id ? json(id->value()) : json(nullptr);
}

json AssetJson(const AssetInfo& a) {
  json attributes = json::parse(a.attributes, nullptr, /*allow_exceptions=*/false);
  if (!attributes.is_object()) attributes = json::object();
  return json{{"id", a.id.value()},
              {"parent", OptionalAsset(a.parent)},
              {"customer", OptionalId(a.customer)},
              {"name", a.name},
              {"type", a.type},
              {"attributes", std::move(attributes)},
              {"created_ns", a.created_ns}};
}

// Stored text is not necessarily valid UTF-8 (the store's direct callers): never throw on it.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse AssetResponse(int status, const AssetInfo& a) {
  return HttpResponse::Json(status, Dump(AssetJson(a)));
}

// InvalidArgument naming the first field of `body` not in `known`.
Status OnlyFields(const json& body, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : body.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      return InvalidArgument("unknown field '{}'; the fields are {}", name, list);
    }
  }
  return Status::OK();
}

// The "attributes" field as JSON text: "{}" when absent; InvalidArgument unless an object.
Result<std::optional<std::string>> AttributesField(const json& body) {
  auto it = body.find("attributes");
  if (it == body.end()) return std::optional<std::string>();
  if (!it->is_object()) return InvalidArgument("'attributes' must be a JSON object");
  return std::optional<std::string>(Dump(*it));
}

// ?recursive=true|false (default false).
Result<bool> Recursive(const HttpRequest& request) {
  auto text = request.QueryParam("recursive");
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return InvalidArgument("'recursive' must be true or false");
}

// The caller, when it may change assets: assets.manage and a tenant role. Customer roles hold
// no assets.manage today; the second check keeps writes tenant-wide should that change.
Result<Principal> Manager(const AssetRoutesContext* ctx, const HttpRequest& request) {
  SW_ASSIGN_OR_RETURN(Principal who, Authorized(ctx->metadata, request, Permission::kAssetsManage));
  if (IsCustomerRole(who.role)) {
    return PermissionDenied("role '{}' does not manage assets", RoleName(who.role));
  }
  return who;
}

// The asset `id` if the caller may see it; NotFound otherwise, in the store's words, so that a
// customer cannot tell another customer's asset from a missing one.
Result<AssetInfo> VisibleAsset(const AssetRoutesContext* ctx, const Principal& who,
                               const VisibleCustomers& visible, uint64_t id) {
  SW_ASSIGN_OR_RETURN(AssetInfo asset, ctx->assets->GetAsset(who.tenant, AssetId(id)));
  if (!ContainsOwner(visible, asset.customer)) {
    return NotFound("asset {} does not exist", id);
  }
  return asset;
}

HttpResponse ListAssets(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kAssetsRead);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {"parent", "type", "customer"}); !s.ok()) return Fail(s);
  AssetFilter filter;
  auto parent = QueryIdFilter(request, "parent", "an asset id", "root");
  if (!parent.ok()) return Fail(parent.status());
  if (parent->active) {
    if (parent->id) {
      filter.parent = AssetId(*parent->id);
    } else {
      filter.top_level = true;
    }
  }
  // ?customer=<id> or ?customer=none (the tenant's own assets), as for devices and users.
  auto customer = QueryIdFilter(request, "customer", "a customer id", "none");
  if (!customer.ok()) return Fail(customer.status());
  if (customer->id) filter.customer = CustomerId(*customer->id);
  if (auto type = request.QueryParam("type")) filter.type = *type;
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->assets->ListAssets(who->tenant, filter);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const AssetInfo& a) {
    return !ContainsOwner(*visible, a.customer) || !customer->Matches(a.customer);
  });
  return PageOf(*all, *page, AssetJson);
}

HttpResponse CreateAsset(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Manager(ctx, request);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  if (Status s = OnlyFields(*body, {"name", "type", "parent", "customer", "attributes"}); !s.ok()) {
    return Fail(s);
  }
  NewAsset asset;
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  asset.name = **name;
  auto type = StringField(*body, "type", /*required=*/true);
  if (!type.ok()) return Fail(type.status());
  asset.type = **type;
  auto parent = IdField(*body, "parent");
  if (!parent.ok()) return Fail(parent.status());
  if (*parent) asset.parent = AssetId(**parent);
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  asset.customer = *customer;
  auto attributes = AttributesField(*body);
  if (!attributes.ok()) return Fail(attributes.status());
  if (*attributes) asset.attributes = **attributes;
  auto id = ctx->assets->CreateAsset(who->tenant, asset);
  if (!id.ok()) return Fail(id.status());
  auto created = ctx->assets->GetAsset(who->tenant, *id);
  if (!created.ok()) return Fail(created.status());
  return AssetResponse(201, *created);
}

HttpResponse GetAsset(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kAssetsRead);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto asset = VisibleAsset(ctx, *who, *visible, *id);
  if (!asset.ok()) return Fail(asset.status());
  return AssetResponse(200, *asset);
}

HttpResponse UpdateAsset(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Manager(ctx, request);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  if (Status s = OnlyFields(*body, {"name", "type", "parent", "customer", "attributes"}); !s.ok()) {
    return Fail(s);
  }
  AssetUpdate update;
  auto name = StringField(*body, "name", /*required=*/false);
  if (!name.ok()) return Fail(name.status());
  update.name = *name;
  auto type = StringField(*body, "type", /*required=*/false);
  if (!type.ok()) return Fail(type.status());
  update.type = *type;
  auto attributes = AttributesField(*body);
  if (!attributes.ok()) return Fail(attributes.status());
  update.attributes = *attributes;
  // Present and null means "none": to the top level, unassigned.
  if (body->contains("parent")) {
    auto parent = IdField(*body, "parent");
    if (!parent.ok()) return Fail(parent.status());
    update.parent = *parent ? std::optional(AssetId(**parent)) : std::nullopt;
  }
  if (body->contains("customer")) {
    auto customer = CustomerField(*body, "customer");
    if (!customer.ok()) return Fail(customer.status());
    update.customer = *customer;
  }
  if (Status s = ctx->assets->UpdateAsset(who->tenant, AssetId(*id), update); !s.ok()) {
    return Fail(s);
  }
  auto updated = ctx->assets->GetAsset(who->tenant, AssetId(*id));
  if (!updated.ok()) return Fail(updated.status());
  return AssetResponse(200, *updated);
}

HttpResponse DeleteAsset(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Manager(ctx, request);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto recursive = Recursive(request);
  if (!recursive.ok()) return Fail(recursive.status());
  Status s = ctx->assets->DeleteAsset(who->tenant, AssetId(*id), *recursive);
  if (s.code() == StatusCode::kFailedPrecondition) {
    return Fail(Status(s.code(), fmt::format("{} (?recursive=true)", s.message())));
  }
  if (!s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

HttpResponse ListAssetDevices(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kAssetsRead);
  if (!who.ok()) return Fail(who.status());
  // The answer names devices: a token scoped to assets.read alone does not get them.
  if (!who->Can(Permission::kDevicesRead)) {
    return Fail(who->Refusal(Permission::kDevicesRead));
  }
  auto id = PathId(request, 1);
  if (!id.ok()) return Fail(id.status());
  auto recursive = Recursive(request);
  if (!recursive.ok()) return Fail(recursive.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {"recursive"}); !s.ok()) return Fail(s);
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto asset = VisibleAsset(ctx, *who, *visible, *id);
  if (!asset.ok()) return Fail(asset.status());
  auto devices = ctx->assets->ListAssetDevices(who->tenant, asset->id, *recursive);
  if (!devices.ok()) return Fail(devices.status());
  if (*visible) {
    // A customer sees its own devices, and only in assets it may see.
    std::set<AssetId> shown;
    auto subtree = ctx->assets->Subtree(who->tenant, asset->id);
    if (!subtree.ok()) return Fail(subtree.status());
    for (const AssetInfo& a : *subtree) {
      if (ContainsOwner(*visible, a.customer)) shown.insert(a.id);
    }
    std::erase_if(*devices, [&](const AssetDevice& d) {
      return !shown.contains(d.asset) || !ContainsOwner(*visible, d.device.customer);
    });
  }
  return PageOf(*devices, *page, [](const AssetDevice& d) {
    return json{{"id", d.device.id.value()},
                {"name", d.device.name},
                {"customer", OptionalId(d.device.customer)},
                {"asset", d.asset.value()}};
  });
}

HttpResponse AttachDevice(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Manager(ctx, request);
  if (!who.ok()) return Fail(who.status());
  auto asset = PathId(request, 2);
  if (!asset.ok()) return Fail(asset.status());
  auto device = PathId(request, 0);
  if (!device.ok()) return Fail(device.status());
  Status s = ctx->assets->AttachDevice(who->tenant, AssetId(*asset), DeviceId(*device));
  if (!s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

HttpResponse DetachDevice(const AssetRoutesContext* ctx, const HttpRequest& request) {
  auto who = Manager(ctx, request);
  if (!who.ok()) return Fail(who.status());
  auto asset = PathId(request, 2);
  if (!asset.ok()) return Fail(asset.status());
  auto device = PathId(request, 0);
  if (!device.ok()) return Fail(device.status());
  Status s = ctx->assets->DetachDevice(who->tenant, AssetId(*asset), DeviceId(*device));
  if (!s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

}  // namespace

void AddAssetRoutes(Router* router, const AssetRoutesContext* ctx) {
  auto add = [&](HttpMethod method, const char* path, const char* name, const char* access,
                 HttpResponse (*handler)(const AssetRoutesContext*, const HttpRequest&)) {
    router->Add(method, path, name, access,
                [ctx, handler](const HttpRequest& request, HttpReply reply) {
                  reply.Send(handler(ctx, request));
                });
  };
  add(HttpMethod::kGet, "/api/v1/assets", "assets", "assets.read", ListAssets);
  add(HttpMethod::kPost, "/api/v1/assets", "assets", "assets.manage", CreateAsset);
  add(HttpMethod::kGet, "/api/v1/assets/{id}", "asset", "assets.read", GetAsset);
  add(HttpMethod::kPatch, "/api/v1/assets/{id}", "asset", "assets.manage", UpdateAsset);
  add(HttpMethod::kDelete, "/api/v1/assets/{id}", "asset", "assets.manage", DeleteAsset);
  add(HttpMethod::kGet, "/api/v1/assets/{id}/devices", "asset_devices", "assets.read",
      ListAssetDevices);
  add(HttpMethod::kPut, "/api/v1/assets/{id}/devices/{device_id}", "asset_device", "assets.manage",
      AttachDevice);
  add(HttpMethod::kDelete, "/api/v1/assets/{id}/devices/{device_id}", "asset_device",
      "assets.manage", DetachDevice);
}

}  // namespace seaway
