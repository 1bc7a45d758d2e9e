// Metrics implementation (src/common).
#include "common/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <variant>

#include <fmt/format.h>

#include "common/check.h"

namespace seaway {
namespace {

enum Kind { kCounter = 0, kGauge = 1, kHistogram = 2, kCallbackGauge = 3, kCallbackCounter = 4 };

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  auto first_ok = [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  };
  if (!first_ok(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return first_ok(c) || std::isdigit(static_cast<unsigned char>(c));
  });
}

std::string LabelKey(const MetricLabels& labels, std::string_view extra_key = {},
                     std::string_view extra_value = {}) {
  std::string out;
  for (const auto& [k, v] : labels) {
    SW_CHECK(ValidMetricName(k));
    if (!out.empty()) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}=\"{}\"", k, EscapeLabelValue(v));
  }
  if (!extra_key.empty()) {
    if (!out.empty()) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}=\"{}\"", extra_key, extra_value);
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void AppendSample(std::string* out, std::string_view name, std::string_view labels,
                  std::string_view value) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(*out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(*out), "{}{{{}}} {}\n", name, labels, value);
  }
}

}  // namespace

struct MetricsRegistry::Family {
  std::string help;
  int kind;
  // Keyed by the rendered label set, so output order is stable.
  std::map<std::string, std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>,
                                     std::unique_ptr<Histogram>, std::function<double()>>>
      series;
  std::map<std::string, MetricLabels> labels;
};

void Gauge::Add(double delta) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  SW_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::GetFamily(std::string_view name, std::string_view help,
                                                    int kind) {
  SW_CHECK(ValidMetricName(name));
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->help = std::string(help);
    family->kind = kind;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  // Re-registering a name as another kind is a programming error.
  SW_CHECK(it->second->kind == kind);
  return *it->second;
}

Counter* MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& family = GetFamily(name, help, kCounter);
  auto [it, inserted] = family.series.try_emplace(LabelKey(labels));
  if (inserted) it->second = std::make_unique<Counter>();
  return std::get<0>(it->second).get();
}

Gauge* MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& family = GetFamily(name, help, kGauge);
  auto [it, inserted] = family.series.try_emplace(LabelKey(labels));
  if (inserted) it->second = std::make_unique<Gauge>();
  return std::get<1>(it->second).get();
}

Histogram* MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds,
                                         const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& family = GetFamily(name, help, kHistogram);
  std::string key = LabelKey(labels);
  auto [it, inserted] = family.series.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<Histogram>(bounds);
    family.labels[key] = labels;
  }
  return std::get<2>(it->second).get();
}

void MetricsRegistry::AddCallbackGauge(std::string_view name, std::string_view help,
                                       std::function<double()> callback,
                                       const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& family = GetFamily(name, help, kCallbackGauge);
  family.series[LabelKey(labels)] = std::move(callback);
}

void MetricsRegistry::AddCallbackCounter(std::string_view name, std::string_view help,
                                         std::function<double()> callback,
                                         const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Family& family = GetFamily(name, help, kCallbackCounter);
  family.series[LabelKey(labels)] = std::move(callback);
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram", "gauge",
                                                      "counter"};
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, family->help,
                   name, kTypeNames[family->kind]);
    for (const auto& [labels, metric] : family->series) {
      switch (family->kind) {
        case kCounter:
          AppendSample(&out, name, labels, fmt::format("{}", std::get<0>(metric)->value()));
          break;
        case kGauge:
          AppendSample(&out, name, labels, FormatValue(std::get<1>(metric)->value()));
          break;
        case kCallbackGauge:
        case kCallbackCounter:
          AppendSample(&out, name, labels, FormatValue(std::get<3>(metric)()));
          break;
        case kHistogram: {
          const Histogram& h = *std::get<2>(metric);
          const MetricLabels& base = family->labels.at(labels);
          std::vector<uint64_t> counts = h.BucketCounts();
          uint64_t cumulative = 0;
          const std::string bucket_name = name + "_bucket";
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
            AppendSample(&out, bucket_name, LabelKey(base, "le", le),
                         fmt::format("{}", cumulative));
          }
          AppendSample(&out, name + "_sum", labels, FormatValue(h.sum()));
          AppendSample(&out, name + "_count", labels, fmt::format("{}", cumulative));
          break;
        }
      }
    }
  }
  return out;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace seaway
