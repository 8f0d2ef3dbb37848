// Traversal helpers shared by the passes: bottom-up rebuilding of a Function's
// expressions and statements, structural identity of expressions, variable reads.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "ir/ir.h"

namespace ember::compiler {

// Gets an original node and its operands, already rewritten; returns the node
// that replaces it (often rebuilt(e, args)).
using ExprRewrite = std::function<ir::ExprPtr(const ir::ExprPtr& e, std::vector<ir::ExprPtr> args)>;
// Gets a statement whose expression and bodies are already rewritten; returns
// the statements that replace it (itself, none, or a spliced branch).
using StmtRewrite = std::function<ir::Block(ir::StmtPtr s)>;

// `e` with operands `args`: `e` itself when they are unchanged, so that
// untouched trees stay shared; otherwise remade through the checked builder.
ir::ExprPtr rebuilt(const ir::ExprPtr& e, std::vector<ir::ExprPtr> args);

ir::ExprPtr rewrite(const ir::ExprPtr& e, const ExprRewrite& f);
ir::Block rewrite(const ir::Block& b, const ExprRewrite& f, const StmtRewrite& g = {});
// Params, locals and result type are copied unchanged.
ir::Function rewrite(const ir::Function& fn, const ExprRewrite& f, const StmtRewrite& g = {});

// `fn` with local v moved to index new_index[v] (-1: dropped; the variable
// must then be unused). Indices that are kept must be 0..n-1.
ir::Function renumber_locals(const ir::Function& fn, const std::vector<int>& new_index);

// Identity of value: locations are ignored, literals compare bitwise (so
// -0.0 differs from 0.0 and a NaN equals itself).
bool same_expr(const ir::Expr& a, const ir::Expr& b);
std::size_t hash_expr(const ir::Expr& e);
int expr_size(const ir::Expr& e);  // number of nodes

// Calls `f` with the index of every local variable `e` reads.
void for_each_read(const ir::Expr& e, const std::function<void(int)>& f);
// ... that a statement's own expressions (value and args, not bodies) read.
void for_each_read(const ir::Stmt& s, const std::function<void(int)>& f);
// Whether `e` loads from an array (its value then depends on stores too).
bool reads_memory(const ir::Expr& e);

}  // namespace ember::compiler
