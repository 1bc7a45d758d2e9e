// DemoFeed: simulated machines writing into the engine, so that `make run` shows data flowing
// before any device is connected (src/server). Enabled by `seaway serve --demo`.
//
// Every second it writes one row per simulated machine into the default tenant's database
// `demo`, table `machine` (tags site, line, machine_id, model; fields temperature, vibration,
// pressure, current, speed, parts, status), through the same batch API the front ends use.
//
// Thread-safe: Start and Stop from the owner thread; the feed runs on its own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/metrics.h"
#include "storage/engine.h"

namespace seaway {

class DemoFeed {
 public:
  // `engine` and `metrics` must outlive the feed.
  DemoFeed(Engine* engine, MetricsRegistry* metrics, int machines = 20,
           Duration interval = Duration::Seconds(1));
  ~DemoFeed();

  void Start();
  void Stop();

  // One batch for time `now` (exposed for tests).
  WriteBatch MakeBatch(int64_t now);

 private:
  void Run();

  Engine* const engine_;
  const int machines_;
  const Duration interval_;
  Counter* rows_;
  Counter* refused_;
  std::vector<double> temperature_;
  std::vector<int64_t> parts_;
  uint64_t tick_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace seaway
