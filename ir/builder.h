// Checked constructors of IR nodes, and the stateful FunctionBuilder the
// Python frontend drives. Every node is made here: result types follow the
// promotion rules of types.h and invalid combinations raise CompileError.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace ember::ir {

// Result types (throw CompileError with `loc` for an unsupported combination).
Type unary_result(Op op, Type x, Loc loc);
Type binary_result(Op op, Type a, Type b, Loc loc);
// The accumulator (and result) type of a reduction combining values of type
// `mapped` with `combine` (Add, Mul, Minimum or Maximum), NumPy's rules:
// sums and products of bools and narrower integers widen to int64 / uint64.
Scalar reduce_result(Op combine, Scalar mapped, Loc loc);

// A literal made to fit `t`: integers wrapped to the width, float32 rounded,
// bools 0/1.
Literal normalize(Literal v, Type t);

ExprPtr make_const(Type t, Literal v, Loc loc = {});
ExprPtr make_int(int64_t v, Type t, Loc loc = {});
ExprPtr make_float(double v, Type t, Loc loc = {});
ExprPtr make_bool(bool v, Loc loc = {});
ExprPtr make_param(int index, Type t, Loc loc = {});
ExprPtr make_var(int index, Type t, Loc loc = {});
ExprPtr make_cast(ExprPtr x, Type t, Loc loc = {});
ExprPtr make_truth(ExprPtr x, Loc loc = {});  // x as bool (x != 0), Python truthiness
ExprPtr make_select(ExprPtr cond, ExprPtr a, ExprPtr b, Loc loc = {});
ExprPtr make_unary(Op op, ExprPtr x, Loc loc = {});
ExprPtr make_binary(Op op, ExprPtr a, ExprPtr b, Loc loc = {});
// Any node kind with these operands, checked as above (used by passes that
// rebuild a node with new operands). `like` gives op, type (Cast/Const/
// Param/Var), value and index.
ExprPtr remake(const Expr& like, std::vector<ExprPtr> args);

StmtPtr make_assign(int var, ExprPtr value, Loc loc = {});
StmtPtr make_if(ExprPtr cond, Block then_body, Block else_body, Loc loc = {});
StmtPtr make_return(ExprPtr value, Loc loc = {});
StmtPtr remake(const Stmt& like, ExprPtr value, Block then_body, Block else_body);

// True when every path through `b` ends in a return.
bool always_returns(const Block& b);

// Builds a Function statement by statement, in source order. Local variables
// are declared by their first assignment and keep that type: a later
// assignment of another type is converted when the value is weak (a Python
// literal) and is an error otherwise.
class FunctionBuilder {
 public:
  FunctionBuilder(std::string name, std::string file, Loc loc);

  ExprPtr add_param(const std::string& name, Type t, Loc loc = {});
  bool has_var(const std::string& name) const;
  ExprPtr read_var(const std::string& name, Loc loc);
  void assign(const std::string& name, ExprPtr value, Loc loc);
  void begin_if(ExprPtr cond, Loc loc);
  void begin_else();
  void end_if();
  void ret(ExprPtr value, Loc loc);
  // The result type is the promotion of every returned value.
  Function finish();

 private:
  struct OpenIf {
    ExprPtr cond;
    Loc loc;
    Block then_body;
    bool in_else = false;
  };
  Block& current();

  Function fn_;
  std::map<std::string, int> vars_;
  std::vector<OpenIf> open_;
  std::vector<Block> blocks_;  // blocks_[0] is the body; one more per open if
  std::vector<Type> returns_;
};

}  // namespace ember::ir
