// Router implementation (src/http).
#include "http/router.h"

#include "common/check.h"

namespace seaway {

namespace {

// A streamed body collected whole, for replies without a streaming transport.
class CollectedStream : public HttpResponseStream {
 public:
  CollectedStream(HttpReply::Sink sink, HttpResponse head)
      : sink_(std::move(sink)), response_(std::move(head)) {
    response_.body.clear();
  }
  ~CollectedStream() override { Finish(true); }

  bool Write(std::string_view data) override {
    response_.body.append(data);
    return true;
  }
  void Finish(bool complete) override {
    if (!sink_) return;
    if (!complete) response_.headers.emplace_back("X-Seaway-Incomplete", "true");
    HttpReply::Sink sink = std::move(sink_);
    sink_ = nullptr;
    sink(std::move(response_));
  }

 private:
  HttpReply::Sink sink_;
  HttpResponse response_;
};

}  // namespace

HttpReply& HttpReply::operator=(HttpReply&& other) noexcept {
  if (this != &other) {
    if (sink_) Send(HttpResponse::Error(500, "Internal", "handler replaced its reply"));
    sink_ = std::move(other.sink_);
    stream_sink_ = std::move(other.stream_sink_);
    other.sink_ = nullptr;
    other.stream_sink_ = nullptr;
  }
  return *this;
}

HttpReply::~HttpReply() {
  if (sink_) Send(HttpResponse::Error(500, "Internal", "the handler did not produce a response"));
}

void HttpReply::Send(HttpResponse response) {
  SW_CHECK(sink_ != nullptr);
  Sink sink = std::move(sink_);
  sink_ = nullptr;
  sink(std::move(response));
}

std::unique_ptr<HttpResponseStream> HttpReply::StartStream(HttpResponse head) {
  SW_CHECK(sink_ != nullptr);
  Sink sink = std::move(sink_);
  sink_ = nullptr;
  StreamSink stream_sink = std::move(stream_sink_);
  stream_sink_ = nullptr;
  if (stream_sink) return stream_sink(std::move(head));
  return std::make_unique<CollectedStream>(std::move(sink), std::move(head));
}

void Router::Add(HttpMethod method, std::string path, std::string name, std::string access,
                 HttpHandler handler) {
  for (const Route& r : routes_) SW_CHECK(r.method != method || r.path != path);
  SW_CHECK(!access.empty());
  routes_.push_back(
      Route{method, std::move(path), std::move(name), std::move(access), std::move(handler)});
}

bool PathMatches(std::string_view pattern, std::string_view path) {
  while (true) {
    const size_t p = pattern.find('/'), q = path.find('/');
    const std::string_view a = pattern.substr(0, p), b = path.substr(0, q);
    const bool parameter = a.size() > 2 && a.front() == '{' && a.back() == '}';
    if (parameter ? b.empty() : a != b) return false;
    if (p == std::string_view::npos || q == std::string_view::npos) {
      return p == std::string_view::npos && q == std::string_view::npos;
    }
    pattern.remove_prefix(p + 1);
    path.remove_prefix(q + 1);
  }
}

const Router::Route* Router::Find(HttpMethod method, std::string_view path) const {
  for (const Route& r : routes_) {
    if (r.method == method && r.path == path) return &r;
  }
  for (const Route& r : routes_) {
    if (r.method == method && PathMatches(r.path, path)) return &r;
  }
  return nullptr;
}

std::string_view Router::RouteName(const HttpRequest& request) const {
  HttpMethod method = request.method == HttpMethod::kHead ? HttpMethod::kGet : request.method;
  const Route* r = Find(method, request.path());
  return r ? std::string_view(r->name) : std::string_view("unmatched");
}

void Router::Dispatch(const HttpRequest& request, HttpReply reply) const {
  HttpMethod method = request.method == HttpMethod::kHead ? HttpMethod::kGet : request.method;
  std::string_view path = request.path();
  if (const Route* r = Find(method, path)) {
    if (authorizer_ && r->access != kPublicAccess) {
      if (Status s = authorizer_(request, r->access); !s.ok()) {
        HttpResponse refusal = HttpResponse::FromStatus(s);
        if (s.code() == StatusCode::kUnauthenticated) {
          refusal.headers.emplace_back("WWW-Authenticate", "Token");
        }
        reply.Send(std::move(refusal));
        return;
      }
    }
    r->handler(request, std::move(reply));
    return;
  }
  std::string allow;
  for (const Route& r : routes_) {
    if (!PathMatches(r.path, path)) continue;
    if (!allow.empty()) allow.append(", ");
    allow.append(HttpMethodName(r.method));
  }
  if (allow.empty()) {
    reply.Send(HttpResponse::Error(404, "NotFound", fmt::format("no route for '{}'", path)));
    return;
  }
  HttpResponse response =
      HttpResponse::Error(405, "MethodNotAllowed",
                          fmt::format("'{}' does not accept {}; allowed: {}", path,
                                      HttpMethodName(request.method), allow));
  response.headers.emplace_back("Allow", allow);
  reply.Send(std::move(response));
}

HttpHandler SyncHandler(std::function<HttpResponse(const HttpRequest&)> fn) {
  return [fn = std::move(fn)](const HttpRequest& request, HttpReply reply) {
    reply.Send(fn(request));
  };
}

}  // namespace seaway
