// ember-opt: runs compiler passes on a text IR file and prints the result (tests, debugging).
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/log.h"
#include "compiler/pipeline.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace {

using ember::compiler::Pass;

int usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "ember-opt: " << problem << "\n";
  std::cerr << "usage: ember-opt [--passes=NAME,NAME,...|--all] [--locations] FILE\n"
               "  Runs the named passes in that order (default: all) on the text IR in FILE\n"
               "  ('-' reads stdin) and prints the result. Passes:";
  for (const Pass& p : ember::compiler::passes()) std::cerr << " " << p.name;
  std::cerr << "\n  'promote' takes frontend IR; the others take Strict IR.\n";
  return problem.empty() ? 0 : 1;
}

const Pass* find_pass(const std::string& name) {
  for (const Pass& p : ember::compiler::passes())
    if (name == p.name) return &p;
  return nullptr;
}

// Input to `promote` is frontend IR; every other pass takes and gives Strict IR.
void verify_or_throw(const ember::ir::Function& fn, ember::ir::Level level,
                     const std::string& what) {
  std::vector<std::string> problems = ember::ir::verify(fn, level);
  if (problems.empty()) return;
  std::string msg = "invalid IR " + what + ":";
  for (const std::string& p : problems) msg += "\n  " + p;
  throw std::runtime_error(msg);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const Pass*> pipeline;
  bool locations = false, passes_given = false;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return usage("");
    if (arg == "--locations") {
      locations = true;
    } else if (arg == "--all" || arg.rfind("--passes=", 0) == 0) {
      if (passes_given) return usage("give --passes or --all once");
      passes_given = true;
      std::string list = arg == "--all" ? "" : arg.substr(9);
      std::stringstream names(list);
      for (std::string name; std::getline(names, name, ',');) {
        const Pass* p = find_pass(name);
        if (!p) return usage("unknown pass '" + name + "'");
        pipeline.push_back(p);
      }
      if (arg != "--all" && pipeline.empty()) return usage("--passes= needs at least one pass");
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage("unknown option '" + arg + "'");
    } else {
      if (!file.empty()) return usage("more than one input file");
      file = arg;
    }
  }
  if (file.empty()) return usage("no input file");
  if (pipeline.empty())
    for (const Pass& p : ember::compiler::passes()) pipeline.push_back(&p);

  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) {
      std::cerr << file << ": error: cannot open file\n";
      return 1;
    }
    text << in.rdbuf();
  }
  try {
    ember::ir::Function fn = ember::ir::parse(text.str());
    bool frontend = std::string(pipeline.front()->name) == "promote";
    verify_or_throw(fn, frontend ? ember::ir::Level::Frontend : ember::ir::Level::Strict,
                    frontend ? "(input, frontend level)" : "(input, strict level)");
    spdlog::logger& log = ember::logger("compiler");
    for (const Pass* p : pipeline) {
      auto start = std::chrono::steady_clock::now();
      fn = p->run(fn);
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      if (log.should_log(spdlog::level::debug))
        log.debug("{}: {} us\n{}", p->name, us, ember::ir::print(fn));
      verify_or_throw(fn, ember::ir::Level::Strict, std::string("after pass '") + p->name + "'");
    }
    std::cout << ember::ir::print(fn, locations);
  } catch (const ember::ir::CompileError& e) {
    std::cerr << file << ":" << e.loc.line << ":" << e.loc.col << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << file << ": error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
