// Reference interpreter: runs a Function on scalar arguments. Slow and simple
// on purpose; compiled code is tested against it.
#pragma once

#include <vector>

#include "ir/ir.h"

namespace ember::ir {

// Runs a Strict-level Function (after the `promote` pass: every conversion
// explicit). Arguments are literals of the parameter types; the result is a
// literal of fn.result. Local variables start at zero.
Literal interpret(const Function& fn, const std::vector<Literal>& args);

}  // namespace ember::ir
