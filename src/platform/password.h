// Password hashing for platform users (src/platform): Argon2id through libargon2, stored as the
// standard PHC string that libargon2 produces and reads back:
//
//   $argon2id$v=19$m=19456,t=2,p=1$<salt, base64 without padding>$<hash, base64 without padding>
//
// Every hash has its own 16-byte salt from OpenSSL's CSPRNG and a 32-byte output. The string
// carries its own cost parameters, so old hashes stay verifiable after the defaults rise;
// PasswordNeedsRehash() tells a login path when to store a fresh hash.
//
// Thread-safe: free functions without shared state. Hashing is deliberately slow (about 50 ms
// and 19 MiB with the defaults); call it off latency-critical threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace seaway {

// Argon2id cost parameters. The defaults are OWASP's minimum for Argon2id (19 MiB, two passes,
// one lane) and are what production callers use; smaller values exist for tests only.
struct PasswordParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// Passwords are 1..kMaxPasswordBytes bytes (any bytes; no normalisation is applied).
inline constexpr size_t kMaxPasswordBytes = 1024;

// Upper bounds on cost parameters, for hashing and for any encoded string accepted by
// VerifyPassword(): an encoded string comes from storage or, under fuzzing, from anywhere, and
// must not make verification allocate gigabytes or run for minutes.
inline constexpr uint32_t kMaxPasswordMemoryKib = 1u << 20;  // 1 GiB
inline constexpr uint32_t kMaxPasswordIterations = 64;
inline constexpr uint32_t kMaxPasswordParallelism = 16;

// Hashes `password` with a fresh random salt and returns the PHC string (above).
// InvalidArgument when the password is empty or longer than kMaxPasswordBytes, or when `params`
// are below libargon2's own minimums (memory_kib >= 8 * parallelism and >= 8, iterations >= 1,
// parallelism >= 1) or above the kMaxPassword* bounds. Internal when the CSPRNG fails.
Result<std::string> HashPassword(std::string_view password, const PasswordParams& params = {});

// True when `password` matches `encoded` (compared in constant time), false when it does not.
// A password that HashPassword() would refuse (empty, too long) never matches: false.
// InvalidArgument when `encoded` is not an Argon2id v=19 PHC string with parameters within the
// bounds above, a salt of at least 8 bytes and a 32-byte hash (another variant such as $argon2i$,
// garbage, truncated, bad base64, more than 512 bytes in all); the message never quotes `encoded`.
// ResourceExhausted when the memory for the hash cannot be allocated. Never crashes on any input.
Result<bool> VerifyPassword(std::string_view password, std::string_view encoded);

// True when `encoded` should be replaced by a fresh HashPassword(password, params) after the
// next successful login: its memory, iterations or parallelism are below `params`, or it does
// not parse as an Argon2id v=19 PHC string.
bool PasswordNeedsRehash(std::string_view encoded, const PasswordParams& params = {});

}  // namespace seaway
