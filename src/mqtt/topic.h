// MQTT topic names and filters, and the subscription tree the broker routes with (src/mqtt).
//
// Names: at least one character, no '+' or '#'. Filters: '+' fills a whole level, '#' only the
// whole last level; `$share/<group>/<filter>` is a shared subscription. A filter starting with a
// wildcard never matches a topic starting with '$' ($SYS statistics and the like).
//
// Thread-compatible: the broker guards a TopicTree with its own lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/strong_id.h"
#include "mqtt/packet.h"

namespace seaway::mqtt {

// Empty when `name` is a valid topic name for PUBLISH, else why not.
std::string CheckTopicName(std::string_view name);

// A parsed subscription filter.
struct TopicFilter {
  std::string share_group;  // empty: not shared
  std::string filter;       // the filter proper, without `$share/<group>/`
};
// The filter, or the reason it is invalid (as "topic filter 'x': ...").
std::optional<TopicFilter> ParseTopicFilter(std::string_view text, std::string* error);

// True when `topic` (a valid name) matches `filter` (a valid filter proper).
bool TopicMatches(std::string_view filter, std::string_view topic);

// Who a client speaks for, from its CONNECT credentials.
struct ClientIdentity {
  TenantId tenant;
  // Set for a device's own credentials: the device's topics only (MayPublish, MaySubscribe).
  // Empty: every topic of the tenant (a tenant token: scripts, gateways, the console).
  std::string device;
};

// Access control (docs/mqtt.md): a device publishes only under `devices/<device>/` and
// subscribes only to filters under `devices/<device>/rpc/` and `devices/<device>/twin/` (its
// commands and, later, its twin's desired state); a tenant identity may use every topic of its
// tenant. `topic` is a valid name, `filter` a valid filter proper (no `$share/` prefix).
bool MayPublish(const ClientIdentity& identity, std::string_view topic);
// `$SYS` and `$SYS/...`: published by the broker only (5.0 4.7.2), whoever the client is.
bool IsSysTopic(std::string_view topic);
bool MaySubscribe(const ClientIdentity& identity, std::string_view filter);

// Who subscribed: the broker's session object is opaque to the tree.
struct Subscriber {
  const void* session = nullptr;  // identity only
  SubscribeOptions options;
  uint32_t subscription_id = 0;  // 0: none
  std::string share_group;       // empty: not shared
};

// Subscriptions of one tenant, a tree by topic level. Each (session, share group, filter) holds
// at most one subscription: subscribing again replaces its options.
class TopicTree {
 public:
  TopicTree();
  ~TopicTree();

  // Returns true when the subscription is new (false: replaced).
  bool Add(const TopicFilter& filter, const Subscriber& subscriber);
  // Returns true when it existed.
  bool Remove(const TopicFilter& filter, const void* session);
  // Calls `fn` for every subscription matching `topic`; shared subscriptions come grouped: one
  // call per (filter, group) with all members, so that the broker can pick one.
  void Match(std::string_view topic, const std::function<void(const Subscriber&)>& each,
             const std::function<void(const std::vector<Subscriber>&)>& each_group) const;
  size_t size() const { return count_; }

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  size_t count_ = 0;
};

}  // namespace seaway::mqtt
