// HostPort: a listener or peer address as users write it (src/common).
//
// Accepted forms: "127.0.0.1:8080", "localhost:1883", "[::1]:8080", "0.0.0.0:0" (port 0 lets the
// operating system choose; the listener logs the port it got).
//
// Thread-compatible value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace seaway {

struct HostPort {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;

  // "host:port", with brackets around IPv6 hosts.
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace seaway
