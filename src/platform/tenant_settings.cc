// Tenant settings and quotas as JSON (src/platform/tenant_settings.h).
#include "platform/tenant_settings.h"

#include <absl/time/time.h>
#include <nlohmann/json.hpp>

namespace seaway {
namespace {

using nlohmann::json;

struct QuotaMember {
  const char* name;
  std::optional<uint64_t> Quotas::*member;
};

constexpr QuotaMember kQuotaMembers[] = {
    {"devices", &Quotas::devices},
    {"messages_per_s", &Quotas::messages_per_s},
    {"stored_bytes", &Quotas::stored_bytes},
    {"api_requests_per_s", &Quotas::api_requests_per_s},
};

// A non-negative integer (parsed JSON holds them as unsigned, built JSON as signed).
std::optional<uint64_t> NonNegative(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

// Limits large enough for any installation, small enough that arithmetic on them never wraps.
constexpr uint64_t kMaxQuota = uint64_t{1} << 60;
constexpr int64_t kMaxRetentionS = int64_t{100} * 366 * 86400;

Status PatchQuotasAt(const json& patch, Quotas* quotas, std::string_view prefix, bool tenant) {
  if (!patch.is_object()) return InvalidArgument("'{}' must be an object", prefix);
  Quotas next = *quotas;
  for (const auto& [key, value] : patch.items()) {
    const QuotaMember* found = nullptr;
    for (const QuotaMember& m : kQuotaMembers) {
      if (key == m.name) found = &m;
    }
    if (found == nullptr) {
      return InvalidArgument(
          "'{}.{}' is not a quota (devices, messages_per_s, stored_bytes, api_requests_per_s)",
          prefix, key);
    }
    if (!tenant && found->member == &Quotas::stored_bytes && !value.is_null()) {
      return InvalidArgument("'{}.stored_bytes' is a tenant quota only", prefix);
    }
    if (value.is_null()) {
      next.*(found->member) = std::nullopt;
    } else if (auto n = NonNegative(value); !n || *n > kMaxQuota) {
      return InvalidArgument("'{}.{}' must be an integer from 0 to {} (or null: unlimited)", prefix,
                             key, kMaxQuota);
    } else {
      next.*(found->member) = *n;
    }
  }
  *quotas = next;
  return Status::OK();
}

}  // namespace

Status CheckTimeZoneName(std::string_view zone) {
  // IANA names only: no paths or "file:" forms that would make the zone loader open any file.
  const bool name_like =
      !zone.empty() && zone.size() <= 64 && zone.front() != '/' &&
      zone.find("..") == std::string_view::npos &&
      zone.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") ==
          std::string_view::npos;
  absl::TimeZone tz;
  if (!name_like || !absl::LoadTimeZone(std::string(zone), &tz)) {
    return InvalidArgument("unknown time zone '{}' (an IANA name such as 'Europe/Paris')", zone);
  }
  return Status::OK();
}

Status PatchTenantSettings(const json& patch, TenantSettings* settings) {
  if (!patch.is_object()) return InvalidArgument("the settings must be a JSON object");
  TenantSettings next = *settings;
  for (const auto& [key, value] : patch.items()) {
    if (key == "time_zone") {
      if (value.is_null()) {
        next.time_zone = "UTC";
        continue;
      }
      if (!value.is_string()) return InvalidArgument("'time_zone' must be a string");
      const std::string zone = value.get<std::string>();
      if (Status s = CheckTimeZoneName(zone); !s.ok()) {
        return InvalidArgument("'time_zone': {}", s.message());
      }
      next.time_zone = zone;
    } else if (key == "retention_s") {
      if (value.is_null()) {
        next.retention_s = std::nullopt;
      } else if (auto n = NonNegative(value);
                 !n || *n == 0 || *n > static_cast<uint64_t>(kMaxRetentionS)) {
        return InvalidArgument("'retention_s' must be 1 to {} seconds (or null: forever)",
                               kMaxRetentionS);
      } else {
        next.retention_s = static_cast<int64_t>(*n);
      }
    } else if (key == "quotas") {
      if (value.is_null()) {
        next.quotas = Quotas();
      } else {
        SW_RETURN_IF_ERROR(PatchQuotasAt(value, &next.quotas, "quotas", /*tenant=*/true));
      }
    } else {
      return InvalidArgument("'{}' is not a tenant setting (time_zone, retention_s, quotas)", key);
    }
  }
  *settings = std::move(next);
  return Status::OK();
}

Status PatchQuotas(const json& patch, Quotas* quotas) {
  return PatchQuotasAt(patch, quotas, "quotas", /*tenant=*/false);
}

json ToJson(const Quotas& quotas) {
  json out = json::object();
  for (const QuotaMember& m : kQuotaMembers) {
    const auto& value = quotas.*(m.member);
    out[m.name] = value ? json(*value) : json(nullptr);
  }
  return out;
}

json ToJson(const TenantSettings& settings) {
  return json{{"time_zone", settings.time_zone},
              {"retention_s", settings.retention_s ? json(*settings.retention_s) : json(nullptr)},
              {"quotas", ToJson(settings.quotas)}};
}

std::string SerializeTenantSettings(const TenantSettings& settings) {
  return ToJson(settings).dump();
}

Result<TenantSettings> ParseTenantSettings(std::string_view text) {
  TenantSettings settings;
  if (text.empty()) return settings;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("stored tenant settings are not JSON");
  SW_RETURN_IF_ERROR(PatchTenantSettings(j, &settings));
  return settings;
}

std::string SerializeQuotas(const Quotas& quotas) { return ToJson(quotas).dump(); }

Result<Quotas> ParseQuotas(std::string_view text) {
  Quotas quotas;
  if (text.empty()) return quotas;
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("stored quotas are not JSON");
  SW_RETURN_IF_ERROR(PatchQuotas(j, &quotas));
  return quotas;
}

}  // namespace seaway
