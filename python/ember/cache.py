"""The disk cache: compiled artifacts (runtime/artifact.h) kept across processes.

Each specialization's artifact is one file, named by its key (a SHA-256 of
the IR the frontend built, the argument layouts, the options and the
versions of ember, its build and LLVM) and by the CPU features its code was
compiled for: `<dir>/v<version>/<key[:2]>/<key[:32]>-<features>.ember`.
A lookup tries the entry of this CPU's features, then any other entry of the
key whose features this CPU has (same widest vector ISA); the C++ loader
verifies the checksum, the versions, the key and the features before any
byte becomes executable. Writes go to a temporary file in the same folder,
fsync, then an atomic rename, so concurrent processes never see half an
entry. Damaged entries are a miss (one warning), recompiled and replaced.

Environment: EMBER_CACHE=on|read|off (default on), EMBER_CACHE_DIR (default
$XDG_CACHE_HOME/ember, else ~/.cache/ember), EMBER_CACHE_SIZE (default 1G;
least recently used entries go first). Read each time, so a process may
change them.
"""

import hashlib
import os
import re
import stat
import tempfile
import time
import warnings

from . import _core

__all__ = ["CacheWarning", "directory", "mode", "size_limit", "stats", "entries", "clear"]

_SUFFIX = ".ember"
_DEFAULT_SIZE = 1 << 30
_KEY_CHARS = 32  # of the key's 64 hex digits, in file names
_stats = {"hits": 0, "misses": 0, "writes": 0, "rejected": 0}
_warned = set()


class CacheWarning(RuntimeWarning):
    """The disk cache could not be used as asked (it falls back to memory) or
    found a damaged entry (recompiled)."""


def _warn(message):
    if message not in _warned:  # once per process
        _warned.add(message)
        warnings.warn(f"ember cache: {message}", CacheWarning, stacklevel=2)


def mode():
    """EMBER_CACHE: 'on' (read and write), 'read' (never write) or 'off'."""
    value = os.environ.get("EMBER_CACHE", "on").strip().lower()
    if value in ("on", "read", "off"):
        return value
    _warn(f"EMBER_CACHE={value!r} is not one of on, read, off; using 'on'")
    return "on"


def directory():
    """The folder of this ember version's entries."""
    base = os.environ.get("EMBER_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "ember")
    return os.path.join(os.path.abspath(base), "v" + _core.versions()["ember"])


def size_limit():
    """EMBER_CACHE_SIZE in bytes: a number with an optional K, M or G (powers of 1024)."""
    text = os.environ.get("EMBER_CACHE_SIZE", "").strip()
    if not text:
        return _DEFAULT_SIZE
    match = re.fullmatch(r"(\d+)\s*([KMG]?)i?B?", text, re.IGNORECASE)
    if not match:
        _warn(f"EMBER_CACHE_SIZE={text!r} is not a size such as 500M or 2G; using 1G")
        return _DEFAULT_SIZE
    return int(match.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[match.group(2).upper()]


def stats():
    """This process's lookups: hits, misses, writes, and rejected (damaged) entries."""
    return dict(_stats)


def _unsafe(path):
    """Why the folder `path` must not hold executable code, or None."""
    try:
        st = os.stat(path)
    except OSError as e:
        return f"cannot use {path}: {e.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    if st.st_uid != os.geteuid():
        return f"{path} belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} can be written by other users, and the cache holds executable code"
    return None


def _folder(create):
    """The version folder if it is safe (created when `create`), else None."""
    path = directory()
    if create:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError as e:
            _warn(f"cannot create {path} ({e.strerror}); compiled code stays in memory")
            return None
    elif not os.path.isdir(path):
        return None
    why = _unsafe(os.path.dirname(path)) or _unsafe(path)
    if why:
        _warn(f"{why}; not using it (compiled code stays in memory)")
        return None
    return path


def _features_tag(features):
    return hashlib.sha256(",".join(features).encode()).hexdigest()[:12]


def _entry_path(folder, key, features_tag):
    return os.path.join(folder, key[:2], f"{key[:_KEY_CHARS]}-{features_tag}{_SUFFIX}")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as e:  # a folder where the file should be, no permission ...
        return e


def _discard(path):
    try:
        os.unlink(path)
    except IsADirectoryError:
        try:
            os.rmdir(path)
        except OSError:
            pass
    except OSError:
        pass


def _lookup(folder, spec):
    key = spec.key
    own = _entry_path(folder, key, _features_tag(_core.host_features()))
    try:
        others = [os.path.join(os.path.dirname(own), name)
                  for name in os.listdir(os.path.dirname(own))
                  if name.startswith(key[:_KEY_CHARS] + "-") and name.endswith(_SUFFIX)]
    except OSError:
        others = []
    for path in [own] + sorted(p for p in others if p != own):
        data = _read(path)
        if data is None:
            continue
        try:
            if isinstance(data, OSError):
                raise _core.ArtifactError(f"cannot read it: {data.strerror}")
            kernel = _core.load_artifact(spec, data)
        except _core.IncompatibleArtifact:
            continue  # another CPU's entry: kept for it
        except _core.ArtifactError as e:
            _stats["rejected"] += 1
            _warn(f"{path}: {e}; recompiling")
            _discard(path)
            continue
        try:
            os.utime(path)  # least recently used goes first
        except OSError:
            pass
        return kernel
    return None


def _store(kernel):
    folder = _folder(create=True)
    if folder is None:
        return
    fields = _core.read_artifact(kernel.artifact)
    features = [f for f in fields["features"].decode().split(",") if f]
    path = _entry_path(folder, kernel.key, _features_tag(features))
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(kernel.artifact)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isdir(path):
            _discard(path)
        os.replace(tmp, path)
        tmp = None
        _stats["writes"] += 1
    except OSError as e:
        _warn(f"cannot write to {folder} ({e.strerror}); compiled code stays in memory")
    finally:
        if tmp is not None:
            _discard(tmp)
    _evict(folder, size_limit())


def entries(folder=None):
    """(path, size in bytes, last use as a Unix time) of every entry, oldest use first."""
    folder = folder or directory()
    found = []
    try:
        shards = list(os.scandir(folder))
    except OSError:
        return found
    for shard in shards:
        try:
            if not shard.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(shard.path):
                if entry.name.endswith(_SUFFIX) and not entry.name.startswith(".tmp-"):
                    st = entry.stat(follow_symlinks=False)
                    found.append((entry.path, st.st_size, st.st_mtime))
        except OSError:  # removed by another process meanwhile
            continue
    found.sort(key=lambda e: e[2])
    return found


def _evict(folder, limit):
    """Removes the least recently used entries until the rest fit in `limit`;
    also temporary files that a crashed writer left an hour ago."""
    listed = entries(folder)
    total = sum(size for _, size, _ in listed)
    for path, size, _ in listed:
        if total <= limit:
            break
        _discard(path)
        total -= size
    now = time.time()
    for shard in (os.path.join(folder, name) for name in _listdir(folder)):
        for name in _listdir(shard):
            path = os.path.join(shard, name)
            try:
                if name.startswith(".tmp-") and now - os.stat(path).st_mtime > 3600:
                    _discard(path)
            except OSError:
                pass


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def clear():
    """Removes every entry of this ember version; returns how many."""
    listed = entries()
    for path, _, _ in listed:
        _discard(path)
    return len(listed)


def kernel(spec, compile, enabled=True):
    """The Kernel of `spec` (a _core.Specialization): loaded from the disk
    cache, else made by `compile()` and stored. `enabled`: the function's
    cache= option (and False for GPU specializations, which have no host code)."""
    how = mode() if enabled else "off"
    if how != "off":
        folder = _folder(create=False)
        found = _lookup(folder, spec) if folder else None
        if found is not None:
            _stats["hits"] += 1
            return found
        _stats["misses"] += 1
    compiled = compile()
    if how == "on" and compiled.artifact:
        _store(compiled)
    return compiled
