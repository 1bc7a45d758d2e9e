// mqtt_bench (bench/): an MQTT load generator and meter on seaway_mqtt_client, run by
// bench/mqtt.sh against Seaway's embedded broker and Mosquitto 2.0 with the same parameters.
//
// Issue #6 targets (bench/mqtt.sh prints the ratios Seaway/Mosquitto):
//   - QoS 1 fan-in, 1,000 publishers -> storage: Seaway (publish + durable store: line protocol
//     to write/<db>, PUBACK once stored) >= 2x Mosquitto's routing throughput of the same
//     publishes to one subscriber; p99 publish->PUBACK <= 10 ms at half of Seaway's max rate.
//   - Fan-out, 1 publisher -> 1,000 subscribers, QoS 0 and QoS 1: >= 2x Mosquitto's delivered
//     messages/s.
//   - 10,000 idle connections under 150 MB resident (broker VmRSS from /proc/PID/status).
//
// Modes:
//   fanin   N publishers (--publishers), each a device publishing one industrial line-protocol
//           line (its own tags, so N series; the timestamp is the send time in ns) to --topic,
//           keeping up to --window QoS 1 publishes unacknowledged: as fast as the window allows,
//           or --rate messages/s per publisher. --subscribers S subscribe to the topic (QoS
//           --sub-qos) and count deliveries; publish->delivery latency from the line's timestamp.
//   fanout  1 publisher, S subscribers of --topic at --qos 0 or 1. The payload (--payload-bytes)
//           starts with "<seq> <send time ns> "; subscribers count deliveries, gaps (lost) and
//           repeats. The publisher runs at --rate messages/s, or as fast as the window allows:
//           at most --window messages ahead of the slowest subscriber (and, at QoS 1, at most
//           --window unacknowledged), so that neither broker queues without bound or drops.
//   idle    --connections C clients CONNECT (keepalive 300 s) and stay idle for --duration
//           seconds; with --pid, the broker's VmRSS before and after.
//
//   mqtt_bench fanin --port 1883 --publishers 1000 --window 8 --topic write/bench --subscribers 1
//   mqtt_bench fanout --port 1883 --subscribers 1000 --qos 1 --payload-bytes 64
//   mqtt_bench idle --port 1883 --connections 10000 --pid 1234
//
// Counters and latencies cover the --duration seconds after --warmup. The tool measures its own
// CPU (each client loop thread, and the whole process) and, with --pid, the broker's, and says
// "SATURATED" when a loop thread or the process used >= 90% of what it can: the rates then tell
// more about the load tool than about the broker. The last line is a JSON summary for scripts.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include "mqtt/client.h"

namespace seaway::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username = "bench";
  std::string password;
  std::string version = "5";
  int qos = 1;
  int sub_qos = -1;  // fanin: -1 means --qos
  int publishers = 1000;
  int subscribers = -1;  // fanin: 0, fanout: 1000
  int window = -1;       // fanin: 8, fanout: 100
  double rate = 0;       // fanin: per publisher; fanout: total; 0: as fast as the window allows
  uint32_t session_expiry = 0;  // seconds (MQTT 5); 0: sessions end with their connections
  std::string topic;
  int payload_bytes = 64;
  double duration = 10;
  double warmup = 2;
  int threads = 1;
  int connections = 10000;
  int pid = 0;
  int connect_concurrency = 200;
  std::string label;
  std::string timeline;  // fanin: per-10 ms file of publishes sent and their worst PUBACK latency
};

// fanin --timeline: for each 10 ms slot of the run (by the time a publish was sent), how many
// were sent and the worst publish->PUBACK latency among them, to see whether a tail is spread out
// or comes in stalls.
class Timeline {
 public:
  static constexpr int64_t kSlotNs = 10'000'000;
  Timeline(int64_t t0, double seconds)
      : t0_(t0), sent_(static_cast<size_t>(seconds * 1e9 / kSlotNs) + 1), worst_(sent_.size()) {}
  void Record(int64_t sent_at, int64_t latency) {
    const int64_t slot = (sent_at - t0_) / kSlotNs;
    if (slot < 0 || slot >= static_cast<int64_t>(sent_.size())) return;
    sent_[slot].fetch_add(1, std::memory_order_relaxed);
    int64_t m = worst_[slot].load(std::memory_order_relaxed);
    while (latency > m && !worst_[slot].compare_exchange_weak(m, latency)) {
    }
  }
  bool Write(const std::string& path) const {
    std::ofstream out(path);
    out << "ms sent worst_ack_ms\n";
    for (size_t i = 0; i < sent_.size(); ++i) {
      out << i * kSlotNs / 1'000'000 << ' ' << sent_[i].load() << ' ' << worst_[i].load() / 1e6
          << '\n';
    }
    return static_cast<bool>(out);
  }

 private:
  const int64_t t0_;
  std::vector<std::atomic<int64_t>> sent_;
  std::vector<std::atomic<int64_t>> worst_;
};

// Latency histogram in ns: exact below 32, then 32 buckets per power of two (about 3%).
class Histogram {
 public:
  static constexpr int kSub = 32;
  static constexpr int kBuckets = 60 * kSub;

  void Record(int64_t ns) {
    const uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
    counts_[Index(v)].fetch_add(1, std::memory_order_relaxed);
    uint64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }
  void Reset() {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }
  void AddTo(std::vector<uint64_t>* sum, uint64_t* max) const {
    sum->resize(kBuckets);
    for (int i = 0; i < kBuckets; ++i) (*sum)[i] += counts_[i].load(std::memory_order_relaxed);
    *max = std::max(*max, max_.load(std::memory_order_relaxed));
  }
  static int Index(uint64_t v) {
    if (v < kSub) return static_cast<int>(v);
    const int e = 63 - __builtin_clzll(v);  // >= 5
    const int sub = static_cast<int>((v >> (e - 5)) & (kSub - 1));
    return std::min((e - 4) * kSub + sub, kBuckets - 1);
  }
  static double Middle(int index) {
    if (index < kSub) return index;
    const int e = index / kSub + 4;
    const double lower = static_cast<double>(static_cast<uint64_t>(kSub + index % kSub) << (e - 5));
    return lower + static_cast<double>(uint64_t{1} << (e - 5)) / 2;
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_{0};
};

struct Latency {
  uint64_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

Latency Summarize(const std::vector<uint64_t>& counts, uint64_t max_ns) {
  Latency l;
  for (uint64_t c : counts) l.count += c;
  if (l.count == 0) return l;
  const auto at = [&](double q) {
    const uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(l.count)));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= rank && counts[i] > 0) {
        return std::min(Histogram::Middle(static_cast<int>(i)), static_cast<double>(max_ns)) / 1e6;
      }
    }
    return max_ns / 1e6;
  };
  l.p50_ms = at(0.50);
  l.p90_ms = at(0.90);
  l.p99_ms = at(0.99);
  l.max_ms = max_ns / 1e6;
  return l;
}

// Counters and histograms per recording thread (the client loop threads and the driver), so
// that the loop threads do not share cache lines; summed by Snapshot().
struct ThreadStats {
  std::atomic<uint64_t> sent{0}, acked{0}, refused{0}, delivered{0}, lost{0}, repeated{0};
  Histogram ack_latency;
  Histogram delivery_latency;
};

class Stats {
 public:
  ThreadStats& Local() {
    thread_local ThreadStats* mine = nullptr;
    thread_local const Stats* owner = nullptr;
    if (owner != this) {
      std::lock_guard lock(mu_);
      all_.push_back(std::make_unique<ThreadStats>());
      mine = all_.back().get();
      owner = this;
    }
    return *mine;
  }
  struct Totals {
    uint64_t sent = 0, acked = 0, refused = 0, delivered = 0, lost = 0, repeated = 0;
  };
  Totals Sum() {
    std::lock_guard lock(mu_);
    Totals t;
    for (auto& s : all_) {
      t.sent += s->sent.load(std::memory_order_relaxed);
      t.acked += s->acked.load(std::memory_order_relaxed);
      t.refused += s->refused.load(std::memory_order_relaxed);
      t.delivered += s->delivered.load(std::memory_order_relaxed);
      t.lost += s->lost.load(std::memory_order_relaxed);
      t.repeated += s->repeated.load(std::memory_order_relaxed);
    }
    return t;
  }
  void ResetLatencies() {
    std::lock_guard lock(mu_);
    for (auto& s : all_) {
      s->ack_latency.Reset();
      s->delivery_latency.Reset();
    }
  }
  Latency AckLatency() { return Merge(&ThreadStats::ack_latency); }
  Latency DeliveryLatency() { return Merge(&ThreadStats::delivery_latency); }

 private:
  Latency Merge(Histogram ThreadStats::*h) {
    std::lock_guard lock(mu_);
    std::vector<uint64_t> counts(Histogram::kBuckets);
    uint64_t max = 0;
    for (auto& s : all_) ((*s).*h).AddTo(&counts, &max);
    return Summarize(counts, max);
  }
  std::mutex mu_;
  std::vector<std::unique_ptr<ThreadStats>> all_;
};

// ---- CPU and memory from /proc ----------------------------------------------------------------

double TicksToSeconds(uint64_t ticks) {
  static const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<double>(ticks) / hz;
}

// utime + stime in seconds from a /proc/.../stat file; -1 when unreadable.
double ProcStatCpu(const std::string& path, std::string* comm = nullptr) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return -1;
  if (comm) *comm = line.substr(open + 1, close - open - 1);
  // Fields after the comm: state(3) ... utime(14) stime(15).
  std::string_view rest(line);
  rest.remove_prefix(close + 2);
  uint64_t utime = 0, stime = 0;
  for (int field = 3; field <= 15 && !rest.empty(); ++field) {
    const size_t space = rest.find(' ');
    const std::string_view value = rest.substr(0, space);
    if (field == 14) std::from_chars(value.data(), value.data() + value.size(), utime);
    if (field == 15) std::from_chars(value.data(), value.data() + value.size(), stime);
    rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  }
  return TicksToSeconds(utime + stime);
}

// VmRSS of a process in bytes; -1 when unreadable.
int64_t RssBytes(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

double ProcessCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

// CPU seconds of each client loop thread (named sw-mqttc-N by ClientLoop).
std::vector<double> LoopThreadsCpu() {
  std::vector<double> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::string comm;
    const double cpu = ProcStatCpu(e.path().string() + "/stat", &comm);
    if (cpu >= 0 && comm.rfind("sw-mqttc-", 0) == 0) out.push_back(cpu);
  }
  return out;
}

// Busy CPU seconds of the whole machine (every core), from the first line of /proc/stat.
double SystemBusyCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};
  in >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return TicksToSeconds(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

struct CpuSample {
  double wall = 0, process = 0, broker = -1, system = 0;
  std::vector<double> loops;
};

CpuSample SampleCpu(int pid) {
  CpuSample s;
  s.wall = SteadyNs() / 1e9;
  s.process = ProcessCpu();
  s.system = SystemBusyCpu();
  s.loops = LoopThreadsCpu();
  std::sort(s.loops.begin(), s.loops.end());
  if (pid > 0) s.broker = ProcStatCpu(fmt::format("/proc/{}/stat", pid));
  return s;
}

struct CpuUse {
  double process = 0;   // cores
  double max_loop = 0;  // busiest loop thread, cores
  double broker = -1;   // cores; -1 without --pid
  double others = 0;    // cores busy with other processes (the machine is shared)
  bool saturated = false;
};

CpuUse CpuBetween(const CpuSample& a, const CpuSample& b, int threads) {
  CpuUse u;
  const double wall = std::max(1e-9, b.wall - a.wall);
  u.process = (b.process - a.process) / wall;
  // Threads are matched by rank of CPU time; good enough to find the busiest.
  for (size_t i = 0; i < b.loops.size() && i < a.loops.size(); ++i) {
    u.max_loop = std::max(u.max_loop, (b.loops[i] - a.loops[i]) / wall);
  }
  if (a.broker >= 0 && b.broker >= 0) u.broker = (b.broker - a.broker) / wall;
  u.others = std::max(0.0, (b.system - a.system) / wall - u.process - std::max(0.0, u.broker));
  const double cores = static_cast<double>(std::thread::hardware_concurrency());
  u.saturated = u.max_loop >= 0.9 || u.process >= 0.9 * std::min<double>(threads + 1, cores);
  return u;
}

// ---- clients ----------------------------------------------------------------------------------

mqtt::ClientOptions BaseOptions(const Options& o, std::string client_id, uint16_t keep_alive) {
  mqtt::ClientOptions c;
  c.address = HostPort{o.host, static_cast<uint16_t>(o.port)};
  c.version = o.version == "3.1.1" || o.version == "3" || o.version == "4" ? mqtt::Version::kV311
                                                                           : mqtt::Version::kV5;
  c.client_id = std::move(client_id);
  if (!o.username.empty()) c.username = o.username;
  if (!o.password.empty()) c.password = o.password;
  c.keep_alive = keep_alive;
  c.session_expiry = o.session_expiry;
  return c;
}

// Connects `n` clients, at most `concurrency` CONNECTs pending at once; returns the clients
// (null where connecting failed) after every attempt ended or `timeout_s` passed.
struct ConnectResult {
  std::vector<std::shared_ptr<mqtt::Client>> clients;
  int connected = 0;
  int failed = 0;
  std::string first_error;
  double seconds = 0;
};

class Connector {
 public:
  // `setup` installs handlers (OnMessage, OnClosed) before Connect.
  static ConnectResult Run(mqtt::ClientLoop* loop, const Options& o, int n,
                           const std::function<mqtt::ClientOptions(int)>& options_of,
                           const std::function<void(int, mqtt::Client*)>& setup,
                           double timeout_s = 60) {
    // Shared with the callbacks, which may outlive this call after a timeout.
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      int pending = 0, done = 0, connected = 0, failed = 0;
      std::vector<bool> ok;
      std::string first_error;
    };
    auto st = std::make_shared<State>();
    st->ok.resize(n);
    ConnectResult r;
    r.clients.resize(n);
    const auto start = SteadyClock::now();
    const auto deadline = start + std::chrono::duration<double>(timeout_s);
    for (int i = 0; i < n; ++i) {
      {
        std::unique_lock lock(st->mu);
        st->cv.wait_until(lock, deadline, [&] { return st->pending < o.connect_concurrency; });
        ++st->pending;
      }
      auto c = mqtt::Client::Create(loop, options_of(i));
      setup(i, c.get());
      r.clients[i] = c;
      c->Connect([st, i](Status s, const mqtt::Connack&) {
        std::lock_guard lock(st->mu);
        --st->pending;
        ++st->done;
        if (s.ok()) {
          ++st->connected;
          st->ok[i] = true;
        } else {
          ++st->failed;
          if (st->first_error.empty()) st->first_error = s.ToString();
        }
        st->cv.notify_all();
      });
    }
    std::unique_lock lock(st->mu);
    st->cv.wait_until(lock, deadline, [&] { return st->done == n; });
    r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    r.connected = st->connected;
    r.failed = n - st->connected;
    r.first_error = st->first_error;
    if (st->done < n && r.first_error.empty()) {
      r.first_error = fmt::format("{} CONNACKs missing after {:.0f} s", n - st->done, timeout_s);
    }
    for (int i = 0; i < n; ++i) {
      if (!st->ok[i]) r.clients[i] = nullptr;
    }
    return r;
  }
};

// Subscribes every client to `topic`; true when every SUBACK granted it.
bool SubscribeAll(const std::vector<std::shared_ptr<mqtt::Client>>& clients,
                  const std::string& topic, int qos, std::string* error) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0, expected = 0;
  for (const auto& c : clients) {
    if (!c) continue;
    ++expected;
    c->Subscribe({{topic, {.max_qos = static_cast<uint8_t>(qos)}}}, [&](const mqtt::Suback& ack) {
      std::lock_guard lock(mu);
      ++done;
      if (ack.reasons.empty() || mqtt::IsError(ack.reasons[0])) ++failed;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == expected; });
  if (done < expected || failed > 0) {
    *error = fmt::format("{} of {} SUBACKs missing, {} refused", expected - done, expected, failed);
    return false;
  }
  return true;
}

// Counts connections that end while the benchmark runs, and keeps the first reasons.
struct Disconnects {
  std::atomic<uint64_t> count{0};
  std::atomic<bool> expected{false};  // set when the tool disconnects on purpose
  std::mutex mu;
  std::vector<std::string> reasons;

  void Install(mqtt::Client* c, std::string who) {
    c->OnClosed([this, who = std::move(who)](const Status& s) {
      if (expected.load()) return;
      count.fetch_add(1);
      std::lock_guard lock(mu);
      if (reasons.size() < 5) reasons.push_back(fmt::format("{}: {}", who, s.ToString()));
    });
  }
  void Print() {
    if (count.load() == 0) return;
    fmt::print("UNEXPECTED DISCONNECTS: {}\n", count.load());
    std::lock_guard lock(mu);
    for (const auto& r : reasons) fmt::print("  {}\n", r);
  }
};

void SleepSeconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

void WaitDrained(const std::function<bool()>& drained, double timeout_s) {
  const auto end = SteadyClock::now() + std::chrono::duration<double>(timeout_s);
  while (!drained() && SteadyClock::now() < end) SleepSeconds(0.01);
}

// Splits the run into warmup and measurement; calls `tick` about every millisecond from the
// calling thread (the driver) until the end.
struct Window {
  Stats::Totals start, end;
  CpuUse cpu;
  double seconds = 0;
};

Window Measure(const Options& o, Stats* stats, const std::function<void()>& tick) {
  Window w;
  const auto t0 = SteadyClock::now();
  const auto measure_at = t0 + std::chrono::duration<double>(o.warmup);
  const auto end_at = measure_at + std::chrono::duration<double>(o.duration);
  bool measuring = false;
  CpuSample cpu_start;
  SteadyClock::time_point measure_start;
  for (;;) {
    const auto now = SteadyClock::now();
    if (!measuring && now >= measure_at) {
      measuring = true;
      stats->ResetLatencies();
      w.start = stats->Sum();
      cpu_start = SampleCpu(o.pid);
      measure_start = now;
    }
    if (now >= end_at) break;
    if (tick) {
      tick();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  w.end = stats->Sum();
  w.seconds = std::chrono::duration<double>(SteadyClock::now() - measure_start).count();
  w.cpu = CpuBetween(cpu_start, SampleCpu(o.pid), o.threads);
  return w;
}

void PrintCommon(const Options& o, const Window& w, const Latency& ack, const Latency& del,
                 fmt::memory_buffer* json) {
  const double s = w.seconds;
  const auto rate = [&](uint64_t a, uint64_t b) { return static_cast<double>(b - a) / s; };
  const double sent = rate(w.start.sent, w.end.sent);
  const double acked = rate(w.start.acked, w.end.acked);
  const double delivered = rate(w.start.delivered, w.end.delivered);
  fmt::print("measured {:.2f} s after {:.1f} s warmup\n", s, o.warmup);
  fmt::print("sent:         {:>12.0f} msg/s  ({} messages)\n", sent, w.end.sent - w.start.sent);
  if (o.qos > 0) {
    fmt::print("acknowledged: {:>12.0f} msg/s  ({} PUBACKs, {} refused)\n", acked,
               w.end.acked - w.start.acked, w.end.refused - w.start.refused);
  }
  fmt::print("delivered:    {:>12.0f} msg/s  ({} deliveries; lost {} repeated {})\n", delivered,
             w.end.delivered - w.start.delivered, w.end.lost - w.start.lost,
             w.end.repeated - w.start.repeated);
  const auto print_latency = [](const char* what, const Latency& l) {
    if (l.count == 0) return;
    fmt::print("{}: p50 {:.3f} ms  p90 {:.3f} ms  p99 {:.3f} ms  max {:.3f} ms  ({} samples)\n",
               what, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.count);
  };
  print_latency("publish->PUBACK   ", ack);
  print_latency("publish->delivery ", del);
  fmt::print("cpu: load tool {:.0f}% of a core (busiest loop thread {:.0f}%, {} loop thread{})",
             100 * w.cpu.process, 100 * w.cpu.max_loop, o.threads, o.threads == 1 ? "" : "s");
  if (w.cpu.broker >= 0) fmt::print(", broker {:.0f}%", 100 * w.cpu.broker);
  fmt::print(", other processes {:.0f}% (of {} cores)\n", 100 * w.cpu.others,
             std::thread::hardware_concurrency());
  if (w.cpu.saturated) {
    fmt::print(
        "SATURATED: the load tool used >= 90% of its loop thread(s) or cores; the rates are a "
        "lower bound of the broker's\n");
  }
  fmt::format_to(std::back_inserter(*json),
                 R"("seconds":{:.3f},"sent_per_s":{:.1f},"acked_per_s":{:.1f},)"
                 R"("delivered_per_s":{:.1f},"refused":{},"lost":{},"repeated":{},)",
                 s, sent, acked, delivered, w.end.refused - w.start.refused,
                 w.end.lost - w.start.lost, w.end.repeated - w.start.repeated);
  fmt::format_to(
      std::back_inserter(*json),
      R"("ack_p50_ms":{:.3f},"ack_p90_ms":{:.3f},"ack_p99_ms":{:.3f},"ack_max_ms":{:.3f},)"
      R"("del_p50_ms":{:.3f},"del_p90_ms":{:.3f},"del_p99_ms":{:.3f},"del_max_ms":{:.3f},)"
      R"("tool_cpu":{:.3f},"tool_max_loop_cpu":{:.3f},"broker_cpu":{:.3f},)"
      R"("others_cpu":{:.3f},"tool_saturated":{})",
      ack.p50_ms, ack.p90_ms, ack.p99_ms, ack.max_ms, del.p50_ms, del.p90_ms, del.p99_ms,
      del.max_ms, w.cpu.process, w.cpu.max_loop, w.cpu.broker, w.cpu.others,
      w.cpu.saturated ? "true" : "false");
}

// ---- fan-in ----------------------------------------------------------------------------------

constexpr std::array<const char*, 4> kModels = {"press-200", "lathe-x5", "mill-m3", "robot-r7"};

struct Publisher {
  std::shared_ptr<mqtt::Client> client;
  std::string prefix;  // measurement and tags, up to the space before the fields
  std::mutex mu;       // the fields below: the driver and the client's callbacks both publish
  uint64_t seq = 0;
  int64_t last_ts = 0;
  uint64_t rng = 0;
  std::atomic<int> in_flight{0};
  uint64_t scheduled = 0;  // paced mode: messages due so far (driver only)
};

// One reading of the industrial profile; the timestamp (send time, ns) ends the line.
std::string FaninPayload(Publisher* p, int64_t* ts_out) {
  std::lock_guard lock(p->mu);
  p->rng = p->rng * 6364136223846793005ULL + 1442695040888963407ULL;
  const uint32_t r = static_cast<uint32_t>(p->rng >> 33);
  const int64_t ts = std::max(WallNs(), p->last_ts + 1);
  p->last_ts = ts;
  const uint64_t seq = ++p->seq;
  const bool idle = r % 50 == 0;
  std::string s;
  s.reserve(p->prefix.size() + 140);
  s += p->prefix;
  fmt::format_to(std::back_inserter(s),
                 "temperature={}.{:02},vibration=1.{:03},pressure=5.{:03},rpm={},power={}.{:02},"
                 "status=\"{}\",parts={}i {}",
                 50 + r % 30, r % 100, r % 1000, (r >> 10) % 1000, idle ? 0 : 1450 + r % 100,
                 idle ? 0 : 9 + r % 5, (r >> 4) % 100, idle ? "idle" : "run", seq, ts);
  *ts_out = ts;
  return s;
}

int64_t TrailingTimestamp(std::string_view payload) {
  const size_t space = payload.rfind(' ');
  if (space == std::string_view::npos) return 0;
  int64_t ts = 0;
  std::from_chars(payload.data() + space + 1, payload.data() + payload.size(), ts);
  return ts;
}

int RunFanin(const Options& o) {
  mqtt::ClientLoop loop(o.threads);
  Stats stats;
  Disconnects disconnects;
  std::atomic<bool> running{false};
  const bool paced = o.rate > 0;
  const int subscribers = std::max(0, o.subscribers);
  if (o.qos == 0 && !paced) {
    fmt::print(stderr, "mqtt_bench: fanin at QoS 0 needs --rate (no PUBACK to pace on)\n");
    return 2;
  }

  // Subscribers first, so that the first publishes are routed.
  ConnectResult subs;
  if (subscribers > 0) {
    subs = Connector::Run(
        &loop, o, subscribers,
        [&](int i) { return BaseOptions(o, fmt::format("bench-sub-{}", i), 60); },
        [&](int i, mqtt::Client* c) {
          disconnects.Install(c, fmt::format("subscriber {}", i));
          c->OnMessage([&stats](const mqtt::Publish& p) {
            ThreadStats& t = stats.Local();
            t.delivered.fetch_add(1, std::memory_order_relaxed);
            const int64_t ts = TrailingTimestamp(p.payload);
            if (ts > 0) t.delivery_latency.Record(WallNs() - ts);
          });
        });
    if (subs.failed > 0) {
      fmt::print(stderr, "mqtt_bench: {} subscribers failed to connect: {}\n", subs.failed,
                 subs.first_error);
      return 1;
    }
    std::string error;
    if (!SubscribeAll(subs.clients, o.topic, o.sub_qos, &error)) {
      fmt::print(stderr, "mqtt_bench: subscribe: {}\n", error);
      return 1;
    }
  }

  std::vector<std::unique_ptr<Publisher>> pubs(o.publishers);
  for (int i = 0; i < o.publishers; ++i) {
    auto p = std::make_unique<Publisher>();
    p->prefix = fmt::format("machine,site={},line=line-{},machine_id=m{:05},model={} ",
                            i % 2 == 0 ? "north" : "south", i % 8 + 1, i + 1, kModels[i % 4]);
    p->rng = 0x9E3779B97F4A7C15ULL * (i + 1);
    pubs[i] = std::move(p);
  }
  ConnectResult conn = Connector::Run(
      &loop, o, o.publishers,
      [&](int i) { return BaseOptions(o, fmt::format("bench-pub-{}", i), 60); },
      [&](int i, mqtt::Client* c) { disconnects.Install(c, fmt::format("publisher {}", i)); });
  fmt::print("connected {} publishers in {:.2f} s, {} subscribers\n", conn.connected, conn.seconds,
             subscribers);
  if (conn.failed > 0) {
    fmt::print(stderr, "mqtt_bench: {} publishers failed to connect: {}\n", conn.failed,
               conn.first_error);
    return 1;
  }
  for (int i = 0; i < o.publishers; ++i) pubs[i]->client = conn.clients[i];

  std::unique_ptr<Timeline> timeline;
  if (!o.timeline.empty()) {
    timeline = std::make_unique<Timeline>(SteadyNs(), o.warmup + o.duration + 10);
  }

  // Sends one publish; in unpaced mode its acknowledgement sends the next.
  std::function<void(Publisher*)> send = [&](Publisher* p) {
    int64_t ts = 0;
    mqtt::Publish msg;
    msg.topic = o.topic;
    msg.qos = static_cast<uint8_t>(o.qos);
    msg.payload = FaninPayload(p, &ts);
    p->in_flight.fetch_add(1, std::memory_order_relaxed);
    ThreadStats& t = stats.Local();
    t.sent.fetch_add(1, std::memory_order_relaxed);
    if (o.qos == 0) {
      p->client->Publish(std::move(msg), nullptr);
      p->in_flight.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    const int64_t start = SteadyNs();
    p->client->Publish(std::move(msg), [&, p, start](mqtt::ReasonCode rc) {
      ThreadStats& t = stats.Local();
      p->in_flight.fetch_sub(1, std::memory_order_relaxed);
      if (mqtt::IsError(rc)) {
        t.refused.fetch_add(1, std::memory_order_relaxed);
      } else {
        t.acked.fetch_add(1, std::memory_order_relaxed);
        const int64_t latency = SteadyNs() - start;
        t.ack_latency.Record(latency);
        if (timeline) timeline->Record(start, latency);
      }
      if (!paced && running.load(std::memory_order_relaxed) &&
          rc != mqtt::ReasonCode::kUnspecifiedError) {
        send(p);
      }
    });
  };

  running = true;
  const int64_t t0 = SteadyNs();
  uint64_t backlog = 0;
  std::function<void()> tick;
  if (paced) {
    // Publisher i runs at a phase of (i + 0.5) / N of a period, so that the load is smooth
    // rather than N publishes at the same instant.
    tick = [&] {
      const double periods = (SteadyNs() - t0) / 1e9 * o.rate;
      uint64_t behind = 0;
      for (size_t i = 0; i < pubs.size(); ++i) {
        Publisher& p = *pubs[i];
        const uint64_t due = static_cast<uint64_t>(periods + (i + 0.5) / pubs.size());
        while (p.scheduled < due && p.in_flight.load(std::memory_order_relaxed) < o.window) {
          ++p.scheduled;
          send(&p);
        }
        behind += due - std::min(due, p.scheduled);
      }
      backlog = behind;
    };
  } else {
    for (auto& p : pubs) {
      for (int k = 0; k < o.window; ++k) send(p.get());
    }
  }
  Window w = Measure(o, &stats, tick);
  running = false;
  const Latency ack = stats.AckLatency();
  const Latency del = stats.DeliveryLatency();
  WaitDrained(
      [&] {
        for (auto& p : pubs) {
          if (p->in_flight.load() > 0) return false;
        }
        return true;
      },
      5);
  // Every acknowledged publish should reach every subscriber: wait for the tail, then count.
  const uint64_t sent_total = stats.Sum().sent;
  const uint64_t expected = sent_total * static_cast<uint64_t>(subscribers);
  WaitDrained([&] { return stats.Sum().delivered >= expected; }, subscribers > 0 ? 5 : 0);
  const uint64_t delivered_total = stats.Sum().delivered;
  const uint64_t missing = expected - std::min(expected, delivered_total);

  fmt::print(
      "== fanin {}: {} publishers, window {}, {}, QoS {}, topic {}, {} subscriber(s) at "
      "QoS {}\n",
      o.label, o.publishers, o.window,
      paced ? fmt::format("{} msg/s each ({} msg/s total)", o.rate, o.rate * o.publishers)
            : std::string("unpaced"),
      o.qos, o.topic, subscribers, o.sub_qos);
  fmt::memory_buffer json;
  fmt::format_to(std::back_inserter(json),
                 R"({{"mode":"fanin","label":"{}","publishers":{},"window":{},"rate":{},"qos":{},)"
                 R"("subscribers":{},"backlog":{},)",
                 o.label, o.publishers, o.window, o.rate, o.qos, subscribers, backlog);
  PrintCommon(o, w, ack, del, &json);
  if (timeline && !timeline->Write(o.timeline)) {
    fmt::print(stderr, "mqtt_bench: cannot write the timeline to {}\n", o.timeline);
  }
  if (paced) {
    fmt::print("paced: {} messages behind schedule at the end (window full){}\n", backlog,
               backlog > 0 ? ": the target rate was NOT met" : "");
  }
  if (subscribers > 0) {
    fmt::print("subscribers: {} of {} deliveries ({} publishes x {}) arrived{}\n", delivered_total,
               expected, sent_total, subscribers,
               missing > 0 ? fmt::format("; {} MISSING 5 s after the last publish", missing) : "");
  }
  disconnects.Print();
  fmt::format_to(std::back_inserter(json), R"(,"missing":{},"disconnects":{}}})", missing,
                 disconnects.count.load());
  disconnects.expected = true;
  for (auto& p : pubs) p->client->Disconnect();
  for (auto& c : subs.clients) {
    if (c) c->Disconnect();
  }
  SleepSeconds(0.3);
  loop.Stop();
  fmt::print("JSON {}\n", fmt::to_string(json));
  return 0;
}

// ---- fan-out ---------------------------------------------------------------------------------

struct Subscriber {
  std::atomic<int64_t> last_seq{0};
  std::atomic<bool> alive{true};
};

int RunFanout(const Options& o) {
  mqtt::ClientLoop loop(o.threads);
  Stats stats;
  Disconnects disconnects;
  const int n = o.subscribers;
  std::vector<Subscriber> subs(n);

  ConnectResult sc = Connector::Run(
      &loop, o, n, [&](int i) { return BaseOptions(o, fmt::format("bench-sub-{}", i), 60); },
      [&](int i, mqtt::Client* c) {
        Subscriber* s = &subs[i];
        c->OnClosed([&disconnects, s, i](const Status& st) {
          s->alive = false;
          if (disconnects.expected.load()) return;
          disconnects.count.fetch_add(1);
          std::lock_guard lock(disconnects.mu);
          if (disconnects.reasons.size() < 5) {
            disconnects.reasons.push_back(fmt::format("subscriber {}: {}", i, st.ToString()));
          }
        });
        c->OnMessage([&stats, s](const mqtt::Publish& p) {
          ThreadStats& t = stats.Local();
          t.delivered.fetch_add(1, std::memory_order_relaxed);
          const char* b = p.payload.data();
          const char* e = b + p.payload.size();
          int64_t seq = 0, ts = 0;
          auto r = std::from_chars(b, e, seq);
          if (r.ptr < e) std::from_chars(r.ptr + 1, e, ts);
          if (ts > 0) t.delivery_latency.Record(WallNs() - ts);
          const int64_t last = s->last_seq.load(std::memory_order_relaxed);
          if (seq <= last) {
            t.repeated.fetch_add(1, std::memory_order_relaxed);
          } else {
            if (seq > last + 1) t.lost.fetch_add(seq - last - 1, std::memory_order_relaxed);
            s->last_seq.store(seq, std::memory_order_relaxed);
          }
        });
      });
  if (sc.failed > 0) {
    fmt::print(stderr, "mqtt_bench: {} subscribers failed to connect: {}\n", sc.failed,
               sc.first_error);
    return 1;
  }
  std::string error;
  if (!SubscribeAll(sc.clients, o.topic, o.qos, &error)) {
    fmt::print(stderr, "mqtt_bench: subscribe: {}\n", error);
    return 1;
  }
  ConnectResult pc = Connector::Run(
      &loop, o, 1, [&](int) { return BaseOptions(o, "bench-fanout-pub", 60); },
      [&](int, mqtt::Client* c) { disconnects.Install(c, "publisher"); });
  if (pc.failed > 0) {
    fmt::print(stderr, "mqtt_bench: the publisher failed to connect: {}\n", pc.first_error);
    return 1;
  }
  fmt::print("connected {} subscribers in {:.2f} s and the publisher\n", sc.connected, sc.seconds);
  std::shared_ptr<mqtt::Client> pub = pc.clients[0];

  std::atomic<int> in_flight{0};
  int64_t seq = 0;
  const int64_t t0 = SteadyNs();
  const std::string padding(std::max(0, o.payload_bytes), 'x');
  uint64_t subscriber_waits = 0;
  auto tick = [&] {
    int64_t slowest = INT64_MAX;
    for (auto& s : subs) {
      if (s.alive.load(std::memory_order_relaxed)) {
        slowest = std::min(slowest, s.last_seq.load(std::memory_order_relaxed));
      }
    }
    if (slowest == INT64_MAX) slowest = seq;
    int64_t limit = slowest + o.window;
    if (o.rate > 0) limit = std::min(limit, static_cast<int64_t>((SteadyNs() - t0) / 1e9 * o.rate));
    if (seq >= limit) ++subscriber_waits;
    while (seq < limit && (o.qos == 0 || in_flight.load(std::memory_order_relaxed) < o.window)) {
      ++seq;
      mqtt::Publish msg;
      msg.topic = o.topic;
      msg.qos = static_cast<uint8_t>(o.qos);
      msg.payload = fmt::format("{} {} ", seq, WallNs());
      if (msg.payload.size() < padding.size()) {
        msg.payload.append(padding, 0, padding.size() - msg.payload.size());
      }
      stats.Local().sent.fetch_add(1, std::memory_order_relaxed);
      if (o.qos == 0) {
        pub->Publish(std::move(msg), nullptr);
        continue;
      }
      in_flight.fetch_add(1, std::memory_order_relaxed);
      const int64_t start = SteadyNs();
      pub->Publish(std::move(msg), [&, start](mqtt::ReasonCode rc) {
        ThreadStats& t = stats.Local();
        in_flight.fetch_sub(1, std::memory_order_relaxed);
        if (mqtt::IsError(rc)) {
          t.refused.fetch_add(1, std::memory_order_relaxed);
        } else {
          t.acked.fetch_add(1, std::memory_order_relaxed);
          t.ack_latency.Record(SteadyNs() - start);
        }
      });
    }
  };
  Window w = Measure(o, &stats, tick);
  const Latency ack = stats.AckLatency();
  const Latency del = stats.DeliveryLatency();
  // Let the deliveries in flight arrive, then check for losses at the tail as well.
  WaitDrained(
      [&] {
        for (auto& s : subs) {
          if (s.alive && s.last_seq.load() < seq) return false;
        }
        return true;
      },
      5);
  int64_t behind = 0;
  for (auto& s : subs) {
    if (s.alive) behind += seq - s.last_seq.load();
  }

  fmt::print("== fanout {}: 1 publisher, {} subscribers, QoS {}, payload {} bytes, window {}, {}\n",
             o.label, n, o.qos, o.payload_bytes, o.window,
             o.rate > 0 ? fmt::format("{} msg/s", o.rate) : std::string("unpaced"));
  fmt::memory_buffer json;
  fmt::format_to(std::back_inserter(json),
                 R"({{"mode":"fanout","label":"{}","subscribers":{},"qos":{},"payload_bytes":{},)"
                 R"("window":{},"rate":{},"published_total":{},"missing_at_end":{},)",
                 o.label, n, o.qos, o.payload_bytes, o.window, o.rate, seq, behind);
  PrintCommon(o, w, ack, del, &json);
  if (behind > 0) {
    fmt::print("after 5 s: {} deliveries of the last messages never arrived\n", behind);
  }
  disconnects.Print();
  fmt::format_to(std::back_inserter(json), R"(,"disconnects":{}}})", disconnects.count.load());
  disconnects.expected = true;
  pub->Disconnect();
  for (auto& c : sc.clients) {
    if (c) c->Disconnect();
  }
  SleepSeconds(0.3);
  loop.Stop();
  fmt::print("JSON {}\n", fmt::to_string(json));
  return 0;
}

// ---- idle connections ------------------------------------------------------------------------

void RaiseFileLimit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
  }
}

int RunIdle(const Options& o) {
  mqtt::ClientLoop loop(o.threads);
  Disconnects disconnects;
  const int64_t rss_before = o.pid > 0 ? RssBytes(o.pid) : -1;
  ConnectResult r = Connector::Run(
      &loop, o, o.connections,
      [&](int i) { return BaseOptions(o, fmt::format("bench-idle-{}", i), 300); },
      [&](int i, mqtt::Client* c) { disconnects.Install(c, fmt::format("connection {}", i)); },
      120);
  fmt::print("connected {} of {} in {:.2f} s ({:.0f} CONNECT/s)\n", r.connected, o.connections,
             r.seconds, r.connected / std::max(1e-9, r.seconds));
  if (r.failed > 0) {
    fmt::print("FAILED: {} connections: {}\n", r.failed, r.first_error);
  }
  const int64_t rss_connected = o.pid > 0 ? RssBytes(o.pid) : -1;
  int64_t rss_max = rss_connected;
  const auto end = SteadyClock::now() + std::chrono::duration<double>(o.duration);
  while (SteadyClock::now() < end) {
    SleepSeconds(0.25);
    if (o.pid > 0) rss_max = std::max(rss_max, RssBytes(o.pid));
  }
  const int64_t rss_after = o.pid > 0 ? RssBytes(o.pid) : -1;
  const uint64_t lost = disconnects.count.load();
  fmt::print("== idle {}: {} connections open, keepalive 300 s, held {:.0f} s\n", o.label,
             r.connected - static_cast<int>(lost), o.duration);
  if (o.pid > 0) {
    const double per_conn =
        r.connected > 0 ? static_cast<double>(rss_after - rss_before) / r.connected : 0;
    fmt::print(
        "broker RSS: before {:.1f} MB, connected {:.1f} MB, after {:.0f} s {:.1f} MB (max "
        "{:.1f} MB); {:.1f} KB per connection\n",
        rss_before / 1e6, rss_connected / 1e6, o.duration, rss_after / 1e6, rss_max / 1e6,
        per_conn / 1e3);
  }
  disconnects.Print();
  disconnects.expected = true;
  for (auto& c : r.clients) {
    if (c) c->Disconnect();
  }
  SleepSeconds(0.5);
  loop.Stop();
  fmt::print(
      "JSON "
      R"({{"mode":"idle","label":"{}","connections":{},"connected":{},"failed":{},)"
      R"("connect_seconds":{:.3f},"disconnects":{},"rss_before":{},"rss_connected":{},)"
      R"("rss_after":{},"rss_max":{}}})"
      "\n",
      o.label, o.connections, r.connected, r.failed, r.seconds, lost, rss_before, rss_connected,
      rss_after, rss_max);
  return r.failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace seaway::bench

int main(int argc, char** argv) {
  using seaway::bench::Options;
  Options o;
  CLI::App app{"MQTT benchmark: fan-in, fan-out and idle connections (bench/mqtt.sh)"};
  app.add_option("mode", o.mode, "fanin | fanout | idle")
      ->required()
      ->check(CLI::IsMember({"fanin", "fanout", "idle"}));
  app.add_option("--host", o.host, "Broker host");
  app.add_option("--port", o.port, "Broker port");
  app.add_option("--username", o.username, "CONNECT user name (empty: none)");
  app.add_option("--password", o.password, "CONNECT password (Seaway: the token)");
  app.add_option("--version", o.version, "MQTT version: 5 or 3.1.1");
  app.add_option("--qos", o.qos, "QoS of the publishes (and fan-out subscriptions)")
      ->check(CLI::Range(0, 1));
  app.add_option("--sub-qos", o.sub_qos, "fanin: QoS of the subscriptions (default --qos)")
      ->check(CLI::Range(0, 1));
  app.add_option("--publishers", o.publishers, "fanin: publishers (devices, series)");
  app.add_option("--subscribers", o.subscribers, "Subscribers (fanin: 0, fanout: 1000)");
  app.add_option("--window", o.window,
                 "Unacknowledged publishes per publisher (fanin: 8); fanout: messages ahead of "
                 "the slowest subscriber (100)");
  app.add_option("--rate", o.rate,
                 "Messages/s per publisher (fanin) or in total (fanout); 0: as fast as the "
                 "window allows");
  app.add_option("--topic", o.topic, "Topic (fanin: write/bench, fanout: bench/fanout)");
  app.add_option("--payload-bytes", o.payload_bytes, "fanout: payload size");
  app.add_option("--duration", o.duration, "Seconds measured (idle: seconds held)");
  app.add_option("--warmup", o.warmup, "Seconds before measuring");
  app.add_option("--threads", o.threads, "Client loop threads")->check(CLI::PositiveNumber);
  app.add_option("--connections", o.connections, "idle: connections");
  app.add_option("--pid", o.pid, "Broker PID: its CPU and VmRSS are reported");
  app.add_option("--connect-concurrency", o.connect_concurrency, "CONNECTs pending at once");
  app.add_option("--session-expiry", o.session_expiry,
                 "Session expiry (s) every client asks for in CONNECT (MQTT 5): its session, "
                 "which a broker then keeps and saves, outlives the connection. 0: none");
  app.add_option("--label", o.label, "Name printed with the results (e.g. the broker)");
  app.add_option("--timeline", o.timeline,
                 "fanin: write to this file, per 10 ms of the run (by send time), the publishes "
                 "sent and their worst publish->PUBACK latency");
  CLI11_PARSE(app, argc, argv);
  if (o.topic.empty()) o.topic = o.mode == "fanin" ? "write/bench" : "bench/fanout";
  if (o.sub_qos < 0) o.sub_qos = o.qos;
  if (o.subscribers < 0) o.subscribers = o.mode == "fanout" ? 1000 : 0;
  if (o.window <= 0) o.window = o.mode == "fanout" ? 100 : 8;
  seaway::bench::RaiseFileLimit();
  fmt::print("mqtt_bench {} against {}:{} (MQTT {}), {} loop thread(s), {} cores\n", o.mode, o.host,
             o.port, o.version, o.threads, std::thread::hardware_concurrency());
  if (o.mode == "fanin") return seaway::bench::RunFanin(o);
  if (o.mode == "fanout") return seaway::bench::RunFanout(o);
  return seaway::bench::RunIdle(o);
}
