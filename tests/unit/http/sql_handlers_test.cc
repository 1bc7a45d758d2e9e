// Tests for the SQL endpoint (src/http/sql_handlers.h) on a real HttpServer over loopback: a write
// then a query, authentication, error statuses with caret messages, CSV and NDJSON streamed in
// chunks, failures after streaming began, tenant isolation and the query metrics; the limits
// that keep the query threads available: deadlines counted from arrival, clients that stop
// reading, clients that leave while their query waits.
#include "http/sql_handlers.h"

#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include "http/http_server.h"
#include "http/write_handlers.h"
#include "storage/memory_env.h"

namespace seaway {
namespace {

struct RawResponse {
  int status = 0;
  std::string headers;  // lower-cased header block
  std::string body;     // de-chunked
  bool chunked = false;
  bool complete = false;  // the last chunk (or the whole Content-Length) arrived
};

// Connects and sends `request`; -1 when the connection fails. A `receive_buffer` above 0 shrinks
// the socket's receive buffer, so that a client that does not read holds the server back soon.
int SendRequest(int port, const std::string& request, int receive_buffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  const timeval timeout{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  return fd;
}

// Reads until the server closes the connection, and closes it.
RawResponse ReadResponse(int fd) {
  RawResponse out;
  if (fd < 0) return out;
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  out.status = std::stoi(raw.substr(9, 3));
  out.headers = raw.substr(0, end);
  for (char& c : out.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = raw.substr(end + 4);
  out.chunked = out.headers.find("transfer-encoding: chunked") != std::string::npos;
  if (!out.chunked) {
    out.body = rest;
    out.complete = true;
    return out;
  }
  size_t pos = 0;
  while (pos < rest.size()) {
    const size_t line_end = rest.find("\r\n", pos);
    if (line_end == std::string::npos) break;
    const size_t size = std::stoul(rest.substr(pos, line_end - pos), nullptr, 16);
    if (size == 0) {
      out.complete = true;
      break;
    }
    if (line_end + 2 + size > rest.size()) break;
    out.body.append(rest, line_end + 2, size);
    pos = line_end + 2 + size + 2;
  }
  return out;
}

// Sends `request` on a fresh connection and reads until the server closes it.
RawResponse Exchange(int port, const std::string& request) {
  return ReadResponse(SendRequest(port, request));
}

std::string Post(std::string target, std::string body, std::string token) {
  std::string auth = token.empty() ? "" : "Authorization: Token " + token + "\r\n";
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{}Content-Length: {}\r\n\r\n{}", target,
      auth, body.size(), body);
}

// Post with `headers` (each "Name: value") before the body.
std::string PostWith(std::string target, std::string body, std::string token,
                     std::string_view headers) {
  std::string request = Post(std::move(target), std::move(body), std::move(token));
  request.insert(request.find("Content-Length"), headers);
  return request;
}

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

std::string SqlBody(std::string_view sql) {
  return nlohmann::json{{"query", std::string(sql)}}.dump();
}

constexpr char kAcme[] = "acme-token-0123456789";
constexpr char kOther[] = "other-token-0123456789";

class SqlHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(SqlServiceOptions{}); }

  void Start(SqlServiceOptions options) {
    auto engine = Engine::Open(&env_, "db", EngineOptions{}, &metrics_);
    ASSERT_TRUE(engine.ok());
    engine_ = std::move(*engine);
    auto store = OpenSqliteMetadataStore(":memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    acme_ = *store_->CreateTenant("acme");
    other_ = *store_->CreateTenant("other");
    ASSERT_TRUE(store_->AddToken(acme_, kAcme, "t").ok());
    ASSERT_TRUE(store_->AddToken(other_, kOther, "t").ok());
    write_context_ = WriteRoutesContext{engine_.get(), store_.get(), &clock_, &metrics_, 64 << 20};
    AddWriteRoutes(&router_, &write_context_);
    queries_ = std::make_unique<query::QueryEngine>(engine_.get(), &clock_);
    options.flush_bytes = 4096;  // small, so modest results stream in many chunks
    sql_ = std::make_unique<SqlService>(queries_.get(), store_.get(), &metrics_, options);
    sql_->AddRoutes(&router_);
    HttpServerOptions http;
    http.address = {"127.0.0.1", 0};
    http.threads = 2;
    http_ = std::make_unique<HttpServer>(http, &router_, &metrics_);
    ASSERT_TRUE(http_->Start().ok());
    port_ = http_->local_address().port;
  }

  void TearDown() override {
    http_->Stop();
    sql_->Stop();
    engine_->Close();
  }

  void Write(const std::string& lines, const char* token = kAcme) {
    RawResponse r = Exchange(port_, Post("/write?db=main&precision=s", lines, token));
    ASSERT_EQ(r.status, 204) << r.body;
  }

  RawResponse Sql(std::string_view sql, std::string format = "", const char* token = kAcme) {
    return Exchange(port_, Post("/api/v1/sql" + (format.empty() ? "" : "?format=" + format),
                                SqlBody(sql), token));
  }

  // The value of a metric's line, e.g. `seaway_sql_queries_total{status="ok"}`; 0 when absent.
  double Metric(std::string_view name) {
    const std::string text = "\n" + metrics_.RenderPrometheus();
    const size_t at = text.find(fmt::format("\n{} ", name));
    return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size() + 2));
  }

  // Polls the metric until it reaches `value`; false after `seconds`.
  bool WaitForMetric(std::string_view name, double value, double seconds = 10) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (Metric(name) != value) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // Sends a query whose JSON result (1,000,000 rows, over 100 MB) the client never reads, so its
  // query thread waits on the connection.
  int StartStalledQuery() {
    WriteBig(1000);
    return SendRequest(port_,
                       Post("/api/v1/sql", SqlBody("SELECT * FROM big a CROSS JOIN big b"), kAcme),
                       /*receive_buffer=*/4096);
  }

  // `rows` rows of table big: two series, a double, a string that needs CSV quoting.
  void WriteBig(int rows) {
    std::string lines;
    for (int i = 0; i < rows; ++i) {
      lines += fmt::format("big,host=h{} v={}.5,s=\"a,{}\" {}\n", i % 2, i, i, 1'000'000 + i);
    }
    Write(lines);
  }

  MemoryEnv env_;
  MetricsRegistry metrics_;
  ManualClock clock_{Timestamp::FromNanos(1'767'225'600'000'000'000)};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MetadataStore> store_;
  TenantId acme_, other_;
  WriteRoutesContext write_context_;
  Router router_;
  std::unique_ptr<query::QueryEngine> queries_;
  std::unique_ptr<SqlService> sql_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
};

TEST_F(SqlHandlersTest, WriteThenQueryAsJson) {
  Write("cpu,host=a usage=1.5,n=3i 1767225600\ncpu,host=b usage=2.25,n=4i 1767225601\n");
  RawResponse r = Sql("SELECT time, host, usage, n FROM cpu ORDER BY host");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers.find("content-type: application/json"), std::string::npos);
  EXPECT_FALSE(r.chunked);  // small: sent whole
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["columns"][0], (nlohmann::json{{"name", "time"}, {"type", "TIMESTAMP"}}));
  EXPECT_EQ(doc["columns"][2]["type"], "DOUBLE");
  EXPECT_EQ(doc["columns"][3]["type"], "BIGINT");
  EXPECT_EQ(doc["rows"], nlohmann::json::parse(R"([["2026-01-01T00:00:00Z","a",1.5,3],
                                                   ["2026-01-01T00:00:01Z","b",2.25,4]])"));
}

TEST_F(SqlHandlersTest, CastsAreNamedAndRoundedAsInPostgres) {
  Write("cpu,host=a usage=1.256 1767225600\ncpu,host=a usage=2.5 1767225601\n");
  RawResponse r =
      Sql("SELECT CAST(avg(usage) AS numeric(10, 2)), usage::decimal(6,1), (usage * 2)::bigint, "
          "INTERVAL '1 year 2 months 3 days', max(time) - min(time) "
          "FROM cpu GROUP BY usage ORDER BY usage");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = nlohmann::json::parse(r.body);
  std::vector<std::string> names;
  for (const auto& c : doc["columns"]) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"avg", "usage", "bigint", "?column?", "?column?"}));
  EXPECT_EQ(doc["rows"],
            nlohmann::json::parse(R"([[1.26, 1.3, 3, "1 year 2 mons 3 days", "00:00:00"],
                                                   [2.5, 2.5, 5, "1 year 2 mons 3 days", "00:00:00"]])"));
  r = Sql("SELECT CAST(usage AS numeric(10, 16)) FROM cpu");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("the scale must be between 0 and 15"), std::string::npos) << r.body;
}

// Doubles of 16 integer digits are written in scientific notation, as PostgreSQL's float8 output
// and ::text write them (CSV and JSON wrote 1000000000000000 for 1e+15).
TEST_F(SqlHandlersTest, DoublesAreWrittenAsPostgresWritesThem) {
  const std::string query =
      "SELECT 1e15 AS a, -1234567890123456.0 AS b, 1e15 + 0.5 AS c, 999999999999999.0 AS d, "
      "1e16 AS e, 0.0001 AS f, 0.00001 AS g, (1e15)::text AS h";
  RawResponse r = Sql(query, "csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "a,b,c,d,e,f,g,h\n1e+15,-1.234567890123456e+15,1.0000000000000005e+15,"
            "999999999999999,1e+16,0.0001,1e-05,1e+15\n");
  r = Sql(query);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("rows":[[1e+15,-1.234567890123456e+15,1.0000000000000005e+15,)"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["rows"][0][0].get<double>(), 1e15);
}

TEST_F(SqlHandlersTest, GetWithQueryParameter) {
  RawResponse r = Exchange(port_,
                           "GET /api/v1/sql?q=SELECT%201%20AS%20one&format=csv HTTP/1.1\r\n"
                           "Host: t\r\nConnection: close\r\nAuthorization: Bearer " +
                               std::string(kAcme) + "\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "one\n1\n");
}

TEST_F(SqlHandlersTest, NoTokenIs401AndBadTokenToo) {
  RawResponse r = Sql("SELECT 1", "", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("missing token"), std::string::npos) << r.body;
  EXPECT_EQ(Sql("SELECT 1", "", "nope-nope-nope").status, 401);
}

TEST_F(SqlHandlersTest, SyntaxErrorIs400WithCaret) {
  RawResponse r = Sql("SELECT 1 +\nFROM cpu");
  ASSERT_EQ(r.status, 400);
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["code"], "InvalidArgument");
  const std::string message = doc["error"];
  EXPECT_NE(message.find("line 2, column 1"), std::string::npos) << message;
  EXPECT_NE(message.find("\nFROM cpu\n^"), std::string::npos) << message;
}

TEST_F(SqlHandlersTest, BadRequestsAre400) {
  EXPECT_EQ(Exchange(port_, Post("/api/v1/sql", "not json", kAcme)).status, 400);
  EXPECT_EQ(Exchange(port_, Post("/api/v1/sql", R"({"query":5})", kAcme)).status, 400);
  EXPECT_EQ(Exchange(port_, Post("/api/v1/sql", R"({"query":"  "})", kAcme)).status, 400);
  RawResponse r = Sql("SELECT 1", "xml");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown result format"), std::string::npos) << r.body;
}

// A key the endpoint does not know is refused by name, not ignored ({"db": ...} would otherwise
// query the default database).
TEST_F(SqlHandlersTest, UnknownBodyKeyIs400NamingIt) {
  RawResponse r =
      Exchange(port_, Post("/api/v1/sql", R"({"query":"SELECT 1","db":"plant"})", kAcme));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find(R"(unknown key \"db\" in the JSON body (the accepted keys are \"query\", )"
                        R"(\"database\" and \"format\"))"),
            std::string::npos)
      << r.body;
  r = Exchange(port_, Post("/api/v1/sql",
                           R"({"query":"SELECT 1","database":"main","format":"csv"})", kAcme));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SqlHandlersTest, UnknownTableIs404) {
  RawResponse r = Sql("SELECT * FROM nowhere");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("nowhere"), std::string::npos);
}

// A gzip body is inflated as the write routes inflate theirs; other encodings are refused (415)
// rather than read as JSON.
TEST_F(SqlHandlersTest, GzipBodiesAreInflated) {
  Write("cpu,host=a usage=1.5 1767225600\n");
  RawResponse r = Exchange(
      port_, PostWith("/api/v1/sql?format=csv", Gzip(SqlBody("SELECT host, usage FROM cpu")), kAcme,
                      "Content-Encoding: gzip\r\n"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "host,usage\na,1.5\n");

  r = Exchange(port_,
               PostWith("/api/v1/sql", "not gzip at all", kAcme, "Content-Encoding: GZIP\r\n"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("gzip body is malformed"), std::string::npos) << r.body;

  // Past the limit once inflated (a 25 MiB default, as for writes): 413.
  r = Exchange(port_, PostWith("/api/v1/sql", Gzip(std::string(26 << 20, ' ')), kAcme,
                               "Content-Encoding: gzip\r\n"));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("after decompression"), std::string::npos) << r.body;

  r = Exchange(port_,
               PostWith("/api/v1/sql", SqlBody("SELECT 1"), kAcme, "Content-Encoding: br\r\n"));
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_NE(r.body.find("Content-Encoding 'br' is not supported: send the body plain or gzip"),
            std::string::npos)
      << r.body;
}

// A request's database that does not exist is what the error names, not the table.
TEST_F(SqlHandlersTest, UnknownDatabaseIs404NamingIt) {
  Write("cpu,host=a usage=1 1767225600\n");
  RawResponse r = Exchange(
      port_, Post("/api/v1/sql", R"({"query":"SELECT * FROM cpu","database":"mian"})", kAcme));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find(R"(database \"mian\" does not exist (did you mean \"main\"?))"),
            std::string::npos)
      << r.body;
  r = Sql("SELECT * FROM nosuchdb.cpu");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find(R"(database \"nosuchdb\" does not exist)"), std::string::npos) << r.body;
}

TEST_F(SqlHandlersTest, CsvStreamsInChunks) {
  WriteBig(3000);
  RawResponse r = Sql("SELECT host, v, s FROM big", "csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.headers.find("content-type: text/csv"), std::string::npos);
  EXPECT_GT(r.body.size(), 4096u * 4);
  std::istringstream lines(r.body);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "host,v,s");
  size_t rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    EXPECT_EQ(line.find("\"a,"), line.find(',', line.find(',') + 1) + 1) << line;
  }
  EXPECT_EQ(rows, 3000u);
}

TEST_F(SqlHandlersTest, NdjsonStreamsColumnsThenRows) {
  WriteBig(3000);
  RawResponse r = Sql("SELECT time, v FROM big WHERE host = 'h1'", "ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.complete);
  std::istringstream lines(r.body);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(nlohmann::json::parse(line)["columns"][1]["name"], "v");
  size_t rows = 0;
  while (std::getline(lines, line)) {
    auto row = nlohmann::json::parse(line);
    ASSERT_TRUE(row.is_array());
    EXPECT_EQ(row[1].get<double>(), 2 * static_cast<double>(rows) + 1.5);
    ++rows;
  }
  EXPECT_EQ(rows, 1500u);
}

TEST_F(SqlHandlersTest, LargeJsonStaysOneDocument) {
  WriteBig(2000);
  RawResponse r = Sql("SELECT * FROM big");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(nlohmann::json::parse(r.body)["rows"].size(), 2000u);
}

TEST_F(SqlHandlersTest, FailureAfterStreamingEndsWithErrorRecordAndCutsTheBody) {
  WriteBig(3000);
  // Series h0 streams first; the cast fails on the first row of series h1.
  const std::string sql =
      "SELECT v, CAST(CASE WHEN host = 'h1' THEN 'x' ELSE '1' END AS BIGINT) "
      "AS c FROM big";
  RawResponse r = Sql(sql, "csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.complete);
  const std::string last = r.body.substr(r.body.rfind('\n', r.body.size() - 2) + 1);
  EXPECT_EQ(last.rfind("#ERROR InvalidArgument: ", 0), 0u) << last;
  r = Sql(sql, "json");
  EXPECT_FALSE(r.complete);
  auto doc = nlohmann::json::parse(r.body);  // still one valid document
  EXPECT_EQ(doc["code"], "InvalidArgument");
  EXPECT_GT(doc["rows"].size(), 0u);
}

TEST_F(SqlHandlersTest, TenantsSeeOnlyTheirTables) {
  Write("secret v=1 1\n");
  EXPECT_EQ(Sql("SELECT * FROM secret").status, 200);
  RawResponse r = Sql("SELECT * FROM secret", "", kOther);
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_F(SqlHandlersTest, MetricsCountQueriesByStatus) {
  (void)Sql("SELECT 1");
  (void)Sql("SELECT * FROM nowhere");
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("seaway_sql_queries_total{status=\"ok\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("seaway_sql_queries_total{status=\"NotFound\"} 1"), std::string::npos);
  EXPECT_NE(text.find("seaway_sql_query_duration_seconds_count 2"), std::string::npos);
}

// Each test starts the service with its own limits.
class SqlLimitsTest : public SqlHandlersTest {
 protected:
  void SetUp() override {}
};

TEST_F(SqlLimitsTest, ClientThatStopsReadingIsCutAtTheDeadline) {
  SqlServiceOptions options;
  options.threads = 1;
  options.timeout = std::chrono::milliseconds(1000);
  Start(options);
  const auto sent = std::chrono::steady_clock::now();
  const int stalled = StartStalledQuery();
  // The query's thread waits for the client to read; past the deadline (and its grace) the
  // response is cut, the thread freed and the query counted as timed out (not after the HTTP
  // write timeout of 60 s).
  ASSERT_TRUE(WaitForMetric(R"(seaway_sql_queries_total{status="ResourceExhausted"})", 1));
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(5));
  // The query is counted before its thread leaves the running set: wait for that too.
  EXPECT_TRUE(WaitForMetric("seaway_sql_queries_running", 0));
  RawResponse r = ReadResponse(stalled);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_FALSE(r.complete);  // cut short, no last chunk
  EXPECT_EQ(Sql("SELECT 1").status, 200);
}

TEST_F(SqlLimitsTest, QueuedQueriesOfClientsThatLeaveAreDropped) {
  SqlServiceOptions options;
  options.threads = 1;
  Start(options);
  const int stalled = StartStalledQuery();  // holds the only thread (30 s deadline)
  ASSERT_TRUE(WaitForMetric("seaway_sql_queries_running", 1));
  std::vector<int> leaving;
  for (int i = 0; i < 5; ++i) {
    leaving.push_back(SendRequest(port_, Post("/api/v1/sql", SqlBody("SELECT 1"), kAcme)));
  }
  ASSERT_TRUE(WaitForMetric("seaway_sql_queries_queued", 5));
  for (int fd : leaving) ::close(fd);
  // Their slots free as soon as the disconnects are seen, long before a thread is.
  ASSERT_TRUE(WaitForMetric(R"(seaway_sql_queries_total{status="ClientGone"})", 5));
  EXPECT_EQ(Metric("seaway_sql_queries_queued"), 0);
  EXPECT_EQ(Metric("seaway_sql_queries_running"), 1);
  EXPECT_EQ(Metric(R"(seaway_sql_queries_total{status="ok"})"), 0);
  ::close(stalled);  // the running query's write fails: gone too, and the thread is free
  ASSERT_TRUE(WaitForMetric(R"(seaway_sql_queries_total{status="ClientGone"})", 6));
  EXPECT_EQ(Sql("SELECT 1").status, 200);
  EXPECT_EQ(Metric(R"(seaway_sql_queries_total{status="ok"})"), 1);
}

TEST_F(SqlLimitsTest, TimeoutCountsFromArrivalSoQueuedQueriesExpire) {
  SqlServiceOptions options;
  options.threads = 1;
  options.timeout = std::chrono::milliseconds(1000);
  options.stream_grace = std::chrono::milliseconds(3000);  // the stalled query holds on to 4 s
  Start(options);
  const int stalled = StartStalledQuery();
  ASSERT_TRUE(WaitForMetric("seaway_sql_queries_running", 1));
  // Waits behind the stalled query; at its deadline it is answered without running, without
  // waiting for the thread.
  const auto sent = std::chrono::steady_clock::now();
  RawResponse r = Sql("SELECT 1");
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(2500));
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.headers.find("retry-after: 1"), std::string::npos) << r.headers;
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_EQ(doc["code"], "Unavailable");
  const std::string message = doc["error"];
  EXPECT_NE(message.find("waited in the queue for "), std::string::npos) << message;
  EXPECT_NE(message.find("--sql-timeout-ms"), std::string::npos) << message;
  EXPECT_EQ(Metric(R"(seaway_sql_queries_total{status="QueueTimeout"})"), 1);
  ::close(stalled);
}

TEST(SqlHttpStatusTest, MapsQueryErrors) {
  EXPECT_EQ(SqlHttpStatus(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(SqlHttpStatus(StatusCode::kNotFound), 404);
  EXPECT_EQ(SqlHttpStatus(StatusCode::kResourceExhausted), 422);
  EXPECT_EQ(SqlHttpStatus(StatusCode::kUnavailable), 503);
  EXPECT_EQ(SqlHttpStatus(StatusCode::kInternal), 500);
}

}  // namespace
}  // namespace seaway
