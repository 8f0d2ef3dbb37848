"""ember's logging, through Python's `logging`: the "ember" logger and its
children ("ember.frontend", "ember.compiler", "ember.codegen",
"ember.runtime"). The library adds a NullHandler only, so nothing is printed
unless the application configures logging, e.g.

    logging.getLogger("ember").setLevel(logging.INFO)   # one line per compile
    logging.basicConfig()

or ember.set_log_level("info") / EMBER_LOG_LEVEL=info (then, unless the
application has configured logging, ember adds a stderr handler). INFO: a
line per compile or load; DEBUG: the time of each stage and pass; TRACE
(5): also the IR after each pass. The C++ loggers write into a
buffer that forward() hands to Python after each compile, at the "ember"
logger's level then (sync()).
"""

import logging
import os
import sys
from typing import Union

from . import _core, isa

__all__ = ["log", "TRACE", "set_log_level"]

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
log = logging.getLogger("ember")
log.addHandler(logging.NullHandler())

# spdlog's levels (0 trace .. 5 critical) as logging's, and back.
_FROM_CPP = [TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
_NAMES = {"trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "warning": logging.WARNING, "error": logging.ERROR, "err": logging.ERROR,
          "critical": logging.CRITICAL, "off": logging.CRITICAL + 10}
_VALID = "trace, debug, info, warning, error, critical or off"


def _cpp_name(level):
    for name, value in (("trace", TRACE), ("debug", logging.DEBUG), ("info", logging.INFO),
                        ("warning", logging.WARNING), ("error", logging.ERROR),
                        ("critical", logging.CRITICAL)):
        if level <= value:
            return name
    return "off"


def _modules():
    yield _core
    jit = sys.modules.get("ember._jit")
    if jit is not None:
        yield jit


def sync():
    """The C++ loggers at the "ember" logger's effective level."""
    name = _cpp_name(log.getEffectiveLevel())
    for module in _modules():
        module.set_log_level(name)


def forward():
    """The C++ loggers' records since the last call, into `logging`."""
    for module in _modules():
        for name, level, message in module.drain_logs():
            logging.getLogger(name).log(_FROM_CPP[min(level, 5)], message)


def compiled(name, signature, kernel, native, ms, shipped):
    """The INFO line of one specialization: compiled (a disk cache miss, or
    no cache), loaded from the disk cache (a hit) or from the pickle that
    brought the function (`shipped`), for which target (this CPU's x86-64
    level and the widest vector registers its code uses, or CUDA), in how
    many milliseconds (`ms`, all of it: the frontend too)."""
    if not log.isEnabledFor(logging.INFO):
        return
    if kernel.origin == "compiled":
        how = (f"compiled in {ms:.1f} ms (ember's passes {kernel.passes_ms:.1f} ms, "
               f"LLVM {kernel.codegen_ms:.1f} ms)")
    elif kernel.origin == "artifact":
        how = f"loaded from the {'pickle' if shipped else 'disk cache'} in {ms:.1f} ms"
    else:
        how = f"prepared for the GPU in {ms:.1f} ms"
    if native:
        bits = kernel.vector_bits
        target = f"{isa.level()}, {f'{bits}-bit vectors' if bits else 'scalar code'}"
    else:
        target = "CUDA"
    log.info("%s %s for %s: %s", name, signature, target, how)


_handler = None  # the stderr handler set_log_level adds


def set_log_level(level: Union[str, int]) -> None:
    """Sets the "ember" logger's level: a name (trace, debug, info, warning,
    error, critical, off; any case) or a `logging` level number. Unless the
    application has configured logging (a handler on "ember" or on the root
    logger), records go to stderr, as "ember INFO: ...". EMBER_LOG_LEVEL
    calls it at import."""
    if isinstance(level, str):
        number = _NAMES.get(level.strip().lower())
        if number is None:
            raise ValueError(f"{level!r} is not a log level: use {_VALID}")
    elif isinstance(level, int) and not isinstance(level, bool):
        number = level
    else:
        raise TypeError(f"a log level is a name ({_VALID}) or a logging level number, "
                        f"got {type(level).__name__}")
    global _handler
    configured = any(not isinstance(h, logging.NullHandler) for h in log.handlers + logging.root.handlers)
    if _handler is None and not configured:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
        log.addHandler(_handler)
    log.setLevel(number)
    sync()


def _setup():
    _core.capture_logs()
    wanted = os.environ.get("EMBER_LOG_LEVEL", "").strip()
    if wanted:
        try:
            set_log_level(wanted)
        except ValueError:
            raise ValueError(f"EMBER_LOG_LEVEL={wanted!r} is not a log level: use {_VALID}") from None


_setup()
