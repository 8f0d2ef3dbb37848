"""ember.cuda: the NVIDIA GPU as ember sees it, and arrays in its memory.

The CUDA driver (libcuda.so.1, or the file $EMBER_CUDA_DRIVER names) is
loaded at the first question, never at import; without it these functions
say so instead of failing: is_available() is False and the others raise
ember.CudaError. PTX for a kernel needs no driver: `f.inspect("ptx")`.

    d = ember.cuda.to_device(a)      # a DeviceArray (owns GPU memory)
    y = triad(d, d)                  # @ember.vectorize(target="cuda"): y stays on the GPU
    y.to_host()                      # back to NumPy (waits for the GPU)

Device arrays of other libraries (CuPy, PyTorch, Numba, JAX: anything with
`__cuda_array_interface__` or `__dlpack__`) are used in place. ember queues
its work on the legacy default stream, the stream those libraries use by
default, so it is ordered after theirs; work on another stream is waited for.
"""

import math

import numpy as np

from . import _core
from .errors import CudaError
from .gpu_layout import contiguous_strides

__all__ = ["is_available", "unavailable_reason", "device_count", "device_info", "default_arch",
           "DeviceArray", "to_device", "empty", "zeros", "synchronize", "as_device_array"]

_NAMES = {np.dtype(t): t for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64", "float32", "float64")}
_DTYPES = frozenset(_NAMES)


def is_available():
    """Whether the CUDA driver loads, initializes and sees a device."""
    return _core.cuda_available()


def unavailable_reason():
    """Why is_available() is False (the driver's own error), or "" when it is True."""
    return _core.cuda_unavailable_reason()


def device_count():
    """Number of CUDA devices; raises CudaError without a driver."""
    return _core.cuda_device_count()


def _check_device(device):
    if not isinstance(device, int) or isinstance(device, bool) or device < 0:
        raise ValueError(f"device must be an int >= 0, got {device!r}")
    return device


def device_info(device=0):
    """A dict: name, compute_capability (major, minor), multiprocessors,
    total_memory (bytes), driver_version (major, minor). Raises CudaError."""
    return _core.cuda_device_info(_check_device(device))


_archs = {}


def default_arch(device=0):
    """The architecture PTX is generated for: the device's ("sm_90" for an
    H100) when a GPU is present and LLVM knows it, else the newest LLVM's
    NVPTX backend knows."""
    if device not in _archs:
        from . import _jit
        arch = _jit.newest_gpu_arch()
        if is_available():
            major, minor = device_info(device)["compute_capability"]
            if f"sm_{major}{minor}" in _jit.gpu_archs():
                arch = f"sm_{major}{minor}"
        _archs[device] = arch
    return _archs[device]


_ready = False


def require():
    """Raises CudaError (the driver's own error) unless a GPU can be used."""
    global _ready
    if _ready:
        return
    try:
        count = device_count()
    except CudaError as e:
        raise CudaError(f"target='cuda' needs an NVIDIA GPU and its driver: {e}", e.name,
                        e.code) from None
    if count == 0:
        raise CudaError("target='cuda' needs an NVIDIA GPU: the CUDA driver sees no device",
                        "CUDA_ERROR_NO_DEVICE", 100)
    _ready = True


def synchronize(device=0):
    """Waits until every kernel and copy queued on the device has finished;
    raises CudaError if one of them failed (a kernel fault shows here)."""
    _core.cuda_synchronize(_check_device(device))


def _dtype(dtype, what):
    dtype = np.dtype(dtype)
    if dtype.newbyteorder("=") not in _DTYPES:
        raise TypeError(f"{what} has dtype {dtype}, which ember does not support (supported: "
                        "bool, int8..int64, uint8..uint64, float32, float64)")
    return dtype.newbyteorder("=")


def _shape(shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(not isinstance(n, (int, np.integer)) or n < 0 for n in shape):
        raise ValueError(f"a shape is a tuple of ints >= 0, got {shape!r}")
    return tuple(int(n) for n in shape)


class DeviceArray:
    """An N-d array in GPU memory: ember's own (to_device, empty, zeros, or a
    kernel's result) or a view of another library's, which it keeps alive.

    Attributes: shape, dtype, strides (bytes), ptr (the device address),
    device (ordinal), size, ndim, nbytes, itemsize. Hand it to CuPy, PyTorch or
    Numba in place through `__cuda_array_interface__` or `__dlpack__`.
    """

    __slots__ = ("shape", "dtype", "strides", "ptr", "device", "_owner", "readonly", "name",
                 "is_c_contiguous")

    def __init__(self, shape, dtype=np.float64, device=0, *, _ptr=None, _owner=None,
                 _strides=None, _readonly=False):
        self.shape = _shape(shape)
        self.dtype = _dtype(dtype, "a device array")
        self.device = _check_device(device)
        self.strides = (contiguous_strides(self.shape, self.dtype.itemsize)
                        if _strides is None else tuple(_strides))
        self.readonly = bool(_readonly)
        self.name = self.dtype.name  # read on every call: cached (numpy's is slow)
        self.is_c_contiguous = math.prod(self.shape) <= 1 or all(
            n == 1 or s == c for n, s, c in
            zip(self.shape, self.strides, contiguous_strides(self.shape, self.dtype.itemsize)))
        if _ptr is None:  # owned memory
            _owner = _core.DeviceMemory(self.device, self.nbytes)
            _ptr = _owner.ptr
        self.ptr = int(_ptr)
        self._owner = _owner

    @classmethod
    def _result(cls, shape, dtype, device):
        """A new C-contiguous array; `shape` a tuple of ints, `dtype` a
        supported native np.dtype (the call paths' fast constructor)."""
        name = _NAMES.get(dtype) or dtype.name
        self = object.__new__(cls)
        self.shape, self.dtype, self.device, self.readonly = shape, dtype, device, False
        self.strides = contiguous_strides(shape, dtype.itemsize)
        self.name, self.is_c_contiguous = name, True
        self._owner = _core.DeviceMemory(device, math.prod(shape) * dtype.itemsize)
        self.ptr = self._owner.ptr
        return self

    size = property(lambda self: math.prod(self.shape))
    ndim = property(lambda self: len(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d device array")
        return self.shape[0]

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3,
                "data": (self.ptr if self.size else 0, self.readonly),
                "strides": None if self.is_c_contiguous else self.strides,
                "stream": 1}  # ember's work is on the legacy default stream

    def to_host(self, out=None):
        """The array as a NumPy array (waits for the work queued before it).
        `out`: a C-contiguous NumPy array of the same shape and dtype to fill.
        A strided view is copied with the memory it spans, then compacted."""
        if out is None:
            out = np.empty(self.shape, self.dtype)
        elif (not isinstance(out, np.ndarray) or out.shape != self.shape or
              out.dtype != self.dtype or not out.flags.c_contiguous):
            raise ValueError(f"out= must be a C-contiguous {self.dtype} NumPy array of shape "
                             f"{self.shape}")
        if not self.size:
            return out
        if self.is_c_contiguous:
            _core.cuda_copy_to_host(self.device, out, self.ptr)
            return out
        steps = [(n - 1) * s for n, s in zip(self.shape, self.strides)]
        low = sum(s for s in steps if s < 0)
        span = np.empty(sum(s for s in steps if s > 0) - low + self.itemsize, np.uint8)
        _core.cuda_copy_to_host(self.device, span, self.ptr + low)
        np.copyto(out, np.ndarray(self.shape, self.dtype, span, -low, self.strides))
        return out

    copy_to_host = to_host

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        if copy:
            raise BufferError("ember device arrays are exported in place (copy=True asked)")
        if stream not in (None, 1, -1):  # another stream than ember's: let it see our work
            synchronize(self.device)
        code = {"b": 6, "i": 0, "u": 1, "f": 2}[self.dtype.kind]
        strides = [s // self.itemsize for s in self.strides]
        return _core.dlpack_export(self, self.ptr, list(self.shape), strides, code,
                                   8 * self.itemsize, self.device)

    def __dlpack_device__(self):
        return (2, self.device)  # kDLCUDA

    def copy(self):
        """A new C-contiguous DeviceArray with the same values (queued on the GPU)."""
        if not self.is_c_contiguous:
            raise ValueError("copy() needs a C-contiguous device array")
        new = DeviceArray(self.shape, self.dtype, self.device)
        if self.size:
            _core.cuda_copy_on_device(self.device, new.ptr, self.ptr, self.nbytes)
        return new

    def __repr__(self):
        return (f"<ember.cuda.DeviceArray shape={self.shape} dtype={self.dtype} "
                f"device={self.device}>")


def to_device(a, device=0):
    """A DeviceArray holding a copy of `a` (any array-like NumPy accepts) on
    `device`; a DeviceArray already there is returned as it is, one on
    another device is copied (through the host)."""
    if isinstance(a, DeviceArray):
        if a.device == device:
            return a
        a = a.to_host()
    host = np.ascontiguousarray(a)
    d = DeviceArray(host.shape, _dtype(host.dtype, "to_device's argument"), device)
    if d.size:
        _core.cuda_copy_to_device(d.device, d.ptr, host.astype(d.dtype, copy=False))
    return d


def empty(shape, dtype=np.float64, device=0):
    """An uninitialized DeviceArray."""
    return DeviceArray(shape, dtype, device)


def zeros(shape, dtype=np.float64, device=0):
    """A DeviceArray of zeros."""
    d = DeviceArray(shape, dtype, device)
    if d.size:
        _core.cuda_zero(d.device, d.ptr, d.nbytes)
    return d


def as_device_array(obj):
    """`obj` as a DeviceArray (in place), or None when it is not a device
    array: a DeviceArray, anything with `__cuda_array_interface__` (version
    0 to 3), or a DLPack producer whose device is a CUDA GPU."""
    if isinstance(obj, DeviceArray):
        return obj
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_cai(obj, cai)
    if hasattr(obj, "__dlpack_device__") and not isinstance(obj, np.ndarray):
        kind, _ = obj.__dlpack_device__()
        if kind in (2, 13):  # kDLCUDA, kDLCUDAManaged
            return _from_dlpack(obj)
    return None


def _from_cai(obj, cai):
    dtype = _dtype(cai["typestr"], f"a '{type(obj).__name__}' device array")
    if np.dtype(cai["typestr"]).byteorder not in "=|" + ("<" if np.little_endian else ">"):
        raise TypeError("device arrays in a non-native byte order are not supported")
    if cai.get("mask") is not None:
        raise TypeError("masked device arrays are not supported")
    ptr, readonly = cai["data"]
    shape = _shape(cai["shape"])
    device = _core.cuda_device_of(ptr) if ptr else 0
    stream = cai.get("stream")
    if stream not in (None, 1):  # 1: the legacy default stream, ember's own; 2: per-thread
        _core.cuda_synchronize_stream(device, stream)
    return DeviceArray(shape, dtype, device, _ptr=ptr, _owner=obj, _strides=cai.get("strides"),
                       _readonly=readonly)


def _from_dlpack(obj):
    try:
        capsule = obj.__dlpack__(stream=1)
    except TypeError:  # producers before the stream argument
        capsule = obj.__dlpack__()
    owner, ptr, shape, strides, code, bits, device = _core.dlpack_import(capsule)
    kind = {0: "i", 1: "u", 2: "f", 6: "b"}.get(code)
    if kind is None:
        raise TypeError(f"DLPack dtype code {code} ({bits} bits) is not supported")
    dtype = _dtype(f"{kind}{bits // 8}" if kind != "b" else "bool", "a DLPack array")
    if strides is not None:
        strides = [s * dtype.itemsize for s in strides]
    return DeviceArray(shape, dtype, device, _ptr=ptr, _owner=(owner, obj), _strides=strides)
