// RetentionPolicies: how long each database or table keeps its rows (src/storage).
//
// A policy names a tenant's database and optionally one table; a table policy overrides its
// database's. Rows older than now - keep are expired: scans stop returning them at once, and the
// shards drop whole partitions whose end is past the cutoff (never rewriting a partition).
// Policies persist in DIR/RETENTION, replaced atomically on every change.
//
//   file := magic "SEAWRET1" count:varint (tenant:varint database:str table:str keep_ns:varint)*
//           checksum:u32
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/clock.h"
#include "common/result.h"
#include "storage/env.h"

namespace seaway {

class RetentionPolicies {
 public:
  RetentionPolicies(Env* env, std::string dir, const Clock* clock)
      : env_(env), dir_(std::move(dir)), clock_(clock) {}

  Status Load();

  // Sets (or with nullopt removes) the policy of `table` in `database`, of the whole database
  // when `table` is empty, or the tenant's default when both are. `keep` must be positive.
  Status Set(TenantId tenant, const std::string& database, const std::string& table,
             std::optional<Duration> keep);

  // The table's own policy (not its database's), if any.
  std::optional<Duration> TablePolicy(TenantId tenant, std::string_view database,
                                      std::string_view table) const;

  // The policy in force for a table (its own, else its database's, else the tenant's default),
  // if any.
  std::optional<Duration> Get(TenantId tenant, std::string_view database,
                              std::string_view table) const;

  // The oldest time the table keeps: now - keep, or INT64_MIN without a policy.
  int64_t Cutoff(TenantId tenant, std::string_view database, std::string_view table) const {
    return Cutoff(tenant, database, table, clock_->Now());
  }
  // Same, as of `now`.
  int64_t Cutoff(TenantId tenant, std::string_view database, std::string_view table,
                 Timestamp now) const;

 private:
  using Key = std::tuple<uint64_t, std::string, std::string>;
  Status Save() const;  // REQUIRES: mu_ held

  Env* const env_;
  const std::string dir_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  std::map<Key, int64_t> keep_ns_;
};

}  // namespace seaway
