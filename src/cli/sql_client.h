// SqlClient: runs statements against a server's POST /api/v1/sql (src/cli), for `seaway sql`;
// CallApi, the request underneath, for the other client commands (`seaway admin`).
//
// A blocking HTTP/1.1 client on Boost.Beast: one connection per statement, the body handed to a
// callback as it arrives, so CSV and JSON output can stream to stdout however large it is.
// Plain HTTP only (an https:// URL is refused with a clear message).
//
// Thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace seaway::cli {

struct SqlClientOptions {
  std::string url = "http://127.0.0.1:8080";  // scheme, host, port and an optional path prefix
  std::string token;
  std::string database = "main";
};

struct SqlResponse {
  int status = 0;            // the HTTP status
  bool complete = false;     // false when the server cut the body short (a failure mid-stream)
  std::string content_type;  // of the body
};

class SqlClient {
 public:
  explicit SqlClient(SqlClientOptions options) : options_(std::move(options)) {}

  // Sends `sql` with `format` ("json", "csv", "ndjson") and passes each part of the body to
  // `on_body`, with the response's HTTP status, as it arrives. Unavailable when the server
  // cannot be reached; the HTTP status (and any error document in the body) otherwise.
  Result<SqlResponse> Run(std::string_view sql, std::string_view format,
                          const std::function<void(int, std::string_view)>& on_body) const;

 private:
  SqlClientOptions options_;
};

// One request to a server's HTTP API for a client command: `method` ("GET", "POST") on `target`
// (path and query, after the URL's prefix) with `body`. The response body goes to `on_body`, with
// the HTTP status, as it arrives. Unavailable when the server cannot be reached.
struct ApiRequest {
  std::string method = "GET";
  std::string target;
  std::string body;
  std::string content_type = "application/json";
};
Result<SqlResponse> CallApi(std::string_view url, std::string_view token, const ApiRequest& request,
                            const std::function<void(int, std::string_view)>& on_body);

// The URL's parts: "http://host:port/prefix" -> host, port ("80" by default), prefix ("" or
// "/prefix" without a trailing slash). InvalidArgument for other schemes or malformed URLs.
struct ServerUrl {
  std::string host;
  std::string port;
  std::string prefix;
};
Result<ServerUrl> ParseServerUrl(std::string_view url);

}  // namespace seaway::cli
