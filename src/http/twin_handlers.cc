// Device twins over HTTP (src/http/twin_handlers.h).
#include "http/twin_handlers.h"

#include <nlohmann/json.hpp>

#include "http/platform_request.h"
#include "mqtt/twin_bridge.h"

namespace seaway {
namespace {

using nlohmann::json;

// A JSON value as the text a query parameter compares with: strings bare, the rest as JSON.
std::string AsText(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

HttpResponse GetTwin(const TwinRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesRead, 1);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  auto twin = ctx->twins->GetTwin(who->tenant, device->id);
  if (!twin.ok()) return Fail(twin.status());
  return HttpResponse::Json(200, TwinJson(*twin).dump());
}

HttpResponse PatchTwin(const TwinRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesManage, 1);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  for (const auto& [key, value] : body->items()) {
    if (key != "desired" && key != "tags") {
      return Fail(InvalidArgument(
          "'{}' cannot be changed over HTTP (desired, tags; the device reports 'reported')", key));
    }
  }
  const json none;
  const json& desired = body->contains("desired") ? (*body)["desired"] : none;
  const json& tags = body->contains("tags") ? (*body)["tags"] : none;
  auto before = ctx->twins->GetTwin(who->tenant, device->id);
  if (!before.ok()) return Fail(before.status());
  auto twin = ctx->twins->PatchDesired(who->tenant, device->id, desired, tags);
  if (!twin.ok()) return Fail(twin.status());
  if (ctx->broker != nullptr && twin->desired_version != before->desired_version) {
    mqtt::PushDesired(ctx->broker, who->tenant, *twin);
  }
  return HttpResponse::Json(200, TwinJson(*twin).dump());
}

HttpResponse ListTwins(const TwinRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesRead);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  // Filters: tag.<name>=<value>, reported.<name>=<value>, pending=true|false.
  std::vector<std::tuple<std::string, std::string, std::string>> equal;  // part, member, value
  std::optional<bool> pending;
  for (const auto& [key, value] : request.QueryParams()) {
    if (key == "limit" || key == "offset" || key == "p") continue;  // p: a token (RequestToken)
    if (key == "pending") {
      if (value != "true" && value != "false") {
        return Fail(InvalidArgument("'pending' must be true or false"));
      }
      pending = value == "true";
    } else if (key.starts_with("tag.") && key.size() > 4) {
      equal.emplace_back("tags", key.substr(4), value);
    } else if (key.starts_with("reported.") && key.size() > 9) {
      equal.emplace_back("reported", key.substr(9), value);
    } else {
      return Fail(InvalidArgument(
          "unknown filter '{}' (tag.<name>, reported.<name>, pending, limit, offset)", key));
    }
  }
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto devices = ctx->metadata->ListDevices(who->tenant);
  if (!devices.ok()) return Fail(devices.status());
  auto twins = ctx->twins->ListTwins(who->tenant);
  if (!twins.ok()) return Fail(twins.status());
  std::vector<DeviceTwin> out;
  size_t d = 0;
  for (DeviceTwin& twin : *twins) {  // both by device id
    while (d < devices->size() && (*devices)[d].id < twin.device) ++d;
    if (d == devices->size() || (*devices)[d].id != twin.device ||
        !ContainsOwner(*visible, (*devices)[d].customer)) {
      continue;
    }
    bool match = !pending || TwinDelta(twin).empty() != *pending;
    for (const auto& [part, member, value] : equal) {
      const json& object = part == "tags" ? twin.tags : twin.reported;
      auto it = object.find(member);
      match &= it != object.end() && AsText(*it) == value;
    }
    if (match) out.push_back(std::move(twin));
  }
  return PageOf(out, *page, TwinJson);
}

}  // namespace

void AddTwinRoutes(Router* router, const TwinRoutesContext* ctx) {
  auto add = [&](HttpMethod method, const char* path, const char* name, std::string_view access,
                 HttpResponse (*handler)(const TwinRoutesContext*, const HttpRequest&)) {
    router->Add(method, path, name, std::string(access),
                [ctx, handler](const HttpRequest& request, HttpReply reply) {
                  reply.Send(handler(ctx, request));
                });
  };
  add(HttpMethod::kGet, "/api/v1/devices/{id}/twin", "device_twin", "devices.read", GetTwin);
  add(HttpMethod::kPatch, "/api/v1/devices/{id}/twin", "device_twin", "devices.manage", PatchTwin);
  add(HttpMethod::kGet, "/api/v1/twins", "twins", "devices.read", ListTwins);
}

}  // namespace seaway
