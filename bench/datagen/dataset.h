// Dataset generator for benchmarks (bench/datagen): the rows that Seaway and its peers ingest in
// the same run. One library, used by the `seaway_datagen` command (line protocol, ClickHouse TSV)
// and by the Seaway storage benchmark (WriteBatches in memory), so that every system sees
// exactly the same rows.
//
//   Generator gen(spec);
//   Row row;
//   while (gen.Next(&row)) AppendLineProtocol(gen.schema(), row, &out);
//
// Datasets:
//   industrial  one row per machine every 10 s: tags site, line, machine_id, model; fields
//               temperature, vibration, pressure, current, speed (bounded random walks with 2-3
//               decimals), parts (a monotonic counter) and status (0-5, rarely changes).
//   cpu-only    TSBS cpu-only shaped: one row per host every 10 s, 10 tags, 10 usage_* fields
//               (random walks within 0-100). TSBS emits full-precision float64 values; we round
//               to 2 decimals, as a real agent reporting percentages would.
//
// Floats are generated as scaled integers (value * 10^decimals) so that the text formats print
// them exactly and Seaway receives the double nearest to the same decimal text.
//
// Rows come in time order: every entity at the first timestamp, then every entity at the next.
// The same spec (including the seed) always yields the same rows.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seaway::datagen {

enum class DatasetKind { kIndustrial, kCpuOnly };

// "industrial" / "cpu-only"; false when `name` is neither.
bool ParseDatasetKind(std::string_view name, DatasetKind* kind);
std::string_view DatasetKindName(DatasetKind kind);

struct DatasetSpec {
  DatasetKind kind = DatasetKind::kIndustrial;
  int entities = 1000;                              // machines or hosts
  int timestamps = 720;                             // rows per entity
  int64_t start_ns = 1767225600LL * 1'000'000'000;  // 2026-01-01T00:00:00Z
  int64_t interval_ns = 10LL * 1'000'000'000;
  uint64_t seed = 1;

  int64_t rows() const { return static_cast<int64_t>(entities) * timestamps; }
};

struct FieldSpec {
  std::string name;
  bool is_integer = false;  // int64; otherwise a float printed with `decimals` decimals
  int decimals = 0;
};

struct DatasetSchema {
  std::string measurement;            // table name in every system
  std::vector<std::string> tag_keys;  // in column order
  std::vector<FieldSpec> fields;      // in column order
  std::string primary_tag;            // the tag that names one entity (machine_id, hostname)
};

// One generated row. `tags` points into the generator (one entry per tag key) and `values` holds
// one entry per field: the integer itself, or the float scaled by 10^decimals.
struct Row {
  int64_t time_ns = 0;
  int entity = 0;
  const std::string* tags = nullptr;
  const int64_t* values = nullptr;

  // The float value of field `i` (REQUIRES: a float field with `decimals` decimals).
  double FloatValue(size_t i, int decimals) const;
};

class Generator {
 public:
  explicit Generator(const DatasetSpec& spec);

  const DatasetSpec& spec() const { return spec_; }
  const DatasetSchema& schema() const { return schema_; }

  // Fills `row` with the next row; false after the last one. `row` stays valid until the next
  // call.
  bool Next(Row* row);

 private:
  struct Walk {
    int64_t lo, hi, max_step;  // scaled units
  };
  void InitIndustrial();
  void InitCpuOnly();
  void Step(int entity);
  uint64_t Random();
  int64_t Uniform(int64_t lo, int64_t hi);  // inclusive

  DatasetSpec spec_;
  DatasetSchema schema_;
  std::vector<Walk> walks_;        // per float field
  std::vector<std::string> tags_;  // entities x tag keys
  std::vector<int64_t> values_;    // entities x fields: the current value
  uint64_t rng_state_;
  int next_entity_ = 0;
  int next_timestamp_ = 0;
};

}  // namespace seaway::datagen
