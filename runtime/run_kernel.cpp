// Splits a @kernel's domain into boxes for the thread pool (run_kernel.h).
#include "runtime/run_kernel.h"

#include <algorithm>
#include <vector>

#include "runtime/interrupt.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

// Indices below which a kernel without loops runs on the calling thread (a
// kernel with a loop may do any amount of work per index: it always uses
// the pool).
constexpr int64_t kMinParallelIndices = 4096;
// Pieces per thread: kernels such as mandelbrot cost very different amounts
// per row, and the pool hands pieces out one at a time.
constexpr int64_t kPiecesPerThread = 8;

}  // namespace

void run_kernel(const Kernel& kernel, void* const* args, std::span<const int64_t> domain) {
  if (std::find(domain.begin(), domain.end(), 0) != domain.end()) return;
  int64_t total = 1;  // below 2^63: the caller checked
  for (int64_t extent : domain) total *= extent;
  int threads = num_threads();
  // The outermost dimension long enough to feed every thread, else the longest.
  size_t split = 0;
  for (size_t k = 0; k < domain.size(); ++k) {
    if (domain[k] >= kPiecesPerThread * threads) {
      split = k;
      break;
    }
    if (domain[k] > domain[split]) split = k;
  }
  int64_t extent = domain[split];
  bool small = total < (kernel.loops ? 2 : kMinParallelIndices);
  int64_t pieces = small || threads == 1
                       ? 1
                       : std::min<int64_t>(extent, kPiecesPerThread * threads);
  std::vector<codegen::KernelError> errors(pieces);
  std::vector<int32_t> status(pieces);
  auto run_piece = [&](int64_t piece) {
    int64_t lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
    std::copy(domain.begin(), domain.end(), hi);
    // In 128 bits: an extent near 2^63 times a piece number overflows int64.
    auto bound = [&](int64_t p) { return static_cast<int64_t>(__int128{extent} * p / pieces); };
    lo[split] = bound(piece);
    hi[split] = bound(piece + 1);
    status[piece] = kernel.entry.kernel(args, lo, hi, &errors[piece]);
  };
  if (pieces == 1)
    run_piece(0);
  else
    parallel_for(pieces, pieces, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end && !interrupt_requested(); ++p) run_piece(p);
    });
  check_interrupt();  // before reporting what a stopped piece may have seen
  for (int64_t p = 0; p < pieces; ++p) {
    if (!status[p]) continue;
    const codegen::KernelError& e = errors[p];
    const auto* array = static_cast<const codegen::ArrayArg*>(args[e.param]);
    int ndim = kernel.optimized.params.at(e.param).type.ndim;
    std::vector<int64_t> shape(array->shape, array->shape + ndim);
    throw kernel_index_error(kernel, e, shape);
  }
}

ir::IndexError kernel_index_error(const Kernel& kernel, const codegen::KernelError& e,
                                  const std::vector<int64_t>& shape) {
  return ir::index_error(kernel.optimized, static_cast<int>(e.param),
                         static_cast<int>(e.axis & ~codegen::kUnsignedIndex), e.index, shape,
                         static_cast<int>(e.line), (e.axis & codegen::kUnsignedIndex) != 0);
}

}  // namespace ember::runtime
