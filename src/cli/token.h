// Which API token a client subcommand uses (src/cli): the --token flag, else $SEAWAY_TOKEN,
// else the first line of DATA_DIR/admin-token (the default tenant's admin token, mode 0600).
#pragma once

#include <string>
#include <string_view>

namespace seaway::cli {

// Empty when none of the three gives one.
std::string FindToken(const std::string& flag, const std::string& data_dir);

// `text` without leading and trailing blanks (spaces, tabs, CR, LF).
std::string Trim(std::string_view text);

}  // namespace seaway::cli
