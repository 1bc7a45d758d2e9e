// The OpenAPI document (src/http/openapi.h).
#include "http/openapi.h"

#include <map>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/version.h"

namespace seaway {
namespace {

using nlohmann::json;

// One line per route: what it does. Details live in docs/ (named in the description).
const std::map<std::pair<std::string_view, std::string_view>, std::string_view>& Summaries() {
  static const auto* summaries =
      new std::map<std::pair<std::string_view, std::string_view>, std::string_view>{
          {{"GET", "/health"}, "Liveness: status, version, uptime"},
          {{"GET", "/metrics"},
           "Prometheus metrics of the installation (the system token, unless --metrics-public)"},
          {{"GET", "/ping"}, "InfluxDB-compatible probe (204)"},
          {{"HEAD", "/ping"}, "InfluxDB-compatible probe (204)"},
          {{"POST", "/write"},
           "InfluxDB 1.x line protocol write (?db=&precision=); 204 once durable"},
          {{"POST", "/api/v2/write"},
           "InfluxDB 2.x line protocol write (?bucket=&precision=); 204 once durable"},
          {{"POST", "/api/v1/telemetry"},
           "JSON telemetry write (?db=): an object, an array or NDJSON; 204 once durable"},
          {{"POST", "/api/v1/sql"},
           "Run one SQL statement: {\"query\", \"database\"?}; ?format=json|csv|ndjson "
           "(docs/sql.md)"},
          {{"GET", "/api/v1/sql"}, "Run one SQL statement from ?q= (docs/sql.md)"},
          {{"POST", "/api/v1/commands"},
           "Send a command to a device over MQTT, optionally waiting for its answer "
           "(docs/mqtt.md)"},
          {{"POST", "/api/v1/auth/login"},
           "Log in with {\"tenant\", \"user\", \"password\"}: a 12-hour session token"},
          {{"GET", "/api/v1/auth/whoami"}, "The caller: tenant, user, role, customer, permissions"},
          {{"GET", "/api/v1/customers"},
           "List customers (?parent=<id>|root&name_prefix=&limit=&offset=), scoped to the "
           "caller"},
          {{"POST", "/api/v1/customers"}, "Create a customer: {\"name\", \"parent\"?}"},
          {{"GET", "/api/v1/users"},
           "List users (?customer=<id>|none&role=&name_prefix=&limit=&offset=), scoped to the "
           "caller"},
          {{"GET", "/api/v1/users/{id}"}, "One user, if the caller may see it"},
          {{"POST", "/api/v1/users"},
           "Create a user: {\"name\", \"role\", \"customer\"?, \"password\"}"},
          {{"GET", "/api/v1/devices"},
           "List devices (?customer=<id>|none&name_prefix=&limit=&offset=), scoped to the "
           "caller"},
          {{"POST", "/api/v1/devices"},
           "Create a device: {\"name\", \"customer\"?}; returns its MQTT token once"},
          {{"GET", "/api/v1/devices/{id}"}, "One device, if the caller may see it"},
          {{"DELETE", "/api/v1/devices/{id}"},
           "Delete a device and its tokens; its MQTT connections are closed"},
          {{"DELETE", "/api/v1/users/{id}"}, "Delete a user with its sessions and tokens"},
          {{"POST", "/api/v1/devices/import"},
           "Create devices in bulk from CSV lines name[,customer]: all or none; CSV name,id,token "
           "back"},
          {{"POST", "/api/v1/tokens"},
           "Create an API token acting as the caller: {\"description\", \"scopes\"?, "
           "\"expires_in_s\"?} -> 201 the fields of GET /api/v1/tokens' items (\"id\" for "
           "DELETE /api/v1/tokens/{id}) and \"token\", shown once"},
          {{"GET", "/api/v1/tokens"},
           "List the caller's tokens and sessions (a tenant-admin's: the tenant's); no secrets"},
          {{"DELETE", "/api/v1/tokens/{id}"}, "Revoke a token or session at once"},
          {{"GET", "/api/v1/customers/{id}"}, "One customer with its quotas, if visible"},
          {{"PATCH", "/api/v1/customers/{id}"},
           "Rename a customer or set its quotas: {\"name\"?, \"quotas\"?}"},
          {{"DELETE", "/api/v1/customers/{id}"},
           "Delete a customer holding nothing (409 naming what it still holds)"},
          {{"PATCH", "/api/v1/users/{id}"},
           "Change a user's role, customer or password; ends its sessions"},
          {{"PATCH", "/api/v1/devices/{id}"}, "Assign a device to a customer: {\"customer\"}"},
          {{"GET", "/api/v1/tenants"}, "List tenants (the installation's system token only)"},
          {{"POST", "/api/v1/tenants"},
           "Create a tenant: {\"name\", \"settings\"?}; returns its admin token once"},
          {{"GET", "/api/v1/tenant"}, "The caller's tenant: settings, quotas and usage"},
          {{"PATCH", "/api/v1/tenant"},
           "Change the tenant's settings (JSON merge patch): time_zone, retention_s (quotas: the "
           "system token only)"},
          {{"GET", "/api/v1/devices/{id}/credentials"},
           "A device's MQTT user name and certificate fingerprints (no secrets)"},
          {{"PUT", "/api/v1/devices/{id}/credentials"},
           "Set a device's user name and password or its X.509 certificates (fingerprint or "
           "PEM); closes its connections"},
          {{"POST", "/api/v1/devices/{id}/token"}, "Replace a device's token (shown once)"},
          {{"GET", "/api/v1/provisioning-keys"}, "List the keys devices provision themselves with"},
          {{"POST", "/api/v1/provisioning-keys"},
           "Create a provisioning key: {\"name\", \"customer\"?, \"model\"? (the name of "
           "an existing thing model), \"max_devices\"?}; its secret is shown once"},
          {{"DELETE", "/api/v1/provisioning-keys/{id}"}, "Delete a provisioning key"},
          {{"POST", "/api/v1/provision"},
           "A device registers itself with a provisioning key and secret: {\"key\", "
           "\"secret\", \"device\"}; returns its token"},
          {{"GET", "/api/v1/assets"},
           "List assets (?parent=<id>|root&type=&customer=<id>|none&limit=&offset=), scoped to the "
           "caller"},
          {{"POST", "/api/v1/assets"},
           "Create an asset: {\"name\", \"type\", \"parent\"?, \"customer\"?, "
           "\"attributes\"?}"},
          {{"GET", "/api/v1/assets/{id}"}, "One asset, if the caller may see it"},
          {{"PATCH", "/api/v1/assets/{id}"},
           "Rename, retype, move (\"parent\"), assign (\"customer\") or set the attributes of "
           "an asset; no move under its own subtree"},
          {{"DELETE", "/api/v1/assets/{id}"},
           "Delete an asset (?recursive=true for one with child assets); its devices are "
           "detached"},
          {{"GET", "/api/v1/assets/{id}/devices"},
           "The devices attached to an asset (?recursive=true: to its whole subtree)"},
          {{"PUT", "/api/v1/assets/{id}/devices/{device_id}"},
           "Attach a device to an asset (a device sits in at most one asset)"},
          {{"DELETE", "/api/v1/assets/{id}/devices/{device_id}"}, "Detach a device from an asset"},
          {{"GET", "/api/v1/models"},
           "List thing models (?limit=&offset=): id, name, version, table, counts, devices"},
          {{"POST", "/api/v1/models"},
           "Import a thing model: the model document (docs/models.md) -> {\"id\", \"name\", "
           "\"table\"}"},
          {{"GET", "/api/v1/models/{id}"}, "Export a thing model: its document"},
          {{"PUT", "/api/v1/models/{id}"},
           "Replace a thing model with a new version of its document; its devices follow it"},
          {{"DELETE", "/api/v1/models/{id}"},
           "Delete a thing model; 409 while devices follow it or provisioning keys name it"},
          {{"PUT", "/api/v1/devices/{id}/model"},
           "Make a device follow a thing model: {\"model\": id | null (schemaless)}"},
          {{"GET", "/api/v1/devices/{id}/model"}, "The thing model a device follows, or null"},
          {{"GET", "/api/v1/devices/{id}/twin"},
           "A device's twin: tags, desired and reported state, versions and the delta"},
          {{"PATCH", "/api/v1/devices/{id}/twin"},
           "Merge-patch a twin's desired state or tags; a desired change is pushed to the "
           "device over MQTT"},
          {{"GET", "/api/v1/twins"},
           "Twins of the caller's devices (?tag.<name>=&reported.<name>=&pending=true)"},
          {{"PATCH", "/api/v1/tenants/{id}"},
           "Change any tenant's settings, quotas included (the system token only)"},
          {{"GET", "/api/v1/tenants/{id}"},
           "One tenant with its settings and usage (the system token only)"},
          {{"DELETE", "/api/v1/tenants/{id}"},
           "Delete a tenant with every object and all data of it (the system token only)"},
          {{"GET", "/api/v1/openapi.json"}, "This document"},
      };
  return *summaries;
}

}  // namespace

Result<std::string> OpenApiDocument(const Router& router) {
  json paths = json::object();
  std::string missing;
  for (const Router::Route& route : router.routes()) {
    const std::string_view method = HttpMethodName(route.method);
    auto it = Summaries().find({method, route.path});
    if (it == Summaries().end()) {
      missing += fmt::format("{}{} {}", missing.empty() ? "" : ", ", method, route.path);
      continue;
    }
    json operation{{"summary", std::string(it->second)},
                   {"operationId", fmt::format("{}_{}", route.name, method)},
                   {"x-seaway-access", route.access}};
    json responses{{"200", {{"description", "success (201 for creations, 204 for writes)"}}},
                   {"400", {{"description", "bad input, naming the field or line"}}}};
    if (route.access != kPublicAccess) {
      operation["security"] = json::array({json{{"token", json::array()}}});
      responses["401"] = {{"description", "no valid token"}};
      responses["403"] = {{"description", fmt::format("the role lacks '{}'", route.access)}};
    }
    operation["responses"] = responses;
    for (size_t open = route.path.find('{'); open != std::string::npos;
         open = route.path.find('{', open + 1)) {
      const size_t close = route.path.find('}', open);
      if (close == std::string::npos) break;
      operation["parameters"].push_back({{"name", route.path.substr(open + 1, close - open - 1)},
                                         {"in", "path"},
                                         {"required", true},
                                         {"schema", {{"type", "integer"}}}});
    }
    std::string lower(method);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[route.path][lower] = operation;
  }
  if (!missing.empty()) return Internal("routes without an OpenAPI summary: {}", missing);
  json doc{{"openapi", "3.0.3"},
           {"info",
            {{"title", "Seaway HTTP API"},
             {"version", std::string(kVersion)},
             {"description",
              "Every route but the public ones takes 'Authorization: Token <token>' (a tenant "
              "token, a session from /api/v1/auth/login, or an API token); x-seaway-access names "
              "the permission it needs (docs/security.md). Errors are "
              "{\"error\": <message>, \"code\": <code>}."}}},
           {"components",
            {{"securitySchemes",
              {{"token",
                {{"type", "apiKey"},
                 {"in", "header"},
                 {"name", "Authorization"},
                 {"description", "'Token <token>' or 'Bearer <token>'"}}}}}}},
           {"paths", paths}};
  return doc.dump(2);
}

void AddOpenApiRoute(Router* router) {
  router->Add(HttpMethod::kGet, "/api/v1/openapi.json", "openapi", std::string(kPublicAccess),
              SyncHandler([router](const HttpRequest&) {
                Result<std::string> doc = OpenApiDocument(*router);
                if (!doc.ok()) return HttpResponse::FromStatus(doc.status());
                return HttpResponse::Json(200, std::move(*doc));
              }));
}

}  // namespace seaway
