"""ONNX Loop -> tfjs StatelessWhile: the body subgraph goes through the emitter registry into a library function."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnx_ir as ir

from backends.tfjs_graph.emit import CONTROL_FLOW
from backends.tfjs_graph.emitters.common import invalid
from backends.tfjs_graph.emitters.while_loop import FunctionOps, LoopVar, Ops, while_loop
from backends.tfjs_graph.graph import Attr, TfGraph, TfNode, node_of
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, static_shape, tf_dtype, to_tfjs_array
from pivot.errors import EmitError
from pivot.graphs import node_subgraphs

_INT32_MAX = int(np.iinfo(np.int32).max)
_BODY = "body/"  # prefix of body node names inside the function: keeps them apart from argument names
_NP = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_}


def _defined(graph: ir.Graph) -> set[ir.Value]:
    """Values a (sub)graph defines itself, nested subgraphs included."""
    values = set(graph.inputs)
    for node in graph:
        values.update(node.outputs)
        for sub in node_subgraphs(node):
            values |= _defined(sub)
    return values


def _used(graph: ir.Graph) -> list[ir.Value]:
    """Values the nodes of a (sub)graph read, nested subgraphs and graph outputs included, in first-use order."""
    seen: dict[ir.Value, None] = {}
    for node in graph:
        seen.update((v, None) for v in node.inputs if v is not None)
        for sub in node_subgraphs(node):
            seen.update((v, None) for v in _used(sub))
    seen.update((v, None) for v in graph.outputs)
    return list(seen)


def _infer_types(body: ir.Graph, outer: list[ir.Value], opset: int) -> None:
    """Types and shapes for body values that lack them: the pivot's inference fills in main-graph values only.

    Unknown dims that inference can now size (after folding in an If branch) are filled in too.
    """
    missing = [v for node in body for v in node.outputs
               if v.dtype is None or v.shape is None or not all(isinstance(d, int) for d in v.shape)]
    if not missing:
        return
    proto = ir.serde.serialize_graph(body)
    # Outer tensors enter as typed inputs (no data), so that inference sees what the body reads.
    proto.input.extend(ir.serde.serialize_value(v) for v in outer if v.dtype is not None)
    model = onnx.helper.make_model(proto, opset_imports=[onnx.helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {i.name: i.type.tensor_type for i in [*inferred.graph.value_info, *inferred.graph.output]
             if i.type.HasField("tensor_type")}
    for value in missing:
        info = known.get(value.name or "")
        if info is None or not info.elem_type:
            continue
        if value.dtype is None:
            value.dtype = ir.DataType(info.elem_type)
        if not info.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in info.shape.dim]
        if value.shape is None:
            value.shape = ir.Shape(dims)
        elif len(value.shape) == len(dims):  # inference may size dims that were unknown
            value.shape = ir.Shape([n if isinstance(n, int) and not isinstance(d, int) else d
                                    for d, n in zip(value.shape, dims, strict=True)])


def outer_reads(graph: ir.Graph, opset: int) -> list[ir.Value]:
    """Values a subgraph reads from enclosing scopes; fills in the subgraph's missing types on the way."""
    defined = _defined(graph)
    reads = [v for v in _used(graph) if v not in defined]
    _infer_types(graph, reads, opset)
    return reads


def emit_subgraph_node(sub: TfGraph, node: ir.Node, env: dict[ir.Value, str], opset: int,
                       what: str = "Loop body") -> None:
    """Run the registered emitter of one subgraph node against the graph ``sub``."""
    op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
    rule = TFJS.lookup(op, opset) if node.domain in ("", "ai.onnx") else None
    if rule is None:
        raise fail("control_flow" if op in CONTROL_FLOW else "no_rule",
                   f"{what} node {node.name or op}: no TensorFlow.js rule for {op} (opset {opset})")
    try:
        rule.fn(EmitCtx(sub, node, env, opset))
    except EmitError as e:  # name the node inside the subgraph: the failure is reported on the If / Loop node
        raise EmitError(e.reason, f"{what} node {node.name or op} ({op}): {e.detail}", e.hint) from None


class SubgraphBody:
    """Emits one ONNX subgraph (a Loop body, an If branch) into a library function."""

    def __init__(self, ctx: EmitCtx, graph: ir.Graph, what: str = "Loop body") -> None:
        self.ctx, self.graph, self.what = ctx, graph, what
        self.sub = TfGraph()  # scratch graph: emitters write here, then nodes move into the function
        self.env: dict[ir.Value, str] = {}

    def bind(self, f: FunctionOps, args: list[str]) -> None:
        """Body inputs -> loop arguments; outer tensors the body reads -> captured arguments."""
        inputs = self.graph.inputs
        self.env[inputs[0]] = args[0]
        self.env[inputs[1]] = args[2]
        for k, value in enumerate(inputs[2:]):
            self.env[value] = args[3 + k]
        self.capture(f, args)

    def capture(self, f: FunctionOps, args: Sequence[str] = ()) -> None:
        """Outer tensors the subgraph reads -> captured arguments of ``f`` (constants stay constants)."""
        outer = self.ctx._env  # the enclosing graph's bindings; the body may read any of them
        for value in outer_reads(self.graph, self.ctx.opset):
            if value.const_value is not None:
                continue
            if value not in outer:
                raise fail("no_rule", f"{self.what} reads {value.name}, which is not available")
            self.env[value] = f.capture(outer[value], tf_dtype(value.dtype))
            shape = static_shape(value)
            if shape is not None:
                self.sub.shapes[self.env[value]] = shape
        for name in {*args, *f.captured.values()}:
            self.sub.unique(name)  # reserve: no body node may take an argument's name

    def emit(self, f: FunctionOps) -> list[str]:
        """Emit every body node, move them into ``f``; returns the body outputs as function references."""
        for node in self.graph:
            emit_subgraph_node(self.sub, node, self.env, self.ctx.opset, self.what)
        self.ctx.graph.functions += self.sub.functions  # loops nested in this body
        names = self._move(f)
        return [self._result(f, value, names) for value in self.graph.outputs]

    def _move(self, f: FunctionOps) -> dict[str, str]:
        """Append the scratch nodes to ``f``: Consts become captured main-graph Consts."""
        names: dict[str, str] = {}
        for node in self.sub.nodes:
            if node.op == "Const":
                names[node.name] = f.const(self.sub.consts[node.name])
                continue
            inputs = [self._ref(ref, names) for ref in node.inputs]
            names[node.name] = f"{_BODY}{node.name}"
            f.fn.nodes.append(TfNode(names[node.name], node.op, inputs, dict(node.attrs)))
        return names

    @staticmethod
    def _ref(ref: str, names: dict[str, str]) -> str:
        """A scratch-graph reference in FunctionDef form (``node:output:k``); arguments stay as they are."""
        target = names.get(node_of(ref))
        if target is None or not target.startswith(_BODY):  # a loop argument, or a Const turned argument
            return target or ref
        k = int(ref.rsplit(":", 1)[1]) if ":" in ref else 0
        return target if k == 0 else f"{target}:output:{k}"

    def _result(self, f: FunctionOps, value: ir.Value, names: dict[str, str]) -> str:
        if value in self.env:
            return self._ref(self.env[value], names)
        if value.const_value is not None:
            return f.const(to_tfjs_array(value.const_value.numpy(), value.name or "loop constant"))
        raise fail("no_rule", f"{self.what} output {value.name} was not emitted")


def _trip_count(ctx: EmitCtx, ops: Ops) -> str:
    """The int32 trip-count bound: absent or beyond int32 (tf2onnx writes int64 max) means unbounded."""
    if not ctx.has_input(0):
        return ops.ints(_INT32_MAX)
    value = ctx.const(0)
    if value is not None and (value.size != 1 or value.dtype.kind not in "iu"):
        raise invalid(ctx, f"the trip count M must be one integer (is {value.dtype} of shape {list(value.shape)})")
    if value is not None:
        return ops.ints(int(min(int(np.asarray(value).reshape(-1)[0]), _INT32_MAX)))
    return ctx.input(0)


def _scan_shape(value: ir.Value) -> list[int]:
    shape = static_shape(value)
    if shape is None:
        raise fail("dynamic_shape", f"Loop scan output {value.name} needs a known rank",
                   "run shape inference on the model or give the loop body static ranks")
    return [-1 if d is None else d for d in shape]


@TFJS.rule("Loop", since=11, produces={"StatelessWhile", "LogicalAnd", "Less", "AddV2", "EmptyTensorList",
                                       "TensorListPushBack", "TensorListStack"},
           limits=("loop-carried values are tensors (no sequences or optionals)", "scan outputs need a known rank",
                   "scan outputs of a loop that runs zero times fail in tfjs (it cannot stack an empty list)",
                   "needs executeAsync / predictAsync"))
def _emit_loop(ctx: EmitCtx) -> None:
    """Loop(M, cond, v_initial...; body) -> v_final..., scan_outputs..."""
    body: ir.Graph = ctx.attr("body")
    ops = Ops(ctx)
    carried = len(body.inputs) - 2
    scans = [_scan_shape(v) for v in body.outputs[1 + carried:]]
    scan_dtypes = [tf_dtype(v.dtype) for v in body.outputs[1 + carried:]]
    cond = ctx.input(1) if ctx.has_input(1) else ops.const(np.asarray(True))
    loop_vars = [LoopVar(ops.ints(0), "DT_INT32"), LoopVar(_trip_count(ctx, ops), "DT_INT32"), LoopVar(cond, "DT_BOOL"),
                 *(LoopVar(ctx.input(2 + k), tf_dtype(ctx.dtype(2 + k))) for k in range(carried)),
                 *(LoopVar(ops("EmptyTensorList", ops.ints(shape), ops.ints(-1), t=None, element_dtype=Attr.dtype(dt),
                               shape_type=Attr.dtype("DT_INT32")), "DT_VARIANT")
                   for shape, dt in zip(scans, scan_dtypes, strict=True)),
                 # tfjs disposes a function's intermediate tensors after each run, even those a TensorList
                 # holds: each pushed element is also carried out of the body, which keeps it alive.
                 *(LoopVar(ops.const(np.zeros((), _NP[dt])), dt) for dt in scan_dtypes)]
    emitter = SubgraphBody(ctx, body)

    def step(f: FunctionOps, a: list[str]) -> list[str]:
        emitter.bind(f, a)
        out = emitter.emit(f)
        pushed = [f("TensorListPushBack", a[3 + carried + j], out[1 + carried + j], t=None,
                    element_dtype=Attr.dtype(dt)) for j, dt in enumerate(scan_dtypes)]
        return [f("AddV2", a[0], f.ints(1), t="DT_INT32"), a[1], out[0], *out[1:1 + carried], *pushed,
                *out[1 + carried:]]

    def more(f: FunctionOps, a: list[str]) -> str:
        return f("LogicalAnd", a[2], f("Less", a[0], a[1], t="DT_INT32"), t=None)

    final = while_loop(ops, loop_vars, more, step, "loop")
    for k in range(carried):
        ctx.set_output(k, final[3 + k])
    for j, (shape, dt) in enumerate(zip(scans, scan_dtypes, strict=True)):
        stacked = ops("TensorListStack", final[3 + carried + j], ops.ints(shape), t=None,
                      element_dtype=Attr.dtype(dt), num_elements=Attr.i(-1))
        ctx.set_output(carried + j, stacked)
