"""Constant folding: nodes whose inputs are all known at conversion time become initializers."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
from onnx.reference import ReferenceEvaluator

# Never fold these: they are random or carry subgraphs (which the folder does not evaluate).
_NO_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
            "Bernoulli", "If", "Loop", "Scan", "SequenceConstruct", "SequenceEmpty", "Optional"}
# Expanding ops may turn a few bytes into a huge weight; tfjs computes those at run time instead.
_MAX_EXPANSION_BYTES = 1 << 20


def _static_dims(value: ir.Value) -> list[int] | None:
    if value.shape is None or not all(isinstance(d, int) for d in value.shape):
        return None
    return [int(d) for d in value.shape]  # type: ignore[arg-type]


def _shape_of(node: ir.Node) -> np.ndarray | None:
    """Shape/Size of a statically shaped input, honouring Shape's start/end attributes."""
    dims = _static_dims(node.inputs[0]) if node.inputs and node.inputs[0] is not None else None
    if dims is None:
        return None
    if node.op_type == "Size":
        return np.array(int(np.prod(dims, dtype=np.int64)), dtype=np.int64)
    start_attr, end_attr = node.attributes.get("start"), node.attributes.get("end")
    start = start_attr.as_int() if start_attr else 0
    end = end_attr.as_int() if end_attr else len(dims)
    return np.array(dims[slice(start, end)], dtype=np.int64)


def _evaluate(node: ir.Node, opset: int) -> list[np.ndarray] | None:
    inputs = [None if v is None else v.const_value for v in node.inputs]
    if any(v is not None and t is None for v, t in zip(node.inputs, inputs, strict=True)):
        return None
    proto = ir.serde.serialize_node(node)
    names = [f"i{k}" if v is not None else "" for k, v in enumerate(node.inputs)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    proto.ClearField("input")
    proto.input.extend(names)
    proto.ClearField("output")
    proto.output.extend(outs)
    feeds = {n: t.numpy() for n, t in zip(names, inputs, strict=True) if n and t is not None}
    graph = onnx.helper.make_graph(
        [proto], "fold", [onnx.helper.make_tensor_value_info(n, onnx.helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
                          for n, a in feeds.items()],
        [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in outs])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]


class FoldConstantsPass(ir.passes.InPlacePass):
    """Replaces nodes with constant results by initializers.

    Handles: nodes whose inputs are all initializers (evaluated with onnx's reference
    evaluator); Shape and Size of statically shaped tensors; Constant nodes. Leaves alone:
    random ops, control flow, custom domains, and results that would expand small inputs into
    more than 1 MiB.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        opset = model.opset_imports.get("", 1)
        modified = False
        for node in list(model.graph):
            if node.domain not in ("", "ai.onnx") or node.op_type in _NO_FOLD:
                continue
            results = _shape_of(node) if node.op_type in ("Shape", "Size") else None
            values = [results] if results is not None else _evaluate_guarded(node, opset)
            if values is None:
                continue
            _replace_with_constants(model.graph, node, values)
            modified = True
        return ir.passes.PassResult(model, modified)


def _evaluate_guarded(node: ir.Node, opset: int) -> list[np.ndarray] | None:
    if any(v is not None and v.const_value is None for v in node.inputs):
        return None
    values = _evaluate(node, opset)
    if values is None:
        return None
    in_bytes = sum(v.const_value.nbytes for v in node.inputs if v is not None and v.const_value is not None)
    out_bytes = sum(v.nbytes for v in values)
    if out_bytes > _MAX_EXPANSION_BYTES and out_bytes > 2 * in_bytes:
        return None
    return values


def _replace_with_constants(graph: ir.Graph, node: ir.Node, values: list[np.ndarray]) -> None:
    for out, arr in zip(node.outputs, values, strict=False):
        name = out.name
        out.name = f"{name}__folded"
        const = ir.Value(name=name, shape=ir.Shape(arr.shape), type=ir.TensorType(ir.DataType.from_numpy(arr.dtype)),
                         const_value=ir.tensor(arr, name=name))
        graph.register_initializer(const)
        out.replace_all_uses_with(const, replace_graph_outputs=True)
    graph.remove(node, safe=True)
