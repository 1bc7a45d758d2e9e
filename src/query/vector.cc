// Column vectors and chunks (src/query).
#include "query/vector.h"

#include <deque>

namespace seaway::query {

namespace {

size_t PhysicalSize(const Vector& v) {
  if (IsIntegerBacked(v.type)) return v.ints.size();
  if (v.type == SqlType::kDouble) return v.doubles.size();
  if (v.type == SqlType::kText) return v.strings.size();
  return v.valid.size();
}

}  // namespace

Value Vector::Get(size_t row) const {
  if (IsNull(row)) return Value::Null(type);
  const size_t i = Index(row);
  Value v;
  v.type = type;
  v.is_null = false;
  if (IsIntegerBacked(type)) {
    v.i = ints[i];
    if (!months.empty()) v.months = months[i];
  } else if (type == SqlType::kDouble) {
    v.d = doubles[i];
  } else if (type == SqlType::kText) {
    v.s = strings[i];
  }
  return v;
}

void Vector::Reset(SqlType t) {
  type = t;
  constant = false;
  valid.clear();
  ints.clear();
  doubles.clear();
  strings.clear();
  months.clear();
}

namespace {

// Appends the months part of an appended INTERVAL (ints already holds the new value).
void AppendMonths(Vector* v, int64_t m) {
  if (v->type != SqlType::kInterval) return;
  if (v->months.empty()) {
    if (m == 0) return;
    v->months.assign(v->ints.size() - 1, 0);
  }
  v->months.push_back(m);
}

}  // namespace

void MarkValidity(Vector* v, size_t size_before, bool is_valid) {
  if (v->valid.empty()) {
    if (is_valid) return;
    v->valid.assign(size_before, 1);
  }
  v->valid.push_back(is_valid ? 1 : 0);
}

void Vector::AppendNull() {
  const size_t before = PhysicalSize(*this);
  if (IsIntegerBacked(type)) {
    ints.push_back(0);
    AppendMonths(this, 0);
  } else if (type == SqlType::kDouble) {
    doubles.push_back(0);
  } else if (type == SqlType::kText) {
    strings.emplace_back();
  } else {
    valid.push_back(0);
    return;
  }
  MarkValidity(this, before, false);
}

void Vector::Append(const Value& v) {
  if (v.is_null) {
    AppendNull();
    return;
  }
  const size_t before = PhysicalSize(*this);
  if (IsIntegerBacked(type)) {
    ints.push_back(v.i);
    AppendMonths(this, v.months);
  } else if (type == SqlType::kDouble) {
    doubles.push_back(v.d);
  } else if (type == SqlType::kText) {
    strings.push_back(v.s);
  }
  MarkValidity(this, before, true);
}

void Vector::AppendFrom(const Vector& other, size_t row) {
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  const size_t i = other.Index(row);
  const size_t before = PhysicalSize(*this);
  if (IsIntegerBacked(type)) {
    ints.push_back(other.ints[i]);
    AppendMonths(this, other.months.empty() ? 0 : other.months[i]);
  } else if (type == SqlType::kDouble) {
    doubles.push_back(other.doubles[i]);
  } else if (type == SqlType::kText) {
    strings.push_back(other.strings[i]);
  }
  MarkValidity(this, before, true);
}

void Vector::AppendRepeated(const Vector& other, size_t row, size_t n) {
  if (type == SqlType::kInterval || type == SqlType::kNull) {
    for (size_t k = 0; k < n; ++k) AppendFrom(other, row);
    return;
  }
  if (n == 0) return;
  const bool is_null = other.IsNull(row);
  const size_t i = other.Index(row);
  const size_t before = PhysicalSize(*this);
  if (IsIntegerBacked(type)) {
    ints.insert(ints.end(), n, is_null ? 0 : other.ints[i]);
  } else if (type == SqlType::kDouble) {
    doubles.insert(doubles.end(), n, is_null ? 0 : other.doubles[i]);
  } else if (type == SqlType::kText) {
    strings.insert(strings.end(), n, is_null ? std::string() : other.strings[i]);
  }
  if (valid.empty()) {
    if (!is_null) return;
    valid.assign(before, 1);
  }
  valid.insert(valid.end(), n, is_null ? 0 : 1);
}

void Vector::SetConstant(const Value& v, SqlType t) {
  Reset(v.is_null ? t : v.type);
  Append(v);
  if (type == SqlType::kNull) valid.assign(1, 0);
  constant = true;
}

void Vector::Flatten(size_t rows) {
  if (!constant) return;
  constant = false;
  if (!valid.empty()) valid.assign(rows, valid[0]);
  if (IsIntegerBacked(type)) {
    ints.assign(rows, ints.empty() ? 0 : ints[0]);
    if (!months.empty()) months.assign(rows, months[0]);
  } else if (type == SqlType::kDouble) {
    doubles.assign(rows, doubles.empty() ? 0 : doubles[0]);
  } else if (type == SqlType::kText) {
    std::string s = strings.empty() ? std::string() : strings[0];
    strings.assign(rows, s);
  } else {
    valid.assign(rows, 0);
  }
}

namespace {

template <typename T>
void Gather(std::vector<T>* v, const std::vector<uint32_t>& sel) {
  if (v->empty()) return;
  size_t out = 0;
  for (uint32_t i : sel) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (out != i) (*v)[out] = std::move((*v)[i]);
    } else {
      (*v)[out] = (*v)[i];
    }
    ++out;
  }
  v->resize(out);
}

}  // namespace

void Vector::Select(const std::vector<uint32_t>& sel) {
  if (constant) return;
  Gather(&valid, sel);
  Gather(&ints, sel);
  Gather(&doubles, sel);
  Gather(&strings, sel);
  Gather(&months, sel);
}

size_t Vector::MemoryBytes() const {
  size_t bytes = valid.capacity() + ints.capacity() * 8 + doubles.capacity() * 8 +
                 strings.capacity() * sizeof(std::string) + months.capacity() * 8;
  if (type == SqlType::kText) {
    for (const auto& s : strings) {
      if (s.capacity() > 15) bytes += s.capacity();
    }
  }
  return bytes;
}

size_t DataChunk::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& c : columns) bytes += c.MemoryBytes();
  return bytes;
}

namespace {

// The thread's pool: vectors [0, used) are borrowed, in borrowing order. A deque, so that
// growing it moves no borrowed vector.
struct ScratchStack {
  std::deque<Vector> vectors;
  size_t used = 0;
};

ScratchStack& ThreadScratch() {
  thread_local ScratchStack stack;
  return stack;
}

}  // namespace

ScratchVectors::ScratchVectors(size_t n) : n_(n) {
  ScratchStack& stack = ThreadScratch();
  vectors_ = &stack.vectors;
  begin_ = stack.used;
  stack.used += n;
  if (stack.vectors.size() < stack.used) stack.vectors.resize(stack.used);
  // As good as new (Vector{}), buffers aside.
  for (size_t i = begin_; i < stack.used; ++i) stack.vectors[i].Reset(SqlType::kNull);
}

ScratchVectors::~ScratchVectors() {
  for (size_t i = begin_; i < begin_ + n_; ++i) {
    Vector& v = (*vectors_)[i];
    v.strings.clear();  // the texts' memory goes now; MemoryBytes then counts buffers alone
    if (v.MemoryBytes() > kKeptBytes) v = Vector{};
  }
  ThreadScratch().used = begin_;
}

}  // namespace seaway::query
