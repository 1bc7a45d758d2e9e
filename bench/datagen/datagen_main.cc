// seaway_datagen (bench/datagen): writes a benchmark dataset as InfluxDB line protocol or
// ClickHouse TSV, or prints the ClickHouse table for it, or a summary of it.
//
//   seaway_datagen --dataset industrial --format lp  --output /tmp/x.lp
//   seaway_datagen --dataset industrial --format tsv --output /tmp/x.tsv
//   seaway_datagen --dataset cpu-only --scale 100 --rows-per-machine 8640 --format lp
//   seaway_datagen --dataset industrial --format clickhouse-ddl --database bench
//   seaway_datagen --dataset industrial --format info     # key=value lines for scripts
#include <stdio.h>
#include <time.h>

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "datagen/dataset.h"
#include "datagen/row_format.h"

namespace seaway::datagen {
namespace {

// "2026-01-01T00:00:00Z" -> ns since epoch; false when not in that exact UTC form.
bool ParseStart(const std::string& text, int64_t* ns) {
  struct tm tm = {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return false;
  *ns = static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
  return true;
}

bool WriteAll(FILE* f, const std::string& data) {
  return fwrite(data.data(), 1, data.size(), f) == data.size();
}

int Run(int argc, char** argv) {
  CLI::App app{"Seaway benchmark dataset generator (bench/datagen)"};
  std::string dataset = "industrial", format = "lp", start = "2026-01-01T00:00:00Z";
  std::string output = "-", database = "bench";
  DatasetSpec spec;
  int64_t interval_s = 10;
  app.add_option("--dataset", dataset, "industrial | cpu-only")->capture_default_str();
  app.add_option("--scale,--machines,--hosts", spec.entities, "machines or hosts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rows-per-machine,--timestamps", spec.timestamps, "rows per machine or host")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", spec.seed, "random seed")->capture_default_str();
  app.add_option("--start", start, "first timestamp, UTC (YYYY-MM-DDThh:mm:ssZ)")
      ->capture_default_str();
  app.add_option("--interval-s", interval_s, "seconds between rows of one machine")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--format", format, "lp | tsv | clickhouse-ddl | info")->capture_default_str();
  app.add_option("--database", database, "database name for clickhouse-ddl")->capture_default_str();
  app.add_option("--output,-o", output, "output file, - for stdout")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!ParseDatasetKind(dataset, &spec.kind)) {
    fmt::print(stderr, "seaway_datagen: unknown dataset '{}' (industrial | cpu-only)\n", dataset);
    return 2;
  }
  if (!ParseStart(start, &spec.start_ns)) {
    fmt::print(stderr, "seaway_datagen: --start '{}' is not YYYY-MM-DDThh:mm:ssZ\n", start);
    return 2;
  }
  spec.interval_ns = interval_s * 1'000'000'000;

  Generator gen(spec);
  RowFormatter formatter(gen.schema());
  if (format == "info") {
    fmt::print("dataset={}\nmeasurement={}\nprimary_tag={}\nrows={}\nfields={}\nvalues={}\n",
               DatasetKindName(spec.kind), gen.schema().measurement, gen.schema().primary_tag,
               spec.rows(), gen.schema().fields.size(),
               spec.rows() * static_cast<int64_t>(gen.schema().fields.size()));
    return 0;
  }
  if (format == "clickhouse-ddl") {
    fmt::print("{}\n", formatter.ClickHouseCreateTable(database));
    return 0;
  }
  if (format != "lp" && format != "tsv") {
    fmt::print(stderr, "seaway_datagen: unknown format '{}'\n", format);
    return 2;
  }

  FILE* out = output == "-" ? stdout : fopen(output.c_str(), "wb");
  if (out == nullptr) {
    fmt::print(stderr, "seaway_datagen: cannot open '{}' for writing\n", output);
    return 1;
  }
  std::string buf;
  buf.reserve(1 << 21);
  Row row;
  bool ok = true;
  while (ok && gen.Next(&row)) {
    if (format == "lp") {
      formatter.AppendLineProtocol(row, &buf);
    } else {
      formatter.AppendTsv(row, &buf);
    }
    if (buf.size() >= (1 << 20)) {
      ok = WriteAll(out, buf);
      buf.clear();
    }
  }
  ok = ok && WriteAll(out, buf);
  ok = (out == stdout ? fflush(out) : fclose(out)) == 0 && ok;
  if (!ok) {
    fmt::print(stderr, "seaway_datagen: writing '{}' failed\n", output);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace seaway::datagen

int main(int argc, char** argv) { return seaway::datagen::Run(argc, argv); }
