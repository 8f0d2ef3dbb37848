// NumPy arrays whose memory comes from ember's block cache (runtime/buffer_pool.h).
#pragma once

#include <pybind11/numpy.h>

#include "runtime/launch.h"

namespace ember {

// Loads NumPy's C API; called once when the module is imported.
void init_output_memory();

// A new C-ordered array allocated through a NumPy memory handler (NEP 49)
// backed by the block cache. The array owns its data like any other: NumPy
// returns the block through the same handler when the array dies.
pybind11::array new_output(const pybind11::dtype& dtype, const runtime::Shape& shape,
                           bool fortran = false);

}  // namespace ember
