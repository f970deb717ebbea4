"""Thin facade over onnx_ir: loading, saving and handing light protos to ONNX C APIs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import onnx
import onnx_ir as ir

from pivot.errors import InputError

R = TypeVar("R")
# Initializers above this size are detached before a model goes through an ONNX C API, so that
# protobuf's 2 GB limit and a full copy of the weights never come into play.
_BIG_TENSOR_BYTES = 1024


def load(path: Path) -> ir.Model:
    """Load an ONNX file; external data stays on disk and is memory-mapped when read."""
    try:
        return ir.load(str(path))
    except FileNotFoundError as e:
        raise InputError(f"{path}: file not found") from e
    except Exception as e:  # onnx raises DecodeError, ValueError, ... for a damaged file
        raise InputError(f"{path}: not a readable ONNX model ({type(e).__name__}: {e})") from e


def save(model: ir.Model, path: Path) -> None:
    """Save a model; weights over 2 GB in total go to an external data file beside it."""
    total = sum(v.const_value.nbytes for v in model.graph.initializers.values() if v.const_value is not None)
    external = f"{path.name}.data" if total > 1_800_000_000 else None
    ir.save(model, str(path), external_data=external)


def call_light(model: ir.Model, func: Callable[[onnx.ModelProto], R]) -> R:
    """Run ``func`` on a proto of ``model`` whose big or external initializers are data-less graph inputs."""
    big = [v for v in model.graph.initializers.values() if v.const_value is not None and (
        v.const_value.nbytes > _BIG_TENSOR_BYTES or isinstance(v.const_value, ir.ExternalTensor))]
    saved = {v.name: v.const_value for v in big}
    n_inputs = len(model.graph.inputs)
    for v in big:
        if v.shape is None:
            v.shape = ir.Shape(list(v.const_value.shape))  # type: ignore[union-attr, arg-type]
        if v.dtype is None:
            v.dtype = v.const_value.dtype  # type: ignore[union-attr]
        model.graph.initializers.pop(v.name)  # type: ignore[arg-type]
        v.const_value = None
        model.graph.inputs.append(v)
    try:
        return func(ir.serde.serialize_model(model))
    finally:
        del model.graph.inputs[n_inputs:]
        for v in big:
            v.const_value = saved[v.name]
            model.graph.register_initializer(v)


def reattach_initializers(model: ir.Model, source: ir.Model) -> ir.Model:
    """Turn inputs of ``model`` that were initializers detached by ``call_light`` back into initializers."""
    originals = {v.name: v.const_value for v in source.graph.initializers.values()}
    real_inputs = {v.name for v in source.graph.inputs}
    keep = []
    for v in model.graph.inputs:
        if v.name in originals and v.name not in real_inputs:
            v.const_value = originals[v.name]
            model.graph.register_initializer(v)
        else:
            keep.append(v)
    model.graph.inputs.clear()
    model.graph.inputs.extend(keep)
    return model


def replace_value(old: ir.Value, new: ir.Value) -> None:
    """Redirect every use of ``old`` to ``new``; a graph output keeps its user-facing name."""
    if old.is_graph_output():
        name = old.name
        old.name = f"{name}__replaced"
        new.name = name
    old.replace_all_uses_with(new, replace_graph_outputs=True)
