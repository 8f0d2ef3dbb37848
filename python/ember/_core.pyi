"""Type stub: the call path extension (pybind11); its names are typed as Any."""
from typing import Any

def __getattr__(name: str) -> Any: ...
