// Router: maps (method, path) to a handler (src/http).
//
// Handlers answer through an HttpReply, which they may move to another thread (for example to
// reply after a write is durable) and must call exactly once. A reply dropped without being
// called answers 500, so a forgotten path never leaves a client hanging.
//
// Thread-safety: routes are added before the server starts; Dispatch is then thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.h"

namespace seaway {

class HttpReply {
 public:
  using Sink = std::function<void(HttpResponse)>;

  explicit HttpReply(Sink sink) : sink_(std::move(sink)) {}
  HttpReply(HttpReply&&) noexcept = default;
  HttpReply& operator=(HttpReply&&) noexcept;
  HttpReply(const HttpReply&) = delete;
  HttpReply& operator=(const HttpReply&) = delete;
  ~HttpReply();

  // Sends `response`. REQUIRES: not called before.
  void Send(HttpResponse response);

 private:
  Sink sink_;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpReply)>;

class Router {
 public:
  // Adds a route for an exact path. `name` labels the route in metrics (e.g. "health").
  void Add(HttpMethod method, std::string path, std::string name, HttpHandler handler);

  // Finds the handler and calls it; unknown paths answer 404 and known paths with another method
  // 405 with an Allow header, both with a JSON error body. HEAD is served by GET routes.
  void Dispatch(const HttpRequest& request, HttpReply reply) const;

  // The metrics label of the route `request` would take ("unmatched" when none).
  std::string_view RouteName(const HttpRequest& request) const;

  struct Route {
    HttpMethod method;
    std::string path;
    std::string name;
    HttpHandler handler;
  };
  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* Find(HttpMethod method, std::string_view path) const;

  std::vector<Route> routes_;
};

// A handler that answers synchronously.
HttpHandler SyncHandler(std::function<HttpResponse(const HttpRequest&)> fn);

}  // namespace seaway
