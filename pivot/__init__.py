"""The ONNX core (IR, passes, onnxruntime) and the ground floor every layer imports: errors, file confinement."""

from __future__ import annotations

from pivot.version import __version__

__all__ = ["__version__"]
