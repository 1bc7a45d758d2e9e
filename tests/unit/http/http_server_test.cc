// HttpServer over real loopback sockets (src/http/http_server.h): keep-alive, pipelining, limits,
// malformed input, Expect: 100-continue, asynchronous replies and shutdown; telling a handler
// that its client left, and streamed responses that give up at their deadline.
#include "http/http_server.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/clock.h"
#include "util/http_test_client.h"

namespace seaway {
namespace {

using testing::HttpTestClient;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(HttpMethod::kGet, "/hello", "hello", "public",
                SyncHandler([](const HttpRequest&) { return HttpResponse::Text(200, "hi"); }));
    router_.Add(HttpMethod::kPost, "/echo", "echo", "public",
                SyncHandler([](const HttpRequest& r) { return HttpResponse::Text(200, r.body); }));
    router_.Add(HttpMethod::kGet, "/async", "async", "public",
                [](const HttpRequest&, HttpReply reply) {
                  std::thread([reply = std::move(reply)]() mutable {
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    reply.Send(HttpResponse::Text(200, "later"));
                  }).detach();
                });
    router_.Add(HttpMethod::kGet, "/never", "never", "public",
                [this](const HttpRequest&, HttpReply reply) {
                  std::lock_guard lock(mu_);
                  parked_.push_back(std::move(reply));
                });
    router_.Add(HttpMethod::kPost, "/park", "park", "public",
                [this](const HttpRequest&, HttpReply reply) {
                  std::lock_guard lock(mu_);
                  parked_.push_back(std::move(reply));
                });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    std::lock_guard lock(mu_);
    parked_.clear();
  }

  void StartServer(HttpServerOptions options = {}) {
    options.address = HostPort{"127.0.0.1", 0};
    options.threads = 2;
    server_ = std::make_unique<HttpServer>(options, &router_, &metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
    port_ = server_->local_address().port;
    ASSERT_NE(port_, 0);
  }

  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<HttpReply> parked_;
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    auto r = client.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hi");
    EXPECT_EQ(r->headers["content-type"], "text/plain");
    EXPECT_TRUE(r->headers["server"].starts_with("seaway/"));
  }
  EXPECT_EQ(
      metrics_.GetCounter("seaway_http_requests_total", "", {{"route", "hello"}, {"code", "200"}})
          ->value(),
      5u);
}

TEST_F(HttpServerTest, PipelinedRequestsAnswerInOrder) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    std::string body = "body" + std::to_string(i);
    batch += fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
                         body.size(), body);
  }
  batch += "GET /async HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(client.SendRaw(batch).ok());
  for (int i = 0; i < 3; ++i) {
    auto r = client.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "body" + std::to_string(i));
  }
  EXPECT_EQ(client.ReadResponse()->body, "later");  // slow reply still comes before the next
  EXPECT_EQ(client.ReadResponse()->body, "hi");
}

TEST_F(HttpServerTest, ChunkedRequestBody) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                  .ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "hello world");
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndCloses) {
  HttpServerOptions options;
  options.max_body_bytes = 10;
  StartServer(options);
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
                           "01234567890")
                  .ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(
      r->body,
      R"json({"error":"request body exceeds the limit of 10 bytes (--http-max-body-bytes)",)json"
      R"json("code":"ResourceExhausted"})json");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(
      client.SendRaw("GET /hello HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndServerKeepsServing) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client.SendRaw("GARBAGE\x01 / HTTP/9.9\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("malformed HTTP request"), std::string::npos);
  auto ok = HttpTestClient::Get(port_, "/hello");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, ExpectContinue) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           "Expect: 100-continue\r\n\r\n")
                  .ok());
  auto interim = client.ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.SendRaw("data").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "data");
}

TEST_F(HttpServerTest, HeadHasLengthButNoBody) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client.SendRaw("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  // Our test client trusts Content-Length, so check the raw bytes after a follow-up request.
  ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto head = client.ReadResponse();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->headers["content-length"], "2");
  // The HEAD response carried no body, so the "body" read above is the next status line's start.
  EXPECT_EQ(head->body, "HT");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok());
  auto r = client.ReadResponse();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, SecondServerOnSamePortFailsClearly) {
  StartServer();
  HttpServerOptions options;
  options.address = HostPort{"127.0.0.1", static_cast<uint16_t>(port_)};
  HttpServer second(options, &router_, &metrics_);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(fmt::format("cannot listen on 127.0.0.1:{}", port_)),
            std::string_view::npos)
      << s;
}

TEST_F(HttpServerTest, UnresolvableHostFailsClearly) {
  HttpServerOptions options;
  options.address = HostPort{"no-such-host.invalid", 0};
  HttpServer server(options, &router_, &metrics_);
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cannot resolve"), std::string_view::npos) << s;
}

TEST_F(HttpServerTest, StopAnswersARequestInProgressThenCloses) {
  router_.Add(HttpMethod::kPost, "/slow-store", "slow_store", "public",
              [](const HttpRequest&, HttpReply reply) {
                std::thread([reply = std::move(reply)]() mutable {
                  std::this_thread::sleep_for(std::chrono::milliseconds(300));
                  reply.Send(HttpResponse::Text(200, "stored"));
                }).detach();
              });
  HttpServerOptions options;
  options.shutdown_grace = Duration::Seconds(5);
  StartServer(options);
  HttpTestClient idle;
  ASSERT_TRUE(idle.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(idle.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_TRUE(idle.ReadResponse().ok());
  HttpTestClient writer;
  ASSERT_TRUE(writer.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(
      writer.SendRaw("POST /slow-store HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the handler is storing

  const int64_t begin = Clock::Real()->MonotonicNanos();
  std::thread stopper([this] { server_->Stop(); });
  // The batch accepted before the stop is answered, not cut off: a client that sees no answer
  // cannot know whether it was stored.
  auto r = writer.ReadResponse();
  const bool writer_closed = writer.ServerClosed();
  stopper.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "stored");
  EXPECT_EQ(r->headers["connection"], "close");
  EXPECT_TRUE(writer_closed);
  EXPECT_TRUE(idle.ServerClosed());
  // Stop waited for the response, not for the whole grace.
  const double seconds = static_cast<double>(Clock::Real()->MonotonicNanos() - begin) / 1e9;
  EXPECT_LT(seconds, 3.0);
}

TEST_F(HttpServerTest, StopClosesIdleAndBusyConnectionsPromptly) {
  HttpServerOptions options;
  options.shutdown_grace = Duration::Millis(200);  // the parked request never gets an answer
  StartServer(options);
  HttpTestClient idle;
  ASSERT_TRUE(idle.Connect("127.0.0.1", port_).ok());
  HttpTestClient busy;
  ASSERT_TRUE(busy.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(busy.SendRaw("GET /never HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  // Wait until the handler has parked the request.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu_);
      if (!parked_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t begin = Clock::Real()->MonotonicNanos();
  server_->Stop();
  const double seconds = static_cast<double>(Clock::Real()->MonotonicNanos() - begin) / 1e9;
  EXPECT_LT(seconds, 2.0);
  EXPECT_TRUE(idle.ServerClosed());
  // Replying after the server stopped must neither crash nor hang.
  std::lock_guard lock(mu_);
  ASSERT_EQ(parked_.size(), 1u);
  parked_[0].Send(HttpResponse::Text(200, "too late"));
  parked_.clear();
}

TEST_F(HttpServerTest, HandlerIsToldWhenItsClientLeavesBeforeTheReply) {
  std::atomic<int> gone{0};
  router_.Add(HttpMethod::kGet, "/watched-async", "watched_async", "public",
              [&gone](const HttpRequest& request, HttpReply reply) {
                request.client->OnGone([&gone] { ++gone; });
                std::thread([reply = std::move(reply)]() mutable {
                  std::this_thread::sleep_for(std::chrono::milliseconds(20));
                  reply.Send(HttpResponse::Text(200, "later"));
                }).detach();
              });
  router_.Add(HttpMethod::kGet, "/watched-park", "watched_park", "public",
              [this, &gone](const HttpRequest& request, HttpReply reply) {
                request.client->OnGone([&gone] { ++gone; });
                std::lock_guard lock(mu_);
                parked_.push_back(std::move(reply));
              });
  StartServer();
  // Replies that come while the client waits: not gone, and the connection stays usable.
  HttpTestClient staying;
  ASSERT_TRUE(staying.Connect("127.0.0.1", port_).ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(staying.SendRaw("GET /watched-async HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    auto r = staying.ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "later");
  }
  EXPECT_EQ(gone.load(), 0);

  HttpTestClient leaving;
  ASSERT_TRUE(leaving.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(leaving.SendRaw("GET /watched-park HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  for (int i = 0; i < 400 &&
                  [&] {
                    std::lock_guard lock(mu_);
                    return parked_.empty();
                  }();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  leaving.Close();
  for (int i = 0; i < 400 && gone.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(gone.load(), 1);
}

TEST_F(HttpServerTest, StreamedResponseGivesUpAtItsDeadlineWhenTheClientDoesNotRead) {
  std::atomic<bool> done{false};
  std::atomic<bool> write_failed{false};
  std::thread producer;
  router_.Add(
      HttpMethod::kGet, "/stream", "stream", "public", [&](const HttpRequest&, HttpReply reply) {
        producer = std::thread([&, reply = std::move(reply)]() mutable {
          HttpResponse head = HttpResponse::Text(200, "", "text/plain");
          head.send_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
          auto stream = reply.StartStream(std::move(head));
          const std::string part(64 * 1024, 'x');
          for (int i = 0; i < 4000 && !write_failed; ++i) {  // 256 MiB at most
            write_failed = !stream->Write(part);
          }
          stream->Finish(false);
          done = true;
        });
      });
  StartServer();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int receive_buffer = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  // The client never reads: without the deadline the producer would wait for the 60 s write
  // timeout.
  for (int i = 0; i < 1000 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(done.load());
  EXPECT_TRUE(write_failed.load());
  ::close(fd);
  server_->Stop();
  if (producer.joinable()) producer.join();
}

TEST_F(HttpServerTest, ManyConcurrentClients) {
  StartServer();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      HttpTestClient c;
      if (!c.Connect("127.0.0.1", port_).ok()) return;
      for (int i = 0; i < 50; ++i) {
        if (!c.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok()) return;
        auto r = c.ReadResponse();
        if (r.ok() && r->status == 200 && r->body == "hi") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503AndAreClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  HttpTestClient first, second, third;
  ASSERT_TRUE(first.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(second.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(first.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_EQ(first.ReadResponse()->status, 200);
  ASSERT_TRUE(second.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_EQ(second.ReadResponse()->status, 200);

  ASSERT_TRUE(third.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(
      third.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").ok());
  auto r = third.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers["retry-after"], "1");
  EXPECT_NE(r->body.find("limit of 2 open connections (--http-max-connections)"), std::string::npos)
      << r->body;
  EXPECT_TRUE(third.ServerClosed());
  EXPECT_EQ(
      metrics_.GetCounter("seaway_http_overload_total", "", {{"limit", "connections"}})->value(),
      1u);

  // Once a connection closes, a new one is served again.
  first.Close();
  third.Close();
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    auto again = HttpTestClient::Get(port_, "/hello");
    served = again.ok() && again->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, BodiesOverTheInflightBudgetGet503UntilMemoryIsFreed) {
  HttpServerOptions options;
  options.max_inflight_bytes = 100 * 1024;
  StartServer(options);
  // A lone body larger than the budget is admitted: nothing else is in flight.
  const std::string big(150 * 1024, 'x');
  HttpTestClient holder;
  ASSERT_TRUE(holder.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(holder
                  .SendRaw("POST /park HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                           std::to_string(big.size()) + "\r\n\r\n" + big)
                  .ok());
  for (int i = 0; i < 500; ++i) {
    std::lock_guard lock(mu_);
    if (!parked_.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(metrics_.GetGauge("seaway_http_inflight_body_bytes", "")->value(),
            static_cast<int64_t>(big.size()));

  // While it is held, another body is refused before it is read; a request without a body is not.
  HttpTestClient other;
  ASSERT_TRUE(other.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(
      other.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789").ok());
  auto r = other.ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers["retry-after"], "1");
  EXPECT_NE(r->body.find("--http-max-inflight-bytes"), std::string::npos) << r->body;
  EXPECT_TRUE(other.ServerClosed());
  auto get = HttpTestClient::Get(port_, "/hello");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 200);

  // The reply frees the budget.
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(parked_.size(), 1u);
    parked_[0].Send(HttpResponse::Text(200, "done"));
    parked_.clear();
  }
  ASSERT_EQ(holder.ReadResponse()->status, 200);
  EXPECT_EQ(metrics_.GetGauge("seaway_http_inflight_body_bytes", "")->value(), 0);
  HttpTestClient later;
  ASSERT_TRUE(later.Connect("127.0.0.1", port_).ok());
  ASSERT_TRUE(later.SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").ok());
  auto ok = later.ReadResponse();
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "abc");
}

TEST_F(HttpServerTest, LargeBodiesArriveWholeAndPipelinedRequestsAfterThemToo) {
  StartServer();
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  HttpTestClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port_).ok());
  // The large body and the request after it in one send: the server must stop reading the body
  // at its length and serve the next request from what it has buffered.
  ASSERT_TRUE(client
                  .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                           std::to_string(big.size()) + "\r\n\r\n" + big +
                           "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" +
                           std::string(70000, 'z') + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  auto first = client.ReadResponse();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(first->body == big) << first->body.size();
  auto second = client.ReadResponse();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, std::string(70000, 'z'));
  auto third = client.ReadResponse();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->body, "hi");
}

}  // namespace
}  // namespace seaway
