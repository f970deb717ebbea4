"""Constant folding: nodes whose inputs are all known at conversion time become initializers."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnx_ir as ir

from pivot.errors import InputError
from pivot.graphs import node_subgraphs
from pivot.ir import first_line, label
from pivot.passes.fold_size import predict_bytes
from pivot.passes.guard import at_node
from pivot.untrusted import charge

# Never fold these: they are random or carry subgraphs (which the folder does not evaluate).
_NO_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
            "Bernoulli", "If", "Loop", "Scan", "SequenceConstruct", "SequenceEmpty", "Optional"}
# Expanding ops may turn a few bytes into a huge weight; tfjs computes those at run time instead.
_MAX_EXPANSION_BYTES = 1 << 20
# onnx's reference evaluator runs these element by element in Python: a big one would fold for hours.
_SLOW = {"Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "Resize", "Upsample", "MaxPool",
         "AveragePool", "LpPool", "MaxUnpool", "MaxRoiPool", "RoiAlign", "GridSample", "Col2Im", "NonMaxSuppression",
         "LSTM", "GRU", "RNN", "DFT", "STFT", "MelWeightMatrix", "AffineGrid", "CenterCropPad", "ImageDecoder"}
_SLOW_MAX_ELEMENTS = 1 << 16
# The default --max-fold-bytes: folded constants may total this much, or twice the model's weights if more.
DEFAULT_MAX_FOLD_BYTES = 256 << 20


class FoldLimit:
    """Bytes of constants one conversion may fold, counted over every run of the folding pass."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    @staticmethod
    def for_model(model: ir.Model, max_fold_bytes: int | None = None) -> FoldLimit:
        """``max_fold_bytes``, else max(``DEFAULT_MAX_FOLD_BYTES``, 2 x the bytes of the model's initializers)."""
        if max_fold_bytes is not None:
            return FoldLimit(max_fold_bytes)
        weights = sum(v.const_value.nbytes for v in model.graph.initializers.values() if v.const_value is not None)
        return FoldLimit(max(DEFAULT_MAX_FOLD_BYTES, 2 * weights))

    def take(self, nbytes: int, node: ir.Node) -> None:
        """Account for ``nbytes`` folded by ``node`` (before it is evaluated); refuse past the limit."""
        if self.used + nbytes > self.limit:
            raise InputError(f"{label(node)} would fold into {nbytes} bytes of constants, over the "
                             f"--max-fold-bytes limit {self.limit} ({self.used} bytes folded before it)")
        charge(nbytes, f"constant folding of {label(node)}", "the model computes huge constants")
        self.used += nbytes


def _static_dims(value: ir.Value) -> list[int] | None:
    if value.shape is None or not all(isinstance(d, int) and d >= 0 for d in value.shape):
        return None
    return [int(d) for d in value.shape]  # type: ignore[arg-type]


def _shape_of(node: ir.Node) -> np.ndarray | None:
    """Shape/Size of a statically shaped input, honouring Shape's start/end attributes."""
    dims = _static_dims(node.inputs[0]) if node.inputs and node.inputs[0] is not None else None
    if dims is None:
        return None
    if node.op_type == "Size":
        size = math.prod(dims)
        return np.array(size, dtype=np.int64) if size <= np.iinfo(np.int64).max else None
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
    from onnx.reference import ReferenceEvaluator  # loaded at the first fold: most models never need it

    try:
        results = ReferenceEvaluator(model).run(None, feeds)
    except NotImplementedError:  # an op onnx's evaluator lacks: tfjs computes it at run time
        return None
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError, RuntimeError) as e:
        raise InputError(f"{label(node)} fails on its constant inputs ({first_line(e)})") from None
    return [np.asarray(r) for r in results]


class FoldConstantsPass(ir.passes.InPlacePass):
    """Replaces nodes with constant results by initializers.

    Handles: nodes whose inputs are all initializers (evaluated with onnx's reference
    evaluator); Shape and Size of statically shaped tensors; Constant nodes. The size of every
    result is predicted before the node is evaluated (``fold_size``) and counted against the
    conversion's ``FoldLimit``. Leaves alone: random ops, control flow, custom domains, results
    whose size cannot be predicted, and results that would expand small inputs into more than 1 MiB.
    """

    def __init__(self, limit: FoldLimit | None = None) -> None:
        super().__init__()
        self.limit = limit

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        opset = model.opset_imports.get("", 1)
        limit = self.limit if self.limit is not None else FoldLimit.for_model(model)
        return ir.passes.PassResult(model, fold_graph(model.graph, opset, limit))


def fold_graph(graph: ir.Graph, opset: int, limit: FoldLimit) -> bool:
    """One folding sweep over ``graph`` (the main graph, or an If branch about to be emitted); True if it changed.

    An If whose condition is known is replaced by its taken branch.
    """
    modified = False
    for node in list(graph):
        if node.graph is not graph:  # removed by an earlier step of this sweep
            continue
        if node.op_type == "If" and node.domain in ("", "ai.onnx"):
            with at_node(node):
                modified |= _inline_constant_if(graph, node)
            continue
        if node.domain not in ("", "ai.onnx") or node.op_type in _NO_FOLD:
            continue
        with at_node(node):
            modified |= _fold_node(graph, node, opset, limit)
    return modified


def _static_dims_picked(node: ir.Node) -> np.ndarray | None:
    """Gather(Shape(x), k) when the dims it picks are static, the others not (``x.shape[0] == 1`` on [1, N])."""
    if len(node.inputs) != 2:
        return None
    data, index = node.inputs
    shape_node = data.producer() if data is not None else None
    if shape_node is None or shape_node.op_type != "Shape" or index is None or index.const_value is None:
        return None
    x = shape_node.inputs[0]
    if x is None or x.shape is None or "start" in shape_node.attributes or "end" in shape_node.attributes:
        return None
    dims, k = list(x.shape), index.const_value.numpy()
    if k.dtype.kind not in "iu" or not np.all((k >= -len(dims)) & (k < len(dims))):
        return None
    picked = [dims[int(i)] for i in k.reshape(-1)]
    if not all(isinstance(d, int) and d >= 0 for d in picked):
        return None
    return np.asarray(picked, dtype=np.int64).reshape(k.shape)


def _fold_node(graph: ir.Graph, node: ir.Node, opset: int, limit: FoldLimit) -> bool:
    """Replace ``node`` by constants when its result is known and small enough; True when it did."""
    results = _shape_of(node) if node.op_type in ("Shape", "Size") else None
    if node.op_type == "Gather" and not node.attributes.get("axis", ir.AttrInt64("axis", 0)).as_int():
        results = _static_dims_picked(node)
    if node.op_type == "GatherElements":
        results = _gather_elements(node)
    if results is not None:
        limit.take(results.nbytes, node)
    values = [results] if results is not None else _evaluate_guarded(node, opset, limit)
    if values is None:
        return False
    _replace_with_constants(graph, node, values)
    return True


def _gather_elements(node: ir.Node) -> np.ndarray | None:
    """GatherElements of constants with numpy: onnx's evaluator gets it wrong past 32 choices along the axis."""
    if len(node.inputs) != 2 or node.inputs[0] is None or node.inputs[1] is None:
        return None
    data, idx = node.inputs[0].const_value, node.inputs[1].const_value
    if data is None or idx is None:
        return None
    d, k = data.numpy(), idx.numpy()
    axis = node.attributes.get("axis", ir.AttrInt64("axis", 0)).as_int()
    if d.ndim != k.ndim or not -d.ndim <= axis < d.ndim or k.dtype.kind not in "iu":
        raise InputError(f"{label(node)} has indices of rank {k.ndim} for data of rank {d.ndim} or axis {axis}")
    axis %= d.ndim
    n = d.shape[axis]
    if k.size and (k.min() < -n or k.max() >= n):
        raise InputError(f"{label(node)} has an index outside [-{n}, {n}) on its constant inputs")
    if any(kd > dd for a, (kd, dd) in enumerate(zip(k.shape, d.shape, strict=True)) if a != axis):
        raise InputError(f"{label(node)} has indices larger than its data off the axis")
    sliced = d[tuple(slice(0, kd) if a != axis else slice(None) for a, kd in enumerate(k.shape))]
    return np.take_along_axis(sliced, np.where(k < 0, k + n, k).astype(np.int64), axis=axis)


def _evaluate_guarded(node: ir.Node, opset: int, limit: FoldLimit) -> list[np.ndarray] | None:
    """Evaluate a node with constant inputs when its predicted result is small enough, else None."""
    if any(v is not None and v.const_value is None for v in node.inputs):
        return None
    out_bytes = predict_bytes(node, opset)
    if out_bytes is None:
        return None
    in_bytes = sum(v.const_value.nbytes for v in node.inputs if v is not None and v.const_value is not None)
    if out_bytes > _MAX_EXPANSION_BYTES and out_bytes > 2 * in_bytes:
        return None
    if node.op_type in _SLOW and (out_bytes + in_bytes) // 4 > _SLOW_MAX_ELEMENTS:
        return None
    limit.take(out_bytes, node)
    values = _evaluate(node, opset)
    if values is None or any(v.dtype == object for v in values):
        return None
    actual = sum(v.nbytes for v in values)
    if actual > out_bytes:  # a prediction too low is a bug of ours; still count what was made
        limit.take(actual - out_bytes, node)
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


def _inline_constant_if(graph: ir.Graph, node: ir.Node) -> bool:
    """An If whose condition is known: the taken branch replaces it, and folding and shape inference reach its nodes.

    A predicate on a static dim (``Shape(x)[1] > 512``) folds and inlines; on a symbolic dim it stays a run-time If.
    """
    cond = node.inputs[0] if node.inputs else None
    if cond is None or cond.const_value is None or cond.const_value.size != 1:
        return False
    keep = bool(cond.const_value.numpy().reshape(-1)[0])
    taken, dropped = (node.attributes[k].as_graph() for k in (("then_branch", "else_branch") if keep
                                                             else ("else_branch", "then_branch")))
    if len(taken.outputs) != len(node.outputs):
        return False
    for name, value in list(taken.initializers.items()):
        taken.initializers.pop(name)
        while value.name in graph.initializers:
            value.name = f"{value.name}__inlined"
        graph.register_initializer(value)
    nodes = list(taken)
    results = list(taken.outputs)
    taken.outputs.clear()
    dropped.outputs.clear()
    taken.remove(nodes)
    _detach(dropped)  # its nodes stop being users of outer values
    graph.insert_before(node, nodes)
    for out, result in zip(node.outputs, results, strict=True):
        name = out.name or "if_output"
        out.name = f"{name}__inlined"
        known = result.type is not None and result.shape is not None  # else inference fills them in later
        ident = ir.node("Identity", [result], outputs=[ir.Value(name=name, shape=result.shape if known else out.shape,
                                                                type=result.type if known else out.type)])
        graph.insert_before(node, ident)
        out.replace_all_uses_with(ident.outputs[0], replace_graph_outputs=True)
    graph.remove(node, safe=True)
    return True


def _detach(graph: ir.Graph) -> None:
    """Empty a dropped (sub)graph: its nodes, nested subgraphs included, stop being users of any value."""
    for node in list(graph):
        for sub in node_subgraphs(node):
            _detach(sub)
        for i in range(len(node.inputs)):
            node.replace_input_with(i, None)
    graph.remove(list(graph))
