// Tests for IoContextPool (src/net): one thread per context, connections placed round-robin.
#include "net/io_context_pool.h"

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

namespace seaway::net {
namespace {

namespace asio = boost::asio;

// The thread that runs `context`'s handlers.
std::thread::id RunsOn(asio::io_context& context) {
  std::promise<std::thread::id> id;
  asio::post(context, [&id] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

TEST(IoContextPoolTest, EachContextRunsOnItsOwnThread) {
  IoContextPool pool(3);
  pool.Start("test-pool");
  std::set<asio::io_context*> contexts;
  std::set<std::thread::id> threads;
  asio::io_context* first = nullptr;
  for (int i = 0; i < 6; ++i) {
    asio::io_context& context = pool.NextContext();
    if (first == nullptr) first = &context;
    contexts.insert(&context);
    const std::thread::id first = RunsOn(context);
    // Every handler of a context runs on the same thread, never the caller's.
    EXPECT_EQ(RunsOn(context), first);
    EXPECT_NE(first, std::this_thread::get_id());
    threads.insert(first);
  }
  EXPECT_EQ(contexts.size(), 3u);  // round-robin: six connections over three contexts
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(first, &pool.NextContext());  // the seventh wraps to the first
  // Accepts run on a thread of their own, never given a connection.
  EXPECT_EQ(contexts.count(&pool.AcceptContext()), 0u);
  EXPECT_EQ(threads.count(RunsOn(pool.AcceptContext())), 0u);
  pool.Join();
}

// A handler still pending at Join may own objects of another context (an accept holds the
// strand of the connection's context; a message to another connection holds its socket): they
// are dropped while every context still exists, whatever the order the contexts go in. (Under
// ASan, destroying the contexts without first shutting them all down reads freed memory here.)
TEST(IoContextPoolTest, PendingHandlersHoldingObjectsOfOtherContextsAreDroppedSafely) {
  auto pool = std::make_unique<IoContextPool>(2);
  pool->Start("test-pool");
  asio::io_context& connections = pool->NextContext();  // destroyed before the accept context
  auto foreign =
      std::make_shared<asio::steady_timer>(asio::make_strand(connections), std::chrono::hours(1));
  foreign->async_wait([](const boost::system::error_code&) {});
  auto pending = std::make_unique<asio::steady_timer>(pool->AcceptContext(), std::chrono::hours(1));
  bool ran = false;
  pending->async_wait([foreign, strand = asio::make_strand(connections),
                       &ran](const boost::system::error_code&) { ran = true; });
  foreign.reset();  // the pending handler holds the last reference
  pool->Join();
  pending.reset();  // the timer goes before its context; its handler stays queued (or dropped)
  pool.reset();
  EXPECT_FALSE(ran);
}

TEST(IoContextPoolTest, IdleContextsKeepRunningUntilReleased) {
  IoContextPool pool(2);
  pool.Start("test-pool");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // No work queued, yet both contexts still accept it: the pool holds them open.
  EXPECT_FALSE(pool.AllStopped());
  RunsOn(pool.NextContext());
  RunsOn(pool.NextContext());
  pool.Join();
}

TEST(IoContextPoolTest, ReleasedContextsStopOnceTheirWorkIsDone) {
  IoContextPool pool(2);
  pool.Start("test-pool");
  asio::steady_timer timer(pool.NextContext(), std::chrono::milliseconds(100));
  bool fired = false;
  timer.async_wait([&fired](const boost::system::error_code& ec) { fired = !ec; });
  pool.Release();
  // The idle context stops at once; the other runs its timer first.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(pool.AllStopped());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pool.AllStopped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(pool.AllStopped());
  pool.Join();
  EXPECT_TRUE(fired);
  pool.Join();  // idempotent
}

TEST(IoContextPoolTest, JoinDropsPendingWork) {
  IoContextPool pool(1);
  pool.Start("test-pool");
  asio::steady_timer timer(pool.NextContext(), std::chrono::hours(1));
  bool fired = false;
  timer.async_wait([&fired](const boost::system::error_code&) { fired = true; });
  const auto start = std::chrono::steady_clock::now();
  pool.Join();  // does not wait for the hour
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(fired);
}

TEST(IoContextPoolTest, NeverStartedPoolJoins) {
  IoContextPool pool(1);
  EXPECT_FALSE(pool.started());
  asio::io_context& context = pool.NextContext();
  EXPECT_EQ(&context, &pool.NextContext());
  EXPECT_NE(&context, &pool.AcceptContext());
  pool.Join();
}

}  // namespace
}  // namespace seaway::net
