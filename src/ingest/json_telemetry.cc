// JSON telemetry decoder (src/ingest): simdjson's DOM parser, then one row per object.
#include "ingest/json_telemetry.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/rfc3339.h"
#include "storage/schema.h"

namespace seaway {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kNotFound = std::string_view::npos;
// Bodies up to this size are parsed by the thread's parser, which keeps its buffers (about 15
// times the largest body it has parsed) between calls; larger ones get a parser of their own.
constexpr size_t kThreadParserMaxBytes = 256 * 1024;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t FirstNonSpace(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsJsonSpace(text[i])) ++i;
  return i;
}

// At most `max` bytes of `text`, cut at a character boundary: errors quote names, and a reply
// that carries them must stay valid UTF-8.
std::string_view Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return text.substr(0, max);
}

// ---- Where invalid JSON goes wrong --------------------------------------------------------
// simdjson says what is wrong but not where. On that cold path these scanners find the byte
// offset: stage-1 errors (UTF-8, strings) by scanning like simdjson's stage 1, the others by
// walking the grammar of RFC 8259 with simdjson's limits (depth, 64-bit integers, finite
// doubles).

// The length of the valid UTF-8 sequence at `pos` (a byte >= 0x80), or 0.
size_t Utf8SequenceLength(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t length = 0;
  uint32_t code_point = 0, min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - pos < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return 0;
    code_point = code_point << 6 | (b & 0x3F);
  }
  if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

size_t FindInvalidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
    } else if (size_t n = Utf8SequenceLength(text, i); n > 0) {
      i += n;
    } else {
      return i;
    }
  }
  return kNotFound;
}

// Strings as stage 1 sees them: by the parity of unescaped quotes, a backslash escaping the next
// byte wherever it is. Returns the first control character inside a string, or the opening quote
// of an unclosed one.
size_t FindStringProblem(std::string_view text, bool control_characters) {
  bool in_string = false;
  size_t open = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      ++i;  // an escaped control character is still one
      if (in_string && control_characters && i < text.size() &&
          static_cast<unsigned char>(text[i]) < 0x20) {
        return i;
      }
    } else if (c == '"') {
      in_string = !in_string;
      open = i;
    } else if (in_string && control_characters && static_cast<unsigned char>(c) < 0x20) {
      return i;
    }
  }
  return in_string && !control_characters ? open : kNotFound;
}

class JsonGrammarScanner {
 public:
  explicit JsonGrammarScanner(std::string_view text) : text_(text) {}

  // The offset of the first byte where the text stops being one valid JSON document, or
  // kNotFound.
  size_t FirstError();

 private:
  static constexpr size_t kMaxDepth = 1023;  // simdjson's 1024 counts the document itself

  bool AtEnd() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return !AtEnd() && text_[pos_] == c; }
  void SkipSpace() {
    while (!AtEnd() && IsJsonSpace(text_[pos_])) ++pos_;
  }
  bool ScanValue();  // a scalar
  bool ScanKey();    // "key" :
  bool ScanString();
  bool ScanEscape();
  bool ScanHex4(size_t at, uint32_t* unit) const;
  bool ScanNumber();
  bool NumberInRange(std::string_view token, bool integer) const;

  std::string_view text_;
  size_t pos_ = 0;
};

size_t JsonGrammarScanner::FirstError() {
  std::vector<char> open;  // the closing brackets still expected
  bool want_value = true;
  while (true) {
    SkipSpace();
    if (want_value) {
      if (AtEnd()) return pos_;
      const char c = text_[pos_];
      if (c != '[' && c != '{') {
        if (!ScanValue()) return pos_;
        want_value = false;
        continue;
      }
      if (open.size() == kMaxDepth) return pos_;
      const char close = c == '[' ? ']' : '}';
      ++pos_;
      SkipSpace();
      if (Peek(close)) {
        ++pos_;
        want_value = false;
      } else {
        open.push_back(close);
        if (close == '}' && !ScanKey()) return pos_;
      }
      continue;
    }
    if (open.empty()) return AtEnd() ? kNotFound : pos_;
    if (Peek(',')) {
      ++pos_;
      SkipSpace();
      if (open.back() == '}' && !ScanKey()) return pos_;
      want_value = true;
    } else if (Peek(open.back())) {
      ++pos_;
      open.pop_back();
    } else {
      return pos_;
    }
  }
}

bool JsonGrammarScanner::ScanValue() {
  const char c = text_[pos_];
  if (c == '"') return ScanString();
  if (c == '-' || IsDigit(c)) return ScanNumber();
  for (std::string_view word : {"true", "false", "null"}) {
    if (c != word[0]) continue;
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  return false;
}

bool JsonGrammarScanner::ScanKey() {
  if (!Peek('"') || !ScanString()) return false;
  SkipSpace();
  if (!Peek(':')) return false;
  ++pos_;
  return true;
}

bool JsonGrammarScanner::ScanString() {
  const size_t open = pos_++;
  while (!AtEnd()) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) return false;
    if (c == '\\') {
      if (!ScanEscape()) return false;
    } else if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(text_, pos_);
      if (n == 0) return false;
      pos_ += n;
    } else {
      ++pos_;
    }
  }
  pos_ = open;  // unclosed: point at where it opened
  return false;
}

bool JsonGrammarScanner::ScanHex4(size_t at, uint32_t* unit) const {
  if (text_.size() < at + 4) return false;
  auto [end, ec] = std::from_chars(text_.data() + at, text_.data() + at + 4, *unit, 16);
  return ec == std::errc() && end == text_.data() + at + 4;
}

bool JsonGrammarScanner::ScanEscape() {
  if (pos_ + 1 >= text_.size()) return false;
  const char e = text_[pos_ + 1];
  if (std::string_view("\"\\/bfnrt").find(e) != kNotFound) {
    pos_ += 2;
    return true;
  }
  uint32_t unit = 0;
  if (e != 'u' || !ScanHex4(pos_ + 2, &unit)) return false;
  if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // a low surrogate alone
  if (unit >= 0xD800 && unit <= 0xDBFF) {              // must be followed by a low surrogate
    uint32_t low = 0;
    if (text_.substr(pos_ + 6, 2) != "\\u" || !ScanHex4(pos_ + 8, &low) || low < 0xDC00 ||
        low > 0xDFFF) {
      return false;
    }
    pos_ += 6;
  }
  pos_ += 6;
  return true;
}

bool JsonGrammarScanner::ScanNumber() {
  const size_t start = pos_;
  auto digits = [this] {
    const size_t from = pos_;
    while (!AtEnd() && IsDigit(text_[pos_])) ++pos_;
    return pos_ > from;
  };
  if (Peek('-')) ++pos_;
  if (Peek('0')) {
    ++pos_;
    if (!AtEnd() && IsDigit(text_[pos_])) {  // a leading zero: the number is the problem
      pos_ = start;
      return false;
    }
  } else if (!digits()) {
    return false;
  }
  bool integer = true;
  if (Peek('.')) {
    ++pos_;
    integer = false;
    if (!digits()) return false;
  }
  if (Peek('e') || Peek('E')) {
    ++pos_;
    integer = false;
    if (Peek('+') || Peek('-')) ++pos_;
    if (!digits()) return false;
  }
  if (!NumberInRange(text_.substr(start, pos_ - start), integer)) {
    pos_ = start;
    return false;
  }
  return true;
}

bool JsonGrammarScanner::NumberInRange(std::string_view token, bool integer) const {
  const char* first = token.data();
  const char* last = token.data() + token.size();
  if (integer) {
    if (token[0] == '-') {
      int64_t v = 0;
      return std::from_chars(first, last, v).ec == std::errc();
    }
    uint64_t v = 0;
    return std::from_chars(first, last, v).ec == std::errc();
  }
  double v = 0;
  if (std::from_chars(first, last, v).ec != std::errc::result_out_of_range) return true;
  // Out of range: too large is an error, too small rounds to zero. The value is about
  // 0.d1d2... x 10^(magnitude + exponent).
  const size_t point = token.find('.');
  size_t i = token[0] == '-' ? 1 : 0;
  int64_t magnitude = 0;
  bool significant = false;
  for (; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
    if (i == point) continue;
    const bool before_point = i < point;
    if (token[i] != '0') significant = true;
    if (before_point && significant) ++magnitude;
    if (!before_point && !significant) --magnitude;
  }
  int64_t exponent = 0;
  if (i < token.size()) {
    const char* e = token.data() + i + 1;
    if (*e == '+') ++e;
    if (std::from_chars(e, last, exponent).ec != std::errc()) {
      exponent = *e == '-' ? -(int64_t{1} << 40) : int64_t{1} << 40;  // beyond any token's digits
    }
  }
  return magnitude + exponent <= 0;
}

// Where simdjson's `error` lies in `text`, or kNotFound.
size_t LocateJsonError(std::string_view text, simdjson::error_code error) {
  switch (error) {
    case simdjson::UTF8_ERROR: return FindInvalidUtf8(text);
    case simdjson::UNCLOSED_STRING: return FindStringProblem(text, false);
    case simdjson::UNESCAPED_CHARS: return FindStringProblem(text, true);
    case simdjson::EMPTY: return text.size();
    default: return JsonGrammarScanner(text).FirstError();
  }
}

// The bytes SplitArray stops at outside strings.
constexpr std::array<bool, 256> kArrayStructure = [] {
  std::array<bool, 256> table{};
  for (char c : std::string_view("\"[]{},")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

// The index of the quote that closes the string opened at `open`, or kNotFound.
size_t StringEnd(std::string_view body, size_t open) {
  for (size_t from = open + 1;;) {
    const void* quote = std::memchr(body.data() + from, '"', body.size() - from);
    if (quote == nullptr) return kNotFound;
    const size_t at = static_cast<const char*>(quote) - body.data();
    size_t backslashes = 0;  // an odd run of them escapes the quote
    while (at - backslashes - 1 > open && body[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at;
    from = at + 1;
  }
}

// The elements of the array in `body` (which starts with '['), trimmed, as the brackets, commas
// and strings of its top level delimit them; false when those are malformed. The elements
// themselves are not checked.
bool SplitArray(std::string_view body, std::vector<std::string_view>* elements) {
  size_t i = FirstNonSpace(body) + 1;
  auto skip_space = [&] {
    while (i < body.size() && IsJsonSpace(body[i])) ++i;
  };
  skip_space();
  if (i < body.size() && body[i] == ']') {
    ++i;
    skip_space();
    return i == body.size();
  }
  while (i < body.size()) {
    const size_t start = i;
    size_t depth = 0;
    for (; i < body.size(); ++i) {
      while (i < body.size() && !kArrayStructure[static_cast<unsigned char>(body[i])]) ++i;
      if (i == body.size()) return false;
      const char c = body[i];
      if (c == '"') {
        i = StringEnd(body, i);
        if (i == kNotFound) return false;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      } else if (depth == 0) {  // ','
        break;
      }
    }
    if (i >= body.size()) return false;
    size_t end = i;
    while (end > start && IsJsonSpace(body[end - 1])) --end;
    if (end == start) return false;
    elements->push_back(body.substr(start, end - start));
    const char stop = body[i++];
    skip_space();
    if (stop == ']') return i == body.size();
    if (stop == '}') return false;
  }
  return false;
}

// ---- One item -----------------------------------------------------------------------------
// Decoded into views of the parser's document (valid until its next parse), so that an item
// costs no allocation before it reaches the batch.

struct ParsedTag {
  std::string_view key;
  std::string_view value;
  bool present = true;  // false for null
};

struct ParsedField {
  std::string_view name;
  FieldType type = FieldType::kDouble;
  bool present = true;  // false for null
  uint64_t bits = 0;
  std::string_view str;
};

struct ParsedItem {
  std::string_view table;
  std::vector<ParsedTag> tags;
  std::vector<ParsedField> fields;
  int64_t time = 0;
};

std::string_view KindOf(element_type type) {
  switch (type) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "an unknown value";
}

Status CheckName(std::string_view what, std::string_view name, const IngestLimits& limits) {
  SW_RETURN_IF_ERROR(ValidateName(name, what));
  if (name.size() > limits.max_key_bytes) {
    return InvalidArgument("{} '{}...' is {} bytes, over the limit of {}", what, Prefix(name, 32),
                           name.size(), limits.max_key_bytes);
  }
  if (what != "table" && name == "time") return InvalidArgument("'time' cannot be a {} name", what);
  return Status::OK();
}

Result<int64_t> DecodeTime(element time, int64_t default_time_ns) {
  switch (time.type()) {
    case element_type::INT64: return time.get_int64().value_unsafe();
    case element_type::UINT64:
      return InvalidArgument("time {} is out of range: at most {} ns since the epoch",
                             time.get_uint64().value_unsafe(), INT64_MAX);
    case element_type::DOUBLE:
      return InvalidArgument(
          "time {} is not an integer: give ns since the epoch as an integer, or an RFC 3339 "
          "string",
          time.get_double().value_unsafe());
    case element_type::STRING: {
      Result<int64_t> ns = ParseRfc3339(time.get_string().value_unsafe());
      if (!ns.ok()) return InvalidArgument("time {}", ns.status().message());
      return ns;
    }
    case element_type::NULL_VALUE: return default_time_ns;
    default:
      return InvalidArgument(
          "time must be an integer (ns since the epoch) or an RFC 3339 string, not {}",
          KindOf(time.type()));
  }
}

Status DecodeTags(element tags, const IngestLimits& limits, std::vector<ParsedTag>* out) {
  simdjson::dom::object object;
  if (tags.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument("\"tags\" must be an object, not {}", KindOf(tags.type()));
  }
  for (simdjson::dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    if (out->size() == limits.max_tags)
      return InvalidArgument("more than {} tags", limits.max_tags);
    SW_RETURN_IF_ERROR(CheckName("tag", key, limits));
    for (const ParsedTag& t : *out) {
      if (t.key == key) return InvalidArgument("tag '{}' appears twice", key);
    }
    ParsedTag tag{key};
    if (member.value.is_null()) {
      tag.present = false;
    } else if (member.value.get_string().get(tag.value) != simdjson::SUCCESS) {
      return InvalidArgument("tag '{}': value must be a string, not {}", key,
                             KindOf(member.value.type()));
    } else if (tag.value.empty()) {
      return InvalidArgument("tag '{}' has an empty value", key);
    } else if (tag.value.size() > limits.max_key_bytes) {
      return InvalidArgument("tag '{}' value is {} bytes, over the limit of {}", key,
                             tag.value.size(), limits.max_key_bytes);
    }
    out->push_back(tag);
  }
  return Status::OK();
}

// `skip`: a member that is not a field (device payloads carry "time" beside the fields).
Status DecodeFields(element fields, const IngestLimits& limits, std::vector<ParsedField>* out,
                    std::string_view skip = {}) {
  simdjson::dom::object object;
  if (fields.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument("\"fields\" must be an object, not {}", KindOf(fields.type()));
  }
  size_t present = 0;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string_view name = member.key;
    if (!skip.empty() && name == skip) continue;
    if (out->size() == limits.max_fields) {
      return InvalidArgument("more than {} fields", limits.max_fields);
    }
    SW_RETURN_IF_ERROR(CheckName("field", name, limits));
    for (const ParsedField& f : *out) {
      if (f.name == name) return InvalidArgument("field '{}' appears twice", name);
    }
    ParsedField field{name};
    const element value = member.value;
    switch (value.type()) {
      // JSON has one number type, and devices send 79 one time and 79.5 the next: every
      // number is a float field, so that a table's type does not depend on the first reading.
      case element_type::INT64:
        field.type = FieldType::kDouble;
        field.bits = std::bit_cast<uint64_t>(static_cast<double>(value.get_int64().value_unsafe()));
        break;
      case element_type::UINT64:
        field.type = FieldType::kDouble;
        field.bits =
            std::bit_cast<uint64_t>(static_cast<double>(value.get_uint64().value_unsafe()));
        break;
      case element_type::DOUBLE:
        field.type = FieldType::kDouble;
        field.bits = std::bit_cast<uint64_t>(value.get_double().value_unsafe());
        break;
      case element_type::BOOL:
        field.type = FieldType::kBool;
        field.bits = value.get_bool().value_unsafe() ? 1 : 0;
        break;
      case element_type::STRING:
        field.type = FieldType::kString;
        field.str = value.get_string().value_unsafe();
        if (field.str.size() > limits.max_string_bytes) {
          return InvalidArgument("field '{}': string of {} bytes is over the limit of {}", name,
                                 field.str.size(), limits.max_string_bytes);
        }
        break;
      case element_type::NULL_VALUE: field.present = false; break;
      case element_type::ARRAY:
        return InvalidArgument("field '{}': arrays are not supported as values", name);
      case element_type::OBJECT:
        return InvalidArgument("field '{}': objects are not supported as values", name);
    }
    present += field.present ? 1 : 0;
    out->push_back(field);
  }
  if (out->empty()) return InvalidArgument("\"fields\" is empty");
  if (present == 0) return InvalidArgument("\"fields\" has only null values");
  return Status::OK();
}

// A device payload: the object's members are the fields, beside an optional "time".
Status DecodeDeviceItem(element item, const JsonTelemetryOptions& options, ParsedItem* out) {
  const JsonTelemetryOptions::Device& device = *options.device;
  simdjson::dom::object object;
  if (item.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument("expected a JSON object of fields, got {}", KindOf(item.type()));
  }
  out->table = device.table;
  out->time = options.default_time_ns;
  element time;
  if (object["time"].get(time) == simdjson::SUCCESS) {
    SW_ASSIGN_OR_RETURN(out->time, DecodeTime(time, options.default_time_ns));
  }
  out->tags.clear();
  out->tags.push_back(ParsedTag{device.tag_key, device.tag_value});
  out->fields.clear();
  SW_RETURN_IF_ERROR(DecodeFields(item, options.limits, &out->fields, "time"));
  for (const ParsedField& field : out->fields) {
    if (field.name == device.tag_key) {
      return InvalidArgument("'{}' is the device tag and cannot be a field", field.name);
    }
  }
  return Status::OK();
}

Status DecodeItem(element item, const JsonTelemetryOptions& options, ParsedItem* out) {
  if (options.device) return DecodeDeviceItem(item, options, out);
  simdjson::dom::object object;
  if (item.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument("expected a JSON object, got {}", KindOf(item.type()));
  }
  element table, tags, fields, time;
  bool has_table = false, has_tags = false, has_fields = false, has_time = false;
  for (simdjson::dom::key_value_pair member : object) {
    const std::string_view key = member.key;
    bool* seen = nullptr;
    element* slot = nullptr;
    if (key == "table") {
      seen = &has_table, slot = &table;
    } else if (key == "tags") {
      seen = &has_tags, slot = &tags;
    } else if (key == "fields") {
      seen = &has_fields, slot = &fields;
    } else if (key == "time") {
      seen = &has_time, slot = &time;
    } else {
      return InvalidArgument(
          "unknown key '{}': expected \"table\", \"tags\", \"fields\" and \"time\"",
          Prefix(key, 64));
    }
    if (*seen) return InvalidArgument("key \"{}\" appears twice", key);
    *seen = true;
    *slot = member.value;
  }

  if (!has_table) return InvalidArgument("missing \"table\"");
  if (table.get_string().get(out->table) != simdjson::SUCCESS) {
    return InvalidArgument("\"table\" must be a string, not {}", KindOf(table.type()));
  }
  SW_RETURN_IF_ERROR(CheckName("table", out->table, options.limits));
  out->time = options.default_time_ns;
  if (has_time) {
    SW_ASSIGN_OR_RETURN(out->time, DecodeTime(time, options.default_time_ns));
  }
  out->tags.clear();
  if (has_tags && !tags.is_null()) SW_RETURN_IF_ERROR(DecodeTags(tags, options.limits, &out->tags));
  out->fields.clear();
  if (!has_fields) return InvalidArgument("missing \"fields\"");
  SW_RETURN_IF_ERROR(DecodeFields(fields, options.limits, &out->fields));
  for (const ParsedTag& tag : out->tags) {
    for (const ParsedField& field : out->fields) {
      if (tag.key == field.name && tag.present && field.present) {
        return InvalidArgument("'{}' is both a tag and a field", tag.key);
      }
    }
  }
  return Status::OK();
}

// ---- The body -----------------------------------------------------------------------------

class Decoder {
 public:
  explicit Decoder(const JsonTelemetryOptions& options) : options_(options) {}

  void Decode(std::string_view body);
  IngestResult Finish() &&;
  // SplitJsonTelemetry.
  std::vector<std::pair<size_t, std::string_view>> Split(std::string_view body);

 private:
  simdjson::dom::parser& ParserFor(size_t bytes);
  simdjson::error_code Parse(std::string_view text, element* root) {
    return ParserFor(text.size()).parse(text.data(), text.size()).get(*root);
  }

  void DecodeArray(std::string_view body);
  void DecodeDocument(std::string_view body);
  void DecodeObjectOrLines(std::string_view body);
  void DecodeLines(std::string_view body);
  bool AnyLineParsesAlone(std::string_view lines);

  void Item(size_t number, element item);
  Status AddRow(const ParsedItem& item);
  WriteBatch& BatchFor(std::string_view table);
  void Error(size_t number, std::string message) {
    result_.errors.push_back(IngestError{number, std::move(message)});
  }
  // `offset_base` is where `text` starts in what the client sent; `where` qualifies the offset.
  void InvalidJson(size_t number, std::string_view text, simdjson::error_code error,
                   size_t offset_base, std::string_view where);

  const JsonTelemetryOptions& options_;
  size_t bom_bytes_ = 0;
  IngestResult result_;
  std::map<std::string, size_t, std::less<>> batch_of_;
  size_t last_batch_ = 0;
  ParsedItem item_;
  std::optional<simdjson::dom::parser> own_parser_;
};

simdjson::dom::parser& Decoder::ParserFor(size_t bytes) {
  if (bytes > kThreadParserMaxBytes) {
    if (!own_parser_) own_parser_.emplace();
    return *own_parser_;
  }
  thread_local simdjson::dom::parser parser;
  return parser;
}

void Decoder::Decode(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) {
    body.remove_prefix(3);
    bom_bytes_ = 3;
  }
  const size_t first = FirstNonSpace(body);
  if (first == body.size()) return;
  if (body[first] == '{') {
    DecodeObjectOrLines(body);
  } else if (body[first] == '[') {
    DecodeArray(body);
  } else {
    DecodeDocument(body);
  }
}

IngestResult Decoder::Finish() && {
  // A table whose every item failed leaves an empty batch behind.
  std::erase_if(result_.batches, [](const WriteBatch& b) { return b.rows() == 0; });
  return std::move(result_);
}

// Each element is parsed alone, as NDJSON lines are: a large body needs neither a parser sized
// for all of it nor a document that does not fit in the cache.
void Decoder::DecodeArray(std::string_view body) {
  std::vector<std::string_view> elements;
  if (SplitArray(body, &elements)) {
    const size_t limit = options_.limits.max_line_bytes;
    size_t index = 0;
    bool well_formed = true;
    for (std::string_view text : elements) {
      ++index;
      element root;
      if (Parse(text, &root) != simdjson::SUCCESS) {
        well_formed = false;
        break;
      }
      if (text.size() > limit) {
        Error(index,
              fmt::format("array element is {} bytes, over the limit of {}", text.size(), limit));
      } else {
        Item(index, root);
      }
    }
    if (well_formed) return;
  }
  // A malformed array is one error, for the whole body: forget what its good elements stored.
  result_ = IngestResult();
  batch_of_.clear();
  DecodeDocument(body);
}

// What is left when the body is no object, no NDJSON and no well-formed array: the error.
void Decoder::DecodeDocument(std::string_view body) {
  element root;
  if (simdjson::error_code error = Parse(body, &root)) {
    InvalidJson(1, body, error, bom_bytes_, "");
    return;
  }
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS) {
    Error(1, fmt::format("expected a JSON object, an array of objects or NDJSON, got {}",
                         KindOf(root.type())));
    return;
  }
  // Not reached unless SplitArray refused an array that simdjson takes: decode it all the same
  // (without the size check, which needs SplitArray's element sizes).
  size_t index = 0;
  for (element e : array) Item(++index, e);
}

// One object (which may span lines) or NDJSON: an object followed by objects on later lines.
void Decoder::DecodeObjectOrLines(std::string_view body) {
  const size_t eol = body.find('\n', FirstNonSpace(body));
  const std::string_view rest = eol == kNotFound ? std::string_view() : body.substr(eol + 1);
  const bool one_line = FirstNonSpace(rest) == rest.size();
  element root;
  if (!one_line && Parse(body.substr(0, eol), &root) == simdjson::SUCCESS) {
    DecodeLines(body);
    return;
  }
  const size_t first = FirstNonSpace(body);
  size_t end = body.size();
  while (end > first && IsJsonSpace(body[end - 1])) --end;
  if (one_line && end - first > options_.limits.max_line_bytes) {
    Error(1, fmt::format("object is {} bytes, over the limit of {}", end - first,
                         options_.limits.max_line_bytes));
    return;
  }
  simdjson::error_code error = Parse(body, &root);
  if (error == simdjson::SUCCESS) {
    if (end - first > options_.limits.max_line_bytes) {
      Error(1, fmt::format("object is {} bytes, over the limit of {}", end - first,
                           options_.limits.max_line_bytes));
      return;
    }
    Item(1, root);
  } else if (!one_line && AnyLineParsesAlone(rest)) {
    DecodeLines(body);  // NDJSON whose first line is bad
  } else {
    InvalidJson(1, body, error, bom_bytes_, "");
  }
}

std::vector<std::pair<size_t, std::string_view>> Decoder::Split(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  const size_t first = FirstNonSpace(body);
  if (first == body.size()) return {};
  std::vector<std::pair<size_t, std::string_view>> items;
  if (body[first] == '[') {
    std::vector<std::string_view> elements;
    if (!SplitArray(body, &elements)) return {{1, body}};
    for (size_t i = 0; i < elements.size(); ++i) items.emplace_back(i + 1, elements[i]);
    return items;
  }
  if (body[first] != '{') return {{1, body}};
  // NDJSON exactly when DecodeObjectOrLines takes it for NDJSON.
  const size_t eol = body.find('\n', first);
  const std::string_view rest = eol == kNotFound ? std::string_view() : body.substr(eol + 1);
  if (FirstNonSpace(rest) == rest.size()) return {{1, body}};
  element root;
  const bool lines = Parse(body.substr(0, eol), &root) == simdjson::SUCCESS ||
                     (Parse(body, &root) != simdjson::SUCCESS && AnyLineParsesAlone(rest));
  if (!lines) return {{1, body}};
  size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == kNotFound ? std::string_view() : body.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (FirstNonSpace(line) != line.size()) items.emplace_back(line_no, line);
  }
  return items;
}

bool Decoder::AnyLineParsesAlone(std::string_view lines) {
  while (!lines.empty()) {
    const size_t eol = lines.find('\n');
    const std::string_view line = lines.substr(0, eol);
    lines = eol == kNotFound ? std::string_view() : lines.substr(eol + 1);
    const size_t first = FirstNonSpace(line);
    element root;
    if (first < line.size() && line[first] == '{' && Parse(line, &root) == simdjson::SUCCESS) {
      return true;
    }
  }
  return false;
}

void Decoder::DecodeLines(std::string_view body) {
  size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body = eol == kNotFound ? std::string_view() : body.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (FirstNonSpace(line) == line.size()) continue;
    if (line.size() > options_.limits.max_line_bytes) {
      Error(line_no, fmt::format("line is {} bytes, over the limit of {}", line.size(),
                                 options_.limits.max_line_bytes));
      continue;
    }
    element root;
    if (simdjson::error_code error = Parse(line, &root)) {
      InvalidJson(line_no, line, error, line_no == 1 ? bom_bytes_ : 0, " of the line");
      continue;
    }
    Item(line_no, root);
  }
}

void Decoder::Item(size_t number, element item) {
  Status s = DecodeItem(item, options_, &item_);
  if (s.ok()) s = AddRow(item_);
  if (s.ok()) {
    ++result_.points;
  } else {
    Error(number, std::string(s.message()));
  }
}

Status Decoder::AddRow(const ParsedItem& item) {
  WriteBatch& batch = BatchFor(item.table);
  batch.AddRow(item.time);
  Status s;
  for (const ParsedTag& tag : item.tags) {
    if (tag.present && s.ok()) s = batch.SetTag(tag.key, tag.value);
  }
  for (const ParsedField& f : item.fields) {
    if (!s.ok()) break;
    if (!f.present) continue;
    switch (f.type) {
      case FieldType::kDouble: s = batch.SetDouble(f.name, std::bit_cast<double>(f.bits)); break;
      case FieldType::kInt64: s = batch.SetInt64(f.name, static_cast<int64_t>(f.bits)); break;
      case FieldType::kUInt64: s = batch.SetUInt64(f.name, f.bits); break;
      case FieldType::kBool: s = batch.SetBool(f.name, f.bits != 0); break;
      case FieldType::kString: s = batch.SetString(f.name, f.str); break;
    }
  }
  if (!s.ok()) batch.DropLastRow();  // a type conflict with an earlier item of the body
  return s;
}

WriteBatch& Decoder::BatchFor(std::string_view table) {
  // Items of one table usually come together.
  if (last_batch_ < result_.batches.size() && result_.batches[last_batch_].table() == table) {
    return result_.batches[last_batch_];
  }
  auto it = batch_of_.find(table);
  if (it == batch_of_.end()) {
    it = batch_of_.emplace(std::string(table), result_.batches.size()).first;
    result_.batches.emplace_back(options_.tenant, options_.database, std::string(table));
  }
  last_batch_ = it->second;
  return result_.batches[last_batch_];
}

void Decoder::InvalidJson(size_t number, std::string_view text, simdjson::error_code error,
                          size_t offset_base, std::string_view where) {
  const size_t offset = LocateJsonError(text, error);
  if (offset == kNotFound) {
    Error(number, fmt::format("invalid JSON: {}", simdjson::error_message(error)));
  } else {
    Error(number, fmt::format("invalid JSON at byte offset {}{}: {}", offset_base + offset, where,
                              simdjson::error_message(error)));
  }
}

}  // namespace

IngestResult DecodeJsonTelemetry(std::string_view body, const JsonTelemetryOptions& options) {
  Decoder decoder(options);
  decoder.Decode(body);
  return std::move(decoder).Finish();
}

std::vector<std::pair<size_t, std::string_view>> SplitJsonTelemetry(std::string_view body) {
  const JsonTelemetryOptions options;
  Decoder decoder(options);
  return decoder.Split(body);
}

}  // namespace seaway
