// Tests for structured logging (src/common/logging.h).
#include "common/logging.h"

#include <gtest/gtest.h>

namespace seaway::log {
namespace {

TEST(LoggingTest, TextFieldsQuoteWhenNeeded) {
  EXPECT_EQ(RenderFields(Format::kText, "listening",
                         {{"listener", "http"}, {"address", "127.0.0.1:8080"}, {"port", 8080}}),
            "listening listener=http address=127.0.0.1:8080 port=8080");
  EXPECT_EQ(RenderFields(Format::kText, "failed", {{"error", "no such \"file\""}, {"e", ""}}),
            R"(failed error="no such \"file\"" e="")");
}

TEST(LoggingTest, JsonFieldsAreEscaped) {
  EXPECT_EQ(RenderFields(Format::kJson, "bad line", {{"line", 3}, {"text", "a\"b\n"}}),
            R"("msg":"bad line","line":"3","text":"a\"b\n")");
}

TEST(LoggingTest, ParsesNames) {
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseLevel("loud").status().message(),
            "unknown log level 'loud' (expected debug, info, warn, error or off)");
  EXPECT_FALSE(ParseFormat("xml").ok());
}

TEST(LoggingTest, LevelFilters) {
  Configure(Level::kWarn, Format::kText);
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Configure(Level::kInfo, Format::kText);
  EXPECT_TRUE(Enabled(Level::kInfo));
  EXPECT_FALSE(Enabled(Level::kDebug));
}

}  // namespace
}  // namespace seaway::log
