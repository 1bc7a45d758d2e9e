// MqttServer on Boost.Asio (src/mqtt). The only file of the broker that includes Asio.
#include "mqtt/mqtt_server.h"

#include <pthread.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "common/clock.h"
#include "common/logging.h"
#include "common/tls_context.h"
#include "net/io_context_pool.h"

namespace seaway::mqtt {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerWakeup = 8;  // then yield to other connections

}  // namespace

struct MqttServer::Impl {
  Impl(MqttServerOptions o, Broker* b, MetricsRegistry* m)
      : options(std::move(o)),
        broker(b),
        metrics(m),
        pool(options.threads),
        acceptor(pool.AcceptContext()),
        tls_acceptor(pool.AcceptContext()) {}

  void Accept(tcp::acceptor* on, bool tls);
  // The broker's timers (keepalive, wills, expiry, $SYS) and its periodic save, an SQLite
  // transaction: on a thread of their own, so that no connection waits behind them.
  void RunTicker();
  Status Listen(tcp::acceptor* on, const HostPort& address, std::string_view name, HostPort* bound);

  const MqttServerOptions options;
  Broker* const broker;
  MetricsRegistry* const metrics;
  net::IoContextPool pool;  // a connection stays on one thread (src/net/io_context_pool.h)
  tcp::acceptor acceptor;
  tcp::acceptor tls_acceptor;
  std::optional<asio::ssl::context> tls;
  std::thread ticker;
  std::mutex ticker_mu;
  std::condition_variable ticker_cv;
  bool ticker_stop = false;  // under ticker_mu
  HostPort bound;
  HostPort tls_bound;
  // Shared with the links: a link may outlive the server (its broker connection holds it).
  std::shared_ptr<std::atomic<size_t>> connections = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<bool> stopping{false};
  Counter* accepted_total = nullptr;
  Counter* refused_total = nullptr;
  Counter* dropped_qos0_total = nullptr;
  Gauge* open_gauge = nullptr;
  Counter* tls_failures_total = nullptr;
};

namespace {

using TlsStream = asio::ssl::stream<tcp::socket>;

// One connection, plain TCP or TLS: the broker's ClientLink. Handlers run on the connection's
// strand. A plain connection waits for readability and reads into a per-thread buffer (no
// memory of its own while idle); a TLS connection reads through OpenSSL into its own buffer.
template <typename Stream>
class StreamLink final : public ClientLink,
                         public std::enable_shared_from_this<StreamLink<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<StreamLink<Stream>>::shared_from_this;

 public:
  template <typename... Args>
  StreamLink(MqttServer::Impl* server, tcp::socket socket, Args&&... tls)
      : server_(server),
        connections_(server->connections),
        open_gauge_(server->open_gauge),
        dropped_qos0_total_(server->dropped_qos0_total),
        max_write_queue_bytes_(server->options.max_write_queue_bytes),
        stream_(std::move(socket), std::forward<Args>(tls)...) {
    error_code ec;
    const auto remote = Socket().remote_endpoint(ec);
    peer_ = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
    if constexpr (!kTls) Socket().non_blocking(true, ec);
    Socket().set_option(tcp::no_delay(true), ec);
  }
  ~StreamLink() override {
    connections_->fetch_sub(1);
    open_gauge_->Add(-1);
  }

  void Start() {
    if constexpr (kTls) {
      // A handshake that does not finish within the CONNECT timeout is dropped.
      auto timer = std::make_shared<asio::steady_timer>(stream_.get_executor());
      timer->expires_after(std::chrono::seconds(10));
      timer->async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec && self->conn_ == nullptr) self->Closed();
      });
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = shared_from_this(), timer](const error_code& ec) {
            timer->cancel();
            if (ec) {
              self->server_->tls_failures_total->Increment();
              return self->Closed();
            }
            self->certificate_sha256_ = PeerCertificateSha256(self->stream_.native_handle());
            self->conn_ = self->server_->broker->Accept(self);
            self->buffer_.resize(4096);
            self->ReadTls();
          });
    } else {
      conn_ = server_->broker->Accept(shared_from_this());
      WaitReadable();
    }
  }

  bool Send(std::string bytes, bool droppable) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (droppable && queued_bytes_ > max_write_queue_bytes_) {
      dropped_qos0_total_->Increment();
      return false;
    }
    queued_bytes_ += bytes.size();
    pending_.push_back(std::move(bytes));
    if (!writing_) {
      writing_ = true;
      asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Write(); });
    }
    return true;
  }

  void Close() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      bool now;
      {
        std::lock_guard lock(self->mu_);
        self->close_requested_ = true;
        now = !self->writing_;
      }
      if (now) self->Shutdown();
    });
  }

  void ResumeReading() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->paused_) return;
      self->paused_ = false;
      if constexpr (kTls) {
        self->ReadTls();
      } else {
        self->WaitReadable();
      }
    });
  }

  std::string peer() const override { return peer_; }
  std::string peer_certificate_sha256() const override { return certificate_sha256_; }

 private:
  tcp::socket& Socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void WaitReadable() {
    stream_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](const error_code& ec) { self->OnReadable(ec); });
  }

  void OnReadable(const error_code& wait_error) {
    if (wait_error || conn_ == nullptr) return Closed();
    thread_local std::array<char, kReadChunk> buffer;
    for (int i = 0; i < kReadsPerWakeup; ++i) {
      error_code ec;
      const size_t n = stream_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) return Closed();
      if (!conn_->OnBytes(std::string_view(buffer.data(), n))) {
        paused_ = true;
        return;
      }
      if (n < buffer.size()) break;
    }
    WaitReadable();
  }

  void ReadTls() {
    stream_.async_read_some(
        asio::buffer(buffer_), [self = shared_from_this()](const error_code& ec, size_t n) {
          if (ec || self->conn_ == nullptr) return self->Closed();
          if (!self->conn_->OnBytes(std::string_view(self->buffer_.data(), n))) {
            self->paused_ = true;
            return;
          }
          self->ReadTls();
        });
  }

  void Write() {
    {
      std::lock_guard lock(mu_);
      writing_bufs_.swap(pending_);
      pending_.clear();
    }
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(writing_bufs_.size());
    for (const std::string& b : writing_bufs_) buffers.emplace_back(b.data(), b.size());
    asio::async_write(stream_, buffers,
                      [self = shared_from_this()](const error_code& ec, size_t written) {
                        self->OnWritten(ec, written);
                      });
  }

  void OnWritten(const error_code& ec, size_t written) {
    writing_bufs_.clear();
    if (ec) {
      {
        std::lock_guard lock(mu_);
        writing_ = false;
      }
      return Closed();
    }
    bool shutdown = false;
    bool more = false;
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= written;
      if (pending_.empty()) {
        writing_ = false;
        shutdown = close_requested_;
      } else {
        more = true;
      }
    }
    if (shutdown) return Shutdown();
    if (more) Write();
  }

  // Everything queued is written and the broker asked to close.
  void Shutdown() {
    error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
    Closed();
  }

  // The connection is over, from either side; tells the broker once.
  void Closed() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      pending_.clear();
    }
    error_code ec;
    Socket().close(ec);
    if (conn_ != nullptr) {
      std::shared_ptr<BrokerConnection> conn = std::move(conn_);
      conn->OnClosed();  // breaks the link <-> connection cycle too
    }
  }

  // The server is used only by handlers, which run while it does; what the destructor and
  // Send (called by the broker, perhaps after the server stopped) need is copied or shared.
  MqttServer::Impl* const server_;
  const std::shared_ptr<std::atomic<size_t>> connections_;
  Gauge* const open_gauge_;
  Counter* const dropped_qos0_total_;
  const size_t max_write_queue_bytes_;
  Stream stream_;
  std::string peer_;
  std::string certificate_sha256_;          // set before the broker sees the link
  std::shared_ptr<BrokerConnection> conn_;  // strand only
  bool paused_ = false;                     // strand only
  std::vector<std::string> writing_bufs_;   // strand only
  std::string buffer_;                      // TLS reads; strand only

  std::mutex mu_;
  std::vector<std::string> pending_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool close_requested_ = false;
  bool closed_ = false;
};

}  // namespace

void MqttServer::Impl::Accept(tcp::acceptor* on, bool tls_listener) {
  on->async_accept(asio::make_strand(pool.NextContext()), [this, on, tls_listener](
                                                              const error_code& ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || stopping.load()) return;
    if (!ec) {
      if (connections->load() >= options.max_connections) {
        refused_total->Increment();
        error_code ignored;
        s.close(ignored);
      } else {
        connections->fetch_add(1);
        open_gauge->Add(1);
        accepted_total->Increment();
        if (tls_listener) {
          std::make_shared<StreamLink<TlsStream>>(this, std::move(s), *tls)->Start();
        } else {
          std::make_shared<StreamLink<tcp::socket>>(this, std::move(s))->Start();
        }
      }
    } else if (ec == asio::error::no_descriptors) {
      log::Warn("mqtt listener: out of file descriptors", {});
    }
    Accept(on, tls_listener);
  });
}

Status MqttServer::Impl::Listen(tcp::acceptor* on, const HostPort& address, std::string_view name,
                                HostPort* bound_to) {
  error_code ec;
  tcp::resolver resolver(pool.AcceptContext());
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return InvalidArgument("{} listener: cannot resolve '{}': {}", name, address.ToString(),
                           ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  on->open(endpoint.protocol(), ec);
  if (!ec) on->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) on->bind(endpoint, ec);
  if (!ec) on->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("{} listener: cannot listen on {}: {}", name, address.ToString(),
                       ec.message());
  }
  const auto local = on->local_endpoint();
  *bound_to = HostPort{local.address().to_string(), local.port()};
  return Status::OK();
}

void MqttServer::Impl::RunTicker() {
  pthread_setname_np(pthread_self(), "sw-mqtt-tick");
  std::unique_lock lock(ticker_mu);
  while (
      !ticker_cv.wait_for(lock, std::chrono::milliseconds(250), [this] { return ticker_stop; })) {
    lock.unlock();
    broker->Tick();
    lock.lock();
  }
}

MqttServer::MqttServer(MqttServerOptions options, Broker* broker, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), broker, metrics)) {
  impl_->accepted_total =
      metrics->GetCounter("seaway_mqtt_connections_accepted_total", "MQTT connections accepted");
  impl_->refused_total = metrics->GetCounter("seaway_mqtt_connections_refused_total",
                                             "MQTT connections refused at the connection limit");
  impl_->dropped_qos0_total = metrics->GetCounter(
      "seaway_mqtt_qos0_dropped_total", "QoS 0 deliveries dropped for slow-reading clients");
  impl_->tls_failures_total = metrics->GetCounter("seaway_mqtt_tls_handshake_failures_total",
                                                  "MQTT TLS handshakes that failed or timed out");
  impl_->open_gauge = metrics->GetGauge("seaway_mqtt_connections", "Open MQTT connections");
}

MqttServer::~MqttServer() { Stop(); }

Status MqttServer::Start() {
  Impl& s = *impl_;
  SW_RETURN_IF_ERROR(s.Listen(&s.acceptor, s.options.address, "mqtt", &s.bound));
  if (s.options.tls_address) {
    s.tls.emplace(asio::ssl::context::tls_server);
    SW_RETURN_IF_ERROR(ConfigureTlsContext(s.tls->native_handle(), "mqtt-tls",
                                           s.options.tls_cert_file, s.options.tls_key_file,
                                           s.options.tls_client_ca_file));
    // Devices may authenticate with a certificate known by its fingerprint (docs/mqtt.md).
    RequestClientCertificates(s.tls->native_handle());
    SW_RETURN_IF_ERROR(s.Listen(&s.tls_acceptor, *s.options.tls_address, "mqtt-tls", &s.tls_bound));
    s.Accept(&s.tls_acceptor, true);
  }
  s.Accept(&s.acceptor, false);
  s.ticker = std::thread([impl = impl_.get()] { impl->RunTicker(); });
  s.pool.Start("sw-mqtt");
  return Status::OK();
}

HostPort MqttServer::local_address() const { return impl_->bound; }

HostPort MqttServer::tls_address() const { return impl_->tls_bound; }

void MqttServer::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  if (s.ticker.joinable()) {  // first: no periodic save may follow the broker's last one
    {
      std::lock_guard lock(s.ticker_mu);
      s.ticker_stop = true;
    }
    s.ticker_cv.notify_one();
    s.ticker.join();
  }
  if (!s.pool.started()) {
    error_code ec;
    s.acceptor.close(ec);
    return;
  }
  asio::post(s.pool.AcceptContext(), [impl = impl_.get()] {
    error_code ec;
    impl->acceptor.close(ec);
    impl->tls_acceptor.close(ec);
  });
  // The broker closes every connection (DISCONNECT 0x8B to 5.0 clients; their wills are kept
  // for the restart) and saves.
  if (Status st = s.broker->Stop(); !st.ok()) {
    log::Error("mqtt broker state not saved at shutdown", {{"error", st.ToString()}});
  }
  const int64_t deadline = Clock::Real()->MonotonicNanos() + 1'500'000'000;
  while (s.connections->load() > 0 && Clock::Real()->MonotonicNanos() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.pool.Join();
}

}  // namespace seaway::mqtt
