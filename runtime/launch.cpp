// Broadcasting, dimension collapsing and the loops around the compiled entry
// points: one call of the contiguous entry when the operands allow it, else
// the strided entry once per row of the collapsed index space.
#include "runtime/launch.h"

#include <stdexcept>
#include <string>

#include "runtime/thread_pool.h"

namespace ember::runtime {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

int64_t itemsize(ir::Scalar s) { return ir::bits_of(s) / 8; }

// Below this many elements a call stays on the calling thread: waking the
// pool costs more than it saves (measured with tools/bench.py).
constexpr int64_t kMinParallelElements = 1 << 15;

// Where slice `i` of `slices` starts in a row of n elements. Multiples of 64
// keep every element in the same SIMD or scalar-tail position as in a
// single-threaded call, so results do not depend on the thread count.
int64_t slice_start(int64_t n, int64_t i, int64_t slices) {
  if (i >= slices) return n;
  return n * i / slices / 64 * 64;
}

// The index space after broadcasting and merging dimensions that are
// contiguous in every operand; strides[i][d] for operand i.
struct Space {
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;
};

Space collapse(const std::vector<const Operand*>& ops, const std::vector<int64_t>& shape) {
  size_t nd = shape.size();
  Space s;
  s.strides.resize(ops.size());
  for (size_t d = 0; d < nd; ++d) {
    if (shape[d] == 1) continue;  // size-1 dimensions never move a pointer
    std::vector<int64_t> st(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      const Operand& op = *ops[i];
      size_t offset = nd - op.shape.size();
      st[i] = d < offset || op.shape[d - offset] == 1 ? 0 : op.strides[d - offset];
    }
    bool merge = !s.shape.empty();
    for (size_t i = 0; merge && i < ops.size(); ++i)
      merge = s.strides[i].back() == st[i] * shape[d];
    if (merge) {
      s.shape.back() *= shape[d];
      for (size_t i = 0; i < ops.size(); ++i) s.strides[i].back() = st[i];
    } else {
      s.shape.push_back(shape[d]);
      for (size_t i = 0; i < ops.size(); ++i) s.strides[i].push_back(st[i]);
    }
  }
  if (s.shape.empty()) {  // a single element
    s.shape.push_back(1);
    for (auto& st : s.strides) st.push_back(0);
  }
  return s;
}

}  // namespace

std::vector<int64_t> broadcast_shape(const std::vector<Operand>& operands) {
  size_t nd = 0;
  for (const Operand& op : operands) nd = std::max(nd, op.shape.size());
  std::vector<int64_t> shape(nd, 1);
  for (const Operand& op : operands) {
    size_t offset = nd - op.shape.size();
    for (size_t d = 0; d < op.shape.size(); ++d) {
      int64_t have = shape[offset + d], got = op.shape[d];
      if (got == have || got == 1) continue;
      if (have != 1) {
        std::string shapes;
        for (const Operand& o : operands) shapes += (shapes.empty() ? "" : " ") + shape_text(o.shape);
        throw std::invalid_argument("operands could not be broadcast together with shapes " +
                                    shapes);
      }
      shape[offset + d] = got;
    }
  }
  return shape;
}

void launch_elementwise(const Kernel& kernel, const std::vector<Operand>& inputs,
                        const Operand& out) {
  int64_t total = 1;
  for (int64_t n : out.shape) total *= n;
  if (total == 0) return;
  std::vector<const Operand*> ops;
  for (const Operand& in : inputs) ops.push_back(&in);
  ops.push_back(&out);
  Space space = collapse(ops, out.shape);
  size_t inner = space.shape.size() - 1;
  int64_t n = space.shape[inner];
  int64_t rows = total / n;

  std::vector<int64_t> inner_strides(ops.size());
  bool contiguous = inner == 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    inner_strides[i] = space.strides[i][inner];
    bool scalar = i < inputs.size() && kernel.layout.scalar[i];
    int64_t want = scalar ? 0 : itemsize(ops[i]->dtype);
    contiguous = contiguous && (inner_strides[i] == want || n == 1);
  }

  // Work items are (row, slice of the row): whole rows when there are enough
  // of them, else each row cut into slices so that every thread gets work.
  int threads = total >= kMinParallelElements ? num_threads() : 1;
  int64_t slices = rows >= threads ? 1 : (threads + rows - 1) / rows;
  auto run = [&](int64_t first, int64_t last) {
    std::vector<int64_t> index(inner);  // odometer over the outer dimensions
    for (int64_t r = first / slices, d = inner; d-- > 0; r /= space.shape[d])
      index[d] = r % space.shape[d];
    std::vector<void*> ptrs(ops.size());
    for (int64_t item = first; item < last; ++item) {
      int64_t slice = item % slices;
      int64_t begin = slice_start(n, slice, slices), count = slice_start(n, slice + 1, slices) - begin;
      for (size_t i = 0; i < ops.size(); ++i) {
        char* p = ops[i]->data + begin * inner_strides[i];
        for (size_t d = 0; d < inner; ++d) p += index[d] * space.strides[i][d];
        ptrs[i] = p;
      }
      if (contiguous) kernel.entry.contig(ptrs.data(), count);
      else kernel.entry.strided(ptrs.data(), inner_strides.data(), count);
      if (slice + 1 == slices)
        for (size_t d = inner; d > 0 && ++index[d - 1] == space.shape[d - 1]; --d) index[d - 1] = 0;
    }
  };
  parallel_for(rows * slices, threads, run);
}

}  // namespace ember::runtime
