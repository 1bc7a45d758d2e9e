// Client on Boost.Asio (src/mqtt).
#include "mqtt/client.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace seaway::mqtt {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct ClientLoop::Impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  std::vector<std::thread> threads;
};

ClientLoop::ClientLoop(int threads) : impl_(std::make_unique<Impl>()) {
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get(), i] {
      pthread_setname_np(pthread_self(), fmt::format("sw-mqttc-{}", i).c_str());
      impl->ioc.run();
    });
  }
}

ClientLoop::~ClientLoop() { Stop(); }

void ClientLoop::Stop() {
  impl_->guard.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

namespace {

class AsioClient final : public Client, public std::enable_shared_from_this<AsioClient> {
 public:
  AsioClient(ClientLoop* loop, ClientOptions options)
      : options_(std::move(options)),
        strand_(asio::make_strand(loop->impl()->ioc)),
        socket_(strand_),
        ping_timer_(strand_) {}

  void Connect(std::function<void(Status, const Connack&)> done) override {
    asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
      self->on_connack_ = std::move(done);
      auto resolver = std::make_shared<tcp::resolver>(self->strand_);
      resolver->async_resolve(
          self->options_.address.host, std::to_string(self->options_.address.port),
          [self, resolver](const error_code& ec, tcp::resolver::results_type results) {
            if (ec) return self->Fail(Unavailable("resolve: {}", ec.message()));
            asio::async_connect(
                self->socket_, results, [self](const error_code& ec2, const tcp::endpoint&) {
                  if (ec2) {
                    return self->Fail(Unavailable(
                        "connect to {}: {}", self->options_.address.ToString(), ec2.message()));
                  }
                  error_code ignored;
                  self->socket_.set_option(tcp::no_delay(true), ignored);
                  self->SendConnect();
                  self->Read();
                });
          });
    });
  }

  void Publish(mqtt::Publish p, std::function<void(ReasonCode)> done) override {
    asio::post(strand_,
               [self = shared_from_this(), p = std::move(p), done = std::move(done)]() mutable {
                 if (self->closed_) {
                   if (done) done(ReasonCode::kUnspecifiedError);
                   return;
                 }
                 if (p.qos > 0) {
                   p.packet_id = self->NextId();
                   self->pending_acks_[p.packet_id] = std::move(done);
                   self->in_flight_.store(self->pending_acks_.size(), std::memory_order_relaxed);
                   done = nullptr;
                 }
                 std::string bytes;
                 Encode(p, self->options_.version, &bytes);
                 self->Write(std::move(bytes));
                 if (done) done(ReasonCode::kSuccess);
               });
  }

  void Subscribe(std::vector<Subscription> subs, std::function<void(const Suback&)> done,
                 uint32_t subscription_id) override {
    asio::post(strand_, [self = shared_from_this(), subs = std::move(subs), done = std::move(done),
                         subscription_id]() mutable {
      mqtt::Subscribe s;
      s.packet_id = self->NextId();
      s.subscriptions = std::move(subs);
      if (subscription_id != 0) s.properties.subscription_identifiers.push_back(subscription_id);
      self->pending_subacks_[s.packet_id] = std::move(done);
      std::string bytes;
      Encode(s, self->options_.version, &bytes);
      self->Write(std::move(bytes));
    });
  }

  void OnMessage(std::function<void(const mqtt::Publish&)> handler) override {
    on_message_ = std::move(handler);
  }
  void OnClosed(std::function<void(const Status&)> handler) override {
    on_closed_ = std::move(handler);
  }

  void Disconnect() override {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->closed_) return;
      std::string bytes;
      Encode(mqtt::Disconnect{}, self->options_.version, &bytes);
      self->Write(std::move(bytes));
      self->close_after_write_ = true;
    });
  }

  void Abort() override {
    asio::post(strand_, [self = shared_from_this()] { self->Fail(Unavailable("aborted")); });
  }

  size_t in_flight() const override { return in_flight_.load(std::memory_order_relaxed); }

 private:
  uint16_t NextId() {
    do {
      next_id_ = static_cast<uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
    } while (pending_acks_.contains(next_id_) || pending_subacks_.contains(next_id_) ||
             incoming_qos2_.contains(next_id_));
    return next_id_;
  }

  void SendConnect() {
    mqtt::Connect c;
    c.version = options_.version;
    c.client_id = options_.client_id;
    c.username = options_.username;
    c.password = options_.password;
    c.keep_alive = options_.keep_alive;
    c.clean_start = options_.clean_start;
    c.will = options_.will;
    if (options_.version == Version::kV5 && options_.session_expiry != 0) {
      c.properties.session_expiry_interval = options_.session_expiry;
    }
    std::string bytes;
    Encode(c, options_.version, &bytes);
    Write(std::move(bytes));
    SchedulePing();
  }

  void SchedulePing() {
    if (options_.keep_alive == 0) return;
    ping_timer_.expires_after(std::chrono::seconds(options_.keep_alive) * 3 / 4);
    ping_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_) return;
      std::string bytes;
      Encode(Pingreq{}, self->options_.version, &bytes);
      self->Write(std::move(bytes));
      self->SchedulePing();
    });
  }

  void Write(std::string bytes) {
    out_.push_back(std::move(bytes));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (out_.empty()) {
      writing_ = false;
      if (close_after_write_) Fail(Status::OK());
      return;
    }
    writing_ = true;
    batch_.clear();
    batch_.swap(out_);
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch_.size());
    for (const std::string& b : batch_) buffers.emplace_back(b.data(), b.size());
    asio::async_write(socket_, buffers, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec) return self->Fail(Unavailable("write: {}", ec.message()));
      self->WriteNext();
    });
  }

  void Read() {
    if (buffer_.size() - used_ < 16 * 1024) buffer_.resize(std::max<size_t>(64 * 1024, used_ * 2));
    socket_.async_read_some(
        asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
        [self = shared_from_this()](const error_code& ec, size_t n) {
          if (ec) {
            return self->Fail(ec == asio::error::eof ? Unavailable("closed by the broker")
                                                     : Unavailable("read: {}", ec.message()));
          }
          self->used_ += n;
          size_t pos = 0;
          while (!self->closed_) {
            FixedHeader h;
            const std::string_view view(self->buffer_.data() + pos, self->used_ - pos);
            const FrameStatus st = ReadFixedHeader(view, 256 << 20, &h);
            if (st == FrameStatus::kNeedMore ||
                (st == FrameStatus::kComplete && view.size() < h.packet_size())) {
              break;
            }
            if (st != FrameStatus::kComplete) {
              return self->Fail(Corruption("malformed packet from the broker"));
            }
            self->Handle(h, view.substr(h.size, h.remaining_length));
            pos += h.packet_size();
          }
          if (self->closed_) return;
          std::memmove(self->buffer_.data(), self->buffer_.data() + pos, self->used_ - pos);
          self->used_ -= pos;
          self->Read();
        });
  }

  void Handle(const FixedHeader& h, std::string_view body) {
    Packet packet;
    DecodeError e = Decode(h.byte0, body, options_.version, &packet);
    if (!e.ok()) return Fail(Corruption("broker sent a bad packet: {}", e.message));
    switch (h.type()) {
      case PacketType::kConnack: {
        const Connack& ack = std::get<Connack>(packet);
        auto done = std::move(on_connack_);
        on_connack_ = nullptr;
        if (done) {
          done(IsError(ack.reason)
                   ? Unauthenticated("CONNACK refused: {}", ReasonCodeName(ack.reason))
                   : Status::OK(),
               ack);
        }
        break;
      }
      case PacketType::kPublish: {
        const mqtt::Publish& p = std::get<mqtt::Publish>(packet);
        if (p.qos == 2 && !incoming_qos2_.insert(p.packet_id).second) {
          // A resend before our PUBREC arrived: acknowledge again, deliver once.
        } else if (on_message_) {
          on_message_(p);
        }
        if (p.qos > 0) {
          std::string bytes;
          Encode(Ack{p.qos == 1 ? PacketType::kPuback : PacketType::kPubrec,
                     p.packet_id,
                     ReasonCode::kSuccess,
                     {}},
                 options_.version, &bytes);
          Write(std::move(bytes));
        }
        break;
      }
      case PacketType::kPuback:
      case PacketType::kPubcomp:
      case PacketType::kPubrec:
      case PacketType::kPubrel: {
        const Ack& ack = std::get<Ack>(packet);
        if (ack.type == PacketType::kPubrec && !IsError(ack.reason)) {
          std::string bytes;
          Encode(Ack{PacketType::kPubrel, ack.packet_id, ReasonCode::kSuccess, {}},
                 options_.version, &bytes);
          Write(std::move(bytes));
          break;
        }
        if (ack.type == PacketType::kPubrel) {
          incoming_qos2_.erase(ack.packet_id);
          std::string bytes;
          Encode(Ack{PacketType::kPubcomp, ack.packet_id, ReasonCode::kSuccess, {}},
                 options_.version, &bytes);
          Write(std::move(bytes));
          break;
        }
        auto it = pending_acks_.find(ack.packet_id);
        if (it == pending_acks_.end()) break;
        auto done = std::move(it->second);
        pending_acks_.erase(it);
        in_flight_.store(pending_acks_.size(), std::memory_order_relaxed);
        if (done) done(ack.reason);
        break;
      }
      case PacketType::kSuback: {
        const Suback& ack = std::get<Suback>(packet);
        auto it = pending_subacks_.find(ack.packet_id);
        if (it == pending_subacks_.end()) break;
        auto done = std::move(it->second);
        pending_subacks_.erase(it);
        if (done) done(ack);
        break;
      }
      case PacketType::kDisconnect: {
        const mqtt::Disconnect& d = std::get<mqtt::Disconnect>(packet);
        Fail(Unavailable("DISCONNECT from the broker: {}{}", ReasonCodeName(d.reason),
                         d.properties.reason_string ? ": " + *d.properties.reason_string : ""));
        break;
      }
      default: break;  // PINGRESP, UNSUBACK
    }
  }

  void Fail(const Status& why) {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    ping_timer_.cancel();
    socket_.close(ignored);
    if (on_connack_) {
      auto done = std::move(on_connack_);
      on_connack_ = nullptr;
      done(why.ok() ? Unavailable("closed before CONNACK") : why, Connack{});
    }
    auto acks = std::move(pending_acks_);
    pending_acks_.clear();
    in_flight_.store(0);
    for (auto& [id, done] : acks) {
      if (done) done(ReasonCode::kUnspecifiedError);
    }
    if (on_closed_) on_closed_(why);
  }

  const ClientOptions options_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer ping_timer_;
  // Strand only:
  std::function<void(Status, const Connack&)> on_connack_;
  std::function<void(const mqtt::Publish&)> on_message_;
  std::function<void(const Status&)> on_closed_;
  std::unordered_map<uint16_t, std::function<void(ReasonCode)>> pending_acks_;
  std::unordered_map<uint16_t, std::function<void(const Suback&)>> pending_subacks_;
  std::unordered_set<uint16_t> incoming_qos2_;
  uint16_t next_id_ = 0;
  std::vector<std::string> out_;
  std::vector<std::string> batch_;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  std::string buffer_;
  size_t used_ = 0;
  std::atomic<size_t> in_flight_{0};
};

}  // namespace

std::shared_ptr<Client> Client::Create(ClientLoop* loop, ClientOptions options) {
  return std::make_shared<AsioClient>(loop, std::move(options));
}

}  // namespace seaway::mqtt
