// http_loader (bench/): posts a pre-generated text file (line protocol, TSV) to an HTTP endpoint
// in batches of N lines over C keep-alive connections, and reports lines/s. Used by
// bench/storage_ingest.sh to load InfluxDB and ClickHouse the same way; plain POSIX sockets so
// that the loader costs little of the 2 cores it shares with the server it measures.
//
//   http_loader --port 8086 --path '/write?db=bench&precision=ns' --file rows.lp
//   http_loader --port 8123 --path '/?query=INSERT%20INTO%20bench.machines%20FORMAT%20TabSeparated'
//               --file rows.tsv --batch-lines 5000 --connections 2
//
// The file is read and split into batches before the clock starts; the clock covers the first
// request to the last response. Any non-2xx response stops the run with the server's message.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

namespace seaway::bench {
namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8086;
  std::string path = "/";
  std::string file;
  int batch_lines = 5000;
  int connections = 2;
};

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("open '{}': {}", path, strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *error = fmt::format("stat '{}': {}", path, strerror(errno));
    close(fd);
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = fmt::format("read '{}': {}", path, n == 0 ? "short file" : strerror(errno));
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return true;
}

// Splits `data` into pieces of at most `lines` lines each; counts every line.
std::vector<std::string_view> SplitBatches(std::string_view data, int lines, int64_t* total) {
  std::vector<std::string_view> batches;
  size_t begin = 0, pos = 0;
  int in_batch = 0;
  *total = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    pos = nl == std::string_view::npos ? data.size() : nl + 1;
    ++*total;
    if (++in_batch == lines) {
      batches.push_back(data.substr(begin, pos - begin));
      begin = pos;
      in_batch = 0;
    }
  }
  if (begin < data.size()) batches.push_back(data.substr(begin));
  return batches;
}

// One keep-alive HTTP/1.1 connection. Thread-compatible.
class Connection {
 public:
  explicit Connection(const Options& options) : options_(options) {}
  ~Connection() { Disconnect(); }

  bool Connect(std::string* error) {
    Disconnect();
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Fail(error, "socket");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(options_.port));
    if (inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
      *error = fmt::format("'{}' is not an IPv4 address", options_.host);
      return false;
    }
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Fail(error, fmt::format("connect {}:{}", options_.host, options_.port));
    }
    buffer_.clear();
    return true;
  }

  // Posts `body`; true on a 2xx response, else `error` holds the status and body.
  bool Post(std::string_view body, std::string* error) {
    if (fd_ < 0 && !Connect(error)) return false;
    std::string head = fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: {}\r\n\r\n",
        options_.path, options_.host, options_.port, body.size());
    if (!SendAll(head, body, error)) return false;
    return ReadResponse(error);
  }

 private:
  bool Fail(std::string* error, std::string_view what) {
    *error = fmt::format("{}: {}", what, strerror(errno));
    Disconnect();
    return false;
  }

  void Disconnect() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool SendAll(std::string_view head, std::string_view body, std::string* error) {
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    int first = 0;
    while (first < 2) {
      ssize_t n = writev(fd_, iov + first, 2 - first);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(error, "send");
      size_t left = static_cast<size_t>(n);
      while (first < 2 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (first < 2) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return true;
  }

  // Reads more bytes into buffer_; false at end of stream or on error.
  bool Fill(std::string* error) {
    char chunk[16384];
    for (;;) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(error, "recv");
      if (n == 0) {
        *error = "server closed the connection before the response ended";
        Disconnect();
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  // Takes one line ending in CRLF off buffer_ (without the CRLF).
  bool ReadLine(std::string* line, std::string* error) {
    size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      if (!Fill(error)) return false;
    }
    line->assign(buffer_, 0, end);
    buffer_.erase(0, end + 2);
    return true;
  }

  bool ReadBytes(size_t n, std::string* out, std::string* error) {
    while (buffer_.size() < n) {
      if (!Fill(error)) return false;
    }
    out->append(buffer_, 0, n);
    buffer_.erase(0, n);
    return true;
  }

  bool ReadResponse(std::string* error) {
    std::string line;
    if (!ReadLine(&line, error)) return false;
    int status = 0;
    if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0) {
      *error = fmt::format("bad status line '{}'", line);
      Disconnect();
      return false;
    }
    status = std::atoi(line.c_str() + 9);
    int64_t content_length = -1;
    bool chunked = false, close_after = false;
    for (;;) {
      if (!ReadLine(&line, error)) return false;
      if (line.empty()) break;
      std::string lower = line;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.starts_with("content-length:")) content_length = std::atoll(lower.c_str() + 15);
      if (lower.starts_with("transfer-encoding:") && lower.find("chunked") != std::string::npos) {
        chunked = true;
      }
      if (lower.starts_with("connection:") && lower.find("close") != std::string::npos) {
        close_after = true;
      }
    }
    std::string body;
    if (chunked) {
      for (;;) {
        if (!ReadLine(&line, error)) return false;
        size_t size = std::strtoul(line.c_str(), nullptr, 16);
        if (size == 0) {
          do {  // trailers, then the blank line
            if (!ReadLine(&line, error)) return false;
          } while (!line.empty());
          break;
        }
        if (!ReadBytes(size + 2, &body, error)) return false;
        body.resize(body.size() - 2);
      }
    } else if (content_length > 0) {
      if (!ReadBytes(static_cast<size_t>(content_length), &body, error)) return false;
    } else if (content_length < 0 && status != 204 && status != 304) {
      close_after = true;  // body runs to the end of the stream
      std::string ignored;
      while (Fill(&ignored)) {
      }
      body = buffer_;
    }
    if (close_after) Disconnect();
    if (status < 200 || status > 299) {
      *error = fmt::format("HTTP {}: {}", status, body.substr(0, 2000));
      return false;
    }
    return true;
  }

  const Options& options_;
  int fd_ = -1;
  std::string buffer_;
};

int Run(int argc, char** argv) {
  CLI::App app{"Posts a file in batches of lines over keep-alive HTTP connections"};
  Options o;
  app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->capture_default_str();
  app.add_option("--path", o.path, "request target, with query string")->capture_default_str();
  app.add_option("--file", o.file, "file to post, one row per line")->required();
  app.add_option("--batch-lines", o.batch_lines, "lines per request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--connections", o.connections, "concurrent connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  std::string data, error;
  if (!ReadFile(o.file, &data, &error)) {
    fmt::print(stderr, "http_loader: {}\n", error);
    return 1;
  }
  int64_t lines = 0;
  const std::vector<std::string_view> batches = SplitBatches(data, o.batch_lines, &lines);

  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < o.connections; ++i) {
    connections.push_back(std::make_unique<Connection>(o));
    if (!connections.back()->Connect(&error)) {
      fmt::print(stderr, "http_loader: {}\n", error);
      return 1;
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::string first_error;
  std::latch start(o.connections + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back([&, conn = connections[i].get()] {
      start.arrive_and_wait();
      std::string err;
      for (size_t b; !failed.load() && (b = next.fetch_add(1)) < batches.size();) {
        if (!conn->Post(batches[b], &err)) {
          std::lock_guard lock(error_mu);
          if (!failed.exchange(true)) first_error = fmt::format("batch {}: {}", b, err);
          return;
        }
      }
    });
  }
  start.arrive_and_wait();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failed.load()) {
    fmt::print(stderr, "http_loader: {}\n", first_error);
    return 1;
  }
  fmt::print("lines={} batches={} bytes={} seconds={:.3f} lines_per_s={:.0f}\n", lines,
             batches.size(), data.size(), seconds, static_cast<double>(lines) / seconds);
  return 0;
}

}  // namespace
}  // namespace seaway::bench

int main(int argc, char** argv) { return seaway::bench::Run(argc, argv); }
