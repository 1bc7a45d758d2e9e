// MQTT control packets, 3.1.1 and 5.0: the socket-free codec of the broker (src/mqtt).
//
//   FixedHeader header;
//   switch (ReadFixedHeader(buffer, max_packet_size, &header)) { ... }   // framing
//   Packet packet;
//   DecodeError error = Decode(header.byte0, body, version, &packet);     // one packet
//   Encode(packet, version, &out);                                        // and back
//
// Decode checks everything the specifications require of a packet's bytes: fixed-header flag
// bits, well-formed UTF-8 without U+0000 in every UTF-8 field, lengths that fit, properties
// allowed in the packet type and not repeated, property values in range, no trailing bytes. An
// error carries the reason code the broker sends (5.0) and a message naming the field. What
// depends on the session (topic aliases, packet identifiers in use, topic semantics) is the
// broker's to check. Encode writes any packet for either version (5.0-only fields are left out
// for 3.1.1), so the same code serves the broker, the simulator and the benchmark client, and
// the fuzzer can check that decode(encode(p)) == p.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace seaway::mqtt {

// The protocol level byte of CONNECT.
enum class Version : uint8_t { kV311 = 4, kV5 = 5 };

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,  // 5.0 only
};
std::string_view PacketTypeName(PacketType type);

// MQTT 5.0 reason codes (section 2.4). 3.1.1 has only the CONNACK return codes and the SUBACK
// failure 0x80; ConnackReturnCode311 maps onto them.
enum class ReasonCode : uint8_t {
  kSuccess = 0x00,  // also "normal disconnection" and "granted QoS 0"
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kDisconnectWithWill = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kContinueAuthentication = 0x18,
  kReauthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};
std::string_view ReasonCodeName(ReasonCode code);
inline bool IsError(ReasonCode code) { return static_cast<uint8_t>(code) >= 0x80; }

// The 3.1.1 CONNACK return code (0 accepted, 1 unacceptable protocol version, 2 identifier
// rejected, 3 server unavailable, 4 bad user name or password, 5 not authorized) for a reason.
uint8_t ConnackReturnCode311(ReasonCode code);

// MQTT 5.0 properties (section 2.2.2). Decode fills only those present; which are allowed
// depends on the packet type.
struct Properties {
  std::optional<uint8_t> payload_format_indicator;        // 0x01
  std::optional<uint32_t> message_expiry_interval;        // 0x02, seconds
  std::optional<std::string> content_type;                // 0x03
  std::optional<std::string> response_topic;              // 0x08
  std::optional<std::string> correlation_data;            // 0x09, binary
  std::vector<uint32_t> subscription_identifiers;         // 0x0B, several only in PUBLISH
  std::optional<uint32_t> session_expiry_interval;        // 0x11, seconds
  std::optional<std::string> assigned_client_identifier;  // 0x12
  std::optional<uint16_t> server_keep_alive;              // 0x13
  std::optional<std::string> authentication_method;       // 0x15
  std::optional<std::string> authentication_data;         // 0x16, binary
  std::optional<uint8_t> request_problem_information;     // 0x17
  std::optional<uint32_t> will_delay_interval;            // 0x18
  std::optional<uint8_t> request_response_information;    // 0x19
  std::optional<std::string> response_information;        // 0x1A
  std::optional<std::string> server_reference;            // 0x1C
  std::optional<std::string> reason_string;               // 0x1F
  std::optional<uint16_t> receive_maximum;                // 0x21
  std::optional<uint16_t> topic_alias_maximum;            // 0x22
  std::optional<uint16_t> topic_alias;                    // 0x23
  std::optional<uint8_t> maximum_qos;                     // 0x24
  std::optional<uint8_t> retain_available;                // 0x25
  std::vector<std::pair<std::string, std::string>> user_properties;  // 0x26, in order
  std::optional<uint32_t> maximum_packet_size;                       // 0x27
  std::optional<uint8_t> wildcard_subscription_available;            // 0x28
  std::optional<uint8_t> subscription_identifier_available;          // 0x29
  std::optional<uint8_t> shared_subscription_available;              // 0x2A

  bool operator==(const Properties&) const = default;
};

struct Will {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // 5.0: will delay, message expiry, content type, response topic...

  bool operator==(const Will&) const = default;
};

struct Connect {
  Version version = Version::kV5;
  bool clean_start = true;   // 3.1.1: clean session
  uint16_t keep_alive = 60;  // seconds; 0 turns keepalive off
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary
  std::optional<Will> will;
  Properties properties;

  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  ReasonCode reason = ReasonCode::kSuccess;  // 3.1.1: mapped by ConnackReturnCode311
  Properties properties;

  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic;  // 5.0: may be empty when a topic alias is set
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // non-zero exactly when qos > 0
  Properties properties;

  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one layout.
struct Ack {
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;

  bool operator==(const Ack&) const = default;
};

struct SubscribeOptions {
  uint8_t max_qos = 0;
  bool no_local = false;             // 5.0
  bool retain_as_published = false;  // 5.0
  uint8_t retain_handling = 0;       // 5.0: 0 send retained, 1 only if new, 2 never

  bool operator==(const SubscribeOptions&) const = default;
};

struct Subscription {
  std::string filter;
  SubscribeOptions options;

  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions;  // at least one
  Properties properties;                    // subscription identifier, user properties

  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;  // one per subscription; 3.1.1 knows 0, 1, 2 and 0x80
  Properties properties;

  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  std::vector<std::string> filters;  // at least one
  Properties properties;

  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;  // 5.0 only: 3.1.1 UNSUBACK carries none
  Properties properties;

  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason = ReasonCode::kSuccess;  // 5.0 only
  Properties properties;

  bool operator==(const Disconnect&) const = default;
};

struct Auth {  // 5.0 only
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;

  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

PacketType TypeOf(const Packet& packet);

// ---- Framing ------------------------------------------------------------------------------

// The first byte and the remaining length of a packet; `size` counts both (2 to 5 bytes).
struct FixedHeader {
  uint8_t byte0 = 0;
  uint32_t remaining_length = 0;
  uint8_t size = 0;

  PacketType type() const { return static_cast<PacketType>(byte0 >> 4); }
  uint32_t packet_size() const { return size + remaining_length; }
};

enum class FrameStatus {
  kComplete,   // `header` is filled; the packet may still be incomplete in the buffer
  kNeedMore,   // the fixed header itself is not all there yet
  kMalformed,  // the remaining length takes more than 4 bytes
  kTooLarge,   // the whole packet would exceed max_packet_size
};
FrameStatus ReadFixedHeader(std::string_view buffer, uint32_t max_packet_size, FixedHeader* header);

// ---- Decoding and encoding ----------------------------------------------------------------

struct DecodeError {
  ReasonCode reason = ReasonCode::kSuccess;  // kSuccess: no error
  std::string message;                       // names the field, e.g. "PUBLISH topic: ..."

  bool ok() const { return reason == ReasonCode::kSuccess; }
};

// Decodes one packet from its first byte and its body (the bytes after the remaining length).
// `version` is the connection's version; for CONNECT the packet's own protocol level decides,
// and an unknown level is kUnsupportedProtocolVersion. Packets only a server sends (CONNACK,
// SUBACK, ...) decode as well, for clients.
DecodeError Decode(uint8_t byte0, std::string_view body, Version version, Packet* packet);

// Appends the packet's bytes, fixed header included.
void Encode(const Packet& packet, Version version, std::string* out);

// The size Encode would append, for maximum-packet-size checks before sending.
size_t EncodedSize(const Packet& packet, Version version);

// Well-formed UTF-8 (no surrogates, no overlong forms) without U+0000, as every MQTT UTF-8
// string must be.
bool IsValidMqttUtf8(std::string_view text);

}  // namespace seaway::mqtt
