// The compiler passes, one per file (compiler/<name>.cpp). Each takes a
// Function and returns the transformed Function; none mutates its input.
#pragma once

#include "ir/ir.h"

namespace ember::compiler {

// promote.cpp: makes every implicit conversion explicit (NumPy 2 promotion,
// see ir/types.h): casts operands to the operator's computation type, resolves
// weak types to concrete ones, casts returned values to the result type.
// Signed-vs-uint64 comparisons are rewritten so that they compare exactly.
// Input: Frontend level. Output: Strict level.
ir::Function promote(const ir::Function& fn);

// constfold.cpp: evaluates operators whose operands are all constants, using
// ir/eval.h (the interpreter's semantics), and folds if/select on constant
// conditions.
ir::Function constant_fold(const ir::Function& fn);

// simplify.cpp: algebraic identities that are exact under IEEE and wrapping
// integer semantics (x*1, x+0 for ints, x**2 -> x*x, cast to same type,
// not(not(b)), double negation, select with equal arms, ...).
ir::Function simplify(const ir::Function& fn);

// cse.cpp: common subexpressions inside one statement's expression, and in
// straight-line runs of statements while no variable they read is written,
// are computed once into a new local variable.
ir::Function cse(const ir::Function& fn);

// dce.cpp: removes statements after a return, assignments to variables that
// are never read, and unused local variables (renumbering the rest).
ir::Function dce(const ir::Function& fn);

}  // namespace ember::compiler
