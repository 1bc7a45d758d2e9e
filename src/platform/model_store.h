// ModelStore: a tenant's thing models (platform/thing_model.h) and which device follows which
// (src/platform). The first implementation keeps them in SQLite beside the MetadataStore
// (tables thing_models and device_models in DATA_DIR/metadata.db); a PostgreSQL backend can
// follow behind the same interface.
//
// Tenant-isolated: a model or device id of another tenant is NotFound, as if it did not exist.
// A device follows at most one model; deleting the device forgets its assignment, and a model
// that devices follow, or that a provisioning key names, cannot be deleted.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "platform/sqlite_database.h"
#include "platform/thing_model.h"

namespace seaway {

struct StoredModel {
  ModelId id;
  ThingModel model;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  size_t devices = 0;  // devices that follow it
};

class ModelStore {
 public:
  virtual ~ModelStore() = default;

  // Stores a new model (checked by ParseThingModel). AlreadyExists when the tenant has a model
  // of that name.
  virtual Result<ModelId> CreateModel(TenantId tenant, const ThingModel& model) = 0;
  // NotFound when the tenant has no such model.
  virtual Result<StoredModel> GetModel(TenantId tenant, ModelId id) = 0;
  // Every model of the tenant, by id.
  virtual Result<std::vector<StoredModel>> ListModels(TenantId tenant) = 0;
  // Replaces a model's document with a new version (its devices follow the new one from now
  // on; provisioning keys that name it follow a new name). NotFound; AlreadyExists when it is
  // renamed to the name of another model.
  virtual Status ReplaceModel(TenantId tenant, ModelId id, const ThingModel& model) = 0;
  // NotFound; FailedPrecondition naming how many devices still follow it, or the provisioning
  // keys that name it (MetadataStore::CreateProvisioningKey).
  virtual Status DeleteModel(TenantId tenant, ModelId id) = 0;

  // Makes `device` follow `model`, or none (schemaless) for nullopt. NotFound for a device or
  // model not the tenant's.
  virtual Status AssignModel(TenantId tenant, DeviceId device, std::optional<ModelId> model) = 0;
  // The model a device follows; nullopt when none. NotFound for a device not the tenant's.
  virtual Result<std::optional<StoredModel>> ModelOfDevice(TenantId tenant, DeviceId device) = 0;
  // The id of the model a device follows, by the device's name (its MQTT topics name it);
  // nullopt when none, also when the tenant has no such device. One indexed lookup: the
  // document is not read.
  virtual Result<std::optional<ModelId>> ModelIdOfDevice(TenantId tenant,
                                                         std::string_view device) = 0;
};

// The SQLite store in `database`, whose MetadataStore must be open (its tenants and devices
// tables are referenced). Creates its tables when absent.
Result<std::unique_ptr<ModelStore>> OpenSqliteModelStore(std::shared_ptr<SqliteDatabase> database);

}  // namespace seaway
