// seaway-inspect (tools/inspect): prints Seaway's on-disk files as people read them, for
// debugging, support and format work. Read-only: it never changes a file.
//
//   seaway-inspect wal FILE [--records]
//   seaway-inspect segment FILE [--series] [--chunks] [--values N]
//   seaway-inspect manifest DIR
//
// Errors go to stderr, naming the file and offset, with exit code 1.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "inspect/inspect_manifest.h"
#include "inspect/inspect_segment.h"
#include "inspect/inspect_wal.h"

namespace seaway::inspect {
namespace {

int Report(const Status& status) {
  if (status.ok()) return 0;
  std::fflush(stdout);  // the report so far first, then the error
  fmt::print(stderr, "seaway-inspect: {}\n", status.ToString());
  return 1;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "Prints Seaway's on-disk files: WAL files, segment files and shard manifests "
      "(docs/formats/)",
      "seaway-inspect"};
  app.require_subcommand(1);

  std::string wal_file;
  WalOptions wal_options;
  CLI::App* wal = app.add_subcommand("wal", "Frames of a WAL file, and how it ends");
  wal->add_option("FILE", wal_file, "A WAL file (NNNNNNNNNNNN.wal)")->required();
  wal->add_flag("--records", wal_options.records, "Decode every record");

  std::string segment_file;
  SegmentOptions segment_options;
  CLI::App* segment = app.add_subcommand("segment", "Header, columns and series of a segment");
  segment->add_option("FILE", segment_file, "A segment file (seg-NNNNNNNNNNNN.sws)")->required();
  segment->add_flag("--series", segment_options.series, "One line per series");
  segment->add_flag("--chunks", segment_options.chunks,
                    "Every chunk: blocks (offset, bytes, codec) and statistics");
  segment->add_option("--values", segment_options.values, "Print the first N rows of each series");

  std::string manifest_dir;
  CLI::App* manifest =
      app.add_subcommand("manifest", "A shard's MANIFEST and the files it does not list");
  manifest->add_option("DIR", manifest_dir, "A shard directory (DATA/storage/shard-NNN)")
      ->required();

  CLI11_PARSE(app, argc, argv);
  Env* env = Env::Default();
  if (wal->parsed()) return Report(InspectWal(env, wal_file, wal_options));
  if (segment->parsed()) return Report(InspectSegment(env, segment_file, segment_options));
  if (manifest->parsed()) return Report(InspectManifest(env, manifest_dir));
  return 0;
}

}  // namespace
}  // namespace seaway::inspect

int main(int argc, char** argv) { return seaway::inspect::Main(argc, argv); }
