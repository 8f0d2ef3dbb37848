"""How a GPU launch of @vectorize or @reduce walks its arrays (codegen.h,
CUDA). When every array is C-contiguous in the order of the elements the
kernel takes bare pointers (the contiguous entry, Layout::strided = 0);
otherwise each array comes with byte strides over as few axes as possible:
axes of length 1 are dropped and neighbours that every array steps through
as one axis are merged, so a broadcast row, a transposed matrix or a slice
costs one or two index divisions per element, not one per NumPy axis.
"""

import functools

__all__ = ["broadcast_strides", "contiguous_strides", "walk"]


@functools.lru_cache(maxsize=1024)  # on every call that makes a result
def contiguous_strides(shape, itemsize):
    """The byte strides of a C-contiguous array of `shape` (a tuple)."""
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def broadcast_strides(shape, strides, target):
    """The byte strides of an array of `shape` seen in the broadcast shape
    `target`: 0 along the axes it repeats."""
    lead = len(target) - len(shape)
    return (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(shape, strides))


def walk(extents, strides, itemsizes, split=None):
    """(d, extents, strides): how to launch over `extents` with arrays whose
    byte strides are strides[i] (one per axis) and element sizes
    itemsizes[i]. d = 0 when every array is C-contiguous over the extents
    (nothing else is needed); otherwise d axes of the strided entry, with
    their extents and each array's strides. An axis before `split` is never
    merged with one after it (a reduction's kept and reduced axes)."""
    if 0 in extents:  # nothing is read
        return 0, (), [() for _ in strides]
    split = len(extents) if split is None else split
    merged = []  # [after split, extent, strides of each array]
    for a, n in enumerate(extents):
        if n == 1:
            continue
        column = [s[a] for s in strides]
        last = merged[-1] if merged else None
        if last and last[0] == (a >= split) and all(
                outer == n * inner for outer, inner in zip(last[2], column)):
            last[1] *= n
            last[2] = column
        else:
            merged.append([a >= split, n, column])
    extents = tuple(n for _, n, _ in merged)
    strides = [tuple(m[2][i] for m in merged) for i in range(len(strides))]
    if all(s == contiguous_strides(extents, size) for s, size in zip(strides, itemsizes)):
        return 0, extents, strides
    return len(extents), extents, strides
