// Fuzz target for the column codecs (src/storage/codec/column_codec.h). The input is decoded as
// a block of every column type. A rejection must be a Corruption whose message names the type;
// an accepted block must survive re-encoding: encode the decoded values, decode again, and get
// the same values back (bit for bit for doubles).
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "storage/codec/column_codec.h"

namespace {

using namespace seaway::codec;  // NOLINT(google-build-using-namespace): fuzz target

void CheckRejection(ColumnType type, const seaway::Status& status) {
  if (status.code() != seaway::StatusCode::kCorruption) std::abort();
  const std::string prefix = std::string(ColumnTypeName(type)) + " block: ";
  if (!status.message().starts_with(prefix)) std::abort();
}

template <typename T>
bool SameValues(const std::vector<T>& a, const std::vector<T>& b) {
  if constexpr (std::is_same_v<T, double>) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(b[i])) return false;
    }
    return true;
  } else {
    return a == b;
  }
}

// Decodes `block` as `type`; if accepted, re-encodes with and without general compression and
// checks that both decode to the same values.
template <typename T, typename Decode, typename Encode>
void Check(ColumnType type, std::string_view block, Decode decode, Encode encode) {
  std::vector<T> values;
  const seaway::Status status = decode(block, &values);
  if (!status.ok()) {
    CheckRejection(type, status);
    if (!values.empty()) std::abort();  // a failed decode leaves the output untouched
    return;
  }
  for (bool compress : {false, true}) {
    std::string again;
    if (!encode(values, &again, EncodeOptions{.general_compression = compress}).ok()) std::abort();
    std::vector<T> round_trip;
    if (!decode(again, &round_trip).ok()) std::abort();
    if (!SameValues(values, round_trip)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view block(reinterpret_cast<const char*>(data), size);
  Check<int64_t>(ColumnType::kTimestamp, block, DecodeTimestampBlock,
                 [](const std::vector<int64_t>& v, std::string* out, const EncodeOptions& o) {
                   return EncodeTimestampBlock(v, out, o);
                 });
  Check<double>(ColumnType::kDouble, block, DecodeDoubleBlock,
                [](const std::vector<double>& v, std::string* out, const EncodeOptions& o) {
                  return EncodeDoubleBlock(v, out, o);
                });
  Check<int64_t>(ColumnType::kInt64, block, DecodeInt64Block,
                 [](const std::vector<int64_t>& v, std::string* out, const EncodeOptions& o) {
                   return EncodeInt64Block(v, out, o);
                 });
  Check<uint64_t>(ColumnType::kUInt64, block, DecodeUInt64Block,
                  [](const std::vector<uint64_t>& v, std::string* out, const EncodeOptions& o) {
                    return EncodeUInt64Block(v, out, o);
                  });
  Check<uint8_t>(ColumnType::kBool, block, DecodeBoolBlock,
                 [](const std::vector<uint8_t>& v, std::string* out, const EncodeOptions& o) {
                   return EncodeBoolBlock(v, out, o);
                 });
  Check<std::string>(
      ColumnType::kString, block, DecodeStringBlock,
      [](const std::vector<std::string>& v, std::string* out, const EncodeOptions& o) {
        const std::vector<std::string_view> views(v.begin(), v.end());
        return EncodeStringBlock(views, out, o);
      });
  return 0;
}
