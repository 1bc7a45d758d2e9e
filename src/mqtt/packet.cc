// MQTT packet codec (src/mqtt).
#include "mqtt/packet.h"

#include <cstring>

#include <fmt/format.h>

namespace seaway::mqtt {
namespace {

// Where a property may appear (the "used in" column of the 5.0 property table).
enum Context : uint32_t {
  kInConnect = 1u << 0,
  kInConnack = 1u << 1,
  kInPublish = 1u << 2,
  kInWill = 1u << 3,
  kInAck = 1u << 4,  // PUBACK, PUBREC, PUBREL, PUBCOMP
  kInSubscribe = 1u << 5,
  kInSuback = 1u << 6,
  kInUnsubscribe = 1u << 7,
  kInUnsuback = 1u << 8,
  kInDisconnect = 1u << 9,
  kInAuth = 1u << 10,
};

constexpr uint32_t kReasonStringContexts =
    kInConnack | kInAck | kInSuback | kInUnsuback | kInDisconnect | kInAuth;

uint32_t AllowedContexts(uint8_t id) {
  switch (id) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x08:
    case 0x09: return kInPublish | kInWill;
    case 0x0B: return kInPublish | kInSubscribe;
    case 0x11: return kInConnect | kInConnack | kInDisconnect;
    case 0x12:
    case 0x13:
    case 0x1A:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A: return kInConnack;
    case 0x15:
    case 0x16: return kInConnect | kInConnack | kInAuth;
    case 0x17:
    case 0x19: return kInConnect;
    case 0x18: return kInWill;
    case 0x1C: return kInConnack | kInDisconnect;
    case 0x1F: return kReasonStringContexts;
    case 0x21:
    case 0x22:
    case 0x27: return kInConnect | kInConnack;
    case 0x23: return kInPublish;
    case 0x26: return ~0u;
    default: return 0;
  }
}

std::string_view ContextName(Context c) {
  switch (c) {
    case kInConnect: return "CONNECT";
    case kInConnack: return "CONNACK";
    case kInPublish: return "PUBLISH";
    case kInWill: return "will";
    case kInAck: return "acknowledgement";
    case kInSubscribe: return "SUBSCRIBE";
    case kInSuback: return "SUBACK";
    case kInUnsubscribe: return "UNSUBSCRIBE";
    case kInUnsuback: return "UNSUBACK";
    case kInDisconnect: return "DISCONNECT";
    case kInAuth: return "AUTH";
  }
  return "packet";
}

// Reads the fields of a packet body; the first failure sticks and later reads return zeros.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool failed() const { return !error_.ok(); }
  size_t remaining() const { return data_.size() - pos_; }
  DecodeError TakeError() { return std::move(error_); }

  void Fail(ReasonCode reason, std::string message) {
    if (!failed()) error_ = DecodeError{reason, std::move(message)};
  }
  void Malformed(std::string_view what, std::string_view why) {
    Fail(ReasonCode::kMalformedPacket, fmt::format("{}: {}", what, why));
  }

  uint8_t U8(std::string_view what) {
    if (!Need(1, what)) return 0;
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint16_t U16(std::string_view what) {
    if (!Need(2, what)) return 0;
    uint16_t v = static_cast<uint16_t>((static_cast<uint8_t>(data_[pos_]) << 8) |
                                       static_cast<uint8_t>(data_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  uint32_t U32(std::string_view what) {
    if (!Need(4, what)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += 4;
    return v;
  }
  uint32_t VarInt(std::string_view what) {
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (!Need(1, what)) return 0;
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return value;
    }
    Malformed(what, "variable byte integer longer than 4 bytes");
    return 0;
  }
  std::string Binary(std::string_view what) {
    const uint16_t n = U16(what);
    if (!Need(n, what)) return {};
    std::string out(data_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  std::string Utf8(std::string_view what) {
    std::string s = Binary(what);
    if (!failed() && !IsValidMqttUtf8(s)) {
      Malformed(what, "not well-formed UTF-8 (or contains U+0000)");
    }
    return s;
  }
  std::string_view Rest() {
    std::string_view r = data_.substr(pos_);
    pos_ = data_.size();
    return r;
  }
  // Reads a property block and restricts it to `context`.
  void ReadProperties(Context context, Properties* props);

 private:
  bool Need(size_t n, std::string_view what) {
    if (failed()) return false;
    if (remaining() < n) {
      Malformed(what, "packet ends early");
      return false;
    }
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
  DecodeError error_;
};

template <typename T>
void SetOnce(Reader* r, std::optional<T>* slot, T value, std::string_view name) {
  if (slot->has_value()) {
    r->Fail(ReasonCode::kProtocolError, fmt::format("property {} appears twice", name));
    return;
  }
  *slot = std::move(value);
}

void Reader::ReadProperties(Context context, Properties* props) {
  const uint32_t length = VarInt("property length");
  if (failed()) return;
  if (length > remaining()) return Malformed("property length", "exceeds the packet");
  Reader sub(data_.substr(pos_, length));
  pos_ += length;
  auto byte01 = [&sub](std::optional<uint8_t>* slot, std::string_view name) {
    const uint8_t v = sub.U8(name);
    if (sub.failed()) return;
    if (v > 1) {
      sub.Fail(ReasonCode::kProtocolError,
               fmt::format("property {} is {}; must be 0 or 1", name, v));
      return;
    }
    SetOnce(&sub, slot, v, name);
  };
  while (!sub.failed() && sub.remaining() > 0) {
    const uint32_t id = sub.VarInt("property identifier");
    if (sub.failed()) break;
    if (id > 0x7f || (AllowedContexts(static_cast<uint8_t>(id)) & context) == 0) {
      if (id <= 0x7f && AllowedContexts(static_cast<uint8_t>(id)) != 0) {
        // 5.0 2.2.2.2: an identifier not valid for the packet type makes it malformed.
        sub.Malformed("properties", fmt::format("property {:#04x} is not allowed in {}", id,
                                                ContextName(context)));
      } else {
        sub.Malformed("properties", fmt::format("unknown property identifier {:#04x}", id));
      }
      break;
    }
    switch (id) {
      case 0x01: byte01(&props->payload_format_indicator, "payload format indicator"); break;
      case 0x02:
        SetOnce(&sub, &props->message_expiry_interval, sub.U32("message expiry interval"),
                "message expiry interval");
        break;
      case 0x03:
        SetOnce(&sub, &props->content_type, sub.Utf8("content type"), "content type");
        break;
      case 0x08:
        SetOnce(&sub, &props->response_topic, sub.Utf8("response topic"), "response topic");
        break;
      case 0x09:
        SetOnce(&sub, &props->correlation_data, sub.Binary("correlation data"), "correlation data");
        break;
      case 0x0B: {
        const uint32_t v = sub.VarInt("subscription identifier");
        if (sub.failed()) break;
        if (v == 0) {
          sub.Fail(ReasonCode::kProtocolError, "subscription identifier 0 is not allowed");
          break;
        }
        if (context == kInSubscribe && !props->subscription_identifiers.empty()) {
          sub.Fail(ReasonCode::kProtocolError, "property subscription identifier appears twice");
          break;
        }
        props->subscription_identifiers.push_back(v);
        break;
      }
      case 0x11:
        SetOnce(&sub, &props->session_expiry_interval, sub.U32("session expiry interval"),
                "session expiry interval");
        break;
      case 0x12:
        SetOnce(&sub, &props->assigned_client_identifier, sub.Utf8("assigned client identifier"),
                "assigned client identifier");
        break;
      case 0x13:
        SetOnce(&sub, &props->server_keep_alive, sub.U16("server keep alive"), "server keep alive");
        break;
      case 0x15:
        SetOnce(&sub, &props->authentication_method, sub.Utf8("authentication method"),
                "authentication method");
        break;
      case 0x16:
        SetOnce(&sub, &props->authentication_data, sub.Binary("authentication data"),
                "authentication data");
        break;
      case 0x17: byte01(&props->request_problem_information, "request problem information"); break;
      case 0x18:
        SetOnce(&sub, &props->will_delay_interval, sub.U32("will delay interval"),
                "will delay interval");
        break;
      case 0x19:
        byte01(&props->request_response_information, "request response information");
        break;
      case 0x1A:
        SetOnce(&sub, &props->response_information, sub.Utf8("response information"),
                "response information");
        break;
      case 0x1C:
        SetOnce(&sub, &props->server_reference, sub.Utf8("server reference"), "server reference");
        break;
      case 0x1F:
        SetOnce(&sub, &props->reason_string, sub.Utf8("reason string"), "reason string");
        break;
      case 0x21: {
        const uint16_t v = sub.U16("receive maximum");
        if (!sub.failed() && v == 0) {
          sub.Fail(ReasonCode::kProtocolError, "receive maximum 0 is not allowed");
          break;
        }
        SetOnce(&sub, &props->receive_maximum, v, "receive maximum");
        break;
      }
      case 0x22:
        SetOnce(&sub, &props->topic_alias_maximum, sub.U16("topic alias maximum"),
                "topic alias maximum");
        break;
      case 0x23: SetOnce(&sub, &props->topic_alias, sub.U16("topic alias"), "topic alias"); break;
      case 0x24: byte01(&props->maximum_qos, "maximum QoS"); break;
      case 0x25: byte01(&props->retain_available, "retain available"); break;
      case 0x26: {
        std::string key = sub.Utf8("user property name");
        std::string value = sub.Utf8("user property value");
        if (!sub.failed()) props->user_properties.emplace_back(std::move(key), std::move(value));
        break;
      }
      case 0x27: {
        const uint32_t v = sub.U32("maximum packet size");
        if (!sub.failed() && v == 0) {
          sub.Fail(ReasonCode::kProtocolError, "maximum packet size 0 is not allowed");
          break;
        }
        SetOnce(&sub, &props->maximum_packet_size, v, "maximum packet size");
        break;
      }
      case 0x28:
        byte01(&props->wildcard_subscription_available, "wildcard subscription available");
        break;
      case 0x29:
        byte01(&props->subscription_identifier_available, "subscription identifier available");
        break;
      case 0x2A:
        byte01(&props->shared_subscription_available, "shared subscription available");
        break;
    }
  }
  if (sub.failed()) error_ = sub.TakeError();
}

// ---- Writer -------------------------------------------------------------------------------

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
void PutVarInt(std::string* out, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v > 0) b |= 0x80;
    out->push_back(static_cast<char>(b));
  } while (v > 0);
}
size_t VarIntSize(uint32_t v) { return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4; }
void PutString(std::string* out, std::string_view s) {
  PutU16(out, static_cast<uint16_t>(s.size()));
  out->append(s);
}

void PutPropertyBody(const Properties& p, std::string* out) {
  auto u8 = [out](uint8_t id, const std::optional<uint8_t>& v) {
    if (!v) return;
    out->push_back(static_cast<char>(id));
    out->push_back(static_cast<char>(*v));
  };
  auto u16 = [out](uint8_t id, const std::optional<uint16_t>& v) {
    if (!v) return;
    out->push_back(static_cast<char>(id));
    PutU16(out, *v);
  };
  auto u32 = [out](uint8_t id, const std::optional<uint32_t>& v) {
    if (!v) return;
    out->push_back(static_cast<char>(id));
    PutU32(out, *v);
  };
  auto str = [out](uint8_t id, const std::optional<std::string>& v) {
    if (!v) return;
    out->push_back(static_cast<char>(id));
    PutString(out, *v);
  };
  u8(0x01, p.payload_format_indicator);
  u32(0x02, p.message_expiry_interval);
  str(0x03, p.content_type);
  str(0x08, p.response_topic);
  str(0x09, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) {
    out->push_back(0x0B);
    PutVarInt(out, id);
  }
  u32(0x11, p.session_expiry_interval);
  str(0x12, p.assigned_client_identifier);
  u16(0x13, p.server_keep_alive);
  str(0x15, p.authentication_method);
  str(0x16, p.authentication_data);
  u8(0x17, p.request_problem_information);
  u32(0x18, p.will_delay_interval);
  u8(0x19, p.request_response_information);
  str(0x1A, p.response_information);
  str(0x1C, p.server_reference);
  str(0x1F, p.reason_string);
  u16(0x21, p.receive_maximum);
  u16(0x22, p.topic_alias_maximum);
  u16(0x23, p.topic_alias);
  u8(0x24, p.maximum_qos);
  u8(0x25, p.retain_available);
  for (const auto& [key, value] : p.user_properties) {
    out->push_back(0x26);
    PutString(out, key);
    PutString(out, value);
  }
  u32(0x27, p.maximum_packet_size);
  u8(0x28, p.wildcard_subscription_available);
  u8(0x29, p.subscription_identifier_available);
  u8(0x2A, p.shared_subscription_available);
}

void PutProperties(const Properties& p, std::string* out) {
  std::string body;
  PutPropertyBody(p, &body);
  PutVarInt(out, static_cast<uint32_t>(body.size()));
  out->append(body);
}

// Writes the variable header and payload of `packet` into `body`; returns the first byte.
uint8_t EncodeBody(const Packet& packet, Version version, std::string* body) {
  const bool v5 = version == Version::kV5;
  return std::visit(
      [&](const auto& p) -> uint8_t {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Connect>) {
          const bool pv5 = p.version == Version::kV5;
          PutString(body, "MQTT");
          body->push_back(static_cast<char>(p.version));
          uint8_t flags = 0;
          if (p.clean_start) flags |= 0x02;
          if (p.will) {
            flags |= 0x04 | static_cast<uint8_t>(p.will->qos << 3);
            if (p.will->retain) flags |= 0x20;
          }
          if (p.password) flags |= 0x40;
          if (p.username) flags |= 0x80;
          body->push_back(static_cast<char>(flags));
          PutU16(body, p.keep_alive);
          if (pv5) PutProperties(p.properties, body);
          PutString(body, p.client_id);
          if (p.will) {
            if (pv5) PutProperties(p.will->properties, body);
            PutString(body, p.will->topic);
            PutString(body, p.will->payload);
          }
          if (p.username) PutString(body, *p.username);
          if (p.password) PutString(body, *p.password);
          return 0x10;
        } else if constexpr (std::is_same_v<T, Connack>) {
          body->push_back(p.session_present ? 1 : 0);
          body->push_back(static_cast<char>(v5 ? static_cast<uint8_t>(p.reason)
                                               : ConnackReturnCode311(p.reason)));
          if (v5) PutProperties(p.properties, body);
          return 0x20;
        } else if constexpr (std::is_same_v<T, Publish>) {
          PutString(body, p.topic);
          if (p.qos > 0) PutU16(body, p.packet_id);
          if (v5) PutProperties(p.properties, body);
          body->append(p.payload);
          return static_cast<uint8_t>(0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) |
                                      (p.retain ? 0x01 : 0));
        } else if constexpr (std::is_same_v<T, Ack>) {
          PutU16(body, p.packet_id);
          if (v5 && (p.reason != ReasonCode::kSuccess || p.properties != Properties{})) {
            body->push_back(static_cast<char>(p.reason));
            if (p.properties != Properties{}) PutProperties(p.properties, body);
          }
          const uint8_t type = static_cast<uint8_t>(p.type);
          return static_cast<uint8_t>(type << 4 | (p.type == PacketType::kPubrel ? 0x02 : 0));
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          PutU16(body, p.packet_id);
          if (v5) PutProperties(p.properties, body);
          for (const Subscription& s : p.subscriptions) {
            PutString(body, s.filter);
            uint8_t o = s.options.max_qos;
            if (v5) {
              if (s.options.no_local) o |= 0x04;
              if (s.options.retain_as_published) o |= 0x08;
              o |= static_cast<uint8_t>(s.options.retain_handling << 4);
            }
            body->push_back(static_cast<char>(o));
          }
          return 0x82;
        } else if constexpr (std::is_same_v<T, Suback>) {
          PutU16(body, p.packet_id);
          if (v5) PutProperties(p.properties, body);
          for (ReasonCode r : p.reasons) {
            const uint8_t b = static_cast<uint8_t>(r);
            body->push_back(static_cast<char>(v5 || b <= 2 ? b : 0x80));
          }
          return 0x90;
        } else if constexpr (std::is_same_v<T, Unsubscribe>) {
          PutU16(body, p.packet_id);
          if (v5) PutProperties(p.properties, body);
          for (const std::string& f : p.filters) PutString(body, f);
          return 0xA2;
        } else if constexpr (std::is_same_v<T, Unsuback>) {
          PutU16(body, p.packet_id);
          if (v5) {
            PutProperties(p.properties, body);
            for (ReasonCode r : p.reasons) body->push_back(static_cast<char>(r));
          }
          return 0xB0;
        } else if constexpr (std::is_same_v<T, Pingreq>) {
          return 0xC0;
        } else if constexpr (std::is_same_v<T, Pingresp>) {
          return 0xD0;
        } else if constexpr (std::is_same_v<T, Disconnect>) {
          if (v5 && (p.reason != ReasonCode::kSuccess || p.properties != Properties{})) {
            body->push_back(static_cast<char>(p.reason));
            if (p.properties != Properties{}) PutProperties(p.properties, body);
          }
          return 0xE0;
        } else {
          static_assert(std::is_same_v<T, Auth>);
          if (p.reason != ReasonCode::kSuccess || p.properties != Properties{}) {
            body->push_back(static_cast<char>(p.reason));
            if (p.properties != Properties{}) PutProperties(p.properties, body);
          }
          return 0xF0;
        }
      },
      packet);
}

// ---- Decoders per packet type -----------------------------------------------------------

void DecodeConnect(Reader* r, Connect* c) {
  const std::string name = r->Binary("CONNECT protocol name");
  const uint8_t level = r->U8("CONNECT protocol level");
  if (r->failed()) return;
  if (name != "MQTT" && name != "MQIsdp") {
    return r->Fail(ReasonCode::kMalformedPacket,
                   fmt::format("CONNECT protocol name '{}' is not MQTT", name));
  }
  if (name != "MQTT" || (level != 4 && level != 5)) {
    return r->Fail(ReasonCode::kUnsupportedProtocolVersion,
                   fmt::format("CONNECT protocol level {} is not supported (4: MQTT 3.1.1, 5: "
                               "MQTT 5.0)",
                               level));
  }
  c->version = static_cast<Version>(level);
  const bool v5 = c->version == Version::kV5;
  const uint8_t flags = r->U8("CONNECT flags");
  c->keep_alive = r->U16("CONNECT keep alive");
  if (r->failed()) return;
  if (flags & 0x01) return r->Malformed("CONNECT flags", "reserved bit 0 is set");
  c->clean_start = flags & 0x02;
  const bool will = flags & 0x04;
  const uint8_t will_qos = (flags >> 3) & 0x03;
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  if (!will && (will_qos != 0 || will_retain)) {
    return r->Malformed("CONNECT flags", "will QoS or retain set without the will flag");
  }
  if (will_qos == 3) return r->Malformed("CONNECT flags", "will QoS 3");
  if (!v5 && has_password && !has_username) {
    return r->Malformed("CONNECT flags", "password flag without user name flag (3.1.1)");
  }
  if (v5) r->ReadProperties(kInConnect, &c->properties);
  c->client_id = r->Utf8("CONNECT client identifier");
  if (will) {
    Will w;
    w.qos = will_qos;
    w.retain = will_retain;
    if (v5) r->ReadProperties(kInWill, &w.properties);
    w.topic = r->Utf8("CONNECT will topic");
    w.payload = r->Binary("CONNECT will payload");
    if (!r->failed() && w.properties.payload_format_indicator == 1 && !IsValidMqttUtf8(w.payload)) {
      return r->Fail(ReasonCode::kPayloadFormatInvalid,
                     "CONNECT will payload: payload format indicator says UTF-8 but it is not");
    }
    c->will = std::move(w);
  }
  if (!r->failed() && c->properties.authentication_data && !c->properties.authentication_method) {
    return r->Fail(ReasonCode::kProtocolError,
                   "CONNECT has authentication data without an authentication method");
  }
  if (has_username) c->username = r->Utf8("CONNECT user name");
  if (has_password) c->password = r->Binary("CONNECT password");
}

void DecodePublish(uint8_t byte0, Reader* r, Version version, Publish* p) {
  p->dup = byte0 & 0x08;
  p->qos = (byte0 >> 1) & 0x03;
  p->retain = byte0 & 0x01;
  if (p->qos == 3) return r->Malformed("PUBLISH flags", "QoS 3");
  if (p->qos == 0 && p->dup) return r->Malformed("PUBLISH flags", "DUP set on a QoS 0 message");
  p->topic = r->Utf8("PUBLISH topic");
  if (p->qos > 0) {
    p->packet_id = r->U16("PUBLISH packet identifier");
    if (!r->failed() && p->packet_id == 0) {
      return r->Malformed("PUBLISH packet identifier", "0 is not allowed");
    }
  }
  if (version == Version::kV5) r->ReadProperties(kInPublish, &p->properties);
  p->payload = std::string(r->Rest());
}

void DecodeAck(uint8_t byte0, Reader* r, Version version, Ack* a) {
  a->type = static_cast<PacketType>(byte0 >> 4);
  a->packet_id = r->U16("packet identifier");
  if (!r->failed() && a->packet_id == 0) {
    return r->Malformed("packet identifier", "0 is not allowed");
  }
  if (version == Version::kV5 && r->remaining() > 0) {
    a->reason = static_cast<ReasonCode>(r->U8("reason code"));
    if (r->remaining() > 0) r->ReadProperties(kInAck, &a->properties);
  }
}

void DecodeSubscribe(Reader* r, Version version, Subscribe* s) {
  s->packet_id = r->U16("SUBSCRIBE packet identifier");
  if (!r->failed() && s->packet_id == 0) {
    return r->Malformed("SUBSCRIBE packet identifier", "0 is not allowed");
  }
  const bool v5 = version == Version::kV5;
  if (v5) r->ReadProperties(kInSubscribe, &s->properties);
  while (!r->failed() && r->remaining() > 0) {
    Subscription sub;
    sub.filter = r->Utf8("SUBSCRIBE topic filter");
    const uint8_t o = r->U8("SUBSCRIBE options");
    if (r->failed()) return;
    if ((o & 0x03) == 3) return r->Malformed("SUBSCRIBE options", "QoS 3");
    if (!v5 && (o & 0xfc) != 0) {
      return r->Malformed("SUBSCRIBE options", "reserved bits set (3.1.1)");
    }
    if ((o & 0xc0) != 0) return r->Malformed("SUBSCRIBE options", "reserved bits 6-7 set");
    sub.options.max_qos = o & 0x03;
    sub.options.no_local = o & 0x04;
    sub.options.retain_as_published = o & 0x08;
    sub.options.retain_handling = (o >> 4) & 0x03;
    if (sub.options.retain_handling == 3) {
      return r->Fail(ReasonCode::kProtocolError, "SUBSCRIBE options: retain handling 3");
    }
    s->subscriptions.push_back(std::move(sub));
  }
  if (!r->failed() && s->subscriptions.empty()) {
    r->Fail(ReasonCode::kProtocolError, "SUBSCRIBE carries no topic filter");
  }
}

void DecodeUnsubscribe(Reader* r, Version version, Unsubscribe* u) {
  u->packet_id = r->U16("UNSUBSCRIBE packet identifier");
  if (!r->failed() && u->packet_id == 0) {
    return r->Malformed("UNSUBSCRIBE packet identifier", "0 is not allowed");
  }
  if (version == Version::kV5) r->ReadProperties(kInUnsubscribe, &u->properties);
  while (!r->failed() && r->remaining() > 0) {
    u->filters.push_back(r->Utf8("UNSUBSCRIBE topic filter"));
  }
  if (!r->failed() && u->filters.empty()) {
    r->Fail(ReasonCode::kProtocolError, "UNSUBSCRIBE carries no topic filter");
  }
}

// Reason code and properties of DISCONNECT and AUTH, both optional in 5.0.
void DecodeReasonAndProperties(Reader* r, Context context, ReasonCode* reason, Properties* props) {
  if (r->remaining() == 0) return;
  *reason = static_cast<ReasonCode>(r->U8("reason code"));
  if (r->remaining() > 0) r->ReadProperties(context, props);
}

uint8_t RequiredFlags(PacketType type) {
  switch (type) {
    case PacketType::kPubrel:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe: return 0x02;
    default: return 0;
  }
}

}  // namespace

std::string_view PacketTypeName(PacketType type) {
  static constexpr std::string_view kNames[] = {"RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
                                                "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
                                                "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                                "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};
  const auto i = static_cast<uint8_t>(type);
  return i < 16 ? kNames[i] : "UNKNOWN";
}

std::string_view ReasonCodeName(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess: return "success";
    case ReasonCode::kGrantedQos1: return "granted QoS 1";
    case ReasonCode::kGrantedQos2: return "granted QoS 2";
    case ReasonCode::kDisconnectWithWill: return "disconnect with will message";
    case ReasonCode::kNoMatchingSubscribers: return "no matching subscribers";
    case ReasonCode::kNoSubscriptionExisted: return "no subscription existed";
    case ReasonCode::kContinueAuthentication: return "continue authentication";
    case ReasonCode::kReauthenticate: return "re-authenticate";
    case ReasonCode::kUnspecifiedError: return "unspecified error";
    case ReasonCode::kMalformedPacket: return "malformed packet";
    case ReasonCode::kProtocolError: return "protocol error";
    case ReasonCode::kImplementationSpecificError: return "implementation specific error";
    case ReasonCode::kUnsupportedProtocolVersion: return "unsupported protocol version";
    case ReasonCode::kClientIdentifierNotValid: return "client identifier not valid";
    case ReasonCode::kBadUserNameOrPassword: return "bad user name or password";
    case ReasonCode::kNotAuthorized: return "not authorized";
    case ReasonCode::kServerUnavailable: return "server unavailable";
    case ReasonCode::kServerBusy: return "server busy";
    case ReasonCode::kBanned: return "banned";
    case ReasonCode::kServerShuttingDown: return "server shutting down";
    case ReasonCode::kBadAuthenticationMethod: return "bad authentication method";
    case ReasonCode::kKeepAliveTimeout: return "keep alive timeout";
    case ReasonCode::kSessionTakenOver: return "session taken over";
    case ReasonCode::kTopicFilterInvalid: return "topic filter invalid";
    case ReasonCode::kTopicNameInvalid: return "topic name invalid";
    case ReasonCode::kPacketIdentifierInUse: return "packet identifier in use";
    case ReasonCode::kPacketIdentifierNotFound: return "packet identifier not found";
    case ReasonCode::kReceiveMaximumExceeded: return "receive maximum exceeded";
    case ReasonCode::kTopicAliasInvalid: return "topic alias invalid";
    case ReasonCode::kPacketTooLarge: return "packet too large";
    case ReasonCode::kMessageRateTooHigh: return "message rate too high";
    case ReasonCode::kQuotaExceeded: return "quota exceeded";
    case ReasonCode::kAdministrativeAction: return "administrative action";
    case ReasonCode::kPayloadFormatInvalid: return "payload format invalid";
    case ReasonCode::kRetainNotSupported: return "retain not supported";
    case ReasonCode::kQosNotSupported: return "QoS not supported";
    case ReasonCode::kUseAnotherServer: return "use another server";
    case ReasonCode::kServerMoved: return "server moved";
    case ReasonCode::kSharedSubscriptionsNotSupported: return "shared subscriptions not supported";
    case ReasonCode::kConnectionRateExceeded: return "connection rate exceeded";
    case ReasonCode::kMaximumConnectTime: return "maximum connect time";
    case ReasonCode::kSubscriptionIdentifiersNotSupported:
      return "subscription identifiers not supported";
    case ReasonCode::kWildcardSubscriptionsNotSupported:
      return "wildcard subscriptions not supported";
  }
  return "unknown reason code";
}

uint8_t ConnackReturnCode311(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess: return 0;
    case ReasonCode::kUnsupportedProtocolVersion: return 1;
    case ReasonCode::kClientIdentifierNotValid: return 2;
    case ReasonCode::kServerUnavailable:
    case ReasonCode::kServerBusy:
    case ReasonCode::kServerShuttingDown:
    case ReasonCode::kUseAnotherServer:
    case ReasonCode::kServerMoved:
    case ReasonCode::kConnectionRateExceeded:
    case ReasonCode::kQuotaExceeded: return 3;
    case ReasonCode::kBadUserNameOrPassword:
    case ReasonCode::kBadAuthenticationMethod: return 4;
    default: return 5;
  }
}

PacketType TypeOf(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> PacketType {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Connect>) return PacketType::kConnect;
        if constexpr (std::is_same_v<T, Connack>) return PacketType::kConnack;
        if constexpr (std::is_same_v<T, Publish>) return PacketType::kPublish;
        if constexpr (std::is_same_v<T, Ack>) return p.type;
        if constexpr (std::is_same_v<T, Subscribe>) return PacketType::kSubscribe;
        if constexpr (std::is_same_v<T, Suback>) return PacketType::kSuback;
        if constexpr (std::is_same_v<T, Unsubscribe>) return PacketType::kUnsubscribe;
        if constexpr (std::is_same_v<T, Unsuback>) return PacketType::kUnsuback;
        if constexpr (std::is_same_v<T, Pingreq>) return PacketType::kPingreq;
        if constexpr (std::is_same_v<T, Pingresp>) return PacketType::kPingresp;
        if constexpr (std::is_same_v<T, Disconnect>) return PacketType::kDisconnect;
        if constexpr (std::is_same_v<T, Auth>) return PacketType::kAuth;
      },
      packet);
}

FrameStatus ReadFixedHeader(std::string_view buffer, uint32_t max_packet_size,
                            FixedHeader* header) {
  if (buffer.size() < 2) return FrameStatus::kNeedMore;
  uint32_t length = 0;
  for (size_t i = 1; i <= 4; ++i) {
    if (i >= buffer.size()) return FrameStatus::kNeedMore;
    const uint8_t b = static_cast<uint8_t>(buffer[i]);
    length |= static_cast<uint32_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      header->byte0 = static_cast<uint8_t>(buffer[0]);
      header->remaining_length = length;
      header->size = static_cast<uint8_t>(i + 1);
      if (static_cast<uint64_t>(header->size) + length > max_packet_size) {
        return FrameStatus::kTooLarge;
      }
      return FrameStatus::kComplete;
    }
  }
  return FrameStatus::kMalformed;
}

DecodeError Decode(uint8_t byte0, std::string_view body, Version version, Packet* packet) {
  const auto type = static_cast<PacketType>(byte0 >> 4);
  const uint8_t flags = byte0 & 0x0f;
  const bool v5 = version == Version::kV5;
  if (type == PacketType{0} || (type == PacketType::kAuth && !v5)) {
    return DecodeError{ReasonCode::kMalformedPacket,
                       fmt::format("packet type {} is reserved", static_cast<int>(type))};
  }
  if (type != PacketType::kPublish && flags != RequiredFlags(type)) {
    return DecodeError{ReasonCode::kMalformedPacket,
                       fmt::format("{} fixed header flags are {:#x}; must be {:#x}",
                                   PacketTypeName(type), flags, RequiredFlags(type))};
  }
  Reader r(body);
  switch (type) {
    case PacketType::kConnect: {
      Connect c;
      DecodeConnect(&r, &c);
      *packet = std::move(c);
      break;
    }
    case PacketType::kConnack: {
      Connack c;
      const uint8_t ack_flags = r.U8("CONNACK flags");
      if (!r.failed() && (ack_flags & 0xfe) != 0) r.Malformed("CONNACK flags", "reserved bits");
      c.session_present = ack_flags & 1;
      const uint8_t code = r.U8("CONNACK reason code");
      if (v5) {
        c.reason = static_cast<ReasonCode>(code);
        r.ReadProperties(kInConnack, &c.properties);
      } else {
        static constexpr ReasonCode k311[] = {ReasonCode::kSuccess,
                                              ReasonCode::kUnsupportedProtocolVersion,
                                              ReasonCode::kClientIdentifierNotValid,
                                              ReasonCode::kServerUnavailable,
                                              ReasonCode::kBadUserNameOrPassword,
                                              ReasonCode::kNotAuthorized};
        if (!r.failed() && code > 5) r.Malformed("CONNACK return code", "above 5");
        if (!r.failed()) c.reason = k311[code];
      }
      *packet = std::move(c);
      break;
    }
    case PacketType::kPublish: {
      Publish p;
      DecodePublish(byte0, &r, version, &p);
      *packet = std::move(p);
      break;
    }
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: {
      Ack a;
      DecodeAck(byte0, &r, version, &a);
      *packet = std::move(a);
      break;
    }
    case PacketType::kSubscribe: {
      Subscribe s;
      DecodeSubscribe(&r, version, &s);
      *packet = std::move(s);
      break;
    }
    case PacketType::kSuback: {
      Suback s;
      s.packet_id = r.U16("SUBACK packet identifier");
      if (v5) r.ReadProperties(kInSuback, &s.properties);
      while (!r.failed() && r.remaining() > 0) {
        const uint8_t code = r.U8("SUBACK reason code");
        if (!v5 && code > 2 && code != 0x80) {
          r.Malformed("SUBACK return code", fmt::format("{:#04x} is reserved (3.1.1)", code));
        }
        s.reasons.push_back(static_cast<ReasonCode>(code));
      }
      *packet = std::move(s);
      break;
    }
    case PacketType::kUnsubscribe: {
      Unsubscribe u;
      DecodeUnsubscribe(&r, version, &u);
      *packet = std::move(u);
      break;
    }
    case PacketType::kUnsuback: {
      Unsuback u;
      u.packet_id = r.U16("UNSUBACK packet identifier");
      if (v5) {
        r.ReadProperties(kInUnsuback, &u.properties);
        while (!r.failed() && r.remaining() > 0) {
          u.reasons.push_back(static_cast<ReasonCode>(r.U8("UNSUBACK reason code")));
        }
      }
      *packet = std::move(u);
      break;
    }
    case PacketType::kPingreq: *packet = Pingreq{}; break;
    case PacketType::kPingresp: *packet = Pingresp{}; break;
    case PacketType::kDisconnect: {
      Disconnect d;
      if (v5) DecodeReasonAndProperties(&r, kInDisconnect, &d.reason, &d.properties);
      *packet = std::move(d);
      break;
    }
    case PacketType::kAuth: {
      Auth a;
      DecodeReasonAndProperties(&r, kInAuth, &a.reason, &a.properties);
      *packet = std::move(a);
      break;
    }
  }
  if (!r.failed() && r.remaining() > 0) {
    r.Malformed(PacketTypeName(type), fmt::format("{} unexpected bytes at the end", r.remaining()));
  }
  return r.TakeError();
}

void Encode(const Packet& packet, Version version, std::string* out) {
  std::string body;
  const uint8_t byte0 = EncodeBody(packet, version, &body);
  out->push_back(static_cast<char>(byte0));
  PutVarInt(out, static_cast<uint32_t>(body.size()));
  out->append(body);
}

size_t EncodedSize(const Packet& packet, Version version) {
  std::string body;
  EncodeBody(packet, version, &body);
  return 1 + VarIntSize(static_cast<uint32_t>(body.size())) + body.size();
}

bool IsValidMqttUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      // No high bit set and no zero byte.
      if ((w & 0x8080808080808080ull) == 0 &&
          ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const uint8_t c = s[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      const uint8_t cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace seaway::mqtt
