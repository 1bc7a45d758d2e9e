// Tests for the SQL endpoint's result writers (src/query/result_format.h): JSON, CSV and NDJSON
// escaping, NULLs, timestamps, doubles that read back exactly, non-finite doubles, empty results
// and failures after the first rows.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "query/result_format.h"

namespace seaway::query {
namespace {

std::vector<ColumnInfo> Columns(std::vector<std::pair<std::string, SqlType>> spec) {
  std::vector<ColumnInfo> out;
  for (auto& [name, type] : spec) out.push_back({name, type, ""});
  return out;
}

// One chunk of rows given as Values (NULLs included), column by column.
DataChunk Chunk(const std::vector<ColumnInfo>& columns,
                const std::vector<std::vector<Value>>& rows) {
  DataChunk chunk;
  chunk.columns.resize(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) chunk.columns[c].Reset(columns[c].type);
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns.size(); ++c) chunk.columns[c].Append(row[c]);
  }
  chunk.rows = rows.size();
  return chunk;
}

std::string Write(ResultFormat format, const std::vector<ColumnInfo>& columns,
                  const std::vector<DataChunk>& chunks, const Status& error = Status::OK()) {
  auto writer = MakeResultWriter(format);
  std::string out;
  writer->Begin(columns, &out);
  for (const auto& chunk : chunks) writer->Rows(chunk, &out);
  if (error.ok()) {
    writer->End(&out);
  } else {
    writer->Fail(error, &out);
  }
  return out;
}

const std::vector<ColumnInfo> kColumns = Columns({{"time", SqlType::kTimestamp},
                                                  {"host", SqlType::kText},
                                                  {"v", SqlType::kDouble},
                                                  {"n", SqlType::kBigInt},
                                                  {"u", SqlType::kUBigInt},
                                                  {"ok", SqlType::kBoolean}});

TEST(ResultFormatTest, JsonHasTypedColumnsAndValues) {
  DataChunk chunk =
      Chunk(kColumns, {{Value::Timestamp(1'767'225'600'250'000'000), Value::Text("a\"b\\c\nd\x01"),
                        Value::Double(0.1), Value::BigInt(-7),
                        Value::UBigInt(std::numeric_limits<uint64_t>::max()), Value::Boolean(true)},
                       {Value::Null(SqlType::kTimestamp), Value::Null(SqlType::kText),
                        Value::Null(SqlType::kDouble), Value::Null(SqlType::kBigInt),
                        Value::Null(SqlType::kUBigInt), Value::Null(SqlType::kBoolean)}});
  const std::string text = Write(ResultFormat::kJson, kColumns, {chunk});
  EXPECT_NE(text.find("18446744073709551615"), std::string::npos) << "UBIGINT is exact: " << text;
  auto doc = nlohmann::json::parse(text);
  ASSERT_EQ(doc["columns"].size(), 6u);
  EXPECT_EQ(doc["columns"][0]["name"], "time");
  EXPECT_EQ(doc["columns"][0]["type"], "TIMESTAMP");
  EXPECT_EQ(doc["columns"][4]["type"], "UBIGINT");
  ASSERT_EQ(doc["rows"].size(), 2u);
  const auto& row = doc["rows"][0];
  EXPECT_EQ(row[0], "2026-01-01T00:00:00.25Z");
  EXPECT_EQ(row[1], "a\"b\\c\nd\x01");
  EXPECT_EQ(row[2].get<double>(), 0.1);
  EXPECT_EQ(row[3], -7);
  EXPECT_EQ(row[4].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(row[5], true);
  for (const auto& cell : doc["rows"][1]) EXPECT_TRUE(cell.is_null());
}

TEST(ResultFormatTest, DoublesReadBackExactly) {
  const auto columns = Columns({{"v", SqlType::kDouble}});
  std::vector<std::vector<Value>> rows;
  const std::vector<double> values = {0.1,
                                      1.0 / 3,
                                      -2.5e-300,
                                      1e300,
                                      123456789.123456789,
                                      5e-324,
                                      -0.0,
                                      100.0,
                                      std::numeric_limits<double>::max()};
  for (double d : values) rows.push_back({Value::Double(d)});
  auto doc = nlohmann::json::parse(Write(ResultFormat::kJson, columns, {Chunk(columns, rows)}));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(doc["rows"][i][0].get<double>(), values[i]) << i;
  }
  const std::string csv = Write(ResultFormat::kCsv, columns, {Chunk(columns, rows)});
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "v");
  for (double d : values) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(std::strtod(line.c_str(), nullptr), d) << line;
  }
}

TEST(ResultFormatTest, NonFiniteDoublesAreStrings) {
  const auto columns = Columns({{"v", SqlType::kDouble}});
  DataChunk chunk = Chunk(columns, {{Value::Double(std::nan(""))},
                                    {Value::Double(std::numeric_limits<double>::infinity())},
                                    {Value::Double(-std::numeric_limits<double>::infinity())}});
  auto doc = nlohmann::json::parse(Write(ResultFormat::kJson, columns, {chunk}));
  EXPECT_EQ(doc["rows"][0][0], "NaN");
  EXPECT_EQ(doc["rows"][1][0], "Infinity");
  EXPECT_EQ(doc["rows"][2][0], "-Infinity");
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {chunk}), "v\nNaN\nInfinity\n-Infinity\n");
}

TEST(ResultFormatTest, CsvQuotesAsRfc4180AndTellsNullFromEmpty) {
  const auto columns = Columns({{"a,b", SqlType::kText}, {"n", SqlType::kBigInt}});
  DataChunk chunk = Chunk(columns, {{Value::Text("plain"), Value::BigInt(1)},
                                    {Value::Text("with,comma"), Value::BigInt(2)},
                                    {Value::Text("say \"hi\""), Value::BigInt(3)},
                                    {Value::Text("two\nlines"), Value::Null(SqlType::kBigInt)},
                                    {Value::Text(""), Value::BigInt(5)},
                                    {Value::Null(SqlType::kText), Value::BigInt(6)}});
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {chunk}),
            "\"a,b\",n\n"
            "plain,1\n"
            "\"with,comma\",2\n"
            "\"say \"\"hi\"\"\",3\n"
            "\"two\nlines\",\n"
            "\"\",5\n"
            ",6\n");
}

TEST(ResultFormatTest, NdjsonIsColumnsThenOneArrayPerRow) {
  const auto columns = Columns({{"host", SqlType::kText}, {"t", SqlType::kTimestamp}});
  DataChunk first = Chunk(columns, {{Value::Text("a"), Value::Timestamp(0)}});
  DataChunk second = Chunk(columns, {{Value::Text("b\tc"), Value::Null(SqlType::kTimestamp)}});
  EXPECT_EQ(Write(ResultFormat::kNdjson, columns, {first, second}),
            "{\"columns\":[{\"name\":\"host\",\"type\":\"TEXT\"},"
            "{\"name\":\"t\",\"type\":\"TIMESTAMP\"}]}\n"
            "[\"a\",\"1970-01-01T00:00:00Z\"]\n"
            "[\"b\\tc\",null]\n");
}

TEST(ResultFormatTest, ConstantVectorsRepeatTheirValue) {
  const auto columns = Columns({{"tag", SqlType::kText}, {"v", SqlType::kBigInt}});
  DataChunk chunk =
      Chunk(columns, {{Value::Text("x"), Value::BigInt(1)}, {Value::Text("x"), Value::BigInt(2)}});
  chunk.columns[0].SetConstant(Value::Text("k"), SqlType::kText);
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {chunk}), "tag,v\nk,1\nk,2\n");
}

TEST(ResultFormatTest, EmptyResults) {
  const auto columns = Columns({{"a", SqlType::kBigInt}});
  EXPECT_EQ(Write(ResultFormat::kJson, columns, {}),
            "{\"columns\":[{\"name\":\"a\",\"type\":\"BIGINT\"}],\"rows\":[]}\n");
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {Chunk(columns, {})}), "a\n");
  EXPECT_EQ(Write(ResultFormat::kNdjson, columns, {}),
            "{\"columns\":[{\"name\":\"a\",\"type\":\"BIGINT\"}]}\n");
}

TEST(ResultFormatTest, FailureAfterRowsEndsWithAnErrorRecord) {
  const auto columns = Columns({{"a", SqlType::kBigInt}});
  DataChunk chunk = Chunk(columns, {{Value::BigInt(1)}, {Value::BigInt(2)}});
  const Status error = ResourceExhausted("query timed out after 5 ms\n(limit)");
  auto doc = nlohmann::json::parse(Write(ResultFormat::kJson, columns, {chunk}, error));
  EXPECT_EQ(doc["rows"].size(), 2u);
  EXPECT_EQ(doc["error"], "query timed out after 5 ms\n(limit)");
  EXPECT_EQ(doc["code"], "ResourceExhausted");
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {chunk}, error),
            "a\n1\n2\n#ERROR ResourceExhausted: query timed out after 5 ms (limit)\n");
  const std::string nd = Write(ResultFormat::kNdjson, columns, {chunk}, error);
  const std::string last = nd.substr(nd.rfind('\n', nd.size() - 2) + 1);
  auto record = nlohmann::json::parse(last);
  EXPECT_EQ(record["code"], "ResourceExhausted");
}

TEST(ResultFormatTest, IntervalsAndFormatsByName) {
  const auto columns = Columns({{"i", SqlType::kInterval}});
  // Months (no fixed length) are kept beside the nanoseconds, and printed.
  DataChunk chunk = Chunk(columns, {{Value::OfInterval({0, 90 * kNanosPerSecond})},
                                    {Value::OfInterval({2, 0})},
                                    {Value::OfInterval({13, 3 * kNanosPerDay})}});
  auto doc = nlohmann::json::parse(Write(ResultFormat::kJson, columns, {chunk}));
  EXPECT_EQ(doc["rows"][0][0], FormatInterval({0, 90 * kNanosPerSecond}));
  EXPECT_EQ(doc["rows"][0][0], "00:01:30");
  EXPECT_EQ(doc["rows"][1][0], "2 mons");
  EXPECT_EQ(doc["rows"][2][0], "1 year 1 mon 3 days");
  EXPECT_EQ(Write(ResultFormat::kCsv, columns, {chunk}),
            "i\n00:01:30\n2 mons\n1 year 1 mon 3 days\n");
  EXPECT_EQ(*ParseResultFormat("csv"), ResultFormat::kCsv);
  EXPECT_EQ(*ParseResultFormat("ndjson"), ResultFormat::kNdjson);
  EXPECT_EQ(ParseResultFormat("xml").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seaway::query
