"""Thin facade over onnx_ir: loading, saving and handing light protos to ONNX C APIs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import onnx
import onnx_ir as ir
from google.protobuf.message import DecodeError

from pivot.errors import InputError, node_label
from pivot.onnx_external import confine_external_data
from pivot.onnx_guard import Place, check_schemas, check_structure, check_tensor, model_tensors
from pivot.untrusted import model_folder, regular_file

R = TypeVar("R")
# Initializers above this size are detached before a model goes through an ONNX C API, so that
# protobuf's 2 GB limit and a full copy of the weights never come into play.
_BIG_TENSOR_BYTES = 1024


def load(path: Path) -> ir.Model:
    """Load an ONNX file from a stranger: every tensor and the graph checked, external data confined and mapped.

    External data is read only from regular files inside the model's own (resolved) folder, whatever the
    path was given as; it is memory-mapped, so a big model costs no memory until its weights are used.
    """
    label = str(path)
    resolved = regular_file(path, "ONNX model").resolve()
    proto = _parse(resolved, label)
    _check_header(proto, label)
    for tensor, where in model_tensors(proto, label):
        check_tensor(tensor, where)
    check_structure(proto.graph, Place(label))
    check_schemas(proto, label)
    try:
        with warnings.catch_warnings():  # onnx warns about odd fields; the checks above decide
            warnings.simplefilter("ignore")
            model = ir.serde.deserialize_model(proto)
    except (*_MALFORMED, ir.serde.SerdeError) as e:
        raise InputError(f"{label}: not a readable ONNX model ({first_line(_root(e))})") from None
    confine_external_data(model, model_folder(resolved), label)
    return model


# What onnx and onnx_ir raise for protos that parse but hold nonsense (bad enum values, map types, ...).
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, NotImplementedError, RecursionError)


def _root(e: BaseException) -> BaseException:
    """The innermost cause: onnx_ir wraps the real reason in "Error calling _deserialize_graph with: ..."."""
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def label(node: ir.Node) -> str:
    """``node 'name' (Op)`` for messages, named after its first output when it has no name."""
    return node_label(node.name or (node.outputs[0].name or "" if node.outputs else ""), node.op_type)


def first_line(e: BaseException) -> str:
    """The first non-empty line of a library's message, shortened: never a multi-line dump."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _parse(path: Path, label: str) -> onnx.ModelProto:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{label}: cannot read ({e.strerror or type(e).__name__})") from None
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError, RecursionError) as e:
        raise InputError(f"{label}: not a readable ONNX model ({first_line(e) or 'damaged protobuf'})") from None
    return proto


def _check_header(proto: onnx.ModelProto, label: str) -> None:
    if not proto.HasField("graph"):
        raise InputError(f"{label}: not an ONNX model (no graph)")
    if not 1 <= proto.ir_version <= onnx.IR_VERSION:
        raise InputError(f"{label}: ir_version {proto.ir_version} is not supported (1 to {onnx.IR_VERSION})")
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx") and not 1 <= entry.version <= onnx.defs.onnx_opset_version():
            raise InputError(f"{label}: opset {entry.version} of the default domain is not supported "
                             f"(1 to {onnx.defs.onnx_opset_version()})")


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
