// Line protocol parser (src/ingest).
#include "ingest/line_protocol.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "storage/schema.h"

namespace seaway {
namespace {

struct ParsedField {
  std::string key;
  FieldType type;
  uint64_t bits = 0;
  std::string str;
};

struct ParsedLine {
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<ParsedField> fields;
  int64_t time = 0;
};

// Reads an escaped token up to an unescaped delimiter; `escapable` lists the characters a
// backslash escapes (a backslash before anything else is kept).
std::string ReadToken(std::string_view line, size_t* pos, std::string_view delimiters,
                      std::string_view escapable) {
  std::string out;
  size_t i = *pos;
  while (i < line.size()) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size() && escapable.find(line[i + 1]) != std::string_view::npos) {
      out.push_back(line[i + 1]);
      i += 2;
      continue;
    }
    if (delimiters.find(c) != std::string_view::npos) break;
    out.push_back(c);
    ++i;
  }
  *pos = i;
  return out;
}

bool IsBoolTrue(std::string_view v) {
  return v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE";
}
bool IsBoolFalse(std::string_view v) {
  return v == "f" || v == "F" || v == "false" || v == "False" || v == "FALSE";
}

Status ParseFieldValue(std::string_view token, const std::string& key, ParsedField* out) {
  if (token.empty()) return InvalidArgument("field '{}' has no value", key);
  if (IsBoolTrue(token) || IsBoolFalse(token)) {
    out->type = FieldType::kBool;
    out->bits = IsBoolTrue(token) ? 1 : 0;
    return Status::OK();
  }
  const char last = token.back();
  if (last == 'i' || last == 'u') {
    std::string_view digits = token.substr(0, token.size() - 1);
    if (last == 'i') {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (digits.empty() || ec == std::errc::result_out_of_range) {
        return InvalidArgument("field '{}': integer '{}' is out of range", key, token);
      }
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return InvalidArgument("field '{}': invalid integer '{}'", key, token);
      }
      out->type = FieldType::kInt64;
      out->bits = static_cast<uint64_t>(v);
    } else {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (digits.empty() || ec == std::errc::result_out_of_range) {
        return InvalidArgument("field '{}': unsigned integer '{}' is out of range", key, token);
      }
      if (ec != std::errc() || end != digits.data() + digits.size()) {
        return InvalidArgument("field '{}': invalid unsigned integer '{}'", key, token);
      }
      out->type = FieldType::kUInt64;
      out->bits = v;
    }
    return Status::OK();
  }
  double v = 0;
  const char* begin = token.data();
  if (*begin == '+') ++begin;  // from_chars does not take a leading '+'
  auto [end, ec] = std::from_chars(begin, token.data() + token.size(), v);
  if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(v)) {
    return InvalidArgument("field '{}': invalid number '{}'", key, token);
  }
  out->type = FieldType::kDouble;
  out->bits = std::bit_cast<uint64_t>(v);
  return Status::OK();
}

Result<int64_t> ScaleTime(int64_t t, Precision precision) {
  int64_t factor = 1;
  switch (precision) {
    case Precision::kNanoseconds: return t;
    case Precision::kMicroseconds: factor = 1'000; break;
    case Precision::kMilliseconds: factor = 1'000'000; break;
    case Precision::kSeconds: factor = 1'000'000'000; break;
  }
  int64_t out;
  if (__builtin_mul_overflow(t, factor, &out)) {
    return InvalidArgument("timestamp {} is out of range for its precision", t);
  }
  return out;
}

Status CheckKey(std::string_view what, const std::string& key, const LineProtocolOptions& o) {
  SW_RETURN_IF_ERROR(ValidateName(key, what));
  if (key.size() > o.limits.max_key_bytes) {
    return InvalidArgument("{} '{}...' is {} bytes, over the limit of {}", what, key.substr(0, 32),
                           key.size(), o.limits.max_key_bytes);
  }
  if (key == "time") return InvalidArgument("'time' cannot be a {} name", what);
  return Status::OK();
}

Status ParseLine(std::string_view line, const LineProtocolOptions& o, ParsedLine* out) {
  if (line.size() > o.limits.max_line_bytes) {
    return InvalidArgument("line is {} bytes, over the limit of {}", line.size(),
                           o.limits.max_line_bytes);
  }
  size_t pos = 0;
  out->measurement = ReadToken(line, &pos, ", ", ", ");
  if (out->measurement.empty()) return InvalidArgument("missing measurement");
  SW_RETURN_IF_ERROR(ValidateName(out->measurement, "measurement"));
  out->tags.clear();
  while (pos < line.size() && line[pos] == ',') {
    ++pos;
    std::string key = ReadToken(line, &pos, "=, ", ",= ");
    if (pos >= line.size() || line[pos] != '=') {
      return InvalidArgument("tag '{}' has no '=value'", key);
    }
    ++pos;
    std::string value = ReadToken(line, &pos, ", ", ",= ");
    SW_RETURN_IF_ERROR(CheckKey("tag", key, o));
    if (value.empty()) return InvalidArgument("tag '{}' has an empty value", key);
    if (value.size() > o.limits.max_key_bytes) {
      return InvalidArgument("tag '{}' value is {} bytes, over the limit of {}", key, value.size(),
                             o.limits.max_key_bytes);
    }
    for (const auto& [k, v] : out->tags) {
      if (k == key) return InvalidArgument("tag '{}' appears twice", key);
    }
    out->tags.emplace_back(std::move(key), std::move(value));
    if (out->tags.size() > o.limits.max_tags) {
      return InvalidArgument("more than {} tags", o.limits.max_tags);
    }
  }
  if (pos >= line.size() || line[pos] != ' ') return InvalidArgument("missing fields");
  while (pos < line.size() && line[pos] == ' ') ++pos;

  out->fields.clear();
  while (true) {
    ParsedField field;
    field.key = ReadToken(line, &pos, "=, ", ",= ");
    if (pos >= line.size() || line[pos] != '=') {
      return InvalidArgument("field '{}' has no '=value'", field.key);
    }
    ++pos;
    SW_RETURN_IF_ERROR(CheckKey("field", field.key, o));
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        char c = line[pos];
        if (c == '\\' && pos + 1 < line.size() && (line[pos + 1] == '"' || line[pos + 1] == '\\')) {
          field.str.push_back(line[pos + 1]);
          pos += 2;
          continue;
        }
        ++pos;
        if (c == '"') {
          closed = true;
          break;
        }
        field.str.push_back(c);
      }
      if (!closed) return InvalidArgument("field '{}': unterminated string", field.key);
      if (field.str.size() > o.limits.max_string_bytes) {
        return InvalidArgument("field '{}': string of {} bytes is over the limit of {}", field.key,
                               field.str.size(), o.limits.max_string_bytes);
      }
      field.type = FieldType::kString;
    } else {
      size_t end = line.find_first_of(", ", pos);
      if (end == std::string_view::npos) end = line.size();
      SW_RETURN_IF_ERROR(ParseFieldValue(line.substr(pos, end - pos), field.key, &field));
      pos = end;
    }
    for (const auto& f : out->fields) {
      if (f.key == field.key) return InvalidArgument("field '{}' appears twice", field.key);
    }
    out->fields.push_back(std::move(field));
    if (out->fields.size() > o.limits.max_fields) {
      return InvalidArgument("more than {} fields", o.limits.max_fields);
    }
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    break;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (pos == line.size()) {
    out->time = o.default_time_ns;
    return Status::OK();
  }
  std::string_view ts = line.substr(pos);
  while (!ts.empty() && ts.back() == ' ') ts.remove_suffix(1);
  int64_t t = 0;
  auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
  if (ec != std::errc() || end != ts.data() + ts.size()) {
    return InvalidArgument("invalid timestamp '{}'", ts.substr(0, 40));
  }
  SW_ASSIGN_OR_RETURN(out->time, ScaleTime(t, o.precision));
  return Status::OK();
}

}  // namespace

Result<Precision> ParsePrecision(std::string_view text) {
  if (text.empty() || text == "ns" || text == "n") return Precision::kNanoseconds;
  if (text == "u" || text == "us" || text == "µ") return Precision::kMicroseconds;
  if (text == "ms") return Precision::kMilliseconds;
  if (text == "s") return Precision::kSeconds;
  return InvalidArgument("precision '{}': expected ns, u, ms or s", text);
}

IngestResult ParseLineProtocol(std::string_view body, const LineProtocolOptions& options) {
  IngestResult result;
  std::unordered_map<std::string, size_t> batch_of;
  ParsedLine parsed;
  size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    line.remove_prefix(first);

    Status s = ParseLine(line, options, &parsed);
    if (s.ok()) {
      auto [it, inserted] = batch_of.try_emplace(parsed.measurement, result.batches.size());
      if (inserted) {
        result.batches.emplace_back(options.tenant, options.database, parsed.measurement);
      }
      WriteBatch& batch = result.batches[it->second];
      batch.AddRow(parsed.time);
      for (const auto& [k, v] : parsed.tags) {
        if (s.ok()) s = batch.SetTag(k, v);
      }
      for (const auto& f : parsed.fields) {
        if (!s.ok()) break;
        switch (f.type) {
          case FieldType::kDouble: s = batch.SetDouble(f.key, std::bit_cast<double>(f.bits)); break;
          case FieldType::kInt64: s = batch.SetInt64(f.key, static_cast<int64_t>(f.bits)); break;
          case FieldType::kUInt64: s = batch.SetUInt64(f.key, f.bits); break;
          case FieldType::kBool: s = batch.SetBool(f.key, f.bits != 0); break;
          case FieldType::kString: s = batch.SetString(f.key, f.str); break;
        }
      }
      if (!s.ok()) batch.DropLastRow();  // a type conflict with an earlier line of the body
    }
    if (s.ok()) {
      ++result.points;
    } else {
      result.errors.push_back(IngestError{line_no, std::string(s.message())});
    }
  }
  // A measurement whose every line failed leaves an empty batch behind: drop it.
  std::erase_if(result.batches, [](const WriteBatch& b) { return b.rows() == 0; });
  return result;
}

}  // namespace seaway
