// Deterministic text form of a Function; the parser reads it back.
//
// Format (one statement per line, two-space indentation, no locations unless
// asked; see tests/golden for examples):
//
//   func price(s: f64, k: f64?, t: f64) -> f64 {
//     var d: f64
//     d = div(add(log(div(s, k)), mul(0.02:f64?, t)), sqrt(t))
//     if gt(d, 0:i64?) {
//       return mul(s, exp(neg(t)))
//     } else {
//       return sub(k, s)
//     }
//   }
//
// Expressions print as op(args...): parameters and variables by name,
// constants as value:type (floats with enough digits to round-trip, "nan",
// "inf", "-inf", "-0.0"), casts as cast<f32>(x), select as select(c, a, b).
// Types print as in ir::to_string ("f64", "f64?" weak, "f64[2]" array).
// With locations, each statement line ends with "  @line:col".
#pragma once

#include <string>

#include "ir/ir.h"

namespace ember::ir {

std::string print(const Function& fn, bool with_locations = false);
std::string print(const Expr& e, const Function& fn);

}  // namespace ember::ir
