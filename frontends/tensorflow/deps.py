"""Lazy imports of TensorFlow and tf2onnx: a missing extra is one clear line, never a traceback."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from types import ModuleType

from pivot.errors import MissingDependencyError

EXTRA = 'pip install "tfjs-pivot[tensorflow]"'


def _import(module: str, what: str, fmt: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(f"the {fmt} input needs {what}, which is not installed: {EXTRA}") from e


def require_tensorflow(fmt: str) -> None:
    """Fail in one line when TensorFlow is not installed, without importing it (seconds) to find out."""
    try:
        found = importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules holds None (blocked) or a module without a spec
        found = False
    if not found:
        raise MissingDependencyError(f"the {fmt} input needs TensorFlow, which is not installed: {EXTRA}")


def tensorflow(fmt: str) -> ModuleType:
    """The ``tensorflow`` module; ``fmt`` names the input format in the error."""
    # Quiet C++ start-up logs; oneDNN off so that TF's own reference outputs are reproducible run to run.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    tf = _import("tensorflow", "TensorFlow", fmt)
    tf.get_logger().setLevel(logging.ERROR)
    return tf


def tf2onnx(fmt: str) -> ModuleType:
    """The ``tf2onnx`` package with its op handlers loaded; it imports TensorFlow itself."""
    tensorflow(fmt)
    module = _import("tf2onnx", "tf2onnx", fmt)
    _import("tf2onnx.tfonnx", "tf2onnx", fmt)  # registers the op handlers
    # tf2onnx logs every unconverted op as an error; they are reported once, by the frontend.
    logging.getLogger("tf2onnx").setLevel(logging.CRITICAL)
    return module
