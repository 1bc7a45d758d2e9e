// Fuzz target for what the HTTP front end reads from a request head itself (src/http): the
// request target's path, query string and percent-decoding, header lookup, and the token
// extraction of the write routes. Beast parses the bytes of the head; these parse its fields.
// Input: a target line, a newline, then header lines "name: value".
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "http/http_message.h"
#include "http/write_handlers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  seaway::HttpRequest request;
  size_t eol = input.find('\n');
  request.target = std::string(input.substr(0, eol));
  std::string_view rest = eol == std::string_view::npos ? "" : input.substr(eol + 1);
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers.emplace_back(std::string(line.substr(0, colon)),
                                 std::string(line.substr(colon + 1)));
  }
  FUZZ_CHECK(request.path().size() + request.query().size() <= request.target.size());
  for (std::string_view name : {"db", "bucket", "precision", "p", ""}) {
    if (auto v = request.QueryParam(name)) FUZZ_CHECK(v->size() <= request.target.size());
  }
  FUZZ_CHECK(seaway::PercentDecode(request.target).size() <= request.target.size());
  (void)request.Header("Content-Encoding");
  FUZZ_CHECK(seaway::RequestToken(request).size() <= size);
  return 0;
}
