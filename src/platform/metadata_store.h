// MetadataStore: tenants and API tokens, the platform's object model (src/platform). The first
// implementation keeps them in SQLite (DATA_DIR/metadata.db); the interface lets a PostgreSQL
// backend follow. Tokens are stored only as SHA-256 hashes: a leaked database file does not
// leak a usable token.
//
// Customers, users, roles, devices and thing models join this interface with issue #7.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/strong_id.h"

namespace seaway {

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Creates a tenant; AlreadyExists when the name is taken. Names: 1..64 bytes of letters,
  // digits, '-', '_' and '.'.
  virtual Result<TenantId> CreateTenant(std::string_view name) = 0;
  // NotFound when no tenant has the name.
  virtual Result<TenantId> FindTenant(std::string_view name) = 0;

  // Registers `token` (stored as its hash) for `tenant`. InvalidArgument for tokens shorter
  // than 16 bytes; AlreadyExists when the token is registered already.
  virtual Status AddToken(TenantId tenant, std::string_view token,
                          std::string_view description) = 0;
  // The tenant a token belongs to; Unauthenticated (without saying why) otherwise.
  virtual Result<TenantId> Authenticate(std::string_view token) = 0;
};

// Opens (creating when absent) the SQLite store at `path`.
Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const std::string& path);

// Lower-case hex SHA-256 of `token`.
std::string HashToken(std::string_view token);

// A new random token: 32 bytes from the system's CSPRNG, as 64 hex characters.
Result<std::string> NewRandomToken();

}  // namespace seaway
