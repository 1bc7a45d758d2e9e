// The platform's object model over HTTP (src/http): login, customers and users (issue #7).
//
//   POST /api/v1/auth/login   {"tenant", "user", "password"} -> 200 {"token", "expires_in_s"};
//                             401 for any wrong part, 429 after repeated failures
//   GET  /api/v1/auth/whoami  the caller: tenant, user, role, customer, permissions
//   GET  /api/v1/customers    ?parent=<id>|root&name_prefix=&limit=&offset=
//                             -> {"items": [...], "total"}
//   POST /api/v1/customers    {"name", "parent"?} -> 201 the customer, as GET shows it
//   GET  /api/v1/users        ?customer=<id>|none&role=&name_prefix=&limit=&offset=
//                             -> {"items": [...], "total"}
//   GET  /api/v1/users/{id}   one user (404 outside the caller's reach)
//   POST /api/v1/users        {"name", "role", "customer"?, "password"} -> 201 the user, as
//                             GET shows it
//   GET  /api/v1/devices      ?customer=<id>|none&name_prefix=&limit=&offset=
//                             -> {"items": [...], "total"}; an unknown parameter is a 400
//   POST /api/v1/devices      {"name", "customer"?} -> 201 {"id", "name", "customer", "token",
//                             "mqtt"}: the token (shown once) is the device's MQTT password
//   GET  /api/v1/devices/{id}  one device (404 when the caller may not see it)
//   DELETE /api/v1/devices/{id}  204: the device and its tokens are gone, its MQTT connections
//                             closed
//   DELETE /api/v1/users/{id}    204: the user and its sessions and tokens are gone
//   POST /api/v1/devices/import  CSV lines `name[,customer]` (a `name,customer` header may
//                             come first) -> 201 CSV `name,id,token`: every device or none; 400
//                             naming the line otherwise
//   POST /api/v1/tokens       {"description", "scopes"?: ["data.read", ...], "expires_in_s"?}
//                             -> 201 {"id", "user", "description", "scopes", "created_ns",
//                             "expires_ns", "kind", "token", "expires_in_s"?}: an API token
//                             acting as the caller, limited to the scopes (within the caller's
//                             own permissions); the fields of GET's items and the token, once
//   GET  /api/v1/tokens       the caller's tokens and sessions (a tenant-admin's: the tenant's);
//                             never the secrets
//   DELETE /api/v1/tokens/{id}  revokes one of those at once
//   GET  /api/v1/customers/{id}    one customer with its quotas (404 outside the caller's reach)
//   PATCH /api/v1/customers/{id}   {"name"?, "quotas"?} (quotas: tenant roles only)
//   DELETE /api/v1/customers/{id}  204 when it holds nothing; 409 naming what it still holds
//   PATCH /api/v1/users/{id}       {"role"?, "customer"?, "password"?}: ends the user's sessions
//   PATCH /api/v1/devices/{id}     {"customer": id | null}: assigns the device
//   GET  /api/v1/devices/{id}/credentials  its user name and certificate fingerprints
//   PUT  /api/v1/devices/{id}/credentials  {"username", "password"} (or "password": null),
//                             {"certificates": [SHA-256 hex or PEM, ...]}; the device's open
//                             MQTT connections are closed
//   POST /api/v1/devices/{id}/token  a new token replaces the device's (201, shown once)
//   GET/POST /api/v1/provisioning-keys, DELETE /api/v1/provisioning-keys/{id}: keys devices
//                             register themselves with ({"name", "customer"?, "model"?,
//                             "max_devices"?} -> the key and its secret, once; "model" names
//                             an existing thing model, 400 otherwise)
//   POST /api/v1/provision    public: {"key", "secret", "device"} -> 201 the new device and its
//                             token; 401 for a wrong key or secret (limited per address, 429)
//
// Every route takes `Authorization: Token <token>` (a tenant token or a session from login) and
// checks the caller's role (platform/permissions.h, docs/security.md): customers.manage to
// create customers, users.manage to list or create users, devices.read and devices.manage for
// devices. Customer roles act inside their own
// customer's subtree only: they list and create customers and users there and nowhere else,
// and cannot create tenant roles. Lists are by id; limit defaults to 100 (at most 1,000).
//
// Thread-safe.
#pragma once

#include <functional>

#include "http/router.h"
#include "mqtt/broker.h"
#include "platform/login_limiter.h"
#include "platform/metadata_store.h"
#include "platform/quota_enforcer.h"

namespace seaway {

struct PlatformRoutesContext {
  MetadataStore* metadata = nullptr;
  QuotaEnforcer* quotas = nullptr;  // when set: the devices quota, and told of changes
  mqtt::Broker* broker = nullptr;   // when set, a deleted device's MQTT connections are closed
  // Failed self-provisioning attempts per address, when set.
  LoginLimiter* provision_limiter = nullptr;
  // Called after a device provisioned itself (e.g. to give it the key's thing model), when set.
  std::function<Status(const ProvisioningKeyInfo& key, DeviceId device)> on_provisioned;
  // When set, called after a device is deleted (the server forgets its cached thing model).
  std::function<void(TenantId, const DeviceInfo&)> device_deleted;
};

// `context` and what it points to must outlive the router.
void AddPlatformRoutes(Router* router, const PlatformRoutesContext* context);

}  // namespace seaway
