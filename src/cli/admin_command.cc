// `seaway admin` (src/cli/admin_command.h).
#include "cli/admin_command.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/sql_client.h"
#include "cli/token.h"

namespace seaway::cli {
namespace {

using nlohmann::json;

// The request an action makes, or a usage error.
Result<ApiRequest> RequestFor(const AdminCommandOptions& o) {
  ApiRequest r;
  if (o.action == "list") {
    r.method = "GET";
    r.target = fmt::format("/api/v1/{}s?limit=1000", o.object);
    return r;
  }
  if (o.action == "delete") {
    r.method = "DELETE";
    r.target = fmt::format("/api/v1/{}s/{}", o.object, o.id);
    return r;
  }
  r.method = "POST";
  if (o.object == "device" && o.action == "import") {
    std::ifstream in(o.name, std::ios::binary);
    if (!in) return InvalidArgument("cannot read '{}'", o.name);
    r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    r.content_type = "text/csv";
    r.target = "/api/v1/devices/import";
    return r;
  }
  json body;
  if (o.object == "tenant") {
    body = {{"name", o.name}, {"settings", json::object()}};
    if (!o.time_zone.empty()) body["settings"]["time_zone"] = o.time_zone;
    if (o.retention_s > 0) body["settings"]["retention_s"] = o.retention_s;
  } else if (o.object == "customer") {
    body = {{"name", o.name}};
    if (o.parent != 0) body["parent"] = o.parent;
  } else if (o.object == "user") {
    // The password never appears on the command line (ps, shell history): stdin's first line.
    std::string password;
    if (isatty(0)) std::cerr << "password for " << o.name << ": ";
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    body = {{"name", o.name}, {"role", o.role}, {"password", password}};
    if (o.customer != 0) body["customer"] = o.customer;
  } else if (o.object == "device") {
    body = {{"name", o.name}};
    if (o.customer != 0) body["customer"] = o.customer;
  } else if (o.object == "asset") {
    body = {{"name", o.name}, {"type", o.type}};
    if (o.parent != 0) body["parent"] = o.parent;
    if (o.customer != 0) body["customer"] = o.customer;
  } else {
    body = {{"description", o.name}};
    if (!o.scopes.empty()) body["scopes"] = o.scopes;
    if (o.expires_in_s > 0) body["expires_in_s"] = o.expires_in_s;
  }
  r.target = fmt::format("/api/v1/{}s", o.object);
  r.body = body.dump();
  return r;
}

}  // namespace

void AddAdminOptions(CLI::App* cmd, AdminCommandOptions* o) {
  cmd->add_option("--url", o->url, "The server's HTTP address")
      ->envname("SEAWAY_URL")
      ->capture_default_str();
  cmd->add_option("--token", o->token,
                  "API token; default $SEAWAY_TOKEN, else DATA_DIR/admin-token")
      ->type_name("TOKEN");
  cmd->add_option("--data-dir", o->data_dir, "Where to find admin-token when no token is given")
      ->envname("SEAWAY_DATA_DIR")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->require_subcommand(1);
  auto object = [&](const char* name, const char* what) {
    CLI::App* sub = cmd->add_subcommand(name, what);
    sub->require_subcommand(1);
    sub->parse_complete_callback([o, name] { o->object = name; });
    return sub;
  };
  auto action = [&](CLI::App* parent, const char* name, const char* what) {
    CLI::App* sub = parent->add_subcommand(name, what);
    sub->parse_complete_callback([o, name] { o->action = name; });
    return sub;
  };
  auto remove = [&](CLI::App* parent, const char* what) {
    action(parent, "delete", what)->add_option("id", o->id, "Its id")->required();
  };
  CLI::App* tenant = object("tenant", "Tenants of the installation (the system token only)");
  CLI::App* create_tenant =
      action(tenant, "create", "Create a tenant; prints its administrator token once");
  create_tenant->add_option("name", o->name, "Its name")->required();
  create_tenant->add_option("--time-zone", o->time_zone, "Its IANA time zone (default UTC)");
  create_tenant->add_option("--retention-s", o->retention_s,
                            "How long its data is kept, in seconds (default: forever)");
  action(tenant, "list", "List tenants");
  remove(tenant, "Delete a tenant with every object and all data of it");

  CLI::App* customer = object("customer", "Customers of the tenant (a tree)");
  CLI::App* create_customer = action(customer, "create", "Create a customer");
  create_customer->add_option("name", o->name, "Its name")->required();
  create_customer->add_option("--parent", o->parent, "The customer it belongs under (an id)");
  action(customer, "list", "List customers");
  remove(customer, "Delete a customer that holds nothing");

  CLI::App* user = object("user", "Users and their roles");
  CLI::App* create_user =
      action(user, "create", "Create a user; the password is read from stdin's first line");
  create_user->add_option("name", o->name, "Its login name")->required();
  create_user
      ->add_option("--role", o->role,
                   "tenant-admin, operator, viewer, customer-admin or customer-user")
      ->required();
  create_user->add_option("--customer", o->customer, "Its customer (customer roles), an id");
  action(user, "list", "List users");
  remove(user, "Delete a user with its sessions and tokens");

  CLI::App* device = object("device", "Devices and their MQTT tokens");
  CLI::App* create_device = action(device, "create", "Create a device; prints its token once");
  create_device->add_option("name", o->name, "Its name (names its MQTT topics)")->required();
  create_device->add_option("--customer", o->customer, "The customer it is assigned to, an id");
  CLI::App* import = action(device, "import", "Create devices from a CSV file: name[,customer]");
  import->add_option("file", o->name, "The CSV file")->required()->check(CLI::ExistingFile);
  action(device, "list", "List devices");
  remove(device, "Delete a device; its MQTT connections are closed");

  CLI::App* asset = object("asset", "Assets: the hierarchy of sites, lines, machines...");
  CLI::App* create_asset = action(asset, "create", "Create an asset");
  create_asset->add_option("name", o->name, "Its name, unique under its parent")->required();
  create_asset->add_option("--type", o->type, "What it is: site, line, machine, freezer...")
      ->required();
  create_asset->add_option("--parent", o->parent, "The asset it belongs under (an id)");
  create_asset->add_option("--customer", o->customer, "The customer it is assigned to, an id");
  action(asset, "list", "List assets");
  remove(asset, "Delete an asset (without children)");

  CLI::App* token = object("token", "API tokens acting as the caller");
  CLI::App* create_token = action(token, "create", "Create an API token; prints it once");
  create_token->add_option("description", o->name, "What it is for")->required();
  create_token->add_option("--scope", o->scopes, "A permission it may use (repeatable)");
  create_token->add_option("--expires-in-s", o->expires_in_s, "Seconds until it expires");
}

int RunAdminCommand(const AdminCommandOptions& o) {
  const std::string token = FindToken(o.token, o.data_dir);
  if (token.empty()) {
    std::cerr << "seaway admin: no token: pass --token, set SEAWAY_TOKEN, or run where "
              << o.data_dir << "/admin-token is readable\n";
    return 2;
  }
  Result<ApiRequest> request = RequestFor(o);
  if (!request.ok()) {
    std::cerr << "seaway admin: " << request.status().message() << "\n";
    return 2;
  }
  std::string body;
  Result<SqlResponse> response =
      CallApi(o.url, token, *request, [&](int, std::string_view part) { body.append(part); });
  if (!response.ok()) {
    std::cerr << "seaway admin: " << response.status().message() << "\n";
    return 1;
  }
  if (response->status >= 300) {
    json error = json::parse(body, nullptr, /*allow_exceptions=*/false);
    std::cerr << "seaway admin: " << response->status << ": "
              << (error.is_object() ? error.value("error", body) : body) << "\n";
    return 1;
  }
  if (body.empty() && o.action == "delete") body = fmt::format("deleted {} {}", o.object, o.id);
  std::cout << body;
  if (!body.empty() && body.back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace seaway::cli
