// Roles and permissions (src/platform): the fixed roles a user or API token holds within a
// tenant, and what each role may do. The table is written once, in permissions.cc, and mirrored
// in docs/security.md (a test keeps the two equal).
//
// Permissions are checked per tenant. The customer roles (IsCustomerRole) are further scoped by
// their callers to one customer's subtree: its devices, its sub-customers' devices, and those
// devices' data; this module only says which actions a role allows, not on what.
//
// Permission names double as API token scopes ("devices.read").
//
// Thread-safe: constant data and pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace seaway {

enum class Role : uint8_t {
  kTenantAdmin,    // "tenant-admin": everything in the tenant
  kOperator,       // "operator": runs devices, data, models and assets; no users or customers
  kViewer,         // "viewer": reads devices, data, models and assets
  kCustomerAdmin,  // "customer-admin": manages its customer's users and sub-customers
  kCustomerUser,   // "customer-user": reads its customer's devices and data
};

enum class Permission : uint8_t {
  kTenantManage,     // "tenant.manage"
  kUsersManage,      // "users.manage"
  kCustomersManage,  // "customers.manage"
  kDevicesManage,    // "devices.manage"
  kDevicesRead,      // "devices.read"
  kDataWrite,        // "data.write"
  kDataRead,         // "data.read"
  kCommandsSend,     // "commands.send"
  kModelsManage,     // "models.manage"
  kModelsRead,       // "models.read"
  kAssetsManage,     // "assets.manage"
  kAssetsRead,       // "assets.read"
  kTokensManage,     // "tokens.manage"
  kTenantsManage,    // "tenants.manage": create and list tenants; no role has it, only the
                     // installation's system token (Principal::system)
};

// True when `role` grants `permission`. False for values outside the enums.
bool RoleAllows(Role role, Permission permission);

// The stable name of a role ("tenant-admin"); "" for a value outside the enum.
std::string_view RoleName(Role role);
// The role named `name` (exact, case-sensitive); InvalidArgument listing the valid names.
Result<Role> ParseRole(std::string_view name);

// The stable name of a permission ("devices.read"); "" for a value outside the enum.
std::string_view PermissionName(Permission permission);
// The permission named `name` (exact, case-sensitive); InvalidArgument listing the valid names.
Result<Permission> ParsePermission(std::string_view name);

// True for kCustomerAdmin and kCustomerUser: roles whose reach callers limit to one customer's
// subtree.
bool IsCustomerRole(Role role);

// Every role and every permission, in declaration order.
const std::vector<Role>& AllRoles();
const std::vector<Permission>& AllPermissions();

}  // namespace seaway
