// Dataset generator (bench/datagen): tag tables, random walks and the row stream.
#include "datagen/dataset.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace seaway::datagen {
namespace {

constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000};

// TSBS devops host attributes (pkg/data/usecases/devops/host.go), kept to its value sets.
struct Region {
  const char* name;
  std::vector<const char*> datacenters;
};
const std::vector<Region>& TsbsRegions() {
  static const std::vector<Region> kRegions = {
      {"us-east-1", {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"}},
      {"us-west-1", {"us-west-1a", "us-west-1b"}},
      {"us-west-2", {"us-west-2a", "us-west-2b", "us-west-2c"}},
      {"eu-west-1", {"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
      {"eu-central-1", {"eu-central-1a", "eu-central-1b"}},
      {"ap-southeast-1", {"ap-southeast-1a", "ap-southeast-1b"}},
      {"ap-southeast-2", {"ap-southeast-2a", "ap-southeast-2b"}},
      {"ap-northeast-1", {"ap-northeast-1a", "ap-northeast-1c"}},
      {"sa-east-1", {"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
  };
  return kRegions;
}

constexpr const char* kOs[] = {"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"};
constexpr const char* kArch[] = {"x64", "x86"};
constexpr const char* kTeam[] = {"SF", "NYC", "LON", "CHI"};
constexpr const char* kEnvironment[] = {"production", "staging", "test"};
constexpr const char* kModels[] = {"cnc-a1",   "cnc-b2",   "press-p3", "press-p4",
                                   "lathe-l5", "lathe-l6", "mill-m7",  "mill-m8"};

// Industrial float fields: name, decimals, bounds and largest step per 10 s, in real units.
struct IndustrialFloat {
  const char* name;
  int decimals;
  double lo, hi, max_step, init_lo, init_hi;
};
constexpr IndustrialFloat kIndustrialFloats[] = {
    {"temperature", 2, 20.0, 90.0, 0.10, 40.0, 70.0}, {"vibration", 3, 0.0, 5.0, 0.050, 0.5, 2.5},
    {"pressure", 3, 1.0, 10.0, 0.020, 3.0, 8.0},      {"current", 2, 0.0, 50.0, 0.30, 10.0, 40.0},
    {"speed", 2, 0.0, 3000.0, 5.00, 1000.0, 2500.0},
};
constexpr size_t kPartsField = 5;
constexpr size_t kStatusField = 6;

int64_t Scaled(double v, int decimals) {
  double s = v * static_cast<double>(kPow10[decimals]);
  return static_cast<int64_t>(s < 0 ? s - 0.5 : s + 0.5);
}

}  // namespace

bool ParseDatasetKind(std::string_view name, DatasetKind* kind) {
  if (name == "industrial") {
    *kind = DatasetKind::kIndustrial;
  } else if (name == "cpu-only") {
    *kind = DatasetKind::kCpuOnly;
  } else {
    return false;
  }
  return true;
}

std::string_view DatasetKindName(DatasetKind kind) {
  return kind == DatasetKind::kIndustrial ? "industrial" : "cpu-only";
}

double Row::FloatValue(size_t i, int decimals) const {
  // Division (not multiplication by 0.01) gives the double nearest to the decimal text.
  return static_cast<double>(values[i]) / static_cast<double>(kPow10[decimals]);
}

Generator::Generator(const DatasetSpec& spec) : spec_(spec), rng_state_(spec.seed) {
  if (spec_.kind == DatasetKind::kIndustrial) {
    InitIndustrial();
  } else {
    InitCpuOnly();
  }
}

uint64_t Generator::Random() {  // SplitMix64: tiny, fast, and the same on every platform
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t Generator::Uniform(int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(Random() % static_cast<uint64_t>(hi - lo + 1));
}

void Generator::InitIndustrial() {
  schema_.measurement = "machines";
  schema_.tag_keys = {"site", "line", "machine_id", "model"};
  schema_.primary_tag = "machine_id";
  for (const auto& f : kIndustrialFloats) {
    schema_.fields.push_back(FieldSpec{f.name, false, f.decimals});
    walks_.push_back(
        Walk{Scaled(f.lo, f.decimals), Scaled(f.hi, f.decimals), Scaled(f.max_step, f.decimals)});
  }
  schema_.fields.push_back(FieldSpec{"parts", true, 0});
  schema_.fields.push_back(FieldSpec{"status", true, 0});

  const int n = spec_.entities;
  const size_t nf = schema_.fields.size();
  values_.resize(static_cast<size_t>(n) * nf);
  for (int e = 0; e < n; ++e) {
    // Machines fill sites in order (5 sites), and each site's 4 lines in order.
    const int64_t site = static_cast<int64_t>(e) * 5 / n;
    const int64_t line = static_cast<int64_t>(e) * 20 / n % 4;
    tags_.push_back(fmt::format("site{:02}", site + 1));
    tags_.push_back(fmt::format("line-{}", line + 1));
    tags_.push_back(fmt::format("m{:04}", e + 1));
    tags_.push_back(kModels[Random() % 8]);
    int64_t* v = &values_[static_cast<size_t>(e) * nf];
    for (size_t i = 0; i < std::size(kIndustrialFloats); ++i) {
      const auto& f = kIndustrialFloats[i];
      v[i] = Uniform(Scaled(f.init_lo, f.decimals), Scaled(f.init_hi, f.decimals));
    }
    v[kPartsField] = Uniform(0, 100'000);
    v[kStatusField] = Random() % 20 == 0 ? Uniform(1, 5) : 0;
  }
}

void Generator::InitCpuOnly() {
  schema_.measurement = "cpu";
  schema_.tag_keys = {
      "hostname", "region",          "datacenter",         "rack", "os", "arch", "team",
      "service",  "service_version", "service_environment"};
  schema_.primary_tag = "hostname";
  for (const char* name :
       {"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
        "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}) {
    schema_.fields.push_back(FieldSpec{name, false, 2});
    // TSBS steps each field by a normal(0, 1) draw, clamped to 0-100; a uniform step in
    // +-1.73 has the same standard deviation.
    walks_.push_back(Walk{0, 10'000, 173});
  }

  const int n = spec_.entities;
  const size_t nf = schema_.fields.size();
  values_.resize(static_cast<size_t>(n) * nf);
  const auto& regions = TsbsRegions();
  for (int e = 0; e < n; ++e) {
    const Region& region = regions[Random() % regions.size()];
    tags_.push_back(fmt::format("host_{}", e));
    tags_.push_back(region.name);
    tags_.push_back(region.datacenters[Random() % region.datacenters.size()]);
    tags_.push_back(fmt::format("{}", Random() % 100));
    tags_.push_back(kOs[Random() % std::size(kOs)]);
    tags_.push_back(kArch[Random() % std::size(kArch)]);
    tags_.push_back(kTeam[Random() % std::size(kTeam)]);
    tags_.push_back(fmt::format("{}", Random() % 20));
    tags_.push_back(fmt::format("{}", Random() % 2));
    tags_.push_back(kEnvironment[Random() % std::size(kEnvironment)]);
    for (size_t i = 0; i < nf; ++i) values_[e * nf + i] = Uniform(0, 10'000);
  }
}

void Generator::Step(int entity) {
  const size_t nf = schema_.fields.size();
  int64_t* v = &values_[static_cast<size_t>(entity) * nf];
  for (size_t i = 0; i < walks_.size(); ++i) {
    const Walk& w = walks_[i];
    int64_t x = v[i] + Uniform(-w.max_step, w.max_step);
    if (x > w.hi) x = 2 * w.hi - x;  // reflect at the bounds
    if (x < w.lo) x = 2 * w.lo - x;
    v[i] = std::clamp(x, w.lo, w.hi);
  }
  if (spec_.kind == DatasetKind::kIndustrial) {
    int64_t& status = v[kStatusField];
    if (status == 0) {
      v[kPartsField] += Uniform(0, 2);  // parts are made only while running
      if (Random() % 500 == 0) status = Uniform(1, 5);
    } else if (Random() % 30 == 0) {
      status = 0;
    }
  }
}

bool Generator::Next(Row* row) {
  if (next_timestamp_ >= spec_.timestamps || spec_.entities <= 0) return false;
  const int e = next_entity_;
  if (next_timestamp_ > 0) Step(e);
  const size_t nt = schema_.tag_keys.size();
  const size_t nf = schema_.fields.size();
  row->time_ns = spec_.start_ns + static_cast<int64_t>(next_timestamp_) * spec_.interval_ns;
  row->entity = e;
  row->tags = &tags_[static_cast<size_t>(e) * nt];
  row->values = &values_[static_cast<size_t>(e) * nf];
  if (++next_entity_ == spec_.entities) {
    next_entity_ = 0;
    ++next_timestamp_;
  }
  return true;
}

}  // namespace seaway::datagen
