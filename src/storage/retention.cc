// RetentionPolicies (src/storage).
#include "storage/retention.h"

#include <limits>

#include "common/coding.h"
#include "storage/checksummed_file.h"

namespace seaway {
namespace {

constexpr std::string_view kRetentionMagic = "SEAWRET1";

}  // namespace

Status RetentionPolicies::Load() {
  const std::string path = JoinPath(dir_, "RETENTION");
  std::lock_guard lock(mu_);
  keep_ns_.clear();
  SW_ASSIGN_OR_RETURN(auto body,
                      ReadChecksummedFile(env_, path, kRetentionMagic, "retention file"));
  if (!body) return Status::OK();
  auto bad = [&](std::string_view what) {
    return Corruption("retention file '{}': {}", path, what);
  };
  Decoder d(*body);
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
  return WriteChecksummedFile(env_, JoinPath(dir_, "RETENTION"), kRetentionMagic, body);
}

Status RetentionPolicies::Set(TenantId tenant, const std::string& database,
                              const std::string& table, std::optional<Duration> keep) {
  if (keep && keep->nanos() <= 0) {
    return InvalidArgument("retention of '{}' must be positive", !table.empty() ? table
                                                                 : !database.empty()
                                                                     ? database
                                                                     : "the tenant");
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

std::optional<Duration> RetentionPolicies::TablePolicy(TenantId tenant, std::string_view database,
                                                       std::string_view table) const {
  if (table.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = keep_ns_.find(Key(tenant.value(), std::string(database), std::string(table)));
  if (it == keep_ns_.end()) return std::nullopt;
  return Duration::Nanos(it->second);
}

std::optional<Duration> RetentionPolicies::Get(TenantId tenant, std::string_view database,
                                               std::string_view table) const {
  std::lock_guard lock(mu_);
  auto it = keep_ns_.find(Key(tenant.value(), std::string(database), std::string(table)));
  if (it == keep_ns_.end()) it = keep_ns_.find(Key(tenant.value(), std::string(database), ""));
  if (it == keep_ns_.end()) it = keep_ns_.find(Key(tenant.value(), "", ""));
  if (it == keep_ns_.end()) return std::nullopt;
  return Duration::Nanos(it->second);
}

int64_t RetentionPolicies::Cutoff(TenantId tenant, std::string_view database,
                                  std::string_view table, Timestamp now) const {
  auto keep = Get(tenant, database, table);
  if (!keep) return std::numeric_limits<int64_t>::min();
  int64_t cutoff;
  if (__builtin_sub_overflow(now.nanos(), keep->nanos(), &cutoff)) {
    return std::numeric_limits<int64_t>::min();
  }
  return cutoff;
}

}  // namespace seaway
