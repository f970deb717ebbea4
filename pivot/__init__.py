"""tfjs-pivot: every model through an ONNX pivot to TensorFlow.js."""

from __future__ import annotations

from pivot.version import __version__

__all__ = ["__version__"]
