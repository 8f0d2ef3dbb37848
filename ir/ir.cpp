// Operator names and classes.
#include "ir/ir.h"

#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ember::ir {
namespace {

struct OpInfo {
  Op op;
  const char* name;
};

constexpr OpInfo kOps[] = {
    {Op::Const, "const"}, {Op::Param, "param"}, {Op::Var, "var"},
    {Op::Cast, "cast"},   {Op::Select, "select"}, {Op::Load, "load"},
    {Op::Shape, "shape"}, {Op::Tid, "tid"},
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
  // A table: the parser looks up every operator it reads.
  static const std::unordered_map<std::string_view, Op> by_name = [] {
    std::unordered_map<std::string_view, Op> table;
    for (const OpInfo& i : kOps) table.emplace(i.name, i.op);
    return table;
  }();
  auto it = by_name.find(name);
  if (it == by_name.end()) return false;
  *out = it->second;
  return true;
}

IndexError index_error(const Function& fn, int param, int axis, int64_t index,
                       const std::vector<int64_t>& shape, int line, bool is_unsigned) {
  std::string dims;
  for (size_t k = 0; k < shape.size(); ++k)
    dims += (k ? ", " : "") + std::to_string(shape[k]);
  if (shape.size() == 1) dims += ",";
  std::string shown = is_unsigned ? std::to_string(static_cast<uint64_t>(index))
                                  : std::to_string(index);
  return IndexError("index " + shown + " is out of bounds for axis " +
                    std::to_string(axis) + " with size " + std::to_string(shape.at(axis)) +
                    " (array '" + fn.params.at(param).name + "' of shape (" + dims +
                    ")) in kernel '" + fn.name + "' at " + fn.file + ":" + std::to_string(line));
}

}  // namespace ember::ir
