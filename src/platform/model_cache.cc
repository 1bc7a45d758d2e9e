// The in-memory device -> model cache (src/platform/model_cache.h).
#include "platform/model_cache.h"

#include <mutex>

namespace seaway {
namespace {

std::string CacheKey(TenantId tenant, std::string_view device) {
  std::string key = std::to_string(tenant.value());
  key.push_back('/');
  key.append(device);
  return key;
}

}  // namespace

ModelCache::ModelCache(ModelStore* store, size_t max_entries)
    : store_(store), max_entries_(max_entries) {}

Result<std::shared_ptr<const ThingModel>> ModelCache::ModelFor(TenantId tenant,
                                                               std::string_view device) {
  std::string key = CacheKey(tenant, device);
  uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    generation = generation_;
  }
  SW_ASSIGN_OR_RETURN(std::optional<ModelId> id, store_->ModelIdOfDevice(tenant, device));
  std::shared_ptr<const ThingModel> model;
  if (id) {
    {
      std::shared_lock lock(mu_);
      if (auto it = models_.find(*id); it != models_.end() && generation_ == generation) {
        model = it->second;
      }
    }
    if (model == nullptr) {
      SW_ASSIGN_OR_RETURN(StoredModel stored, store_->GetModel(tenant, *id));
      model = std::make_shared<const ThingModel>(std::move(stored.model));
    }
  }
  std::unique_lock lock(mu_);
  if (generation_ == generation) {
    if (entries_.size() >= max_entries_) entries_.clear();
    entries_.emplace(std::move(key), model);
    if (id) models_.emplace(*id, model);
  }
  return model;
}

Result<std::shared_ptr<const TableModels>> ModelCache::ModelsByTable(TenantId tenant) {
  uint64_t generation;
  {
    std::shared_lock lock(mu_);
    if (auto it = tables_.find(tenant); it != tables_.end()) return it->second;
    generation = generation_;
  }
  SW_ASSIGN_OR_RETURN(std::vector<StoredModel> all, store_->ListModels(tenant));
  auto tables = std::make_shared<TableModels>();
  for (StoredModel& stored : all) {
    auto model = std::make_shared<const ThingModel>(std::move(stored.model));
    (*tables)[model->table].push_back(std::move(model));
  }
  std::unique_lock lock(mu_);
  if (generation_ == generation) {
    if (tables_.size() >= max_entries_) tables_.clear();
    tables_.emplace(tenant, tables);
  }
  return std::shared_ptr<const TableModels>(std::move(tables));
}

void ModelCache::Invalidate() {
  std::unique_lock lock(mu_);
  entries_.clear();
  models_.clear();
  tables_.clear();
  ++generation_;
}

Result<ModelId> ModelCache::CreateModel(TenantId tenant, const ThingModel& model) {
  // No device follows it yet, but it may declare a table.
  Result<ModelId> id = store_->CreateModel(tenant, model);
  Invalidate();
  return id;
}

Result<StoredModel> ModelCache::GetModel(TenantId tenant, ModelId id) {
  return store_->GetModel(tenant, id);
}

Result<std::vector<StoredModel>> ModelCache::ListModels(TenantId tenant) {
  return store_->ListModels(tenant);
}

Status ModelCache::ReplaceModel(TenantId tenant, ModelId id, const ThingModel& model) {
  Status s = store_->ReplaceModel(tenant, id, model);
  Invalidate();
  return s;
}

Status ModelCache::DeleteModel(TenantId tenant, ModelId id) {
  Status s = store_->DeleteModel(tenant, id);
  Invalidate();
  return s;
}

Status ModelCache::AssignModel(TenantId tenant, DeviceId device, std::optional<ModelId> model) {
  Status s = store_->AssignModel(tenant, device, model);
  Invalidate();
  return s;
}

Result<std::optional<StoredModel>> ModelCache::ModelOfDevice(TenantId tenant, DeviceId device) {
  return store_->ModelOfDevice(tenant, device);
}

Result<std::optional<ModelId>> ModelCache::ModelIdOfDevice(TenantId tenant,
                                                           std::string_view device) {
  return store_->ModelIdOfDevice(tenant, device);
}

}  // namespace seaway
