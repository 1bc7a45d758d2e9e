// HttpServer implementation on Boost.Beast (src/http). The only file of the HTTP front end that
// includes Beast. One Session template serves both transports: a plain TCP stream, or a TLS
// stream on top of it; only the handshake and the closing of a connection differ.
#include "http/http_server.h"

#include <poll.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/clock.h"
#include "common/logging.h"
#include "common/result.h"
#include "common/tls_context.h"
#include "common/version.h"
#include "net/io_context_pool.h"

namespace seaway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

HttpMethod FromVerb(http::verb verb) {
  switch (verb) {
    case http::verb::get: return HttpMethod::kGet;
    case http::verb::head: return HttpMethod::kHead;
    case http::verb::post: return HttpMethod::kPost;
    case http::verb::put: return HttpMethod::kPut;
    case http::verb::patch: return HttpMethod::kPatch;
    case http::verb::delete_: return HttpMethod::kDelete;
    case http::verb::options: return HttpMethod::kOptions;
    default: return HttpMethod::kOther;
  }
}

constexpr uint64_t kDirectBodyBytes = 64 * 1024;

std::chrono::nanoseconds ToChrono(Duration d) { return std::chrono::nanoseconds(d.nanos()); }

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1,    2.5};

// What Stop needs of a connection, whichever its transport.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual asio::any_io_executor executor() = 0;
  // Closes the connection at once. REQUIRES: called on executor().
  virtual void Close() = 0;
  // The server is stopping: closes at once if no request is in progress, else once its response
  // is written. REQUIRES: called on executor().
  virtual void CloseWhenIdle() = 0;
};

}  // namespace

// Lets replies that arrive after Stop find out that the server is gone without touching it.
struct ReplyGate {
  std::mutex mu;
  bool open = true;
};

struct HttpServer::Impl {
  Impl(HttpServerOptions o, const Router* r, MetricsRegistry* m)
      : options(std::move(o)),
        router(r),
        metrics(m),
        gate(std::make_shared<ReplyGate>()),
        pool(options.threads),
        acceptor(asio::make_strand(pool.AcceptContext())) {
    active_connections =
        metrics->GetGauge("seaway_http_connections_active", "Open HTTP connections");
    accepted_connections =
        metrics->GetCounter("seaway_http_connections_total", "HTTP connections accepted");
    inflight_gauge = metrics->GetGauge("seaway_http_inflight_body_bytes",
                                       "Request body bytes being received or handled");
    tls_handshake_failures =
        metrics->GetCounter("seaway_http_tls_handshake_failures_total",
                            "TLS connections closed because their handshake failed or timed out");
  }

  // Admits a body of `bytes` into the in-flight budget; always admits when nothing is in flight.
  bool TryReserveBody(uint64_t bytes) {
    uint64_t current = inflight_bytes.load(std::memory_order_relaxed);
    do {
      if (current > 0 && current + bytes > options.max_inflight_bytes) return false;
    } while (!inflight_bytes.compare_exchange_weak(current, current + bytes));
    inflight_gauge->Add(static_cast<int64_t>(bytes));
    return true;
  }
  void ReleaseBody(uint64_t bytes) {
    inflight_bytes.fetch_sub(bytes);
    inflight_gauge->Add(-static_cast<int64_t>(bytes));
  }
  void CountOverload(std::string_view reason) {
    metrics
        ->GetCounter("seaway_http_overload_total",
                     "Requests refused with 503 because the server was at a limit",
                     {{"limit", std::string(reason)}})
        ->Increment();
  }

  void Accept();
  void RecordRequest(std::string_view route, int status, double seconds) {
    metrics
        ->GetCounter("seaway_http_requests_total", "HTTP requests answered, by route and status",
                     {{"route", std::string(route)}, {"code", std::to_string(status)}})
        ->Increment();
    metrics
        ->GetHistogram("seaway_http_request_duration_seconds",
                       "Time from a request's first byte to its response written", kLatencyBounds,
                       {{"route", std::string(route)}})
        ->Observe(seconds);
  }

  const HttpServerOptions options;
  const Router* const router;
  MetricsRegistry* const metrics;
  Gauge* active_connections;
  Counter* accepted_connections;
  Gauge* inflight_gauge;
  Counter* tls_handshake_failures;
  std::atomic<int> open_connections{0};
  std::atomic<uint64_t> inflight_bytes{0};

  // Replies post to the sessions' contexts only while the gate is open; Stop closes it first.
  std::shared_ptr<ReplyGate> gate;
  // Guards `stopped` and `sessions`. Declared before `pool`: sessions destroyed with the
  // io_contexts' pending handlers still deregister themselves here.
  std::mutex mu;
  bool stopped = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions;

  std::optional<asio::ssl::context> tls;  // set by Start when a certificate is configured
  net::IoContextPool pool;  // a connection stays on one thread (src/net/io_context_pool.h)
  tcp::acceptor acceptor;
  HostPort bound;
};

namespace {

// Hands the result of one step of a streamed response (its header or one chunk written) from the
// session's strand back to the producer thread waiting in StreamedBody. A completion dropped
// without being signalled (its handler destroyed with the io_context) signals failure, so the
// producer never waits for a server that stopped.
class StreamCompletion {
  using TimePoint = std::chrono::steady_clock::time_point;

 public:
  ~StreamCompletion() { Signal(false); }
  void Signal(bool ok) {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    ok_ = ok;
    cv_.notify_all();
  }
  // The step's result, or nullopt when `deadline` came first.
  std::optional<bool> Wait(TimePoint deadline) {
    std::unique_lock lock(mu_);
    if (deadline == TimePoint::max()) {
      cv_.wait(lock, [this] { return done_; });
    } else if (!cv_.wait_until(lock, deadline, [this] { return done_; })) {
      return std::nullopt;
    }
    return ok_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool ok_ = false;
};

// The session side of a streamed response, as StreamedBody needs it.
class StreamTarget {
 public:
  virtual ~StreamTarget() = default;
  virtual asio::any_io_executor executor() = 0;
  // On the strand: writes the status and headers of `head` (chunked) and signals `done`.
  virtual void WriteStreamHead(HttpResponse head, std::shared_ptr<StreamCompletion> done) = 0;
  // On the strand: writes `bytes` (one encoded chunk) and signals `done`.
  virtual void WriteStreamBytes(std::shared_ptr<std::string> bytes,
                                std::shared_ptr<StreamCompletion> done) = 0;
  // On the strand: ends the response (the last chunk, or cutting the connection).
  virtual void FinishStream(bool complete) = 0;
};

// HttpResponseStream over a session: each Write posts one chunk to the session's strand and waits
// until it is written, so one chunk at a time is buffered. A wait that reaches the head's
// send_deadline cuts the response: the producer is never held past it by a client that does not
// read.
class StreamedBody : public HttpResponseStream {
 public:
  StreamedBody(std::weak_ptr<StreamTarget> target, std::shared_ptr<ReplyGate> gate)
      : target_(std::move(target)), gate_(std::move(gate)) {}
  ~StreamedBody() override { Finish(true); }

  // Sends the status and headers; false when the connection is gone.
  bool Start(HttpResponse head) {
    deadline_ = head.send_deadline;
    auto done = std::make_shared<StreamCompletion>();
    ok_ = PostAndWait(done, [head = std::move(head), done](StreamTarget* target) mutable {
      target->WriteStreamHead(std::move(head), std::move(done));
    });
    return ok_;
  }

  bool Write(std::string_view data) override {
    if (!ok_ || finished_) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    auto chunk = std::make_shared<std::string>(fmt::format("{:x}\r\n", data.size()));
    chunk->reserve(chunk->size() + data.size() + 2);
    chunk->append(data);
    chunk->append("\r\n");
    auto done = std::make_shared<StreamCompletion>();
    ok_ = PostAndWait(done, [chunk = std::move(chunk), done](StreamTarget* target) mutable {
      target->WriteStreamBytes(std::move(chunk), std::move(done));
    });
    return ok_;
  }

  void Finish(bool complete) override {
    if (finished_) return;
    finished_ = true;
    std::lock_guard lock(gate_->mu);
    if (!gate_->open) return;
    auto target = target_.lock();
    if (!target) return;
    const bool whole = complete && ok_;
    asio::post(target->executor(), [target, whole] { target->FinishStream(whole); });
  }

 private:
  // Runs `step` on the session's strand and waits for it to signal `done`, until the deadline.
  template <class Step>
  bool PostAndWait(const std::shared_ptr<StreamCompletion>& done, Step step) {
    {
      std::lock_guard lock(gate_->mu);
      if (!gate_->open) return false;
      auto target = target_.lock();
      if (!target) return false;
      asio::post(target->executor(),
                 [target, step = std::move(step)]() mutable { step(target.get()); });
    }
    if (std::optional<bool> ok = done->Wait(deadline_)) return *ok;
    // Past the deadline: cutting the connection also ends the write still pending on it.
    ok_ = false;
    Finish(false);
    return false;
  }

  std::weak_ptr<StreamTarget> target_;
  std::shared_ptr<ReplyGate> gate_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool ok_ = true;
  bool finished_ = false;
};

// One connection, served one request at a time on its strand. `Stream` is PlainStream or
// TlsStream; `stream_args` are what the stream needs besides the socket (the TLS context).
// A connection upgraded to WebSocket: the ByteLink of its route's sink. Handlers run on the
// connection's strand; writes coalesce what is queued into one binary message.
template <class Stream>
class WebSocketLink final : public ByteLink,
                            public std::enable_shared_from_this<WebSocketLink<Stream>> {
  using std::enable_shared_from_this<WebSocketLink<Stream>>::shared_from_this;

 public:
  WebSocketLink(Stream stream, std::string peer) : ws_(std::move(stream)), peer_(std::move(peer)) {
    ws_.binary(true);
    ws_.read_message_max(16 << 20);
  }

  void Start(http::request<http::string_body> request, const WebSocketRoute& route) {
    beast::get_lowest_layer(ws_).expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = websocket::stream_base::none();  // the protocol has its keepalive
    ws_.set_option(timeouts);
    std::string offered(request[http::field::sec_websocket_protocol]);
    const bool answer =
        !route.subprotocol.empty() && offered.find(route.subprotocol) != std::string::npos;
    ws_.set_option(websocket::stream_base::decorator(
        [protocol = answer ? route.subprotocol : std::string()](websocket::response_type& res) {
          res.set(http::field::server, "seaway");
          if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
        }));
    ws_.async_accept(request, [self = shared_from_this(), open = route.open](beast::error_code ec) {
      if (ec) return;
      self->sink_ = open(self);
      self->Read();
    });
  }

  bool Send(std::string bytes, bool droppable) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (droppable && queued_bytes_ > (8u << 20)) return false;
    queued_bytes_ += bytes.size();
    pending_ += bytes;
    if (!writing_) {
      writing_ = true;
      asio::post(ws_.get_executor(), [self = shared_from_this()] { self->Write(); });
    }
    return true;
  }

  void Close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      bool now;
      {
        std::lock_guard lock(self->mu_);
        self->close_requested_ = true;
        now = !self->writing_;
      }
      if (now) self->CloseNow();
    });
  }

  void ResumeReading() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (!self->paused_) return;
      self->paused_ = false;
      self->Read();
    });
  }

  std::string peer() const override { return peer_; }

 private:
  void Read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->sink_ == nullptr) return self->Closed();
      const auto data = self->in_.cdata();
      const bool more = self->sink_->OnBytes(
          std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->in_.consume(self->in_.size());
      if (!more) {
        self->paused_ = true;
        return;
      }
      self->Read();
    });
  }

  void Write() {
    {
      std::lock_guard lock(mu_);
      out_.swap(pending_);
      pending_.clear();
    }
    ws_.async_write(asio::buffer(out_),
                    [self = shared_from_this()](beast::error_code ec, size_t written) {
                      bool close = false;
                      bool more = false;
                      {
                        std::lock_guard lock(self->mu_);
                        self->queued_bytes_ -= std::min(self->queued_bytes_, written);
                        if (ec || self->pending_.empty()) {
                          self->writing_ = false;
                          close = self->close_requested_;
                        } else {
                          more = true;
                        }
                      }
                      if (ec) return self->Closed();
                      if (close) return self->CloseNow();
                      if (more) self->Write();
                    });
  }

  void CloseNow() {
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) { self->Closed(); });
  }

  void Closed() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      pending_.clear();
    }
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    if (sink_ != nullptr) {
      std::shared_ptr<ByteSink> sink = std::move(sink_);
      sink->OnClosed();
    }
  }

  websocket::stream<Stream> ws_;
  const std::string peer_;
  std::shared_ptr<ByteSink> sink_;  // strand only
  beast::flat_buffer in_;           // strand only
  std::string out_;                 // strand only
  bool paused_ = false;             // strand only

  std::mutex mu_;
  std::string pending_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_requested_ = false;
  bool closed_ = false;
};

template <class Stream>
class Session : public Connection,
                public StreamTarget,
                public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session>::shared_from_this;
  using std::enable_shared_from_this<Session>::weak_from_this;

 public:
  template <class... StreamArgs>
  Session(HttpServer::Impl* server, tcp::socket socket, StreamArgs&&... stream_args)
      : server_(server), stream_(std::move(socket), std::forward<StreamArgs>(stream_args)...) {
    beast::error_code ec;
    auto endpoint = Lowest().socket().remote_endpoint(ec);
    if (!ec) remote_ = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
    server_->active_connections->Add(1);
    over_connection_limit_ =
        server_->open_connections.fetch_add(1) >= server_->options.max_connections;
  }

  ~Session() {
    server_->open_connections.fetch_sub(1);
    if (reserved_body_ > 0) server_->ReleaseBody(reserved_body_);
    server_->active_connections->Add(-1);
    std::lock_guard lock(server_->mu);
    server_->sessions.erase(this);
  }

  void Start() {
    {
      std::lock_guard lock(server_->mu);
      if (server_->stopped) return;
      server_->sessions[this] = weak_from_this();
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadHeader();
      }
    });
  }

  // Called on the session's strand when the server stops.
  void Close() override {
    closing_ = true;
    pending_self_.reset();  // a reply that never comes must not keep the session alive
    Shutdown();
  }

  void CloseWhenIdle() override {
    closing_ = true;  // the response in progress, if any, says Connection: close and closes
    if (!busy_) Shutdown();
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  void WriteStreamBytes(std::shared_ptr<std::string> bytes,
                        std::shared_ptr<StreamCompletion> done) override {
    if (head_) return done->Signal(true);  // HEAD: the header only
    WriteStreamRaw(std::move(bytes), std::move(done));
  }

  void WriteStreamRaw(std::shared_ptr<std::string> bytes, std::shared_ptr<StreamCompletion> done) {
    if (!Lowest().socket().is_open()) return done->Signal(false);
    Lowest().expires_after(ToChrono(server_->options.io_timeout));
    asio::async_write(stream_, asio::buffer(*bytes),
                      [self = shared_from_this(), bytes, done](beast::error_code ec, size_t) {
                        self->Lowest().expires_never();  // the producer may think for a while
                        if (ec) self->Shutdown();
                        done->Signal(!ec);
                      });
  }

  void WriteStreamHead(HttpResponse r, std::shared_ptr<StreamCompletion> done) override {
    StopWatchingClient();
    if (reserved_body_ > 0) {
      server_->ReleaseBody(reserved_body_);
      reserved_body_ = 0;
    }
    if (!Lowest().socket().is_open()) return done->Signal(false);
    http::response<http::empty_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::server, fmt::format("seaway/{}", kVersion));
    res.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res.insert(name, value);
    res.keep_alive(keep_alive_ && !closing_);
    res.chunked(true);
    stream_status_ = r.status;
    std::ostringstream text;
    text << res.base();
    WriteStreamRaw(std::make_shared<std::string>(text.str()), std::move(done));
  }

  void FinishStream(bool complete) override {
    pending_self_.reset();
    server_->RecordRequest(route_, stream_status_,
                           static_cast<double>(Clock::Real()->MonotonicNanos() - start_ns_) / 1e9);
    if (!Lowest().socket().is_open()) return;
    if (!complete) return Shutdown();  // no last chunk: the client sees a cut-short body
    const bool keep = keep_alive_ && !closing_;
    auto after = [self = shared_from_this(), keep](beast::error_code ec, size_t) {
      self->busy_ = false;
      self->start_ns_ = 0;
      if (ec) return self->Shutdown();
      if (self->drain_on_close_ || !keep) return self->CloseAfterResponse();
      self->ReadHeader();
    };
    if (head_) return after({}, 0);
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    Lowest().expires_after(ToChrono(server_->options.io_timeout));
    asio::async_write(stream_, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                      std::move(after));
  }

 private:
  // The TCP stream under the TLS layer, if any: it holds the socket and the timeouts.
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // Bounded by io_timeout like a request, so a client that never finishes its handshake holds a
  // connection no longer than one that never finishes its header.
  void Handshake() {
    if (closing_) return Shutdown();
    Lowest().expires_after(ToChrono(server_->options.io_timeout));
    stream_.async_handshake(
        asio::ssl::stream_base::server,
        [self = shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(beast::error_code ec) {
    if (!ec) return ReadHeader();
    // Plaintext HTTP, a scanner, an old TLS version, or a client too slow: close, keep serving.
    if (!closing_ && ec != asio::error::operation_aborted) {
      server_->tls_handshake_failures->Increment();
      log::Debug("http tls handshake failed", {{"remote", remote_}, {"error", ec.message()}});
    }
    Shutdown();
  }

  void ReadHeader() {
    if (closing_) return Shutdown();
    parser_.emplace();
    parser_->header_limit(server_->options.max_header_bytes);
    parser_->body_limit(server_->options.max_body_bytes);
    Lowest().expires_after(ToChrono(server_->options.idle_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    if (websocket::is_upgrade(parser_->get())) {
      const std::string_view target = parser_->get().target();
      const std::string_view path = target.substr(0, target.find('?'));
      for (const WebSocketRoute& route : server_->options.websocket_routes) {
        if (route.path != path || over_connection_limit_ || closing_) continue;
        // The connection leaves HTTP for good: the link takes the stream; this session ends.
        auto link = std::make_shared<WebSocketLink<Stream>>(std::move(stream_), remote_);
        link->Start(parser_->release(), route);
        return;
      }
    }
    busy_ = true;
    start_ns_ = Clock::Real()->MonotonicNanos();
    Lowest().expires_after(ToChrono(server_->options.io_timeout));
    if (!Admit()) return;
    const auto& header = parser_->get();
    if (auto expect = header.find(http::field::expect);
        expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Shutdown();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // Checks the server-wide limits before a request's body is read; on refusal answers 503 with
  // Retry-After and closes the connection once the client has had the answer.
  bool Admit() {
    std::string_view limit;
    std::string why;
    if (over_connection_limit_) {
      limit = "connections";
      why = fmt::format("server is at its limit of {} open connections (--http-max-connections)",
                        server_->options.max_connections);
    } else {
      uint64_t body = 0;
      if (auto length = parser_->content_length()) {
        body = std::min(*length, server_->options.max_body_bytes);
      } else if (parser_->chunked()) {
        body = server_->options.max_body_bytes;
      }
      if (body == 0 || server_->TryReserveBody(body)) {
        reserved_body_ = body;
        return true;
      }
      limit = "inflight_bytes";
      why = fmt::format(
          "server is busy: request bodies in flight would exceed {} bytes "
          "(--http-max-inflight-bytes)",
          server_->options.max_inflight_bytes);
    }
    server_->CountOverload(limit);
    keep_alive_ = false;
    drain_on_close_ = true;
    route_ = std::string(limit == "connections" ? "overload_connections" : "overload_inflight");
    HttpResponse r = HttpResponse::Error(503, "Unavailable", why + "; retry later");
    r.headers.emplace_back("Retry-After", "1");
    Write(std::move(r));
    return false;
  }

  void ReadBody() {
    // A body of known length above 64 KiB is read straight into the request's string, in reads
    // as large as the socket allows: Beast's parser reads 64 KiB at a time into its buffer and
    // copies each piece again into the body.
    const auto length = parser_->content_length();
    if (length && !parser_->chunked() && *length >= kDirectBodyBytes &&
        *length <= server_->options.max_body_bytes) {
      direct_body_.resize(*length);
      const size_t buffered = std::min<size_t>(buffer_.size(), *length);
      asio::buffer_copy(asio::buffer(direct_body_.data(), buffered), buffer_.data());
      buffer_.consume(buffered);
      asio::async_read(
          stream_, asio::buffer(direct_body_.data() + buffered, *length - buffered),
          [](const beast::error_code& ec, size_t) -> size_t { return ec ? 0 : size_t{1} << 30; },
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
      return;
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnReadError(beast::error_code ec) {
    // A clean close between requests or a timeout on an idle connection is not an error.
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset || !parser_ ||
        (!parser_->got_some() && !busy_)) {
      return Shutdown();
    }
    busy_ = true;
    if (start_ns_ == 0) start_ns_ = Clock::Real()->MonotonicNanos();
    keep_alive_ = false;
    route_ = "unmatched";
    if (ec == http::error::body_limit) {
      return Write(HttpResponse::Error(
          413, "ResourceExhausted",
          fmt::format("request body exceeds the limit of {} bytes (--http-max-body-bytes)",
                      server_->options.max_body_bytes)));
    }
    if (ec == http::error::header_limit) {
      return Write(HttpResponse::Error(431, "ResourceExhausted",
                                       fmt::format("request header exceeds the limit of {} bytes",
                                                   server_->options.max_header_bytes)));
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Write(HttpResponse::Error(400, "InvalidArgument",
                                       fmt::format("malformed HTTP request: {}", ec.message())));
    }
    Shutdown();
  }

  void OnBody(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& msg = parser_->get();
    HttpRequest request;
    request.method = FromVerb(msg.method());
    request.target = std::string(msg.target());
    request.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    // Only bodies of 64 KiB and more are read directly, so an empty one came through the parser.
    request.body = direct_body_.empty() ? std::move(msg.body()) : std::move(direct_body_);
    direct_body_ = {};
    request.remote_address = remote_;
    keep_alive_ = msg.keep_alive();
    head_ = request.method == HttpMethod::kHead;
    route_ = std::string(server_->router->RouteName(request));
    Lowest().expires_never();  // the handler may wait for durability; the reply re-arms it

    // The session keeps itself alive until the reply is written or the server stops; the reply
    // holds only weak references, so a reply completed after Stop touches nothing.
    pending_self_ = shared_from_this();
    HttpReply::Sink reply([weak = weak_from_this(), gate = server_->gate](HttpResponse response) {
      std::lock_guard lock(gate->mu);
      if (!gate->open) return;
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->executor(),
                 [self, r = std::move(response)]() mutable { self->Write(std::move(r)); });
    });
    HttpReply reply_or_stream(std::move(reply),
                              [weak = weak_from_this(), gate = server_->gate](HttpResponse head) {
                                auto body = std::make_unique<StreamedBody>(weak, gate);
                                if (!body->Start(std::move(head))) body->Finish(false);
                                return body;
                              });
    auto client = std::make_shared<HttpClientWatch>();
    request.client = client;
    server_->router->Dispatch(request, std::move(reply_or_stream));
    if (client->wanted()) WatchClient(std::move(client));
  }

  // While a handler that asked (HttpClientWatch::OnGone) owes the reply: waits for the socket to
  // become readable, which a closed or reset connection makes it. A reply written meanwhile stops
  // the watch first (StopWatchingClient), so no read of the session's is ever pending with it.
  void WatchClient(std::shared_ptr<HttpClientWatch> client) {
    if (!Lowest().socket().is_open()) return client->MarkGone();
    client_watch_ = std::move(client);
    Lowest().socket().async_wait(tcp::socket::wait_read,
                                 [self = shared_from_this(), watch = ++watch_count_](
                                     beast::error_code ec) { self->OnClientReadable(watch, ec); });
  }

  void OnClientReadable(uint64_t watch, beast::error_code ec) {
    // Stopped since, or a wait that completed as it was stopped and this is another request's.
    if (!client_watch_ || watch != watch_count_ || ec == asio::error::operation_aborted) return;
    std::shared_ptr<HttpClientWatch> client = std::move(client_watch_);
    bool gone = static_cast<bool>(ec) || !Lowest().socket().is_open();
    if (!gone) {
      // Readable because of FIN (or an error) rather than bytes of a pipelined request?
      pollfd p{Lowest().socket().native_handle(), POLLRDHUP, 0};
      gone = ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }
    // Pipelined bytes wait for their turn; the connection is no longer watched.
    if (!gone) return;
    client->MarkGone();
    Shutdown();  // the reply, when it comes, finds the socket closed
  }

  void StopWatchingClient() {
    if (!client_watch_) return;
    client_watch_.reset();
    beast::error_code ec;
    Lowest().socket().cancel(ec);  // only the watch is pending while a handler owes the reply
  }

  void Write(HttpResponse r) {
    StopWatchingClient();
    pending_self_.reset();
    if (reserved_body_ > 0) {  // the request's body and what the handler built from it are gone
      server_->ReleaseBody(reserved_body_);
      reserved_body_ = 0;
    }
    if (!Lowest().socket().is_open()) return;  // closed by Stop while the handler ran
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, fmt::format("seaway/{}", kVersion));
    res->set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->insert(name, value);
    const bool keep = keep_alive_ && !closing_;
    res->keep_alive(keep);
    if (head_) {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    server_->RecordRequest(route_, r.status,
                           static_cast<double>(Clock::Real()->MonotonicNanos() - start_ns_) / 1e9);
    Lowest().expires_after(ToChrono(server_->options.io_timeout));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
                        self->busy_ = false;
                        self->start_ns_ = 0;
                        if (ec) return self->Shutdown();
                        if (self->drain_on_close_ || !keep) return self->CloseAfterResponse();
                        self->ReadHeader();
                      });
  }

  // Closes at once: on errors, and when the server stops.
  void Shutdown() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().close();
  }

  // Closes after the last response was written. TLS first sends close_notify, its counterpart of
  // the FIN: the shutdown completes when the client answers or closes, and fails when the client
  // still sends data (OpenSSL 3 refuses application data after close_notify), such as a body that
  // was not read; DrainAndClose then discards the rest as raw bytes.
  void CloseAfterResponse() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown(
          [self = shared_from_this()](beast::error_code) { self->DrainAndClose(); });
      return;
    }
    if (drain_on_close_) return DrainAndClose();
    Shutdown();
  }

  // After answering a request whose body was not read: closing at once would reset the
  // connection and the client could lose the answer. Send FIN, discard what the client still
  // sends for up to a second, then close.
  void DrainAndClose() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(std::chrono::seconds(1));
    auto scratch = std::make_shared<std::array<char, 16 * 1024>>();
    Lowest().async_read_some(asio::buffer(*scratch),
                             [self = shared_from_this(), scratch](beast::error_code ec, size_t) {
                               if (ec || self->closing_) return self->Lowest().close();
                               self->DrainAndClose();
                             });
  }

  HttpServer::Impl* const server_;
  Stream stream_;
  std::shared_ptr<Session> pending_self_;          // set while a handler owes this session a reply
  std::shared_ptr<HttpClientWatch> client_watch_;  // set while watching for the client to go
  uint64_t watch_count_ = 0;                       // the watches started, naming the current one
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  std::string route_;
  int64_t start_ns_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  bool busy_ = false;                   // between a request's header and its response written
  int stream_status_ = 200;             // the status of the streamed response, for metrics
  std::string direct_body_;             // a large body read past the parser (see ReadBody)
  bool over_connection_limit_ = false;  // accepted past max_connections: answer 503, close
  bool drain_on_close_ = false;         // a request body was left unread
  uint64_t reserved_body_ = 0;          // this request's share of the in-flight body budget
  bool closing_ = false;                // the server is stopping: close after the current response
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      asio::make_strand(pool.NextContext()), [self = this](beast::error_code ec, tcp::socket s) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        if (ec) {
          // Out of file descriptors and similar: log, back off briefly, keep serving.
          log::Warn("http accept failed", {{"error", ec.message()}});
          auto timer = std::make_shared<asio::steady_timer>(self->acceptor.get_executor());
          timer->expires_after(std::chrono::milliseconds(50));
          timer->async_wait([self, timer](beast::error_code) { self->Accept(); });
          return;
        }
        self->accepted_connections->Increment();
        // Replies are written whole or in large chunks: send them at once rather than let Nagle's
        // algorithm hold the tail of a streamed answer for the client's delayed ACK (40 ms).
        beast::error_code nodelay_ec;
        s.set_option(tcp::no_delay(true), nodelay_ec);
        if (self->tls) {
          std::make_shared<Session<TlsStream>>(self, std::move(s), *self->tls)->Start();
        } else {
          std::make_shared<Session<PlainStream>>(self, std::move(s))->Start();
        }
        self->Accept();
      });
}

HttpServer::HttpServer(HttpServerOptions options, const Router* router, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    if (s.options.tls_cert_file.empty() || s.options.tls_key_file.empty()) {
      return InvalidArgument("http listener: TLS needs both a certificate file and a key file");
    }
    s.tls.emplace(asio::ssl::context::tls_server);
    if (Status st = ConfigureTlsContext(s.tls->native_handle(), "http", s.options.tls_cert_file,
                                        s.options.tls_key_file);
        !st.ok()) {
      s.tls.reset();
      return st;
    }
  }
  beast::error_code ec;
  tcp::resolver resolver(s.pool.AcceptContext());
  auto endpoints = resolver.resolve(s.options.address.host, std::to_string(s.options.address.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return InvalidArgument("http listener: cannot resolve '{}': {}", s.options.address.ToString(),
                           ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("http listener: cannot listen on {}: {}", s.options.address.ToString(),
                       ec.message());
  }
  auto local = s.acceptor.local_endpoint();
  s.bound = HostPort{local.address().to_string(), local.port()};

  s.Accept();
  s.pool.Start("sw-http");
  return Status::OK();
}

HostPort HttpServer::local_address() const { return impl_->bound; }

namespace {

std::vector<std::shared_ptr<Connection>> LiveSessions(
    const std::unordered_map<Connection*, std::weak_ptr<Connection>>& sessions) {
  std::vector<std::shared_ptr<Connection>> live;
  for (const auto& [ptr, weak] : sessions) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

}  // namespace

void HttpServer::Stop() {
  Impl& s = *impl_;
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(s.mu);
    if (s.stopped) return;
    s.stopped = true;
    live = LiveSessions(s.sessions);
  }
  auto close_gate = [&s] {
    std::lock_guard lock(s.gate->mu);
    s.gate->open = false;
  };
  if (!s.pool.started()) {  // never started: nothing runs the io_contexts
    close_gate();
    beast::error_code ec;
    s.acceptor.close(ec);
    return;
  }
  asio::post(s.acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  // Idle connections close now; a request in progress (a write whose rows are being made
  // durable, a query) gets its response first, within the grace: its client is not left
  // guessing whether an accepted batch was stored.
  for (auto& session : live) {
    asio::post(session->executor(), [session] { session->CloseWhenIdle(); });
  }
  live.clear();
  const int64_t deadline = Clock::Real()->MonotonicNanos() + s.options.shutdown_grace.nanos();
  for (;;) {
    {
      std::lock_guard lock(s.mu);
      if (s.sessions.empty()) break;
    }
    if (Clock::Real()->MonotonicNanos() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // What is left past the grace (a handler that never answers, a client that does not read)
  // is cut; replies that come later find the gate closed.
  close_gate();
  {
    std::lock_guard lock(s.mu);
    live = LiveSessions(s.sessions);
  }
  for (auto& session : live) {
    asio::post(session->executor(), [session] { session->Close(); });
  }
  live.clear();
  // Each io_context runs out of work once its connections have closed; bound the wait.
  s.pool.Release();
  const int64_t cut = Clock::Real()->MonotonicNanos() + 250'000'000;
  while (!s.pool.AllStopped() && Clock::Real()->MonotonicNanos() < cut) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.pool.Join();
}

}  // namespace seaway
