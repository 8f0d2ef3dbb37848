// Broadcasting, dimension collapsing and the loops around the compiled entry
// point: one call per work item when the operands are contiguous, else
// blocks of kBlock elements gathered into contiguous buffers (and the output
// scattered back), as NumPy's buffered iterator does. Work items are spread
// over the pool.
#include "runtime/launch.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

int64_t itemsize(ir::Scalar s) { return ir::bits_of(s) / 8; }

// Below this many elements a call stays on the calling thread: waking the
// pool costs more than it saves (measured with tools/bench.py).
constexpr int64_t kMinParallelElements = 1 << 15;

// Elements per buffered block: a multiple of every SIMD width, small enough
// for the buffers of all operands to stay in L1/L2.
constexpr int64_t kBlock = 512;

// Where slice `i` of `slices` starts in a row of n elements. Multiples of
// kBlock keep every element in the same SIMD or scalar-tail position as in a
// single-threaded call, so results do not depend on the thread count.
int64_t slice_start(int64_t n, int64_t i, int64_t slices) {
  if (i >= slices) return n;
  return n * i / slices / kBlock * kBlock;
}

// Strided <-> contiguous copies of n elements of `size` bytes.
template <typename T>
void copy_strided(char* dst, int64_t dst_stride, const char* src, int64_t src_stride, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    *reinterpret_cast<T*>(dst + k * dst_stride) = *reinterpret_cast<const T*>(src + k * src_stride);
}

void copy_strided(int size, char* dst, int64_t dst_stride, const char* src, int64_t src_stride,
                  int64_t n) {
  switch (size) {
    case 1: return copy_strided<uint8_t>(dst, dst_stride, src, src_stride, n);
    case 2: return copy_strided<uint16_t>(dst, dst_stride, src, src_stride, n);
    case 4: return copy_strided<uint32_t>(dst, dst_stride, src, src_stride, n);
    default: return copy_strided<uint64_t>(dst, dst_stride, src, src_stride, n);
  }
}

// Runs the entry point on n elements whose operands start at ptrs[i] with
// byte strides strides[i]; operands that are not contiguous go through
// per-thread buffers.
void run_buffered(const Kernel& kernel, int nops, const Operand* const* ops, void* const* ptrs,
                  const int64_t* strides, const bool* direct, int64_t n) {
  thread_local std::vector<char> buffers;
  buffers.resize(static_cast<size_t>(nops) * kBlock * 8);
  void* block[kMaxArgs];
  int out = nops - 1;
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
      if (i != out) copy_strided(size, static_cast<char*>(block[i]), size, p, strides[i], m);
    }
    kernel.entry.contig(block, m);
    if (!direct[out]) {
      int size = static_cast<int>(itemsize(ops[out]->dtype));
      copy_strided(size, static_cast<char*>(ptrs[out]) + done * strides[out], strides[out],
                   static_cast<const char*>(block[out]), size, m);
    }
  }
}

// The index space after broadcasting and merging dimensions that are
// contiguous in every operand: strides[i][d] for operand i.
struct Space {
  Shape shape;
  int64_t strides[kMaxArgs][kMaxDims];
};

void collapse(const Operand* const* ops, int nops, const Shape& shape, Space& s) {
  s.shape.ndim = 0;
  for (int d = 0; d < shape.ndim; ++d) {
    if (shape.dims[d] == 1) continue;  // size-1 dimensions never move a pointer
    int64_t st[kMaxArgs];
    bool merge = s.shape.ndim > 0;
    for (int i = 0; i < nops; ++i) {
      const Operand& op = *ops[i];
      int offset = shape.ndim - op.shape.ndim;
      st[i] = d < offset || op.shape.dims[d - offset] == 1 ? 0 : op.strides[d - offset];
      merge = merge && s.strides[i][s.shape.ndim - 1] == st[i] * shape.dims[d];
    }
    if (merge) {
      s.shape.dims[s.shape.ndim - 1] *= shape.dims[d];
    } else {
      s.shape.dims[s.shape.ndim++] = shape.dims[d];
    }
    for (int i = 0; i < nops; ++i) s.strides[i][s.shape.ndim - 1] = st[i];
  }
  if (s.shape.ndim == 0) {  // a single element
    s.shape.dims[s.shape.ndim++] = 1;
    for (int i = 0; i < nops; ++i) s.strides[i][0] = 0;
  }
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
  return shape;
}

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
  int threads = total >= kMinParallelElements ? num_threads() : 1;
  int64_t slices = rows >= threads ? 1 : (threads + rows - 1) / rows;
  auto run = [&](int64_t first, int64_t last) {
    int64_t index[kMaxDims];  // odometer over the outer dimensions
    for (int64_t r = first / slices, d = inner; d-- > 0; r /= space.shape.dims[d])
      index[d] = r % space.shape.dims[d];
    void* ptrs[kMaxArgs];
    for (int64_t item = first; item < last; ++item) {
      int64_t slice = item % slices;
      int64_t begin = slice_start(n, slice, slices);
      int64_t count = slice_start(n, slice + 1, slices) - begin;
      for (int i = 0; i < nops; ++i) {
        char* p = ops[i]->data + begin * inner_strides[i];
        for (int d = 0; d < inner; ++d) p += index[d] * space.strides[i][d];
        ptrs[i] = p;
      }
      if (contiguous) kernel.entry.contig(ptrs, count);
      else run_buffered(kernel, nops, ops, ptrs, inner_strides, direct, count);
      if (slice + 1 == slices)
        for (int d = inner; d > 0 && ++index[d - 1] == space.shape.dims[d - 1]; --d)
          index[d - 1] = 0;
    }
  };
  if (threads == 1) return run(0, rows * slices);
  parallel_for(rows * slices, threads, run);
}

}  // namespace ember::runtime
