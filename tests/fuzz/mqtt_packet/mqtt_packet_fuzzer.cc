// Fuzz target for the MQTT codec (src/mqtt/packet.h, src/mqtt/topic.h). The first byte picks
// the connection's version (odd: 5.0, even: 3.1.1; a decoded CONNECT switches to its own), the
// rest is a byte stream cut into packets by ReadFixedHeader and decoded one by one. Invariants:
// framing agrees with itself on every prefix and limit; a decoded packet encodes to
// EncodedSize bytes that decode to the same packet and encode to the same bytes again; an error
// names a field and carries an error reason code; UTF-8 validation agrees with a byte-by-byte
// reference; topic names and filters found in packets go through the topic functions, and the
// subscription tree agrees with TopicMatches on them.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "mqtt/packet.h"
#include "mqtt/topic.h"

namespace {

using namespace seaway::mqtt;  // NOLINT

// Straightforward UTF-8 check, one code point at a time, without the ASCII fast path.
bool ReferenceUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    int n;
    uint32_t cp;
    if (c == 0) return false;
    if (c < 0x80) {
      n = 0;
      cp = c;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= static_cast<size_t>(n)) return false;
    for (int k = 1; k <= n; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    i += n + 1;
  }
  return true;
}

struct Topics {
  std::vector<std::string> names;
  std::vector<TopicFilter> filters;
};

void AddName(std::string_view name, Topics* topics) {
  FUZZ_CHECK(IsValidMqttUtf8(name) == ReferenceUtf8(name));
  if (CheckTopicName(name).empty()) topics->names.emplace_back(name);
}

void AddFilter(std::string_view text, Topics* topics) {
  std::string error;
  std::optional<TopicFilter> f = ParseTopicFilter(text, &error);
  if (!f) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(text.size() >= f->filter.size() && !f->filter.empty());
  topics->filters.push_back(*f);
}

void CollectTopics(const Packet& packet, Topics* topics) {
  if (const auto* p = std::get_if<Publish>(&packet)) {
    AddName(p->topic, topics);
    FUZZ_CHECK(IsValidMqttUtf8(p->payload) == ReferenceUtf8(p->payload));
  } else if (const auto* c = std::get_if<Connect>(&packet)) {
    if (c->will) AddName(c->will->topic, topics);
  } else if (const auto* s = std::get_if<Subscribe>(&packet)) {
    for (const Subscription& sub : s->subscriptions) AddFilter(sub.filter, topics);
  } else if (const auto* u = std::get_if<Unsubscribe>(&packet)) {
    for (const std::string& f : u->filters) AddFilter(f, topics);
  }
}

// The subscription tree against brute force over the filters and names seen in the input.
void CheckTopics(const Topics& topics) {
  if (topics.filters.empty() || topics.names.empty()) return;
  TopicTree tree;
  static const int kSessions[8] = {};
  for (size_t i = 0; i < topics.filters.size() && i < 64; ++i) {
    Subscriber s;
    s.session = &kSessions[i % 8];
    s.share_group = topics.filters[i].share_group;
    tree.Add(topics.filters[i], s);
  }
  for (const std::string& name : topics.names) {
    std::multiset<std::pair<std::string, const void*>> expected;
    for (size_t i = 0; i < topics.filters.size() && i < 64; ++i) {
      const TopicFilter& f = topics.filters[i];
      if (TopicMatches(f.filter, name)) expected.emplace(f.share_group, &kSessions[i % 8]);
    }
    std::multiset<std::pair<std::string, const void*>> got;
    tree.Match(
        name, [&got](const Subscriber& s) { got.emplace(s.share_group, s.session); },
        [&got](const std::vector<Subscriber>& group) {
          FUZZ_CHECK(!group.empty());
          for (const Subscriber& s : group) got.emplace(s.share_group, s.session);
        });
    // Adding a (session, group, filter) twice replaces: compare as sets.
    FUZZ_CHECK(std::set(expected.begin(), expected.end()) == std::set(got.begin(), got.end()));
  }
  for (size_t i = 0; i < topics.filters.size() && i < 64; ++i) {
    tree.Remove(topics.filters[i], &kSessions[i % 8]);
  }
  FUZZ_CHECK(tree.size() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Version version = (data[0] & 1) ? Version::kV5 : Version::kV311;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr uint32_t kMaxPacketSize = 1 << 20;
  Topics topics;
  while (!stream.empty()) {
    FixedHeader h;
    const FrameStatus status = ReadFixedHeader(stream, kMaxPacketSize, &h);
    if (status == FrameStatus::kNeedMore) {
      FUZZ_CHECK(stream.size() < 5);
      break;
    }
    if (status != FrameStatus::kComplete) break;
    FUZZ_CHECK(h.size >= 2 && h.size <= 5 && h.byte0 == static_cast<uint8_t>(stream[0]));
    for (size_t k = 0; k < h.size; ++k) {
      FixedHeader partial;
      FUZZ_CHECK(ReadFixedHeader(stream.substr(0, k), kMaxPacketSize, &partial) ==
                 FrameStatus::kNeedMore);
    }
    FixedHeader limited;
    FUZZ_CHECK(ReadFixedHeader(stream, h.packet_size() - 1, &limited) == FrameStatus::kTooLarge);
    if (h.packet_size() > stream.size()) break;  // the rest of the packet has not arrived

    const std::string_view body = stream.substr(h.size, h.remaining_length);
    stream.remove_prefix(h.packet_size());
    Packet packet;
    const DecodeError error = Decode(h.byte0, body, version, &packet);
    if (!error.ok()) {
      FUZZ_CHECK(!error.message.empty());
      FUZZ_CHECK(IsError(error.reason));
      continue;
    }
    FUZZ_CHECK(TypeOf(packet) == h.type());
    FUZZ_CHECK(!PacketTypeName(h.type()).empty());
    Version encode_version = version;
    if (const auto* c = std::get_if<Connect>(&packet)) encode_version = version = c->version;

    std::string bytes;
    Encode(packet, encode_version, &bytes);
    FUZZ_CHECK(EncodedSize(packet, encode_version) == bytes.size());
    FixedHeader h2;
    FUZZ_CHECK(ReadFixedHeader(bytes, UINT32_MAX, &h2) == FrameStatus::kComplete);
    FUZZ_CHECK(h2.packet_size() == bytes.size());
    FUZZ_CHECK(h2.byte0 == h.byte0);
    Packet again;
    const DecodeError error2 =
        Decode(h2.byte0, std::string_view(bytes).substr(h2.size), encode_version, &again);
    if (!error2.ok()) std::fprintf(stderr, "re-decode: %s\n", error2.message.c_str());
    FUZZ_CHECK(error2.ok());
    FUZZ_CHECK(again == packet);
    std::string bytes2;
    Encode(again, encode_version, &bytes2);
    FUZZ_CHECK(bytes2 == bytes);

    CollectTopics(packet, &topics);
  }
  CheckTopics(topics);
  return 0;
}
