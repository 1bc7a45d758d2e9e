// PosixEnv: the Env over real files (src/storage). Uses pread/write/fdatasync directly, buffers
// appends in user space (64 KiB), and takes data-directory locks with flock(2).
//
// Thread-safe.
#pragma once

#include <memory>

#include "storage/env.h"

namespace seaway {

// Returns a new PosixEnv. Most code uses Env::Default() instead.
std::unique_ptr<Env> NewPosixEnv();

}  // namespace seaway
