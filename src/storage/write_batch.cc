// WriteBatch (src/storage).
#include "storage/write_batch.h"

#include "common/check.h"

namespace seaway {

WriteBatch::WriteBatch(TenantId tenant, std::string database, std::string table)
    : tenant_(tenant), database_(std::move(database)), table_(std::move(table)) {}

void WriteBatch::AddRow(int64_t time) {
  times_.push_back(time);
  tags_before_row_ = tag_keys_.size();
  fields_before_row_ = fields_.size();
  for (auto& values : tag_values_) values.AddRow();
  for (auto& f : fields_) {
    f.present.push_back(0);
    f.bits.push_back(0);
    if (f.type == FieldType::kString) f.strings.emplace_back();
  }
}

void WriteBatch::AddFullRow(int64_t time, std::span<const std::string_view> tags,
                            std::span<const uint64_t> bits,
                            std::span<const std::string_view> strings) {
  times_.push_back(time);
  tags_before_row_ = tag_keys_.size();
  fields_before_row_ = fields_.size();
  // Locals, not members, in the loops: each byte stored into `present` may alias any member.
  TagValues* const tag_values = tag_values_.data();
  const size_t tag_count = tag_values_.size();
  for (size_t i = 0; i < tag_count; ++i) tag_values[i].AddRow(tags[i]);
  FieldColumn* const fields = fields_.data();
  const size_t field_count = fields_.size();
  for (size_t i = 0; i < field_count; ++i) {
    FieldColumn& f = fields[i];
    if (f.type == FieldType::kString) {
      f.bits.push_back(0);
      f.strings.emplace_back(strings[i]);
    } else {
      f.bits.push_back(bits[i]);
    }
    f.present.push_back(1);
  }
}

void WriteBatch::Reserve(size_t rows) {
  times_.reserve(rows);
  for (auto& values : tag_values_) {
    values.Reserve(rows, values.size() == 0 ? 0 : rows * values[values.size() - 1].size());
  }
  for (auto& f : fields_) {
    f.present.reserve(rows);
    f.bits.reserve(rows);
    if (f.type == FieldType::kString) f.strings.reserve(rows);
  }
}

void WriteBatch::DropLastRow() {
  if (times_.empty()) return;
  times_.pop_back();
  tag_keys_.resize(std::min(tag_keys_.size(), tags_before_row_));
  tag_values_.resize(std::min(tag_values_.size(), tags_before_row_));
  fields_.erase(
      fields_.begin() + static_cast<ptrdiff_t>(std::min(fields_.size(), fields_before_row_)),
      fields_.end());
  for (auto& values : tag_values_) values.DropLast();
  for (auto& f : fields_) {
    f.present.pop_back();
    f.bits.pop_back();
    if (f.type == FieldType::kString) f.strings.pop_back();
  }
}

size_t WriteBatch::TagColumn(std::string_view key) {
  SW_CHECK(!times_.empty());
  for (size_t i = 0; i < tag_keys_.size(); ++i) {
    if (tag_keys_[i] == key) return i;
  }
  tag_keys_.emplace_back(key);
  tag_values_.emplace_back(times_.size());
  return tag_keys_.size() - 1;
}

Status WriteBatch::Append(const WriteBatch& other) {
  SW_CHECK(other.tenant_ == tenant_ && other.database_ == database_ && other.table_ == table_);
  // Type conflicts first, so that a refused append changes nothing.
  for (const FieldColumn& theirs : other.fields_) {
    for (const FieldColumn& mine : fields_) {
      if (mine.name == theirs.name && mine.type != theirs.type) {
        return InvalidArgument(
            "table '{}' field '{}': type {} conflicts with type {} of rows batched with it", table_,
            theirs.name, FieldTypeName(theirs.type), FieldTypeName(mine.type));
      }
    }
  }
  std::vector<size_t> tag_map(other.tag_keys_.size());
  std::vector<size_t> field_map(other.fields_.size());
  for (size_t r = 0; r < other.rows(); ++r) {
    AddRow(other.times_[r]);
    if (r == 0) {  // columns new to this batch appear now, absent in the earlier rows
      for (size_t t = 0; t < tag_map.size(); ++t) tag_map[t] = TagColumn(other.tag_keys_[t]);
      for (size_t f = 0; f < field_map.size(); ++f) {
        Result<size_t> index = FieldColumnIndex(other.fields_[f].name, other.fields_[f].type);
        SW_CHECK(index.ok());
        field_map[f] = *index;
      }
    }
    for (size_t t = 0; t < tag_map.size(); ++t) {
      const std::string_view value = other.tag_values_[t][r];
      if (!value.empty()) SetTagAt(tag_map[t], value);
    }
    for (size_t f = 0; f < field_map.size(); ++f) {
      const FieldColumn& column = other.fields_[f];
      if (!column.present[r]) continue;
      if (column.type == FieldType::kString) {
        SetStringAt(field_map[f], column.strings[r]);
      } else {
        SetFixedAt(field_map[f], column.bits[r]);
      }
    }
  }
  return Status::OK();
}

Status WriteBatch::SetTag(std::string_view key, std::string_view value) {
  SetTagAt(TagColumn(key), value);
  return Status::OK();
}

Result<size_t> WriteBatch::FieldColumnIndex(std::string_view name, FieldType type) {
  SW_CHECK(!times_.empty());
  size_t index = fields_.size();
  if (last_field_ < fields_.size() && fields_[last_field_].name == name) {
    index = last_field_;
  } else {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].name == name) {
        index = i;
        break;
      }
    }
  }
  if (index == fields_.size()) {
    FieldColumn c{std::string(name), type};
    c.present.assign(times_.size(), 0);
    c.bits.assign(times_.size(), 0);
    if (type == FieldType::kString) c.strings.resize(times_.size());
    fields_.push_back(std::move(c));
  } else if (fields_[index].type != type) {
    return InvalidArgument(
        "table '{}' field '{}': type {} in row {} conflicts with type {} "
        "earlier in the same batch",
        table_, name, FieldTypeName(type), times_.size(), FieldTypeName(fields_[index].type));
  }
  last_field_ = index + 1;
  return index;
}

Status WriteBatch::SetFixed(std::string_view name, FieldType type, uint64_t bits) {
  SW_ASSIGN_OR_RETURN(size_t column, FieldColumnIndex(name, type));
  SetFixedAt(column, bits);
  return Status::OK();
}

Status WriteBatch::SetString(std::string_view name, std::string_view v) {
  SW_ASSIGN_OR_RETURN(size_t column, FieldColumnIndex(name, FieldType::kString));
  SetStringAt(column, v);
  return Status::OK();
}

Status WriteBatch::Validate() const {
  SW_RETURN_IF_ERROR(ValidateName(database_, "database"));
  SW_RETURN_IF_ERROR(ValidateName(table_, "table"));
  for (const auto& key : tag_keys_) SW_RETURN_IF_ERROR(ValidateName(key, "tag"));
  for (const auto& f : fields_) {
    SW_RETURN_IF_ERROR(ValidateName(f.name, "field"));
    if (f.name == "time") return InvalidArgument("table '{}': 'time' cannot be a field", table_);
  }
  for (const auto& key : tag_keys_) {
    if (key == "time") return InvalidArgument("table '{}': 'time' cannot be a tag", table_);
  }
  for (size_t row = 0; row < times_.size(); ++row) {
    bool any = false;
    for (const auto& f : fields_) any |= f.present[row] != 0;
    if (!any)
      return InvalidArgument("table '{}' row {}: a row needs at least one field", table_, row + 1);
  }
  return Status::OK();
}

}  // namespace seaway
