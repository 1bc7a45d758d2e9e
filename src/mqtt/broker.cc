// The MQTT broker core (src/mqtt): connections, sessions, routing, timers, persistence.
//
// Locks, in the order they may nest:
//   Impl::sessions_mu_   the session map (tenant, client id) -> Session
//   Tenant::subs_mu      one tenant's subscription tree (shared while routing)
//   Session::mu          one session's subscriptions, in-flight and queued messages, link
// Tenant::retained_mu and Impl::conns_mu_ / wills_mu_ are leaves: nothing is taken under them.
// A connection's pipeline lock (Conn::pipe_mu) is a leaf too: routing happens outside it.
#include "mqtt/broker.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <fmt/format.h>

#include "common/logging.h"
#include "common/version.h"
#include "mqtt/broker_store.h"
#include "mqtt/topic.h"

namespace seaway::mqtt {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

using MessagePtr = std::shared_ptr<const Message>;

struct SessionSubscription {
  TopicFilter filter;
  SubscribeOptions options;
  uint32_t id = 0;
};

// One message on its way to one session.
struct Outgoing {
  MessagePtr message;
  uint8_t qos = 0;
  bool retain = false;
  std::vector<uint32_t> subscription_ids;
  uint16_t packet_id = 0;
  StoredMessage::State state = StoredMessage::kQueued;
  bool unsent = false;  // in flight from an earlier connection, not yet sent again on this one
};

// The messages sent to a session and not yet acknowledged, in sending order, with the set of
// packet ids they hold: finding a free id must not scan thousands of messages in flight.
class InFlight {
 public:
  using iterator = std::deque<Outgoing>::iterator;
  using const_iterator = std::deque<Outgoing>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  // Those sent on the current connection: what its receive maximum counts.
  size_t sent() const { return items_.size() - unsent_; }
  size_t unsent() const { return unsent_; }

  void push_back(Outgoing out) {
    ids_.insert(out.packet_id);
    if (out.unsent) ++unsent_;
    items_.push_back(std::move(out));
  }
  iterator erase(iterator it) {
    ids_.erase(it->packet_id);
    if (it->unsent) --unsent_;
    return items_.erase(it);
  }
  void clear() {
    items_.clear();
    ids_.clear();
    unsent_ = 0;
  }
  bool Holds(uint16_t packet_id) const { return ids_.contains(packet_id); }
  // A new connection took the session: everything is to be sent again, in order.
  void MarkAllUnsent() {
    for (Outgoing& o : items_) o.unsent = true;
    unsent_ = items_.size();
  }
  void MarkSent(iterator it) {
    if (it->unsent) --unsent_;
    it->unsent = false;
  }

 private:
  std::deque<Outgoing> items_;
  absl::flat_hash_set<uint16_t> ids_;
  size_t unsent_ = 0;
};

class Conn;

struct Session {
  std::mutex mu;
  TenantId tenant;
  std::string client_id;
  // The device whose credentials made the session; empty for a tenant identity. Only the same
  // identity may resume or replace it: a device must not inherit a dashboard's `#`.
  std::string owner_device;
  // Guarded by mu:
  Version version = Version::kV5;
  uint32_t expiry_interval = 0;  // seconds; 0xFFFFFFFF: never (capped by the options)
  std::map<std::string, SessionSubscription> subscriptions;  // by filter text
  std::shared_ptr<Conn> conn;                                // null while offline
  InFlight inflight;                                         // sent, not yet acknowledged
  std::deque<Outgoing> queue;                                // not yet sent
  std::set<uint16_t> incoming_qos2;                          // awaiting PUBREL
  uint16_t next_packet_id = 1;
  uint16_t client_receive_maximum = 65535;
  uint32_t client_max_packet_size = 0;  // 0: no limit
  int64_t disconnected_at = 0;          // monotonic ns
  int64_t disconnected_wall = 0;        // unix ns, for the store
  bool ended = false;                   // removed from the broker
  bool attaching = false;               // a CONNECT is taking it: not offline, never expired
  std::atomic<bool> online{false};
};
using SessionPtr = std::shared_ptr<Session>;

struct Tenant {
  std::shared_mutex subs_mu;
  TopicTree tree;
  std::mutex retained_mu;
  std::map<std::string, MessagePtr> retained;  // by topic
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> sent{0};
  std::atomic<int64_t> connected{0};
  // Set by Broker::DropTenant, never cleared: nothing of the tenant is routed, retained or
  // attached to a new session any more.
  std::atomic<bool> dropped{false};
};

struct SessionKey {
  TenantId tenant;
  std::string client_id;
  bool operator==(const SessionKey&) const = default;
};
struct SessionKeyHash {
  size_t operator()(const SessionKey& k) const {
    return std::hash<std::string>()(k.client_id) ^ (k.tenant.value() * 0x9e3779b97f4a7c15ull);
  }
};

// An incoming message waiting in its connection's pipeline.
struct Pending {
  std::shared_ptr<Message> message;
  uint16_t packet_id = 0;
  uint8_t qos = 0;
  bool duplicate = false;  // a QoS 2 resend of a message already accepted: acknowledge only
  bool done = false;
  ReasonCode reason = ReasonCode::kSuccess;
  std::string reason_string;
};

// A token bucket: `rate` a second, holding at most one second's worth.
struct RateBucket {
  double tokens = 0;
  int64_t refilled_at = 0;

  // Takes one token; false when there was none to take (the bucket still goes negative, so a
  // client that keeps pushing waits longer).
  bool Take(double rate, int64_t now) {
    Refill(rate, now);
    tokens -= 1;
    return tokens >= 0;
  }
  void Refill(double rate, int64_t now) {
    if (refilled_at == 0) {
      tokens = rate;
    } else {
      tokens = std::min(rate, tokens + rate * static_cast<double>(now - refilled_at) / 1e9);
    }
    refilled_at = now;
  }
};

struct DelayedWill {
  int64_t due = 0;
  SessionPtr session;
  MessagePtr message;
};

}  // namespace

struct Broker::Impl {
  Impl(BrokerOptions o, Authenticator* a, PublishHandler* h, BrokerStore* s, MetricsRegistry* m,
       Clock* c)
      : options(o), auth(a), handler(h), store(s), metrics(m), clock(c) {}

  const BrokerOptions options;
  Authenticator* const auth;
  PublishHandler* const handler;
  BrokerStore* const store;
  MetricsRegistry* const metrics;
  Clock* const clock;

  std::mutex sessions_mu;
  std::unordered_map<SessionKey, SessionPtr, SessionKeyHash> sessions;
  std::mutex tenants_mu;
  std::map<TenantId, std::unique_ptr<Tenant>> tenants;
  std::mutex conns_mu;
  std::unordered_set<std::shared_ptr<Conn>> conns;
  std::mutex wills_mu;
  std::vector<DelayedWill> delayed_wills;
  std::atomic<bool> dirty{false};
  std::atomic<uint64_t> share_counter{0};
  std::atomic<uint64_t> next_client_number{1};
  // Assigned client ids are "seaway-<this>-<number>": unique across restarts, which start the
  // number again, and unlikely to be an id a client picked itself.
  const uint64_t client_id_prefix =
      std::random_device()() * uint64_t{0x100000000} ^ std::random_device()();
  int64_t started_at = 0;
  int64_t last_sys = 0;
  int64_t last_save = 0;
  std::mutex tick_mu;
  struct Waiter {
    int64_t deadline = 0;
    std::function<void(const Message*)> done;
  };
  std::mutex waiters_mu;
  std::map<std::pair<TenantId, std::string>, Waiter> waiters;  // by exact topic
  std::atomic<size_t> waiter_count{0};
  std::mutex connect_rate_mu;
  std::unordered_map<std::string, RateBucket> connect_rate;  // by IP address

  Counter* received_total = nullptr;
  Counter* sent_total = nullptr;
  Counter* dropped_total = nullptr;
  Counter* rejected_total = nullptr;
  Counter* protocol_errors_total = nullptr;
  Counter* auth_failures_total = nullptr;
  Counter* denied_total = nullptr;
  Counter* throttled_total = nullptr;

  int64_t Now() const { return clock->MonotonicNanos(); }
  Tenant& TenantState(TenantId id);
  // Routes to every matching subscription; returns the sessions it reached (sent or queued).
  size_t Route(const MessagePtr& message);
  // Publishes a will as a client's PUBLISH is: through the handler first (a will on a telemetry
  // topic is stored like any reading), then to subscribers if the handler accepts it.
  void PublishWillMessage(MessagePtr will);
  // Hands `message` to a waiter of its exact topic, if any (AwaitMessage).
  void Notify(const MessagePtr& message);
  void SetRetained(Tenant& tenant, const MessagePtr& message);
  void DeliverRetained(Tenant& tenant, const SessionPtr& session, const SessionSubscription& sub);
  void Deliver(Session& session, Outgoing out);  // REQUIRES: session.mu held
  void Pump(Session& session);                   // REQUIRES: session.mu held
  // False when the message is too large for the client and was dropped instead.
  bool SendPublish(Session& session, Outgoing& out, bool dup);  // REQUIRES: session.mu held
  void EndSession(const SessionPtr& session);
  // Closes (0x87, no will) every connection `which` picks; how many.
  size_t CloseConnections(const std::function<bool(Conn&)>& which, std::string_view why);
  void RemoveSubscriptions(Session& session,
                           const std::map<std::string, SessionSubscription>& subs);
  // Publishes `will` after `delay_seconds` (at once when 0, unless `keep`: then it waits for
  // the first Tick, or the restart, like a delayed one).
  void PublishWill(const SessionPtr& session, MessagePtr will, uint32_t delay_seconds,
                   bool keep = false);
  void CancelDelayedWill(const Session* session);
  void PublishDueWills();
  // Publishes the session's delayed will at once, if it has one: its session ended.
  void PublishDelayedWillNow(const Session* session);
  void PublishSys();
  BrokerSnapshot Snapshot();
  Status Restore(const BrokerSnapshot& snapshot);
};

namespace {

// Encodes the PUBLISH of `out` for a client of `version`.
std::string EncodeDelivery(const Outgoing& out, Version version, uint16_t packet_id, bool dup,
                           int64_t now) {
  Publish p;
  p.topic = out.message->topic;
  p.payload = out.message->payload;
  p.qos = out.qos;
  p.retain = out.retain;
  p.dup = dup;
  p.packet_id = out.qos > 0 ? packet_id : 0;
  if (version == Version::kV5) {
    p.properties = out.message->properties;
    p.properties.subscription_identifiers = out.subscription_ids;
    if (out.message->expiry_at != 0) {
      const int64_t left = std::max<int64_t>(0, out.message->expiry_at - now);
      p.properties.message_expiry_interval =
          static_cast<uint32_t>((left + kNanosPerSecond - 1) / kNanosPerSecond);
    }
  }
  std::string bytes;
  Encode(p, version, &bytes);
  return bytes;
}

// The protocol level of a CONNECT body, read before decoding so that the refusal of a malformed
// CONNECT is in the client's version: 3.1.1 gets no 5.0 CONNACK (3.1.1 closes without one).
Version ConnectVersion(std::string_view body) {
  if (body.size() < 2) return Version::kV5;
  const size_t name_length = static_cast<uint8_t>(body[0]) << 8 | static_cast<uint8_t>(body[1]);
  if (body.size() <= 2 + name_length) return Version::kV5;
  return static_cast<uint8_t>(body[2 + name_length]) == static_cast<uint8_t>(Version::kV311)
             ? Version::kV311
             : Version::kV5;
}

std::string EncodePacket(const Packet& packet, Version version) {
  std::string bytes;
  Encode(packet, version, &bytes);
  return bytes;
}

// The properties a broker forwards from a PUBLISH (or a will) to subscribers.
Properties ForwardedProperties(const Properties& in) {
  Properties out;
  out.payload_format_indicator = in.payload_format_indicator;
  out.content_type = in.content_type;
  out.response_topic = in.response_topic;
  out.correlation_data = in.correlation_data;
  out.user_properties = in.user_properties;
  return out;
}

// A routed message from a decoded PUBLISH (its topic and payload are moved out); `now` is the
// monotonic time its message expiry counts from. Properties are the caller's to set.
std::shared_ptr<Message> MessageFrom(TenantId tenant, Publish& p, int64_t now) {
  auto m = std::make_shared<Message>();
  m->tenant = tenant;
  m->topic = std::move(p.topic);
  m->payload = std::move(p.payload);
  m->qos = p.qos;
  m->retain = p.retain;
  if (p.properties.message_expiry_interval) {
    m->expiry_at =
        now + static_cast<int64_t>(*p.properties.message_expiry_interval) * kNanosPerSecond;
  }
  return m;
}

}  // namespace

// ---- Connection ---------------------------------------------------------------------------

namespace {

class Conn final : public BrokerConnection, public std::enable_shared_from_this<Conn> {
 public:
  enum class State { kAwaitingConnect, kConnected, kClosed };

  Conn(Broker::Impl* broker, std::shared_ptr<ClientLink> link)
      : broker_(broker), link_(std::move(link)), accepted_at_(broker->Now()) {
    last_activity_.store(accepted_at_);
  }

  bool OnBytes(std::string_view data) override;
  void OnClosed() override { CloseWith(std::nullopt, "connection closed by the client", true); }

  // Closes the connection: a 5.0 client gets DISCONNECT with `reason` when set (after
  // CONNECT). `abnormal` publishes the will; `keep_will` (the broker shutting down) instead
  // keeps it pending with its delay, saved with the broker's state and published after the
  // restart unless the session is resumed first.
  void CloseWith(std::optional<ReasonCode> reason, std::string_view why, bool abnormal,
                 bool keep_will = false);

  // Called by Tick: closes on keepalive or CONNECT timeout; resumes reading once a connection
  // paused for its publish rate is back under it.
  void CheckTimers(int64_t now);

  // Whether the connection speaks for device `device` of `tenant` (any thread).
  bool IsDevice(TenantId tenant, std::string_view device) {
    std::lock_guard lock(mu_);
    return !identity_.device.empty() && identity_.tenant == tenant && identity_.device == device;
  }

  // Whether the connection authenticated as a client of `tenant` (any thread).
  bool InTenant(TenantId tenant) {
    std::lock_guard lock(mu_);
    return identity_.tenant == tenant;
  }

  bool Send(std::string bytes, bool droppable = false) {
    return link_->Send(std::move(bytes), droppable);
  }
  // Sends an acknowledgement, CONNACK or DISCONNECT as the 5.0 client asked: without reason
  // string and user properties when it asked for no problem information (but on CONNACK and
  // DISCONNECT, 3.1.2.11.7), or when they would exceed its maximum packet size (3.1.2.11.4).
  void SendControl(Packet packet);
  Version version() const { return version_; }
  const SessionPtr& session() const { return session_; }
  State state() {
    std::lock_guard lock(mu_);
    return state_;
  }
  // Reading is paused by the broker: the client's silence is not its own.
  bool Paused() {
    std::lock_guard lock(pipe_mu_);
    return read_paused_ || rate_paused_;
  }

 private:
  bool HandlePacket(const FixedHeader& header, std::string_view body);
  bool HandleConnect(Connect& connect);
  bool HandlePublish(Publish& publish);
  void HandleSubscribe(const Subscribe& subscribe);
  void HandleUnsubscribe(const Unsubscribe& unsubscribe);
  void HandleAck(const Ack& ack);
  void RefuseConnect(ReasonCode reason, std::string_view why);
  // A CONNECT whose client id names a session another identity made (a device's and a tenant
  // token's, or two devices'): taking it over would hand one the other's subscriptions.
  void RefuseForeignSession(std::string_view client_id) {
    broker_->denied_total->Increment();
    RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                  fmt::format("client id '{}' is the session of another identity (each device "
                              "and the tenant's tokens keep their own client ids)",
                              client_id));
  }
  void ProtocolError(ReasonCode reason, std::string_view why) {
    broker_->protocol_errors_total->Increment();
    CloseWith(reason, why, true);
  }
  // Marks a pipeline entry done and drains the ready front of the pipeline.
  void Complete(Pending* entry, ReasonCode reason, std::string reason_string);
  void Drain();

  Broker::Impl* const broker_;
  const std::shared_ptr<ClientLink> link_;
  const int64_t accepted_at_;
  std::atomic<int64_t> last_activity_{0};

  std::mutex mu_;  // state_ transitions
  State state_ = State::kAwaitingConnect;

  // Set by CONNECT on the connection's thread, read-only afterwards.
  Version version_ = Version::kV5;
  uint16_t keep_alive_ = 0;
  ClientIdentity identity_;  // from CONNECT: the tenant, and the device for its credentials
  TenantId tenant_;
  SessionPtr session_;
  std::string buffer_;
  std::vector<std::string> aliases_;

  // From a 5.0 CONNECT (read-only afterwards): what the client accepts (SendControl).
  uint32_t client_max_packet_size_ = 0;  // 0: no limit
  bool problem_information_ = true;

  // The will, until a normal DISCONNECT discards it. Guarded by mu_.
  MessagePtr will_;
  uint32_t will_delay_ = 0;

  // Incoming messages in order of receipt. Guarded by pipe_mu_.
  std::mutex pipe_mu_;
  std::deque<std::shared_ptr<Pending>> pipeline_;
  size_t unacknowledged_ = 0;  // QoS 1/2 in the pipeline
  // QoS 2 past PUBREC, awaiting PUBREL: they count against the receive maximum till PUBCOMP.
  absl::flat_hash_set<uint16_t> awaiting_release_;
  bool draining_ = false;
  bool read_paused_ = false;  // the pipeline is full
  bool rate_paused_ = false;  // over max_publish_rate
  RateBucket publish_rate_;   // connection thread, and Tick while rate_paused_
};

bool Conn::OnBytes(std::string_view data) {
  if (state() == State::kClosed) return true;
  last_activity_.store(broker_->Now(), std::memory_order_relaxed);
  buffer_.append(data);
  size_t pos = 0;
  bool keep_reading = true;
  while (pos < buffer_.size()) {
    FixedHeader header;
    const uint32_t limit = broker_->options.max_packet_size;
    const FrameStatus status =
        ReadFixedHeader(std::string_view(buffer_).substr(pos), limit, &header);
    if (status == FrameStatus::kNeedMore) break;
    if (status == FrameStatus::kMalformed) {
      ProtocolError(ReasonCode::kMalformedPacket, "remaining length longer than 4 bytes");
      return true;
    }
    if (status == FrameStatus::kTooLarge) {
      ProtocolError(ReasonCode::kPacketTooLarge,
                    fmt::format("packet of {} bytes exceeds the maximum packet size {}",
                                header.packet_size(), limit));
      return true;
    }
    if (buffer_.size() - pos < header.packet_size()) break;
    const std::string_view body =
        std::string_view(buffer_).substr(pos + header.size, header.remaining_length);
    keep_reading = HandlePacket(header, body) && keep_reading;
    pos += header.packet_size();
    if (state() == State::kClosed) {
      buffer_.clear();
      return true;
    }
  }
  buffer_.erase(0, pos);
  return keep_reading;
}

bool Conn::HandlePacket(const FixedHeader& header, std::string_view body) {
  Packet packet;
  const bool connecting = state() == State::kAwaitingConnect;
  if (connecting && header.type() != PacketType::kConnect) {
    ProtocolError(ReasonCode::kProtocolError,
                  fmt::format("first packet is {}, not CONNECT", PacketTypeName(header.type())));
    return true;
  }
  if (connecting) version_ = ConnectVersion(body);
  DecodeError error = Decode(header.byte0, body, version_, &packet);
  if (!error.ok()) {
    if (connecting) {
      RefuseConnect(error.reason, error.message);
    } else {
      ProtocolError(error.reason, error.message);
    }
    return true;
  }
  switch (header.type()) {
    case PacketType::kConnect:
      if (!connecting) {
        ProtocolError(ReasonCode::kProtocolError, "second CONNECT on a connection");
        return true;
      }
      return HandleConnect(std::get<Connect>(packet));
    case PacketType::kPublish: return HandlePublish(std::get<Publish>(packet));
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: HandleAck(std::get<Ack>(packet)); return true;
    case PacketType::kSubscribe: HandleSubscribe(std::get<Subscribe>(packet)); return true;
    case PacketType::kUnsubscribe: HandleUnsubscribe(std::get<Unsubscribe>(packet)); return true;
    case PacketType::kPingreq: Send(EncodePacket(Pingresp{}, version_)); return true;
    case PacketType::kDisconnect: {
      const Disconnect& d = std::get<Disconnect>(packet);
      if (d.properties.session_expiry_interval) {
        bool illegal;
        {
          std::lock_guard lock(session_->mu);
          // 5.0 3.14.2.2.2: cannot turn an ending session into a persistent one.
          illegal = session_->expiry_interval == 0 && *d.properties.session_expiry_interval != 0;
          if (!illegal) session_->expiry_interval = *d.properties.session_expiry_interval;
        }
        if (illegal) {  // outside session mu: CloseWith takes it
          ProtocolError(ReasonCode::kProtocolError,
                        "DISCONNECT sets a session expiry interval after CONNECT set 0");
          return true;
        }
      }
      CloseWith(std::nullopt, "client disconnected", d.reason == ReasonCode::kDisconnectWithWill);
      return true;
    }
    case PacketType::kAuth:
      ProtocolError(ReasonCode::kProtocolError, "AUTH without an authentication method");
      return true;
    default:
      ProtocolError(ReasonCode::kProtocolError, fmt::format("{} is sent by servers, not clients",
                                                            PacketTypeName(header.type())));
      return true;
  }
}

void Conn::RefuseConnect(ReasonCode reason, std::string_view why) {
  broker_->protocol_errors_total->Increment();
  log::Info("mqtt connect refused", {{"peer", link_->peer()},
                                     {"reason", std::string(ReasonCodeName(reason))},
                                     {"detail", std::string(why)}});
  // A CONNACK is owed for the refusals 3.1.1 has return codes for, and for every 5.0 one.
  const bool v311_code = reason == ReasonCode::kUnsupportedProtocolVersion ||
                         reason == ReasonCode::kClientIdentifierNotValid ||
                         reason == ReasonCode::kBadUserNameOrPassword ||
                         reason == ReasonCode::kNotAuthorized ||
                         reason == ReasonCode::kServerUnavailable;
  if (version_ == Version::kV5 || v311_code) {
    Connack ack;
    ack.reason = reason;
    if (version_ == Version::kV5) ack.properties.reason_string = std::string(why);
    // An unsupported version gets the CONNACK of the version the client can read: 3.1.1's.
    if (reason == ReasonCode::kUnsupportedProtocolVersion) {
      Send(EncodePacket(ack, Version::kV311));
    } else {
      SendControl(std::move(ack));
    }
  }
  {
    std::lock_guard lock(mu_);
    state_ = State::kClosed;
  }
  link_->Close();
  std::lock_guard lock(broker_->conns_mu);
  broker_->conns.erase(shared_from_this());
}

void Conn::SendControl(Packet packet) {
  if (version_ != Version::kV5) return (void)Send(EncodePacket(packet, version_));
  auto strip = [&packet](bool always) {
    std::visit(
        [always](auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (requires { p.properties.reason_string; }) {
            if (always || !(std::is_same_v<P, Connack> || std::is_same_v<P, Disconnect>)) {
              p.properties.reason_string.reset();
              p.properties.user_properties.clear();
            }
          }
        },
        packet);
  };
  if (!problem_information_) strip(false);
  std::string bytes = EncodePacket(packet, version_);
  if (client_max_packet_size_ != 0 && bytes.size() > client_max_packet_size_) {
    strip(true);
    bytes = EncodePacket(packet, version_);
  }
  Send(std::move(bytes));
}

bool Conn::HandleConnect(Connect& c) {
  version_ = c.version;
  const bool v5 = version_ == Version::kV5;
  if (v5) {
    client_max_packet_size_ = c.properties.maximum_packet_size.value_or(0);
    problem_information_ = c.properties.request_problem_information.value_or(1) != 0;
  }
  // 3.1.1 and 5.0 allow an empty client id; the broker assigns one (3.1.1: clean sessions only).
  std::string assigned;
  if (c.client_id.empty()) {
    if (!v5 && !c.clean_start) {
      RefuseConnect(ReasonCode::kClientIdentifierNotValid,
                    "an empty client identifier needs clean session (3.1.1)");
      return true;
    }
    assigned = fmt::format("seaway-{:016x}-{}", broker_->client_id_prefix,
                           broker_->next_client_number.fetch_add(1));
    c.client_id = assigned;
  }
  const std::string peer = link_->peer();
  const std::string address = peer.substr(0, peer.rfind(':'));
  if (broker_->options.max_connect_rate > 0) {
    bool allowed;
    {
      std::lock_guard lock(broker_->connect_rate_mu);
      allowed =
          broker_->connect_rate[address].Take(broker_->options.max_connect_rate, broker_->Now());
    }
    if (!allowed) {
      RefuseConnect(ReasonCode::kConnectionRateExceeded,
                    fmt::format("more than {} CONNECTs a second from {}",
                                broker_->options.max_connect_rate, address));
      return true;
    }
  }
  Result<ClientIdentity> identity = broker_->auth->Authenticate(
      c.client_id, c.username, c.password, address, link_->peer_certificate_sha256());
  if (!identity.ok()) {
    broker_->auth_failures_total->Increment();
    if (identity.status().code() == StatusCode::kResourceExhausted) {
      RefuseConnect(ReasonCode::kConnectionRateExceeded, identity.status().message());
    } else {
      RefuseConnect(ReasonCode::kBadUserNameOrPassword, "bad user name or password");
    }
    return true;
  }
  if (c.properties.authentication_method) {
    RefuseConnect(ReasonCode::kBadAuthenticationMethod,
                  fmt::format("authentication method '{}' is not supported",
                              *c.properties.authentication_method));
    return true;
  }
  if (c.will) {
    if (std::string why = CheckTopicName(c.will->topic); !why.empty()) {
      RefuseConnect(ReasonCode::kTopicNameInvalid, "will " + why);
      return true;
    }
    if (IsSysTopic(c.will->topic)) {
      broker_->denied_total->Increment();
      RefuseConnect(ReasonCode::kNotAuthorized,
                    fmt::format("will topic '{}': $SYS topics are the broker's", c.will->topic));
      return true;
    }
    if (!MayPublish(*identity, c.will->topic)) {
      broker_->denied_total->Increment();
      RefuseConnect(ReasonCode::kNotAuthorized,
                    fmt::format("device '{}' may not publish its will to '{}'", identity->device,
                                c.will->topic));
      return true;
    }
  }
  {
    std::lock_guard lock(mu_);  // IsDevice reads it from other threads
    identity_ = *identity;
  }
  tenant_ = identity_.tenant;
  keep_alive_ = c.keep_alive;
  const uint16_t max_ka = broker_->options.max_keep_alive;
  const bool capped_keep_alive = v5 && max_ka != 0 && (keep_alive_ == 0 || keep_alive_ > max_ka);
  if (capped_keep_alive) keep_alive_ = max_ka;

  uint32_t expiry = 0;
  if (v5) {
    expiry = c.properties.session_expiry_interval.value_or(0);
  } else if (!c.clean_start) {
    expiry = 0xFFFFFFFF;
  }

  Tenant& tenant_state = broker_->TenantState(tenant_);
  // Find or create the session; take over a connection that holds it.
  SessionPtr session;
  std::shared_ptr<Conn> previous;
  bool session_present = false;
  bool foreign = false;  // the client id is another identity's session
  {
    std::lock_guard lock(broker_->sessions_mu);
    SessionKey key{tenant_, c.client_id};
    auto it = broker_->sessions.find(key);
    if (it != broker_->sessions.end() && it->second->owner_device != identity_.device) {
      foreign = true;
    } else if (it != broker_->sessions.end()) {
      session = it->second;
      std::lock_guard slock(session->mu);
      // Taken over: the previous connection no longer owns the session, so its closing
      // neither detaches nor ends it.
      previous = std::move(session->conn);
      session->online.store(false);
      // A session that ends with its network connection (5.0 expiry 0, a 3.1.1 clean session)
      // ends when a takeover closes that connection: the new one starts afresh, as it would
      // had the old connection's DISCONNECT been read first (they come on two sockets, which
      // two threads may read in either order).
      const bool ends_with_previous = previous != nullptr && session->expiry_interval == 0;
      if (c.clean_start || session->ended || ends_with_previous) {
        session->ended = true;
        broker_->sessions.erase(it);
      } else {
        session_present = true;
        session->attaching = true;  // Tick must not expire it before this CONNECT attaches
      }
    }
  }
  if (foreign) {
    RefuseForeignSession(c.client_id);
    return true;
  }
  if (previous) {
    previous->CloseWith(ReasonCode::kSessionTakenOver, "session taken over by a new connection",
                        true);
  }
  if (session && !session_present) {
    // Clean start: the old session's subscriptions go; its messages with it.
    std::map<std::string, SessionSubscription> subs;
    {
      std::lock_guard slock(session->mu);
      subs.swap(session->subscriptions);
      session->queue.clear();
      session->inflight.clear();
    }
    broker_->RemoveSubscriptions(*session, subs);
    // The old session ends here, so its delayed will is due now (5.0 3.1.4 and 3.1.2.5).
    broker_->PublishDelayedWillNow(session.get());
    session.reset();
  }
  if (!session) {
    session = std::make_shared<Session>();
    session->tenant = tenant_;
    session->client_id = c.client_id;
    session->owner_device = identity_.device;
    session->attaching = true;
    SessionPtr displaced;
    bool dropped = false;
    {
      std::lock_guard lock(broker_->sessions_mu);
      // Checked under the lock DropTenant sweeps sessions under: a CONNECT of a tenant being
      // dropped either makes its session before the sweep (which ends it, and closes this
      // connection) or sees the flag here.
      dropped = tenant_state.dropped.load();
      if (!dropped) {
        // A racing CONNECT with the same id may have created one meanwhile: the later one
        // wins, and the earlier one's connection is taken over like any other.
        SessionPtr& slot = broker_->sessions[SessionKey{tenant_, c.client_id}];
        if (slot != nullptr && slot->owner_device != identity_.device) {
          foreign = true;
        } else {
          displaced = std::move(slot);
          slot = session;
        }
      }
    }
    if (dropped) {
      RefuseConnect(ReasonCode::kNotAuthorized, "the tenant was deleted");
      return true;
    }
    if (foreign) {
      RefuseForeignSession(c.client_id);
      return true;
    }
    if (displaced) {
      std::shared_ptr<Conn> displaced_conn;
      std::map<std::string, SessionSubscription> subs;
      {
        std::lock_guard slock(displaced->mu);
        displaced->ended = true;  // a CONNECT still attaching to it refuses itself
        displaced_conn = std::move(displaced->conn);
        subs.swap(displaced->subscriptions);
      }
      broker_->RemoveSubscriptions(*displaced, subs);
      if (displaced_conn) {
        displaced_conn->CloseWith(ReasonCode::kSessionTakenOver,
                                  "session taken over by a new connection", true);
      }
    }
  } else {
    broker_->CancelDelayedWill(session.get());
  }
  session_ = session;

  if (c.will) {
    auto will = std::make_shared<Message>();
    will->tenant = tenant_;
    will->topic = c.will->topic;
    will->payload = c.will->payload;
    will->qos = c.will->qos;
    will->retain = c.will->retain;
    will->properties = ForwardedProperties(c.will->properties);
    if (c.will->properties.message_expiry_interval) {
      will->expiry_at = -static_cast<int64_t>(*c.will->properties.message_expiry_interval);
    }
    will->origin = session.get();
    std::lock_guard lock(mu_);
    will_ = std::move(will);
    will_delay_ = c.will->properties.will_delay_interval.value_or(0);
  }

  Connack ack;
  ack.session_present = session_present;
  if (v5) {
    ack.properties.receive_maximum = broker_->options.receive_maximum;
    ack.properties.maximum_packet_size = broker_->options.max_packet_size;
    ack.properties.topic_alias_maximum = broker_->options.topic_alias_maximum;
    ack.properties.retain_available = 1;
    ack.properties.wildcard_subscription_available = 1;
    ack.properties.subscription_identifier_available = 1;
    ack.properties.shared_subscription_available = 1;
    if (!assigned.empty()) ack.properties.assigned_client_identifier = assigned;
    if (capped_keep_alive) ack.properties.server_keep_alive = keep_alive_;
    if (expiry > 0 && expiry != 0xFFFFFFFF &&
        static_cast<int64_t>(expiry) * kNanosPerSecond >
            broker_->options.max_session_expiry.nanos()) {
      expiry = static_cast<uint32_t>(broker_->options.max_session_expiry.nanos() / kNanosPerSecond);
      ack.properties.session_expiry_interval = expiry;
    }
  }
  aliases_.assign(broker_->options.topic_alias_maximum + 1, std::string());
  bool closed;
  {
    std::lock_guard lock(mu_);
    closed = state_ == State::kClosed;
    if (!closed) state_ = State::kConnected;
  }
  if (closed) {  // closed meanwhile (Stop, timeout): the session is offline from now
    std::lock_guard slock(session->mu);
    session->attaching = false;
    session->disconnected_at = broker_->Now();
    return true;
  }
  tenant_state.connected.fetch_add(1);
  std::shared_ptr<Conn> raced;  // attached by a CONNECT that raced this one
  bool lost_race = false;
  {
    // Checking for a racing CONNECT and attaching are one step, so that two racing CONNECTs
    // cannot both find the session free.
    std::lock_guard slock(session->mu);
    if (session->ended) {
      lost_race = true;  // a later CONNECT with this client id replaced the session
    } else {
      if (session->conn != nullptr && session->conn.get() != this) {
        raced = std::move(session->conn);
      }
      session->version = version_;
      session->expiry_interval = expiry;
      session->client_receive_maximum = v5 ? c.properties.receive_maximum.value_or(65535) : 65535;
      session->client_max_packet_size = v5 ? c.properties.maximum_packet_size.value_or(0) : 0;
      session->conn = shared_from_this();
      session->attaching = false;
      session->online.store(true);
      // CONNACK first, then what the session owes the client: unacknowledged messages again
      // (DUP set; PUBREL for those past PUBREC), then the queue, within the receive maximum
      // of this connection (Pump).
      SendControl(std::move(ack));
      session->inflight.MarkAllUnsent();
      broker_->Pump(*session);
    }
  }
  if (lost_race) {
    CloseWith(ReasonCode::kSessionTakenOver, "session taken over by a new connection", true);
    return true;
  }
  if (raced) {
    raced->CloseWith(ReasonCode::kSessionTakenOver, "session taken over by a new connection", true);
  }
  broker_->dirty.store(true);
  return true;
}

bool Conn::HandlePublish(Publish& p) {
  const bool v5 = version_ == Version::kV5;
  if (v5 && p.properties.topic_alias) {
    const uint16_t alias = *p.properties.topic_alias;
    if (alias == 0 || alias > broker_->options.topic_alias_maximum) {
      ProtocolError(ReasonCode::kTopicAliasInvalid,
                    fmt::format("topic alias {} is outside 1..{}", alias,
                                broker_->options.topic_alias_maximum));
      return true;
    }
    if (p.topic.empty()) {
      if (aliases_[alias].empty()) {
        ProtocolError(ReasonCode::kProtocolError,
                      fmt::format("topic alias {} is used before it was set", alias));
        return true;
      }
      p.topic = aliases_[alias];
    } else {
      aliases_[alias] = p.topic;
    }
  }
  if (std::string why = CheckTopicName(p.topic); !why.empty()) {
    ProtocolError(ReasonCode::kTopicNameInvalid, fmt::format("PUBLISH {}", why));
    return true;
  }
  if (v5 && !p.properties.subscription_identifiers.empty()) {
    ProtocolError(ReasonCode::kProtocolError,
                  "PUBLISH from a client carries a subscription identifier");
    return true;
  }
  if (v5 && p.properties.response_topic) {
    if (std::string why = CheckTopicName(*p.properties.response_topic); !why.empty()) {
      ProtocolError(ReasonCode::kProtocolError, fmt::format("PUBLISH response {}", why));
      return true;
    }
  }
  bool over_rate = false;
  if (broker_->options.max_publish_rate > 0 &&
      !publish_rate_.Take(broker_->options.max_publish_rate, broker_->Now())) {
    broker_->throttled_total->Increment();
    std::lock_guard lock(pipe_mu_);
    rate_paused_ = true;
    over_rate = true;
  }
  Tenant& tenant = broker_->TenantState(tenant_);
  tenant.received.fetch_add(1, std::memory_order_relaxed);
  broker_->received_total->Increment();

  auto entry = std::make_shared<Pending>();
  entry->qos = p.qos;
  entry->packet_id = p.packet_id;
  if (p.qos == 2) {
    std::lock_guard lock(session_->mu);
    if (!session_->incoming_qos2.insert(p.packet_id).second) entry->duplicate = true;
  }
  bool pause = false;
  bool over_receive_maximum = false;
  {
    std::lock_guard lock(pipe_mu_);
    if (p.qos > 0 && !entry->duplicate) {
      over_receive_maximum =
          unacknowledged_ + awaiting_release_.size() >= broker_->options.receive_maximum;
      if (!over_receive_maximum) ++unacknowledged_;
    }
    if (!over_receive_maximum) {
      pipeline_.push_back(entry);
      if (pipeline_.size() >= broker_->options.max_pipeline) {
        read_paused_ = true;
        pause = true;
      }
    }
  }
  if (over_receive_maximum) {
    // The client ignored the receive maximum of the CONNACK.
    ProtocolError(ReasonCode::kReceiveMaximumExceeded,
                  fmt::format("more than {} unacknowledged QoS 1/2 publishes",
                              broker_->options.receive_maximum));
    return true;
  }
  if (entry->duplicate) {
    Complete(entry.get(), ReasonCode::kSuccess, {});
    return !pause && !over_rate;
  }
  // 3.1.1 packets decode with no properties: nothing to forward, no expiry.
  std::shared_ptr<Message> message = MessageFrom(tenant_, p, broker_->Now());
  message->properties = ForwardedProperties(p.properties);
  message->origin = session_.get();
  entry->message = message;
  if (IsSysTopic(message->topic)) {
    broker_->denied_total->Increment();
    Complete(entry.get(), ReasonCode::kNotAuthorized,
             "$SYS topics are the broker's: clients may not publish to them");
    return !pause && !over_rate;
  }
  if (!MayPublish(identity_, message->topic)) {
    // 3.1.1 has no way to say no but closing (3.3.5): the message is acknowledged and dropped,
    // counted and logged; 5.0 answers 0x87 (QoS 0: dropped).
    broker_->denied_total->Increment();
    Complete(entry.get(), ReasonCode::kNotAuthorized,
             fmt::format("device '{}' may publish only under devices/{}/", identity_.device,
                         identity_.device));
    return !pause && !over_rate;
  }
  if (v5 && p.properties.payload_format_indicator == 1 && !IsValidMqttUtf8(message->payload)) {
    Complete(entry.get(), ReasonCode::kPayloadFormatInvalid,
             "payload format indicator says UTF-8, but the payload is not");
    return !pause && !over_rate;
  }
  if (broker_->handler == nullptr) {
    Complete(entry.get(), ReasonCode::kSuccess, {});
  } else {
    broker_->handler->OnPublish(
        *message, [self = shared_from_this(), entry](ReasonCode reason, std::string reason_string) {
          self->Complete(entry.get(), reason, std::move(reason_string));
        });
  }
  return !pause && !over_rate;
}

void Conn::Complete(Pending* entry, ReasonCode reason, std::string reason_string) {
  {
    std::lock_guard lock(pipe_mu_);
    entry->done = true;
    entry->reason = reason;
    entry->reason_string = std::move(reason_string);
    if (draining_) return;  // the draining thread will see it
    draining_ = true;
  }
  Drain();
}

void Conn::Drain() {
  bool resume = false;
  while (true) {
    std::shared_ptr<Pending> entry;
    {
      std::lock_guard lock(pipe_mu_);
      if (pipeline_.empty() || !pipeline_.front()->done) {
        draining_ = false;
        if (read_paused_ && pipeline_.size() < broker_->options.max_pipeline / 2) {
          read_paused_ = false;
          resume = !rate_paused_;
        }
        break;
      }
      entry = std::move(pipeline_.front());
      pipeline_.pop_front();
      if (entry->qos > 0 && !entry->duplicate) {
        --unacknowledged_;
        if (entry->qos == 2 && !IsError(entry->reason)) awaiting_release_.insert(entry->packet_id);
      }
    }
    const bool accepted = !IsError(entry->reason);
    if (accepted && entry->message != nullptr) broker_->Route(entry->message);
    if (!accepted) {
      broker_->rejected_total->Increment();
      log::Warn("mqtt publish refused",
                {{"client", session_->client_id},
                 {"topic", entry->message ? entry->message->topic : std::string()},
                 {"reason", std::string(ReasonCodeName(entry->reason))},
                 {"detail", entry->reason_string}});
    }
    if (entry->qos == 0) continue;
    Ack ack;
    ack.type = entry->qos == 1 ? PacketType::kPuback : PacketType::kPubrec;
    ack.packet_id = entry->packet_id;
    if (version_ == Version::kV5) {
      ack.reason = entry->reason;
      if (!entry->reason_string.empty()) ack.properties.reason_string = entry->reason_string;
    }
    if (entry->qos == 2 && !accepted) {
      // A refused QoS 2 message ends its exchange here (5.0 4.3.3): the id is free again.
      std::lock_guard slock(session_->mu);
      session_->incoming_qos2.erase(entry->packet_id);
    }
    if (state() != State::kClosed) SendControl(std::move(ack));
  }
  if (resume) link_->ResumeReading();
}

void Conn::HandleAck(const Ack& ack) {
  Session& s = *session_;
  if (ack.type == PacketType::kPubrel) {
    bool found;
    {
      std::lock_guard lock(s.mu);
      found = s.incoming_qos2.erase(ack.packet_id) > 0;
    }
    {
      std::lock_guard lock(pipe_mu_);
      awaiting_release_.erase(ack.packet_id);
    }
    Ack comp{PacketType::kPubcomp,
             ack.packet_id,
             found ? ReasonCode::kSuccess : ReasonCode::kPacketIdentifierNotFound,
             {}};
    SendControl(std::move(comp));
    return;
  }
  std::lock_guard lock(s.mu);
  auto it = std::find_if(s.inflight.begin(), s.inflight.end(),
                         [&](const Outgoing& o) { return o.packet_id == ack.packet_id; });
  if (ack.type == PacketType::kPubrec) {
    if (it == s.inflight.end() || it->qos != 2) {
      Send(EncodePacket(
          Ack{PacketType::kPubrel, ack.packet_id, ReasonCode::kPacketIdentifierNotFound, {}},
          version_));
      return;
    }
    if (IsError(ack.reason)) {  // the client refused the message: the exchange ends
      s.inflight.erase(it);
      broker_->Pump(s);
      return;
    }
    it->state = StoredMessage::kAwaitingComp;
    it->message.reset();  // the payload is no longer needed
    Send(EncodePacket(Ack{PacketType::kPubrel, ack.packet_id, ReasonCode::kSuccess, {}}, version_));
    broker_->dirty.store(true, std::memory_order_relaxed);
    return;
  }
  // PUBACK or PUBCOMP.
  const StoredMessage::State expected =
      ack.type == PacketType::kPuback ? StoredMessage::kAwaitingAck : StoredMessage::kAwaitingComp;
  if (it == s.inflight.end() || it->state != expected ||
      (ack.type == PacketType::kPuback && it->qos != 1)) {
    return;  // unknown or stale: ignored, as the specifications allow
  }
  s.inflight.erase(it);
  broker_->Pump(s);
}

void Conn::HandleSubscribe(const Subscribe& sub) {
  const bool v5 = version_ == Version::kV5;
  Suback ack;
  ack.packet_id = sub.packet_id;
  const uint32_t id = sub.properties.subscription_identifiers.empty()
                          ? 0
                          : sub.properties.subscription_identifiers[0];
  Tenant& tenant = broker_->TenantState(tenant_);
  std::vector<SessionSubscription> added;
  std::vector<bool> is_new;
  for (const Subscription& s : sub.subscriptions) {
    std::string error;
    std::optional<TopicFilter> filter = ParseTopicFilter(s.filter, &error);
    if (!filter) {
      // An ill-formed filter is a protocol violation, not a refusal (3.1.1 4.8, 5.0 4.13).
      ProtocolError(ReasonCode::kTopicFilterInvalid, "SUBSCRIBE " + error);
      return;
    }
    if (!filter->share_group.empty() && s.options.no_local) {
      ProtocolError(ReasonCode::kProtocolError, "no local on a shared subscription");
      return;
    }
    if (!MaySubscribe(identity_, filter->filter)) {
      broker_->denied_total->Increment();
      ack.reasons.push_back(v5 ? ReasonCode::kNotAuthorized : ReasonCode::kUnspecifiedError);
      continue;
    }
    {
      std::lock_guard lock(session_->mu);
      if (session_->subscriptions.size() >= broker_->options.max_subscriptions &&
          !session_->subscriptions.contains(s.filter)) {
        ack.reasons.push_back(v5 ? ReasonCode::kQuotaExceeded : ReasonCode::kUnspecifiedError);
        continue;
      }
    }
    SessionSubscription entry{*filter, s.options, id};
    Subscriber subscriber{session_.get(), s.options, id, filter->share_group};
    bool created;
    {
      std::unique_lock lock(tenant.subs_mu);
      created = tenant.tree.Add(*filter, subscriber);
    }
    {
      std::lock_guard lock(session_->mu);
      session_->subscriptions[s.filter] = entry;
    }
    ack.reasons.push_back(static_cast<ReasonCode>(s.options.max_qos));
    added.push_back(entry);
    is_new.push_back(created);
  }
  SendControl(std::move(ack));
  broker_->dirty.store(true, std::memory_order_relaxed);
  // Retained messages after the SUBACK (3.8.4): handling 0 always, 1 only for new subscriptions,
  // never for shared ones.
  for (size_t i = 0; i < added.size(); ++i) {
    const SessionSubscription& s = added[i];
    if (!s.filter.share_group.empty() || s.options.retain_handling == 2) continue;
    if (s.options.retain_handling == 1 && !is_new[i]) continue;
    broker_->DeliverRetained(tenant, session_, s);
  }
}

void Conn::HandleUnsubscribe(const Unsubscribe& unsub) {
  Unsuback ack;
  ack.packet_id = unsub.packet_id;
  Tenant& tenant = broker_->TenantState(tenant_);
  for (const std::string& text : unsub.filters) {
    std::string error;
    std::optional<TopicFilter> filter = ParseTopicFilter(text, &error);
    if (!filter) {
      ProtocolError(ReasonCode::kTopicFilterInvalid, "UNSUBSCRIBE " + error);
      return;
    }
    bool removed;
    {
      std::unique_lock lock(tenant.subs_mu);
      removed = tenant.tree.Remove(*filter, session_.get());
    }
    {
      std::lock_guard lock(session_->mu);
      session_->subscriptions.erase(text);
    }
    ack.reasons.push_back(removed ? ReasonCode::kSuccess : ReasonCode::kNoSubscriptionExisted);
  }
  SendControl(std::move(ack));
  broker_->dirty.store(true, std::memory_order_relaxed);
}

void Conn::CloseWith(std::optional<ReasonCode> reason, std::string_view why, bool abnormal,
                     bool keep_will) {
  MessagePtr will;
  uint32_t will_delay = 0;
  bool was_connected;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kClosed) return;
    was_connected = state_ == State::kConnected;
    state_ = State::kClosed;
    if (abnormal || keep_will) {
      will = std::move(will_);
      will_delay = will_delay_;
    }
    will_.reset();
  }
  if (was_connected && reason && version_ == Version::kV5) {
    Disconnect d;
    d.reason = *reason;
    d.properties.reason_string = std::string(why);
    SendControl(std::move(d));
  }
  if (reason) {
    log::Info("mqtt connection closed", {{"peer", link_->peer()},
                                         {"reason", std::string(ReasonCodeName(*reason))},
                                         {"detail", std::string(why)}});
  }
  link_->Close();
  {
    std::lock_guard lock(broker_->conns_mu);
    broker_->conns.erase(shared_from_this());
  }
  if (!was_connected) return;
  broker_->TenantState(tenant_).connected.fetch_sub(1);
  const SessionPtr session = session_;
  uint32_t expiry;
  bool owner;
  {
    std::lock_guard lock(session->mu);
    owner = session->conn.get() == this;
    if (owner) {
      session->conn.reset();
      session->online.store(false);
      session->disconnected_at = broker_->Now();
      session->disconnected_wall = broker_->clock->Now().nanos();
    }
    expiry = session->expiry_interval;
  }
  if (!owner) expiry = 0xFFFFFFFF;  // taken over: the new connection decides its fate
  // A will never outlives its session (5.0 3.1.3.2).
  if (will && !keep_will) broker_->PublishWill(session, will, std::min(will_delay, expiry));
  if (owner && expiry == 0) broker_->EndSession(session);
  // Kept after the session ended, so that ending it does not publish the will now.
  if (will && keep_will) broker_->PublishWill(session, will, std::min(will_delay, expiry), true);
  broker_->dirty.store(true, std::memory_order_relaxed);
}

void Conn::CheckTimers(int64_t now) {
  State s = state();
  if (s == State::kAwaitingConnect) {
    if (now - accepted_at_ > broker_->options.connect_timeout.nanos()) {
      CloseWith(std::nullopt, "no CONNECT within the connect timeout", false);
    }
    return;
  }
  if (s != State::kConnected) return;
  bool resume = false;
  {
    std::lock_guard lock(pipe_mu_);
    if (rate_paused_) {
      publish_rate_.Refill(broker_->options.max_publish_rate, now);
      if (publish_rate_.tokens >= 0) {
        rate_paused_ = false;
        resume = !read_paused_;
      }
    }
  }
  if (resume) link_->ResumeReading();
  if (keep_alive_ == 0) return;
  const int64_t limit = static_cast<int64_t>(keep_alive_) * kNanosPerSecond * 3 / 2;
  if (now - last_activity_.load(std::memory_order_relaxed) > limit && !resume && !Paused()) {
    CloseWith(ReasonCode::kKeepAliveTimeout,
              fmt::format("nothing received for 1.5 x the keep alive of {} s", keep_alive_), true);
  }
}

}  // namespace

// ---- Broker internals ---------------------------------------------------------------------

Tenant& Broker::Impl::TenantState(TenantId id) {
  std::lock_guard lock(tenants_mu);
  auto& slot = tenants[id];
  if (!slot) slot = std::make_unique<Tenant>();
  return *slot;
}

bool Broker::Impl::SendPublish(Session& session, Outgoing& out, bool dup) {
  const int64_t now = Now();
  std::string bytes = EncodeDelivery(out, session.version, out.packet_id, dup, now);
  if (session.client_max_packet_size != 0 && bytes.size() > session.client_max_packet_size) {
    dropped_total->Increment();  // 5.0 3.1.2.11.4: discard, as if delivered
    return false;
  }
  sent_total->Increment();
  TenantState(session.tenant).sent.fetch_add(1, std::memory_order_relaxed);
  // A connection closing meanwhile fails the send: the message stays in flight and goes again
  // when the session is resumed.
  session.conn->Send(std::move(bytes), out.qos == 0);
  return true;
}

void Broker::Impl::Deliver(Session& session, Outgoing out) {
  if (out.qos == 0) {
    if (session.conn != nullptr) SendPublish(session, out, false);
    return;
  }
  if (session.queue.size() >= options.max_queued_messages) {
    dropped_total->Increment();
    return;
  }
  session.queue.push_back(std::move(out));
  // Only sessions that outlive their connection are saved (Snapshot): queueing for the others
  // is no reason to write the broker's state again.
  if (session.expiry_interval != 0) dirty.store(true, std::memory_order_relaxed);
  Pump(session);
}

void Broker::Impl::Pump(Session& session) {
  if (session.conn == nullptr) return;
  const size_t window = std::min<size_t>(session.client_receive_maximum, options.max_inflight);
  const int64_t now = Now();
  // Messages in flight from an earlier connection go first, with their packet ids.
  for (auto it = session.inflight.begin(); session.inflight.unsent() > 0 &&
                                           session.inflight.sent() < window &&
                                           it != session.inflight.end();) {
    if (!it->unsent) {
      ++it;
      continue;
    }
    session.inflight.MarkSent(it);
    if (it->state == StoredMessage::kAwaitingComp) {
      session.conn->Send(EncodePacket(
          Ack{PacketType::kPubrel, it->packet_id, ReasonCode::kSuccess, {}}, session.version));
    } else if (!SendPublish(session, *it, /*dup=*/true)) {
      it = session.inflight.erase(it);  // too large for this connection: dropped
      continue;
    }
    ++it;
  }
  while (session.inflight.unsent() == 0 && !session.queue.empty() &&
         session.inflight.size() < window) {
    Outgoing out = std::move(session.queue.front());
    session.queue.pop_front();
    if (out.message->expiry_at != 0 && out.message->expiry_at <= now) {
      continue;  // expired while queued (5.0 3.3.2.3.3)
    }
    // The next packet id not in flight.
    uint16_t id = session.next_packet_id;
    while (session.inflight.Holds(id)) {
      id = static_cast<uint16_t>(id == 65535 ? 1 : id + 1);
    }
    session.next_packet_id = static_cast<uint16_t>(id == 65535 ? 1 : id + 1);
    out.packet_id = id;
    out.state = StoredMessage::kAwaitingAck;
    if (!SendPublish(session, out, false)) continue;  // too large for the client: dropped
    session.inflight.push_back(std::move(out));
  }
}

void Broker::Impl::Notify(const MessagePtr& message) {
  std::function<void(const Message*)> done;
  {
    std::lock_guard lock(waiters_mu);
    auto it = waiters.find(std::pair(message->tenant, message->topic));
    if (it == waiters.end()) return;
    done = std::move(it->second.done);
    waiters.erase(it);
    waiter_count.store(waiters.size(), std::memory_order_relaxed);
  }
  done(message.get());
}

size_t Broker::Impl::Route(const MessagePtr& message) {
  Tenant& tenant = TenantState(message->tenant);
  if (tenant.dropped.load(std::memory_order_relaxed)) return 0;
  if (waiter_count.load(std::memory_order_relaxed) > 0) Notify(message);
  if (message->retain) SetRetained(tenant, message);

  struct Target {
    Session* session;
    uint8_t qos;
    bool retain;
    std::vector<uint32_t> ids;
  };
  std::vector<Target> targets;
  absl::flat_hash_map<const void*, size_t> index;
  auto add = [&](const Subscriber& sub) {
    if (sub.options.no_local && sub.session == message->origin) return;
    const uint8_t qos = std::min(message->qos, sub.options.max_qos);
    const bool retain = sub.options.retain_as_published && message->retain;
    auto [it, inserted] = index.try_emplace(sub.session, targets.size());
    if (inserted) {
      targets.push_back(
          Target{static_cast<Session*>(const_cast<void*>(sub.session)), qos, retain, {}});
    } else {
      Target& t = targets[it->second];
      t.qos = std::max(t.qos, qos);
      t.retain = t.retain || retain;
    }
    if (sub.subscription_id != 0) targets[it->second].ids.push_back(sub.subscription_id);
  };
  std::shared_lock lock(tenant.subs_mu);
  tenant.tree.Match(message->topic, add, [&](const std::vector<Subscriber>& members) {
    // One member of a shared group gets the message: round robin, online members first.
    const size_t n = members.size();
    const size_t start = share_counter.fetch_add(1, std::memory_order_relaxed) % n;
    for (size_t k = 0; k < n; ++k) {
      const Subscriber& m = members[(start + k) % n];
      if (static_cast<const Session*>(m.session)->online.load()) return add(m);
    }
    add(members[start]);
  });
  size_t reached = 0;
  for (Target& t : targets) {
    Session& s = *t.session;
    std::lock_guard slock(s.mu);
    if (s.ended) continue;
    Outgoing out;
    out.message = message;
    out.qos = t.qos;
    out.retain = t.retain;
    out.subscription_ids = std::move(t.ids);
    Deliver(s, std::move(out));
    ++reached;
  }
  return reached;
}

void Broker::Impl::SetRetained(Tenant& tenant, const MessagePtr& message) {
  std::lock_guard lock(tenant.retained_mu);
  if (message->payload.empty()) {
    tenant.retained.erase(message->topic);
  } else if (tenant.retained.size() < options.max_retained_per_tenant ||
             tenant.retained.contains(message->topic)) {
    tenant.retained[message->topic] = message;
  } else {
    dropped_total->Increment();
    return;
  }
  if (message->topic.rfind("$SYS/", 0) != 0) dirty.store(true, std::memory_order_relaxed);
}

void Broker::Impl::DeliverRetained(Tenant& tenant, const SessionPtr& session,
                                   const SessionSubscription& sub) {
  std::vector<MessagePtr> matches;
  {
    std::lock_guard lock(tenant.retained_mu);
    for (const auto& [topic, message] : tenant.retained) {
      if (TopicMatches(sub.filter.filter, topic)) matches.push_back(message);
    }
  }
  const int64_t now = Now();
  std::lock_guard lock(session->mu);
  for (const MessagePtr& m : matches) {
    if (m->expiry_at != 0 && m->expiry_at <= now) continue;
    Outgoing out;
    out.message = m;
    out.qos = std::min(m->qos, sub.options.max_qos);
    out.retain = true;
    if (sub.id != 0) out.subscription_ids.push_back(sub.id);
    Deliver(*session, std::move(out));
  }
}

void Broker::Impl::RemoveSubscriptions(Session& session,
                                       const std::map<std::string, SessionSubscription>& subs) {
  if (subs.empty()) return;
  Tenant& tenant = TenantState(session.tenant);
  std::unique_lock lock(tenant.subs_mu);
  for (const auto& [text, sub] : subs) tenant.tree.Remove(sub.filter, &session);
}

void Broker::Impl::EndSession(const SessionPtr& session) {
  std::map<std::string, SessionSubscription> subs;
  {
    std::lock_guard lock(session->mu);
    // Reconnected, or reconnecting, meanwhile.
    if (session->conn != nullptr || session->attaching || session->ended) return;
    session->ended = true;  // a CONNECT that still finds it in the map starts afresh
    subs.swap(session->subscriptions);
    session->queue.clear();
    session->inflight.clear();
  }
  {
    std::lock_guard lock(sessions_mu);
    auto it = sessions.find(SessionKey{session->tenant, session->client_id});
    if (it != sessions.end() && it->second == session) sessions.erase(it);
  }
  RemoveSubscriptions(*session, subs);
  PublishDelayedWillNow(session.get());
  dirty.store(true, std::memory_order_relaxed);
}

void Broker::Impl::PublishDelayedWillNow(const Session* session) {
  // A delayed will is published when its session ends (5.0 3.1.2.5).
  MessagePtr will;
  {
    std::lock_guard lock(wills_mu);
    auto it = std::find_if(delayed_wills.begin(), delayed_wills.end(),
                           [&](const DelayedWill& w) { return w.session.get() == session; });
    if (it != delayed_wills.end()) {
      will = it->message;
      delayed_wills.erase(it);
    }
  }
  if (will) PublishWillMessage(will);
}

void Broker::Impl::PublishWill(const SessionPtr& session, MessagePtr will, uint32_t delay,
                               bool keep) {
  if (delay == 0 && !keep) {
    PublishWillMessage(will);
    return;
  }
  std::lock_guard lock(wills_mu);
  delayed_wills.push_back(
      DelayedWill{Now() + static_cast<int64_t>(delay) * kNanosPerSecond, session, will});
}

void Broker::Impl::PublishWillMessage(MessagePtr will) {
  // The will's expiry is kept negative (seconds) until now, through its delay and a restart:
  // it counts from publication (5.0 3.1.3.2.4).
  if (will->expiry_at < 0) {
    auto copy = std::make_shared<Message>(*will);
    copy->expiry_at = Now() + (-will->expiry_at) * kNanosPerSecond;
    will = std::move(copy);
  }
  if (handler == nullptr) {
    Route(will);
    return;
  }
  handler->OnPublish(*will, [this, will](ReasonCode reason, std::string reason_string) {
    if (static_cast<int>(reason) < 0x80) {
      Route(will);
      return;
    }
    log::Warn(
        "mqtt will refused",
        {{"topic", will->topic}, {"reason", static_cast<int>(reason)}, {"why", reason_string}});
  });
}

void Broker::Impl::PublishDueWills() {
  const int64_t now = Now();
  std::vector<MessagePtr> due;
  {
    std::lock_guard lock(wills_mu);
    std::erase_if(delayed_wills, [&](DelayedWill& w) {
      if (w.due > now) return false;
      due.push_back(std::move(w.message));
      return true;
    });
  }
  if (!due.empty()) dirty.store(true, std::memory_order_relaxed);
  for (const MessagePtr& m : due) PublishWillMessage(m);
}

void Broker::Impl::CancelDelayedWill(const Session* session) {
  std::lock_guard lock(wills_mu);
  std::erase_if(delayed_wills,
                [session](const DelayedWill& w) { return w.session.get() == session; });
}

void Broker::Impl::PublishSys() {
  std::vector<std::pair<TenantId, Tenant*>> all;
  {
    std::lock_guard lock(tenants_mu);
    for (auto& [id, t] : tenants) {
      if (!t->dropped.load()) all.emplace_back(id, t.get());
    }
  }
  const int64_t uptime = (Now() - started_at) / kNanosPerSecond;
  for (auto& [id, t] : all) {
    // Each tenant sees its own figures only.
    const std::pair<const char*, std::string> values[] = {
        {"$SYS/broker/version", fmt::format("seaway {}", kVersion)},
        {"$SYS/broker/uptime", fmt::format("{} seconds", uptime)},
        {"$SYS/broker/clients/connected", std::to_string(t->connected.load())},
        {"$SYS/broker/messages/received", std::to_string(t->received.load())},
        {"$SYS/broker/messages/sent", std::to_string(t->sent.load())},
    };
    for (const auto& [topic, value] : values) {
      auto m = std::make_shared<Message>();
      m->tenant = id;
      m->topic = topic;
      m->payload = value;
      m->retain = true;
      Route(m);
    }
  }
}

// ---- Persistence --------------------------------------------------------------------------

namespace {

// `subscription_ids` (of a session's message) travel in the PUBLISH's own property.
std::string EncodeStored(const Message& m, uint8_t qos, bool retain, int64_t now,
                         const std::vector<uint32_t>& subscription_ids = {}) {
  Publish p;
  p.topic = m.topic;
  p.payload = m.payload;
  p.qos = qos;
  p.retain = retain;
  p.packet_id = qos > 0 ? 1 : 0;
  p.properties = m.properties;
  p.properties.subscription_identifiers = subscription_ids;
  if (m.expiry_at > 0) {
    p.properties.message_expiry_interval = static_cast<uint32_t>(
        std::max<int64_t>(1, (m.expiry_at - now + kNanosPerSecond - 1) / kNanosPerSecond));
  } else if (m.expiry_at < 0) {  // a will not yet published: its whole interval
    p.properties.message_expiry_interval = static_cast<uint32_t>(-m.expiry_at);
  }
  std::string bytes;
  Encode(p, Version::kV5, &bytes);
  return bytes;
}

// The message in an encoded PUBLISH, or null when the bytes do not decode.
std::shared_ptr<Message> DecodeStored(std::string_view bytes, TenantId tenant, int64_t now,
                                      std::vector<uint32_t>* subscription_ids = nullptr) {
  FixedHeader h;
  if (ReadFixedHeader(bytes, UINT32_MAX, &h) != FrameStatus::kComplete ||
      h.packet_size() != bytes.size()) {
    return nullptr;
  }
  Packet packet;
  if (!Decode(h.byte0, bytes.substr(h.size), Version::kV5, &packet).ok() ||
      !std::holds_alternative<Publish>(packet)) {
    return nullptr;
  }
  Publish& p = std::get<Publish>(packet);
  std::shared_ptr<Message> m = MessageFrom(tenant, p, now);
  p.properties.message_expiry_interval.reset();
  if (subscription_ids != nullptr) *subscription_ids = p.properties.subscription_identifiers;
  p.properties.subscription_identifiers.clear();
  m->properties = std::move(p.properties);
  return m;
}

}  // namespace

BrokerSnapshot Broker::Impl::Snapshot() {
  BrokerSnapshot snap;
  const int64_t now = Now();
  snap.saved_at_unix_ns = clock->Now().nanos();
  std::vector<SessionPtr> all;
  {
    std::lock_guard lock(sessions_mu);
    for (auto& [key, s] : sessions) all.push_back(s);
  }
  for (const SessionPtr& s : all) {
    std::lock_guard lock(s->mu);
    if (s->ended || s->expiry_interval == 0) continue;
    StoredSession out;
    out.tenant = s->tenant;
    out.client_id = s->client_id;
    out.owner_device = s->owner_device;
    out.version = s->version;
    out.expiry_interval = s->expiry_interval;
    out.disconnected_at_unix_ns = s->conn ? clock->Now().nanos() : s->disconnected_wall;
    for (const auto& [text, sub] : s->subscriptions) {
      out.subscriptions.push_back(StoredSubscription{text, sub.options, sub.id});
    }
    auto add = [&](const Outgoing& o) {
      StoredMessage m;
      m.packet_id = o.packet_id;
      m.state = o.state;
      if (o.message != nullptr) {
        // An expired copy is deleted only while queued (5.0 3.3.2.3.3); one whose delivery
        // began is delivered again, as Restore does and as a resumed session does.
        if (o.state == StoredMessage::kQueued && o.message->expiry_at != 0 &&
            o.message->expiry_at <= now) {
          return;
        }
        m.publish = EncodeStored(*o.message, o.qos, o.retain, now, o.subscription_ids);
      }
      out.messages.push_back(std::move(m));
    };
    for (const Outgoing& o : s->inflight) add(o);
    for (const Outgoing& o : s->queue) add(o);
    out.incoming_qos2.assign(s->incoming_qos2.begin(), s->incoming_qos2.end());
    snap.sessions.push_back(std::move(out));
  }
  {
    std::lock_guard lock(wills_mu);
    for (const DelayedWill& w : delayed_wills) {
      snap.wills.push_back(
          StoredWill{w.session->tenant, w.session->client_id,
                     EncodeStored(*w.message, w.message->qos, w.message->retain, now),
                     snap.saved_at_unix_ns + (w.due - now)});
    }
  }
  std::lock_guard lock(tenants_mu);
  for (auto& [id, t] : tenants) {
    std::lock_guard rlock(t->retained_mu);
    for (const auto& [topic, m] : t->retained) {
      if (topic.rfind("$SYS/", 0) == 0) continue;
      if (m->expiry_at != 0 && m->expiry_at <= now) continue;
      snap.retained.push_back(StoredRetained{id, EncodeStored(*m, m->qos, true, now)});
    }
  }
  return snap;
}

Status Broker::Impl::Restore(const BrokerSnapshot& snap) {
  const int64_t now = Now();
  const int64_t wall = clock->Now().nanos();
  // Messages were stored with the time they had left at the save: the time since (the broker
  // was down) counts against it, so their expiry counts from `now - down`.
  const int64_t down =
      snap.saved_at_unix_ns > 0 ? std::max<int64_t>(0, wall - snap.saved_at_unix_ns) : 0;
  const int64_t saved_at = now - down;
  auto expired = [now](const Message& m) { return m.expiry_at != 0 && m.expiry_at <= now; };
  size_t restored = 0;
  for (const StoredSession& in : snap.sessions) {
    // Time spent offline before the restart counts against the expiry.
    const int64_t offline = std::max<int64_t>(0, wall - in.disconnected_at_unix_ns);
    const int64_t limit = in.expiry_interval == 0xFFFFFFFF
                              ? options.max_session_expiry.nanos()
                              : static_cast<int64_t>(in.expiry_interval) * kNanosPerSecond;
    if (offline >= limit) continue;
    auto s = std::make_shared<Session>();
    s->tenant = in.tenant;
    s->client_id = in.client_id;
    s->owner_device = in.owner_device;
    s->version = in.version;
    s->expiry_interval = in.expiry_interval;
    s->disconnected_at = now - offline;
    s->disconnected_wall = in.disconnected_at_unix_ns;
    Tenant& tenant = TenantState(in.tenant);
    for (const StoredSubscription& sub : in.subscriptions) {
      std::string error;
      std::optional<TopicFilter> filter = ParseTopicFilter(sub.filter, &error);
      if (!filter) continue;
      s->subscriptions[sub.filter] = SessionSubscription{*filter, sub.options, sub.subscription_id};
      std::unique_lock lock(tenant.subs_mu);
      tenant.tree.Add(*filter,
                      Subscriber{s.get(), sub.options, sub.subscription_id, filter->share_group});
    }
    for (const StoredMessage& m : in.messages) {
      Outgoing o;
      o.packet_id = m.packet_id;
      o.state = m.state;
      if (!m.publish.empty()) {
        std::shared_ptr<Message> message =
            DecodeStored(m.publish, in.tenant, saved_at, &o.subscription_ids);
        if (message == nullptr) continue;
        // Expired while the broker was down: a queued copy is deleted (5.0 3.3.2.3.3); one
        // whose delivery had begun is delivered again, as without the restart.
        if (m.state == StoredMessage::kQueued && expired(*message)) continue;
        o.qos = message->qos;  // stored with the delivery's QoS
        o.retain = message->retain;
        o.message = std::move(message);
      } else {
        o.qos = 2;  // past PUBREC: only the PUBREL is owed
      }
      if (m.state == StoredMessage::kQueued) {
        s->queue.push_back(std::move(o));
      } else {
        s->inflight.push_back(std::move(o));
      }
    }
    for (uint16_t id : in.incoming_qos2) s->incoming_qos2.insert(id);
    std::lock_guard lock(sessions_mu);
    sessions[SessionKey{in.tenant, in.client_id}] = s;
    ++restored;
  }
  for (const StoredRetained& r : snap.retained) {
    std::shared_ptr<Message> m = DecodeStored(r.publish, r.tenant, saved_at);
    if (m == nullptr || expired(*m)) continue;
    m->retain = true;
    Tenant& tenant = TenantState(r.tenant);
    std::lock_guard lock(tenant.retained_mu);
    tenant.retained[m->topic] = std::move(m);
  }
  for (const StoredWill& w : snap.wills) {
    std::shared_ptr<Message> m = DecodeStored(w.publish, w.tenant, saved_at);
    if (m == nullptr) continue;
    // Not yet published: its expiry counts from publication, in seconds kept negative.
    if (m->expiry_at > 0) m->expiry_at = -((m->expiry_at - saved_at) / kNanosPerSecond);
    SessionPtr session;
    {
      std::lock_guard lock(sessions_mu);
      auto it = sessions.find(SessionKey{w.tenant, w.client_id});
      if (it != sessions.end()) session = it->second;
    }
    if (session == nullptr) {  // it ended with the shutdown: a stand-in to hold the will
      session = std::make_shared<Session>();
      session->tenant = w.tenant;
      session->client_id = w.client_id;
      session->ended = true;
    }
    std::lock_guard lock(wills_mu);
    delayed_wills.push_back(DelayedWill{now + std::max<int64_t>(0, w.due_unix_ns - wall),
                                        std::move(session), std::move(m)});
  }
  log::Info("mqtt broker state restored", {{"sessions", std::to_string(restored)},
                                           {"retained", std::to_string(snap.retained.size())},
                                           {"wills", std::to_string(snap.wills.size())}});
  return Status::OK();
}

// ---- Broker -------------------------------------------------------------------------------

Broker::Broker(BrokerOptions options, Authenticator* auth, PublishHandler* handler,
               BrokerStore* store, MetricsRegistry* metrics, Clock* clock)
    : impl_(std::make_unique<Impl>(options, auth, handler, store, metrics, clock)) {
  impl_->received_total =
      metrics->GetCounter("seaway_mqtt_messages_received_total", "PUBLISH packets received");
  impl_->sent_total =
      metrics->GetCounter("seaway_mqtt_messages_sent_total", "PUBLISH packets sent");
  impl_->dropped_total = metrics->GetCounter(
      "seaway_mqtt_messages_dropped_total",
      "Messages dropped: session queue full, too large for the client, retained limit");
  impl_->rejected_total = metrics->GetCounter("seaway_mqtt_messages_rejected_total",
                                              "PUBLISH packets refused (bad telemetry payload...)");
  impl_->protocol_errors_total = metrics->GetCounter(
      "seaway_mqtt_protocol_errors_total", "Connections closed for a malformed or illegal packet");
  impl_->auth_failures_total =
      metrics->GetCounter("seaway_mqtt_auth_failures_total", "CONNECTs refused for credentials");
  impl_->denied_total = metrics->GetCounter(
      "seaway_mqtt_access_denied_total",
      "PUBLISH, SUBSCRIBE filters and wills refused by access control (a device's own topics)");
  impl_->throttled_total = metrics->GetCounter(
      "seaway_mqtt_publish_throttled_total",
      "PUBLISH packets over --mqtt-max-publish-rate (reading paused until under it)");
  impl_->started_at = clock->MonotonicNanos();
  impl_->last_sys = impl_->started_at - options.sys_interval.nanos();
  impl_->last_save = impl_->started_at;
}

Broker::~Broker() {
  // A session and its connection point at each other until the connection closes; break the
  // cycles of connections still open (a broker destroyed without Stop, as in tests).
  std::vector<SessionPtr> all;
  {
    std::lock_guard lock(impl_->sessions_mu);
    for (auto& [key, s] : impl_->sessions) all.push_back(s);
    impl_->sessions.clear();
  }
  for (const SessionPtr& s : all) {
    std::lock_guard lock(s->mu);
    s->conn.reset();
  }
  std::lock_guard lock(impl_->conns_mu);
  impl_->conns.clear();
}

size_t Broker::Impl::CloseConnections(const std::function<bool(Conn&)>& which,
                                      std::string_view why) {
  std::vector<std::shared_ptr<Conn>> all;
  {
    std::lock_guard lock(conns_mu);
    all.assign(conns.begin(), conns.end());
  }
  size_t closed = 0;
  for (auto& c : all) {
    if (!which(*c)) continue;
    c->CloseWith(ReasonCode::kNotAuthorized, why, /*abnormal=*/false);
    ++closed;
  }
  return closed;
}

size_t Broker::DisconnectDevice(TenantId tenant, std::string_view device) {
  return impl_->CloseConnections([&](Conn& c) { return c.IsDevice(tenant, device); },
                                 "the device's credentials were revoked");
}

size_t Broker::DropTenant(TenantId tenant) {
  Tenant& state = impl_->TenantState(tenant);
  state.dropped.store(true);  // from now on no new session, route or retained message
  // Its sessions end whether or not a connection still holds them (persistent ones too).
  std::vector<SessionPtr> sessions;
  {
    std::lock_guard lock(impl_->sessions_mu);
    for (auto it = impl_->sessions.begin(); it != impl_->sessions.end();) {
      if (it->first.tenant == tenant) {
        sessions.push_back(it->second);
        it = impl_->sessions.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const SessionPtr& session : sessions) {
    std::map<std::string, SessionSubscription> subs;
    {
      std::lock_guard lock(session->mu);
      session->ended = true;
      subs.swap(session->subscriptions);
      session->queue.clear();
      session->inflight.clear();
    }
    impl_->RemoveSubscriptions(*session, subs);
  }
  // After the sweep: a CONNECT that made its session before it has its identity set by now.
  const size_t closed = impl_->CloseConnections([&](Conn& c) { return c.InTenant(tenant); },
                                                "the tenant was deleted");
  {
    std::lock_guard lock(impl_->wills_mu);
    std::erase_if(impl_->delayed_wills,
                  [&](const DelayedWill& w) { return w.session->tenant == tenant; });
  }
  {
    std::lock_guard lock(state.retained_mu);
    state.retained.clear();
  }
  impl_->dirty.store(true, std::memory_order_relaxed);
  return closed;
}

Status Broker::Start() {
  if (impl_->store == nullptr) return Status::OK();
  SW_ASSIGN_OR_RETURN(BrokerSnapshot snap, impl_->store->Load());
  SW_RETURN_IF_ERROR(impl_->Restore(snap));
  // Wills due while the broker was down go out before any client can connect again (a device
  // that reconnects at once must not have its "online" overtaken by its old will).
  impl_->PublishDueWills();
  return Status::OK();
}

Status Broker::Stop() {
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(impl_->conns_mu);
    conns.assign(impl_->conns.begin(), impl_->conns.end());
  }
  for (auto& c : conns) {
    // The connection ends, not by the client's choice: its will is kept (5.0 3.1.2.5 lets a
    // server defer it to its restart), saved below, and published after the restart unless
    // the client resumes its session within the will delay.
    c->CloseWith(ReasonCode::kServerShuttingDown, "server shutting down", false,
                 /*keep_will=*/true);
  }
  std::map<std::pair<TenantId, std::string>, Impl::Waiter> waiters;
  {
    std::lock_guard lock(impl_->waiters_mu);
    waiters.swap(impl_->waiters);
    impl_->waiter_count.store(0);
  }
  for (auto& [key, waiter] : waiters) waiter.done(nullptr);
  if (impl_->store == nullptr) return Status::OK();
  return impl_->store->Save(impl_->Snapshot());
}

std::shared_ptr<BrokerConnection> Broker::Accept(std::shared_ptr<ClientLink> link) {
  auto conn = std::make_shared<Conn>(impl_.get(), std::move(link));
  std::lock_guard lock(impl_->conns_mu);
  impl_->conns.insert(conn);
  return conn;
}

void Broker::Tick() {
  std::unique_lock tick(impl_->tick_mu, std::try_to_lock);
  if (!tick.owns_lock()) return;
  Impl& b = *impl_;
  const int64_t now = b.Now();
  std::vector<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(b.conns_mu);
    conns.assign(b.conns.begin(), b.conns.end());
  }
  for (auto& c : conns) c->CheckTimers(now);

  b.PublishDueWills();

  // Expired sessions.
  std::vector<SessionPtr> expired;
  {
    std::lock_guard lock(b.sessions_mu);
    for (auto& [key, s] : b.sessions) {
      std::lock_guard slock(s->mu);
      if (s->conn != nullptr || s->attaching) continue;
      const int64_t limit =
          s->expiry_interval == 0xFFFFFFFF
              ? b.options.max_session_expiry.nanos()
              : std::min<int64_t>(static_cast<int64_t>(s->expiry_interval) * kNanosPerSecond,
                                  b.options.max_session_expiry.nanos());
      if (now - s->disconnected_at >= limit) expired.push_back(s);
    }
  }
  for (const SessionPtr& s : expired) b.EndSession(s);

  std::vector<std::function<void(const Message*)>> timed_out;
  {
    std::lock_guard lock(b.waiters_mu);
    std::erase_if(b.waiters, [&](auto& entry) {
      if (entry.second.deadline > now) return false;
      timed_out.push_back(std::move(entry.second.done));
      return true;
    });
    b.waiter_count.store(b.waiters.size(), std::memory_order_relaxed);
  }
  for (auto& done : timed_out) done(nullptr);

  {
    std::lock_guard lock(b.connect_rate_mu);
    std::erase_if(b.connect_rate, [now](const auto& entry) {
      return now - entry.second.refilled_at > 2'000'000'000;  // full again: forget it
    });
  }

  if (b.options.sys_interval.nanos() > 0 && now - b.last_sys >= b.options.sys_interval.nanos()) {
    b.last_sys = now;
    b.PublishSys();
  }
  if (b.store != nullptr && b.dirty.load() &&
      now - b.last_save >= b.options.save_interval.nanos()) {
    b.last_save = now;
    b.dirty.store(false);
    Status s = b.store->Save(b.Snapshot());
    if (!s.ok()) {
      b.dirty.store(true);
      log::Error("mqtt broker state not saved", {{"error", s.ToString()}});
    }
  }
}

size_t Broker::PublishInternal(Message message) {
  return impl_->Route(std::make_shared<const Message>(std::move(message)));
}

bool Broker::AwaitMessage(TenantId tenant, std::string topic, Duration timeout,
                          std::function<void(const Message*)> done) {
  std::lock_guard lock(impl_->waiters_mu);
  auto [it, inserted] = impl_->waiters.try_emplace(std::pair(tenant, std::move(topic)));
  if (!inserted) return false;
  it->second.deadline = impl_->Now() + timeout.nanos();
  it->second.done = std::move(done);
  impl_->waiter_count.store(impl_->waiters.size(), std::memory_order_relaxed);
  return true;
}

size_t Broker::connected_clients() const {
  size_t n = 0;
  std::lock_guard lock(impl_->tenants_mu);
  for (auto& [id, t] : impl_->tenants) n += static_cast<size_t>(t->connected.load());
  return n;
}

size_t Broker::sessions() const {
  std::lock_guard lock(impl_->sessions_mu);
  return impl_->sessions.size();
}

}  // namespace seaway::mqtt
