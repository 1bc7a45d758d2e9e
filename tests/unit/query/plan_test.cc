// Plan nodes (src/query/plan.h): a bounded sort (ORDER BY ... LIMIT, which drops rows that can
// no longer be kept as they arrive) keeps the rows a full sort puts first, in the same order;
// grouping by one integer key finds every row's group.
#include "query/plan.h"

#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace seaway::query {
namespace {

// Pushes the chunks it holds, one after another (as a scan pushes series blocks).
class ChunksNode : public PlanNode {
 public:
  Status Execute(ExecContext&, ChunkSink* out) override {
    for (const DataChunk& c : chunks) {
      DataChunk copy = c;
      SW_RETURN_IF_ERROR(out->Push(copy));
    }
    return Status::OK();
  }
  void Explain(int, std::string*) const override {}

  std::vector<DataChunk> chunks;
};

// Column 0: a double with repeats, NULLs and NaN; 1: an integer with many ties; 2: the row's
// number (to tell rows apart); 3: a text, constant per chunk (as a scan's tag).
std::vector<DataChunk> RandomChunks(std::mt19937_64* rng, size_t count) {
  std::vector<DataChunk> chunks;
  int64_t row = 0;
  for (size_t n = 0; n < count; ++n) {
    DataChunk c;
    c.rows = 1 + (*rng)() % 700;
    c.columns.resize(4);
    c.columns[0].Reset(SqlType::kDouble);
    c.columns[1].Reset(SqlType::kBigInt);
    c.columns[2].Reset(SqlType::kBigInt);
    for (size_t i = 0; i < c.rows; ++i) {
      const uint64_t r = (*rng)() % 1000;
      if (r < 20) {
        c.columns[0].AppendNull();
      } else if (r < 25) {
        c.columns[0].Append(Value::Double(std::numeric_limits<double>::quiet_NaN()));
      } else {
        c.columns[0].Append(Value::Double(static_cast<double>(static_cast<int64_t>(r) - 500) / 4));
      }
      c.columns[1].Append(Value::BigInt(static_cast<int64_t>((*rng)() % 7)));
      c.columns[2].Append(Value::BigInt(row++));
    }
    c.columns[3].SetConstant(Value::Text("series" + std::to_string(n % 13)), SqlType::kText);
    chunks.push_back(std::move(c));
  }
  return chunks;
}

std::vector<std::string> Rows(const std::vector<DataChunk>& chunks) {
  std::vector<std::string> out;
  for (const DataChunk& c : chunks) {
    for (size_t i = 0; i < c.rows; ++i) {
      std::string row;
      for (const Vector& v : c.columns) row += v.Get(i).ToString() + " ";
      out.push_back(row);
    }
  }
  return out;
}

std::vector<std::string> Sorted(const std::vector<DataChunk>& input,
                                const std::vector<SortKey>& keys, size_t keep) {
  auto sort = std::make_unique<SortNode>();
  auto source = std::make_unique<ChunksNode>();
  source->chunks = input;
  source->columns = {{"d", SqlType::kDouble, ""},
                     {"i", SqlType::kBigInt, ""},
                     {"n", SqlType::kBigInt, ""},
                     {"s", SqlType::kText, ""}};
  sort->columns = source->columns;
  sort->child = std::move(source);
  sort->keys = keys;
  sort->keep = keep;
  ExecContext ctx;
  CollectSink sink(&ctx);
  const Status s = sort->Execute(ctx, &sink);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Rows(sink.chunks);
}

TEST(SortNodeTest, ABoundedSortKeepsWhatAFullSortPutsFirst) {
  std::mt19937_64 rng(5);
  const std::vector<DataChunk> input = RandomChunks(&rng, 60);  // about 21,000 rows
  const std::vector<std::vector<SortKey>> orders = {
      {{0, false, false}},
      {{0, true, true}},
      {{0, true, false}, {2, false, false}},
      {{0, false, true}, {1, true, false}},
      {{1, false, false}},                    // ties: arrival order decides
      {{1, true, false}, {0, false, false}},  // ties on the first key
      {{3, false, false}, {0, true, false}},  // text first: no early drops
      {{2, true, false}},
  };
  for (size_t o = 0; o < orders.size(); ++o) {
    const std::vector<std::string> full = Sorted(input, orders[o], SIZE_MAX);
    for (size_t keep : {1, 10, 100, 2500, 5000}) {
      SCOPED_TRACE(testing::Message() << "order " << o << ", keep " << keep);
      const std::vector<std::string> bounded = Sorted(input, orders[o], keep);
      ASSERT_EQ(bounded.size(), keep);
      EXPECT_TRUE(std::equal(bounded.begin(), bounded.end(), full.begin()));
    }
  }
}

// A text key that differs per row sorts as the strings do, byte by byte (unsigned), shorter
// first on a shared prefix, equal strings tied (then arrival order), NULLs where asked: the
// sort ranks strings by their first 8 bytes as one word before comparing whole strings.
TEST(SortNodeTest, TextKeysSortAsTheirBytesDo) {
  const std::vector<std::string> words = {"machine-0001",
                                          "machine-0001x",
                                          "machine-0002",
                                          "machine-",
                                          "machine",
                                          "machin",
                                          std::string("ab\0", 3),
                                          std::string("ab\0\0", 4),
                                          "ab",
                                          "a",
                                          "",
                                          "\x80",
                                          "\xff",
                                          "\xff\xff",
                                          "zz",
                                          "Zz",
                                          "m00042",
                                          "m00042",
                                          "m00041",
                                          "12345678",
                                          "123456789",
                                          "12345677z",
                                          "abcdefgh\x01",
                                          "abcdefgh\xf0",
                                          "abcdefgh",
                                          "a\x80",
                                          "b",
                                          "ab\xff",
                                          "ac"};
  // 600 rows of those words (few distinct strings), then 6,000 of which 60% are strings of
  // their own ("unique-" and a number: the same first 8 bytes).
  for (const auto& [rows_per_chunk, unique_percent] :
       {std::pair{200, uint64_t{0}}, std::pair{2000, uint64_t{60}}}) {
    SCOPED_TRACE(testing::Message() << rows_per_chunk << " rows a chunk");
    std::mt19937_64 rng(11);
    std::vector<DataChunk> input(3);
    std::vector<std::optional<std::string>> text;  // per row number
    for (DataChunk& c : input) {
      c.rows = rows_per_chunk;
      c.columns.resize(4);
      c.columns[0].Reset(SqlType::kDouble);
      c.columns[1].Reset(SqlType::kBigInt);
      c.columns[2].Reset(SqlType::kBigInt);
      c.columns[3].Reset(SqlType::kText);
      for (size_t i = 0; i < c.rows; ++i) {
        c.columns[0].Append(Value::Double(0));
        c.columns[1].Append(Value::BigInt(0));
        c.columns[2].Append(Value::BigInt(static_cast<int64_t>(text.size())));
        const uint64_t r = rng() % 100;
        if (r < 10) {
          c.columns[3].AppendNull();
          text.emplace_back(std::nullopt);
          continue;
        }
        if (r < 10 + unique_percent) {
          text.emplace_back("unique-" + std::to_string(rng() % 1'000'000));
        } else {
          text.emplace_back(words[rng() % words.size()]);
        }
        c.columns[3].Append(Value::Text(*text.back()));
      }
    }
    for (const bool descending : {false, true}) {
      for (const bool nulls_first : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "descending " << descending << ", nulls first " << nulls_first);
        const std::vector<std::string> got =
            Sorted(input, {{3, descending, nulls_first}, {2, false, false}}, SIZE_MAX);
        std::vector<size_t> order(text.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          if (!text[a] || !text[b]) {
            return text[a].has_value() != text[b].has_value() && text[a].has_value() != nulls_first;
          }
          const int c = text[a]->compare(*text[b]);  // std::string: unsigned bytes
          return descending ? c > 0 : c < 0;
        });
        ASSERT_EQ(got.size(), order.size());
        for (size_t j = 0; j < order.size(); ++j) {
          // Column 2 (the third word) is the row's number: rows come in the reference's order.
          std::istringstream words_of(got[j]);
          std::string d, i, n;
          words_of >> d >> i >> n;
          ASSERT_EQ(n, std::to_string(order[j])) << "position " << j << ": " << got[j];
        }
      }
    }
  }
}

// SELECT k, count(*) ... GROUP BY k over column 0 (`k`, of `type`) of `source`.
std::unique_ptr<AggregateNode> CountPerKey(SqlType type, std::unique_ptr<ChunksNode> source) {
  auto agg = std::make_unique<AggregateNode>();
  auto key = std::make_unique<BoundExpr>();
  key->kind = BoundKind::kColumn;
  key->type = type;
  key->column = 0;
  agg->keys.push_back(std::move(key));
  AggregateSpec count;
  count.kind = AggregateKind::kCountStar;
  count.result_type = SqlType::kBigInt;
  agg->aggregates.push_back(std::move(count));
  agg->columns = {{"k", type, ""}, {"count", SqlType::kBigInt, ""}};
  agg->child = std::move(source);
  return agg;
}

// GROUP BY one BIGINT key over many distinct values, arriving in blocks that repeat one
// another's keys (as series at the same times) and in random order: every group counts its
// rows.
TEST(AggregateNodeTest, OneIntegerKeyCountsEveryRowOfEveryGroup) {
  std::mt19937_64 rng(9);
  auto source = std::make_unique<ChunksNode>();
  source->columns = {{"k", SqlType::kBigInt, ""}};
  std::map<int64_t, int64_t> want;
  for (int block = 0; block < 120; ++block) {
    DataChunk c;
    c.rows = 1000;
    c.columns.resize(1);
    c.columns[0].Reset(SqlType::kBigInt);
    for (size_t i = 0; i < c.rows; ++i) {
      // Half the blocks repeat keys 0..999 scaled (aligned series), half draw from 100,000.
      const int64_t k = block % 2 ? static_cast<int64_t>(i) * 37 + block % 4
                                  : static_cast<int64_t>(rng() % 100'000);
      c.columns[0].Append(Value::BigInt(k));
      ++want[k];
    }
    source->chunks.push_back(std::move(c));
  }
  auto agg = CountPerKey(SqlType::kBigInt, std::move(source));
  ExecContext ctx;
  CollectSink sink(&ctx);
  ASSERT_TRUE(agg->Execute(ctx, &sink).ok());
  std::map<int64_t, int64_t> got;
  for (const DataChunk& c : sink.chunks) {
    for (size_t i = 0; i < c.rows; ++i) got[c.columns[0].Get(i).i] += c.columns[1].Get(i).i;
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

// The same over BIGINT and DOUBLE keys with NULLs right before zeros (the NULL group's stored
// value is 0 too), -0 beside 0 and NaN: a NULL is its own group, 0 and -0 one group, every NaN
// one group, whichever group the key before found.
TEST(AggregateNodeTest, OneKeyKeepsNullApartFromZeroAndFoldsZerosAndNaNs) {
  for (SqlType type : {SqlType::kBigInt, SqlType::kDouble}) {
    SCOPED_TRACE(SqlTypeName(type));
    std::mt19937_64 rng(17);
    auto source = std::make_unique<ChunksNode>();
    source->columns = {{"k", type, ""}};
    std::map<std::string, int64_t> want;  // by key text: "NULL", "0", "NaN", "12"...
    for (int block = 0; block < 40; ++block) {
      DataChunk c;
      c.rows = 200;
      c.columns.resize(1);
      c.columns[0].Reset(type);
      for (size_t i = 0; i < c.rows; ++i) {
        const int64_t v =
            block % 3 ? static_cast<int64_t>(i) * 3 : static_cast<int64_t>(rng() % 50);
        // 7, then NULL (or 0 in odd blocks: 0 then follows the group before NULL's), 0 or -0,
        // then NaN or other values.
        if (i % 5 == 0) {
          c.columns[0].Append(type == SqlType::kDouble ? Value::Double(7) : Value::BigInt(7));
          ++want["7"];
        } else if (i % 5 == 1 && block % 2 == 0) {
          c.columns[0].AppendNull();
          ++want["NULL"];
        } else if (i % 5 <= 2) {
          c.columns[0].Append(type == SqlType::kDouble ? Value::Double(i % 2 ? -0.0 : 0.0)
                                                       : Value::BigInt(0));
          ++want["0"];
        } else if (type == SqlType::kDouble && i % 5 == 3 && i % 7 < 3) {
          c.columns[0].Append(Value::Double(i % 2 ? std::nan("") : -std::nan("")));
          ++want["NaN"];
        } else {
          c.columns[0].Append(type == SqlType::kDouble ? Value::Double(static_cast<double>(v))
                                                       : Value::BigInt(v));
          ++want[std::to_string(v)];
        }
      }
      source->chunks.push_back(std::move(c));
    }
    auto agg = CountPerKey(type, std::move(source));
    ExecContext ctx;
    CollectSink sink(&ctx);
    ASSERT_TRUE(agg->Execute(ctx, &sink).ok());
    std::map<std::string, int64_t> got;
    size_t groups = 0;
    for (const DataChunk& c : sink.chunks) {
      for (size_t i = 0; i < c.rows; ++i, ++groups) {
        const Value k = c.columns[0].Get(i);
        std::string name = k.is_null                  ? "NULL"
                           : type == SqlType::kBigInt ? std::to_string(k.i)
                           : std::isnan(k.d)          ? "NaN"
                           : k.d == 0                 ? "0"
                                                      : std::to_string(static_cast<int64_t>(k.d));
        got[name] += c.columns[1].Get(i).i;
      }
    }
    EXPECT_EQ(groups, want.size());  // one group per key: no zero, NaN or NULL split in two
    EXPECT_TRUE(got == want);
  }
}

}  // namespace
}  // namespace seaway::query
