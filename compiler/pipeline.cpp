// The pass pipeline: frontend IR in, optimized Strict IR out, logged and verified pass by pass.
#include "compiler/pipeline.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "compiler/log.h"
#include "compiler/passes.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace ember::compiler {
namespace {

// Debug builds always check; release builds when asked (EMBER_VERIFY=1), since
// verification costs a walk of the IR per pass.
bool verify_enabled() {
#ifndef NDEBUG
  return true;
#else
  const char* v = std::getenv("EMBER_VERIFY");
  return v && std::strcmp(v, "1") == 0;
#endif
}

// A pass that breaks the IR is a compiler bug, not the user's: logic_error.
void check(const ir::Function& fn, ir::Level level, const std::string& after) {
  std::vector<std::string> problems = ir::verify(fn, level);
  if (problems.empty()) return;
  std::string msg = "internal error: invalid IR " + after + " in function '" + fn.name + "':";
  for (const std::string& p : problems) msg += "\n  " + p;
  throw std::logic_error(msg);
}

}  // namespace

const std::vector<Pass>& passes() {
  static const std::vector<Pass> kPasses = {
      {"promote", promote}, {"constfold", constant_fold}, {"simplify", simplify}, {"cse", cse},
      {"dce", dce},
  };
  return kPasses;
}

ir::Function optimize(const ir::Function& fn) {
  spdlog::logger& log = logger("compiler");
  bool verify = verify_enabled();
  if (verify) check(fn, ir::Level::Frontend, "from the frontend");
  ir::Function cur = fn;
  for (const Pass& pass : passes()) {
    auto start = std::chrono::steady_clock::now();
    cur = pass.run(cur);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    log.debug("{} on '{}': {} us", pass.name, cur.name, us);
    if (log.should_log(spdlog::level::trace)) log.trace("after {}:\n{}", pass.name, ir::print(cur));
    if (verify) check(cur, ir::Level::Strict, std::string("after pass '") + pass.name + "'");
  }
  return cur;
}

}  // namespace ember::compiler
