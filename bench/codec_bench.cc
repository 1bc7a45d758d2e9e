// Column codec benchmark (bench/): encode and decode speed (values/s) and size (bytes/value) of
// the per-column codecs (src/storage/codec) on 65,536-value blocks shaped like plant data, plus
// decode-and-aggregate of float columns, the scan the engine must run at >= 500 M values/s.
//
//   build/release/bench/codec_bench --benchmark_min_time=0.2
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "storage/codec/column_codec.h"

namespace seaway::codec {
namespace {

constexpr size_t kN = kMaxBlockValues;
constexpr int64_t kSecond = 1'000'000'000;

std::vector<int64_t> RegularTimestamps() {
  std::vector<int64_t> v(kN);
  for (size_t i = 0; i < kN; ++i)
    v[i] = 1'767'225'600 * kSecond + static_cast<int64_t>(i) * 10 * kSecond;
  return v;
}

std::vector<int64_t> JitteredTimestamps() {
  std::mt19937_64 rng(2);
  std::vector<int64_t> v = RegularTimestamps();
  for (int64_t& t : v) t += static_cast<int64_t>(rng() % 1'000'000);  // up to 1 ms late
  return v;
}

// A random walk in steps of at most 5 units of the last decimal, within [lo, hi].
std::vector<double> DecimalWalk(int decimals, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double scale = std::pow(10.0, decimals);
  std::vector<double> v(kN);
  double x = std::round((lo + hi) / 2 * scale);
  for (double& d : v) {
    x = std::clamp(x + static_cast<double>(static_cast<int>(rng() % 11) - 5), lo * scale,
                   hi * scale);
    d = x / scale;
  }
  return v;
}

std::vector<double> RandomDoubles() {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  std::vector<double> v(kN);
  for (double& d : v) d = u(rng);
  return v;
}

std::vector<int64_t> Counter() {
  std::mt19937_64 rng(4);
  std::vector<int64_t> v(kN);
  int64_t c = 1'000'000;
  for (int64_t& x : v) x = c += static_cast<int64_t>(rng() % 20);
  return v;
}

// Energy meter readings in Wh near 2^40, mostly small increments.
std::vector<uint64_t> Meter() {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> v(kN);
  uint64_t c = uint64_t{1} << 40;
  for (uint64_t& x : v) x = c += rng() % 500;
  return v;
}

// A status flag that changes state about every 300 values.
std::vector<uint8_t> StatusFlags() {
  std::mt19937_64 rng(6);
  std::vector<uint8_t> v(kN);
  uint8_t state = 0;
  for (uint8_t& b : v) b = state ^= rng() % 300 == 0;
  return v;
}

std::vector<uint8_t> RandomBools() {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> v(kN);
  for (uint8_t& b : v) b = rng() & 1;
  return v;
}

std::vector<std::string> LowCardinalityStrings() {
  std::mt19937_64 rng(8);
  std::vector<std::string> v(kN);
  for (std::string& s : v) s = "line-" + std::to_string(rng() % 16) + "/pump/state";
  return v;
}

template <typename T, typename Encode>
void RunEncode(benchmark::State& state, const std::vector<T>& values, Encode encode) {
  std::string block;
  for (auto _ : state) {
    block.clear();
    if (!encode(values, &block).ok()) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(block.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.counters["bytes/value"] = static_cast<double>(block.size()) / values.size();
}

template <typename T, typename Out, typename Encode, typename Decode>
void RunDecode(benchmark::State& state, const std::vector<T>& values, Encode encode,
               Decode decode) {
  std::string block;
  if (!encode(values, &block).ok()) state.SkipWithError("encode failed");
  std::vector<Out> out;
  for (auto _ : state) {
    out.clear();
    if (!decode(block, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.counters["bytes/value"] = static_cast<double>(block.size()) / values.size();
}

// Decode plus sum/min/max of the values: what a warm-segment aggregate costs per value.
// `options` chooses whether the block may be zstd/LZ4-wrapped (the default) or codec-only.
void RunDecodeAggregate(benchmark::State& state, const std::vector<double>& values,
                        const EncodeOptions& options = {}) {
  std::string block;
  if (!EncodeDoubleBlock(values, &block, options).ok()) state.SkipWithError("encode failed");
  std::vector<double> out;
  for (auto _ : state) {
    out.clear();
    if (!DecodeDoubleBlock(block, &out).ok()) state.SkipWithError("decode failed");
    // Four independent lanes, as an aggregation kernel would use: one addition chain alone is
    // bound by the latency of an add.
    double sum[4] = {0, 0, 0, 0};
    double lo[4], hi[4];
    std::fill(lo, lo + 4, std::numeric_limits<double>::infinity());
    std::fill(hi, hi + 4, -std::numeric_limits<double>::infinity());
    const size_t n = out.size() / 4 * 4;
    for (size_t i = 0; i < n; i += 4) {
      for (size_t k = 0; k < 4; ++k) {
        const double v = out[i + k];
        sum[k] += v;
        lo[k] = v < lo[k] ? v : lo[k];
        hi[k] = v > hi[k] ? v : hi[k];
      }
    }
    for (size_t i = n; i < out.size(); ++i) {
      sum[0] += out[i];
      lo[0] = std::min(lo[0], out[i]);
      hi[0] = std::max(hi[0], out[i]);
    }
    benchmark::DoNotOptimize(sum[0] + sum[1] + sum[2] + sum[3]);
    benchmark::DoNotOptimize(std::min({lo[0], lo[1], lo[2], lo[3]}));
    benchmark::DoNotOptimize(std::max({hi[0], hi[1], hi[2], hi[3]}));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.counters["bytes/value"] = static_cast<double>(block.size()) / values.size();
}

auto EncodeTs = [](const std::vector<int64_t>& v, std::string* b) {
  return EncodeTimestampBlock(v, b);
};
auto EncodeF64 = [](const std::vector<double>& v, std::string* b) {
  return EncodeDoubleBlock(v, b);
};
auto EncodeI64 = [](const std::vector<int64_t>& v, std::string* b) {
  return EncodeInt64Block(v, b);
};
auto EncodeU64 = [](const std::vector<uint64_t>& v, std::string* b) {
  return EncodeUInt64Block(v, b);
};
auto EncodeBool = [](const std::vector<uint8_t>& v, std::string* b) {
  return EncodeBoolBlock(v, b);
};
auto EncodeStr = [](const std::vector<std::string>& v, std::string* b) {
  const std::vector<std::string_view> views(v.begin(), v.end());
  return EncodeStringBlock(views, b);
};

const std::vector<double>& Temperatures() {
  static const auto* v = new std::vector<double>(DecimalWalk(2, 20, 90, 1));
  return *v;
}
const std::vector<double>& Pressures() {
  static const auto* v = new std::vector<double>(DecimalWalk(3, 1, 10, 2));
  return *v;
}

void BM_EncodeRegularTimestamps(benchmark::State& s) {
  RunEncode(s, RegularTimestamps(), EncodeTs);
}
void BM_DecodeRegularTimestamps(benchmark::State& s) {
  RunDecode<int64_t, int64_t>(s, RegularTimestamps(), EncodeTs, DecodeTimestampBlock);
}
void BM_EncodeJitteredTimestamps(benchmark::State& s) {
  RunEncode(s, JitteredTimestamps(), EncodeTs);
}
void BM_DecodeJitteredTimestamps(benchmark::State& s) {
  RunDecode<int64_t, int64_t>(s, JitteredTimestamps(), EncodeTs, DecodeTimestampBlock);
}
void BM_EncodeTemperature2Dec(benchmark::State& s) { RunEncode(s, Temperatures(), EncodeF64); }
void BM_DecodeTemperature2Dec(benchmark::State& s) {
  RunDecode<double, double>(s, Temperatures(), EncodeF64, DecodeDoubleBlock);
}
void BM_DecodeSumMinMaxTemperature2Dec(benchmark::State& s) {
  RunDecodeAggregate(s, Temperatures());
}
void BM_DecodeSumMinMaxTemperature2DecNoZstd(benchmark::State& s) {
  RunDecodeAggregate(s, Temperatures(), {.general_compression = false});
}
void BM_EncodePressure3Dec(benchmark::State& s) { RunEncode(s, Pressures(), EncodeF64); }
void BM_DecodePressure3Dec(benchmark::State& s) {
  RunDecode<double, double>(s, Pressures(), EncodeF64, DecodeDoubleBlock);
}
void BM_DecodeSumMinMaxPressure3Dec(benchmark::State& s) { RunDecodeAggregate(s, Pressures()); }
void BM_DecodeSumMinMaxPressure3DecNoZstd(benchmark::State& s) {
  RunDecodeAggregate(s, Pressures(), {.general_compression = false});
}
void BM_EncodeRandomDoubles(benchmark::State& s) { RunEncode(s, RandomDoubles(), EncodeF64); }
void BM_DecodeRandomDoubles(benchmark::State& s) {
  RunDecode<double, double>(s, RandomDoubles(), EncodeF64, DecodeDoubleBlock);
}
void BM_EncodeCounterInt64(benchmark::State& s) { RunEncode(s, Counter(), EncodeI64); }
void BM_DecodeCounterInt64(benchmark::State& s) {
  RunDecode<int64_t, int64_t>(s, Counter(), EncodeI64, DecodeInt64Block);
}
void BM_EncodeMeterUInt64(benchmark::State& s) { RunEncode(s, Meter(), EncodeU64); }
void BM_DecodeMeterUInt64(benchmark::State& s) {
  RunDecode<uint64_t, uint64_t>(s, Meter(), EncodeU64, DecodeUInt64Block);
}
void BM_EncodeStatusFlags(benchmark::State& s) { RunEncode(s, StatusFlags(), EncodeBool); }
void BM_DecodeStatusFlags(benchmark::State& s) {
  RunDecode<uint8_t, uint8_t>(s, StatusFlags(), EncodeBool, DecodeBoolBlock);
}
void BM_EncodeRandomBools(benchmark::State& s) { RunEncode(s, RandomBools(), EncodeBool); }
void BM_DecodeRandomBools(benchmark::State& s) {
  RunDecode<uint8_t, uint8_t>(s, RandomBools(), EncodeBool, DecodeBoolBlock);
}
void BM_EncodeLowCardinalityStrings(benchmark::State& s) {
  RunEncode(s, LowCardinalityStrings(), EncodeStr);
}
void BM_DecodeLowCardinalityStrings(benchmark::State& s) {
  RunDecode<std::string, std::string>(s, LowCardinalityStrings(), EncodeStr, DecodeStringBlock);
}

BENCHMARK(BM_EncodeRegularTimestamps);
BENCHMARK(BM_DecodeRegularTimestamps);
BENCHMARK(BM_EncodeJitteredTimestamps);
BENCHMARK(BM_DecodeJitteredTimestamps);
BENCHMARK(BM_EncodeTemperature2Dec);
BENCHMARK(BM_DecodeTemperature2Dec);
BENCHMARK(BM_DecodeSumMinMaxTemperature2Dec);
BENCHMARK(BM_DecodeSumMinMaxTemperature2DecNoZstd);
BENCHMARK(BM_EncodePressure3Dec);
BENCHMARK(BM_DecodePressure3Dec);
BENCHMARK(BM_DecodeSumMinMaxPressure3Dec);
BENCHMARK(BM_DecodeSumMinMaxPressure3DecNoZstd);
BENCHMARK(BM_EncodeRandomDoubles);
BENCHMARK(BM_DecodeRandomDoubles);
BENCHMARK(BM_EncodeCounterInt64);
BENCHMARK(BM_DecodeCounterInt64);
BENCHMARK(BM_EncodeMeterUInt64);
BENCHMARK(BM_DecodeMeterUInt64);
BENCHMARK(BM_EncodeStatusFlags);
BENCHMARK(BM_DecodeStatusFlags);
BENCHMARK(BM_EncodeRandomBools);
BENCHMARK(BM_DecodeRandomBools);
BENCHMARK(BM_EncodeLowCardinalityStrings);
BENCHMARK(BM_DecodeLowCardinalityStrings);

}  // namespace
}  // namespace seaway::codec

BENCHMARK_MAIN();
