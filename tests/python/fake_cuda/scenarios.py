"""Runs ember's GPU call paths against the fake driver (fake_cuda.c) and
prints a JSON report. The fake "GPU" plays each launch through a hook:
it decodes the parameter slots by the ABI of codegen.h ("CUDA") and runs the
CPU version of the same function on the fake device memory, so a wrong
pointer, count, scalar value, stride or copy shows as a wrong result.
Run by test_cuda_launch.py in a fresh interpreter ($EMBER_CUDA_DRIVER set).
"""

import json
import sys

import numpy as np
from replay import current, fake, report, scalar, signed, view

import ember


def is_scalar(arg):
    return isinstance(arg, (bool, int, float, np.generic)) or \
        (isinstance(arg, np.ndarray) and arg.ndim == 0)


def read_inputs(slots, args, d, extents, n):
    """A map's inputs from a launch's first slots: scalars (checked against
    the arguments), arrays as views of the fake memory (over the extents
    with their strides when d > 0, else n contiguous elements); and the
    index of the next slot."""
    inputs, k = [], 0
    for arg in args:
        if is_scalar(arg):
            dtype = ({bool: "bool", int: "int64", float: "float64"}.get(type(arg))
                     or np.asarray(arg).dtype)
            if scalar(slots[k], dtype) != arg:
                report["problems"].append(f"scalar {arg!r} arrived as {scalar(slots[k], dtype)!r}")
            inputs.append(arg)
            k += 1
        else:
            d_arg = ember.cuda.as_device_array(arg)
            dtype = d_arg.dtype if d_arg is not None else np.asarray(arg).dtype
            inputs.append(array_view(slots, k, dtype, d, extents, n))
            k += 1 + d
    return inputs, k


def array_view(slots, k, dtype, d, extents, n):
    if d:
        return view(slots[k], dtype, tuple(extents), tuple(signed(slots[k + 1:k + 1 + d])))
    return view(slots[k], dtype, (n,))


def strided_axes(slots, args, pointers, strided, trailing):
    """d of a launch, from its slot count: a slot per scalar argument and per
    pointer, d more per strided array, d extents, `trailing` slots."""
    scalars = sum(is_scalar(a) for a in args)
    d, rest = divmod(len(slots) - scalars - pointers - trailing, strided + 1)
    if rest:
        report["problems"].append(f"{len(slots)} parameters for {args}")
    return d


def play_elementwise(cpu, args):
    """A @vectorize launch: (value | pointer [, strides])..., out [, strides],
    [extents], n (codegen.h)."""
    def run(slots, entry):
        arrays = sum(not is_scalar(a) for a in args) + 1  # the output's too
        d = strided_axes(slots, args, arrays, arrays, 1)
        n, extents = slots[-1], slots[len(slots) - 1 - d:len(slots) - 1]
        current.setdefault("strided", []).append(d)
        inputs, k = read_inputs(slots, args, d, extents, n)
        expected = cpu(*inputs)
        out = array_view(slots, k, np.asarray(expected).dtype, d, extents, n)
        out[...] = expected
    return run


def host(a):
    d = ember.cuda.as_device_array(a)
    return d.to_host() if d is not None else a


def check(name, got, expected):
    """`got` (NumPy, a NumPy scalar or a DeviceArray) equals `expected`, dtype included."""
    value = np.asarray(host(got))
    same_kind = isinstance(got, ember.cuda.DeviceArray) or type(got) is type(expected)
    if not (same_kind and value.dtype == np.asarray(expected).dtype and
            np.array_equal(value, np.asarray(expected), equal_nan=True)):
        report["problems"].append(f"{name}: got {type(got).__name__} {value.dtype} "
                                  f"{value.ravel()[:4]}..., expected {type(expected).__name__} "
                                  f"{np.asarray(expected).dtype} {np.ravel(expected)[:4]}...")


def vectorize_cases():
    def triad(x, y):
        return x + 3.0 * y

    def mix(a, b, c):
        return (a * b) // (c + 1) if a > b else a - b

    def flag(x, y):
        return x < y

    gpu_triad, cpu_triad = ember.vectorize(target="cuda")(triad), ember.vectorize(triad)
    gpu_mix, cpu_mix = ember.vectorize(target="cuda")(mix), ember.vectorize(mix)
    gpu_flag, cpu_flag = ember.vectorize(target="cuda")(flag), ember.vectorize(flag)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000)
    y32 = rng.standard_normal(1000).astype(np.float32)
    cases = [
        ("triad f64", gpu_triad, cpu_triad, (x, x[::-1].copy())),
        ("triad f32 weak", gpu_triad, cpu_triad, (y32, 2.5)),
        ("triad broadcast", gpu_triad, cpu_triad, (x[:6].reshape(3, 2), x[:2])),
        ("triad numpy scalar", gpu_triad, cpu_triad, (np.float32(1.5), y32)),
        ("triad 0-d", gpu_triad, cpu_triad, (np.float64(2.0), 3.0)),
        ("mix int32", gpu_mix, cpu_mix, (np.arange(-50, 50, dtype=np.int32),
                                         np.arange(100, dtype=np.int32)[::-1].copy(), 7)),
        ("mix uint8 weak", gpu_mix, cpu_mix, (np.arange(200, dtype=np.uint8), 100,
                                              np.uint8(3))),
        ("mix int64 big weak", gpu_mix, cpu_mix, (np.arange(10), 2**40, -3)),
        ("flag bool out", gpu_flag, cpu_flag, (x, 0.0)),
        ("triad empty", gpu_triad, cpu_triad, (np.zeros(0), np.zeros(0))),
    ]
    for name, gpu, cpu, args in cases:
        current["play"] = play_elementwise(cpu, args)
        check(name, gpu(*args), cpu(*args))
        dev = [ember.cuda.to_device(a) if isinstance(a, np.ndarray) and a.ndim else a
               for a in args]
        if any(isinstance(a, ember.cuda.DeviceArray) for a in dev) and \
                all(not isinstance(a, np.ndarray) for a in dev):
            shapes = [a.shape for a in dev if isinstance(a, ember.cuda.DeviceArray)]
            if all(s == shapes[0] for s in shapes):
                current["play"] = play_elementwise(cpu, dev)
                got = gpu(*dev)
                if not isinstance(got, ember.cuda.DeviceArray):
                    report["problems"].append(f"{name}: device inputs gave {type(got)}")
                check(name + " on device", got, cpu(*args))
                check(name + " on device again", gpu(*dev), cpu(*args))  # C++'s CudaCall
    strided_cases(gpu_triad, cpu_triad, x)
    report["signatures"] = gpu_mix.signatures
    report["fast_paths"] = [len(gpu_triad._fast), len(gpu_mix._fast), len(gpu_flag._fast)]
    # out=: a device array in place, a NumPy array filled.
    current["play"] = play_elementwise(cpu_triad, (x, x))
    out = ember.cuda.empty(1000)
    check("out device", gpu_triad(x, x, out=out), cpu_triad(x, x))
    report["out_is_same"] = gpu_triad(x, x, out=out) is out
    dx = ember.cuda.to_device(x)
    current["play"] = play_elementwise(cpu_triad, (dx, dx))
    for _ in range(2):  # the Python path, then CudaCall's
        out = ember.cuda.zeros(1000)
        report["fast_out_is_same"] = gpu_triad(dx, dx, out=out) is out
        check("out device fast", out, cpu_triad(x, x))
    host_out = np.zeros(1000)
    report["host_out_is_same"] = gpu_triad(x, x, out=host_out) is host_out
    check("out host", host_out, cpu_triad(x, x))
    # A NumPy argument beside a device array: the result comes back as NumPy.
    current["play"] = play_elementwise(cpu_triad, (dx, x))
    mixed = gpu_triad(dx, x)
    report["mixed_is_numpy"] = type(mixed) is np.ndarray
    check("mixed device and NumPy", mixed, cpu_triad(x, x))
    report["errors"] = errors(gpu_triad, gpu_mix, cpu_mix)


def device_view(base, shape, strides, offset=0):
    """A strided view of a device array, as CuPy or PyTorch would hand it."""
    return ember.cuda.DeviceArray(shape, base.dtype, base.device, _ptr=base.ptr + offset,
                                  _owner=base, _strides=strides)


def strided_cases(gpu_triad, cpu_triad, x):
    """Device views with strides, broadcasts and a strided out=: the strided
    entry (codegen.h), over as few axes as the layouts allow."""
    m = x[:24].reshape(4, 6)
    dm = ember.cuda.to_device(m)
    t = device_view(dm, (6, 4), (8, 48))             # dm.T
    rev = device_view(dm, (6,), (-8,), 8 * 23)       # the last row, reversed
    cols = device_view(dm, (4, 3), (48, 16))         # every other column
    row = ember.cuda.to_device(x[:6])
    x3 = x[:24].reshape(2, 3, 4)
    cases = [  # (name, arguments, the same on the host)
        ("transposed", (t, 1.5), (m.T, 1.5)),
        ("reversed", (rev, row), (m[3, ::-1], x[:6])),
        ("every other column", (cols, cols), (m[:, ::2], m[:, ::2])),
        ("device row broadcast", (dm, row), (m, x[:6])),
        ("device column broadcast", (dm, ember.cuda.to_device(x[:4].reshape(4, 1))),
         (m, x[:4].reshape(4, 1))),
        ("numpy broadcast 3-d", (x3, x[:4]), (x3, x[:4])),
        ("numpy column", (x3[:, :, :1], x3), (x3[:, :, :1], x3)),
    ]
    report["strided"] = {}
    for name, args, host_args in cases:
        current["play"] = play_elementwise(cpu_triad, args)
        current["strided"] = []
        check(name, gpu_triad(*args), cpu_triad(*host_args))
        report["strided"][name] = current.pop("strided")
    # A strided out=: every other column of a device array.
    wide = ember.cuda.zeros((4, 6))
    out = device_view(wide, (4, 3), (48, 16))
    current["play"] = play_elementwise(cpu_triad, (m[:, ::2], 2.0))
    got = gpu_triad(m[:, ::2], 2.0, out=out)
    expected = np.zeros((4, 6))
    expected[:, ::2] = cpu_triad(m[:, ::2], 2.0)
    check("strided out", wide, expected)
    report["strided_out_is_same"] = got is out
    check("strided to_host", out, expected[:, ::2])


def errors(gpu_triad, gpu_mix, cpu_mix):
    out = {}

    def catch(name, fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
            out[name] = None
        except Exception as e:  # noqa: BLE001
            out[name] = [type(e).__name__, str(e)]

    u8 = np.arange(5, dtype=np.uint8)
    catch("overflow gpu", gpu_mix, u8, 300, 1)
    catch("overflow cpu", cpu_mix, u8, 300, 1)
    current["play"] = lambda slots, entry: None  # values are not checked here
    d8 = ember.cuda.to_device(u8)
    gpu_mix(d8, 100, 1)  # loads the specialization: the next call takes CudaCall's path
    catch("overflow fast", gpu_mix, d8, 300, 1)
    catch("nargs", gpu_triad, np.ones(2))
    d = ember.cuda.to_device(np.ones((4, 4)))
    catch("repeating out", gpu_triad, d, 1.0, out=device_view(d, (4, 4), (0, 8)))
    catch("device shape", gpu_triad, d, np.ones(3))
    catch("out shape", gpu_triad, np.ones(3), np.ones(3), out=ember.cuda.empty(4))
    d3 = ember.cuda.to_device(np.ones(3))
    gpu_triad(d3, d3)
    catch("out shape fast", gpu_triad, d3, d3, out=ember.cuda.empty(4))
    elsewhere = ember.cuda.to_device(np.ones(3))
    elsewhere.device = 1  # as if on a second GPU
    catch("two devices", gpu_triad, d3, elsewhere)
    catch("out dtype", gpu_triad, np.ones(3), np.ones(3), out=ember.cuda.empty(3, np.float32))
    catch("bad arg", gpu_triad, "text", 1.0)
    catch("bad dtype", gpu_triad, np.ones(3, np.complex128), 1.0)
    catch("target", ember.vectorize, target="tpu")
    return out


def play_kernel(cpu, args, extents):
    """A @kernel launch: (value | pointer, shape..., strides...)..., extents..., error*."""
    def run(slots, entry):
        values, k = [], 0
        for arg in args:
            d = ember.cuda.as_device_array(arg)
            if d is None and isinstance(arg, np.ndarray) and arg.ndim:
                d = arg  # copied by the call: same dtype and shape, C order
            if d is None:
                values.append(arg)
                k += 1
                continue
            n = d.ndim
            shape, strides = slots[k + 1:k + 1 + n], slots[k + 1 + n:k + 1 + 2 * n]
            if tuple(shape) != tuple(d.shape):
                report["problems"].append(f"shape {shape} for {d.shape}")
            values.append(view(slots[k], d.dtype, tuple(shape),
                               tuple(s * d.dtype.itemsize for s in strides)))
            k += 1 + 2 * n
        got_extents = slots[k:k + len(extents)]
        if list(got_extents) != list(extents):
            report["problems"].append(f"extents {got_extents} for {extents}")
        if current.get("fail"):
            error = view(slots[k + len(extents)], np.int64, (5,))
            error[:] = current["fail"]
            return
        cpu[tuple(extents)](*values)
    return run


def kernel_cases():
    def blur(out, img, w):
        i, j = ember.tid()
        s = img[i, j] * w
        if j > 0:
            s += img[i, j - 1]
        out[i, j] = s

    def hist(counts, x):
        i = ember.tid()
        ember.atomic_add(counts, int(x[i]) % 8, 1)

    gpu_blur, cpu_blur = ember.kernel(target="cuda")(blur), ember.kernel(blur)
    gpu_hist, cpu_hist = ember.kernel(target="cuda")(hist), ember.kernel(hist)
    img = np.arange(30, dtype=np.float32).reshape(5, 6)
    expected = np.zeros_like(img)
    cpu_blur[img.shape](expected, img, 2.0)
    # NumPy in: copied in and back.
    out = np.zeros_like(img)
    current["play"] = play_kernel(cpu_blur, (out, img, 2.0), img.shape)
    gpu_blur[img.shape](out, img, 2.0)
    check("blur numpy", out, expected)
    # A transposed (strided) NumPy output and device arrays in place.
    out_t = np.zeros((6, 5), np.float32).T
    current["play"] = play_kernel(cpu_blur, (out_t, img, 2.0), img.shape)
    gpu_blur.launch(img.shape, out_t, img, 2.0)
    check("blur strided numpy", out_t, expected)
    d_out, d_img = ember.cuda.zeros(img.shape, np.float32), ember.cuda.to_device(img)
    current["play"] = play_kernel(cpu_blur, (d_out, d_img, 2.0), img.shape)
    gpu_blur[img.shape](d_out, d_img, 2.0)
    check("blur device", d_out, expected)
    # A strided device view: every other column of a wider device array.
    wide = ember.cuda.zeros((5, 12), np.float32)
    cols = ember.cuda.DeviceArray((5, 6), np.float32, _ptr=wide.ptr, _owner=wide,
                                  _strides=(48, 8))
    current["play"] = play_kernel(cpu_blur, (cols, d_img, 2.0), img.shape)
    gpu_blur[img.shape](cols, d_img, 2.0)
    check("blur strided device", wide.to_host()[:, ::2], expected)
    x = np.arange(100, dtype=np.float64)
    counts, expected_counts = np.zeros(8, np.int64), np.zeros(8, np.int64)
    cpu_hist[100](expected_counts, x)
    current["play"] = play_kernel(cpu_hist, (counts, x), (100,))
    gpu_hist[100](counts, x)
    check("hist", counts, expected_counts)
    report["kernel_signatures"] = gpu_blur.signatures
    out = {}
    try:
        ro = np.zeros_like(img)
        ro.flags.writeable = False
        gpu_blur[img.shape](ro, img, 2.0)
    except ValueError as e:
        out["readonly"] = str(e)
    checked = ember.kernel(target="cuda", boundscheck=True)(blur)
    target = np.zeros_like(img)
    current["play"] = play_kernel(None, (target, img, 2.0), img.shape)
    current["fail"] = [1, 1, 1, 9, blur.__code__.co_firstlineno + 4]
    try:
        checked[img.shape](target, img, 2.0)
    except IndexError as e:
        out["index"] = str(e)
    current.pop("fail")
    try:
        cpu_checked = ember.kernel(boundscheck=True)(blur)
        cpu_checked[(5, 6)](np.zeros_like(img), img[:, :4].copy(), 2.0)
    except IndexError as e:
        out["cpu_index"] = str(e)
    report["kernel_errors"] = out


def memory_cases():
    out = {}
    for dtype in ["bool", "int8", "uint16", "int32", "uint64", "float32", "float64"]:
        a = (np.arange(24) % 3).astype(dtype).reshape(2, 3, 4)
        d = ember.cuda.to_device(a)
        out[dtype] = [d.to_host().tolist() == a.tolist(), d.shape == a.shape,
                      d.__cuda_array_interface__["typestr"] == a.dtype.str,
                      ember.cuda.as_device_array(d) is d]
    z = ember.cuda.zeros((3, 0))
    out["empty"] = [z.size, z.to_host().shape, z.__cuda_array_interface__["data"][0]]
    d = ember.cuda.to_device(np.arange(6.0).reshape(2, 3))
    owner, ptr, shape, strides, code, bits, device = ember._core.dlpack_import(d.__dlpack__())
    out["dlpack_export"] = [ptr == d.ptr, list(shape), list(strides), code, bits, device]
    del owner

    class Foreign:  # another library's array, through each protocol
        def __init__(self, cai=None, capsule=None):
            if cai:
                self.__cuda_array_interface__ = cai
            self.capsule = capsule

        def __dlpack__(self, stream=None):
            return self.capsule

        def __dlpack_device__(self):
            return (2, 0)

    f = ember.cuda.as_device_array(Foreign(cai=d.__cuda_array_interface__))
    out["cai_import"] = [f.ptr == d.ptr, f.shape, str(f.dtype), f.to_host().tolist()]
    g = ember.cuda.as_device_array(Foreign(capsule=d.__dlpack__()))
    out["dlpack_import"] = [g.ptr == d.ptr, g.shape, str(g.dtype), g.to_host().tolist()]
    del f, g, d
    try:
        ember.cuda.empty(2**31, np.uint8)
    except MemoryError as e:
        out["oom"] = [type(e).__name__, isinstance(e, ember.CudaError), e.name, str(e)]
    report["memory"] = out


def play_reduce(map_fn, op, args, result_dtype):
    """A @reduce launch (codegen.h): segments of mapped elements cut in tiles
    of up to 4096, each into a partial (here: a float64 in each 16-byte
    partial's first bytes); each segment's partials reduced the same way;
    the finish writes one result per segment."""
    ufunc = {"+": np.add, "*": np.multiply, "min": np.minimum, "max": np.maximum}[op]
    tile = 4096

    def partials(ptr, index, count=1):
        return view(ptr + 16 * index, np.float64, (count,), (16,))

    def fold(values):
        return ufunc.reduce(values) if values.size else ufunc.identity

    def tiles_of(values, out, segment, pieces, tiles):
        for t in range(tiles):
            first = (t // pieces) * segment + (t % pieces) * tile
            end = min((t // pieces + 1) * segment, first + tile)
            partials(out, t)[0] = fold(values[first:end])

    def run(slots, entry):
        if entry.endswith("_merge"):
            src, dst, segment, pieces, tiles = slots
            m = tiles // pieces * segment
            tiles_of(partials(src, 0, m), dst, segment, pieces, tiles)
        elif entry.endswith("_finish"):
            src, dst, m = slots
            view(dst, result_dtype, (m,))[:] = partials(src, 0, m)
        else:
            arrays = sum(not is_scalar(a) for a in args)
            d = strided_axes(slots, args, arrays + 1, arrays, 3)
            segment, pieces, tiles = slots[-3:]
            extents = slots[len(slots) - 3 - d:len(slots) - 3]
            n = tiles // pieces * segment
            inputs, _ = read_inputs(slots, args, d, extents, n)
            mapped = np.asarray(map_fn(*inputs)).astype(np.float64).ravel() if n \
                else np.zeros(0)
            current.setdefault("tiles", []).append([n, tiles])
            current.setdefault("strided", []).append(d)
            tiles_of(mapped, slots[len(slots) - 4 - d], segment, pieces, tiles)
    return run


def axis_cases(dot, out):
    """Reductions over some axes: kept axes first, one segment per result,
    in the contiguous entry when the reduced axes are the last of C-contiguous
    arrays, else strided; device arguments give a DeviceArray."""
    rng = np.random.default_rng(3)
    x3 = rng.integers(-3, 4, (3, 5, 4)).astype(np.float64)
    big = rng.integers(-3, 4, (2, 9000)).astype(np.float32)
    dx3 = ember.cuda.to_device(x3)
    cases = [  # (name, op, arguments, axis, the same on the host)
        ("last", "+", (x3, x3), -1, None),
        ("first", "+", (x3, 2.0), 0, None),
        ("outer two", "max", (x3, x3[0]), (0, 2), None),
        ("all as tuple", "+", (x3, x3), (0, 1, 2), None),
        ("long rows", "+", (big, big), 1, None),  # 3 pieces per segment, merged
        ("device", "min", (dx3, ember.cuda.to_device(x3[:, :1])), 1, (x3, x3[:, :1])),
        ("empty axis", "+", (np.zeros((3, 0)), 1.0), 1, None),
        ("no results", "*", (np.zeros((0, 3)), 1.0), 1, None),
    ]
    for name, op, args, axis, host_args in cases:
        gpu, cpu = ember.reduce(op, target="cuda")(dot), ember.reduce(op)(dot)
        expected = cpu(*(host_args or args), axis=axis)
        current["play"] = play_reduce(lambda a, b: a * b, op, args, expected.dtype)
        current["strided"] = []
        got = gpu(*args, axis=axis)
        if name == "device" and not isinstance(got, ember.cuda.DeviceArray):
            report["problems"].append(f"axis {name}: device inputs gave {type(got)}")
        check(f"axis {name}", got, expected)
        out[f"axis {name}"] = current.pop("strided", [])
    for name, axis in [("bad axis", 3), ("repeated axis", (0, 0)), ("bool axis", True),
                       ("bool in tuple", (0, False)), ("float axis", 1.5)]:
        for target in ("cuda", "cpu"):  # the same rules and errors
            try:
                ember.reduce("+", target=target)(dot)(x3, 1.0, axis=axis)
            except Exception as e:  # noqa: BLE001
                out[f"{name} {target}"] = [type(e).__name__, str(e)]


def reduce_cases():
    def dot(x, y):
        return x * y

    rng = np.random.default_rng(2)
    out = {}
    for op, n, dtype, y in [("+", 5000, np.float64, None), ("+", 100_000, np.float64, None),
                            ("max", 70_000, np.int32, None), ("+", 0, np.float64, None),
                            ("*", 40, np.int64, None), ("+", 4096 * 4096 + 1, np.int8, 2)]:
        x = rng.integers(-3, 4, n).astype(dtype)
        if y is None:
            y = rng.integers(-3, 4, n).astype(dtype)
        gpu, cpu = ember.reduce(op, target="cuda")(dot), ember.reduce(op)(dot)
        expected = cpu(x, y)
        current["play"] = play_reduce(lambda a, b: a * b, op, (x, y), expected.dtype)
        before = len(report["launches"])
        check(f"reduce {op} {n}", gpu(x, y), expected)
        out[f"{op} {n}"] = [e for e, *_ in report["launches"][before:]]
    try:
        ember.reduce("min", target="cuda")(dot)(np.zeros(0), np.zeros(0))
    except ValueError as e:
        out["empty min"] = str(e)
    out["tiles"] = current.pop("tiles")
    axis_cases(dot, out)
    out["axis tiles"] = current.get("tiles")
    report["reduce"] = out


vectorize_cases()
reduce_cases()
kernel_cases()
memory_cases()
import gc  # noqa: E402
gc.collect()
report["live_allocations"] = fake.fake_live_allocations()
report["launch_count"] = fake.fake_launches()
report["plain_allocations"] = fake.fake_plain_allocations()
report["release_threshold"] = fake.fake_release_threshold()
report["pools_created"] = fake.fake_pools_created()
report["pool_trims"] = fake.fake_pool_trims()
print(json.dumps(report))
sys.stdout.flush()
