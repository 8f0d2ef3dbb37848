// The thread pool: every index runs once, nested regions run serially instead
// of deadlocking, errors come back to the caller, concurrent callers share it,
// neighbouring pieces stay on one thread, idle workers join new jobs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

TEST(ThreadPool, EveryIndexRunsExactlyOnce) {
  set_num_threads(4);
  std::vector<std::atomic<int>> hits(10007);
  parallel_for(10007, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

// Each thread works through a contiguous run of pieces (neighbouring pieces
// often write neighbouring memory); dealing them out one by one in order
// would give every thread every other piece.
TEST(ThreadPool, NeighbouringPiecesRunOnOneThread) {
  set_num_threads(2);
  constexpr int kPieces = 16;
  std::vector<std::thread::id> ran_on(kPieces);
  parallel_for(kPieces, kPieces, [&](int64_t b, int64_t) {
    ran_on[b] = std::this_thread::get_id();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  });
  int same = 0;
  for (int p = 0; p + 1 < kPieces; ++p) same += ran_on[p] == ran_on[p + 1];
  EXPECT_GE(same, kPieces / 2) << "neighbouring pieces ran on different threads";
}

// A worker waits for the next job spinning for a while, then asleep: it
// joins a job posted in either state.
TEST(ThreadPool, WorkersJoinWhetherSpinningOrAsleep) {
  set_num_threads(2);
  for (int pause_ms : {0, 0, 20, 0, 20}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    std::thread::id ran_on[2];
    parallel_for(2, 2, [&](int64_t b, int64_t) {
      ran_on[b] = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // ample time to wake
    });
    EXPECT_NE(ran_on[0], ran_on[1]) << "after a pause of " << pause_ms << " ms";
  }
}

// workers_ready() says whether a worker is spinning for work, and wakes
// sleeping ones, so that a caller asking again soon finds them ready.
TEST(ThreadPool, ReadyWakesSleepingWorkers) {
  set_num_threads(2);
  parallel_for(2, 2, [](int64_t, int64_t) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // long past the spin
  EXPECT_FALSE(workers_ready());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) ready = workers_ready();
  EXPECT_TRUE(ready);
}

TEST(ThreadPool, NestedRegionsDoNotDeadlock) {
  set_num_threads(3);
  std::atomic<int64_t> total{0};
  parallel_for(8, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(100, 8, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 800);
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  set_num_threads(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(64, 8,
                            [&](int64_t b, int64_t) {
                              ran++;
                              if (b == 0) throw std::runtime_error("boom");
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 8);  // the other pieces still finished
}

TEST(ThreadPool, ConcurrentCallersAndResizing) {
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t)
    callers.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        if (t == 0 && r % 20 == 0) set_num_threads(1 + r % 4);
        parallel_for(1000, 4, [&](int64_t b, int64_t e) { total += e - b; });
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(total.load(), 6 * 200 * 1000);
}

TEST(ThreadPool, SingleThreadRunsOnTheCaller) {
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  std::thread::id caller = std::this_thread::get_id(), seen;
  parallel_for(100, 4, [&](int64_t, int64_t) { seen = std::this_thread::get_id(); });
  EXPECT_EQ(seen, caller);
}

}  // namespace
}  // namespace ember::runtime
