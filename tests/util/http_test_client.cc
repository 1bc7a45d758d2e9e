// HttpTestClient implementation (tests/util).
#include "util/http_test_client.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace seaway::testing {

HttpTestClient::~HttpTestClient() { Close(); }

void HttpTestClient::Close() {
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

Status HttpTestClient::SendRaw(std::string_view bytes) {
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

Status HttpTestClient::Fill() {
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, 10'000);
  if (ready == 0) return Unavailable("timed out waiting for the server");
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n < 0) return ErrnoError("recv", "socket", errno);
  if (n == 0) return Unavailable("connection closed by the server");
  buffer_.append(buf, static_cast<size_t>(n));
  return Status::OK();
}

bool HttpTestClient::ServerClosed() {
  if (!buffer_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 5'000) <= 0) return false;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK) == 0;
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
