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

// Whether a pool worker is awake, spinning for its next job: a job posted
// now starts on it at once. A sleeping one takes long to wake on a virtual
// machine, and its core runs slowly for a while after. When none is awake,
// wakes them (they spin for a while) so that the next call finds them so.
bool workers_ready();

// Runs body(begin, end) over [0, n) in `pieces` contiguous ranges (at most
// n), on the pool and on the calling thread; returns when all are done. An
// exception from a piece is rethrown here after the others finish.
void parallel_for(int64_t n, int64_t pieces, const std::function<void(int64_t, int64_t)>& body);

}  // namespace ember::runtime
