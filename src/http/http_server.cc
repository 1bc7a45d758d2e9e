// HttpServer implementation on Boost.Beast (src/http). The only file of the HTTP front end that
// includes Beast.
#include "http/http_server.h"

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
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

#include "common/clock.h"
#include "common/logging.h"
#include "common/version.h"

namespace seaway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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

class Session;

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
        acceptor(asio::make_strand(ioc)) {
    active_connections =
        metrics->GetGauge("seaway_http_connections_active", "Open HTTP connections");
    accepted_connections =
        metrics->GetCounter("seaway_http_connections_total", "HTTP connections accepted");
    inflight_gauge = metrics->GetGauge("seaway_http_inflight_body_bytes",
                                       "Request body bytes being received or handled");
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
  std::atomic<int> open_connections{0};
  std::atomic<uint64_t> inflight_bytes{0};

  // Replies post to `ioc` only while the gate is open; Stop closes it first.
  std::shared_ptr<ReplyGate> gate;
  // Guards `stopped` and `sessions`. Declared before `ioc`: sessions destroyed with the
  // io_context's pending handlers still deregister themselves here.
  std::mutex mu;
  bool stopped = false;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  asio::io_context ioc;
  tcp::acceptor acceptor;
  HostPort bound;
  std::vector<std::thread> threads;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl* server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
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
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called on the session's strand when the server stops.
  void Close() {
    closing_ = true;
    pending_self_.reset();  // a reply that never comes must not keep the session alive
    Shutdown();
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void ReadHeader() {
    if (closing_) return Shutdown();
    parser_.emplace();
    parser_->header_limit(server_->options.max_header_bytes);
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(ToChrono(server_->options.idle_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    start_ns_ = Clock::Real()->MonotonicNanos();
    stream_.expires_after(ToChrono(server_->options.io_timeout));
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
      has_direct_body_ = true;
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
    request.body = has_direct_body_ ? std::move(direct_body_) : std::move(msg.body());
    has_direct_body_ = false;
    direct_body_ = {};
    request.remote_address = remote_;
    keep_alive_ = msg.keep_alive();
    head_ = request.method == HttpMethod::kHead;
    route_ = std::string(server_->router->RouteName(request));
    stream_.expires_never();  // the handler may wait for durability; the reply re-arms it

    // The session keeps itself alive until the reply is written or the server stops; the reply
    // holds only weak references, so a reply completed after Stop touches nothing.
    pending_self_ = shared_from_this();
    HttpReply reply([weak = weak_from_this(), gate = server_->gate](HttpResponse response) {
      std::lock_guard lock(gate->mu);
      if (!gate->open) return;
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->executor(),
                 [self, r = std::move(response)]() mutable { self->Write(std::move(r)); });
    });
    server_->router->Dispatch(request, std::move(reply));
  }

  void Write(HttpResponse r) {
    pending_self_.reset();
    if (reserved_body_ > 0) {  // the request's body and what the handler built from it are gone
      server_->ReleaseBody(reserved_body_);
      reserved_body_ = 0;
    }
    if (!stream_.socket().is_open()) return;  // closed by Stop while the handler ran
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
    stream_.expires_after(ToChrono(server_->options.io_timeout));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
                        self->busy_ = false;
                        self->start_ns_ = 0;
                        if (!ec && self->drain_on_close_) return self->DrainAndClose();
                        if (ec || !keep) return self->Shutdown();
                        self->ReadHeader();
                      });
  }

  void Shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  // After answering a request whose body was not read: closing at once would reset the
  // connection and the client could lose the answer. Send FIN, discard what the client still
  // sends for up to a second, then close.
  void DrainAndClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(1));
    auto scratch = std::make_shared<std::array<char, 16 * 1024>>();
    stream_.async_read_some(asio::buffer(*scratch),
                            [self = shared_from_this(), scratch](beast::error_code ec, size_t) {
                              if (ec || self->closing_) return self->stream_.close();
                              self->DrainAndClose();
                            });
  }

  HttpServer::Impl* const server_;
  beast::tcp_stream stream_;
  std::shared_ptr<Session> pending_self_;  // set while a handler owes this session a reply
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  std::string route_;
  int64_t start_ns_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  bool busy_ = false;        // between a request's header and its response written
  std::string direct_body_;  // a large body read past the parser (see ReadBody)
  bool has_direct_body_ = false;
  bool over_connection_limit_ = false;  // accepted past max_connections: answer 503, close
  bool drain_on_close_ = false;         // a request body was left unread
  uint64_t reserved_body_ = 0;          // this request's share of the in-flight body budget
  bool closing_ = false;                // the server is stopping: close after the current response
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [self = this](beast::error_code ec, tcp::socket s) {
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
    std::make_shared<Session>(self, std::move(s))->Start();
    self->Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, const Router* router, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  beast::error_code ec;
  tcp::resolver resolver(s.ioc);
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
  int n =
      s.options.threads > 0 ? s.options.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
  }
  return Status::OK();
}

HostPort HttpServer::local_address() const { return impl_->bound; }

void HttpServer::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.gate->mu);
    s.gate->open = false;
  }
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mu);
    if (s.stopped) return;
    s.stopped = true;
    for (auto& [ptr, weak] : s.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  if (s.threads.empty()) {  // never started: nothing runs the io_context
    beast::error_code ec;
    s.acceptor.close(ec);
    return;
  }
  asio::post(s.acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  for (auto& session : live) {
    asio::post(session->executor(), [session] { session->Close(); });
  }
  live.clear();
  // The io_context runs out of work once every connection has closed; bound the wait.
  const int64_t deadline = Clock::Real()->MonotonicNanos() + s.options.shutdown_grace.nanos();
  while (!s.ioc.stopped() && Clock::Real()->MonotonicNanos() < deadline && !s.threads.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

}  // namespace seaway
