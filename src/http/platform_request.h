// What the platform's REST handlers share (src/http): who the caller is and whether it may act,
// reading JSON bodies and path ids, paging lists, and the customer subtree a customer role is
// limited to. Used by platform_handlers.cc and the handlers of the entities that join it
// (assets, thing models, twins, tenants).
//
// Thread-safe: pure functions over a thread-safe MetadataStore.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_message.h"
#include "platform/metadata_store.h"

namespace seaway {

// The principal of the request's token; Unauthenticated when it has none or an invalid one.
Result<Principal> Caller(MetadataStore* metadata, const HttpRequest& request);

// The caller, when its token is valid and it holds `permission` (the router's authorizer has
// checked the route's declared access already; this keeps each handler safe on its own).
Result<Principal> Authorized(MetadataStore* metadata, const HttpRequest& request,
                             Permission permission);

// The JSON error answer for `status` (with WWW-Authenticate for 401).
HttpResponse Fail(const Status& status);

// How deep a JSON document the platform's routes take: an object or array inside this many
// others at most. Copying, comparing and printing a JSON value recurse once per level, so that a
// document nested a few hundred thousand levels deep (a 400 KB body) overflowed a thread's stack
// and stopped the server.
inline constexpr int kMaxJsonDepth = 64;

// `text` as JSON; InvalidArgument when it is not JSON or nests deeper than kMaxJsonDepth (the
// parse itself does not recurse, and keeps nothing below that depth).
Result<nlohmann::json> ParseJson(std::string_view text);

// The body as a JSON object; InvalidArgument otherwise.
Result<nlohmann::json> ParseObject(const std::string& body);
// The same, whose every key is one of `fields`: InvalidArgument naming the first other key and
// listing `fields`, so that a misspelt optional field ("scope", "expires_in", "custmer") is an
// error rather than a token, device or user made without it.
Result<nlohmann::json> ParseObject(const std::string& body,
                                   std::initializer_list<std::string_view> fields);

// A string field; nullopt when absent (or null) and not `required`.
Result<std::optional<std::string>> StringField(const nlohmann::json& j, const char* name,
                                               bool required);

// An optional id field (a non-negative integer); nullopt when absent or null.
Result<std::optional<uint64_t>> IdField(const nlohmann::json& j, const char* name);
Result<std::optional<CustomerId>> CustomerField(const nlohmann::json& j, const char* name);

// `limit` (default 100, at most 1,000) and `offset` from the query string.
struct PageRequest {
  size_t limit = 100;
  size_t offset = 0;
};
Result<PageRequest> Page(const HttpRequest& request);

// 200 {"items": [to_json(x) for the page], "total": all.size()}.
template <typename T, typename ToJson>
HttpResponse PageOf(const std::vector<T>& all, PageRequest page, ToJson to_json) {
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = page.offset; i < all.size() && items.size() < page.limit; ++i) {
    items.push_back(to_json(all[i]));
  }
  return HttpResponse::Json(200, nlohmann::json{{"items", items}, {"total", all.size()}}.dump());
}

nlohmann::json OptionalId(const std::optional<CustomerId>& id);

// InvalidArgument naming the first query parameter not in `allowed` (limit, offset and the
// token parameter p always are), so that a misspelt filter is an error rather than an unfiltered
// list.
Status OnlyQueryParams(const HttpRequest& request, std::initializer_list<std::string_view> allowed);

// An optional id from the query string; InvalidArgument naming the parameter otherwise.
Result<std::optional<uint64_t>> QueryId(const HttpRequest& request, const char* name);

// A list filter on an optional reference: `?<name>=<id>` (objects referring to that id) or
// `?<name>=<none_word>` (objects referring to none), e.g. `?customer=7`, `?customer=none`,
// `?parent=root`. InvalidArgument "'<name>' must be <what> or '<none_word>'" otherwise (`what`:
// "a customer id").
struct IdFilter {
  bool active = false;         // the parameter was given
  std::optional<uint64_t> id;  // unset: the objects that refer to none
  template <typename Id>
  bool Matches(const std::optional<Id>& value) const {
    if (!active) return true;
    return value ? id == value->value() : !id.has_value();
  }
};
Result<IdFilter> QueryIdFilter(const HttpRequest& request, const char* name, const char* what,
                               const char* none_word);

// The `{id}` path segment at `from_end` segments before the end (0: the last one).
Result<uint64_t> PathId(const HttpRequest& request, size_t from_end = 0);

// The customers a caller may see: nullopt (every one) for tenant roles, its subtree (sorted)
// for customer roles.
using VisibleCustomers = std::optional<std::vector<CustomerId>>;
Result<VisibleCustomers> Visible(MetadataStore* metadata, const Principal& who);
// True when `visible` includes `id`.
bool Contains(const VisibleCustomers& visible, CustomerId id);
// True when an object assigned to `customer` (none: the tenant's own) is visible.
bool ContainsOwner(const VisibleCustomers& visible, const std::optional<CustomerId>& customer);

// Device `id` if the caller may see it (customer roles: assigned to their subtree); NotFound
// otherwise, also when it exists outside the caller's reach (a customer cannot learn which ids
// exist elsewhere).
Result<DeviceInfo> VisibleDevice(MetadataStore* metadata, const Principal& who, uint64_t id);

// The caller, holding `permission`, and the device named by the path's `{id}` (`from_end`
// segments before the end) when the caller may see it (VisibleDevice).
struct CallerAndDevice {
  Principal who;
  DeviceInfo device;
};
Result<CallerAndDevice> AuthorizedDevice(MetadataStore* metadata, const HttpRequest& request,
                                         Permission permission, size_t from_end);

}  // namespace seaway
