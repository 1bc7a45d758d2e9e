// IoContextPool implementation (src/net).
#include "net/io_context_pool.h"

#include <pthread.h>

#include <algorithm>

namespace seaway::net {

IoContextPool::IoContextPool(int threads) {
  const int n = std::max(1, threads);
  contexts_.reserve(n);
  guards_.reserve(n);
  for (int i = 0; i < n; ++i) {
    // Concurrency hint 1: one thread runs each context (other threads still post to it safely).
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoContextPool::~IoContextPool() { Join(); }

boost::asio::io_context& IoContextPool::NextContext() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoContextPool::Start(const std::string& name_prefix) {
  for (size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back(
        [context = contexts_[i].get(), name = name_prefix + "-" + std::to_string(i)] {
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
}

}  // namespace seaway::net
