// LoginLimiter: refuses further attempts for an identity or an address after repeated failures
// (src/platform). Login over HTTP and, later, MQTT CONNECT share one, so that guessing a password
// costs the same whichever door is tried.
//
// Policy: a key (e.g. "user:acme/alice" or "addr:10.0.0.7") with `max_failures` failures within
// `window` is refused until `window` has passed since the oldest of them; a success clears the
// key's failures. State is in memory: a restart forgets it (and costs an attacker a restart).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"

namespace seaway {

struct LoginLimiterOptions {
  int max_failures = 5;
  int64_t window_ns = int64_t{15} * 60 * 1'000'000'000;  // 15 minutes
  size_t max_keys = 100'000;  // beyond it, keys whose failures have all expired are dropped
};

class LoginLimiter {
 public:
  explicit LoginLimiter(const Clock* clock, LoginLimiterOptions options = {})
      : clock_(clock), options_(options) {}

  // OK, or ResourceExhausted naming `what` (e.g. "user 'alice'") and the seconds to wait.
  Status Check(std::string_view key, std::string_view what);
  void RecordFailure(std::string_view key);
  void RecordSuccess(std::string_view key);

 private:
  void Expire(std::deque<int64_t>* failures, int64_t now) const;

  const Clock* const clock_;
  const LoginLimiterOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;  // key -> failure times (ns)
};

}  // namespace seaway
