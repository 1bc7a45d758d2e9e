// Login, customers and users over HTTP (src/http/platform_handlers.h).
#include "http/platform_handlers.h"

#include <algorithm>
#include <cstdlib>
#include <map>
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

// The `name_prefix` list filter: true when absent or `name` starts with it.
bool NamePrefixMatches(const std::optional<std::string>& prefix, std::string_view name) {
  return !prefix || name.starts_with(*prefix);
}

// Held from a devices quota check to the change it admits (QuotaEnforcer::LockDeviceChanges);
// holds nothing without quotas.
std::unique_lock<std::mutex> LockDeviceChanges(const PlatformRoutesContext* ctx) {
  return ctx->quotas != nullptr ? ctx->quotas->LockDeviceChanges() : std::unique_lock<std::mutex>();
}

json CustomerJson(const CustomerInfo& c) {
  return json{{"id", c.id.value()},
              {"parent", OptionalId(c.parent)},
              {"name", c.name},
              {"quotas", ToJson(c.quotas)}};
}

HttpResponse ListCustomers(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Caller(ctx->metadata, request);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {"parent", "name_prefix"}); !s.ok()) return Fail(s);
  // ?parent=<id> (its children) or ?parent=root (top-level customers).
  auto parent = QueryIdFilter(request, "parent", "a customer id", "root");
  if (!parent.ok()) return Fail(parent.status());
  const std::optional<std::string> prefix = request.QueryParam("name_prefix");
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListCustomers(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const CustomerInfo& c) {
    return !Contains(*visible, c.id) || !parent->Matches(c.parent) ||
           !NamePrefixMatches(prefix, c.name);
  });
  return PageOf(*all, *page, CustomerJson);
}

HttpResponse CreateCustomer(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kCustomersManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"name", "parent"});
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
  // The quotas of the customers above it apply to it too.
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  // As GET /api/v1/customers/{id} shows it.
  return HttpResponse::Json(201, CustomerJson(CustomerInfo{*id, *parent, **name, Quotas()}).dump());
}

json UserJson(const UserInfo& u) {
  return json{{"id", u.id.value()},
              {"name", u.name},
              {"role", std::string(RoleName(u.role))},
              {"customer", OptionalId(u.customer)}};
}

HttpResponse ListUsers(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {"customer", "role", "name_prefix"}); !s.ok()) {
    return Fail(s);
  }
  auto owner = QueryIdFilter(request, "customer", "a customer id", "none");
  if (!owner.ok()) return Fail(owner.status());
  std::optional<Role> role;
  if (auto text = request.QueryParam("role")) {
    auto parsed = ParseRole(*text);
    if (!parsed.ok()) return Fail(parsed.status());
    role = *parsed;
  }
  const std::optional<std::string> prefix = request.QueryParam("name_prefix");
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListUsers(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const UserInfo& u) {
    return !ContainsOwner(*visible, u.customer) || !owner->Matches(u.customer) ||
           (role && u.role != *role) || !NamePrefixMatches(prefix, u.name);
  });
  return PageOf(*all, *page, UserJson);
}

// The user `id` when the caller may see it (customer roles: users of their subtree); NotFound
// otherwise, the same answer as for an id that exists nowhere.
Result<UserInfo> VisibleUser(const PlatformRoutesContext* ctx, const Principal& who,
                             const VisibleCustomers& visible, uint64_t id) {
  SW_ASSIGN_OR_RETURN(std::vector<UserInfo> users, ctx->metadata->ListUsers(who.tenant));
  for (UserInfo& u : users) {
    if (u.id.value() == id && ContainsOwner(visible, u.customer)) return std::move(u);
  }
  return NotFound("user {} does not exist", id);
}

HttpResponse GetUser(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto user = VisibleUser(ctx, *who, *visible, *id);
  if (!user.ok()) return Fail(user.status());
  return HttpResponse::Json(200, UserJson(*user).dump());
}

HttpResponse CreateUser(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"name", "role", "customer", "password"});
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
  // As GET /api/v1/users/{id} shows it.
  return HttpResponse::Json(201,
                            UserJson(UserInfo{*id, user.customer, user.name, user.role}).dump());
}

json DeviceJson(const DeviceInfo& d) {
  return json{{"id", d.id.value()}, {"name", d.name}, {"customer", OptionalId(d.customer)}};
}

HttpResponse ListDevices(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesRead);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {"customer", "name_prefix"}); !s.ok()) return Fail(s);
  auto owner = QueryIdFilter(request, "customer", "a customer id", "none");
  if (!owner.ok()) return Fail(owner.status());
  const std::optional<std::string> prefix = request.QueryParam("name_prefix");
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto all = ctx->metadata->ListDevices(who->tenant);
  if (!all.ok()) return Fail(all.status());
  std::erase_if(*all, [&](const DeviceInfo& d) {
    return !ContainsOwner(*visible, d.customer) || !owner->Matches(d.customer) ||
           !NamePrefixMatches(prefix, d.name);
  });
  return PageOf(*all, *page, DeviceJson);
}

HttpResponse CreateDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"name", "customer"});
  if (!body.ok()) return Fail(body.status());
  NewDevice device;
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  device.name = **name;
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  device.customer = *customer;
  const auto admitting = LockDeviceChanges(ctx);
  if (ctx->quotas != nullptr) {
    if (Status s = ctx->quotas->AdmitDevices(who->tenant, device.customer, 1); !s.ok()) {
      return Fail(s);
    }
  }
  auto created = ctx->metadata->CreateDevice(who->tenant, device);
  if (!created.ok()) return Fail(created.status());
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  // As GET /api/v1/devices/{id} shows it, with its token.
  json out = DeviceJson(DeviceInfo{created->id, device.name, device.customer});
  out.update(json{{"token", created->token},
                  {"mqtt",
                   {{"password", created->token},
                    {"telemetry", fmt::format("devices/{}/telemetry", device.name)},
                    {"commands", fmt::format("devices/{}/rpc/request/+", device.name)}}}});
  return HttpResponse::Json(201, out.dump());
}

HttpResponse GetDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesRead, 0);
  if (!found.ok()) return Fail(found.status());
  return HttpResponse::Json(200, DeviceJson(found->device).dump());
}

HttpResponse DeleteDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesManage, 0);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  if (Status s = ctx->metadata->DeleteDevice(who->tenant, device->id); !s.ok()) return Fail(s);
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
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
  // A customer admin deletes only users of its own customers.
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  if (auto user = VisibleUser(ctx, *who, *visible, *id); !user.ok()) return Fail(user.status());
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
  std::vector<size_t> lines;                      // each device's line in the body, for errors
  std::map<std::string_view, size_t> first_line;  // by name
  for (const DeviceCsvRow& row : *rows) {
    if (auto [it, added] = first_line.emplace(row.device.name, row.line); !added) {
      return Fail(InvalidArgument("line {}: device '{}' is named twice (also on line {})", row.line,
                                  row.device.name, it->second));
    }
    devices.push_back(row.device);
    lines.push_back(row.line);
  }
  const auto admitting = LockDeviceChanges(ctx);
  if (ctx->quotas != nullptr) {
    // Per customer: the devices quota of each customer the file assigns devices to.
    std::map<std::optional<CustomerId>, size_t> per_customer;
    for (const NewDevice& d : devices) ++per_customer[d.customer];
    for (const auto& [customer, count] : per_customer) {
      if (Status s = ctx->quotas->AdmitDevices(who->tenant, customer, count); !s.ok()) {
        return Fail(s);
      }
    }
    if (Status s = ctx->quotas->AdmitDevices(who->tenant, std::nullopt, devices.size()); !s.ok())
      return Fail(s);
  }
  auto created = ctx->metadata->CreateDevices(who->tenant, devices);
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  if (!created.ok()) {
    // "device N: ..." -> "line L: ..." (the store counts devices, the client counts lines); the
    // store names no place when it was given one device.
    const Status& s = created.status();
    std::string message(s.message());
    const size_t colon = message.find(':');
    size_t n = 0;  // the device's place, when the message starts with one
    if (message.starts_with("device ") && colon != std::string::npos && colon > 7 &&
        message.find_first_not_of("0123456789", 7) == colon) {
      n = std::strtoul(message.c_str() + 7, nullptr, 10);
    }
    if (n >= 1 && n <= lines.size()) {
      message = fmt::format("line {}{}", lines[n - 1], message.substr(colon));
    } else if (devices.size() == 1 &&
               (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ||
                s.code() == StatusCode::kAlreadyExists)) {
      message = fmt::format("line {}: {}", lines[0], message);
    }
    return Fail(Status(s.code(), message));
  }
  std::string csv = "name,id,token\n";
  for (size_t i = 0; i < devices.size(); ++i) {
    csv +=
        fmt::format("{},{},{}\n", devices[i].name, (*created)[i].id.value(), (*created)[i].token);
  }
  return HttpResponse::Text(201, std::move(csv), "text/csv");
}

// A token or session as POST and GET /api/v1/tokens show it (never its secret).
json TokenJson(const ApiTokenInfo& t) {
  json scopes = json::array();
  for (Permission p : t.scopes) scopes.push_back(std::string(PermissionName(p)));
  return json{{"id", t.id},
              {"user", t.user ? json(t.user->value()) : json(nullptr)},
              {"description", t.description},
              {"scopes", scopes},
              {"created_ns", t.created_ns},
              {"expires_ns", t.expires_ns == 0 ? json(nullptr) : json(t.expires_ns)},
              {"kind", t.session  ? "session"
                       : t.system ? "system"
                                  : "api"}};
}

HttpResponse CreateToken(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTokensManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"description", "scopes", "expires_in_s"});
  if (!body.ok()) return Fail(body.status());
  NewApiToken token;
  auto description = StringField(*body, "description", /*required=*/true);
  if (!description.ok()) return Fail(description.status());
  token.description = **description;
  if (auto it = body->find("scopes"); it != body->end() && !it->is_null()) {
    if (!it->is_array()) return Fail(InvalidArgument("'scopes' must be an array of permissions"));
    // An empty list would make a token with every permission of its creator, the opposite of
    // what it reads as.
    if (it->empty()) {
      return Fail(InvalidArgument(
          "'scopes' is empty: list the permissions the token may use, or leave 'scopes' out for "
          "all of the caller's"));
    }
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
  auto created = ctx->metadata->CreateApiToken(*who, token);
  if (!created.ok()) return Fail(created.status());
  // As GET /api/v1/tokens lists it (its id is what DELETE /api/v1/tokens/{id} takes; a scoped
  // creator's token without scopes of its own has the creator's), with the token itself.
  json out = TokenJson(created->first);
  out["token"] = created->second;
  if (token.expires_in_ns) out["expires_in_s"] = *token.expires_in_ns / 1'000'000'000;
  return HttpResponse::Json(201, out.dump());
}

// Customer `id` when the caller may see it; NotFound otherwise.
Result<CustomerInfo> VisibleCustomer(const PlatformRoutesContext* ctx, const Principal& who,
                                     uint64_t id) {
  SW_ASSIGN_OR_RETURN(auto visible, Visible(ctx->metadata, who));
  SW_ASSIGN_OR_RETURN(auto all, ctx->metadata->ListCustomers(who.tenant));
  for (CustomerInfo& c : all) {
    if (c.id.value() == id && Contains(visible, c.id)) return std::move(c);
  }
  return NotFound("customer {} does not exist", id);
}

HttpResponse GetCustomer(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Caller(ctx->metadata, request);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto customer = VisibleCustomer(ctx, *who, *id);
  if (!customer.ok()) return Fail(customer.status());
  return HttpResponse::Json(200, CustomerJson(*customer).dump());
}

HttpResponse DeleteCustomer(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kCustomersManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto customer = VisibleCustomer(ctx, *who, *id);
  if (!customer.ok()) return Fail(customer.status());
  if (who->customer == customer->id) {
    return Fail(PermissionDenied("a customer role cannot delete its own customer"));
  }
  if (Status s = ctx->metadata->DeleteCustomer(who->tenant, customer->id); !s.ok()) return Fail(s);
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  return HttpResponse::Text(204, "");
}

HttpResponse PatchCustomer(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kCustomersManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  auto customer = VisibleCustomer(ctx, *who, *id);
  if (!customer.ok()) return Fail(customer.status());
  CustomerUpdate update;
  auto name = StringField(*body, "name", /*required=*/false);
  if (!name.ok()) return Fail(name.status());
  update.name = *name;
  if (auto it = body->find("quotas"); it != body->end()) {
    // A customer's limits are the tenant's to set: a customer admin cannot raise its own.
    if (IsCustomerRole(who->role)) {
      return Fail(PermissionDenied("a customer role cannot change quotas"));
    }
    Quotas quotas = customer->quotas;
    if (it->is_null()) {
      quotas = Quotas();
    } else if (Status s = PatchQuotas(*it, &quotas); !s.ok()) {
      return Fail(s);
    }
    update.quotas = quotas;
  }
  for (const auto& [key, value] : body->items()) {
    if (key != "name" && key != "quotas") {
      return Fail(InvalidArgument("'{}' cannot be changed (name, quotas)", key));
    }
  }
  Status s = ctx->metadata->UpdateCustomer(who->tenant, customer->id, update);
  if (!s.ok()) return Fail(s);
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  auto changed = VisibleCustomer(ctx, *who, *id);
  if (!changed.ok()) return Fail(changed.status());
  return HttpResponse::Json(200, CustomerJson(*changed).dump());
}

HttpResponse PatchUser(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kUsersManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  auto visible = Visible(ctx->metadata, *who);
  if (!visible.ok()) return Fail(visible.status());
  auto user = VisibleUser(ctx, *who, *visible, *id);
  if (!user.ok()) return Fail(user.status());
  UserUpdate update;
  for (const auto& [key, value] : body->items()) {
    if (key == "role") {
      if (!value.is_string()) return Fail(InvalidArgument("'role' must be a string"));
      auto role = ParseRole(value.get<std::string>());
      if (!role.ok()) return Fail(role.status());
      update.role = *role;
    } else if (key == "customer") {
      auto customer = CustomerField(*body, "customer");
      if (!customer.ok()) return Fail(customer.status());
      update.customer = *customer;
    } else if (key == "password") {
      if (!value.is_string()) return Fail(InvalidArgument("'password' must be a string"));
      update.password = value.get<std::string>();
    } else {
      return Fail(InvalidArgument("'{}' cannot be changed (role, customer, password)", key));
    }
  }
  if (*visible) {
    // A customer admin keeps its users in customer roles, in its own subtree.
    const Role role = update.role.value_or(user->role);
    const std::optional<CustomerId> customer = update.customer.value_or(user->customer);
    if (!IsCustomerRole(role)) {
      return Fail(PermissionDenied("a customer role cannot grant role '{}'", RoleName(role)));
    }
    if (!customer || !Contains(*visible, *customer)) {
      return Fail(PermissionDenied("a customer role moves users only within its own customers"));
    }
  }
  if (Status s = ctx->metadata->UpdateUser(who->tenant, user->id, update); !s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

HttpResponse PatchDevice(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  auto device = VisibleDevice(ctx->metadata, *who, *id);
  if (!device.ok()) return Fail(device.status());
  for (const auto& [key, value] : body->items()) {
    if (key != "customer") {
      return Fail(InvalidArgument(
          "'{}' cannot be changed (customer; a device's name names its topics and series)", key));
    }
  }
  if (!body->contains("customer")) return Fail(InvalidArgument("missing 'customer'"));
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  const auto admitting = LockDeviceChanges(ctx);
  if (ctx->quotas != nullptr && *customer && *customer != device->customer) {
    if (Status s = ctx->quotas->AdmitDevices(who->tenant, *customer, 1); !s.ok()) return Fail(s);
  }
  if (Status s = ctx->metadata->SetDeviceCustomer(who->tenant, device->id, *customer); !s.ok()) {
    return Fail(s);
  }
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(who->tenant);
  return HttpResponse::Json(
      200,
      json{{"id", device->id.value()}, {"name", device->name}, {"customer", OptionalId(*customer)}}
          .dump());
}

// The tokens a caller manages: a tenant token or tenant-admin all of the tenant's (nullopt),
// anyone else its own.
std::optional<UserId> TokenOwnerFilter(const Principal& who) {
  return !who.user || who.role == Role::kTenantAdmin ? std::nullopt : who.user;
}

HttpResponse ListTokens(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTokensManage);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {}); !s.ok()) return Fail(s);
  const std::optional<UserId> owner = TokenOwnerFilter(*who);
  auto all = ctx->metadata->ListApiTokens(who->tenant, owner);
  if (!all.ok()) return Fail(all.status());
  return PageOf(*all, *page, TokenJson);
}

HttpResponse RevokeToken(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kTokensManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  Status s = ctx->metadata->RevokeApiToken(who->tenant, *id, TokenOwnerFilter(*who));
  if (!s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

HttpResponse GetDeviceCredentials(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesManage, 1);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  auto credentials = ctx->metadata->GetDeviceCredentials(who->tenant, device->id);
  if (!credentials.ok()) return Fail(credentials.status());
  return HttpResponse::Json(
      200, json{{"token", true},
                {"username", credentials->username ? json(*credentials->username) : json(nullptr)},
                {"certificates", credentials->certificates}}
               .dump());
}

// {"username", "password"} sets the device's MQTT user name and password ("password": null
// removes them); {"certificates": [fingerprint or PEM, ...]} replaces its certificates.
HttpResponse PutDeviceCredentials(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesManage, 1);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  DeviceCredentialsUpdate update;
  for (const auto& [key, value] : body->items()) {
    if (key != "username" && key != "password" && key != "certificates") {
      return Fail(
          InvalidArgument("'{}' is not a device credential (username, password, "
                          "certificates)",
                          key));
    }
  }
  if (body->contains("password")) {
    if ((*body)["password"].is_null()) {
      update.password = std::optional<std::pair<std::string, std::string>>();
    } else {
      auto username = StringField(*body, "username", /*required=*/true);
      if (!username.ok()) return Fail(username.status());
      auto password = StringField(*body, "password", /*required=*/true);
      if (!password.ok()) return Fail(password.status());
      update.password = std::pair(**username, **password);
    }
  } else if (body->contains("username")) {
    return Fail(InvalidArgument("'username' needs a 'password'"));
  }
  if (auto it = body->find("certificates"); it != body->end()) {
    if (!it->is_array()) {
      return Fail(InvalidArgument("'certificates' must be an array of fingerprints or PEM"));
    }
    std::vector<std::string> certificates;
    for (const json& c : *it) {
      if (!c.is_string()) return Fail(InvalidArgument("'certificates' must hold strings"));
      certificates.push_back(c.get<std::string>());
    }
    update.certificates = std::move(certificates);
  }
  Status s = ctx->metadata->UpdateDeviceCredentials(who->tenant, device->id, update);
  if (!s.ok()) return Fail(s);
  // Changed credentials apply to the device's next CONNECT; connections made with the old ones
  // are closed.
  if (ctx->broker != nullptr) ctx->broker->DisconnectDevice(who->tenant, device->name);
  return GetDeviceCredentials(ctx, request);
}

HttpResponse RotateDeviceToken(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto found = AuthorizedDevice(ctx->metadata, request, Permission::kDevicesManage, 1);
  if (!found.ok()) return Fail(found.status());
  const Principal* who = &found->who;
  const DeviceInfo* device = &found->device;
  auto token = ctx->metadata->RotateDeviceToken(who->tenant, device->id);
  if (!token.ok()) return Fail(token.status());
  if (ctx->broker != nullptr) ctx->broker->DisconnectDevice(who->tenant, device->name);
  return HttpResponse::Json(201, json{{"id", device->id.value()}, {"token", *token}}.dump());
}

json ProvisioningKeyJson(const ProvisioningKeyInfo& k) {
  return json{{"id", k.id},
              {"name", k.name},
              {"key", k.key},
              {"customer", OptionalId(k.customer)},
              {"model", k.model.empty() ? json(nullptr) : json(k.model)},
              {"max_devices", k.max_devices ? json(*k.max_devices) : json(nullptr)},
              {"provisioned", k.provisioned}};
}

HttpResponse ListProvisioningKeys(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto page = Page(request);
  if (!page.ok()) return Fail(page.status());
  if (Status s = OnlyQueryParams(request, {}); !s.ok()) return Fail(s);
  auto all = ctx->metadata->ListProvisioningKeys(who->tenant);
  if (!all.ok()) return Fail(all.status());
  return PageOf(*all, *page, ProvisioningKeyJson);
}

HttpResponse CreateProvisioningKey(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto body = ParseObject(request.body, {"name", "customer", "model", "max_devices"});
  if (!body.ok()) return Fail(body.status());
  NewProvisioningKey key;
  auto name = StringField(*body, "name", /*required=*/true);
  if (!name.ok()) return Fail(name.status());
  key.name = **name;
  auto customer = CustomerField(*body, "customer");
  if (!customer.ok()) return Fail(customer.status());
  key.customer = *customer;
  auto model = StringField(*body, "model", /*required=*/false);
  if (!model.ok()) return Fail(model.status());
  key.model = model->value_or("");
  auto max = IdField(*body, "max_devices");
  if (!max.ok()) return Fail(InvalidArgument("'max_devices' must be a non-negative integer"));
  key.max_devices = *max;
  auto created = ctx->metadata->CreateProvisioningKey(who->tenant, key);
  if (!created.ok()) return Fail(created.status());
  json out = ProvisioningKeyJson(created->first);
  out["secret"] = created->second;
  return HttpResponse::Json(201, out.dump());
}

HttpResponse DeleteProvisioningKey(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  auto who = Authorized(ctx->metadata, request, Permission::kDevicesManage);
  if (!who.ok()) return Fail(who.status());
  auto id = PathId(request);
  if (!id.ok()) return Fail(id.status());
  Status s = ctx->metadata->DeleteProvisioningKey(who->tenant, *id);
  if (!s.ok()) return Fail(s);
  return HttpResponse::Text(204, "");
}

// A device registers itself: {"key", "secret", "device"} -> 201 with its token. Public; failed
// attempts are limited per address as logins are.
HttpResponse Provision(const PlatformRoutesContext* ctx, const HttpRequest& request) {
  const std::string address_key = fmt::format("provision:{}", AddressOnly(request.remote_address));
  if (ctx->provision_limiter != nullptr) {
    Status s = ctx->provision_limiter->Check(
        address_key, fmt::format("address {}", AddressOnly(request.remote_address)));
    if (!s.ok()) return Fail(s);
  }
  auto body = ParseObject(request.body);
  if (!body.ok()) return Fail(body.status());
  std::string parts[3];
  const char* names[3] = {"key", "secret", "device"};
  for (int i = 0; i < 3; ++i) {
    auto field = StringField(*body, names[i], /*required=*/true);
    if (!field.ok()) return Fail(field.status());
    parts[i] = **field;
  }
  const auto admitting = LockDeviceChanges(ctx);
  auto provisioned = ctx->metadata->ProvisionDevice(
      parts[0], parts[1], parts[2],
      [ctx](const ProvisioningKeyInfo& key) {
        return ctx->quotas == nullptr ? Status::OK()
                                      : ctx->quotas->AdmitDevices(key.tenant, key.customer, 1);
      },
      ctx->on_provisioned);
  if (!provisioned.ok()) {
    if (provisioned.status().code() == StatusCode::kUnauthenticated &&
        ctx->provision_limiter != nullptr) {
      ctx->provision_limiter->RecordFailure(address_key);
    }
    return Fail(provisioned.status());
  }
  const auto& [key, device] = *provisioned;
  if (ctx->quotas != nullptr) ctx->quotas->Invalidate(key.tenant);
  json out{{"id", device.id.value()},
           {"name", parts[2]},
           {"token", device.token},
           {"customer", OptionalId(key.customer)},
           {"model", key.model.empty() ? json(nullptr) : json(key.model)},
           {"mqtt",
            {{"password", device.token},
             {"telemetry", fmt::format("devices/{}/telemetry", parts[2])},
             {"commands", fmt::format("devices/{}/rpc/request/+", parts[2])}}}};
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
  add(HttpMethod::kGet, "/api/v1/users/{id}", "user", "users.manage", GetUser);
  add(HttpMethod::kDelete, "/api/v1/users/{id}", "user", "users.manage", DeleteUser);
  add(HttpMethod::kPost, "/api/v1/devices/import", "devices_import", "devices.manage",
      ImportDevices);
  add(HttpMethod::kPost, "/api/v1/tokens", "tokens", "tokens.manage", CreateToken);
  add(HttpMethod::kGet, "/api/v1/tokens", "tokens", "tokens.manage", ListTokens);
  add(HttpMethod::kDelete, "/api/v1/tokens/{id}", "token", "tokens.manage", RevokeToken);
  add(HttpMethod::kGet, "/api/v1/customers/{id}", "customer", kAuthenticatedAccess, GetCustomer);
  add(HttpMethod::kPatch, "/api/v1/customers/{id}", "customer", "customers.manage", PatchCustomer);
  add(HttpMethod::kDelete, "/api/v1/customers/{id}", "customer", "customers.manage",
      DeleteCustomer);
  add(HttpMethod::kPatch, "/api/v1/users/{id}", "user", "users.manage", PatchUser);
  add(HttpMethod::kPatch, "/api/v1/devices/{id}", "device", "devices.manage", PatchDevice);
  add(HttpMethod::kGet, "/api/v1/devices/{id}/credentials", "device_credentials", "devices.manage",
      GetDeviceCredentials);
  add(HttpMethod::kPut, "/api/v1/devices/{id}/credentials", "device_credentials", "devices.manage",
      PutDeviceCredentials);
  add(HttpMethod::kPost, "/api/v1/devices/{id}/token", "device_token", "devices.manage",
      RotateDeviceToken);
  add(HttpMethod::kGet, "/api/v1/provisioning-keys", "provisioning_keys", "devices.manage",
      ListProvisioningKeys);
  add(HttpMethod::kPost, "/api/v1/provisioning-keys", "provisioning_keys", "devices.manage",
      CreateProvisioningKey);
  add(HttpMethod::kDelete, "/api/v1/provisioning-keys/{id}", "provisioning_key", "devices.manage",
      DeleteProvisioningKey);
  add(HttpMethod::kPost, "/api/v1/provision", "provision", kPublicAccess, Provision);
}

}  // namespace seaway
