// The role/permission table (src/platform/permissions.h). docs/security.md shows the same
// matrix; permissions_test fails when they differ.
#include "platform/permissions.h"

#include <array>
#include <string>

namespace seaway {
namespace {

using PermissionSet = uint32_t;

constexpr PermissionSet Bit(Permission p) { return PermissionSet{1} << static_cast<unsigned>(p); }

template <typename... P>
constexpr PermissionSet Set(P... p) {
  return (Bit(p) | ...);
}

struct PermissionEntry {
  Permission permission;
  std::string_view name;
};

constexpr std::array<PermissionEntry, 14> kPermissions = {{
    {Permission::kTenantManage, "tenant.manage"},
    {Permission::kUsersManage, "users.manage"},
    {Permission::kCustomersManage, "customers.manage"},
    {Permission::kDevicesManage, "devices.manage"},
    {Permission::kDevicesRead, "devices.read"},
    {Permission::kDataWrite, "data.write"},
    {Permission::kDataRead, "data.read"},
    {Permission::kCommandsSend, "commands.send"},
    {Permission::kModelsManage, "models.manage"},
    {Permission::kModelsRead, "models.read"},
    {Permission::kAssetsManage, "assets.manage"},
    {Permission::kAssetsRead, "assets.read"},
    {Permission::kTokensManage, "tokens.manage"},
    {Permission::kTenantsManage, "tenants.manage"},
}};

// Every permission of a tenant: tenants.manage belongs to no role.
constexpr PermissionSet kEveryPermission =
    ((PermissionSet{1} << kPermissions.size()) - 1) & ~Bit(Permission::kTenantsManage);

struct RoleEntry {
  Role role;
  std::string_view name;
  bool customer;  // scoped by callers to one customer's subtree
  PermissionSet permissions;
};

// The table. Change it together with the matrix in docs/security.md.
constexpr std::array<RoleEntry, 5> kRoles = {{
    {Role::kTenantAdmin, "tenant-admin", false, kEveryPermission},
    {Role::kOperator, "operator", false,
     Set(Permission::kDevicesManage, Permission::kDevicesRead, Permission::kDataWrite,
         Permission::kDataRead, Permission::kCommandsSend, Permission::kModelsManage,
         Permission::kModelsRead, Permission::kAssetsManage, Permission::kAssetsRead,
         Permission::kTokensManage)},
    {Role::kViewer, "viewer", false,
     Set(Permission::kDevicesRead, Permission::kDataRead, Permission::kModelsRead,
         Permission::kAssetsRead)},
    {Role::kCustomerAdmin, "customer-admin", true,
     Set(Permission::kUsersManage, Permission::kCustomersManage, Permission::kDevicesRead,
         Permission::kDataRead, Permission::kCommandsSend, Permission::kModelsRead,
         Permission::kAssetsRead, Permission::kTokensManage)},
    {Role::kCustomerUser, "customer-user", true,
     Set(Permission::kDevicesRead, Permission::kDataRead, Permission::kModelsRead,
         Permission::kAssetsRead)},
}};

// Lookups index the tables by enum value.
constexpr bool TablesInEnumOrder() {
  for (size_t i = 0; i < kPermissions.size(); ++i) {
    if (static_cast<size_t>(kPermissions[i].permission) != i) return false;
  }
  for (size_t i = 0; i < kRoles.size(); ++i) {
    if (static_cast<size_t>(kRoles[i].role) != i) return false;
  }
  return true;
}
static_assert(TablesInEnumOrder());
static_assert(Role::kCustomerUser == kRoles.back().role);
static_assert(Permission::kTenantsManage == kPermissions.back().permission);
static_assert(kPermissions.size() <= 8 * sizeof(PermissionSet));

const RoleEntry* FindRole(Role role) {
  const auto i = static_cast<size_t>(role);
  return i < kRoles.size() ? &kRoles[i] : nullptr;
}

template <typename Table>
std::string JoinNames(const Table& table) {
  std::string out;
  for (const auto& entry : table) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

}  // namespace

bool RoleAllows(Role role, Permission permission) {
  const RoleEntry* entry = FindRole(role);
  const auto p = static_cast<size_t>(permission);
  return entry != nullptr && p < kPermissions.size() && (entry->permissions & Bit(permission)) != 0;
}

std::string_view RoleName(Role role) {
  const RoleEntry* entry = FindRole(role);
  return entry != nullptr ? entry->name : std::string_view();
}

Result<Role> ParseRole(std::string_view name) {
  for (const RoleEntry& entry : kRoles) {
    if (entry.name == name) return entry.role;
  }
  return InvalidArgument("unknown role '{}'; valid roles: {}", name, JoinNames(kRoles));
}

std::string_view PermissionName(Permission permission) {
  const auto i = static_cast<size_t>(permission);
  return i < kPermissions.size() ? kPermissions[i].name : std::string_view();
}

Result<Permission> ParsePermission(std::string_view name) {
  for (const PermissionEntry& entry : kPermissions) {
    if (entry.name == name) return entry.permission;
  }
  return InvalidArgument("unknown permission '{}'; valid permissions: {}", name,
                         JoinNames(kPermissions));
}

bool IsCustomerRole(Role role) {
  const RoleEntry* entry = FindRole(role);
  return entry != nullptr && entry->customer;
}

const std::vector<Role>& AllRoles() {
  static const std::vector<Role> roles = [] {
    std::vector<Role> out;
    for (const RoleEntry& entry : kRoles) out.push_back(entry.role);
    return out;
  }();
  return roles;
}

const std::vector<Permission>& AllPermissions() {
  static const std::vector<Permission> permissions = [] {
    std::vector<Permission> out;
    for (const PermissionEntry& entry : kPermissions) out.push_back(entry.permission);
    return out;
  }();
  return permissions;
}

}  // namespace seaway
