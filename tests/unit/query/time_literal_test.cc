// Timestamp literals (src/query/value.h ParseTimestamp, ParseTimestampIn): the forms PostgreSQL
// users write, and wall-clock times without a zone read in the tenant's zone, so that a WHERE
// range and date_trunc in that zone agree.
#include <string>

#include <gtest/gtest.h>

#include "in_memory_engine_test.h"
#include "query/query_engine.h"
#include "query/value.h"
#include "storage/write_batch.h"

namespace seaway::query {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;
constexpr int64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

TEST(TimeLiteralTest, PostgresFormsParse) {
  struct Case {
    const char* text;
    int64_t nanos;
    bool zoned;
  };
  for (const Case& c : {
           Case{"2026-01-01", kStart, false},
           Case{"2026-01-01 08:30", kStart + 8 * kHour + 30 * 60'000'000'000, false},
           Case{"2026-01-01T08:30:00", kStart + 8 * kHour + 30 * 60'000'000'000, false},
           Case{" 2026-01-01 01:00:00.25 ", kStart + kHour + 250'000'000, false},
           Case{"2026-01-01T00:00:00Z", kStart, true},
           Case{"2026-01-01 00:00:00 UTC", kStart, true},
           Case{"2026-01-01 02:00:00+02", kStart, true},
           Case{"2026-01-01 02:00:00 +0200", kStart, true},
           Case{"2026-01-01T02:00:00+02:00", kStart, true},
           Case{"2025-12-31 19:00-05", kStart, true},
       }) {
    bool zoned = !c.zoned;
    auto t = ParseTimestamp(c.text, &zoned);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status();
    EXPECT_EQ(*t, c.nanos) << c.text;
    EXPECT_EQ(zoned, c.zoned) << c.text;
  }
  for (const char* bad : {"yesterday", "2026-13-01", "2026-01-01 25:00", "2026-01-01 01:00+2",
                          "2026-01-01 01:00:00+ab", "2026-02-30"}) {
    auto t = ParseTimestamp(bad);
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(t.status().message().find("write '2026-01-01'"), std::string_view::npos)
        << t.status();
  }
}

TEST(TimeLiteralTest, WallClockTimesWithoutAZoneAreInTheGivenZone) {
  // New York is UTC-5 in January, UTC-4 in July (DST).
  EXPECT_EQ(*ParseTimestampIn("2026-01-01", "America/New_York"), kStart + 5 * kHour);
  EXPECT_EQ(*ParseTimestampIn("2026-07-01 00:00:00.5", "America/New_York"),
            *ParseTimestamp("2026-07-01T04:00:00.5Z"));
  EXPECT_EQ(*ParseTimestampIn("2026-01-01T00:00:00Z", "America/New_York"), kStart);
  EXPECT_EQ(*ParseTimestampIn("2026-01-01 00:00:00+01", "America/New_York"), kStart - kHour);
  EXPECT_EQ(*ParseTimestampIn("2026-01-01", ""), kStart);
  EXPECT_EQ(*ParseTimestampIn("2026-01-01", "UTC"), kStart);
  EXPECT_EQ(ParseTimestampIn("2026-01-01", "Mars/Olympus").status().code(),
            StatusCode::kInvalidArgument);
  // Berlin's clocks skip 02:00-03:00 on 2026-03-29 and repeat it on 2026-10-25: a skipped time
  // reads with the offset before the change (+01), a repeated one as standard time (+01).
  EXPECT_EQ(*ParseTimestampIn("2026-03-29 02:30", "Europe/Berlin"),
            *ParseTimestamp("2026-03-29T01:30:00Z"));
  EXPECT_EQ(*ParseTimestampIn("2026-10-25 02:30", "Europe/Berlin"),
            *ParseTimestamp("2026-10-25T01:30:00Z"));
  EXPECT_EQ(*ParseTimestampIn("2026-10-25 01:30", "Europe/Berlin"),
            *ParseTimestamp("2026-10-24T23:30:00Z"));
  // Past the ends of the range once moved to the zone: refused, not wrapped.
  EXPECT_EQ(ParseTimestampIn("2262-04-11 20:00", "America/New_York").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTimestampIn("1677-09-21 00:20", "Asia/Tokyo").status().code(),
            StatusCode::kInvalidArgument);
}

class TenantZoneQueryTest : public InMemoryEngineTest {
 protected:
  TenantZoneQueryTest() : InMemoryEngineTest(kStart) {}

  // One row an hour for two days from 2026-01-01T00:00Z, v = the hour's number.
  void WriteHours() {
    WriteBatch batch(TenantId(1), "main", "m");
    for (int h = 0; h < 48; ++h) {
      batch.AddRow(kStart + h * kHour);
      ASSERT_TRUE(batch.SetTag("host", "a").ok());
      ASSERT_TRUE(batch.SetDouble("v", h).ok());
    }
    ASSERT_TRUE(engine_->Write(batch).ok());
  }

  std::vector<std::string> Rows(const std::string& sql, const std::string& zone) {
    QueryOptions options;
    options.tenant = TenantId(1);
    options.time_zone = zone;
    auto r = queries_->Execute(sql, options);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& chunk : r->chunks) {
      for (size_t row = 0; row < chunk.rows; ++row) {
        std::string line;
        for (const auto& col : chunk.columns) {
          line += (line.empty() ? "" : " ") + col.Get(row).ToString();
        }
        out.push_back(line);
      }
    }
    return out;
  }
};

TEST_F(TenantZoneQueryTest, ARangeOfLocalDaysMeetsLocalDayBuckets) {
  WriteHours();
  // 2026-01-01 in New York is 05:00Z to 05:00Z the next day: 24 hours, one local day.
  const std::string day =
      "SELECT date_trunc('day', time) AS d, count(*), min(v) FROM m "
      "WHERE time >= '2026-01-01' AND time < '2026-01-02' GROUP BY d ORDER BY d";
  EXPECT_EQ(Rows(day, "America/New_York"), (std::vector<std::string>{"2026-01-01T05:00:00Z 24 5"}));
  EXPECT_EQ(Rows(day, ""), (std::vector<std::string>{"2026-01-01T00:00:00Z 24 0"}));
  // Typed literals and casts read the same way; a literal naming its zone keeps it.
  EXPECT_EQ(Rows("SELECT count(*) FROM m WHERE time >= TIMESTAMP '2026-01-01 00:00:00' AND "
                 "time < '2026-01-01 03:00'::timestamp",
                 "America/New_York"),
            (std::vector<std::string>{"3"}));
  EXPECT_EQ(Rows("SELECT min(v) FROM m WHERE time >= '2026-01-01T00:00:00Z'", "America/New_York"),
            (std::vector<std::string>{"0"}));
  // A NULL of type TEXT stays NULL, as in UTC.
  EXPECT_EQ(Rows("SELECT count(*) FROM m WHERE time > CAST(NULL AS text)", "America/New_York"),
            (std::vector<std::string>{"0"}));
  QueryOptions options;
  options.tenant = TenantId(1);
  options.time_zone = "Europe/Berlin";
  auto bad = queries_->Execute("SELECT count(*) FROM m WHERE time > '2026-01-01 01:00+2'", options);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("cannot cast '2026-01-01 01:00+2' to TIMESTAMP"),
            std::string_view::npos)
      << bad.status();
}

}  // namespace
}  // namespace seaway::query
