"""A frozen GraphDef to ONNX with tf2onnx; the signature's names and order are then restored on the ONNX model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import onnx
import onnx_ir as ir

from frontends.tensorflow.deps import tensorflow, tf2onnx
from frontends.tensorflow.graphdef import GraphDef
from pivot.errors import ConversionError, Unsupported, UnsupportedOpsError

# tf2onnx 1.17 writes opsets up to 18; the pivot upgrades to its own target opset afterwards.
OPSET = 18
# ir.Model metadata_props key the tfjs graph backend copies into userDefinedMetadata.structuredOutputKeys.
STRUCTURED_OUTPUT_KEYS = "tfjs.structuredOutputKeys"


def _erfc(ctx: Any, node: Any, name: str, args: list[Any]) -> None:
    """TF Erfc -> ONNX ``1 - Erf(x)``: tf2onnx 1.17 has no handler, and TF 2.21 lowers exact gelu to Erfc."""
    import numpy as np
    from tf2onnx import utils

    node.type = "Erf"
    dtype = ctx.get_dtype(node.input[0])
    one = ctx.make_const(utils.make_name(f"{node.name}/one"), np.array(1, utils.map_onnx_to_numpy_type(dtype)))
    erf = node.output[0]
    sub = ctx.insert_new_node_on_output("Sub", erf, name=utils.make_name(f"{node.name}/erfc"))
    ctx.replace_inputs(sub, [one.output[0], erf])
    ctx.copy_shape(erf, sub.output[0])
    ctx.set_dtype(sub.output[0], dtype)


# TensorFlow ops tf2onnx 1.17 cannot convert, handled here: {op: (handler, args)}.
EXTRA_HANDLERS: dict[str, tuple[Any, list[Any]]] = {"Erfc": (_erfc, [])}


@dataclass(frozen=True)
class Io:
    """One model input or output: its user-facing name and the TensorFlow tensor behind it."""

    key: str  # signature key (SavedModel) or node name (frozen graph)
    tensor: str  # "node:0"


@dataclass(frozen=True)
class Lowering:
    """What to lower: inputs and outputs in the documented order, and the structured output keys to record."""

    fmt: str
    inputs: tuple[Io, ...]
    outputs: tuple[Io, ...]
    structured_keys: tuple[str, ...] | None = None
    source: str = ""  # the model's path, named in errors


def lower(graph_def: GraphDef, spec: Lowering) -> ir.Model:
    """Convert ``graph_def`` with tf2onnx; inputs and outputs are renamed to their keys, in ``spec`` order."""
    t2o = tf2onnx(spec.fmt)
    try:
        proto, _ = t2o.convert.from_graph_def(graph_def, name=spec.fmt, opset=OPSET,
                                              input_names=[io.tensor for io in spec.inputs],
                                              output_names=[io.tensor for io in spec.outputs],
                                              custom_op_handlers=EXTRA_HANDLERS)
    except Exception as e:  # tf2onnx raises whatever its op handlers raise: one line names the cause
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        where = f"{spec.source}: " if spec.source else ""
        raise ConversionError(f"{where}tf2onnx {t2o.__version__} cannot convert this graph: {detail[:300]}") from e
    _check_converted(proto, t2o.__version__)
    model = ir.serde.deserialize_model(proto)
    _restore_io(model, spec)
    if spec.structured_keys is not None:
        model.metadata_props[STRUCTURED_OUTPUT_KEYS] = json.dumps(list(spec.structured_keys))
    tf = tensorflow(spec.fmt)
    model.producer_name, model.producer_version = "tf2onnx", f"{t2o.__version__} (tensorflow {tf.__version__})"
    return model


def _onnx_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    for node in graph.node:
        yield node
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from _onnx_nodes(sub)


def _check_converted(proto: onnx.ModelProto, version: str) -> None:
    """tf2onnx leaves TensorFlow ops it cannot convert in the graph as they are: report them all at once."""
    left: dict[str, list[str]] = {}
    for node in _onnx_nodes(proto.graph):
        if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type):
            left.setdefault(node.op_type, []).append(node.name)
    if left:
        raise UnsupportedOpsError(
            Unsupported(op, "no_rule", tuple(nodes), f"tf2onnx {version} has no ONNX conversion for TensorFlow {op}",
                        "replace the op in the TensorFlow model", domain="tensorflow")
            for op, nodes in sorted(left.items()))


def _all_values(graph: ir.Graph) -> Iterator[ir.Value]:
    yield from graph.inputs
    yield from graph.initializers.values()
    for node in graph.all_nodes():
        yield from node.outputs


def _claim(graph: ir.Graph, name: str, owner: ir.Value) -> None:
    """Give ``owner`` the name ``name``; a different value already called so is renamed out of the way."""
    for value in _all_values(graph):
        if value is not owner and value.name == name:
            value.name = f"{name}__tf"
    owner.name = name


def _restore_io(model: ir.Model, spec: Lowering) -> None:
    """Inputs and outputs named by key, in spec order (tf2onnx orders and names them its own way)."""
    graph = model.graph
    by_tensor = {v.name: v for v in graph.inputs}
    inputs = [(io, by_tensor[io.tensor]) for io in spec.inputs if io.tensor in by_tensor]  # unused ones vanish
    graph.inputs.clear()
    for io, value in inputs:
        _claim(graph, io.key, value)
        graph.inputs.append(value)
    produced = {v.name: v for v in graph.outputs}
    graph.outputs.clear()
    seen: set[int] = set()
    for io in spec.outputs:
        value = produced[io.tensor]
        # A value that is also an input, a constant or an earlier output gets its own Identity.
        if value.is_graph_input() or value.is_initializer() or id(value) in seen or value.producer() is None:
            node = ir.node("Identity", [value])
            graph.append(node)
            out = node.outputs[0]
            out.type, out.shape = value.type, value.shape
            value = out
        seen.add(id(value))
        _claim(graph, io.key, value)
        graph.outputs.append(value)
