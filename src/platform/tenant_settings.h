// A tenant's settings and the quotas of tenants and customers (src/platform), and their JSON
// form (the REST API's and the metadata store's).
//
//   {"time_zone": "Europe/Paris",        // IANA name; SQL's calendar functions use it when a
//                                        // query names no zone (default "UTC")
//    "retention_s": 7776000,             // how long tables keep rows unless they or their
//                                        // database have a policy (default: forever)
//    "quotas": {"devices": 1000, "messages_per_s": 5000, "stored_bytes": 10737418240,
//               "api_requests_per_s": 50}}
//
// A quota left out (or null) is unlimited. Customers have quotas only (devices, messages_per_s
// of their devices, api_requests_per_s of their users); stored_bytes is the tenant's alone.
//
// Thread-compatible values; pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace seaway {

struct Quotas {
  std::optional<uint64_t> devices;             // devices registered
  std::optional<uint64_t> messages_per_s;      // MQTT PUBLISHes + HTTP write requests
  std::optional<uint64_t> stored_bytes;        // compressed segment bytes (tenants only)
  std::optional<uint64_t> api_requests_per_s;  // authenticated HTTP requests

  bool operator==(const Quotas&) const = default;
};

struct TenantSettings {
  std::string time_zone = "UTC";
  std::optional<int64_t> retention_s;
  Quotas quotas;

  bool operator==(const TenantSettings&) const = default;
};

// Applies a JSON merge patch (RFC 7396: a member set to null returns to its default) to
// `settings`. InvalidArgument naming the member and the rule ("'quotas.devices' must be a
// non-negative integer", "'time_zone': unknown time zone 'Mars/Olympus'") and `settings`
// unchanged on any error. Unknown members are errors, so that a typo is not silently ignored.
Status PatchTenantSettings(const nlohmann::json& patch, TenantSettings* settings);
// As PatchTenantSettings for a customer's quotas (stored_bytes is refused: a tenant quota).
Status PatchQuotas(const nlohmann::json& patch, Quotas* quotas);

nlohmann::json ToJson(const TenantSettings& settings);
nlohmann::json ToJson(const Quotas& quotas);

// The stored text forms ("" reads as the defaults).
std::string SerializeTenantSettings(const TenantSettings& settings);
Result<TenantSettings> ParseTenantSettings(std::string_view text);
std::string SerializeQuotas(const Quotas& quotas);
Result<Quotas> ParseQuotas(std::string_view text);

// OK when `zone` is an IANA time zone name known to this machine (or "UTC").
Status CheckTimeZoneName(std::string_view zone);

}  // namespace seaway
