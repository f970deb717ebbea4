"""Folds BatchNormalization into the Conv or ConvTranspose that feeds it (valid ONNX in, out)."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from pivot import ir as pir


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
    return (w is not None and w.const_value is not None and (b is None or b.const_value is not None)
            and _consts(bn, 1) is not None)


def _fold(graph: ir.Graph, conv: ir.Node, bn: ir.Node) -> None:
    scale, bias, mean, var = _consts(bn, 1)  # type: ignore[misc]
    eps_attr = bn.attributes.get("epsilon")
    eps = eps_attr.as_float() if eps_attr is not None else 1e-5
    factor = scale / np.sqrt(var + eps)
    w_value = conv.inputs[1]
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
