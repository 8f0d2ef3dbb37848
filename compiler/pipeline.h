// The ordered list of passes from frontend IR to optimized Strict IR.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace ember::compiler {

struct Pass {
  const char* name;
  std::function<ir::Function(const ir::Function&)> run;
};

// promote, constant_fold, simplify, cse, dce, in that order.
const std::vector<Pass>& passes();
// Runs every pass. At debug log level ("compiler" logger) logs the IR after
// each pass and its time; in debug builds verifies after each pass.
ir::Function optimize(const ir::Function& fn);

}  // namespace ember::compiler
