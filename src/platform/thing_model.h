// Thing models (src/platform): what a kind of device reports, raises and accepts — typed
// properties, events and commands — as a JSON document (docs/models.md), and the check of a
// device's telemetry against its model.
//
//   {"name": "cnc-mill", "version": "2", "table": "cnc_mill",
//    "properties": [{"name": "temperature", "type": "float", "unit": "°C",
//                    "min": -20, "max": 150, "access": "read-only"}],
//    "events": [{"name": "overheat", "level": "alert",
//                "fields": [{"name": "temperature", "type": "float"}]}],
//    "commands": [{"name": "set_speed", "input": [{"name": "rpm", "type": "integer"}],
//                  "output": []}]}
//
// Socket-free and store-free: a fuzzer drives ParseThingModel alone (tests/fuzz/thing_model).
//
// Thread-compatible values; the functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "storage/write_batch.h"

namespace seaway {

// Limits of a model document; errors name them.
inline constexpr size_t kMaxModelDocumentBytes = 64 * 1024;
inline constexpr size_t kMaxModelProperties = 1000;
inline constexpr size_t kMaxModelEvents = 1000;
inline constexpr size_t kMaxModelCommands = 1000;
inline constexpr size_t kMaxModelParameters = 256;  // an event's fields, a command's input/output
inline constexpr size_t kMaxModelTextBytes = 1024;  // a description, a unit, a version

enum class ValueType : uint8_t { kFloat, kInteger, kBoolean, kString };
enum class PropertyAccess : uint8_t { kReadOnly, kReadWrite };
enum class EventLevel : uint8_t { kInfo, kAlert, kFault };

// "float", "integer", "boolean", "string"; "read-only", "read-write"; "info", "alert", "fault".
std::string_view ValueTypeName(ValueType type);
std::string_view PropertyAccessName(PropertyAccess access);
std::string_view EventLevelName(EventLevel level);

// A typed value: a property, an event's field, a command's input or output parameter.
struct ThingParameter {
  std::string name;  // a storage field name (storage/schema.h), not "time" or "device"
  ValueType type = ValueType::kFloat;
  std::string unit;                // "" when none
  std::optional<double> min, max;  // float and integer only; min <= max
  std::string description;

  bool operator==(const ThingParameter&) const = default;
};

struct ThingProperty : ThingParameter {
  PropertyAccess access = PropertyAccess::kReadOnly;

  bool operator==(const ThingProperty&) const = default;
};

struct ThingEvent {
  std::string name;
  EventLevel level = EventLevel::kInfo;
  std::vector<ThingParameter> fields;
  std::string description;

  bool operator==(const ThingEvent&) const = default;
};

struct ThingCommand {
  std::string name;
  std::vector<ThingParameter> input;
  std::vector<ThingParameter> output;
  std::string description;

  bool operator==(const ThingCommand&) const = default;
};

struct ThingModel {
  std::string name;  // as devices' names (platform/sqlite_database.h ValidateObjectName)
  std::string version;
  std::string description;
  std::string table;  // the storage table of its devices' telemetry (DefaultModelTable)
  std::vector<ThingProperty> properties;  // names unique, as are events', commands', a list's
  std::vector<ThingEvent> events;
  std::vector<ThingCommand> commands;

  // The property named `name`, or nullptr. Uses `property_index` when it is current (as
  // ParseThingModel leaves it), else scans.
  const ThingProperty* FindProperty(std::string_view name) const;

  // Positions in `properties`, sorted by name (not part of the document).
  std::vector<uint32_t> property_index;

  bool operator==(const ThingModel& other) const {
    return name == other.name && version == other.version && description == other.description &&
           table == other.table && properties == other.properties && events == other.events &&
           commands == other.commands;
  }
};

// The table of a model that names none: the name with every character other than a letter,
// digit or '_' replaced by '_' ("cnc-mill" -> "cnc_mill").
std::string DefaultModelTable(std::string_view model_name);

// Parses and checks a model document (at most kMaxModelDocumentBytes). InvalidArgument naming
// the JSON path of the first problem, e.g. "properties[2].min: must be a number". Unknown keys
// are refused (typos are caught). "table" defaults to DefaultModelTable(name); "access" is
// required for properties; "events", "commands", "input" and "output" default to empty.
Result<ThingModel> ParseThingModel(std::string_view json_text);

// The model as a document that ParseThingModel reads back equal (export).
std::string ThingModelToJson(const ThingModel& model);

// Checks the rows of a device's telemetry against its model: every field must be a property,
// of its type (integer values are accepted for float properties; a float property's values
// with no fraction are accepted for integer ones, as JSON has one number type), and within
// its range. InvalidArgument naming the field, the value and the limit, e.g. "field
// 'temperature' = 412.5 is above the model's max 150 (model 'cnc-mill')". Tags are not checked.
Status ValidateTelemetry(const ThingModel& model, const WriteBatch& rows);

// Checks a command sent to a device that follows `model`: `method` must be one of its commands
// and `params_json` a JSON object holding each of the command's input parameters, of its type
// and within its range, and nothing else. InvalidArgument naming the command, the parameter and
// the limit otherwise, e.g. "command 'set_speed': parameter 'rpm' = 90000 is above the model's
// max 24000 (model 'cnc-mill')".
Status ValidateCommand(const ThingModel& model, std::string_view method,
                       std::string_view params_json);

// The models of a tenant by the table they declare. A table that models declare accepts only
// rows that follow one of them, whichever front end writes them (HTTP line protocol or JSON,
// MQTT write/<database>): models name tables of database "main", where their devices'
// telemetry goes.
using TableModels = std::unordered_map<std::string, std::vector<std::shared_ptr<const ThingModel>>>;

// Checks each batch written to database "main" whose table `models` declare: its rows must
// follow one of the table's models (ValidateTelemetry); InvalidArgument "table '<t>': <the
// first model's complaint>" otherwise. Other batches pass.
Status ValidateModelTables(const TableModels& models, const std::vector<WriteBatch>& batches);

}  // namespace seaway
