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

Running the frontend to learn the key costs more than loading the code for
large functions (50 ms for 400 statements), so a source index also maps a
key of the function's *source* (its file's text, the code object, the
argument types and options, ember's and the frontend's versions) to the
IR's key, with the free names the frontend resolved and a description of
each value (a number's exact value, a module's name, a function's qualified
name). A process whose function has the same source key and whose names
still describe the same loads the artifact without running the frontend
(the artifact's own IR texts give the kernel's IR); any difference falls
back to the frontend and the IR's key.

Environment: EMBER_CACHE=on|read|off (default on), EMBER_CACHE_DIR (default
$XDG_CACHE_HOME/ember, else ~/.cache/ember), EMBER_CACHE_SIZE (default 1G;
least recently used entries go first). Read each time, so a process may
change them.
"""

import contextlib
import fcntl
import functools
import hashlib
import inspect
import json
import linecache
import os
import re
import stat
import tempfile
import time
import warnings

import numpy as np

from . import _core

__all__ = ["CacheWarning", "directory", "mode", "size_limit", "stats", "entries", "clear"]

_SUFFIX = ".ember"
_INDEX = ".index"
_DEFAULT_SIZE = 1 << 30
_KEY_CHARS = 32  # of the key's 64 hex digits, in file names
source_index = True  # False: always run the frontend (`ember cache explain`)
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


def _lookup(folder, key, load, tag=None):
    """What `load(data)` makes of an entry of `key` (a Kernel), or None: the
    entry of this CPU's features (or of `tag`) first, then the key's others."""
    own = _entry_path(folder, key, tag or _features_tag(_core.host_features()))
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
            kernel = load(data)
        except _core.IncompatibleArtifact:
            continue  # another CPU's entry: kept for it
        except _core.ArtifactError as e:
            _stats["rejected"] += 1
            _warn(f"{path}: {e}; recompiling")
            _discard(path)
            continue
        _touch(path)
        return kernel
    return None


def _touch(path):
    try:
        os.utime(path)  # least recently used goes first
    except OSError:
        pass


def _write(folder, path, data):
    """Writes `data` to `path` atomically; False (after one warning) if it cannot."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isdir(path):
            _discard(path)
        os.replace(tmp, path)
        tmp = None
        return True
    except OSError as e:
        _warn(f"cannot write to {folder} ({e.strerror}); compiled code stays in memory")
        return False
    finally:
        if tmp is not None:
            _discard(tmp)


def _store(kernel):
    folder = _folder(create=True)
    if folder is None:
        return
    fields = _core.read_artifact(kernel.artifact)
    features = [f for f in fields["features"].decode().split(",") if f]
    if _write(folder, _entry_path(folder, kernel.key, _features_tag(features)), kernel.artifact):
        _stats["writes"] += 1
    _evict(folder, size_limit())


def entries(folder=None, index=False):
    """(path, size in bytes, last use as a Unix time) of every entry (and,
    with `index`, source index record), oldest use first."""
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
                if (entry.name.endswith(_SUFFIX) or (index and entry.name.endswith(_INDEX))) \
                        and not entry.name.startswith(".tmp-"):
                    st = entry.stat(follow_symlinks=False)
                    found.append((entry.path, st.st_size, st.st_mtime))
        except OSError:  # removed by another process meanwhile
            continue
    found.sort(key=lambda e: e[2])
    return found


def _evict(folder, limit):
    """Removes the least recently used entries until the rest fit in `limit`;
    also temporary files that a crashed writer left and lock files, an hour
    old."""
    listed = entries(folder, index=True)
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
                stale = name.startswith(".tmp-") or name.endswith(".lock")
                if stale and now - os.stat(path).st_mtime > 3600:
                    _discard(path)
            except OSError:
                pass


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def clear():
    """Removes every entry (and source index record) of this ember version;
    returns how many entries there were."""
    count = len(entries())
    for path, _, _ in entries(index=True):
        _discard(path)
    return count


def kernel(spec, compile, enabled=True):
    """The Kernel of `spec` (a _core.Specialization): loaded from the disk
    cache, else made by `compile()` and stored. `enabled`: the function's
    cache= option (and False for GPU specializations, which have no host code)."""
    how = mode() if enabled else "off"
    load = lambda data: _core.load_artifact(spec, data)  # noqa: E731
    if how != "off":
        folder = _folder(create=False)
        found = _lookup(folder, spec.key, load) if folder else None
        if found is not None:
            _stats["hits"] += 1
            return found
    if how != "on":
        _stats["misses"] += how == "read"
        return compile()
    folder = _folder(create=True)
    # One compile per key among the processes sharing the folder: the first
    # takes the key's lock and compiles; the others wait, then load its entry.
    with _lock(folder, spec.key):
        found = _lookup(folder, spec.key, load) if folder else None
        if found is not None:
            _stats["hits"] += 1
            return found
        _stats["misses"] += 1
        compiled = compile()
        if compiled.artifact:
            _store(compiled)
    return compiled


@contextlib.contextmanager
def _lock(folder, key):
    """An exclusive lock on `key` among processes (flock on a file beside its
    entries; released when the process dies); nothing without a folder."""
    fd = None
    if folder is not None:
        path = os.path.join(folder, key[:2], key[:_KEY_CHARS] + ".lock")
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None  # no lock: at worst two processes compile the same code
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


# --- GPU code -----------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _libdevice_hash():
    """A hash of the libdevice the PTX links (its math functions), or ''."""
    from . import _jit
    path = _jit.libdevice_path()
    if not path:
        return ""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ptx(kernel, arch, strided, make, enabled=True):
    """(PTX text, entry name) of `kernel` (a GPU specialization) for GPU
    architecture `arch` with `strided` axes: from the disk cache, else from
    `make()` (a _jit.PtxCode) and stored. Keyed on the kernel's key, the
    architecture, the strides and the libdevice linked in."""
    how = mode() if enabled else "off"
    key = hashlib.sha256("\n".join(["ptx", kernel.key, arch, str(strided), _libdevice_hash()])
                         .encode()).hexdigest()
    folder = _folder(create=False) if how != "off" else None
    if folder:
        found = _lookup(folder, key, lambda data: _ptx_fields(data, key), "ptx")
        if found is not None:
            _stats["hits"] += 1
            return found
        _stats["misses"] += 1
    code = make()
    if how == "on" and (folder := _folder(create=True)):
        spec = kernel.specialization.spec_text() + f"target: cuda {arch}, {strided} strided axes\n"
        fields = dict(_core.versions(), key=key, cpu=f"cuda {arch}", spec=spec, ptx=code.ptx,
                      entry=code.entry)
        if _write(folder, _entry_path(folder, key, "ptx"), _core.write_artifact(fields)):
            _stats["writes"] += 1
    return code.ptx, code.entry


def _ptx_fields(data, key):
    """(PTX text, entry name) of a PTX entry; ArtifactError if it is not one."""
    fields = _core.read_artifact(data, key)
    if "ptx" not in fields or "entry" not in fields:
        raise _core.ArtifactError("a PTX entry without its PTX")
    return fields["ptx"].decode(), fields["entry"].decode()


# --- the source index ---------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _frontend_hash():
    """A hash of the Python files that turn source into IR."""
    from . import frontend, kernel_frontend
    digest = hashlib.sha256()
    for module in (frontend, kernel_frontend):
        with open(module.__file__, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def source_key(py_func, what):
    """A key of everything the frontend reads of `py_func` but its free names'
    values, with `what` (the argument types and options); None if the source
    index is not in use (EMBER_CACHE=off) or the source cannot be read."""
    if mode() == "off" or not source_index:
        return None
    code = py_func.__code__
    lines = linecache.getlines(code.co_filename, py_func.__globals__)
    if not lines:
        return None
    consts = [c for c in code.co_consts if not inspect.iscode(c)]
    header = [_frontend_hash(), repr(sorted(_core.versions().items())), code.co_filename,
              getattr(py_func, "__qualname__", code.co_name), str(code.co_firstlineno),
              code.co_code.hex(), repr(consts), what]
    return hashlib.sha256(("\n".join(header) + "\n" + "".join(lines)).encode()).hexdigest()


def _describe(obj):
    """What the frontend makes of a free name's value, as text: a number's
    type and exact value, a module's name, else the object's type and name."""
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if isinstance(obj, np.generic):
        return f"{kind}:{obj.tobytes().hex()}"
    if isinstance(obj, bool):
        return f"{kind}:{bool(obj)}"
    if isinstance(obj, int):
        return f"{kind}:{int(obj)}"
    if isinstance(obj, float):
        return f"{kind}:{float(obj).hex()}"
    if inspect.ismodule(obj):
        return f"module:{obj.__name__}"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"{kind}:{getattr(obj, '__module__', None)}.{name}"


def _value(py_func, name, frozen):
    """The value of free name `name` (or dotted name "np.pi") as the frontend
    would resolve it: frozen, else now. LookupError if it has none."""
    from .frontend import free_value
    if name in frozen:
        return frozen[name]
    if "." not in name:
        return free_value(py_func, name)
    head, _, attr = name.rpartition(".")
    base = _value(py_func, head, frozen)
    try:
        return getattr(base[0] if "." not in head else base, attr)
    except AttributeError as e:
        raise LookupError(str(e)) from None


def _index_path(folder, key):
    return os.path.join(folder, key[:2], key[:_KEY_CHARS] + _INDEX)


def load_by_source(key, py_func, frozen):
    """The Kernel that the source index gives for source key `key` (source_key(),
    or None) of `py_func`, or None. On a hit, `frozen` (the function's frozen
    values) gets the values the kernel was compiled with."""
    folder = _folder(create=False) if key else None
    data = _read(_index_path(folder, key)) if folder else None
    if not isinstance(data, bytes):
        return None
    try:
        record = json.loads(data)
        values = {name: _value(py_func, name, frozen) for name in record["names"]}
        if any(_describe(v if "." in n else v[0]) != record["names"][n]
               for n, v in values.items()):
            return None
        ir_key = record["key"]
    except (ValueError, KeyError, TypeError, LookupError):
        return None  # a damaged record, or a name that is gone: the frontend decides
    filename = py_func.__code__.co_filename
    found = _lookup(folder, ir_key, lambda d: _core.load_artifact_by_key(d, ir_key, filename))
    if found is None:
        return None
    for name, value in values.items():
        frozen.setdefault(name, value)
    _touch(_index_path(folder, key))
    _stats["hits"] += 1
    return found


def remember(key, frozen, kernel):
    """Records in the source index that source key `key` (or None) with the
    values in `frozen` gives `kernel`'s key."""
    if key is None or mode() != "on" or not kernel.artifact:
        return
    folder = _folder(create=True)
    if folder is None:
        return
    names = {n: _describe(v if "." in n else v[0]) for n, v in frozen.items()}
    record = json.dumps({"key": kernel.key, "names": names}, sort_keys=True).encode()
    path = _index_path(folder, key)
    if _read(path) != record:
        _write(folder, path, record)
