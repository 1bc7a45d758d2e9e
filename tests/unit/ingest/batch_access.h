// Column lookups by name in a WriteBatch, for the ingest decoders' tests (tests/unit/ingest).
#pragma once

#include <string_view>

#include "storage/write_batch.h"

namespace seaway::testing {

// The field column `name`, or nullptr.
inline const FieldColumn* Field(const WriteBatch& b, std::string_view name) {
  for (const auto& f : b.fields()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of tag `key` in `row` ("" when the row lacks it or the batch has no such tag).
inline std::string_view Tag(const WriteBatch& b, std::string_view key, size_t row) {
  for (size_t k = 0; k < b.tag_keys().size(); ++k) {
    if (b.tag_keys()[k] == key) return b.tag_values()[k][row];
  }
  return {};
}

}  // namespace seaway::testing
