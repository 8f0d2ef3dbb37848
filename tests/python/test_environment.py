"""docs/environment.md lists every environment variable ember reads: the
names in its table are exactly the EMBER_* names that ember's sources (the
package, its extensions' C++, the runtime, codegen, compiler) pass to
getenv/os.environ or to their own readers (quoted in full)."""

import glob
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SOURCES = ["python/ember/*.py", "python/src/*.cpp", "python/src/*.h", "runtime/*.cpp",
           "runtime/*.h", "codegen/*.cpp", "compiler/*.cpp", "ir/*.cpp"]
# Quoted names that are not variables: the AOT library's C names.
NOT_VARIABLES = {"EMBER_OK", "EMBER_EINVAL", "EMBER_EINDEX", "EMBER_ENOMEM", "EMBER_EISA",
                 "EMBER_EINTERNAL", "EMBER_ECUDA", "EMBER_AOT_COMMON"}


def read_in_sources():
    names = set()
    for pattern in SOURCES:
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path, encoding="utf-8") as f:
                names |= set(re.findall(r"[\"'](EMBER_[A-Z0-9_]+)[\"']", f.read()))
    return names - NOT_VARIABLES


def documented():
    with open(os.path.join(ROOT, "docs", "environment.md"), encoding="utf-8") as f:
        return set(re.findall(r"^\| `(EMBER_[A-Z0-9_]+)` \|", f.read(), re.M))


def test_every_variable_read_is_documented():
    missing = read_in_sources() - documented()
    assert not missing, f"read but not in docs/environment.md: {sorted(missing)}"


def test_every_documented_variable_is_read():
    stale = documented() - read_in_sources()
    assert not stale, f"in docs/environment.md but read nowhere: {sorted(stale)}"


def test_the_scan_finds_what_it_should():
    found = read_in_sources()
    assert {"EMBER_NUM_THREADS", "EMBER_CACHE_DIR", "EMBER_PERF_MAP", "EMBER_ISA"} <= found
