// Formatting helpers of seaway-inspect (tools/inspect).
#include "inspect/inspect_format.h"

#include <time.h>

#include <bit>

#include <fmt/format.h>

#include "storage/codec/column_codec.h"

namespace seaway::inspect {

std::string FormatTime(int64_t nanos) {
  int64_t secs = nanos / 1'000'000'000;
  int64_t frac = nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const time_t tt = static_cast<time_t>(secs);
  tm parts;
  gmtime_r(&tt, &parts);
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", parts.tm_year + 1900, parts.tm_mon + 1,
                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  if (frac % 1'000'000 == 0 && frac != 0) {
    out += fmt::format(".{:03}", frac / 1'000'000);
  } else if (frac % 1'000 == 0 && frac != 0) {
    out += fmt::format(".{:06}", frac / 1'000);
  } else if (frac != 0) {
    out += fmt::format(".{:09}", frac);
  }
  return out + "Z";
}

std::string FormatBits(FieldType type, uint64_t bits) {
  switch (type) {
    case FieldType::kDouble: return fmt::format("{}", std::bit_cast<double>(bits));
    case FieldType::kInt64: return fmt::format("{}", static_cast<int64_t>(bits));
    case FieldType::kUInt64: return fmt::format("{}", bits);
    case FieldType::kBool: return bits == 0 ? "false" : "true";
    case FieldType::kString: break;
  }
  return "-";
}

std::string FormatString(std::string_view value, size_t max_chars) {
  if (value.size() <= max_chars) return fmt::format("{:?}", value);
  return fmt::format("{:?}...", value.substr(0, max_chars));
}

std::string CodecName(uint8_t id) {
  using codec::CodecId;
  using codec::ColumnType;
  switch (static_cast<CodecId>(id)) {
    case CodecId::kTimestamp: return std::string(ColumnTypeName(ColumnType::kTimestamp));
    case CodecId::kDouble: return std::string(ColumnTypeName(ColumnType::kDouble));
    case CodecId::kInt64: return std::string(ColumnTypeName(ColumnType::kInt64));
    case CodecId::kUInt64: return std::string(ColumnTypeName(ColumnType::kUInt64));
    case CodecId::kBool: return std::string(ColumnTypeName(ColumnType::kBool));
    case CodecId::kString: return std::string(ColumnTypeName(ColumnType::kString));
    case CodecId::kZstd: return "zstd";
    case CodecId::kLz4: return "lz4";
  }
  return fmt::format("unknown(0x{:02x})", id);
}

std::string FormatTags(const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& values) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    if (values[i].empty()) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}", keys[i], values[i]);
  }
  return out.empty() ? "(no tags)" : out;
}

std::string FormatRatio(uint64_t numerator, uint64_t denominator) {
  if (denominator == 0) return "-";
  return fmt::format("{:.2f}", static_cast<double>(numerator) / static_cast<double>(denominator));
}

}  // namespace seaway::inspect
