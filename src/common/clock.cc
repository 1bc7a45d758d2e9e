// Clock implementation (src/common).
#include "common/clock.h"

#include <ctime>

namespace seaway {
namespace {

class RealClock final : public Clock {
 public:
  Timestamp Now() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return Timestamp::FromNanos(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
  }
  int64_t MonotonicNanos() const override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* const clock = new RealClock();
  return clock;
}

std::string FormatRfc3339Millis(Timestamp t) {
  int64_t ns = t.nanos();
  int64_t secs = ns / 1'000'000'000;
  int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  time_t tt = static_cast<time_t>(secs);
  tm parts;
  gmtime_r(&tt, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     rem / 1'000'000);
}

}  // namespace seaway
