// BrokerStore: where the broker keeps what must survive a restart (src/mqtt): persistent
// sessions with their subscriptions and undelivered QoS 1/2 messages, and retained messages.
// Messages are kept as encoded MQTT 5.0 PUBLISH packets (the codec is the format), with the
// time left before expiry in their message expiry property.
//
// The SQLite implementation (DATA_DIR/mqtt.db) replaces the whole snapshot in one transaction.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "mqtt/packet.h"

namespace seaway::mqtt {

struct StoredSubscription {
  std::string filter;  // as subscribed, $share prefix included
  SubscribeOptions options;
  uint32_t subscription_id = 0;
};

struct StoredMessage {
  enum State : uint8_t { kQueued = 0, kAwaitingAck = 1, kAwaitingComp = 2 };
  std::string publish;  // an encoded 5.0 PUBLISH packet (qos, retain, properties, payload)
  uint16_t packet_id = 0;
  State state = kQueued;
};

struct StoredSession {
  TenantId tenant;
  std::string client_id;
  std::string owner_device;  // empty: a tenant identity's session
  Version version = Version::kV5;
  uint32_t expiry_interval = 0;  // seconds
  int64_t disconnected_at_unix_ns = 0;
  std::vector<StoredSubscription> subscriptions;
  std::vector<StoredMessage> messages;  // in-flight first, then queued, in order
  std::vector<uint16_t> incoming_qos2;  // QoS 2 packet ids awaiting PUBREL
};

struct StoredRetained {
  TenantId tenant;
  std::string publish;  // an encoded 5.0 PUBLISH packet
};

// A will waiting for its delay (or for the restart, when the broker stopped with its client
// connected), by the client id of its session.
struct StoredWill {
  TenantId tenant;
  std::string client_id;
  std::string publish;  // an encoded 5.0 PUBLISH packet
  int64_t due_unix_ns = 0;
};

struct BrokerSnapshot {
  std::vector<StoredSession> sessions;
  std::vector<StoredRetained> retained;
  std::vector<StoredWill> wills;
  // When it was taken: the time left before a message's expiry counts from it. 0: unknown (a
  // store written before it was kept).
  int64_t saved_at_unix_ns = 0;
};

class BrokerStore {
 public:
  virtual ~BrokerStore() = default;
  virtual Status Save(const BrokerSnapshot& snapshot) = 0;
  virtual Result<BrokerSnapshot> Load() = 0;
};

// Opens (creating when absent) the SQLite store at `path`.
Result<std::unique_ptr<BrokerStore>> OpenSqliteBrokerStore(const std::string& path);

}  // namespace seaway::mqtt
