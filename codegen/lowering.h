// The Lowering class shared by lower.cpp (scalar code, the elementwise loop)
// and lower_kernel.cpp (arrays, loops and atomics of a @kernel, its domain
// loops). Private to codegen/.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "codegen/lower.h"

namespace ember::codegen {

using llvm::IRBuilder;
using llvm::Value;
using ir::Op;
using ir::Scalar;

// GPU helpers (lower_gpu.cpp).
// A special register (thread, block index, ...) as an int64.
Value* gpu_sreg(IRBuilder<>& b, llvm::Intrinsic::ID id);
// A kernel the driver can launch, `block` threads per block when not 0;
// the builder is left at its entry.
llvm::Function* gpu_entry(IRBuilder<>& b, llvm::Module& m, const std::string& name,
                          const std::vector<llvm::Type*>& params, int block = 0);
// for (i = first; i < n; i += stride) each(i), in int64.
void stride_loop(IRBuilder<>& b, Value* first, Value* stride, Value* n,
                 const std::function<void(Value*)>& each);

class Lowering {
 public:
  Lowering(const ir::Function& fn, llvm::Module& m, const Options& options, const VectorIsa& isa)
      : fn_(fn), m_(m), c_(m.getContext()), b_(c_), isa_(isa), boundscheck_(options.boundscheck) {
    if (options.fastmath) b_.setFastMathFlags(llvm::FastMathFlags::getFast());
  }

  // Instructions of the scalar function or kernel body get the Python
  // line and column of the IR they come from (lower.h).
  void set_debug(DebugLocations* debug) { debug_ = debug; }
  // `while` loops also end when ember_interrupt_requested is set (host code).
  void set_interruptible() { interruptible_ = true; }
  llvm::Function* scalar_function(const std::string& name);
  // Keeps the vector math declarations alive until the vectorizer has run.
  void keep_vector_declarations() { llvm::appendToCompilerUsed(m_, vector_decls_); }
  void elementwise_loop(llvm::Function* scalar, const Layout& layout, const std::string& name);
  // A @kernel (lower_kernel.cpp): the always-inlined body run for one index,
  // then the exported loops over a box of the domain (codegen.h's KernelFn).
  llvm::Function* kernel_body(const std::string& name, const Layout& layout);
  void kernel_loops(llvm::Function* body, const std::string& name);
  // lower_gpu.cpp: the CUDA kernels around the scalar function or the body.
  void gpu_elementwise(llvm::Function* scalar, const Layout& layout, const std::string& name);
  void gpu_kernel(llvm::Function* body, const std::string& name);
  // lower_gpu_reduce.cpp: the three kernels of a reduction (codegen.h, CUDA)
  // mapping with `scalar`.
  void gpu_reduce(llvm::Function* scalar, const Layout& layout, const Reduction& r, bool fastmath,
                  const std::string& name);

 private:
  // Statements return false once the block has been terminated by a return.
  bool block(const ir::Block& body);
  // expr_at with the expression's location (when debugging), restored after.
  Value* expr(const ir::Expr& e);
  Value* expr_at(const ir::Expr& e);
  // f_'s entry: its subprogram when debugging (and the def line as the
  // location until a statement sets one).
  void enter(llvm::Function* f);
  void leave();  // building generated code (loops): no Python location
  void locate(ir::Loc loc);
  // lower_kernel.cpp: for, while, break, continue, store, atomic; false once
  // the block has been terminated.
  bool kernel_statement(const ir::Stmt& s);
  void for_loop(const ir::Stmt& s);
  void counted_loop(const ir::Stmt& s, Value* start, Value* step, Value* count);
  // Whether ember_interrupt_requested (runtime/interrupt.h) is clear: a Ctrl-C
  // ends `while` loops at their next test and `for` loops at their next
  // block of kInterruptStride iterations.
  Value* not_interrupted();
  static constexpr int64_t kInterruptStride = 1 << 16;
  bool non_negative_through_start(const ir::Stmt& loop);
  void while_loop(const ir::Stmt& s);
  void loop_body(const ir::Block& body, llvm::BasicBlock* head, llvm::BasicBlock* exit);
  void atomic(const ir::Stmt& s);
  void finish_index();  // returns from the kernel body (ok)
  void grid_stride_loop(Value* n, const std::function<void(Value*)>& each);
  // A GPU map's operands (lower_gpu.cpp; codegen.h, CUDA): a scalar-layout
  // input's value, or an array's data pointer and, in the strided ABI, its
  // byte strides.
  struct GpuOperand {
    Value* data;
    std::vector<Value*> strides;  // empty: the value, or contiguous
  };
  // The inputs' parameter types in `layout`'s ABI.
  std::vector<llvm::Type*> gpu_input_types(const Layout& layout);
  // The operands, extents read from the entry's parameters `at`, ... (advanced).
  GpuOperand gpu_operand(llvm::Function* f, unsigned& at, bool scalar, int strided);
  std::vector<GpuOperand> gpu_inputs(llvm::Function* f, unsigned& at, const Layout& layout);
  std::vector<Value*> gpu_extents(llvm::Function* f, unsigned& at, int count);
  // Row-major position k as an index per axis of `extents` (the last fastest).
  std::vector<Value*> unravel(Value* k, const std::vector<Value*>& extents);
  // Element k (at `index` of the extents, for strided operands) of an array.
  Value* gpu_address(const GpuOperand& op, Scalar s, Value* k, const std::vector<Value*>& index);
  // The scalar function's arguments at element k.
  std::vector<Value*> map_args(const std::vector<GpuOperand>& inputs, const Layout& layout,
                               Value* k, const std::vector<Value*>& index);
  // The address of an array element (args: array parameter, indices), with
  // Python's negative indices and, when asked, the bounds check.
  Value* element(const std::vector<ir::ExprPtr>& args, ir::Loc loc);
  Value* wrap(Value* index, Value* extent);
  bool non_negative(const ir::Expr& e) const;
  void find_non_negative_vars();
  Value* cast(Value* x, Scalar from, Scalar to);
  Value* x86_truncate(Value* x, int bits);
  Value* unary(Op op, Scalar t, Value* x);
  Value* binary(Op op, Scalar t, Value* a, Value* b);
  Value* compare(Op op, Scalar t, Value* a, Value* b);
  Value* int_divmod(Op op, Scalar t, Value* a, Value* b);
  Value* float_divmod(Op op, Scalar t, Value* a, Value* b);
  Value* shift(Op op, Scalar t, Value* a, Value* b);
  Value* int_pow(Scalar t, Value* a, Value* b);
  Value* libm(const char* name, Scalar t, llvm::ArrayRef<Value*> args);
  Value* fmod(Scalar t, Value* a, Value* b);
  // A pure call of libm's `name` whose vector variant for each ISA level is
  // `variant(level, lanes, libm symbol)`.
  Value* math_call(const char* name, Scalar t, llvm::ArrayRef<Value*> args,
                   const std::function<llvm::Function*(const VectorIsa::Level&, int,
                                                       const std::string&)>& variant);
  Value* intrinsic(llvm::Intrinsic::ID id, llvm::ArrayRef<Value*> args);
  // Memory accesses; `group` marks them as independent across loop iterations.
  Value* load(Scalar s, Value* ptr, llvm::MDNode* group = nullptr);
  // A value in memory type (bool: a byte) as a value of type `s`.
  Value* from_memory(Scalar s, Value* v) {
    return s == Scalar::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }
  void store(Scalar s, Value* value, Value* ptr, llvm::MDNode* group = nullptr);
  llvm::Constant* int_const(Scalar t, int64_t v) { return llvm::ConstantInt::get(ty(t), v, true); }
  llvm::Constant* fp_const(Scalar t, double v) { return llvm::ConstantFP::get(ty(t), v); }
  llvm::Type* ty(Scalar s) { return value_type(c_, s); }

  const ir::Function& fn_;
  llvm::Module& m_;
  DebugLocations* debug_ = nullptr;
  bool interruptible_ = false;
  llvm::DISubprogram* scope_ = nullptr;
  llvm::LLVMContext& c_;
  IRBuilder<> b_;
  const VectorIsa& isa_;
  std::vector<llvm::GlobalValue*> vector_decls_;
  llvm::Function* f_ = nullptr;
  std::vector<Value*> params_;
  std::vector<llvm::AllocaInst*> slots_;
  // Kernels only.
  struct Array {
    Value* data = nullptr;
    std::vector<Value*> shape, strides;  // strides in elements
  };
  bool boundscheck_ = false;
  std::vector<Array> arrays_;  // one per parameter (empty for scalars)
  std::vector<Value*> tids_;
  Value* error_ = nullptr;
  llvm::MDNode* group_ = nullptr;  // memory accesses independent across indices
  struct Loop {
    llvm::BasicBlock *next, *exit;
  };
  std::vector<Loop> loops_;
  std::set<int> non_negative_vars_;
};

}  // namespace ember::codegen
