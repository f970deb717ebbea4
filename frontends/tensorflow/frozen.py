"""Frozen TensorFlow graphs (a GraphDef ``.pb`` whose variables are constants), lowered with tf2onnx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.tensorflow.deps import require_tensorflow, tensorflow
from frontends.tensorflow.graphdef import GraphDef, placeholders_reaching, sink_nodes
from frontends.tensorflow.lower import Io, Lowering, lower
from frontends.tensorflow.savedmodel import first_line, handle_debug_ops, load_errors
from frontends.tensorflow.screen import screen_frozen
from pivot.errors import InputError

FMT = "tf_frozen_model"
_VARIABLE_OPS = frozenset({"Variable", "VariableV2", "VarHandleOp", "ReadVariableOp"})
# A GraphDef starts with field 1 (node), 2 (library) or 4 (versions), all length-delimited.
_GRAPHDEF_FIRST_BYTES = frozenset({0x0A, 0x12, 0x22})
_NOT_GRAPHS = frozenset({"saved_model.pb", "fingerprint.pb", "keras_metadata.pb", "tfhub_module.pb"})


def sniff_frozen(path: Path) -> bool:
    """A ``.pb`` file that is not one of a SavedModel's own files and starts like a GraphDef (never raises)."""
    if path.suffix.lower() != ".pb" or path.name in _NOT_GRAPHS:
        return False
    try:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            head = f.read(1)
    except (OSError, ValueError):  # unreadable, a NUL in the name
        return False
    return bool(head) and head[0] in _GRAPHDEF_FIRST_BYTES


def read_graph_def(path: Path) -> GraphDef:
    """Parse the GraphDef at ``path``, screened first (no file or Python ops, constants within the budget)."""
    require_tensorflow(FMT)  # a missing extra first: then nothing is read
    data = screen_frozen(path)
    tf = tensorflow(FMT)
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except load_errors(tf) as e:
        raise InputError(f"{path}: not a TensorFlow GraphDef: {first_line(e)}") from e
    return graph_def


def output_io(name: str) -> Io:
    """``node`` or ``node:k`` as an output; ``node:k`` (k > 0) is keyed ``node_k`` (':' would break tfjs names)."""
    node, _, index = name.partition(":")
    k = int(index) if index.isdigit() else 0
    return Io(node if k == 0 else f"{node}_{k}", f"{node}:{k}")


def _check(path: Path, graph_def: GraphDef, outputs: tuple[str, ...]) -> list[Io]:

    if not outputs:
        hint = ", ".join(sink_nodes(graph_def)[:5]) or "none found"
        raise InputError(f"{path}: a frozen graph needs --output-node-names (comma-separated output nodes; "
                         f"candidates: {hint})")
    names = {n.name for n in graph_def.node}
    ios = [output_io(o) for o in outputs]
    missing = [io.tensor.split(":")[0] for io in ios if io.tensor.split(":")[0] not in names]
    if missing:
        raise InputError(f"{path}: output node(s) {', '.join(missing)} are not in the graph")
    variables = sorted({n.op for n in graph_def.node if n.op in _VARIABLE_OPS})
    if variables:
        raise InputError(f"{path}: the graph still holds variables ({', '.join(variables)}); freeze it first "
                         "or convert the SavedModel instead")
    return ios


def load_frozen(path: Path, outputs: tuple[str, ...], strip: bool, structured: bool) -> tuple[ir.Model, list[Io]]:
    """Lower the frozen graph; inputs are the Placeholders the outputs need, in graph order."""
    if structured:
        raise InputError("--use-structured-outputs-names needs a SavedModel signature; a frozen graph has none")
    graph_def = read_graph_def(path)
    ios = _check(path, graph_def, outputs)
    handle_debug_ops(graph_def, strip)
    inputs = tuple(Io(n, f"{n}:0") for n in placeholders_reaching(graph_def, [io.tensor for io in ios]))
    return lower(graph_def, Lowering(FMT, inputs, tuple(ios), source=str(path))), ios


def run_frozen(path: Path, outputs: list[Io], feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TensorFlow's own outputs of the frozen graph, by output key."""
    tf = tensorflow(FMT)
    graph_def = read_graph_def(path)
    graph: Any = tf.Graph()
    try:
        with graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            values = session.run([io.tensor for io in outputs], {f"{k}:0": v for k, v in feeds.items()})
    except load_errors(tf) as e:
        raise InputError(f"{path}: TensorFlow cannot run the graph: {first_line(e)}") from e
    return {io.key: np.asarray(v) for io, v in zip(outputs, values, strict=True)}
