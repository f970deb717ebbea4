"""Folds BatchNormalization into the Conv or ConvTranspose that feeds it (valid ONNX in, out)."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from pivot import ir as pir
from pivot.passes.guard import at_node
from pivot.untrusted import charge


def _consts(node: ir.Node, first: int) -> list[np.ndarray] | None:
    values = []
    for v in node.inputs[first:]:
        if v is None or v.const_value is None:
            return None
        values.append(v.const_value.numpy().astype(np.float64))
    return values


def _single_consumer(value: ir.Value) -> bool:
    return len(value.uses()) == 1 and not value.is_graph_output()


class FoldBatchNormPass(ir.passes.InPlacePass):
    """Rewrites ``BatchNormalization(Conv(x, W, B))`` as ``Conv(x, W', B')``.

    Handles: Conv with any group count; ConvTranspose with group 1; a missing conv bias.
    Leaves alone: a conv output read by another node, non-constant weights or statistics,
    BatchNormalization in training mode (more than one output in use).
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        modified = False
        for bn in list(model.graph):
            if bn.op_type != "BatchNormalization" or bn.domain not in ("", "ai.onnx"):
                continue
            conv = bn.inputs[0].producer() if bn.inputs[0] is not None else None
            if conv is None or not _foldable(conv, bn):
                continue
            with at_node(bn):
                _fold(model.graph, conv, bn)
            modified = True
        return ir.passes.PassResult(model, modified)


def _foldable(conv: ir.Node, bn: ir.Node) -> bool:
    if conv.op_type not in ("Conv", "ConvTranspose") or not _single_consumer(conv.outputs[0]):
        return False
    if any(o.uses() or o.is_graph_output() for o in bn.outputs[1:]):
        return False
    group = conv.attributes.get("group")
    if conv.op_type == "ConvTranspose" and group is not None and group.as_int() != 1:
        return False
    w = conv.inputs[1]
    b = conv.inputs[2] if len(conv.inputs) > 2 else None
    if w is None or w.const_value is None or (b is not None and b.const_value is None) or len(bn.inputs) != 5:
        return False
    # Every statistic (and the bias) must hold one value per output channel, else the model is broken:
    # leave it for the checker and the emitters to report instead of broadcasting it into new weights.
    dims = w.const_value.shape.numpy()
    axis = 0 if conv.op_type == "Conv" else 1
    if len(dims) < 3:
        return False
    per_channel = [v for v in (*bn.inputs[1:], b) if v is not None]
    return all(v.const_value is not None and tuple(v.const_value.shape.numpy()) == (dims[axis],) for v in per_channel)


def _fold(graph: ir.Graph, conv: ir.Node, bn: ir.Node) -> None:
    scale, bias, mean, var = _consts(bn, 1)  # type: ignore[misc]
    eps_attr = bn.attributes.get("epsilon")
    eps = eps_attr.as_float() if eps_attr is not None else 1e-5
    factor = scale / np.sqrt(var + eps)
    w_value = conv.inputs[1]
    # A float64 copy and the folded float32 weights: up to three times the weights' float32 bytes.
    charge(3 * w_value.const_value.nbytes, f"node '{conv.name}' ({conv.op_type}) folding a batch normalization")  # type: ignore[union-attr]
    w = w_value.const_value.numpy().astype(np.float64)  # type: ignore[union-attr]
    axis = 0 if conv.op_type == "Conv" else 1
    shape = [1] * w.ndim
    shape[axis] = -1
    new_w = (w * factor.reshape(shape)).astype(np.float32)
    b_value = conv.inputs[2] if len(conv.inputs) > 2 else None
    old_b = b_value.const_value.numpy().astype(np.float64) if b_value is not None else 0.0  # type: ignore[union-attr]
    new_b = ((old_b - mean) * factor + bias).astype(np.float32)
    base = conv.name or "conv"
    w_new = _initializer(graph, f"{base}/folded_weight", new_w)
    b_new = _initializer(graph, f"{base}/folded_bias", new_b)
    conv.replace_input_with(1, w_new)
    if len(conv.inputs) > 2:
        conv.replace_input_with(2, b_new)
    else:
        conv.resize_inputs(3)
        conv.replace_input_with(2, b_new)
    pir.replace_value(bn.outputs[0], conv.outputs[0])
    graph.remove(bn, safe=True)


def _initializer(graph: ir.Graph, name: str, arr: np.ndarray) -> ir.Value:
    while name in graph.initializers:
        name += "_"
    value = ir.Value(name=name, shape=ir.Shape(arr.shape), type=ir.TensorType(ir.DataType.FLOAT),
                     const_value=ir.tensor(arr, name=name))
    graph.register_initializer(value)
    return value
