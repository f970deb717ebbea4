"""JAX / Flax input through jax2onnx; importing this package imports neither jax nor jax2onnx."""

from __future__ import annotations

from frontends.jax.lower import lower_jax

__all__ = ["lower_jax"]
