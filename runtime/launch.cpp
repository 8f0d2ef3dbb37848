// Broadcasting, dimension collapsing and the loops around the compiled entry
// point: one call per work item when the operands are contiguous, else
// blocks of kBlock elements gathered into contiguous buffers (and the output
// scattered back), as NumPy's buffered iterator does. Work items are spread
// over the pool.
#include "runtime/launch.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "runtime/interrupt.h"
#include "runtime/space.h"
#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

// Where slice `i` of `slices` starts in a row of n elements. Multiples of
// kBlock keep every element in the same SIMD or scalar-tail position as in a
// single-threaded call, so results do not depend on the thread count.
int64_t slice_start(int64_t n, int64_t i, int64_t slices) {
  if (i >= slices) return n;
  return n * i / slices / kBlock * kBlock;
}

}  // namespace

int64_t Shape::size() const {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= dims[d];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim != o.ndim) return false;
  for (int d = 0; d < ndim; ++d)
    if (dims[d] != o.dims[d]) return false;
  return true;
}

std::string Shape::text() const {
  std::string s = "(";
  for (int d = 0; d < ndim; ++d) s += (d ? ", " : "") + std::to_string(dims[d]);
  return s + (ndim == 1 ? ",)" : ")");
}

Shape broadcast_shape(std::span<const Operand> operands) {
  Shape shape;
  shape.ndim = 0;
  for (const Operand& op : operands) shape.ndim = std::max(shape.ndim, op.shape.ndim);
  for (int d = 0; d < shape.ndim; ++d) shape.dims[d] = 1;
  for (const Operand& op : operands) {
    int offset = shape.ndim - op.shape.ndim;
    for (int d = 0; d < op.shape.ndim; ++d) {
      int64_t have = shape.dims[offset + d], got = op.shape.dims[d];
      if (got == have || got == 1) continue;
      if (have != 1) {
        std::string shapes;
        for (const Operand& o : operands) shapes += (shapes.empty() ? "" : " ") + o.shape.text();
        throw std::invalid_argument("operands could not be broadcast together with shapes " +
                                    shapes);
      }
      shape.dims[offset + d] = got;
    }
  }
  // NumPy's iterator refuses as many elements as int64 cannot count (a
  // reduction would wrap the count and return at once).
  int64_t total = 1;
  bool empty = false;
  for (int d = 0; d < shape.ndim; ++d) empty |= shape.dims[d] == 0;
  for (int d = 0; d < shape.ndim && !empty; ++d)
    if (__builtin_mul_overflow(total, shape.dims[d], &total))
      throw std::invalid_argument("iterator is too large: the broadcast shape " + shape.text() +
                                  " has more than 2**63 - 1 elements");
  return shape;
}

// The most elements one call of the entry point takes: a Ctrl-C is seen
// between such slices (interrupt.h).
constexpr int64_t kInterruptChunk = int64_t{1} << 20;

void launch_elementwise(const Kernel& kernel, std::span<const Operand> inputs,
                        const Operand& out) {
  int64_t total = out.shape.size();
  if (total == 0) return;
  int nops = static_cast<int>(inputs.size()) + 1;
  if (nops > kMaxArgs) throw std::invalid_argument("too many operands");
  const Operand* ops[kMaxArgs];
  for (int i = 0; i + 1 < nops; ++i) ops[i] = &inputs[i];
  ops[nops - 1] = &out;
  Space space;
  collapse(ops, nops, out.shape, space);
  int inner = space.shape.ndim - 1;
  int64_t n = space.shape.dims[inner];
  int64_t rows = total / n;

  // An operand is used in place when the entry point can walk it directly:
  // contiguous arrays, and scalar-layout inputs (read once).
  int64_t inner_strides[kMaxArgs];
  bool direct[kMaxArgs];
  bool contiguous = true;
  for (int i = 0; i < nops; ++i) {
    inner_strides[i] = space.strides[i][inner];
    bool scalar = i + 1 < nops && kernel.layout.scalar[i];
    direct[i] = scalar || inner_strides[i] == itemsize(ops[i]->dtype) || n == 1;
    contiguous = contiguous && direct[i];
  }

  // Work items are (row, slice of the row): whole rows when there are enough
  // of them, else each row cut into slices so that every thread gets work.
  int threads = threads_for(total);
  int64_t slices = rows >= threads ? 1 : (threads + rows - 1) / rows;
  slices = std::max(slices, (n + kInterruptChunk - 1) / kInterruptChunk);
  auto run = [&](int64_t first, int64_t last) {
    int64_t index[kMaxDims];  // odometer over the outer dimensions
    for (int64_t r = first / slices, d = inner; d-- > 0; r /= space.shape.dims[d])
      index[d] = r % space.shape.dims[d];
    void* ptrs[kMaxArgs];
    for (int64_t item = first; item < last && !interrupt_requested(); ++item) {
      int64_t slice = item % slices;
      int64_t begin = slice_start(n, slice, slices);
      int64_t count = slice_start(n, slice + 1, slices) - begin;
      for (int i = 0; i < nops; ++i) {
        char* p = ops[i]->data + begin * inner_strides[i];
        for (int d = 0; d < inner; ++d) p += index[d] * space.strides[i][d];
        ptrs[i] = p;
      }
      if (contiguous) kernel.entry.contig(ptrs, count);
      else
        run_buffered(nops, ops, ptrs, inner_strides, direct, count, true,
                     [&](void** block, int64_t m) { kernel.entry.contig(block, m); });
      if (slice + 1 == slices)
        for (int d = inner; d > 0 && ++index[d - 1] == space.shape.dims[d - 1]; --d)
          index[d - 1] = 0;
    }
  };
  if (threads == 1) run(0, rows * slices);
  else parallel_for(rows * slices, threads, run);
  check_interrupt();
}

}  // namespace ember::runtime
