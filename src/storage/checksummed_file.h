// Small checksummed files of the storage directory (src/storage): MANIFEST, RETENTION, CATALOG.
//
//   file := magic body checksum:u32      checksum = Checksum32(body)
//
// Written atomically (WriteFileAtomically); a damaged file is Corruption naming it.
//
// Thread-compatible free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/env.h"

namespace seaway {

// The low 32 bits of XXH3-64: the checksum of WAL frames, segment blocks and these files.
uint32_t Checksum32(std::string_view bytes);

Status WriteChecksummedFile(Env* env, const std::string& path, std::string_view magic,
                            std::string_view body);

// The body of the file at `path`, or nullopt when there is none. `what` names the file in
// errors ("manifest", "catalog", ...).
Result<std::optional<std::string>> ReadChecksummedFile(Env* env, const std::string& path,
                                                       std::string_view magic,
                                                       std::string_view what);

}  // namespace seaway
