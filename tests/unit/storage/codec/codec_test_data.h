// Seeded data generators shared by the codec tests (tests/unit/storage/codec): the shapes the
// storage engine sees in practice (regular timestamps, sensor random walks, counters) and the
// edge cases it must survive.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace seaway::codec::testing {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z in ns

inline std::vector<int64_t> RegularTimestamps(size_t n, int64_t interval = 10 * kSecond) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = kStart + static_cast<int64_t>(i) * interval;
  return v;
}

// Regular, with each timestamp moved by up to ±`jitter` ns.
inline std::vector<int64_t> JitteredTimestamps(size_t n, int64_t jitter, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> offset(-jitter, jitter);
  std::vector<int64_t> v = RegularTimestamps(n);
  for (int64_t& t : v) t += offset(rng);
  return v;
}

// A random walk rounded to `decimals` decimals, kept within [lo, hi].
inline std::vector<double> DecimalWalk(size_t n, int decimals, double lo, double hi,
                                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double scale = std::pow(10.0, decimals);
  std::uniform_int_distribution<int> step(-5, 5);
  std::vector<double> v(n);
  double x = std::round((lo + hi) / 2 * scale);
  for (size_t i = 0; i < n; ++i) {
    x = std::clamp(x + step(rng), lo * scale, hi * scale);
    v[i] = x / scale;
  }
  return v;
}

inline std::vector<double> RandomDoubles(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::vector<double> v(n);
  for (double& d : v) d = u(rng);
  return v;
}

inline std::vector<int64_t> Counter(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> step(0, 20);
  std::vector<int64_t> v(n);
  int64_t c = 1'000'000;
  for (int64_t& x : v) x = c += step(rng);
  return v;
}

inline std::vector<std::string> LowCardinalityStrings(size_t n, size_t distinct, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> v(n);
  for (auto& s : v) s = "pump-station-" + std::to_string(rng() % distinct) + "/status";
  return v;
}

inline std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return {strings.begin(), strings.end()};
}

}  // namespace seaway::codec::testing
