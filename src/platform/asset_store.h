// AssetStore: the tenant's assets (src/platform), a hierarchy of places and equipment (site ->
// line -> machine; store -> freezer; district -> meter) with devices attached, part of issue
// #7's object model. The first implementation keeps them in SQLite next to the MetadataStore's
// tables (one SqliteDatabase: an asset's devices and customer are foreign keys into them); the
// interface lets a PostgreSQL backend follow.
//
// Invariants:
//  1. Every asset belongs to one tenant; its parent, its customer and its devices are that
//     tenant's. Every operation takes the TenantId, and an id of another tenant answers exactly
//     as a missing one does (NotFound "asset N does not exist").
//  2. The assets form a forest: an asset is never its own ancestor (a move that would make it
//     so is refused).
//  3. Names are unique among the children of one parent (and among the tenant's top-level
//     assets).
//  4. A device sits in at most one asset; deleting the device or the asset detaches it.
//
// Customer visibility is not applied here: callers filter by `AssetInfo::customer` (an asset
// is visible to a customer role when it is assigned to a customer of that role's subtree;
// assignment is per asset, not inherited from the parent).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "platform/metadata_store.h"
#include "platform/sqlite_database.h"

namespace seaway {

// Limits on an asset's fields.
inline constexpr size_t kMaxAssetTypeBytes = 64;
inline constexpr size_t kMaxAssetAttributesBytes = 16 * 1024;

struct AssetInfo {
  AssetId id;
  std::optional<AssetId> parent;       // none: a top-level asset of the tenant
  std::optional<CustomerId> customer;  // the customer it is assigned to, if any
  std::string name;                    // as devices' names (ValidateObjectName)
  std::string type;                    // free text: "site", "line", "freezer", ...
  std::string attributes;              // a JSON object, compact ("{}" when none)
  int64_t created_ns = 0;
};

struct NewAsset {
  std::string name;
  std::string type;  // 1..64 bytes, no control characters
  std::optional<AssetId> parent;
  std::optional<CustomerId> customer;
  std::string attributes = "{}";  // a JSON object of at most 16 KiB
};

// What UpdateAsset changes: each field that is set.
struct AssetUpdate {
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::optional<std::string> attributes;
  // Set: move under this parent (nullopt inside: to the top level).
  std::optional<std::optional<AssetId>> parent;
  // Set: assign to this customer (nullopt inside: unassign).
  std::optional<std::optional<CustomerId>> customer;
};

// ListAssets' filters; every one that is set must match.
struct AssetFilter {
  std::optional<AssetId> parent;  // the children of this asset
  bool top_level = false;         // only assets without a parent (REQUIRES: parent unset)
  std::optional<std::string> type;
  std::optional<CustomerId> customer;
};

// A device attached to an asset.
struct AssetDevice {
  AssetId asset;
  DeviceInfo device;
};

class AssetStore {
 public:
  virtual ~AssetStore() = default;

  // Creates an asset. InvalidArgument naming the field for a bad name, type or attributes;
  // NotFound for a parent or customer that is not the tenant's; AlreadyExists when the parent
  // (or the top level) has an asset of that name.
  virtual Result<AssetId> CreateAsset(TenantId tenant, const NewAsset& asset) = 0;

  // NotFound when the tenant has no such asset.
  virtual Result<AssetInfo> GetAsset(TenantId tenant, AssetId id) = 0;

  // The tenant's assets matching `filter`, by id. A parent that is not the tenant's gives an
  // empty list.
  virtual Result<std::vector<AssetInfo>> ListAssets(TenantId tenant, const AssetFilter& filter) = 0;

  // Applies `update` as one change (all of it or nothing). Errors as CreateAsset's, and
  // InvalidArgument when the new parent is the asset itself or one of its descendants.
  virtual Status UpdateAsset(TenantId tenant, AssetId id, const AssetUpdate& update) = 0;

  // Deletes an asset; its devices are detached (the devices remain). FailedPrecondition naming
  // the count when it has child assets, unless `recursive`: then its whole subtree goes.
  virtual Status DeleteAsset(TenantId tenant, AssetId id, bool recursive) = 0;

  // Attaches a device of the tenant to an asset. Attaching it again to the same asset is OK;
  // FailedPrecondition naming the other asset when it sits in another one (detach it first).
  // NotFound for an asset or device that is not the tenant's.
  virtual Status AttachDevice(TenantId tenant, AssetId asset, DeviceId device) = 0;
  // NotFound when the asset is not the tenant's or the device is not attached to it.
  virtual Status DetachDevice(TenantId tenant, AssetId asset, DeviceId device) = 0;

  // The devices attached to `asset` (with `recursive`, to it or any asset below it), by device
  // id. NotFound when the tenant has no such asset.
  virtual Result<std::vector<AssetDevice>> ListAssetDevices(TenantId tenant, AssetId asset,
                                                            bool recursive) = 0;

  // `root` and every asset below it, parents before their children (breadth first, by id
  // within a level). NotFound when the tenant has no such asset.
  virtual Result<std::vector<AssetInfo>> Subtree(TenantId tenant, AssetId root) = 0;
};

// The SQLite store in `database` (creating its tables when absent). The MetadataStore must
// have been opened on `database` first: the asset tables refer to its tenants, customers and
// devices.
Result<std::unique_ptr<AssetStore>> OpenSqliteAssetStore(std::shared_ptr<SqliteDatabase> database);

}  // namespace seaway
