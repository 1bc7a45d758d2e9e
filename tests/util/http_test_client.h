// HttpTestClient: a deliberately small HTTP/1.1 client over a blocking socket, for tests
// (tests/util). It sends exactly the bytes a test gives it, so tests can pipeline requests, send
// malformed ones, or hold a connection open, and it parses responses with Content-Length bodies.
// ConnectTls puts the same client over TLS (OpenSSL), checking the server's certificate.
//
// Thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/result.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX and SSL, kept out of this header
struct ssl_st;

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
  // Connects and completes a TLS (1.2+) handshake; the server's certificate must chain to the PEM
  // certificates in `ca_file` and name the IP address `host`. The other calls then go over TLS.
  Status ConnectTls(const std::string& host, int port, const std::string& ca_file);
  Status SendRaw(std::string_view bytes);
  // Reads one response (status line, headers, Content-Length body). Times out after 10 s.
  Result<TestResponse> ReadResponse();
  // True when the server has closed the connection (reads return end of file).
  bool ServerClosed();
  void Close();

  // One request on a fresh connection: "GET /path" style convenience.
  static Result<TestResponse> Get(int port, const std::string& path);

 private:
  struct SslContextFree {
    void operator()(ssl_ctx_st* ctx) const;
  };
  struct SslFree {
    void operator()(ssl_st* ssl) const;
  };

  Status Fill();  // reads more bytes into buffer_
  // True when a read would not block (TLS may hold decrypted bytes already).
  bool WaitReadable(int timeout_ms);
  // One read of at most `size` bytes (a peek leaves them to be read again): the count, 0 at an
  // orderly end of the stream, or an error.
  Result<size_t> ReadSome(char* data, size_t size, bool peek);

  int fd_ = -1;
  std::unique_ptr<ssl_ctx_st, SslContextFree> ssl_ctx_;
  std::unique_ptr<ssl_st, SslFree> ssl_;  // set by ConnectTls
  std::string buffer_;
};

}  // namespace seaway::testing
