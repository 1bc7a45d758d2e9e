// HttpTestClient: a deliberately small HTTP/1.1 client over a blocking socket, for tests
// (tests/util). It sends exactly the bytes a test gives it, so tests can pipeline requests, send
// malformed ones, or hold a connection open, and it parses responses with Content-Length bodies.
//
// Thread-compatible.
#pragma once

#include <map>
#include <string>

#include "common/result.h"

namespace seaway::testing {

struct TestResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpTestClient {
 public:
  HttpTestClient() = default;
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  Status Connect(const std::string& host, int port);
  Status SendRaw(std::string_view bytes);
  // Reads one response (status line, headers, Content-Length body). Times out after 10 s.
  Result<TestResponse> ReadResponse();
  // True when the server has closed the connection (reads return end of file).
  bool ServerClosed();
  void Close();

  // One request on a fresh connection: "GET /path" style convenience.
  static Result<TestResponse> Get(int port, const std::string& path);

 private:
  Status Fill();  // reads more bytes into buffer_

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace seaway::testing
