"""ember.cuda: the NVIDIA GPU as ember sees it.

The CUDA driver (libcuda.so.1, or the file $EMBER_CUDA_DRIVER names) is
loaded at the first question, never at import; without it these functions
say so instead of failing: is_available() is False and device_info() raises
ember.CudaError. PTX for a kernel needs no driver: `f.inspect("ptx")`.
"""

from . import _core

__all__ = ["is_available", "unavailable_reason", "device_count", "device_info", "default_arch"]


def is_available():
    """Whether the CUDA driver loads, initializes and sees a device."""
    return _core.cuda_available()


def unavailable_reason():
    """Why is_available() is False (the driver's own error), or "" when it is True."""
    return _core.cuda_unavailable_reason()


def device_count():
    """Number of CUDA devices; raises CudaError without a driver."""
    return _core.cuda_device_count()


def device_info(device=0):
    """A dict: name, compute_capability (major, minor), multiprocessors,
    total_memory (bytes), driver_version (major, minor). Raises CudaError."""
    if not isinstance(device, int) or isinstance(device, bool) or device < 0:
        raise ValueError(f"device must be an int >= 0, got {device!r}")
    return _core.cuda_device_info(device)


def default_arch():
    """The architecture PTX is generated for: device 0's ("sm_90" for an
    H100) when a GPU is present and LLVM knows it, else the newest LLVM's
    NVPTX backend knows."""
    from . import _jit
    if is_available():
        major, minor = device_info(0)["compute_capability"]
        if f"sm_{major}{minor}" in _jit.gpu_archs():
            return f"sm_{major}{minor}"
    return _jit.newest_gpu_arch()
