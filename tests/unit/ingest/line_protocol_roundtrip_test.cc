// Round-trip tests of line protocol: the writer (src/ingest/line_protocol_writer.h) against the
// parser (src/ingest/line_protocol.h).
//
// A seeded generator writes bodies of random valid lines -- names and values that need escaping,
// every field type with its extreme values and other spellings of them, each timestamp
// precision, CRLF, blank and comment lines, and (for the parser's fast path) plain lines that
// repeat their table's previous tags and fields -- and keeps a model of the rows it meant.
// Properties:
//   1. parse(body) has no errors and gives exactly the model's rows, with and without the
//      parser's fast path (so the round trip cannot pass by both parses being wrong alike);
//   2. parse(write(parse(body))) gives the same batches, column for column and bit for bit;
//   3. writing those batches again gives the same bytes.
// A failing body is shrunk line by line and printed with its seed. The generator draws only
// through mt19937 and its own helpers (no std distributions, no two draws in one expression), so
// a seed gives the same bodies with every compiler and standard library.
#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/line_protocol.h"
#include "ingest/line_protocol_writer.h"

namespace seaway {
namespace {

// ---------------------------------------------------------------------------------------------
// The model: rows as the generator meant them, independent of column order.

struct ModelField {
  FieldType type = FieldType::kDouble;
  uint64_t bits = 0;
  std::string str;
  bool operator==(const ModelField&) const = default;
};

struct ModelRow {
  int64_t time = 0;
  std::map<std::string, std::string> tags;
  std::map<std::string, ModelField> fields;
  bool operator==(const ModelRow&) const = default;
};

struct ModelTable {
  std::string name;
  std::vector<ModelRow> rows;
  bool operator==(const ModelTable&) const = default;
};

// `s` in double quotes, with quotes, backslashes and control bytes escaped: readable and exact.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Describe(const std::vector<ModelTable>& tables) {
  std::string out;
  for (const ModelTable& t : tables) {
    out += fmt::format("  table {}\n", Quote(t.name));
    for (const ModelRow& r : t.rows) {
      out += fmt::format("    time {}", r.time);
      for (const auto& [k, v] : r.tags) out += fmt::format(" {}={}", Quote(k), Quote(v));
      for (const auto& [k, f] : r.fields) {
        if (f.type == FieldType::kString) {
          out += fmt::format(" {}:string={}", Quote(k), Quote(f.str));
        } else {
          out += fmt::format(" {}:{}={:#x}", Quote(k), FieldTypeName(f.type), f.bits);
        }
      }
      out += '\n';
    }
  }
  return out;
}

std::vector<ModelTable> ToModel(const std::vector<WriteBatch>& batches) {
  std::vector<ModelTable> tables;
  for (const WriteBatch& b : batches) {
    ModelTable& t = tables.emplace_back();
    t.name = b.table();
    for (size_t row = 0; row < b.rows(); ++row) {
      ModelRow& r = t.rows.emplace_back();
      r.time = b.times()[row];
      for (size_t k = 0; k < b.tag_keys().size(); ++k) {
        if (!b.tag_values()[k][row].empty()) r.tags[b.tag_keys()[k]] = b.tag_values()[k][row];
      }
      for (const FieldColumn& f : b.fields()) {
        if (f.present[row] == 0) continue;
        ModelField& m = r.fields[f.name];
        m.type = f.type;
        if (f.type == FieldType::kString) {
          m.str = f.strings[row];
        } else {
          m.bits = f.bits[row];
        }
      }
    }
  }
  return tables;
}

// "" when `a` and `b` are the same batch, column order included; else the first difference.
std::string BatchDifference(const WriteBatch& a, const WriteBatch& b) {
  if (a.tenant() != b.tenant() || a.database() != b.database()) return "tenant or database";
  if (a.table() != b.table())
    return fmt::format("table {} vs {}", Quote(a.table()), Quote(b.table()));
  if (a.times() != b.times()) return "times";
  if (a.tag_keys() != b.tag_keys()) return "tag keys";
  for (size_t k = 0; k < a.tag_keys().size(); ++k) {
    if (a.tag_values()[k] != b.tag_values()[k]) {
      return fmt::format("values of tag {}", Quote(a.tag_keys()[k]));
    }
  }
  if (a.fields().size() != b.fields().size()) return "number of fields";
  for (size_t i = 0; i < a.fields().size(); ++i) {
    const FieldColumn& x = a.fields()[i];
    const FieldColumn& y = b.fields()[i];
    if (x.name != y.name || x.type != y.type || x.present != y.present || x.bits != y.bits ||
        x.strings != y.strings) {
      return fmt::format("field {} (column {})", Quote(x.name), i);
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// The generator.

enum class NameKind { kTable, kTagKey, kTagValue, kFieldKey };

struct GeneratedLine {
  std::string text;  // without its line end
  std::string end;   // "\n", "\r\n", or "" for the last line of a body
  std::optional<std::pair<std::string, ModelRow>> row;  // table and row; none for blank, comment
};

struct Body {
  Precision precision = Precision::kNanoseconds;
  int64_t default_time = 0;
  std::vector<GeneratedLine> lines;

  std::string Text() const {
    std::string text;
    for (const GeneratedLine& l : lines) text += l.text + l.end;
    return text;
  }
  size_t DataLines() const {
    size_t n = 0;
    for (const GeneratedLine& l : lines) n += l.row.has_value();
    return n;
  }
  // Tables in order of first appearance, as ParseLineProtocol promises.
  std::vector<ModelTable> Expected() const {
    std::vector<ModelTable> tables;
    for (const GeneratedLine& l : lines) {
      if (!l.row) continue;
      auto it = std::find_if(tables.begin(), tables.end(),
                             [&](const ModelTable& t) { return t.name == l.row->first; });
      if (it == tables.end()) it = tables.insert(tables.end(), ModelTable{l.row->first, {}});
      it->rows.push_back(l.row->second);
    }
    return tables;
  }
};

// What the generator produced, so the test can check that it reached what it is meant to cover.
struct Coverage {
  size_t bodies = 0;
  size_t data_lines = 0;
  size_t blank_lines = 0;
  size_t comment_lines = 0;
  size_t crlf_lines = 0;
  size_t fields[6] = {};      // by FieldType
  size_t precisions[6] = {};  // by Precision, lines with a timestamp
  size_t default_times = 0;   // lines without a timestamp
  size_t negative_zeros = 0;
  size_t subnormals = 0;
  size_t int64_extremes = 0;
  size_t uint64_max = 0;
  size_t escapes = 0;          // backslashes written before a delimiter in names and tag values
  size_t plain_bodies = 0;     // without escapes in names, for the parser's fast path
  size_t repeated_shapes = 0;  // lines with the tags and fields of the table's previous line
  size_t plain_decimals = 0;   // [+-]digits[.digits], 1 to 17 digits
  size_t plain_lines = 0;      // without backslashes, quotes or control characters
};

// The tags and fields of a line, as indexes into its Schema, in the line's order.
struct Shape {
  std::vector<size_t> tags;
  std::vector<size_t> fields;
};

struct Schema {
  std::string table;
  std::vector<std::string> tag_keys;
  std::vector<std::pair<std::string, FieldType>> fields;
  std::optional<Shape> last;  // of the previous line: most lines of a table repeat it
};

// Pieces of names and values: plain ASCII, punctuation and UTF-8 that need no escape, and every
// character line protocol escapes or treats specially.
constexpr std::string_view kPlainAtoms[] = {"a", "b", "c", "x", "y", "z", "T", "0", "7", "_"};
constexpr std::string_view kHarmlessAtoms[] = {"'", "#",  "-", ".", "/",    ":", "{",
                                               "}", "°C", "µ", "é", "温度", "🌊"};
constexpr std::string_view kSpecialAtoms[] = {",", " ", "=", "\\", "\"", "\\\\"};
constexpr std::string_view kBoolTrue[] = {"t", "T", "true", "True", "TRUE"};
constexpr std::string_view kBoolFalse[] = {"f", "F", "false", "False", "FALSE"};
constexpr FieldType kTypes[] = {FieldType::kDouble, FieldType::kInt64, FieldType::kUInt64,
                                FieldType::kBool, FieldType::kString};

int64_t PrecisionFactor(Precision p) {
  switch (p) {
    case Precision::kNanoseconds: return 1;
    case Precision::kMicroseconds: return 1'000;
    case Precision::kMilliseconds: return 1'000'000;
    case Precision::kSeconds: return 1'000'000'000;
    case Precision::kMinutes: return 60'000'000'000;
    case Precision::kHours: return 3'600'000'000'000;
  }
  return 1;
}

class Generator {
 public:
  Generator(uint32_t seed, Coverage* coverage) : rng_(seed), coverage_(coverage) {}

  Body NextBody() {
    ++coverage_->bodies;
    Body body;
    body.precision = static_cast<Precision>(Below(6));
    body.default_time = static_cast<int64_t>(Bits64());
    plain_ = OneIn(3);
    coverage_->plain_bodies += plain_;
    std::vector<Schema> schemas(1 + Below(4));
    std::set<std::string> tables;
    for (Schema& s : schemas) {
      do {
        s.table = Name(NameKind::kTable);
      } while (!tables.insert(s.table).second);
      std::set<std::string> used;
      const size_t tags = Below(5);
      const size_t fields = 1 + Below(5);
      for (size_t i = 0; i < tags + fields; ++i) {
        std::string name;
        do {
          name = Name(i < tags ? NameKind::kTagKey : NameKind::kFieldKey);
        } while (!used.insert(name).second);
        if (i < tags) {
          s.tag_keys.push_back(name);
        } else {
          s.fields.emplace_back(name, kTypes[Below(5)]);
        }
      }
    }
    const size_t data_lines = 1 + Below(12);
    for (size_t i = 0; i < data_lines; ++i) {
      while (OneIn(4)) body.lines.push_back(NoiseLine());
      Schema& schema = schemas[Below(schemas.size())];
      body.lines.push_back(DataLine(schema, body.precision, body.default_time));
    }
    while (OneIn(5)) body.lines.push_back(NoiseLine());
    if (OneIn(3)) body.lines.back().end = "";
    return body;
  }

 private:
  // Draws. Each call is its own statement wherever order matters.
  uint64_t Bits64() {
    const uint64_t hi = rng_();
    const uint64_t lo = rng_();
    return hi << 32 | lo;
  }
  size_t Below(size_t n) { return static_cast<size_t>((uint64_t{rng_()} * n) >> 32); }
  bool OneIn(size_t n) { return Below(n) == 0; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Below(i)]);
  }

  std::string LineEnd() {
    if (OneIn(3)) {
      ++coverage_->crlf_lines;
      return "\r\n";
    }
    return "\n";
  }

  std::string Spaces(size_t min, size_t max) {
    return std::string(min + Below(max - min + 1), ' ');
  }

  // A name or tag value that the parser accepts and the writer can write back: no control
  // characters (tag values may hold tab and CR), not "time", no trailing backslash, and a table
  // name does not start with '#' (the line would be a comment). Plain bodies use no character
  // that needs an escape.
  std::string Name(NameKind kind) {
    while (true) {
      std::string name;
      const size_t atoms = 1 + Below(8);
      for (size_t i = 0; i < atoms; ++i) {
        if (!plain_ && kind == NameKind::kTagValue && OneIn(12)) {
          name += OneIn(2) ? "\t" : "\r";
        } else if (!plain_ && OneIn(3)) {
          name += Pick(kSpecialAtoms);
        } else if (OneIn(4)) {
          name += Pick(kHarmlessAtoms);
        } else {
          name += Pick(kPlainAtoms);
        }
      }
      if (name.back() == '\\' || name == "time") continue;
      if (kind == NameKind::kTable && name.front() == '#') continue;
      return name;
    }
  }

  // `value` escaped for its place in the line, escaping '=' in tag values only sometimes (the
  // parser takes it either way) except after a backslash, where "\=" would read as '='.
  std::string Spell(std::string_view value, NameKind kind) {
    const std::string_view must = kind == NameKind::kTable || kind == NameKind::kTagValue
                                      ? std::string_view(", ")
                                      : std::string_view(",= ");
    std::string out;
    char previous = 0;
    for (char c : value) {
      bool escape = must.find(c) != std::string_view::npos;
      if (kind == NameKind::kTagValue && c == '=') escape = previous == '\\' || OneIn(2);
      if (escape) {
        out += '\\';
        ++coverage_->escapes;
      }
      out += c;
      previous = c;
    }
    return out;
  }

  // String contents: anything but '\n', with quotes, backslashes (a trailing one too), tab, CR.
  std::string StringValue() {
    std::string s;
    const size_t atoms = OneIn(40) ? 100 + Below(1500) : Below(12);
    for (size_t i = 0; i < atoms; ++i) {
      if (OneIn(10)) {
        s += OneIn(2) ? "\t" : "\r";
      } else if (OneIn(3)) {
        s += Pick(kSpecialAtoms);
      } else if (OneIn(3)) {
        s += Pick(kHarmlessAtoms);
      } else {
        s += Pick(kPlainAtoms);
      }
    }
    return s;
  }

  // A backslash may stay single where the parser keeps it (not before a quote, a backslash or
  // the closing quote).
  std::string SpellString(std::string_view v) {
    std::string out = "\"";
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '"') {
        out += "\\\"";
      } else if (v[i] == '\\') {
        const bool must = i + 1 == v.size() || v[i + 1] == '"' || v[i + 1] == '\\';
        out += must || OneIn(2) ? "\\\\" : "\\";
      } else {
        out += v[i];
      }
    }
    return out + "\"";
  }

  double DoubleValue() {
    constexpr double kDenormMin = std::numeric_limits<double>::denorm_min();
    const double sign = OneIn(2) ? -1.0 : 1.0;
    switch (Below(12)) {
      case 0: return sign * 0.0;
      case 1: return sign * kDenormMin;
      case 2: {
        const uint64_t mantissa = Bits64() & ((uint64_t{1} << 52) - 1);
        return sign * std::bit_cast<double>(mantissa);  // subnormal (or zero)
      }
      case 3: return sign * std::numeric_limits<double>::max();
      case 4: return sign * std::numeric_limits<double>::min();
      case 5: return sign * static_cast<double>(Below(2001));
      case 6: {
        constexpr double kHard[] = {
            1e22, 1e23,       9007199254740993.0,     0.1,
            0.3,  5e-324 * 3, 1.7976931348623157e308, 2.2250738585072009e-308};
        return sign * Pick(kHard);
      }
      case 7: {
        const double mantissa = static_cast<double>(Below(1'000'000));
        const double scale = static_cast<double>(1 + Below(1000));
        return sign * mantissa / scale;
      }
      default: {
        uint64_t bits;
        do {
          bits = Bits64();
        } while (((bits >> 52) & 0x7ff) == 0x7ff);  // not NaN or infinite
        return std::bit_cast<double>(bits);
      }
    }
  }

  // [+-]digits[.digits] with 1 to 17 digits (the parser reads up to 15 on a fast path), the
  // point anywhere or absent; its value as std::from_chars reads it.
  std::pair<double, std::string> PlainDecimal() {
    ++coverage_->plain_decimals;
    std::string text;
    switch (Below(4)) {
      case 0: text = "-"; break;
      case 1: text = "+"; break;
      default: break;
    }
    const size_t digits = 1 + Below(17);
    const size_t point = Below(digits + 2);  // digits before the point; digits + 1: no point
    for (size_t i = 0; i < digits; ++i) {
      if (i == point) text += '.';
      text += static_cast<char>('0' + Below(10));
    }
    if (point == digits) text += '.';
    const size_t skip = text.front() == '+' ? 1 : 0;
    double v = 0;
    const auto r = std::from_chars(text.data() + skip, text.data() + text.size(), v);
    EXPECT_TRUE(r.ec == std::errc() && r.ptr == text.data() + text.size()) << text;
    return {v, text};
  }

  // Any spelling std::from_chars reads back to the same bits, plus the parser's leading '+'.
  std::string SpellDouble(double v) {
    char buf[512];
    std::to_chars_result r;
    switch (Below(6)) {
      case 0: r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific); break;
      case 1: r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed); break;
      case 2: r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 17); break;
      case 3:
        r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific, 20);
        break;
      default: r = std::to_chars(buf, buf + sizeof(buf), v); break;
    }
    std::string s(buf, r.ptr);
    const bool integral = s.find_first_of(".eE") == std::string::npos;
    if (integral && OneIn(3)) s += OneIn(2) ? "." : ".0";
    const size_t zero = s.front() == '-' ? 1 : 0;
    if (s.compare(zero, 2, "0.") == 0 && s.size() > zero + 2 && OneIn(3)) s.erase(zero, 1);
    if (OneIn(4)) {
      for (char& c : s) c = c == 'e' ? 'E' : c;
    }
    if (!std::signbit(v) && OneIn(4)) s.insert(0, "+");
    return s;
  }

  // Leading zeros after the sign; the parser's std::from_chars skips them.
  std::string SpellInteger(std::string digits) {
    if (OneIn(6)) digits.insert(digits.front() == '-' ? 1 : 0, std::string(1 + Below(3), '0'));
    if (digits == "0" && OneIn(3)) digits = "-0";
    return digits;
  }

  template <typename T>
  static std::string Digits(T v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
  }

  // A field value: its model and its spelling.
  std::pair<ModelField, std::string> FieldValue(FieldType type) {
    ModelField m;
    m.type = type;
    ++coverage_->fields[static_cast<size_t>(type)];
    switch (type) {
      case FieldType::kDouble: {
        if (OneIn(3)) {
          auto [v, spelling] = PlainDecimal();
          m.bits = std::bit_cast<uint64_t>(v);
          return {m, spelling};
        }
        const double v = DoubleValue();
        m.bits = std::bit_cast<uint64_t>(v);
        if (v == 0 && std::signbit(v)) ++coverage_->negative_zeros;
        if (std::fpclassify(v) == FP_SUBNORMAL) ++coverage_->subnormals;
        return {m, SpellDouble(v)};
      }
      case FieldType::kInt64: {
        constexpr int64_t kEdges[] = {std::numeric_limits<int64_t>::min(),
                                      std::numeric_limits<int64_t>::max(), 0, -1, 1};
        int64_t v;
        switch (Below(4)) {
          case 0: v = Pick(kEdges); break;
          case 1: v = static_cast<int64_t>(Below(2001)) - 1000; break;
          case 2: {  // 1 to 19 digits: the parser reads up to 18 on a fast path
            const size_t digits = 1 + Below(19);
            uint64_t magnitude = 0;
            for (size_t i = 0; i < digits; ++i) magnitude = magnitude * 10 + Below(10);
            magnitude = std::min<uint64_t>(magnitude, std::numeric_limits<int64_t>::max());
            v = OneIn(2) ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
            break;
          }
          default: v = static_cast<int64_t>(Bits64());
        }
        if (v == std::numeric_limits<int64_t>::min() || v == std::numeric_limits<int64_t>::max()) {
          ++coverage_->int64_extremes;
        }
        m.bits = static_cast<uint64_t>(v);
        return {m, SpellInteger(Digits(v)) + "i"};
      }
      case FieldType::kUInt64: {
        constexpr uint64_t kEdges[] = {0, 1, std::numeric_limits<uint64_t>::max(),
                                       uint64_t{1} << 63};
        uint64_t v;
        if (OneIn(3)) {
          v = Pick(kEdges);
        } else if (OneIn(2)) {
          v = Below(1000);
        } else {
          v = Bits64();
        }
        if (v == std::numeric_limits<uint64_t>::max()) ++coverage_->uint64_max;
        m.bits = v;
        std::string digits = SpellInteger(Digits(v));
        if (digits == "-0") digits = "0";  // "-0u" is refused: unsigned takes no sign
        return {m, digits + "u"};
      }
      case FieldType::kBool: {
        const bool v = OneIn(2);
        m.bits = v ? 1 : 0;
        return {m, std::string(v ? Pick(kBoolTrue) : Pick(kBoolFalse))};
      }
      case FieldType::kString: {
        m.str = StringValue();
        return {m, SpellString(m.str)};
      }
    }
    return {m, ""};
  }

  // A timestamp in `precision` within range once scaled to ns: its spelling and its ns value.
  std::pair<std::string, int64_t> Timestamp(Precision precision) {
    const int64_t factor = PrecisionFactor(precision);
    const int64_t lo = std::numeric_limits<int64_t>::min() / factor;
    const int64_t hi = std::numeric_limits<int64_t>::max() / factor;
    int64_t t;
    switch (Below(7)) {
      case 0: t = lo; break;
      case 1: t = hi; break;
      case 2: t = 0; break;
      case 3: t = -static_cast<int64_t>(Below(1'000'000)); break;
      case 4: {  // uniform in [lo, hi]
        const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
        const uint64_t bits = Bits64();
        const uint64_t offset = span == UINT64_MAX ? bits : bits % (span + 1);
        t = static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
        break;
      }
      default: t = 1'700'000'000'000'000'000 / factor + static_cast<int64_t>(Below(1'000'000));
    }
    return {SpellInteger(Digits(t)), t * factor};
  }

  GeneratedLine DataLine(Schema& schema, Precision precision, int64_t default_time) {
    ++coverage_->data_lines;
    GeneratedLine line;
    ModelRow row;
    if (OneIn(8)) line.text += OneIn(2) ? " " : "\t ";
    line.text += Spell(schema.table, NameKind::kTable);

    Shape shape;
    if (schema.last && OneIn(2)) {
      ++coverage_->repeated_shapes;
      shape = *schema.last;
    } else {
      for (size_t i = 0; i < schema.tag_keys.size(); ++i) {
        if (OneIn(2)) shape.tags.push_back(i);
      }
      for (size_t i = 0; i < schema.fields.size(); ++i) {
        if (OneIn(2)) shape.fields.push_back(i);
      }
      if (shape.fields.empty()) shape.fields.push_back(Below(schema.fields.size()));
      Shuffle(&shape.tags);
      Shuffle(&shape.fields);
      schema.last = shape;
    }

    for (size_t i : shape.tags) {
      const std::string& key = schema.tag_keys[i];
      const std::string value = Name(NameKind::kTagValue);
      row.tags[key] = value;
      line.text += ',';
      line.text += Spell(key, NameKind::kTagKey);
      line.text += '=';
      line.text += Spell(value, NameKind::kTagValue);
    }

    line.text += Spaces(1, 3);
    for (size_t n = 0; n < shape.fields.size(); ++n) {
      const auto& [name, type] = schema.fields[shape.fields[n]];
      auto [model, spelling] = FieldValue(type);
      row.fields[name] = std::move(model);
      if (n > 0) line.text += ',';
      line.text += Spell(name, NameKind::kFieldKey);
      line.text += '=';
      line.text += spelling;
    }

    if (OneIn(4)) {
      ++coverage_->default_times;
      row.time = default_time;
    } else {
      ++coverage_->precisions[static_cast<size_t>(precision)];
      line.text += Spaces(1, 3);
      auto [spelling, ns] = Timestamp(precision);
      line.text += spelling;
      row.time = ns;
    }
    line.text += Spaces(0, OneIn(6) ? 2 : 0);
    if (line.text.find_first_of("\\\"\t\r") == std::string::npos) ++coverage_->plain_lines;
    line.end = LineEnd();
    line.row.emplace(schema.table, std::move(row));
    return line;
  }

  GeneratedLine NoiseLine() {
    GeneratedLine line;
    switch (Below(4)) {
      case 0: ++coverage_->blank_lines; break;
      case 1:
        ++coverage_->blank_lines;
        line.text = OneIn(2) ? "   " : " \t ";
        break;
      default: {
        ++coverage_->comment_lines;
        line.text = Spaces(0, 2) + "#";
        const std::string comment = StringValue();  // anything but '\n', may end in '\r'
        line.text += comment;
        break;
      }
    }
    line.end = LineEnd();
    return line;
  }

  std::mt19937 rng_;
  Coverage* coverage_;
  bool plain_ = false;  // this body's names need no escapes
};

// ---------------------------------------------------------------------------------------------
// The properties.

LineProtocolOptions Options(Precision precision, int64_t default_time) {
  LineProtocolOptions o;
  o.tenant = TenantId(11);
  o.database = "plant";
  o.precision = precision;
  o.default_time_ns = default_time;
  return o;
}

std::string Errors(const IngestResult& r) {
  std::string out;
  for (const IngestError& e : r.errors) out += fmt::format("  line {}: {}\n", e.line, e.message);
  return out;
}

Result<std::string> WriteAll(const std::vector<WriteBatch>& batches) {
  std::string out;
  for (const WriteBatch& b : batches) SW_RETURN_IF_ERROR(AppendLineProtocol(b, &out));
  return out;
}

// "" when `body` has all three properties; else what went wrong.
std::string CheckBody(const Body& body) {
  const std::string text = body.Text();
  const std::vector<ModelTable> expected = body.Expected();
  // The parser's byte-by-byte path alone, then with its fast path for plain lines (the default,
  // whose batches `first` keeps for the round trip).
  IngestResult first;
  for (bool fast_path : {false, true}) {
    LineProtocolOptions options = Options(body.precision, body.default_time);
    options.fast_path = fast_path;
    first = ParseLineProtocol(text, options);
    const std::string path = fast_path ? "with the fast path" : "without the fast path";
    if (!first.errors.empty()) {
      return fmt::format("parsing the body {} failed:\n{}", path, Errors(first));
    }
    const std::vector<ModelTable> parsed = ToModel(first.batches);
    if (parsed != expected) {
      return fmt::format(
          "the rows parsed {} are not the generated ones.\n generated:\n{} parsed:\n{}", path,
          Describe(expected), Describe(parsed));
    }
    if (first.points != body.DataLines()) {
      return fmt::format("{} points for {} lines {}", first.points, body.DataLines(), path);
    }
  }

  Result<std::string> written = WriteAll(first.batches);
  if (!written.ok()) return "writing failed: " + written.status().ToString();
  // Another default time: a line written without its timestamp would show.
  const IngestResult second =
      ParseLineProtocol(*written, Options(Precision::kNanoseconds, ~body.default_time));
  const std::string context = "\n written: " + Quote(*written);
  if (!second.errors.empty())
    return "parsing the written lines failed:\n" + Errors(second) + context;
  if (second.batches.size() != first.batches.size()) return "number of batches differs" + context;
  for (size_t i = 0; i < first.batches.size(); ++i) {
    const std::string diff = BatchDifference(first.batches[i], second.batches[i]);
    if (!diff.empty())
      return fmt::format("batch {} differs after the round trip: {}{}", i, diff, context);
  }

  Result<std::string> rewritten = WriteAll(second.batches);
  if (!rewritten.ok() || *rewritten != *written) {
    return "writing the round-tripped batches gave other bytes" + context;
  }
  return "";
}

// Drops lines while the body keeps failing.
Body Shrink(Body body) {
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < body.lines.size() && !progress; ++i) {
      Body smaller = body;
      smaller.lines.erase(smaller.lines.begin() + static_cast<ptrdiff_t>(i));
      if (!CheckBody(smaller).empty()) {
        body = std::move(smaller);
        progress = true;
      }
    }
  }
  return body;
}

TEST(LineProtocolRoundTripTest, GeneratedBodies) {
  constexpr uint32_t kSeeds[] = {1, 2, 3, 4};
  constexpr size_t kBodiesPerSeed = 750;
  Coverage coverage;
  for (uint32_t seed : kSeeds) {
    Generator generator(seed, &coverage);
    for (size_t i = 0; i < kBodiesPerSeed; ++i) {
      const Body body = generator.NextBody();
      const std::string failure = CheckBody(body);
      if (failure.empty()) continue;
      const Body small = Shrink(body);
      ADD_FAILURE() << fmt::format(
          "seed {} body {} (precision {}, default time {}), shrunk to {} of {} lines:\n {}\n{}",
          seed, i, static_cast<int>(small.precision), small.default_time, small.lines.size(),
          body.lines.size(), Quote(small.Text()), CheckBody(small));
      break;  // one report per seed
    }
  }
  RecordProperty("bodies", static_cast<int>(coverage.bodies));
  RecordProperty("data_lines", static_cast<int>(coverage.data_lines));
  RecordProperty("blank_and_comment_lines",
                 static_cast<int>(coverage.blank_lines + coverage.comment_lines));

  // The generator reached what it is meant to cover (counts are far below the expected ones).
  EXPECT_EQ(coverage.bodies, 3000u);
  EXPECT_GT(coverage.data_lines, 15000u);
  EXPECT_GT(coverage.blank_lines, 1000u);
  EXPECT_GT(coverage.comment_lines, 1000u);
  EXPECT_GT(coverage.crlf_lines, 1000u);
  for (FieldType type : kTypes) EXPECT_GT(coverage.fields[static_cast<size_t>(type)], 3000u);
  for (size_t p = 0; p < 6; ++p) EXPECT_GT(coverage.precisions[p], 1000u) << p;
  EXPECT_GT(coverage.default_times, 1000u);
  EXPECT_GT(coverage.negative_zeros, 100u);
  EXPECT_GT(coverage.subnormals, 100u);
  EXPECT_GT(coverage.int64_extremes, 100u);
  EXPECT_GT(coverage.uint64_max, 100u);
  EXPECT_GT(coverage.escapes, 10000u);
  EXPECT_GT(coverage.plain_bodies, 500u);
  EXPECT_GT(coverage.repeated_shapes, 3000u);
  EXPECT_GT(coverage.plain_decimals, 1500u);
  EXPECT_GT(coverage.plain_lines, 2000u);
}

// ---------------------------------------------------------------------------------------------
// The writer on its own.

TEST(LineProtocolWriterTest, EscapesTypesAndAbsentColumns) {
  WriteBatch b(TenantId(1), "main", "my table,x=1");
  b.AddRow(5);
  ASSERT_TRUE(b.SetTag("host", "a b,c=d\\e").ok());
  ASSERT_TRUE(b.SetDouble("v", 1.0).ok());
  ASSERT_TRUE(b.SetInt64("n", std::numeric_limits<int64_t>::min()).ok());
  ASSERT_TRUE(b.SetUInt64("u", std::numeric_limits<uint64_t>::max()).ok());
  ASSERT_TRUE(b.SetBool("ok", true).ok());
  ASSERT_TRUE(b.SetString("s\"q", "say \"hi\" \\ now\\").ok());
  b.AddRow(-7);
  ASSERT_TRUE(b.SetTag("dc", "eu\t1").ok());
  ASSERT_TRUE(b.SetDouble("v", -0.0).ok());
  ASSERT_TRUE(b.SetBool("ok", false).ok());
  b.AddRow(0);
  ASSERT_TRUE(b.SetDouble("v", std::numeric_limits<double>::denorm_min()).ok());

  std::string out = "kept\n";
  ASSERT_TRUE(AppendLineProtocol(b, &out).ok());
  EXPECT_EQ(out,
            "kept\n"
            "my\\ table\\,x=1,host=a\\ b\\,c\\=d\\e v=1,n=-9223372036854775808i,"
            "u=18446744073709551615u,ok=true,s\"q=\"say \\\"hi\\\" \\\\ now\\\\\" 5\n"
            "my\\ table\\,x=1,dc=eu\t1 v=-0,ok=false -7\n"
            "my\\ table\\,x=1 v=5e-324 0\n");

  const IngestResult r = ParseLineProtocol(out.substr(5), Options(Precision::kNanoseconds, 99));
  ASSERT_TRUE(r.errors.empty()) << Errors(r);
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_EQ(ToModel(r.batches), ToModel({b}));
}

struct Unwritable {
  const char* what;
  void (*build)(WriteBatch* b);  // adds rows to a batch of table "m"
  const char* message;
};

class LineProtocolWriterRefusalTest : public ::testing::TestWithParam<Unwritable> {};

// Every refusal names what cannot be written, and leaves the output as it was even when earlier
// rows were fine.
TEST_P(LineProtocolWriterRefusalTest, RefusesAndLeavesOutputAlone) {
  WriteBatch b(TenantId(1), "main", "m");
  b.AddRow(1);
  ASSERT_TRUE(b.SetDouble("ok", 1).ok());
  GetParam().build(&b);
  std::string out = "before\n";
  const Status s = AppendLineProtocol(b, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), GetParam().message);
  EXPECT_EQ(out, "before\n");
}

void Must(const Status& s) { ASSERT_TRUE(s.ok()) << s; }

INSTANTIATE_TEST_SUITE_P(
    Cases, LineProtocolWriterRefusalTest,
    ::testing::Values(
        Unwritable{"NaN",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetDouble("v", std::numeric_limits<double>::quiet_NaN()));
                   },
                   "table 'm' row 2: field 'v' is nan, which line protocol cannot write"},
        Unwritable{"infinity",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetDouble("v", -std::numeric_limits<double>::infinity()));
                   },
                   "table 'm' row 2: field 'v' is -inf, which line protocol cannot write"},
        Unwritable{"newline in a string",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetString("s", "two\nlines"));
                   },
                   "table 'm' row 2: string field 's' contains a newline, which line protocol "
                   "cannot write"},
        Unwritable{"newline in a tag value",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetTag("t", "a\n"));
                     Must(b->SetDouble("ok", 2));
                   },
                   "table 'm' row 2: tag 't' value contains a newline, which line protocol cannot "
                   "write"},
        Unwritable{"backslash ending a tag value",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetTag("t", "c:\\"));
                     Must(b->SetDouble("ok", 2));
                   },
                   "table 'm' row 2: tag 't' value ends in a backslash, which line protocol cannot "
                   "write"},
        Unwritable{"backslash ending a tag key",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetTag("t\\", "a"));
                     Must(b->SetDouble("ok", 2));
                   },
                   "table 'm': tag name 't\\' ends in a backslash, which line protocol cannot "
                   "write"},
        Unwritable{"backslash ending a field name",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetDouble("v\\", 2));
                   },
                   "table 'm': field name 'v\\' ends in a backslash, which line protocol cannot "
                   "write"},
        Unwritable{"control character in a field name",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetDouble("a\rb", 2));
                   },
                   "table 'm': field name contains a control character"},
        Unwritable{"a field named time",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetDouble("time", 2));
                   },
                   "table 'm': 'time' cannot be a field name"},
        Unwritable{"a row without fields",
                   [](WriteBatch* b) {
                     b->AddRow(2);
                     Must(b->SetTag("t", "a"));
                   },
                   "table 'm' row 2: a row needs at least one field"}),
    [](const ::testing::TestParamInfo<Unwritable>& info) {
      std::string name;
      for (const char* c = info.param.what; *c != '\0'; ++c)
        name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      return name;
    });

TEST(LineProtocolWriterTest, RefusesTableNamesThatCannotBeRead) {
  for (const auto& [table, message] : std::vector<std::pair<std::string, std::string>>{
           {"#m", "table name '#m' starts with '#': the line would read as a comment"},
           {"m\\", "table name 'm\\' ends in a backslash, which line protocol cannot write"},
           {"m\n", "table name contains a control character"},
           {"", "table name is empty"}}) {
    WriteBatch b(TenantId(1), "main", table);
    b.AddRow(1);
    Must(b.SetDouble("v", 1));
    std::string out;
    EXPECT_EQ(AppendLineProtocol(b, &out).message(), message) << Quote(table);
    EXPECT_EQ(out, "");
  }
}

TEST(LineProtocolWriterTest, RowByRowSkipsWhatCannotBeWritten) {
  WriteBatch b(TenantId(1), "main", "m");
  int64_t time = 0;
  for (double v : {1.0, std::numeric_limits<double>::infinity(), 3.0}) {
    b.AddRow(++time);
    Must(b.SetDouble("v", v));
  }
  std::string out;
  size_t skipped = 0;
  for (size_t row = 0; row < b.rows(); ++row) {
    if (!AppendLineProtocolRow(b, row, &out).ok()) ++skipped;
  }
  EXPECT_EQ(out, "m v=1 1\nm v=3 3\n");
  EXPECT_EQ(skipped, 1u);
}

}  // namespace
}  // namespace seaway
