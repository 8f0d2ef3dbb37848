// Left folds on the compiled map (fold.h): for each row, one call of the
// map's contiguous entry over the row's columns, f(acc, item) -> acc.
#include "runtime/fold.h"

#include "runtime/interrupt.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

// Columns a thread takes at least: below that a fold runs on the caller.
constexpr int64_t kMinColumnsPerPiece = 4096;

}  // namespace

void fold(const Kernel& kernel, const char* in, int64_t n, int64_t m, char* out, int64_t first,
          bool accumulate) {
  const auto& params = kernel.optimized.params;
  if (params.size() != 2 || !kernel.entry.contig)
    throw std::invalid_argument("fold: a map of two arguments is needed");
  int64_t item = ir::bits_of(params[1].type.scalar) / 8;
  int64_t acc = ir::bits_of(params[0].type.scalar) / 8;
  auto columns = [&](int64_t begin, int64_t end) {
    for (int64_t i = first; i < n && !interrupt_requested(); ++i) {
      char* row = out + (accumulate ? i * m * acc : 0) + begin * acc;
      char* previous = accumulate ? row - m * acc : row;
      void* ptrs[3] = {previous, const_cast<char*>(in + (i * m + begin) * item), row};
      kernel.entry.contig(ptrs, end - begin);
    }
  };
  int64_t pieces = std::min<int64_t>(num_threads(), m / kMinColumnsPerPiece);
  if (pieces <= 1) columns(0, m);
  else parallel_for(m, pieces, columns);
  check_interrupt();
}

}  // namespace ember::runtime
