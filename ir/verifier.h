// Checks the invariants of a Function; returns the list of violations.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"

namespace ember::ir {

enum class Level {
  Frontend,  // as built: result types follow promotion, operands may differ
  Strict,    // after `promote`: operands agree exactly, no weak type is left
};

// Checked: every node's type is what builder.h would compute; param/var
// indices are in range and match the declared types; assignments match the
// variable's type; conditions are bool; every path returns and returned
// values have the function's result type (Strict) or promote to it.
std::vector<std::string> verify(const Function& fn, Level level);

}  // namespace ember::ir
