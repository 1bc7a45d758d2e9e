// Fuzz target for the JSON telemetry decoder (src/ingest/json_telemetry.h) and its RFC 3339
// parser: any bytes either become rows or item errors with a message; every produced batch
// passes the engine's validation; rows equal points; errors name items in increasing order and
// invalid JSON by its byte offset; an array is refused exactly when simdjson refuses it whole;
// decoding is deterministic (the thread's parser keeps no state
// that leaks between bodies). The body is decoded twice: with the default limits and with tiny
// ones, to reach the limit paths, and once more as a device payload (the MQTT telemetry topic).
// SplitJsonTelemetry cuts the body into the items the decoder numbers.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "ingest/json_telemetry.h"
#include "ingest/rfc3339.h"

namespace {

void Check(std::string_view body, const seaway::JsonTelemetryOptions& options) {
  auto result = seaway::DecodeJsonTelemetry(body, options);
  size_t rows = 0;
  for (size_t i = 0; i < result.batches.size(); ++i) {
    const auto& b = result.batches[i];
    FUZZ_CHECK(b.rows() > 0);
    FUZZ_CHECK(b.Validate().ok());
    FUZZ_CHECK(b.tenant() == options.tenant && b.database() == options.database);
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(result.batches[j].table() != b.table());
    rows += b.rows();
  }
  FUZZ_CHECK(rows == result.points);
  // Every item takes at least two bytes ("{}"), so no item number exceeds the body's size.
  FUZZ_CHECK(result.points + result.errors.size() <= body.size());
  size_t previous = 0;
  for (const auto& e : result.errors) {
    FUZZ_CHECK(e.line > previous && e.line <= body.size() && !e.message.empty());
    // Whatever simdjson refuses, the decoder's own scan finds where.
    FUZZ_CHECK(!e.message.starts_with("invalid JSON:"));
    previous = e.line;
  }

  // An array is split into its elements, each parsed alone: it is malformed (one error, nothing
  // stored) exactly when simdjson refuses it whole. (Only depth differs: an element alone may
  // nest one level deeper.)
  std::string_view trimmed = body.substr(body.starts_with("\xEF\xBB\xBF") ? 3 : 0);
  trimmed.remove_prefix(std::min(trimmed.size(), trimmed.find_first_not_of(" \t\r\n")));
  if (trimmed.starts_with('[')) {
    simdjson::dom::parser parser;
    const simdjson::error_code whole = parser.parse(trimmed.data(), trimmed.size()).error();
    const bool one_error = result.errors.size() == 1 && result.points == 0 &&
                           result.errors[0].message.starts_with("invalid JSON at byte offset");
    if (whole == simdjson::SUCCESS) FUZZ_CHECK(!one_error);
    if (whole != simdjson::SUCCESS && whole != simdjson::DEPTH_ERROR) FUZZ_CHECK(one_error);
  }

  auto again = seaway::DecodeJsonTelemetry(body, options);
  FUZZ_CHECK(again.points == result.points && again.errors.size() == result.errors.size());
  for (size_t i = 0; i < again.errors.size(); ++i) {
    FUZZ_CHECK(again.errors[i].line == result.errors[i].line);
    FUZZ_CHECK(again.errors[i].message == result.errors[i].message);
  }

  // SplitJsonTelemetry (the HTTP front end's item-by-item path): slices of the body in
  // increasing item numbers; decoded one by one they store at least what the whole stores (the
  // whole may refuse an item for a type conflict with an earlier one).
  size_t last = 0, points = 0;
  for (const auto& [number, text] : seaway::SplitJsonTelemetry(body)) {
    FUZZ_CHECK(number > last && number <= body.size());
    FUZZ_CHECK(text.data() >= body.data() &&
               text.data() + text.size() <= body.data() + body.size());
    last = number;
    points += seaway::DecodeJsonTelemetry(text, options).points;
  }
  FUZZ_CHECK(points >= result.points);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  seaway::JsonTelemetryOptions options;
  options.tenant = seaway::TenantId(1);
  options.default_time_ns = 42;
  Check(body, options);

  options.limits.max_line_bytes = 96;
  options.limits.max_tags = 2;
  options.limits.max_fields = 3;
  options.limits.max_key_bytes = 8;
  options.limits.max_string_bytes = 16;
  Check(body, options);

  // Device payloads (MQTT devices/<id>/telemetry): the objects are the fields themselves.
  options.limits = seaway::IngestLimits{};
  options.device = seaway::JsonTelemetryOptions::Device{"telemetry", "device", "press-7"};
  Check(body, options);

  auto ns = seaway::ParseRfc3339(body);
  FUZZ_CHECK(ns.ok() ? body.size() >= 20 && body.size() <= 35 : !ns.status().message().empty());
  return 0;
}
