// ModelStore over the platform's SQLite connection (src/platform/model_store.h).
//
// Tables (created when absent, beside the MetadataStore's):
//   thing_models(id, tenant_id, name, document, created_ns, updated_ns)  the document is
//       ThingModelToJson's text, parsed again when read
//   device_models(device_id, model_id)  at most one model per device; a deleted device's row
//       goes with it (ON DELETE CASCADE); a followed model cannot be deleted (REFERENCES)
// Provisioning keys (the MetadataStore's provisioning_keys) name a model by its name: a model a
// key names cannot be deleted either, and a renamed model's keys are renamed with it.
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "platform/model_store.h"
#include "platform/sqlite_statement.h"

namespace seaway {
namespace {

// A model with the number of devices that follow it (ModelAt reads it); a WHERE clause follows.
std::string SelectModels(std::string_view where) {
  return "SELECT m.id, m.document, m.created_ns, m.updated_ns,"
         " (SELECT COUNT(*) FROM device_models dm WHERE dm.model_id = m.id) FROM thing_models m " +
         std::string(where);
}

class SqliteModelStore final : public ModelStore {
 public:
  explicit SqliteModelStore(std::shared_ptr<SqliteDatabase> database)
      : database_(std::move(database)) {}

  Status Init() {
    std::lock_guard lock(database_->mu());
    return database_->Exec(
        "CREATE TABLE IF NOT EXISTS thing_models("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  name TEXT NOT NULL, document TEXT NOT NULL, created_ns INTEGER NOT NULL,"
        "  updated_ns INTEGER NOT NULL, UNIQUE(tenant_id, name));"
        "CREATE TABLE IF NOT EXISTS device_models("
        "  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
        "  model_id INTEGER NOT NULL REFERENCES thing_models(id));"
        "CREATE INDEX IF NOT EXISTS device_models_by_model ON device_models(model_id);");
  }

  Result<ModelId> CreateModel(TenantId tenant, const ThingModel& model) override {
    const std::string document = ThingModelToJson(model);
    const int64_t now = Clock::Real()->Now().nanos();
    std::lock_guard lock(database_->mu());
    SqliteStatement st(db(),
                       "INSERT INTO thing_models(tenant_id, name, document, created_ns, updated_ns)"
                       " VALUES(?1, ?2, ?3, ?4, ?4)");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindText(st.get(), 2, model.name);
    BindText(st.get(), 3, document);
    st.Bind(4, now);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) return AlreadyExists("model '{}' already exists", model.name);
    if (rc != SQLITE_DONE) return database_->Error("create model");
    return ModelId(static_cast<uint64_t>(sqlite3_last_insert_rowid(db())));
  }

  Result<StoredModel> GetModel(TenantId tenant, ModelId id) override {
    std::lock_guard lock(database_->mu());
    return Load(tenant, id);
  }

  Result<std::vector<StoredModel>> ListModels(TenantId tenant) override {
    std::lock_guard lock(database_->mu());
    SqliteStatement st(db(), SelectModels("WHERE m.tenant_id = ?1 ORDER BY m.id").c_str());
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, tenant.value());
    std::vector<StoredModel> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      SW_ASSIGN_OR_RETURN(StoredModel m, ModelAt(st.get()));
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return database_->Error("list models");
    return out;
  }

  Status ReplaceModel(TenantId tenant, ModelId id, const ThingModel& model) override {
    const std::string document = ThingModelToJson(model);
    std::lock_guard lock(database_->mu());
    SW_RETURN_IF_ERROR(database_->Exec("BEGIN"));
    Status s = Replace(tenant, id, model, document);
    if (s.ok()) s = database_->Exec("COMMIT");
    if (!s.ok() && !sqlite3_get_autocommit(db())) (void)database_->Exec("ROLLBACK");
    return s;
  }

  Status DeleteModel(TenantId tenant, ModelId id) override {
    std::lock_guard lock(database_->mu());
    SW_ASSIGN_OR_RETURN(StoredModel m, Load(tenant, id));
    if (m.devices > 0) {
      return FailedPrecondition(
          "model '{}' is used by {} device{}: assign them another model or"
          " none first",
          m.model.name, m.devices, m.devices == 1 ? "" : "s");
    }
    // The devices those keys provision are given this model.
    SW_ASSIGN_OR_RETURN(const std::vector<std::string> keys, KeysNaming(tenant, m.model.name));
    if (!keys.empty()) {
      return FailedPrecondition(
          "model '{}' is named by provisioning key{} '{}': delete the key{} first", m.model.name,
          keys.size() == 1 ? "" : "s", fmt::join(keys, "', '"), keys.size() == 1 ? "" : "s");
    }
    SqliteStatement st(db(), "DELETE FROM thing_models WHERE id = ?1 AND tenant_id = ?2");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return database_->Error("delete model");
    return Status::OK();
  }

  Status AssignModel(TenantId tenant, DeviceId device, std::optional<ModelId> model) override {
    std::lock_guard lock(database_->mu());
    SW_RETURN_IF_ERROR(AssignedModel(tenant, device).status());
    if (!model) {
      SqliteStatement st(db(), "DELETE FROM device_models WHERE device_id = ?1");
      if (!st.ok()) return database_->Error("prepare");
      BindId(st.get(), 1, device.value());
      if (sqlite3_step(st.get()) != SQLITE_DONE) return database_->Error("unassign model");
      return Status::OK();
    }
    {
      SqliteStatement st(db(), "SELECT 1 FROM thing_models WHERE id = ?1 AND tenant_id = ?2");
      if (!st.ok()) return database_->Error("prepare");
      BindId(st.get(), 1, model->value());
      BindId(st.get(), 2, tenant.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) return NotFound("model {} does not exist", *model);
      if (rc != SQLITE_ROW) return database_->Error("find model");
    }
    SqliteStatement st(db(),
                       "INSERT INTO device_models(device_id, model_id) VALUES(?1, ?2)"
                       " ON CONFLICT(device_id) DO UPDATE SET model_id = excluded.model_id");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, device.value());
    BindId(st.get(), 2, model->value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return database_->Error("assign model");
    return Status::OK();
  }

  Result<std::optional<StoredModel>> ModelOfDevice(TenantId tenant, DeviceId device) override {
    std::lock_guard lock(database_->mu());
    SW_ASSIGN_OR_RETURN(std::optional<ModelId> id, AssignedModel(tenant, device));
    if (!id) return std::optional<StoredModel>();
    SW_ASSIGN_OR_RETURN(StoredModel m, Load(tenant, *id));
    return std::optional<StoredModel>(std::move(m));
  }

  Result<std::optional<ModelId>> ModelIdOfDevice(TenantId tenant,
                                                 std::string_view device) override {
    std::lock_guard lock(database_->mu());
    SqliteStatement st(db(),
                       "SELECT dm.model_id FROM devices d"
                       " JOIN device_models dm ON dm.device_id = d.id"
                       " WHERE d.tenant_id = ?1 AND d.name = ?2");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindText(st.get(), 2, device);
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<ModelId>();
    if (rc != SQLITE_ROW) return database_->Error("model of device");
    return std::optional<ModelId>(
        ModelId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0))));
  }

 private:
  sqlite3* db() { return database_->db(); }

  // The new version of model `id`; the provisioning keys that named it by its old name name it
  // by its new one. REQUIRES: mu held, in a transaction.
  Status Replace(TenantId tenant, ModelId id, const ThingModel& model,
                 const std::string& document) {
    std::string old_name;
    {
      SqliteStatement st(db(), "SELECT name FROM thing_models WHERE id = ?1 AND tenant_id = ?2");
      if (!st.ok()) return database_->Error("prepare");
      BindId(st.get(), 1, id.value());
      BindId(st.get(), 2, tenant.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) return NotFound("model {} does not exist", id);
      if (rc != SQLITE_ROW) return database_->Error("find model");
      old_name = std::string(ColumnText(st.get(), 0));
    }
    {
      SqliteStatement st(db(),
                         "UPDATE thing_models SET name = ?1, document = ?2, updated_ns = ?3"
                         " WHERE id = ?4 AND tenant_id = ?5");
      if (!st.ok()) return database_->Error("prepare");
      BindText(st.get(), 1, model.name);
      BindText(st.get(), 2, document);
      st.Bind(3, Clock::Real()->Now().nanos());
      BindId(st.get(), 4, id.value());
      BindId(st.get(), 5, tenant.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_CONSTRAINT) return AlreadyExists("model '{}' already exists", model.name);
      if (rc != SQLITE_DONE) return database_->Error("replace model");
    }
    if (old_name == model.name) return Status::OK();
    SqliteStatement st(
        db(), "UPDATE provisioning_keys SET model = ?1 WHERE tenant_id = ?2 AND model = ?3");
    if (!st.ok()) return database_->Error("prepare");
    BindText(st.get(), 1, model.name);
    BindId(st.get(), 2, tenant.value());
    BindText(st.get(), 3, old_name);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return database_->Error("rename keys' model");
    return Status::OK();
  }

  // The names of the tenant's provisioning keys that name model `name`, by id.
  // REQUIRES: mu held.
  Result<std::vector<std::string>> KeysNaming(TenantId tenant, std::string_view name) {
    SqliteStatement st(db(),
                       "SELECT name FROM provisioning_keys WHERE tenant_id = ?1 AND model = ?2"
                       " ORDER BY id");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindText(st.get(), 2, name);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.emplace_back(ColumnText(st.get(), 0));
    if (rc != SQLITE_DONE) return database_->Error("find provisioning keys");
    return out;
  }

  // REQUIRES: mu held.
  Result<StoredModel> Load(TenantId tenant, ModelId id) {
    SqliteStatement st(db(), SelectModels("WHERE m.id = ?1 AND m.tenant_id = ?2").c_str());
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return NotFound("model {} does not exist", id);
    if (rc != SQLITE_ROW) return database_->Error("get model");
    return ModelAt(st.get());
  }

  // The model of a row of SelectModels.
  Result<StoredModel> ModelAt(sqlite3_stmt* st) {
    StoredModel out;
    out.id = ModelId(static_cast<uint64_t>(sqlite3_column_int64(st, 0)));
    auto model = ParseThingModel(ColumnText(st, 1));
    if (!model.ok()) {
      return Corruption("metadata store: model {}: stored document: {}", out.id,
                        model.status().message());
    }
    out.model = std::move(*model);
    out.created_ns = sqlite3_column_int64(st, 2);
    out.updated_ns = sqlite3_column_int64(st, 3);
    out.devices = static_cast<size_t>(sqlite3_column_int64(st, 4));
    return out;
  }

  // The model `device` follows (nullopt: none); NotFound when the device is not the tenant's.
  // REQUIRES: mu held.
  Result<std::optional<ModelId>> AssignedModel(TenantId tenant, DeviceId device) {
    SqliteStatement st(db(),
                       "SELECT dm.model_id FROM devices d"
                       " LEFT JOIN device_models dm ON dm.device_id = d.id"
                       " WHERE d.id = ?1 AND d.tenant_id = ?2");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, device.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return NotFound("device {} does not exist", device);
    if (rc != SQLITE_ROW) return database_->Error("find device");
    const std::optional<uint64_t> id = ColumnId(st.get(), 0);
    if (!id) return std::optional<ModelId>();
    return std::optional<ModelId>(ModelId(*id));
  }

  const std::shared_ptr<SqliteDatabase> database_;
};

}  // namespace

Result<std::unique_ptr<ModelStore>> OpenSqliteModelStore(std::shared_ptr<SqliteDatabase> database) {
  auto store = std::make_unique<SqliteModelStore>(std::move(database));
  SW_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<ModelStore>(std::move(store));
}

}  // namespace seaway
