"""The Keras layer lowering registry (Keras class name -> ONNX ops), shared by every Keras reader."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import onnx_ir as ir

from pivot.registry import Registry

if TYPE_CHECKING:
    from frontends.keras.lower import LowerCtx

# A rule gets the context (layer, config, builder) and the call's input values, and returns the
# layer's output values.
Lowering = Callable[["LowerCtx", list[ir.Value]], list[ir.Value]]
KERAS: Registry[Lowering] = Registry("keras")

# Layers that are refused on purpose, with the reason the user sees.
NOT_SUPPORTED: dict[str, str] = {
    "Lambda": "a Lambda layer holds Python code, which tfjs-pivot never executes; "
              "rewrite it with built-in layers",
    "TFOpLambda": "a TFOpLambda layer holds a TensorFlow op call, which tfjs-pivot never executes; "
                  "rewrite it with built-in layers",
    "Masking": "masking changes which time steps recurrent layers skip; remove the Masking layer or pad "
               "with a value the model tolerates",
    "TextVectorization": "string processing has no TensorFlow.js graph equivalent",
    "StringLookup": "string processing has no TensorFlow.js graph equivalent",
}

_RULE_MODULES = ("core", "conv", "pooling", "normalization", "reshaping", "merging", "preprocessing", "embedding",
                 "attention", "recurrent", "wrappers")
_loaded = False


def load_rules() -> Registry[Lowering]:
    """Import every rule module once (registration is explicit, never a test side effect)."""
    global _loaded
    if not _loaded:
        for module in _RULE_MODULES:
            importlib.import_module(f"frontends.keras.layers.{module}")
        _loaded = True
    return KERAS
