// Golden SQL tests (tests/sql/**/*.test), sqllogictest style, run against a fresh engine each.
//
// A file is a sequence of records separated by blank lines:
//
//   # a comment
//   write [database]          -- line protocol lines follow, stored through the engine
//   cpu,host=a usage=1 1000000000
//
//   query TTR [rowsort]       -- one letter per result column, then the SQL, then ---- and rows
//   SELECT host, ...
//   ----
//   a  2026-01-01T00:00:00Z  1.5
//
//   statement error <text>    -- the SQL must fail with a message containing <text>
//   SELECT nope FROM cpu
//
//   statement ok              -- the SQL must succeed (result ignored)
//   flush                     -- memtables to segments
//   restart                   -- close and reopen the engine (recovery from WAL and segments)
//   delete <table> <min_ns> <max_ns> [tag=value ...]
//   now <rfc3339>             -- the instant now() returns from here on
//   devices [name ...]        -- from here on, statements run as a customer's user who sees
//                                these devices only (QueryOptions::devices); `devices all`
//                                returns to the whole tenant
//   tenant <id>               -- from here on, writes, deletes and statements are tenant <id>'s
//                                (1 at the start)
//   zone <name>               -- from here on, statements run with the tenant's time_zone set
//                                to the IANA zone <name> (QueryOptions::time_zone; UTC at the
//                                start)
//
// Column letters: I BIGINT or UBIGINT, R DOUBLE, T TEXT, B BOOLEAN, S TIMESTAMP, V INTERVAL.
// Values print as the CLI shows them (NULL, true/false, RFC 3339 times, shortest doubles); an
// empty string prints as (empty). Row values are compared with runs of spaces collapsed.
// `rowsort` sorts the rows of both sides as text before comparing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "ingest/line_protocol.h"
#include "query/query_engine.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

constexpr TenantId kTenant(1);

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(SEAWAY_SQL_TEST_DIR)) {
    if (entry.path().extension() == ".test") {
      files.push_back(std::filesystem::relative(entry.path(), SEAWAY_SQL_TEST_DIR).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

char Letter(query::SqlType t) {
  switch (t) {
    case query::SqlType::kBigInt:
    case query::SqlType::kUBigInt: return 'I';
    case query::SqlType::kDouble: return 'R';
    case query::SqlType::kText: return 'T';
    case query::SqlType::kBoolean: return 'B';
    case query::SqlType::kTimestamp: return 'S';
    case query::SqlType::kInterval: return 'V';
    case query::SqlType::kNull: return 'N';
  }
  return '?';
}

class SqlLogicTest : public ::testing::TestWithParam<std::string> {
 protected:
  void Open() {
    auto engine = Engine::Open(&env_, "db", EngineOptions{}, &metrics_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    queries_ = std::make_unique<query::QueryEngine>(engine_.get(), &clock_);
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_{Timestamp::FromNanos(1'767'225'600'000'000'000)};  // 2026-01-01
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<query::QueryEngine> queries_;
};

TEST_P(SqlLogicTest, Run) {
  const std::string path = std::string(SEAWAY_SQL_TEST_DIR) + "/" + GetParam();
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  Open();
  size_t i = 0;
  auto block = [&]() {  // lines up to the next blank line
    std::vector<std::string> out;
    while (i < lines.size() && !lines[i].empty()) out.push_back(lines[i++]);
    return out;
  };
  int records = 0;
  std::optional<std::vector<std::string>> devices;  // the `devices` record's scope
  TenantId tenant = kTenant;                        // the `tenant` record's
  std::string zone;                                 // the `zone` record's
  while (i < lines.size()) {
    const std::string header = lines[i];
    const size_t at = i + 1;  // 1-based line of the header
    if (header.empty() || header[0] == '#') {
      ++i;
      continue;
    }
    ++i;
    ++records;
    std::istringstream words(header);
    std::string verb;
    words >> verb;
    const std::string where = fmt::format("{}:{}", GetParam(), at);
    if (verb == "write") {
      std::string db = "main";
      words >> db;
      std::string body;
      for (const auto& l : block()) body += l + "\n";
      LineProtocolOptions opts;
      opts.tenant = tenant;
      opts.database = db.empty() ? "main" : db;
      auto parsed = ParseLineProtocol(body, opts);
      ASSERT_TRUE(parsed.errors.empty()) << where << ": " << parsed.errors[0].message;
      for (const auto& b : parsed.batches) {
        Status s = engine_->Write(b);
        ASSERT_TRUE(s.ok()) << where << ": " << s.ToString();
      }
    } else if (verb == "flush") {
      ASSERT_TRUE(engine_->Flush().ok()) << where;
    } else if (verb == "restart") {
      engine_->Close();
      engine_.reset();
      Open();
    } else if (verb == "now") {
      std::string t;
      words >> t;
      auto ns = query::ParseTimestamp(t);
      ASSERT_TRUE(ns.ok()) << where;
      clock_.Advance(Duration::Nanos(*ns - clock_.Now().nanos()));
    } else if (verb == "devices") {
      devices.emplace();
      for (std::string name; words >> name;) devices->push_back(name);
      if (devices->size() == 1 && (*devices)[0] == "all") devices.reset();
    } else if (verb == "zone") {
      ASSERT_TRUE(words >> zone) << where << ": zone needs a name";
    } else if (verb == "tenant") {
      uint64_t id = 0;
      ASSERT_TRUE(words >> id) << where << ": tenant needs a number";
      tenant = TenantId(id);
    } else if (verb == "delete") {
      ScanRequest req;
      req.tenant = tenant;
      words >> req.table >> req.min_time >> req.max_time;
      for (std::string kv; words >> kv;) {
        const size_t eq = kv.find('=');
        req.tag_equals.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      }
      std::sort(req.tag_equals.begin(), req.tag_equals.end());
      ASSERT_TRUE(engine_->Delete(req).ok()) << where;
    } else if (verb == "statement") {
      std::string mode;
      words >> mode;
      std::string expected_error;
      std::getline(words, expected_error);
      expected_error = Collapse(expected_error);
      std::string sql;
      for (const auto& l : block()) sql += l + "\n";
      query::QueryOptions qo;
      qo.tenant = tenant;
      qo.devices = devices;
      qo.time_zone = zone;
      auto r = queries_->Execute(sql, qo);
      if (mode == "ok") {
        EXPECT_TRUE(r.ok()) << where << ": " << r.status().ToString();
      } else {
        ASSERT_EQ(mode, "error") << where;
        EXPECT_FALSE(r.ok()) << where << ": expected an error, the statement succeeded";
        if (!r.ok()) {
          EXPECT_NE(r.status().message().find(expected_error), std::string_view::npos)
              << where << ": error was: " << r.status().message();
        }
      }
    } else if (verb == "query") {
      std::string types, option;
      words >> types >> option;
      std::string sql;
      while (i < lines.size() && lines[i] != "----") sql += lines[i++] + "\n";
      ASSERT_LT(i, lines.size()) << where << ": query without ----";
      ++i;
      std::vector<std::string> expected;
      for (const auto& l : block()) expected.push_back(Collapse(l));
      query::QueryOptions qo;
      qo.tenant = tenant;
      qo.devices = devices;
      qo.time_zone = zone;
      auto r = queries_->Execute(sql, qo);
      if (!r.ok()) {
        ADD_FAILURE() << where << ": " << r.status().ToString();
        continue;
      }
      std::string actual_types;
      for (const auto& c : r->columns) actual_types += Letter(c.type);
      EXPECT_EQ(actual_types, types) << where << ": column types";
      std::vector<std::string> actual;
      for (const auto& chunk : r->chunks) {
        for (size_t row = 0; row < chunk.rows; ++row) {
          std::string line;
          for (size_t c = 0; c < chunk.columns.size(); ++c) {
            if (c > 0) line += ' ';
            query::Value v = chunk.columns[c].Get(row);
            std::string text = v.ToString();
            if (!v.is_null && v.type == query::SqlType::kText && text.empty()) text = "(empty)";
            line += text;
          }
          actual.push_back(Collapse(line));
        }
      }
      if (option == "rowsort") {
        std::sort(actual.begin(), actual.end());
        std::sort(expected.begin(), expected.end());
      }
      std::string a, e;
      for (const auto& l : actual) a += l + "\n";
      for (const auto& l : expected) e += l + "\n";
      EXPECT_EQ(a, e) << where << ": rows differ for\n" << sql;
    } else {
      FAIL() << where << ": unknown record '" << verb << "'";
    }
  }
  EXPECT_GT(records, 0) << "empty test file";
}

INSTANTIATE_TEST_SUITE_P(Golden, SqlLogicTest, ::testing::ValuesIn(TestFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace seaway
