// The HTTP client of `seaway sql` (src/cli), on Boost.Beast.
#include "cli/sql_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/version.h"

namespace seaway::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, 8) == "https://") {
    return InvalidArgument("'{}': https is not supported by `seaway sql` yet; use http://", url);
  }
  if (url.substr(0, kHttp.size()) != kHttp) {
    return InvalidArgument("'{}' is not an http:// URL (example: http://127.0.0.1:8080)", url);
  }
  std::string_view rest = url.substr(kHttp.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  ServerUrl out;
  if (slash != std::string_view::npos) out.prefix = std::string(rest.substr(slash));
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  } else {
    out.host = std::string(authority);
    out.port = "80";
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty() || out.port.empty() ||
      out.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'{}' has no valid host and port (example: http://127.0.0.1:8080)", url);
  }
  return out;
}

Result<SqlResponse> SqlClient::Run(
    std::string_view sql, std::string_view format,
    const std::function<void(int, std::string_view)>& on_body) const {
  ApiRequest request;
  request.method = "POST";
  request.target = fmt::format("/api/v1/sql?format={}", format);
  request.body =
      nlohmann::json{{"query", std::string(sql)}, {"database", options_.database}}.dump();
  return CallApi(options_.url, options_.token, request, on_body);
}

Result<SqlResponse> CallApi(std::string_view url_text, std::string_view token,
                            const ApiRequest& api,
                            const std::function<void(int, std::string_view)>& on_body) {
  SW_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(url_text));
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(url.host, url.port));
    stream.expires_never();  // a query may take as long as the server allows

    http::request<http::string_body> request{http::string_to_verb(api.method),
                                             fmt::format("{}{}", url.prefix, api.target), 11};
    request.set(http::field::host, fmt::format("{}:{}", url.host, url.port));
    request.set(http::field::user_agent, fmt::format("seaway-cli/{}", kVersion));
    request.set(http::field::content_type, api.content_type);
    if (!token.empty()) request.set(http::field::authorization, fmt::format("Token {}", token));
    request.body() = api.body;
    request.prepare_payload();
    http::write(stream, request);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(stream, buffer, parser);
    SqlResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    response.content_type = std::string(parser.get()[http::field::content_type]);
    char part[64 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = part;
      parser.get().body().size = sizeof(part);
      beast::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      const size_t got = sizeof(part) - parser.get().body().size;
      if (got > 0) on_body(response.status, std::string_view(part, got));
      if (ec) return response;  // cut short: complete stays false
    }
    response.complete = true;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return response;
  } catch (const boost::system::system_error& e) {
    return Unavailable("cannot reach {}: {}", url_text, e.code().message());
  }
}

}  // namespace seaway::cli
