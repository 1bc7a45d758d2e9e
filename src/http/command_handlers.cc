// Commands down to devices (src/http).
#include "http/command_handlers.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/platform_request.h"
#include "http/write_handlers.h"

namespace seaway {
namespace {

constexpr int64_t kDefaultTimeoutMs = 10'000;
constexpr int64_t kMaxTimeoutMs = 300'000;

struct CommandRequest {
  std::string device;
  std::string method;
  std::string params = "{}";  // serialized JSON
  bool wait = false;
  int64_t timeout_ms = kDefaultTimeoutMs;
  uint8_t qos = 1;
};

Result<CommandRequest> ParseCommand(const std::string& body) {
  SW_ASSIGN_OR_RETURN(nlohmann::json doc, ParseObject(body));  // depth-bounded (kMaxJsonDepth)
  CommandRequest out;
  for (auto& [key, value] : doc.items()) {
    if (key == "device" || key == "method") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return InvalidArgument("'{}' must be a non-empty string", key);
      }
      (key == "device" ? out.device : out.method) = value.get<std::string>();
    } else if (key == "params") {
      out.params = value.dump();
    } else if (key == "wait") {
      if (!value.is_boolean()) return InvalidArgument("'wait' must be true or false");
      out.wait = value.get<bool>();
    } else if (key == "timeout_ms") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > kMaxTimeoutMs) {
        return InvalidArgument("'timeout_ms' must be an integer from 1 to {}", kMaxTimeoutMs);
      }
      out.timeout_ms = value.get<int64_t>();
    } else if (key == "qos") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 2) {
        return InvalidArgument("'qos' must be 0, 1 or 2");
      }
      out.qos = static_cast<uint8_t>(value.get<int64_t>());
    } else {
      return InvalidArgument(
          "unknown key '{}': expected device, method, params, wait, timeout_ms and qos", key);
    }
  }
  if (out.device.empty()) return InvalidArgument("missing 'device'");
  if (out.method.empty()) return InvalidArgument("missing 'method'");
  // It names an MQTT topic level: no level separator or wildcard, and no U+0000 or other
  // control character, which MQTT forbids in topic names (a subscriber would drop the
  // connection on such a PUBLISH).
  if (out.device.find_first_of("/+#") != std::string::npos ||
      std::any_of(out.device.begin(), out.device.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return InvalidArgument("'device' must not contain '/', '+', '#' or control characters");
  }
  return out;
}

// Why a command to `device` on `topic` reached no session: the device is not listening, or, for
// a name that is no device of the tenant (a typo), that it does not exist. A tenant's token may
// still answer for such a name, so only a command nobody receives is refused for it.
std::string NobodyListens(const CommandRoutesContext* ctx, const Principal& who,
                          const std::string& device, const std::string& topic) {
  // Customer roles reach only their subtree's devices, which exist (checked before).
  if (!IsCustomerRole(who.role)) {
    Result<std::vector<DeviceInfo>> devices = ctx->metadata->ListDevices(who.tenant);
    if (devices.ok() && std::none_of(devices->begin(), devices->end(),
                                     [&](const DeviceInfo& d) { return d.name == device; })) {
      return fmt::format("device '{}' does not exist, and no session subscribes to '{}'", device,
                         topic);
    }
  }
  return fmt::format(
      "no session subscribes to '{}': device '{}' is not listening for commands (it subscribes "
      "to devices/{}/rpc/request/+)",
      topic, device, device);
}

std::string NewCommandId(const Clock* clock) {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{:x}-{:x}", clock->Now().nanos(), counter.fetch_add(1));
}

void HandleCommand(const CommandRoutesContext* ctx, const HttpRequest& request, HttpReply reply) {
  const std::string token = RequestToken(request);
  Result<Principal> who = token.empty() ? Result<Principal>(Unauthenticated("missing token"))
                                        : ctx->metadata->AuthenticatePrincipal(token);
  if (!who.ok()) {
    HttpResponse r = HttpResponse::Error(
        401, "Unauthenticated",
        token.empty() ? "missing token: send 'Authorization: Token <token>'" : "invalid token");
    r.headers.emplace_back("WWW-Authenticate", "Token");
    return reply.Send(std::move(r));
  }
  if (!who->Can(Permission::kCommandsSend)) {
    return reply.Send(HttpResponse::FromStatus(who->Refusal(Permission::kCommandsSend)));
  }
  Result<CommandRequest> parsed = ParseCommand(request.body);
  if (!parsed.ok()) {
    return reply.Send(HttpResponse::Error(400, "InvalidArgument", parsed.status().message()));
  }
  const CommandRequest& cmd = *parsed;
  // A customer's admin commands only its own devices.
  Result<std::optional<std::vector<std::string>>> visible = VisibleDeviceNames(ctx->metadata, *who);
  if (!visible.ok()) return reply.Send(HttpResponse::FromStatus(visible.status()));
  if (*visible && !std::binary_search((*visible)->begin(), (*visible)->end(), cmd.device)) {
    return reply.Send(HttpResponse::FromStatus(
        NotFound("device '{}' is not one of your customer's devices", cmd.device)));
  }
  if (ctx->models != nullptr) {
    Result<std::shared_ptr<const ThingModel>> model =
        ctx->models->ModelFor(who->tenant, cmd.device);
    if (!model.ok()) return reply.Send(HttpResponse::FromStatus(model.status()));
    if (*model != nullptr) {
      if (Status s = ValidateCommand(**model, cmd.method, cmd.params); !s.ok()) {
        return reply.Send(HttpResponse::FromStatus(s));
      }
    }
  }
  const std::string id = NewCommandId(ctx->clock);
  const std::string topic = fmt::format("devices/{}/rpc/request/{}", cmd.device, id);
  const std::string response_topic = fmt::format("devices/{}/rpc/response/{}", cmd.device, id);

  mqtt::Message message;
  message.tenant = who->tenant;
  message.topic = topic;
  message.payload =
      nlohmann::json{{"method", cmd.method}, {"params", nlohmann::json::parse(cmd.params)}}.dump();
  message.qos = cmd.qos;
  message.properties.response_topic = response_topic;
  message.properties.correlation_data = id;
  message.properties.content_type = "application/json";

  const int64_t started = ctx->clock->MonotonicNanos();
  // Wait before publishing, so that a fast device's answer is not missed.
  auto shared_reply = std::make_shared<std::optional<HttpReply>>(std::move(reply));
  auto answered = std::make_shared<std::atomic<bool>>(false);
  if (cmd.wait) {
    const bool waiting = ctx->broker->AwaitMessage(
        who->tenant, response_topic, Duration::Millis(cmd.timeout_ms),
        [shared_reply, answered, id, clock = ctx->clock, started, device = cmd.device,
         timeout = cmd.timeout_ms](const mqtt::Message* response) {
          if (answered->exchange(true)) return;
          HttpReply out = std::move(**shared_reply);
          if (response == nullptr) {
            return out.Send(HttpResponse::Error(
                504, "DeadlineExceeded",
                fmt::format("device '{}' did not answer command {} within {} ms", device, id,
                            timeout)));
          }
          nlohmann::json body{{"id", id}};
          // The device's answer as JSON when it is JSON (and not nested too deep to print),
          // else as a string.
          Result<nlohmann::json> payload = ParseJson(response->payload);
          body["response"] = payload.ok() ? std::move(*payload) : nlohmann::json(response->payload);
          body["latency_ms"] = static_cast<double>(clock->MonotonicNanos() - started) / 1e6;
          out.Send(HttpResponse::Json(200, body.dump()));
        });
    if (!waiting) {
      answered->store(true);
      return (*shared_reply)
          ->Send(HttpResponse::Error(409, "AlreadyExists", "a command with this id is pending"));
    }
  }
  const size_t sessions = ctx->broker->PublishInternal(std::move(message));
  if (sessions == 0) {
    if (answered->exchange(true)) return;  // cannot happen: nobody could have answered
    // The waiter (if any) stays until its timeout and then finds the reply taken.
    return (*shared_reply)
        ->Send(HttpResponse::Error(404, "NotFound", NobodyListens(ctx, *who, cmd.device, topic)));
  }
  if (!cmd.wait) {
    answered->store(true);
    nlohmann::json body{{"id", id}, {"topic", topic}, {"sessions", sessions}};
    (*shared_reply)->Send(HttpResponse::Json(202, body.dump()));
  }
}

}  // namespace

void AddCommandRoutes(Router* router, const CommandRoutesContext* ctx) {
  router->Add(HttpMethod::kPost, "/api/v1/commands", "commands", "commands.send",
              [ctx](const HttpRequest& request, HttpReply reply) {
                HandleCommand(ctx, request, std::move(reply));
              });
}

}  // namespace seaway
