// HttpRequest and HttpResponse: the HTTP front end's own message types (src/http).
//
// Handlers see these instead of Beast types, so that only http_server.cc includes Beast and
// handler files compile fast and test without sockets.
//
// Thread-compatible values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace seaway {

enum class HttpMethod { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view HttpMethodName(HttpMethod method);

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target;  // path and query as received, e.g. "/write?db=plant"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;

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
