// Router: maps (method, path) to a handler (src/http).
//
// Handlers answer through an HttpReply, which they may move to another thread (for example to
// reply after a write is durable) and must call exactly once. A reply dropped without being
// called answers 500, so a forgotten path never leaves a client hanging. A reply may instead
// stream its body (StartStream): the HTTP server then sends it with chunked transfer encoding as
// the handler produces it, so a large body is never held whole.
//
// Thread-safety: routes are added before the server starts; Dispatch is then thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/http_message.h"

namespace seaway {

// The body of a streamed response, written part by part from the handler's thread.
//
// Thread-compatible: one producer thread at a time.
class HttpResponseStream {
 public:
  virtual ~HttpResponseStream() = default;

  // Sends `data` as the next part of the body. Blocks until the connection has taken it (so a
  // slow client slows the producer, and only one part is buffered). False once the client is
  // gone, the write timed out or the server stops: the producer should give up.
  virtual bool Write(std::string_view data) = 0;

  // Ends the body. With `complete` false the response is cut short instead (HTTP/1.1: the
  // connection closes without the last chunk), so clients see an incomplete transfer. Called at
  // most once; the destructor finishes a stream that was not finished, as complete.
  virtual void Finish(bool complete = true) = 0;
};

class HttpReply {
 public:
  using Sink = std::function<void(HttpResponse)>;
  // Sends a response's status and headers (its body is ignored) and returns its body's stream.
  using StreamSink = std::function<std::unique_ptr<HttpResponseStream>(HttpResponse head)>;

  // Without a stream sink, StartStream collects the body and sends it whole through `sink` when
  // the stream finishes (as tests without sockets need).
  explicit HttpReply(Sink sink, StreamSink stream_sink = nullptr)
      : sink_(std::move(sink)), stream_sink_(std::move(stream_sink)) {}
  HttpReply(HttpReply&&) noexcept = default;
  HttpReply& operator=(HttpReply&&) noexcept;
  HttpReply(const HttpReply&) = delete;
  HttpReply& operator=(const HttpReply&) = delete;
  ~HttpReply();

  // Sends `response`. REQUIRES: neither Send nor StartStream called before.
  void Send(HttpResponse response);

  // Sends the status and headers of `head` now and returns the stream of the body.
  // REQUIRES: neither Send nor StartStream called before.
  std::unique_ptr<HttpResponseStream> StartStream(HttpResponse head);

 private:
  Sink sink_;
  StreamSink stream_sink_;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpReply)>;

// Who may call a route, declared with the route so that none is forgotten: anyone, any caller
// with a valid token, or a caller whose role holds a permission (its name from
// platform/permissions.h, e.g. "data.write"). The router does not interpret it: its Authorizer
// does (the server installs one; tests/unit/server checks every route against every role).
inline constexpr std::string_view kPublicAccess = "public";
inline constexpr std::string_view kAuthenticatedAccess = "authenticated";

// OK to let the request through to a route with `access`; otherwise the refusal to send (401,
// 403, ...). Called for every route but the public ones.
using Authorizer = std::function<Status(const HttpRequest&, std::string_view access)>;

class Router {
 public:
  // Adds a route for a path; a `{name}` segment matches any one segment ("/api/v1/devices/{id}"),
  // and exact paths win over such patterns. `name` labels the route in metrics (e.g. "health");
  // `access` says who may call it (kPublicAccess, kAuthenticatedAccess or a permission name).
  void Add(HttpMethod method, std::string path, std::string name, std::string access,
           HttpHandler handler);
  // Checks every non-public route's caller before its handler runs. Without one, every route
  // is let through (the handlers' own checks remain).
  void SetAuthorizer(Authorizer authorizer) { authorizer_ = std::move(authorizer); }

  // Finds the handler and calls it; unknown paths answer 404 and known paths with another method
  // 405 with an Allow header, both with a JSON error body. HEAD is served by GET routes.
  void Dispatch(const HttpRequest& request, HttpReply reply) const;

  // The metrics label of the route `request` would take ("unmatched" when none).
  std::string_view RouteName(const HttpRequest& request) const;

  struct Route {
    HttpMethod method;
    std::string path;
    std::string name;
    std::string access;
    HttpHandler handler;
  };
  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* Find(HttpMethod method, std::string_view path) const;

  std::vector<Route> routes_;
  Authorizer authorizer_;
};

// Whether `path` matches the route path `pattern`, segment by segment; a `{name}` segment of the
// pattern matches any one non-empty segment.
bool PathMatches(std::string_view pattern, std::string_view path);

// A handler that answers synchronously.
HttpHandler SyncHandler(std::function<HttpResponse(const HttpRequest&)> fn);

}  // namespace seaway
