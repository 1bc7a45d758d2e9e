// AssetStore over SQLite (src/platform/asset_store.h), in the metadata database next to the
// MetadataStore's tables.
#include <mutex>

#include <sqlite3.h>

#include "common/clock.h"
#include "platform/asset_store.h"
#include "platform/sqlite_database.h"
#include "platform/sqlite_statement.h"

namespace seaway {
namespace {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) {
      n = 1;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Status ValidateAssetType(std::string_view type) {
  if (type.empty() || type.size() > kMaxAssetTypeBytes) {
    return InvalidArgument("asset type must be 1 to {} bytes, got {}", kMaxAssetTypeBytes,
                           type.size());
  }
  for (char c : type) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) return InvalidArgument("asset type: no control characters");
  }
  if (!IsUtf8(type)) return InvalidArgument("asset type must be UTF-8");
  return Status::OK();
}

// The columns AssetAt reads, for "SELECT <kAssetColumns> FROM assets x".
constexpr const char* kAssetColumns =
    "x.id, x.parent_id, x.customer_id, x.name, x.type, x.attributes, x.created_ns";

AssetInfo AssetAt(sqlite3_stmt* st) {
  AssetInfo a;
  a.id = AssetId(*ColumnId(st, 0));
  if (auto parent = ColumnId(st, 1)) a.parent = AssetId(*parent);
  if (auto customer = ColumnId(st, 2)) a.customer = CustomerId(*customer);
  a.name = std::string(ColumnText(st, 3));
  a.type = std::string(ColumnText(st, 4));
  a.attributes = std::string(ColumnText(st, 5));
  a.created_ns = sqlite3_column_int64(st, 6);
  return a;
}

std::string WhereName(const std::optional<AssetId>& parent) {
  return parent ? fmt::format("under asset {}", *parent) : std::string("at the top level");
}

class SqliteAssetStore final : public AssetStore {
 public:
  explicit SqliteAssetStore(std::shared_ptr<SqliteDatabase> database)
      : database_(std::move(database)), mu_(database_->mu()), db_(database_->db()) {}

  // The tables join the metadata database without touching its schema version: they are
  // created when absent. Names are unique per parent, with the top level as parent 0 (SQLite's
  // UNIQUE treats NULLs as distinct).
  Status Init() {
    std::lock_guard lock(mu_);
    Status created = database_->Exec(
        "BEGIN;"
        "CREATE TABLE IF NOT EXISTS assets("
        "  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
        "  parent_id INTEGER REFERENCES assets(id),"
        "  customer_id INTEGER REFERENCES customers(id), name TEXT NOT NULL,"
        "  type TEXT NOT NULL, attributes TEXT NOT NULL DEFAULT '{}',"
        "  created_ns INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX IF NOT EXISTS assets_by_name"
        "  ON assets(tenant_id, IFNULL(parent_id, 0), name);"
        "CREATE INDEX IF NOT EXISTS assets_by_parent ON assets(parent_id);"
        "CREATE TABLE IF NOT EXISTS asset_devices("
        "  device_id INTEGER PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,"
        "  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE);"
        "CREATE INDEX IF NOT EXISTS asset_devices_by_asset ON asset_devices(asset_id);"
        "COMMIT;");
    if (!created.ok() && !sqlite3_get_autocommit(db_)) (void)database_->Exec("ROLLBACK");
    return created;
  }

  Result<AssetId> CreateAsset(TenantId tenant, const NewAsset& asset) override {
    SW_RETURN_IF_ERROR(ValidateObjectName("asset", asset.name));
    SW_RETURN_IF_ERROR(ValidateAssetType(asset.type));
    std::lock_guard lock(mu_);
    SW_ASSIGN_OR_RETURN(const std::string attributes, CompactAttributes(asset.attributes));
    if (asset.parent) SW_RETURN_IF_ERROR(CheckAsset(tenant, *asset.parent, "parent asset"));
    if (asset.customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, *asset.customer));
    SqliteStatement st(db_,
                       "INSERT INTO assets(tenant_id, parent_id, customer_id, name, type, "
                       "attributes, created_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindOptionalId(st.get(), 2, asset.parent ? std::optional(asset.parent->value()) : std::nullopt);
    BindOptionalId(st.get(), 3,
                   asset.customer ? std::optional(asset.customer->value()) : std::nullopt);
    BindText(st.get(), 4, asset.name);
    BindText(st.get(), 5, asset.type);
    BindText(st.get(), 6, attributes);
    st.Bind(7, Clock::Real()->Now().nanos());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return NotFound("tenant {} does not exist", tenant);
      }
      return AlreadyExists("asset '{}' already exists {}", asset.name, WhereName(asset.parent));
    }
    if (rc != SQLITE_DONE) return Error("create asset");
    return AssetId(static_cast<uint64_t>(sqlite3_last_insert_rowid(db_)));
  }

  Result<AssetInfo> GetAsset(TenantId tenant, AssetId id) override {
    std::lock_guard lock(mu_);
    return Get(tenant, id, "asset");
  }

  Result<std::vector<AssetInfo>> ListAssets(TenantId tenant, const AssetFilter& filter) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(db_, fmt::format("SELECT {} FROM assets x WHERE x.tenant_id = ?1"
                                        " AND (?2 IS NULL OR x.parent_id = ?2)"
                                        " AND (?3 = 0 OR x.parent_id IS NULL)"
                                        " AND (?4 IS NULL OR x.type = ?4)"
                                        " AND (?5 IS NULL OR x.customer_id = ?5) ORDER BY x.id",
                                        kAssetColumns)
                                .c_str());
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, tenant.value());
    BindOptionalId(st.get(), 2,
                   filter.parent ? std::optional(filter.parent->value()) : std::nullopt);
    st.Bind(3, filter.top_level ? 1 : 0);
    if (filter.type) BindText(st.get(), 4, *filter.type);
    BindOptionalId(st.get(), 5,
                   filter.customer ? std::optional(filter.customer->value()) : std::nullopt);
    std::vector<AssetInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(AssetAt(st.get()));
    if (rc != SQLITE_DONE) return Error("list assets");
    return out;
  }

  Status UpdateAsset(TenantId tenant, AssetId id, const AssetUpdate& update) override {
    if (update.name) SW_RETURN_IF_ERROR(ValidateObjectName("asset", *update.name));
    if (update.type) SW_RETURN_IF_ERROR(ValidateAssetType(*update.type));
    std::lock_guard lock(mu_);
    SW_ASSIGN_OR_RETURN(AssetInfo asset, Get(tenant, id, "asset"));
    if (update.attributes) {
      SW_ASSIGN_OR_RETURN(asset.attributes, CompactAttributes(*update.attributes));
    }
    if (update.name) asset.name = *update.name;
    if (update.type) asset.type = *update.type;
    if (update.parent) {
      const std::optional<AssetId>& parent = *update.parent;
      if (parent) {
        SW_RETURN_IF_ERROR(CheckAsset(tenant, *parent, "parent asset"));
        SW_ASSIGN_OR_RETURN(const bool below, InSubtree(id, *parent));
        if (below) {
          return InvalidArgument(
              "asset {} cannot move under asset {}: it would become its own ancestor", id, *parent);
        }
      }
      asset.parent = parent;
    }
    if (update.customer) {
      if (*update.customer) SW_RETURN_IF_ERROR(CheckCustomer(tenant, **update.customer));
      asset.customer = *update.customer;
    }
    SqliteStatement st(db_,
                       "UPDATE assets SET parent_id = ?1, customer_id = ?2, name = ?3, type = ?4,"
                       " attributes = ?5 WHERE id = ?6 AND tenant_id = ?7");
    if (!st.ok()) return Error("prepare");
    BindOptionalId(st.get(), 1, asset.parent ? std::optional(asset.parent->value()) : std::nullopt);
    BindOptionalId(st.get(), 2,
                   asset.customer ? std::optional(asset.customer->value()) : std::nullopt);
    BindText(st.get(), 3, asset.name);
    BindText(st.get(), 4, asset.type);
    BindText(st.get(), 5, asset.attributes);
    BindId(st.get(), 6, id.value());
    BindId(st.get(), 7, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_CONSTRAINT) {
      return AlreadyExists("asset '{}' already exists {}", asset.name, WhereName(asset.parent));
    }
    if (rc != SQLITE_DONE) return Error("update asset");
    return Status::OK();
  }

  Status DeleteAsset(TenantId tenant, AssetId id, bool recursive) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckAsset(tenant, id, "asset"));
    if (!recursive) {
      SqliteStatement count(db_, "SELECT COUNT(*) FROM assets WHERE parent_id = ?1");
      if (!count.ok()) return Error("prepare");
      BindId(count.get(), 1, id.value());
      if (sqlite3_step(count.get()) != SQLITE_ROW) return Error("count child assets");
      const int64_t children = count.Int(0);
      if (children > 0) {
        return FailedPrecondition(
            "asset {} has {} child asset{}: delete or move them first, or delete recursively", id,
            children, children == 1 ? "" : "s");
      }
    }
    // One statement: SQLite checks the parent_id foreign key at its end, when the whole
    // subtree is gone. The devices' attachments go with their assets (ON DELETE CASCADE).
    SqliteStatement st(db_,
                       "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION "
                       "  SELECT a.id FROM assets a JOIN sub ON a.parent_id = sub.id) "
                       "DELETE FROM assets WHERE tenant_id = ?2 AND id IN sub");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("delete asset");
    return Status::OK();
  }

  Status AttachDevice(TenantId tenant, AssetId asset, DeviceId device) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckAsset(tenant, asset, "asset"));
    {
      SqliteStatement st(db_, "SELECT 1 FROM devices WHERE id = ?1 AND tenant_id = ?2");
      if (!st.ok()) return Error("prepare");
      BindId(st.get(), 1, device.value());
      BindId(st.get(), 2, tenant.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) return NotFound("device {} does not exist", device);
      if (rc != SQLITE_ROW) return Error("find device");
    }
    {
      SqliteStatement st(db_, "SELECT asset_id FROM asset_devices WHERE device_id = ?1");
      if (!st.ok()) return Error("prepare");
      BindId(st.get(), 1, device.value());
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_ROW) {
        const AssetId current(*ColumnId(st.get(), 0));
        if (current == asset) return Status::OK();
        return FailedPrecondition("device {} is attached to asset {}: detach it first", device,
                                  current);
      }
      if (rc != SQLITE_DONE) return Error("find device's asset");
    }
    SqliteStatement st(db_, "INSERT INTO asset_devices(device_id, asset_id) VALUES(?1, ?2)");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, device.value());
    BindId(st.get(), 2, asset.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("attach device");
    return Status::OK();
  }

  Status DetachDevice(TenantId tenant, AssetId asset, DeviceId device) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckAsset(tenant, asset, "asset"));
    SqliteStatement st(db_, "DELETE FROM asset_devices WHERE asset_id = ?1 AND device_id = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, asset.value());
    BindId(st.get(), 2, device.value());
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("detach device");
    if (sqlite3_changes(db_) == 0) {
      return NotFound("device {} is not attached to asset {}", device, asset);
    }
    return Status::OK();
  }

  Result<std::vector<AssetDevice>> ListAssetDevices(TenantId tenant, AssetId asset,
                                                    bool recursive) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(CheckAsset(tenant, asset, "asset"));
    SqliteStatement st(db_,
                       "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION "
                       "  SELECT a.id FROM assets a JOIN sub ON a.parent_id = sub.id WHERE ?2) "
                       "SELECT ad.asset_id, d.id, d.name, d.customer_id FROM asset_devices ad "
                       "JOIN sub ON ad.asset_id = sub.id JOIN devices d ON d.id = ad.device_id "
                       "WHERE d.tenant_id = ?3 ORDER BY d.id");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, asset.value());
    st.Bind(2, recursive ? 1 : 0);
    BindId(st.get(), 3, tenant.value());
    std::vector<AssetDevice> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      AssetDevice ad;
      ad.asset = AssetId(*ColumnId(st.get(), 0));
      ad.device.id = DeviceId(*ColumnId(st.get(), 1));
      ad.device.name = std::string(ColumnText(st.get(), 2));
      if (auto c = ColumnId(st.get(), 3)) ad.device.customer = CustomerId(*c);
      out.push_back(std::move(ad));
    }
    if (rc != SQLITE_DONE) return Error("list asset devices");
    return out;
  }

  Result<std::vector<AssetInfo>> Subtree(TenantId tenant, AssetId root) override {
    std::lock_guard lock(mu_);
    SqliteStatement st(
        db_, fmt::format("WITH RECURSIVE sub(id, depth) AS ("
                         "  SELECT id, 0 FROM assets WHERE id = ?1 AND tenant_id = ?2 UNION "
                         "  SELECT a.id, sub.depth + 1 FROM assets a JOIN sub"
                         "  ON a.parent_id = sub.id) "
                         "SELECT {} FROM sub JOIN assets x ON x.id = sub.id "
                         "ORDER BY sub.depth, x.id",
                         kAssetColumns)
                 .c_str());
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, root.value());
    BindId(st.get(), 2, tenant.value());
    std::vector<AssetInfo> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(AssetAt(st.get()));
    if (rc != SQLITE_DONE) return Error("asset subtree");
    if (out.empty()) return NotFound("asset {} does not exist", root);
    return out;
  }

 private:
  // REQUIRES: mu_ held (for all below).
  Status Error(std::string_view what) { return database_->Error(what); }

  // The asset, when it is the tenant's; NotFound "<what> N does not exist" otherwise.
  Result<AssetInfo> Get(TenantId tenant, AssetId id, std::string_view what) {
    SqliteStatement st(
        db_,
        fmt::format("SELECT {} FROM assets x WHERE x.id = ?1 AND x.tenant_id = ?2", kAssetColumns)
            .c_str());
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return AssetAt(st.get());
    if (rc == SQLITE_DONE) return NotFound("{} {} does not exist", what, id);
    return Error("find asset");
  }

  Status CheckAsset(TenantId tenant, AssetId id, std::string_view what) {
    return Get(tenant, id, what).status();
  }

  Status CheckCustomer(TenantId tenant, CustomerId id) {
    SqliteStatement st(db_, "SELECT 1 FROM customers WHERE id = ?1 AND tenant_id = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, id.value());
    BindId(st.get(), 2, tenant.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Status::OK();
    if (rc == SQLITE_DONE) return NotFound("asset's customer {} does not exist", id);
    return Error("find customer");
  }

  // True when `candidate` is `root` or below it.
  Result<bool> InSubtree(AssetId root, AssetId candidate) {
    SqliteStatement st(db_,
                       "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION "
                       "  SELECT a.id FROM assets a JOIN sub ON a.parent_id = sub.id) "
                       "SELECT 1 FROM sub WHERE id = ?2");
    if (!st.ok()) return Error("prepare");
    BindId(st.get(), 1, root.value());
    BindId(st.get(), 2, candidate.value());
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error("asset subtree");
  }

  // `attributes` as compact JSON text; InvalidArgument unless it is a JSON object of at most
  // kMaxAssetAttributesBytes. SQLite's JSON functions check it: no JSON library in the
  // platform layer.
  Result<std::string> CompactAttributes(std::string_view attributes) {
    if (attributes.size() > kMaxAssetAttributesBytes) {
      return InvalidArgument("asset attributes must be at most {} bytes, got {}",
                             kMaxAssetAttributesBytes, attributes.size());
    }
    SqliteStatement st(db_,
                       "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END,"
                       " CASE WHEN json_valid(?1) THEN json(?1) END");
    if (!st.ok()) return Error("prepare");
    BindText(st.get(), 1, attributes);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Error("check asset attributes");
    if (ColumnText(st.get(), 0) != "object") {
      return InvalidArgument("asset attributes must be a JSON object");
    }
    return std::string(ColumnText(st.get(), 1));
  }

  const std::shared_ptr<SqliteDatabase> database_;
  std::mutex& mu_;  // the database's
  sqlite3* const db_;
};

}  // namespace

Result<std::unique_ptr<AssetStore>> OpenSqliteAssetStore(std::shared_ptr<SqliteDatabase> database) {
  const std::string path = database->path();
  auto store = std::make_unique<SqliteAssetStore>(std::move(database));
  SW_RETURN_IF_ERROR(store->Init().WithContext(path));
  return std::unique_ptr<AssetStore>(std::move(store));
}

}  // namespace seaway
