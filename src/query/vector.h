// Column vectors and chunks: the unit of vectorised execution (src/query).
//
// A Vector is one column of a chunk: values of one SqlType in one of three arrays (ints for
// BOOLEAN, BIGINT, UBIGINT, TIMESTAMP and INTERVAL; doubles; strings) plus validity flags. A
// *constant* vector holds one value that stands for every row of its chunk: scans produce the
// tags of a series block that way, so a predicate or a group key on tags costs one evaluation
// per series rather than one per row.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "query/value.h"

namespace seaway::query {

struct Vector {
  SqlType type = SqlType::kNull;
  bool constant = false;       // one value (index 0) for every row
  std::vector<uint8_t> valid;  // 1 = not NULL; empty means every value is valid
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  // INTERVAL only: the months part of each value, beside the nanoseconds in `ints` ('1 month'
  // is no fixed number of nanoseconds). Empty means every value has zero months.
  std::vector<int64_t> months;

  // The storage index of row `row`.
  size_t Index(size_t row) const { return constant ? 0 : row; }
  bool IsNull(size_t row) const {
    if (type == SqlType::kNull) return true;
    return !valid.empty() && valid[Index(row)] == 0;
  }
  bool AllValid() const { return type != SqlType::kNull && valid.empty(); }

  // Row `row` as a Value.
  Value Get(size_t row) const;

  // Empties the vector and gives it `type` (not constant).
  void Reset(SqlType t);
  // Appends a value of the vector's type (or NULL).
  void Append(const Value& v);
  void AppendNull();
  // Appends row `row` of `other` (same type).
  void AppendFrom(const Vector& other, size_t row);
  // Appends row `row` of `other` (same type) `n` times.
  void AppendRepeated(const Vector& other, size_t row, size_t n);
  // Makes the vector a constant holding `v` (of type v.type unless NULL).
  void SetConstant(const Value& v, SqlType t);
  // Expands a constant to `rows` physical rows.
  void Flatten(size_t rows);
  // Keeps the rows whose index is in `sel` (ascending). A constant stays constant.
  void Select(const std::vector<uint32_t>& sel);
  // Approximate heap bytes, for the query memory limit.
  size_t MemoryBytes() const;
};

// A horizontal slice of a relation: one Vector per column, `rows` rows.
struct DataChunk {
  std::vector<Vector> columns;
  size_t rows = 0;

  size_t MemoryBytes() const;
};

// Appends `v` as a NULL-aware element: makes `valid` explicit once a NULL appears.
void MarkValidity(Vector* v, size_t size_before, bool is_valid);

// `n` vectors for intermediate results, borrowed from the thread's pool and handed back when
// this goes out of scope (borrowers nest: the pool is a stack). Handed-back vectors keep their
// buffers, so evaluating an expression chunk after chunk allocates nothing once warm, where
// fresh vectors cost an allocation, page faults and a zero fill per chunk and column; a vector
// holding more than kKeptBytes is freed instead of kept. A borrowed vector is empty, of type
// NULL and not constant, like a new one.
//
// Not copyable; each borrower on its own thread.
class ScratchVectors {
 public:
  static constexpr size_t kKeptBytes = size_t{4} << 20;

  explicit ScratchVectors(size_t n);
  ~ScratchVectors();
  ScratchVectors(const ScratchVectors&) = delete;
  ScratchVectors& operator=(const ScratchVectors&) = delete;

  Vector& operator[](size_t i) { return (*vectors_)[begin_ + i]; }
  size_t size() const { return n_; }

 private:
  std::deque<Vector>* vectors_;  // the thread's
  size_t begin_;                 // the first of ours in it
  size_t n_;
};

}  // namespace seaway::query
