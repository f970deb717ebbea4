"""The application: Python API, CLI, checks; the only package that sees frontends and backends together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivot.version import __version__
    from tfjs_pivot.convert import ConvertOptions, ConvertResult, convert, convert_model
    from tfjs_pivot.jax_api import convert_jax

__all__ = ["ConvertOptions", "ConvertResult", "__version__", "convert", "convert_jax", "convert_model"]

# Lazy: ``tfjs-pivot --version`` and ``--help`` must not import the frontends, backends or frameworks (nor
# importlib.metadata for ``--help``).
_LAZY = {"__version__": "pivot.version", "convert": "tfjs_pivot.convert", "convert_model": "tfjs_pivot.convert",
         "ConvertOptions": "tfjs_pivot.convert", "ConvertResult": "tfjs_pivot.convert",
         "convert_jax": "tfjs_pivot.jax_api"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tfjs_pivot' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
