// Shared pieces of the platform's REST handlers (src/http/platform_request.h).
#include "http/platform_request.h"

#include <algorithm>

#include "http/write_handlers.h"

namespace seaway {

using nlohmann::json;

Result<Principal> Caller(MetadataStore* metadata, const HttpRequest& request) {
  const std::string token = RequestToken(request);
  if (token.empty()) {
    return Unauthenticated("missing token: send 'Authorization: Token <token>' (or Bearer)");
  }
  return metadata->AuthenticatePrincipal(token);
}

Result<Principal> Authorized(MetadataStore* metadata, const HttpRequest& request,
                             Permission permission) {
  SW_ASSIGN_OR_RETURN(Principal who, Caller(metadata, request));
  if (!who.Can(permission)) {
    return who.Refusal(permission);
  }
  return who;
}

HttpResponse Fail(const Status& status) {
  HttpResponse r = HttpResponse::FromStatus(status);
  if (status.code() == StatusCode::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Token");
  }
  return r;
}

namespace {

// `text` parsed, discarded when it is not JSON; *too_deep when it nests past kMaxJsonDepth (the
// parse keeps nothing below that depth).
json ParseBounded(std::string_view text, bool* too_deep) {
  *too_deep = false;
  return json::parse(
      text,
      [too_deep](int depth, json::parse_event_t, json&) {
        if (depth <= kMaxJsonDepth) return true;
        *too_deep = true;
        return false;
      },
      /*allow_exceptions=*/false);
}

Status TooDeep() {
  return InvalidArgument("the JSON nests deeper than {} levels of objects and arrays",
                         kMaxJsonDepth);
}

}  // namespace

Result<json> ParseJson(std::string_view text) {
  bool too_deep;
  json j = ParseBounded(text, &too_deep);
  if (too_deep) return TooDeep();
  if (j.is_discarded()) return InvalidArgument("not valid JSON");
  return j;
}

Result<json> ParseObject(const std::string& body) {
  bool too_deep;
  json j = ParseBounded(body, &too_deep);
  if (too_deep) return TooDeep();
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("the body must be a JSON object");
  return j;
}

Result<json> ParseObject(const std::string& body, std::initializer_list<std::string_view> fields) {
  SW_ASSIGN_OR_RETURN(json j, ParseObject(body));
  for (const auto& [key, value] : j.items()) {
    if (std::find(fields.begin(), fields.end(), key) != fields.end()) continue;
    std::string list;
    for (std::string_view name : fields)
      list += fmt::format("{}{}", list.empty() ? "" : ", ", name);
    return InvalidArgument("unknown field '{}'; the fields are {}", key, list);
  }
  return j;
}

Result<std::optional<std::string>> StringField(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument("missing '{}'", name);
    return std::optional<std::string>();
  }
  if (!it->is_string()) return InvalidArgument("'{}' must be a string", name);
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<uint64_t>> IdField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<uint64_t>();
  if (!it->is_number_unsigned()) return InvalidArgument("'{}' must be an id", name);
  return std::optional<uint64_t>(it->get<uint64_t>());
}

Result<std::optional<CustomerId>> CustomerField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<CustomerId>();
  if (!it->is_number_unsigned()) return InvalidArgument("'{}' must be a customer id", name);
  return std::optional<CustomerId>(CustomerId(it->get<uint64_t>()));
}

Result<PageRequest> Page(const HttpRequest& request) {
  PageRequest page;
  for (auto [name, value, max] : {std::tuple("limit", &page.limit, size_t{1000}),
                                  std::tuple("offset", &page.offset, SIZE_MAX)}) {
    auto text = request.QueryParam(name);
    if (!text) continue;
    if (text->empty() || text->size() > 18 ||
        text->find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("'{}' must be a non-negative integer", name);
    }
    *value = std::stoull(*text);
    if (*value > max) return InvalidArgument("'{}' must be at most {}", name, max);
  }
  return page;
}

json OptionalId(const std::optional<CustomerId>& id) {
  return id ? json(id->value()) : json(nullptr);
}

Status OnlyQueryParams(const HttpRequest& request,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : request.QueryParams()) {
    if (key == "limit" || key == "offset" || key == "p") continue;  // p: a token (RequestToken)
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string expected;
    for (std::string_view name : allowed) expected += fmt::format("{}, ", name);
    return InvalidArgument("unknown query parameter '{}' (expected {}limit, offset)", key,
                           expected);
  }
  return Status::OK();
}

Result<std::optional<uint64_t>> QueryId(const HttpRequest& request, const char* name) {
  auto text = request.QueryParam(name);
  if (!text) return std::optional<uint64_t>();
  if (text->empty() || text->size() > 18 ||
      text->find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'{}' must be an id", name);
  }
  return std::optional<uint64_t>(std::stoull(*text));
}

Result<IdFilter> QueryIdFilter(const HttpRequest& request, const char* name, const char* what,
                               const char* none_word) {
  IdFilter filter;
  if (request.QueryParam(name) == none_word) {
    filter.active = true;
    return filter;
  }
  auto id = QueryId(request, name);
  if (!id.ok()) return InvalidArgument("'{}' must be {} or '{}'", name, what, none_word);
  filter.active = id->has_value();
  filter.id = *id;
  return filter;
}

Result<uint64_t> PathId(const HttpRequest& request, size_t from_end) {
  std::string_view path = request.path();
  for (size_t i = 0; i < from_end; ++i) path = path.substr(0, path.rfind('/'));
  const std::string_view id = path.substr(path.rfind('/') + 1);
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'{}' is not an id", id);
  }
  return std::stoull(std::string(id));
}

Result<VisibleCustomers> Visible(MetadataStore* metadata, const Principal& who) {
  if (!IsCustomerRole(who.role)) return VisibleCustomers();
  if (!who.customer) return PermissionDenied("a customer role without a customer");
  SW_ASSIGN_OR_RETURN(auto subtree, metadata->CustomerSubtree(who.tenant, *who.customer));
  return VisibleCustomers(std::move(subtree));
}

bool Contains(const VisibleCustomers& visible, CustomerId id) {
  return !visible || std::binary_search(visible->begin(), visible->end(), id);
}

bool ContainsOwner(const VisibleCustomers& visible, const std::optional<CustomerId>& customer) {
  return !visible || (customer && Contains(visible, *customer));
}

Result<DeviceInfo> VisibleDevice(MetadataStore* metadata, const Principal& who, uint64_t id) {
  SW_ASSIGN_OR_RETURN(auto visible, Visible(metadata, who));
  SW_ASSIGN_OR_RETURN(auto all, metadata->ListDevices(who.tenant));
  for (const DeviceInfo& d : all) {
    if (d.id.value() != id) continue;
    if (!ContainsOwner(visible, d.customer)) break;
    return d;
  }
  return NotFound("device {} does not exist", id);
}

Result<CallerAndDevice> AuthorizedDevice(MetadataStore* metadata, const HttpRequest& request,
                                         Permission permission, size_t from_end) {
  SW_ASSIGN_OR_RETURN(Principal who, Authorized(metadata, request, permission));
  SW_ASSIGN_OR_RETURN(const uint64_t id, PathId(request, from_end));
  SW_ASSIGN_OR_RETURN(DeviceInfo device, VisibleDevice(metadata, who, id));
  return CallerAndDevice{std::move(who), std::move(device)};
}

}  // namespace seaway
