// Operator names and classes.
#include "ir/ir.h"

#include <cstring>

namespace ember::ir {
namespace {

struct OpInfo {
  Op op;
  const char* name;
};

constexpr OpInfo kOps[] = {
    {Op::Const, "const"}, {Op::Param, "param"}, {Op::Var, "var"},
    {Op::Cast, "cast"},   {Op::Select, "select"},
#define X(n, text) {Op::n, text},
    EMBER_UNARY_OPS(X) EMBER_BINARY_OPS(X)
#undef X
};

}  // namespace

const char* op_name(Op op) { return kOps[static_cast<int>(op)].name; }

bool is_unary(Op op) { return op >= Op::Neg && op <= Op::SignBit; }
bool is_binary(Op op) { return op >= Op::Add && op <= Op::Ge; }
bool is_comparison(Op op) { return op >= Op::Eq && op <= Op::Ge; }

bool has_bool_result(Op op) {
  return op == Op::Not || op == Op::IsNan || op == Op::IsInf || op == Op::IsFinite ||
         op == Op::SignBit || is_comparison(op);
}

bool op_from_name(const std::string& name, Op* out) {
  for (const OpInfo& i : kOps)
    if (name == i.name) {
      *out = i.op;
      return true;
    }
  return false;
}

}  // namespace ember::ir
