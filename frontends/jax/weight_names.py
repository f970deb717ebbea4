"""Weights named after the parameter they hold (``params/Dense_0/kernel``), so quantization patterns can pick them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx_ir as ir

Fingerprint = tuple[tuple[int, ...], str, str]


def name_weights(graph: ir.Graph, params: Any) -> int:
    """Rename initializers whose content equals exactly one parameter leaf; returns how many were renamed.

    jax2onnx names weights ``const_3`` or ``kernel_oih_0``: it bakes closed-over arrays in, so content is the
    only link back to the pytree. A kernel it stores transposed (conv HWIO as OIHW) matches too.
    """
    import jax
    import jax.numpy as jnp

    owners: dict[Fingerprint, set[str]] = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        name = param_name(path)
        # jnp.asarray: the dtype JAX computes with (float64 leaves become float32 unless x64 is on).
        for form in _forms(np.asarray(jnp.asarray(leaf))):
            owners.setdefault(_fingerprint(form), set()).add(name)
    renamed = 0
    for value in list(graph.initializers.values()):
        tensor = value.const_value
        names = owners.get(_fingerprint(tensor.numpy())) if tensor is not None else None
        # Equal leaves (two zero biases) are ambiguous: keep jax2onnx's name rather than guess.
        if names is not None and len(names) == 1:
            (name,) = names
            if name not in graph.initializers:
                value.name = name
                renamed += 1
    return renamed


def param_name(path: tuple[Any, ...]) -> str:
    """``params/Dense_0/kernel`` from a pytree path; NNX's trailing ``.value`` is dropped."""
    parts = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
    if len(parts) > 1 and parts[-1] == "value":
        parts.pop()
    return "/".join(parts)


def _forms(arr: np.ndarray) -> Iterator[np.ndarray]:
    yield arr
    if arr.ndim >= 3:  # channels-last kernel (..., in, out) stored as (out, in, ...)
        yield np.transpose(arr, (arr.ndim - 1, arr.ndim - 2, *range(arr.ndim - 2)))


def _fingerprint(arr: np.ndarray) -> Fingerprint:
    data = np.ascontiguousarray(arr)
    return tuple(data.shape), data.dtype.str, hashlib.sha1(data.tobytes(), usedforsecurity=False).hexdigest()
