"""Reductions (ReduceX with constant axes) lowered to tfjs Sum/Mean/Max/Min/Prod/All/Any plus elementwise ops."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import (
    RUNTIME_SHAPE_OPS,
    concat_dims,
    const_ints,
    dims_ref,
    int_const,
    normalize_axis,
    runtime_shape,
    table,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

_INTS = {ir.DataType.INT32, ir.DataType.INT64, ir.DataType.INT8, ir.DataType.UINT8, ir.DataType.INT16,
         ir.DataType.UINT16}
_AXES_LIMITS = ("axes must be a constant input",
                "a reduced axis of size 0 gives the identity only when that size is static "
                "(the other dims may be dynamic)")
# A reduction over a static zero-size axis with dynamic other dims: Fill(run-time output shape, identity).
_EMPTY_OPS = frozenset({"Fill", *RUNTIME_SHAPE_OPS})


@dataclass(frozen=True)
class _Plan:
    """A reduction as pre-op(s) -> tfjs reduction -> post-op; ``float_only`` rejects integer inputs."""

    pre: tuple[str, ...]
    reduce: str
    post: str | None = None
    float_only: bool = False


# "Square" is written as Mul(x, x) so that it stays exact for int32 on every backend.
_PLANS = {
    "ReduceSum": _Plan((), "Sum"),
    "ReduceMax": _Plan((), "Max"),
    "ReduceMin": _Plan((), "Min"),
    "ReduceProd": _Plan((), "Prod"),
    "ReduceL1": _Plan(("Abs",), "Sum"),
    "ReduceSumSquare": _Plan(("Square",), "Sum"),
    "ReduceL2": _Plan(("Square",), "Sum", "Sqrt", float_only=True),
    "ReduceLogSum": _Plan((), "Sum", "Log", float_only=True),
}
_BOOL_REDUCE = {"ReduceMax": "Any", "ReduceMin": "All"}
# The result of reducing a zero-size axis ("max"/"min" are the dtype's highest/lowest value). ONNX leaves
# ReduceMean undefined there; onnxruntime gives 0.
_EMPTY: dict[str, float | str] = {
    "ReduceSum": 0, "ReduceL1": 0, "ReduceL2": 0, "ReduceSumSquare": 0, "ReduceProd": 1, "ReduceMax": "min",
    "ReduceMin": "max", "ReduceLogSum": -np.inf, "ReduceLogSumExp": -np.inf, "ReduceMean": 0,
}


def reduce_axes(ctx: EmitCtx) -> list[int] | None:
    """The sorted, non-negative constant axes; [] means "all axes", None means "no reduction" (noop)."""
    rank = ctx.rank(0)
    axes = [] if not ctx.has_input(1) else const_ints(ctx, 1, "axes")
    if not axes:
        return None if ctx.attr("noop_with_empty_axes", 0) else list(range(rank))
    return sorted({normalize_axis(a, rank) for a in axes})


def _empty_value(op: str, dtype: np.dtype) -> float | int | bool:
    value = _EMPTY[op]
    if dtype == np.bool_:
        return value == "max"  # ReduceMin of nothing is True, ReduceMax False
    if value in ("min", "max"):
        if dtype.kind in "iu":
            return int(getattr(np.iinfo(dtype), str(value)))
        return -np.inf if value == "min" else np.inf
    if dtype.kind in "iu" and not np.isfinite(float(value)):
        raise fail("dtype", f"{op} of an empty integer set has no integer value")
    return float(value)


def empty_reduction(ctx: EmitCtx, axes: list[int] | None) -> bool:
    """Write the identity when a reduced axis has size 0 (tfjs wasm returns garbage there).

    A constant when the output shape is static, else ``Fill`` of the output shape read at run time.
    """
    shape = ctx.shape(0)
    if axes is None or shape is None or not any(shape[a] == 0 for a in axes):
        return False
    dtype = np.dtype(ctx.dtype(0).numpy())  # type: ignore[union-attr]
    value = _empty_value(ctx.node.op_type, dtype)
    out = ctx.out_shape()
    if out is not None and all(d is not None for d in out):
        table(ctx, math.prod(int(d or 0) for d in out), "the empty reduction's result", dtype.itemsize)
        ctx.set_output(0, ctx.constant(np.full(tuple(int(d or 0) for d in out), value, dtype=dtype), "empty"))
        return True
    keep, x = bool(ctx.attr("keepdims", 1)), ctx.input(0)
    full = runtime_shape(ctx, x, "empty/shape")
    parts: list[str | list[int]] = []
    for i in range(len(shape)):
        if i in axes:
            if keep:
                parts.append([1])
        else:
            parts.append(dims_ref(ctx, x, shape, i, i + 1, f"empty/dim{i}", full))
    dims = concat_dims(ctx, parts, "empty/dims")
    fill = ctx.constant(np.asarray(value, dtype=dtype), "empty/value")
    ctx.set_output(0, ctx.add("Fill", [dims, fill], {"T": Attr.dtype(ctx.out_dtype()),
                                                    "index_type": Attr.dtype("DT_INT32")}, suffix="empty"))
    return True


def reduce_op(ctx: EmitCtx, op: str, x: str, axes: list[int], keep: bool, suffix: str = "") -> str:
    """``op(x, axes_const; keep_dims)`` for a tfjs reduction."""
    attrs = {"keep_dims": Attr.b(keep), "T": Attr.dtype(ctx.out_dtype())}
    return ctx.add(op, [x, int_const(ctx, axes, f"{suffix or op}/axes")], attrs, suffix=suffix)


def _elementwise(ctx: EmitCtx, op: str, x: str) -> str:
    t = {"T": Attr.dtype(ctx.out_dtype())}
    if op == "Square":
        return ctx.add("Mul", [x, x], t, suffix="square")
    return ctx.add(op, [x], t, suffix=op.lower())


def _check_int(ctx: EmitCtx, float_only: bool) -> bool:
    is_int = ctx.dtype(0) in _INTS
    if is_int and float_only:
        raise fail("dtype", f"{ctx.node.op_type} of an integer tensor truncates a float result; "
                            "TensorFlow.js computes it in float32 only", "cast the input to float32")
    return is_int


def _planned(plan: _Plan, op_type: str) -> None:
    produces = {"Mul" if p == "Square" else p for p in plan.pre} | {plan.reduce} | _EMPTY_OPS
    produces |= {plan.post} if plan.post else set()
    produces |= {_BOOL_REDUCE[op_type]} if op_type in _BOOL_REDUCE else set()
    limits = (*_AXES_LIMITS, "float32 input only") if plan.float_only else _AXES_LIMITS

    def emit(ctx: EmitCtx) -> None:
        _check_int(ctx, plan.float_only)
        axes, y = reduce_axes(ctx), ctx.input(0)
        if empty_reduction(ctx, axes):
            return
        for pre in plan.pre:
            y = _elementwise(ctx, pre, y)
        if axes is not None:
            tf_op = _BOOL_REDUCE.get(op_type, plan.reduce) if ctx.dtype(0) == ir.DataType.BOOL else plan.reduce
            y = reduce_op(ctx, tf_op, y, axes, bool(ctx.attr("keepdims", 1)))
        if plan.post is not None:
            y = _elementwise(ctx, plan.post, y)
        ctx.set_output(0, ctx.add("Identity", [y], suffix="out") if y == ctx.input(0) else y)

    emit.__doc__ = f"{op_type}(data, axes?; keepdims, noop_with_empty_axes) -> reduced."
    TFJS.rule(op_type, produces=produces, limits=limits)(emit)


for _op, _plan in _PLANS.items():
    _planned(_plan, _op)


@TFJS.rule("ReduceMean", produces={"Mean", "Sum", "Abs", "FloorDiv", "Sign", "Mul", "GatherV2", "Prod", *_EMPTY_OPS},
           limits=(*_AXES_LIMITS, "integer mean of dynamic reduced axes reads their sizes at run time"))
def reduce_mean(ctx: EmitCtx) -> None:
    """ReduceMean(data, axes?; keepdims, noop_with_empty_axes) -> reduced."""
    axes, x, keep = reduce_axes(ctx), ctx.input(0), bool(ctx.attr("keepdims", 1))
    if empty_reduction(ctx, axes):
        return
    if axes is None:
        ctx.set_output(0, ctx.add("Identity", [x], suffix="out"))
    elif not _check_int(ctx, False):
        ctx.set_output(0, reduce_op(ctx, "Mean", x, axes, keep))
    else:
        ctx.set_output(0, _int_mean(ctx, x, axes, keep))


def _int_mean(ctx: EmitCtx, x: str, axes: list[int], keep: bool) -> str:
    """ONNX truncates the integer mean toward zero: sign(s) * (|s| floordiv n), exact in int32."""
    shape = ctx.shape(0) or ()
    t = {"T": Attr.dtype("DT_INT32")}
    sizes = [shape[a] for a in axes]
    static = [d for d in sizes if isinstance(d, int)]
    if len(static) < len(sizes):  # the element count of the reduced axes, at run time
        dims = ctx.add("GatherV2", [runtime_shape(ctx, x, "count/shape"), int_const(ctx, axes, "count/axes"),
                                    int_const(ctx, 0, "count/axis")], {"batch_dims": Attr.i(0)}, suffix="count/dims")
        count = ctx.add("Prod", [dims, int_const(ctx, [0], "count/prod_axes")], {"keep_dims": Attr.b(False), **t},
                        suffix="count")
    else:
        count = int_const(ctx, math.prod(static), "count")
    s = reduce_op(ctx, "Sum", x, axes, keep)
    q = ctx.add("FloorDiv", [ctx.add("Abs", [s], t, suffix="abs"), count], t,
                suffix="floordiv")
    return ctx.add("Mul", [q, ctx.add("Sign", [s], t, suffix="sign")], t, suffix="mean")


@TFJS.rule("ReduceLogSumExp", produces={"Max", "Sub", "Exp", "Sum", "Log", "AddV2", *_EMPTY_OPS},
           limits=(*_AXES_LIMITS, "float32 input only"))
def reduce_log_sum_exp(ctx: EmitCtx) -> None:
    """ReduceLogSumExp(data, axes?; keepdims, noop_with_empty_axes) -> reduced."""
    _check_int(ctx, True)
    axes, x, keep = reduce_axes(ctx), ctx.input(0), bool(ctx.attr("keepdims", 1))
    if empty_reduction(ctx, axes):
        return
    if axes is None:
        ctx.set_output(0, ctx.add("Identity", [x], suffix="out"))
        return
    # Stable form: m + log(sum(exp(x - m))) with m the max over the axes.
    t = {"T": Attr.dtype(ctx.out_dtype())}
    m = reduce_op(ctx, "Max", x, axes, True, suffix="max")
    e = ctx.add("Exp", [ctx.add("Sub", [x, m], t, suffix="shift")], t, suffix="exp")
    log = ctx.add("Log", [reduce_op(ctx, "Sum", e, axes, keep, suffix="sum")], t, suffix="log")
    m_out = m if keep else reduce_op(ctx, "Max", x, axes, False, suffix="max_out")
    ctx.set_output(0, ctx.add("AddV2", [log, m_out], t))
