"""Type stub: the compile path extension (pybind11, LLVM); its names are typed as Any."""
from typing import Any

def __getattr__(name: str) -> Any: ...
