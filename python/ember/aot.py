"""Ahead of time: a module's compiled functions as a shared and a static
library with a C header (`ember aot build`; docs/aot.md).

    ember aot build pricing.py -o build/ [--target x86-64-v2,x86-64-v3,x86-64-v4]
                                         [--export 'price:float32(float32, float32)']

writes build/libpricing.so, build/libpricing.a, build/pricing.h and
build/pricing.json (the manifest). Every export is compiled once per ISA;
the library picks the best one this CPU has when it is first used. The
libraries need no LLVM, no Python and no C toolchain: ember links them with
LLVM's linker (codegen/aot.cpp) against its own runtime
(runtime/aot_library.cpp, shipped as ember_aot_runtime.o).
"""

import datetime
import hashlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import traceback

from . import _core
from .errors import CompileError

__all__ = ["build", "AotError", "DEFAULT_TARGETS", "c_name_rule"]

DEFAULT_TARGETS = ("x86-64-v2", "x86-64-v3", "x86-64-v4")
_FORM_CONTIG, _FORM_ND, _FORM_GPU = 0, 1, 2  # runtime/aot_abi.h

_C_TYPES = {"bool": "bool", "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
            "u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
            "f32": "float", "f64": "double"}
_SHORT = {"bool": "bool", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
          "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
          "float32": "f32", "float64": "f64"}
_C_KEYWORDS = set("""auto break case char const continue default do double else enum extern float
for goto if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while bool true false n""".split())

c_name_rule = """A function with one signature exports under its own name. With several,
each export adds the argument types' short names (f32, f64, i8 .. i64, u8 ..
u64, bool; an array of rank r adds 'a' and r, e.g. f64a2), joined by '_',
or just one when all are the same: price_f32, mix_f32_i64, scale_f64a2_f64."""


class AotError(Exception):
    """What stops a build: printed by `ember aot build` (exit status 1)."""


def _ident(text):
    return re.sub(r"\W", "_", text)


def _where(func):
    code = func.py_func.__code__
    return f"{code.co_filename}:{code.co_firstlineno}"


def _import(path):
    """The module at `path`, run as a fresh module."""
    if not os.path.isfile(path):
        raise AotError(f"{path}: no such file")
    name = "_ember_aot_" + _ident(os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise AotError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except CompileError as e:
        raise AotError(str(e)) from None
    except Exception as e:
        frames = traceback.extract_tb(e.__traceback__)
        mine = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(path)]
        frame = (mine or frames)[-1]
        raise AotError(f"{frame.filename}:{frame.lineno}: importing {path} failed: "
                       f"{type(e).__name__}: {e}") from None
    return module


class _Export:
    """One compiled specialization of one function, as the library exports it."""

    def __init__(self, func, kind, signature, kernel, c_types, variant=None):
        self.func, self.kind, self.signature, self.kernel = func, kind, signature, kernel
        self.c_types = c_types  # per parameter: short scalar name; arrays of a kernel: (short, ndim)
        self.variant = variant  # a kernel's any-stride variant (an _Export), or None
        self.name = func.__name__
        self.target = "cpu" if func._native else "cuda"
        self.ptx = {}  # a GPU export's: architecture -> PTX text
        self.entry = ""

    def suffix(self):
        parts = [t if isinstance(t, str) else f"{t[0]}a{t[1]}" for t in self.c_types]
        return "_".join(parts[:1] if len(set(parts)) == 1 else parts) or "void"


def _functions(module):
    from .kernel import Kernel
    from .vectorize import Vectorized
    found = {}
    for name, value in vars(module).items():
        if isinstance(value, (Vectorized, Kernel)) and \
                getattr(value.py_func, "__module__", None) == module.__name__:
            found[name] = value
    return found


def _compile(func, signature, isas, archs):
    """The _Export of `func` for signature text `signature`."""
    from .kernel import Kernel
    from .reduce import Reduced
    where = _where(func)
    if not func._native and not archs:
        raise AotError(f"{where}: {func.__name__} is a target='cuda' function: add the GPU "
                       "architectures to --target (e.g. --target x86-64-v3,cuda:sm_80,sm_90)")
    if func._native and not isas:
        raise AotError(f"{where}: {func.__name__} runs on the CPU, but --target names no CPU "
                       "(e.g. --target x86-64-v3,cuda:sm_80)")
    try:
        if isinstance(func, Kernel):
            types, domain = func._parse_signature(signature)
        else:
            _, types = func._parse_signature(signature)
        if any(t[1] for t in types):  # weak: Python's int or float
            raise AotError(f"{where}: signature {signature!r} of {func.__name__}: use int64/"
                           "float64, not int/float (a C function has fixed types)")
        if isinstance(func, Kernel):
            unit = [(d, w, n, True) for d, w, n, _ in types]
            general = [(d, w, n, False) for d, w, n, _ in types]
            c_types = [_SHORT[d] if n == 0 else (_SHORT[d], n) for d, _, n, _ in types]
            variant = None
            if not func._native:  # the GPU runs one variant for every stride
                unit = general
            elif any(n for _, _, n, _ in types):
                variant = _Export(func, "kernel", signature, func._compile(general, domain), c_types)
            export = _Export(func, "kernel", signature, func._compile(unit, domain), c_types, variant)
            export.domain = domain
            return export
        kernel = func._specialize_text(signature)
    except CompileError as e:
        raise AotError(f"signature {signature!r} of {func.__name__} ({where}) does not compile:\n"
                       f"{e}") from None
    except (TypeError, ValueError) as e:
        raise AotError(f"{where}: signature {signature!r} of {func.__name__}: {e}") from None
    kind = "reduce" if isinstance(func, Reduced) else "map"
    return _Export(func, kind, signature, kernel, [_SHORT[t[0]] for t in types])


def _exports(module, path, extra, isas, archs):
    functions = _functions(module)
    wanted = []  # (function, signature text)
    for func in functions.values():
        wanted += [(func, s) for s in func._eager]
    for item in extra:
        name, sep, signature = item.partition(":")
        if not sep or not signature.strip():
            raise AotError(f"--export {item!r}: expected FUNC:SIGNATURE, e.g. "
                           "'price:float64(float64, float64)'")
        if name not in functions:
            raise AotError(f"--export {item!r}: {path} has no ember function {name!r} "
                           f"(it has: {', '.join(sorted(functions)) or 'none'})")
        wanted.append((functions[name], signature.strip()))
    if not wanted:
        raise AotError(f"{path}: nothing to export: give @ember.vectorize/@ember.reduce/"
                       "@ember.kernel functions signatures (e.g. @ember.vectorize(['float64("
                       "float64)'])), or pass --export FUNC:SIGNATURE")
    exports, seen = [], set()
    for func, signature in wanted:
        export = _compile(func, signature, isas, archs)
        key = (func.__name__, export.kernel.key)
        if key not in seen:
            seen.add(key)
            exports.append(export)
    counts = {}
    for e in exports:
        counts[e.name] = counts.get(e.name, 0) + 1
    for e in exports:
        if counts[e.name] > 1:
            e.name = f"{e.name}_{e.suffix()}"
    names = [e.name for e in exports]
    for e in exports:
        if names.count(e.name) > 1 and e.kind == "kernel":
            e.name += f"_d{e.domain}"
    if len(set(e.name for e in exports)) != len(exports):
        raise AotError(f"{path}: two exports would have the same C name: "
                       f"{sorted(n for n in names if names.count(n) > 1)}")
    return exports


def _c_param_names(export):
    from .frontend import check_signature
    return [n + "_" if n in _C_KEYWORDS else n for n in check_signature(export.func.py_func)]


def _c_functions(export):
    """(C form, glue parameter types, C declaration's parameters) of an export."""
    names = _c_param_names(export)
    acc = _SHORT[str(export.kernel.output_dtype)] if export.kind != "kernel" else None
    stream = ["struct CUstream_st *stream"] if export.target == "cuda" else []
    out = "result" if export.kind == "reduce" else "out"
    while out in names:
        out += "_"
    if export.target == "cuda" and export.kind != "kernel":
        decl = ["int64_t n"] + [f"unsigned long long {n}" for n in names + [out]] + stream
        return [(_FORM_GPU, "", ["i64"] + ["u64"] * (len(names) + 1) + ["ptr"], decl)]
    if export.kind == "kernel":
        glue = ["i64"] * export.domain + ["ptr" if not isinstance(t, str) else t
                                          for t in export.c_types]
        decl = [f"int64_t extent{d}" for d in range(export.domain)]
        decl += [f"const ember_array *{n}" if not isinstance(t, str) else f"{_C_TYPES[t]} {n}"
                 for t, n in zip(export.c_types, names)]
        if stream:
            return [(_FORM_GPU, "", glue + ["ptr"], decl + stream)]
        return [(_FORM_CONTIG, "", glue, decl)]
    contig = ["int64_t n"] + [f"const {_C_TYPES[t]} *{n}" for t, n in zip(export.c_types, names)]
    contig.append(f"{_C_TYPES[acc]} *{out}")
    nd = [f"const ember_array *{n}" for n in names]
    nd.append(f"{_C_TYPES[acc]} *{out}" if export.kind == "reduce" else f"const ember_array *{out}")
    count = len(names) + 1
    return [(_FORM_CONTIG, "", ["i64"] + ["ptr"] * count, contig),
            (_FORM_ND, "_nd", ["ptr"] * count, nd)]


def _table(stem, path, exports, internal, isas, features, archs):
    fields = dict(_core.versions())
    fields.update({"format": "ember-aot 1", "library": stem, "isas": ",".join(isas),
                   "exports": str(len(internal)), "gpu_archs": ",".join(archs)})
    for isa in isas:
        fields[f"isa.{isa}.features"] = features[isa]
    for i, e in enumerate(internal):
        texts = e.kernel.texts
        p = f"export.{i}."
        fields[p + "name"] = e.name
        fields[p + "function"] = f"{e.func.__name__} ({e.kind}, {_where(e.func)})"
        fields[p + "signature"] = e.signature
        fields[p + "general"] = str(internal.index(e.variant)) if e.variant else ""
        fields[p + "internal"] = "0" if e in exports else "1"
        fields[p + "python"] = e.func.__name__
        fields[p + "kind"] = e.kind
        fields[p + "op"] = getattr(e.func, "op", "")
        fields[p + "target"] = e.target
        fields[p + "entry"] = e.entry
        for arch, text in e.ptx.items():
            fields[p + "ptx." + arch] = text
        fields[p + "file"] = os.path.abspath(path)
        fields.update({p + name: texts[name] for name in ("spec", "optimized", "calls")})
    return _core.write_artifact(fields)


def _header(stem, path, exports, isas, archs):
    guard = f"EMBER_{_ident(stem).upper()}_H"
    lines = [f"/* {stem}.h: the C interface of lib{stem}.so / lib{stem}.a, made by ember "
             f"{_core.versions()['ember']}",
             f" * from {os.path.basename(path)} (ember aot build). Do not edit.",
             f" * ISAs: {', '.join(isas)}; the best one this CPU has is chosen when the library is",
             " * first used (EMBER_ISA=<isa> forces one). Link with -l" + stem +
             f" (shared), or with lib{stem}.a -lstdc++ -lmvec -lm -lpthread (static).",
             " * Every function returns EMBER_OK (0) or an error code; " + stem +
             "_last_error() says why. */",
             f"#ifndef {guard}", f"#define {guard}", "", "#include <stdbool.h>",
             "#include <stdint.h>", "", "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
             "#ifndef EMBER_AOT_COMMON", "#define EMBER_AOT_COMMON",
             "#define EMBER_OK 0        /* success */",
             "#define EMBER_EINVAL 1    /* a bad argument: negative size, null pointer, wrong "
             "rank, shape or stride */",
             "#define EMBER_EINDEX 2    /* an index out of range (a boundscheck=True kernel) */",
             "#define EMBER_ENOMEM 3    /* out of memory */",
             "#define EMBER_EISA 4      /* no ISA of the library runs on this CPU (or no PTX on this GPU), or EMBER_ISA "
             "or a per-ISA function names one it lacks */",
             "#define EMBER_EINTERNAL 5 /* a bug in ember: please report it */",
             "#define EMBER_ECUDA 6     /* the CUDA driver failed: no driver or device, a launch "
             "error */", "",
             "/* An array: `ndim` (1 to 4) extents in `shape`, `strides` in bytes (any sign; 0 "
             "repeats). */",
             "typedef struct ember_array {", "  void *data;", "  int64_t ndim;",
             "  int64_t shape[4];", "  int64_t strides[4];", "} ember_array;",
             "#endif /* EMBER_AOT_COMMON */", ""]
    if archs:
        lines += [f"/* GPU functions (PTX for {', '.join(archs)}; the newest one the device runs "
                  "is loaded on its",
                  " * primary context at the first call): arrays are device pointers (CUdeviceptr), "
                  "the kernel is queued",
                  " * on `stream` (NULL: the legacy default stream) and the call returns; the "
                  "library loads libcuda.so.1",
                  " * only then. */", "struct CUstream_st;", ""]
    for e in exports:
        kind = {"map": "@ember.vectorize", "reduce": f"@ember.reduce({getattr(e.func, 'op', '')!r})",
                "kernel": "@ember.kernel"}[e.kind]
        if e.target == "cuda":
            kind = kind.replace(")", ", target='cuda')") if "(" in kind else kind + "(target='cuda')"
        lines.append(f"/* {e.func.__name__}: {kind} {e.signature}, {_where(e.func)}")
        if e.target == "cuda" and e.kind == "map":
            lines.append(" * out[i] = f(args[i]...) for 0 <= i < n, on the GPU: contiguous "
                         "device arrays. */")
        elif e.target == "cuda" and e.kind == "reduce":
            lines.append(f" * *result (device memory) = the {e.func.op!r} of f(args[i]...) over "
                         "0 <= i < n, on the GPU; waits for the stream. */")
        elif e.kind == "map":
            lines.append(" * out[i] = f(args[i]...) for 0 <= i < n (contiguous arrays); "
                         f"{e.name}_nd: any strides,")
            lines.append(" * the inputs broadcast to out's shape as NumPy does. */")
        elif e.kind == "reduce":
            lines.append(f" * *result = the {e.func.op!r} of f(args[i]...) over 0 <= i < n; "
                         f"{e.name}_nd: broadcast arrays of any strides. */")
        else:
            lines.append(" * runs once per index of the domain extent0 x ...; arrays in place. */")
        for form, suffix, _, decl in _c_functions(e):
            params = ", ".join(decl)
            lines.append(f"int {e.name}{suffix}({params});")
            for isa in isas if e.target == "cpu" else ():
                lines.append(f"int {e.name}{suffix}__{_ident(isa)}({params});")
        lines.append("")
    lines += [f"/* Threads the library's pool uses: 0 = every core (default: EMBER_NUM_THREADS, "
              "else every core). */",
              f"int {stem}_set_num_threads(int n);",
              "/* The exports, the ISAs and the one selected, the versions. */",
              f"const char *{stem}_info(void);",
              "/* The message of this thread's last failed call. */",
              f"const char *{stem}_last_error(void);", "", "#ifdef __cplusplus", "}", "#endif",
              f"#endif /* {guard} */", ""]
    return "\n".join(lines)


def build(path, out_dir, targets=DEFAULT_TARGETS, exports=(), log=print):
    """Builds the libraries of module `path` into `out_dir`; returns the
    manifest (a dict, also written as <stem>.json)."""
    from . import _jit
    start = datetime.datetime.now()
    stem = _ident(os.path.splitext(os.path.basename(path))[0])
    isas, archs = _targets(targets)
    module = _import(path)
    listed = _exports(module, path, exports, isas, archs)
    internal = list(listed) + [e.variant for e in listed if e.variant]
    for e in listed:
        if e.variant:
            e.variant.name = e.name + "__strided"
    if not any(e.target == "cpu" for e in internal):
        isas = []  # GPU functions only: no CPU code, so no ISA to choose between
    objects, entries, features = [], [], {}
    for isa in isas:
        for e in internal:
            if e.target == "cuda":
                entries += [""] * _jit.aot_entry_slots
                continue
            prefix = f"ember_{stem}_{e.name}__{_ident(isa)}"
            try:
                code = _jit.object_for(e.kernel, isa, prefix)
            except ValueError as err:
                raise AotError(f"--target {isa}: {err}") from None
            features.setdefault(isa, code.features)
            objects.append((f"{prefix}.o", code.elf))
            symbols = _jit.entry_symbols(prefix, e.kind == "kernel", e.kind == "reduce")
            entries += symbols + [""] * (_jit.aot_entry_slots - len(symbols))
    for e in internal:
        for arch in archs if e.target == "cuda" else ():
            try:
                code = _jit.ptx(e.kernel, arch, 0)
            except ValueError as err:
                raise AotError(f"--target cuda:{arch}: {err}") from None
            except RuntimeError as err:
                raise AotError(f"{_where(e.func)}: {e.func.__name__} for cuda:{arch}: {err}") from None
            e.ptx[arch], e.entry = code.ptx, code.entry
    functions, exported = [], []
    for i, e in enumerate(listed):
        per_isa = [(k, "__" + _ident(isa)) for k, isa in enumerate(isas)] if e.target == "cpu" else []
        for form, suffix, glue, _ in _c_functions(e):
            for isa_index, isa_suffix in [(-1, "")] + per_isa:
                name = f"{e.name}{suffix}{isa_suffix}"
                functions.append(_jit.GlueFunction(name, i, isa_index, form, glue))
                exported.append(name)
    exported += [f"{stem}_set_num_threads", f"{stem}_info", f"{stem}_last_error",
                 "ember_aot_library"]
    table = _table(stem, path, listed, internal, isas, features, archs)
    glue = _jit.glue_object(stem, table, entries, functions)
    runtime = os.path.join(os.path.dirname(__file__), "ember_aot_runtime.o")
    with open(runtime, "rb") as f:
        runtime_object = f.read()
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for name, data in [("glue.o", glue), ("support.o", _jit.shared_support_object(stem))] + objects:
            inputs.append(os.path.join(tmp, name))
            with open(inputs[-1], "wb") as f:
                f.write(data)
        inputs.append(runtime)
        shared = os.path.join(out_dir, f"lib{stem}.so")
        _jit.link_shared(inputs, shared, exported)
    static = os.path.join(out_dir, f"lib{stem}.a")
    _write(static, _jit.archive([("glue.o", glue)] + objects +
                                [("ember_aot_runtime.o", runtime_object)]))
    _write(os.path.join(out_dir, f"{stem}.h"), _header(stem, path, listed, isas, archs).encode())
    with open(path, "rb") as f:
        source_hash = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        "library": stem, "source": os.path.abspath(path), "source_sha256": source_hash,
        "ember": _core.versions()["ember"], "llvm": _core.versions()["llvm"],
        "isas": {isa: features[isa].split(",") for isa in isas}, "cuda": archs,
        "files": [f"lib{stem}.so", f"lib{stem}.a", f"{stem}.h", f"{stem}.json"],
        "static_link": ["-lstdc++", "-lmvec", "-lm", "-lpthread"],
        "exports": [{"name": e.name, "function": e.func.__name__, "kind": e.kind, "target": e.target,
                     "signature": e.signature,
                     "c": [f"int {e.name}{s}({', '.join(d)})" for _, s, _, d in _c_functions(e)]}
                    for e in listed],
    }
    _write(os.path.join(out_dir, f"{stem}.json"), json.dumps(manifest, indent=2).encode())
    seconds = (datetime.datetime.now() - start).total_seconds()
    gpu = f" + PTX for {','.join(archs)}" if archs else ""
    log(f"{stem}: {len(listed)} export(s) x {len(isas)} ISA(s){gpu} -> {out_dir} in {seconds:.2f} s")
    return manifest


def _targets(targets):
    """(CPU names, GPU architectures) of a --target list: 'cuda:sm_80' starts
    the GPU ones, and names after it that start with 'sm_' continue them."""
    isas, archs, gpu = [], [], False
    for item in (t.strip() for t in targets):
        if item.startswith("cuda:"):
            gpu, item = True, item[5:]
        elif not item.startswith("sm_"):
            gpu = False
        if not item:
            continue
        if item.startswith("sm_") and not gpu:
            raise AotError(f"--target {item}: write GPU architectures as cuda:{item}")
        (archs if gpu else isas).append(item)
    if not isas and not archs:
        raise AotError("--target: no CPU or GPU named")
    return list(dict.fromkeys(isas)), list(dict.fromkeys(archs))


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
