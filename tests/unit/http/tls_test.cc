// HttpServer with TLS (src/http/http_server.h) over real loopback sockets: HTTPS keep-alive,
// pipelining, large bodies, limits and overload answers over TLS; plaintext and stalled
// handshakes are dropped while TLS clients keep being served; bad certificates or keys fail Start
// with a message naming the file. Fixture: tests/data/tls (see its README).
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "http/http_server.h"
#include "util/http_test_client.h"

namespace seaway {
namespace {

using testing::HttpTestClient;

const std::string kTlsDir = std::string(SEAWAY_TEST_DATA_DIR) + "/tls";
const std::string kCert = kTlsDir + "/cert.pem";
const std::string kKey = kTlsDir + "/key.pem";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(HttpMethod::kGet, "/hello", "hello", "public",
                SyncHandler([](const HttpRequest&) { return HttpResponse::Text(200, "hi"); }));
    router_.Add(HttpMethod::kPost, "/echo", "echo", "public",
                SyncHandler([](const HttpRequest& r) { return HttpResponse::Text(200, r.body); }));
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  static HttpServerOptions TlsOptions() {
    HttpServerOptions options;
    options.tls_cert_file = kCert;
    options.tls_key_file = kKey;
    return options;
  }

  void StartServer(HttpServerOptions options = TlsOptions()) {
    options.address = HostPort{"127.0.0.1", 0};
    options.threads = 2;
    server_ = std::make_unique<HttpServer>(options, &router_, &metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    port_ = server_->local_address().port;
  }

  // Start() of a TLS server with these files; the server is not kept.
  Status StartWith(const std::string& cert, const std::string& key) {
    HttpServerOptions options;
    options.address = HostPort{"127.0.0.1", 0};
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    HttpServer server(options, &router_, &metrics_);
    return server.Start();
  }

  uint64_t HandshakeFailures() {
    return metrics_.GetCounter("seaway_http_tls_handshake_failures_total", "")->value();
  }

  // A timeout closes the socket before the failed handshake is counted: wait for the count.
  uint64_t HandshakeFailuresAfterWaitingFor(uint64_t expected) {
    for (int i = 0; i < 400 && HandshakeFailures() < expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return HandshakeFailures();
  }

  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(TlsTest, KeepAliveGetLargePostAndPipeliningOnOneConnection) {
  StartServer();
  HttpTestClient client;
  Status connected = client.ConnectTls("127.0.0.1", port_, kCert);
  ASSERT_TRUE(connected.ok()) << connected;

  ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
  auto get = client.ReadResponse();
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hi");

  // Above 64 KiB the server reads the body straight from the stream, past Beast's parser.
  std::string big(300 * 1024 + 5, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                           std::to_string(big.size()) + "\r\n\r\n" + big)
                  .ok());
  auto post = client.ReadResponse();
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_TRUE(post->body == big) << post->body.size();

  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                           "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  EXPECT_EQ(client.ReadResponse()->body, "abc");
  EXPECT_EQ(client.ReadResponse()->body, "hi");

  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           "Expect: 100-continue\r\n\r\n")
                  .ok());
  auto interim = client.ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.SendRaw("data").ok());
  EXPECT_EQ(client.ReadResponse()->body, "data");

  EXPECT_EQ(metrics_.GetCounter("seaway_http_connections_total", "")->value(), 1u);
  EXPECT_EQ(HandshakeFailures(), 0u);
}

TEST_F(TlsTest, CertificateFileMayHoldTheChain) {
  HttpServerOptions options;
  options.tls_cert_file = kTlsDir + "/chain.pem";  // leaf, then the intermediate that signed it
  options.tls_key_file = kTlsDir + "/chain_key.pem";
  StartServer(options);
  HttpTestClient client;  // trusts only the root: the server must send the intermediate
  Status connected = client.ConnectTls("127.0.0.1", port_, kTlsDir + "/chain_root.pem");
  ASSERT_TRUE(connected.ok()) << connected;
  ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  HttpTestClient wrong_root;  // and the client does check: the self-signed fixture is no root here
  EXPECT_FALSE(wrong_root.ConnectTls("127.0.0.1", port_, kCert).ok());
}

TEST_F(TlsTest, ConnectionCloseEndsWithTheResponseDelivered) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.ConnectTls("127.0.0.1", port_, kCert).ok());
  ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hi");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(TlsTest, PlaintextGetsNoHttpResponseAndTlsClientsAreStillServed) {
  StartServer();
  HttpTestClient plain;
  ASSERT_TRUE(plain.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(plain.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto r = plain.ReadResponse();
  EXPECT_FALSE(r.ok()) << "plaintext got HTTP status " << r->status;
  EXPECT_EQ(HandshakeFailuresAfterWaitingFor(1), 1u);

  HttpTestClient tls;
  ASSERT_TRUE(tls.ConnectTls("127.0.0.1", port_, kCert).ok());
  ASSERT_TRUE(tls.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto ok = tls.ReadResponse();
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TlsTest, StalledHandshakeIsDroppedAtTheIoTimeout) {
  HttpServerOptions options = TlsOptions();
  options.io_timeout = Duration::Millis(300);
  StartServer(options);
  HttpTestClient silent;
  ASSERT_TRUE(silent.Connect("127.0.0.1", port_).ok());
  const int64_t begin = Clock::Real()->MonotonicNanos();
  EXPECT_TRUE(silent.ServerClosed());
  EXPECT_LT(Clock::Real()->MonotonicNanos() - begin, Duration::Seconds(3).nanos());
  EXPECT_EQ(HandshakeFailuresAfterWaitingFor(1), 1u);
}

TEST_F(TlsTest, BodyOverLimitIs413OverTls) {
  HttpServerOptions options = TlsOptions();
  options.max_body_bytes = 10;
  StartServer(options);
  HttpTestClient client;
  ASSERT_TRUE(client.ConnectTls("127.0.0.1", port_, kCert).ok());
  ASSERT_TRUE(
      client.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890")
          .ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(TlsTest, ConnectionsOverTheLimitGet503OverTlsWithTheBodyUnread) {
  HttpServerOptions options = TlsOptions();
  options.max_connections = 1;
  StartServer(options);
  HttpTestClient first;
  ASSERT_TRUE(first.ConnectTls("127.0.0.1", port_, kCert).ok());
  ASSERT_TRUE(first.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_EQ(first.ReadResponse()->status, 200);

  HttpTestClient second;
  ASSERT_TRUE(second.ConnectTls("127.0.0.1", port_, kCert).ok());
  const std::string body(200 * 1024, 'b');
  ASSERT_TRUE(second
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body)
                  .ok());
  auto r = second.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers["retry-after"], "1");
  EXPECT_TRUE(second.ServerClosed());
}

TEST_F(TlsTest, StopClosesTlsConnectionsPromptly) {
  StartServer();
  HttpTestClient idle;
  ASSERT_TRUE(idle.ConnectTls("127.0.0.1", port_, kCert).ok());
  ASSERT_TRUE(idle.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_EQ(idle.ReadResponse()->status, 200);
  HttpTestClient handshaking;  // connected, handshake never started
  ASSERT_TRUE(handshaking.Connect("127.0.0.1", port_).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  const int64_t begin = Clock::Real()->MonotonicNanos();
  server_->Stop();
  EXPECT_LT(Clock::Real()->MonotonicNanos() - begin, Duration::Seconds(2).nanos());
  EXPECT_TRUE(idle.ServerClosed());
  EXPECT_TRUE(handshaking.ServerClosed());
  EXPECT_EQ(HandshakeFailures(), 0u);  // closing at Stop is not a failed handshake
}

TEST_F(TlsTest, StartFailsNamingTheFile) {
  struct Case {
    std::string cert, key, named, says;
  };
  const std::string missing = kTlsDir + "/no-such.pem";
  const std::vector<Case> cases = {
      {missing, kKey, missing, "cannot read TLS certificate file"},
      {kCert, missing, missing, "cannot read TLS key file"},
      {kCert, kTlsDir, kTlsDir, "cannot read TLS key file"},  // a directory: read(2) fails
      {kTlsDir + "/README.md", kKey, kTlsDir + "/README.md", "holds no usable PEM certificate"},
      {kKey, kKey, kKey, "holds no usable PEM certificate"},
      {kCert, kCert, kCert, "holds no unencrypted PEM private key"},
      {kCert, kTlsDir + "/other_key.pem", kTlsDir + "/other_key.pem", "does not match"},
  };
  for (const Case& c : cases) {
    Status s = StartWith(c.cert, c.key);
    ASSERT_FALSE(s.ok()) << c.cert << " " << c.key;
    EXPECT_NE(s.message().find("'" + c.named + "'"), std::string_view::npos) << s;
    EXPECT_NE(s.message().find(c.says), std::string_view::npos) << s;
  }
  Status mismatch = StartWith(kCert, kTlsDir + "/other_key.pem");
  EXPECT_NE(mismatch.message().find("certificate in '" + kCert + "'"), std::string_view::npos)
      << mismatch;
  EXPECT_EQ(StartWith(kCert, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StartWith("", kKey).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seaway
