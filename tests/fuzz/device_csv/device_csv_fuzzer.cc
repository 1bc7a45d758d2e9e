// Fuzz target for the device CSV parser (src/platform/device_csv.h). Checks more than "does not
// crash": rows come in line order, inside the input, within the row limit, and names hold no
// line break; errors carry a message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "platform/device_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rows = seaway::ParseDeviceCsv(text);
  if (!rows.ok()) {
    if (rows.status().message().empty()) std::abort();
    return 0;
  }
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (rows->empty() || rows->size() > seaway::kMaxDevicesPerImport) std::abort();
  size_t previous = 0;
  for (const auto& row : *rows) {
    if (row.line <= previous || row.line > lines) std::abort();
    if (row.device.name.find('\n') != std::string::npos) std::abort();
    previous = row.line;
  }
  return 0;
}
