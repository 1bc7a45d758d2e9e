// WriteBatch: many rows of one table, in columns (src/storage). Front ends (line protocol, JSON,
// MQTT) build one per request and hand it to Engine::Write.
//
//   WriteBatch batch(tenant, "main", "cpu");
//   batch.AddRow(ts);
//   SW_RETURN_IF_ERROR(batch.SetTag("host", "a"));
//   SW_RETURN_IF_ERROR(batch.SetDouble("usage", 12.5));
//
// Columns appear as rows use them; a row lacking a tag or field has it absent. Fixed-width field
// values are stored as 64-bit patterns (doubles bit-cast, bools 0/1).
//
// Thread-compatible.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"
#include "storage/schema.h"

namespace seaway {

struct FieldColumn {
  std::string name;
  FieldType type;
  std::vector<uint8_t> present;      // one per row: 1 when the row has this field
  std::vector<uint64_t> bits;        // fixed-width types, one per row (0 when absent)
  std::vector<std::string> strings;  // kString only, one per row ("" when absent)

  bool operator==(const FieldColumn&) const = default;
};

// One tag column: a value per row ("" when the row lacks the tag), packed end to end in one
// buffer so that a row costs an offset rather than a string object. Only the last row changes.
class TagValues {
 public:
  explicit TagValues(size_t rows = 0) : ends_(rows, 0) {}

  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t row) const {
    const uint32_t begin = row == 0 ? 0 : ends_[row - 1];
    return std::string_view(bytes_.data() + begin, ends_[row] - begin);
  }
  bool operator==(const TagValues& other) const {
    return ends_ == other.ends_ && bytes_ == other.bytes_;
  }

  void AddRow() { ends_.push_back(static_cast<uint32_t>(bytes_.size())); }
  void AddRow(std::string_view value) {
    bytes_.append(value);
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  void SetLast(std::string_view value) {
    bytes_.resize(ends_.size() < 2 ? 0 : ends_[ends_.size() - 2]);
    bytes_.append(value);
    ends_.back() = static_cast<uint32_t>(bytes_.size());
  }
  void DropLast() {
    ends_.pop_back();
    bytes_.resize(ends_.empty() ? 0 : ends_.back());
  }
  void Reserve(size_t rows, size_t bytes) {
    ends_.reserve(rows);
    bytes_.reserve(bytes);
  }

 private:
  std::string bytes_;
  std::vector<uint32_t> ends_;  // ends_[row]: one past the row's last byte
};

class WriteBatch {
 public:
  WriteBatch(TenantId tenant, std::string database, std::string table);

  // Starts a new row at `time` (ns since epoch). Tags and fields set next belong to it.
  void AddRow(int64_t time);

  // Each REQUIRES: AddRow was called. Setting the same name twice in a row keeps the last value;
  // a field used with two types in one batch is an error naming the row.
  Status SetTag(std::string_view key, std::string_view value);
  Status SetDouble(std::string_view name, double v) {
    return SetFixed(name, FieldType::kDouble, std::bit_cast<uint64_t>(v));
  }
  Status SetInt64(std::string_view name, int64_t v) {
    return SetFixed(name, FieldType::kInt64, static_cast<uint64_t>(v));
  }
  Status SetUInt64(std::string_view name, uint64_t v) {
    return SetFixed(name, FieldType::kUInt64, v);
  }
  Status SetBool(std::string_view name, bool v) { return SetFixed(name, FieldType::kBool, v); }
  Status SetString(std::string_view name, std::string_view v);

  // AddRow with a value in every column, for decoders that resolved a row's names to all of the
  // batch's columns: tags[i] for tag_keys()[i]; for fields()[i], bits[i] or, for a kString
  // column, strings[i]. Cheaper than AddRow and a Set*At per column (which first write each
  // column's absent value). REQUIRES: each span is as long as its columns.
  void AddFullRow(int64_t time, std::span<const std::string_view> tags,
                  std::span<const uint64_t> bits, std::span<const std::string_view> strings);

  // Column access by position, for decoders that fill many rows of the same shape: resolve the
  // names once, then set values by index. Each REQUIRES: AddRow was called.
  // The index of tag column `key`, added when new.
  size_t TagColumn(std::string_view key);
  // The index of field column `name`, added when new; an error when it exists with another type.
  Result<size_t> FieldColumnIndex(std::string_view name, FieldType type);
  void SetTagAt(size_t column, std::string_view value) { tag_values_[column].SetLast(value); }
  void SetFixedAt(size_t column, uint64_t bits) {
    fields_[column].present.back() = 1;
    fields_[column].bits.back() = bits;
  }
  void SetStringAt(size_t column, std::string_view value) {
    fields_[column].present.back() = 1;
    fields_[column].strings.back().assign(value);
  }

  // Appends the rows of `other`, a batch of the same tenant, database and table, mapping its
  // columns onto these by name. A field whose type differs from this batch's is refused with
  // InvalidArgument and nothing is appended. (The MQTT telemetry bridge merges the messages of
  // many devices into one write this way.)
  Status Append(const WriteBatch& other);

  // Makes room for `rows` rows in the columns that exist now, so that a decoder which can tell
  // the size of its input grows each column once rather than by doubling (tag values are sized
  // like the last row's). Columns added later grow as usual.
  void Reserve(size_t rows);

  // Removes the last row, and the columns it added (a front end that finds an error mid-row
  // drops the row, and no trace of it may reach the catalog). At most once per AddRow.
  void DropLastRow();

  // Checks names and that every row has at least one field.
  Status Validate() const;

  // Same identity, columns and values (column order included); for tests and fuzzers.
  bool operator==(const WriteBatch& other) const {
    return tenant_ == other.tenant_ && database_ == other.database_ && table_ == other.table_ &&
           times_ == other.times_ && tag_keys_ == other.tag_keys_ &&
           tag_values_ == other.tag_values_ && fields_ == other.fields_;
  }

  TenantId tenant() const { return tenant_; }
  const std::string& database() const { return database_; }
  const std::string& table() const { return table_; }
  size_t rows() const { return times_.size(); }
  const std::vector<int64_t>& times() const { return times_; }
  const std::vector<std::string>& tag_keys() const { return tag_keys_; }
  // tag_values()[tag][row]; "" means the row lacks the tag.
  const std::vector<TagValues>& tag_values() const { return tag_values_; }
  const std::vector<FieldColumn>& fields() const { return fields_; }

 private:
  Status SetFixed(std::string_view name, FieldType type, uint64_t bits);

  TenantId tenant_;
  std::string database_;
  std::string table_;
  std::vector<int64_t> times_;
  std::vector<std::string> tag_keys_;
  std::vector<TagValues> tag_values_;
  std::vector<FieldColumn> fields_;
  size_t last_field_ = 0;  // lookup hint: rows usually set fields in the same order
  // Columns that existed when the last row was added: DropLastRow removes the rest.
  size_t tags_before_row_ = 0;
  size_t fields_before_row_ = 0;
};

}  // namespace seaway
