// LastValueTable (src/storage).
#include "storage/last_value_table.h"

#include <bit>
#include <cstring>

namespace seaway {
namespace {

constexpr size_t kMinCapacity = 16;
constexpr size_t kNotFound = SIZE_MAX;
constexpr uint16_t kStringBit = 0x8000;

// Heap bytes a string holds beyond its object (none while it fits the inline buffer).
size_t StringHeapBytes(const std::string& s) {
  static const size_t inline_capacity = std::string().capacity();
  return s.capacity() > inline_capacity ? s.capacity() + 1 : 0;
}

}  // namespace

LastValueTable::LastValueTable() { static_assert(sizeof(Slot) == 24); }
LastValueTable::~LastValueTable() = default;

size_t LastValueTable::Position(uint64_t series) const {
  return static_cast<size_t>(MixSeriesId(series) >> shift_);
}

const LastValueTable::Slot* LastValueTable::FindSlot(uint64_t series) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  // Terminates: the table is never full.
  for (size_t i = Position(series);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if ((s.flags & kUsed) == 0) return nullptr;
    if (s.series == series) return &s;
  }
}

bool LastValueTable::Get(uint64_t series, LastValue* out) const {
  const Slot* s = FindSlot(series);
  if (s == nullptr) return false;
  out->time = s->time;
  out->complete = (s->flags & kComplete) != 0;
  out->values.resize(s->count);
  out->strings.clear();
  if (s->count == 0) return true;
  const uint64_t* w = Words(s->offset);
  const bool dense = (s->flags & kDense) != 0;
  for (size_t i = 0; i < s->count; ++i) {
    LastValue::Value& v = out->values[i];
    const uint16_t packed = dense ? static_cast<uint16_t>(i)
                                  : static_cast<uint16_t>(w[s->count + i / 4] >> (16 * (i % 4)));
    v.field = packed & ~kStringBit;
    v.is_string = (packed & kStringBit) != 0;
    v.bits = w[i];
    if (v.is_string) {
      out->strings.push_back(strings_[w[i]]);
      v.bits = out->strings.size() - 1;
    }
  }
  return true;
}

int64_t LastValueTable::Time(uint64_t series) const {
  const Slot* s = FindSlot(series);
  return s == nullptr ? INT64_MIN : s->time;
}

bool LastValueTable::Put(uint64_t series, const LastValue& row) {
  const size_t count = row.values.size();
  bool dense = true;
  bool fits = count <= UINT16_MAX;
  for (size_t i = 0; i < count; ++i) {
    const LastValue::Value& v = row.values[i];
    if (v.field != i || v.is_string) dense = false;
    if (v.field > kMaxField) fits = false;
  }
  const size_t words = BlockWords(count, dense);
  if (!fits || words > kPageWords) {
    Erase(series);
    return false;
  }

  size_t i = kNotFound;
  if (const Slot* found = FindSlot(series)) i = static_cast<size_t>(found - slots_.data());
  if (i == kNotFound) {
    if (slots_.empty() || (size_ + 1) * 4 > slots_.size() * 3) {
      Rehash(std::max(kMinCapacity, slots_.size() * 2));
    }
    const size_t mask = slots_.size() - 1;
    for (i = Position(series); slots_[i].flags & kUsed; i = (i + 1) & mask) {
    }
    slots_[i].series = series;
    slots_[i].flags = kUsed;
    ++size_;
  }

  // Reuse the entry's block when the new row takes as many words (the usual update: a newer
  // row of the same fields); otherwise free it and take another.
  Slot& slot = slots_[i];
  uint32_t offset = kNoBlock;
  if (slot.count > 0 && BlockWords(slot.count, slot.flags & kDense) == words) {
    ReleaseStrings(slot.offset, slot.count, slot.flags);
    offset = slot.offset;
    slot.count = 0;
  } else {
    Release(&slot);
    if (words > 0) offset = Allocate(words);
    if (words > 0 && offset == kNoBlock) {
      EraseAt(i);
      return false;
    }
  }

  uint64_t* w = words > 0 ? Words(offset) : nullptr;
  bool has_strings = false;
  for (size_t v = 0; v < count; ++v) {
    const LastValue::Value& value = row.values[v];
    if (value.is_string) {
      has_strings = true;
      w[v] = AddString(row.String(value));
    } else {
      w[v] = value.bits;
    }
  }
  if (!dense) {
    std::fill(w + count, w + words, uint64_t{0});
    for (size_t v = 0; v < count; ++v) {
      const uint16_t packed = static_cast<uint16_t>(row.values[v].field) |
                              (row.values[v].is_string ? kStringBit : uint16_t{0});
      w[count + v / 4] |= uint64_t{packed} << (16 * (v % 4));
    }
  }
  slot.time = row.time;
  slot.offset = offset;
  slot.count = static_cast<uint16_t>(count);
  slot.flags =
      kUsed | (row.complete ? kComplete : 0) | (dense ? kDense : 0) | (has_strings ? kStrings : 0);
  MaybeCompactSlab();
  return true;
}

bool LastValueTable::Erase(uint64_t series) {
  const Slot* s = FindSlot(series);
  if (s == nullptr) return false;
  EraseAt(static_cast<size_t>(s - slots_.data()));
  return true;
}

void LastValueTable::EraseAt(size_t i) {
  Release(&slots_[i]);
  // Backward-shift deletion: move later entries of the probe run into the hole unless their
  // home position lies cyclically after the hole.
  const size_t mask = slots_.size() - 1;
  size_t hole = i;
  for (size_t j = (i + 1) & mask; slots_[j].flags & kUsed; j = (j + 1) & mask) {
    const size_t home = Position(slots_[j].series);
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  if (size_ == 0) {
    slots_ = std::vector<Slot>();
    shift_ = 64;
  } else if (slots_.size() > kMinCapacity && size_ * 8 < slots_.size()) {
    Rehash(slots_.size() / 2);
  }
  MaybeCompactSlab();
}

void LastValueTable::ReleaseStrings(uint32_t offset, size_t count, uint8_t flags) {
  if ((flags & kStrings) == 0 || count == 0) return;
  const uint64_t* w = Words(offset);
  for (size_t v = 0; v < count; ++v) {
    const uint16_t packed = static_cast<uint16_t>(w[count + v / 4] >> (16 * (v % 4)));
    if ((packed & kStringBit) == 0) continue;
    std::string& s = strings_[w[v]];
    string_bytes_ -= StringHeapBytes(s);
    std::string().swap(s);
    free_strings_.push_back(static_cast<uint32_t>(w[v]));
  }
}

void LastValueTable::Release(Slot* slot) {
  const uint16_t count = slot->count;
  slot->count = 0;
  if (count == 0) return;
  ReleaseStrings(slot->offset, count, slot->flags);
  Free(slot->offset, BlockWords(count, slot->flags & kDense));
}

uint32_t LastValueTable::AddString(std::string_view s) {
  uint32_t index;
  if (!free_strings_.empty()) {
    index = free_strings_.back();
    free_strings_.pop_back();
    strings_[index].assign(s);
  } else {
    index = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
  }
  string_bytes_ += StringHeapBytes(strings_[index]);
  return index;
}

uint32_t LastValueTable::Allocate(size_t words) {
  if (words < free_heads_.size() && free_heads_[words] != kNoBlock) {
    const uint32_t offset = free_heads_[words];
    free_heads_[words] = static_cast<uint32_t>(Words(offset)[0]);
    free_words_ -= words;
    live_words_ += words;
    return offset;
  }
  if (pages_.empty() || slab_end_ + words > kPageWords) {
    // Offsets are 32-bit word numbers, kNoBlock excluded.
    if (pages_.size() + 1 >= (uint64_t{1} << 32) / kPageWords) return kNoBlock;
    if (!pages_.empty() && slab_end_ < kPageWords) {
      // The rest of the page serves smaller blocks later.
      AddFree(static_cast<uint32_t>((pages_.size() - 1) * kPageWords + slab_end_),
              kPageWords - slab_end_);
    }
    pages_.push_back(std::make_unique_for_overwrite<uint64_t[]>(kPageWords));
    slab_end_ = 0;
  }
  const uint32_t offset = static_cast<uint32_t>((pages_.size() - 1) * kPageWords + slab_end_);
  slab_end_ += words;
  live_words_ += words;
  return offset;
}

void LastValueTable::AddFree(uint32_t offset, size_t words) {
  if (free_heads_.size() <= words) free_heads_.resize(words + 1, kNoBlock);
  Words(offset)[0] = free_heads_[words];
  free_heads_[words] = offset;
  free_words_ += words;
}

void LastValueTable::Free(uint32_t offset, size_t words) {
  live_words_ -= words;
  AddFree(offset, words);
}

void LastValueTable::MaybeCompactSlab() {
  if (size_ == 0) {  // every block and string was released
    pages_ = std::vector<std::unique_ptr<uint64_t[]>>();
    free_heads_ = std::vector<uint32_t>();
    slab_end_ = live_words_ = free_words_ = 0;
    strings_ = std::vector<std::string>();
    free_strings_ = std::vector<uint32_t>();
    string_bytes_ = 0;
    return;
  }
  if (free_words_ >= kPageWords && free_words_ > live_words_) CompactSlab();
}

void LastValueTable::CompactSlab() {
  std::vector<std::unique_ptr<uint64_t[]>> old = std::move(pages_);
  pages_.clear();
  free_heads_.clear();
  slab_end_ = live_words_ = free_words_ = 0;
  for (Slot& s : slots_) {
    if ((s.flags & kUsed) == 0 || s.count == 0) continue;
    const size_t words = BlockWords(s.count, s.flags & kDense);
    const uint32_t offset = Allocate(words);  // cannot fail: the live blocks fitted before
    std::memcpy(Words(offset), old[s.offset / kPageWords].get() + s.offset % kPageWords,
                words * sizeof(uint64_t));
    s.offset = offset;
  }
}

void LastValueTable::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  shift_ = 64 - std::countr_zero(capacity);
  const size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if ((s.flags & kUsed) == 0) continue;
    size_t i = Position(s.series);
    while (slots_[i].flags & kUsed) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

size_t LastValueTable::memory_bytes() const {
  return slots_.capacity() * sizeof(Slot) + pages_.size() * kPageWords * sizeof(uint64_t) +
         pages_.capacity() * sizeof(pages_[0]) + free_heads_.capacity() * sizeof(uint32_t) +
         strings_.capacity() * sizeof(std::string) + free_strings_.capacity() * sizeof(uint32_t) +
         string_bytes_;
}

}  // namespace seaway
