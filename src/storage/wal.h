// Write-ahead log files (src/storage): framing, appending, and reading back with torn-tail
// repair. The payloads are wal_record.h's; the layout is in docs/formats/wal.md.
//
//   file  := magic "SEAWAL01" frame*
//   frame := u32 payload_length | u32 checksum | u64 lsn | u8 type | payload
//   checksum = low 32 bits of XXH3-64 over (lsn | type | payload)
//
// Invariants (mirrored in docs/formats/wal.md):
//   W1. LSNs increase by one from frame to frame across all files of a shard.
//   W2. A frame is acknowledged only after the bytes of the file up to its end are synced.
//   W3. Files are named NNNNNNNNNNNN.wal with increasing numbers; only the last one is appended to.
//   W4. A frame is never larger than kMaxWalPayload bytes.
//
// WalWriter is owned by one shard. ReadWalFile is thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "storage/env.h"

namespace seaway {

inline constexpr std::string_view kWalMagic = "SEAWAL01";
inline constexpr size_t kWalFrameHeader = 17;
inline constexpr uint32_t kMaxWalPayload = 64u << 20;

enum class WalRecordType : uint8_t { kWrite = 1, kDelete = 2, kDropTable = 3 };

// "000000000042.wal" for 42.
std::string WalFileName(uint64_t number);
// The number of a WAL file name, or 0 when `name` is not one.
uint64_t ParseWalFileName(std::string_view name);

// Appends one frame to *out (used by the writer, and by tests to build files by hand).
void AppendWalFrame(Lsn lsn, WalRecordType type, std::string_view payload, std::string* out);

class WalWriter {
 public:
  // Creates file `number` in `dir` (which must exist), writes the magic and syncs the directory.
  static Result<std::unique_ptr<WalWriter>> Create(Env* env, const std::string& dir,
                                                   uint64_t number);

  // Opens existing file `number` for appending after it was cut back to a known-good size.
  static Result<std::unique_ptr<WalWriter>> Reopen(Env* env, const std::string& dir,
                                                   uint64_t number);

  // Appends frames (buffered until Flush or Sync). REQUIRES: the frames of `encoded` were built
  // with AppendWalFrame.
  Status AppendFrames(std::string_view encoded);
  Status Flush() { return file_->Flush(); }
  Status Sync() { return file_->Sync(); }
  Status Close() { return file_->Close(); }

  uint64_t number() const { return number_; }
  uint64_t size() const { return file_->Size(); }
  const std::string& path() const { return path_; }

 private:
  WalWriter(std::string path, uint64_t number, std::unique_ptr<WritableFile> file)
      : path_(std::move(path)), number_(number), file_(std::move(file)) {}

  std::string path_;
  uint64_t number_;
  std::unique_ptr<WritableFile> file_;
};

struct WalFrame {
  Lsn lsn;
  WalRecordType type;
  std::string_view payload;
};

// What reading a file found.
struct WalReadResult {
  uint64_t frames = 0;
  uint64_t valid_bytes = 0;  // prefix of the file made of whole, valid frames
  uint64_t file_bytes = 0;
  bool torn_tail = false;  // invalid bytes after valid_bytes, with no valid frame after them
  Status corruption;       // set when a valid frame follows invalid bytes (damage mid-log)
  uint64_t corruption_offset = 0;
};

// Reads every frame of the WAL file at `path` in order and passes it to `fn` (an error from
// `fn` stops reading and is returned). A torn tail is reported, not repaired: the caller decides.
Result<WalReadResult> ReadWalFile(Env* env, const std::string& path,
                                  const std::function<Status(const WalFrame&)>& fn);

}  // namespace seaway
