// ModelCache: the model each device follows, kept in memory for the telemetry hot path
// (src/platform). It is a ModelStore itself, forwarding to the real one: every change made
// through it (a model replaced or deleted, a device's assignment) empties the cache, so the
// REST handlers use it in the store's place and nothing else needs to remember to invalidate.
// Changes made around it — a device deleted through the MetadataStore — are reported with
// Invalidate().
//
// ModelsByTable answers which models declare which tables of a tenant, from memory as well.
//
// ModelFor asks the store once per (tenant, device name) for the id of the device's model (an
// indexed lookup) and once per model for its document (parsed once, shared by every device
// that follows it), then answers from memory until the next change; "no model" is remembered
// too. A lookup that raced with a change does not store its (possibly stale) answer. The cache
// holds at most `max_entries` devices and starts afresh when full (a tenant token may publish
// for any number of unknown device names).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "platform/model_store.h"

namespace seaway {

class ModelCache final : public ModelStore {
 public:
  // `store` must outlive the cache.
  explicit ModelCache(ModelStore* store, size_t max_entries = 1 << 20);

  // The model device `device` of `tenant` follows; nullptr when it follows none (or does not
  // exist). The returned model never changes.
  Result<std::shared_ptr<const ThingModel>> ModelFor(TenantId tenant, std::string_view device);

  // The models of `tenant` by the table they declare (platform/thing_model.h); empty when it
  // has none. Asked once per HTTP write and MQTT write/ message: answered from memory after the
  // tenant's first call, until the next change.
  Result<std::shared_ptr<const TableModels>> ModelsByTable(TenantId tenant);

  // Forgets every cached answer.
  void Invalidate();

  Result<ModelId> CreateModel(TenantId tenant, const ThingModel& model) override;
  Result<StoredModel> GetModel(TenantId tenant, ModelId id) override;
  Result<std::vector<StoredModel>> ListModels(TenantId tenant) override;
  Status ReplaceModel(TenantId tenant, ModelId id, const ThingModel& model) override;
  Status DeleteModel(TenantId tenant, ModelId id) override;
  Status AssignModel(TenantId tenant, DeviceId device, std::optional<ModelId> model) override;
  Result<std::optional<StoredModel>> ModelOfDevice(TenantId tenant, DeviceId device) override;
  Result<std::optional<ModelId>> ModelIdOfDevice(TenantId tenant, std::string_view device) override;

 private:
  ModelStore* const store_;
  const size_t max_entries_;
  std::shared_mutex mu_;
  // "<tenant>/<device>" -> the model, nullptr for none.
  std::unordered_map<std::string, std::shared_ptr<const ThingModel>> entries_;
  // The models devices above follow, parsed once each.
  std::unordered_map<ModelId, std::shared_ptr<const ThingModel>> models_;
  // ModelsByTable's answers.
  std::unordered_map<TenantId, std::shared_ptr<const TableModels>> tables_;
  uint64_t generation_ = 0;  // guarded by mu_; one more per Invalidate
};

}  // namespace seaway
