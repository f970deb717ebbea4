"""Emitter modules, one per op family; ``load_rules`` registers them all exactly once."""

from __future__ import annotations

import importlib

_MODULES = ("elementwise", "activation", "conv", "conv_transpose", "pool", "normalization", "image", "shape", "slicing",
            "creation", "reduce", "matmul", "evaluation", "recurrent", "loop", "scan", "if_op",
            "detection")
_loaded = False


def load_rules() -> None:
    """Import every emitter module (registration happens at import, once)."""
    global _loaded
    if _loaded:
        return
    for name in _MODULES:
        importlib.import_module(f"backends.tfjs_graph.emitters.{name}")
    _loaded = True
