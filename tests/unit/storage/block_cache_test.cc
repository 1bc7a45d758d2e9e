// Tests for BlockCache (src/storage/block_cache.h): hits and misses, the byte budget, LRU order,
// replacement, blocks outliving their eviction, and concurrent use.
#include "storage/block_cache.h"

#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace seaway {
namespace {

std::string Bytes(uint64_t file, uint64_t block, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(file * 31 + block * 7 + i);
  return s;
}

TEST(BlockCacheTest, MissThenHit) {
  BlockCache cache(1 << 20);
  EXPECT_EQ(cache.Lookup(1, 0), nullptr);
  BlockCache::Block inserted = cache.Insert(1, 0, Bytes(1, 0, 100));
  ASSERT_NE(inserted, nullptr);
  BlockCache::Block found = cache.Lookup(1, 0);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, Bytes(1, 0, 100));
  EXPECT_EQ(cache.Lookup(2, 0), nullptr);  // another file's block 0
  EXPECT_EQ(cache.Lookup(1, 1), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 3u);
  EXPECT_EQ(cache.charged_bytes(), 100 + BlockCache::kBlockOverhead);
  EXPECT_NE(cache.NewFileId(), cache.NewFileId());
}

TEST(BlockCacheTest, ReplacingABlockChargesItOnce) {
  BlockCache cache(1 << 20);
  cache.Insert(1, 0, std::string(100, 'a'));
  cache.Insert(1, 0, std::string(300, 'b'));
  EXPECT_EQ(*cache.Lookup(1, 0), std::string(300, 'b'));
  EXPECT_EQ(cache.block_count(), 1u);
  EXPECT_EQ(cache.charged_bytes(), 300 + BlockCache::kBlockOverhead);
}

TEST(BlockCacheTest, ZeroCapacityAndOversizedBlocksAreNotKept) {
  BlockCache none(0);
  EXPECT_EQ(*none.Insert(1, 0, "abc"), "abc");
  EXPECT_EQ(none.Lookup(1, 0), nullptr);
  EXPECT_EQ(none.charged_bytes(), 0u);
  BlockCache small(16 * 1024);  // 1 KiB per shard
  EXPECT_EQ(small.Insert(1, 0, std::string(2000, 'x'))->size(), 2000u);
  EXPECT_EQ(small.Lookup(1, 0), nullptr);
  EXPECT_EQ(small.charged_bytes(), 0u);
}

TEST(BlockCacheTest, StaysWithinBudgetAndKeepsRecentlyUsedBlocks) {
  constexpr size_t kBlock = 4096;
  constexpr size_t kCapacity = 64 * (kBlock + BlockCache::kBlockOverhead) * 16;  // 64 per shard
  BlockCache cache(kCapacity);
  cache.Insert(7, 0, Bytes(7, 0, kBlock));
  for (uint64_t b = 1; b <= 20000; ++b) {
    cache.Insert(1, b, Bytes(1, b, kBlock));
    ASSERT_LE(cache.charged_bytes(), kCapacity);
    ASSERT_NE(cache.Lookup(7, 0), nullptr) << "a block used all along was evicted at " << b;
  }
  EXPECT_EQ(*cache.Lookup(7, 0), Bytes(7, 0, kBlock));
  // The oldest blocks are gone, the newest are there.
  for (uint64_t b = 1; b <= 100; ++b) EXPECT_EQ(cache.Lookup(1, b), nullptr) << b;
  size_t recent = 0;
  for (uint64_t b = 20000 - 100; b <= 20000; ++b) recent += cache.Lookup(1, b) != nullptr;
  EXPECT_GT(recent, 90u);
  // Full to within a few blocks per shard: the budget is used, not just respected.
  EXPECT_GT(cache.charged_bytes(), kCapacity * 3 / 4);
}

TEST(BlockCacheTest, AnEvictedBlockLivesOnWhileHeld) {
  BlockCache cache(16 * (1024 + BlockCache::kBlockOverhead));  // one block per shard
  BlockCache::Block held = cache.Insert(1, 0, Bytes(1, 0, 1024));
  for (uint64_t b = 1; b < 1000; ++b) cache.Insert(1, b, Bytes(1, b, 1024));
  EXPECT_EQ(cache.Lookup(1, 0), nullptr);
  EXPECT_EQ(*held, Bytes(1, 0, 1024));  // still readable (ASan would catch a use after free)
}

TEST(BlockCacheTest, ConcurrentReadersAndInsertersSeeWholeBlocks) {
  constexpr size_t kCapacity = 1 << 20;
  BlockCache cache(kCapacity);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < 20000; ++i) {
        const uint64_t file = rng() % 4, block = rng() % 200, size = 500 + (file + block) % 3000;
        BlockCache::Block b = cache.Lookup(file, block);
        if (b == nullptr) b = cache.Insert(file, block, Bytes(file, block, size));
        ASSERT_EQ(*b, Bytes(file, block, size));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(cache.charged_bytes(), kCapacity);
  EXPECT_EQ(cache.hits() + cache.misses(), 4u * 20000);
  EXPECT_GT(cache.hits(), 0u);
}

}  // namespace
}  // namespace seaway
