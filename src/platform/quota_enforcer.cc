// Tenant and customer quotas (src/platform/quota_enforcer.h).
#include "platform/quota_enforcer.h"

#include <algorithm>

namespace seaway {

struct QuotaEnforcer::TenantState {
  bool loaded = false;
  std::string name;
  Quotas quotas;
  std::unordered_map<uint64_t, CustomerInfo> customers;       // those with any quota
  std::unordered_map<uint64_t, uint64_t> parent;              // every customer's (0: none)
  std::unordered_map<std::string, uint64_t> device_customer;  // when a customer has a quota

  // Calls `fn` for `customer` and each customer above it that has quotas, nearest first.
  template <typename Fn>
  Status ForQuotaAncestors(uint64_t customer, Fn fn) {
    for (int depth = 0; customer != 0 && depth < 1000; ++depth) {
      if (auto it = customers.find(customer); it != customers.end()) {
        SW_RETURN_IF_ERROR(fn(it->second));
      }
      auto up = parent.find(customer);
      customer = up == parent.end() ? 0 : up->second;
    }
    return Status::OK();
  }
  // True when `customer` is `root` or below it.
  bool Within(uint64_t customer, uint64_t root) const {
    for (int depth = 0; customer != 0 && depth < 1000; ++depth) {
      if (customer == root) return true;
      auto up = parent.find(customer);
      customer = up == parent.end() ? 0 : up->second;
    }
    return false;
  }
  Bucket requests, messages;
  std::unordered_map<uint64_t, Bucket> customer_requests, customer_messages;
  uint64_t stored_bytes = 0;
  int64_t stored_bytes_read_ns = 0;
  bool stored_bytes_known = false;
};

namespace {

Status Exceeded(std::string_view quota, std::string_view owner_kind, std::string_view owner,
                uint64_t limit, double wait_s) {
  return ResourceExhausted("quota '{}' of {} '{}' exceeded ({} per second); retry in {:.1f} s",
                           quota, owner_kind, owner, limit, std::max(wait_s, 0.1));
}

}  // namespace

QuotaEnforcer::QuotaEnforcer(MetadataStore* metadata, const Clock* clock,
                             std::function<uint64_t(TenantId)> stored_bytes,
                             int64_t stored_bytes_refresh_ns)
    : metadata_(metadata),
      clock_(clock),
      stored_bytes_(std::move(stored_bytes)),
      stored_bytes_refresh_ns_(stored_bytes_refresh_ns) {}

QuotaEnforcer::~QuotaEnforcer() = default;

Result<QuotaEnforcer::TenantState*> QuotaEnforcer::State(TenantId tenant) {
  auto& slot = tenants_[tenant.value()];
  if (slot == nullptr) slot = std::make_unique<TenantState>();
  TenantState* state = slot.get();
  if (state->loaded) return state;
  SW_ASSIGN_OR_RETURN(TenantInfo info, metadata_->GetTenant(tenant));
  SW_ASSIGN_OR_RETURN(std::vector<CustomerInfo> customers, metadata_->ListCustomers(tenant));
  state->name = info.name;
  state->quotas = info.settings.quotas;
  state->customers.clear();
  state->parent.clear();
  state->device_customer.clear();
  for (CustomerInfo& c : customers) {
    state->parent[c.id.value()] = c.parent ? c.parent->value() : 0;
    if (c.quotas != Quotas()) state->customers.emplace(c.id.value(), std::move(c));
  }
  if (!state->customers.empty()) {
    SW_ASSIGN_OR_RETURN(std::vector<DeviceInfo> devices, metadata_->ListDevices(tenant));
    for (const DeviceInfo& d : devices) {
      if (d.customer) state->device_customer.emplace(d.name, d.customer->value());
    }
  }
  state->loaded = true;
  return state;
}

std::optional<double> QuotaEnforcer::Take(Bucket* bucket, uint64_t rate, uint64_t count,
                                          int64_t now) {
  const double capacity = static_cast<double>(rate);
  if (bucket->tokens < 0) {
    bucket->tokens = capacity;
  } else {
    const double refill = static_cast<double>(now - bucket->last_ns) * 1e-9 * capacity;
    bucket->tokens = std::min(capacity, bucket->tokens + std::max(refill, 0.0));
  }
  bucket->last_ns = now;
  const double need = static_cast<double>(count);
  if (bucket->tokens >= need) {
    bucket->tokens -= need;
    return std::nullopt;
  }
  if (rate == 0) return 1.0;
  return (need - bucket->tokens) / capacity;
}

Status QuotaEnforcer::AdmitRequest(const Principal& who) {
  const int64_t now = clock_->MonotonicNanos();
  std::lock_guard lock(mu_);
  SW_ASSIGN_OR_RETURN(TenantState * state, State(who.tenant));
  if (auto limit = state->quotas.api_requests_per_s) {
    if (auto wait = Take(&state->requests, *limit, 1, now)) {
      return Exceeded("api_requests_per_s", "tenant", state->name, *limit, *wait);
    }
  }
  if (who.customer) {
    // The caller's customer and every customer above it: a sub-customer's users share their
    // parent's limit.
    SW_RETURN_IF_ERROR(
        state->ForQuotaAncestors(who.customer->value(), [&](const CustomerInfo& c) -> Status {
          if (!c.quotas.api_requests_per_s) return Status::OK();
          const uint64_t limit = *c.quotas.api_requests_per_s;
          if (auto wait = Take(&state->customer_requests[c.id.value()], limit, 1, now)) {
            return Exceeded("api_requests_per_s", "customer", c.name, limit, *wait);
          }
          return Status::OK();
        }));
  }
  return Status::OK();
}

Status QuotaEnforcer::AdmitMessages(TenantId tenant, std::string_view device, uint64_t count) {
  const int64_t now = clock_->MonotonicNanos();
  std::unique_lock lock(mu_);
  SW_ASSIGN_OR_RETURN(TenantState * state, State(tenant));
  if (auto limit = state->quotas.stored_bytes; limit && stored_bytes_) {
    if (!state->stored_bytes_known ||
        now - state->stored_bytes_read_ns >= stored_bytes_refresh_ns_) {
      // Summing the segments takes the shards' locks: not under mu_. Others meanwhile use the
      // previous reading.
      state->stored_bytes_read_ns = now;
      lock.unlock();
      const uint64_t bytes = stored_bytes_(tenant);
      lock.lock();
      SW_ASSIGN_OR_RETURN(state, State(tenant));
      state->stored_bytes = bytes;
      state->stored_bytes_known = true;
    }
    if (limit = state->quotas.stored_bytes; limit && state->stored_bytes >= *limit) {
      return ResourceExhausted("quota 'stored_bytes' of tenant '{}' reached: {} of {} bytes",
                               state->name, state->stored_bytes, *limit);
    }
  }
  if (auto limit = state->quotas.messages_per_s) {
    if (auto wait = Take(&state->messages, *limit, count, now)) {
      return Exceeded("messages_per_s", "tenant", state->name, *limit, *wait);
    }
  }
  if (!device.empty() && !state->device_customer.empty()) {
    auto d = state->device_customer.find(std::string(device));
    if (d != state->device_customer.end()) {
      SW_RETURN_IF_ERROR(state->ForQuotaAncestors(d->second, [&](const CustomerInfo& c) -> Status {
        if (!c.quotas.messages_per_s) return Status::OK();
        const uint64_t limit = *c.quotas.messages_per_s;
        if (auto wait = Take(&state->customer_messages[c.id.value()], limit, count, now)) {
          // The tenant's bucket keeps the count: refused messages still cost the sender.
          return Exceeded("messages_per_s", "customer", c.name, limit, *wait);
        }
        return Status::OK();
      }));
    }
  }
  return Status::OK();
}

Status QuotaEnforcer::AdmitDevices(TenantId tenant, std::optional<CustomerId> customer,
                                   size_t adding) {
  std::optional<uint64_t> tenant_limit;
  std::string tenant_name;
  std::vector<CustomerInfo> limited;  // the customer and those above it with a devices quota
  std::unordered_map<uint64_t, uint64_t> parent;
  {
    std::lock_guard lock(mu_);
    SW_ASSIGN_OR_RETURN(TenantState * state, State(tenant));
    tenant_limit = state->quotas.devices;
    tenant_name = state->name;
    if (customer) {
      SW_RETURN_IF_ERROR(
          state->ForQuotaAncestors(customer->value(), [&](const CustomerInfo& c) -> Status {
            if (c.quotas.devices) limited.push_back(c);
            return Status::OK();
          }));
      if (!limited.empty()) parent = state->parent;
    }
  }
  if (!tenant_limit && limited.empty()) return Status::OK();
  SW_ASSIGN_OR_RETURN(const std::vector<DeviceInfo> devices, metadata_->ListDevices(tenant));
  if (tenant_limit && devices.size() + adding > *tenant_limit) {
    return ResourceExhausted(
        "quota 'devices' of tenant '{}' reached: {} of {} devices, {} more asked", tenant_name,
        devices.size(), *tenant_limit, adding);
  }
  TenantState tree;
  tree.parent = std::move(parent);
  for (const CustomerInfo& c : limited) {
    // Devices of the customer's whole subtree count against its quota.
    const size_t has =
        static_cast<size_t>(std::count_if(devices.begin(), devices.end(), [&](const DeviceInfo& d) {
          return d.customer && tree.Within(d.customer->value(), c.id.value());
        }));
    if (has + adding > *c.quotas.devices) {
      return ResourceExhausted(
          "quota 'devices' of customer '{}' reached: {} of {} devices, {} more asked", c.name, has,
          *c.quotas.devices, adding);
    }
  }
  return Status::OK();
}

void QuotaEnforcer::Invalidate(TenantId tenant) {
  std::lock_guard lock(mu_);
  auto it = tenants_.find(tenant.value());
  if (it != tenants_.end()) it->second->loaded = false;
}

}  // namespace seaway
