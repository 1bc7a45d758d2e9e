// HttpTestClient implementation (tests/util).
#include "util/http_test_client.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace seaway::testing {
namespace {

// The OpenSSL error queue as one line, emptied.
std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? std::string("no OpenSSL error queued") : out;
}

}  // namespace

void HttpTestClient::SslContextFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }
void HttpTestClient::SslFree::operator()(ssl_st* ssl) const { SSL_free(ssl); }

HttpTestClient::~HttpTestClient() { Close(); }

void HttpTestClient::Close() {
  ssl_.reset();  // without close_notify: tests close abruptly, as a crashing client would
  ssl_ctx_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Status HttpTestClient::Connect(const std::string& host, int port) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return ErrnoError("socket", host, errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("bad IPv4 address '{}'", host);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError("connect", fmt::format("{}:{}", host, port), errno);
  }
  return Status::OK();
}

Status HttpTestClient::ConnectTls(const std::string& host, int port, const std::string& ca_file) {
  SW_RETURN_IF_ERROR(Connect(host, port));
  // OpenSSL writes with write(2): a server that closed must fail the write, not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  // Blocking TLS reads can wait on records that are not data (session tickets): bound them.
  const timeval timeout{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  ERR_clear_error();
  ssl_ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (ssl_ctx_ == nullptr) return Internal("SSL_CTX_new: {}", TakeOpenSslErrors());
  SSL_CTX_set_min_proto_version(ssl_ctx_.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ssl_ctx_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_CTX_load_verify_locations(ssl_ctx_.get(), ca_file.c_str(), nullptr) != 1) {
    return InvalidArgument("CA file '{}': {}", ca_file, TakeOpenSslErrors());
  }
  SSL_CTX_set_verify(ssl_ctx_.get(), SSL_VERIFY_PEER, nullptr);
  ssl_.reset(SSL_new(ssl_ctx_.get()));
  if (ssl_ == nullptr || SSL_set_fd(ssl_.get(), fd_) != 1 ||
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), host.c_str()) != 1) {
    return Internal("TLS client setup: {}", TakeOpenSslErrors());
  }
  if (SSL_connect(ssl_.get()) != 1) {
    return Unavailable("TLS handshake with {}:{} failed: {}", host, port, TakeOpenSslErrors());
  }
  return Status::OK();
}

Status HttpTestClient::SendRaw(std::string_view bytes) {
  while (ssl_ != nullptr && !bytes.empty()) {
    const int n = SSL_write(ssl_.get(), bytes.data(),
                            static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
    if (n <= 0) return Unavailable("TLS write failed: {}", TakeOpenSslErrors());
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("send", "socket", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

bool HttpTestClient::WaitReadable(int timeout_ms) {
  if (ssl_ != nullptr && SSL_pending(ssl_.get()) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

Result<size_t> HttpTestClient::ReadSome(char* data, size_t size, bool peek) {
  if (ssl_ == nullptr) {
    ssize_t n = ::recv(fd_, data, size, peek ? MSG_PEEK : 0);
    if (n < 0) return ErrnoError("recv", "socket", errno);
    return static_cast<size_t>(n);
  }
  const int n = peek ? SSL_peek(ssl_.get(), data, static_cast<int>(size))
                     : SSL_read(ssl_.get(), data, static_cast<int>(size));
  if (n > 0) return static_cast<size_t>(n);
  if (SSL_get_error(ssl_.get(), n) == SSL_ERROR_ZERO_RETURN) return size_t{0};
  return Unavailable("TLS read failed: {}", TakeOpenSslErrors());
}

Status HttpTestClient::Fill() {
  if (!WaitReadable(10'000)) return Unavailable("timed out waiting for the server");
  char buf[16384];
  SW_ASSIGN_OR_RETURN(size_t n, ReadSome(buf, sizeof(buf), /*peek=*/false));
  if (n == 0) return Unavailable("connection closed by the server");
  buffer_.append(buf, n);
  return Status::OK();
}

bool HttpTestClient::ServerClosed() {
  if (!buffer_.empty()) return false;
  if (!WaitReadable(5'000)) return false;
  char c;
  Result<size_t> n = ReadSome(&c, 1, /*peek=*/true);
  return n.ok() && *n == 0;
}

Result<TestResponse> HttpTestClient::ReadResponse() {
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    SW_RETURN_IF_ERROR(Fill());
  }
  TestResponse response;
  std::string_view head(buffer_.data(), header_end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
    return Corruption("bad status line '{}'", status_line);
  }
  response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[name] = std::string(value);
  }
  size_t length = 0;
  if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
    length = std::strtoull(it->second.c_str(), nullptr, 10);
  }
  const size_t body_start = header_end + 4;
  while (buffer_.size() < body_start + length) SW_RETURN_IF_ERROR(Fill());
  response.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  return response;
}

Result<TestResponse> HttpTestClient::Get(int port, const std::string& path) {
  HttpTestClient client;
  SW_RETURN_IF_ERROR(client.Connect("127.0.0.1", port));
  SW_RETURN_IF_ERROR(client.SendRaw(
      fmt::format("GET {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path)));
  return client.ReadResponse();
}

}  // namespace seaway::testing
