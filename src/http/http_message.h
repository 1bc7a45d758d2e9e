// HttpRequest and HttpResponse: the HTTP front end's own message types (src/http).
//
// Handlers see these instead of Beast types, so that only http_server.cc includes Beast and
// handler files compile fast and test without sockets.
//
// Thread-compatible values, except HttpClientWatch (thread-safe).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace seaway {

enum class HttpMethod { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view HttpMethodName(HttpMethod method);

// Tells a handler that answers later (from another thread) that its client went away before the
// response started: the peer closed or reset the connection. The HTTP server watches the
// connection only for handlers that call OnGone before they return, and stops watching once the
// response starts (a streamed body's writes then fail instead). A client that only half-closes
// (shuts down its sending side and still reads) counts as gone too, as nginx counts it; the
// server then closes the connection.
//
// Thread-safe.
class HttpClientWatch {
 public:
  // True once the client is gone.
  bool gone() const { return gone_.load(std::memory_order_acquire); }

  // Calls `fn` once when the client goes, on an I/O thread, or at once on this thread if it has
  // gone already. `fn` must not call OnGone. OnGone(nullptr) removes the callback, waiting for a
  // call in progress to return, so that what `fn` captured may then be destroyed.
  void OnGone(std::function<void()> fn);

  // Whether a handler asked to be told (the server's question once the handler returned).
  bool wanted() const;

  // The server: the client has gone. Calls the callback, once.
  void MarkGone();

 private:
  mutable std::mutex mu_;
  std::atomic<bool> gone_{false};
  bool wanted_ = false;
  std::function<void()> on_gone_;
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;  // path and query as received, e.g. "/write?db=plant"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;
  // Set by the HTTP server (null in tests without sockets): see HttpClientWatch.
  std::shared_ptr<HttpClientWatch> client;

  // The path without the query string.
  std::string_view path() const;
  // The raw query string after '?', or empty.
  std::string_view query() const;
  // A header's value by case-insensitive name.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The percent-decoded value of the first query parameter `name`.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // Every query parameter, percent-decoded, in order ("" for a name without '=').
  std::vector<std::pair<std::string, std::string>> QueryParams() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A streamed response (HttpReply::StartStream): the time by which its header and each part of
  // its body must be taken by the connection. A write still waiting then gives up (returns
  // false) and the connection is cut, so a client that stops reading cannot hold the producing
  // thread past it. Otherwise only the server's I/O timeout bounds a write.
  std::chrono::steady_clock::time_point send_deadline =
      std::chrono::steady_clock::time_point::max();

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain");
  // {"error":"<message>","code":"<code>"}: the shape every error of the HTTP API uses. `error` is
  // a string so that InfluxDB clients, which read that field, show the message.
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
  // An error from a Status, with the HTTP status from the one mapping table (HttpStatusFor).
  static HttpResponse FromStatus(const Status& status);
};

// The HTTP status for each StatusCode: the front end's one mapping table.
int HttpStatusFor(StatusCode code);

// Decodes %XX escapes and '+' (as space) of a query-string component. Invalid escapes are kept.
std::string PercentDecode(std::string_view text);

// Escapes `text` as the inside of a JSON string (without the quotes).
std::string JsonEscape(std::string_view text);

}  // namespace seaway
