// Fuzz target for reading WAL files (src/storage/wal.h, ReadWalFile), in two passes.
//
// 1. The input is the file. Every frame reported must be the bytes of the file at the next
//    position (header fields and payload), frames must cover exactly [8, valid_bytes), and the
//    result must be one of clean (valid_bytes = file size), torn tail, or corruption at
//    valid_bytes. ReadWalFile does not check W1 (LSN order): the replay does, so this pass does
//    not assert it.
// 2. The input describes a log that the writer could have produced: up to 8 frames with LSNs
//    increasing by one (W1, AppendWalFrame), then one truncation or flipped byte. The reader must
//    return exactly the frames before the damage, with increasing LSNs, and report corruption
//    when an intact frame follows the damage (a torn tail, or corruption if a payload happens to
//    hold a valid frame, when none does).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "fuzz/fuzz_check.h"
#include "storage/memory_env.h"
#include "storage/wal.h"

#define CHECK FUZZ_CHECK

namespace {

using seaway::kWalFrameHeader;
using seaway::kWalMagic;

struct Seen {
  uint64_t lsn;
  uint8_t type;
  std::string payload;
};

// Writes `file` to a fresh MemoryEnv and reads it back.
seaway::Result<seaway::WalReadResult> Read(std::string_view file, std::vector<Seen>* seen) {
  seaway::MemoryEnv env;
  auto out = env.NewWritableFile("/w.wal");
  CHECK(out.ok() && (*out)->Append(file).ok() && (*out)->Close().ok());
  return seaway::ReadWalFile(&env, "/w.wal", [&](const seaway::WalFrame& frame) {
    seen->push_back(
        Seen{frame.lsn.value(), static_cast<uint8_t>(frame.type), std::string(frame.payload)});
    return seaway::Status::OK();
  });
}

void CheckRawFile(std::string_view file) {
  std::vector<Seen> seen;
  auto result = Read(file, &seen);
  CHECK(result.ok());  // damage is reported in the result, not as an error
  const seaway::WalReadResult& r = *result;
  CHECK(r.file_bytes == file.size() && r.frames == seen.size());
  CHECK(r.valid_bytes <= r.file_bytes && !(r.torn_tail && !r.corruption.ok()));
  if (!file.starts_with(kWalMagic)) {
    CHECK(seen.empty() && r.valid_bytes == 0);
    CHECK(kWalMagic.starts_with(file) ? r.corruption.ok() && r.torn_tail == !file.empty()
                                      : r.corruption.code() == seaway::StatusCode::kCorruption);
    return;
  }
  size_t pos = kWalMagic.size();
  for (const Seen& s : seen) {
    CHECK(file.size() - pos >= kWalFrameHeader);
    const char* p = file.data() + pos;
    CHECK(seaway::DecodeFixed32(p) == s.payload.size() &&
          s.payload.size() <= seaway::kMaxWalPayload);
    CHECK(seaway::DecodeFixed64(p + 8) == s.lsn && static_cast<uint8_t>(p[16]) == s.type);
    CHECK(file.substr(pos + kWalFrameHeader, s.payload.size()) == s.payload);
    pos += kWalFrameHeader + s.payload.size();
  }
  CHECK(r.valid_bytes == pos);
  if (!r.corruption.ok()) {
    CHECK(r.corruption.code() == seaway::StatusCode::kCorruption && r.corruption_offset == pos);
  } else if (!r.torn_tail) {
    CHECK(pos == file.size());
  } else {
    CHECK(pos < file.size());
  }
}

// Pass 2: input = frame_count:u8 damage_kind:u8 damage_at:u16 first_lsn:u8 payload_bytes...
void CheckWrittenLog(std::string_view input) {
  if (input.size() < 5) return;
  const size_t n = 1 + static_cast<uint8_t>(input[0]) % 8;
  const int kind = static_cast<uint8_t>(input[1]) % 3;  // 0 none, 1 truncate, 2 flip a byte
  const size_t at = static_cast<uint8_t>(input[2]) | static_cast<uint8_t>(input[3]) << 8;
  const uint64_t first_lsn = 1 + static_cast<uint8_t>(input[4]);
  const std::string_view bytes = input.substr(5);
  std::string file(kWalMagic);
  std::vector<size_t> starts;
  for (size_t i = 0; i < n; ++i) {
    const size_t len = bytes.size() / n;
    const std::string_view payload = i + 1 < n ? bytes.substr(i * len, len) : bytes.substr(i * len);
    starts.push_back(file.size());
    seaway::AppendWalFrame(seaway::Lsn(first_lsn + i), seaway::WalRecordType::kWrite, payload,
                           &file);
  }
  starts.push_back(file.size());
  const size_t damage = kWalMagic.size() + at % (file.size() - kWalMagic.size());
  if (kind == 1) file.resize(damage);
  if (kind == 2) file[damage] = static_cast<char>(~file[damage]);

  // The frame holding the damaged byte (or the cut), and whether whole frames follow it.
  size_t k = n;
  if (kind != 0) {
    k = 0;
    while (starts[k + 1] <= damage) ++k;
  }
  const bool cut_at_boundary = kind == 1 && starts[k] == damage;
  std::vector<Seen> seen;
  auto result = Read(file, &seen);
  CHECK(result.ok());
  const seaway::WalReadResult& r = *result;
  CHECK(seen.size() == k);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i].lsn == first_lsn + i);  // W1 kept
  CHECK(r.valid_bytes == starts[k]);
  if (kind == 0 || cut_at_boundary) {
    CHECK(r.corruption.ok() && !r.torn_tail);
  } else if (kind == 2 && k + 1 < n) {
    CHECK(!r.corruption.ok() && r.corruption_offset == starts[k]);
  } else {
    CHECK(r.torn_tail != !r.corruption.ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRawFile(input);
  CheckWrittenLog(input);
  return 0;
}
