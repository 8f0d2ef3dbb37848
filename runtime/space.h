// What the elementwise and reduce launchers share: the index space after
// broadcasting and merging dimensions, and the buffered block loop that runs
// compiled code over strided operands.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/launch.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {

inline int64_t itemsize(ir::Scalar s) { return ir::bits_of(s) / 8; }

// Calls of kMinParallelElements or more use the pool when its workers are
// awake (a program calling kernels in a loop; a call that finds them asleep
// runs alone and wakes them for the next), those of kParallelElements or
// more always. Waking a sleeping worker costs more than it saves below that
// on a virtual machine: `2.5 * x + y` on 262144 float64 after 2 ms idle took
// 228 us on one thread and 322 us on two (on 1M elements two win, 1141 vs
// 1431 us); called in a loop, two threads win from about 24k elements.
inline constexpr int64_t kMinParallelElements = 1 << 15;
inline constexpr int64_t kParallelElements = 1 << 19;

// The threads for a call over `total` elements.
inline int threads_for(int64_t total) {
  if (total < kMinParallelElements) return 1;
  int threads = num_threads();
  return threads > 1 && (total >= kParallelElements || workers_ready()) ? threads : 1;
}

// Elements per buffered block: a multiple of every SIMD width, small enough
// for the buffers of all operands to stay in L1/L2.
inline constexpr int64_t kBlock = 512;

// The index space after broadcasting and merging dimensions that are
// contiguous in every operand: strides[i][d] for operand i.
struct Space {
  Shape shape;
  int64_t strides[kMaxArgs][kMaxDims];
};

// Merges the dimensions of `shape` (to which every operand broadcasts) that
// are contiguous in every operand and drops those of size 1. At least one
// dimension is left.
void collapse(const Operand* const* ops, int nops, const Shape& shape, Space& s);

// Strided copy of n elements of `size` bytes.
void copy_strided(int size, char* dst, int64_t dst_stride, const char* src, int64_t src_stride,
                  int64_t n);

// Runs body(block, m) on n elements, kBlock at a time: block[i] points at
// operand i's m elements (operand i starts at ptrs[i], byte stride
// strides[i]), in place when direct[i], else in a per-thread buffer, gathered
// for an input and scattered back after body for the output (the last
// operand, when `has_output`).
template <typename Body>
void run_buffered(int nops, const Operand* const* ops, void* const* ptrs, const int64_t* strides,
                  const bool* direct, int64_t n, bool has_output, Body body) {
  thread_local std::vector<char> buffers;
  buffers.resize(static_cast<size_t>(nops) * kBlock * 8);
  void* block[kMaxArgs];
  int out = has_output ? nops - 1 : -1;
  for (int64_t done = 0; done < n; done += kBlock) {
    int64_t m = std::min(kBlock, n - done);
    for (int i = 0; i < nops; ++i) {
      char* p = static_cast<char*>(ptrs[i]) + done * strides[i];
      if (direct[i]) {
        block[i] = p;
        continue;
      }
      block[i] = buffers.data() + static_cast<size_t>(i) * kBlock * 8;
      int size = static_cast<int>(itemsize(ops[i]->dtype));
      // (A broadcast input, stride 0, is the same in every block: filled once.)
      if (i != out && (strides[i] != 0 || done == 0))
        copy_strided(size, static_cast<char*>(block[i]), size, p, strides[i], m);
    }
    body(block, m);
    if (out >= 0 && !direct[out]) {
      int size = static_cast<int>(itemsize(ops[out]->dtype));
      copy_strided(size, static_cast<char*>(ptrs[out]) + done * strides[out], strides[out],
                   static_cast<const char*>(block[out]), size, m);
    }
  }
}

}  // namespace ember::runtime
