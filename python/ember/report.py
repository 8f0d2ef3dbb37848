"""`f.inspect()` with no stage: a report on one compiled specialization, from
its Python source down to the machine code, for notebooks (`_repr_html_`),
terminals (`str`) and files (`save`).

Each Python line of the function is annotated with what it became: the
assembly instructions that carry its line (from the debug locations the
report's compile adds: `.loc` lines), whether they are vector code and how
wide, the math calls left in them (vector variants of libmvec, or scalar
calls), and LLVM's optimization remarks about it (vectorized or not and
why, inlined, unrolled, hoisted). Every stage is there too (ember's IR as
the frontend built it and after the passes, the optimized LLVM IR, the
assembly, or the PTX of a GPU function), each line tagged with the Python
line it comes from: in HTML, clicking a line highlights what it became in
every stage. The HTML is self-contained (inline CSS and script, no network)
and readable without its script (the stages are <details> blocks).
"""

import html
import inspect as pyinspect
import itertools
import re

from .highlight import Code

__all__ = ["Report"]

_ids = itertools.count()
_LOC = re.compile(r"\s+@(\d+):(\d+)$")
_DILOCATION = re.compile(r"^(!\d+) = !DILocation\(line: (\d+)")
_DBG = re.compile(r"!dbg (!\d+)")
_ASM_LOC = re.compile(r"^\s*\.loc\s+\d+\s+(\d+)")
_VECTOR = (("%zmm", 512), ("%ymm", 256))


def _located(text):
    """(line text without its '@line:col', Python line or None) of printed IR."""
    out = []
    for line in text.rstrip("\n").splitlines():
        m = _LOC.search(line)
        out.append((line[:m.start()] if m else line, int(m.group(1)) if m else None))
    return out


def _llvm_lines(text):
    locations = {m.group(1): int(m.group(2)) for m in map(_DILOCATION.match, text.splitlines()) if m}
    out = []
    for line in text.rstrip("\n").splitlines():
        if line.startswith("!") or line.startswith("attributes #"):
            continue  # metadata and attribute groups: their meaning is in the instructions
        m = _DBG.search(line)
        out.append((line, locations.get(m.group(1)) if m else None))
    return out


def _asm_lines(text):
    """The assembly without its debug directives and sections, each
    instruction with the Python line of the last .loc before it."""
    out, line = [], None
    for raw in text.rstrip("\n").splitlines():
        stripped = raw.strip()
        if stripped.startswith(".section") and ".debug_" in stripped:
            break  # the DWARF sections that follow the code
        m = _ASM_LOC.match(raw)
        if m:
            line = int(m.group(1)) or None
            continue
        if stripped.startswith((".file", ".Ltmp", ".Lfunc_end", ".cfi_")):
            continue
        is_instruction = raw.startswith("\t") and not stripped.startswith(".")
        out.append((raw, line if is_instruction else None))
    return out


class _LineNote:
    """What one Python line became."""

    def __init__(self):
        self.instructions = 0
        self.width = 0  # widest vector register its instructions use (bits)
        self.vector_calls, self.scalar_calls, self.remarks = set(), set(), []
        self.loop = None  # (width, interleave) of the vectorized loop its code is in

    def add_instruction(self, text):
        self.instructions += 1
        for register, bits in _VECTOR:
            if register in text:
                self.width = max(self.width, bits)
        if re.match(r"\s*call", text):
            target = text.split()[-1].split("@")[0]
            (self.vector_calls if target.startswith("_ZGV") else self.scalar_calls).add(target)

    def summary(self):
        """One line: instructions, vector width, calls, and what the loop
        optimizations said (vectorized or why not, unrolled, hoisted)."""
        parts = []
        if self.loop:
            parts.append(f"in a vectorized loop (width {self.loop[0]}, interleave {self.loop[1]})")
        if self.instructions:
            parts.append(f"{self.instructions} instr" + ("s" if self.instructions > 1 else "") +
                         (f", {self.width}-bit vectors" if self.width else ""))
        if self.vector_calls:
            parts.append("vector calls " + ", ".join(sorted(self.vector_calls)))
        if self.scalar_calls:
            # A scalar call next to its vector variant is the remainder loop's.
            vectorized = {name.rsplit("_", 1)[-1] for name in self.vector_calls}
            tail = all(name in vectorized for name in self.scalar_calls)
            parts.append("scalar calls " + ", ".join(sorted(self.scalar_calls)) +
                         (" (the remainder loop)" if tail else ""))
        said = {}
        for r in self.remarks:
            said.setdefault((r.pass_name, r.kind), []).append(r.message)
        parts += said.get(("loop-vectorize", "passed"), [])
        if ("loop-vectorize", "missed") in said:
            why = [m.removeprefix("loop not vectorized: ")
                   for m in said.get(("loop-vectorize", "analysis"), []) if "not vectorized:" in m]
            parts.append("loop not vectorized" + (": " + "; ".join(dict.fromkeys(why)) if why else ""))
        parts += said.get(("loop-unroll", "passed"), [])
        hoisted = said.get(("licm", "passed"), [])
        if hoisted:
            parts.append(f"{len(hoisted)} hoisted out of a loop")
        return "; ".join(dict.fromkeys(parts))


class Report:
    """One specialization, every stage, mapped to the Python lines.

    Attributes: `function`, `signature`, `signatures` (all compiled ones:
    pass one as inspect(signature=...)), `target` (CPU or GPU arch),
    `times` (ms per stage of this report's compile), `source` [(line number,
    text)], `notes` {line: _LineNote}, `remarks` (LLVM's, each with
    .pass_name, .kind, .line, .message), `stages` {name: Code}.
    """

    def __init__(self, func, kernel, signature, signatures, arch=None):
        from . import _jit, cache, get_num_threads
        self.function, self.signature, self.signatures = func.__name__, signature, signatures
        self.source = self._source(func.py_func)
        spec = kernel.texts["spec"]
        source_ir = spec[spec.index("\nfunc ") + 1 if "\nfunc " in spec else spec.index("\nkernel ") + 1:]
        lines = {"source-ir": _located(source_ir), "ir": _located(kernel.texts["optimized"])}
        self.remarks = []
        frontend = getattr(func, "_frontend_ms", {}).get(kernel.key)
        if kernel.origin == "compiled":
            self.origin = "compiled in this process: " + ", ".join(
                f"{name} {ms:.1f} ms" for name, ms in [("frontend", frontend),
                                                        ("ember's passes", kernel.passes_ms),
                                                        ("LLVM", kernel.codegen_ms)] if ms is not None)
        else:
            self.origin = {"artifact": "loaded from compiled code (the disk cache or a pickle): "
                                       "no compile in this process",
                           "library": "from an ahead-of-time library"}.get(kernel.origin,
                                                                            "compiled for the GPU")
        if func._native:
            found = _jit.inspection(kernel, arch or "")
            self.target = found.cpu
            self.times = {"lower": found.lower_ms, "optimize": found.optimize_ms,
                          "machine code": found.codegen_ms}
            self.remarks = sorted(found.remarks, key=lambda r: (r.line, r.col))
            lines["llvm"] = _llvm_lines(found.llvm_ir)
            lines["asm"] = _asm_lines(found.assembly)
        else:
            from .stages import _arch
            self.target = _arch(arch)
            code = _jit.ptx(kernel, self.target)
            self.times = {}
            lines["ptx"] = [(line, None) for line in code.ptx.rstrip("\n").splitlines()]
        self.threads = get_num_threads()
        self.vector_isa = _vector_isa(lines.get("asm", ()))
        self.cache = cache.mode()
        self._lines = lines
        self.stages = {name: Code("\n".join(t for t, _ in ls) + "\n", name)
                       for name, ls in lines.items()}
        self.notes = {}
        for text, line in lines.get("asm", ()):
            if line is not None:
                self.notes.setdefault(line, _LineNote()).add_instruction(text)
        for r in self.remarks:
            self.notes.setdefault(r.line, _LineNote()).remarks.append(r)
        self._mark_vectorized_loops()

    def _mark_vectorized_loops(self):
        """Each line with code inside a loop LLVM vectorized says so: the def
        line's loop is the element loop (every line of the body), another
        line's is its statement (the lines indented under it)."""
        source = dict(self.source)
        first = next((n for n, t in self.source if t.lstrip().startswith("def ")), None)
        for r in self.remarks:
            match = re.match(r"vectorized loop \(vectorization width: (\d+), interleaved count: "
                             r"(\d+)\)", r.message)
            if r.pass_name != "loop-vectorize" or r.kind != "passed" or not match:
                continue
            head = source.get(r.line, "")
            indent = len(head) - len(head.lstrip())
            for number, text in self.source:
                if number <= r.line or not text.strip():
                    continue
                if r.line != first and len(text) - len(text.lstrip()) <= indent:
                    break
                note = self.notes.get(number)
                if note and note.instructions:
                    note.loop = (int(match.group(1)), int(match.group(2)))

    @staticmethod
    def _source(py_func):
        try:
            text, first = pyinspect.getsourcelines(py_func)
        except (OSError, TypeError):
            return []
        return [(first + i, line.rstrip("\n")) for i, line in enumerate(text)]

    def _target_text(self):
        return f"{self.target}{' (' + self.vector_isa + ')' if self.vector_isa else ''}"

    def __str__(self):
        out = [f"{self.function} {self.signature} on {self._target_text()}, {self.threads} threads",
               f"  {self.origin}; disk cache {self.cache}",
               "  this report's compile: " + ", ".join(f"{k} {v:.1f} ms" for k, v in self.times.items())]
        width = max((len(t) for _, t in self.source), default=0)
        for number, text in self.source:
            note = self.notes.get(number)
            summary = note.summary() if note else ""
            out.append(f"{number:5} | {text:{width}}" + (f"  # {summary}" if summary else ""))
        if self.remarks:
            out.append("remarks:")
            out += [f"  line {r.line}: {r.pass_name} ({r.kind}): {r.message}" for r in self.remarks]
        out.append("stages: " + ", ".join(self.stages) + " (report.stages[name])")
        return "\n".join(out)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def __repr__(self):
        return f"<ember report {self.function} {self.signature} on {self.target}>"

    def _repr_html_(self):
        return self.html()

    def save(self, path):
        """Writes the report as a standalone HTML file."""
        with open(path, "w", encoding="utf-8") as f:
            f.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
                    f"{html.escape(self.function)} {html.escape(self.signature)}</title></head>"
                    f"<body>{self.html()}</body></html>\n")

    def html(self):
        uid = f"ember-report-{next(_ids)}"
        most = max((n.instructions for n in self.notes.values()), default=0) or 1
        rows = []
        source = _highlight_lines([text for _, text in self.source], "python")
        for (number, _), code in zip(self.source, source):
            note = self.notes.get(number)
            heat = 0 if not note or not note.instructions else 1 + 4 * note.instructions // (most + 1)
            summary = html.escape(note.summary()) if note else ""
            rows.append(f'<tr data-line="{number}" class="heat{heat}"><td class="no">{number}</td>'
                        f'<td class="code">{code}</td>'
                        f'<td class="note">{summary}</td></tr>')
        remarks = "".join(
            f'<li data-line="{r.line}"><span class="kind {r.kind}">{r.kind}</span> '
            f'<b>{html.escape(r.pass_name)}</b> line {r.line}: {html.escape(r.message)}</li>'
            for r in self.remarks)
        titles = {"source-ir": "ember IR from the frontend", "ir": "ember IR after the passes",
                  "llvm": "LLVM IR, optimized", "asm": f"assembly ({self.target})",
                  "ptx": f"PTX ({self.target})"}
        stages = []
        for name, lines in self._lines.items():
            body = "".join(
                (f'<span data-line="{line}">' if line else "<span>") +
                highlighted + "</span>\n"
                for (_, line), highlighted in zip(lines, _highlight_lines([t for t, _ in lines], name)))
            stages.append(f'<details class="stage" data-stage="{name}"><summary>'
                          f'{html.escape(titles[name])} ({len(lines)} lines)</summary>'
                          f'<pre class="hl">{body}</pre></details>')
        others = [s for s in self.signatures if s != self.signature]
        times = ", ".join(f"{k} {v:.1f} ms" for k, v in self.times.items())
        return (f'<div class="ember-report" id="{uid}"><style>{_css(uid)}</style>'
                f'<div class="head"><b>{html.escape(self.function)}</b> '
                f'<code>{html.escape(self.signature)}</code> on <b>{html.escape(self._target_text())}'
                f'</b>, {self.threads} threads; {html.escape(self.origin)}; disk cache '
                f'{html.escape(str(self.cache))}'
                + (f'<br>this report\'s compile: {times}' if times else "")
                + (f'<br>other specializations: {html.escape("; ".join(others))} '
                   f'(inspect(signature=...))' if others else "") +
                '</div><p class="hint">Click a line: what it became is highlighted in every '
                'stage below.</p>'
                f'<table class="src">{"".join(rows)}</table>'
                f'<details class="remarks" open><summary>LLVM remarks ({len(self.remarks)})'
                f'</summary><ul>{remarks}</ul></details><div class="stages">{"".join(stages)}</div>'
                f'<script>{_SCRIPT.replace("UID", uid)}</script></div>')


def _vector_isa(asm_lines):
    """The widest vectors the code uses, and the ISA extension they come from."""
    text = "\n".join(t for t, _ in asm_lines)
    avx512 = "%zmm" in text or "{1to" in text or re.search(r"%k[1-7]\b", text)
    for register, width in (("%zmm", 512), ("%ymm", 256), ("%xmm", 128)):
        if register in text:
            isa = "AVX-512" if avx512 else "AVX" if width == 256 or "\tv" in text else "SSE"
            return f"{width}-bit vectors, {isa}"
    return ""


def _highlight_lines(lines, stage):
    """Each line as highlighted HTML (Pygments; escaped text without it)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from .highlight import _lexer
    except ImportError:
        return [html.escape(line) for line in lines]
    text = "\n".join(lines) + "\n"
    out = highlight(text, _lexer(stage), HtmlFormatter(nowrap=True)).split("\n")
    return out[:len(lines)] + [""] * (len(lines) - len(out))


def _css(uid):
    try:
        from pygments.formatters import HtmlFormatter
        pygments_css = HtmlFormatter().get_style_defs(f"#{uid} .hl, #{uid} .code")
    except ImportError:
        pygments_css = ""
    return f"""
#{uid} {{ font-family: sans-serif; font-size: 13px; }}
#{uid} .head {{ margin: 4px 0; }}
#{uid} .hint {{ color: #666; margin: 2px 0; font-size: 12px; }}
#{uid} table.src {{ border-collapse: collapse; font-family: monospace; }}
#{uid} table.src td {{ padding: 0 6px; white-space: pre; vertical-align: top; }}
#{uid} td.no {{ color: #888; text-align: right; }}
#{uid} td.note {{ color: #555; font-family: sans-serif; font-size: 12px; white-space: normal; }}
#{uid} tr.heat1 {{ background: #fff8e0; }} #{uid} tr.heat2 {{ background: #ffefc0; }}
#{uid} tr.heat3 {{ background: #ffe0a0; }} #{uid} tr.heat4 {{ background: #ffd080; }}
#{uid} tr.heat5 {{ background: #ffc060; }}
#{uid} tr[data-line], #{uid} li[data-line], #{uid} pre span[data-line] {{ cursor: pointer; }}
#{uid} .sel {{ background: #b8dcff !important; outline: 1px solid #6aa8e8; }}
#{uid} .stages {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));
  gap: 0 12px; align-items: start; }}
#{uid} pre.hl {{ font-size: 12px; max-height: 480px; overflow: auto; border: 1px solid #ddd; margin: 2px 0; }}
#{uid} .kind {{ font-size: 11px; padding: 0 3px; border-radius: 3px; }}
#{uid} .kind.passed {{ background: #d8f5d8; }} #{uid} .kind.missed {{ background: #f8d8d8; }}
#{uid} .kind.analysis {{ background: #e8e8f8; }}
{pygments_css}
"""


_SCRIPT = """(function () {
  var root = document.getElementById("UID");
  root.addEventListener("click", function (event) {
    var hit = event.target.closest("[data-line]");
    if (!hit) return;
    var line = hit.getAttribute("data-line");
    root.querySelectorAll(".sel").forEach(function (e) { e.classList.remove("sel"); });
    root.querySelectorAll('[data-line="' + line + '"]').forEach(function (e) {
      e.classList.add("sel");
      var stage = e.closest("details.stage");
      if (stage) stage.open = true;
    });
  });
})();"""
