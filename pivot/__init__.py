"""The ONNX core (IR, passes, onnxruntime) and the ground floor every layer imports: errors, file confinement."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``__version__``, read when asked: importlib.metadata costs ``tfjs-pivot --help`` ~10 ms."""
    if name != "__version__":
        raise AttributeError(f"module 'pivot' has no attribute {name!r}")
    from pivot.version import __version__

    return __version__
