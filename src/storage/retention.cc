// RetentionPolicies (src/storage).
#include "storage/retention.h"

#include <xxhash.h>

#include <limits>

#include "common/coding.h"

namespace seaway {
namespace {

constexpr std::string_view kRetentionMagic = "SEAWRET1";

uint32_t Checksum(std::string_view bytes) {
  return static_cast<uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

}  // namespace

Status RetentionPolicies::Load() {
  const std::string path = JoinPath(dir_, "RETENTION");
  std::lock_guard lock(mu_);
  keep_ns_.clear();
  if (!env_->FileExists(path)) return Status::OK();
  SW_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env_, path));
  auto bad = [&](std::string_view what) {
    return Corruption("retention file '{}': {}", path, what);
  };
  if (data.size() < kRetentionMagic.size() + 4 || !data.starts_with(kRetentionMagic)) {
    return bad("bad magic or too short");
  }
  std::string_view body(data.data() + kRetentionMagic.size(),
                        data.size() - kRetentionMagic.size() - 4);
  if (Checksum(body) != DecodeFixed32(data.data() + data.size() - 4))
    return bad("checksum mismatch");
  Decoder d(body);
  uint64_t count;
  if (!d.GetBoundedVarint(d.remaining(), &count)) return bad("bad count");
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tenant, keep;
    std::string_view database, table;
    if (!d.GetVarint64(&tenant) || !d.GetLengthPrefixed(&database) ||
        !d.GetLengthPrefixed(&table) || !d.GetVarint64(&keep) || keep == 0 ||
        keep > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad("bad entry");
    }
    keep_ns_[Key(tenant, std::string(database), std::string(table))] = static_cast<int64_t>(keep);
  }
  if (!d.done()) return bad("unexpected trailing bytes");
  return Status::OK();
}

Status RetentionPolicies::Save() const {
  std::string body;
  PutVarint64(&body, keep_ns_.size());
  for (const auto& [key, keep] : keep_ns_) {
    PutVarint64(&body, std::get<0>(key));
    PutLengthPrefixed(&body, std::get<1>(key));
    PutLengthPrefixed(&body, std::get<2>(key));
    PutVarint64(&body, static_cast<uint64_t>(keep));
  }
  std::string data(kRetentionMagic);
  data += body;
  PutFixed32(&data, Checksum(body));
  return WriteFileAtomically(env_, JoinPath(dir_, "RETENTION"), data);
}

Status RetentionPolicies::Set(TenantId tenant, const std::string& database,
                              const std::string& table, std::optional<Duration> keep) {
  if (keep && keep->nanos() <= 0) {
    return InvalidArgument("retention of '{}' must be positive", table.empty() ? database : table);
  }
  std::lock_guard lock(mu_);
  Key key(tenant.value(), database, table);
  auto previous = keep_ns_;
  if (keep) {
    keep_ns_[key] = keep->nanos();
  } else {
    keep_ns_.erase(key);
  }
  Status s = Save();
  if (!s.ok()) keep_ns_ = std::move(previous);
  return s;
}

std::optional<Duration> RetentionPolicies::Get(TenantId tenant, std::string_view database,
                                               std::string_view table) const {
  std::lock_guard lock(mu_);
  auto it = keep_ns_.find(Key(tenant.value(), std::string(database), std::string(table)));
  if (it == keep_ns_.end()) it = keep_ns_.find(Key(tenant.value(), std::string(database), ""));
  if (it == keep_ns_.end()) return std::nullopt;
  return Duration::Nanos(it->second);
}

int64_t RetentionPolicies::Cutoff(TenantId tenant, std::string_view database,
                                  std::string_view table) const {
  auto keep = Get(tenant, database, table);
  if (!keep) return std::numeric_limits<int64_t>::min();
  int64_t cutoff;
  if (__builtin_sub_overflow(clock_->Now().nanos(), keep->nanos(), &cutoff)) {
    return std::numeric_limits<int64_t>::min();
  }
  return cutoff;
}

}  // namespace seaway
