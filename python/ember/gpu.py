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

from . import _core, cache, cuda
from .cuda import DeviceArray
from .errors import wrong_arg_count
from .gpu_layout import broadcast_strides, walk
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
        raise OverflowError(f"argument {index + 1}: Python int {arg} is out of bounds for "
                            "int64 and uint64")
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


def _load(kernel, device, use_cache, strided=0, suffixes=("",), block=0):
    """The CUDA module of a compiled specialization on `device`, with the
    kernels `<entry><suffix>` (entry 0, 1, ... in launch()), taking strides
    for `strided` axes (codegen.h); `block` threads per block when not 0.
    The PTX comes from the disk cache when `use_cache`."""
    from . import _jit  # LLVM loads at the first compile, not at import
    arch = cuda.default_arch(device)
    text, entry = cache.ptx(kernel, arch, strided, lambda: _jit.ptx(kernel, arch, strided),
                            use_cache)
    return _core.CudaModule(device, text, [entry + s for s in suffixes], block)


class _Elementwise:
    """The argument handling shared by the GPU @vectorize and @reduce."""

    _suffixes, _block = ("",), 0  # the module's entries, its fixed block size

    def _setup(self):
        """The caches an eager signature's compile already fills."""
        self._specs = {}    # arg types -> (kernel, has weak ints, result dtype)
        self._modules = {}  # (arg types, device, strided axes) -> (module, packer)

    def _prepare(self, args):
        """Specializes for `args`: (types, spec, device, broadcast shape,
        operands, whether an argument is on the device). The operands are
        _Scalars and DeviceArrays: NumPy arrays are copied to the device as
        they are (a broadcast stays a stride of 0)."""
        cuda.require()
        if len(args) != len(self._names):
            raise wrong_arg_count(self.__name__, len(self._names), len(args))
        ops = [_read(a, i) for i, a in enumerate(args)]
        device = _device_of(ops)
        types = tuple((op.dtype, op.weak, True) if type(op) is _Scalar
                      else (op.name if type(op) is DeviceArray else op.dtype.name, False, False)
                      for op in ops)
        spec = self._specs.get(types)
        if spec is None:
            kernel = self.specialize(list(types))
            spec = self._specs[types] = (kernel, kernel.has_weak_ints,
                                         np.dtype(kernel.output_dtype))
        if spec[1]:
            spec[0].check_weak_ints(args)
        shapes = [op.shape for op in ops if type(op) is not _Scalar]
        shape = shapes[0] if shapes and shapes.count(shapes[0]) == len(shapes) \
            else np.broadcast_shapes(*shapes)
        # Only device arrays (no NumPy one): the result stays on the device.
        on_device = (any(type(op) is DeviceArray for op in ops)
                     and not any(isinstance(op, np.ndarray) for op in ops))
        ops = [cuda.to_device(op, device) if isinstance(op, np.ndarray) else op for op in ops]
        return types, spec, device, shape, ops, on_device

    def _walk(self, ops, shape, extra=(), order=None, split=None):
        """The arrays' layout for a launch over `shape` (its axes taken in
        `order`): (d, extents, strides of each array, the `extra` arrays'
        last); see gpu_layout.walk."""
        arrays = [op for op in ops if type(op) is DeviceArray] + list(extra)
        strides = [broadcast_strides(a.shape, a.strides, shape) for a in arrays]
        if order is not None:
            shape = tuple(shape[a] for a in order)
            strides = [tuple(s[a] for a in order) for s in strides]
        return walk(shape, strides, [a.dtype.itemsize for a in arrays], split)

    def _module(self, types, spec, device, ops, d, tail):
        """The module for `d` strided axes and the packer of its first
        kernel's parameters: the inputs', then the `tail` slots."""
        key = (types, device, d)
        found = self._modules.get(key)
        if found is None:
            slots = []
            for op in ops:
                slots += [_slot(op.dtype)] if type(op) is _Scalar else [_POINTER] + ["q"] * d
            found = self._modules[key] = (
                _load(spec[0], device, self.cache, d, self._suffixes, self._block),
                _packer(slots + tail))
        return found

    @staticmethod
    def _values(ops, strides, d):
        """The inputs' parameter values: a scalar's value, an array's pointer
        and, when strided, its strides."""
        values, arrays = [], iter(strides)
        for op in ops:
            if type(op) is _Scalar:
                values.append(op.value)
            else:
                values.append(op.ptr)
                if d:
                    values += next(arrays)
        return values


class CudaVectorized(_Elementwise, Vectorized):
    """@ember.vectorize(target="cuda"): the elementwise kernel on the GPU."""

    _native = False  # specializations are compiled for the GPU only

    def __init__(self, py_func, signatures=(), fastmath=False, *, cache=True):
        self._setup()
        super().__init__(py_func, signatures, fastmath, cache=cache)
        # Calls on ember device arrays and Python numbers, once loaded: C++.
        self._fast = _core.CudaCall(len(self._names), DeviceArray, DeviceArray._result)

    def __call__(self, *args, out=None):
        result = self._fast.call(args, out)
        if result is not NotImplemented:
            return result
        types, spec, device, shape, ops, on_device = self._prepare(args)
        kernel, _, result_dtype = spec
        result = self._output(out, shape, result_dtype, device)
        d, extents, strides = self._walk(ops, shape, [result])
        module, packer = self._module(types, spec, device, ops, d, [_POINTER] + ["q"] * (2 * d + 1))
        n = math.prod(shape)
        tail = [*strides[-1], *extents] if d else []
        module.launch(n, packer.pack(*self._values(ops, strides, d), result.ptr, *tail, n))
        if d == 0:
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
        if d.shape != shape or d.dtype != dtype or d.readonly:
            raise ValueError(f"out= on the GPU must be a writable {dtype} array of shape "
                             f"{shape}, got {'read-only ' if d.readonly else ''}{d.dtype} "
                             f"{d.shape}")
        if any(s == 0 and n > 1 for n, s in zip(d.shape, d.strides)):
            raise ValueError(f"out= repeats elements (strides {d.strides} for shape {d.shape}): "
                             "every element must have its own place")
        return d

    def __repr__(self):
        return f"<ember.vectorize(target='cuda') {self.__qualname__} {self.signatures}>"


# A GPU reduction's fixed decomposition (codegen.h, lower_gpu_reduce.cpp):
# blocks of exactly _BLOCK threads reduce tiles of up to _TILE elements of a
# segment (then of _TILE partials) into one partial of _PARTIAL_BYTES each.
_BLOCK, _TILE, _PARTIAL_BYTES = 256, 4096, 16
_MERGE, _FINISH = _packer([_POINTER, _POINTER, "q", "q", "q"]), _packer([_POINTER, _POINTER, "q"])
_BYTES = np.dtype(np.uint8)


class CudaReduced(_Elementwise, Reduced):
    """@ember.reduce(op, target="cuda"): the map and the combine on the GPU.

    The result does not depend on the launch (the decomposition into tiles,
    warps and lanes is fixed by the number of elements each result combines).
    A whole reduction comes back as a NumPy scalar, which waits for the GPU;
    over some axes, as a DeviceArray when every array argument is on the
    device, else as NumPy.
    """

    _native = False
    _suffixes, _block = ("", "_merge", "_finish"), _BLOCK

    def __init__(self, py_func, op, fastmath=False, *, cache=True, signatures=()):
        self._setup()
        super().__init__(py_func, op, fastmath, cache=cache, signatures=signatures)

    def __call__(self, *args, axis=None):
        types, spec, device, shape, ops, on_device = self._prepare(args)
        reduced = _core.Dispatcher.reduced_axes(axis, len(shape))  # NumPy's rules, as the CPU's
        kept = [a for a in range(len(shape)) if a not in reduced]
        segment = math.prod(shape[a] for a in reduced)
        results = math.prod(shape[a] for a in kept)
        if segment == 0 and self.op in ("min", "max"):
            name = "minimum" if self.op == "min" else "maximum"
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity")
        d, extents, strides = self._walk(ops, shape, order=kept + reduced, split=len(kept))
        module, packer = self._module(types, spec, device, ops, d, [_POINTER] + ["q"] * (d + 3))
        result = DeviceArray._result(tuple(shape[a] for a in kept), spec[2], device)
        if results:
            pieces = max(1, -(-segment // _TILE))
            partials = self._partials(results * pieces, device)
            module.launch(results * pieces * _BLOCK,
                          packer.pack(*self._values(ops, strides, d), partials.ptr,
                                      *(extents if d else ()), segment, pieces, results * pieces))
            while pieces > 1:
                segment, pieces = pieces, -(-pieces // _TILE)
                merged = self._partials(results * pieces, device)
                module.launch(results * pieces * _BLOCK,
                              _MERGE.pack(partials.ptr, merged.ptr, segment, pieces,
                                          results * pieces), 1)
                partials = merged
            module.launch(results, _FINISH.pack(partials.ptr, result.ptr, results), 2)
        if not kept:
            return result.to_host()[()]
        return result if on_device else result.to_host()

    @staticmethod
    def _partials(count, device):
        return DeviceArray._result((count * _PARTIAL_BYTES,), _BYTES, device)

    def __repr__(self):
        return f"<ember.reduce({self.op!r}, target='cuda') {self.__qualname__} {self.signatures}>"


class CudaKernel(Kernel):
    """@ember.kernel(target="cuda"): one GPU thread per index of the domain."""

    _native = False

    def __init__(self, py_func, boundscheck=False, fastmath=False, *, cache=True, signatures=()):
        # (arg types, domain rank, device) -> (kernel, module, packer, written parameters)
        self._loaded = {}
        super().__init__(py_func, boundscheck, fastmath, cache=cache, signatures=signatures)

    def launch(self, domain, *args):
        """Runs the kernel once per index of `domain` on the GPU. With only
        device arrays it returns at once (the work is queued); NumPy arrays
        are copied in and back, which waits for the GPU; with
        boundscheck=True it always waits, to report an IndexError."""
        cuda.require()
        extents, ops = self._operands(domain, args)
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
            loaded = self._loaded[key] = (kernel, _load(kernel, device, self.cache),
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

    def _operands(self, domain, args):
        extents = tuple(_core.read_domain(domain))
        if len(args) != len(self._names):
            raise wrong_arg_count(self.__name__, len(self._names), len(args))
        return extents, [_read(a, i) for i, a in enumerate(args)]

    def _types(self, domain, args):
        # as launch() sees them: a NumPy array becomes a C-contiguous copy on the device
        extents, ops = self._operands(domain, args)
        return [self._arg_type(np.empty(op.shape, op.dtype) if isinstance(op, np.ndarray)
                               else op, i) for i, op in enumerate(ops)], len(extents)

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
