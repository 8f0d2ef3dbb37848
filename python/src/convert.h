// Conversions between Python values and C++ ones, shared by the bindings.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <string>

#include "ir/ir.h"
#include "runtime/kernel.h"
#include "runtime/launch.h"

namespace ember {

std::string py_dtype_name(ir::Type t);
ir::Type to_type(const std::string& dtype, bool weak);  // NumPy dtype name; ValueError if unknown
ir::Op to_op(const std::string& name);                  // IR operator name; ValueError if unknown
// A Python int as 64 bits: `is_unsigned` for 2**63 .. 2**64-1 (NumPy 2 reads
// those as uint64). False, with no Python error set, outside both ranges.
bool read_python_int(PyObject* v, int64_t* bits, bool* is_unsigned);
ir::Literal int_literal(const pybind11::int_& v);  // the same, or ValueError
// A Python bool, int or float argument (exact types: NumPy scalars are strong)
// as a weak value: its bits into the 8 bytes at `box`, its dtype returned
// (int64, or uint64 for 2**63 .. 2**64-1); nullopt for anything else.
// ValueError naming argument `index` (0-based) for an int beyond 64 bits.
std::optional<ir::Scalar> read_python_number(PyObject* obj, int index, void* box);
// The ember scalar of a NumPy dtype (nullopt if unsupported; no allocation).
std::optional<ir::Scalar> scalar_of(const pybind11::dtype& dtype);
// The same, or a TypeError naming `what` and the dtype.
ir::Scalar require_scalar(const pybind11::dtype& dtype, const std::string& what);
bool is_native(const pybind11::dtype& dtype);  // in the machine's byte order
pybind11::dtype dtype_of(ir::Scalar s);
// A view of a NumPy array's memory: ValueError beyond runtime::kMaxDims,
// TypeError naming argument `arg_index` (0-based; -1: none) for a dtype
// ember does not support.
void fill_operand(const pybind11::array& a, runtime::Operand& op, int arg_index = -1);
[[noreturn]] void throw_overflow(const std::string& message);  // OverflowError
// TypeError: name() takes nargs arguments but `given` were given (Python's wording).
[[noreturn]] void wrong_arg_count(const std::string& name, int nargs, size_t given);
// OverflowError (NumPy's exception) when Python int `arg`, read as `value`,
// does not fit the integer type a kernel converts it to.
void check_weak_int(const runtime::WeakIntUse& use, int64_t value, bool is_unsigned, PyObject* arg);
// Python value <-> literal of an IR type (for the interpreter).
ir::Literal to_literal(const pybind11::handle& value, ir::Type t);
pybind11::object from_literal(ir::Literal v, ir::Type t);

}  // namespace ember
