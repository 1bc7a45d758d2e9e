// QuotaEnforcer: the quotas of tenants and customers (platform/tenant_settings.h), checked where
// work enters Seaway (src/platform):
//
//   api_requests_per_s  every authenticated HTTP request (the router's authorizer): the tenant's
//                       and, for a customer role, its customer's
//   messages_per_s      every MQTT PUBLISH and HTTP write request: the tenant's and, for a
//                       device assigned to a customer, the customer's
//   stored_bytes        writes are refused while the tenant stores as much or more
//   devices             creating devices (one by one or in bulk): the tenant's and the
//                       customer's they are assigned to
//
// Refusals are ResourceExhausted naming the quota, its owner and its limit, e.g. "quota
// 'messages_per_s' of tenant 'acme' exceeded (100 per second); retry in 0.2 s" — HTTP 429, MQTT
// 5.0 reason 0x97. Rates are token buckets holding one second of the limit, so short bursts up
// to the limit pass. State is in memory; counts restart with the process.
//
// Settings are cached per tenant and read again after Invalidate(tenant), which the routes that
// change settings, customers or devices call. A tenant without quotas costs one hash lookup per
// check.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "platform/metadata_store.h"

namespace seaway {

class QuotaEnforcer {
 public:
  // `metadata` and `clock` must outlive the enforcer. `stored_bytes(tenant)` is the tenant's
  // stored size (Engine::StoredBytes), asked at most once per `stored_bytes_refresh_ns` per
  // tenant; none: no stored_bytes quota can be enforced.
  QuotaEnforcer(MetadataStore* metadata, const Clock* clock,
                std::function<uint64_t(TenantId)> stored_bytes,
                int64_t stored_bytes_refresh_ns = 5'000'000'000);
  ~QuotaEnforcer();

  // One authenticated API request by `who`.
  Status AdmitRequest(const Principal& who);
  // `count` messages from the tenant (from `device`, when known: its customer's quota applies
  // too); refused also while the tenant is at its stored_bytes quota.
  Status AdmitMessages(TenantId tenant, std::string_view device, uint64_t count = 1);
  // `adding` new devices for the tenant, assigned to `customer` when given. Callers hold
  // LockDeviceChanges() from this check until the devices exist, so that two creations racing
  // for the last slot do not both pass.
  Status AdmitDevices(TenantId tenant, std::optional<CustomerId> customer, size_t adding);
  // Serialises device creations and assignments that AdmitDevices checks (rare: admin and
  // provisioning requests), installation-wide.
  [[nodiscard]] std::unique_lock<std::mutex> LockDeviceChanges() {
    return std::unique_lock(devices_mu_);
  }

  // Forgets the tenant's cached settings, customers and devices (their rate counts stay).
  void Invalidate(TenantId tenant);

 private:
  struct Bucket {
    double tokens = -1;  // < 0: full (not yet used)
    int64_t last_ns = 0;
  };
  struct TenantState;

  std::mutex devices_mu_;  // LockDeviceChanges; taken before mu_ and the metadata store's

  // The tenant's state, loaded when missing. REQUIRES: mu_ held.
  Result<TenantState*> State(TenantId tenant);
  // Takes `count` from a bucket of `rate` per second; the seconds to wait when it cannot.
  std::optional<double> Take(Bucket* bucket, uint64_t rate, uint64_t count, int64_t now);

  MetadataStore* const metadata_;
  const Clock* const clock_;
  const std::function<uint64_t(TenantId)> stored_bytes_;
  const int64_t stored_bytes_refresh_ns_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<TenantState>> tenants_;
};

}  // namespace seaway
