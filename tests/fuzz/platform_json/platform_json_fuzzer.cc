// Fuzz target for the platform routes' JSON bodies (src/http/platform_request.h): ParseJson,
// ParseObject and ParseObject with a field list, over any bytes. Checks more than "does not
// crash": nothing accepted nests deeper than kMaxJsonDepth; an accepted object really is one and
// has only the listed fields; every refusal says why; and an accepted document prints to JSON
// that parses back to the same document.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "http/platform_request.h"

namespace {

// Levels of objects and arrays: a scalar is 0, `[]` is 1. Recursion is safe: the parse refused
// anything deeper than kMaxJsonDepth.
int Depth(const nlohmann::json& j) {
  if (!j.is_structured()) return 0;
  int deepest = 0;
  for (const nlohmann::json& child : j) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);

  auto parsed = seaway::ParseJson(body);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
  } else {
    FUZZ_CHECK(Depth(*parsed) <= seaway::kMaxJsonDepth);
    // What the routes print back (answers, stored twins) parses again to itself. The first print
    // may differ from the input (numbers too large for a double print as null), the second not.
    const std::string printed = parsed->dump();
    auto again = seaway::ParseJson(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->dump() == printed);
  }

  auto object = seaway::ParseObject(body);
  FUZZ_CHECK(object.ok() == (parsed.ok() && parsed->is_object()));
  if (!object.ok()) FUZZ_CHECK(!object.status().message().empty());

  auto fields = seaway::ParseObject(body, {"name", "customer", "attributes"});
  if (fields.ok()) {
    FUZZ_CHECK(object.ok());
    for (const auto& [key, value] : fields->items()) {
      FUZZ_CHECK(key == "name" || key == "customer" || key == "attributes");
    }
  } else {
    FUZZ_CHECK(!fields.status().message().empty());
  }
  return 0;
}
