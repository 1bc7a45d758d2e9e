// BlockCache: a bounded LRU cache of immutable blocks of file bytes (src/storage). Segments
// read their indexes (chunk references and statistics) through it, so that the memory segment
// indexes take is the cache's budget, whatever the number of series, rather than every index
// page a query ever touched staying mapped in the process.
//
// Blocks are keyed by (file id, block number); each opened file takes a fresh id (NewFileId),
// so a block is never confused with one of another file, and blocks of closed files, never
// asked for again, leave in LRU order. The budget is split over 16 shards by key hash, each
// with its own mutex and LRU list; a shard drops its least recently used blocks once past its
// share. A block is shared (`shared_ptr`) with the readers holding it, so eviction never pulls
// bytes from under a reader; its memory is freed when the last holder lets go.
//
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace seaway {

class BlockCache {
 public:
  using Block = std::shared_ptr<const std::string>;

  // Bytes charged per block beyond its data: list and map nodes, the shared_ptr control block.
  static constexpr size_t kBlockOverhead = 160;

  // Holds up to `capacity_bytes` of blocks (with their overhead). 0 caches nothing: every
  // Lookup misses, Insert hands the block back without keeping it.
  explicit BlockCache(size_t capacity_bytes);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A new id for the blocks of one opened file.
  uint64_t NewFileId() { return next_file_id_.fetch_add(1, std::memory_order_relaxed); }

  // The block, made the most recently used, or nullptr.
  Block Lookup(uint64_t file, uint64_t block);
  // Caches `data` as the block (replacing an earlier one), evicting least recently used blocks
  // past the budget, and returns it. A block larger than a shard's share is returned, not kept.
  Block Insert(uint64_t file, uint64_t block, std::string data);

  size_t capacity_bytes() const { return capacity_bytes_; }
  // Bytes charged by the blocks held now (at most capacity_bytes()).
  size_t charged_bytes() const;
  size_t block_count() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Key {
    uint64_t file;
    uint64_t block;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    Block block;
    size_t charge;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;
    size_t charged = 0;
  };
  Shard& ShardOf(const Key& key) { return shards_[KeyHash()(key) % kShards]; }

  const size_t capacity_bytes_;
  const size_t shard_capacity_;
  std::atomic<uint64_t> next_file_id_{1};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace seaway
