// libFuzzer target (issue 24): the IR's text parser, verifier, printer and
// passes on arbitrary bytes. Built by tools/fuzz with clang-19 and ASan+UBSan;
// any crash, sanitizer report, hang or broken property below is a finding.
//   - parse() either returns a Function or throws ParseError / CompileError;
//   - verify() answers at both levels without throwing;
//   - printing and parsing again gives the same text (with locations too);
//   - IR the verifier accepts at the Frontend level goes through promote and
//     then every pass, and each result verifies at the Strict level.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "compiler/passes.h"
#include "compiler/pipeline.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace {

using namespace ember;

[[noreturn]] void finding(const std::string& what, const std::string& text) {
  std::cerr << "ir_text_fuzzer: " << what << "\n--- input ---\n" << text << "\n";
  std::abort();
}

void check_valid(const ir::Function& fn, const std::string& after, const std::string& text) {
  std::vector<std::string> problems = ir::verify(fn, ir::Level::Strict);
  if (!problems.empty()) finding("invalid IR after " + after + ": " + problems[0], text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ir::Function fn;
  try {
    fn = ir::parse(text);
  } catch (const ir::ParseError&) {
    return 0;
  } catch (const ir::CompileError&) {
    return 0;
  }
  bool frontend_ok = ir::verify(fn, ir::Level::Frontend).empty();
  bool strict_ok = ir::verify(fn, ir::Level::Strict).empty();
  for (bool locations : {false, true}) {
    std::string printed = ir::print(fn, locations);
    ir::Function back;
    try {
      back = ir::parse(printed);
    } catch (const std::exception& e) {
      finding(std::string("printed IR does not parse: ") + e.what() + "\n--- printed ---\n" +
                  printed, text);
    }
    if (ir::print(back, locations) != printed) finding("print(parse(print(f))) != print(f)", text);
  }
  if (!frontend_ok) return 0;
  // The passes take what the frontend gives them: promote first, then any.
  try {
    ir::Function promoted = compiler::promote(fn);
    check_valid(promoted, "promote", text);
    for (const compiler::Pass& pass : compiler::passes()) {
      if (pass.name == std::string("promote")) continue;
      check_valid(pass.run(promoted), pass.name, text);
    }
    check_valid(compiler::optimize(fn), "the whole pipeline", text);
    if (strict_ok) check_valid(compiler::optimize(fn), "the pipeline on Strict IR", text);
  } catch (const ir::CompileError&) {
    // A user-facing error (an out-of-range literal, division by a constant zero) is an answer.
  }
  return 0;
}
