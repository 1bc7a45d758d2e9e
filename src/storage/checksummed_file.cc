// Checksummed files (src/storage).
#include "storage/checksummed_file.h"

#include <xxhash.h>

#include "common/coding.h"

namespace seaway {

uint32_t Checksum32(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

Status WriteChecksummedFile(Env* env, const std::string& path, std::string_view magic,
                            std::string_view body) {
  std::string data(magic);
  data += body;
  PutFixed32(&data, Checksum32(body));
  return WriteFileAtomically(env, path, data);
}

Result<std::optional<std::string>> ReadChecksummedFile(Env* env, const std::string& path,
                                                       std::string_view magic,
                                                       std::string_view what) {
  if (!env->FileExists(path)) return std::optional<std::string>();
  SW_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, path));
  if (data.size() < magic.size() + 4 || !std::string_view(data).starts_with(magic)) {
    return Corruption("{} '{}': bad magic or too short", what, path);
  }
  const uint32_t stored = DecodeFixed32(data.data() + data.size() - 4);
  data.resize(data.size() - 4);
  data.erase(0, magic.size());
  if (Checksum32(data) != stored) return Corruption("{} '{}': checksum mismatch", what, path);
  return std::optional<std::string>(std::move(data));
}

}  // namespace seaway
