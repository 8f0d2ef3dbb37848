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
// Kernel expressions. Indices are converted to int64; an array operand is an
// array Param with one index per dimension.
ExprPtr make_load(ExprPtr array, std::vector<ExprPtr> indices, Loc loc = {});
ExprPtr make_shape(ExprPtr array, int dim, Loc loc = {});  // 0 <= dim < ndim
ExprPtr make_tid(int dim, Loc loc = {});
// Any node kind with these operands, checked as above (used by passes that
// rebuild a node with new operands). `like` gives op, type (Cast/Const/
// Param/Var), value and index.
ExprPtr remake(const Expr& like, std::vector<ExprPtr> args);

StmtPtr make_assign(int var, ExprPtr value, Loc loc = {});
StmtPtr make_if(ExprPtr cond, Block then_body, Block else_body, Loc loc = {});
StmtPtr make_return(ExprPtr value, Loc loc = {});
// Kernel statements (see ir.h's StmtKind). Stored values are converted to
// the array's dtype as NumPy's item assignment does; range bounds to int64.
StmtPtr make_store(ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc = {});
StmtPtr make_atomic(Op op, ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value,
                    Loc loc = {});
StmtPtr make_for(int var, ExprPtr start, ExprPtr stop, ExprPtr step, Block body, Loc loc = {});
StmtPtr make_while(ExprPtr cond, Block body, Loc loc = {});
StmtPtr make_jump(StmtKind kind, Loc loc = {});  // Break or Continue
// `like` with new expressions and bodies; the second form keeps like.args.
StmtPtr remake(const Stmt& like, ExprPtr value, std::vector<ExprPtr> args, Block then_body,
               Block else_body);
StmtPtr remake(const Stmt& like, ExprPtr value, Block then_body, Block else_body);

// True when every path through `b` ends in a return.
bool always_returns(const Block& b);

// Builds a Function statement by statement, in source order. Local variables
// are declared by their first assignment and keep that type: a later
// assignment of another type is converted when the value is weak (a Python
// literal) and is an error otherwise. `domain` > 0 builds a kernel over that
// many index dimensions (array parameters, stores, loops; no return value).
class FunctionBuilder {
 public:
  FunctionBuilder(std::string name, std::string file, Loc loc, int domain = 0);

  ExprPtr add_param(const std::string& name, Type t, Loc loc = {});
  bool has_var(const std::string& name) const;
  ExprPtr read_var(const std::string& name, Loc loc);
  void assign(const std::string& name, ExprPtr value, Loc loc);
  void begin_if(ExprPtr cond, Loc loc);
  void begin_else();
  void end_if();
  // `for name in range(start, stop, step)`: name becomes an int64 local.
  void begin_for(const std::string& name, ExprPtr start, ExprPtr stop, ExprPtr step, Loc loc);
  void end_for();
  void begin_while(ExprPtr cond, Loc loc);
  void end_while();
  void jump(StmtKind kind, Loc loc);  // break or continue
  void store(ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc);
  void atomic(Op op, ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc);
  ExprPtr tid(int dim, Loc loc) const;
  void ret(ExprPtr value, Loc loc);  // null: a kernel's bare return
  // The result type is the promotion of every returned value.
  Function finish();

 private:
  // A compound statement being built (If, For or While).
  struct Open {
    StmtKind kind;
    ExprPtr cond;
    Loc loc;
    Block then_body;
    bool in_else = false;
    std::vector<ExprPtr> args;  // For: start, stop, step
    int var = 0;                // For
    Block last;                 // filled by close()
  };
  Block& current();
  int declare(const std::string& name, Type t, Loc loc);
  std::string type_change(int var, Type got) const;
  void open(StmtKind kind, ExprPtr cond, Loc loc, std::vector<ExprPtr> args = {}, int var = 0);
  Open close(StmtKind kind);

  Function fn_;
  std::map<std::string, int> vars_;
  std::vector<Open> open_;
  std::vector<Block> blocks_;  // blocks_[0] is the body; one more per open statement
  std::vector<Type> returns_;
};

}  // namespace ember::ir
