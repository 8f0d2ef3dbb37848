"""The `ember` command (also `python -m ember`).

    ember cache info                  where the disk cache is, its size and entries
    ember cache list                  one line per entry
    ember cache clear                 removes every entry of this ember version
    ember cache explain FILE.py:FUNC  why FUNC's specializations hit or miss
    ember inspect FILE.py:FUNC        a function's report (--html PATH), or one stage (--stage)
          [--signature SIG] [--stage ir|source-ir|llvm|asm|ptx|cuda-llvm] [--arch CPU|sm_XX]
    ember aot build FILE.py -o DIR    a shared and a static library with a C header
          [--target x86-64-v2,x86-64-v3,x86-64-v4] [--export FUNC:SIGNATURE ...]
"""

import argparse
import datetime
import difflib
import importlib.util
import os
import sys

from . import _core, aot, cache, stages
from .errors import CompileError

__all__ = ["main"]


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _fields(path):
    """An entry's fields as text (the object code left out), or the reason it is unreadable."""
    try:
        with open(path, "rb") as f:
            fields = _core.read_artifact(f.read())
    except (OSError, ValueError) as e:
        return str(e)
    return {k: v.decode(errors="replace") for k, v in fields.items() if k != "object"}


def _signature(spec):
    """'kind name(params) -> result' from an entry's spec text."""
    kind = next((line.split(": ", 1)[1] for line in spec.splitlines() if line.startswith("kind: ")),
                "?")
    header = next((line for line in spec.splitlines() if line.startswith(("func ", "kernel "))), "")
    header = header.split(" {")[0].split("  @")[0]
    return f"{kind:6} {header.split(' ', 1)[-1]}"


def info(args):
    entries = cache.entries()
    print(f"folder:   {cache.directory()}")
    print(f"mode:     {cache.mode()} (EMBER_CACHE)")
    print(f"size:     {_size(sum(s for _, s, _ in entries))} of {_size(cache.size_limit())} "
          "(EMBER_CACHE_SIZE)")
    print(f"entries:  {len(entries)}")
    print(f"this CPU: {','.join(_core.host_features())}")
    stats = cache.stats()
    print("this process: " + ", ".join(f"{v} {k}" for k, v in stats.items()))
    return 0


def list_entries(args):
    entries = cache.entries()
    if not entries:
        print(f"no entries in {cache.directory()}")
    for path, size, used in reversed(entries):  # most recently used first
        fields = _fields(path)
        when = datetime.datetime.fromtimestamp(used).strftime("%Y-%m-%d %H:%M")
        what = (f"{_signature(fields['spec'])}  [{fields.get('cpu', '?')}]"
                if isinstance(fields, dict) else f"unreadable: {fields}")
        print(f"{os.path.basename(path)[:16]}  {_size(size):>9}  {when}  {what}")
    return 0


def clear(args):
    n = cache.clear()
    print(f"removed {n} entries from {cache.directory()}")
    return 0


def _load_function(target, command="cache explain"):
    """The ember function FUNC of FILE.py:FUNC, its module run as a script's."""
    path, _, name = target.rpartition(":")
    if not path or not name:
        raise SystemExit(f"ember {command}: expected FILE.py:FUNC, got {target!r}")
    if not os.path.isfile(path):
        raise SystemExit(f"ember {command}: no such file: {path}")
    spec = importlib.util.spec_from_file_location("__ember_explain__", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if fn is None or not hasattr(fn, "_compiled"):
        raise SystemExit(f"ember {command}: {path} has no ember function {name!r}")
    return fn


def inspect_function(args):
    fn = _load_function(args.target, "inspect")
    try:
        shown = fn.inspect(args.stage, signature=args.signature, arch=args.arch)
    except (CompileError, TypeError, ValueError) as e:
        print(f"ember inspect: error: {e}", file=sys.stderr)
        return 1
    if args.html:
        if args.stage:
            print("ember inspect: error: --html writes the report: leave --stage out",
                  file=sys.stderr)
            return 1
        shown.save(args.html)
        print(f"wrote {args.html}")
    else:
        print(shown)
    return 0


def _difference(mine, theirs):
    """Lines that say how entry `theirs` (its fields) differs from `mine`."""
    said = []
    for field in ("ember", "build", "llvm", "triple"):
        if mine[field] != theirs.get(field):
            said.append(f"  {field}: {theirs.get(field)} (this ember: {mine[field]})")
    if theirs.get("spec") != mine["spec"]:
        diff = difflib.unified_diff(theirs.get("spec", "").splitlines(), mine["spec"].splitlines(),
                                    "entry", "this call", n=0, lineterm="")
        said += ["  " + line for line in list(diff)[2:42] if not line.startswith("@@")]
    return said


def explain(args):
    os.environ["EMBER_CACHE"] = "read"  # look, but write nothing
    cache.source_index = False  # the frontend's IR, whose key the entries carry
    fn = _load_function(args.target)
    kernels = [entry[-1] for entry in fn._compiled]
    if not kernels:
        print(f"{args.target}: nothing compiled at import (no eager signatures); call it in the "
              "file, or give it signatures, to explain its specializations")
        return 1
    entries = [(path, _fields(path)) for path, _, _ in cache.entries()]
    entries = [(path, f) for path, f in entries if isinstance(f, dict)]
    versions = _core.versions()
    for kernel in kernels:
        spec = kernel.specialization
        mine = dict(versions, spec=spec.spec_text())
        print(f"{_signature(mine['spec'])}  key {spec.key[:16]}")
        same = [(p, f) for p, f in entries if f.get("key") == spec.key]
        if same:
            for path, fields in same:
                why = _core.incompatibility(fields["features"].split(","))
                verdict = "used on this CPU" if not why else f"not used here: {why}"
                print(f"  entry {os.path.basename(path)}: {verdict}")
            continue
        if not entries:
            print("  miss: the cache is empty")
            continue
        nearest = max(entries, key=lambda e: difflib.SequenceMatcher(
            None, e[1].get("spec", ""), mine["spec"]).ratio() - 2 * sum(
            e[1].get(k) != versions[k] for k in versions))
        print(f"  miss; the nearest entry, {os.path.basename(nearest[0])}, differs in:")
        print("\n".join(_difference(mine, nearest[1]) or ["  nothing but its key"]))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ember", description="ember's command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    cache_parser = commands.add_parser("cache", help="the disk cache of compiled code")
    actions = cache_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("info", help="location, size, entries").set_defaults(run=info)
    actions.add_parser("list", help="one line per entry").set_defaults(run=list_entries)
    actions.add_parser("clear", help="remove every entry").set_defaults(run=clear)
    explain_parser = actions.add_parser("explain", help="why a function's specializations miss")
    explain_parser.add_argument("target", metavar="FILE.py:FUNC")
    explain_parser.set_defaults(run=explain)
    inspect_parser = commands.add_parser("inspect", help="a function's report, or one stage")
    inspect_parser.add_argument("target", metavar="FILE.py:FUNC")
    inspect_parser.add_argument("--signature", help="the specialization, e.g. "
                                "'float64(float64, float64)' (default: the latest compiled)")
    inspect_parser.add_argument("--stage", choices=stages.STAGES, help="print this stage only")
    inspect_parser.add_argument("--arch", help="another CPU (znver4, x86-64-v3) or GPU (sm_90)")
    inspect_parser.add_argument("--html", metavar="PATH", help="write the report as HTML")
    inspect_parser.set_defaults(run=inspect_function)
    aot_parser = commands.add_parser("aot", help="compile ahead of time into C libraries")
    aot_actions = aot_parser.add_subparsers(dest="action", required=True)
    build_parser = aot_actions.add_parser("build", help="lib<stem>.so, lib<stem>.a, <stem>.h, "
                                          "<stem>.json from a module's functions")
    build_parser.add_argument("module", metavar="FILE.py")
    build_parser.add_argument("-o", "--output", required=True, metavar="DIR")
    build_parser.add_argument("--target", default=",".join(aot.DEFAULT_TARGETS),
                              help="comma-separated CPUs by LLVM's names (default: %(default)s)")
    build_parser.add_argument("--export", action="append", default=[], metavar="FUNC:SIGNATURE",
                              help="also export FUNC with SIGNATURE (repeatable)")
    build_parser.set_defaults(run=aot_build)
    args = parser.parse_args(argv)
    return args.run(args)


def aot_build(args):
    try:
        aot.build(args.module, args.output, args.target.split(","), args.export)
    except aot.AotError as e:
        print(f"ember aot build: error: {e}", file=sys.stderr)
        return 1
    return 0
