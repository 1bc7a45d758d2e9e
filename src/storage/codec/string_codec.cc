// String codec: plain or dictionary (src/storage/codec).
#include "storage/codec/string_codec.h"

#include <unordered_map>

#include "storage/codec/integer_codec.h"

namespace seaway::codec {
namespace {

void EncodePlain(std::span<const std::string_view> values, std::string* out) {
  out->push_back(static_cast<char>(StringScheme::kPlain));
  std::vector<uint64_t> lengths(values.size());
  for (size_t i = 0; i < values.size(); ++i) lengths[i] = values[i].size();
  EncodeUInt64s(lengths, out);
  for (std::string_view v : values) out->append(v);
}

// Returns false, appending nothing, when every value is distinct (a dictionary cannot win).
bool EncodeDictionary(std::span<const std::string_view> values, std::string* out) {
  std::unordered_map<std::string_view, uint64_t> index;
  std::vector<std::string_view> entries;
  std::vector<uint64_t> ids(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    auto [it, inserted] = index.try_emplace(values[i], entries.size());
    if (inserted) entries.push_back(values[i]);
    ids[i] = it->second;
  }
  if (entries.size() == values.size()) return false;
  out->push_back(static_cast<char>(StringScheme::kDictionary));
  PutVarint64(out, entries.size());
  std::vector<uint64_t> lengths(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) lengths[i] = entries[i].size();
  EncodeUInt64s(lengths, out);
  for (std::string_view e : entries) out->append(e);
  EncodeUInt64s(ids, out);
  return true;
}

// Decodes `count` lengths and checks that their bytes follow in the input; sets *total.
Status DecodeLengths(ByteReader* in, size_t count, std::vector<uint64_t>* lengths,
                     uint64_t* total) {
  lengths->resize(count);
  SW_RETURN_IF_ERROR(DecodeUInt64s(in, count, lengths->data()).WithContext("lengths"));
  uint64_t sum = 0;
  for (uint64_t length : *lengths) {
    // Each term is checked before it is added, so the sum cannot wrap.
    if (length > in->remaining() || sum + length > in->remaining()) {
      return Corruption("string lengths at byte {} exceed the {} bytes that remain", in->position(),
                        in->remaining());
    }
    sum += length;
  }
  *total = sum;
  return Status::OK();
}

Status DecodePlain(ByteReader* in, size_t count, std::vector<std::string>* out) {
  std::vector<uint64_t> lengths;
  uint64_t total;
  SW_RETURN_IF_ERROR(DecodeLengths(in, count, &lengths, &total));
  std::string_view bytes;
  if (!in->ReadBytes(total, &bytes)) return Internal("string bytes vanished");
  out->reserve(out->size() + count);
  size_t offset = 0;
  for (uint64_t length : lengths) {
    out->emplace_back(bytes.substr(offset, length));
    offset += length;
  }
  return Status::OK();
}

Status DecodeDictionary(ByteReader* in, size_t count, std::vector<std::string>* out) {
  const size_t at = in->position();
  uint64_t entries;
  if (!in->ReadVarint64(&entries)) return Corruption("truncated dictionary size at byte {}", at);
  if (entries > count || (entries == 0 && count != 0)) {
    return Corruption("dictionary of {} entries at byte {} for {} values", entries, at, count);
  }
  std::vector<uint64_t> lengths;
  uint64_t total;
  SW_RETURN_IF_ERROR(DecodeLengths(in, entries, &lengths, &total));
  std::string_view bytes;
  if (!in->ReadBytes(total, &bytes)) return Internal("dictionary bytes vanished");
  std::vector<std::string_view> dictionary(entries);
  size_t offset = 0;
  for (size_t i = 0; i < entries; ++i) {
    dictionary[i] = bytes.substr(offset, lengths[i]);
    offset += lengths[i];
  }

  const size_t ids_at = in->position();
  std::vector<uint64_t> ids(count);
  SW_RETURN_IF_ERROR(DecodeUInt64s(in, count, ids.data()).WithContext("dictionary ids"));
  uint64_t decoded_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    if (ids[i] >= entries) {
      return Corruption("dictionary id {} of value {} (ids at byte {}) exceeds {} entries", ids[i],
                        i, ids_at, entries);
    }
    decoded_bytes += dictionary[ids[i]].size();
  }
  // A short input may repeat a long entry; bound what it may make us allocate.
  if (decoded_bytes > kMaxBlockBytes) {
    return Corruption("dictionary values expand to {} bytes, over the {} byte block limit",
                      decoded_bytes, kMaxBlockBytes);
  }
  out->reserve(out->size() + count);
  for (uint64_t id : ids) out->emplace_back(dictionary[id]);
  return Status::OK();
}

}  // namespace

void EncodeStringPayload(std::span<const std::string_view> values, std::string* out) {
  std::string plain;
  EncodePlain(values, &plain);
  std::string dictionary;
  if (EncodeDictionary(values, &dictionary) && dictionary.size() < plain.size()) {
    out->append(dictionary);
  } else {
    out->append(plain);
  }
}

Status DecodeStringPayload(ByteReader* in, size_t count, std::vector<std::string>* out) {
  const size_t at = in->position();
  uint8_t scheme;
  if (!in->ReadByte(&scheme)) return Corruption("missing string scheme at byte {}", at);
  switch (static_cast<StringScheme>(scheme)) {
    case StringScheme::kPlain: return DecodePlain(in, count, out);
    case StringScheme::kDictionary: return DecodeDictionary(in, count, out);
  }
  return Corruption("unknown string scheme {} at byte {}", scheme, at);
}

}  // namespace seaway::codec
