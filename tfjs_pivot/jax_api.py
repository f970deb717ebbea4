"""``convert_jax``: the Python API for JAX / Flax functions, in the spirit of ``tfjs.converters.convert_jax``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from backends.base import BackendOptions
from frontends.jax.lower import lower_jax
from pivot.errors import InputError
from tfjs_format.quantize import QuantizationSpec
from tfjs_pivot.convert import ConvertOptions, ConvertResult, convert_model

__all__ = ["convert_jax"]

# A quantization value as the official API's ``quantization_dtype_map`` gives it: True (all weights),
# a pattern string, or a list of patterns; or as the CLI flags give it ("" = all weights, None = absent).
QuantizationFlag = bool | str | Sequence[str] | None


def convert_jax(apply_fn: Callable[..., Any], params: Any, input_signatures: Sequence[Any],
                model_dir: str | os.PathLike[str], *, polymorphic_shapes: Sequence[Any] | str | None = None,
                quantization: QuantizationSpec | Mapping[str, QuantizationFlag] | None = None,
                shard_bytes: int = BackendOptions.shard_bytes, metadata: Mapping[str, Any] | None = None,
                input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
                require_backend: str | None = "wasm", overwrite: bool = False) -> ConvertResult:
    """Convert ``apply_fn(params, *inputs)`` into a TensorFlow.js graph model in ``model_dir``, without TensorFlow.

    Args:
        apply_fn: a JAX function whose first argument is ``params`` (e.g. a Flax ``Module.apply``); with
            ``params=None`` it is called with the inputs only (e.g. a Flax NNX module).
        params: the parameter pytree, baked into the model as weights; or None.
        input_signatures: one signature per remaining argument, or a pytree of them: ``(shape, dtype)``,
            a shape tuple (float32), ``jax.ShapeDtypeStruct``, an array, or ``tf.TensorSpec``.
            Shapes may hold symbolic names (``("b", 8)``) or None (then named in ``polymorphic_shapes``).
        model_dir: the output directory, written atomically.
        polymorphic_shapes: one jax shape spec per flat input, e.g. ``["(b, 28, 28, 1)"]`` or ``["b, ..."]``;
            equal names are equal sizes across inputs.
        quantization: a ``QuantizationSpec``, or ``{dtype: flag}`` with dtype float16/uint8/uint16 and
            flag True or "" (all weights), a pattern string, or a list of patterns.
        shard_bytes: the weight shard size.
        metadata: written as ``userDefinedMetadata`` into model.json.
        input_names: names of the flat inputs (default: ``TensorSpec`` names, dict keys, ``input_<i>``).
        output_names: names of the flat outputs (default: dict keys, ``output_<i>``).
        require_backend: the tfjs backend that must have every kernel (None: only warn).
        overwrite: replace a non-empty ``model_dir``.
    """
    start = time.perf_counter()
    model = lower_jax(apply_fn, params, input_signatures, polymorphic_shapes=polymorphic_shapes,
                      input_names=input_names, output_names=output_names)
    lowered = time.perf_counter() - start
    backend = BackendOptions(shard_bytes=shard_bytes, quantization=_quantization(quantization),
                             metadata=dict(metadata or {}), require_backend=require_backend)
    options = ConvertOptions(input_format="jax", output_format="tfjs_graph_model", overwrite=overwrite,
                             backend=backend)
    result = convert_model(model, Path(model_dir), options)
    return replace(result, timings={"lower": lowered, **result.timings})


def _quantization(value: QuantizationSpec | Mapping[str, QuantizationFlag] | None) -> QuantizationSpec | None:
    if value is None or isinstance(value, QuantizationSpec):
        return value
    if not isinstance(value, Mapping):
        raise InputError(f"quantization: expected a QuantizationSpec or a {{dtype: patterns}} dict, got {value!r}")
    return QuantizationSpec.from_flags({dtype: _flag(flag) for dtype, flag in value.items()})


def _flag(flag: QuantizationFlag) -> str | None:
    if flag is None or flag is False:
        return None
    if flag is True:
        return ""
    if isinstance(flag, str):
        return flag
    return ",".join(flag)
