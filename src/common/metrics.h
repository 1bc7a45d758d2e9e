// Metrics: counters, gauges and histograms rendered in the Prometheus text format (src/common).
//
// Components register what they measure once, keep the returned pointer, and update it on the
// hot path with one relaxed atomic operation. GET /metrics renders the registry.
//
//   Counter* rejected = registry.GetCounter("seaway_ingest_rejected_lines_total",
//                                           "Lines rejected by the parser", {{"tenant", "acme"}});
//   rejected->Increment();
//
// MetricsRegistry is thread-safe; metric objects are thread-safe and live as long as the registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seaway {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds (an implicit +Inf bucket is added).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts; the last entry is the +Inf bucket.
  std::vector<uint64_t> BucketCounts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Each returns the metric for (name, labels), creating it on first use; the same name must
  // always be used with the same kind and help. REQUIRES: `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
  Counter* GetCounter(std::string_view name, std::string_view help,
                      const MetricLabels& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Histogram* GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds, const MetricLabels& labels = {});
  // A gauge whose value is computed at render time (e.g. resident memory).
  void AddCallbackGauge(std::string_view name, std::string_view help,
                        std::function<double()> callback, const MetricLabels& labels = {});
  // A counter whose value is computed at render time (e.g. CPU seconds from /proc).
  void AddCallbackCounter(std::string_view name, std::string_view help,
                          std::function<double()> callback, const MetricLabels& labels = {});

  // The whole registry in the Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  struct Family;
  Family& GetFamily(std::string_view name, std::string_view help, int kind);  // REQUIRES: mu_

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// Escapes a label value for the text format (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view value);

}  // namespace seaway
