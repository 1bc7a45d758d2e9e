// Server wiring (src/server).
#include "server/server.h"

#include <cstdlib>

#include "common/logging.h"
#include "common/version.h"
#include "http/command_handlers.h"
#include "http/http_server.h"
#include "http/openapi.h"
#include "http/tenant_handlers.h"
#include "http/twin_handlers.h"
#include "http/write_handlers.h"
#include "mqtt/broker.h"
#include "mqtt/broker_store.h"
#include "mqtt/mqtt_server.h"
#include "mqtt/telemetry_bridge.h"
#include "mqtt/twin_bridge.h"
#include "platform/login_limiter.h"
#include "server/demo_feed.h"

namespace seaway {
namespace {

// MQTT clients authenticate as a device (its own topics only) with the device's TLS client
// certificate (registered by fingerprint), its token as the password (any user name), or its
// own user name and password; or as the whole tenant with a tenant token or a tenant
// administrator's session as the password.
// Failed CONNECTs count per user name and per address (LoginLimiter, as for HTTP logins): after
// 5 in 15 minutes for a user name, or 100 from an address (many devices may share one behind a
// NAT, and one misconfigured device must not lock out a plant), the next ones are refused with
// 0x9F, even with the right token.
class TokenAuthenticator final : public mqtt::Authenticator {
 public:
  explicit TokenAuthenticator(MetadataStore* metadata)
      : metadata_(metadata),
        users_(Clock::Real()),
        addresses_(Clock::Real(), LoginLimiterOptions{.max_failures = 100}) {}
  Result<mqtt::ClientIdentity> Authenticate(std::string_view,
                                            const std::optional<std::string>& user,
                                            const std::optional<std::string>& password,
                                            std::string_view address,
                                            std::string_view certificate_sha256) override {
    const std::string address_key = fmt::format("mqtt-addr:{}", address);
    const std::string user_key = fmt::format("mqtt-user:{}", user.value_or(""));
    SW_RETURN_IF_ERROR(addresses_.Check(address_key, fmt::format("address {}", address)));
    if (user) SW_RETURN_IF_ERROR(users_.Check(user_key, fmt::format("user name '{}'", *user)));
    Result<mqtt::ClientIdentity> identity = Identify(user, password, certificate_sha256);
    if (!identity.ok() && identity.status().code() != StatusCode::kIOError) {
      addresses_.RecordFailure(address_key);
      if (user) users_.RecordFailure(user_key);
    } else if (identity.ok() && user) {
      users_.RecordSuccess(user_key);
    }
    return identity;
  }

 private:
  // In order: a device's registered TLS certificate, a device token as the password, a
  // device's user name and password, a tenant token or tenant-admin session as the password.
  Result<mqtt::ClientIdentity> Identify(const std::optional<std::string>& user,
                                        const std::optional<std::string>& password,
                                        std::string_view certificate_sha256) {
    // A certificate identifies only a client that sends no password: fingerprints are public,
    // and a device that authenticates otherwise must stay itself whatever certificate it shows.
    if (!password || password->empty()) {
      if (certificate_sha256.empty()) return Unauthenticated("no password");
      auto device = metadata_->AuthenticateDeviceCertificate(certificate_sha256);
      if (!device.ok()) return device.status();
      return mqtt::ClientIdentity{device->first, device->second.name};
    }
    auto device = metadata_->AuthenticateDevice(*password);
    if (device.ok()) return mqtt::ClientIdentity{device->first, device->second.name};
    if (device.status().code() != StatusCode::kUnauthenticated) return device.status();
    auto who = metadata_->AuthenticatePrincipal(*password);
    if (who.ok()) {
      // A tenant token's scopes apply here too: the tenant's topics need data.write.
      if (who->role != Role::kTenantAdmin || !who->Can(Permission::kDataWrite)) {
        return PermissionDenied("role '{}' has no MQTT access", RoleName(who->role));
      }
      return mqtt::ClientIdentity{who->tenant, ""};
    }
    if (who.status().code() != StatusCode::kUnauthenticated) return who.status();
    // Last, as it costs an Argon2id verification (also for unknown names, so that timing does
    // not tell them apart).
    if (!user || user->empty()) return Unauthenticated("invalid credentials");
    device = metadata_->AuthenticateDevicePassword(*user, *password);
    if (!device.ok()) return device.status();
    return mqtt::ClientIdentity{device->first, device->second.name};
  }

  MetadataStore* const metadata_;
  LoginLimiter users_;
  LoginLimiter addresses_;
};

// Every PUBLISH counts against its tenant's messages_per_s quota (and its device's customer's)
// and is refused while the tenant is at its stored_bytes quota (0x97 quota exceeded); the others
// go on to the telemetry bridge.
class QuotaPublishHandler final : public mqtt::PublishHandler {
 public:
  QuotaPublishHandler(QuotaEnforcer* quotas, mqtt::PublishHandler* next)
      : quotas_(quotas), next_(next) {}
  void OnPublish(const mqtt::Message& message,
                 std::function<void(mqtt::ReasonCode, std::string)> done) override {
    // devices/<device>/...: the device (its ACL keeps a device to its own topics).
    std::string_view device;
    if (std::string_view topic = message.topic; topic.starts_with("devices/")) {
      topic.remove_prefix(8);
      device = topic.substr(0, topic.find('/'));
    }
    if (Status s = quotas_->AdmitMessages(message.tenant, device); !s.ok()) {
      return done(s.code() == StatusCode::kResourceExhausted ? mqtt::ReasonCode::kQuotaExceeded
                                                             : mqtt::ReasonCode::kUnspecifiedError,
                  std::string(s.message()));
    }
    next_->OnPublish(message, std::move(done));
  }

 private:
  QuotaEnforcer* const quotas_;
  mqtt::PublishHandler* const next_;
};

// The bridge's view of thing models: the in-memory cache, never a query per message.
class ModelSchema final : public mqtt::TelemetrySchema {
 public:
  explicit ModelSchema(ModelCache* cache) : cache_(cache) {}
  Result<std::shared_ptr<const ThingModel>> ModelFor(TenantId tenant,
                                                     std::string_view device) override {
    return cache_->ModelFor(tenant, device);
  }
  Result<std::shared_ptr<const TableModels>> ModelsByTable(TenantId tenant) override {
    return cache_->ModelsByTable(tenant);
  }

 private:
  ModelCache* const cache_;
};

}  // namespace

Status AuthorizeRequest(MetadataStore* metadata, QuotaEnforcer* quotas, const HttpRequest& request,
                        std::string_view access) {
  if (access == kPublicAccess) return Status::OK();
  const std::string token = RequestToken(request);
  if (token.empty()) {
    return Unauthenticated("missing token: send 'Authorization: Token <token>' (or Bearer)");
  }
  SW_ASSIGN_OR_RETURN(const Principal who, metadata->AuthenticatePrincipal(token));
  if (access != kAuthenticatedAccess) {
    SW_ASSIGN_OR_RETURN(const Permission permission, ParsePermission(access));
    if (!who.Can(permission)) {
      return who.Refusal(permission);
    }
  }
  if (quotas != nullptr) SW_RETURN_IF_ERROR(quotas->AdmitRequest(who));
  return Status::OK();
}

Server::Server(ServerConfig config, Env* env, std::string metadata_path)
    : config_(std::move(config)), env_(env), metadata_path_(std::move(metadata_path)) {}

std::string Server::admin_token_path() const { return JoinPath(config_.data_dir, "admin-token"); }

Status Server::EnsureDefaultTenant() {
  const char* configured = std::getenv("SEAWAY_ADMIN_TOKEN");
  auto tenant = metadata_->FindTenant("default");
  if (tenant.ok()) {
    // A configured admin token always works, also when it was set after the first start.
    if (configured != nullptr && !metadata_->Authenticate(configured).ok()) {
      SW_RETURN_IF_ERROR(metadata_->AddToken(*tenant, configured, "admin (SEAWAY_ADMIN_TOKEN)",
                                             TokenKind::kSystem));
    }
    return Status::OK();
  }
  if (tenant.status().code() != StatusCode::kNotFound) return tenant.status();
  SW_ASSIGN_OR_RETURN(TenantId id, metadata_->CreateTenant("default"));
  std::string token;
  if (configured != nullptr) {
    token = configured;
  } else {
    SW_ASSIGN_OR_RETURN(token, NewRandomToken());
  }
  SW_RETURN_IF_ERROR(metadata_->AddToken(id, token, "admin", TokenKind::kSystem)
                         .WithContext("SEAWAY_ADMIN_TOKEN"));
  SW_RETURN_IF_ERROR(
      WriteFileAtomically(env_, admin_token_path(), token + "\n", FileAccess::kOwnerOnly));
  if (configured == nullptr) {
    log::Warn(
        "created tenant 'default' with an admin token; it is shown once here and kept in "
        "the file (mode 0600)",
        {{"token", token}, {"file", admin_token_path()}});
  } else {
    log::Info("created tenant 'default' with the admin token from SEAWAY_ADMIN_TOKEN",
              {{"file", admin_token_path()}});
  }
  return Status::OK();
}

Status Server::ApplyTenantRetention() {
  SW_ASSIGN_OR_RETURN(const std::vector<TenantInfo> tenants, metadata_->ListTenants());
  for (const TenantInfo& t : tenants) {
    std::optional<Duration> keep;
    if (t.settings.retention_s) keep = Duration::Seconds(*t.settings.retention_s);
    if (keep != engine_->Retention(t.id, "", "")) {
      SW_RETURN_IF_ERROR(engine_->SetTenantRetention(t.id, keep));
    }
  }
  return Status::OK();
}

Status Server::PurgeTenant(TenantId tenant) {
  broker_->DropTenant(tenant);
  quotas_->Invalidate(tenant);
  tenant_settings_->Invalidate(tenant);
  models_->Invalidate();
  return engine_->DropTenant(tenant);
}

Server::~Server() { Stop(); }

Status Server::Start() {
  SW_RETURN_IF_ERROR(CreateDirs(env_, config_.data_dir).WithContext("--data-dir"));
  Result<std::unique_ptr<FileLock>> lock = env_->LockFile(JoinPath(config_.data_dir, "LOCK"));
  if (!lock.ok()) return lock.status();
  data_dir_lock_ = std::move(*lock);

  SW_ASSIGN_OR_RETURN(engine_, Engine::Open(env_, JoinPath(config_.data_dir, "storage"),
                                            config_.engine, &metrics_));
  SW_ASSIGN_OR_RETURN(
      metadata_db_,
      SqliteDatabase::Open(metadata_path_.empty() ? JoinPath(config_.data_dir, "metadata.db")
                                                  : metadata_path_));
  SW_ASSIGN_OR_RETURN(metadata_, OpenSqliteMetadataStore(metadata_db_));
  SW_ASSIGN_OR_RETURN(assets_, OpenSqliteAssetStore(metadata_db_));
  SW_ASSIGN_OR_RETURN(twins_, OpenSqliteTwinStore(metadata_db_));
  SW_ASSIGN_OR_RETURN(model_store_, OpenSqliteModelStore(metadata_db_));
  models_ = std::make_unique<ModelCache>(model_store_.get());
  telemetry_schema_ = std::make_unique<ModelSchema>(models_.get());
  SW_RETURN_IF_ERROR(EnsureDefaultTenant());
  quotas_ = std::make_unique<QuotaEnforcer>(
      metadata_.get(), Clock::Real(),
      [engine = engine_.get()](TenantId tenant) { return engine->StoredBytes(tenant); });
  SW_RETURN_IF_ERROR(ApplyTenantRetention());
  tenant_settings_ = std::make_unique<TenantSettingsCache>(metadata_.get());

  system_info_ = SystemInfo{&metrics_, Clock::Real(), Clock::Real()->Now(),
                            Clock::Real()->MonotonicNanos(), config_.metrics_public};
  RegisterProcessMetrics(&metrics_, &system_info_);
  AddSystemRoutes(&router_, &system_info_);
  write_context_ = WriteRoutesContext{
      engine_.get(),  metadata_.get(), Clock::Real(), &metrics_, config_.http_max_body_bytes,
      config_.ingest, quotas_.get(),   models_.get()};
  AddWriteRoutes(&router_, &write_context_);
  queries_ = std::make_unique<query::QueryEngine>(engine_.get(), Clock::Real());
  SqlServiceOptions sql_options;
  sql_options.timeout = std::chrono::milliseconds(config_.sql_timeout_ms);
  sql_options.max_memory_bytes = static_cast<size_t>(config_.sql_max_memory_mb) << 20;
  sql_options.threads = config_.sql_threads;
  sql_options.max_queued = config_.sql_max_queued;
  sql_options.tenant_settings = tenant_settings_.get();
  sql_ = std::make_unique<SqlService>(queries_.get(), metadata_.get(), &metrics_, sql_options);
  sql_->AddRoutes(&router_);

  mqtt_auth_ = std::make_unique<TokenAuthenticator>(metadata_.get());
  telemetry_ = std::make_unique<mqtt::TelemetryBridge>(
      engine_.get(), Clock::Real(), &metrics_, config_.ingest, /*rounds_in_flight=*/2,
      telemetry_schema_.get(), Duration::Micros(config_.mqtt_write_interval_us));
  // Tests that keep metadata in memory keep the broker's state there too.
  SW_ASSIGN_OR_RETURN(broker_store_,
                      mqtt::OpenSqliteBrokerStore(metadata_path_ == ":memory:"
                                                      ? metadata_path_
                                                      : JoinPath(config_.data_dir, "mqtt.db")));
  // Every PUBLISH: quotas, then twin updates, then telemetry.
  twin_bridge_ = std::make_unique<mqtt::TwinBridge>(twins_.get(), telemetry_.get());
  publish_quotas_ = std::make_unique<QuotaPublishHandler>(quotas_.get(), twin_bridge_.get());
  broker_ = std::make_unique<mqtt::Broker>(config_.broker, mqtt_auth_.get(), publish_quotas_.get(),
                                           broker_store_.get(), &metrics_, Clock::Real());
  SW_RETURN_IF_ERROR(broker_->Start());
  // Deleted tenants, again: the broker's saved state may predate a deletion, the server may
  // have stopped before their data was gone, and the engine and broker refuse their writes and
  // CONNECTs only once told. A failure leaves the data for the next start, not the server down.
  SW_ASSIGN_OR_RETURN(const std::vector<TenantId> deleted, metadata_->DeletedTenants());
  for (TenantId tenant : deleted) {
    if (Status s = PurgeTenant(tenant); !s.ok()) {
      log::Warn("dropping a deleted tenant's data failed; retried at the next start",
                {{"tenant", tenant.value()}, {"error", s.ToString()}});
    }
  }
  command_context_ =
      CommandRoutesContext{broker_.get(), metadata_.get(), Clock::Real(), models_.get()};
  AddCommandRoutes(&router_, &command_context_);
  provision_limiter_ = std::make_unique<LoginLimiter>(Clock::Real());
  platform_context_ = PlatformRoutesContext{metadata_.get(), quotas_.get(), broker_.get(),
                                            provision_limiter_.get()};
  // A self-provisioned device follows its key's thing model.
  platform_context_.on_provisioned = [models = models_.get()](const ProvisioningKeyInfo& key,
                                                              DeviceId device) -> Status {
    if (key.model.empty()) return Status::OK();
    SW_ASSIGN_OR_RETURN(const std::vector<StoredModel> all, models->ListModels(key.tenant));
    for (const StoredModel& m : all) {
      if (m.model.name == key.model) return models->AssignModel(key.tenant, device, m.id);
    }
    return FailedPrecondition("provisioning key '{}' names model '{}', which does not exist",
                              key.name, key.model);
  };
  // A deleted device's model goes with it (ON DELETE CASCADE); its cached answer too.
  platform_context_.device_deleted = [models = models_.get(), broker = broker_.get()](
                                         TenantId tenant, const DeviceInfo& device) {
    models->Invalidate();
    mqtt::ClearDesired(broker, tenant, device.name);  // its twin went with it
  };
  AddPlatformRoutes(&router_, &platform_context_);
  tenant_context_ =
      TenantRoutesContext{metadata_.get(), quotas_.get(), engine_.get(), tenant_settings_.get(),
                          [this](TenantId tenant) { return PurgeTenant(tenant); }};
  AddTenantRoutes(&router_, &tenant_context_);
  asset_context_ = AssetRoutesContext{metadata_.get(), assets_.get()};
  AddAssetRoutes(&router_, &asset_context_);
  model_context_ = ModelRoutesContext{metadata_.get(), models_.get()};
  AddModelRoutes(&router_, &model_context_);
  twin_context_ = TwinRoutesContext{metadata_.get(), twins_.get(), broker_.get()};
  AddTwinRoutes(&router_, &twin_context_);
  AddOpenApiRoute(&router_);  // last: it documents every route above
  router_.SetAuthorizer([metadata = metadata_.get(), quotas = quotas_.get()](
                            const HttpRequest& request, std::string_view access) -> Status {
    return AuthorizeRequest(metadata, quotas, request, access);
  });

  HttpServerOptions http_options;
  http_options.address = config_.http_address;
  http_options.threads = config_.http_threads;
  http_options.max_body_bytes = config_.http_max_body_bytes;
  http_options.max_connections = config_.http_max_connections;
  http_options.max_inflight_bytes = config_.http_max_inflight_bytes;
  http_options.tls_cert_file = config_.http_tls_cert;
  http_options.tls_key_file = config_.http_tls_key;
  // MQTT over WebSocket on the HTTP listener (browsers, and clients behind HTTP proxies).
  http_options.websocket_routes.push_back(
      WebSocketRoute{"/mqtt", "mqtt", [broker = broker_.get()](std::shared_ptr<ByteLink> link) {
                       return broker->Accept(std::move(link));
                     }});
  http_ = std::make_unique<HttpServer>(http_options, &router_, &metrics_);
  SW_RETURN_IF_ERROR(http_->Start());

  log::Info("seaway started", {{"version", kVersion}, {"data_dir", config_.data_dir}});
  log::Info("listening", {{"listener", config_.http_tls() ? "https" : "http"},
                          {"address", http_->local_address().ToString()}});
  mqtt_ = std::make_unique<mqtt::MqttServer>(config_.mqtt_listener, broker_.get(), &metrics_);
  SW_RETURN_IF_ERROR(mqtt_->Start());
  log::Info("listening", {{"listener", "mqtt"}, {"address", mqtt_->local_address().ToString()}});
  if (config_.mqtt_listener.tls_address) {
    log::Info("listening", {{"listener", "mqtts"}, {"address", mqtt_->tls_address().ToString()}});
  }
  if (config_.demo) {
    // The demo machines authenticate like any device: with the admin token.
    const char* configured = std::getenv("SEAWAY_ADMIN_TOKEN");
    std::string token = configured != nullptr ? configured : "";
    if (token.empty()) {
      Result<std::string> file = ReadFileToString(env_, admin_token_path());
      if (file.ok()) token = file->substr(0, file->find_first_of(" \t\r\n"));
    }
    demo_ = std::make_unique<DemoFeed>(mqtt_->local_address(), token, &metrics_);
    if (Status s = demo_->Start(); !s.ok()) {
      log::Warn("demo feed not started", {{"error", s.ToString()}});
      demo_.reset();
    }
  }
  return Status::OK();
}

void Server::Stop() {
  if (demo_) {
    demo_->Stop();
    demo_.reset();
  }
  if (mqtt_) {  // closes every MQTT connection (WebSocket ones too) and saves the broker's state
    mqtt_->Stop();
    mqtt_.reset();
  }
  if (http_) {
    http_->Stop();
    http_.reset();
  }
  // After the HTTP listener: its command route and WebSocket upgrades use the broker. The
  // telemetry bridge first: it waits for its writes in flight, whose completions still
  // acknowledge through the broker.
  telemetry_.reset();
  broker_.reset();
  broker_store_.reset();
  if (sql_) {  // after the listener: a query still streaming finds its client gone and ends
    sql_->Stop();
    sql_.reset();
  }
  queries_.reset();
  if (engine_) {
    engine_->Close();
    engine_.reset();
  }
  data_dir_lock_.reset();
}

HostPort Server::http_address() const { return http_->local_address(); }

HostPort Server::mqtt_address() const { return mqtt_->local_address(); }

}  // namespace seaway
