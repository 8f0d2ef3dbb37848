"""NumPy's protocols for calls the C++ fast path hands over (dispatcher.cpp,
`needs_protocol`): keyword arguments by name, inputs that override ufuncs
(`__array_ufunc__`: dask, pandas, xarray ...), ndarray subclasses
(`__array_wrap__`: masked arrays, np.matrix), and reductions of dask and
masked arrays. Everything ends in the fast path with plain arrays.
"""

import numpy as np

from . import _core

__all__ = ["call_map", "call_reduce", "bind"]

# The keywords of numpy.ufunc.__call__ and of a reduction (numpy.add.reduce).
MAP_KEYWORDS = ("out", "where", "dtype", "casting", "order", "subok")
REDUCE_KEYWORDS = ("axis", "out", "keepdims", "initial", "where", "dtype")
# ufunc keywords that do not apply to ember's functions, named in the error.
_UFUNC_KEYWORDS = ("signature", "axes", "axis", "keepdims", "initial")


def bind(fn, args, kwargs, options):
    """(positional arguments, {option: value} of the keywords in `options`
    that were given): keyword arguments bound to the parameters by name,
    with Python's errors."""
    names = fn._names
    bound = list(args)
    if len(bound) > len(names):
        raise TypeError(f"{fn.__name__}() takes {len(names)} arguments but "
                        f"{len(bound)} were given")
    bound += [_MISSING] * (len(names) - len(bound))
    given = {}
    for key, v in kwargs.items():
        if key in options:
            given[key] = v
        elif key in names:
            i = names.index(key)
            if bound[i] is not _MISSING:
                raise TypeError(f"{fn.__name__}() got multiple values for argument '{key}'")
            bound[i] = v
        elif key in _UFUNC_KEYWORDS or key in MAP_KEYWORDS + REDUCE_KEYWORDS:
            raise TypeError(f"{fn.__name__}() does not take the keyword '{key}=' "
                            f"(it takes {', '.join(k + '=' for k in options)})")
        else:
            raise TypeError(f"{fn.__name__}() got an unexpected keyword argument '{key}'")
    missing = [n for n, v in zip(names, bound) if v is _MISSING]
    if missing:
        raise TypeError(f"{fn.__name__}() missing {len(missing)} required argument"
                        f"{'s' if len(missing) > 1 else ''}: "
                        + ", ".join(f"'{n}'" for n in missing))
    return bound, given


_MISSING = object()


def _overrides(values):
    """The arguments whose type overrides ufuncs, in NumPy's order: left to
    right, a subclass before its superclasses."""
    found = []
    for v in values:
        method = getattr(type(v), "__array_ufunc__", None)
        if method is None or method is np.ndarray.__array_ufunc__:
            continue
        if any(type(f) is type(v) for f in found):
            continue
        at = next((i for i, f in enumerate(found) if issubclass(type(v), type(f))), len(found))
        found.insert(at, v)
    return found


def call_map(fn, args, kwargs):
    """A @vectorize call with NumPy's protocols and ufunc keywords."""
    inputs, given = bind(fn, args, kwargs, MAP_KEYWORDS)
    out = given.pop("out", None)
    outs = tuple(out) if isinstance(out, tuple) else (() if out is None else (out,))
    opted_out = [v for v in (*inputs, *outs)
                 if hasattr(type(v), "__array_ufunc__") and type(v).__array_ufunc__ is None]
    if opted_out:
        raise TypeError(f"operand '{type(opted_out[0]).__name__}' does not support ufuncs "
                        f"(__array_ufunc__=None), so {fn.__name__}() cannot take it")
    overriding = _overrides((*inputs, *outs))
    if overriding:
        extra = dict(given, **({"out": outs} if outs else {}))
        for v in overriding:
            result = type(v).__array_ufunc__(v, fn, "__call__", *inputs, **extra)
            if result is not NotImplemented:
                return result
        raise TypeError(f"operand type(s) all returned NotImplemented from __array_ufunc__("
                        f"{fn!r}, '__call__', {', '.join(type(v).__name__ for v in inputs)}): "
                        + ", ".join(f"'{type(v).__name__}'" for v in overriding))
    if len(outs) > 1:
        raise ValueError(f"{fn.__name__}() has 1 output, but out= gave {len(outs)}")
    target = outs[0] if outs else None
    if given:
        result = _map_with_keywords(fn, inputs, target, **given)
    else:
        plain = [np.asarray(v) if isinstance(v, np.ndarray) else v for v in inputs]
        result = _core.Dispatcher.__call__(fn, *plain, out=None if target is None else
                                           np.asarray(target))
    if target is not None:
        return target
    wrapper = _wrapper(inputs) if given.get("subok", True) else None
    if wrapper is None:
        return result
    scalar = not isinstance(result, np.ndarray)
    return wrapper.__array_wrap__(np.asarray(result), (fn, tuple(inputs), 0), scalar)


_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")


def _cast_error(fn, what, source, target, casting):
    return TypeError(f"Cannot cast ufunc '{fn.__name__}' {what} from {np.dtype(source)!r} to "
                     f"{np.dtype(target)!r} with casting rule '{casting}'")


def _python_number(v):
    return isinstance(v, (bool, int, float, complex)) and not isinstance(v, np.generic)


def _cast_arrays(fn, values, dtype, casting):
    """`values` with every one but Python numbers cast to `dtype`; NumPy's
    TypeError where `casting` does not allow it."""
    cast = []
    for v in values:
        if not _python_number(v):
            a = np.asarray(v)
            if not np.can_cast(a.dtype, dtype, casting):
                raise _cast_error(fn, "input", a.dtype, dtype, casting)
            v = a.astype(dtype, copy=False)
        cast.append(v)
    return cast


def _map_with_keywords(fn, inputs, target, where=True, dtype=None, casting="same_kind",
                       order="K", subok=True):
    """fn(*inputs) with numpy.ufunc's where=, dtype=, casting=, order= (and
    out= as `target`), as NumPy defines them."""
    if casting not in _CASTINGS:
        raise ValueError(f"casting must be one of {', '.join(repr(c) for c in _CASTINGS)}")
    if order not in ("K", "A", "C", "F", None):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    if dtype is not None:  # the loop's type: every input cast to it
        dtype = np.dtype(dtype)
        inputs = [np.asarray(v).astype(dtype) if _python_number(v) and (
                      casting == "unsafe" or np.can_cast(np.result_type(v, dtype), dtype, casting))
                  else v for v in _cast_arrays(fn, inputs, dtype, casting)]
    plain = [np.asarray(v) if isinstance(v, np.ndarray) else v for v in inputs]
    result = np.asarray(_core.Dispatcher.__call__(fn, *plain))
    if dtype is not None and result.dtype != dtype:
        if not np.can_cast(result.dtype, dtype, casting):
            raise _cast_error(fn, "output", result.dtype, dtype, casting)
        result = result.astype(dtype)
    shape = np.broadcast_shapes(*[np.shape(v) for v in inputs])
    if target is not None:
        target = np.asarray(target) if not isinstance(target, np.ndarray) else target
        if not np.can_cast(result.dtype, target.dtype, casting):
            raise _cast_error(fn, "output", result.dtype, target.dtype, casting)
        np.copyto(target, np.broadcast_to(result, shape), casting="unsafe", where=where)
        return target
    layout = order or "K"
    if layout == "A":
        arrays = [v for v in inputs if isinstance(v, np.ndarray) and v.ndim > 1]
        layout = "F" if arrays and all(a.flags.f_contiguous and not a.flags.c_contiguous
                                       for a in arrays) else "C"
    if where is True and layout == "K":
        return result[()] if result.ndim == 0 else result
    out = np.empty(shape, result.dtype, order="C" if layout == "K" else layout)
    np.copyto(out, result, where=where)  # elsewhere uninitialized, as NumPy leaves it
    return out[()] if out.ndim == 0 else out


def _wrapper(inputs):
    """The ndarray subclass input whose __array_wrap__ makes the result (the
    highest __array_priority__, leftmost), or None."""
    subclasses = [v for v in inputs if isinstance(v, np.ndarray) and type(v) is not np.ndarray]
    if not subclasses:
        return None
    return max(subclasses, key=lambda v: getattr(v, "__array_priority__", 0.0))


def call_reduce(fn, args, kwargs):
    """A @reduce call with NumPy's protocols: dask arrays reduce lazily,
    masked arrays without their masked elements."""
    inputs, given = bind(fn, args, kwargs, REDUCE_KEYWORDS)
    axis = given.pop("axis", None)
    if given:
        return _reduce_with_keywords(fn, inputs, axis, **given)
    if any(_is_dask(v) for v in inputs):
        return _dask_reduce(fn, inputs, axis)
    if any(isinstance(v, np.ma.MaskedArray) for v in inputs):
        if axis is not None:
            return _reduce_with_keywords(fn, inputs, axis)
        shape = np.broadcast_shapes(*[np.shape(v) for v in inputs])
        masked = np.zeros(shape, bool)
        for v in inputs:
            masked |= np.broadcast_to(np.ma.getmaskarray(v), shape) if np.ndim(v) else False
        kept = ~masked  # an element counts where no input masks it
        plain = [np.broadcast_to(np.ma.getdata(v), shape)[kept] if np.ndim(v) else v
                 for v in inputs]
        return _core.Dispatcher.__call__(fn, *plain)
    plain = [np.asarray(v) if hasattr(v, "__array__") and not isinstance(v, (int, float)) else v
             for v in inputs]
    return _core.Dispatcher.__call__(fn, *plain, axis=axis)


_NO_VALUE = object()  # initial= not given
_OP_NAMES = {"+": "add", "*": "multiply", "min": "minimum", "max": "maximum"}


def _extreme(dtype, op):
    """The value that never wins a min (its dtype's largest) or a max."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.inf if op == "min" else -np.inf
    if dtype.kind == "b":
        return op == "min"
    info = np.iinfo(dtype)
    return info.max if op == "min" else info.min


def _fold_initial(op, result, initial):
    """result combined with `initial` by the reduction's operator."""
    value = np.asarray(initial).astype(result.dtype)
    combine = {"+": np.add, "*": np.multiply, "min": np.minimum, "max": np.maximum}[op]
    return combine(result, value).astype(result.dtype)


def _reduce_with_keywords(fn, inputs, axis, out=None, keepdims=False, initial=_NO_VALUE,
                          where=True, dtype=None):
    """A reduction with numpy.add.reduce's out=, keepdims=, initial=,
    where= and dtype= (masked arrays: where= excludes their masked elements)."""
    if any(_is_dask(v) for v in inputs):
        raise TypeError(f"{fn.__name__}() on dask arrays takes axis= only")
    name = _OP_NAMES[fn.op]
    masks = [np.ma.getmaskarray(v) for v in inputs if isinstance(v, np.ma.MaskedArray)]
    plain = [np.ma.getdata(v) if isinstance(v, np.ma.MaskedArray) else v for v in inputs]
    if dtype is not None:
        plain = _cast_arrays(fn, plain, np.dtype(dtype), "same_kind")
    shape = np.broadcast_shapes(*[np.shape(v) for v in plain])
    ndim = len(shape)
    axes = tuple(range(ndim)) if axis is None else tuple(_core.Dispatcher.reduced_axes(axis, ndim))
    kept_shape = tuple(n for d, n in enumerate(shape) if d not in axes)
    keep = np.broadcast_to(np.asarray(where, bool), shape)
    for mask in masks:
        keep = keep & ~np.broadcast_to(mask, shape)
    if keep.all():
        if not all(shape[a] for a in axes) and initial is not _NO_VALUE:
            sample = [np.ones(1, np.asarray(v).dtype) if np.ndim(v) else v for v in plain]
            acc = np.asarray(fn(*sample)).dtype
            result = np.full(kept_shape, initial, acc)
        else:
            result = np.asarray(_core.Dispatcher.__call__(fn, *plain, axis=axis))
            if initial is not _NO_VALUE:
                result = _fold_initial(fn.op, result, initial)
    else:
        if fn.op in ("min", "max") and initial is _NO_VALUE and not masks:
            raise ValueError(f"reduction operation '{name}' does not have an identity, so to "
                             "use a where mask one has to specify 'initial'")
        mapped = np.asarray(fn._mapped()(*plain))
        fill = {"+": 0, "*": 1}.get(fn.op)
        if fill is None:
            fill = _extreme(mapped.dtype, fn.op) if initial is _NO_VALUE else initial
        filled = np.where(np.broadcast_to(keep, mapped.shape), mapped,
                          np.asarray(fill).astype(mapped.dtype))
        result = np.asarray(_combiner(fn.op)(filled, axis=axis))
        if initial is not _NO_VALUE and fn.op in ("+", "*"):
            result = _fold_initial(fn.op, result, initial)
    if keepdims:
        result = np.expand_dims(result, axes)
    if masks:  # NumPy's masked reductions: masked where no element was left
        empty = ~keep.any(axis=axes, keepdims=keepdims)
        result = np.ma.array(result, mask=empty)
        return result if result.ndim else (np.ma.masked if empty else result.data[()])
    if out is not None:
        if isinstance(out, tuple):
            out, = out
        if np.shape(out) != result.shape:
            raise ValueError(f"output parameter for reduction operation {name} has the wrong "
                             f"shape {np.shape(out)}; the result has {result.shape}")
        np.copyto(out, result, casting="unsafe")  # as numpy.add.reduce casts into out=
        return out
    return result[()] if result.ndim == 0 else result


def _is_dask(v):
    return type(v).__module__.startswith("dask.") and hasattr(v, "__dask_graph__")


# Reductions with the identity map, one per operator, that combine the
# partial results of dask chunks (made at the first use).
_combiners = {}


def _identity(x):
    return x


def _combiner(op):
    if op not in _combiners:
        from .reduce import reduce
        _combiners[op] = reduce(op)(_identity)
    return _combiners[op]


def _dask_reduce(fn, inputs, axis):
    """The lazy dask reduction: each block of the broadcast inputs reduced by
    `fn` over the reduced axes (kept as length 1), then the blocks' results
    combined with the same operator."""
    import dask.array as da
    arrays = da.broadcast_arrays(*[v for v in inputs if np.ndim(v)])
    ndim = arrays[0].ndim
    axes = tuple(range(ndim)) if axis is None else _core.Dispatcher.reduced_axes(axis, ndim)
    axes = tuple(sorted(a % ndim for a in axes)) if ndim else ()
    slots = [i for i, v in enumerate(inputs) if np.ndim(v)]
    sample = [np.ones(1, v.dtype) if np.ndim(v) else v for v in inputs]
    dtype = np.asarray(fn(*sample)).dtype

    def chunk(*blocks):
        values = list(inputs)
        for i, b in zip(slots, blocks):
            values[i] = b
        return np.expand_dims(np.asarray(fn(*values, axis=axes)), axes)

    chunks = tuple((1,) * len(c) if d in axes else c for d, c in enumerate(arrays[0].chunks))
    partial = da.map_blocks(chunk, *arrays, chunks=chunks, dtype=dtype)
    combine = _combiner(fn.op)
    whole = partial.rechunk({a: -1 for a in axes})
    result = whole.map_blocks(lambda b: np.asarray(combine(b, axis=axes)), drop_axis=axes,
                              dtype=dtype)
    return result


# --- ufunc methods (numpy.ufunc.reduce, accumulate, outer, at) ------------------------
#
# A user function is not known to be associative: as for NumPy's ufuncs that
# are not reorderable, reduce and accumulate fold left to right along one axis.

def _binary(fn, method):
    if fn.nin != 2:
        raise ValueError(f"{method} only supported for binary functions")


def _one_axis(fn, ndim, axis):
    if axis is None:
        if ndim > 1:
            raise ValueError(f"reduction operation '{fn.__name__}' is not reorderable, so at "
                             "most one axis may be specified")
        return 0
    if isinstance(axis, tuple):
        if len(axis) > 1:
            raise ValueError(f"reduction operation '{fn.__name__}' is not reorderable, so at "
                             "most one axis may be specified")
        axis = axis[0] if axis else 0
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"'{type(axis).__name__}' object cannot be interpreted as an integer")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim)
    return int(axis) % ndim


def _loop_dtype(fn, dtype):
    empty = np.empty(0, dtype)
    return np.asarray(fn(empty, empty)).dtype


def _along(fn, array, axis, method, dtype=None):
    """(the array, the axis, the array with that axis first) of a fold."""
    _binary(fn, method)
    a = np.asarray(array)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if a.ndim == 0:
        raise TypeError(f"cannot {method} a scalar with {fn.__name__}.{method}")
    ax = _one_axis(fn, a.ndim, axis)
    return a, ax, np.moveaxis(a, ax, 0)


def _into(out, result, method, fn):
    """`result`, or `out` holding it (numpy.ufunc's out=: one array, or a 1-tuple)."""
    if out is None:
        return result[()] if result.ndim == 0 else result
    if isinstance(out, tuple):
        out, = out
    if np.shape(out) != result.shape:
        raise ValueError(f"output parameter for {method} of {fn.__name__} has the wrong shape "
                         f"{np.shape(out)}; the result has {result.shape}")
    np.copyto(out, result, casting="unsafe")
    return out


def _fold_kernel(fn, loop, item):
    """The compiled map f(acc: loop, item) -> loop that runs a fold, or None
    (then the fold calls fn once per row)."""
    try:
        kernel = fn.specialize([(loop.name, False, False), (item.name, False, False)])
    except (TypeError, ValueError):
        return None
    return kernel if np.dtype(kernel.output_dtype) == loop else None


def _rows(moved):
    """`moved` (the fold's axis first) as n contiguous rows of m items."""
    n = moved.shape[0]
    return np.ascontiguousarray(moved).reshape(n, -1) if n else moved.reshape(0, -1)


def ufunc_reduce(fn, array, axis=0, dtype=None, out=None, keepdims=False, initial=_NO_VALUE,
                 where=True):
    """numpy.ufunc.reduce: a left fold of `fn` along `axis`."""
    a, ax, moved = _along(fn, array, axis, "reduce", dtype)
    loop = _loop_dtype(fn, a.dtype)
    masked = where is not True
    if masked and initial is _NO_VALUE:
        raise ValueError(f"reduction operation '{fn.__name__}' does not have an identity, so to "
                         "use a where mask one has to specify 'initial'")
    keep = np.moveaxis(np.broadcast_to(np.asarray(where, bool), a.shape), ax, 0) if masked else None
    kernel = None if masked else _fold_kernel(fn, loop, a.dtype)
    if kernel is not None and (moved.shape[0] or initial is not _NO_VALUE):
        items = _rows(moved)
        if initial is not _NO_VALUE:
            acc, first = np.full(items.shape[1], initial, loop), 0
        else:
            acc, first = items[0].astype(loop), 1
        _core.fold(kernel, items, acc, items.shape[0], items.shape[1], first, False)
        result = acc.reshape(moved.shape[1:])
        if keepdims:
            result = np.expand_dims(result, ax)
        return _into(out, result, "reduce", fn)
    if initial is not _NO_VALUE:
        result = np.full(moved.shape[1:], initial, loop)
        rest = enumerate(moved)
    elif moved.shape[0] == 0:
        raise ValueError(f"zero-size array to reduction operation {fn.__name__} which has no "
                         "identity")
    else:
        result, rest = moved[0].astype(loop), enumerate(moved[1:], 1)
    for i, item in rest:
        folded = np.asarray(fn(result, item), loop)
        result = np.where(keep[i], folded, result) if masked else folded
    if keepdims:
        result = np.expand_dims(result, ax)
    return _into(out, np.asarray(result), "reduce", fn)


def ufunc_accumulate(fn, array, axis=0, dtype=None, out=None):
    """numpy.ufunc.accumulate: every partial left fold of `fn` along `axis`."""
    a, ax, moved = _along(fn, array, axis, "accumulate", dtype)
    loop = _loop_dtype(fn, a.dtype)
    folds = np.empty(moved.shape, loop)
    kernel = _fold_kernel(fn, loop, a.dtype)
    if kernel is not None and moved.shape[0]:
        items = _rows(moved)
        rows = folds.reshape(items.shape)
        rows[0] = items[0]
        _core.fold(kernel, items, rows, items.shape[0], items.shape[1], 1, True)
    else:
        for i, item in enumerate(moved):
            folds[i] = item if i == 0 else fn(folds[i - 1], item)
    return _into(out, np.moveaxis(folds, 0, ax), "accumulate", fn)


def ufunc_outer(fn, a, b):
    """numpy.ufunc.outer: fn(a[i..., None...], b[...]) of shape a.shape + b.shape."""
    _binary(fn, "outer")
    a, b = np.asarray(a), np.asarray(b)
    return fn(a.reshape(a.shape + (1,) * b.ndim), b)


def ufunc_at(fn, a, indices, b=None):
    """numpy.ufunc.at: a[indices] = fn(a[indices], b), unbuffered (a repeated
    index is applied once per occurrence, in order)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn.__name__}.at needs an ndarray to modify in place")
    if (b is None) != (fn.nin == 1):
        raise ValueError(f"{fn.__name__}.at takes {'no' if fn.nin == 1 else 'one'} second "
                         "operand")
    keys = indices if isinstance(indices, tuple) else (indices,)
    keys = np.broadcast_arrays(*[np.asarray(k) for k in keys])
    points = list(zip(*[k.ravel() for k in keys])) if keys[0].ndim else [tuple(k[()] for k in keys)]
    values = None if b is None else np.broadcast_to(b, (len(points),) + a[points[0]].shape) \
        if points else None
    for n, point in enumerate(points):
        args = (a[point],) if values is None else (a[point], values[n])
        a[point] = fn(*args)
