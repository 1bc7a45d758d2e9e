// Login, customers and users over HTTP (src/http/platform_handlers.h).
#include "http/platform_handlers.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/platform_request.h"
#include "http/write_handlers.h"
#include "platform/device_csv.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr int64_t kSessionTtlSeconds = 12 * 3600;  // as MetadataStore::Login's

// "10.0.0.7:51234" -> "10.0.0.7" (and "[::1]:51234" -> "[::1]"): failures count per address,
// not per connection.
std::string_view AddressOnly(std::string_view remote) {
  const size_t colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

HttpResponse Login(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  std::string parts[3];
  const char* names[3] = {"tenant", "user", "password"};
  for (int i = 0; i < 3; ++i) {
    auto field = StringField(*body, names[i], /*required=*/true);
    if (!field.ok()) return Fail(field.status());
    parts[i] = **field;
  }
  auto token =
      ctx->metadata->Login(parts[0], parts[1], parts[2], AddressOnly(request.remote_address));
  if (!token.ok()) return Fail(token.status());
  return HttpResponse::Json(200,
                            json{{"token", *token}, {"expires_in_s", kSessionTtlSeconds}}.dump());
}

HttpResponse WhoAmI(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Caller(ctx->metadata, request);
  if (!who.ok()) return Fail(who.status());
  json permissions = json::array();
  for (Permission p : AllPermissions()) {
    if (who->Can(p)) permissions.push_back(std::string(PermissionName(p)));
  }
  json out{{"tenant", who->tenant.value()},
           {"user", who->user ? json(who->user->value()) : json(nullptr)},
           {"role", std::string(RoleName(who->role))},
           {"customer", OptionalId(who->customer)},
           {"permissions", permissions}};
  return HttpResponse::Json(200, out.dump());
}

HttpResponse ListCustomers(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Caller(ctx->metadata, request);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListCustomers(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const CustomerInfo& c) { return !Contains(*visible, c.id); });
  return PageOf(*all, *page, [](const CustomerInfo& c) {
    return json{{"id", c.id.value()}, {"parent", OptionalId(c.parent)}, {"name", c.name}};
  });
}

HttpResponse CreateCustomer(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kCustomersManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  auto parent = CustomerField(*body, "parent");
  if (!parent.ok()) return Fail(parent.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (*visible && (!*parent || !Contains(*visible, **parent))) {
    return Fail(PermissionDenied("a customer role creates customers only below its own"));
  }
  auto id = ctx->metadata->CreateCustomer(who->tenant, **name, *parent);
  if (!id.ok()) return Fail(id.status());
  return HttpResponse::Json(201, json{{"id", id->value()}}.dump());
}

HttpResponse ListUsers(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListUsers(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const UserInfo& u) { return !ContainsOwner(*visible, u.customer); });
  return PageOf(*all, *page, [](const UserInfo& u) {
    return json{{"id", u.id.value()},
                {"name", u.name},
                {"role", std::string(RoleName(u.role))},
                {"customer", OptionalId(u.customer)}};
  });
}

HttpResponse CreateUser(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  NewUser user;
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  user.name = **name;
  auto role_text = StringField(*body, "role", /*required=*/true);
  if (!role_text.ok()) return Fail(role_text.status());
  auto role = ParseRole(**role_text);
  if (!role.ok()) return Fail(role.status());
  user.role = *role;
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  user.customer = *customer;
  auto password = StringField(*body, "password", /*required=*/true);
  if (!password.ok()) return Fail(password.status());
  user.password = **password;
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (*visible) {
    if (!IsCustomerRole(user.role)) {
      return Fail(PermissionDenied("a customer role cannot create role '{}'", RoleName(user.role)));
    }
    if (!user.customer || !Contains(*visible, *user.customer)) {
      return Fail(PermissionDenied("a customer role creates users only in its own customers"));
    }
  }
  auto id = ctx->metadata->CreateUser(who->tenant, user);
  if (!id.ok()) return Fail(id.status());
  return HttpResponse::Json(201, json{{"id", id->value()}}.dump());
}

HttpResponse ListDevices(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesRead);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListDevices(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const DeviceInfo& d) { return !ContainsOwner(*visible, d.customer); });
  return PageOf(*all, *page, [](const DeviceInfo& d) {
    return json{{"id", d.id.value()}, {"name", d.name}, {"customer", OptionalId(d.customer)}};
  });
}

HttpResponse CreateDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  NewDevice device;
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  device.name = **name;
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  device.customer = *customer;
  auto created = ctx->metadata->CreateDevice(who->tenant, device);
  if (!created.ok()) return Fail(created.status());
  json out{{"id", created->id.value()},
           {"name", device.name},
           {"token", created->token},
           {"mqtt",
            {{"password", created->token},
             {"telemetry", fmt::format("devices/{}/telemetry", device.name)},
             {"commands", fmt::format("devices/{}/rpc/request/+", device.name)}}}};
  return HttpResponse::Json(201, out.dump());
}

// The device `id` if the caller may see it; NotFound otherwise (also when it exists outside the
// caller's customers: a customer cannot learn which ids exist elsewhere).
Result<DeviceInfo> VisibleDevice(const PlatformRoutesContext* ctx, const Principal& who,
                                 uint64_t id) {
  SW_ASSIGN_OR_RETURN(auto visible, Visible(ctx->metadata, who));
  SW_ASSIGN_OR_RETURN(auto all, ctx->metadata->ListDevices(who.tenant));
  for (const DeviceInfo& d : all) {
    if (d.id.value() != id) continue;
    if (!ContainsOwner(visible, d.customer)) break;
    return d;
  }
  return NotFound("device {} does not exist", id);
}

HttpResponse GetDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesRead);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto d = VisibleDevice(ctx, *who, *id);
  if (!d.ok()) return Fail(d.status());
  return HttpResponse::Json(
      200,
      json{{"id", d->id.value()}, {"name", d->name}, {"customer", OptionalId(d->customer)}}.dump());
}

HttpResponse DeleteDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto device = VisibleDevice(ctx, *who, *id);
  if (!device.ok()) return Fail(device.status());
  if (Status s = ctx->metadata->DeleteDevice(who->tenant, DeviceId(*id)); !s.ok()) return Fail(s);
  // Revoked means revoked: a connected client does not keep its session.
  if (ctx->broker != nullptr) ctx->broker->DisconnectDevice(who->tenant, device->name);
  if (ctx->device_deleted) ctx->device_deleted(who->tenant, *device);
  return HttpResponse::Text(204, "");
}

HttpResponse DeleteUser(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (*visible) {
    // A customer admin deletes only users of its own customers.
    auto users = ctx->metadata->ListUsers(who->tenant);
    if (!users.ok()) return Fail(users.status());
    bool mine = false;
    for (const UserInfo& u : *users) {
      mine |= u.id.value() == *id && ContainsOwner(*visible, u.customer);
    }
    if (!mine) return Fail(NotFound("user {} does not exist", *id));
  }
  if (Status s = ctx->metadata->DeleteUser(who->tenant, UserId(*id)); !s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

// Bulk provisioning: CSV lines `name[,customer id]`, an optional `name,customer` header; every
// device or none; the answer is CSV `name,id,token`.
HttpResponse ImportDevices(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto rows = ParseDeviceCsv(request.body);
  if (!rows.ok()) return Fail(rows.status());
  std::vector<NewDevice> devices;
  std::vector<size_t> lines;  // each device's line in the body, for errors
  for (const DeviceCsvRow& row : *rows) {
    devices.push_back(row.device);
    lines.push_back(row.line);
  }
  auto created = ctx->metadata->CreateDevices(who->tenant, devices);
  if (!created.ok()) {
    // "device N: ..." -> "line L: ..." (the store counts devices, the client counts lines).
    std::string message(created.status().message());
    if (message.starts_with("device ")) {
      const size_t colon = message.find(':');
      const size_t n = std::strtoul(message.c_str() + 7, nullptr, 10);
      if (colon != std::string::npos && n >= 1 && n <= lines.size()) {
        message = fmt::format("line {}{}", lines[n - 1], message.substr(colon));
      }
    }
    return Fail(Status(created.status().code(), message));
  }
  std::string csv = "name,id,token\n";
  for (size_t i = 0; i < devices.size(); ++i) {
    csv +=
        fmt::format("{},{},{}\n", devices[i].name, (*created)[i].id.value(), (*created)[i].token);
  }
  return HttpResponse::Text(201, std::move(csv), "text/csv");
}

HttpResponse CreateToken(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTokensManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  NewApiToken token;
  auto description = StringField(*body, "description", /*required=*/true);
  if (!description.ok()) return Fail(description.status());
  token.description = **description;
  if (auto it = body->find("scopes"); it != body->end() && !it->is_null()) {
    if (!it->is_array()) return Fail(InvalidArgument("'scopes' must be an array of permissions"));
    for (const json& name : *it) {
      if (!name.is_string()) return Fail(InvalidArgument("'scopes' must hold strings"));
      auto scope = ParsePermission(name.get<std::string>());
      if (!scope.ok()) return Fail(scope.status());
      token.scopes.push_back(*scope);
    }
  }
  if (auto it = body->find("expires_in_s"); it != body->end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 ||
        it->get<uint64_t>() > uint64_t{10} * 366 * 86400) {
      return Fail(InvalidArgument("'expires_in_s' must be 1 to 316224000 (10 years)"));
    }
    token.expires_in_ns = static_cast<int64_t>(it->get<uint64_t>()) * 1'000'000'000;
  }
  auto secret = ctx->metadata->CreateApiToken(*who, token);
  if (!secret.ok()) return Fail(secret.status());
  json scopes = json::array();
  for (Permission p : token.scopes) scopes.push_back(std::string(PermissionName(p)));
  json out{{"token", *secret}, {"description", token.description}, {"scopes", scopes}};
  if (token.expires_in_ns) out["expires_in_s"] = *token.expires_in_ns / 1'000'000'000;
  return HttpResponse::Json(201, out.dump());
}

}  // namespace

void AddPlatformRoutes(Router* router, const PlatformRoutesContext* ctx) {
  auto add = [&](HttpMethod method, const char* path, const char* name, std::string_view access,
                 HttpResponse (*handler)(const PlatformRoutesContext*, const HttpRequest&)) {
    router->Add(method, path, name, std::string(access),
                [ctx, handler](const HttpRequest& request, HttpReply reply) {
                  reply.Send(handler(ctx, request));
                });
  };
  add(HttpMethod::kPost, "/api/v1/auth/login", "login", kPublicAccess, Login);
  add(HttpMethod::kGet, "/api/v1/auth/whoami", "whoami", kAuthenticatedAccess, WhoAmI);
  add(HttpMethod::kGet, "/api/v1/customers", "customers", kAuthenticatedAccess, ListCustomers);
  add(HttpMethod::kPost, "/api/v1/customers", "customers", "customers.manage", CreateCustomer);
  add(HttpMethod::kGet, "/api/v1/users", "users", "users.manage", ListUsers);
  add(HttpMethod::kPost, "/api/v1/users", "users", "users.manage", CreateUser);
  add(HttpMethod::kGet, "/api/v1/devices", "devices", "devices.read", ListDevices);
  add(HttpMethod::kPost, "/api/v1/devices", "devices", "devices.manage", CreateDevice);
  add(HttpMethod::kGet, "/api/v1/devices/{id}", "device", "devices.read", GetDevice);
  add(HttpMethod::kDelete, "/api/v1/devices/{id}", "device", "devices.manage", DeleteDevice);
  add(HttpMethod::kDelete, "/api/v1/users/{id}", "user", "users.manage", DeleteUser);
  add(HttpMethod::kPost, "/api/v1/devices/import", "devices_import", "devices.manage",
      ImportDevices);
  add(HttpMethod::kPost, "/api/v1/tokens", "tokens", "tokens.manage", CreateToken);
}

}  // namespace seaway
