// Tests for the HTTP message helpers (src/http/http_message.h).
#include "http/http_message.h"

#include <gtest/gtest.h>

namespace seaway {
namespace {

TEST(HttpMessageTest, PathQueryAndParams) {
  HttpRequest r;
  r.target = "/write?db=plant%201&precision=ms&flag&u=a+b";
  EXPECT_EQ(r.path(), "/write");
  EXPECT_EQ(r.query(), "db=plant%201&precision=ms&flag&u=a+b");
  EXPECT_EQ(r.QueryParam("db"), "plant 1");
  EXPECT_EQ(r.QueryParam("precision"), "ms");
  EXPECT_EQ(r.QueryParam("flag"), "");
  EXPECT_EQ(r.QueryParam("u"), "a b");
  EXPECT_EQ(r.QueryParam("missing"), std::nullopt);
  r.target = "/health";
  EXPECT_EQ(r.path(), "/health");
  EXPECT_EQ(r.query(), "");
}

TEST(HttpMessageTest, HeadersAreCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"Content-Type", "text/plain"}, {"authorization", "Token t"}};
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("Authorization"), "Token t");
  EXPECT_EQ(r.Header("Accept"), std::nullopt);
}

TEST(HttpMessageTest, PercentDecodeKeepsInvalidEscapes) {
  EXPECT_EQ(PercentDecode("a%2Fb%zz%4"), "a/b%zz%4");
  EXPECT_EQ(PercentDecode("%41%42"), "AB");
  EXPECT_EQ(PercentDecode("%"), "%");
}

TEST(HttpMessageTest, ErrorBodyShape) {
  HttpResponse r = HttpResponse::Error(400, "InvalidArgument", "line 3: bad \"field\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"line 3: bad \"field\"","code":"InvalidArgument"})");
}

TEST(HttpMessageTest, StatusMappingTable) {
  EXPECT_EQ(HttpResponse::FromStatus(NotFound("x")).status, 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(HttpMessageTest, JsonEscapeControlCharacters) {
  EXPECT_EQ(JsonEscape(std::string("a\x01"
                                   "b\tc",
                                   5)),
            "a\\u0001b\\tc");
}

}  // namespace
}  // namespace seaway
