// Strong types for identifiers and units (src/common).
//
// A TenantId cannot be passed where a SeriesId is expected, and a Timestamp is not an int64 that
// someone forgot the unit of. Each is a zero-cost wrapper around its representation.
//
// Thread-compatible values.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

#include <fmt/format.h>

namespace seaway {

// An opaque identifier: comparable and hashable, no arithmetic.
template <typename Tag, typename Rep = uint64_t>
class StrongId {
 public:
  using rep_type = Rep;

  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep value) : value_(value) {}

  constexpr Rep value() const { return value_; }

  friend constexpr auto operator<=>(StrongId, StrongId) = default;

 private:
  Rep value_{};
};

using TenantId = StrongId<struct TenantIdTag>;
using CustomerId = StrongId<struct CustomerIdTag>;
using UserId = StrongId<struct UserIdTag>;
using DeviceId = StrongId<struct DeviceIdTag>;
using AssetId = StrongId<struct AssetIdTag>;
using DatabaseId = StrongId<struct DatabaseIdTag, uint32_t>;
using TableId = StrongId<struct TableIdTag, uint32_t>;
using SeriesId = StrongId<struct SeriesIdTag>;
using ShardId = StrongId<struct ShardIdTag, uint32_t>;
using ModelId = StrongId<struct ModelIdTag>;

// A log sequence number: ordered, and the only arithmetic allowed is "the next one".
class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr Lsn Next() const { return Lsn(value_ + 1); }
  friend constexpr auto operator<=>(Lsn, Lsn) = default;

 private:
  uint64_t value_ = 0;
};

// A duration in nanoseconds.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1000'000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000'000'000); }

  constexpr int64_t nanos() const { return nanos_; }
  constexpr double seconds() const { return static_cast<double>(nanos_) / 1e9; }

  friend constexpr auto operator<=>(Duration, Duration) = default;
  friend constexpr Duration operator+(Duration a, Duration b) {
    return Duration(a.nanos_ + b.nanos_);
  }
  friend constexpr Duration operator-(Duration a, Duration b) {
    return Duration(a.nanos_ - b.nanos_);
  }
  friend constexpr Duration operator*(Duration a, int64_t k) { return Duration(a.nanos_ * k); }

 private:
  constexpr explicit Duration(int64_t nanos) : nanos_(nanos) {}
  int64_t nanos_ = 0;
};

// A point in time: nanoseconds since the Unix epoch, UTC. The storage `time` column.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromNanos(int64_t ns) { return Timestamp(ns); }
  static constexpr Timestamp Min() { return Timestamp(std::numeric_limits<int64_t>::min()); }
  static constexpr Timestamp Max() { return Timestamp(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return nanos_; }

  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;
  friend constexpr Timestamp operator+(Timestamp t, Duration d) {
    return Timestamp(t.nanos_ + d.nanos());
  }
  friend constexpr Timestamp operator-(Timestamp t, Duration d) {
    return Timestamp(t.nanos_ - d.nanos());
  }
  friend constexpr Duration operator-(Timestamp a, Timestamp b) {
    return Duration::Nanos(a.nanos_ - b.nanos_);
  }

 private:
  constexpr explicit Timestamp(int64_t ns) : nanos_(ns) {}
  int64_t nanos_ = 0;
};

}  // namespace seaway

template <typename Tag, typename Rep>
struct std::hash<seaway::StrongId<Tag, Rep>> {
  size_t operator()(seaway::StrongId<Tag, Rep> id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};

template <typename Tag, typename Rep>
struct fmt::formatter<seaway::StrongId<Tag, Rep>> : fmt::formatter<Rep> {
  auto format(seaway::StrongId<Tag, Rep> id, fmt::format_context& ctx) const {
    return fmt::formatter<Rep>::format(id.value(), ctx);
  }
};
