// A fixed set of workers taking ranges of jobs from one queue. The calling
// thread works on its own job too, so a job finishes even when every worker
// is busy with other callers' jobs, and concurrent callers share the cores.
#include "runtime/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace ember::runtime {
namespace {

thread_local bool in_parallel_region = false;

// A job's pieces are dealt out in one contiguous run per thread: the caller
// has run 0, each worker takes the next run as it joins. A thread works
// through its own run in order, then helps with the others. Neighbouring
// pieces so stay on one core where they can: kernels whose pieces write next
// to each other (per-piece partial results) do not share cache lines across
// cores. (Handing pieces out one by one in order made the histogram sample,
// 16 rows of 256 counts, 15% slower.)
struct Job {
  struct alignas(64) Run {
    std::atomic<int64_t> next;  // the next piece of this run to hand out
    int64_t end;
  };

  Job(const std::function<void(int64_t, int64_t)>& body, int64_t n, int64_t pieces, int threads)
      : body(&body), n(n), pieces(pieces), runs(std::min<int64_t>(threads, pieces)),
        run(new Run[runs]), left(pieces) {
    for (int r = 0; r < runs; ++r) {
      run[r].next = pieces * r / runs;
      run[r].end = pieces * (r + 1) / runs;
    }
  }

  const std::function<void(int64_t, int64_t)>* body;
  int64_t n;
  int64_t pieces;
  int runs;
  std::unique_ptr<Run[]> run;
  std::atomic<int> joined{1};    // runs handed to threads so far (the caller's included)
  std::atomic<int64_t> left;     // pieces not finished yet
  std::mutex mu;
  std::condition_variable finished;
  std::exception_ptr error;
  int users = 0;  // workers holding a pointer to this job (guarded by the pool's mutex)

  // The run a joining worker starts with.
  int join() { return joined.fetch_add(1) % runs; }

  bool handed_out() const {
    for (int r = 0; r < runs; ++r)
      if (run[r].next.load() < run[r].end) return false;
    return true;
  }

  // Runs one piece, from run `own` while it lasts, then from the others;
  // false when none is left to take.
  bool run_one(int own) {
    for (int k = 0; k < runs; ++k) {
      Run& r = run[(own + k) % runs];
      if (r.next.load() >= r.end) continue;
      int64_t piece = r.next.fetch_add(1);
      if (piece >= r.end) continue;
      execute(piece);
      return true;
    }
    return false;
  }

 private:
  void execute(int64_t piece) {
    int64_t begin = n * piece / pieces, end = n * (piece + 1) / pieces;
    try {
      (*body)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
    if (left.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      finished.notify_all();
    }
  }
};

// Threads that wait for a short while spin instead of sleeping: a sleeping
// thread takes long to wake on a virtual machine (its idle CPU is halted:
// tens of microseconds), longer than a short parallel job takes. A program
// calling kernels in a loop finds the workers awake; the caller sees its job
// finish at once. (A vectorize kernel on 300k float64 in a loop: one thread
// 100 us a call; two threads 120 us sleeping, 60 us spinning.)
constexpr std::chrono::microseconds kSpin{200};

// Spins until done() or `until`; returns done().
template <class Done>
bool spin_until(std::chrono::steady_clock::time_point until, Done done) {
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();  // lets a thread that shares this CPU go on
  }
  return true;
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    try {
      for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error& e) {  // a pids or address-space limit
      size_t started = workers_.size();
      stop();
      throw std::runtime_error("ember's thread pool could not start thread " +
                               std::to_string(started + 2) + " of " + std::to_string(threads) +
                               " (" + e.what() + "); use fewer: ember.set_num_threads(n) or "
                               "EMBER_NUM_THREADS");
    }
  }

  ~Pool() { stop(); }

  int threads() const { return threads_; }

  // Ends and joins the workers.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      posted_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }
  // Whether a worker spins; if none does, wakes them all to spin.
  bool ready() {
    if (spinning_.load(std::memory_order_relaxed) > 0) return true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      posted_.fetch_add(1);
    }
    wake_.notify_all();
    return false;
  }

  void run(Job& job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(&job);
      posted_.fetch_add(1);
    }
    wake_.notify_all();
    in_parallel_region = true;
    while (job.run_one(0)) {
    }
    in_parallel_region = false;
    if (!spin_until(std::chrono::steady_clock::now() + kSpin, [&] { return job.left.load() == 0; })) {
      std::unique_lock<std::mutex> lock(job.mu);
      job.finished.wait(lock, [&] { return job.left.load() == 0; });
    }
    // The job lives on the caller's stack: wait until no worker can touch it.
    std::unique_lock<std::mutex> lock(mu_);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), &job), queue_.end());
    released_.wait(lock, [&] { return job.users == 0; });
  }

 private:
  void work() {
    in_parallel_region = true;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (!stop_ && queue_.empty()) {
        idle(lock);
        uint64_t seen = posted_.load();
        wake_.wait(lock, [&] { return stop_ || !queue_.empty() || posted_.load() != seen; });
        continue;  // woken without a job (ready()): watch again
      }
      if (stop_) return;
      Job* job = queue_.front();
      if (job->handed_out()) {  // retire it from the queue
        queue_.pop_front();
        continue;
      }
      ++job->users;
      lock.unlock();
      int own = job->join();
      while (job->run_one(own)) {
      }
      lock.lock();
      if (--job->users == 0) released_.notify_all();
    }
  }

  // Watches for a new job for kSpin (with `lock` released meanwhile), before
  // the caller goes to sleep. A job posted and already taken by the others
  // does not end the watch.
  void idle(std::unique_lock<std::mutex>& lock) {
    auto until = std::chrono::steady_clock::now() + kSpin;
    while (!stop_ && queue_.empty() && std::chrono::steady_clock::now() < until) {
      uint64_t seen = posted_.load();
      lock.unlock();
      spinning_.fetch_add(1);
      spin_until(until, [&] { return posted_.load(std::memory_order_relaxed) != seen; });
      spinning_.fetch_sub(1);
      lock.lock();
    }
  }

  int threads_;
  std::atomic<uint64_t> posted_{0};  // jobs posted (and stop requests)
  std::atomic<int> spinning_{0};     // workers watching for a job
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable released_;
  std::deque<Job*> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

int default_threads() {
  if (const char* env = std::getenv("EMBER_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::mutex pool_mu;
std::shared_ptr<Pool> pool;  // created on first use, replaced by set_num_threads
int wanted_threads = 0;

// A forked child has none of the pool's threads: abandon the pool (joining
// would wait forever) and the mutex (a vanished thread may hold it).
void after_fork_in_child() {
  new std::shared_ptr<Pool>(std::move(pool));  // leaked on purpose
  new (&pool_mu) std::mutex();
}

std::shared_ptr<Pool> get_pool() {
  static bool registered = (pthread_atfork(nullptr, nullptr, after_fork_in_child), true);
  (void)registered;
  std::lock_guard<std::mutex> lock(pool_mu);
  if (!wanted_threads) wanted_threads = default_threads();
  if (!pool) pool = std::make_shared<Pool>(wanted_threads);
  return pool;
}

}  // namespace

bool workers_ready() { return get_pool()->ready(); }

int num_threads() {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (!wanted_threads) wanted_threads = default_threads();
  return wanted_threads;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  std::lock_guard<std::mutex> lock(pool_mu);
  wanted_threads = n;
  // Running jobs keep the old pool alive; its last user joins its workers.
  if (pool && pool->threads() != n) pool.reset();
}

void parallel_for(int64_t n, int64_t pieces, const std::function<void(int64_t, int64_t)>& body) {
  pieces = std::min(pieces, n);
  if (pieces <= 1 || in_parallel_region) {
    if (n > 0) body(0, n);
    return;
  }
  std::shared_ptr<Pool> pool = get_pool();
  Job job(body, n, pieces, pool->threads());
  pool->run(job);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace ember::runtime
