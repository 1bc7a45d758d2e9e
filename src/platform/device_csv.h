// Device lists in CSV for bulk provisioning (src/platform): `name[,customer id]` per line, an
// optional `name,customer` header first, blank lines skipped, CRLF accepted. Socket-free, so it
// is fuzzed alone (tests/fuzz/device_csv).
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "platform/metadata_store.h"

namespace seaway {

struct DeviceCsvRow {
  NewDevice device;
  size_t line = 0;  // 1-based, for errors
};

inline constexpr size_t kMaxDevicesPerImport = 10'000;

// The rows; InvalidArgument naming the line for a customer that is not an id, more than
// kMaxDevicesPerImport rows, or no rows at all. Names are checked when the devices are created.
Result<std::vector<DeviceCsvRow>> ParseDeviceCsv(std::string_view text);

}  // namespace seaway
