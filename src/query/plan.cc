// Physical plan nodes (src/query).
#include "query/plan.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <absl/container/flat_hash_map.h>
#include <re2/re2.h>

#include "query/expression_executor.h"
#include "sql/source_excerpt.h"

namespace seaway::query {

Status ExecContext::CheckDeadline() const {
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
    return Unavailable("the query was cancelled (the server is stopping)");
  }
  if (std::chrono::steady_clock::now() > deadline) {
    return ResourceExhausted("query timed out after {} ms (limit: --sql-timeout-ms)",
                             timeout.count());
  }
  return Status::OK();
}

Status ExecContext::Charge(size_t* held, size_t now_bytes) {
  memory_used += now_bytes;
  memory_used -= std::min(memory_used, *held);
  *held = now_bytes;
  if (memory_used > memory_limit) {
    return ResourceExhausted(
        "query needs more than its memory limit of {} MiB (limit: --sql-max-memory-mb); add "
        "a time range, a tag filter or a LIMIT",
        (memory_limit_configured != SIZE_MAX ? memory_limit_configured : memory_limit) >> 20);
  }
  return Status::OK();
}

void ExplainLine(int depth, std::string_view text, std::string* out) {
  out->append(static_cast<size_t>(depth) * 2, ' ');
  out->append(text);
  out->push_back('\n');
}

std::string_view OperatorText(Function f) {
  switch (f) {
    case Function::kAdd: return "+";
    case Function::kSubtract: return "-";
    case Function::kMultiply: return "*";
    case Function::kDivide: return "/";
    case Function::kModulo: return "%";
    case Function::kEqual: return "=";
    case Function::kNotEqual: return "<>";
    case Function::kLess: return "<";
    case Function::kLessEqual: return "<=";
    case Function::kGreater: return ">";
    case Function::kGreaterEqual: return ">=";
    case Function::kConcat: return "||";
    default: return "";
  }
}

namespace {

std::string ConstantText(const Value& v) {
  if (v.is_null) return "NULL";
  switch (v.type) {
    case SqlType::kText:
    case SqlType::kTimestamp:
    case SqlType::kInterval: {
      std::string out = "'";
      for (char c : v.ToString()) {
        out += c;
        if (c == '\'') out += c;
      }
      return out + "'";
    }
    default: return v.ToString();
  }
}

}  // namespace

std::string DescribeAggregate(const AggregateSpec& a, const std::vector<ColumnInfo>& input) {
  std::string args;
  for (size_t j = 0; j < a.args.size(); ++j) {
    if (j > 0) args += ", ";
    args += DescribeExpr(*a.args[j], input);
  }
  std::string name = a.key.substr(0, a.key.find('('));
  return name + "(" + (a.kind == AggregateKind::kCountDistinct ? "DISTINCT " : "") +
         (args.empty() ? "*" : args) + ")";
}

std::string DescribeExpr(const BoundExpr& e, const std::vector<ColumnInfo>& input) {
  auto child = [&](size_t i) { return DescribeExpr(*e.children[i], input); };
  auto list = [&](size_t from) {
    std::string out;
    for (size_t i = from; i < e.children.size(); ++i) {
      if (i > from) out += ", ";
      out += child(i);
    }
    return out;
  };
  switch (e.kind) {
    case BoundKind::kColumn:
      if (e.column >= 0 && static_cast<size_t>(e.column) < input.size()) {
        return input[e.column].name;
      }
      return fmt::format("#{}", e.column);
    case BoundKind::kConstant: return ConstantText(e.constant);
    case BoundKind::kAnd:
    case BoundKind::kOr: {
      std::string out;
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i > 0) out += e.kind == BoundKind::kAnd ? " AND " : " OR ";
        out += "(" + child(i) + ")";
      }
      return out;
    }
    case BoundKind::kNot: return "NOT (" + child(0) + ")";
    case BoundKind::kIsNull: return child(0) + (e.negated ? " IS NOT NULL" : " IS NULL");
    case BoundKind::kInList: {
      std::string out = child(0) + (e.negated ? " NOT IN (" : " IN (");
      for (size_t i = 0; i < e.list.size(); ++i) {
        if (i > 0) out += ", ";
        out += ConstantText(e.list[i]);
      }
      if (e.list_has_null) out += e.list.empty() ? "NULL" : ", NULL";
      return out + ")";
    }
    case BoundKind::kCase: return "CASE(" + list(0) + ")";
    case BoundKind::kCast: return fmt::format("CAST({} AS {})", child(0), SqlTypeName(e.type));
    case BoundKind::kMatch:
      return fmt::format("{} {}~ '{}'", child(0), e.negated ? "!" : "",
                         e.regex ? e.regex->pattern() : "");
    case BoundKind::kFunction: break;
  }
  if (std::string_view op = OperatorText(e.function); !op.empty() && e.children.size() == 2) {
    return fmt::format("{} {} {}", child(0), op, child(1));
  }
  switch (e.function) {
    case Function::kNegate: return "-" + child(0);
    case Function::kTimeBucket:
      return fmt::format("time_bucket('{}', {}{})", FormatInterval(e.interval), child(0),
                         e.zone.empty() ? "" : ", '" + e.zone + "'");
    case Function::kDateTrunc:
      return fmt::format("date_trunc('{}', {}{})", e.unit, child(0),
                         e.zone.empty() ? "" : ", '" + e.zone + "'");
    case Function::kExtract: return fmt::format("extract({} FROM {})", e.unit, child(0));
    case Function::kTimestampAddInterval:
      return fmt::format("{} + '{}'", child(0), FormatInterval(e.interval));
    case Function::kIntervalScale: return fmt::format("{} {} {}", child(0), e.unit, child(1));
    case Function::kIntervalEpoch: return fmt::format("extract(epoch FROM {})", child(0));
    default: {
      // Function keys start with the function's name: "abs(", "coalesce(", ...
      const size_t paren = e.key.find('(');
      return fmt::format("{}({})", paren == std::string::npos ? e.key : e.key.substr(0, paren),
                         list(0));
    }
  }
}

namespace {

constexpr uint32_t kNoRow = UINT32_MAX;
// Rows a sort's result is handed on in at most (SortNode::Execute).
constexpr size_t kSortOutputRows = 65'536;

// Moves rows [begin, begin + n) of `src` into `dst` (a constant is copied whole); the moved
// strings of `src` are left empty.
void TakeRows(Vector* src, size_t begin, size_t n, Vector* dst) {
  if (src->constant) {
    *dst = *src;
    return;
  }
  dst->Reset(src->type);
  auto range = [&](auto& from, auto& to) {
    const auto first = from.begin() + static_cast<ptrdiff_t>(begin);
    to.assign(std::make_move_iterator(first),
              std::make_move_iterator(first + static_cast<ptrdiff_t>(n)));
  };
  if (!src->valid.empty()) range(src->valid, dst->valid);
  if (src->type == SqlType::kNull) return;
  if (IsIntegerBacked(src->type)) {
    range(src->ints, dst->ints);
    if (!src->months.empty()) range(src->months, dst->months);
  } else if (src->type == SqlType::kDouble) {
    range(src->doubles, dst->doubles);
  } else if (src->type == SqlType::kText) {
    range(src->strings, dst->strings);
  }
}

// Gathers rows `idx` of `src` into `dst` (same type); kNoRow gives NULL.
void Gather(const Vector& src, const std::vector<uint32_t>& idx, Vector* dst) {
  dst->Reset(src.type);
  const size_t n = idx.size();
  bool any_null = false;
  for (uint32_t i : idx) any_null |= i == kNoRow || src.IsNull(i);
  if (IsIntegerBacked(src.type)) {
    dst->ints.resize(n);
    for (size_t k = 0; k < n; ++k)
      dst->ints[k] = idx[k] == kNoRow ? 0 : src.ints[src.Index(idx[k])];
    if (!src.months.empty()) {  // an INTERVAL's months go along
      dst->months.resize(n);
      for (size_t k = 0; k < n; ++k) {
        dst->months[k] = idx[k] == kNoRow ? 0 : src.months[src.Index(idx[k])];
      }
    }
  } else if (src.type == SqlType::kDouble) {
    dst->doubles.resize(n);
    for (size_t k = 0; k < n; ++k) {
      dst->doubles[k] = idx[k] == kNoRow ? 0 : src.doubles[src.Index(idx[k])];
    }
  } else if (src.type == SqlType::kText) {
    dst->strings.resize(n);
    for (size_t k = 0; k < n; ++k) {
      if (idx[k] != kNoRow) dst->strings[k] = src.strings[src.Index(idx[k])];
    }
  }
  if (any_null || src.type == SqlType::kNull) {
    dst->valid.resize(n);
    for (size_t k = 0; k < n; ++k) dst->valid[k] = idx[k] != kNoRow && !src.IsNull(idx[k]);
  }
}

// A type whose values are their `ints` alone (an INTERVAL also has months).
bool IsPlainInteger(SqlType type) { return IsIntegerBacked(type) && type != SqlType::kInterval; }

// The months of an INTERVAL vector's value `i` (0 when it keeps none).
int64_t MonthsAt(const Vector& v, size_t i) { return v.months.empty() ? 0 : v.months[i]; }

// Appends the bytes of one cell to a hash key (NULL distinct from every value).
void AppendKey(const Vector& v, size_t row, std::string* key) {
  if (v.IsNull(row)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  const size_t i = v.Index(row);
  if (IsIntegerBacked(v.type)) {
    key->append(reinterpret_cast<const char*>(&v.ints[i]), 8);
    if (v.type == SqlType::kInterval) {
      const int64_t months = MonthsAt(v, i);
      key->append(reinterpret_cast<const char*>(&months), 8);
    }
  } else if (v.type == SqlType::kDouble) {
    const uint64_t bits = DoubleKeyBits(v.doubles[i]);  // -0 as 0, every NaN as one
    key->append(reinterpret_cast<const char*>(&bits), 8);
  } else if (v.type == SqlType::kText) {
    const uint32_t len = static_cast<uint32_t>(v.strings[i].size());
    key->append(reinterpret_cast<const char*>(&len), 4);
    key->append(v.strings[i]);
  }
}

bool SameCell(const Vector& v, size_t a, size_t b) {
  if (v.constant) return true;
  const bool na = v.IsNull(a), nb = v.IsNull(b);
  if (na || nb) return na == nb;
  if (v.type == SqlType::kInterval) {
    return v.ints[a] == v.ints[b] && MonthsAt(v, a) == MonthsAt(v, b);
  }
  if (IsIntegerBacked(v.type)) return v.ints[a] == v.ints[b];
  if (v.type == SqlType::kDouble) return CompareDoubles(v.doubles[a], v.doubles[b]) == 0;
  if (v.type == SqlType::kText) return v.strings[a] == v.strings[b];
  return true;
}

SqlType FromFieldType(FieldType t) {
  switch (t) {
    case FieldType::kDouble: return SqlType::kDouble;
    case FieldType::kInt64: return SqlType::kBigInt;
    case FieldType::kUInt64: return SqlType::kUBigInt;
    case FieldType::kBool: return SqlType::kBoolean;
    case FieldType::kString: return SqlType::kText;
  }
  return SqlType::kNull;
}

// A series' value of a tag as a TEXT value; NULL when the series lacks the tag.
Value TagValue(std::string_view tag) {
  return tag.empty() ? Value::Null(SqlType::kText) : Value::Text(std::string(tag));
}

void ToVector(const ColumnVector& c, size_t rows, Vector* out) {
  // Not Reset: the array the values go to keeps its size from the block before, so that
  // resizing it to a block of the same size writes nothing before the copy does.
  out->type = FromFieldType(c.type);
  out->constant = false;
  out->valid.clear();
  out->months.clear();
  const bool all_present =
      std::all_of(c.present.begin(), c.present.end(), [](uint8_t p) { return p != 0; });
  if (!all_present) out->valid.assign(c.present.begin(), c.present.end());
  switch (c.type) {
    case FieldType::kDouble:
      out->ints.clear();
      out->strings.clear();
      out->doubles.resize(rows);
      if (rows > 0) std::memcpy(out->doubles.data(), c.bits.data(), rows * 8);
      break;
    case FieldType::kString:
      out->ints.clear();
      out->doubles.clear();
      out->strings = c.strings;
      break;
    default:
      out->doubles.clear();
      out->strings.clear();
      out->ints.resize(rows);
      if (rows > 0) std::memcpy(out->ints.data(), c.bits.data(), rows * 8);
      break;
  }
}

// Appends the first `rows` rows of a field's column to `out` (of the field's SQL type), NULL
// where a row lacks the field: ToVector for a column that gathers many blocks.
void AppendFieldRows(const ColumnVector& c, size_t rows, Vector* out) {
  size_t before = 0;
  switch (c.type) {
    case FieldType::kDouble:
      before = out->doubles.size();
      out->doubles.resize(before + rows);
      if (rows > 0) std::memcpy(out->doubles.data() + before, c.bits.data(), rows * 8);
      break;
    case FieldType::kString:
      before = out->strings.size();
      out->strings.insert(out->strings.end(), c.strings.begin(),
                          c.strings.begin() + static_cast<ptrdiff_t>(rows));
      break;
    default:
      before = out->ints.size();
      out->ints.resize(before + rows);
      if (rows > 0) std::memcpy(out->ints.data() + before, c.bits.data(), rows * 8);
      break;
  }
  const auto present_end = c.present.begin() + static_cast<ptrdiff_t>(rows);
  if (out->valid.empty()) {
    if (std::all_of(c.present.begin(), present_end, [](uint8_t p) { return p != 0; })) return;
    out->valid.assign(before, 1);
  }
  out->valid.insert(out->valid.end(), c.present.begin(), present_end);
}

// Appends `rows` copies of a tag's value to a TEXT vector (NULL for a tag the series lacks).
void AppendTagRows(std::string_view tag, size_t rows, Vector* out) {
  if (tag.empty()) {
    for (size_t r = 0; r < rows; ++r) out->AppendNull();
    return;
  }
  for (size_t r = 0; r < rows; ++r) out->strings.emplace_back(tag);
  if (!out->valid.empty()) out->valid.insert(out->valid.end(), rows, 1);
}

// Stops the producer of a LimitNode once enough rows passed.
class LimitSink : public ChunkSink {
 public:
  LimitSink(ChunkSink* out, size_t limit, size_t offset)
      : out_(out), limit_(limit), offset_(offset) {}
  Status Push(DataChunk& chunk) override {
    size_t begin = 0;
    if (skipped_ < offset_) {
      begin = std::min(chunk.rows, offset_ - skipped_);
      skipped_ += begin;
    }
    size_t take = std::min(chunk.rows - begin, limit_ - passed_);
    if (take > 0) {
      if (begin != 0 || take != chunk.rows) {
        std::vector<uint32_t> sel(take);
        std::iota(sel.begin(), sel.end(), static_cast<uint32_t>(begin));
        for (auto& c : chunk.columns) c.Select(sel);
        chunk.rows = take;
      }
      passed_ += take;
      SW_RETURN_IF_ERROR(out_->Push(chunk));
    }
    if (passed_ >= limit_) {
      stopped_ = true;
      return Status(StatusCode::kUnavailable, "limit reached");
    }
    return Status::OK();
  }
  bool stopped() const { return stopped_; }

 private:
  ChunkSink* out_;
  size_t limit_, offset_;
  size_t skipped_ = 0, passed_ = 0;
  bool stopped_ = false;
};

// Pushes the rows `sel` (ascending) of *chunk to `out`: nothing when none, the chunk as it is
// when all.
Status PushSelected(const std::vector<uint32_t>& sel, DataChunk* chunk, ChunkSink* out) {
  if (sel.empty()) return Status::OK();
  if (sel.size() != chunk->rows) {
    for (auto& c : chunk->columns) c.Select(sel);
    chunk->rows = sel.size();
  }
  return out->Push(*chunk);
}

// Chunks to one function, summaries to another.
class AggregateSink : public ChunkSink {
 public:
  AggregateSink(std::function<Status(const SeriesSummary&)> on_summary,
                std::function<Status(DataChunk&)> on_chunk)
      : on_summary_(std::move(on_summary)), on_chunk_(std::move(on_chunk)) {}
  Status Push(DataChunk& chunk) override { return on_chunk_(chunk); }
  Status PushSummary(const SeriesSummary& summary) override { return on_summary_(summary); }

 private:
  std::function<Status(const SeriesSummary&)> on_summary_;
  std::function<Status(DataChunk&)> on_chunk_;
};

class FunctionSink : public ChunkSink {
 public:
  explicit FunctionSink(std::function<Status(DataChunk&)> fn) : fn_(std::move(fn)) {}
  Status Push(DataChunk& chunk) override { return fn_(chunk); }

 private:
  std::function<Status(DataChunk&)> fn_;
};

}  // namespace

void AppendChunk(const DataChunk& src, DataChunk* dst) {
  if (dst->columns.size() != src.columns.size()) {
    dst->columns.resize(src.columns.size());
    for (size_t c = 0; c < src.columns.size(); ++c) dst->columns[c].Reset(src.columns[c].type);
  }
  for (size_t c = 0; c < src.columns.size(); ++c) {
    Vector& d = dst->columns[c];
    const Vector& s = src.columns[c];
    if (d.type != s.type && d.type == SqlType::kNull) {
      // A column that held only NULLs so far takes the type of the first typed chunk.
      Vector fresh;
      fresh.Reset(s.type);
      for (size_t r = 0; r < dst->rows; ++r) fresh.AppendNull();
      d = std::move(fresh);
    }
    if (!s.constant && s.type == d.type && IsIntegerBacked(s.type) && d.valid.empty() &&
        s.valid.empty() && s.type != SqlType::kInterval) {
      d.ints.insert(d.ints.end(), s.ints.begin(), s.ints.begin() + static_cast<long>(src.rows));
      continue;
    }
    if (!s.constant && s.type == d.type && s.type == SqlType::kDouble && d.valid.empty() &&
        s.valid.empty()) {
      d.doubles.insert(d.doubles.end(), s.doubles.begin(),
                       s.doubles.begin() + static_cast<long>(src.rows));
      continue;
    }
    if (s.constant) {
      d.AppendRepeated(s, 0, src.rows);
      continue;
    }
    for (size_t r = 0; r < src.rows; ++r) d.AppendFrom(s, r);
  }
  dst->rows += src.rows;
}

// ---------------------------------------------------------------------------------------------

Status ScanNode::Execute(ExecContext& ctx, ChunkSink* out) {
  ScanRequest req = request;
  req.fields.clear();
  std::vector<int> field_columns;  // output column of each requested field
  for (size_t f = 0; f < fields.size(); ++f) {
    const size_t col = 1 + tag_count + f;
    if (used[col]) {
      req.fields.push_back(fields[f].name);
      field_columns.push_back(static_cast<int>(col));
    }
  }
  if (req.fields.empty() && !fields.empty()) {
    // Rows exist where any field does: read them all but convert none.
    for (const auto& f : fields) req.fields.push_back(f.name);
  }
  const size_t width = columns.size();
  req.partition = ctx.partition;
  req.partitions = ctx.partitions;
  req.snapshot = ctx.snapshot;
  // A tag predicate that fails on a series (a cast of one of its tags) fails the scan, as it
  // would fail a row filter: the engine's callback only says yes or no, so the first error waits
  // here and is returned once the engine is done.
  Status filter_error;
  auto scanned = [&filter_error](Status s) { return filter_error.ok() ? s : filter_error; };
  if (tag_predicate) {
    // One row of the series' tags and the selection, kept from series to series (each scan,
    // and each half of a split one, has its own request and so its own).
    req.series_filter = [this, &filter_error, row = DataChunk{},
                         sel = std::vector<uint32_t>{}](const SeriesInfo& info) mutable {
      SetTagRow(info, &row);
      sel.clear();
      Status s = EvaluatePredicate(*tag_predicate, row, &sel);
      if (!s.ok()) {
        if (filter_error.ok()) filter_error = std::move(s);
        return false;
      }
      return !sel.empty();
    };
  }
  if (summaries && !summary_time_keys.empty()) {
    // Summaries per bucket.
    std::vector<TimeKeyBuckets> buckets;
    for (const BoundExpr* key : summary_time_keys) {
      std::optional<TimeKeyBuckets> b = TimeKeyBuckets::For(*key);
      if (!b) return Internal("a summarised time key has no contiguous buckets");
      buckets.push_back(*b);
    }
    req.same_bucket = [buckets = std::move(buckets)](int64_t lo, int64_t hi) mutable {
      for (TimeKeyBuckets& b : buckets) {
        Result<std::pair<int64_t, int64_t>> range = b.Range(lo);
        if (!range.ok() || hi >= range->second) return false;  // errors: the rows path reports
      }
      return true;
    };
  }
  // The deadline is looked at every 16th series (a clock read costs about as much as a small
  // series' statistics) and at every large block.
  size_t series_seen = 0;
  auto check_deadline = [&](size_t rows) {
    return rows >= 1024 || ++series_seen % 16 == 0 ? ctx.CheckDeadline() : Status::OK();
  };
  // Blocks of a few rows (many small series, the newest row of each) travel up together, so
  // that the work above the scan per chunk (keys, hashing, aggregate states) is paid per batch.
  constexpr size_t kSmallBlockRows = 16, kBatchRows = 1024;
  DataChunk batch;
  auto flush_batch = [&]() -> Status {
    if (batch.rows == 0) return Status::OK();
    // Columns nothing above reads were left empty: NULL on every row.
    for (size_t c = 0; c < width; ++c) {
      if (!used[c]) batch.columns[c].SetConstant(Value::Null(columns[c].type), columns[c].type);
    }
    Status s = out->Push(batch);
    batch = DataChunk{};
    return s;
  };
  DataChunk chunk;
  // Per field: its column in the block at hand, or -1 (not read, or the block lacks it).
  std::vector<int> block_column(fields.size());
  auto find_fields = [&](const SeriesBlock& b) -> Status {
    std::fill(block_column.begin(), block_column.end(), -1);
    for (const int col : field_columns) {
      const size_t f = static_cast<size_t>(col) - 1 - tag_count;
      for (size_t j = 0; j < b.fields.size(); ++j) {
        if (b.fields[j].name != fields[f].name) continue;
        if (FromFieldType(b.rows.columns[j].type) != columns[col].type) {
          // The table was dropped and recreated with other types since planning.
          return FailedPrecondition("table '{}' changed while the query ran; run it again",
                                    request.table);
        }
        block_column[f] = static_cast<int>(j);
        break;
      }
    }
    return Status::OK();
  };
  // A block of a few rows goes straight onto the batch: no chunk of its own, no constant tag
  // vectors built and then copied (the newest row of each of many series).
  auto append_small = [&](const SeriesBlock& b) -> Status {
    const size_t rows = b.rows.times.size();
    if (batch.columns.size() != width) {
      batch.columns.resize(width);
      for (size_t c = 0; c < width; ++c) batch.columns[c].Reset(columns[c].type);
    }
    // Columns nothing above reads (!used) stay empty until flush_batch.
    Vector& time = batch.columns[0];
    if (used[0]) {
      time.ints.insert(time.ints.end(), b.rows.times.begin(), b.rows.times.end());
      if (!time.valid.empty()) time.valid.insert(time.valid.end(), rows, 1);
    }
    for (size_t t = 0; t < tag_count; ++t) {
      if (used[1 + t]) AppendTagRows(b.series->Tag(tag_keys[t]), rows, &batch.columns[1 + t]);
    }
    SW_RETURN_IF_ERROR(find_fields(b));
    for (size_t f = 0; f < fields.size(); ++f) {
      if (!used[1 + tag_count + f]) continue;
      Vector& v = batch.columns[1 + tag_count + f];
      if (block_column[f] >= 0) {
        AppendFieldRows(b.rows.columns[block_column[f]], rows, &v);
      } else {
        for (size_t r = 0; r < rows; ++r) v.AppendNull();
      }
    }
    batch.rows += rows;
    return batch.rows >= kBatchRows ? flush_batch() : Status::OK();
  };
  auto on_block = [&](const SeriesBlock& b) -> Status {
    SW_RETURN_IF_ERROR(check_deadline(b.rows.times.size()));
    if (b.rows.times.size() < kSmallBlockRows) return append_small(b);
    chunk.columns.resize(width);
    const size_t rows = b.rows.times.size();
    chunk.rows = rows;
    Vector& time = chunk.columns[0];
    if (used[0]) {
      time.Reset(SqlType::kTimestamp);
      time.ints.assign(b.rows.times.begin(), b.rows.times.end());
    } else {
      time.SetConstant(Value::Null(SqlType::kTimestamp), SqlType::kTimestamp);
    }
    for (size_t t = 0; t < tag_count; ++t) {
      Vector& v = chunk.columns[1 + t];
      if (!used[1 + t]) {
        v.SetConstant(Value::Null(SqlType::kText), SqlType::kText);
        continue;
      }
      v.SetConstant(TagValue(b.series->Tag(tag_keys[t])), SqlType::kText);
    }
    // Fields the block has go over the column's buffers of the block before; the others are
    // NULL.
    SW_RETURN_IF_ERROR(find_fields(b));
    for (size_t f = 0; f < fields.size(); ++f) {
      const size_t col = 1 + tag_count + f;
      if (block_column[f] >= 0) {
        ToVector(b.rows.columns[block_column[f]], rows, &chunk.columns[col]);
      } else {
        chunk.columns[col].SetConstant(Value::Null(columns[col].type), columns[col].type);
      }
    }
    return out->Push(chunk);
  };
  if (summaries) {
    SW_RETURN_IF_ERROR(
        scanned(ctx.engine->ScanSummarized(req, on_block, [&](const SeriesSummary& s) -> Status {
          SW_RETURN_IF_ERROR(check_deadline(0));
          return out->PushSummary(s);
        })));
    return flush_batch();
  }
  if (!latest) {
    SW_RETURN_IF_ERROR(scanned(ctx.engine->Scan(req, on_block)));
    return flush_batch();
  }
  // The newest row of each series answers last(field, time), unless that row lacks one of the
  // fields: then the series' every row is read (last() over them is still exact).
  std::unordered_set<uint64_t> incomplete;
  SW_RETURN_IF_ERROR(scanned(ctx.engine->Latest(req, [&](const SeriesBlock& b) -> Status {
    for (const auto& col : b.rows.columns) {
      for (uint8_t p : col.present) {
        if (p == 0) {
          incomplete.insert(b.series->id.value());
          return Status::OK();
        }
      }
    }
    return on_block(b);
  })));
  if (!incomplete.empty()) {
    req.series_filter = [&incomplete](const SeriesInfo& info) {
      return incomplete.count(info.id.value()) > 0;
    };
    SW_RETURN_IF_ERROR(ctx.engine->Scan(req, on_block));
  }
  return flush_batch();
}

void ScanNode::SetTagRow(const SeriesInfo& info, DataChunk* row) const {
  if (row->columns.size() != columns.size()) {
    row->rows = 1;
    row->columns.resize(columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      row->columns[c].SetConstant(Value::Null(columns[c].type), columns[c].type);
    }
  }
  // In place: a constant TEXT of one string, valid or NULL (its buffers kept).
  for (size_t t = 0; t < tag_count; ++t) {
    Vector& v = row->columns[1 + t];
    const std::string_view tag = info.Tag(tag_keys[t]);
    v.strings.resize(1);
    v.strings[0].assign(tag);
    if (tag.empty()) {
      v.valid.assign(1, 0);
    } else {
      v.valid.clear();
    }
  }
}

// Below this many series a scan of the newest rows stays on one thread: it costs about a
// microsecond a series, and a second thread about half a millisecond to start and merge (1,000
// series: 1.37 ms on one thread, 1.7-1.8 ms on two; 100,000: 140 -> 115 ms).
constexpr size_t kMinSeriesToSplitLatest = 8192;

bool ScanNode::Partitionable() const {
  if (latest && table_series < kMinSeriesToSplitLatest) return false;
  if (!request.tag_equals.empty()) return false;
  for (const auto& [key, values] : request.tag_in) {
    if (values.size() < 32) return false;
  }
  return true;
}

void ScanNode::Explain(int depth, std::string* out) const {
  std::string text = fmt::format("{} {}.{}",
                                 latest      ? "LatestScan"
                                 : summaries ? "StatsScan"
                                             : "Scan",
                                 request.database, request.table);
  if (request.min_time != std::numeric_limits<int64_t>::min() ||
      request.max_time != std::numeric_limits<int64_t>::max()) {
    text += fmt::format(" time=[{}, {}]",
                        request.min_time == std::numeric_limits<int64_t>::min()
                            ? "-inf"
                            : FormatTimestamp(request.min_time),
                        request.max_time == std::numeric_limits<int64_t>::max()
                            ? "+inf"
                            : FormatTimestamp(request.max_time));
  }
  // Values as SQL literals (quotes doubled), so that one holding a quote reads unambiguously.
  for (const auto& [k, v] : request.tag_equals) {
    text += fmt::format(" {}={}", k, ConstantText(Value::Text(v)));
  }
  for (const auto& [k, values] : request.tag_in) {
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ", ") + ConstantText(Value::Text(v));
    text += fmt::format(" {} IN ({})", k, list);
  }
  if (tag_predicate) text += " series_filter=" + DescribeExpr(*tag_predicate, columns);
  for (const BoundExpr* key : summary_time_keys) text += " per=" + DescribeExpr(*key, columns);
  if (summaries && !tag_predicate) {
    // Engine::ScanSummarized may take a segment from its totals (per value of a tag).
    if (const auto tag = WholeSegmentTag(request)) {
      text += " whole_segments";
      if (!tag->empty()) text += " per_value=" + *tag;
    }
  }
  for (const FieldRange& r : request.field_ranges) {
    text += fmt::format(" skip_unless={}{}{}, {}{}", r.field, r.min_inclusive ? "[" : "(", r.min,
                        r.max, r.max_inclusive ? "]" : ")");
  }
  std::string cols;
  for (size_t f = 0; f < fields.size(); ++f) {
    if (!used[1 + tag_count + f]) continue;
    if (!cols.empty()) cols += ",";
    cols += fields[f].name;
  }
  text += " fields=[" + cols + "]";
  ExplainLine(depth, text, out);
}

Status RowsNode::Execute(ExecContext&, ChunkSink* out) {
  DataChunk copy = rows;
  if (copy.rows == 0 && !copy.columns.empty()) return Status::OK();
  return out->Push(copy);
}

void RowsNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth, fmt::format("{} ({} rows)", label, rows.rows), out);
}

Status FilterNode::Execute(ExecContext& ctx, ChunkSink* out) {
  std::vector<uint32_t> sel;
  FunctionSink sink([&](DataChunk& chunk) -> Status {
    sel.clear();
    SW_RETURN_IF_ERROR(EvaluatePredicate(*predicate, chunk, &sel));
    return PushSelected(sel, &chunk, out);
  });
  return child->Execute(ctx, &sink);
}

void FilterNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth, "Filter " + DescribeExpr(*predicate, child->columns), out);
  child->Explain(depth + 1, out);
}

Status ProjectNode::Execute(ExecContext& ctx, ChunkSink* out) {
  DataChunk result;
  FunctionSink sink([&](DataChunk& chunk) -> Status {
    result.columns.resize(exprs.size());
    result.rows = chunk.rows;
    ScratchVectors scratch(1);
    for (size_t i = 0; i < exprs.size(); ++i) {
      scratch[0].Reset(SqlType::kNull);
      SW_ASSIGN_OR_RETURN(const Vector* v, Evaluate(*exprs[i], chunk, &scratch[0]));
      if (v == &scratch[0]) {
        // The column of the chunk before goes back to the pool with its buffers.
        std::swap(result.columns[i], scratch[0]);
      } else {
        result.columns[i] = *v;
      }
    }
    return out->Push(result);
  });
  return child->Execute(ctx, &sink);
}

void ProjectNode::Explain(int depth, std::string* out) const {
  std::string text = "Project";
  for (size_t i = 0; i < exprs.size(); ++i) {
    text += i == 0 ? " " : ", ";
    text += DescribeExpr(*exprs[i], child->columns);
  }
  ExplainLine(depth, text, out);
  child->Explain(depth + 1, out);
}

// ---------------------------------------------------------------------------------------------

// One thread's share of an aggregation: its groups (by key bytes), their key values and the
// aggregate states.
struct PartialAggregate {
  std::vector<std::unique_ptr<AggregateState>> states;
  absl::flat_hash_map<std::string, uint32_t> groups;
  // With a single integer or DOUBLE key: groups by value (a double's bits), and the NULL group.
  absl::flat_hash_map<int64_t, uint32_t> int_groups;
  std::optional<uint32_t> null_group;
  // The value of each group's key (0 for the NULL group), and the group found last: series of
  // aligned times repeat one sequence of keys, so the group after the last one is tried before
  // the table (GROUP BY time over many series).
  std::vector<int64_t> group_words;
  uint32_t last_group = UINT32_MAX;
  // With one integer key beside others (a time bucket beside tags, `split_key`): the other
  // keys' values name a prefix, and a group is a prefix with a value (or NULL, the low bit) of
  // the integer key. A chunk whose other keys are constant looks its prefix up once
  // (`chunk_prefix`).
  int split_key = -1;
  absl::flat_hash_map<std::string, uint32_t> prefixes;
  absl::flat_hash_map<std::pair<uint64_t, int64_t>, uint32_t> split_groups;
  std::optional<uint32_t> chunk_prefix;
  std::vector<Vector> key_store;
  size_t group_count = 0;
  size_t key_bytes = 0;
  size_t held = 0;
};

namespace {

// The group of row `row` of a single integer or DOUBLE key, hashed as itself (no key bytes):
// a DOUBLE as its bits, -0 as 0 and every NaN as one.
uint32_t NumericKeyGroup(PartialAggregate* p, const Vector& v, size_t row) {
  uint32_t* slot = nullptr;
  int64_t word = 0;  // the NULL group's
  if (v.IsNull(row)) {
    if (!p->null_group) p->null_group = UINT32_MAX;
    slot = &*p->null_group;
  } else {
    if (v.type == SqlType::kDouble) {
      word = static_cast<int64_t>(DoubleKeyBits(v.doubles[v.Index(row)]));
    } else {
      word = v.ints[v.Index(row)];
    }
    const uint32_t next = p->last_group + 1;
    if (next < p->group_words.size() && p->group_words[next] == word &&
        (!p->null_group || *p->null_group != next)) {
      p->last_group = next;
      return next;
    }
    auto [it, inserted] = p->int_groups.try_emplace(word, UINT32_MAX);
    slot = &it->second;
  }
  if (*slot == UINT32_MAX) {
    *slot = static_cast<uint32_t>(p->group_count++);
    p->key_store[0].AppendFrom(v, row);
    p->group_words.push_back(word);
    p->key_bytes += 56;
  }
  p->last_group = *slot;
  return *slot;
}

}  // namespace

uint32_t AggregateNode::GroupOf(PartialAggregate* p, const std::vector<const Vector*>& kv,
                                size_t row, std::string* key) const {
  // One integer key (a time bucket, an integer field) or one DOUBLE key.
  if (kv.size() == 1 && (IsPlainInteger(kv[0]->type) || kv[0]->type == SqlType::kDouble)) {
    return NumericKeyGroup(p, *kv[0], row);
  }
  if (p->split_key >= 0) {
    uint32_t prefix = 0;
    if (p->chunk_prefix) {
      prefix = *p->chunk_prefix;
    } else {
      prefix = PrefixOf(p, kv, row, key);
    }
    const Vector& v = *kv[p->split_key];
    const bool null = v.IsNull(row);
    auto [it, inserted] = p->split_groups.try_emplace(
        std::pair(uint64_t{prefix} * 2 + null, null ? 0 : v.ints[v.Index(row)]), UINT32_MAX);
    if (inserted) {
      it->second = static_cast<uint32_t>(p->group_count++);
      for (size_t k = 0; k < kv.size(); ++k) p->key_store[k].AppendFrom(*kv[k], row);
      p->key_bytes += 96;
    }
    return it->second;
  }
  key->clear();
  for (const Vector* v : kv) AppendKey(*v, row, key);
  auto [it, inserted] = p->groups.try_emplace(*key, static_cast<uint32_t>(p->group_count));
  if (inserted) {
    for (size_t k = 0; k < kv.size(); ++k) p->key_store[k].AppendFrom(*kv[k], row);
    ++p->group_count;
    p->key_bytes += key->size() * 2 + 64;
  }
  return it->second;
}

uint32_t AggregateNode::PrefixOf(PartialAggregate* p, const std::vector<const Vector*>& kv,
                                 size_t row, std::string* key) const {
  key->clear();
  for (size_t k = 0; k < kv.size(); ++k) {
    if (static_cast<int>(k) != p->split_key) AppendKey(*kv[k], row, key);
  }
  auto [it, inserted] = p->prefixes.try_emplace(*key, static_cast<uint32_t>(p->prefixes.size()));
  if (inserted) p->key_bytes += key->size() * 2 + 64;
  return it->second;
}

namespace {

// The key (if any) that PartialAggregate::split_key names for `keys`: the only integer key among
// two or more.
int SplitKey(const std::vector<BoundExprPtr>& keys) {
  int found = -1;
  for (size_t k = 0; k < keys.size(); ++k) {
    if (!IsPlainInteger(keys[k]->type)) continue;
    if (found >= 0) return -1;
    found = static_cast<int>(k);
  }
  return keys.size() >= 2 ? found : -1;
}

}  // namespace

Status AggregateNode::RunPartial(ExecContext& ctx, PartialAggregate* p) {
  p->split_key = SplitKey(keys);
  for (const auto& spec : aggregates) p->states.push_back(MakeAggregateState(spec));
  p->key_store.resize(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) p->key_store[k].Reset(keys[k]->type);
  if (keys.empty()) {
    p->group_count = 1;
    for (auto& s : p->states) s->Resize(1);
  }
  std::vector<uint32_t> group_of;
  std::vector<uint8_t> new_run;
  std::vector<std::pair<size_t, uint32_t>> runs;  // (first row, group)
  std::string key;
  // Statistics of whole chunks: the group from the series' tags and the bucket of each time
  // key, then each aggregate from its field's statistics (the planner allowed only aggregates
  // and keys that can).
  std::vector<std::optional<TimeKeyBuckets>> time_keys(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k]->kind != BoundKind::kColumn) time_keys[k] = TimeKeyBuckets::For(*keys[k]);
  }
  std::vector<Vector> summary_keys(keys.size());
  std::vector<const Vector*> summary_kv(keys.size());
  Vector summary_arg;
  // Group keys that are expressions of tags are evaluated over one row of the series' tags.
  DataChunk probe;
  const SeriesInfo* probe_series = nullptr;
  Vector probe_scratch;
  // Summaries come from a scan only: its columns [1, 1 + scan_tags) are tags.
  const auto* scan = dynamic_cast<const ScanNode*>(child.get());
  if (scan != nullptr && scan->latest && p->split_key < 0 && !keys.empty() &&
      scan->request.tag_equals.empty() && scan->request.tag_in.empty() && !scan->tag_predicate) {
    // The newest row of every series of the table: at most a group per series of this
    // partition, known up front (100,000 series would otherwise rehash the keys 17 times).
    const size_t series = scan->table_series / static_cast<size_t>(std::max(1, ctx.partitions));
    p->groups.reserve(std::min<size_t>(series, size_t{1} << 20));
  }
  const size_t scan_tags = scan != nullptr ? scan->tag_count : 0;
  // The groups' keys and states count against the query's memory limit, looked at every chunk
  // (8,192 rows of long text keys can hold hundreds of MiB) and every few summaries.
  size_t inputs_seen = 0;
  auto charge = [&](bool chunk) -> Status {
    if (!chunk && ++inputs_seen % 8 != 0) return Status::OK();
    size_t bytes = p->key_bytes;
    for (const auto& s : p->states) bytes += s->MemoryBytes();
    return ctx.Charge(&p->held, bytes);
  };
  // Per aggregate: its field's place in the summaries' fields (-1: none), for `summary_fields`.
  const std::vector<FieldSchema>* summary_fields = nullptr;
  std::vector<int> field_of;
  size_t sized_groups = 0;  // the groups the states were last sized for by a summary
  auto on_summary = [&](const SeriesSummary& summary) -> Status {
    uint32_t group = 0;
    if (!keys.empty()) {
      for (size_t k = 0; k < keys.size(); ++k) {
        const BoundExpr& e = *keys[k];
        if (!time_keys[k] && summary.series == nullptr &&
            (e.kind != BoundKind::kColumn || scan == nullptr ||
             child->columns[e.column].name != scan->request.summary_tag)) {
          return Internal("a summary of many series reached a grouping by another tag");
        }
        if (e.kind == BoundKind::kColumn) {
          // Many series: the one grouping tag's value they share (ScanRequest::summary_tag).
          summary_keys[k].SetConstant(
              TagValue(summary.series != nullptr
                           ? summary.series->Tag(child->columns[e.column].name)
                           : summary.tag_value),
              SqlType::kText);
        } else if (time_keys[k]) {
          SW_ASSIGN_OR_RETURN(const auto bucket, time_keys[k]->Range(summary.min_time));
          summary_keys[k].SetConstant(Value::Timestamp(bucket.first), SqlType::kTimestamp);
        } else {
          // An expression of tags (the planner allowed no other): over one row of the series'
          // tags.
          if (scan == nullptr) return Internal("a summary reached an aggregation over no scan");
          if (probe_series != summary.series) {
            scan->SetTagRow(*summary.series, &probe);
            probe_series = summary.series;
          }
          SW_ASSIGN_OR_RETURN(const Vector* v, Evaluate(e, probe, &probe_scratch));
          summary_keys[k].SetConstant(v->Get(0), e.type);
        }
        summary_kv[k] = &summary_keys[k];
      }
      group = GroupOf(p, summary_kv, 0, &key);
      if (p->group_count != sized_groups) {  // a new group (the states only grow)
        for (auto& st : p->states) st->Resize(p->group_count);
        sized_groups = p->group_count;
      }
    }
    for (size_t a = 0; a < aggregates.size(); ++a) {
      const AggregateSpec& spec = aggregates[a];
      const SeriesSummary::Field* field = nullptr;
      if (!spec.args.empty() && spec.args[0]->column >= 1 &&
          spec.args[0]->column < static_cast<int>(1 + scan_tags)) {
        // count(DISTINCT tag) (the planner allowed no other aggregate of a tag): the series'
        // value, once.
        if (summary.series == nullptr) {
          return Internal("a summary of many series reached count(DISTINCT) of a tag");
        }
        summary_arg.SetConstant(
            TagValue(summary.series->Tag(child->columns[spec.args[0]->column].name)),
            SqlType::kText);
        SW_RETURN_IF_ERROR(sql::MarkErrorOffset(
            p->states[a]->UpdateRange({&summary_arg}, 0, 1, group), spec.offset));
        continue;
      }
      if (!spec.args.empty()) {
        if (summary_fields != &summary.fields || field_of.size() != aggregates.size()) {
          // A scan passes every summary in one object: its fields are looked up once.
          summary_fields = &summary.fields;
          field_of.assign(aggregates.size(), -1);
          for (size_t b = 0; b < aggregates.size(); ++b) {
            if (aggregates[b].args.empty()) continue;
            const std::string& name = child->columns[aggregates[b].args[0]->column].name;
            for (size_t f = 0; f < summary.fields.size(); ++f) {
              if (summary.fields[f].name == name) field_of[b] = static_cast<int>(f);
            }
          }
        }
        if (field_of[a] < 0) continue;  // the field is not in these chunks: no values
        field = &summary.stats[field_of[a]];
      }
      SW_RETURN_IF_ERROR(sql::MarkErrorOffset(
          p->states[a]->UpdateSummary(group, summary.rows, field), spec.offset));
    }
    return charge(/*chunk=*/false);
  };
  AggregateSink sink(on_summary, [&](DataChunk& chunk) -> Status {
    const size_t rows = chunk.rows;
    if (rows == 0) return Status::OK();
    runs.clear();
    bool grouped = false;  // group_of holds every row's group already
    if (keys.empty()) {
      runs.emplace_back(0, 0);
    } else {
      ScratchVectors scratch(keys.size());
      std::vector<const Vector*> kv(keys.size());
      for (size_t k = 0; k < keys.size(); ++k) {
        SW_ASSIGN_OR_RETURN(kv[k], Evaluate(*keys[k], chunk, &scratch[k]));
      }
      const Vector& first = *kv[0];
      if (kv.size() == 1 && !first.constant && first.valid.empty() &&
          (IsPlainInteger(first.type) || first.type == SqlType::kDouble)) {
        // One numeric key without NULLs: each row's group at once (a row equal to the row
        // before takes its group; -0 after 0 too, NaN never), and the runs they make.
        group_of.resize(rows);
        auto group_rows = [&](const auto* x) {
          group_of[0] = NumericKeyGroup(p, first, 0);
          runs.emplace_back(0, group_of[0]);
          for (size_t i = 1; i < rows; ++i) {
            if (x[i] == x[i - 1]) {
              group_of[i] = group_of[i - 1];
              continue;
            }
            group_of[i] = NumericKeyGroup(p, first, i);
            if (group_of[i] != group_of[i - 1]) runs.emplace_back(i, group_of[i]);
          }
        };
        if (first.type == SqlType::kDouble) {
          group_rows(first.doubles.data());
        } else {
          group_rows(first.ints.data());
        }
        grouped = true;
      } else {
        p->chunk_prefix.reset();
        if (p->split_key >= 0) {
          bool constant = true;
          for (size_t k = 0; k < kv.size(); ++k) {
            constant &= static_cast<int>(k) == p->split_key || kv[k]->constant;
          }
          if (constant) p->chunk_prefix = PrefixOf(p, kv, 0, &key);
        }
        // Rows with the keys of the previous row (constant tags, sorted buckets) continue its
        // run and need no hashing.
        new_run.assign(rows, 0);
        new_run[0] = 1;
        for (const Vector* v : kv) {
          if (v->constant) continue;
          if (IsPlainInteger(v->type) && v->valid.empty()) {
            const int64_t* x = v->ints.data();
            for (size_t i = 1; i < rows; ++i) new_run[i] |= x[i] != x[i - 1];
          } else if (v->type == SqlType::kDouble && v->valid.empty()) {
            const double* x = v->doubles.data();
            for (size_t i = 1; i < rows; ++i) new_run[i] |= !(x[i] == x[i - 1]);  // NaN: new run
          } else {
            for (size_t i = 1; i < rows; ++i) new_run[i] |= !SameCell(*v, i, i - 1);
          }
        }
        for (size_t i = 0; i < rows; ++i) {
          if (!new_run[i]) continue;
          runs.emplace_back(i, GroupOf(p, kv, i, &key));
        }
        p->chunk_prefix.reset();
      }
      for (auto& s : p->states) s->Resize(p->group_count);
    }
    // Long runs fold with one call each; short ones through a group per row.
    const bool by_run = runs.size() * 3 <= rows;
    if (!by_run && !grouped) {
      group_of.resize(rows);
      for (size_t r = 0; r < runs.size(); ++r) {
        const size_t end = r + 1 < runs.size() ? runs[r + 1].first : rows;
        std::fill(group_of.begin() + static_cast<long>(runs[r].first),
                  group_of.begin() + static_cast<long>(end), runs[r].second);
      }
    }
    for (size_t a = 0; a < aggregates.size(); ++a) {
      ScratchVectors scratch(aggregates[a].args.size());
      std::vector<const Vector*> args(aggregates[a].args.size());
      for (size_t j = 0; j < args.size(); ++j) {
        SW_ASSIGN_OR_RETURN(args[j], Evaluate(*aggregates[a].args[j], chunk, &scratch[j]));
      }
      // An aggregate's own errors (sum() out of range) name its call.
      if (by_run) {
        for (size_t r = 0; r < runs.size(); ++r) {
          const size_t end = r + 1 < runs.size() ? runs[r + 1].first : rows;
          SW_RETURN_IF_ERROR(sql::MarkErrorOffset(
              p->states[a]->UpdateRange(args, runs[r].first, end, runs[r].second),
              aggregates[a].offset));
        }
      } else {
        SW_RETURN_IF_ERROR(sql::MarkErrorOffset(
            p->states[a]->Update(args, group_of.data(), 0, rows), aggregates[a].offset));
      }
    }
    return charge(/*chunk=*/true);
  });
  return child->Execute(ctx, &sink);
}

namespace {

// Whether `child` may run as two halves of its series on two threads under `ctx`.
bool CanSplit(const ExecContext& ctx, const PlanNode& child) {
  return ctx.threads > 1 && ctx.partitions == 1 && child.Partitionable();
}

// Keeps a new thread off the CPU its creator runs on when the process may use another one:
// otherwise the scheduler often queues a new thread behind its creator on the creator's CPU
// (measured: the second half of a 4 ms query starting 1-2 ms late, about every other query, on
// an idle 2-core machine), and the two halves run one after the other.
void PlaceAwayFromCaller(std::thread& thread) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int here = sched_getcpu();
  if (here < 0 || here >= CPU_SETSIZE || !CPU_ISSET(here, &allowed) || CPU_COUNT(&allowed) < 2) {
    return;
  }
  CPU_CLR(here, &allowed);
  pthread_setaffinity_np(thread.native_handle(), sizeof allowed, &allowed);
}

// Runs half(ctx of half 0, 0) here and half(ctx of half 1, 1) on a second thread; each half
// reads every other series (ExecContext::partition) with half the memory budget.
Status RunOnTwoHalves(const ExecContext& ctx,
                      const std::function<Status(ExecContext&, int)>& half) {
  ExecContext first = ctx, second = ctx;
  // Both halves read one snapshot: what either takes whole, the other must leave out
  // (ScanRequest::summaries_without_series).
  if (first.snapshot == nullptr) first.snapshot = second.snapshot = ctx.engine->Snapshot();
  first.partitions = second.partitions = 2;
  second.partition = 1;
  first.memory_limit = second.memory_limit = ctx.memory_limit / 2;
  Status second_status;
  std::thread worker([&] { second_status = half(second, 1); });
  PlaceAwayFromCaller(worker);
  Status first_status = half(first, 0);
  worker.join();
  SW_RETURN_IF_ERROR(first_status);
  return second_status;
}

}  // namespace

Status AggregateNode::Execute(ExecContext& ctx, ChunkSink* out) {
  PartialAggregate main;
  if (CanSplit(ctx, *child)) {
    // Two halves of the series on two threads, then the second folded into the first.
    PartialAggregate other;
    SW_RETURN_IF_ERROR(RunOnTwoHalves(ctx, [&](ExecContext& half_ctx, int half) {
      return RunPartial(half_ctx, half == 0 ? &main : &other);
    }));
    std::vector<uint32_t> map(other.group_count);
    if (keys.empty()) {
      map[0] = 0;
    } else {
      // Every group of the other half through the same lookup, from its stored key values.
      std::vector<const Vector*> other_keys;
      for (const auto& k : other.key_store) other_keys.push_back(&k);
      std::string scratch_key;
      for (size_t g = 0; g < other.group_count; ++g) {
        map[g] = GroupOf(&main, other_keys, g, &scratch_key);
      }
    }
    for (size_t a = 0; a < aggregates.size(); ++a) {
      main.states[a]->Resize(main.group_count);
      SW_RETURN_IF_ERROR(
          sql::MarkErrorOffset(main.states[a]->Merge(*other.states[a], map), aggregates[a].offset));
    }
  } else {
    SW_RETURN_IF_ERROR(RunPartial(ctx, &main));
  }
  DataChunk result;
  result.rows = main.group_count;
  for (auto& v : main.key_store) result.columns.push_back(std::move(v));
  for (size_t a = 0; a < aggregates.size(); ++a) {
    Vector v;
    v.Reset(aggregates[a].result_type);
    main.states[a]->Finalize(main.group_count, &v);
    result.columns.push_back(std::move(v));
  }
  if (result.rows == 0) return Status::OK();
  return out->Push(result);
}

void AggregateNode::Explain(int depth, std::string* out) const {
  std::string text = "Aggregate";
  if (!keys.empty()) {
    text += " by";
    for (size_t i = 0; i < keys.size(); ++i) {
      text += i == 0 ? " " : ", ";
      text += DescribeExpr(*keys[i], child->columns);
    }
  }
  for (size_t i = 0; i < aggregates.size(); ++i) {
    text += (i == 0 ? ": " : ", ") + DescribeAggregate(aggregates[i], child->columns);
  }
  ExplainLine(depth, text, out);
  child->Explain(depth + 1, out);
}

// ---------------------------------------------------------------------------------------------

namespace {

int CompareRows(const DataChunk& c, const std::vector<SortKey>& keys, uint32_t a, uint32_t b) {
  for (const SortKey& k : keys) {
    const Vector& v = c.columns[k.column];
    const bool na = v.IsNull(a), nb = v.IsNull(b);
    if (na || nb) {
      if (na == nb) continue;
      return (na == k.nulls_first) ? -1 : 1;
    }
    int r = 0;
    const size_t x = v.Index(a), y = v.Index(b);
    switch (v.type) {
      case SqlType::kDouble: {
        r = CompareDoubles(v.doubles[x], v.doubles[y]);
        break;
      }
      case SqlType::kText:
        r = v.strings[x].compare(v.strings[y]);
        r = r < 0 ? -1 : r > 0 ? 1 : 0;
        break;
      case SqlType::kUBigInt: {
        const auto p = static_cast<uint64_t>(v.ints[x]), q = static_cast<uint64_t>(v.ints[y]);
        r = p < q ? -1 : p > q ? 1 : 0;
        break;
      }
      default: r = v.ints[x] < v.ints[y] ? -1 : v.ints[x] > v.ints[y] ? 1 : 0; break;
    }
    if (r != 0) return k.descending ? -r : r;
  }
  return 0;
}

// The first 8 bytes of `s` as a big-endian word, zero-padded: words compare as the strings'
// prefixes do (bytes unsigned, as std::string_view compares them).
uint64_t PrefixWord(std::string_view s) {
  uint64_t w = 0;
  const size_t n = std::min<size_t>(s.size(), 8);
  for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(s[i])} << (56 - 8 * i);
  return w;
}

struct PrefixEntry {
  uint64_t prefix;  // PrefixWord of the string
  uint32_t index;   // which string
};

// Sorts `entries` by prefix word, then by the whole string (string_at(index)) where those tie,
// and hands each its rank in that order (set(index, rank); equal strings, equal ranks): most
// comparisons are one integer compare.
template <typename StringAt, typename Set>
void RankByPrefix(std::vector<PrefixEntry>* entries, StringAt string_at, Set set) {
  auto compare = [&](const PrefixEntry& a, const PrefixEntry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix ? -1 : 1;
    const int c = string_at(a.index).compare(string_at(b.index));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  };
  std::sort(entries->begin(), entries->end(),
            [&](const PrefixEntry& a, const PrefixEntry& b) { return compare(a, b) < 0; });
  int64_t rank = 0;
  for (size_t j = 0; j < entries->size(); ++j) {
    if (j > 0 && compare((*entries)[j - 1], (*entries)[j]) != 0) ++rank;
    set((*entries)[j].index, rank);
  }
}

// The rank of each row's string among the distinct strings of the column (equal strings, equal
// ranks). Few distinct strings (a tag over many rows) are numbered through a hash table and
// only they are sorted; when the first rows show many (a machine id per row), the rows are
// sorted instead, which costs no hashing.
void TextRanks(const Vector& v, size_t rows, std::vector<int64_t>* ranks) {
  constexpr size_t kProbeRows = 4096;  // then more than a quarter distinct: sort the rows
  ranks->resize(rows);
  std::vector<PrefixEntry> entries;
  absl::flat_hash_map<std::string_view, uint32_t> ids;
  std::vector<uint32_t> row_id(rows);
  std::vector<std::string_view> distinct;
  size_t i = 0;
  for (; i < rows; ++i) {
    if (i == kProbeRows && distinct.size() * 4 > kProbeRows) break;
    auto [it, inserted] = ids.try_emplace(v.strings[i], static_cast<uint32_t>(distinct.size()));
    if (inserted) distinct.push_back(v.strings[i]);
    row_id[i] = it->second;
  }
  if (i == rows) {
    entries.resize(distinct.size());
    for (size_t j = 0; j < distinct.size(); ++j) {
      entries[j] = {PrefixWord(distinct[j]), static_cast<uint32_t>(j)};
    }
    std::vector<int64_t> rank_of(distinct.size());
    RankByPrefix(
        &entries, [&](uint32_t k) { return distinct[k]; },
        [&](uint32_t k, int64_t rank) { rank_of[k] = rank; });
    for (size_t r = 0; r < rows; ++r) (*ranks)[r] = rank_of[row_id[r]];
    return;
  }
  entries.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    entries[r] = {PrefixWord(v.strings[r]), static_cast<uint32_t>(r)};
  }
  RankByPrefix(
      &entries, [&](uint32_t k) { return std::string_view(v.strings[k]); },
      [&](uint32_t k, int64_t rank) { (*ranks)[k] = rank; });
}

// The sort keys of `buffer` as their own chunk, text columns replaced by the rank of each
// string among the distinct strings (integers compare faster; ties stay ties).
DataChunk SortKeyColumns(const DataChunk& buffer, const std::vector<SortKey>& keys,
                         std::vector<SortKey>* remapped) {
  DataChunk out;
  out.rows = buffer.rows;
  remapped->clear();
  for (const SortKey& k : keys) {
    const Vector& v = buffer.columns[k.column];
    SortKey r = k;
    r.column = static_cast<int>(out.columns.size());
    remapped->push_back(r);
    if (v.type != SqlType::kText || v.constant) {
      out.columns.push_back(v);
      continue;
    }
    Vector ranks;
    ranks.Reset(SqlType::kBigInt);
    ranks.valid = v.valid;
    TextRanks(v, buffer.rows, &ranks.ints);
    out.columns.push_back(std::move(ranks));
  }
  return out;
}

// Whether a key of type `t` has normalised words (NormalizedWords).
bool HasNormalizedWords(SqlType t) {
  return t == SqlType::kBigInt || t == SqlType::kUBigInt || t == SqlType::kTimestamp ||
         t == SqlType::kBoolean || t == SqlType::kDouble;
}

// Row `i` of `v` under sort key `key` as two unsigned words that compare as the rows do: where
// its NULL sorts, then the value mapped to keep its order, inverted for DESC.
void NormalizedWords(const Vector& v, size_t i, const SortKey& key, uint64_t* w) {
  if (v.IsNull(i)) {
    w[0] = key.nulls_first ? 0 : 2;
    w[1] = 0;
    return;
  }
  const size_t x = v.Index(i);
  uint64_t u = 0;
  if (v.type == SqlType::kDouble) {
    const double d = v.doubles[x];
    // NaN above every number (as in CompareRows), -0 equal to 0; negative numbers have their
    // bits inverted, others the sign bit set.
    const uint64_t bits = d == 0 ? 0 : std::bit_cast<uint64_t>(d);
    u = std::isnan(d) ? ~uint64_t{0} : bits >> 63 ? ~bits : bits | (uint64_t{1} << 63);
  } else if (v.type == SqlType::kUBigInt || v.type == SqlType::kBoolean) {
    u = static_cast<uint64_t>(v.ints[x]);
  } else {
    u = static_cast<uint64_t>(v.ints[x]) ^ (uint64_t{1} << 63);
  }
  w[0] = 1;
  w[1] = key.descending ? ~u : u;
}

// The sort keys of every row as normalised words, when every key is a number, boolean or time
// (ranked text included); false otherwise. `rows` x 2 words per key.
bool NormalizedSortKeys(const DataChunk& keys_chunk, const std::vector<SortKey>& keys,
                        std::vector<uint64_t>* out) {
  for (const SortKey& k : keys) {
    if (!HasNormalizedWords(keys_chunk.columns[k.column].type)) return false;
  }
  const size_t rows = keys_chunk.rows, width = 2 * keys.size();
  out->resize(rows * width);
  for (size_t k = 0; k < keys.size(); ++k) {
    const Vector& v = keys_chunk.columns[keys[k].column];
    for (size_t i = 0; i < rows; ++i) {
      NormalizedWords(v, i, keys[k], out->data() + i * width + 2 * k);
    }
  }
  return true;
}

// Drops the word columns of `*words` (`rows` x `width`) that hold one value on every row (the
// NULL markers of keys without NULLs, mostly): they decide nothing. Returns the width left.
size_t DropConstantWords(std::vector<uint64_t>* words, size_t rows, size_t width) {
  std::vector<size_t> kept;
  for (size_t k = 0; k < width; ++k) {
    bool constant = true;
    for (size_t i = 1; i < rows && constant; ++i) {
      constant = (*words)[i * width + k] == (*words)[k];
    }
    if (!constant) kept.push_back(k);
  }
  if (kept.size() == width) return width;
  uint64_t* w = words->data();
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < kept.size(); ++j) w[i * kept.size() + j] = w[i * width + kept[j]];
  }
  words->resize(rows * kept.size());
  return kept.size();
}

// Sorts rows by one normalised word each when those words span fewer values than twice the
// rows (the ranks of one text key, a small integer range): counted, not compared, stable.
// Returns false, `*order` untouched, when they span more.
bool CountingSortByWord(const std::vector<uint64_t>& words, size_t keep,
                        std::vector<uint32_t>* order) {
  const size_t rows = order->size();
  if (rows == 0) return true;
  const auto [lo, hi] = std::minmax_element(words.begin(), words.end());
  const uint64_t span = *hi - *lo;
  if (span >= 2 * uint64_t{rows}) return false;
  std::vector<uint32_t> start(static_cast<size_t>(span) + 2, 0);
  for (const uint64_t w : words) ++start[static_cast<size_t>(w - *lo) + 1];
  for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  for (size_t i = 0; i < rows; ++i) {
    (*order)[start[static_cast<size_t>(words[i] - *lo)]++] = static_cast<uint32_t>(i);
  }
  order->resize(std::min(keep, rows));
  return true;
}

// Sorts rows by their `W` normalised words (then by row, to be stable), the words and the row
// side by side in one array so that comparisons read no other memory, and keeps the first
// `keep` in `*order`.
template <size_t W>
void SortByWords(const std::vector<uint64_t>& words, size_t keep, std::vector<uint32_t>* order) {
  struct Entry {
    std::array<uint64_t, W> w;
    uint32_t row;
  };
  const size_t rows = order->size();
  std::vector<Entry> entries(rows);
  for (size_t i = 0; i < rows; ++i) {
    std::copy_n(words.data() + i * W, W, entries[i].w.begin());
    entries[i].row = static_cast<uint32_t>(i);
  }
  auto less = [](const Entry& a, const Entry& b) {
    for (size_t k = 0; k < W; ++k) {
      if (a.w[k] != b.w[k]) return a.w[k] < b.w[k];
    }
    return a.row < b.row;
  };
  if (keep < rows) {
    std::partial_sort(entries.begin(), entries.begin() + static_cast<long>(keep), entries.end(),
                      less);
    entries.resize(keep);
  } else {
    std::sort(entries.begin(), entries.end(), less);
  }
  order->resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) (*order)[i] = entries[i].row;
}

// Sorts `buffer` and keeps its first `keep` rows.
void SortAndTrim(DataChunk* buffer, const std::vector<SortKey>& keys, size_t keep) {
  std::vector<uint32_t> order(buffer->rows);
  std::iota(order.begin(), order.end(), 0);
  std::vector<SortKey> key_order;
  const DataChunk key_columns = SortKeyColumns(*buffer, keys, &key_order);
  auto sort_by = [&](auto less) {
    if (keep < order.size()) {
      std::partial_sort(order.begin(), order.begin() + static_cast<long>(keep), order.end(), less);
      order.resize(keep);
    } else {
      std::sort(order.begin(), order.end(), less);
    }
  };
  std::vector<uint64_t> words;
  size_t width = 2 * key_order.size();
  const bool normalized = NormalizedSortKeys(key_columns, key_order, &words);
  if (normalized && !order.empty()) width = DropConstantWords(&words, order.size(), width);
  if (normalized && width <= 4) {
    switch (width) {
      case 0: order.resize(std::min(keep, order.size())); break;  // every row ties
      case 1:
        if (!CountingSortByWord(words, keep, &order)) SortByWords<1>(words, keep, &order);
        break;
      case 2: SortByWords<2>(words, keep, &order); break;
      case 3: SortByWords<3>(words, keep, &order); break;
      default: SortByWords<4>(words, keep, &order); break;
    }
  } else if (normalized) {
    sort_by([&](uint32_t a, uint32_t b) {
      const uint64_t* x = words.data() + size_t{a} * width;
      const uint64_t* y = words.data() + size_t{b} * width;
      for (size_t i = 0; i < width; ++i) {
        if (x[i] != y[i]) return x[i] < y[i];
      }
      return a < b;  // stable
    });
  } else {
    sort_by([&](uint32_t a, uint32_t b) {
      const int c = CompareRows(key_columns, key_order, a, b);
      return c != 0 ? c < 0 : a < b;  // stable
    });
  }
  DataChunk sorted;
  sorted.rows = order.size();
  sorted.columns.resize(buffer->columns.size());
  for (size_t c = 0; c < buffer->columns.size(); ++c) {
    Gather(buffer->columns[c], order, &sorted.columns[c]);
  }
  *buffer = std::move(sorted);
}

}  // namespace

Status SortNode::Collect(ExecContext& ctx, DataChunk* buffer_out) const {
  DataChunk& buffer = *buffer_out;
  size_t held = 0;
  const size_t compact_at = keep == SIZE_MAX ? SIZE_MAX : std::max<size_t>(2 * keep, 4096);
  size_t bytes = 0;
  // Top-N: once `keep` rows are held, a row whose first key sorts after the first key of the
  // last of them can never be kept, and is dropped before it is copied (when that key has
  // normalised words).
  const SortKey& first = keys[0];
  bool bounded = false;
  uint64_t bound[2] = {0, 0};
  std::vector<uint32_t> sel;
  FunctionSink sink([&](DataChunk& chunk) -> Status {
    if (bounded) {
      const Vector& v = chunk.columns[first.column];
      sel.clear();
      uint64_t w[2];
      for (size_t i = 0; i < chunk.rows; ++i) {
        NormalizedWords(v, i, first, w);
        if (w[0] < bound[0] || (w[0] == bound[0] && w[1] <= bound[1])) {
          sel.push_back(static_cast<uint32_t>(i));
        }
      }
      if (sel.empty()) return Status::OK();
      if (sel.size() != chunk.rows) {
        for (auto& c : chunk.columns) c.Select(sel);
        chunk.rows = sel.size();
      }
    }
    AppendChunk(chunk, &buffer);
    bytes += chunk.MemoryBytes();
    if (buffer.rows > compact_at) {
      SortAndTrim(&buffer, keys, keep);
      bytes = buffer.MemoryBytes();
      const Vector& v = buffer.columns[first.column];
      if (keep > 0 && buffer.rows == keep && HasNormalizedWords(v.type)) {
        NormalizedWords(v, buffer.rows - 1, first, bound);
        bounded = true;
      }
    }
    return ctx.Charge(&held, bytes);
  });
  return child->Execute(ctx, &sink);
}

Status SortNode::Execute(ExecContext& ctx, ChunkSink* out) {
  DataChunk buffer;
  if (CanSplit(ctx, *child)) {
    // Each thread reads, filters and trims half of the series; the halves meet in one sort.
    DataChunk other;
    SW_RETURN_IF_ERROR(RunOnTwoHalves(ctx, [&](ExecContext& half_ctx, int half) {
      return Collect(half_ctx, half == 0 ? &buffer : &other);
    }));
    if (other.rows > 0) AppendChunk(other, &buffer);
  } else {
    SW_RETURN_IF_ERROR(Collect(ctx, &buffer));
  }
  if (buffer.rows == 0) return Status::OK();
  SortAndTrim(&buffer, keys, keep);
  SW_RETURN_IF_ERROR(ctx.CheckDeadline());
  if (buffer.rows <= kSortOutputRows) return out->Push(buffer);
  // A large result leaves in slices, so that its writing stops at the deadline (or when the
  // client is gone) and streams from the first slice.
  DataChunk slice;
  for (size_t begin = 0; begin < buffer.rows; begin += kSortOutputRows) {
    SW_RETURN_IF_ERROR(ctx.CheckDeadline());
    slice.columns.resize(buffer.columns.size());  // a sink may have taken the last slice's
    slice.rows = std::min(kSortOutputRows, buffer.rows - begin);
    for (size_t c = 0; c < buffer.columns.size(); ++c) {
      TakeRows(&buffer.columns[c], begin, slice.rows, &slice.columns[c]);
    }
    SW_RETURN_IF_ERROR(out->Push(slice));
  }
  return Status::OK();
}

void SortNode::Explain(int depth, std::string* out) const {
  std::string text = "Sort";
  for (size_t i = 0; i < keys.size(); ++i) {
    text += i == 0 ? " " : ", ";
    text += child->columns[keys[i].column].name;
    if (keys[i].descending) text += " DESC";
  }
  if (keep != SIZE_MAX) text += fmt::format(" keep={}", keep);
  ExplainLine(depth, text, out);
  child->Explain(depth + 1, out);
}

Status LimitNode::Execute(ExecContext& ctx, ChunkSink* out) {
  if (limit == 0) return Status::OK();
  LimitSink sink(out, limit, offset);
  Status s = child->Execute(ctx, &sink);
  if (sink.stopped()) return Status::OK();
  return s;
}

void LimitNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth,
              offset == 0 ? fmt::format("Limit {}", limit)
                          : fmt::format("Limit {} offset {}", limit, offset),
              out);
  child->Explain(depth + 1, out);
}

Result<std::optional<int64_t>> TimeWindowNode::KeyStart(int64_t t) const {
  auto key_of = [this](int64_t at) { return EvaluateAtTime(*key, at); };
  SW_ASSIGN_OR_RETURN(const int64_t start, key_of(t));
  if (start > t || start == std::numeric_limits<int64_t>::min()) return std::nullopt;
  SW_ASSIGN_OR_RETURN(const int64_t again, key_of(start));
  SW_ASSIGN_OR_RETURN(const int64_t before, key_of(start - 1));
  if (again != start || before >= start) return std::nullopt;
  return std::optional<int64_t>(start);
}

Status TimeWindowNode::Execute(ExecContext& ctx, ChunkSink* out) {
  ScanRequest& request = scan->request;
  const int64_t lo = request.min_time, hi = request.max_time;
  // The windows move between the rows that exist, not the range's (often unbounded) ends.
  const auto bounds = ctx.engine->TimeBounds(request);
  if (!bounds) return child->Execute(ctx, out);
  const int64_t first = std::max(lo, bounds->first), last = std::min(hi, bounds->second);
  if (first >= last) return child->Execute(ctx, out);
  // Each window narrows the scan's request; it is restored whatever happens.
  struct Restore {
    ScanRequest& r;
    int64_t lo, hi;
    ~Restore() { r.min_time = lo, r.max_time = hi; }
  } restore{request, lo, hi};
  constexpr int64_t kWidest = std::numeric_limits<int64_t>::max();
  for (int64_t width = std::max<int64_t>(initial_width, 1);;
       width = width > kWidest / 4 ? kWidest : width * 4) {
    SW_RETURN_IF_ERROR(ctx.CheckDeadline());
    // A window reaching past the rows at the other end is the whole range: read it once.
    const __int128 edge =
        descending ? static_cast<__int128>(last) - width : static_cast<__int128>(first) + width;
    if (edge <= first || edge >= last) break;
    SW_ASSIGN_OR_RETURN(const auto start, KeyStart(static_cast<int64_t>(edge)));
    if (!start) break;  // the key has no boundary there: read the whole range
    if (descending ? *start <= first : *start > last) break;
    if (descending) {
      request.min_time = *start;
    } else {
      request.max_time = *start - 1;  // every key below `start` is whole
    }
    DataChunk rows;
    FunctionSink sink([&rows](DataChunk& chunk) -> Status {
      AppendChunk(chunk, &rows);
      return Status::OK();
    });
    SW_RETURN_IF_ERROR(child->Execute(ctx, &sink));
    if (rows.rows >= keep) return out->Push(rows);
    if (width == kWidest) break;  // rows beyond 292 years from the newest: read the range
  }
  request.min_time = lo;
  request.max_time = hi;
  return child->Execute(ctx, out);
}

void TimeWindowNode::Explain(int depth, std::string* out) const {
  ExplainLine(
      depth,
      fmt::format("TimeWindow {} first, from {} s, x4 until {} rows",
                  descending ? "newest" : "oldest", static_cast<double>(initial_width) / 1e9, keep),
      out);
  child->Explain(depth + 1, out);
}

Status DistinctNode::Execute(ExecContext& ctx, ChunkSink* out) {
  std::unordered_set<std::string> seen;
  size_t held = 0, bytes = 0;
  std::string key;
  FunctionSink sink([&](DataChunk& chunk) -> Status {
    std::vector<uint32_t> sel;
    for (size_t i = 0; i < chunk.rows; ++i) {
      key.clear();
      for (const auto& c : chunk.columns) AppendKey(c, i, &key);
      if (seen.insert(key).second) {
        sel.push_back(static_cast<uint32_t>(i));
        bytes += key.size() + 48;
      }
    }
    SW_RETURN_IF_ERROR(ctx.Charge(&held, bytes));
    return PushSelected(sel, &chunk, out);
  });
  return child->Execute(ctx, &sink);
}

void DistinctNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth, "Distinct", out);
  child->Explain(depth + 1, out);
}

Status UnionAllNode::Execute(ExecContext& ctx, ChunkSink* out) {
  for (auto& c : children) SW_RETURN_IF_ERROR(c->Execute(ctx, out));
  return Status::OK();
}

void UnionAllNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth, "UnionAll", out);
  for (const auto& c : children) c->Explain(depth + 1, out);
}

// ---------------------------------------------------------------------------------------------

Status JoinNode::Execute(ExecContext& ctx, ChunkSink* out) {
  // Build: every right row, by key.
  DataChunk build;
  build.columns.resize(right->columns.size());
  for (size_t c = 0; c < right->columns.size(); ++c) build.columns[c].Reset(right->columns[c].type);
  size_t held = 0;
  size_t build_bytes = 0;
  FunctionSink build_sink([&](DataChunk& chunk) -> Status {
    AppendChunk(chunk, &build);
    build_bytes += chunk.MemoryBytes();
    return ctx.Charge(&held, build_bytes);
  });
  SW_RETURN_IF_ERROR(right->Execute(ctx, &build_sink));
  std::unordered_map<std::string, std::vector<uint32_t>> table;
  {
    ScratchVectors scratch(right_keys.size());
    std::vector<const Vector*> kv(right_keys.size());
    for (size_t k = 0; k < right_keys.size(); ++k) {
      SW_ASSIGN_OR_RETURN(kv[k], Evaluate(*right_keys[k], build, &scratch[k]));
    }
    std::string key;
    for (size_t i = 0; i < build.rows; ++i) {
      key.clear();
      bool has_null = false;
      for (const Vector* v : kv) {
        has_null |= v->IsNull(i);
        AppendKey(*v, i, &key);
      }
      if (has_null) continue;  // NULL never equals anything
      table[key].push_back(static_cast<uint32_t>(i));
    }
    SW_RETURN_IF_ERROR(ctx.Charge(&held, build_bytes + table.size() * 64 + build.rows * 4));
  }
  // Probe with each left chunk. The pairs found go out in slices of kJoinSlice rows, so that
  // a chunk matching many rows (a skewed key, a cross join) streams through the operators
  // above, each charging what it keeps, instead of being built whole first.
  constexpr size_t kJoinSlice = 8192;
  const size_t left_width = left->columns.size();
  FunctionSink probe([&](DataChunk& chunk) -> Status {
    SW_RETURN_IF_ERROR(ctx.CheckDeadline());
    ScratchVectors scratch(left_keys.size());
    std::vector<const Vector*> kv(left_keys.size());
    for (size_t k = 0; k < left_keys.size(); ++k) {
      SW_ASSIGN_OR_RETURN(kv[k], Evaluate(*left_keys[k], chunk, &scratch[k]));
    }
    std::vector<uint32_t> li, ri;
    DataChunk joined;
    auto assemble = [&](const std::vector<uint32_t>& l, const std::vector<uint32_t>& r) {
      joined.rows = l.size();
      joined.columns.assign(left_width + build.columns.size(), Vector{});
      for (size_t c = 0; c < left_width; ++c) Gather(chunk.columns[c], l, &joined.columns[c]);
      for (size_t c = 0; c < build.columns.size(); ++c) {
        Gather(build.columns[c], r, &joined.columns[left_width + c]);
      }
    };
    std::vector<uint8_t> matched(left_outer ? chunk.rows : 0, 0);
    // Sends the pairs gathered so far that pass the residual condition, and forgets them.
    auto emit = [&]() -> Status {
      if (li.empty()) return Status::OK();
      assemble(li, ri);
      if (residual) {
        std::vector<uint32_t> sel;
        SW_RETURN_IF_ERROR(EvaluatePredicate(*residual, joined, &sel));
        if (sel.size() != joined.rows) {
          std::vector<uint32_t> l2, r2;
          for (uint32_t s : sel) {
            l2.push_back(li[s]);
            r2.push_back(ri[s]);
          }
          li.swap(l2);
          ri.swap(r2);
          assemble(li, ri);
        }
      }
      if (left_outer) {
        for (uint32_t l : li) matched[l] = 1;
      }
      li.clear();
      ri.clear();
      if (joined.rows == 0) return Status::OK();
      SW_RETURN_IF_ERROR(out->Push(joined));
      return ctx.CheckDeadline();
    };
    std::string key;
    for (size_t i = 0; i < chunk.rows; ++i) {
      key.clear();
      bool has_null = false;
      for (const Vector* v : kv) {
        has_null |= v->IsNull(i);
        AppendKey(*v, i, &key);
      }
      if (has_null) continue;
      auto it = table.find(key);
      if (it == table.end()) continue;
      for (uint32_t r : it->second) {
        li.push_back(static_cast<uint32_t>(i));
        ri.push_back(r);
        if (li.size() >= kJoinSlice) SW_RETURN_IF_ERROR(emit());
      }
    }
    SW_RETURN_IF_ERROR(emit());
    if (left_outer) {
      for (size_t i = 0; i < chunk.rows; ++i) {
        if (!matched[i]) {
          li.push_back(static_cast<uint32_t>(i));
          ri.push_back(kNoRow);
        }
      }
      if (!li.empty()) {
        assemble(li, ri);
        return out->Push(joined);
      }
    }
    return Status::OK();
  });
  return left->Execute(ctx, &probe);
}

void JoinNode::Explain(int depth, std::string* out) const {
  std::string text = left_outer ? "LeftJoin" : "Join";
  if (left_keys.empty()) {
    text += " (nested loop)";
  } else {
    for (size_t i = 0; i < left_keys.size(); ++i) {
      text += i == 0 ? " on " : " and ";
      text += DescribeExpr(*left_keys[i], left->columns) + " = " +
              DescribeExpr(*right_keys[i], right->columns);
    }
  }
  if (residual) text += " filter " + residual->key;
  ExplainLine(depth, text, out);
  left->Explain(depth + 1, out);
  right->Explain(depth + 1, out);
}

Status CollectSink::Push(DataChunk& chunk) {
  rows += chunk.rows;
  chunks.push_back(std::move(chunk));
  chunk = DataChunk{};
  size_t bytes = held_;
  bytes += chunks.back().MemoryBytes();
  return ctx_->Charge(&held_, bytes);
}

}  // namespace seaway::query
