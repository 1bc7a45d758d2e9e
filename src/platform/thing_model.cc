// Thing model documents and the telemetry check (src/platform/thing_model.h).
#include "platform/thing_model.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "platform/sqlite_database.h"
#include "storage/schema.h"

namespace seaway {
namespace {

using nlohmann::json;

std::string Key(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Item(std::string_view path, size_t i) { return fmt::format("{}[{}]", path, i); }

Status CheckKeys(const json& object, std::string_view path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgument("{}: unknown key (expected one of: {})", Key(path, key),
                             fmt::join(allowed, ", "));
    }
  }
  return Status::OK();
}

// A string member; "" when absent or null and not `required`.
Result<std::string> Text(const json& object, std::string_view path, const char* key, bool required,
                         size_t max_bytes = kMaxModelTextBytes) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return InvalidArgument("{}: is required", Key(path, key));
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument("{}: must be a string", Key(path, key));
  std::string value = it->get<std::string>();
  if (value.size() > max_bytes) {
    return InvalidArgument("{}: is {} bytes, over the limit of {}", Key(path, key), value.size(),
                           max_bytes);
  }
  return value;
}

// An array member; empty when absent or null.
Result<const json*> Array(const json& object, std::string_view path, const char* key,
                          size_t max_items) {
  static const json kEmpty = json::array();
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return &kEmpty;
  if (!it->is_array()) return InvalidArgument("{}: must be an array", Key(path, key));
  if (it->size() > max_items) {
    return InvalidArgument("{}: has {} items, over the limit of {}", Key(path, key), it->size(),
                           max_items);
  }
  return &*it;
}

Status CheckMemberName(std::string_view path, std::string_view name) {
  if (Status s = ValidateName(name, "a"); !s.ok()) {
    return InvalidArgument("{}: {}", Key(path, "name"), s.message());
  }
  if (name == "time" || name == "device") {
    return InvalidArgument("{}: '{}' is reserved (the time column, the device tag)",
                           Key(path, "name"), name);
  }
  return Status::OK();
}

Result<ValueType> ParseType(const json& object, std::string_view path) {
  SW_ASSIGN_OR_RETURN(std::string type, Text(object, path, "type", /*required=*/true));
  for (ValueType t :
       {ValueType::kFloat, ValueType::kInteger, ValueType::kBoolean, ValueType::kString}) {
    if (type == ValueTypeName(t)) return t;
  }
  return InvalidArgument("{}: must be one of float, integer, boolean, string, got '{}'",
                         Key(path, "type"), type);
}

Result<std::optional<double>> Bound(const json& object, std::string_view path, const char* key,
                                    ValueType type) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return InvalidArgument("{}: must be a number", Key(path, key));
  if (type != ValueType::kFloat && type != ValueType::kInteger) {
    return InvalidArgument("{}: only float and integer values have a range", Key(path, key));
  }
  const double v = it->get<double>();
  if (!std::isfinite(v)) return InvalidArgument("{}: must be a finite number", Key(path, key));
  if (type == ValueType::kInteger && v != std::trunc(v)) {
    return InvalidArgument("{}: must be a whole number for an integer", Key(path, key));
  }
  return std::optional<double>(v);
}

// The members a parameter and a property share.
Status ParseParameterInto(const json& object, std::string_view path, ThingParameter* out) {
  SW_ASSIGN_OR_RETURN(out->name, Text(object, path, "name", /*required=*/true, kMaxNameBytes));
  SW_RETURN_IF_ERROR(CheckMemberName(path, out->name));
  SW_ASSIGN_OR_RETURN(out->type, ParseType(object, path));
  SW_ASSIGN_OR_RETURN(out->unit, Text(object, path, "unit", /*required=*/false));
  SW_ASSIGN_OR_RETURN(out->min, Bound(object, path, "min", out->type));
  SW_ASSIGN_OR_RETURN(out->max, Bound(object, path, "max", out->type));
  if (out->min && out->max && *out->min > *out->max) {
    return InvalidArgument("{}: {} is below min {}", Key(path, "max"), *out->max, *out->min);
  }
  SW_ASSIGN_OR_RETURN(out->description, Text(object, path, "description", /*required=*/false));
  return Status::OK();
}

Status CheckUnique(std::set<std::string>* seen, const std::string& name, std::string_view path) {
  if (!seen->insert(name).second) {
    return InvalidArgument("{}: '{}' is declared twice", Key(path, "name"), name);
  }
  return Status::OK();
}

Result<std::vector<ThingParameter>> ParseParameters(const json& object, std::string_view path,
                                                    const char* key) {
  SW_ASSIGN_OR_RETURN(const json* items, Array(object, path, key, kMaxModelParameters));
  const std::string list = Key(path, key);
  std::vector<ThingParameter> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = Item(list, i);
    if (!item.is_object()) return InvalidArgument("{}: must be an object", at);
    SW_RETURN_IF_ERROR(CheckKeys(item, at, {"name", "type", "unit", "min", "max", "description"}));
    ThingParameter p;
    SW_RETURN_IF_ERROR(ParseParameterInto(item, at, &p));
    SW_RETURN_IF_ERROR(CheckUnique(&seen, p.name, at));
    out.push_back(std::move(p));
  }
  return out;
}

Status ParseProperties(const json& doc, ThingModel* model) {
  SW_ASSIGN_OR_RETURN(const json* items, Array(doc, "", "properties", kMaxModelProperties));
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = Item("properties", i);
    if (!item.is_object()) return InvalidArgument("{}: must be an object", at);
    SW_RETURN_IF_ERROR(
        CheckKeys(item, at, {"name", "type", "unit", "min", "max", "access", "description"}));
    ThingProperty p;
    SW_RETURN_IF_ERROR(ParseParameterInto(item, at, &p));
    SW_RETURN_IF_ERROR(CheckUnique(&seen, p.name, at));
    SW_ASSIGN_OR_RETURN(std::string access, Text(item, at, "access", /*required=*/true));
    if (access == PropertyAccessName(PropertyAccess::kReadOnly)) {
      p.access = PropertyAccess::kReadOnly;
    } else if (access == PropertyAccessName(PropertyAccess::kReadWrite)) {
      p.access = PropertyAccess::kReadWrite;
    } else {
      return InvalidArgument("{}: must be read-only or read-write, got '{}'", Key(at, "access"),
                             access);
    }
    model->properties.push_back(std::move(p));
  }
  return Status::OK();
}

Status ParseEvents(const json& doc, ThingModel* model) {
  SW_ASSIGN_OR_RETURN(const json* items, Array(doc, "", "events", kMaxModelEvents));
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = Item("events", i);
    if (!item.is_object()) return InvalidArgument("{}: must be an object", at);
    SW_RETURN_IF_ERROR(CheckKeys(item, at, {"name", "level", "fields", "description"}));
    ThingEvent e;
    SW_ASSIGN_OR_RETURN(e.name, Text(item, at, "name", /*required=*/true, kMaxNameBytes));
    SW_RETURN_IF_ERROR(CheckMemberName(at, e.name));
    SW_RETURN_IF_ERROR(CheckUnique(&seen, e.name, at));
    SW_ASSIGN_OR_RETURN(std::string level, Text(item, at, "level", /*required=*/true));
    if (level == "info") {
      e.level = EventLevel::kInfo;
    } else if (level == "alert") {
      e.level = EventLevel::kAlert;
    } else if (level == "fault") {
      e.level = EventLevel::kFault;
    } else {
      return InvalidArgument("{}: must be info, alert or fault, got '{}'", Key(at, "level"), level);
    }
    SW_ASSIGN_OR_RETURN(e.fields, ParseParameters(item, at, "fields"));
    SW_ASSIGN_OR_RETURN(e.description, Text(item, at, "description", /*required=*/false));
    model->events.push_back(std::move(e));
  }
  return Status::OK();
}

Status ParseCommands(const json& doc, ThingModel* model) {
  SW_ASSIGN_OR_RETURN(const json* items, Array(doc, "", "commands", kMaxModelCommands));
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const std::string at = Item("commands", i);
    if (!item.is_object()) return InvalidArgument("{}: must be an object", at);
    SW_RETURN_IF_ERROR(CheckKeys(item, at, {"name", "input", "output", "description"}));
    ThingCommand c;
    SW_ASSIGN_OR_RETURN(c.name, Text(item, at, "name", /*required=*/true, kMaxNameBytes));
    SW_RETURN_IF_ERROR(CheckMemberName(at, c.name));
    SW_RETURN_IF_ERROR(CheckUnique(&seen, c.name, at));
    SW_ASSIGN_OR_RETURN(c.input, ParseParameters(item, at, "input"));
    SW_ASSIGN_OR_RETURN(c.output, ParseParameters(item, at, "output"));
    SW_ASSIGN_OR_RETURN(c.description, Text(item, at, "description", /*required=*/false));
    model->commands.push_back(std::move(c));
  }
  return Status::OK();
}

Status CheckTable(std::string_view table) {
  if (table.empty() || table.size() > 64) {
    return InvalidArgument("table: must be 1 to 64 bytes, got {}", table.size());
  }
  for (char c : table) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return InvalidArgument("table: '{}': only letters, digits and '_'", table);
  }
  return Status::OK();
}

json ParameterJson(const ThingParameter& p) {
  json out{{"name", p.name}, {"type", std::string(ValueTypeName(p.type))}};
  if (!p.unit.empty()) out["unit"] = p.unit;
  if (p.min) out["min"] = *p.min;
  if (p.max) out["max"] = *p.max;
  if (!p.description.empty()) out["description"] = p.description;
  return out;
}

json ParametersJson(const std::vector<ThingParameter>& list) {
  json out = json::array();
  for (const ThingParameter& p : list) out.push_back(ParameterJson(p));
  return out;
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat: return "float";
    case ValueType::kInteger: return "integer";
    case ValueType::kBoolean: return "boolean";
    case ValueType::kString: return "string";
  }
  return "";
}

std::string_view PropertyAccessName(PropertyAccess access) {
  switch (access) {
    case PropertyAccess::kReadOnly: return "read-only";
    case PropertyAccess::kReadWrite: return "read-write";
  }
  return "";
}

std::string_view EventLevelName(EventLevel level) {
  switch (level) {
    case EventLevel::kInfo: return "info";
    case EventLevel::kAlert: return "alert";
    case EventLevel::kFault: return "fault";
  }
  return "";
}

const ThingProperty* ThingModel::FindProperty(std::string_view name) const {
  if (property_index.size() == properties.size()) {
    auto it =
        std::lower_bound(property_index.begin(), property_index.end(), name,
                         [this](uint32_t i, std::string_view n) { return properties[i].name < n; });
    if (it != property_index.end() && properties[*it].name == name) return &properties[*it];
    return nullptr;
  }
  for (const ThingProperty& p : properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string DefaultModelTable(std::string_view model_name) {
  std::string out(model_name);
  for (char& c : out) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!keep) c = '_';
  }
  return out;
}

Result<ThingModel> ParseThingModel(std::string_view json_text) {
  if (json_text.size() > kMaxModelDocumentBytes) {
    return InvalidArgument("a model document is at most {} bytes, got {}", kMaxModelDocumentBytes,
                           json_text.size());
  }
  const json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("a model document must be valid JSON");
  if (!doc.is_object()) return InvalidArgument("a model document must be a JSON object");
  SW_RETURN_IF_ERROR(CheckKeys(
      doc, "", {"name", "version", "description", "table", "properties", "events", "commands"}));
  ThingModel model;
  SW_ASSIGN_OR_RETURN(model.name, Text(doc, "", "name", /*required=*/true, 64));
  if (Status s = ValidateObjectName("model", model.name); !s.ok()) {
    return InvalidArgument("name: {}", s.message());
  }
  SW_ASSIGN_OR_RETURN(model.version, Text(doc, "", "version", /*required=*/false, 64));
  SW_ASSIGN_OR_RETURN(model.description, Text(doc, "", "description", /*required=*/false));
  SW_ASSIGN_OR_RETURN(model.table, Text(doc, "", "table", /*required=*/false, 64));
  if (model.table.empty()) model.table = DefaultModelTable(model.name);
  SW_RETURN_IF_ERROR(CheckTable(model.table));
  if (model.table == "telemetry") {
    // A model's table takes only its rows; devices without a model write there freely.
    return InvalidArgument("table: 'telemetry' holds the telemetry of devices without a model");
  }
  SW_RETURN_IF_ERROR(ParseProperties(doc, &model));
  SW_RETURN_IF_ERROR(ParseEvents(doc, &model));
  SW_RETURN_IF_ERROR(ParseCommands(doc, &model));
  model.property_index.resize(model.properties.size());
  for (uint32_t i = 0; i < model.property_index.size(); ++i) model.property_index[i] = i;
  std::sort(model.property_index.begin(), model.property_index.end(),
            [&model](uint32_t a, uint32_t b) {
              return model.properties[a].name < model.properties[b].name;
            });
  return model;
}

std::string ThingModelToJson(const ThingModel& model) {
  json out{{"name", model.name}, {"table", model.table}};
  if (!model.version.empty()) out["version"] = model.version;
  if (!model.description.empty()) out["description"] = model.description;
  json properties = json::array();
  for (const ThingProperty& p : model.properties) {
    json item = ParameterJson(p);
    item["access"] = std::string(PropertyAccessName(p.access));
    properties.push_back(std::move(item));
  }
  out["properties"] = std::move(properties);
  json events = json::array();
  for (const ThingEvent& e : model.events) {
    json item{{"name", e.name},
              {"level", std::string(EventLevelName(e.level))},
              {"fields", ParametersJson(e.fields)}};
    if (!e.description.empty()) item["description"] = e.description;
    events.push_back(std::move(item));
  }
  out["events"] = std::move(events);
  json commands = json::array();
  for (const ThingCommand& c : model.commands) {
    json item{
        {"name", c.name}, {"input", ParametersJson(c.input)}, {"output", ParametersJson(c.output)}};
    if (!c.description.empty()) item["description"] = c.description;
    commands.push_back(std::move(item));
  }
  out["commands"] = std::move(commands);
  return out.dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

namespace {

// A value of a numeric property against its range.
Status CheckRange(const ThingModel& model, const ThingProperty& p, double v) {
  if (p.min && v < *p.min) {
    return InvalidArgument("field '{}' = {} is below the model's min {} (model '{}')", p.name, v,
                           *p.min, model.name);
  }
  if (p.max && v > *p.max) {
    return InvalidArgument("field '{}' = {} is above the model's max {} (model '{}')", p.name, v,
                           *p.max, model.name);
  }
  return Status::OK();
}

Status CheckColumn(const ThingModel& model, const ThingProperty& p, const FieldColumn& column) {
  const auto wrong_type = [&] {
    return InvalidArgument("field '{}' is {}, the model's property is {} (model '{}')", p.name,
                           FieldTypeName(column.type), ValueTypeName(p.type), model.name);
  };
  switch (p.type) {
    case ValueType::kBoolean: return column.type == FieldType::kBool ? Status::OK() : wrong_type();
    case ValueType::kString: return column.type == FieldType::kString ? Status::OK() : wrong_type();
    case ValueType::kFloat:
    case ValueType::kInteger: break;
  }
  const bool integer = p.type == ValueType::kInteger;
  for (size_t row = 0; row < column.present.size(); ++row) {
    if (!column.present[row]) continue;
    const uint64_t bits = column.bits[row];
    double v;
    switch (column.type) {
      case FieldType::kDouble:
        v = std::bit_cast<double>(bits);
        if (integer && v != std::trunc(v)) {
          return InvalidArgument(
              "field '{}' = {} is not a whole number, the model's property is "
              "integer (model '{}')",
              p.name, v, model.name);
        }
        break;
      case FieldType::kInt64: v = static_cast<double>(static_cast<int64_t>(bits)); break;
      case FieldType::kUInt64: v = static_cast<double>(bits); break;
      default: return wrong_type();
    }
    SW_RETURN_IF_ERROR(CheckRange(model, p, v));
  }
  return Status::OK();
}

}  // namespace

Status ValidateTelemetry(const ThingModel& model, const WriteBatch& rows) {
  for (const FieldColumn& column : rows.fields()) {
    const ThingProperty* p = model.FindProperty(column.name);
    if (p == nullptr) {
      return InvalidArgument("field '{}' is not a property of model '{}'", column.name, model.name);
    }
    SW_RETURN_IF_ERROR(CheckColumn(model, *p, column));
  }
  return Status::OK();
}

Status ValidateCommand(const ThingModel& model, std::string_view method,
                       std::string_view params_json) {
  const ThingCommand* command = nullptr;
  std::string names;
  for (const ThingCommand& c : model.commands) {
    if (c.name == method) command = &c;
    names += names.empty() ? c.name : ", " + c.name;
  }
  if (command == nullptr) {
    return InvalidArgument("'{}' is not a command of model '{}' (its commands: {})", method,
                           model.name, names.empty() ? "none" : names);
  }
  const json params = json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (!params.is_object()) {
    return InvalidArgument("command '{}': 'params' must be a JSON object", method);
  }
  for (const auto& item : params.items()) {
    const std::string& key = item.key();  // not a structured binding: the lambda captures it
    const json& value = item.value();
    const auto it = std::find_if(command->input.begin(), command->input.end(),
                                 [&](const ThingParameter& p) { return p.name == key; });
    if (it == command->input.end()) {
      return InvalidArgument("command '{}': '{}' is not an input parameter (model '{}')", method,
                             key, model.name);
    }
    const ThingParameter& p = *it;
    bool typed = false;
    switch (p.type) {
      case ValueType::kBoolean: typed = value.is_boolean(); break;
      case ValueType::kString: typed = value.is_string(); break;
      case ValueType::kFloat: typed = value.is_number(); break;
      case ValueType::kInteger:
        typed = value.is_number_integer() ||
                (value.is_number_float() && value.get<double>() == std::trunc(value.get<double>()));
        break;
    }
    if (!typed) {
      return InvalidArgument("command '{}': parameter '{}' = {} is not {} (model '{}')", method,
                             key, value.dump(), ValueTypeName(p.type), model.name);
    }
    if (value.is_number()) {
      const double v = value.get<double>();
      if ((p.min && v < *p.min) || (p.max && v > *p.max)) {
        const bool below = p.min && v < *p.min;
        return InvalidArgument(
            "command '{}': parameter '{}' = {} is {} the model's {} {} (model "
            "'{}')",
            method, key, value.dump(), below ? "below" : "above", below ? "min" : "max",
            below ? *p.min : *p.max, model.name);
      }
    }
  }
  for (const ThingParameter& p : command->input) {
    if (!params.contains(p.name)) {
      return InvalidArgument("command '{}' needs input parameter '{}' (model '{}')", method, p.name,
                             model.name);
    }
  }
  return Status::OK();
}

Status ValidateModelTables(const TableModels& models, const std::vector<WriteBatch>& batches) {
  for (const WriteBatch& batch : batches) {
    if (batch.database() != "main") continue;
    auto it = models.find(batch.table());
    if (it == models.end()) continue;
    Status first;
    for (const std::shared_ptr<const ThingModel>& model : it->second) {
      Status s = ValidateTelemetry(*model, batch);
      if (s.ok()) {
        first = Status::OK();
        break;
      }
      if (first.ok()) first = s;
    }
    if (!first.ok()) return InvalidArgument("table '{}': {}", batch.table(), first.message());
  }
  return Status::OK();
}

}  // namespace seaway
