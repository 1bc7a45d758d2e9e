// IoContextPool implementation (src/net).
#include "net/io_context_pool.h"

#include <pthread.h>

#include <algorithm>
#include <thread>

#include "common/check.h"

namespace seaway::net {

IoContextPool::IoContextPool(int threads) {
  const int per_core = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n = (threads > 0 ? threads : per_core) + 1;  // the last: the accept context
  contexts_.reserve(n);
  guards_.reserve(n);
  for (int i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<Context>());
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoContextPool::~IoContextPool() { Join(); }

boost::asio::io_context& IoContextPool::NextContext() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % (contexts_.size() - 1)];
}

void IoContextPool::Start(const std::string& name_prefix) {
  SW_CHECK(threads_.empty());
  for (size_t i = 0; i < contexts_.size(); ++i) {
    const bool accept = i + 1 == contexts_.size();
    std::string name = name_prefix + "-" + (accept ? std::string("accept") : std::to_string(i));
    threads_.emplace_back([context = contexts_[i].get(), name = std::move(name)] {
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      context->run();
    });
  }
}

void IoContextPool::Release() {
  for (auto& guard : guards_) guard.reset();
}

bool IoContextPool::AllStopped() const {
  return std::all_of(contexts_.begin(), contexts_.end(),
                     [](const auto& context) { return context->stopped(); });
}

void IoContextPool::Join() {
  Release();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  for (auto& context : contexts_) context->shutdown();
}

}  // namespace seaway::net
