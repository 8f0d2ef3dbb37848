// The output block cache: exact-size free lists under one mutex, bounded in
// total size, fork-safe, never destroyed (arrays may be freed at exit).
#include "runtime/buffer_pool.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace ember::runtime {
namespace {

struct Pool {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free;  // by exact size
  std::deque<std::pair<void*, size_t>> order;  // oldest first, for eviction
  size_t cached = 0;

  void take(void* block, size_t bytes) {
    auto it = free.find(bytes);
    it->second.erase(std::find(it->second.begin(), it->second.end(), block));
    if (it->second.empty()) free.erase(it);
    order.erase(std::find(order.begin(), order.end(), std::make_pair(block, bytes)));
    cached -= bytes;
  }
};

Pool& pool() {
  static Pool* p = [] {
    // A forked child may inherit the mutex locked by a thread it does not have.
    pthread_atfork(nullptr, nullptr, [] { new (&pool().mu) std::mutex(); });
    return new Pool();
  }();
  return *p;
}

// Large blocks ask for transparent huge pages, as NumPy's own allocator does.
void* fresh(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p && bytes >= (size_t{4} << 20)) {
    auto start = (reinterpret_cast<uintptr_t>(p) + 4095) & ~uintptr_t{4095};
    auto end = reinterpret_cast<uintptr_t>(p) + bytes;
    if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  }
  return p;
}

}  // namespace

void* pool_acquire(size_t bytes) {
  if (bytes >= kPoolMinBytes) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mu);
    auto it = p.free.find(bytes);
    if (it != p.free.end() && !it->second.empty()) {
      void* block = it->second.back();
      p.take(block, bytes);
      return block;
    }
  }
  return fresh(bytes);
}

void pool_release(void* block, size_t bytes) {
  if (!block) return;
  if (bytes < kPoolMinBytes || bytes > kPoolMaxBytes) return std::free(block);
  std::vector<void*> evicted;  // freed after the lock: unmapping can take a while
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mu);
    while (p.cached + bytes > kPoolMaxBytes) {
      auto [old, size] = p.order.front();
      p.take(old, size);
      evicted.push_back(old);
    }
    p.free[bytes].push_back(block);
    p.order.emplace_back(block, bytes);
    p.cached += bytes;
  }
  for (void* old : evicted) std::free(old);
}

size_t pool_cached_bytes() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.cached;
}

}  // namespace ember::runtime
