// Tests for roles and permissions (src/platform/permissions.h), and the check that the matrix in
// docs/security.md (SEAWAY_SECURITY_DOC) equals the code's table.
#include "platform/permissions.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace seaway {
namespace {

constexpr std::string_view kRoleNames[] = {"tenant-admin", "operator", "viewer", "customer-admin",
                                           "customer-user"};
constexpr std::string_view kPermissionNames[] = {
    "tenant.manage", "users.manage", "customers.manage", "devices.manage", "devices.read",
    "data.write",    "data.read",    "commands.send",    "models.manage",  "models.read",
    "assets.manage", "assets.read",  "tokens.manage",    "tenants.manage"};

TEST(PermissionsTest, RoleNamesRoundTrip) {
  ASSERT_EQ(AllRoles().size(), std::size(kRoleNames));
  for (size_t i = 0; i < AllRoles().size(); ++i) {
    const Role role = AllRoles()[i];
    EXPECT_EQ(static_cast<size_t>(role), i);
    EXPECT_EQ(RoleName(role), kRoleNames[i]);
    auto parsed = ParseRole(kRoleNames[i]);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, role);
  }
}

TEST(PermissionsTest, PermissionNamesRoundTrip) {
  ASSERT_EQ(AllPermissions().size(), std::size(kPermissionNames));
  for (size_t i = 0; i < AllPermissions().size(); ++i) {
    const Permission permission = AllPermissions()[i];
    EXPECT_EQ(static_cast<size_t>(permission), i);
    EXPECT_EQ(PermissionName(permission), kPermissionNames[i]);
    auto parsed = ParsePermission(kPermissionNames[i]);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, permission);
  }
}

TEST(PermissionsTest, UnknownNamesAreRefusedWithTheValidOnes) {
  for (std::string_view name : {"admin", "Viewer", "", "viewer ", "tenant_admin"}) {
    auto role = ParseRole(name);
    EXPECT_EQ(role.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(role.status().message(),
              fmt::format("unknown role '{}'; valid roles: tenant-admin, operator, viewer, "
                          "customer-admin, customer-user",
                          name));
  }
  for (std::string_view name : {"devices.write", "DATA.READ", "", "data"}) {
    auto permission = ParsePermission(name);
    EXPECT_EQ(permission.status().code(), StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(permission.status().message(),
              fmt::format("unknown permission '{}'; valid permissions: tenant.manage, "
                          "users.manage, customers.manage, devices.manage, devices.read, "
                          "data.write, data.read, commands.send, models.manage, models.read, "
                          "assets.manage, assets.read, tokens.manage, tenants.manage",
                          name));
  }
}

std::set<Permission> Allowed(Role role) {
  std::set<Permission> out;
  for (Permission p : AllPermissions()) {
    if (RoleAllows(role, p)) out.insert(p);
  }
  return out;
}

TEST(PermissionsTest, TableSpotChecks) {
  // A tenant's administrator may do everything in the tenant, but not manage tenants: that is
  // the installation's system token alone (Principal::system).
  EXPECT_EQ(Allowed(Role::kTenantAdmin).size(), AllPermissions().size() - 1);
  for (Role role : AllRoles()) EXPECT_FALSE(RoleAllows(role, Permission::kTenantsManage));

  EXPECT_FALSE(RoleAllows(Role::kOperator, Permission::kTenantManage));
  EXPECT_FALSE(RoleAllows(Role::kOperator, Permission::kUsersManage));
  EXPECT_FALSE(RoleAllows(Role::kOperator, Permission::kCustomersManage));
  EXPECT_TRUE(RoleAllows(Role::kOperator, Permission::kDataWrite));
  EXPECT_TRUE(RoleAllows(Role::kOperator, Permission::kTokensManage));
  EXPECT_EQ(Allowed(Role::kOperator).size(), 10u);

  const std::set<Permission> reads = {Permission::kDevicesRead, Permission::kDataRead,
                                      Permission::kModelsRead, Permission::kAssetsRead};
  EXPECT_EQ(Allowed(Role::kViewer), reads);
  EXPECT_EQ(Allowed(Role::kCustomerUser), reads);

  EXPECT_TRUE(RoleAllows(Role::kCustomerAdmin, Permission::kUsersManage));
  EXPECT_TRUE(RoleAllows(Role::kCustomerAdmin, Permission::kCustomersManage));
  EXPECT_TRUE(RoleAllows(Role::kCustomerAdmin, Permission::kCommandsSend));
  EXPECT_TRUE(RoleAllows(Role::kCustomerAdmin, Permission::kTokensManage));
  EXPECT_FALSE(RoleAllows(Role::kCustomerAdmin, Permission::kTenantManage));
  EXPECT_FALSE(RoleAllows(Role::kCustomerAdmin, Permission::kDevicesManage));
  EXPECT_FALSE(RoleAllows(Role::kCustomerAdmin, Permission::kDataWrite));
  EXPECT_EQ(Allowed(Role::kCustomerAdmin).size(), 8u);

  // Only the tenant admin manages the tenant; nobody writes data without managing devices.
  for (Role role : AllRoles()) {
    EXPECT_EQ(RoleAllows(role, Permission::kTenantManage), role == Role::kTenantAdmin);
    EXPECT_EQ(RoleAllows(role, Permission::kDataWrite),
              RoleAllows(role, Permission::kDevicesManage));
  }
}

TEST(PermissionsTest, CustomerRoles) {
  EXPECT_FALSE(IsCustomerRole(Role::kTenantAdmin));
  EXPECT_FALSE(IsCustomerRole(Role::kOperator));
  EXPECT_FALSE(IsCustomerRole(Role::kViewer));
  EXPECT_TRUE(IsCustomerRole(Role::kCustomerAdmin));
  EXPECT_TRUE(IsCustomerRole(Role::kCustomerUser));
}

TEST(PermissionsTest, ValuesOutsideTheEnumsAllowNothing) {
  const auto bad_role = static_cast<Role>(200);
  const auto bad_permission = static_cast<Permission>(200);
  EXPECT_EQ(RoleName(bad_role), "");
  EXPECT_EQ(PermissionName(bad_permission), "");
  EXPECT_FALSE(IsCustomerRole(bad_role));
  EXPECT_FALSE(RoleAllows(bad_role, Permission::kDataRead));
  EXPECT_FALSE(RoleAllows(Role::kTenantAdmin, bad_permission));
  EXPECT_FALSE(RoleAllows(Role::kTenantAdmin, static_cast<Permission>(AllPermissions().size())));
}

// --- docs/security.md -----------------------------------------------------------------------

std::string Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  const size_t end = s.find_last_not_of(" \t\r");
  return std::string(s.substr(begin, end - begin + 1));
}

// The cells of a markdown table row "| a | b |" -> {"a", "b"}; empty when `line` is no row.
std::vector<std::string> Cells(std::string_view line) {
  const std::string row = Trim(line);
  if (row.size() < 2 || row.front() != '|' || row.back() != '|') return {};
  std::vector<std::string> cells;
  std::string_view rest = std::string_view(row).substr(1, row.size() - 2);
  for (;;) {
    const size_t bar = rest.find('|');
    cells.push_back(Trim(rest.substr(0, bar)));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return cells;
}

std::string Unquote(const std::string& cell) {
  if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`') {
    return cell.substr(1, cell.size() - 2);
  }
  return cell;
}

// Everything in which the permission matrix of `markdown` differs from the code's table: the one
// table whose header starts with "Permission" must have the roles as columns and the permissions
// as rows, both in declaration order, with cells "yes" or empty.
std::vector<std::string> MatrixProblems(const std::string& markdown) {
  std::vector<std::string> problems;
  std::vector<std::string> lines;
  std::istringstream in(markdown);
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  size_t header = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto cells = Cells(lines[i]);
    if (cells.empty() || cells[0] != "Permission") continue;
    if (header != lines.size()) problems.push_back("more than one permission matrix");
    header = i;
  }
  if (header == lines.size()) return {"no table with a 'Permission' header"};

  std::vector<std::string> expected_header = {"Permission"};
  for (Role role : AllRoles()) expected_header.emplace_back(RoleName(role));
  const auto columns = Cells(lines[header]);
  if (columns != expected_header) {
    problems.push_back("header is not 'Permission' and the roles in order: " + lines[header]);
  }
  std::vector<Role> column_roles;  // column i + 1
  for (size_t c = 1; c < columns.size(); ++c) {
    auto role = ParseRole(columns[c]);
    if (!role.ok()) return {"column '" + columns[c] + "': " + role.status().ToString()};
    column_roles.push_back(*role);
  }

  std::vector<Permission> seen;
  for (size_t i = header + 2; i < lines.size(); ++i) {
    const auto cells = Cells(lines[i]);
    if (cells.empty()) break;
    const std::string where = "row '" + Trim(lines[i]) + "': ";
    auto permission = ParsePermission(Unquote(cells[0]));
    if (!permission.ok()) {
      problems.push_back(where + permission.status().ToString());
      continue;
    }
    seen.push_back(*permission);
    if (cells.size() != columns.size()) {
      problems.push_back(where + "wrong number of cells");
      continue;
    }
    for (size_t c = 1; c < cells.size(); ++c) {
      if (cells[c] != "yes" && !cells[c].empty()) {
        problems.push_back(where + "cell '" + cells[c] + "' is neither 'yes' nor empty");
      } else if ((cells[c] == "yes") != RoleAllows(column_roles[c - 1], *permission)) {
        const bool allowed = RoleAllows(column_roles[c - 1], *permission);
        problems.push_back(where + std::string(RoleName(column_roles[c - 1])) +
                           ": the document has '" + cells[c] + "', the code " +
                           (allowed ? "allows it" : "does not allow it"));
      }
    }
  }
  if (seen != AllPermissions()) {
    std::string names;
    for (Permission p : seen) names += std::string(PermissionName(p)) + " ";
    problems.push_back("rows are not every permission once, in order: " + names);
  }
  return problems;
}

std::string ReadSecurityDoc() {
  std::ifstream file(SEAWAY_SECURITY_DOC);
  EXPECT_TRUE(file.good()) << "cannot open " << SEAWAY_SECURITY_DOC;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

TEST(PermissionsDocTest, SecurityDocMatrixEqualsTheCode) {
  const std::string doc = ReadSecurityDoc();
  ASSERT_FALSE(doc.empty());
  const auto problems = MatrixProblems(doc);
  EXPECT_TRUE(problems.empty()) << SEAWAY_SECURITY_DOC << ":\n" << Joined(problems);
}

// The check above would notice drift: each edit of the real document is caught.
TEST(PermissionsDocTest, CheckerCatchesDrift) {
  const std::string doc = ReadSecurityDoc();
  ASSERT_TRUE(MatrixProblems(doc).empty());
  auto edited = [&](std::string_view from, std::string_view to) {
    std::string s = doc;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"| `tenant.manage` | yes | | | | |\n", ""},  // a row missing
      {"| `data.write` | yes | yes | | | |", "| `data.write` | yes | yes | yes | | |"},
      {"| `tokens.manage` | yes | yes | | yes | |", "| `tokens.manage` | yes | yes | | | |"},
      {"| `assets.read` | yes |", "| `assets.read` | Yes |"},
      {"| `models.read` |", "| `models.view` |"},
      {" customer-user |\n|---|---|---|---|---|---|", " |\n|---|---|---|---|---|"},
      {"| viewer | customer-admin |", "| customer-admin | viewer |"},
      {"| `users.manage` | yes | | | yes | |\n| `customers.manage` | yes | | | yes | |",
       "| `customers.manage` | yes | | | yes | |\n| `users.manage` | yes | | | yes | |"},
  };
  for (const auto& [from, to] : edits) {
    EXPECT_FALSE(MatrixProblems(edited(from, to)).empty()) << "not caught: " << from;
  }
}

}  // namespace
}  // namespace seaway
