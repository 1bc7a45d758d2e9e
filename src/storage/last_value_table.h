// LastValueTable: the storage of LastValueCache (src/storage): series id -> newest row (time,
// completeness, field values), compact enough for millions of series.
//
// Layout, and why: a hash node and a vector per entry cost about 240 bytes a series; here
//   - entries are 24-byte slots of an open-addressing table (linear probing, at most 3/4 full,
//     backward-shift deletion: no tombstones), keyed by series id;
//   - an entry's values sit in a slab of 64-bit words, pages of 64 KiB, at the slot's offset:
//     `count` words of bits, then, unless the row's fields are exactly 0..count-1 without strings
//     ("dense", the usual telemetry row), the field indexes packed four to a word, the top bit
//     marking a string value;
//   - a string value's word holds an index into a pool of strings kept apart.
// A 7-field row thus takes 24 bytes of slot (32-64 with the table's free space) plus 56 of slab.
// Freed slab blocks go to free lists by size; when more of the slab is free than in use, it is
// compacted, so the slab stays within about twice what live entries need.
//
// Thread-compatible: LastValueCache guards each table with a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace seaway {

// The newest row of a series as LastValueTable hands it out (a copy).
struct LastValue {
  struct Value {
    uint16_t field;          // index in the table schema
    bool is_string = false;  // then `bits` indexes LastValue::strings
    uint64_t bits = 0;
  };
  int64_t time = INT64_MIN;
  bool complete = false;
  std::vector<Value> values;         // sorted by field index, at most one per field
  std::vector<std::string> strings;  // values of string fields (most tables have none)

  // The string of a string field's value.
  const std::string& String(const Value& v) const { return strings[v.bits]; }
};

// Mixes a series id into a well-spread 64-bit hash. LastValueTable places entries by the hash's
// high bits, so a caller may split series over several tables by its low bits.
inline uint64_t MixSeriesId(uint64_t id) {
  id ^= id >> 33;
  id *= 0xff51afd7ed558ccdULL;
  id ^= id >> 33;
  id *= 0xc4ceb9fe1a85ec53ULL;
  id ^= id >> 33;
  return id;
}

class LastValueTable {
 public:
  // Field indexes must be below this (the top bit of a packed field index marks strings).
  static constexpr size_t kMaxField = 0x7fff;

  LastValueTable();
  ~LastValueTable();
  LastValueTable(const LastValueTable&) = delete;
  LastValueTable& operator=(const LastValueTable&) = delete;

  // The entry of `series` into *out; false when there is none.
  bool Get(uint64_t series, LastValue* out) const;
  // The time of the entry of `series`, or INT64_MIN when there is none.
  int64_t Time(uint64_t series) const;
  // Creates or replaces the entry of `series`. REQUIRES: `row.values` sorted by field, unique,
  // fields <= kMaxField, string values indexing `row.strings`. Returns false, storing nothing
  // and dropping any earlier entry, when the row is too large to store (a cache may always
  // forget).
  bool Put(uint64_t series, const LastValue& row);
  // Removes the entry of `series`; false when there was none.
  bool Erase(uint64_t series);

  size_t size() const { return size_; }
  // Heap bytes held: slots, slab pages, free lists and strings.
  size_t memory_bytes() const;

 private:
  struct Slot {
    uint64_t series = 0;
    int64_t time = INT64_MIN;
    uint32_t offset = 0;  // of the values in the slab, in words (meaningless when count is 0)
    uint16_t count = 0;   // values
    uint8_t flags = 0;    // kUsed | kComplete | kDense | kStrings
  };
  static constexpr uint8_t kUsed = 1, kComplete = 2, kDense = 4, kStrings = 8;
  static constexpr size_t kPageWords = 8192;  // 64 KiB pages
  static constexpr uint32_t kNoBlock = UINT32_MAX;

  // Words a row of `count` values takes in the slab.
  static size_t BlockWords(size_t count, bool dense) {
    return count + (dense ? 0 : (count + 3) / 4);
  }
  size_t Position(uint64_t series) const;
  // The slot of `series`, or nullptr.
  const Slot* FindSlot(uint64_t series) const;
  uint64_t* Words(uint32_t offset) {
    return pages_[offset / kPageWords].get() + offset % kPageWords;
  }
  const uint64_t* Words(uint32_t offset) const {
    return pages_[offset / kPageWords].get() + offset % kPageWords;
  }
  // A block of `words` (from a free list, or the end of the slab), or kNoBlock when the slab
  // cannot address more.
  uint32_t Allocate(size_t words);
  void AddFree(uint32_t offset, size_t words);  // links a block into its free list
  void Free(uint32_t offset, size_t words);     // the same for a block that was live
  // Releases the strings of a block of `count` values.
  void ReleaseStrings(uint32_t offset, size_t count, uint8_t flags);
  // Releases what `slot` holds in the slab and the string pool (count becomes 0).
  void Release(Slot* slot);
  uint32_t AddString(std::string_view s);
  // Compacts the slab when more of it is free than in use; frees everything when empty.
  void MaybeCompactSlab();
  // Rebuilds the table with `capacity` slots (a power of two).
  void Rehash(size_t capacity);
  // Copies every live block to a new slab, emptying the free lists.
  void CompactSlab();
  // Removes the entry in slot `i`, shifting later entries of its probe run back.
  void EraseAt(size_t i);

  std::vector<Slot> slots_;  // capacity a power of two, or empty
  size_t size_ = 0;
  int shift_ = 64;  // 64 - log2(capacity)

  std::vector<std::unique_ptr<uint64_t[]>> pages_;
  size_t slab_end_ = 0;               // words used at the end of the last page
  size_t live_words_ = 0;             // in blocks of entries
  size_t free_words_ = 0;             // in free lists
  std::vector<uint32_t> free_heads_;  // by block size: the first free block (its first word links
                                      // to the next), or kNoBlock

  std::vector<std::string> strings_;
  std::vector<uint32_t> free_strings_;
  size_t string_bytes_ = 0;  // heap bytes of strings longer than the inline buffer
};

}  // namespace seaway
