// Tenants' settings in memory (src/platform/tenant_settings_cache.h).
#include "platform/tenant_settings_cache.h"

namespace seaway {

Result<TenantSettings> TenantSettingsCache::Get(TenantId tenant) {
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    auto it = settings_.find(tenant.value());
    if (it != settings_.end()) return it->second;
    generation = generation_;
  }
  SW_ASSIGN_OR_RETURN(TenantInfo info, metadata_->GetTenant(tenant));
  std::lock_guard lock(mu_);
  // An Invalidate while the store was read may have come after the read: keep nothing then.
  if (generation == generation_) settings_[tenant.value()] = info.settings;
  return info.settings;
}

void TenantSettingsCache::Invalidate(TenantId tenant) {
  std::lock_guard lock(mu_);
  settings_.erase(tenant.value());
  ++generation_;
}

}  // namespace seaway
