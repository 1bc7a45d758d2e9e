// Argon2id password hashing over libargon2 (src/platform/password.h).
#include "platform/password.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <argon2.h>
#include <openssl/rand.h>

namespace seaway {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Unpadded base64 lengths: a 32-byte hash is 43 characters; a salt of at least 8 bytes
// (libargon2's minimum) is at least 11, and no base64 text is 1 more than a multiple of 4.
constexpr size_t kHashBase64Chars = 43;
constexpr size_t kMinSaltBase64Chars = 11;
// Ours are 97 bytes with the default parameters; the bound keeps stored junk from making
// libargon2 allocate and decode large buffers.
constexpr size_t kMaxEncodedBytes = 512;
constexpr std::string_view kPrefix = "$argon2id$v=19$";

// The parts of a PHC string, checked for shape and bounds; libargon2 decodes the base64 and
// checks the salt and hash lengths again when it verifies.
struct EncodedPassword {
  PasswordParams params;
  std::string_view salt_b64;
  std::string_view hash_b64;
};

Status NotArgon2id() {
  return InvalidArgument("encoded password is not an Argon2id v=19 PHC string");
}

bool ConsumePrefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// A canonical decimal (no sign, no leading zero) that fits in 32 bits.
bool ConsumeU32(std::string_view& s, uint32_t& value) {
  if (s.empty() || (s.size() > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return true;
}

// Unpadded standard base64 up to the next '$' or the end; non-empty.
bool ConsumeBase64(std::string_view& s, std::string_view& field) {
  size_t n = 0;
  while (n < s.size()) {
    const char c = s[n];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) break;
    ++n;
  }
  if (n == 0) return false;
  field = s.substr(0, n);
  s.remove_prefix(n);
  return true;
}

Status CheckParams(const PasswordParams& p) {
  if (p.parallelism < 1 || p.parallelism > kMaxPasswordParallelism) {
    return InvalidArgument("argon2id parallelism must be 1 to {}, got {}", kMaxPasswordParallelism,
                           p.parallelism);
  }
  if (p.iterations < 1 || p.iterations > kMaxPasswordIterations) {
    return InvalidArgument("argon2id iterations must be 1 to {}, got {}", kMaxPasswordIterations,
                           p.iterations);
  }
  const uint32_t min_memory = std::max<uint32_t>(ARGON2_MIN_MEMORY, 8 * p.parallelism);
  if (p.memory_kib < min_memory || p.memory_kib > kMaxPasswordMemoryKib) {
    return InvalidArgument("argon2id memory must be {} to {} KiB with parallelism {}, got {}",
                           min_memory, kMaxPasswordMemoryKib, p.parallelism, p.memory_kib);
  }
  return Status::OK();
}

Result<EncodedPassword> ParseEncoded(std::string_view s) {
  if (s.size() > kMaxEncodedBytes) {
    return InvalidArgument("encoded password is {} bytes, more than the {} allowed", s.size(),
                           kMaxEncodedBytes);
  }
  EncodedPassword e;
  PasswordParams& p = e.params;
  const bool ok =
      ConsumePrefix(s, kPrefix) && ConsumePrefix(s, "m=") && ConsumeU32(s, p.memory_kib) &&
      ConsumePrefix(s, ",t=") && ConsumeU32(s, p.iterations) && ConsumePrefix(s, ",p=") &&
      ConsumeU32(s, p.parallelism) && ConsumePrefix(s, "$") && ConsumeBase64(s, e.salt_b64) &&
      ConsumePrefix(s, "$") && ConsumeBase64(s, e.hash_b64) && s.empty();
  if (!ok) return NotArgon2id();
  if (e.salt_b64.size() < kMinSaltBase64Chars || e.salt_b64.size() % 4 == 1) {
    return InvalidArgument("encoded password: the salt must be at least 8 bytes of base64");
  }
  if (e.hash_b64.size() != kHashBase64Chars) {
    return InvalidArgument("encoded password: the hash must be {} bytes of base64", kHashBytes);
  }
  SW_RETURN_IF_ERROR(CheckParams(p).WithContext("encoded password"));
  return e;
}

bool IsAcceptablePassword(std::string_view password) {
  return !password.empty() && password.size() <= kMaxPasswordBytes;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  if (password.empty()) return InvalidArgument("password must not be empty");
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("password is {} bytes, more than the {} allowed", password.size(),
                           kMaxPasswordBytes);
  }
  SW_RETURN_IF_ERROR(CheckParams(params));

  std::array<unsigned char, kSaltBytes> salt;
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Internal("RAND_bytes failed to produce a password salt");
  }
  // argon2_encodedlen counts the terminating NUL.
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                        kSaltBytes, kHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return ResourceExhausted("argon2id: cannot allocate {} KiB", params.memory_kib);
  }
  if (rc != ARGON2_OK) return Internal("argon2id_hash_encoded: {}", argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

Result<bool> VerifyPassword(std::string_view password, std::string_view encoded) {
  SW_RETURN_IF_ERROR(ParseEncoded(encoded).status());
  if (!IsAcceptablePassword(password)) return false;
  // ParseEncoded admitted no NUL, so the copy is the whole string for libargon2's C API.
  const std::string c_encoded(encoded);
  const int rc = argon2id_verify(c_encoded.c_str(), password.data(), password.size());
  switch (rc) {
    case ARGON2_OK: return true;
    case ARGON2_VERIFY_MISMATCH: return false;
    case ARGON2_MEMORY_ALLOCATION_ERROR: return ResourceExhausted("argon2id: out of memory");
    case ARGON2_THREAD_FAIL: return Unavailable("argon2id: cannot start threads");
    default:
      // Decoding failures and lengths libargon2 refuses (salt under 8 bytes, hash under 4).
      return InvalidArgument("encoded password: {}", argon2_error_message(rc));
  }
}

bool PasswordNeedsRehash(std::string_view encoded, const PasswordParams& params) {
  auto parsed = ParseEncoded(encoded);
  if (!parsed.ok()) return true;
  const PasswordParams& p = parsed->params;
  return p.memory_kib < params.memory_kib || p.iterations < params.iterations ||
         p.parallelism < params.parallelism;
}

}  // namespace seaway
