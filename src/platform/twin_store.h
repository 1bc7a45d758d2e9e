// TwinStore: device twins (src/platform), part of issue #7's object model. A twin is a
// device's state as JSON objects: `tags` (set by people: location, firmware channel...),
// `desired` (what the device should be: set over HTTP, pushed to the device over MQTT) and
// `reported` (what the device says it is: published by the device over MQTT). Each of desired
// and reported has a version that grows by one with every change. The delta is what the device
// still has to apply: the members of desired whose value differs from reported's.
//
// Changes are JSON merge patches (RFC 7396): a member set to null is removed. Members whose
// names start with '$' are reserved ($version in the documents sent to devices). Each of the
// three objects holds at most 32 KiB of JSON.
//
// Kept in SQLite next to the devices (one SqliteDatabase: a twin goes with its device, ON
// DELETE CASCADE). Every operation takes the TenantId; another tenant's device is NotFound, as
// a missing one.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/strong_id.h"
#include "platform/sqlite_database.h"

namespace seaway {

struct DeviceTwin {
  DeviceId device;
  std::string device_name;
  nlohmann::json tags = nlohmann::json::object();
  nlohmann::json desired = nlohmann::json::object();
  nlohmann::json reported = nlohmann::json::object();
  uint64_t desired_version = 0;
  uint64_t reported_version = 0;
  int64_t updated_ns = 0;  // 0: never changed
};

// The members of `twin.desired` whose value is not the same in `twin.reported`.
nlohmann::json TwinDelta(const DeviceTwin& twin);

// {"device", "tags", "desired", "reported", "delta", "desired_version", "reported_version"}.
nlohmann::json TwinJson(const DeviceTwin& twin);

class TwinStore {
 public:
  virtual ~TwinStore() = default;

  // The twin of a device of the tenant (empty objects and versions 0 when it never changed).
  virtual Result<DeviceTwin> GetTwin(TenantId tenant, DeviceId device) = 0;
  // The twins of every device of the tenant, by device id.
  virtual Result<std::vector<DeviceTwin>> ListTwins(TenantId tenant) = 0;
  // Applies merge patches to desired and tags (null or an empty object: unchanged); the desired
  // version grows when desired changed. InvalidArgument naming the part for a patch that is not
  // an object, a reserved '$' member, or a result over 32 KiB.
  virtual Result<DeviceTwin> PatchDesired(TenantId tenant, DeviceId device,
                                          const nlohmann::json& desired,
                                          const nlohmann::json& tags) = 0;
  // Applies a merge patch to reported, for the device of that name (its MQTT topics name it).
  virtual Result<DeviceTwin> PatchReported(TenantId tenant, std::string_view device,
                                           const nlohmann::json& reported) = 0;
};

// The SQLite store in `database` (creating its table).
Result<std::unique_ptr<TwinStore>> OpenSqliteTwinStore(std::shared_ptr<SqliteDatabase> database);

}  // namespace seaway
