"""Frontend of @ember.kernel: what a kernel adds to the scalar language.

Array parameters (x[i, j] loads and stores, x.shape[k], x.ndim, len(x)),
for loops over range(), while loops, break and continue, ember.tid() and the
atomics. Names, operators and math calls are frontend._Translator's; the
C++ builder types and checks everything.
"""

import ast
import builtins
import re

from . import frontend
from .frontend import _Translator, _construct

__all__ = ["build_kernel"]

def _kernel_functions():
    """ember.tid and the atomics, by identity (any import alias works)."""
    from .kernel import atomic_add, atomic_max, atomic_min, tid
    return tid, {atomic_add: "add", atomic_min: "min", atomic_max: "max"}


class _KernelTranslator(_Translator):
    def __init__(self, pyfunc, src, arg_types, domain, frozen=None):
        if isinstance(src.node, ast.Lambda):
            raise frontend._error(src, src.node, "a kernel must be a def, not a lambda")
        super().__init__(pyfunc, src, arg_types, domain, frozen)
        self.domain = domain
        self.tid_fn, self.atomics = _kernel_functions()

    # -- arrays

    def array(self, node):
        """The array parameter `node` names, or None."""
        if isinstance(node, ast.Name) and node.id in self.params and self.params[node.id].ndim:
            return self.params[node.id]
        return None

    def require_array(self, node, what):
        array = self.array(node)
        if array is None:
            hint = ""
            if isinstance(node, ast.Name) and node.id in self.params:
                hint = (f" ('{node.id}' is a scalar in this launch: a number or an array of 0 "
                        "dimensions; kernels index arrays of 1 to 4)")
            raise self.error(node, f"{what} needs an array parameter, got "
                                   f"'{ast.unparse(node)}'{hint}")
        return array

    def indices(self, index):
        """The index expressions of x[index]: one per dimension."""
        elts = index.elts if isinstance(index, ast.Tuple) else [index]
        for e in elts:
            if isinstance(e, ast.Slice):
                raise self.error(e, "slices are not supported in kernels: index single "
                                    "elements, x[i, j]")
        return [self.expr(e) for e in elts]

    def visit_Subscript(self, node):
        base = node.value
        if isinstance(base, ast.Attribute) and base.attr == "shape" and self.array(base.value):
            return self.shape(self.array(base.value), node.slice, node)
        array = self.require_array(base, "indexing")
        return self.b.load(array, self.indices(node.slice), *self.loc(node))

    def shape(self, array, index, node):
        k = index.value if isinstance(index, ast.Constant) else None
        if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and isinstance(
                index.operand, ast.Constant):
            k = -index.operand.value
        if type(k) is not int:
            raise self.error(index, "x.shape[k] needs a constant integer k")
        if not -array.ndim <= k < array.ndim:
            raise self.error(index, f"shape index {k} is out of range for a {array.ndim}-d array")
        return self.b.shape(array, k % array.ndim, *self.loc(node))

    def visit_Attribute(self, node):
        array = self.array(node.value)
        if array is None:
            return super().visit_Attribute(node)
        if node.attr == "ndim":
            return self.value(array.ndim, "ndim", node)
        if node.attr == "shape":
            raise self.error(node, "x.shape is a tuple: index it with a constant, x.shape[0]")
        raise self.error(node, f"array attribute '{node.attr}' is not supported in kernels "
                               "(x.shape[k] and x.ndim are)")

    def store(self, target, value):
        if not isinstance(target, ast.Subscript):
            raise self.error(target, f"unsupported Python construct: assignment to "
                                     f"{_construct(target)}")
        array = self.require_array(target.value, "item assignment")
        self.b.store(array, self.indices(target.slice), value, *self.loc(target))

    def _pair_targets(self, target, value):
        if isinstance(target, (ast.Tuple, ast.List)) and self.is_call(value, self.tid_fn):
            if len(target.elts) != self.domain:
                raise self.error(target, f"ember.tid() gives {self.domain} "
                                         f"ind{'ex' if self.domain == 1 else 'ices'} in this "
                                         f"launch (a {self.domain}-d domain), not "
                                         f"{len(target.elts)}")
            for t in target.elts:
                if not isinstance(t, ast.Name):
                    raise self.error(t, "unpack ember.tid() into names: i, j = ember.tid()")
            return [(t, value, self.b.tid(k, *self.loc(value))) for k, t in enumerate(target.elts)]
        if isinstance(target, ast.Subscript):
            return [(target, value, None)]
        return super()._pair_targets(target, value)

    def visit_AugAssign(self, node):
        if not isinstance(node.target, ast.Subscript):
            return super().visit_AugAssign(node)
        target = node.target
        array = self.require_array(target.value, "item assignment")
        value = self.expr(node.value)
        indices = self.indices(target.slice)
        loc = self.loc(node)
        old = self.b.load(array, indices, *loc)
        self.b.store(array, indices, self.b.binary(self._binary_op(node.op, node), old, value, *loc),
                     *loc)

    # -- statements

    def visit_Return(self, node):
        if node.value is not None:
            raise self.error(node.value, "a kernel returns nothing: write its results into an "
                                         "array argument")
        self.b.ret_void(*self.loc(node))
        self.returned = True

    def visit_For(self, node):
        if node.orelse:
            raise self.else_error(node, "for")
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "a kernel's for loop needs one variable: "
                                          "for i in range(...)")
        it = node.iter
        if not self.is_call(it, builtins.range):
            raise self.error(it, "kernels loop over range(...) only")
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.error(it, "range() takes 1 to 3 positional arguments")
        bounds = [self.expr(a) for a in it.args]
        if len(bounds) == 1:
            bounds.insert(0, self.value(0, "0", it))
        if len(bounds) == 2:
            bounds.append(self.value(1, "1", it))
        self.b.begin_for(node.target.id, *bounds, *self.loc(it))
        self.loop_body(node.body, {node.target.id})
        self.b.end_for()

    def visit_While(self, node):
        if node.orelse:
            raise self.else_error(node, "while")
        self.b.begin_while(self.expr(node.test), *self.loc(node))
        self.loop_body(node.body, set())
        self.b.end_while()

    def else_error(self, node, loop):
        """The error of a loop's else clause, pointing at its `else` keyword
        (the AST only knows where the clause's first statement is)."""
        at = node.orelse[0]
        for lineno in range(at.lineno, node.body[-1].end_lineno, -1):
            text = self.src.lines[lineno - 1]
            if re.match(r"\s*else\s*:", text):
                at = ast.Pass(lineno=lineno, col_offset=len(text) - len(text.lstrip()))
                break
        return self.error(at, f"unsupported Python construct: {loop} ... else")

    def loop_body(self, stmts, assigned):
        """A loop body may run zero times: what it assigns is not defined after it."""
        before = set(self.defined)
        self.defined, self.returned = before | assigned, False
        self.block(stmts)
        self.defined, self.returned = before, False

    def visit_Break(self, node):
        self.b.jump(True, *self.loc(node))
        self.returned = True  # the rest of the block never runs

    def visit_Continue(self, node):
        self.b.jump(False, *self.loc(node))
        self.returned = True

    def visit_Expr(self, node):
        call = node.value
        if isinstance(call, ast.Call) and self.callee(call) in self.atomics:
            return self.atomic(call)
        return super().visit_Expr(node)

    # -- calls

    def callee(self, call):
        if not isinstance(call.func, (ast.Name, ast.Attribute)):
            return None
        try:
            obj = self.resolve(call.func)
            hash(obj)
            return obj
        except Exception:
            return None  # visit_Call reports it

    def is_call(self, node, fn):
        return isinstance(node, ast.Call) and self.callee(node) is fn

    def atomic(self, call):
        name = ast.unparse(call.func)
        if call.keywords or len(call.args) != 3:
            raise self.error(call, f"{name} takes 3 arguments (array, index, value)")
        array = self.require_array(call.args[0], name)
        value = self.expr(call.args[2])
        self.b.atomic(self.atomics[self.callee(call)], array, self.indices(call.args[1]), value,
                      *self.loc(call))

    def visit_Call(self, node):
        obj = self.callee(node)
        name = ast.unparse(node.func)
        if obj is self.tid_fn:
            if node.args or node.keywords:
                raise self.error(node, "ember.tid() takes no arguments")
            if self.domain != 1:
                raise self.error(node, f"ember.tid() is a tuple of {self.domain} indices in this "
                                       f"launch: unpack it, "
                                       f"{', '.join('ijk'[:self.domain])} = ember.tid()")
            return self.b.tid(0, *self.loc(node))
        if obj in self.atomics:
            raise self.error(node, f"{name}(...) returns nothing: call it as a statement")
        if obj is builtins.len:
            if node.keywords or len(node.args) != 1:
                raise self.error(node, "len() takes one array")
            array = self.require_array(node.args[0], "len()")
            return self.b.shape(array, 0, *self.loc(node))
        if obj is builtins.range:
            raise self.error(node, "range() can only be the iterable of a for loop")
        return super().visit_Call(node)


def build_kernel(pyfunc, arg_types, domain, frozen=None):
    """The IR of an @ember.kernel for (dtype, weak, ndim) arguments and a
    `domain`-d launch (1 to 3); `frozen` as build_function's."""
    return frontend.build_function(pyfunc, arg_types, _KernelTranslator, domain, frozen)
