// TenantSettingsCache: tenants' settings kept in memory for the paths that read them on every
// request (SQL's default time zone), so that those do not query the metadata store each time
// (src/platform). Whoever changes a tenant's settings calls Invalidate (the tenant routes do).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "platform/metadata_store.h"

namespace seaway {

class TenantSettingsCache {
 public:
  // `metadata` must outlive the cache.
  explicit TenantSettingsCache(MetadataStore* metadata) : metadata_(metadata) {}

  // The tenant's settings; NotFound for a tenant that does not exist.
  Result<TenantSettings> Get(TenantId tenant);
  // The next Get reads the store again.
  void Invalidate(TenantId tenant);

 private:
  MetadataStore* const metadata_;
  std::mutex mu_;
  std::unordered_map<uint64_t, TenantSettings> settings_;
  uint64_t generation_ = 0;  // Invalidate calls so far
};

}  // namespace seaway
