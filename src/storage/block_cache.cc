// BlockCache (src/storage).
#include "storage/block_cache.h"

namespace seaway {

size_t BlockCache::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.file * 0x9e3779b97f4a7c15ULL ^ (k.block + 0x632be59bd9b4e019ULL);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 29;
  return static_cast<size_t>(h);
}

BlockCache::BlockCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), shard_capacity_(capacity_bytes / kShards) {}

BlockCache::Block BlockCache::Lookup(uint64_t file, uint64_t block) {
  const Key key{file, block};
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->block;
}

BlockCache::Block BlockCache::Insert(uint64_t file, uint64_t block, std::string data) {
  const Key key{file, block};
  const size_t charge = data.size() + kBlockOverhead;
  Block result = std::make_shared<const std::string>(std::move(data));
  if (charge > shard_capacity_) return result;
  Shard& shard = ShardOf(key);
  // Blocks evicted here are released after the lock (their memory may be freed then).
  std::list<Entry> evicted;
  std::lock_guard lock(shard.mu);
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    shard.charged -= it->second->charge;
    evicted.splice(evicted.end(), shard.lru, it->second);
    shard.index.erase(it);
  }
  shard.lru.push_front(Entry{key, result, charge});
  shard.index.emplace(key, shard.lru.begin());
  shard.charged += charge;
  while (shard.charged > shard_capacity_) {
    auto last = std::prev(shard.lru.end());
    shard.charged -= last->charge;
    shard.index.erase(last->key);
    evicted.splice(evicted.end(), shard.lru, last);
  }
  return result;
}

size_t BlockCache::charged_bytes() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.charged;
  }
  return n;
}

size_t BlockCache::block_count() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.lru.size();
  }
  return n;
}

}  // namespace seaway
