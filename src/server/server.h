// Server: wires the components of `seaway serve` together (src/server).
//
// Start() takes the data directory's lock, opens every component and listener, and logs one
// line per listener with its address; Stop() closes them in reverse order. Today that is the
// storage engine (in DATA_DIR/storage), the query engine over it, and the HTTP front end with
// /health, /metrics, the write routes and /api/v1/sql, and the MQTT broker with its telemetry
// bridge; the rest join here as their issues land (docs/ARCHITECTURE.md).
//
// Thread-compatible: Start and Stop are called by the owner thread.
#pragma once

#include <memory>

#include "common/metrics.h"
#include "http/asset_handlers.h"
#include "http/command_handlers.h"
#include "http/model_handlers.h"
#include "http/platform_handlers.h"
#include "http/router.h"
#include "http/sql_handlers.h"
#include "http/system_handlers.h"
#include "http/tenant_handlers.h"
#include "http/twin_handlers.h"
#include "http/write_handlers.h"
#include "platform/asset_store.h"
#include "platform/metadata_store.h"
#include "platform/model_cache.h"
#include "platform/model_store.h"
#include "platform/quota_enforcer.h"
#include "platform/tenant_settings_cache.h"
#include "query/query_engine.h"
#include "server/server_config.h"
#include "storage/engine.h"
#include "storage/env.h"

namespace seaway {

class DemoFeed;
class HttpServer;
namespace mqtt {
class Broker;
class BrokerStore;
class MqttServer;
class TelemetryBridge;
class TelemetrySchema;
class Authenticator;
}  // namespace mqtt

// The server's Router authorizer: a route's `access` (http/router.h) against the caller's token
// (a tenant token, a user's session): 401 without a valid token, 403 when the role lacks the
// route's permission.
// With `quotas`, an authenticated request also counts against its tenant's (and customer's)
// api_requests_per_s quota: 429 naming the quota past it.
Status AuthorizeRequest(MetadataStore* metadata, QuotaEnforcer* quotas, const HttpRequest& request,
                        std::string_view access);

class Server {
 public:
  // REQUIRES: config.Finalize() returned OK. `metadata_path` overrides DATA_DIR/metadata.db
  // (tests use ":memory:").
  explicit Server(ServerConfig config, Env* env = Env::Default(), std::string metadata_path = "");
  ~Server();

  Status Start();
  void Stop();

  // The default tenant's admin token file: DATA_DIR/admin-token.
  std::string admin_token_path() const;

  // Bound HTTP address. REQUIRES: Start() returned OK.
  HostPort http_address() const;
  // Bound MQTT address. REQUIRES: Start() returned OK.
  HostPort mqtt_address() const;
  MetricsRegistry* metrics() { return &metrics_; }
  // REQUIRES: Start() returned OK.
  Engine* engine() { return engine_.get(); }
  MetadataStore* metadata() { return metadata_.get(); }

 private:
  // Creates the `default` tenant and its admin token on first start (SEAWAY_ADMIN_TOKEN, or a
  // random one printed once); stores the token in DATA_DIR/admin-token, mode 0600.
  Status EnsureDefaultTenant();
  // Gives the engine every tenant's default retention (a tenant setting kept in metadata.db).
  Status ApplyTenantRetention();
  // Drops what a deleted tenant left outside the metadata store (its MQTT sessions and
  // retained messages, its stored data, cached answers) and makes the broker and the engine
  // refuse it from then on; run for each deleted tenant at every start too.
  Status PurgeTenant(TenantId tenant);

  const ServerConfig config_;
  Env* const env_;
  std::unique_ptr<FileLock> data_dir_lock_;
  MetricsRegistry metrics_;
  SystemInfo system_info_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<SqliteDatabase> metadata_db_;  // DATA_DIR/metadata.db, shared by the stores
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<QuotaEnforcer> quotas_;
  std::unique_ptr<TenantSettingsCache> tenant_settings_;
  std::unique_ptr<LoginLimiter> provision_limiter_;       // failed self-provisioning per address
  std::unique_ptr<mqtt::PublishHandler> publish_quotas_;  // quotas, then telemetry_
  std::unique_ptr<AssetStore> assets_;  // on metadata_db_, after metadata_ (its tables)
  std::unique_ptr<TwinStore> twins_;    // on metadata_db_, after metadata_ (its tables)
  std::unique_ptr<mqtt::PublishHandler> twin_bridge_;  // twin updates, then telemetry_
  WriteRoutesContext write_context_;
  CommandRoutesContext command_context_;
  PlatformRoutesContext platform_context_;
  TenantRoutesContext tenant_context_;
  AssetRoutesContext asset_context_;
  std::unique_ptr<ModelStore> model_store_;  // thing models, in metadata_db_
  std::unique_ptr<ModelCache> models_;       // over model_store_: what routes and MQTT use
  std::unique_ptr<mqtt::TelemetrySchema> telemetry_schema_;  // models_ for the bridge
  ModelRoutesContext model_context_;
  TwinRoutesContext twin_context_;
  std::unique_ptr<query::QueryEngine> queries_;
  std::unique_ptr<SqlService> sql_;
  const std::string metadata_path_;
  Router router_;

 public:
  // The routes served, with the access each declares (tests walk them).
  const Router& router() const { return router_; }

 private:
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<mqtt::Authenticator> mqtt_auth_;
  std::unique_ptr<mqtt::TelemetryBridge> telemetry_;
  std::unique_ptr<mqtt::BrokerStore> broker_store_;
  std::unique_ptr<mqtt::Broker> broker_;
  std::unique_ptr<mqtt::MqttServer> mqtt_;
  std::unique_ptr<DemoFeed> demo_;
};

}  // namespace seaway
