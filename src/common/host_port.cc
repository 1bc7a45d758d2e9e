// HostPort parsing (src/common).
#include "common/host_port.h"

#include <charconv>

namespace seaway {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument("address '{}': expected [IPv6]:PORT", text);
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("address '{}': expected HOST:PORT, e.g. 127.0.0.1:8080", text);
    }
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return InvalidArgument("address '{}': put IPv6 hosts in brackets, e.g. [::1]:8080", text);
    }
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) {
    return InvalidArgument("address '{}': the host is empty (use 0.0.0.0 for all interfaces)",
                           text);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidArgument("address '{}': port '{}' is not a number from 0 to 65535", text,
                           port_text);
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

}  // namespace seaway
