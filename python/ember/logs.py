"""ember's logging, through Python's `logging`: the "ember" logger and its
children ("ember.frontend", "ember.compiler", "ember.codegen",
"ember.runtime"). The library adds a NullHandler only, so nothing is printed
unless the application configures logging, e.g.

    logging.getLogger("ember").setLevel(logging.INFO)   # one line per compile
    logging.basicConfig()

or EMBER_LOG_LEVEL names a level (then ember adds a stderr handler at that
level). INFO: a line per compile or load; DEBUG: the time of each stage and
pass; TRACE (5): also the IR after each pass. The C++ loggers write into a
buffer that forward() hands to Python after each compile, at the "ember"
logger's level then (sync()).
"""

import logging
import os
import sys
import warnings

from . import _core, isa

__all__ = ["log", "TRACE"]

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
log = logging.getLogger("ember")
log.addHandler(logging.NullHandler())

# spdlog's levels (0 trace .. 5 critical) as logging's, and back.
_FROM_CPP = [TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
_NAMES = {"trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "warning": logging.WARNING, "error": logging.ERROR, "err": logging.ERROR,
          "critical": logging.CRITICAL, "off": logging.CRITICAL + 10}


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


def compiled(name, signature, kernel, native=True):
    """The INFO line of one specialization: compiled (a disk cache miss, or
    no cache) or loaded from the disk cache, for which target (this CPU's
    x86-64 level, or CUDA), in how long."""
    if not log.isEnabledFor(logging.INFO):
        return
    if kernel.origin == "compiled":
        how = f"compiled (ember's passes {kernel.passes_ms:.1f} ms, LLVM {kernel.codegen_ms:.1f} ms)"
    else:
        how = "loaded from the disk cache" if kernel.origin == "artifact" else "prepared for the GPU"
    log.info("%s %s for %s: %s", name, signature, isa.level() if native else "CUDA", how)


def _setup():
    _core.capture_logs()
    wanted = os.environ.get("EMBER_LOG_LEVEL", "").strip()
    if not wanted:
        return
    level = _NAMES.get(wanted.lower())
    if level is None:
        warnings.warn(f"EMBER_LOG_LEVEL={wanted!r} is not a level: use trace, debug, info, "
                      "warning, error, critical or off", stacklevel=3)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


_setup()
