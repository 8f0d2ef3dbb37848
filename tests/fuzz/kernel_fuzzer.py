"""Random @ember.kernel and @ember.reduce programs, compiled and compared with
ember's IR interpreter (issue 24's second fuzzer).

    python tests/fuzz/kernel_fuzzer.py [--seconds S | --count N] [--seed K] [--show]

Each program is written into a module file (ember reads the source), compiled,
launched, and checked:

  kernels   a 1-d @ember.kernel over a random domain (1..70 indices: vector
            loops and their tails) with for loops (negative and zero steps
            included), while loops, break, continue, if/elif/else, an early
            return, int and float locals, reads at computed indices, and
            atomics (add, min or max on an int64 and a float64 array, one
            operation per array). The compiled launch and `interpret()` must
            leave every array bitwise equal.
            Float atomics take integer values (small ones for adds), on which
            every order of the threads' updates agrees exactly.
  reductions @ember.reduce("+", "min", "max", "*") over a random map of two
            arrays: equal to the map's interpreted values reduced in Python
            (integers exactly, with int64 wrap-around; float min/max exactly;
            float sums within 1e-12 of math.fsum's relative to the sum of
            magnitudes), and bitwise the same with 1 and 2 threads.

Operations are those whose result is the same wherever they run: no libm
(SIMD variants may differ by an ulp), no float-to-int cast of a value that
could be out of range, integer division only by positive constants.
A mismatch prints the program, its inputs' seed and both results, and exits 1.
"""

import argparse
import importlib.util
import math
import os
import random
import sys
import tempfile
import time

import numpy as np

import ember
from ember import _core, frontend

N_IN = 13   # elements of the input arrays (indices are taken modulo this)
N_HIST = 5  # elements of the atomics' targets
ATOMICS = ("add", "min", "max")


class KernelGen:
    """Writes one kernel's source (or a reduce's map expression) from a
    seeded random.Random. `ints` and `floats` name the variables an
    expression may read; `arrays`: whether it may read xi/xf."""

    def __init__(self, rng, ints=("a0", "a1", "i", "p"), floats=("f0", "f1", "q"), arrays=True):
        self.rng = rng
        self.ints, self.floats, self.arrays = list(ints), list(floats), arrays
        # One atomic operation per array: an add and a min on the same element
        # depend on the order the threads run them in (the interpreter's is
        # the index order), two adds or two mins do not.
        self.int_atomic, self.float_atomic = rng.choice(ATOMICS), rng.choice(ATOMICS)
        self.lines = []
        self.loop_vars = []  # the loop variables in scope (ints)
        self.depth = 0       # loop nesting
        self.counter = 0

    def r(self, *choices):
        return self.rng.choice(choices)

    def grow(self, d, leaves, sub, forms):
        """A leaf, or one of forms(a, b) over two subexpressions `sub` makes."""
        if d >= 2 or self.rng.random() < 0.35:
            return self.rng.choice(leaves)
        return self.rng.choice(forms(sub(d + 1), sub(d + 1)))

    # int expressions: exact in int64 on both sides (wrap-around included)
    def iexpr(self, d=0):
        rng = self.rng
        leaves = self.ints + self.loop_vars + [str(rng.randint(-9, 9))]
        if self.arrays and d < 2:
            leaves.append(f"xi[{self.index()}]")
        return self.grow(d, leaves, self.iexpr, lambda a, b: [
            f"({a} + {b})", f"({a} - {b})", f"({a} * {b})", f"min({a}, {b})", f"max({a}, {b})",
            f"abs({a})", f"({a} % {rng.randint(1, 7)})", f"({a} // {rng.randint(1, 7)})",
            f"({a} & {b})", f"({a} ^ {b})", f"({a} >> {rng.randint(0, 5)})",
            f"({a} if {self.cond(d + 1)} else {b})"])

    # float expressions: IEEE-exact operations only (sqrt is correctly rounded)
    def fexpr(self, d=0):
        leaves = self.floats + [f"{self.rng.uniform(-4, 4):.3f}", f"float({self.iexpr(2)})"]
        if self.arrays and d < 2:
            leaves.append(f"xf[{self.index()}]")
        return self.grow(d, leaves, self.fexpr, lambda a, b: [
            f"({a} + {b})", f"({a} - {b})", f"({a} * {b})", f"({a} / {b})", f"min({a}, {b})",
            f"max({a}, {b})", f"abs({a})", f"math.sqrt(abs({a}))",
            f"({a} if {self.cond(d + 1)} else {b})"])

    def cond(self, d=0):
        rng = self.rng
        if rng.random() < 0.5:
            return f"({self.iexpr(d + 1)} {self.r('<', '<=', '==', '!=', '>', '>=')} {self.iexpr(d + 1)})"
        return f"({self.fexpr(d + 1)} {self.r('<', '>', '<=', '>=')} {self.fexpr(d + 1)})"

    def index(self):
        return f"({self.iexpr(2)}) % {N_IN}"

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def block(self, indent, n):
        for _ in range(n):
            self.statement(indent)

    def statement(self, indent):
        rng = self.rng
        kinds = ["int", "float", "int", "float", "if", "atomic"]
        if self.depth < 2:
            kinds += ["for", "while"]
        if self.depth:
            kinds += ["break", "continue"]
        kinds.append("return")
        kind = rng.choice(kinds)
        if kind == "int":
            self.emit(indent, f"{self.r('a0', 'a1')} {self.r('=', '+=', '-=')} {self.iexpr()}")
        elif kind == "float":
            self.emit(indent, f"{self.r('f0', 'f1')} {self.r('=', '+=', '*=')} {self.fexpr()}")
        elif kind == "if":
            self.emit(indent, f"if {self.cond()}:")
            self.block(indent + 1, rng.randint(1, 3))
            if rng.random() < 0.3:
                self.emit(indent, f"elif {self.cond()}:")
                self.block(indent + 1, rng.randint(1, 2))
            if rng.random() < 0.5:
                self.emit(indent, "else:")
                self.block(indent + 1, rng.randint(1, 2))
        elif kind == "atomic":
            if rng.random() < 0.5:
                self.emit(indent, f"ember.atomic_{self.int_atomic}(hi, ({self.iexpr(1)}) % {N_HIST}, "
                                  f"{self.iexpr(1)})")
            else:  # integers as floats: no NaN or -0.0, exact sums, so any order agrees
                op = self.float_atomic
                value = f"float(({self.iexpr(1)}) % 16)" if op == "add" else f"float({self.iexpr(1)})"
                self.emit(indent, f"ember.atomic_{op}(hf, ({self.iexpr(1)}) % {N_HIST}, {value})")
        elif kind == "for":
            var = f"k{self.counter}"
            self.counter += 1
            start, stop = rng.randint(-6, 6), rng.randint(-6, 6)
            step = self.r("", ", 1", ", 2", ", -1", ", -2", ", p")  # p may be 0: no iteration
            self.emit(indent, f"for {var} in range({self.r(start, 'a1 % 5')}, "
                              f"{self.r(stop, 'p', 'i % 7')}{step}):")
            self.depth += 1
            self.loop_vars.append(var)
            self.block(indent + 1, rng.randint(1, 3))
            self.loop_vars.pop()
            self.depth -= 1
        elif kind == "while":
            w = f"w{self.counter}"
            self.counter += 1
            self.emit(indent, f"{w} = 0")
            self.emit(indent, f"while {w} < {rng.randint(1, 6)} and {self.cond()}:")
            self.emit(indent + 1, f"{w} += 1")
            self.depth += 1
            self.block(indent + 1, rng.randint(1, 3))
            self.depth -= 1
        elif kind in ("break", "continue"):
            self.emit(indent, f"if {self.cond()}:")
            self.emit(indent + 1, kind)
        else:
            self.emit(indent, f"if {self.cond()}:")
            self.emit(indent + 1, "oi[i] = a0")
            self.emit(indent + 1, "return")

    def kernel(self, name):
        self.emit(0, "@ember.kernel")
        self.emit(0, f"def {name}(oi, of, hi, hf, xi, xf, p, q):")
        self.emit(1, "i = ember.tid()")
        self.emit(1, f"a0 = xi[i % {N_IN}]")
        self.emit(1, "a1 = i")
        self.emit(1, f"f0 = xf[i % {N_IN}]")
        self.emit(1, "f1 = q")
        self.block(1, self.rng.randint(2, 6))
        self.emit(1, "oi[i] = a0 + a1")
        self.emit(1, "of[i] = f0 + f1")
        return "\n".join(self.lines) + "\n"


def reduce_source(rng, name):
    """A reduce over a map of two int64 or two float64 arrays: (source, op, dtype)."""
    floats = rng.random() < 0.5
    if floats:
        op, expr = rng.choice(["+", "min", "max"]), KernelGen(rng, (), ("x", "y"), False).fexpr(1)
    else:
        op, expr = rng.choice(["+", "min", "max", "*"]), KernelGen(rng, ("x", "y"), (), False).iexpr(1)
    source = f'@ember.reduce("{op}")\ndef {name}(x, y):\n    return {expr}\n'
    return source, op, "float64" if floats else "int64"


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kernel_inputs(rng):
    n = rng.randint(1, 70)
    arrays = [np.zeros(n, np.int64), np.zeros(n, np.float64),
              np.array([rng.randint(-50, 50) for _ in range(N_HIST)], np.int64),
              np.array([rng.uniform(-5, 5) for _ in range(N_HIST)], np.float64),
              np.array([rng.choice([rng.randint(-20, 20), rng.randint(-2**62, 2**62)])
                        for _ in range(N_IN)], np.int64),
              np.array([rng.choice([rng.uniform(-3, 3), 0.0, -0.0, 1e300, float("inf")])
                        for _ in range(N_IN)], np.float64)]
    return n, arrays, [rng.choice([0, 1, 2, -1, 3, -3, 7]), rng.uniform(-2, 2)]


def same(a, b):
    """Bitwise equal (any NaN equals any NaN)."""
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    if a.dtype.kind == "f":
        bits = a.view(np.uint64) == b.view(np.uint64)
        return bool(np.all(bits | (np.isnan(a) & np.isnan(b))))
    return np.array_equal(a, b)


def check_kernel(fn, rng):
    n, arrays, scalars = kernel_inputs(rng)
    compiled = [a.copy() for a in arrays]
    interpreted = [a.copy() for a in arrays]
    with np.errstate(all="ignore"):
        fn[n](*compiled, *scalars)
        fn.interpret(n, *interpreted, *scalars)
    for name, got, want in zip(["oi", "of", "hi", "hf"], compiled, interpreted):
        if not same(got, want):
            return f"array {name} differs (n={n}, p={scalars[0]}, q={scalars[1]!r}):\n" \
                   f"  compiled    {got.tolist()}\n  interpreted {want.tolist()}"
    return None


def check_reduce(fn, op, kind, rng):
    n = rng.choice([1, 7, 16, 33, 100, 1000, 70000])
    if kind == "float64":
        x = np.array([rng.uniform(-3, 3) for _ in range(n)])
        y = np.array([rng.uniform(-3, 3) for _ in range(n)])
    else:
        x = np.array([rng.randint(-1000, 1000) for _ in range(n)], np.int64)
        y = np.array([rng.randint(-1000, 1000) for _ in range(n)], np.int64)
    with np.errstate(all="ignore"):
        ember.set_num_threads(1)
        one = fn(x, y)
        ember.set_num_threads(2)
        two = fn(x, y)
    if not same(np.asarray(one), np.asarray(two)):
        return f"1 thread gives {one!r}, 2 threads {two!r} (n={n})"
    ir_fn = frontend.build_function(fn.py_func, [(kind, False), (kind, False)])
    values = np.array([_core.interpret(ir_fn, [a.item(), b.item()]) for a, b in zip(x, y)])
    with np.errstate(all="ignore"):
        if op == "+" and kind == "float64":
            want = math.fsum(values) if np.all(np.isfinite(values)) else float(np.sum(values))
            scale = float(np.sum(np.abs(values))) if np.all(np.isfinite(values)) else 0.0
            ok = (math.isnan(want) and math.isnan(one)) or one == want or \
                abs(one - want) <= 1e-12 * scale
        else:
            want = {"+": np.sum, "*": np.prod, "min": np.min, "max": np.max}[op](values)
            ok = same(np.asarray(one, values.dtype), np.asarray(want, values.dtype))
    return None if ok else f"reduce {op} over n={n}: got {one!r}, want {want!r}"


def run(count=None, seconds=None, seed=0, show=False, log=print):
    """Fuzzes until `count` programs or `seconds` have passed; returns
    (programs tried, findings)."""
    workdir = tempfile.mkdtemp(prefix="ember_fuzz_")
    deadline = time.monotonic() + seconds if seconds else None
    tried, findings, batch = 0, [], 0
    while (count is None or tried < count) and (deadline is None or time.monotonic() < deadline):
        rng = random.Random(f"{seed}-{batch}")
        programs = []
        source = ["import math", "import ember", ""]
        for j in range(20):  # one module per 20 programs
            name = f"p{batch}_{j}"
            if rng.random() < 0.75:
                programs.append((name, "kernel", None, None))
                source.append(KernelGen(rng).kernel(name))
            else:
                text, op, kind = reduce_source(rng, name)
                programs.append((name, "reduce", op, kind))
                source.append(text)
        path = os.path.join(workdir, f"fuzz_{batch}.py")
        with open(path, "w") as f:
            f.write("\n\n".join(source))
        module = load(path)
        for name, what, op, kind in programs:
            if count is not None and tried >= count:
                break
            fn = getattr(module, name)
            prng = random.Random(f"{seed}-{name}")
            try:
                problem = (check_kernel(fn, prng) if what == "kernel"
                           else check_reduce(fn, op, kind, prng))
            except Exception as e:  # a compile error or crash-free exception is a finding too
                problem = f"{type(e).__name__}: {e}"
            tried += 1
            if show:
                log(f"--- {name} ({what})")
            if problem:
                text = open(path).read()
                start = text.index(f"def {name}(")
                start = text.rindex("@ember", 0, start)
                end = text.find("\n\n", start)
                findings.append(f"seed {seed}, {name} in {path}:\n"
                                f"{text[start:end if end > 0 else None]}\n{problem}")
                log(findings[-1])
        batch += 1
    return tried, findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--count", type=int)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--show", action="store_true", help="name each program as it runs")
    opts = parser.parse_args(argv)
    if opts.seconds is None and opts.count is None:
        opts.seconds = 60
    start = time.monotonic()
    tried, findings = run(opts.count, opts.seconds, opts.seed, opts.show)
    print(f"kernel fuzzer: seed {opts.seed}, {tried} programs in "
          f"{time.monotonic() - start:.0f} s, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
