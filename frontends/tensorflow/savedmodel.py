"""TensorFlow SavedModels: one signature is frozen, stripped of debug ops and lowered with tf2onnx."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.tensorflow.deps import require_tensorflow, tensorflow
from frontends.tensorflow.graphdef import UNCONVERTIBLE_DEBUG_OPS, GraphDef, debug_nodes, strip_debug_ops
from frontends.tensorflow.lower import Io, Lowering, lower
from frontends.tensorflow.screen import screen_saved_model
from pivot.errors import ConversionError, InputError, Unsupported, UnsupportedOpsError


@dataclass(frozen=True)
class SavedModelRequest:
    """Which signature of which MetaGraph to convert, and how."""

    fmt: str
    tags: tuple[str, ...] = ("serve",)
    signatures: tuple[str, ...] = ("serving_default",)  # the first one the model has is used
    strip_debug_ops: bool = True
    structured_outputs: bool = False


def is_saved_model_dir(path: Path) -> bool:
    """A directory holding ``saved_model.pb`` (cheap: no parsing; never raises)."""
    try:
        return path.is_dir() and (path / "saved_model.pb").is_file()
    except (OSError, ValueError):  # unreadable folder, a NUL in the name
        return False


def first_line(e: BaseException) -> str:
    """The first non-empty line of a library's message (TensorFlow's run to pages), cut to a readable length."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(e).__name__


def load_errors(tf: Any) -> tuple[type[BaseException], ...]:
    """What TensorFlow's readers raise on a damaged model: protobuf, file-system, op and malformed-structure errors."""
    from google.protobuf.message import DecodeError

    return (DecodeError, tf.errors.OpError, RuntimeError, ValueError, OSError, KeyError, TypeError, IndexError,
            AttributeError, AssertionError, NotImplementedError)


@lru_cache(maxsize=2)
def _load(path: str, tags: tuple[str, ...], fmt: str) -> Any:
    """The loaded SavedModel object (cached: ``validate`` calls the reference once per sample)."""
    require_tensorflow(fmt)  # a missing extra first: then nothing is read
    root = screen_saved_model(Path(path))  # before TensorFlow reads anything: it follows whatever it is given
    tf = tensorflow(fmt)
    try:
        return tf.saved_model.load(str(root), tags=list(tags) or None)
    except load_errors(tf) as e:
        raise InputError(f"{path}: cannot load the SavedModel with tags {list(tags)}: {first_line(e)}") from e


def signature_function(path: Path, req: SavedModelRequest) -> tuple[str, Any]:
    """The signature's name and its concrete function."""
    pb = path / "saved_model.pb"
    if not (pb.exists() or pb.is_symlink()):  # anything else named so is refused by the screen, with its reason
        raise InputError(f"{path}: not a SavedModel directory (no saved_model.pb)")
    signatures = _load(str(path.resolve()), req.tags, req.fmt).signatures
    name = next((s for s in req.signatures if s in signatures), None)
    if name is None:
        known = ", ".join(sorted(signatures)) or "none"
        raise InputError(f'{path}: signature "{req.signatures[0]}" does not exist in the SavedModel '
                         f"(signatures: {known}); choose one with --signature-name")
    return name, signatures[name]


def _input_keys(fn: Any, name: str) -> list[str]:
    """Signature input keys in TensorFlow's own flattening order (sorted), which ``fn.inputs`` follows."""
    args, kwargs = fn.structured_input_signature
    if args or len(fn.inputs) - len(fn.captured_inputs) != len(kwargs):
        raise InputError(f"signature {name}: only plain tensor inputs passed by name are supported "
                         "(no positional, ragged or sparse inputs)")
    return sorted(kwargs)


def _output_keys(fn: Any, name: str) -> list[str]:
    outputs = fn.structured_outputs
    if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
        raise InputError(f"signature {name}: outputs must be a flat dict of tensors")
    return sorted(outputs)


def freeze(fn: Any, name: str, req: SavedModelRequest) -> tuple[GraphDef, Lowering]:
    """Variables folded into constants; inputs and outputs named by signature key, sorted by key.

    Control flow stays functional (While / If): tf2onnx turns that into ONNX Loop / If, whereas from
    lowered (v1) control flow it cannot convert TensorArray ops. The tfjs graph gets StatelessWhile
    either way, so ``control_flow_v2`` changes nothing here.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    tf = tensorflow(req.fmt)
    in_keys, out_keys = _input_keys(fn, name), _output_keys(fn, name)
    try:
        frozen = convert_variables_to_constants_v2(fn, lower_control_flow=False, aggressive_inlining=True)
    except load_errors(tf) as e:
        raise ConversionError(f"signature {name}: cannot freeze its variables: {first_line(e)}") from e
    placeholders = [t for t in frozen.inputs if t.dtype != tf.resource]
    inputs = tuple(Io(k, t.name) for k, t in zip(in_keys, placeholders, strict=True))
    outputs = tuple(Io(k, t.name) for k, t in zip(out_keys, frozen.outputs, strict=True))
    spec = Lowering(req.fmt, inputs, outputs, tuple(out_keys) if req.structured_outputs else None)
    return frozen.graph.as_graph_def(), spec


def handle_debug_ops(graph_def: GraphDef, strip: bool) -> None:
    """Strip debug ops, or, when asked to keep them, refuse those TensorFlow.js cannot run."""
    if strip:
        strip_debug_ops(graph_def)
        return
    kept = debug_nodes(graph_def, UNCONVERTIBLE_DEBUG_OPS)
    if kept:
        raise UnsupportedOpsError(
            Unsupported(op, "no_rule", tuple(nodes), f"TensorFlow.js has no {op} op",
                        "convert with --strip-debug-ops (the default) to remove debug ops", domain="tensorflow")
            for op, nodes in sorted(kept.items()))


def load_saved_model(path: Path, req: SavedModelRequest) -> ir.Model:
    """Lower one signature of the SavedModel at ``path`` to ONNX."""
    name, fn = signature_function(path, req)
    try:
        graph_def, spec = freeze(fn, name, req)
    except ConversionError as e:  # the signature's own message, with the model it belongs to
        raise ConversionError(f"{path}: {e}") from e
    handle_debug_ops(graph_def, req.strip_debug_ops)
    return lower(graph_def, replace(spec, source=str(path)))


def run_signature(path: Path, req: SavedModelRequest, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TensorFlow's own outputs of the signature, by key, sorted by key."""
    tf = tensorflow(req.fmt)
    name, fn = signature_function(path, req)
    specs = fn.structured_input_signature[1]
    missing = sorted(set(specs) - set(feeds))
    if missing:
        raise InputError(f"signature {name}: no value for input(s) {', '.join(missing)}")
    try:
        out = fn(**{k: tf.constant(feeds[k], dtype=spec.dtype) for k, spec in specs.items()})
    except load_errors(tf) as e:
        raise InputError(f"{path}: TensorFlow cannot run signature {name}: {first_line(e)}") from e
    return {k: np.asarray(out[k]) for k in sorted(out)}
