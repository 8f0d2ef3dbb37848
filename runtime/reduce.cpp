// The reduce launcher. The broadcast space is reordered so that the reduced
// dimensions come last and collapsed; each output element then combines a
// sequence of "runs" (the innermost reduced dimension) cut into units of
// about unit_ elements. A unit's partial state is merged into its row's state
// in unit order, whichever thread computed it.
#include "runtime/reduce.h"

#include <algorithm>
#include <vector>

#include "runtime/interrupt.h"
#include "runtime/space.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

// Elements per unit of work: kUnit (a multiple of kBlock), or more for large
// inputs so that there are about kUnits of them. Long units read as long
// streams, which the prefetchers follow better than many short ones (a sum
// of 10^7 float64: 5% faster than with units of kUnit); their number still
// depends only on the shape.
constexpr int64_t kUnit = 1 << 14;
constexpr int64_t kUnits = 64;

struct alignas(64) State {
  char bytes[codegen::kReduceStateBytes];
};

class Reducer {
 public:
  Reducer(const Kernel& kernel, std::span<const Operand> inputs, const Shape& shape,
          const bool* reduced, const Operand& out);

  void run();

 private:
  // Combines unit u of output row `row` into a fresh state.
  void unit(int64_t row, int64_t u, State& state) const;
  // Where operand i's element (row, run, 0) is.
  char* address(int i, int64_t row, int64_t run) const;

  const codegen::ReduceFns& fns_;
  int nops_;                     // inputs
  const Operand* ops_[kMaxArgs];  // views_, for collapse and run_buffered
  Operand views_[kMaxArgs];       // inputs, then the output, with the reduced dims last
  Space space_;
  int kept_ = 0, runs_dims_ = 0;  // collapsed dims: kept, then reduced but the innermost
  int64_t rows_ = 1, runs_ = 1, n_ = 1, unit_ = kUnit, units_ = 1, runs_per_unit_ = 1, slices_ = 1;
  int64_t inner_[kMaxArgs];
  bool direct_[kMaxArgs];
  bool contiguous_ = true;  // every input direct: runs need no buffers
};

Reducer::Reducer(const Kernel& kernel, std::span<const Operand> inputs, const Shape& shape,
                 const bool* reduced, const Operand& out)
    : fns_(kernel.entry.reduce), nops_(static_cast<int>(inputs.size())) {
  int perm[kMaxDims], n = 0;
  for (int d = 0; d < shape.ndim; ++d)
    if (!reduced[d]) perm[n++] = d;
  int kept = n;
  for (int d = 0; d < shape.ndim; ++d)
    if (reduced[d]) perm[n++] = d;
  Shape permuted;
  permuted.ndim = shape.ndim;
  for (int k = 0; k < n; ++k) permuted.dims[k] = shape.dims[perm[k]];
  for (int i = 0; i <= nops_; ++i) {
    const Operand& op = i < nops_ ? inputs[i] : out;
    Operand& v = views_[i];
    v.data = op.data;
    v.dtype = op.dtype;
    v.shape = permuted;
    int offset = shape.ndim - op.shape.ndim;
    for (int k = 0; k < n; ++k) {
      int d = perm[k];
      if (i == nops_)  // the output: its own dims for the kept ones, 0 for the others
        v.strides[k] = k < kept ? out.strides[k] : 0;
      else
        v.strides[k] = d < offset || op.shape.dims[d - offset] == 1 ? 0 : op.strides[d - offset];
    }
    ops_[i] = &v;
  }
  collapse(ops_, nops_ + 1, permuted, space_);
  // The output's stride is 0 exactly on the reduced dimensions (a kept
  // dimension of size > 1 has a nonzero one).
  int out_index = nops_;
  int dims = space_.shape.ndim;
  while (kept_ < dims && space_.strides[out_index][kept_] != 0) ++kept_;
  for (int d = 0; d < kept_; ++d) rows_ *= space_.shape.dims[d];
  if (kept_ < dims) {
    n_ = space_.shape.dims[dims - 1];
    runs_dims_ = dims - 1 - kept_;
    for (int d = kept_; d < dims - 1; ++d) runs_ *= space_.shape.dims[d];
  }
  unit_ = std::max(kUnit, (rows_ * runs_ * n_ / kUnits + kUnit - 1) / kUnit * kUnit);
  if (n_ == 0 || runs_ == 0) {
    units_ = 0;  // every output is the identity
  } else if (n_ >= unit_) {
    slices_ = (n_ + unit_ - 1) / unit_;
    units_ = runs_ * slices_;
  } else {
    runs_per_unit_ = unit_ / n_;
    units_ = (runs_ + runs_per_unit_ - 1) / runs_per_unit_;
  }
  for (int i = 0; i < nops_; ++i) {
    inner_[i] = kept_ < dims ? space_.strides[i][dims - 1] : 0;
    direct_[i] = kernel.layout.scalar[i] || inner_[i] == itemsize(ops_[i]->dtype) || n_ == 1;
    contiguous_ = contiguous_ && direct_[i];
  }
}

char* Reducer::address(int i, int64_t row, int64_t run) const {
  char* p = views_[i].data;
  // An empty dimension (an empty reduction still writes its identity) moves nothing.
  auto step = [&](int d, int64_t& index) {
    int64_t extent = space_.shape.dims[d];
    if (extent == 0) return;
    p += index % extent * space_.strides[i][d];
    index /= extent;
  };
  for (int d = kept_; d-- > 0;) step(d, row);
  for (int d = kept_ + runs_dims_; d-- > kept_;) step(d, run);
  return p;
}

void Reducer::unit(int64_t row, int64_t u, State& state) const {
  fns_.init(&state);
  int64_t first = slices_ > 1 ? u / slices_ : u * runs_per_unit_;
  int64_t last = slices_ > 1 ? first + 1 : std::min(runs_, first + runs_per_unit_);
  int64_t begin = slices_ > 1 ? u % slices_ * unit_ : 0;
  int64_t end = slices_ > 1 ? std::min(n_, begin + unit_) : n_;
  void* ptrs[kMaxArgs];
  for (int64_t run = first; run < last; ++run) {
    for (int i = 0; i < nops_; ++i) ptrs[i] = address(i, row, run) + begin * inner_[i];
    if (contiguous_)
      fns_.reduce(ptrs, end - begin, &state);
    else
      run_buffered(nops_, ops_, ptrs, inner_, direct_, end - begin, false,
                   [&](void** block, int64_t m) { fns_.reduce(block, m, &state); });
  }
}

void Reducer::run() {
  int out_index = nops_;
  auto out_address = [&](int64_t row) { return address(out_index, row, 0); };
  int64_t total = rows_ * runs_ * n_;
  int threads = threads_for(total);
  if (rows_ >= threads) {
    // Whole rows per thread.
    auto body = [&](int64_t first, int64_t last) {
      State acc, part;
      for (int64_t row = first; row < last; ++row) {
        fns_.init(&acc);
        for (int64_t u = 0; u < units_ && !interrupt_requested(); ++u) {
          unit(row, u, part);
          fns_.merge(&acc, &part);
        }
        fns_.finish(&acc, out_address(row));
      }
    };
    if (threads == 1) body(0, rows_);
    else parallel_for(rows_, threads, body);
    return check_interrupt();
  }
  // Few rows: their units are spread over the threads, then merged in order.
  std::vector<State> parts(static_cast<size_t>(rows_ * units_));
  parallel_for(rows_ * units_, threads, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last && !interrupt_requested(); ++k)
      unit(k / units_, k % units_, parts[k]);
  });
  check_interrupt();
  for (int64_t row = 0; row < rows_; ++row) {
    State acc;
    fns_.init(&acc);
    for (int64_t u = 0; u < units_; ++u) fns_.merge(&acc, &parts[row * units_ + u]);
    fns_.finish(&acc, out_address(row));
  }
}

}  // namespace

void launch_reduce(const Kernel& kernel, std::span<const Operand> inputs, const Shape& shape,
                   const bool* reduced, const Operand& out) {
  if (out.shape.size() == 0) return;
  Reducer(kernel, inputs, shape, reduced, out).run();
}

}  // namespace ember::runtime
