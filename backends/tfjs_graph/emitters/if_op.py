"""ONNX If -> tfjs StatelessIf: each branch goes through the emitter registry into a library function."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.loop import SubgraphBody, emit_subgraph_node, outer_reads
from backends.tfjs_graph.emitters.while_loop import FunctionOps, Ops
from backends.tfjs_graph.graph import Attr, TfFunction
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, tf_dtype, to_tfjs_array
from pivot.errors import ConversionError
from pivot.passes.fold import DEFAULT_MAX_FOLD_BYTES, FoldLimit, fold_graph

_FOLD_SWEEPS = 8  # as many as the pivot pipeline runs on the main graph


def _branch_dtypes(ctx: EmitCtx, then_g: ir.Graph, else_g: ir.Graph) -> list[str]:
    """The tfjs dtype of each If output; both branches must agree (tfjs has one ``Tout``)."""
    if len(then_g.outputs) != len(else_g.outputs) or len(then_g.outputs) != len(ctx.node.outputs):
        raise fail("attribute", "If branches must have as many outputs as the If node")
    dtypes = []
    for k, (a, b) in enumerate(zip(then_g.outputs, else_g.outputs, strict=True)):
        if not isinstance(a.type, ir.TensorType) or not isinstance(b.type, ir.TensorType):
            raise fail("dtype", f"If output {k} is not a tensor (sequences and optionals have no tfjs form)")
        ta, tb = tf_dtype(a.dtype), tf_dtype(b.dtype)
        if ta != tb:
            raise fail("dtype", f"If output {k}: then branch gives {ta}, else branch {tb}",
                       "cast both branches to the same type")
        dtypes.append(ta)
    return dtypes


def _simplify(ctx: EmitCtx, branch: ir.Graph) -> None:
    """Fold what a branch knows statically, as the pivot does for the main graph (which it does not enter).

    Exporters guard code with rank and shape tests (``if x.dim() == 3: x = x.squeeze(0)``): with the branch's
    types inferred from the outer values, such predicates fold and the taken inner branch is inlined. A branch
    whose constant part fails to evaluate is left as it is (it may be the branch that never runs).
    """
    limit = FoldLimit(DEFAULT_MAX_FOLD_BYTES)
    for _ in range(_FOLD_SWEEPS):
        outer_reads(branch, ctx.opset)  # types and shapes of the branch's values, from the outer ones
        try:
            if not fold_graph(branch, ctx.opset, limit):
                return
        except ConversionError:
            return


def _inline(ctx: EmitCtx, branch: ir.Graph) -> None:
    """A constant condition: emit the taken branch straight into the enclosing graph (no control flow)."""
    outer_reads(branch, ctx.opset)  # types and shapes for the branch's own values
    for node in branch:
        emit_subgraph_node(ctx.graph, node, ctx._env, ctx.opset, "If branch")
    for k, value in enumerate(branch.outputs):
        if value in ctx._env:
            ctx.set_output(k, ctx._env[value])
        elif value.const_value is not None:
            arr = to_tfjs_array(value.const_value.numpy(), value.name or "If constant")
            ctx.set_output(k, ctx.constant(arr, f"out{k}"))
        else:
            raise fail("no_rule", f"If branch output {value.name} was not emitted")


def _functions(ctx: EmitCtx, ops: Ops, then_g: ir.Graph, else_g: ir.Graph,
               dtypes: list[str]) -> tuple[TfFunction, TfFunction, list[str]]:
    """Both branch functions over one shared argument list; returns them and the outer tensors passed in."""
    base = ctx.graph.unique(f"{ctx.name}/if")
    outs = [(f"out{k}", dt) for k, dt in enumerate(dtypes)]
    then_fn, else_fn = TfFunction(f"{base}_then", [], list(outs)), TfFunction(f"{base}_else", [], list(outs))
    then_ops, else_ops = FunctionOps(ops, then_fn), FunctionOps(ops, else_fn)
    then_fn.ret = dict(zip([n for n, _ in outs], _emit_branch(ctx, then_g, then_ops, "If then branch"), strict=True))
    # StatelessIf passes the same arguments to either branch: the else branch starts from the
    # then branch's captures, and the then branch then takes every argument the else branch added.
    else_fn.inputs = list(then_fn.inputs)
    else_ops.captured = dict(then_ops.captured)
    else_fn.ret = dict(zip([n for n, _ in outs], _emit_branch(ctx, else_g, else_ops, "If else branch"), strict=True))
    then_fn.inputs = list(else_fn.inputs)
    return then_fn, else_fn, list(else_ops.captured)


def _emit_branch(ctx: EmitCtx, branch: ir.Graph, f: FunctionOps, what: str) -> list[str]:
    body = SubgraphBody(ctx, branch, what)
    body.capture(f)
    return body.emit(f)


@TFJS.rule("If", since=11, produces={"StatelessIf"},
           limits=("branch outputs are tensors of the same dtype in both branches",
                   "needs executeAsync / predictAsync (a constant condition is inlined instead)"))
def _emit_if(ctx: EmitCtx) -> None:
    """If(cond; then_branch, else_branch) -> outputs of the branch cond selects."""
    then_g: ir.Graph = ctx.attr("then_branch")
    else_g: ir.Graph = ctx.attr("else_branch")
    cond = ctx.const(0)
    if cond is not None:
        _inline(ctx, then_g if bool(np.asarray(cond).reshape(-1)[0]) else else_g)
        return
    _simplify(ctx, then_g)  # also fills in branch output types that the pivot's inference left out
    _simplify(ctx, else_g)
    dtypes = _branch_dtypes(ctx, then_g, else_g)
    then_fn, else_fn, args = _functions(ctx, Ops(ctx), then_g, else_g, dtypes)
    ctx.graph.functions += [then_fn, else_fn]
    attrs = {"Tcond": Attr.dtype("DT_BOOL"), "Tin": Attr.types([dt for _, dt in then_fn.inputs]),
             "Tout": Attr.types(dtypes), "then_branch": Attr.func(then_fn.name),
             "else_branch": Attr.func(else_fn.name)}
    node = ctx.add("StatelessIf", [ctx.input(0), *args], attrs)
    for k in range(len(dtypes)):
        ctx.set_output(k, node if k == 0 else f"{node}:{k}")
