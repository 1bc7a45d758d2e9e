// Gap filling (src/query).
#include "query/gap_fill.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "query/expression_executor.h"

namespace seaway::query {
namespace {

constexpr size_t kMaxFilledRows = 10'000'000;

class CollectAll : public ChunkSink {
 public:
  CollectAll(ExecContext* ctx, DataChunk* into) : ctx_(ctx), into_(into) {}
  Status Push(DataChunk& chunk) override {
    AppendChunk(chunk, into_);
    bytes_ += chunk.MemoryBytes();
    return ctx_->Charge(&held_, bytes_);
  }

 private:
  ExecContext* ctx_;
  DataChunk* into_;
  size_t held_ = 0, bytes_ = 0;
};

}  // namespace

Status GapFillNode::Execute(ExecContext& ctx, ChunkSink* out) {
  DataChunk in;
  in.columns.resize(child->columns.size());
  for (size_t c = 0; c < in.columns.size(); ++c) in.columns[c].Reset(child->columns[c].type);
  CollectAll collect(&ctx, &in);
  SW_RETURN_IF_ERROR(child->Execute(ctx, &collect));

  auto bucket_of = [&](int64_t t) { return EvaluateAtTime(*bucket, t); };
  // Bucket starts from start to finish. Fixed UTC widths step by the width; calendar and zoned
  // buckets (months, local days across DST) by probing forward in steps shorter than any bucket.
  std::vector<int64_t> buckets;
  {
    const bool fixed = bucket->interval.months == 0 && bucket->zone.empty();
    const int64_t width = bucket->interval.nanos;
    const int64_t nominal =
        bucket->interval.months > 0 ? bucket->interval.months * 28 * kNanosPerDay : width;
    const int64_t hour = 3600 * kNanosPerSecond;
    const int64_t step = bucket->interval.months > 0
                             ? kNanosPerDay
                             : std::max<int64_t>(1, std::min(width, hour) / 4);
    SW_ASSIGN_OR_RETURN(int64_t b, bucket_of(start));
    while (b < finish) {
      buckets.push_back(b);
      if (buckets.size() > kMaxFilledRows) {
        return ResourceExhausted(
            "time_bucket_gapfill would produce more than {} buckets; narrow "
            "the time range or widen the buckets",
            kMaxFilledRows);
      }
      int64_t next;
      if (fixed) {
        if (__builtin_add_overflow(b, width, &next)) break;
      } else {
        int64_t probe = b + std::max<int64_t>(1, nominal - hour);
        while (true) {
          SW_ASSIGN_OR_RETURN(next, bucket_of(probe));
          if (next > b) break;
          probe += step;
        }
      }
      b = next;
    }
  }

  // Rows by group (the other keys), each group's rows by bucket.
  std::map<std::string, std::vector<uint32_t>> groups;
  const Vector& bucket_col = in.columns[bucket_column];
  for (size_t r = 0; r < in.rows; ++r) {
    std::string key;
    for (int g : group_columns) {
      Value v = in.columns[g].Get(r);
      key += v.is_null ? std::string("\0", 1) : "\1" + v.ToString();
      key.push_back('\2');
    }
    groups[key].push_back(static_cast<uint32_t>(r));
  }
  if (groups.empty() && group_columns.empty()) groups[""];

  DataChunk result;
  result.columns.resize(in.columns.size());
  for (size_t c = 0; c < in.columns.size(); ++c) result.columns[c].Reset(in.columns[c].type);
  size_t held = 0;
  for (auto& [key, rows] : groups) {
    std::sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
      return bucket_col.ints[bucket_col.Index(a)] < bucket_col.ints[bucket_col.Index(b)];
    });
    const size_t group_start = result.rows;
    size_t next_row = 0;
    auto emit_existing = [&](uint32_t r) {
      for (size_t c = 0; c < in.columns.size(); ++c) result.columns[c].AppendFrom(in.columns[c], r);
      ++result.rows;
    };
    for (int64_t b : buckets) {
      // Rows before this bucket (outside the range) keep their place.
      while (next_row < rows.size() && bucket_col.ints[bucket_col.Index(rows[next_row])] < b) {
        emit_existing(rows[next_row++]);
      }
      if (next_row < rows.size() && bucket_col.ints[bucket_col.Index(rows[next_row])] == b) {
        emit_existing(rows[next_row++]);
        continue;
      }
      for (size_t c = 0; c < in.columns.size(); ++c) {
        if (static_cast<int>(c) == bucket_column) {
          result.columns[c].Append(Value::Timestamp(b));
        } else if (std::find(group_columns.begin(), group_columns.end(), static_cast<int>(c)) !=
                       group_columns.end() &&
                   !rows.empty()) {
          result.columns[c].AppendFrom(in.columns[c], rows[0]);
        } else {
          result.columns[c].AppendNull();
        }
      }
      ++result.rows;
      if (result.rows > kMaxFilledRows) {
        return ResourceExhausted("gap filling would produce more than {} rows", kMaxFilledRows);
      }
    }
    while (next_row < rows.size()) emit_existing(rows[next_row++]);
    // locf and interpolate over this group's rows, in bucket order.
    const size_t group_end = result.rows;
    const Vector& times = result.columns[bucket_column];
    for (size_t c = 0; c < fill.size(); ++c) {
      if (fill[c] == FillMode::kNull) continue;
      Vector& v = result.columns[c];
      if (v.valid.empty()) continue;  // nothing to fill
      if (fill[c] == FillMode::kLocf) {
        std::optional<size_t> last;
        for (size_t r = group_start; r < group_end; ++r) {
          if (v.valid[r]) {
            last = r;
          } else if (last) {
            Value prev = v.Get(*last);
            Vector tmp;
            tmp.Reset(v.type);
            tmp.Append(prev);
            if (IsIntegerBacked(v.type)) v.ints[r] = tmp.ints[0];
            if (v.type == SqlType::kDouble) v.doubles[r] = tmp.doubles[0];
            if (v.type == SqlType::kText) v.strings[r] = tmp.strings[0];
            v.valid[r] = 1;
          }
        }
        continue;
      }
      // Linear interpolation between the nearest valid rows on both sides.
      std::optional<size_t> prev;
      for (size_t r = group_start; r < group_end; ++r) {
        if (v.valid[r]) {
          prev = r;
          continue;
        }
        if (!prev) continue;
        size_t next = r + 1;
        while (next < group_end && !v.valid[next]) ++next;
        if (next >= group_end) break;
        auto as_double = [&](size_t i) {
          return v.type == SqlType::kDouble ? v.doubles[i] : static_cast<double>(v.ints[i]);
        };
        const double t0 = static_cast<double>(times.ints[*prev]);
        const double t1 = static_cast<double>(times.ints[next]);
        const double x = static_cast<double>(times.ints[r]);
        const double y =
            as_double(*prev) + (as_double(next) - as_double(*prev)) * (x - t0) / (t1 - t0);
        if (v.type == SqlType::kDouble) {
          v.doubles[r] = y;
        } else {
          v.ints[r] = static_cast<int64_t>(std::llround(y));
        }
        v.valid[r] = 1;
      }
    }
    SW_RETURN_IF_ERROR(ctx.Charge(&held, result.MemoryBytes()));
  }
  if (result.rows == 0) return Status::OK();
  return out->Push(result);
}

void GapFillNode::Explain(int depth, std::string* out) const {
  ExplainLine(depth,
              fmt::format("GapFill {} from {} to {}", child->columns[bucket_column].name,
                          FormatTimestamp(start), FormatTimestamp(finish)),
              out);
  child->Explain(depth + 1, out);
}

}  // namespace seaway::query
