// Token lookup for client subcommands (src/cli).
#include "cli/token.h"

#include <cstdlib>
#include <fstream>

namespace seaway::cli {

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string FindToken(const std::string& flag, const std::string& data_dir) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("SEAWAY_TOKEN"); env != nullptr && *env != '\0') return env;
  std::ifstream file(data_dir + "/admin-token");
  std::string token;
  if (file && std::getline(file, token)) return Trim(token);
  return {};
}

}  // namespace seaway::cli
