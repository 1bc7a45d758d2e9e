// Server wiring (src/server).
#include "server/server.h"

#include "common/logging.h"
#include "common/version.h"
#include "http/http_server.h"
#include "server/demo_feed.h"

namespace seaway {

Server::Server(ServerConfig config, Env* env) : config_(std::move(config)), env_(env) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  SW_RETURN_IF_ERROR(CreateDirs(env_, config_.data_dir).WithContext("--data-dir"));
  Result<std::unique_ptr<FileLock>> lock = env_->LockFile(JoinPath(config_.data_dir, "LOCK"));
  if (!lock.ok()) return lock.status();
  data_dir_lock_ = std::move(*lock);

  SW_ASSIGN_OR_RETURN(engine_, Engine::Open(env_, JoinPath(config_.data_dir, "storage"),
                                            config_.engine, &metrics_));

  system_info_ =
      SystemInfo{&metrics_, Clock::Real(), Clock::Real()->Now(), Clock::Real()->MonotonicNanos()};
  RegisterProcessMetrics(&metrics_, &system_info_);
  AddSystemRoutes(&router_, &system_info_);

  HttpServerOptions http_options;
  http_options.address = config_.http_address;
  http_options.threads = config_.http_threads;
  http_options.max_body_bytes = config_.http_max_body_bytes;
  http_ = std::make_unique<HttpServer>(http_options, &router_, &metrics_);
  SW_RETURN_IF_ERROR(http_->Start());

  log::Info("seaway started", {{"version", kVersion}, {"data_dir", config_.data_dir}});
  log::Info("listening", {{"listener", "http"}, {"address", http_->local_address().ToString()}});
  if (config_.demo) {
    demo_ = std::make_unique<DemoFeed>(engine_.get(), &metrics_);
    demo_->Start();
  }
  log::Warn("mqtt listener not started: the broker is not built yet",
            {{"listener", "mqtt"}, {"address", config_.mqtt_address.ToString()}});
  return Status::OK();
}

void Server::Stop() {
  if (demo_) {
    demo_->Stop();
    demo_.reset();
  }
  if (http_) {
    http_->Stop();
    http_.reset();
  }
  if (engine_) {
    engine_->Close();
    engine_.reset();
  }
  data_dir_lock_.reset();
}

HostPort Server::http_address() const { return http_->local_address(); }

}  // namespace seaway
