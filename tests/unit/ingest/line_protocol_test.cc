// Tests for the line protocol parser (src/ingest/line_protocol.h).
#include "ingest/line_protocol.h"

#include <bit>
#include <random>

#include <gtest/gtest.h>

#include "batch_access.h"

namespace seaway {
namespace {

using testing::Field;
using testing::Tag;

LineProtocolOptions Options() {
  LineProtocolOptions o;
  o.tenant = TenantId(7);
  o.database = "plant";
  o.default_time_ns = 42;
  return o;
}

TEST(LineProtocolTest, AllValueTypesAndTimestamps) {
  auto r = ParseLineProtocol(
      "cpu,host=a,dc=eu-1 usage=12.5,count=-3i,serial=18446744073709551615u,ok=t,"
      "note=\"say \\\"hi\\\" \\\\ now\" 1700000000000000000\n",
      Options());
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.batches.size(), 1u);
  const WriteBatch& b = r.batches[0];
  EXPECT_EQ(b.tenant(), TenantId(7));
  EXPECT_EQ(b.database(), "plant");
  EXPECT_EQ(b.table(), "cpu");
  EXPECT_EQ(b.times()[0], 1700000000000000000);
  EXPECT_EQ(Tag(b, "host", 0), "a");
  EXPECT_EQ(Tag(b, "dc", 0), "eu-1");
  EXPECT_EQ(std::bit_cast<double>(Field(b, "usage")->bits[0]), 12.5);
  EXPECT_EQ(Field(b, "count")->type, FieldType::kInt64);
  EXPECT_EQ(static_cast<int64_t>(Field(b, "count")->bits[0]), -3);
  EXPECT_EQ(Field(b, "serial")->bits[0], UINT64_MAX);
  EXPECT_EQ(Field(b, "ok")->type, FieldType::kBool);
  EXPECT_EQ(Field(b, "note")->strings[0], "say \"hi\" \\ now");
  EXPECT_EQ(r.points, 1u);
}

TEST(LineProtocolTest, EscapesInNames) {
  auto r = ParseLineProtocol("my\\ meas\\,ure,tag\\ key\\=x=val\\,ue\\ 2 field\\,key\\=1=1i\n",
                             Options());
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  const WriteBatch& b = r.batches[0];
  EXPECT_EQ(b.table(), "my meas,ure");
  EXPECT_EQ(b.tag_keys()[0], "tag key=x");
  EXPECT_EQ(b.tag_values()[0][0], "val,ue 2");
  EXPECT_EQ(b.fields()[0].name, "field,key=1");
}

TEST(LineProtocolTest, BooleanSpellings) {
  std::string body;
  for (const char* v : {"t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"}) {
    body += fmt::format("m b={} {}\n", v, body.size());
  }
  auto r = ParseLineProtocol(body, Options());
  ASSERT_TRUE(r.errors.empty());
  const FieldColumn* b = Field(r.batches[0], "b");
  EXPECT_EQ(b->bits, (std::vector<uint64_t>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
}

TEST(LineProtocolTest, BlankLinesCommentsCrlfAndDefaultTime) {
  auto r = ParseLineProtocol("\r\n# a comment\n   \nm v=1\r\n  m v=2 5\n", Options());
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  EXPECT_EQ(r.points, 2u);
  EXPECT_EQ(r.batches[0].times(), (std::vector<int64_t>{42, 5}));
}

TEST(LineProtocolTest, LinesThatAreNotUtf8AreRefusedByLine) {
  auto r = ParseLineProtocol("m,t=é v=1 1\nm,t=\xff\xfe v=2 2\nm s=\"\xc3\x28\",v=3 3\nm v=4 4\n",
                             Options());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].message, "the line is not valid UTF-8");
  EXPECT_EQ(r.errors[1].line, 3u);
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(r.batches[0].rows(), 2u);
}

TEST(LineProtocolTest, Precision) {
  LineProtocolOptions o = Options();
  o.precision = *ParsePrecision("ms");
  auto r = ParseLineProtocol("m v=1 1700000000123\n", o);
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.batches[0].times()[0], 1700000000123000000);
  o.precision = *ParsePrecision("s");
  r = ParseLineProtocol("m v=1 99999999999999\n", o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "timestamp 99999999999999 is out of range for its precision");
  EXPECT_EQ(ParsePrecision("w").status().message(),
            "precision 'w': expected ns, us (u), ms, s, m or h");
  o.precision = *ParsePrecision("m");
  EXPECT_EQ(ParseLineProtocol("m v=1 2\n", o).batches[0].times()[0], 120'000'000'000);
  o.precision = *ParsePrecision("h");
  EXPECT_EQ(ParseLineProtocol("m v=1 2\n", o).batches[0].times()[0], 7'200'000'000'000);
  EXPECT_EQ(*ParsePrecision("us"), Precision::kMicroseconds);
}

TEST(LineProtocolTest, MeasurementsGoToTheirOwnBatches) {
  auto r = ParseLineProtocol("a v=1 1\nb v=2 2\na v=3 3\n", Options());
  ASSERT_EQ(r.batches.size(), 2u);
  EXPECT_EQ(r.batches[0].table(), "a");
  EXPECT_EQ(r.batches[0].rows(), 2u);
  EXPECT_EQ(r.batches[1].rows(), 1u);
}

struct BadLine {
  const char* line;
  const char* message;
};

class LineProtocolErrorTest : public ::testing::TestWithParam<BadLine> {};

TEST_P(LineProtocolErrorTest, NamesLineAndReasonAndKeepsTheOthers) {
  std::string body = std::string("ok v=1 1\n") + GetParam().line + "\nok v=2 2\n";
  auto r = ParseLineProtocol(body, Options());
  ASSERT_EQ(r.errors.size(), 1u) << GetParam().line;
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[0].message, GetParam().message);
  EXPECT_EQ(r.points, 2u);
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(r.batches[0].rows(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LineProtocolErrorTest,
    ::testing::Values(
        BadLine{"m", "missing fields"}, BadLine{"m ", "field '' has no '=value'"},
        BadLine{",t=1 v=1", "missing measurement"}, BadLine{"m,t v=1", "tag 't' has no '=value'"},
        BadLine{"m,t= v=1", "tag 't' has an empty value"},
        BadLine{"m,t=1,t=2 v=1", "tag 't' appears twice"},
        BadLine{"m v=", "field 'v' has no value"},
        BadLine{"m v=1.2.3", "field 'v': invalid number '1.2.3'"},
        BadLine{"m v=nan", "field 'v': invalid number 'nan'"},
        BadLine{"m v=12x", "field 'v': invalid number '12x'"},
        BadLine{"m v=9223372036854775808i",
                "field 'v': integer '9223372036854775808i' is out of range"},
        BadLine{"m v=-1u", "field 'v': invalid unsigned integer '-1u'"},
        BadLine{"m v=\"open", "field 'v': unterminated string"},
        BadLine{"m v=1,v=2", "field 'v' appears twice"},
        BadLine{"m v=1 12ab", "invalid timestamp '12ab'"},
        BadLine{"m time=1", "'time' cannot be a field name"},
        BadLine{"m,time=x v=1", "'time' cannot be a tag name"},
        BadLine{"ok v=\"now a string\"",
                "table 'ok' field 'v': type string in row 2 conflicts with type float earlier in "
                "the same batch"}));

TEST(LineProtocolTest, Limits) {
  LineProtocolOptions o = Options();
  o.limits.max_line_bytes = 20;
  o.limits.max_tags = 1;
  o.limits.max_fields = 1;
  auto r = ParseLineProtocol("m,a=1,b=2 v=1\nm v=1,w=2\nm v=\"" + std::string(30, 'x') + "\"\n", o);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].message, "more than 1 tags");
  EXPECT_EQ(r.errors[1].message, "more than 1 fields");
  EXPECT_EQ(r.errors[2].message, "line is 36 bytes, over the limit of 20");
}

TEST(LineProtocolTest, RandomBytesNeverCrash) {
  std::mt19937 rng(3);
  const std::string alphabet = "m,=\\\" \n\rtfiu0123456789.-#";
  for (int i = 0; i < 20000; ++i) {
    std::string body(rng() % 60, ' ');
    for (char& c : body) c = alphabet[rng() % alphabet.size()];
    auto r = ParseLineProtocol(body, Options());
    for (const auto& b : r.batches) EXPECT_TRUE(b.Validate().ok());
  }
}

// The SIMD fast path must agree with the byte-by-byte parser: same rows, same errors. Bodies are
// valid lines with random bytes replaced, inserted or removed, so that most lines sit near the
// boundary between the two paths (and lines longer than one 64-byte bitmap word are covered).
TEST(LineProtocolTest, FastPathAgreesWithByteParser) {
  std::mt19937 rng(11);
  const std::vector<std::string> seeds = {
      "machines,line=line-1,machine_id=m0001,model=cnc-b2,site=site01 temperature=51.25,"
      "vibration=1.235,pressure=6.299,current=18.45,speed=2031.20,parts=92092i,status=0i "
      "1767225600000000000",
      "cpu,host=a usage=-0.5,idle=99.5,n=3u,ok=true 1700000000",
      "m v=1e10,w=+3.25,x=.5,y=-7i",
      "m,t=x s=\"str\",b=F  42",
      "m v=1",
      "m,t=x v=1i 1",
  };
  const std::string alphabet = "m,=\\\" \t\rtfiu0123456789.-+e#xE";
  for (int i = 0; i < 4000; ++i) {
    std::string body;
    for (int l = 0; l < 4; ++l) {
      std::string line = seeds[rng() % seeds.size()];
      for (int edits = rng() % 3; edits > 0; --edits) {
        const size_t at = rng() % (line.size() + 1);
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
          case 0:
            if (at < line.size()) line[at] = c;
            break;
          case 1: line.insert(line.begin() + at, c); break;
          case 2:
            if (at < line.size()) line.erase(at, 1);
            break;
        }
      }
      body += line + "\n";
    }
    LineProtocolOptions fast = Options();
    LineProtocolOptions slow = Options();
    slow.fast_path = false;
    for (Precision p : {Precision::kNanoseconds, Precision::kSeconds}) {
      fast.precision = slow.precision = p;
      auto a = ParseLineProtocol(body, fast);
      auto b = ParseLineProtocol(body, slow);
      ASSERT_EQ(a.points, b.points) << body;
      ASSERT_TRUE(a.batches == b.batches) << body;
      ASSERT_EQ(a.errors.size(), b.errors.size()) << body;
      for (size_t e = 0; e < a.errors.size(); ++e) {
        ASSERT_EQ(a.errors[e].line, b.errors[e].line) << body;
        ASSERT_EQ(a.errors[e].message, b.errors[e].message) << body;
      }
    }
  }
}

// Parses `body` with and without the fast paths and expects the same rows and errors.
void ExpectSameAsByteParser(const std::string& body) {
  LineProtocolOptions fast = Options();
  LineProtocolOptions slow = Options();
  slow.fast_path = false;
  auto a = ParseLineProtocol(body, fast);
  auto b = ParseLineProtocol(body, slow);
  EXPECT_EQ(a.points, b.points) << body;
  EXPECT_TRUE(a.batches == b.batches) << body;
  ASSERT_EQ(a.errors.size(), b.errors.size()) << body;
  for (size_t e = 0; e < a.errors.size(); ++e) {
    EXPECT_EQ(a.errors[e].line, b.errors[e].line) << body;
    EXPECT_EQ(a.errors[e].message, b.errors[e].message) << body;
  }
}

// Lines of one measurement whose tags and fields change from line to line (order, presence, type,
// number spelling) test the path for lines shaped like their batch's previous line, and its
// fall back to the others: the result must be the byte parser's.
TEST(LineProtocolTest, LinesLikeThePreviousAgreeWithByteParser) {
  // Names that a plain line cannot spell: a line that seems to spell one is not like the previous.
  ExpectSameAsByteParser("m,a\\ b=1 v=1\nm,a b=1 v=2\n");
  ExpectSameAsByteParser("m,a\\,b=1 v=1\nm,a,b=1 v=2\n");
  ExpectSameAsByteParser("m a\\=b=1\nm a=b=2\nm a\\ b=1\nm a b=2\n");
  std::mt19937 rng(5);
  const std::vector<std::string> tag_sets = {",a=1,b=2", ",b=2,a=1",     ",a=1",
                                             "",         ",a=1,b=2,c=3", ",a=x\\ y,b=2",
                                             ",a\\ b=1", ",a b=1",       ",a\\,b=1,b=2"};
  const std::vector<std::string> numbers = {"0",    "7",    "-7",       "12.5",      "-0.25",
                                            "1.",   ".5",   "12345678", "1234.567",  "123456789",
                                            "3i",   "-42i", "1234567i", "99999999i", "1e3",
                                            "+2.5", "+5i",  "0.000001", "t",         "\"x\""};
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    for (int l = 0; l < 8; ++l) {
      std::string line = "m" + tag_sets[rng() % 3 == 0 ? rng() % tag_sets.size() : 0] + " ";
      const int fields = rng() % 4 == 0 ? 1 + rng() % 3 : 3;
      for (int f = 0; f < fields; ++f) {
        const std::string name = rng() % 8 == 0 ? "w" : std::string(1, static_cast<char>('u' + f));
        line += (f > 0 ? "," : "") + name + "=" + numbers[rng() % numbers.size()];
      }
      if (rng() % 4 != 0) line += " " + std::to_string(1700000000000000000 + l);
      body += line + "\n";
    }
    ExpectSameAsByteParser(body);
    if (HasFailure()) return;
  }
}

// A measurement takes its place among the batches with its first stored row, not with a first
// line that was rejected.
TEST(LineProtocolTest, BatchesInOrderOfFirstStoredRow) {
  for (bool fast : {true, false}) {
    LineProtocolOptions o = Options();
    o.fast_path = fast;
    auto r = ParseLineProtocol("a,time=1 v=1\nb v=1\na v=2,v=3\na v=4\n", o);
    ASSERT_EQ(r.errors.size(), 2u) << fast;
    EXPECT_EQ(r.errors[0].line, 1u);
    EXPECT_EQ(r.errors[1].message, "field 'v' appears twice");
    ASSERT_EQ(r.batches.size(), 2u);
    EXPECT_EQ(r.batches[0].table(), "b");
    EXPECT_EQ(r.batches[1].table(), "a");
    EXPECT_EQ(r.batches[1].rows(), 1u);
  }
}

// A line rejected for a type conflict leaves nothing behind: not its row, and not the tags and
// fields it named first (they would otherwise reach the catalog with no values).
TEST(LineProtocolTest, RejectedLineLeavesNoColumnsBehind) {
  auto r = ParseLineProtocol("m v=1 1\nm,t=x w=2,v=\"s\" 2\nm v=3 3\n", Options());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2u);
  ASSERT_EQ(r.batches.size(), 1u);
  const WriteBatch& b = r.batches[0];
  EXPECT_EQ(b.rows(), 2u);
  EXPECT_TRUE(b.tag_keys().empty());
  ASSERT_EQ(b.fields().size(), 1u);
  EXPECT_EQ(b.fields()[0].name, "v");
  EXPECT_TRUE(b.Validate().ok());
}

TEST(LineProtocolTest, SignsAsTheByteParserReadsThem) {
  for (bool fast : {true, false}) {
    LineProtocolOptions o = Options();
    o.fast_path = fast;
    auto r = ParseLineProtocol("m v=+5i\nm v=+-1\nm v=+2.5\nm w=-3i\n", o);
    ASSERT_EQ(r.errors.size(), 2u) << fast;
    EXPECT_EQ(r.errors[0].message, "field 'v': invalid integer '+5i'");
    EXPECT_EQ(r.errors[1].message, "field 'v': invalid number '+-1'");
    EXPECT_EQ(r.points, 2u);
  }
}

}  // namespace
}  // namespace seaway
