// Device twins in SQLite (src/platform/twin_store.h).
#include <functional>

#include "common/clock.h"
#include "platform/sqlite_statement.h"
#include "platform/twin_store.h"

namespace seaway {
namespace {

using nlohmann::json;

constexpr size_t kMaxPartBytes = 32 * 1024;

json ParseObjectOrEmpty(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

// Applies `patch` to `*target`; true when it changed.
Result<bool> Apply(const json& patch, std::string_view part, json* target) {
  if (patch.is_null()) return false;
  if (!patch.is_object()) return InvalidArgument("'{}' must be a JSON object", part);
  for (const auto& [key, value] : patch.items()) {
    if (key.starts_with("$")) {
      return InvalidArgument("'{}.{}': members starting with '$' are reserved", part, key);
    }
  }
  json next = *target;
  next.merge_patch(patch);
  if (next.dump().size() > kMaxPartBytes) {
    return InvalidArgument("'{}' would exceed {} bytes of JSON", part, kMaxPartBytes);
  }
  const bool changed = next != *target;
  *target = std::move(next);
  return changed;
}

class SqliteTwinStore final : public TwinStore {
 public:
  explicit SqliteTwinStore(std::shared_ptr<SqliteDatabase> database)
      : database_(std::move(database)), db_(database_->db()) {}

  Status Init() {
    std::lock_guard lock(database_->mu());
    return database_->Exec(
        "CREATE TABLE IF NOT EXISTS device_twins("
        "  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
        "  tags TEXT NOT NULL DEFAULT '{}', desired TEXT NOT NULL DEFAULT '{}',"
        "  desired_version INTEGER NOT NULL DEFAULT 0, reported TEXT NOT NULL DEFAULT '{}',"
        "  reported_version INTEGER NOT NULL DEFAULT 0, updated_ns INTEGER NOT NULL DEFAULT 0);");
  }

  Result<DeviceTwin> GetTwin(TenantId tenant, DeviceId device) override {
    std::lock_guard lock(database_->mu());
    SW_ASSIGN_OR_RETURN(
        std::vector<DeviceTwin> twins,
        Twins(tenant, "d.id = ?2", [&](sqlite3_stmt* st) { BindId(st, 2, device.value()); }));
    if (twins.empty()) return NotFound("device {} does not exist", device);
    return std::move(twins[0]);
  }

  Result<std::vector<DeviceTwin>> ListTwins(TenantId tenant) override {
    std::lock_guard lock(database_->mu());
    return Twins(tenant, "1", [](sqlite3_stmt*) {});
  }

  Result<DeviceTwin> PatchDesired(TenantId tenant, DeviceId device, const json& desired,
                                  const json& tags) override {
    std::lock_guard lock(database_->mu());
    SW_ASSIGN_OR_RETURN(
        std::vector<DeviceTwin> twins,
        Twins(tenant, "d.id = ?2", [&](sqlite3_stmt* st) { BindId(st, 2, device.value()); }));
    if (twins.empty()) return NotFound("device {} does not exist", device);
    DeviceTwin twin = std::move(twins[0]);
    SW_ASSIGN_OR_RETURN(const bool desired_changed, Apply(desired, "desired", &twin.desired));
    SW_ASSIGN_OR_RETURN(const bool tags_changed, Apply(tags, "tags", &twin.tags));
    if (!desired_changed && !tags_changed) return twin;
    if (desired_changed) ++twin.desired_version;
    SW_RETURN_IF_ERROR(Save(&twin));
    return twin;
  }

  Result<DeviceTwin> PatchReported(TenantId tenant, std::string_view device,
                                   const json& reported) override {
    std::lock_guard lock(database_->mu());
    SW_ASSIGN_OR_RETURN(
        std::vector<DeviceTwin> twins,
        Twins(tenant, "d.name = ?2", [&](sqlite3_stmt* st) { BindText(st, 2, device); }));
    if (twins.empty()) return NotFound("device '{}' does not exist", device);
    DeviceTwin twin = std::move(twins[0]);
    SW_ASSIGN_OR_RETURN(const bool changed, Apply(reported, "reported", &twin.reported));
    if (!changed) return twin;
    ++twin.reported_version;
    SW_RETURN_IF_ERROR(Save(&twin));
    return twin;
  }

 private:
  // The twins of the tenant's devices matching `where` (parameters from ?2, bound by `bind`).
  // REQUIRES: the database's mutex held.
  Result<std::vector<DeviceTwin>> Twins(TenantId tenant, const char* where,
                                        const std::function<void(sqlite3_stmt*)>& bind) {
    SqliteStatement st(
        db_, fmt::format("SELECT d.id, d.name, t.tags, t.desired, t.desired_version, t.reported, "
                         "t.reported_version, t.updated_ns FROM devices d "
                         "LEFT JOIN device_twins t ON t.device_id = d.id "
                         "WHERE d.tenant_id = ?1 AND {} ORDER BY d.id",
                         where)
                 .c_str());
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, tenant.value());
    bind(st.get());
    std::vector<DeviceTwin> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      DeviceTwin t;
      t.device = DeviceId(static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0)));
      t.device_name = std::string(ColumnText(st.get(), 1));
      t.tags = ParseObjectOrEmpty(ColumnText(st.get(), 2));
      t.desired = ParseObjectOrEmpty(ColumnText(st.get(), 3));
      t.desired_version = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 4));
      t.reported = ParseObjectOrEmpty(ColumnText(st.get(), 5));
      t.reported_version = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 6));
      t.updated_ns = sqlite3_column_int64(st.get(), 7);
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return database_->Error("read twins");
    return out;
  }

  // REQUIRES: the database's mutex held.
  Status Save(DeviceTwin* twin) {
    twin->updated_ns = Clock::Real()->Now().nanos();
    SqliteStatement st(db_,
                       "INSERT OR REPLACE INTO device_twins(device_id, tags, desired, "
                       "desired_version, reported, reported_version, updated_ns) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.ok()) return database_->Error("prepare");
    BindId(st.get(), 1, twin->device.value());
    BindText(st.get(), 2, twin->tags.dump());
    BindText(st.get(), 3, twin->desired.dump());
    sqlite3_bind_int64(st.get(), 4, static_cast<sqlite3_int64>(twin->desired_version));
    BindText(st.get(), 5, twin->reported.dump());
    sqlite3_bind_int64(st.get(), 6, static_cast<sqlite3_int64>(twin->reported_version));
    sqlite3_bind_int64(st.get(), 7, twin->updated_ns);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return database_->Error("save twin");
    return Status::OK();
  }

  const std::shared_ptr<SqliteDatabase> database_;
  sqlite3* const db_;
};

}  // namespace

json TwinDelta(const DeviceTwin& twin) {
  json delta = json::object();
  for (const auto& [key, value] : twin.desired.items()) {
    auto it = twin.reported.find(key);
    if (it == twin.reported.end() || *it != value) delta[key] = value;
  }
  return delta;
}

json TwinJson(const DeviceTwin& twin) {
  return json{{"device", twin.device.value()},
              {"name", twin.device_name},
              {"tags", twin.tags},
              {"desired", twin.desired},
              {"desired_version", twin.desired_version},
              {"reported", twin.reported},
              {"reported_version", twin.reported_version},
              {"delta", TwinDelta(twin)}};
}

Result<std::unique_ptr<TwinStore>> OpenSqliteTwinStore(std::shared_ptr<SqliteDatabase> database) {
  const std::string path = database->path();
  auto store = std::make_unique<SqliteTwinStore>(std::move(database));
  SW_RETURN_IF_ERROR(store->Init().WithContext(path));
  return std::unique_ptr<TwinStore>(std::move(store));
}

}  // namespace seaway
