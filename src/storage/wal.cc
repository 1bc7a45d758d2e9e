// WAL files (src/storage).
#include "storage/wal.h"

#include <charconv>

#include "common/coding.h"
#include "storage/checksummed_file.h"

namespace seaway {
namespace {

// Whether a valid frame starts at `pos` of `data`; fills *frame and *end when it does.
bool ParseFrame(std::string_view data, size_t pos, WalFrame* frame, size_t* end) {
  if (data.size() - pos < kWalFrameHeader) return false;
  const char* p = data.data() + pos;
  uint32_t length = DecodeFixed32(p);
  uint32_t checksum = DecodeFixed32(p + 4);
  if (length > kMaxWalPayload || length > data.size() - pos - kWalFrameHeader) return false;
  uint8_t type = static_cast<uint8_t>(p[16]);
  if (type < static_cast<uint8_t>(WalRecordType::kWrite) ||
      type > static_cast<uint8_t>(WalRecordType::kDropTable)) {
    return false;
  }
  std::string_view covered(p + 8, 9 + length);
  if (Checksum32(covered) != checksum) return false;
  frame->lsn = Lsn(DecodeFixed64(p + 8));
  frame->type = static_cast<WalRecordType>(type);
  frame->payload = std::string_view(p + kWalFrameHeader, length);
  *end = pos + kWalFrameHeader + length;
  return true;
}

}  // namespace

std::string WalFileName(uint64_t number) { return fmt::format("{:012}.wal", number); }

uint64_t ParseWalFileName(std::string_view name) {
  if (name.size() != 16 || !name.ends_with(".wal")) return 0;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 12, n);
  if (ec != std::errc() || end != name.data() + 12) return 0;
  return n;
}

void AppendWalFrame(Lsn lsn, WalRecordType type, std::string_view payload, std::string* out) {
  const size_t start = out->size();
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  PutFixed32(out, 0);  // checksum, filled below
  PutFixed64(out, lsn.value());
  out->push_back(static_cast<char>(type));
  out->append(payload);
  uint32_t checksum = Checksum32(std::string_view(*out).substr(start + 8));
  std::memcpy(out->data() + start + 4, &checksum, 4);
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Env* env, const std::string& dir,
                                                     uint64_t number) {
  std::string path = JoinPath(dir, WalFileName(number));
  SW_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  SW_RETURN_IF_ERROR(file->Append(kWalMagic));
  SW_RETURN_IF_ERROR(file->Sync());
  SW_RETURN_IF_ERROR(env->SyncDir(dir));
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(path), number, std::move(file)));
}

Result<std::unique_ptr<WalWriter>> WalWriter::Reopen(Env* env, const std::string& dir,
                                                     uint64_t number) {
  std::string path = JoinPath(dir, WalFileName(number));
  SW_ASSIGN_OR_RETURN(auto file, env->NewAppendableFile(path));
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(path), number, std::move(file)));
}

Status WalWriter::AppendFrames(std::string_view encoded) { return file_->Append(encoded); }

Result<WalReadResult> ReadWalFile(Env* env, const std::string& path,
                                  const std::function<Status(const WalFrame&)>& fn) {
  Result<std::string> content = ReadFileToString(env, path);
  if (!content.ok()) return content.status();
  const std::string_view data = *content;
  WalReadResult result;
  result.file_bytes = data.size();
  if (!data.starts_with(kWalMagic)) {
    // A file cut before its magic was synced holds nothing acknowledged.
    if (kWalMagic.starts_with(data)) {
      result.torn_tail = !data.empty();
      return result;
    }
    result.corruption = Corruption("WAL file '{}': bad magic (not a Seaway WAL file)", path);
    return result;
  }
  size_t pos = kWalMagic.size();
  result.valid_bytes = pos;
  uint64_t last_lsn = 0;
  while (pos < data.size()) {
    WalFrame frame;
    size_t end;
    if (!ParseFrame(data, pos, &frame, &end)) break;
    SW_RETURN_IF_ERROR(fn(frame));
    last_lsn = frame.lsn.value();
    ++result.frames;
    pos = end;
    result.valid_bytes = pos;
  }
  if (pos == data.size()) return result;
  // Invalid bytes at `pos`. A torn write leaves garbage only at the end; if any valid frame
  // starts later, the damage is in the middle of the log.
  // Only frames that could follow the last good one count (W1); checking the LSN before the
  // checksum keeps this scan linear in practice even over megabytes of garbage.
  for (size_t probe = pos + 1; probe + kWalFrameHeader <= data.size(); ++probe) {
    uint64_t lsn = DecodeFixed64(data.data() + probe + 8);
    if (lsn <= last_lsn || lsn - last_lsn > (uint64_t{1} << 32)) continue;
    WalFrame frame;
    size_t end;
    if (ParseFrame(data, probe, &frame, &end)) {
      result.corruption_offset = pos;
      result.corruption = Corruption(
          "WAL file '{}': damaged frame at offset {} followed by valid frames at offset {} "
          "(damage in the middle of the log, not a torn write)",
          path, pos, probe);
      return result;
    }
  }
  result.torn_tail = true;
  return result;
}

}  // namespace seaway
