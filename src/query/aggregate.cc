// Aggregate function states (src/query).
#include "query/aggregate.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

namespace seaway::query {

std::optional<AggregateKind> FindAggregate(std::string_view name, bool distinct, bool star,
                                           double* fraction) {
  if (name == "count") {
    if (star) return AggregateKind::kCountStar;
    return distinct ? AggregateKind::kCountDistinct : AggregateKind::kCount;
  }
  if (name == "sum") return AggregateKind::kSum;
  if (name == "avg" || name == "mean") return AggregateKind::kAvg;
  // bool_and / every and bool_or are min and max over BOOLEAN (false < true); the binder
  // refuses other types.
  if (name == "min" || name == "bool_and" || name == "every") return AggregateKind::kMin;
  if (name == "max" || name == "bool_or") return AggregateKind::kMax;
  if (name == "first") return AggregateKind::kFirst;
  if (name == "last") return AggregateKind::kLast;
  if (name == "stddev" || name == "stddev_samp") return AggregateKind::kStddevSamp;
  if (name == "stddev_pop") return AggregateKind::kStddevPop;
  if (name == "variance" || name == "var_samp") return AggregateKind::kVarSamp;
  if (name == "var_pop") return AggregateKind::kVarPop;
  if (name == "percentile_cont") return AggregateKind::kPercentileCont;
  if (name == "percentile_disc") return AggregateKind::kPercentileDisc;
  if (name == "median") {
    *fraction = 0.5;
    return AggregateKind::kPercentileCont;
  }
  if (name == "spread") return AggregateKind::kSpread;
  return std::nullopt;
}

Result<SqlType> AggregateResultType(AggregateKind kind, SqlType input, std::string_view name) {
  auto numeric_only = [&]() -> Status {
    if (IsNumeric(input) || input == SqlType::kNull) return Status::OK();
    return InvalidArgument("{}() takes a number, not {}", name, SqlTypeName(input));
  };
  switch (kind) {
    case AggregateKind::kCountStar:
    case AggregateKind::kCount:
    case AggregateKind::kCountDistinct: return SqlType::kBigInt;
    case AggregateKind::kSum:
      if (input == SqlType::kInterval) return SqlType::kInterval;
      SW_RETURN_IF_ERROR(numeric_only());
      return input == SqlType::kNull ? SqlType::kDouble : input;
    case AggregateKind::kAvg:
    case AggregateKind::kStddevSamp:
    case AggregateKind::kStddevPop:
    case AggregateKind::kVarSamp:
    case AggregateKind::kVarPop:
    case AggregateKind::kPercentileCont:
    case AggregateKind::kSpread: SW_RETURN_IF_ERROR(numeric_only()); return SqlType::kDouble;
    case AggregateKind::kPercentileDisc:
      SW_RETURN_IF_ERROR(numeric_only());
      return input == SqlType::kNull ? SqlType::kDouble : input;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
    case AggregateKind::kFirst:
    case AggregateKind::kLast: return input;
  }
  return input;
}

Status AggregateState::UpdateSummary(uint32_t, uint64_t, const SeriesSummary::Field*) {
  return Internal("this aggregate cannot be answered from chunk statistics");
}

bool SupportsSummary(const AggregateSpec& spec) {
  switch (spec.kind) {
    case AggregateKind::kCountStar:
    case AggregateKind::kCount: return true;
    case AggregateKind::kSum:
    case AggregateKind::kAvg: return spec.input_type == SqlType::kDouble;
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return IsNumeric(spec.input_type) || spec.input_type == SqlType::kBoolean;
    default: return false;
  }
}

Status AggregateState::UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                                   uint32_t group) {
  if (scratch_groups_.size() < end) scratch_groups_.resize(end);
  std::fill(scratch_groups_.begin() + static_cast<long>(begin),
            scratch_groups_.begin() + static_cast<long>(end), group);
  return Update(args, scratch_groups_.data(), begin, end);
}

namespace {

bool Valid(const Vector& v, size_t row) { return !v.IsNull(row); }

// Rows of [begin, end) whose value is not NULL, as a count; for constants every row or none.
size_t CountValid(const Vector& a, size_t begin, size_t end) {
  if (a.type == SqlType::kNull) return 0;
  if (a.AllValid()) return end - begin;
  if (a.constant) return a.valid[0] ? end - begin : 0;
  size_t n = 0;
  for (size_t i = begin; i < end; ++i) n += a.valid[i];
  return n;
}

class CountState : public AggregateState {
 public:
  explicit CountState(bool star) : star_(star) {}
  void Resize(size_t groups) override { counts_.resize(groups, 0); }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    if (star_ || args[0]->AllValid()) {
      for (size_t i = begin; i < end; ++i) ++counts_[groups[i]];
    } else {
      const Vector& a = *args[0];
      for (size_t i = begin; i < end; ++i) counts_[groups[i]] += Valid(a, i);
    }
    return Status::OK();
  }
  Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                     uint32_t group) override {
    counts_[group] += static_cast<int64_t>(star_ ? end - begin : CountValid(*args[0], begin, end));
    return Status::OK();
  }
  Status UpdateSummary(uint32_t group, uint64_t rows, const SeriesSummary::Field* field) override {
    counts_[group] += static_cast<int64_t>(star_ || field == nullptr ? rows : field->count);
    return Status::OK();
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<CountState&>(other);
    for (size_t g = 0; g < map.size(); ++g) counts_[map[g]] += o.counts_[g];
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) out->Append(Value::BigInt(counts_[g]));
  }
  size_t MemoryBytes() const override { return counts_.capacity() * 8; }

 private:
  bool star_;
  std::vector<int64_t> counts_;
};

// A group holds its values as 64-bit words: numbers as their bits (DoubleKeyBits), text as its
// number in a dictionary of the state's strings. A constant column (a tag of a series block) is
// looked up once per call, and the string looked up last is remembered, as the runs of one
// block come one call each.
class CountDistinctState : public AggregateState {
 public:
  void Resize(size_t groups) override { sets_.resize(groups); }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    if (a.constant) {
      // One value: inserted once per change of group.
      if (begin == end || !Valid(a, 0)) return Status::OK();
      const uint64_t word = WordOf(a, 0);
      uint32_t last = groups[begin];
      Insert(last, word);
      for (size_t i = begin + 1; i < end; ++i) {
        if (groups[i] != last) Insert(last = groups[i], word);
      }
      return Status::OK();
    }
    for (size_t i = begin; i < end; ++i) {
      if (Valid(a, i)) Insert(groups[i], WordOf(a, i));
    }
    return Status::OK();
  }
  Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                     uint32_t group) override {
    const Vector& a = *args[0];
    if (a.constant) {
      if (begin < end && Valid(a, 0)) Insert(group, WordOf(a, 0));
      return Status::OK();
    }
    for (size_t i = begin; i < end; ++i) {
      if (Valid(a, i)) Insert(group, WordOf(a, i));
    }
    return Status::OK();
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<CountDistinctState&>(other);
    std::vector<uint64_t> ids(o.ids_.size());  // its strings' numbers in this state
    for (const auto& [text, id] : o.ids_) ids[id] = IdOf(text);
    for (size_t g = 0; g < map.size(); ++g) {
      for (uint64_t word : o.sets_[g]) Insert(map[g], o.ids_.empty() ? word : ids[word]);
    }
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) {
      out->Append(Value::BigInt(static_cast<int64_t>(sets_[g].size())));
    }
  }
  size_t MemoryBytes() const override { return bytes_ + sets_.capacity() * 40; }

 private:
  uint64_t WordOf(const Vector& v, size_t row) {
    const size_t i = v.Index(row);
    if (v.type == SqlType::kText) return IdOf(v.strings[i]);
    if (v.type == SqlType::kDouble) return DoubleKeyBits(v.doubles[i]);  // -0 = 0, NaN = NaN
    return static_cast<uint64_t>(v.ints[i]);
  }
  uint64_t IdOf(const std::string& text) {
    if (has_last_ && text == last_text_) return last_id_;
    auto [it, inserted] = ids_.try_emplace(text, ids_.size());
    if (inserted) bytes_ += text.size() + 48;
    last_text_ = text;
    last_id_ = it->second;
    has_last_ = true;
    return last_id_;
  }
  void Insert(uint32_t g, uint64_t word) {
    if (sets_[g].insert(word).second) bytes_ += 16;
  }
  absl::flat_hash_map<std::string, uint64_t> ids_;
  std::vector<absl::flat_hash_set<uint64_t>> sets_;
  std::string last_text_;
  uint64_t last_id_ = 0;
  bool has_last_ = false;
  size_t bytes_ = 0;
};

// As in PostgreSQL, a sum of DOUBLE values (sum, avg, and the moments of variance and stddev)
// that reaches Infinity from finite values fails instead of giving Infinity; one that had an
// infinite value to add stays infinite (or NaN). `infinite` says whether the group met one.
Status CheckSumOverflow(bool infinite, double sum, std::string_view name) {
  if (infinite || !std::isinf(sum)) return Status::OK();
  return InvalidArgument("value out of range: overflow in {}()", name);
}

// Whether one of d[i] for i in [begin, end) where valid[i] (every i when `valid` is null) is
// infinite. Only asked when their sum is not finite.
bool AnyInfinite(const double* d, const uint8_t* valid, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    if ((valid == nullptr || valid[i]) && std::isinf(d[i])) return true;
  }
  return false;
}

// Whether the rows a summary stands for hold an infinite value: its min or its max is one.
bool SummaryInfinite(const SeriesSummary::Field& field) {
  return std::isinf(std::bit_cast<double>(field.min_bits)) ||
         std::isinf(std::bit_cast<double>(field.max_bits));
}

class SumState : public AggregateState {
 public:
  explicit SumState(SqlType type) : type_(type) {}
  void Resize(size_t groups) override {
    ints_.resize(groups, 0);
    doubles_.resize(groups, 0);
    seen_.resize(groups, 0);
    infinite_.resize(groups, 0);
  }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    for (size_t i = begin; i < end; ++i) {
      if (!Valid(a, i)) continue;
      SW_RETURN_IF_ERROR(Add(groups[i], a, a.Index(i)));
    }
    return Status::OK();
  }
  Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                     uint32_t group) override {
    const Vector& a = *args[0];
    if (type_ != SqlType::kDouble || a.constant || a.type != SqlType::kDouble) {
      return AggregateState::UpdateRange(args, begin, end, group);
    }
    double acc = 0;
    bool any = false;
    const double* d = a.doubles.data();
    if (a.AllValid()) {
      for (size_t i = begin; i < end; ++i) acc += d[i];
      any = end > begin;
    } else {
      for (size_t i = begin; i < end; ++i) {
        if (a.valid[i]) {
          acc += d[i];
          any = true;
        }
      }
    }
    if (!any) return Status::OK();
    if (!std::isfinite(acc) &&
        AnyInfinite(d, a.AllValid() ? nullptr : a.valid.data(), begin, end)) {
      infinite_[group] = 1;
    }
    return AddDouble(group, acc);
  }
  Status UpdateSummary(uint32_t group, uint64_t, const SeriesSummary::Field* field) override {
    if (field->count == 0) return Status::OK();
    if (SummaryInfinite(*field)) infinite_[group] = 1;
    return AddDouble(group, field->sum);
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<SumState&>(other);
    for (size_t g = 0; g < map.size(); ++g) {
      if (!o.seen_[g]) continue;
      const uint32_t t = map[g];
      if (type_ == SqlType::kDouble) {
        infinite_[t] |= o.infinite_[g];
        SW_RETURN_IF_ERROR(AddDouble(t, o.doubles_[g]));
      } else {
        Vector one;
        one.type = type_;
        one.ints = {o.ints_[g]};
        SW_RETURN_IF_ERROR(Add(t, one, 0));
      }
      seen_[t] = 1;
    }
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) {
      if (!seen_[g]) {
        out->AppendNull();
      } else if (type_ == SqlType::kDouble) {
        out->Append(Value::Double(doubles_[g]));
      } else {
        Value v = Value::BigInt(ints_[g]);
        v.type = type_;
        out->Append(v);
      }
    }
  }
  size_t MemoryBytes() const override { return ints_.capacity() * 18; }

 private:
  Status AddDouble(uint32_t g, double x) {
    seen_[g] = 1;
    doubles_[g] += x;
    return CheckSumOverflow(infinite_[g], doubles_[g], "sum");
  }
  Status Add(uint32_t g, const Vector& a, size_t i) {
    seen_[g] = 1;
    if (type_ == SqlType::kDouble) {
      if (std::isinf(a.doubles[i])) infinite_[g] = 1;
      return AddDouble(g, a.doubles[i]);
    }
    const int64_t x = a.ints[i];
    int64_t& acc = ints_[g];
    bool overflow;
    if (type_ == SqlType::kUBigInt) {
      uint64_t r;
      overflow = __builtin_add_overflow(static_cast<uint64_t>(acc), static_cast<uint64_t>(x), &r);
      acc = static_cast<int64_t>(r);
    } else {
      overflow = __builtin_add_overflow(acc, x, &acc);
    }
    if (overflow) {
      return InvalidArgument("sum() out of range for {} (cast the argument to DOUBLE)",
                             SqlTypeName(type_));
    }
    return Status::OK();
  }

  SqlType type_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> seen_;
  std::vector<uint8_t> infinite_;  // per group: an infinite value was added
};

double AsDouble(const Vector& a, size_t row) {
  const size_t i = a.Index(row);
  if (a.type == SqlType::kDouble) return a.doubles[i];
  if (a.type == SqlType::kUBigInt) return static_cast<double>(static_cast<uint64_t>(a.ints[i]));
  return static_cast<double>(a.ints[i]);
}

// The sum of d[i] for i in [begin, end) where valid[i] (every i when `valid` is null), and how
// many: four partial sums, so that each addition need not wait for the one before.
std::pair<double, int64_t> SumOfValid(const double* d, const uint8_t* valid, size_t begin,
                                      size_t end) {
  double s[4] = {0, 0, 0, 0};
  int64_t n = 0;
  size_t i = begin;
  if (valid == nullptr) {
    for (; i + 4 <= end; i += 4) {
      s[0] += d[i];
      s[1] += d[i + 1];
      s[2] += d[i + 2];
      s[3] += d[i + 3];
    }
    for (; i < end; ++i) s[0] += d[i];
    n = static_cast<int64_t>(end - begin);
  } else {
    for (; i < end; ++i) {
      s[i & 3] += valid[i] ? d[i] : 0.0;
      n += valid[i] != 0;
    }
  }
  return {(s[0] + s[1]) + (s[2] + s[3]), n};
}

// The sum of (d[i] - mean)^2 over the same rows as SumOfValid.
double SquaresAbout(double mean, const double* d, const uint8_t* valid, size_t begin, size_t end) {
  double s[4] = {0, 0, 0, 0};
  size_t i = begin;
  if (valid == nullptr) {
    for (; i + 4 <= end; i += 4) {
      for (size_t k = 0; k < 4; ++k) s[k] += (d[i + k] - mean) * (d[i + k] - mean);
    }
    for (; i < end; ++i) s[0] += (d[i] - mean) * (d[i] - mean);
  } else {
    for (; i < end; ++i) s[i & 3] += valid[i] ? (d[i] - mean) * (d[i] - mean) : 0.0;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// avg, variance and stddev: count, mean and sum of squared deviations, which stays accurate
// where sum of squares minus squared sum would cancel; rows one by one with Welford's update, a
// run of a column in two passes (SumOfValid, SquaresAbout) combined by Chan's formula. avg
// keeps a plain sum instead of the mean.
class MomentsState : public AggregateState {
 public:
  explicit MomentsState(AggregateKind kind) : kind_(kind) {}
  void Resize(size_t groups) override { m_.resize(groups); }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    if (a.type == SqlType::kNull) return Status::OK();
    if (a.type == SqlType::kDouble && !a.constant && a.AllValid()) {
      const double* d = a.doubles.data();
      for (size_t i = begin; i < end; ++i) SW_RETURN_IF_ERROR(Add(&m_[groups[i]], d[i]));
      return Status::OK();
    }
    for (size_t i = begin; i < end; ++i) {
      if (!Valid(a, i)) continue;
      SW_RETURN_IF_ERROR(Add(&m_[groups[i]], AsDouble(a, i)));
    }
    return Status::OK();
  }
  Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                     uint32_t group) override {
    const Vector& a = *args[0];
    if (a.type == SqlType::kNull) return Status::OK();
    if (a.type != SqlType::kDouble || a.constant) {
      M& m = m_[group];
      for (size_t i = begin; i < end; ++i) {
        if (Valid(a, i)) SW_RETURN_IF_ERROR(Add(&m, AsDouble(a, i)));
      }
      return Status::OK();
    }
    // Moments of the run alone, then combined with the group's (Chan et al.).
    M run;
    const double* d = a.doubles.data();
    const uint8_t* valid = a.AllValid() ? nullptr : a.valid.data();
    const auto [sum, n] = SumOfValid(d, valid, begin, end);
    run.infinite = !std::isfinite(sum) && AnyInfinite(d, valid, begin, end);
    if (kind_ == AggregateKind::kAvg) {
      run.n = n;
      run.mean = sum;
    } else {
      // Two passes over the run (its mean, then the squared distances to it): no division per
      // value, as Welford's update has.
      if (n == 0) return Status::OK();
      run.n = n;
      run.mean = sum / static_cast<double>(n);
      run.m2 = SquaresAbout(run.mean, d, valid, begin, end);
    }
    return Combine(&m_[group], run);
  }
  Status UpdateSummary(uint32_t group, uint64_t, const SeriesSummary::Field* field) override {
    if (kind_ != AggregateKind::kAvg) return AggregateState::UpdateSummary(group, 0, field);
    M run;
    run.n = static_cast<int64_t>(field->count);
    run.mean = field->sum;
    run.infinite = SummaryInfinite(*field);
    return Combine(&m_[group], run);
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<MomentsState&>(other);
    for (size_t g = 0; g < map.size(); ++g) SW_RETURN_IF_ERROR(Combine(&m_[map[g]], o.m_[g]));
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) {
      const M& m = m_[g];
      const double n = static_cast<double>(m.n);
      switch (kind_) {
        case AggregateKind::kAvg:
          if (m.n == 0) {
            out->AppendNull();
          } else {
            out->Append(Value::Double(m.mean / n));
          }
          break;
        case AggregateKind::kVarPop:
        case AggregateKind::kStddevPop:
          if (m.n == 0) {
            out->AppendNull();
          } else {
            const double var = m.m2 / n;
            out->Append(Value::Double(kind_ == AggregateKind::kVarPop ? var : std::sqrt(var)));
          }
          break;
        default:
          if (m.n < 2) {
            out->AppendNull();
          } else {
            const double var = m.m2 / (n - 1);
            out->Append(Value::Double(kind_ == AggregateKind::kVarSamp ? var : std::sqrt(var)));
          }
          break;
      }
    }
  }
  size_t MemoryBytes() const override { return m_.capacity() * sizeof(M); }

 private:
  struct M {
    int64_t n = 0;
    double mean = 0;  // avg: the sum
    double m2 = 0;
    bool infinite = false;  // an infinite value was added (CheckSumOverflow)
  };
  // What CheckSumOverflow asks of the group's sums.
  Status Check(const M& m) const {
    if (m.infinite || (std::isfinite(m.mean) && std::isfinite(m.m2))) return Status::OK();
    const std::string_view name = kind_ == AggregateKind::kAvg          ? "avg"
                                  : kind_ == AggregateKind::kStddevSamp ? "stddev"
                                  : kind_ == AggregateKind::kStddevPop  ? "stddev_pop"
                                  : kind_ == AggregateKind::kVarSamp    ? "variance"
                                                                        : "var_pop";
    SW_RETURN_IF_ERROR(CheckSumOverflow(m.infinite, m.mean, name));
    return CheckSumOverflow(m.infinite, m.m2, name);
  }
  Status Add(M* m, double x) const {
    ++m->n;
    if (std::isinf(x)) m->infinite = true;
    if (kind_ == AggregateKind::kAvg) {
      m->mean += x;
    } else {
      const double delta = x - m->mean;
      m->mean += delta / static_cast<double>(m->n);
      m->m2 += delta * (x - m->mean);
    }
    return Check(*m);
  }
  Status Combine(M* into, const M& b) const {
    if (b.n == 0) return Status::OK();
    if (kind_ == AggregateKind::kAvg) {
      into->n += b.n;
      into->mean += b.mean;
      into->infinite |= b.infinite;
    } else if (into->n == 0) {
      *into = b;
    } else {
      const double na = static_cast<double>(into->n), nb = static_cast<double>(b.n);
      const double delta = b.mean - into->mean;
      const double n = na + nb;
      into->mean += delta * nb / n;
      into->m2 += b.m2 + delta * delta * na * nb / n;
      into->n += b.n;
      into->infinite |= b.infinite;
    }
    return Check(*into);
  }

  AggregateKind kind_;
  std::vector<M> m_;
};

// Orders two values of one vector type; NaN sorts above every number (as in PostgreSQL).
int CompareCells(const Vector& a, size_t ia, const Vector& b, size_t ib) {
  const size_t x = a.Index(ia), y = b.Index(ib);
  switch (a.type) {
    case SqlType::kDouble: {
      return CompareDoubles(a.doubles[x], b.doubles[y]);
    }
    case SqlType::kText:
      return a.strings[x].compare(b.strings[y]) < 0 ? -1 : a.strings[x] == b.strings[y] ? 0 : 1;
    case SqlType::kUBigInt: {
      const auto p = static_cast<uint64_t>(a.ints[x]), q = static_cast<uint64_t>(b.ints[y]);
      return p < q ? -1 : p > q ? 1 : 0;
    }
    default: return a.ints[x] < b.ints[y] ? -1 : a.ints[x] > b.ints[y] ? 1 : 0;
  }
}

// min, max, first and last: the chosen value per group in a Vector of the result type.
class ChooseState : public AggregateState {
 public:
  ChooseState(AggregateKind kind, SqlType type) : kind_(kind) {
    values_.Reset(type);
    one_.Reset(type);
  }
  void Resize(size_t groups) override {
    while (seen_.size() < groups) {
      values_.AppendNull();
      seen_.push_back(0);
      times_.push_back(0);
    }
  }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    if (a.type == SqlType::kNull) return Status::OK();
    const Vector* t = timed() ? args[1] : nullptr;
    for (size_t i = begin; i < end; ++i) {
      if (!Valid(a, i)) continue;
      if (t != nullptr && t->IsNull(i)) continue;
      Offer(groups[i], a, i, t ? t->ints[t->Index(i)] : 0);
    }
    return Status::OK();
  }
  Status UpdateRange(const std::vector<const Vector*>& args, size_t begin, size_t end,
                     uint32_t group) override {
    const Vector& a = *args[0];
    if (timed() && a.type != SqlType::kNull) {
      // first/last of a run: its best row (earliest, the first of ties; latest, the last of
      // ties: what offering every row in turn keeps), then one offer.
      const Vector& t = *args[1];
      const bool first = kind_ == AggregateKind::kFirst;
      size_t best = SIZE_MAX;
      int64_t best_time = 0;
      for (size_t i = begin; i < end; ++i) {
        if (!Valid(a, i) || t.IsNull(i)) continue;
        const int64_t ts = t.ints[t.Index(i)];
        if (best == SIZE_MAX || (first ? ts < best_time : ts >= best_time)) {
          best = i;
          best_time = ts;
        }
      }
      if (best != SIZE_MAX) Offer(group, a, best, best_time);
      return Status::OK();
    }
    if (timed() || a.constant || !a.AllValid() || begin == end) {
      return AggregateState::UpdateRange(args, begin, end, group);
    }
    if (a.type == SqlType::kBigInt || a.type == SqlType::kTimestamp) {
      OfferBestInt<int64_t>(a, begin, end, group);
      return Status::OK();
    }
    if (a.type == SqlType::kUBigInt || a.type == SqlType::kBoolean) {
      OfferBestInt<uint64_t>(a, begin, end, group);
      return Status::OK();
    }
    if (a.type != SqlType::kDouble) return AggregateState::UpdateRange(args, begin, end, group);
    // min/max of a run of valid doubles: reduce in registers, then offer the result once.
    // NaN sorts above every number (as in CompareCells and PostgreSQL).
    const double* d = a.doubles.data();
    const bool is_min = kind_ == AggregateKind::kMin;
    double m =
        is_min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    bool any_nan = false, any_number = false;
    for (size_t i = begin; i < end; ++i) {
      const double x = d[i];
      if (std::isnan(x)) {
        any_nan = true;
        continue;
      }
      any_number = true;
      m = is_min ? (x < m ? x : m) : (x > m ? x : m);
    }
    const double r =
        (is_min ? !any_number : any_nan) ? std::numeric_limits<double>::quiet_NaN() : m;
    if (seen_[group]) {
      const double cur = values_.doubles[group];
      const bool better = is_min ? !std::isnan(r) && (std::isnan(cur) || r < cur)
                                 : !std::isnan(cur) && (std::isnan(r) || r > cur);
      if (!better) return Status::OK();
    }
    values_.doubles[group] = r;
    if (!values_.valid.empty()) values_.valid[group] = 1;
    seen_[group] = 1;
    return Status::OK();
  }
  Status UpdateSummary(uint32_t group, uint64_t, const SeriesSummary::Field* field) override {
    if (timed() || field->count == 0) return Status::OK();
    const uint64_t bits = kind_ == AggregateKind::kMin ? field->min_bits : field->max_bits;
    if (values_.type == SqlType::kDouble) {
      one_.doubles.assign(1, std::bit_cast<double>(bits));
    } else {
      one_.ints.assign(1, static_cast<int64_t>(bits));
    }
    Offer(group, one_, 0, 0);
    return Status::OK();
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<ChooseState&>(other);
    for (size_t g = 0; g < map.size(); ++g) {
      if (o.seen_[g]) Offer(map[g], o.values_, g, o.times_[g]);
    }
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) out->AppendFrom(values_, g);
  }
  size_t MemoryBytes() const override {
    return values_.ints.capacity() * 8 + values_.doubles.capacity() * 8 +
           values_.strings.capacity() * sizeof(std::string) + string_bytes_ + seen_.capacity() * 10;
  }

 private:
  bool timed() const { return kind_ == AggregateKind::kFirst || kind_ == AggregateKind::kLast; }

  // min/max of a run of valid integers (compared as T): the best row of the run is offered
  // once instead of every row.
  template <typename T>
  void OfferBestInt(const Vector& a, size_t begin, size_t end, uint32_t group) {
    const int64_t* x = a.ints.data();
    size_t best = begin;
    T m = static_cast<T>(x[begin]);
    const bool is_min = kind_ == AggregateKind::kMin;
    for (size_t i = begin + 1; i < end; ++i) {
      const T v = static_cast<T>(x[i]);
      if (is_min ? v < m : v > m) {
        m = v;
        best = i;
      }
    }
    Offer(group, a, best, 0);
  }

  // Takes row `i` of `a` (time `ts` for first/last) for group `g` if it beats the current one.
  void Offer(uint32_t g, const Vector& a, size_t i, int64_t ts) {
    if (seen_[g]) {
      if (timed()) {
        if (kind_ == AggregateKind::kFirst ? ts >= times_[g] : ts < times_[g]) return;
      } else {
        const int c = CompareCells(a, i, values_, g);
        if (kind_ == AggregateKind::kMin ? c >= 0 : c <= 0) return;
      }
    }
    times_[g] = ts;
    const size_t j = a.Index(i);
    if (IsIntegerBacked(values_.type)) {
      values_.ints[g] = a.ints[j];
    } else if (values_.type == SqlType::kDouble) {
      values_.doubles[g] = a.doubles[j];
    } else if (values_.type == SqlType::kText) {
      string_bytes_ += a.strings[j].size();
      values_.strings[g] = a.strings[j];
    }
    if (!values_.valid.empty()) values_.valid[g] = 1;
    seen_[g] = 1;
  }

  AggregateKind kind_;
  Vector values_;
  Vector one_;  // UpdateSummary's value (one row of values_'s type), kept for its buffer
  std::vector<uint8_t> seen_;
  std::vector<int64_t> times_;
  size_t string_bytes_ = 0;
};

// percentile_cont, percentile_disc and median keep every value of the group.
class PercentileState : public AggregateState {
 public:
  PercentileState(AggregateKind kind, double fraction, bool descending, SqlType result)
      : kind_(kind), fraction_(fraction), descending_(descending), result_(result) {}
  void Resize(size_t groups) override { values_.resize(groups); }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    if (a.type == SqlType::kNull) return Status::OK();
    for (size_t i = begin; i < end; ++i) {
      if (!Valid(a, i)) continue;
      values_[groups[i]].push_back(AsDouble(a, i));
      ++count_;
    }
    return Status::OK();
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<PercentileState&>(other);
    for (size_t g = 0; g < map.size(); ++g) {
      auto& into = values_[map[g]];
      into.insert(into.end(), o.values_[g].begin(), o.values_[g].end());
      count_ += o.values_[g].size();
    }
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) {
      auto& v = values_[g];
      if (v.empty()) {
        out->AppendNull();
        continue;
      }
      // Only the values at the wanted ranks are put in place (nth_element), not all sorted.
      // NaN sorts above every number, as in PostgreSQL: they go to the end first.
      const auto numbers_end =
          std::partition(v.begin(), v.end(), [](double x) { return !std::isnan(x); });
      const size_t numbers = static_cast<size_t>(numbers_end - v.begin());
      auto smallest = [&](size_t k) {  // the k-th smallest value (from 0)
        if (k >= numbers) return std::numeric_limits<double>::quiet_NaN();
        std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), numbers_end);
        return v[k];
      };
      const size_t last = v.size() - 1;
      if (kind_ == AggregateKind::kPercentileDisc) {
        // The first value whose cumulative share reaches the fraction, in the order asked.
        size_t k = static_cast<size_t>(std::ceil(fraction_ * static_cast<double>(v.size())));
        k = std::min(k == 0 ? 0 : k - 1, last);
        Value r = Value::Double(smallest(descending_ ? last - k : k));
        if (result_ != SqlType::kDouble) {
          r = result_ == SqlType::kUBigInt ? Value::UBigInt(static_cast<uint64_t>(r.d))
                                           : Value::BigInt(static_cast<int64_t>(r.d));
        }
        out->Append(r);
        continue;
      }
      const double pos = fraction_ * static_cast<double>(last);
      const size_t lo = static_cast<size_t>(std::floor(pos));
      const size_t hi = static_cast<size_t>(std::ceil(pos));
      const double frac = pos - static_cast<double>(lo);
      if (descending_) {  // ranks from the largest: the values at both, interpolated as asked
        const double at_lo = smallest(last - lo);
        const double at_hi = hi != lo ? smallest(last - hi) : at_lo;
        out->Append(Value::Double(at_lo + (at_hi - at_lo) * frac));
        continue;
      }
      const double at_lo = smallest(lo);
      // After nth_element at lo, the next rank is the least value above it.
      double at_hi = at_lo;
      if (hi != lo) {
        at_hi = hi >= numbers
                    ? std::numeric_limits<double>::quiet_NaN()
                    : *std::min_element(v.begin() + static_cast<ptrdiff_t>(hi), numbers_end);
      }
      out->Append(Value::Double(at_lo + (at_hi - at_lo) * frac));
    }
  }
  size_t MemoryBytes() const override { return count_ * 8 + values_.capacity() * 24; }

 private:
  AggregateKind kind_;
  double fraction_;
  bool descending_;
  SqlType result_;
  std::vector<std::vector<double>> values_;
  size_t count_ = 0;
};

class SpreadState : public AggregateState {
 public:
  void Resize(size_t groups) override {
    min_.resize(groups, std::numeric_limits<double>::infinity());
    max_.resize(groups, -std::numeric_limits<double>::infinity());
    seen_.resize(groups, 0);
  }
  Status Update(const std::vector<const Vector*>& args, const uint32_t* groups, size_t begin,
                size_t end) override {
    const Vector& a = *args[0];
    if (a.type == SqlType::kNull) return Status::OK();
    for (size_t i = begin; i < end; ++i) {
      if (!Valid(a, i)) continue;
      Add(groups[i], AsDouble(a, i), AsDouble(a, i));
    }
    return Status::OK();
  }
  Status Merge(AggregateState& other, const std::vector<uint32_t>& map) override {
    auto& o = static_cast<SpreadState&>(other);
    for (size_t g = 0; g < map.size(); ++g) {
      if (o.seen_[g]) Add(map[g], o.min_[g], o.max_[g]);
    }
    return Status::OK();
  }
  void Finalize(size_t groups, Vector* out) override {
    for (size_t g = 0; g < groups; ++g) {
      if (seen_[g]) {
        out->Append(Value::Double(max_[g] - min_[g]));
      } else {
        out->AppendNull();
      }
    }
  }
  size_t MemoryBytes() const override { return min_.capacity() * 17; }

 private:
  void Add(uint32_t g, double lo, double hi) {
    min_[g] = std::min(min_[g], lo);
    max_[g] = std::max(max_[g], hi);
    seen_[g] = 1;
  }
  std::vector<double> min_, max_;
  std::vector<uint8_t> seen_;
};

}  // namespace

std::unique_ptr<AggregateState> MakeAggregateState(const AggregateSpec& spec) {
  switch (spec.kind) {
    case AggregateKind::kCountStar: return std::make_unique<CountState>(true);
    case AggregateKind::kCount: return std::make_unique<CountState>(false);
    case AggregateKind::kCountDistinct: return std::make_unique<CountDistinctState>();
    case AggregateKind::kSum: return std::make_unique<SumState>(spec.result_type);
    case AggregateKind::kAvg:
    case AggregateKind::kStddevSamp:
    case AggregateKind::kStddevPop:
    case AggregateKind::kVarSamp:
    case AggregateKind::kVarPop: return std::make_unique<MomentsState>(spec.kind);
    case AggregateKind::kMin:
    case AggregateKind::kMax:
    case AggregateKind::kFirst:
    case AggregateKind::kLast: return std::make_unique<ChooseState>(spec.kind, spec.result_type);
    case AggregateKind::kPercentileCont:
    case AggregateKind::kPercentileDisc:
      return std::make_unique<PercentileState>(spec.kind, spec.fraction, spec.descending,
                                               spec.result_type);
    case AggregateKind::kSpread: return std::make_unique<SpreadState>();
  }
  return nullptr;
}

}  // namespace seaway::query
