// The process-wide worker pool that splits a kernel's index space across
// cores. Safe to call from many threads at once, from inside a running
// parallel region (runs serially there) and after fork() (a child starts a
// fresh pool).
#pragma once

#include <cstdint>
#include <functional>

namespace ember::runtime {

// Threads used by parallel_for, the caller included. Default: the
// EMBER_NUM_THREADS environment variable, else the number of cores.
int num_threads();
void set_num_threads(int n);  // n >= 1

// Runs body(begin, end) over [0, n) in `pieces` contiguous ranges (at most
// n), on the pool and on the calling thread; returns when all are done. An
// exception from a piece is rethrown here after the others finish.
void parallel_for(int64_t n, int64_t pieces, const std::function<void(int64_t, int64_t)>& body);

}  // namespace ember::runtime
