// Simulator (src/simulate).
#include "simulate/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "mqtt/client.h"

namespace seaway {
namespace {

constexpr const char* kModels[] = {"press-200", "lathe-x5", "mill-7", "pump-k2"};

// A cheap deterministic noise in [-0.5, 0.5) from (device, tick).
double Noise(int index, uint64_t tick, uint64_t salt) {
  uint64_t h = (tick * 0x9E3779B97F4A7C15ULL) ^
               (static_cast<uint64_t>(index) * 0xBF58476D1CE4E5B9ULL) ^
               (salt * 0x94D049BB133111EBULL);
  h ^= h >> 31;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return static_cast<double>(h >> 11) / 9007199254740992.0 - 0.5;
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

std::string SimulatedPayload(int index, uint64_t tick, SimulatorOptions::Format format,
                             const std::string& device_id, int64_t time_ns) {
  const double t = static_cast<double>(tick);
  const bool fault = (tick + static_cast<uint64_t>(index) * 7) % 500 == 0;
  const bool idle = !fault && (tick + static_cast<uint64_t>(index)) % 120 < 6;
  const double temperature = Round(
      55 + 15 * std::sin(t * 0.01 + index) + 2 * Noise(index, tick, 1) + (fault ? 25 : 0), 100);
  const double vibration =
      Round(1.5 + 0.5 * std::sin(t * 0.1 + index) + 0.2 * Noise(index, tick, 2), 1000);
  const double pressure = Round(5 + std::cos(t * 0.05 + index) + 0.1 * Noise(index, tick, 3), 1000);
  const double rpm = idle ? 0.0 : Round(1500 + 50 * Noise(index, tick, 4), 10);
  const double power =
      idle ? 0.4 : Round(11 + 2 * std::sin(t * 0.02 + index) + Noise(index, tick, 5), 100);
  const char* status = fault ? "fault" : idle ? "idle" : "run";
  const uint64_t parts = tick * 2 + (idle ? 0 : 1);
  if (format == SimulatorOptions::Format::kJson) {
    return fmt::format(
        R"({{"temperature":{},"vibration":{},"pressure":{},"rpm":{},"power":{},"status":"{}","parts":{},"time":{}}})",
        temperature, vibration, pressure, rpm, power, status, parts, time_ns);
  }
  return fmt::format(
      "machine,site={},line=line-{},machine_id={},model={} temperature={},vibration={},"
      "pressure={},rpm={},power={},status=\"{}\",parts={}i {}",
      index % 2 == 0 ? "north" : "south", index % 4 + 1, device_id, kModels[index % 4], temperature,
      vibration, pressure, rpm, power, status, parts, time_ns);
}

struct Simulator::Impl {
  explicit Impl(SimulatorOptions o) : options(std::move(o)), loop(options.threads) {}

  struct Device {
    std::string id;
    std::shared_ptr<mqtt::Client> client;
    std::atomic<bool> connected{false};
    uint64_t tick = 0;
  };

  void Pace();
  void PublishOne(int index);

  const SimulatorOptions options;
  mqtt::ClientLoop loop;
  std::vector<std::unique_ptr<Device>> devices;
  std::thread pacer;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;

  std::atomic<uint64_t> connected{0}, published{0}, acknowledged{0}, refused{0}, throttled{0},
      disconnects{0};
  std::mutex latency_mu;
  std::vector<float> latencies_ms;
};

void Simulator::Impl::PublishOne(int index) {
  Device& d = *devices[static_cast<size_t>(index)];
  if (!d.connected.load(std::memory_order_relaxed)) return;
  if (options.qos > 0 && d.client->in_flight() >= static_cast<size_t>(options.window)) {
    throttled.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  mqtt::Publish p;
  p.qos = static_cast<uint8_t>(options.qos);
  const int64_t now = Clock::Real()->Now().nanos();
  if (options.format == SimulatorOptions::Format::kJson) {
    p.topic = fmt::format("devices/{}/telemetry", d.id);
  } else {
    p.topic = fmt::format("write/{}", options.database);
  }
  p.payload = SimulatedPayload(index, ++d.tick, options.format, d.id, now);
  published.fetch_add(1, std::memory_order_relaxed);
  if (options.qos == 0) return d.client->Publish(std::move(p), nullptr);
  const int64_t start = Clock::Real()->MonotonicNanos();
  d.client->Publish(std::move(p), [this, start](mqtt::ReasonCode rc) {
    if (mqtt::IsError(rc)) {
      refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    acknowledged.fetch_add(1, std::memory_order_relaxed);
    if (options.acknowledged_counter != nullptr) options.acknowledged_counter->Increment();
    const float ms = static_cast<float>(Clock::Real()->MonotonicNanos() - start) / 1e6f;
    std::lock_guard lock(latency_mu);
    if (latencies_ms.size() < 4'000'000) latencies_ms.push_back(ms);
  });
}

// Publishes what is due every few milliseconds, round robin over the devices.
void Simulator::Impl::Pace() {
  const double per_second = options.rate * static_cast<double>(devices.size());
  const int64_t begin = Clock::Real()->MonotonicNanos();
  uint64_t sent = 0;
  size_t next = 0;
  std::unique_lock lock(mu);
  while (!stop) {
    lock.unlock();
    const double elapsed = static_cast<double>(Clock::Real()->MonotonicNanos() - begin) / 1e9;
    const auto due = static_cast<uint64_t>(elapsed * per_second);
    for (; sent < due; ++sent) {
      PublishOne(static_cast<int>(next));
      next = (next + 1) % devices.size();
    }
    lock.lock();
    cv.wait_for(lock, std::chrono::milliseconds(2), [this] { return stop; });
  }
}

Simulator::Simulator(SimulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { Stop(); }

Status Simulator::Start() {
  Impl& s = *impl_;
  // Outlives Start: a CONNACK may arrive after the wait below gave up.
  struct Connecting {
    std::mutex mu;
    std::condition_variable cv;
    int answered = 0;
    Status first_error;
  };
  auto connecting = std::make_shared<Connecting>();
  for (int i = 0; i < s.options.devices; ++i) {
    auto d = std::make_unique<Impl::Device>();
    d->id = fmt::format("{}{:03}", s.options.id_prefix, i + 1);
    mqtt::ClientOptions co;
    co.address = s.options.mqtt;
    co.version = s.options.version;
    co.client_id = fmt::format("sim-{}", d->id);
    co.username = d->id;
    co.password = s.options.token;
    co.keep_alive = 30;
    d->client = mqtt::Client::Create(&s.loop, co);
    Impl::Device* raw = d.get();
    d->client->OnClosed([&s, raw](const Status&) {
      if (raw->connected.exchange(false)) {
        s.disconnects.fetch_add(1);
        s.connected.fetch_sub(1);
      }
    });
    d->client->Connect([&s, connecting, raw](Status st, const mqtt::Connack&) {
      std::lock_guard lock(connecting->mu);
      if (st.ok()) {
        raw->connected.store(true);
        s.connected.fetch_add(1);
      } else if (connecting->first_error.ok()) {
        connecting->first_error = st;
      }
      ++connecting->answered;
      connecting->cv.notify_all();
    });
    s.devices.push_back(std::move(d));
  }
  {
    std::unique_lock lock(connecting->mu);
    connecting->cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return connecting->answered == s.options.devices; });
    if (s.connected.load() == 0) {
      Status why = connecting->first_error.ok() ? Unavailable("no device connected within 10 s")
                                                : connecting->first_error;
      lock.unlock();
      Stop();
      return why;
    }
  }
  s.pacer = std::thread([&s] { s.Pace(); });
  return Status::OK();
}

void Simulator::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (s.stop) return;
    s.stop = true;
  }
  s.cv.notify_all();
  if (s.pacer.joinable()) s.pacer.join();
  for (auto& d : s.devices) {
    d->connected.store(false);
    d->client->Disconnect();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the DISCONNECTs go out
  s.loop.Stop();
}

SimulatorStats Simulator::TakeStats() {
  Impl& s = *impl_;
  SimulatorStats out;
  out.connected = s.connected.load();
  out.published = s.published.load();
  out.acknowledged = s.acknowledged.load();
  out.refused = s.refused.load();
  out.throttled = s.throttled.load();
  out.disconnects = s.disconnects.load();
  std::vector<float> lat;
  {
    std::lock_guard lock(s.latency_mu);
    lat.swap(s.latencies_ms);
  }
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    out.p50_ms = lat[lat.size() / 2];
    out.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
    out.max_ms = lat.back();
  }
  return out;
}

}  // namespace seaway
