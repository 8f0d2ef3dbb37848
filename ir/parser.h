// Reads the text form written by printer.h back into a Function.
#pragma once

#include <stdexcept>
#include <string>

#include "ir/ir.h"

namespace ember::ir {

class ParseError : public std::runtime_error {
 public:
  ParseError(const std::string& msg, int line, int col)
      : std::runtime_error("line " + std::to_string(line) + ":" + std::to_string(col) + ": " + msg),
        line(line), col(col) {}
  int line, col;
};

// Nodes are made through builder.h, so typing errors surface as CompileError.
Function parse(const std::string& text);

}  // namespace ember::ir
