// Device lists in CSV (src/platform/device_csv.h).
#include "platform/device_csv.h"

#include <string>

namespace seaway {

Result<std::vector<DeviceCsvRow>> ParseDeviceCsv(std::string_view text) {
  std::vector<DeviceCsvRow> rows;
  for (size_t line = 1; !text.empty(); ++line) {
    const size_t end = text.find('\n');
    std::string_view row = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.empty() || (line == 1 && (row == "name" || row.starts_with("name,")))) continue;
    if (rows.size() == kMaxDevicesPerImport) {
      return InvalidArgument("line {}: at most {} devices per import", line, kMaxDevicesPerImport);
    }
    const size_t comma = row.find(',');
    DeviceCsvRow out;
    out.line = line;
    out.device.name = std::string(row.substr(0, comma));
    if (comma != std::string_view::npos) {
      const std::string_view customer = row.substr(comma + 1);
      if (!customer.empty()) {
        if (customer.size() > 18 || customer.find_first_not_of("0123456789") != std::string::npos) {
          return InvalidArgument("line {}: customer '{}' is not a customer id", line,
                                 customer.substr(0, 40));
        }
        out.device.customer = CustomerId(std::stoull(std::string(customer)));
      }
    }
    rows.push_back(std::move(out));
  }
  if (rows.empty()) return InvalidArgument("no devices: send CSV lines name[,customer]");
  return rows;
}

}  // namespace seaway
