// The IR: immutable typed expression trees inside structured statements.
//
// A Function has typed parameters, typed local variables and a body of
// statements (assign, if/else, return). A @kernel function (domain > 0) also
// has array parameters, loads and stores, loops and atomics, and runs once
// per index of its domain (`tid`). Expressions are trees of immutable
// nodes made only through the checked constructors of builder.h; every node
// carries the source location of the Python code it came from. Scalar
// semantics are written down in types.h.
//
// Two levels of strictness: the frontend may combine operands of different
// types (the result type follows NumPy promotion); after the `promote` pass
// every implicit conversion is an explicit Cast and no weak type is left.
// The verifier checks either level.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/types.h"

namespace ember::ir {

struct Loc {
  int line = 0;
  int col = 0;
  bool operator==(const Loc&) const = default;
};

// An error the user caused (unsupported code, bad types): carries a location.
class CompileError : public std::runtime_error {
 public:
  CompileError(const std::string& msg, Loc loc) : std::runtime_error(msg), loc(loc) {}
  Loc loc;
};

// clang-format off
#define EMBER_UNARY_OPS(X) \
  X(Neg, "neg") X(Not, "not") X(Invert, "invert") X(Abs, "abs") \
  X(Sqrt, "sqrt") X(Cbrt, "cbrt") X(Exp, "exp") X(Exp2, "exp2") X(Expm1, "expm1") \
  X(Log, "log") X(Log2, "log2") X(Log10, "log10") X(Log1p, "log1p") \
  X(Sin, "sin") X(Cos, "cos") X(Tan, "tan") X(Asin, "asin") X(Acos, "acos") X(Atan, "atan") \
  X(Sinh, "sinh") X(Cosh, "cosh") X(Tanh, "tanh") X(Asinh, "asinh") X(Acosh, "acosh") X(Atanh, "atanh") \
  X(Erf, "erf") X(Erfc, "erfc") X(Floor, "floor") X(Ceil, "ceil") X(Trunc, "trunc") X(Rint, "rint") \
  X(IsNan, "isnan") X(IsInf, "isinf") X(IsFinite, "isfinite") X(SignBit, "signbit")

#define EMBER_BINARY_OPS(X) \
  X(Add, "add") X(Sub, "sub") X(Mul, "mul") X(Div, "div") X(FloorDiv, "floordiv") X(Mod, "mod") \
  X(Pow, "pow") X(BitAnd, "and") X(BitOr, "or") X(BitXor, "xor") X(Shl, "shl") X(Shr, "shr") \
  X(Min, "min") X(Max, "max") X(Minimum, "minimum") X(Maximum, "maximum") \
  X(Atan2, "atan2") X(Hypot, "hypot") X(Fmod, "fmod") X(CopySign, "copysign") \
  X(Eq, "eq") X(Ne, "ne") X(Lt, "lt") X(Le, "le") X(Gt, "gt") X(Ge, "ge")
// clang-format on

enum class Op : uint8_t {
  Const,   // a literal: `value`
  Param,   // function parameter number `index`
  Var,     // read of local variable number `index`
  Cast,    // conversion of args[0] to `type`
  Select,  // args[0] ? args[1] : args[2]
  Load,    // element of array args[0] (a Param) at int64 indices args[1..]
  Shape,   // int64 extent of dimension `index` of array args[0]
  Tid,     // int64 coordinate `index` of the kernel's index in its domain
#define X(name, text) name,
  EMBER_UNARY_OPS(X) EMBER_BINARY_OPS(X)
#undef X
};

const char* op_name(Op op);
bool is_unary(Op op);
bool is_binary(Op op);
bool is_comparison(Op op);
// Operators whose result is bool whatever their operand type (not, isnan,
// isinf, isfinite, signbit, comparisons): they look at the operand as it is.
bool has_bool_result(Op op);
bool op_from_name(const std::string& name, Op* out);

// A literal. Integers are stored as their two's complement bits in `i`
// (uint64 values above INT64_MAX included), floats in `f`, bools in `i`.
struct Literal {
  int64_t i = 0;
  double f = 0.0;
  // Bitwise: NaN equals itself and -0.0 differs from 0.0, as IR identity needs.
  bool operator==(const Literal& o) const {
    return i == o.i && std::bit_cast<uint64_t>(f) == std::bit_cast<uint64_t>(o.f);
  }
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  Op op;
  Type type;
  Loc loc;
  std::vector<ExprPtr> args;
  Literal value;  // Const
  int index = 0;  // Param, Var
};

// Store: array args[0] at indices args[1..] = value. Atomic: the same
// element = element `op` value (Add, Min or Max), atomically. For: `var`
// runs over range(args[0], args[1], args[2]) (evaluated once, step != 0)
// through then_body. While: then_body while `value`. Return: `value` is
// null in a kernel.
enum class StmtKind : uint8_t { Assign, If, Return, Store, Atomic, For, While, Break, Continue };

struct Stmt;
using StmtPtr = std::shared_ptr<const Stmt>;
using Block = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind;
  Loc loc;
  int var = 0;                // Assign, For: the local variable written
  ExprPtr value;              // Assign/Store/Atomic: the value; If/While: the condition; Return
  std::vector<ExprPtr> args;  // Store/Atomic: array, indices; For: start, stop, step
  Op op = Op::Add;            // Atomic
  Block then_body;            // If, For, While
  Block else_body;            // If
};

struct Variable {
  std::string name;
  Type type;
};

struct Function {
  std::string name;
  std::string file;  // the Python source file, for error messages
  Loc loc;
  std::vector<Variable> params;
  std::vector<Variable> locals;
  Type result;  // unused in a kernel
  Block body;
  int domain = 0;  // a kernel's index dimensions (1 to 3); 0 for a scalar function
  bool is_kernel() const { return domain > 0; }
};

// An out-of-range index in a kernel run with bounds checks: NumPy's message,
// naming the array, its shape and the kernel's source line. The interpreter
// and the runtime both raise it (Python sees IndexError).
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};
// `is_unsigned`: the index was a uint64 value (shown as one).
IndexError index_error(const Function& fn, int param, int axis, int64_t index,
                       const std::vector<int64_t>& shape, int line, bool is_unsigned = false);

}  // namespace ember::ir
