// Fuzz target for the config-file parser (src/common/config_file.h). Checks more than "does not
// crash": every accepted entry has a well-formed key, a line inside the input, and unique keys.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "common/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = seaway::ParseConfigText(text, "fuzz");
  if (!result.ok()) {
    if (result.status().message().empty()) std::abort();
    return 0;
  }
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  std::set<std::string> keys;
  for (const auto& entry : *result) {
    if (entry.key.empty() || entry.line < 1 || static_cast<size_t>(entry.line) > lines)
      std::abort();
    if (!keys.insert(entry.key).second) std::abort();
  }
  return 0;
}
