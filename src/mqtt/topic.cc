// Topic names, filters and the subscription tree (src/mqtt).
#include "mqtt/topic.h"

#include <algorithm>

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

namespace seaway::mqtt {

std::string CheckTopicName(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name.size() > 65535) return "topic name is longer than 65535 bytes";
  if (name.find_first_of("+#") != std::string_view::npos) {
    return fmt::format("topic name '{}' contains a wildcard ('+' or '#')", name);
  }
  if (!IsValidMqttUtf8(name)) return "topic name is not well-formed UTF-8";
  return {};
}

namespace {

// Empty when `filter` (without any $share prefix) is a valid filter.
std::string CheckFilter(std::string_view filter) {
  if (filter.empty()) return "is empty";
  size_t start = 0;
  while (true) {
    const size_t end = filter.find('/', start);
    const std::string_view level =
        filter.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) {
      return fmt::format("level '{}' mixes a wildcard with other characters", level);
    }
    if (level == "#" && end != std::string_view::npos) {
      return "'#' is allowed only as the last level";
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return {};
}

}  // namespace

std::optional<TopicFilter> ParseTopicFilter(std::string_view text, std::string* error) {
  TopicFilter out;
  std::string_view filter = text;
  constexpr std::string_view kShare = "$share/";
  if (text.substr(0, kShare.size()) == kShare) {
    const std::string_view rest = text.substr(kShare.size());
    const size_t slash = rest.find('/');
    const std::string_view group = rest.substr(0, slash);
    if (slash == std::string_view::npos || group.empty() ||
        group.find_first_of("+#") != std::string_view::npos) {
      *error = fmt::format(
          "topic filter '{}': a shared subscription is $share/<group>/<filter> "
          "with a non-empty group without wildcards",
          text);
      return std::nullopt;
    }
    out.share_group = std::string(group);
    filter = rest.substr(slash + 1);
  }
  if (text.size() > 65535) {
    *error = "topic filter is longer than 65535 bytes";
    return std::nullopt;
  }
  if (std::string why = CheckFilter(filter); !why.empty()) {
    *error = fmt::format("topic filter '{}': {}", text, why);
    return std::nullopt;
  }
  out.filter = std::string(filter);
  return out;
}

namespace {

// Whether `text` is `devices/<device>/<area>` followed by a level separator.
bool UnderDevice(std::string_view text, std::string_view device, std::string_view area) {
  constexpr std::string_view kDevices = "devices/";
  if (!text.starts_with(kDevices)) return false;
  text.remove_prefix(kDevices.size());
  if (!text.starts_with(device) || text.size() == device.size() || text[device.size()] != '/') {
    return false;
  }
  text.remove_prefix(device.size() + 1);
  if (area.empty()) return true;
  return text.starts_with(area) && text.size() > area.size() && text[area.size()] == '/';
}

}  // namespace

bool MayPublish(const ClientIdentity& identity, std::string_view topic) {
  return identity.device.empty() || UnderDevice(topic, identity.device, "");
}

bool IsSysTopic(std::string_view topic) { return topic == "$SYS" || topic.starts_with("$SYS/"); }

bool MaySubscribe(const ClientIdentity& identity, std::string_view filter) {
  return identity.device.empty() || UnderDevice(filter, identity.device, "rpc") ||
         UnderDevice(filter, identity.device, "twin");
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  size_t f = 0;
  size_t t = 0;
  while (true) {
    const size_t fe = std::min(filter.find('/', f), filter.size());
    const std::string_view flevel = filter.substr(f, fe - f);
    if (flevel == "#") return true;
    if (t > topic.size()) return false;  // topic exhausted, filter has more levels
    const size_t te = std::min(topic.find('/', t), topic.size());
    if (flevel != "+" && flevel != topic.substr(t, te - t)) return false;
    const bool filter_done = fe == filter.size();
    const bool topic_done = te == topic.size();
    if (filter_done) return topic_done;
    f = fe + 1;
    if (topic_done) {
      // "a/#" matches "a": only a final "#" may follow.
      return filter.substr(f) == "#";
    }
    t = te + 1;
  }
}

namespace {

// absl's hash maps look up std::string keys by absl::string_view (Debian's absl does not alias
// it to std::string_view).
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

struct TopicTree::Node {
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> children;
  std::vector<Subscriber> subscribers;  // non-shared subscriptions ending here
  absl::flat_hash_map<std::string, std::vector<Subscriber>> groups;  // shared, by group

  bool empty() const { return children.empty() && subscribers.empty() && groups.empty(); }
};

TopicTree::TopicTree() : root_(std::make_unique<Node>()) {}
TopicTree::~TopicTree() = default;

namespace {

template <typename Fn>
void ForEachLevel(std::string_view text, Fn fn) {
  size_t start = 0;
  while (true) {
    const size_t end = text.find('/', start);
    if (end == std::string_view::npos) {
      fn(text.substr(start));
      return;
    }
    fn(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

bool TopicTree::Add(const TopicFilter& filter, const Subscriber& subscriber) {
  Node* node = root_.get();
  ForEachLevel(filter.filter, [&node](std::string_view level) {
    auto it = node->children.find(Key(level));
    if (it == node->children.end()) {
      it = node->children.emplace(std::string(level), std::make_unique<Node>()).first;
    }
    node = it->second.get();
  });
  std::vector<Subscriber>& list =
      filter.share_group.empty() ? node->subscribers : node->groups[filter.share_group];
  for (Subscriber& s : list) {
    if (s.session == subscriber.session) {
      s = subscriber;
      return false;
    }
  }
  list.push_back(subscriber);
  ++count_;
  return true;
}

bool TopicTree::Remove(const TopicFilter& filter, const void* session) {
  std::vector<Node*> path{root_.get()};
  std::vector<std::string_view> levels;
  bool found = true;
  ForEachLevel(filter.filter, [&](std::string_view level) {
    if (!found) return;
    auto it = path.back()->children.find(Key(level));
    if (it == path.back()->children.end()) {
      found = false;
      return;
    }
    levels.push_back(level);
    path.push_back(it->second.get());
  });
  if (!found) return false;
  Node* node = path.back();
  bool removed = false;
  auto erase_from = [&](std::vector<Subscriber>* list) {
    auto it = std::find_if(list->begin(), list->end(),
                           [session](const Subscriber& s) { return s.session == session; });
    if (it == list->end()) return;
    list->erase(it);
    removed = true;
  };
  if (filter.share_group.empty()) {
    erase_from(&node->subscribers);
  } else if (auto g = node->groups.find(filter.share_group); g != node->groups.end()) {
    erase_from(&g->second);
    if (g->second.empty()) node->groups.erase(g);
  }
  if (!removed) return false;
  --count_;
  // Prune nodes left empty, deepest first.
  for (size_t i = path.size() - 1; i > 0 && path[i]->empty(); --i) {
    path[i - 1]->children.erase(Key(levels[i - 1]));
  }
  return true;
}

void TopicTree::Match(std::string_view topic, const std::function<void(const Subscriber&)>& each,
                      const std::function<void(const std::vector<Subscriber>&)>& each_group) const {
  std::vector<std::string_view> levels;
  ForEachLevel(topic, [&levels](std::string_view level) { levels.push_back(level); });
  const bool dollar = !topic.empty() && topic[0] == '$';
  auto emit = [&](const Node* node) {
    for (const Subscriber& s : node->subscribers) each(s);
    for (const auto& [group, members] : node->groups) each_group(members);
  };
  // Depth-first over the levels; an explicit stack keeps deep topics off the call stack.
  std::vector<std::pair<const Node*, size_t>> stack{{root_.get(), 0}};
  while (!stack.empty()) {
    auto [node, i] = stack.back();
    stack.pop_back();
    const bool wildcards_allowed = !(i == 0 && dollar);
    if (wildcards_allowed) {
      if (auto it = node->children.find(Key("#")); it != node->children.end())
        emit(it->second.get());
    }
    if (i == levels.size()) {
      emit(node);
      continue;
    }
    if (wildcards_allowed) {
      if (auto it = node->children.find(Key("+")); it != node->children.end()) {
        stack.emplace_back(it->second.get(), i + 1);
      }
    }
    if (auto it = node->children.find(Key(levels[i])); it != node->children.end()) {
      stack.emplace_back(it->second.get(), i + 1);
    }
  }
}

}  // namespace seaway::mqtt
