"""The text of an inspection stage as notebooks and IPython show it: a `str`
(print, split and `in` work as on any string) whose `_repr_html_` and
`_repr_pretty_` highlight it with Pygments (Python's, LLVM's and GAS's
lexers, and one for ember's IR below); plain text where Pygments is missing.
"""

import html

__all__ = ["Code"]


class Code(str):
    """One stage's text (see `inspect()`), shown highlighted in notebooks."""

    def __new__(cls, text, stage):
        code = super().__new__(cls, text)
        code.stage = stage
        return code

    def __reduce__(self):
        return str, (str(self),)  # pickles (and copies) as the plain text

    def _repr_html_(self):
        formatted = _highlight(str(self), self.stage, "html")
        if formatted is None:
            return f'<pre class="ember-{self.stage}">{html.escape(str(self))}</pre>'
        return formatted

    def _repr_pretty_(self, printer, cycle):
        # Colours for IPython in a terminal; a notebook's text/plain stays plain
        # (its text/html is the highlighted form).
        formatted = _highlight(str(self), self.stage, "terminal") if _terminal() else None
        printer.text(str(self) if formatted is None else formatted.rstrip("\n"))


def _terminal():
    import sys
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


def _lexer(stage):
    from pygments import lexers
    if stage in ("ir", "source-ir"):
        return _ember_ir_lexer()()
    if stage in ("llvm", "cuda-llvm"):
        return lexers.LlvmLexer()
    if stage == "python":  # a report's source lines
        return lexers.PythonLexer()
    return lexers.GasLexer()  # x86 assembly; PTX reads well with it too


def _highlight(text, stage, how):
    """`text` highlighted as HTML (inline styles, no stylesheet needed) or
    for a terminal; None without Pygments."""
    try:
        import pygments
        from pygments.formatters import HtmlFormatter, TerminalFormatter
    except ImportError:
        return None
    formatter = (HtmlFormatter(noclasses=True, cssclass=f"ember-{stage}") if how == "html"
                 else TerminalFormatter())
    return pygments.highlight(text, _lexer(stage), formatter)


_IR_LEXER = None


def _ember_ir_lexer():
    """A Pygments lexer for ember's IR text (ir/printer.h), made once."""
    global _IR_LEXER
    if _IR_LEXER is None:
        from pygments.lexer import RegexLexer, words
        from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, Text

        class EmberIRLexer(RegexLexer):
            name = "ember IR"
            aliases = ["ember-ir"]
            tokens = {"root": [
                (r"\s+", Text),
                (r"@\d+:\d+", Comment),  # the Python line:column of a statement
                (words(("func", "kernel", "var", "if", "else", "for", "while", "in", "range",
                        "return", "break", "continue", "over", "store"), suffix=r"\b"),
                 Keyword),
                (r"(atomic_\w+)\b", Keyword),
                (r"\b(bool|[iuf](8|16|32|64))\??(\[\d+\])?", Keyword.Type),
                (r"-?(\d+\.\d*([eE][-+]?\d+)?|\d+([eE][-+]?\d+)?|nan|inf)(?=:)", Number),
                (r"(cast|select|load|shape|tid)\b", Name.Builtin),
                (r"[A-Za-z_][\w.]*(?=\()", Name.Function),
                (r"[A-Za-z_]\w*", Name),
                (r"->|=|:|\?", Operator),
                (r"[(){}<>\[\],]", Punctuation),
                (r".", Text),
            ]}

        _IR_LEXER = EmberIRLexer
    return _IR_LEXER
