// IoContextPool: one Asio io_context per thread, for the listeners (src/net).
//
// A connection is placed on one context for its whole life, so the thread that epoll wakes for
// its bytes also parses them, runs what answers on that thread, and writes the answer: no
// hand-off between threads inside a request. (One io_context shared by several threads wakes a
// second thread for handlers the first one queued: two context switches a request, measured at
// about 30% of a small HTTP request's time on a 2-core machine; docs/ARCHITECTURE.md.)
// Connections are spread round-robin over the contexts. Listeners accept on a context of their
// own (one more thread, idle but for accepts), so that a connection's long handler (a large
// body parsed) never delays accepting the others.
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
  // `threads` contexts for connections (0 or less: one per core) and the accept context, none
  // running until Start.
  explicit IoContextPool(int threads);
  ~IoContextPool();
  IoContextPool(const IoContextPool&) = delete;
  IoContextPool& operator=(const IoContextPool&) = delete;

  // The context for the next connection (round-robin).
  boost::asio::io_context& NextContext();
  // Where listeners accept (and resolve their addresses); no connection is placed on it.
  boost::asio::io_context& AcceptContext() { return *contexts_.back(); }

  // Runs each connection context on a thread named `<name_prefix>-<i>` and the accept context
  // on `<name_prefix>-accept`; a context runs while it has work or until Release.
  // REQUIRES: not started yet.
  void Start(const std::string& name_prefix);
  bool started() const { return !threads_.empty(); }

  // Lets each thread end once its context runs out of work (its connections closed).
  void Release();
  // Whether every context has run out of work. REQUIRES: Release was called.
  bool AllStopped() const;
  // Stops every context and joins the threads, then drops every context's pending handlers
  // (connections still open are closed). Idempotent.
  void Join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  // An io_context whose services can be shut down before it is destroyed: a pending handler of
  // one context may hold a connection (socket, strand) of another, so every context drops its
  // handlers while every context's services still exist.
  class Context : public boost::asio::io_context {
   public:
    Context() : boost::asio::io_context(1) {}  // one thread runs it; posts from others are safe
    using boost::asio::execution_context::shutdown;
  };

  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<std::optional<WorkGuard>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace seaway::net
