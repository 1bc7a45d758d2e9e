// Tests for HostPort parsing (src/common/host_port.h).
#include "common/host_port.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(HostPortTest, ParsesForms) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:8080"), (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(*ParseHostPort("localhost:0"), (HostPort{"localhost", 0}));
  EXPECT_EQ(*ParseHostPort("[::1]:1883"), (HostPort{"::1", 1883}));
  EXPECT_EQ(ParseHostPort("[::1]:1883")->ToString(), "[::1]:1883");
  EXPECT_EQ(ParseHostPort("0.0.0.0:65535")->ToString(), "0.0.0.0:65535");
}

TEST(HostPortTest, RejectsWithReason) {
  EXPECT_EQ(ParseHostPort("8080").status().message(),
            "address '8080': expected HOST:PORT, e.g. 127.0.0.1:8080");
  EXPECT_EQ(ParseHostPort("h:65536").status().message(),
            "address 'h:65536': port '65536' is not a number from 0 to 65535");
  EXPECT_EQ(ParseHostPort("h:").status().message(),
            "address 'h:': port '' is not a number from 0 to 65535");
  EXPECT_EQ(ParseHostPort("h:12x").status().message(),
            "address 'h:12x': port '12x' is not a number from 0 to 65535");
  EXPECT_EQ(ParseHostPort(":80").status().message(),
            "address ':80': the host is empty (use 0.0.0.0 for all interfaces)");
  EXPECT_EQ(ParseHostPort("::1:80").status().message(),
            "address '::1:80': put IPv6 hosts in brackets, e.g. [::1]:8080");
  EXPECT_FALSE(ParseHostPort("[::1]80").ok());
  EXPECT_FALSE(ParseHostPort("[::1").ok());
}

}  // namespace
}  // namespace seaway
