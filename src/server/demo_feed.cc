// DemoFeed (src/server).
#include "server/demo_feed.h"

#include <algorithm>
#include <cmath>

#include "common/logging.h"

namespace seaway {
namespace {

constexpr TenantId kDefaultTenant(1);  // the `default` tenant (issue #4 names it)
constexpr const char* kModels[] = {"press-200", "lathe-x5", "mill-7", "pump-k2"};

}  // namespace

DemoFeed::DemoFeed(Engine* engine, MetricsRegistry* metrics, int machines, Duration interval)
    : engine_(engine),
      machines_(machines),
      interval_(interval),
      temperature_(machines, 45.0),
      parts_(machines, 0) {
  rows_ = metrics->GetCounter("seaway_demo_rows_total", "Rows written by the demo feed");
  refused_ = metrics->GetCounter("seaway_demo_refused_batches_total",
                                 "Demo batches the engine refused (logged)");
}

DemoFeed::~DemoFeed() { Stop(); }

WriteBatch DemoFeed::MakeBatch(int64_t now) {
  WriteBatch batch(kDefaultTenant, "demo", "machine");
  ++tick_;
  for (int m = 0; m < machines_; ++m) {
    // Bounded random walks from a cheap deterministic hash: no global RNG state, same shape
    // as the industrial benchmark dataset.
    const uint64_t h =
        (tick_ * 0x9E3779B97F4A7C15ULL) ^ (static_cast<uint64_t>(m) * 0xBF58476D1CE4E5B9ULL);
    const double step = (static_cast<double>(h >> 40 & 0xFFFF) / 65535.0 - 0.5) * 0.4;
    temperature_[m] = std::clamp(temperature_[m] + step, 20.0, 90.0);
    parts_[m] += static_cast<int64_t>(h >> 60 & 3);
    batch.AddRow(now);
    (void)batch.SetTag("site", m < machines_ / 2 ? "north" : "south");
    (void)batch.SetTag("line", fmt::format("line-{}", m % 4 + 1));
    (void)batch.SetTag("machine_id", fmt::format("m{:03}", m + 1));
    (void)batch.SetTag("model", kModels[m % 4]);
    (void)batch.SetDouble("temperature", std::round(temperature_[m] * 100) / 100);
    (void)batch.SetDouble("vibration", std::round((1.5 + std::sin(tick_ * 0.1 + m)) * 1000) / 1000);
    (void)batch.SetDouble("pressure", std::round((5 + std::cos(tick_ * 0.05 + m)) * 1000) / 1000);
    (void)batch.SetDouble("current", std::round((20 + 5 * std::sin(tick_ * 0.02 + m)) * 100) / 100);
    (void)batch.SetDouble("speed", (tick_ + m) % 60 == 0 ? 0.0 : 1500.0);
    (void)batch.SetInt64("parts", parts_[m]);
    (void)batch.SetInt64("status", (tick_ + m) % 60 == 0 ? 2 : 1);
  }
  return batch;
}

void DemoFeed::Start() {
  thread_ = std::thread([this] { Run(); });
  log::Info("demo feed started", {{"machines", machines_},
                                  {"table", "demo.machine"},
                                  {"interval_ms", interval_.nanos() / 1'000'000}});
}

void DemoFeed::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DemoFeed::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    WriteBatch batch = MakeBatch(Clock::Real()->Now().nanos());
    Status s = engine_->Write(batch);
    if (s.ok()) {
      rows_->Increment(batch.rows());
    } else {
      refused_->Increment();
      log::Warn("demo feed write refused", {{"error", s.ToString()}});
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::nanoseconds(interval_.nanos()), [&] { return stop_; });
  }
}

}  // namespace seaway
