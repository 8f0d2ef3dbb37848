// Index spaces and strided copies shared by the launchers.
#include "runtime/space.h"

#include <algorithm>
#include <cstring>

namespace ember::runtime {
namespace {

// Strided <-> contiguous copies of n elements of `size` bytes.
template <typename T>
void copy_strided(char* dst, int64_t dst_stride, const char* src, int64_t src_stride, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    *reinterpret_cast<T*>(dst + k * dst_stride) = *reinterpret_cast<const T*>(src + k * src_stride);
}

}  // namespace

void copy_strided(int size, char* dst, int64_t dst_stride, const char* src, int64_t src_stride,
                  int64_t n) {
  if (src_stride == 0 && dst_stride == size && n > 0) {
    // A broadcast value: copies of what is filled so far, doubling, so that
    // memcpy moves whole vectors (an element at a time took a quarter of a
    // row-broadcast reduction's time).
    std::memcpy(dst, src, size);
    for (int64_t have = 1; have < n; have *= 2)
      std::memcpy(dst + have * size, dst, std::min(have, n - have) * size);
    return;
  }
  switch (size) {
    case 1: return copy_strided<uint8_t>(dst, dst_stride, src, src_stride, n);
    case 2: return copy_strided<uint16_t>(dst, dst_stride, src, src_stride, n);
    case 4: return copy_strided<uint32_t>(dst, dst_stride, src, src_stride, n);
    default: return copy_strided<uint64_t>(dst, dst_stride, src, src_stride, n);
  }
}

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

}  // namespace ember::runtime
