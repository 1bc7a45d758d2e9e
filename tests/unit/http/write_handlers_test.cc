// Tests for the write routes (src/http/write_handlers.h), without sockets: authentication,
// partial writes, gzip, precision, both API versions, and the rows landing in the engine.
#include "http/write_handlers.h"

#include <zlib.h>

#include <future>

#include <gtest/gtest.h>

#include "storage/memory_env.h"

namespace seaway {
namespace {

std::string Gzip(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class WriteHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.max_series_per_tenant = 5;  // small, for SeriesPerTenantLimitIs429NamingTheLimit
    auto engine = Engine::Open(&env_, "db", options, &metrics_);
    ASSERT_TRUE(engine.ok());
    engine_ = std::move(*engine);
    auto store = OpenSqliteMetadataStore(":memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    acme_ = *store_->CreateTenant("acme");
    other_ = *store_->CreateTenant("other");
    ASSERT_TRUE(store_->AddToken(acme_, "acme-token-0123456789", "t").ok());
    ASSERT_TRUE(store_->AddToken(other_, "other-token-0123456789", "t").ok());
    context_ = WriteRoutesContext{engine_.get(), store_.get(), &clock_, &metrics_, 1 << 20};
    AddWriteRoutes(&router_, &context_);
  }

  HttpResponse Post(std::string target, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {
                        {"Authorization", "Token acme-token-0123456789"}}) {
    HttpRequest request;
    request.method = HttpMethod::kPost;
    request.target = std::move(target);
    request.body = std::move(body);
    request.headers = std::move(headers);
    std::promise<HttpResponse> promise;
    router_.Dispatch(request, HttpReply([&](HttpResponse r) { promise.set_value(std::move(r)); }));
    return promise.get_future().get();
  }

  size_t Rows(TenantId tenant, std::string db, std::string table) {
    size_t rows = 0;
    ScanRequest r{tenant, std::move(db), std::move(table)};
    Status s = engine_->Scan(r, [&](const SeriesBlock& b) {
      rows += b.rows.times.size();
      return Status::OK();
    });
    return s.ok() ? rows : 0;
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_{Timestamp::FromNanos(1'000)};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MetadataStore> store_;
  TenantId acme_, other_;
  WriteRoutesContext context_;
  Router router_;
};

TEST_F(WriteHandlersTest, V1WriteStoresRowsInTheCallersTenant) {
  HttpResponse r = Post("/write?db=plant&precision=s", "cpu,host=a v=1 10\ncpu,host=b v=2 20\n");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "cpu"), 2u);
  EXPECT_EQ(Rows(other_, "plant", "cpu"), 0u);  // no other tenant sees it
}

TEST_F(WriteHandlersTest, V2WriteWithBearerAndServerTime) {
  HttpResponse r = Post("/api/v2/write?org=x&bucket=plant", "cpu v=1\n",
                        {{"Authorization", "Bearer other-token-0123456789"}});
  EXPECT_EQ(r.status, 204) << r.body;
  ScanRequest req{other_, "plant", "cpu"};
  int64_t time = 0;
  ASSERT_TRUE(engine_
                  ->Scan(req,
                         [&](const SeriesBlock& b) {
                           time = b.rows.times[0];
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(time, 1'000);  // the server's clock
}

TEST_F(WriteHandlersTest, TokenInQueryParameter) {
  EXPECT_EQ(Post("/write?db=plant&u=x&p=acme-token-0123456789", "m v=1 1\n", {}).status, 204);
}

TEST_F(WriteHandlersTest, BasicAuthPasswordIsTheToken) {
  // base64("admin:acme-token-0123456789"), as the influx CLI and Telegraf send it.
  EXPECT_EQ(Post("/write?db=plant", "m v=1 1\n",
                 {{"Authorization", "Basic YWRtaW46YWNtZS10b2tlbi0wMTIzNDU2Nzg5"}})
                .status,
            204);
  EXPECT_EQ(Rows(acme_, "plant", "m"), 1u);
  // base64("admin:wrong"), no colon, and not base64 at all.
  for (std::string bad : {"Basic YWRtaW46d3Jvbmc=", "Basic YWRtaW4=", "Basic !!!"}) {
    EXPECT_EQ(Post("/write?db=plant", "m v=1 2\n", {{"Authorization", bad}}).status, 401) << bad;
  }
  EXPECT_EQ(Rows(acme_, "plant", "m"), 1u);
}

TEST_F(WriteHandlersTest, PingAnswers204WithoutAToken) {
  for (HttpMethod method : {HttpMethod::kGet, HttpMethod::kHead}) {
    HttpRequest request;
    request.method = method;
    request.target = "/ping";
    std::promise<HttpResponse> promise;
    router_.Dispatch(request, HttpReply([&](HttpResponse r) { promise.set_value(std::move(r)); }));
    HttpResponse r = promise.get_future().get();
    EXPECT_EQ(r.status, 204);
    bool version = false;
    for (const auto& [name, value] : r.headers) version |= name == "X-Influxdb-Version";
    EXPECT_TRUE(version);
  }
}

TEST_F(WriteHandlersTest, MissingOrBadTokenIs401WithJson) {
  HttpResponse r = Post("/write?db=plant", "m v=1 1\n", {});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("missing token"), std::string::npos) << r.body;
  r = Post("/write?db=plant", "m v=1 1\n", {{"Authorization", "Token wrong-token-000000000"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"invalid token","code":"Unauthenticated"})");
  EXPECT_EQ(Rows(acme_, "plant", "m"), 0u);
}

TEST_F(WriteHandlersTest, PartialWriteNamesLinesAndKeepsTheRest) {
  HttpResponse r = Post("/write?db=plant", "m v=1 1\nm v=oops 2\nm v=3 3\nbad\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("rejected":[{"line":2,"error":"field 'v': invalid number 'oops'"},)"
                        R"({"line":4,"error":"missing fields"}])"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("partial write: 2 line(s) rejected, 2 stored"), std::string::npos);
  EXPECT_EQ(Rows(acme_, "plant", "m"), 2u);
  EXPECT_EQ(
      metrics_.GetCounter("seaway_ingest_rejected_lines_total", "", {{"tenant", "1"}})->value(),
      2u);
}

TEST_F(WriteHandlersTest, LinesTheStoredSchemaRefusesAreNamedAndTheRestStored) {
  ASSERT_EQ(Post("/write?db=plant", "batch,site=a v=1.5 1\n").status, 204);
  HttpResponse r = Post("/write?db=plant",
                        "batch v=\"x\" 41\nbatch v=42 42\nbatch,v=t w=1 43\nother b=2 44\n"
                        "batch v=43 9223372036854775807\nbatch site=1 45\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("partial write: 4 line(s) rejected, 2 stored"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":1,"error":"table 'batch' field 'v': type string conflicts )"
                        R"(with stored type float"})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":3,"error":"table 'batch': 'v' is already a field and )"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":5,"error":"time 9223372036854775807 ns is outside)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":6,"error":"table 'batch': 'site' is already a tag)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "batch"), 2u);
  EXPECT_EQ(Rows(acme_, "plant", "other"), 1u);

  // JSON items the same way.
  r = Post(
      "/api/v1/telemetry?db=plant",
      R"([{"table":"batch","fields":{"v":"oops"},"time":50},)"
      R"({"table":"batch","fields":{"v":7},"time":51},{"table":"other","fields":{"b":1},"time":52}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"({"item":1,"error":"table 'batch' field 'v': type string)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "batch"), 3u);
  EXPECT_EQ(Rows(acme_, "plant", "other"), 2u);
}

// A new table has no stored schema to check against: lines that conflict with each other (a
// name that is a tag and a field, too many columns) were refused by the engine as a whole
// batch, the table's good lines lost with them and no line named.
TEST_F(WriteHandlersTest, LinesOfANewTableThatConflictWithEachOtherAreNamedAndTheRestStored) {
  HttpResponse r = Post("/write?db=plant",
                        "fresh,a=x b=1 1\nfresh a=1 2\nfresh,c=y c=1 3\nfresh b=2 4\nok v=1 5\n");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("partial write: 2 line(s) rejected, 3 stored"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":2,"error":"table 'fresh': 'a' is both a tag and a field"})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"line":3,"error":"table 'fresh': 'c' is both a tag and a field"})"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "fresh"), 2u);
  EXPECT_EQ(Rows(acme_, "plant", "ok"), 1u);

  // More columns than a table holds, over several lines of a new table: the line that passes
  // the limit is refused, the lines before it stored.
  std::string body;
  for (int line = 0; line < 5; ++line) {
    body += "wide ";
    for (int f = 0; f < 250; ++f) body += fmt::format("{}f{}_{}=1", f == 0 ? "" : ",", line, f);
    body += fmt::format(" {}\n", 10 + line);
  }
  r = Post("/write?db=plant", body);
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("partial write: 1 line(s) rejected, 4 stored"), std::string::npos)
      << r.body.substr(0, 300);
  EXPECT_NE(r.body.find(R"({"line":5,"error":"table 'wide': 1250 columns would exceed )"),
            std::string::npos)
      << r.body.substr(0, 300);
  EXPECT_EQ(Rows(acme_, "plant", "wide"), 4u);

  // JSON items the same way (in the other tenant: this one is at the fixture's series limit).
  r = Post("/api/v1/telemetry?db=plant",
           R"({"table":"fresh2","tags":{"a":"x"},"fields":{"b":1},"time":1})"
           "\n"
           R"({"table":"fresh2","fields":{"a":1},"time":2})"
           "\n"
           R"({"table":"fresh2","fields":{"b":2},"time":3})",
           {{"Authorization", "Token other-token-0123456789"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find(R"({"item":2,"error":"table 'fresh2': 'a' is both a tag and a field"})"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(other_, "plant", "fresh2"), 2u);
}

// SQL reads system.<table> as its system tables: rows written to database 'system' were
// acknowledged (204) and could never be queried.
TEST_F(WriteHandlersTest, DatabaseSystemIsRefused) {
  for (const char* target :
       {"/write?db=system", "/api/v2/write?bucket=system", "/api/v1/telemetry?db=system"}) {
    const bool json = std::string_view(target).starts_with("/api/v1");
    HttpResponse r =
        Post(target, json ? R"({"table":"m","fields":{"v":1},"time":1})" : "m v=1 1\n");
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_NE(r.body.find("database 'system' is reserved"), std::string::npos) << r.body;
    EXPECT_EQ(Rows(acme_, "system", "m"), 0u) << target;
  }
  EXPECT_EQ(Post("/write?db=System", "m v=1 1\n").status, 204);  // names are case-sensitive
}

TEST_F(WriteHandlersTest, ConfiguredLimitsAreEnforcedAndNamed) {
  context_.limits.max_tags = 1;
  context_.limits.max_line_bytes = 40;
  HttpResponse r = Post("/write?db=plant",
                        "m,a=1 v=1 1\nm,a=1,b=2 v=2 2\nm v=\"" + std::string(40, 'x') + "\" 3\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"({"line":2,"error":"more than 1 tags"})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"line":3,"error":"line is 48 bytes, over the limit of 40"})"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "m"), 1u);
}

TEST_F(WriteHandlersTest, GzipBodies) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Authorization", "Token acme-token-0123456789"}, {"Content-Encoding", "gzip"}};
  EXPECT_EQ(Post("/write?db=plant", Gzip("m v=1 1\nm v=2 2\n"), headers).status, 204);
  EXPECT_EQ(Rows(acme_, "plant", "m"), 2u);
  HttpResponse bad = Post("/write?db=plant", "not gzip at all", headers);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("gzip body is malformed"), std::string::npos) << bad.body;
  // A small body that inflates past the limit is refused, not buffered.
  HttpResponse bomb = Post("/write?db=plant", Gzip(std::string(2 << 20, 'a')), headers);
  EXPECT_EQ(bomb.status, 413) << bomb.body;
}

TEST_F(WriteHandlersTest, BadParameters) {
  EXPECT_EQ(Post("/write", "m v=1 1\n").body,
            R"({"error":"missing 'db' query parameter","code":"InvalidArgument"})");
  EXPECT_EQ(Post("/api/v2/write?org=x", "m v=1 1\n").body,
            R"({"error":"missing 'bucket' query parameter","code":"InvalidArgument"})");
  EXPECT_EQ(Post("/write?db=plant&precision=w", "m v=1 1\n").status, 400);
  // InfluxDB 1.x's m and h; a v1 "db/rp" bucket names the database.
  EXPECT_EQ(Post("/write?db=plant&precision=h", "hours v=1 1\n").status, 204);
  EXPECT_EQ(Post("/api/v2/write?bucket=plant/autogen&precision=m", "minutes v=1 2\n").status, 204);
  EXPECT_EQ(Rows(acme_, "plant", "hours"), 1u);
  EXPECT_EQ(Rows(acme_, "plant", "minutes"), 1u);
  // Encodings other than gzip are refused, not read as plain text.
  HttpResponse deflate =
      Post("/write?db=plant", "m v=1 1\n",
           {{"Authorization", "Token acme-token-0123456789"}, {"Content-Encoding", "br"}});
  EXPECT_EQ(deflate.status, 415);
  EXPECT_NE(deflate.body.find("Content-Encoding 'br' is not supported"), std::string::npos)
      << deflate.body;
}

TEST_F(WriteHandlersTest, JsonTelemetryObjectArrayAndNdjson) {
  HttpResponse r = Post("/api/v1/telemetry",
                        R"({"table":"boiler","tags":{"site":"north"},"fields":{"temp":81.5},)"
                        R"("time":"2026-11-25T18:45:42Z"})");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Rows(acme_, "main", "boiler"), 1u);

  r = Post("/api/v1/telemetry?db=plant",
           R"([{"table":"boiler","fields":{"temp":80}},{"table":"boiler","fields":{"temp":[1]}},)"
           R"({"table":"pump","fields":{"rpm":1200,"on":true},"time":1700000000000000000}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("partial write: 1 item(s) rejected, 2 stored"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("rejected":[{"item":2,"error":"field 'temp': arrays are not supported)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "boiler"), 1u);
  EXPECT_EQ(Rows(acme_, "plant", "pump"), 1u);

  r = Post("/api/v1/telemetry?db=plant",
           "{\"table\":\"pump\",\"fields\":{\"rpm\":1},\"time\":5}\r\n\n"
           "{\"table\":\"pump\",\"fields\":{\"rpm\":2},\"time\":6}\n");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "pump"), 3u);
  EXPECT_EQ(metrics_.GetCounter("seaway_ingest_json_items_total", "", {{"tenant", "1"}})->value(),
            5u);
  EXPECT_EQ(metrics_.GetCounter("seaway_ingest_json_rejected_items_total", "", {{"tenant", "1"}})
                ->value(),
            1u);
}

TEST_F(WriteHandlersTest, JsonTelemetryNeedsATokenAndNamesBadDocuments) {
  HttpResponse r = Post("/api/v1/telemetry", R"({"table":"t","fields":{"v":1}})", {});
  EXPECT_EQ(r.status, 401);
  r = Post("/api/v1/telemetry", R"({"table":"t","fields":{"v":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid JSON at byte offset"), std::string::npos) << r.body;
  // Another tenant's token writes into that tenant only.
  r = Post("/api/v1/telemetry", R"({"table":"t","fields":{"v":1}})",
           {{"Authorization", "Bearer other-token-0123456789"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Rows(other_, "main", "t"), 1u);
  EXPECT_EQ(Rows(acme_, "main", "t"), 0u);
}

TEST_F(WriteHandlersTest, SeriesPerTenantLimitIs429NamingTheLimit) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += fmt::format("m,host=h{} v=1 1\n", i);
  EXPECT_EQ(Post("/write?db=plant", body).status, 204);
  // Existing series keep taking rows; a sixth series is refused with the limit named.
  EXPECT_EQ(Post("/write?db=plant", "m,host=h0 v=2 2\n").status, 204);
  HttpResponse r = Post("/write?db=plant", "m,host=h9 v=1 1\n");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("tenant 1 has 5 series, the limit (--max-series-per-tenant)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("'m,host=h9'"), std::string::npos) << r.body;
  EXPECT_EQ(Rows(acme_, "plant", "m"), 6u);
  // The limit is per tenant: another tenant still creates series.
  EXPECT_EQ(Post("/write?db=plant", "m,host=h9 v=1 1\n",
                 {{"Authorization", "Bearer other-token-0123456789"}})
                .status,
            204);
}

}  // namespace
}  // namespace seaway
