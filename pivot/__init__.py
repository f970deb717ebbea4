"""tfjs-pivot: every model through an ONNX pivot to TensorFlow.js."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pivot.version import __version__

if TYPE_CHECKING:
    from frontends.jax.api import convert_jax

__all__ = ["__version__", "convert_jax"]


def __getattr__(name: str) -> Any:
    # Lazy: ``import pivot`` must stay light (no backends, no frameworks); jax itself loads only on a call.
    if name == "convert_jax":
        from frontends.jax.api import convert_jax

        return convert_jax
    raise AttributeError(f"module 'pivot' has no attribute {name!r}")
