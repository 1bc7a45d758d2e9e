// Tests of the MQTT packet codec (src/mqtt/packet.h).
#include "mqtt/packet.h"

#include <gtest/gtest.h>

namespace seaway::mqtt {
namespace {

TEST(PacketTest, ConnectRoundTrip) {
  Connect c;
  c.client_id = "dev-1";
  c.username = "u";
  c.password = std::string("p\0w", 3);
  c.properties.session_expiry_interval = 60;
  Packet p = c;
  std::string bytes;
  Encode(p, Version::kV5, &bytes);
  FixedHeader h;
  ASSERT_EQ(ReadFixedHeader(bytes, 1 << 20, &h), FrameStatus::kComplete);
  Packet out;
  DecodeError e = Decode(h.byte0, std::string_view(bytes).substr(h.size), Version::kV5, &out);
  ASSERT_TRUE(e.ok()) << e.message;
  EXPECT_EQ(out, p);
}

}  // namespace
}  // namespace seaway::mqtt
