"""The fake "GPU" of fake_cuda.c, seen from Python: its memory as NumPy
arrays, and the hook through which it hands every launch (entry name and
8-byte parameter slots) to `current["play"](slots, entry)`. Launches and
the problems a replay finds are collected in `report`.
"""

import ctypes
import os
import struct

import numpy as np

fake = ctypes.CDLL(os.environ["EMBER_CUDA_DRIVER"])
fake.fake_live_allocations.restype = ctypes.c_long
fake.fake_launches.restype = ctypes.c_long
fake.fake_plain_allocations.restype = ctypes.c_long
fake.fake_release_threshold.restype = ctypes.c_uint64
fake.fake_pools_created.restype = ctypes.c_long
fake.fake_pool_trims.restype = ctypes.c_long
report = {"launches": [], "problems": []}
current = {}  # what the hook plays: set before each call


def view(ptr, dtype, shape, strides=None):
    """The fake device memory at `ptr` as a NumPy array."""
    dtype = np.dtype(dtype)
    strides = strides or tuple(np.empty(shape, dtype).strides)
    steps = [(n - 1) * s for n, s in zip(shape, strides)] if all(shape) else []
    low = sum(s for s in steps if s < 0)
    span = sum(s for s in steps if s > 0) - low + dtype.itemsize if all(shape) else 0
    buffer = (ctypes.c_char * max(span, 1)).from_address(ptr + low)
    return np.ndarray(shape, dtype, buffer=buffer, offset=-low, strides=strides)


def signed(slots):
    """8-byte slots read as int64 (a negative stride)."""
    return [s - 2**64 if s >= 2**63 else s for s in slots]


def scalar(slot, dtype):
    dtype = np.dtype(dtype)
    return np.frombuffer(struct.pack("<Q", slot)[:dtype.itemsize], dtype)[0]


def play(entry, nparams, slots, grid, block):
    try:
        slots = [slots[i] for i in range(nparams)]
        report["launches"].append([entry.decode(), nparams, grid, block])
        current["play"](slots, entry.decode())
    except Exception as e:  # noqa: BLE001 - reported, the test fails on it
        report["problems"].append(f"{entry.decode()}: {type(e).__name__}: {e}")


HOOK = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint64),
                        ctypes.c_uint, ctypes.c_uint)
hook = HOOK(play)
fake.fake_set_launch_hook(hook)
