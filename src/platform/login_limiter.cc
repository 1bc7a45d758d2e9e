// LoginLimiter (src/platform/login_limiter.h).
#include "platform/login_limiter.h"

#include <algorithm>

namespace seaway {

void LoginLimiter::Expire(std::deque<int64_t>* failures, int64_t now) const {
  while (!failures->empty() && now - failures->front() >= options_.window_ns) {
    failures->pop_front();
  }
}

Status LoginLimiter::Check(std::string_view key, std::string_view what) {
  const int64_t now = clock_->MonotonicNanos();
  std::lock_guard lock(mu_);
  auto it = failures_.find(std::string(key));
  if (it == failures_.end()) return Status::OK();
  Expire(&it->second, now);
  if (static_cast<int>(it->second.size()) < options_.max_failures) return Status::OK();
  const int64_t wait_ns = it->second.front() + options_.window_ns - now;
  return ResourceExhausted("too many failed logins for {}; retry in {} s", what,
                           std::max<int64_t>(1, (wait_ns + 999'999'999) / 1'000'000'000));
}

void LoginLimiter::RecordFailure(std::string_view key) {
  const int64_t now = clock_->MonotonicNanos();
  std::lock_guard lock(mu_);
  if (failures_.size() >= options_.max_keys) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      Expire(&it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  auto& failures = failures_[std::string(key)];
  Expire(&failures, now);
  failures.push_back(now);
  // Only the newest max_failures matter.
  while (static_cast<int>(failures.size()) > options_.max_failures) failures.pop_front();
}

void LoginLimiter::RecordSuccess(std::string_view key) {
  std::lock_guard lock(mu_);
  failures_.erase(std::string(key));
}

}  // namespace seaway
