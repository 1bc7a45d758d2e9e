// DemoFeed (src/server).
#include "server/demo_feed.h"

#include "common/logging.h"
#include "simulate/simulator.h"

namespace seaway {

DemoFeed::DemoFeed(HostPort mqtt, std::string token, MetricsRegistry* metrics, int machines,
                   Duration interval)
    : mqtt_(std::move(mqtt)), token_(std::move(token)), machines_(machines), interval_(interval) {
  rows_ = metrics->GetCounter("seaway_demo_rows_total",
                              "Demo readings acknowledged by the broker (stored durably)");
}

DemoFeed::~DemoFeed() { Stop(); }

Status DemoFeed::Start() {
  SimulatorOptions o;
  o.mqtt = mqtt_;
  o.token = token_;
  o.devices = machines_;
  o.rate = 1e9 / static_cast<double>(interval_.nanos());
  o.qos = 1;
  o.format = SimulatorOptions::Format::kLine;
  o.database = "demo";
  o.id_prefix = "m";
  o.acknowledged_counter = rows_;
  simulator_ = std::make_unique<Simulator>(o);
  if (Status s = simulator_->Start(); !s.ok()) {
    simulator_.reset();
    return s.WithContext("demo feed");
  }
  log::Info("demo feed started", {{"machines", machines_},
                                  {"table", "demo.machine"},
                                  {"interval_ms", interval_.nanos() / 1'000'000},
                                  {"via", "mqtt write/demo"}});
  return Status::OK();
}

void DemoFeed::Stop() {
  if (simulator_) {
    simulator_->Stop();
    simulator_.reset();
  }
}

}  // namespace seaway
