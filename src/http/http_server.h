// HttpServer: the HTTP/1.1 listener (src/http), on Boost.Asio and Beast.
//
// Serves keep-alive connections on a pool of threads (one per core by default). Requests on a
// connection are answered in order, one at a time, so pipelined requests are safe. Bodies are
// bounded (413), headers are bounded (431), idle connections time out, and the connections and
// body bytes in flight are bounded server-wide (503 with Retry-After past either), so memory
// stays bounded whatever the number of clients. Each request goes to
// the Router; the handler's HttpReply may be completed from any thread. A handler that answers
// later may ask to be told when its client goes (HttpRequest::client), and a streamed response
// may carry a deadline for its writes (HttpResponse::send_deadline). With a certificate and
// key configured the listener speaks only HTTPS (TLS 1.2 or later), with the same behaviour.
//
// Beast and Asio are confined to http_server.cc: this header is cheap to include.
//
// Thread-safe. Start and Stop are called from one owner thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/byte_link.h"
#include "common/host_port.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/strong_id.h"
#include "http/router.h"

namespace seaway {

// A path where HTTP upgrades to WebSocket and the connection becomes a byte stream: binary
// messages in are fed to the sink `open` returns, bytes sent go out as binary messages. (MQTT
// over WebSocket at /mqtt.)
struct WebSocketRoute {
  std::string path;
  std::string subprotocol;  // answered in Sec-WebSocket-Protocol when the client offers it
  std::function<std::shared_ptr<ByteSink>(std::shared_ptr<ByteLink>)> open;
};

struct HttpServerOptions {
  HostPort address{"127.0.0.1", 8080};
  int threads = 0;  // 0: one per core
  uint64_t max_body_bytes = 25 * 1024 * 1024;
  uint32_t max_header_bytes = 16 * 1024;
  // Open connections at most; the next ones get 503 + Retry-After and are closed.
  int max_connections = 10000;
  // Bytes of request bodies being received or handled across connections (a body counts its
  // Content-Length, or max_body_bytes when chunked, from its header until its response). A
  // request that would go over gets 503 + Retry-After before its body is read; one request at a
  // time is always admitted, so a lone large body is never refused.
  uint64_t max_inflight_bytes = 256 * 1024 * 1024;
  Duration idle_timeout = Duration::Seconds(120);    // keep-alive connection with no request
  Duration io_timeout = Duration::Seconds(60);       // reading one request or writing a response
  Duration shutdown_grace = Duration::Millis(1500);  // Stop waits this long for responses
  // TLS: both PEM files or neither. The certificate file may hold a chain (leaf first); the key
  // must not be encrypted. A handshake must finish within io_timeout; a failed one closes the
  // connection and counts in seaway_http_tls_handshake_failures_total.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::vector<WebSocketRoute> websocket_routes;
};

class HttpServer {
 public:
  // `router` and `metrics` must outlive the server.
  HttpServer(HttpServerOptions options, const Router* router, MetricsRegistry* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the worker threads. Fails with a clear status when the address
  // cannot be resolved or bound, or when the TLS certificate or key cannot be read, does not
  // parse, or the two do not match (the message names the file).
  Status Start();

  // The bound address (with the real port when port 0 was asked). REQUIRES: Start() returned OK.
  HostPort local_address() const;

  // Stops accepting and closes idle connections; a request in progress gets its response (with
  // Connection: close) if it comes within shutdown_grace, after which what is left is closed and
  // the threads are joined. Idempotent.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace seaway
