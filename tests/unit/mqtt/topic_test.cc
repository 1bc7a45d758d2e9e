// Tests of topic names, filters and the subscription tree (src/mqtt/topic.h).
#include "mqtt/topic.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace seaway::mqtt {
namespace {

TEST(TopicTest, CheckTopicName) {
  const struct {
    std::string name;
    bool valid;
  } cases[] = {
      {"a", true},
      {"a/b/c", true},
      {"/", true},
      {"/a", true},
      {"a/", true},
      {"a//b", true},
      {" ", true},
      {"$SYS/broker/uptime", true},
      {"$share/g/a", true},  // just a name that starts with $
      {"caf\xc3\xa9/\xe2\x82\xac", true},
      {std::string(65535, 'a'), true},
      {"", false},
      {"+", false},
      {"#", false},
      {"a/+", false},
      {"a/#", false},
      {"a+b", false},
      {"a#", false},
      {std::string(65536, 'a'), false},
      {std::string("a\0b", 3), false},
      {"\xff", false},
      {"\xed\xa0\x80", false},
  };
  for (const auto& c : cases) {
    const std::string why = CheckTopicName(c.name);
    EXPECT_EQ(why.empty(), c.valid) << c.name.substr(0, 40) << ": " << why;
  }
}

TEST(TopicTest, ParseTopicFilter) {
  const struct {
    std::string text;
    bool valid;
    std::string group;
    std::string filter;
  } cases[] = {
      {"a", true, "", "a"},
      {"a/b/c", true, "", "a/b/c"},
      {"#", true, "", "#"},
      {"+", true, "", "+"},
      {"/", true, "", "/"},
      {"a//b", true, "", "a//b"},
      {"+/+", true, "", "+/+"},
      {"a/#", true, "", "a/#"},
      {"+/#", true, "", "+/#"},
      {"/#", true, "", "/#"},
      {"a/+/c", true, "", "a/+/c"},
      {"$SYS/#", true, "", "$SYS/#"},
      {"$share/g/a/+", true, "g", "a/+"},
      {"$share/g/#", true, "g", "#"},
      {"$share/group-1/$SYS/x", true, "group-1", "$SYS/x"},
      {"$share/g//", true, "g", "/"},
      {"$share/g/a//b", true, "g", "a//b"},
      {"$sharex/a", true, "", "$sharex/a"},
      {"$SHARE/g/a", true, "", "$SHARE/g/a"},
      {"$share", true, "", "$share"},
      {"a/$share/g/b", true, "", "a/$share/g/b"},
      {std::string(65535, 'a'), true, "", std::string(65535, 'a')},
      {"", false, "", ""},
      {"a#", false, "", ""},
      {"#a", false, "", ""},
      {"a/#/b", false, "", ""},
      {"#/", false, "", ""},
      {"#/#", false, "", ""},
      {"+a", false, "", ""},
      {"a+", false, "", ""},
      {"a/b+/c", false, "", ""},
      {"++", false, "", ""},
      {"+#", false, "", ""},
      {"$share/", false, "", ""},
      {"$share//a", false, "", ""},
      {"$share/g", false, "", ""},
      {"$share/g/", false, "", ""},
      {"$share/g+/a", false, "", ""},
      {"$share/+/a", false, "", ""},
      {"$share/#/a", false, "", ""},
      {"$share/g#/a", false, "", ""},
      {"$share/g/a#", false, "", ""},
      {"$share/g/a/#/b", false, "", ""},
      {std::string(65536, 'a'), false, "", ""},
      {"$share/g/" + std::string(65530, 'a'), false, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 40));
    std::string error;
    const std::optional<TopicFilter> f = ParseTopicFilter(c.text, &error);
    ASSERT_EQ(f.has_value(), c.valid) << error;
    if (f) {
      EXPECT_TRUE(error.empty());
      EXPECT_EQ(f->share_group, c.group);
      EXPECT_EQ(f->filter, c.filter);
    } else {
      EXPECT_FALSE(error.empty());
      EXPECT_NE(error.find("topic filter"), std::string::npos) << error;
    }
  }
}

TEST(TopicTest, TopicMatches) {
  const struct {
    const char* filter;
    const char* topic;
    bool match;
  } cases[] = {
      {"a", "a", true},
      {"a", "b", false},
      {"a", "a/b", false},
      {"a/b", "a", false},
      {"a/b", "a/b", true},
      {"a/b", "a/bc", false},
      {"a/b", "ab/b", false},
      {"#", "a", true},
      {"#", "a/b/c", true},
      {"#", "/", true},
      {"#", "/a", true},
      {"a/#", "a", true},  // the parent level too
      {"a/#", "a/", true},
      {"a/#", "a/b", true},
      {"a/#", "a/b/c", true},
      {"a/#", "b", false},
      {"a/#", "ab", false},
      {"a/b/#", "a", false},
      {"a/b/#", "a/b", true},
      {"/#", "/", true},
      {"/#", "/a", true},
      {"/#", "a", false},
      {"+", "a", true},
      {"+", "a/b", false},
      {"+", "/", false},
      {"+", "a/", false},
      {"+/+", "/x", true},
      {"+/+", "x/", true},
      {"+/+", "/", true},
      {"+/+", "a/b", true},
      {"+/+", "a", false},
      {"+/+", "a/b/c", false},
      {"/+", "/x", true},
      {"/+", "x", false},
      {"a/+", "a/b", true},
      {"a/+", "a/", true},
      {"a/+", "a", false},
      {"a/+", "a/b/c", false},
      {"a/+/c", "a/b/c", true},
      {"a/+/c", "a//c", true},
      {"a/+/c", "a/b/d", false},
      {"+/#", "a", true},
      {"+/#", "a/b", true},
      {"+/#", "/", true},
      {"+/+/#", "a", false},
      {"+/+/#", "a/b", true},
      {"a//b", "a//b", true},
      {"a//b", "a/b", false},
      {"a/+/b", "a//b", true},
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      // Topics starting with '$' are not matched by filters starting with a wildcard.
      {"#", "$SYS/x", false},
      {"#", "$SYS", false},
      {"+", "$SYS", false},
      {"+/x", "$SYS/x", false},
      {"+/#", "$SYS/x", false},
      {"$SYS/#", "$SYS/x", true},
      {"$SYS/#", "$SYS", true},
      {"$SYS/+", "$SYS/x", true},
      {"$SYS/x", "$SYS/x", true},
      {"+/$SYS", "a/$SYS", true},
      {"#", "a/$SYS", true},
      {"$+", "$x", false},  // not a valid filter, but no surprise either
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TopicMatches(c.filter, c.topic), c.match) << c.filter << " vs " << c.topic;
  }
}

// ---- TopicTree -------------------------------------------------------------------------------

TopicFilter F(std::string_view text) {
  std::string error;
  std::optional<TopicFilter> f = ParseTopicFilter(text, &error);
  EXPECT_TRUE(f.has_value()) << error;
  return f.value_or(TopicFilter{});
}

Subscriber Sub(const void* session, uint8_t qos = 0, uint32_t id = 0) {
  Subscriber s;
  s.session = session;
  s.options.max_qos = qos;
  s.subscription_id = id;
  return s;
}

Subscriber Shared(const void* session, std::string group) {
  Subscriber s = Sub(session);
  s.share_group = std::move(group);
  return s;
}

struct Matched {
  std::vector<Subscriber> single;
  std::vector<std::vector<Subscriber>> groups;
};

Matched MatchAll(const TopicTree& tree, std::string_view topic) {
  Matched m;
  tree.Match(
      topic, [&m](const Subscriber& s) { m.single.push_back(s); },
      [&m](const std::vector<Subscriber>& g) { m.groups.push_back(g); });
  return m;
}

std::multiset<const void*> Sessions(const std::vector<Subscriber>& subs) {
  std::multiset<const void*> out;
  for (const Subscriber& s : subs) out.insert(s.session);
  return out;
}

TEST(TopicTreeTest, AddReplaceRemovePrune) {
  TopicTree tree;
  int a = 0;
  int b = 0;
  EXPECT_EQ(tree.size(), 0);
  EXPECT_TRUE(tree.Add(F("x/y/z"), Sub(&a, 0, 1)));
  EXPECT_TRUE(tree.Add(F("x/y/z"), Sub(&b)));
  EXPECT_TRUE(tree.Add(F("x/+/z"), Sub(&a)));
  EXPECT_TRUE(tree.Add(F("x/#"), Sub(&a)));
  EXPECT_EQ(tree.size(), 4);
  // Subscribing again replaces the options.
  EXPECT_FALSE(tree.Add(F("x/y/z"), Sub(&a, 2, 7)));
  EXPECT_EQ(tree.size(), 4);
  Matched m = MatchAll(tree, "x/y/z");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&a, &a, &a, &b}));
  EXPECT_TRUE(m.groups.empty());
  int replaced = 0;
  for (const Subscriber& s : m.single) {
    if (s.subscription_id == 7) {
      EXPECT_EQ(s.options.max_qos, 2);
      ++replaced;
    }
    EXPECT_NE(s.subscription_id, 1u);
  }
  EXPECT_EQ(replaced, 1);

  // Removing what is not there.
  EXPECT_FALSE(tree.Remove(F("x/y"), &a));             // an inner node without subscriptions
  EXPECT_FALSE(tree.Remove(F("x/y/z/w"), &a));         // no such node
  EXPECT_FALSE(tree.Remove(F("x/+/z"), &b));           // another session
  EXPECT_FALSE(tree.Remove(F("$share/g/x/y/z"), &a));  // not shared
  EXPECT_EQ(tree.size(), 4);

  EXPECT_TRUE(tree.Remove(F("x/y/z"), &a));
  EXPECT_FALSE(tree.Remove(F("x/y/z"), &a));
  EXPECT_EQ(tree.size(), 3);
  EXPECT_EQ(Sessions(MatchAll(tree, "x/y/z").single), (std::multiset<const void*>{&a, &a, &b}));
  EXPECT_TRUE(tree.Remove(F("x/y/z"), &b));
  EXPECT_TRUE(tree.Remove(F("x/+/z"), &a));
  EXPECT_EQ(Sessions(MatchAll(tree, "x/y/z").single), (std::multiset<const void*>{&a}));
  EXPECT_TRUE(tree.Remove(F("x/#"), &a));
  EXPECT_EQ(tree.size(), 0);
  EXPECT_TRUE(MatchAll(tree, "x/y/z").single.empty());

  // Pruned nodes come back fresh.
  EXPECT_TRUE(tree.Add(F("x/y/z"), Sub(&a)));
  EXPECT_TRUE(tree.Add(F("x/y"), Sub(&b)));
  EXPECT_TRUE(tree.Remove(F("x/y/z"), &a));
  // x/y still holds b: the path to it must survive the pruning of x/y/z.
  EXPECT_EQ(Sessions(MatchAll(tree, "x/y").single), (std::multiset<const void*>{&b}));
  EXPECT_TRUE(tree.Add(F("x/y/z"), Sub(&a)));
  EXPECT_EQ(Sessions(MatchAll(tree, "x/y/z").single), (std::multiset<const void*>{&a}));
  EXPECT_EQ(tree.size(), 2);
}

TEST(TopicTreeTest, SharedSubscriptionsComeGrouped) {
  TopicTree tree;
  int s1 = 0;
  int s2 = 0;
  int s3 = 0;
  EXPECT_TRUE(tree.Add(F("$share/g1/a/+"), Shared(&s1, "g1")));
  EXPECT_TRUE(tree.Add(F("$share/g1/a/+"), Shared(&s2, "g1")));
  EXPECT_TRUE(tree.Add(F("$share/g2/a/+"), Shared(&s1, "g2")));
  EXPECT_TRUE(tree.Add(F("$share/g1/a/#"), Shared(&s3, "g1")));  // same group, other filter
  EXPECT_TRUE(tree.Add(F("a/+"), Sub(&s1)));                     // and not shared
  EXPECT_FALSE(tree.Add(F("$share/g1/a/+"), Shared(&s2, "g1")));
  EXPECT_EQ(tree.size(), 5);

  Matched m = MatchAll(tree, "a/b");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&s1}));
  ASSERT_EQ(m.groups.size(), 3);
  std::multiset<std::pair<std::string, std::multiset<const void*>>> groups;
  for (const auto& g : m.groups) {
    ASSERT_FALSE(g.empty());
    for (const Subscriber& s : g) EXPECT_EQ(s.share_group, g[0].share_group);
    groups.emplace(g[0].share_group, Sessions(g));
  }
  EXPECT_EQ(groups, (std::multiset<std::pair<std::string, std::multiset<const void*>>>{
                        {"g1", {&s1, &s2}}, {"g1", {&s3}}, {"g2", {&s1}}}));

  EXPECT_EQ(MatchAll(tree, "a").groups.size(), 1);  // a/# only
  EXPECT_TRUE(MatchAll(tree, "b").groups.empty());

  // Removing a member leaves the group; removing the last removes it.
  EXPECT_FALSE(tree.Remove(F("$share/g3/a/+"), &s1));
  EXPECT_FALSE(tree.Remove(F("$share/g2/a/+"), &s2));
  EXPECT_TRUE(tree.Remove(F("$share/g1/a/+"), &s1));
  EXPECT_TRUE(tree.Remove(F("$share/g2/a/+"), &s1));
  m = MatchAll(tree, "a/b");
  ASSERT_EQ(m.groups.size(), 2);
  EXPECT_TRUE(tree.Remove(F("$share/g1/a/+"), &s2));
  EXPECT_TRUE(tree.Remove(F("a/+"), &s1));
  m = MatchAll(tree, "a/b");
  EXPECT_TRUE(m.single.empty());
  ASSERT_EQ(m.groups.size(), 1);
  EXPECT_EQ(Sessions(m.groups[0]), (std::multiset<const void*>{&s3}));
  EXPECT_TRUE(tree.Remove(F("$share/g1/a/#"), &s3));
  EXPECT_EQ(tree.size(), 0);
}

TEST(TopicTreeTest, DollarTopics) {
  TopicTree tree;
  int all = 0;
  int plus = 0;
  int sys = 0;
  int sys_plus = 0;
  int shared = 0;
  tree.Add(F("#"), Sub(&all));
  tree.Add(F("+/x"), Sub(&plus));
  tree.Add(F("$SYS/#"), Sub(&sys));
  tree.Add(F("$SYS/+"), Sub(&sys_plus));
  tree.Add(F("$share/g/#"), Shared(&shared, "g"));
  Matched m = MatchAll(tree, "$SYS/x");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&sys, &sys_plus}));
  EXPECT_TRUE(m.groups.empty());
  m = MatchAll(tree, "$SYS");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&sys}));
  m = MatchAll(tree, "a/x");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&all, &plus}));
  EXPECT_EQ(m.groups.size(), 1);
  m = MatchAll(tree, "a/$SYS");
  EXPECT_EQ(Sessions(m.single), (std::multiset<const void*>{&all}));
}

TEST(TopicTreeTest, EmptyLevels) {
  TopicTree tree;
  int s[6] = {};
  tree.Add(F("/"), Sub(&s[0]));
  tree.Add(F("+/+"), Sub(&s[1]));
  tree.Add(F("/+"), Sub(&s[2]));
  tree.Add(F("+"), Sub(&s[3]));
  tree.Add(F("a//b"), Sub(&s[4]));
  tree.Add(F("a/+/b"), Sub(&s[5]));
  EXPECT_EQ(Sessions(MatchAll(tree, "/").single),
            (std::multiset<const void*>{&s[0], &s[1], &s[2]}));
  EXPECT_EQ(Sessions(MatchAll(tree, "/x").single), (std::multiset<const void*>{&s[1], &s[2]}));
  EXPECT_EQ(Sessions(MatchAll(tree, "x").single), (std::multiset<const void*>{&s[3]}));
  EXPECT_EQ(Sessions(MatchAll(tree, "a//b").single), (std::multiset<const void*>{&s[4], &s[5]}));
}

TEST(TopicTreeTest, DeepTopics) {
  TopicTree tree;
  int s = 0;
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += i == 0 ? "l" : "/l";
  tree.Add(F(deep), Sub(&s));
  tree.Add(F("l/#"), Sub(&s));
  EXPECT_EQ(MatchAll(tree, deep).single.size(), 2);
  EXPECT_TRUE(tree.Remove(F(deep), &s));
  EXPECT_EQ(MatchAll(tree, deep).single.size(), 1);
  EXPECT_EQ(tree.size(), 1);
}

// Random filters and topics over a small alphabet of levels: the tree matches exactly what
// brute force over TopicMatches does, while subscriptions come and go.
TEST(TopicTreeTest, RandomizedAgainstBruteForce) {
  std::mt19937 rng(20240601);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* kLevels[] = {"a", "b", "", "$SYS", "c"};
  auto random_topic = [&] {
    std::string t;
    const int n = 1 + pick(4);
    for (int i = 0; i < n; ++i) {
      if (i > 0) t += '/';
      t += kLevels[pick(i == 0 ? 5 : 3)];  // '$SYS' only first
    }
    return t;
  };
  auto random_filter = [&] {
    std::string f;
    const int n = 1 + pick(4);
    for (int i = 0; i < n; ++i) {
      if (i > 0) f += '/';
      const int k = pick(10);
      if (k < 2) {
        f += '+';
      } else if (k == 2 && i == n - 1) {
        f += '#';
      } else {
        f += kLevels[pick(i == 0 ? 5 : 3)];
      }
    }
    if (pick(5) == 0) f = "$share/" + std::string(pick(2) ? "g1" : "g2") + "/" + f;
    return f;
  };
  int sessions[4] = {};
  // (text, session) -> the subscription, as the tree should hold it.
  std::map<std::pair<std::string, int>, TopicFilter> subscribed;
  TopicTree tree;
  for (int round = 0; round < 3000; ++round) {
    const std::string text = random_filter();
    const int session = pick(4);
    std::string error;
    const std::optional<TopicFilter> f = ParseTopicFilter(text, &error);
    if (!f) {  // only an empty filter (proper) is generated invalid
      EXPECT_TRUE(text.empty() || text.back() == '/') << text << ": " << error;
      continue;
    }
    const auto key = std::make_pair(text, session);
    if (pick(3) == 0) {
      EXPECT_EQ(tree.Remove(*f, &sessions[session]), subscribed.erase(key) == 1) << text;
    } else {
      Subscriber s = Sub(&sessions[session], 0, static_cast<uint32_t>(round + 1));
      s.share_group = f->share_group;
      EXPECT_EQ(tree.Add(*f, s), subscribed.emplace(key, *f).second) << text;
    }
    ASSERT_EQ(tree.size(), subscribed.size());

    for (int q = 0; q < 4; ++q) {
      const std::string topic = random_topic();
      std::multiset<std::tuple<std::string, std::string, const void*>> expected;
      for (const auto& [k, filter] : subscribed) {
        if (TopicMatches(filter.filter, topic)) {
          expected.emplace(filter.filter, filter.share_group, &sessions[k.second]);
        }
      }
      std::multiset<std::pair<std::string, const void*>> want;
      for (const auto& [filter, group, session_ptr] : expected) want.emplace(group, session_ptr);
      std::multiset<std::pair<std::string, const void*>> got;
      size_t groups = 0;
      tree.Match(
          topic, [&](const Subscriber& s) { got.emplace(s.share_group, s.session); },
          [&](const std::vector<Subscriber>& g) {
            ++groups;
            ASSERT_FALSE(g.empty());
            for (const Subscriber& s : g) {
              EXPECT_EQ(s.share_group, g[0].share_group);
              got.emplace(s.share_group, s.session);
            }
          });
      ASSERT_EQ(got, want) << "topic '" << topic << "' after round " << round;
      std::set<std::pair<std::string, std::string>> want_groups;
      for (const auto& [filter, group, session_ptr] : expected) {
        if (!group.empty()) want_groups.emplace(filter, group);
      }
      EXPECT_EQ(groups, want_groups.size()) << topic;
    }
  }
}

TEST(AccessTest, ADeviceIsKeptToItsOwnTopics) {
  const ClientIdentity tenant{TenantId(1), ""};
  const ClientIdentity press{TenantId(1), "press-7"};
  EXPECT_TRUE(MayPublish(tenant, "anything/at/all"));
  EXPECT_TRUE(MaySubscribe(tenant, "#"));
  EXPECT_TRUE(MayPublish(press, "devices/press-7/telemetry"));
  EXPECT_TRUE(MayPublish(press, "devices/press-7/rpc/response/42"));
  for (const char* t : {"devices/press-7", "devices/press-70/telemetry", "devices/press-/x",
                        "devices/press-8/telemetry", "write/main", "devices//press-7/x",
                        "x/devices/press-7/telemetry", "$SYS/broker"}) {
    EXPECT_FALSE(MayPublish(press, t)) << t;
  }
  for (const char* f : {"devices/press-7/rpc/request/+", "devices/press-7/rpc/#",
                        "devices/press-7/twin/desired", "devices/press-7/twin/#"}) {
    EXPECT_TRUE(MaySubscribe(press, f)) << f;
  }
  for (const char* f : {"#", "+/press-7/rpc/#", "devices/+/rpc/#", "devices/press-7/#",
                        "devices/press-7/rpc", "devices/press-7/telemetry", "devices/press-7/+/x",
                        "devices/press-70/rpc/#", "devices/press-7/rpcx/y"}) {
    EXPECT_FALSE(MaySubscribe(press, f)) << f;
  }
}

}  // namespace
}  // namespace seaway::mqtt
