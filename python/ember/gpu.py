"""The GPU call paths: @ember.vectorize(target="cuda") and
@ember.kernel(target="cuda").

The same frontend, compiler and specialization keys as on the CPU; a
specialization's PTX (codegen/lower_gpu.cpp) is loaded once per device
(`_core.CudaModule`, which picks the block size by occupancy) and launched
with its parameters packed in 8-byte slots, in the order codegen.h lists
them. Arguments:

- Python numbers and NumPy scalars / 0-d arrays are passed by value;
- device arrays (ember's DeviceArray, or any `__cuda_array_interface__` /
  DLPack array) are used in place;
- NumPy arrays are copied to the device, and a kernel's arrays are copied
  back after it ran (in place, as on the CPU).

When every array argument is on the device the call only queues work (on the
legacy default stream) and returns a DeviceArray; with a NumPy argument the
result comes back as NumPy, which waits for the GPU.
"""

import math
import struct

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import _core, cuda
from .cuda import DeviceArray
from .frontend import check_signature
from .kernel import Kernel
from .reduce import Reduced
from .vectorize import Vectorized

__all__ = ["CudaVectorized", "CudaReduced", "CudaKernel"]

_CODES = {"bool": "?", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i",
          "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d"}
_POINTER = "Q"


def _slot(dtype):
    """The struct format of one 8-byte parameter slot holding a `dtype` value."""
    code = _CODES[dtype]
    pad = 8 - struct.calcsize(code)
    return code + (f"{pad}x" if pad else "")


def _packer(slots):
    return struct.Struct("<" + "".join(slots))


class _Scalar:
    """A value passed by value: its dtype name and whether it is weak (a Python number)."""
    __slots__ = ("value", "dtype", "weak")

    def __init__(self, value, dtype, weak):
        self.value, self.dtype, self.weak = value, dtype, weak


def _read(arg, index):
    """An argument as a _Scalar, a DeviceArray (in place) or a NumPy array of ndim >= 1."""
    kind = type(arg)
    if kind is DeviceArray and arg.shape:
        return arg
    if kind is bool:
        return _Scalar(arg, "bool", True)
    if kind is int:
        if -2**63 <= arg < 2**63:
            return _Scalar(arg, "int64", True)
        if 0 <= arg < 2**64:
            return _Scalar(arg, "uint64", True)
        raise ValueError(f"argument {index + 1}: Python int {arg} is out of bounds for int64 "
                         "and uint64")
    if kind is float:
        return _Scalar(arg, "float64", True)
    device = cuda.as_device_array(arg)
    if device is not None:
        if device.ndim == 0:  # read once, like a host 0-d array
            return _Scalar(device.to_host()[()], device.dtype.name, False)
        return device
    if not isinstance(arg, np.ndarray) and not np.isscalar(arg) and not hasattr(arg, "__array__"):
        raise TypeError(f"argument {index + 1} of type '{kind.__name__}' is not an array or "
                        "a number")
    host = np.asarray(arg)
    dtype = cuda._dtype(host.dtype, f"argument {index + 1}")
    host = host.astype(dtype, copy=False)
    if host.ndim == 0:
        return _Scalar(host[()], dtype.name, False)
    return host


def _device_of(ops):
    devices = {op.device for op in ops if isinstance(op, DeviceArray)}
    if len(devices) > 1:
        raise ValueError(f"the device arrays of a call are on different GPUs {sorted(devices)}; "
                         "copy them to one first")
    return devices.pop() if devices else 0


def _load(kernel, device, suffixes=("",), block=0):
    """The CUDA module of a compiled specialization on `device`, with the
    kernels `<entry><suffix>` (entry 0, 1, ... in launch()); `block` threads
    per block when not 0."""
    from . import _jit  # LLVM loads at the first compile, not at import
    code = _jit.ptx(kernel, cuda.default_arch(device))
    return _core.CudaModule(device, code.ptx, [code.entry + s for s in suffixes], block)


class _Elementwise:
    """The argument handling shared by the GPU @vectorize and @reduce."""

    def _setup(self, py_func):
        self._nargs = len(check_signature(py_func))
        # (arg types, device) -> (kernel, module, packer, has weak ints, result dtype)
        self._loaded = {}

    def _prepare(self, args, tail, suffixes=("",), block=0):
        """Specializes for `args` and puts them on the device: (loaded, device,
        broadcast shape, the parameter values of the first kernel, what to
        keep alive until the launch is queued). `tail`: the struct slots of
        the kernel's parameters after the inputs."""
        cuda.require()
        if len(args) != self._nargs:
            s = "" if self._nargs == 1 else "s"
            raise TypeError(f"{self.__name__}() takes {self._nargs} argument{s} but "
                            f"{len(args)} {'was' if len(args) == 1 else 'were'} given")
        ops = [_read(a, i) for i, a in enumerate(args)]
        device = _device_of(ops)
        types = tuple((op.dtype, op.weak, True) if type(op) is _Scalar
                      else (op.name if type(op) is DeviceArray else op.dtype.name, False, False)
                      for op in ops)
        loaded = self._loaded.get((types, device))
        if loaded is None:
            kernel = self.specialize(list(types))
            slots = [_slot(op.dtype) if isinstance(op, _Scalar) else _POINTER for op in ops]
            loaded = self._loaded[(types, device)] = (
                kernel, _load(kernel, device, suffixes, block), _packer(slots + tail),
                kernel.has_weak_ints, np.dtype(kernel.output_dtype))
        if loaded[3]:
            loaded[0].check_weak_ints(args)
        shapes = [op.shape for op in ops if type(op) is not _Scalar]
        shape = shapes[0] if shapes.count(shapes[0] if shapes else ()) == len(shapes) and shapes \
            else np.broadcast_shapes(*shapes)
        values, keep = [], []
        for i, op in enumerate(ops):
            if isinstance(op, _Scalar):
                values.append(op.value)
            elif isinstance(op, DeviceArray):
                if op.shape != shape or not op.is_c_contiguous:
                    raise ValueError(
                        f"argument {i + 1}: a device array must be C-contiguous and have the "
                        f"broadcast shape {shape} on the GPU, got shape {op.shape} "
                        f"strides {op.strides}")
                values.append(op.ptr)
            else:
                copy = cuda.to_device(np.broadcast_to(op, shape), device)
                keep.append(copy)
                values.append(copy.ptr)
        on_device = any(isinstance(op, DeviceArray) for op in ops)
        return loaded, device, shape, values, keep, on_device


class CudaVectorized(_Elementwise, Vectorized):
    """@ember.vectorize(target="cuda"): the elementwise kernel on the GPU."""

    _native = False  # specializations are compiled for the GPU only

    def __init__(self, py_func, signatures=(), fastmath=False):
        self._setup(py_func)
        super().__init__(py_func, signatures, fastmath)
        # Calls on ember device arrays and Python numbers, once loaded: C++.
        self._fast = _core.CudaCall(self._nargs, DeviceArray, DeviceArray._result)

    def __call__(self, *args, out=None):
        result = self._fast.call(args, out)
        if result is not NotImplemented:
            return result
        loaded, device, shape, values, keep, on_device = self._prepare(args, [_POINTER, "q"])
        kernel, module, packer, _, result_dtype = loaded
        result = self._output(out, shape, result_dtype, device)
        n = math.prod(shape)
        module.launch(n, packer.pack(*values, result.ptr, n))
        self._fast.add(args, kernel, module, result_dtype)
        if isinstance(out, np.ndarray):
            np.copyto(out, result.to_host(), casting="same_kind")
            return out
        if out is not None or on_device:
            return result
        host = result.to_host()
        return host[()] if not shape else host

    @staticmethod
    def _output(out, shape, dtype, device):
        if out is None or isinstance(out, np.ndarray):
            if out is not None and out.shape != shape:
                raise ValueError(f"out= has shape {out.shape} but the broadcast shape of the "
                                 f"arguments is {shape}")
            return DeviceArray._result(shape, dtype, device)
        d = cuda.as_device_array(out)
        if d is None:
            raise TypeError(f"out= must be a device array or a NumPy array, got "
                            f"'{type(out).__name__}'")
        if d.shape != shape or d.dtype != dtype or not d.is_c_contiguous or d.readonly:
            raise ValueError(f"out= on the GPU must be a writable C-contiguous {dtype} array of "
                             f"shape {shape}, got {d.dtype} {d.shape}")
        return d

    def __repr__(self):
        return f"<ember.vectorize(target='cuda') {self.__qualname__} {self.signatures}>"


# A GPU reduction's fixed decomposition (codegen.h, lower_gpu_reduce.cpp):
# blocks of exactly _BLOCK threads reduce tiles of _TILE elements (then of
# _TILE partials) into one partial of _PARTIAL_BYTES each.
_BLOCK, _TILE, _PARTIAL_BYTES = 256, 4096, 16
_MERGE, _FINISH = _packer([_POINTER, _POINTER, "q"]), _packer([_POINTER, _POINTER])
_BYTES = np.dtype(np.uint8)


class CudaReduced(_Elementwise, Reduced):
    """@ember.reduce(op, target="cuda"): the map and the combine on the GPU.

    The result does not depend on the launch (the decomposition into tiles,
    warps and lanes is fixed by the size alone); it comes back as a NumPy
    scalar, which waits for the GPU. Only whole reductions (axis=None) so far.
    """

    _native = False

    def __init__(self, py_func, op, fastmath=False):
        self._setup(py_func)
        super().__init__(py_func, op, fastmath)

    def __call__(self, *args, axis=None):
        loaded, device, shape, values, keep, _ = self._prepare(
            args, [_POINTER, "q"], ("", "_merge", "_finish"), _BLOCK)
        if axis is not None and sorted(normalize_axis_tuple(axis, len(shape))) != \
                list(range(len(shape))):
            raise NotImplementedError("@ember.reduce(target='cuda') reduces whole arrays only "
                                      "(axis=None) so far")
        kernel, module, packer, _, result_dtype = loaded
        n = math.prod(shape)
        if n == 0 and self.op in ("min", "max"):
            name = "minimum" if self.op == "min" else "maximum"
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity")
        tiles = max(1, -(-n // _TILE))
        partials = DeviceArray._result((tiles * _PARTIAL_BYTES,), _BYTES, device)
        module.launch(tiles * _BLOCK, packer.pack(*values, partials.ptr, n), 0)
        while tiles > 1:
            m, tiles = tiles, -(-tiles // _TILE)
            merged = DeviceArray._result((tiles * _PARTIAL_BYTES,), _BYTES, device)
            module.launch(tiles * _BLOCK, _MERGE.pack(partials.ptr, merged.ptr, m), 1)
            partials = merged
        result = DeviceArray._result((1,), result_dtype, device)
        module.launch(_BLOCK, _FINISH.pack(partials.ptr, result.ptr), 2)
        return result.to_host()[0]

    def __repr__(self):
        return f"<ember.reduce({self.op!r}, target='cuda') {self.__qualname__} {self.signatures}>"


class CudaKernel(Kernel):
    """@ember.kernel(target="cuda"): one GPU thread per index of the domain."""

    _native = False

    def __init__(self, py_func, boundscheck=False, fastmath=False):
        self._names = check_signature(py_func)
        self._nargs = len(self._names)
        # (arg types, domain rank, device) -> (kernel, module, packer, written parameters)
        self._loaded = {}
        super().__init__(py_func, boundscheck, fastmath)

    def launch(self, domain, *args):
        """Runs the kernel once per index of `domain` on the GPU. With only
        device arrays it returns at once (the work is queued); NumPy arrays
        are copied in and back, which waits for the GPU; with
        boundscheck=True it always waits, to report an IndexError."""
        cuda.require()
        extents = tuple(_core.read_domain(domain))
        if len(args) != self._nargs:
            raise TypeError(f"{self.__name__}() takes {self._nargs} arguments, got {len(args)}")
        ops = [_read(a, i) for i, a in enumerate(args)]
        device = _device_of(ops)
        copies = []  # (argument, NumPy array, its copy on the device)
        for i, op in enumerate(ops):
            if isinstance(op, np.ndarray):
                ops[i] = cuda.to_device(op, device)
                ops[i].readonly = not op.flags.writeable
                copies.append((i, op, ops[i]))
        types = tuple(self._arg_type(op, i) for i, op in enumerate(ops))
        key = (types, len(extents), device)
        loaded = self._loaded.get(key)
        if loaded is None:
            kernel = self._compile(list(types), len(extents))
            slots = []
            for op in ops:
                slots += ([_slot(op.dtype)] if isinstance(op, _Scalar)
                          else [_POINTER] + ["q"] * 2 * op.ndim)
            loaded = self._loaded[key] = (kernel, _load(kernel, device),
                                          _packer(slots + ["q"] * len(extents) + [_POINTER]),
                                          kernel.written)
        kernel, module, packer, written = loaded
        kernel.check_weak_ints(args)
        values = []
        for i, op in enumerate(ops):
            if isinstance(op, _Scalar):
                values.append(op.value)
                continue
            if written[i] and op.readonly:
                raise ValueError(f"kernel '{self.__name__}' writes to argument {i + 1} "
                                 f"('{self._names[i]}'), which is read-only")
            values += [op.ptr, *op.shape, *self._strides(op, types[i][3])]
        error = cuda.zeros(5, np.int64, device) if self.boundscheck else None
        module.launch(math.prod(extents),
                      packer.pack(*values, *extents, error.ptr if error is not None else 0))
        for i, host, copy in copies:
            if written[i]:
                np.copyto(host, copy.to_host())
        if error is not None:
            failed, param, axis, index, line = error.to_host().tolist()
            if failed:
                shape = list(ops[param].shape)
                raise IndexError(kernel.index_error(param, axis, index, shape, line))

    @staticmethod
    def _arg_type(op, index):
        if isinstance(op, _Scalar):
            return (op.dtype, op.weak, 0, False)
        if not 1 <= op.ndim <= 4:
            raise ValueError(f"argument {index + 1}: kernels take arrays of 1 to 4 dimensions, "
                             f"got {op.ndim}")
        if any(s % op.itemsize for s in op.strides):
            raise ValueError(f"argument {index + 1}: strides that are not a multiple of the "
                             "item size are not supported in kernels")
        unit = op.shape[-1] <= 1 or op.strides[-1] == op.itemsize
        return (op.dtype.name, False, op.ndim, unit)

    @staticmethod
    def _strides(op, unit):
        strides = [s // op.itemsize for s in op.strides]
        if unit:
            strides[-1] = 1  # any stride reaches index 0 alone
        return strides

    def __repr__(self):
        return f"<ember.kernel(target='cuda') {self.__qualname__} {self.signatures}>"
