// numpy.ufunc.reduce and .accumulate of a binary @vectorize function: a left
// fold along the first axis, run on the compiled map (no new code).
#pragma once

#include <cstdint>

#include "runtime/kernel.h"

namespace ember::runtime {

// `kernel`: the map f(acc, item) with two array parameters, acc's dtype
// being its result's. `in`: n rows of m contiguous items. Reduce
// (`accumulate` false): `out` holds m accumulators, already set to the
// start values; rows first .. n-1 are folded into them. Accumulate: `out`
// holds n rows of m, row first - 1 already set; row i becomes
// f(row i - 1, in row i). Columns are independent: wide arrays are split
// across the thread pool. Touches no Python object.
void fold(const Kernel& kernel, const char* in, int64_t n, int64_t m, char* out, int64_t first,
          bool accumulate);

}  // namespace ember::runtime
