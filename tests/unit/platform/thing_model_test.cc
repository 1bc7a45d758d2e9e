// Tests of thing model documents and the telemetry check (src/platform/thing_model.h).
#include "platform/thing_model.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace seaway {
namespace {

constexpr char kMill[] = R"({
  "name": "cnc-mill", "version": "2.1", "description": "A 3-axis mill",
  "properties": [
    {"name": "temperature", "type": "float", "unit": "°C", "min": -20, "max": 150,
     "access": "read-only", "description": "spindle"},
    {"name": "rpm", "type": "integer", "min": 0, "max": 24000, "access": "read-write"},
    {"name": "running", "type": "boolean", "access": "read-only"},
    {"name": "program", "type": "string", "access": "read-write"}
  ],
  "events": [
    {"name": "overheat", "level": "alert",
     "fields": [{"name": "temperature", "type": "float", "unit": "°C"}]},
    {"name": "door_open", "level": "info"}
  ],
  "commands": [
    {"name": "set_speed", "input": [{"name": "rpm", "type": "integer", "min": 0}],
     "output": [{"name": "ok", "type": "boolean"}], "description": "spindle speed"}
  ]
})";

ThingModel Mill() {
  auto model = ParseThingModel(kMill);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : ThingModel{};
}

TEST(ThingModelTest, ParsesAGoodDocument) {
  const ThingModel m = Mill();
  EXPECT_EQ(m.name, "cnc-mill");
  EXPECT_EQ(m.version, "2.1");
  EXPECT_EQ(m.table, "cnc_mill");  // derived from the name
  ASSERT_EQ(m.properties.size(), 4u);
  EXPECT_EQ(m.properties[0].unit, "°C");
  EXPECT_EQ(m.properties[0].min, -20);
  EXPECT_EQ(m.properties[0].max, 150);
  EXPECT_EQ(m.properties[1].type, ValueType::kInteger);
  EXPECT_EQ(m.properties[1].access, PropertyAccess::kReadWrite);
  EXPECT_FALSE(m.properties[2].min.has_value());
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events[0].level, EventLevel::kAlert);
  EXPECT_EQ(m.events[0].fields.size(), 1u);
  EXPECT_TRUE(m.events[1].fields.empty());
  ASSERT_EQ(m.commands.size(), 1u);
  EXPECT_EQ(m.commands[0].input[0].name, "rpm");
  EXPECT_EQ(m.commands[0].output[0].type, ValueType::kBoolean);
  EXPECT_EQ(m.FindProperty("running"), &m.properties[2]);
  EXPECT_EQ(m.FindProperty("nope"), nullptr);
}

TEST(ThingModelTest, MinimalDocumentAndExplicitTable) {
  auto m = ParseThingModel(R"({"name": "meter", "table": "water_meters"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->table, "water_meters");
  EXPECT_TRUE(m->properties.empty());
  EXPECT_EQ(DefaultModelTable("a.b@c-d_e"), "a_b_c_d_e");
}

TEST(ThingModelTest, ExportRoundTripsImport) {
  const ThingModel m = Mill();
  const std::string exported = ThingModelToJson(m);
  auto again = ParseThingModel(exported);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << exported;
  EXPECT_EQ(*again, m);
  EXPECT_EQ(ThingModelToJson(*again), exported);
}

// Each bad document and the start of its error: the JSON path, then the problem.
TEST(ThingModelTest, ErrorsNameTheJsonPath) {
  const std::string p0 = R"("properties": [{"name": "a", "type": "float", "access": "read-only"},)";
  const struct {
    std::string doc;
    std::string error;
  } cases[] = {
      {"", "a model document must be valid JSON"},
      {"[1]", "a model document must be a JSON object"},
      {"{}", "name: is required"},
      {R"({"name": 5})", "name: must be a string"},
      {R"({"name": "bad name"})", "name: model name 'bad name'"},
      {R"({"name": "m", "colour": "red"})", "colour: unknown key"},
      {R"({"name": "m", "table": "no-dash"})", "table: 'no-dash': only letters"},
      {R"({"name": "m", "properties": {}})", "properties: must be an array"},
      {R"({"name": "m", "properties": [7]})", "properties[0]: must be an object"},
      {R"({"name": "m", "properties": [{"type": "float", "access": "read-only"}]})",
       "properties[0].name: is required"},
      {R"({"name": "m", )" + p0 + R"({"name": "a", "type": "float", "access": "read-only"}]})",
       "properties[1].name: 'a' is declared twice"},
      {R"({"name": "m", )" + p0 +
           R"({"name": "b", "type": "float", "access": "read-only"},
              {"name": "c", "type": "float", "min": "low", "access": "read-only"}]})",
       "properties[2].min: must be a number"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "double", "access": "read-only"}]})",
       "properties[0].type: must be one of float, integer, boolean, string, got 'double'"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "float"}]})",
       "properties[0].access: is required"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "float", "access": "rw"}]})",
       "properties[0].access: must be read-only or read-write"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "float", "min": 5, "max": 1,
          "access": "read-only"}]})",
       "properties[0].max: 1 is below min 5"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "string", "max": 1,
          "access": "read-only"}]})",
       "properties[0].max: only float and integer values have a range"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "integer", "max": 1.5,
          "access": "read-only"}]})",
       "properties[0].max: must be a whole number"},
      {R"({"name": "m", "properties": [{"name": "time", "type": "float",
          "access": "read-only"}]})",
       "properties[0].name: 'time' is reserved"},
      {R"({"name": "m", "properties": [{"name": "", "type": "float", "access": "read-only"}]})",
       "properties[0].name: a name is empty"},
      {R"({"name": "m", "properties": [{"name": "a", "type": "float", "access": "read-only",
          "units": "V"}]})",
       "properties[0].units: unknown key"},
      {R"({"name": "m", "events": [{"name": "e", "level": "panic"}]})",
       "events[0].level: must be info, alert or fault"},
      {R"({"name": "m", "events": [{"name": "e", "level": "info", "fields": [{"name": "x"}]}]})",
       "events[0].fields[0].type: is required"},
      {R"({"name": "m", "commands": [{"name": "c", "input": [{"name": "x", "type": "float",
          "access": "read-only"}]}]})",
       "commands[0].input[0].access: unknown key"},
      {R"({"name": "m", "commands": [{"name": "c", "output": 3}]})",
       "commands[0].output: must be an array"},
      {R"({"name": "m", "commands": [{"name": "c"}, {"name": "c"}]})",
       "commands[1].name: 'c' is declared twice"},
  };
  for (const auto& c : cases) {
    auto m = ParseThingModel(c.doc);
    ASSERT_FALSE(m.ok()) << c.doc;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(m.status().message().starts_with(c.error))
        << "document: " << c.doc << "\ngot: " << m.status().message() << "\nwanted: " << c.error;
  }
}

TEST(ThingModelTest, Limits) {
  std::string doc = R"({"name": "big", "properties": [)";
  for (size_t i = 0; i <= kMaxModelProperties; ++i) {
    doc += fmt::format(R"({}{{"name":"p{}","type":"float","access":"read-only"}})",
                       i == 0 ? "" : ",", i);
  }
  doc += "]}";
  ASSERT_LE(doc.size(), kMaxModelDocumentBytes);
  auto m = ParseThingModel(doc);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "properties: has 1001 items, over the limit of 1000");

  const std::string huge =
      R"({"name": "big", "description": ")" + std::string(kMaxModelDocumentBytes, 'x') + "\"}";
  m = ParseThingModel(huge);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().message().starts_with("a model document is at most 65536 bytes"));
}

// A batch as the JSON decoder makes it for `devices/<d>/telemetry`.
WriteBatch Rows() {
  WriteBatch b(TenantId(1), "main", "cnc_mill");
  b.AddRow(1);
  EXPECT_TRUE(b.SetTag("device", "m1").ok());
  return b;
}

TEST(ValidateTelemetryTest, AcceptsWhatTheModelDeclares) {
  const ThingModel m = Mill();
  WriteBatch b = Rows();
  ASSERT_TRUE(b.SetDouble("temperature", 150).ok());
  ASSERT_TRUE(b.SetDouble("rpm", 1200).ok());  // JSON numbers are doubles; whole ones fit
  ASSERT_TRUE(b.SetBool("running", true).ok());
  ASSERT_TRUE(b.SetString("program", "O1000").ok());
  b.AddRow(2);
  ASSERT_TRUE(b.SetDouble("temperature", -20).ok());  // the limits themselves are in range
  EXPECT_TRUE(ValidateTelemetry(m, b).ok()) << ValidateTelemetry(m, b);

  WriteBatch ints = Rows();
  ASSERT_TRUE(ints.SetInt64("temperature", 21).ok());  // an integer for a float: fine
  ASSERT_TRUE(ints.SetUInt64("rpm", 10).ok());
  EXPECT_TRUE(ValidateTelemetry(m, ints).ok()) << ValidateTelemetry(m, ints);
}

TEST(ValidateTelemetryTest, RefusalsNameFieldValueAndLimit) {
  const ThingModel m = Mill();
  const auto refuse = [&m](auto set, const std::string& error) {
    WriteBatch b = Rows();
    ASSERT_TRUE(b.SetDouble("temperature", 20).ok());
    b.AddRow(2);
    ASSERT_TRUE(set(b).ok());
    const Status s = ValidateTelemetry(m, b);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), error);
  };
  refuse([](WriteBatch& b) { return b.SetDouble("temperature", 412.5); },
         "field 'temperature' = 412.5 is above the model's max 150 (model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetDouble("temperature", -40); },
         "field 'temperature' = -40 is below the model's min -20 (model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetDouble("humidity", 40); },
         "field 'humidity' is not a property of model 'cnc-mill'");
  refuse([](WriteBatch& b) { return b.SetDouble("rpm", 12.5); },
         "field 'rpm' = 12.5 is not a whole number, the model's property is integer "
         "(model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetInt64("rpm", 30000); },
         "field 'rpm' = 30000 is above the model's max 24000 (model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetString("running", "yes"); },
         "field 'running' is string, the model's property is boolean (model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetDouble("program", 7); },
         "field 'program' is float, the model's property is string (model 'cnc-mill')");
  refuse([](WriteBatch& b) { return b.SetBool("rpm", true); },
         "field 'rpm' is boolean, the model's property is integer (model 'cnc-mill')");
}

TEST(ValidateTelemetryTest, ModelBuiltByHandUsesTheScan) {
  ThingModel m;
  m.name = "hand";
  ThingProperty p;
  p.name = "v";
  p.max = 1;
  m.properties.push_back(p);  // no property_index: FindProperty scans
  WriteBatch b = Rows();
  ASSERT_TRUE(b.SetDouble("v", 2).ok());
  EXPECT_EQ(ValidateTelemetry(m, b).message(),
            "field 'v' = 2 is above the model's max 1 (model 'hand')");
}

TEST(ThingModelTest, TheSchemalessTableIsNoModelsTable) {
  EXPECT_EQ(ParseThingModel(R"({"name": "telemetry", "properties": []})").status().message(),
            "table: 'telemetry' holds the telemetry of devices without a model");
  EXPECT_EQ(ParseThingModel(R"({"name": "x", "table": "telemetry", "properties": []})")
                .status()
                .message(),
            "table: 'telemetry' holds the telemetry of devices without a model");
}

TEST(ValidateCommandTest, OnlyTheModelsCommandsWithTheirInputs) {
  ThingModel m = Mill();
  EXPECT_TRUE(ValidateCommand(m, "set_speed", R"({"rpm": 1200})").ok());
  EXPECT_TRUE(ValidateCommand(m, "set_speed", R"({"rpm": 1200.0})").ok());  // a whole number
  EXPECT_EQ(ValidateCommand(m, "reboot", "{}").message(),
            "'reboot' is not a command of model 'cnc-mill' (its commands: set_speed)");
  EXPECT_EQ(ValidateCommand(m, "set_speed", "{}").message(),
            "command 'set_speed' needs input parameter 'rpm' (model 'cnc-mill')");
  EXPECT_EQ(ValidateCommand(m, "set_speed", R"({"rpm": 1, "force": true})").message(),
            "command 'set_speed': 'force' is not an input parameter (model 'cnc-mill')");
  EXPECT_EQ(ValidateCommand(m, "set_speed", R"({"rpm": "fast"})").message(),
            "command 'set_speed': parameter 'rpm' = \"fast\" is not integer (model 'cnc-mill')");
  EXPECT_EQ(ValidateCommand(m, "set_speed", R"({"rpm": 12.5})").message(),
            "command 'set_speed': parameter 'rpm' = 12.5 is not integer (model 'cnc-mill')");
  EXPECT_EQ(ValidateCommand(m, "set_speed", R"({"rpm": -5})").message(),
            "command 'set_speed': parameter 'rpm' = -5 is below the model's min 0 (model "
            "'cnc-mill')");
  EXPECT_EQ(ValidateCommand(m, "set_speed", "[1]").message(),
            "command 'set_speed': 'params' must be a JSON object");
  m.commands.clear();
  EXPECT_EQ(ValidateCommand(m, "set_speed", "{}").message(),
            "'set_speed' is not a command of model 'cnc-mill' (its commands: none)");
}

}  // namespace
}  // namespace seaway
