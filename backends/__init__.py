"""Output formats by name."""

from __future__ import annotations

from backends.base import Backend, BackendOptions, WriteResult
from backends.onnx_out import OnnxBackend
from backends.tfjs_graph import GraphModelBackend
from pivot.errors import InputError

__all__ = ["BACKENDS", "Backend", "BackendOptions", "WriteResult", "get"]

BACKENDS: dict[str, Backend] = {b.name: b for b in (GraphModelBackend(), OnnxBackend())}


def get(name: str) -> Backend:
    """The backend called ``name``."""
    if name not in BACKENDS:
        raise InputError(f"unknown output format {name!r} (known: {', '.join(sorted(BACKENDS))})")
    return BACKENDS[name]
