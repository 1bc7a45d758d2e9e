// Tests of the MQTT packet codec (src/mqtt/packet.h): round trips of every packet type in both
// versions, byte-exact encodings written by hand from the specifications, framing, and every
// decode error with the reason code the broker would send.
#include "mqtt/packet.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace seaway::mqtt {
namespace {

constexpr uint32_t kNoLimit = UINT32_MAX;

// "10 0f 00 04" -> bytes; spaces are ignored.
std::string Hex(std::string_view hex) {
  std::string out;
  int nibbles = 0;
  uint8_t b = 0;
  for (char c : hex) {
    if (c == ' ') continue;
    const int v = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    b = static_cast<uint8_t>(b << 4 | v);
    if (++nibbles % 2 == 0) out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

// A two-byte length-prefixed string.
std::string S(std::string_view s) {
  std::string out;
  out.push_back(static_cast<char>(s.size() >> 8));
  out.push_back(static_cast<char>(s.size() & 0xff));
  out.append(s);
  return out;
}

std::string VarInt(uint32_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v > 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v > 0);
  return out;
}

// A property block: the length, then the properties.
std::string Props(std::string_view body) {
  return VarInt(static_cast<uint32_t>(body.size())) + std::string(body);
}

// A whole packet from its first byte and body.
std::string Frame(uint8_t byte0, std::string_view body) {
  return std::string(1, static_cast<char>(byte0)) + VarInt(static_cast<uint32_t>(body.size())) +
         std::string(body);
}

std::string EncodeToString(const Packet& p, Version v) {
  std::string out;
  Encode(p, v, &out);
  return out;
}

// Frames and decodes one whole packet.
DecodeError DecodeBytes(std::string_view bytes, Version v, Packet* out) {
  FixedHeader h;
  EXPECT_EQ(ReadFixedHeader(bytes, kNoLimit, &h), FrameStatus::kComplete) << ToHex(bytes);
  EXPECT_EQ(h.packet_size(), bytes.size()) << ToHex(bytes);
  return Decode(h.byte0, bytes.substr(h.size), v, out);
}

DecodeError DecodeBytes(std::string_view bytes, Version v) {
  Packet p;
  return DecodeBytes(bytes, v, &p);
}

// Encodes, checks EncodedSize, decodes.
Packet RoundTrip(const Packet& p, Version v) {
  const std::string bytes = EncodeToString(p, v);
  EXPECT_EQ(EncodedSize(p, v), bytes.size());
  Packet out;
  const DecodeError e = DecodeBytes(bytes, v, &out);
  EXPECT_TRUE(e.ok()) << PacketTypeName(TypeOf(p)) << ": " << e.message << "\n" << ToHex(bytes);
  EXPECT_EQ(TypeOf(out), TypeOf(p));
  return out;
}

// ---- Sample packets with every property allowed in them --------------------------------------

std::vector<std::pair<std::string, std::string>> Users() {
  return {{"k", "v"}, {"k", "second value for the same key"}, {"", ""}};
}

Properties ConnectProps() {
  Properties p;
  p.session_expiry_interval = 3600;
  p.receive_maximum = 20;
  p.maximum_packet_size = 1 << 20;
  p.topic_alias_maximum = 10;
  p.request_response_information = 1;
  p.request_problem_information = 0;
  p.authentication_method = "SCRAM-SHA-1";
  p.authentication_data = std::string("\x00\x01\xff", 3);
  p.user_properties = Users();
  return p;
}

Properties WillProps() {
  Properties p;
  p.will_delay_interval = 30;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 120;
  p.content_type = "text/plain";
  p.response_topic = "replies/dev-1";
  p.correlation_data = std::string("\x00\xfe", 2);
  p.user_properties = Users();
  return p;
}

Properties ConnackProps() {
  Properties p;
  p.session_expiry_interval = 0;
  p.receive_maximum = 65535;
  p.maximum_qos = 1;
  p.retain_available = 0;
  p.maximum_packet_size = 268435460;
  p.assigned_client_identifier = "auto-7f3a";
  p.topic_alias_maximum = 0;
  p.reason_string = "welcome";
  p.user_properties = Users();
  p.wildcard_subscription_available = 1;
  p.subscription_identifier_available = 0;
  p.shared_subscription_available = 1;
  p.server_keep_alive = 15;
  p.response_information = "resp/";
  p.server_reference = "other.example:1883";
  p.authentication_method = "SCRAM-SHA-1";
  p.authentication_data = "server-final";
  return p;
}

Properties PublishProps() {
  Properties p;
  p.payload_format_indicator = 0;
  p.message_expiry_interval = 0xffffffff;
  p.topic_alias = 3;
  p.response_topic = "r/1";
  p.correlation_data = "corr";
  p.user_properties = Users();
  p.subscription_identifiers = {1, 127, 128, 268435455};
  p.content_type = "application/json";
  return p;
}

Properties ReasonProps() {  // acks, SUBACK, UNSUBACK
  Properties p;
  p.reason_string = "because";
  p.user_properties = Users();
  return p;
}

Properties SubscribeProps() {
  Properties p;
  p.subscription_identifiers = {268435455};
  p.user_properties = Users();
  return p;
}

Properties UserProps() {
  Properties p;
  p.user_properties = Users();
  return p;
}

Properties DisconnectProps() {
  Properties p;
  p.session_expiry_interval = 7;
  p.reason_string = "bye";
  p.server_reference = "elsewhere";
  p.user_properties = Users();
  return p;
}

Properties AuthProps() {
  Properties p;
  p.authentication_method = "SCRAM-SHA-1";
  p.authentication_data = "client-final";
  p.reason_string = "continue";
  p.user_properties = Users();
  return p;
}

Connect FullConnect(Version v) {
  Connect c;
  c.version = v;
  c.clean_start = false;
  c.keep_alive = 0xffff;
  c.client_id = "dev-1";
  c.username = "user";
  c.password = std::string("p\0ss", 4);
  Will w;
  w.topic = "status/dev-1";
  w.payload = "offline";
  w.qos = 2;
  w.retain = true;
  w.properties = WillProps();
  c.will = w;
  c.properties = ConnectProps();
  return c;
}

// One of each packet type, with 5.0 fields filled (AUTH last).
std::vector<Packet> SamplePackets() {
  std::vector<Packet> out;
  out.push_back(FullConnect(Version::kV5));
  Connect minimal;
  minimal.client_id = "";
  out.push_back(minimal);
  Connect password_only;  // 5.0 allows a password without a user name
  password_only.client_id = "c";
  password_only.password = "secret";
  out.push_back(password_only);
  out.push_back(Connack{true, ReasonCode::kSuccess, ConnackProps()});
  out.push_back(Connack{false, ReasonCode::kNotAuthorized, {}});
  out.push_back(Publish{"a/b", "payload", 0, false, false, 0, PublishProps()});
  out.push_back(Publish{"a/b", "", 1, true, true, 1, {}});
  out.push_back(Publish{"$SYS/x", std::string("\0\1\2", 3), 2, false, false, 65535, {}});
  for (PacketType t :
       {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel, PacketType::kPubcomp}) {
    out.push_back(Ack{t, 9, ReasonCode::kSuccess, {}});
    out.push_back(Ack{t, 10, ReasonCode::kPacketIdentifierNotFound, {}});
    out.push_back(Ack{t, 11, ReasonCode::kSuccess, ReasonProps()});
  }
  out.push_back(Subscribe{12,
                          {{"a/+", {0, false, false, 0}},
                           {"#", {1, true, false, 1}},
                           {"$share/g/x/#", {2, false, true, 2}},
                           {"b", {2, true, true, 0}}},
                          SubscribeProps()});
  out.push_back(Suback{12,
                       {ReasonCode::kSuccess, ReasonCode::kGrantedQos1, ReasonCode::kGrantedQos2,
                        ReasonCode::kUnspecifiedError},
                       ReasonProps()});
  out.push_back(Suback{13, {ReasonCode::kTopicFilterInvalid}, {}});
  out.push_back(Unsubscribe{14, {"a/+", "#", "$share/g/x/#"}, UserProps()});
  out.push_back(
      Unsuback{14, {ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted}, ReasonProps()});
  out.push_back(Pingreq{});
  out.push_back(Pingresp{});
  out.push_back(Disconnect{});
  out.push_back(Disconnect{ReasonCode::kDisconnectWithWill, {}});
  out.push_back(Disconnect{ReasonCode::kSessionTakenOver, DisconnectProps()});
  out.push_back(Auth{});
  out.push_back(Auth{ReasonCode::kContinueAuthentication, AuthProps()});
  return out;
}

// What a 3.1.1 round trip of `p` gives: the 5.0-only fields dropped or mapped.
Packet Expected311(const Packet& p) {
  return std::visit(
      [](auto q) -> Packet {
        using T = std::decay_t<decltype(q)>;
        if constexpr (std::is_same_v<T, Connect>) {
          q.version = Version::kV311;
          q.properties = {};
          if (q.will) q.will->properties = {};
        } else if constexpr (std::is_same_v<T, Connack>) {
          static constexpr ReasonCode k311[] = {ReasonCode::kSuccess,
                                                ReasonCode::kUnsupportedProtocolVersion,
                                                ReasonCode::kClientIdentifierNotValid,
                                                ReasonCode::kServerUnavailable,
                                                ReasonCode::kBadUserNameOrPassword,
                                                ReasonCode::kNotAuthorized};
          q.reason = k311[ConnackReturnCode311(q.reason)];
          q.properties = {};
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          for (Subscription& s : q.subscriptions) s.options = {s.options.max_qos, false, false, 0};
          q.properties = {};
        } else if constexpr (std::is_same_v<T, Suback>) {
          for (ReasonCode& r : q.reasons) {
            if (static_cast<uint8_t>(r) > 2) r = ReasonCode::kUnspecifiedError;
          }
          q.properties = {};
        } else if constexpr (std::is_same_v<T, Unsuback>) {
          q.reasons.clear();
          q.properties = {};
        } else if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Disconnect>) {
          q.reason = ReasonCode::kSuccess;
          q.properties = {};
        } else if constexpr (std::is_same_v<T, Publish> || std::is_same_v<T, Unsubscribe>) {
          q.properties = {};
        }
        return q;
      },
      p);
}

// ---- Round trips -----------------------------------------------------------------------------

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

TEST(PacketTest, EveryPacketRoundTripsIn5) {
  for (const Packet& p : SamplePackets()) {
    SCOPED_TRACE(PacketTypeName(TypeOf(p)));
    EXPECT_EQ(RoundTrip(p, Version::kV5), p);
  }
}

TEST(PacketTest, EveryPacketRoundTripsIn311WithoutThe5Fields) {
  for (Packet p : SamplePackets()) {
    if (TypeOf(p) == PacketType::kAuth) continue;
    if (auto* c = std::get_if<Connect>(&p)) {
      c->version = Version::kV311;
      if (c->password && !c->username) continue;  // not representable in 3.1.1
    }
    SCOPED_TRACE(PacketTypeName(TypeOf(p)));
    EXPECT_EQ(RoundTrip(p, Version::kV311), Expected311(p));
  }
}

TEST(PacketTest, ConnectUsesItsOwnVersion) {
  // A 5.0 CONNECT decodes as 5.0 on a connection still assumed 3.1.1, and vice versa.
  const Connect v5 = FullConnect(Version::kV5);
  Packet out;
  ASSERT_TRUE(DecodeBytes(EncodeToString(v5, Version::kV311), Version::kV311, &out).ok());
  EXPECT_EQ(out, Packet(v5));
  const Connect v311 = std::get<Connect>(Expected311(FullConnect(Version::kV311)));
  ASSERT_TRUE(DecodeBytes(EncodeToString(v311, Version::kV5), Version::kV5, &out).ok());
  EXPECT_EQ(out, Packet(v311));
}

TEST(PacketTest, EveryConnect311FlagCombinationRoundTrips) {
  for (int mask = 0; mask < 64; ++mask) {
    Connect c;
    c.version = Version::kV311;
    c.clean_start = mask & 1;
    if (mask & 2) c.username = "u";
    if ((mask & 4) && c.username) c.password = "p";
    if (mask & 8) c.will = Will{"w", "", static_cast<uint8_t>((mask >> 4) % 3), (mask & 32) != 0};
    EXPECT_EQ(RoundTrip(c, Version::kV311), Packet(c)) << mask;
  }
}

TEST(PacketTest, LargePacketsRoundTrip) {
  Publish p;
  p.topic = std::string(65535, 't');
  p.payload = std::string(3 << 20, 'x');
  p.qos = 1;
  p.packet_id = 1;
  p.properties.user_properties.emplace_back(std::string(65535, 'k'), std::string(65535, 'v'));
  EXPECT_EQ(RoundTrip(p, Version::kV5), Packet(p));
  Subscribe s;
  s.packet_id = 1;
  for (int i = 0; i < 1000; ++i) s.subscriptions.push_back({"f/" + std::to_string(i), {1}});
  EXPECT_EQ(RoundTrip(s, Version::kV311), Packet(s));
}

// ---- Byte-exact encodings --------------------------------------------------------------------

struct Exact {
  const char* name;
  Packet packet;
  Version version;
  const char* hex;
};

TEST(PacketTest, ByteExactEncodings) {
  Connect connect311;
  connect311.version = Version::kV311;
  connect311.keep_alive = 10;
  connect311.client_id = "abc";
  Connect connect311_full = connect311;
  connect311_full.clean_start = false;
  connect311_full.will = Will{"w", "bye", 1, true, {}};
  connect311_full.username = "u";
  connect311_full.password = "pw";
  Connect connect5;
  connect5.keep_alive = 60;
  connect5.properties.receive_maximum = 20;
  Publish publish5{"a/b", "hi", 1, false, false, 10, {}};
  publish5.properties.payload_format_indicator = 1;
  publish5.properties.message_expiry_interval = 60;
  publish5.properties.topic_alias = 5;
  publish5.properties.user_properties = {{"k", "v"}};
  Subscribe subscribe{1, {{"a/+", {2, true, true, 1}}}, {}};
  Subscribe subscribe_id = subscribe;
  subscribe_id.properties.subscription_identifiers = {200};
  Ack puback_reason_string{PacketType::kPuback, 7, ReasonCode::kSuccess, {}};
  puback_reason_string.properties.reason_string = "ok";

  const Exact cases[] = {
      // MQTT 3.1.1 section 3.1: protocol name, level 4, flags (clean session), keep alive 10.
      {"connect 3.1.1", connect311, Version::kV311,
       "10 0f 00 04 4d 51 54 54 04 02 00 0a 00 03 61 62 63"},
      // Will flag 0x04, will QoS 1 0x08, will retain 0x20, password 0x40, user name 0x80.
      {"connect 3.1.1 will user password", connect311_full, Version::kV311,
       "10 1e 00 04 4d 51 54 54 04 ec 00 0a 00 03 61 62 63 00 01 77 00 03 62 79 65 00 01 75"
       " 00 02 70 77"},
      // 5.0: level 5, properties (receive maximum 20), empty client identifier.
      {"connect 5.0", connect5, Version::kV5,
       "10 10 00 04 4d 51 54 54 05 02 00 3c 03 21 00 14 00 00"},
      {"connack 3.1.1", Connack{true, ReasonCode::kSuccess, {}}, Version::kV311, "20 02 01 00"},
      {"connack 3.1.1 bad user", Connack{false, ReasonCode::kBadUserNameOrPassword, {}},
       Version::kV311, "20 02 00 04"},
      {"connack 3.1.1 server busy", Connack{false, ReasonCode::kServerBusy, {}}, Version::kV311,
       "20 02 00 03"},
      {"connack 5.0", Connack{false, ReasonCode::kServerBusy, {}}, Version::kV5, "20 03 00 89 00"},
      // Topic "a/b", packet identifier 10, properties: payload format 1, message expiry 60,
      // topic alias 5, user property k=v (in identifier order), payload "hi".
      {"publish 5.0 properties", publish5, Version::kV5,
       "32 1b 00 03 61 2f 62 00 0a 11 01 01 02 00 00 00 3c 23 00 05 26 00 01 6b 00 01 76 68 69"},
      {"publish 3.1.1 same", publish5, Version::kV311, "32 09 00 03 61 2f 62 00 0a 68 69"},
      {"publish qos0 retain", Publish{"t", "", 0, true, false, 0, {}}, Version::kV311,
       "31 03 00 01 74"},
      {"publish qos2 dup", Publish{"t", "", 2, false, true, 0x1234, {}}, Version::kV5,
       "3c 06 00 01 74 12 34 00"},
      {"puback 3.1.1", Ack{PacketType::kPuback, 7, ReasonCode::kSuccess, {}}, Version::kV311,
       "40 02 00 07"},
      {"puback 3.1.1 drops reason",
       Ack{PacketType::kPuback, 7, ReasonCode::kNoMatchingSubscribers, {}}, Version::kV311,
       "40 02 00 07"},
      {"puback 5.0 success", Ack{PacketType::kPuback, 7, ReasonCode::kSuccess, {}}, Version::kV5,
       "40 02 00 07"},
      {"puback 5.0 reason", Ack{PacketType::kPuback, 7, ReasonCode::kNoMatchingSubscribers, {}},
       Version::kV5, "40 03 00 07 10"},
      {"puback 5.0 reason string", puback_reason_string, Version::kV5,
       "40 09 00 07 00 05 1f 00 02 6f 6b"},
      {"pubrec", Ack{PacketType::kPubrec, 0x0102, ReasonCode::kSuccess, {}}, Version::kV5,
       "50 02 01 02"},
      {"pubrel", Ack{PacketType::kPubrel, 7, ReasonCode::kSuccess, {}}, Version::kV311,
       "62 02 00 07"},
      {"pubcomp", Ack{PacketType::kPubcomp, 7, ReasonCode::kPacketIdentifierNotFound, {}},
       Version::kV5, "70 03 00 07 92"},
      // Options: QoS 2 (bits 0-1), no local (bit 2), retain as published (bit 3), retain
      // handling 1 (bits 4-5): 0x1e.
      {"subscribe 5.0 options", subscribe, Version::kV5, "82 09 00 01 00 00 03 61 2f 2b 1e"},
      {"subscribe 3.1.1 options", subscribe, Version::kV311, "82 08 00 01 00 03 61 2f 2b 02"},
      {"subscribe 5.0 identifier", subscribe_id, Version::kV5,
       "82 0c 00 01 03 0b c8 01 00 03 61 2f 2b 1e"},
      {"suback 3.1.1", Suback{1, {ReasonCode::kGrantedQos1, ReasonCode::kTopicFilterInvalid}, {}},
       Version::kV311, "90 04 00 01 01 80"},
      {"suback 5.0", Suback{1, {ReasonCode::kGrantedQos1, ReasonCode::kTopicFilterInvalid}, {}},
       Version::kV5, "90 05 00 01 00 01 8f"},
      {"unsubscribe 3.1.1", Unsubscribe{2, {"a", "b/#"}, {}}, Version::kV311,
       "a2 0a 00 02 00 01 61 00 03 62 2f 23"},
      {"unsubscribe 5.0", Unsubscribe{2, {"a"}, {}}, Version::kV5, "a2 06 00 02 00 00 01 61"},
      {"unsuback 3.1.1", Unsuback{2, {ReasonCode::kNoSubscriptionExisted}, {}}, Version::kV311,
       "b0 02 00 02"},
      {"unsuback 5.0", Unsuback{2, {ReasonCode::kNoSubscriptionExisted}, {}}, Version::kV5,
       "b0 04 00 02 00 11"},
      {"pingreq", Pingreq{}, Version::kV311, "c0 00"},
      {"pingresp", Pingresp{}, Version::kV5, "d0 00"},
      {"disconnect 3.1.1", Disconnect{ReasonCode::kDisconnectWithWill, {}}, Version::kV311,
       "e0 00"},
      {"disconnect 5.0", Disconnect{}, Version::kV5, "e0 00"},
      {"disconnect 5.0 will", Disconnect{ReasonCode::kDisconnectWithWill, {}}, Version::kV5,
       "e0 01 04"},
      {"auth", Auth{}, Version::kV5, "f0 00"},
      {"auth continue", Auth{ReasonCode::kContinueAuthentication, {}}, Version::kV5, "f0 01 18"},
  };
  for (const Exact& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string bytes = EncodeToString(c.packet, c.version);
    EXPECT_EQ(ToHex(bytes), ToHex(Hex(c.hex)));
    EXPECT_EQ(EncodedSize(c.packet, c.version), bytes.size());
    Packet decoded;
    const DecodeError e = DecodeBytes(Hex(c.hex), c.version, &decoded);
    ASSERT_TRUE(e.ok()) << e.message;
    EXPECT_EQ(EncodeToString(decoded, c.version), bytes);
  }
}

TEST(PacketTest, AckDecodesReasonWithoutProperties) {
  // 5.0 section 3.4.2.1: the reason code and property length may be left out.
  Packet p;
  ASSERT_TRUE(DecodeBytes(Hex("40 03 00 07 10"), Version::kV5, &p).ok());
  EXPECT_EQ(p, Packet(Ack{PacketType::kPuback, 7, ReasonCode::kNoMatchingSubscribers, {}}));
  ASSERT_TRUE(DecodeBytes(Hex("40 04 00 07 00 00"), Version::kV5, &p).ok());
  EXPECT_EQ(p, Packet(Ack{PacketType::kPuback, 7, ReasonCode::kSuccess, {}}));
  ASSERT_TRUE(DecodeBytes(Hex("e0 02 00 00"), Version::kV5, &p).ok());
  EXPECT_EQ(p, Packet(Disconnect{}));
}

TEST(PacketTest, Connack311ReturnCodes) {
  const ReasonCode expected[] = {ReasonCode::kSuccess,
                                 ReasonCode::kUnsupportedProtocolVersion,
                                 ReasonCode::kClientIdentifierNotValid,
                                 ReasonCode::kServerUnavailable,
                                 ReasonCode::kBadUserNameOrPassword,
                                 ReasonCode::kNotAuthorized};
  for (int code = 0; code <= 5; ++code) {
    Packet p;
    ASSERT_TRUE(
        DecodeBytes(Frame(0x20, std::string{0, static_cast<char>(code)}), Version::kV311, &p).ok());
    EXPECT_EQ(std::get<Connack>(p).reason, expected[code]);
    EXPECT_EQ(ConnackReturnCode311(expected[code]), code);
  }
  EXPECT_EQ(ConnackReturnCode311(ReasonCode::kBanned), 5);
  EXPECT_EQ(ConnackReturnCode311(ReasonCode::kUseAnotherServer), 3);
  EXPECT_EQ(ConnackReturnCode311(ReasonCode::kBadAuthenticationMethod), 4);
}

// ---- Framing ---------------------------------------------------------------------------------

TEST(FramingTest, RemainingLengthBoundaries) {
  const struct {
    uint32_t length;
    const char* bytes;
  } cases[] = {
      {0, "00"},
      {127, "7f"},
      {128, "80 01"},
      {16383, "ff 7f"},
      {16384, "80 80 01"},
      {2097151, "ff ff 7f"},
      {2097152, "80 80 80 01"},
      {268435455, "ff ff ff 7f"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.length);
    const std::string header = "\x30" + Hex(c.bytes);
    FixedHeader h;
    ASSERT_EQ(ReadFixedHeader(header, kNoLimit, &h), FrameStatus::kComplete);
    EXPECT_EQ(h.byte0, 0x30);
    EXPECT_EQ(h.type(), PacketType::kPublish);
    EXPECT_EQ(h.remaining_length, c.length);
    EXPECT_EQ(h.size, header.size());
    EXPECT_EQ(h.packet_size(), header.size() + c.length);
    // Every shorter prefix of the header asks for more.
    for (size_t k = 0; k < header.size(); ++k) {
      EXPECT_EQ(ReadFixedHeader(header.substr(0, k), kNoLimit, &h), FrameStatus::kNeedMore) << k;
    }
    // The body need not be there, and bytes after the header do not matter.
    EXPECT_EQ(ReadFixedHeader(header + "\xff\xff", kNoLimit, &h), FrameStatus::kComplete);
    EXPECT_EQ(h.remaining_length, c.length);
    EXPECT_EQ(ToHex(VarInt(c.length)), ToHex(Hex(c.bytes)));
  }
}

TEST(FramingTest, EncodeWritesMinimalRemainingLength) {
  // PUBLISH QoS 0, topic "t" (3 bytes) and payload: remaining length 3 + payload size.
  for (uint32_t length : {3u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u}) {
    SCOPED_TRACE(length);
    const Publish p{"t", std::string(length - 3, 'x'), 0, false, false, 0, {}};
    const std::string bytes = EncodeToString(p, Version::kV311);
    EXPECT_EQ(ToHex(bytes.substr(1, VarInt(length).size())), ToHex(VarInt(length)));
    EXPECT_EQ(bytes.size(), 1 + VarInt(length).size() + length);
    EXPECT_EQ(EncodedSize(p, Version::kV311), bytes.size());
    FixedHeader h;
    ASSERT_EQ(ReadFixedHeader(bytes, kNoLimit, &h), FrameStatus::kComplete);
    EXPECT_EQ(h.remaining_length, length);
  }
}

TEST(FramingTest, FiveByteLengthIsMalformed) {
  FixedHeader h;
  EXPECT_EQ(ReadFixedHeader(Hex("30 80 80 80 80 01"), kNoLimit, &h), FrameStatus::kMalformed);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff ff"), kNoLimit, &h), FrameStatus::kMalformed);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff ff 7f"), kNoLimit, &h), FrameStatus::kMalformed);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff"), kNoLimit, &h), FrameStatus::kNeedMore);
}

TEST(FramingTest, MaximumPacketSize) {
  FixedHeader h;
  // 2 header bytes + 127.
  EXPECT_EQ(ReadFixedHeader(Hex("30 7f"), 129, &h), FrameStatus::kComplete);
  EXPECT_EQ(ReadFixedHeader(Hex("30 7f"), 128, &h), FrameStatus::kTooLarge);
  // 3 header bytes + 128.
  EXPECT_EQ(ReadFixedHeader(Hex("30 80 01"), 131, &h), FrameStatus::kComplete);
  EXPECT_EQ(ReadFixedHeader(Hex("30 80 01"), 130, &h), FrameStatus::kTooLarge);
  EXPECT_EQ(ReadFixedHeader(Hex("c0 00"), 2, &h), FrameStatus::kComplete);
  EXPECT_EQ(ReadFixedHeader(Hex("c0 00"), 1, &h), FrameStatus::kTooLarge);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff 7f"), kNoLimit, &h), FrameStatus::kComplete);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff 7f"), 268435459, &h), FrameStatus::kTooLarge);
  EXPECT_EQ(ReadFixedHeader(Hex("30 ff ff ff 7f"), 268435460, &h), FrameStatus::kComplete);
  // Known as soon as the length is: no need to wait for the body.
  EXPECT_EQ(ReadFixedHeader(Hex("30 80 80 01"), 1000, &h), FrameStatus::kTooLarge);
}

TEST(FramingTest, StreamOfPacketsSplitAnywhere) {
  std::string stream;
  const std::vector<Packet> packets = SamplePackets();
  for (const Packet& p : packets) Encode(p, Version::kV5, &stream);
  // Feed the stream in pieces of every size from 1 to 7 bytes; a packet is decoded once the
  // fixed header and body are there.
  for (size_t piece = 1; piece <= 7; ++piece) {
    SCOPED_TRACE(piece);
    std::string buffer;
    std::vector<Packet> decoded;
    for (size_t pos = 0; pos < stream.size(); pos += piece) {
      buffer.append(stream.substr(pos, piece));
      while (true) {
        FixedHeader h;
        const FrameStatus s = ReadFixedHeader(buffer, kNoLimit, &h);
        if (s == FrameStatus::kNeedMore) break;
        ASSERT_EQ(s, FrameStatus::kComplete);
        if (buffer.size() < h.packet_size()) break;
        Packet p;
        const DecodeError e = Decode(
            h.byte0, std::string_view(buffer).substr(h.size, h.remaining_length), Version::kV5, &p);
        ASSERT_TRUE(e.ok()) << e.message;
        decoded.push_back(std::move(p));
        buffer.erase(0, h.packet_size());
      }
    }
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(decoded, packets);
  }
}

// ---- Decode errors ---------------------------------------------------------------------------

struct ErrorCase {
  const char* name;
  std::string bytes;  // a whole packet
  Version version;
  ReasonCode reason;
};

void ExpectErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    Packet p;
    const DecodeError e = DecodeBytes(c.bytes, c.version, &p);
    EXPECT_EQ(e.reason, c.reason) << ReasonCodeName(e.reason) << ": " << e.message << "\n"
                                  << ToHex(c.bytes);
    EXPECT_FALSE(e.message.empty());
  }
}

std::string ConnectBody(uint8_t level, uint8_t flags, std::string_view rest) {
  return S("MQTT") + std::string{static_cast<char>(level), static_cast<char>(flags), 0, 60} +
         std::string(rest);
}

constexpr auto kV311 = Version::kV311;
constexpr auto kV5 = Version::kV5;
constexpr auto kMalformed = ReasonCode::kMalformedPacket;
constexpr auto kProtocol = ReasonCode::kProtocolError;

TEST(DecodeErrorTest, ReservedFixedHeaderFlags) {
  // A valid body for each type; any flags but the required ones are malformed.
  const struct {
    uint8_t type;
    std::string body;
  } cases[] = {
      {1, ConnectBody(4, 2, S("c"))},
      {2, Hex("00 00")},
      {4, Hex("00 01")},
      {5, Hex("00 01")},
      {6, Hex("00 01")},
      {7, Hex("00 01")},
      {8, Hex("00 01 00 01 61 00")},
      {9, Hex("00 01 00")},
      {10, Hex("00 01 00 01 61")},
      {11, Hex("00 01")},
      {12, ""},
      {13, ""},
      {14, ""},
  };
  for (const auto& c : cases) {
    const uint8_t required = (c.type == 6 || c.type == 8 || c.type == 10) ? 2 : 0;
    for (uint8_t flags = 0; flags < 16; ++flags) {
      SCOPED_TRACE(testing::Message() << "type " << int{c.type} << " flags " << int{flags});
      const std::string bytes = Frame(static_cast<uint8_t>(c.type << 4 | flags), c.body);
      const DecodeError e = DecodeBytes(bytes, kV311);
      if (flags == required) {
        EXPECT_TRUE(e.ok()) << e.message;
      } else {
        EXPECT_EQ(e.reason, kMalformed) << e.message;
        EXPECT_FALSE(e.message.empty());
      }
    }
  }
  for (uint8_t flags = 0; flags < 16; ++flags) {
    const DecodeError e = DecodeBytes(Frame(0xF0 | flags, ""), kV5);
    EXPECT_EQ(e.ok(), flags == 0) << e.message;
  }
}

TEST(DecodeErrorTest, FixedHeader) {
  ExpectErrors({
      {"type 0", Frame(0x00, ""), kV5, kMalformed},
      {"type 0 3.1.1", Frame(0x00, ""), kV311, kMalformed},
      {"AUTH in 3.1.1", Frame(0xF0, ""), kV311, kMalformed},
      {"AUTH with reason in 3.1.1", Frame(0xF0, Hex("18 00")), kV311, kMalformed},
      {"PUBLISH QoS 3", Frame(0x36, S("t") + Hex("00 01")), kV311, kMalformed},
      {"PUBLISH QoS 3 5.0", Frame(0x36, S("t") + Hex("00 01 00")), kV5, kMalformed},
      {"PUBLISH DUP on QoS 0", Frame(0x38, S("t")), kV311, kMalformed},
      {"PUBLISH DUP on QoS 0 5.0", Frame(0x39, S("t") + Hex("00")), kV5, kMalformed},
  });
}

TEST(DecodeErrorTest, PacketIdentifierZero) {
  ExpectErrors({
      {"PUBLISH QoS 1", Frame(0x32, S("t") + Hex("00 00")), kV311, kMalformed},
      {"PUBLISH QoS 2", Frame(0x34, S("t") + Hex("00 00 00")), kV5, kMalformed},
      {"PUBACK", Frame(0x40, Hex("00 00")), kV311, kMalformed},
      {"PUBREC", Frame(0x50, Hex("00 00")), kV5, kMalformed},
      {"PUBREL", Frame(0x62, Hex("00 00")), kV5, kMalformed},
      {"PUBCOMP", Frame(0x70, Hex("00 00 00")), kV5, kMalformed},
      {"SUBSCRIBE", Frame(0x82, Hex("00 00") + S("a") + Hex("00")), kV311, kMalformed},
      {"SUBSCRIBE 5.0", Frame(0x82, Hex("00 00 00") + S("a") + Hex("00")), kV5, kMalformed},
      {"UNSUBSCRIBE", Frame(0xA2, Hex("00 00") + S("a")), kV311, kMalformed},
  });
  // QoS 0 carries no identifier: these two bytes are payload.
  Packet p;
  ASSERT_TRUE(DecodeBytes(Frame(0x30, S("t") + Hex("00 00")), kV311, &p).ok());
  EXPECT_EQ(std::get<Publish>(p).packet_id, 0);
  EXPECT_EQ(std::get<Publish>(p).payload, std::string(2, '\0'));
}

TEST(DecodeErrorTest, Properties) {
  const std::string pub = Frame(0x30, S("t") + Props(""));
  auto publish_with = [](std::string_view props) {
    return Frame(0x30, S("t") + Props(props) + "payload");
  };
  auto connect_with = [](std::string_view props) {
    return Frame(0x10, ConnectBody(5, 2, Props(props) + S("c")));
  };
  auto connack_with = [](std::string_view props) {
    return Frame(0x20, Hex("00 00") + Props(props));
  };
  auto subscribe_with = [](std::string_view props) {
    return Frame(0x82, Hex("00 01") + Props(props) + S("a") + Hex("00"));
  };
  auto puback_with = [](std::string_view props) {
    return Frame(0x40, Hex("00 01 00") + Props(props));
  };
  ASSERT_TRUE(DecodeBytes(pub, kV5).ok());
  ExpectErrors({
      // Identifiers the specification does not define are malformed.
      {"unknown 0x00", publish_with(Hex("00 00")), kV5, kMalformed},
      {"unknown 0x04", publish_with(Hex("04 00")), kV5, kMalformed},
      {"unknown 0x7f", publish_with(Hex("7f 00")), kV5, kMalformed},
      {"unknown two-byte id", publish_with(Hex("80 01 00")), kV5, kMalformed},
      {"unknown in CONNECT", connect_with(Hex("2b 00")), kV5, kMalformed},
      {"auth data without method", connect_with(Hex("16 00 01 78")), kV5, kProtocol},
      // Defined properties outside their packets make them malformed (5.0 2.2.2.2).
      {"session expiry in PUBLISH", publish_with(Hex("11 00 00 00 01")), kV5, kMalformed},
      {"topic alias in PUBACK", puback_with(Hex("23 00 01")), kV5, kMalformed},
      {"will delay in CONNECT", connect_with(Hex("18 00 00 00 01")), kV5, kMalformed},
      {"assigned id in CONNECT", connect_with("\x12" + S("x")), kV5, kMalformed},
      {"reason string in CONNECT", connect_with("\x1f" + S("x")), kV5, kMalformed},
      {"topic alias in CONNACK", connack_with(Hex("23 00 01")), kV5, kMalformed},
      {"subscription id in CONNACK", connack_with(Hex("0b 01")), kV5, kMalformed},
      {"maximum QoS in CONNECT", connect_with(Hex("24 01")), kV5, kMalformed},
      {"reason string in SUBSCRIBE", subscribe_with("\x1f" + S("x")), kV5, kMalformed},
      {"content type in SUBSCRIBE", subscribe_with("\x03" + S("x")), kV5, kMalformed},
      {"auth method in DISCONNECT", Frame(0xE0, Hex("00") + Props("\x15" + S("m"))), kV5,
       kMalformed},
      {"session expiry in AUTH", Frame(0xF0, Hex("18") + Props(Hex("11 00 00 00 01"))), kV5,
       kMalformed},
      {"reason string in UNSUBSCRIBE", Frame(0xA2, Hex("00 01") + Props("\x1f" + S("x")) + S("a")),
       kV5, kMalformed},
      {"session expiry in will",
       Frame(0x10,
             ConnectBody(5, 0x06,
                         Props("") + S("c") + Props(Hex("11 00 00 00 01")) + S("w") + S("p"))),
       kV5, kMalformed},
      // Repeated properties.
      {"message expiry twice", publish_with(Hex("02 00 00 00 01 02 00 00 00 01")), kV5, kProtocol},
      {"topic alias twice", publish_with(Hex("23 00 01 23 00 01")), kV5, kProtocol},
      {"content type twice", publish_with("\x03" + S("a") + "\x03" + S("a")), kV5, kProtocol},
      {"receive maximum twice", connect_with(Hex("21 00 01 21 00 02")), kV5, kProtocol},
      {"reason string twice", puback_with("\x1f" + S("a") + "\x1f" + S("b")), kV5, kProtocol},
      {"subscription id twice in SUBSCRIBE", subscribe_with(Hex("0b 01 0b 02")), kV5, kProtocol},
      // Values out of range.
      {"receive maximum 0", connect_with(Hex("21 00 00")), kV5, kProtocol},
      {"receive maximum 0 in CONNACK", connack_with(Hex("21 00 00")), kV5, kProtocol},
      {"maximum packet size 0", connect_with(Hex("27 00 00 00 00")), kV5, kProtocol},
      {"subscription id 0 in SUBSCRIBE", subscribe_with(Hex("0b 00")), kV5, kProtocol},
      {"subscription id 0 in PUBLISH", publish_with(Hex("0b 00")), kV5, kProtocol},
      {"payload format 2", publish_with(Hex("01 02")), kV5, kProtocol},
      {"request problem information 2", connect_with(Hex("17 02")), kV5, kProtocol},
      {"request response information 2", connect_with(Hex("19 02")), kV5, kProtocol},
      {"maximum QoS 2", connack_with(Hex("24 02")), kV5, kProtocol},
      {"retain available 2", connack_with(Hex("25 02")), kV5, kProtocol},
      {"wildcard available 2", connack_with(Hex("28 02")), kV5, kProtocol},
      {"sub id available 2", connack_with(Hex("29 02")), kV5, kProtocol},
      {"shared available 2", connack_with(Hex("2a 02")), kV5, kProtocol},
      // Lengths.
      {"property length beyond the packet", Frame(0x30, S("t") + Hex("05 01 01")), kV5, kMalformed},
      {"property value beyond its block", publish_with(Hex("02 00 00")), kV5, kMalformed},
      {"string beyond its block", publish_with(Hex("03 00 05 61")), kV5, kMalformed},
      {"subscription id of 5 bytes", publish_with(Hex("0b 80 80 80 80 01")), kV5, kMalformed},
      {"property length of 5 bytes", Frame(0x30, S("t") + Hex("80 80 80 80 00")), kV5, kMalformed},
      {"missing property length", Frame(0x32, S("t") + Hex("00 01")), kV5, kMalformed},
      {"user property without value", publish_with("\x26" + S("k")), kV5, kMalformed},
      {"content type not UTF-8", publish_with("\x03" + S("\xff")), kV5, kMalformed},
      {"user property name with U+0000", publish_with("\x26" + S(std::string(1, '\0')) + S("v")),
       kV5, kMalformed},
  });
  // Several subscription identifiers and repeated user properties are fine in PUBLISH.
  Packet p;
  ASSERT_TRUE(
      DecodeBytes(publish_with(Hex("0b 01 0b 02 26 00 01 6b 00 00 26 00 01 6b 00 00")), kV5, &p)
          .ok());
  EXPECT_EQ(std::get<Publish>(p).properties.subscription_identifiers,
            (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(std::get<Publish>(p).properties.user_properties.size(), 2);
  EXPECT_EQ(std::get<Publish>(p).payload, "payload");
}

TEST(DecodeErrorTest, Subscribe) {
  auto sub311 = [](std::string_view rest) { return Frame(0x82, Hex("00 01") + std::string(rest)); };
  auto sub5 = [](std::string_view rest) {
    return Frame(0x82, Hex("00 01 00") + std::string(rest));
  };
  ExpectErrors({
      {"no filters 3.1.1", sub311(""), kV311, kProtocol},
      {"no filters 5.0", sub5(""), kV5, kProtocol},
      {"no options byte", sub311(S("a")), kV311, kMalformed},
      {"QoS 3", sub311(S("a") + Hex("03")), kV311, kMalformed},
      {"QoS 3 5.0", sub5(S("a") + Hex("03")), kV5, kMalformed},
      {"3.1.1 reserved bit 2", sub311(S("a") + Hex("04")), kV311, kMalformed},
      {"3.1.1 reserved bit 7", sub311(S("a") + Hex("80")), kV311, kMalformed},
      {"5.0 reserved bit 6", sub5(S("a") + Hex("40")), kV5, kMalformed},
      {"5.0 reserved bit 7", sub5(S("a") + Hex("81")), kV5, kMalformed},
      {"retain handling 3", sub5(S("a") + Hex("30")), kV5, kProtocol},
      {"second filter without options", sub5(S("a") + Hex("00") + S("b")), kV5, kMalformed},
      {"filter not UTF-8", sub5(S("\xc0\xaf") + Hex("00")), kV5, kMalformed},
      {"no properties", Frame(0x82, Hex("00 01")), kV5, kMalformed},
      {"UNSUBSCRIBE no filters", Frame(0xA2, Hex("00 01")), kV311, kProtocol},
      {"UNSUBSCRIBE no filters 5.0", Frame(0xA2, Hex("00 01 00")), kV5, kProtocol},
      {"UNSUBSCRIBE truncated filter", Frame(0xA2, Hex("00 01 00 02 61")), kV311, kMalformed},
      {"UNSUBSCRIBE filter with U+0000", Frame(0xA2, Hex("00 01 00 01 00")), kV311, kMalformed},
  });
  // Every option combination of 5.0 but retain handling 3 and the reserved bits decodes.
  for (int o = 0; o < 256; ++o) {
    const DecodeError e = DecodeBytes(sub5(S("a") + std::string(1, static_cast<char>(o))), kV5);
    const bool valid = (o & 3) != 3 && (o & 0xc0) == 0 && ((o >> 4) & 3) != 3;
    EXPECT_EQ(e.ok(), valid) << o << ": " << e.message;
  }
}

TEST(DecodeErrorTest, Connect) {
  ExpectErrors({
      {"protocol level 3", Frame(0x10, ConnectBody(3, 2, S("c"))), kV311,
       ReasonCode::kUnsupportedProtocolVersion},
      {"protocol level 6", Frame(0x10, ConnectBody(6, 2, S("c"))), kV5,
       ReasonCode::kUnsupportedProtocolVersion},
      {"MQIsdp 3.1", Frame(0x10, S("MQIsdp") + Hex("03 02 00 3c") + S("c")), kV311,
       ReasonCode::kUnsupportedProtocolVersion},
      {"name MQTX", Frame(0x10, S("MQTX") + Hex("04 02 00 3c") + S("c")), kV311, kMalformed},
      {"name mqtt", Frame(0x10, S("mqtt") + Hex("04 02 00 3c") + S("c")), kV311, kMalformed},
      {"name empty", Frame(0x10, S("") + Hex("04 02 00 3c") + S("c")), kV311, kMalformed},
      {"reserved flag", Frame(0x10, ConnectBody(4, 0x03, S("c"))), kV311, kMalformed},
      {"reserved flag 5.0", Frame(0x10, ConnectBody(5, 0x01, Props("") + S("c"))), kV5, kMalformed},
      {"password without user name 3.1.1", Frame(0x10, ConnectBody(4, 0x42, S("c") + S("p"))),
       kV311, kMalformed},
      {"will QoS without will", Frame(0x10, ConnectBody(4, 0x0a, S("c"))), kV311, kMalformed},
      {"will QoS 2 without will", Frame(0x10, ConnectBody(4, 0x12, S("c"))), kV311, kMalformed},
      {"will retain without will", Frame(0x10, ConnectBody(4, 0x22, S("c"))), kV311, kMalformed},
      {"will QoS without will 5.0", Frame(0x10, ConnectBody(5, 0x08, Props("") + S("c"))), kV5,
       kMalformed},
      {"will QoS 3", Frame(0x10, ConnectBody(4, 0x1e, S("c") + S("w") + S("p"))), kV311,
       kMalformed},
      {"user name flag, no user name", Frame(0x10, ConnectBody(4, 0x82, S("c"))), kV311,
       kMalformed},
      {"will flag, no will", Frame(0x10, ConnectBody(4, 0x06, S("c"))), kV311, kMalformed},
      {"will payload missing", Frame(0x10, ConnectBody(4, 0x06, S("c") + S("w"))), kV311,
       kMalformed},
      {"will topic not UTF-8",
       Frame(0x10, ConnectBody(4, 0x06, S("c") + S("\xed\xa0\x80") + S(""))), kV311, kMalformed},
      {"client id not UTF-8", Frame(0x10, ConnectBody(4, 0x02, S("\xfe"))), kV311, kMalformed},
      {"user name with U+0000", Frame(0x10, ConnectBody(4, 0x82, S("c") + S(std::string(1, '\0')))),
       kV311, kMalformed},
      {"5.0 without properties", Frame(0x10, ConnectBody(5, 0x02, "")), kV5, kMalformed},
      {"will payload format says UTF-8",
       Frame(0x10,
             ConnectBody(5, 0x06, Props("") + S("c") + Props(Hex("01 01")) + S("w") + S("\xff"))),
       kV5, ReasonCode::kPayloadFormatInvalid},
      {"trailing byte", Frame(0x10, ConnectBody(4, 0x02, S("c") + "x")), kV311, kMalformed},
      {"trailing byte 5.0", Frame(0x10, ConnectBody(5, 0x02, Props("") + S("c") + "x")), kV5,
       kMalformed},
  });
  // The counterparts that are fine.
  EXPECT_TRUE(
      DecodeBytes(Frame(0x10, ConnectBody(5, 0x42, Props("") + S("c") + S("p"))), kV311).ok());
  EXPECT_TRUE(DecodeBytes(Frame(0x10, ConnectBody(5, 0x06,
                                                  Props("") + S("c") + Props(Hex("01 00")) +
                                                      S("w") + S("\xff"))),
                          kV5)
                  .ok());
  Packet p;
  ASSERT_TRUE(DecodeBytes(Frame(0x10, ConnectBody(4, 0x36, S("") + S("w") + S(""))), kV5, &p).ok());
  const Connect& c = std::get<Connect>(p);
  EXPECT_EQ(c.version, kV311);
  EXPECT_TRUE(c.clean_start);
  EXPECT_EQ(c.keep_alive, 60);
  ASSERT_TRUE(c.will.has_value());
  EXPECT_EQ(c.will->qos, 2);
  EXPECT_TRUE(c.will->retain);
  EXPECT_EQ(c.will->topic, "w");
}

TEST(DecodeErrorTest, OtherPackets) {
  ExpectErrors({
      {"CONNACK reserved flag", Frame(0x20, Hex("02 00")), kV311, kMalformed},
      {"CONNACK reserved flag 5.0", Frame(0x20, Hex("80 00 00")), kV5, kMalformed},
      {"CONNACK return code 6", Frame(0x20, Hex("00 06")), kV311, kMalformed},
      {"CONNACK short", Frame(0x20, Hex("00")), kV311, kMalformed},
      {"CONNACK no properties 5.0", Frame(0x20, Hex("00 00")), kV5, kMalformed},
      {"CONNACK trailing", Frame(0x20, Hex("00 00 00")), kV311, kMalformed},
      {"PUBACK short", Frame(0x40, Hex("00")), kV311, kMalformed},
      {"PUBACK trailing 3.1.1", Frame(0x40, Hex("00 01 00")), kV311, kMalformed},
      {"PUBACK bad properties", Frame(0x40, Hex("00 01 00 02 1f")), kV5, kMalformed},
      {"PUBLISH empty", Frame(0x30, ""), kV311, kMalformed},
      {"PUBLISH topic truncated", Frame(0x30, Hex("00 05 61 62")), kV311, kMalformed},
      {"PUBLISH no packet id", Frame(0x32, S("t") + Hex("01")), kV311, kMalformed},
      {"PUBLISH topic overlong /", Frame(0x30, S("a\xc0\xaf")), kV311, kMalformed},
      {"PUBLISH topic surrogate", Frame(0x30, S("\xed\xbf\xbf")), kV5, kMalformed},
      {"PUBLISH topic U+0000", Frame(0x30, S(std::string("a\0b", 3))), kV311, kMalformed},
      {"SUBACK 3.1.1 reserved return code", Frame(0x90, Hex("00 01 03")), kV311, kMalformed},
      {"SUBACK 3.1.1 return code 0x8f", Frame(0x90, Hex("00 01 00 8f")), kV311, kMalformed},
      {"UNSUBACK 3.1.1 trailing", Frame(0xB0, Hex("00 01 00")), kV311, kMalformed},
      {"PINGREQ body", Frame(0xC0, Hex("00")), kV311, kMalformed},
      {"PINGRESP body", Frame(0xD0, Hex("00")), kV5, kMalformed},
      {"DISCONNECT 3.1.1 body", Frame(0xE0, Hex("00")), kV311, kMalformed},
      {"DISCONNECT bad property length", Frame(0xE0, Hex("00 05")), kV5, kMalformed},
      {"DISCONNECT trailing", Frame(0xE0, Hex("00 00 00")), kV5, kMalformed},
      {"AUTH trailing", Frame(0xF0, Hex("18 00 00")), kV5, kMalformed},
  });
}

// Cutting a valid packet anywhere never crashes; where the shorter packet still decodes, it is
// a packet in its own right (shorter payload, fewer list entries, reason code left out) that
// encodes back to what was decoded; CONNECT, CONNACK and single-entry SUBSCRIBE and
// UNSUBSCRIBE never decode short.
TEST(DecodeErrorTest, TruncatedAtEveryOffset) {
  for (Version v : {kV311, kV5}) {
    for (Packet p : SamplePackets()) {
      if (v == kV311 && TypeOf(p) == PacketType::kAuth) continue;
      if (auto* c = std::get_if<Connect>(&p)) c->version = v;
      if (auto* s = std::get_if<Subscribe>(&p)) s->subscriptions.resize(1);
      if (auto* u = std::get_if<Unsubscribe>(&p)) u->filters.resize(1);
      const std::string bytes = EncodeToString(p, v);
      FixedHeader h;
      ASSERT_EQ(ReadFixedHeader(bytes, kNoLimit, &h), FrameStatus::kComplete);
      const std::string_view body = std::string_view(bytes).substr(h.size);
      for (size_t k = 0; k < body.size(); ++k) {
        SCOPED_TRACE(testing::Message() << PacketTypeName(TypeOf(p)) << " v" << static_cast<int>(v)
                                        << " cut at " << k);
        Packet out;
        const DecodeError e = Decode(h.byte0, body.substr(0, k), v, &out);
        if (!e.ok()) {
          EXPECT_TRUE(IsError(e.reason));
          EXPECT_FALSE(e.message.empty());
          continue;
        }
        const PacketType t = TypeOf(p);
        EXPECT_TRUE(t != PacketType::kConnect && t != PacketType::kConnack &&
                    t != PacketType::kSubscribe && t != PacketType::kUnsubscribe);
        EXPECT_EQ(RoundTrip(out, v), out);
        EXPECT_LE(EncodedSize(out, v), h.size + k);
      }
      // One byte more is never accepted, except as PUBLISH payload, as one more reason code in
      // a list, or as the reason code 5.0 may leave out.
      Packet out;
      const DecodeError e = Decode(h.byte0, std::string(body) + "\x01", v, &out);
      const bool reason_slot =
          v == kV5 &&
          ((std::holds_alternative<Ack>(p) && body.size() == 2) ||
           ((std::holds_alternative<Disconnect>(p) || std::holds_alternative<Auth>(p)) &&
            body.empty()));
      if (reason_slot) {
        EXPECT_TRUE(e.ok()) << e.message;
      } else if (TypeOf(p) == PacketType::kPublish) {
        EXPECT_TRUE(e.ok());
        EXPECT_EQ(std::get<Publish>(out).payload, std::get<Publish>(p).payload + "\x01");
      } else if (TypeOf(p) == PacketType::kSuback ||
                 (v == kV5 && TypeOf(p) == PacketType::kUnsuback)) {
        EXPECT_TRUE(e.ok());  // one more reason code
      } else {
        EXPECT_FALSE(e.ok()) << PacketTypeName(TypeOf(p));
      }
    }
  }
}

// ---- UTF-8 -----------------------------------------------------------------------------------

TEST(Utf8Test, IsValidMqttUtf8) {
  const struct {
    std::string text;
    bool valid;
  } cases[] = {
      {"", true},
      {"a", true},
      {"sensors/line-1/temperature", true},
      {"\x7f", true},
      {"\xc2\x80", true},             // U+0080
      {"\xc3\xa9", true},             // é
      {"\xdf\xbf", true},             // U+07FF
      {"\xe0\xa0\x80", true},         // U+0800
      {"\xe2\x82\xac", true},         // €
      {"\xed\x9f\xbf", true},         // U+D7FF
      {"\xee\x80\x80", true},         // U+E000
      {"\xef\xbb\xbf", true},         // BOM: a character like any other
      {"\xef\xbf\xbf", true},         // U+FFFF
      {"\xf0\x90\x80\x80", true},     // U+10000
      {"\xf0\x9d\x84\x9e", true},     // 𝄞
      {"\xf4\x8f\xbf\xbf", true},     // U+10FFFF
      {std::string(1, '\0'), false},  // U+0000
      {std::string("abc\0", 4), false},
      {std::string("abcdefgh\0", 9), false},
      {std::string("abcdefg\0ijklmnop", 16), false},
      {std::string("\0bcdefghijklmnop", 16), false},
      {"\xc0\x80", false},                  // overlong U+0000
      {"\xc0\xaf", false},                  // overlong '/'
      {"\xc1\xbf", false},                  // overlong U+007F
      {"\xe0\x80\xaf", false},              // overlong '/'
      {"\xe0\x9f\xbf", false},              // overlong U+07FF
      {"\xf0\x80\x80\xaf", false},          // overlong '/'
      {"\xf0\x8f\xbf\xbf", false},          // overlong U+FFFF
      {"\xed\xa0\x80", false},              // U+D800
      {"\xed\xaf\xbf", false},              // U+DBFF
      {"\xed\xb0\x80", false},              // U+DC00
      {"\xed\xbf\xbf", false},              // U+DFFF
      {"\xed\xa0\xbd\xed\xb8\x80", false},  // CESU-8 surrogate pair
      {"\xf4\x90\x80\x80", false},          // U+110000
      {"\xf5\x80\x80\x80", false},
      {"\xf7\xbf\xbf\xbf", false},
      {"\xf8\x88\x80\x80\x80", false},  // 5-byte form
      {"\xfc\x84\x80\x80\x80\x80", false},
      {"\xfe", false},
      {"\xff", false},
      {"\x80", false},  // lone continuation
      {"\xbf", false},
      {"a\x80z", false},
      {"\xc3", false},  // truncated
      {"\xe2\x82", false},
      {"\xf0\x9d\x84", false},
      {"abcdefg\xc3", false},
      {"\xc3\x28", false},  // bad continuation
      {"\xe2\x28\xac", false},
      {"\xe2\x82\x28", false},
      {"\xf0\x28\x84\x9e", false},
      {"\xc3\xa9\xc3", false},
      {"1234567\xc3\xa9", true},  // multi-byte across the 8-byte ASCII window
      {"12345678\xc3\xa9"
       "12345678",
       true},
      {"\xe2\x82\xac"
       "abcdefghijklmnop"
       "\xf0\x9d\x84\x9e",
       true},
      {"abcdefghijklmnop\xed\xa0\x80", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsValidMqttUtf8(c.text), c.valid) << ToHex(c.text);
  }
}

TEST(Utf8Test, EveryTwoByteSequence) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s{static_cast<char>(a), static_cast<char>(b)};
      bool expected;
      if (a < 0x80) {
        expected = a != 0 && b != 0 && b < 0x80;
      } else {
        expected = a >= 0xc2 && a <= 0xdf && (b & 0xc0) == 0x80;
      }
      EXPECT_EQ(IsValidMqttUtf8(s), expected) << a << " " << b;
    }
  }
}

TEST(PacketTest, Names) {
  EXPECT_EQ(PacketTypeName(PacketType::kConnect), "CONNECT");
  EXPECT_EQ(PacketTypeName(PacketType::kAuth), "AUTH");
  EXPECT_EQ(PacketTypeName(PacketType::kUnsuback), "UNSUBACK");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kMalformedPacket), "malformed packet");
  EXPECT_EQ(ReasonCodeName(static_cast<ReasonCode>(0x03)), "unknown reason code");
  EXPECT_TRUE(IsError(ReasonCode::kUnspecifiedError));
  EXPECT_FALSE(IsError(ReasonCode::kReauthenticate));
}

}  // namespace
}  // namespace seaway::mqtt
