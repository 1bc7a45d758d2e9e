// Tests for the JSON telemetry decoder (src/ingest/json_telemetry.h) and its RFC 3339 parser
// (src/ingest/rfc3339.h).
#include "ingest/json_telemetry.h"

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "batch_access.h"
#include "ingest/rfc3339.h"

namespace seaway {
namespace {

using testing::Field;
using testing::Tag;

constexpr std::string_view kTapeError =
    "The JSON document has an improper structure: missing or superfluous commas, braces, missing "
    "keys, etc.";

JsonTelemetryOptions Options() {
  JsonTelemetryOptions o;
  o.tenant = TenantId(7);
  o.database = "plant";
  o.default_time_ns = 42;
  return o;
}

// "line: message" for each error, so that a failing expectation shows them all.
std::vector<std::string> Errors(const IngestResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(fmt::format("{}: {}", e.line, e.message));
  return out;
}

using Strings = std::vector<std::string>;

TEST(JsonTelemetryTest, SingleObjectWithEveryValueType) {
  auto r = DecodeJsonTelemetry(
      R"({"table": "boiler", "tags": {"site": "north", "line": "2"},
          "fields": {"temp": 81.5, "count": -3, "serial": 18446744073709551615,
                     "big": 9223372036854775807, "bigger": 9223372036854775808,
                     "min": -9223372036854775808, "ok": true, "off": false,
                     "state": "run \"hot\" \u00e9", "exp": 1e3, "whole": 2.0, "neg0": -0},
          "time": 1700000000000000000})",
      Options());
  ASSERT_EQ(Errors(r), Strings{});
  ASSERT_EQ(r.batches.size(), 1u);
  const WriteBatch& b = r.batches[0];
  EXPECT_EQ(b.tenant(), TenantId(7));
  EXPECT_EQ(b.database(), "plant");
  EXPECT_EQ(b.table(), "boiler");
  EXPECT_EQ(b.times(), (std::vector<int64_t>{1700000000000000000}));
  EXPECT_EQ(Tag(b, "site", 0), "north");
  EXPECT_EQ(Tag(b, "line", 0), "2");
  EXPECT_EQ(Field(b, "temp")->type, FieldType::kDouble);
  EXPECT_EQ(std::bit_cast<double>(Field(b, "temp")->bits[0]), 81.5);
  // Every number is a float: JSON has one number type.
  auto number = [&](std::string_view name) {
    EXPECT_EQ(Field(b, name)->type, FieldType::kDouble) << name;
    return std::bit_cast<double>(Field(b, name)->bits[0]);
  };
  EXPECT_EQ(number("count"), -3.0);
  EXPECT_EQ(number("serial"), 18446744073709551615.0);
  EXPECT_EQ(number("big"), 9223372036854775807.0);
  EXPECT_EQ(number("bigger"), 9223372036854775808.0);
  EXPECT_EQ(number("min"), -9223372036854775808.0);
  EXPECT_EQ(Field(b, "ok")->type, FieldType::kBool);
  EXPECT_EQ(Field(b, "ok")->bits[0], 1u);
  EXPECT_EQ(Field(b, "off")->bits[0], 0u);
  EXPECT_EQ(Field(b, "state")->type, FieldType::kString);
  EXPECT_EQ(Field(b, "state")->strings[0], "run \"hot\" \xc3\xa9");
  EXPECT_EQ(number("exp"), 1000.0);
  EXPECT_EQ(number("whole"), 2.0);
  EXPECT_EQ(number("neg0"), 0.0);
  EXPECT_EQ(r.points, 1u);
}

TEST(JsonTelemetryTest, ArrayGoesToOneBatchPerTableInOrderOfFirstAppearance) {
  auto r = DecodeJsonTelemetry(R"([
      {"table": "b", "fields": {"v": 1}, "time": 1},
      {"table": "a", "fields": {"v": 2}, "time": 2},
      {"table": "b", "fields": {"v": 3}, "time": 3}])",
                               Options());
  ASSERT_EQ(Errors(r), Strings{});
  ASSERT_EQ(r.batches.size(), 2u);
  EXPECT_EQ(r.batches[0].table(), "b");
  EXPECT_EQ(r.batches[0].times(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(r.batches[1].table(), "a");
  EXPECT_EQ(r.batches[1].rows(), 1u);
  EXPECT_EQ(r.points, 3u);
  EXPECT_TRUE(DecodeJsonTelemetry(" [ ] ", Options()).errors.empty());
}

TEST(JsonTelemetryTest, ArrayElementsMayHoldBracketsCommasAndEscapesInStrings) {
  auto r = DecodeJsonTelemetry(R"([{"table": "m", "fields": {"s": "a\"],[{\\", "t": "\\\\"}},
      {"table": "m", "tags": {"k": "}{,"}, "fields": {"s": "", "t": "\u005d"}}])",
                               Options());
  ASSERT_EQ(Errors(r), Strings{});
  ASSERT_EQ(r.points, 2u);
  EXPECT_EQ(Field(r.batches[0], "s")->strings, (std::vector<std::string>{"a\"],[{\\", ""}));
  EXPECT_EQ(Field(r.batches[0], "t")->strings, (std::vector<std::string>{"\\\\", "]"}));
  EXPECT_EQ(Tag(r.batches[0], "k", 1), "}{,");
}

TEST(JsonTelemetryTest, NdjsonWithBlankLinesAndCrlf) {
  auto r = DecodeJsonTelemetry(
      "\r\n{\"table\": \"m\", \"fields\": {\"v\": 1}, \"time\": 5}\r\n\r\n   \n"
      "{\"table\": \"m\", \"fields\": {\"v\": 2}}\r\n"
      "{\"table\": \"m\", \"fields\": {\"v\": []}}\r\n"
      "\t{\"table\": \"m\", \"fields\": {\"v\": 4}}",
      Options());
  EXPECT_EQ(Errors(r), Strings{"6: field 'v': arrays are not supported as values"});
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(r.batches[0].times(), (std::vector<int64_t>{5, 42, 42}));
  EXPECT_EQ(r.points, 3u);
}

TEST(JsonTelemetryTest, OneObjectMaySpanLines) {
  auto r =
      DecodeJsonTelemetry("{\n  \"table\": \"m\",\n  \"fields\":\n    {\"v\": 1}\n}\n", Options());
  ASSERT_EQ(Errors(r), Strings{});
  EXPECT_EQ(r.points, 1u);
}

TEST(JsonTelemetryTest, NullLeavesAFieldOrTagOutOfTheRow) {
  auto r = DecodeJsonTelemetry(R"([
      {"table": "m", "tags": {"a": "x", "b": null}, "fields": {"v": 1, "w": null}},
      {"table": "m", "tags": {"b": "y"}, "fields": {"v": null, "w": "s"}},
      {"table": "m", "tags": null, "fields": {"v": 3}, "time": null}])",
                               Options());
  ASSERT_EQ(Errors(r), Strings{});
  const WriteBatch& b = r.batches[0];
  EXPECT_EQ(Field(b, "v")->present, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(Field(b, "w")->present, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(Tag(b, "a", 0), "x");
  EXPECT_EQ(Tag(b, "b", 0), "");
  EXPECT_EQ(Tag(b, "b", 1), "y");
  EXPECT_EQ(b.times(), (std::vector<int64_t>{42, 42, 42}));
  EXPECT_TRUE(b.Validate().ok());
}

TEST(JsonTelemetryTest, TimeAsIntegerOrRfc3339String) {
  auto r = DecodeJsonTelemetry(R"([
      {"table": "m", "fields": {"v": 1}, "time": -5},
      {"table": "m", "fields": {"v": 1}, "time": "2026-11-25T18:45:42Z"},
      {"table": "m", "fields": {"v": 1}}])",
                               Options());
  ASSERT_EQ(Errors(r), Strings{});
  EXPECT_EQ(r.batches[0].times(), (std::vector<int64_t>{-5, 1795632342000000000, 42}));
}

struct Timestamp {
  const char* text;
  int64_t ns;
};

class Rfc3339Test : public ::testing::TestWithParam<Timestamp> {};

TEST_P(Rfc3339Test, Parses) {
  Result<int64_t> ns = ParseRfc3339(GetParam().text);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(*ns, GetParam().ns);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Rfc3339Test,
    ::testing::Values(Timestamp{"1970-01-01T00:00:00Z", 0},
                      Timestamp{"2026-11-25T18:45:42Z", 1795632342000000000},
                      Timestamp{"2026-11-25T18:45:42.123456789+01:00", 1795628742123456789},
                      Timestamp{"2026-11-25t18:45:42.1z", 1795632342100000000},
                      Timestamp{"2026-11-25 18:45:42.12-05:30", 1795652142120000000},
                      Timestamp{"2026-11-25T18:45:42+00:00", 1795632342000000000},
                      Timestamp{"2026-11-25T18:45:42-00:00", 1795632342000000000},
                      Timestamp{"1970-01-01T00:00:00.1Z", 100000000},
                      Timestamp{"1970-01-01T00:00:00.12Z", 120000000},
                      Timestamp{"1970-01-01T00:00:00.123Z", 123000000},
                      Timestamp{"1970-01-01T00:00:00.1234Z", 123400000},
                      Timestamp{"1970-01-01T00:00:00.12345Z", 123450000},
                      Timestamp{"1970-01-01T00:00:00.123456Z", 123456000},
                      Timestamp{"1970-01-01T00:00:00.1234567Z", 123456700},
                      Timestamp{"1970-01-01T00:00:00.12345678Z", 123456780},
                      Timestamp{"1970-01-01T00:00:00.000000001Z", 1},
                      Timestamp{"1969-12-31T23:59:59.5Z", -500000000},
                      Timestamp{"2024-02-29T00:00:00Z", 1709164800000000000},
                      Timestamp{"2000-02-29T00:00:00Z", 951782400000000000},
                      Timestamp{"2000-03-01T00:00:00Z", 951868800000000000},
                      Timestamp{"1900-01-01T00:00:00Z", -2208988800000000000},
                      Timestamp{"2262-04-11T23:47:16.854775807Z", INT64_MAX},
                      Timestamp{"1677-09-21T00:12:43.145224192Z", INT64_MIN}));

struct BadTimestamp {
  const char* text;
  const char* reason;
};

class Rfc3339ErrorTest : public ::testing::TestWithParam<BadTimestamp> {};

TEST_P(Rfc3339ErrorTest, NamesTheReason) {
  Result<int64_t> ns = ParseRfc3339(GetParam().text);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ns.status().message(), fmt::format("'{}' is not a valid RFC 3339 timestamp: {}",
                                               GetParam().text, GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Rfc3339ErrorTest,
    ::testing::Values(
        BadTimestamp{"2026-13-01T00:00:00Z", "month 13"},
        BadTimestamp{"2026-00-01T00:00:00Z", "month 0"},
        BadTimestamp{"2025-02-29T00:00:00Z", "day 29 does not exist in 2025-02"},
        BadTimestamp{"1900-02-29T00:00:00Z", "day 29 does not exist in 1900-02"},
        BadTimestamp{"2026-02-30T00:00:00Z", "day 30 does not exist in 2026-02"},
        BadTimestamp{"2026-04-31T00:00:00Z", "day 31 does not exist in 2026-04"},
        BadTimestamp{"2026-01-00T00:00:00Z", "day 0 does not exist in 2026-01"},
        BadTimestamp{"2026-01-01T24:00:00Z", "hour 24"},
        BadTimestamp{"2026-01-01T00:60:00Z", "minute 60"},
        BadTimestamp{"2016-12-31T23:59:60Z", "second 60"},
        BadTimestamp{"2026-01-01T00:00:00+24:00", "offset hour 24"},
        BadTimestamp{"2026-01-01T00:00:00+01:60", "offset minute 60"},
        BadTimestamp{"2026-01-01T00:00:00.1234567891Z", "more than 9 fractional digits"},
        BadTimestamp{"2026-01-01T00:00:00.Z", "expected digits after '.'"},
        BadTimestamp{"2026-01-01T00:00:00", "missing the time zone ('Z' or +HH:MM / -HH:MM)"},
        BadTimestamp{"2026-01-01T00:00:00+0100", "expected a time zone offset +HH:MM or -HH:MM"},
        BadTimestamp{"2026-01-01T00:00:00 UTC",
                     "expected 'Z' or an offset +HH:MM / -HH:MM after the time"},
        BadTimestamp{"2026-01-01T00:00:00Z ", "unexpected text after the time zone"},
        BadTimestamp{"2026-01-01", "expected 'T' between the date and the time"},
        BadTimestamp{"2026-01-01_00:00:00Z", "expected 'T' between the date and the time"},
        BadTimestamp{"2026-01-01T00:00Z", "expected a time HH:MM:SS after the date"},
        BadTimestamp{"26-01-01T00:00:00Z", "expected a date YYYY-MM-DD"},
        BadTimestamp{"+2026-01-01T00:00:00Z", "expected a date YYYY-MM-DD"},
        BadTimestamp{"", "expected a date YYYY-MM-DD"},
        BadTimestamp{"1677-09-21T00:12:43.145224191Z",
                     "outside the range of 64-bit nanoseconds (1677-09-21 to 2262-04-11)"},
        BadTimestamp{"2262-04-11T23:47:16.854775808Z",
                     "outside the range of 64-bit nanoseconds (1677-09-21 to 2262-04-11)"},
        BadTimestamp{"9999-12-31T23:59:59Z",
                     "outside the range of 64-bit nanoseconds (1677-09-21 to 2262-04-11)"}));

TEST(Rfc3339Test, QuotesLongTextCut) {
  std::string text(100, '9');
  EXPECT_EQ(ParseRfc3339(text).status().message(),
            fmt::format("'{}...' is not a valid RFC 3339 timestamp: expected a date YYYY-MM-DD",
                        std::string(40, '9')));
  text = std::string(39, '9') + "\u00e9" + std::string(30, '9');
  EXPECT_EQ(ParseRfc3339(text).status().message(),
            fmt::format("'{}...' is not a valid RFC 3339 timestamp: expected a date YYYY-MM-DD",
                        std::string(39, '9')));
}

TEST(JsonTelemetryTest, NamesAreCutAtCharacterBoundaries) {
  JsonTelemetryOptions o = Options();
  o.limits.max_key_bytes = 40;
  const std::string name = std::string(31, 'a') + "\u00e9" + std::string(10, 'b');  // 43 bytes
  auto r = DecodeJsonTelemetry(R"({"table": "m", "fields": {")" + name + R"(": 1}})", o);
  EXPECT_EQ(Errors(r), Strings{fmt::format("1: field '{}...' is 43 bytes, over the limit of 40",
                                           std::string(31, 'a'))});
  r = DecodeJsonTelemetry(
      R"({"table": "m", "fields": {"v": 1}, ")" + std::string(63, 'k') + "\u00e9\": 2}", o);
  EXPECT_EQ(Errors(r), Strings{fmt::format("1: unknown key '{}': expected \"table\", \"tags\", "
                                           "\"fields\" and \"time\"",
                                           std::string(63, 'k'))});
}

// A bad item between two good ones, sent as an array and as NDJSON: the error names item 2 and
// the good items are stored.
struct BadItem {
  const char* item;
  const char* message;
};

class JsonTelemetryErrorTest : public ::testing::TestWithParam<BadItem> {};

TEST_P(JsonTelemetryErrorTest, NamesItemAndReasonAndKeepsTheOthers) {
  const std::string good1 = R"({"table": "ok", "fields": {"v": 1.5}})";
  const std::string good2 = R"({"table": "ok", "fields": {"v": 2.5}})";
  for (const std::string& body : {"[" + good1 + ",\n" + GetParam().item + ",\n" + good2 + "]",
                                  good1 + "\n" + GetParam().item + "\n" + good2 + "\n"}) {
    SCOPED_TRACE(body);
    auto r = DecodeJsonTelemetry(body, Options());
    EXPECT_EQ(Errors(r), Strings{std::string("2: ") + GetParam().message});
    EXPECT_EQ(r.points, 2u);
    ASSERT_EQ(r.batches.size(), 1u);
    EXPECT_EQ(r.batches[0].table(), "ok");
    EXPECT_EQ(r.batches[0].rows(), 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonTelemetryErrorTest,
    ::testing::Values(
        BadItem{R"(42)", "expected a JSON object, got a number"},
        BadItem{R"(["m"])", "expected a JSON object, got an array"},
        BadItem{R"({"tags": {}, "fields": {"v": 1}})", "missing \"table\""},
        BadItem{R"({"table": 5, "fields": {"v": 1}})", "\"table\" must be a string, not a number"},
        BadItem{R"({"table": "", "fields": {"v": 1}})", "table name is empty"},
        BadItem{R"({"table": "a\u0001", "fields": {"v": 1}})",
                "table name contains a control character"},
        BadItem{R"({"table": "t"})", "missing \"fields\""},
        BadItem{R"({"table": "t", "fields": {}})", "\"fields\" is empty"},
        BadItem{R"({"table": "t", "fields": null})", "\"fields\" must be an object, not null"},
        BadItem{R"({"table": "t", "fields": [1]})", "\"fields\" must be an object, not an array"},
        BadItem{R"({"table": "t", "fields": {"a": null}})", "\"fields\" has only null values"},
        BadItem{R"({"table": "t", "fields": {"temp": [1, 2]}})",
                "field 'temp': arrays are not supported as values"},
        BadItem{R"({"table": "t", "fields": {"temp": {"v": 1}}})",
                "field 'temp': objects are not supported as values"},
        BadItem{R"({"table": "t", "fields": {"v": 1, "v": 2}})", "field 'v' appears twice"},
        BadItem{R"({"table": "t", "fields": {"v": 1, "v": null}})", "field 'v' appears twice"},
        BadItem{R"({"table": "t", "fields": {"": 1}})", "field name is empty"},
        BadItem{R"({"table": "t", "fields": {"a\nb": 1}})",
                "field name contains a control character"},
        BadItem{R"({"table": "t", "fields": {"time": 1}})", "'time' cannot be a field name"},
        BadItem{R"({"table": "t", "tags": {"time": "x"}, "fields": {"v": 1}})",
                "'time' cannot be a tag name"},
        BadItem{R"({"table": "t", "tags": {"line": 2}, "fields": {"v": 1}})",
                "tag 'line': value must be a string, not a number"},
        BadItem{R"({"table": "t", "tags": {"ok": true}, "fields": {"v": 1}})",
                "tag 'ok': value must be a string, not a boolean"},
        BadItem{R"({"table": "t", "tags": {"line": ""}, "fields": {"v": 1}})",
                "tag 'line' has an empty value"},
        BadItem{R"({"table": "t", "tags": {"a": "x", "a": "y"}, "fields": {"v": 1}})",
                "tag 'a' appears twice"},
        BadItem{R"({"table": "t", "tags": "a=x", "fields": {"v": 1}})",
                "\"tags\" must be an object, not a string"},
        BadItem{R"({"table": "t", "tags": {"x": "1"}, "fields": {"x": 1}})",
                "'x' is both a tag and a field"},
        BadItem{R"({"tabel": "t", "fields": {"v": 1}})",
                "unknown key 'tabel': expected \"table\", \"tags\", \"fields\" and \"time\""},
        BadItem{R"({"table": "t", "table": "u", "fields": {"v": 1}})",
                "key \"table\" appears twice"},
        BadItem{R"({"table": "t", "fields": {"v": 1}, "time": 1.5})",
                "time 1.5 is not an integer: give ns since the epoch as an integer, or an RFC "
                "3339 string"},
        BadItem{R"({"table": "t", "fields": {"v": 1}, "time": 18446744073709551615})",
                "time 18446744073709551615 is out of range: at most 9223372036854775807 ns since "
                "the epoch"},
        BadItem{R"({"table": "t", "fields": {"v": 1}, "time": true})",
                "time must be an integer (ns since the epoch) or an RFC 3339 string, not a "
                "boolean"},
        BadItem{R"({"table": "t", "fields": {"v": 1}, "time": "2026-13-01T00:00:00Z"})",
                "time '2026-13-01T00:00:00Z' is not a valid RFC 3339 timestamp: month 13"},
        BadItem{R"({"table": "t", "fields": {"v": 1}, "time": "2025-02-29T00:00:00Z"})",
                "time '2025-02-29T00:00:00Z' is not a valid RFC 3339 timestamp: day 29 does "
                "not exist in 2025-02"},
        BadItem{R"({"table": "ok", "fields": {"v": "now a string"}})",
                "table 'ok' field 'v': type string in row 2 conflicts with type float earlier "
                "in the same batch"}));

TEST(JsonTelemetryTest, IntegerAndFractionReadingsShareAFloatField) {
  auto r = DecodeJsonTelemetry(
      "{\"table\": \"t\", \"fields\": {\"v\": 79}, \"time\": 1}\n"
      "{\"table\": \"t\", \"fields\": {\"v\": 79.5}, \"time\": 2}\n",
      Options());
  ASSERT_EQ(Errors(r), Strings{});
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(Field(r.batches[0], "v")->type, FieldType::kDouble);
  EXPECT_EQ(Field(r.batches[0], "v")->bits,
            (std::vector<uint64_t>{std::bit_cast<uint64_t>(79.0), std::bit_cast<uint64_t>(79.5)}));
}

TEST(JsonTelemetryTest, ATypeConflictDropsOnlyItsRow) {
  auto r = DecodeJsonTelemetry(R"([
      {"table": "m", "tags": {"t": "1"}, "fields": {"a": 1, "b": 1}},
      {"table": "m", "tags": {"t": "2"}, "fields": {"a": 2, "b": true}},
      {"table": "n", "fields": {"b": "text"}},
      {"table": "m", "tags": {"t": "3"}, "fields": {"a": 3, "b": 3}}])",
                               Options());
  EXPECT_EQ(Errors(r), Strings{"2: table 'm' field 'b': type boolean in row 2 conflicts with "
                               "type float earlier in the same batch"});
  ASSERT_EQ(r.batches.size(), 2u);
  const WriteBatch& m = r.batches[0];
  EXPECT_EQ(m.rows(), 2u);
  EXPECT_EQ(Field(m, "a")->bits,
            (std::vector<uint64_t>{std::bit_cast<uint64_t>(1.0), std::bit_cast<uint64_t>(3.0)}));
  EXPECT_EQ(Tag(m, "t", 1), "3");
  EXPECT_TRUE(m.Validate().ok());
  EXPECT_EQ(r.batches[1].table(), "n");  // the same field name in another table is independent
  EXPECT_EQ(r.points, 3u);
}

TEST(JsonTelemetryTest, EveryItemBadLeavesNoBatch) {
  auto r =
      DecodeJsonTelemetry(R"([{"table": "m", "fields": {"v": []}}, {"table": "m"}])", Options());
  EXPECT_EQ(Errors(r),
            (Strings{"1: field 'v': arrays are not supported as values", "2: missing \"fields\""}));
  EXPECT_TRUE(r.batches.empty());
  EXPECT_EQ(r.points, 0u);
}

TEST(JsonTelemetryTest, Limits) {
  JsonTelemetryOptions o = Options();
  o.limits.max_tags = 1;
  o.limits.max_fields = 2;
  o.limits.max_key_bytes = 4;
  o.limits.max_string_bytes = 3;
  auto r = DecodeJsonTelemetry(
      R"({"table": "m", "tags": {"a": "1", "b": "2"}, "fields": {"v": 1}}
{"table": "m", "fields": {"v": 1, "w": 2, "x": 3}}
{"table": "longer", "fields": {"v": 1}}
{"table": "m", "tags": {"a": "12345"}, "fields": {"v": 1}}
{"table": "m", "fields": {"abcde": 1}}
{"table": "m", "fields": {"s": "abcd"}}
{"table": "m", "tags": {"a": "1234"}, "fields": {"v": 1, "s": "abc"}}
)",
      o);
  EXPECT_EQ(Errors(r), (Strings{"1: more than 1 tags", "2: more than 2 fields",
                                "3: table 'longer...' is 6 bytes, over the limit of 4",
                                "4: tag 'a' value is 5 bytes, over the limit of 4",
                                "5: field 'abcde...' is 5 bytes, over the limit of 4",
                                "6: field 's': string of 4 bytes is over the limit of 3"}));
  EXPECT_EQ(r.points, 1u);
}

TEST(JsonTelemetryTest, SizeLimitPerLineElementAndObject) {
  JsonTelemetryOptions o = Options();
  o.limits.max_line_bytes = 40;
  const std::string small = R"({"table": "m", "fields": {"v": 1}})";         // 34 bytes
  const std::string large = R"({"table": "m", "fields": {"value": 1.25}})";  // 41 bytes

  auto r = DecodeJsonTelemetry(small + "\n" + large + "\n" + small + "\n", o);
  EXPECT_EQ(Errors(r), Strings{"2: line is 41 bytes, over the limit of 40"});
  EXPECT_EQ(r.points, 2u);

  r = DecodeJsonTelemetry("[" + small + ", " + large + " ,\n" + small + ",\"a\\\"\"]", o);
  EXPECT_EQ(Errors(r), (Strings{"2: array element is 41 bytes, over the limit of 40",
                                "4: expected a JSON object, got a string"}));
  EXPECT_EQ(r.points, 2u);

  r = DecodeJsonTelemetry("  " + large + "\n\n", o);
  EXPECT_EQ(Errors(r), Strings{"1: object is 41 bytes, over the limit of 40"});
  r = DecodeJsonTelemetry("{\"table\": \"m\",\n \"fields\": {\"value\": 1.25}}", o);
  EXPECT_EQ(Errors(r), Strings{"1: object is 42 bytes, over the limit of 40"});
}

struct BadDocument {
  std::string body;
  std::string message;
};

class JsonTelemetryDocumentTest : public ::testing::TestWithParam<BadDocument> {};

TEST_P(JsonTelemetryDocumentTest, OneErrorForItemOneNamingTheOffset) {
  auto r = DecodeJsonTelemetry(GetParam().body, Options());
  EXPECT_EQ(Errors(r), Strings{"1: " + GetParam().message});
  EXPECT_TRUE(r.batches.empty());
  EXPECT_EQ(r.points, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonTelemetryDocumentTest,
    ::testing::Values(
        BadDocument{"hello", fmt::format("invalid JSON at byte offset 0: {}", kTapeError)},
        BadDocument{"m,host=a v=1 1\nm v=2 2\n",
                    fmt::format("invalid JSON at byte offset 0: {}", kTapeError)},
        BadDocument{R"([{"table": "t", "fields": {"v": 1}},)",
                    fmt::format("invalid JSON at byte offset 36: {}", kTapeError)},
        BadDocument{R"([{"table": "t", "fields": {"v": 1}} {"table": "t", "fields": {"v": 2}}])",
                    fmt::format("invalid JSON at byte offset 36: {}", kTapeError)},
        BadDocument{R"([{"table": "t", "fields": {"v": 1}}, {"table": "t", "fields": {"v": 01}}])",
                    "invalid JSON at byte offset 68: Problem while parsing a number"},
        BadDocument{R"([{"table": "t", "fields": {"v": 123456789012345678901234}}])",
                    "invalid JSON at byte offset 32: Problem while parsing a number"},
        BadDocument{R"([{"table": "t", "fields": {"v": -1e400}}])",
                    "invalid JSON at byte offset 32: Problem while parsing a number"},
        BadDocument{R"([{"table": "t", "fields": {"v": tru}}])",
                    "invalid JSON at byte offset 32: Problem while parsing an atom starting with "
                    "the letter 't'"},
        BadDocument{R"({"table": "t", "fields": {"v": "\x"}})",
                    "invalid JSON at byte offset 32: Problem while parsing a string"},
        BadDocument{R"({"table": "t", "fields": {"v": "\ud800"}})",
                    "invalid JSON at byte offset 32: Problem while parsing a string"},
        BadDocument{R"({"table": "t)",
                    "invalid JSON at byte offset 10: A string is opened, but never closed."},
        BadDocument{std::string("{\"table\": \"t\xff\", \"fields\": {\"v\": 1}}"),
                    "invalid JSON at byte offset 12: The input is not valid UTF-8"},
        BadDocument{std::string("{\"table\": \"t\x01\", \"fields\": {\"v\": 1}}"),
                    "invalid JSON at byte offset 12: Within strings, some characters must be "
                    "escaped, we found unescaped characters"},
        // Found by the fuzzer: simdjson's stage 1 lets a backslash escape the next byte even
        // outside strings, and counts an escaped control character as unescaped.
        BadDocument{"6fal15, \"hineun  {\"\\\":hv\": 1}}\n{\"fi00",
                    "invalid JSON at byte offset 30: Within strings, some characters must be "
                    "escaped, we found unescaped characters"},
        BadDocument{"{\"table\": \"t\\\r\", \"fields\": {\"v\": 1}}",
                    "invalid JSON at byte offset 13: Within strings, some characters must be "
                    "escaped, we found unescaped characters"},
        BadDocument{std::string(2000, '[') + std::string(2000, ']'),
                    "invalid JSON at byte offset 1023: The JSON document was too deep (too many "
                    "nested objects and arrays)"},
        BadDocument{R"({"table": "t", "fields": {"v": 1}}{"table": "t", "fields": {"v": 2}})",
                    fmt::format("invalid JSON at byte offset 34: {}", kTapeError)},
        BadDocument{"{\n  \"table\": \"t\",\n  \"fields\": {\"v\": 1},\n}\n",
                    fmt::format("invalid JSON at byte offset 40: {}", kTapeError)},
        BadDocument{"\xEF\xBB\xBF{\"table\" \"t\"}",
                    fmt::format("invalid JSON at byte offset 12: {}", kTapeError)},
        BadDocument{R"("telemetry")",
                    "expected a JSON object, an array of objects or NDJSON, got a string"},
        BadDocument{"17", "expected a JSON object, an array of objects or NDJSON, got a number"}));

TEST(JsonTelemetryTest, NdjsonWithABadFirstLineKeepsTheOthers) {
  auto r = DecodeJsonTelemetry(
      "{\"table\": broken}\n{\"table\": \"m\", \"fields\": {\"v\": 1}}\n{\"table\": \"m\", "
      "\"fields\": {\"v\": 2}}\r\n{\"table\": \"m\" \"fields\": {}}\n",
      Options());
  EXPECT_EQ(Errors(r),
            (Strings{
                fmt::format("1: invalid JSON at byte offset 10 of the line: {}", kTapeError),
                fmt::format("4: invalid JSON at byte offset 14 of the line: {}", kTapeError),
            }));
  EXPECT_EQ(r.points, 2u);
}

TEST(JsonTelemetryTest, ByteOrderMarkAndEmptyBodies) {
  auto r = DecodeJsonTelemetry("\xEF\xBB\xBF{\"table\": \"m\", \"fields\": {\"v\": 1}}", Options());
  EXPECT_EQ(Errors(r), Strings{});
  EXPECT_EQ(r.points, 1u);
  for (std::string_view body : {"", " \r\n\t\n", "\xEF\xBB\xBF"}) {
    r = DecodeJsonTelemetry(body, Options());
    EXPECT_TRUE(r.errors.empty() && r.batches.empty() && r.points == 0) << body;
  }
}

TEST(JsonTelemetryTest, LargeBodiesUseTheirOwnParser) {
  std::string body = "[";
  for (int i = 0; i < 20000; ++i) {
    body += fmt::format(
        "{}{{\"table\": \"m{}\", \"tags\": {{\"id\": \"{}\"}}, \"fields\": "
        "{{\"v\": {}, \"s\": \"{}\"}}, \"time\": {}}}",
        i == 0 ? "" : ",\n", i % 3, i, i, std::string(i % 20, 'x'), i);
  }
  body += "]";
  ASSERT_GT(body.size(), 256u * 1024u);
  auto r = DecodeJsonTelemetry(body, Options());
  ASSERT_EQ(Errors(r), Strings{});
  EXPECT_EQ(r.points, 20000u);
  ASSERT_EQ(r.batches.size(), 3u);
  EXPECT_EQ(r.batches[1].table(), "m1");
  EXPECT_EQ(r.batches[1].times()[2], 7);
  // A small body afterwards still works (the thread's parser is separate).
  r = DecodeJsonTelemetry(R"({"table": "m", "fields": {"v": 1}})", Options());
  EXPECT_EQ(r.points, 1u);
}

void ExpectConsistent(std::string_view body, const IngestResult& r) {
  size_t rows = 0;
  for (const auto& b : r.batches) {
    EXPECT_GT(b.rows(), 0u);
    EXPECT_TRUE(b.Validate().ok()) << body;
    rows += b.rows();
  }
  EXPECT_EQ(rows, r.points);
  for (const auto& e : r.errors) EXPECT_FALSE(e.message.empty());
}

TEST(JsonTelemetryTest, RandomBytesNeverCrash) {
  std::mt19937 rng(3);
  const std::vector<std::string> tokens = {"{",           "}",           "[",
                                           "]",           ",",           ":",
                                           "\n",          "\r\n",        " ",
                                           "\"table\"",   "\"tags\"",    "\"fields\"",
                                           "\"time\"",    "\"m\"",       "\"v\"",
                                           "\"\"",        "1",           "-2",
                                           "1.5",         "1e400",       "18446744073709551615",
                                           "true",        "null",        "\"2026-11-25T18:45:42Z\"",
                                           "\"\\u0000\"", "\"\\ud800\"", "\xff",
                                           "\"",          "\\"};
  for (int i = 0; i < 20000; ++i) {
    std::string body;
    for (size_t n = rng() % 40; n > 0; --n) body += tokens[rng() % tokens.size()];
    ExpectConsistent(body, DecodeJsonTelemetry(body, Options()));
  }
}

TEST(JsonTelemetryTest, MutatedBodiesNeverCrash) {
  const std::string seed =
      R"([{"table": "m", "tags": {"a": "x"}, "fields": {"v": 1, "s": "t", "b": true}, "time": "2026-11-25T18:45:42.5+01:00"},
{"table": "n", "fields": {"u": 18446744073709551615, "d": -1.5e3}, "time": 17}])";
  std::mt19937 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::string body = seed;
    for (int k = rng() % 4 + 1; k > 0; --k) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = static_cast<char>(rng()); break;
        case 1: body.erase(at, rng() % 8); break;
        case 2: body.insert(at, 1, "{}[],:\"\n\\0"[rng() % 10]); break;
      }
      if (body.empty()) body = "{";
    }
    ExpectConsistent(body, DecodeJsonTelemetry(body, Options()));
  }
}

}  // namespace
}  // namespace seaway
