// Tests for Router and HttpReply (src/http/router.h).
#include "http/router.h"

#include <optional>

#include <gtest/gtest.h>

namespace seaway {
namespace {

// Dispatches `method path` and returns the response the handler sent.
HttpResponse Call(const Router& router, HttpMethod method, std::string target) {
  HttpRequest request;
  request.method = method;
  request.target = std::move(target);
  std::optional<HttpResponse> out;
  router.Dispatch(request, HttpReply([&](HttpResponse r) { out = std::move(r); }));
  EXPECT_TRUE(out.has_value());
  return out.value_or(HttpResponse{});
}

Router MakeRouter() {
  Router router;
  router.Add(HttpMethod::kGet, "/a", "a", "public",
             SyncHandler([](const HttpRequest&) { return HttpResponse::Text(200, "got a"); }));
  router.Add(HttpMethod::kPost, "/a", "a_post", "public",
             SyncHandler([](const HttpRequest& r) { return HttpResponse::Text(201, r.body); }));
  return router;
}

TEST(RouterTest, DispatchesByMethodAndPath) {
  Router router = MakeRouter();
  EXPECT_EQ(Call(router, HttpMethod::kGet, "/a?x=1").body, "got a");
  EXPECT_EQ(Call(router, HttpMethod::kPost, "/a").status, 201);
  EXPECT_EQ(Call(router, HttpMethod::kHead, "/a").status, 200);  // HEAD uses the GET route
}

TEST(RouterTest, UnknownPathIs404WithJson) {
  Router router = MakeRouter();
  HttpResponse r = Call(router, HttpMethod::kGet, "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"no route for '/nope'","code":"NotFound"})");
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router = MakeRouter();
  HttpResponse r = Call(router, HttpMethod::kDelete, "/a");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, POST");
}

TEST(RouterTest, RouteNames) {
  Router router = MakeRouter();
  HttpRequest r;
  r.target = "/a";
  EXPECT_EQ(router.RouteName(r), "a");
  r.target = "/zzz";
  EXPECT_EQ(router.RouteName(r), "unmatched");
}

TEST(RouterTest, DroppedReplyAnswers500) {
  Router router;
  router.Add(HttpMethod::kGet, "/forgets", "forgets", "public",
             [](const HttpRequest&, HttpReply) {});
  HttpResponse r = Call(router, HttpMethod::kGet, "/forgets");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("did not produce a response"), std::string::npos);
}

TEST(RouterTest, ReplyCanBeSentLater) {
  Router router;
  std::optional<HttpReply> parked;
  router.Add(HttpMethod::kGet, "/later", "later", "public",
             [&](const HttpRequest&, HttpReply reply) { parked.emplace(std::move(reply)); });
  std::optional<HttpResponse> out;
  HttpRequest request;
  request.target = "/later";
  router.Dispatch(request, HttpReply([&](HttpResponse r) { out = std::move(r); }));
  EXPECT_FALSE(out.has_value());
  parked->Send(HttpResponse::Text(202, "done"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, 202);
}

TEST(RouterTest, TheAuthorizerSeesEveryRouteButPublicOnes) {
  Router router;
  std::vector<std::string> asked;
  router.SetAuthorizer([&](const HttpRequest& request, std::string_view access) -> Status {
    asked.emplace_back(access);
    if (request.Header("Authorization") == std::nullopt) return Unauthenticated("missing token");
    if (access == "users.manage") return PermissionDenied("role 'viewer' lacks it");
    return Status::OK();
  });
  int ran = 0;
  auto ok = [&](const HttpRequest&) {
    ++ran;
    return HttpResponse::Text(200, "ran");
  };
  router.Add(HttpMethod::kGet, "/open", "open", std::string(kPublicAccess), SyncHandler(ok));
  router.Add(HttpMethod::kGet, "/data", "data", "data.read", SyncHandler(ok));
  router.Add(HttpMethod::kGet, "/users", "users", "users.manage", SyncHandler(ok));
  auto call = [&](const char* path, bool token) {
    HttpRequest request;
    request.target = path;
    if (token) request.headers.emplace_back("Authorization", "Token t");
    std::optional<HttpResponse> out;
    router.Dispatch(request, HttpReply([&](HttpResponse r) { out = std::move(r); }));
    return *out;
  };
  EXPECT_EQ(call("/open", false).status, 200);
  HttpResponse missing = call("/data", false);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.headers,
            (std::vector<std::pair<std::string, std::string>>{{"WWW-Authenticate", "Token"}}));
  EXPECT_EQ(call("/data", true).status, 200);
  HttpResponse denied = call("/users", true);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("lacks it"), std::string::npos);
  EXPECT_EQ(ran, 2);  // the handlers of refused calls never ran
  EXPECT_EQ(asked, (std::vector<std::string>{"data.read", "data.read", "users.manage"}));
}

TEST(RouterTest, PathParametersMatchOneSegmentAndExactPathsWin) {
  EXPECT_TRUE(PathMatches("/api/v1/devices/{id}", "/api/v1/devices/42"));
  EXPECT_FALSE(PathMatches("/api/v1/devices/{id}", "/api/v1/devices/"));
  EXPECT_FALSE(PathMatches("/api/v1/devices/{id}", "/api/v1/devices"));
  EXPECT_FALSE(PathMatches("/api/v1/devices/{id}", "/api/v1/devices/42/x"));
  EXPECT_FALSE(PathMatches("/api/v1/devices/{id}", "/api/v1/users/42"));
  EXPECT_TRUE(PathMatches("/a", "/a"));
  EXPECT_FALSE(PathMatches("/a", "/a/"));
  Router router;
  router.Add(HttpMethod::kGet, "/d/{id}", "one", "public",
             SyncHandler([](const HttpRequest& r) { return HttpResponse::Text(200, r.target); }));
  router.Add(HttpMethod::kGet, "/d/all", "all", "public",
             SyncHandler([](const HttpRequest&) { return HttpResponse::Text(200, "all"); }));
  EXPECT_EQ(Call(router, HttpMethod::kGet, "/d/7").body, "/d/7");
  EXPECT_EQ(Call(router, HttpMethod::kGet, "/d/all").body, "all");
  HttpResponse wrong = Call(router, HttpMethod::kDelete, "/d/7");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(Call(router, HttpMethod::kGet, "/d/7/x").status, 404);
}

TEST(RouterDeathTest, DuplicateRouteIsAProgrammingError) {
  Router router = MakeRouter();
  EXPECT_DEATH(router.Add(HttpMethod::kGet, "/a", "again", "public",
                          SyncHandler([](const HttpRequest&) { return HttpResponse{}; })),
               "check failed");
}

}  // namespace
}  // namespace seaway
