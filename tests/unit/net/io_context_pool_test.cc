// Tests for IoContextPool (src/net): one thread per context, connections placed round-robin.
#include "net/io_context_pool.h"

#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
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
  for (int i = 0; i < 6; ++i) {
    asio::io_context& context = pool.NextContext();
    contexts.insert(&context);
    const std::thread::id first = RunsOn(context);
    // Every handler of a context runs on the same thread, never the caller's.
    EXPECT_EQ(RunsOn(context), first);
    EXPECT_NE(first, std::this_thread::get_id());
    threads.insert(first);
  }
  EXPECT_EQ(contexts.size(), 3u);  // round-robin: six connections over three contexts
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(&pool.FirstContext(), &pool.NextContext());  // the seventh wraps to the first
  pool.Join();
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
  asio::steady_timer timer(pool.FirstContext(), std::chrono::hours(1));
  bool fired = false;
  timer.async_wait([&fired](const boost::system::error_code&) { fired = true; });
  const auto start = std::chrono::steady_clock::now();
  pool.Join();  // does not wait for the hour
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(fired);
}

TEST(IoContextPoolTest, NeverStartedPoolJoins) {
  IoContextPool pool(0);  // at least one context
  EXPECT_FALSE(pool.started());
  asio::io_context& context = pool.NextContext();
  EXPECT_EQ(&context, &pool.FirstContext());
  pool.Join();
}

}  // namespace
}  // namespace seaway::net
