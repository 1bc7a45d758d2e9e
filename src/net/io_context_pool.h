// IoContextPool: one Asio io_context per thread, for the listeners (src/net).
//
// A connection is placed on one context for its whole life, so the thread that epoll wakes for
// its bytes also parses them, runs what answers on that thread, and writes the answer: no
// hand-off between threads inside a request. (One io_context shared by several threads wakes a
// second thread for handlers the first one queued: two context switches a request, measured at
// about 30% of a small HTTP request's time on a 2-core machine; docs/ARCHITECTURE.md.)
// Connections are spread round-robin over the contexts.
//
// Start/Release/Join are called from one owner thread; NextContext from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace seaway::net {

class IoContextPool {
 public:
  // `threads` contexts (at least one), none running until Start.
  explicit IoContextPool(int threads);
  ~IoContextPool();
  IoContextPool(const IoContextPool&) = delete;
  IoContextPool& operator=(const IoContextPool&) = delete;

  // The context for the next connection (round-robin).
  boost::asio::io_context& NextContext();
  // The first context: where listeners accept.
  boost::asio::io_context& FirstContext() { return *contexts_.front(); }

  // Runs each context on a thread named `<name_prefix>-<i>`; a context runs while it has work
  // or until Release.
  void Start(const std::string& name_prefix);
  bool started() const { return !threads_.empty(); }

  // Lets each thread end once its context runs out of work (its connections closed).
  void Release();
  // Whether every context has run out of work. REQUIRES: Release was called.
  bool AllStopped() const;
  // Stops every context (pending handlers are dropped) and joins the threads. Idempotent.
  void Join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::optional<WorkGuard>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace seaway::net
