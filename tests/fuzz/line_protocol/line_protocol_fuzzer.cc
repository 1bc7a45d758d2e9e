// Fuzz target for the line protocol parser (src/ingest/line_protocol.h): any bytes either become
// rows or line errors with a message; every produced batch passes the engine's validation, and
// the row and error counts never exceed the number of lines; and the SIMD fast path agrees with
// the byte-by-byte parser on every body; SplitLineProtocol cuts the body into the lines the
// parser numbers.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ingest/line_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  seaway::LineProtocolOptions options;
  options.tenant = seaway::TenantId(1);
  auto result = seaway::ParseLineProtocol(body, options);
  size_t lines = 1;
  for (char c : body) lines += c == '\n';
  size_t rows = 0;
  for (const auto& b : result.batches) {
    FUZZ_CHECK(b.rows() > 0);
    FUZZ_CHECK(b.Validate().ok());
    rows += b.rows();
  }
  FUZZ_CHECK(rows == result.points);
  FUZZ_CHECK(result.points + result.errors.size() <= lines);
  for (const auto& e : result.errors)
    FUZZ_CHECK(e.line >= 1 && e.line <= lines && !e.message.empty());

  options.fast_path = false;
  auto slow = seaway::ParseLineProtocol(body, options);
  FUZZ_CHECK(slow.points == result.points);
  FUZZ_CHECK(slow.batches == result.batches);
  FUZZ_CHECK(slow.errors.size() == result.errors.size());
  for (size_t i = 0; i < slow.errors.size(); ++i) {
    FUZZ_CHECK(slow.errors[i].line == result.errors[i].line);
    FUZZ_CHECK(slow.errors[i].message == result.errors[i].message);
  }

  // SplitLineProtocol (the front ends' line-by-line path): one slice of the body per line that
  // becomes a point or an error, in increasing line numbers; each parsed alone is one of the two.
  const auto split = seaway::SplitLineProtocol(body);
  FUZZ_CHECK(split.size() == result.points + result.errors.size());
  size_t last = 0, e = 0;
  for (const auto& [number, line] : split) {
    FUZZ_CHECK(number > last && number <= lines);
    FUZZ_CHECK(line.data() >= body.data() && line.data() + line.size() <= body.data() + size);
    last = number;
    if (e < result.errors.size() && result.errors[e].line == number) ++e;
    if (split.size() <= 64) {  // each line parsed alone: bounded, to keep runs fast
      const auto one = seaway::ParseLineProtocol(line, options);
      FUZZ_CHECK(one.points + one.errors.size() == 1);
    }
  }
  FUZZ_CHECK(e == result.errors.size());  // every error names one of those lines
  return 0;
}
