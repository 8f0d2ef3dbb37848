// Scalar semantics of every operator on literals: the single definition used
// by the interpreter and by constant folding (see the rules in types.h).
#pragma once

#include "ir/ir.h"

namespace ember::ir {

// `x` holds a value of type `from`; the result is normalized to `to`.
// Float to integer conversions of NaN/inf/out-of-range values give the
// result of C's conversion on x86-64 for in-range types and are documented
// as unspecified, as in NumPy.
Literal eval_cast(Literal x, Scalar from, Scalar to);
// Strict level: `t` is the operand type (both operands of a binary op share
// it); the result has type t, or bool for comparisons and isnan/isinf/
// isfinite/signbit/not.
Literal eval_unary(Op op, Scalar t, Literal x);
Literal eval_binary(Op op, Scalar t, Literal a, Literal b);

}  // namespace ember::ir
