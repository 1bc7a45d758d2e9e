// Clock: the time seam (src/common). Code that needs "now" takes a Clock so tests can control it.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/strong_id.h"

namespace seaway {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump).
  virtual Timestamp Now() const = 0;
  // A monotonic reading in nanoseconds, for durations and timeouts.
  virtual int64_t MonotonicNanos() const = 0;

  // The process-wide real clock. Never destroyed.
  static Clock* Real();
};

// A clock that moves only when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp::FromNanos(0)) : now_(start.nanos()) {}
  Timestamp Now() const override { return Timestamp::FromNanos(now_.load()); }
  int64_t MonotonicNanos() const override { return now_.load(); }
  void Advance(Duration d) { now_.fetch_add(d.nanos()); }

 private:
  std::atomic<int64_t> now_;
};

// Formats `t` as RFC 3339 in UTC with millisecond precision: 2026-11-25T15:45:38.123Z.
std::string FormatRfc3339Millis(Timestamp t);

}  // namespace seaway
