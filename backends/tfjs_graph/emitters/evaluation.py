"""ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, TopK and CumSum."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import (
    const_scalar,
    int_const,
    invalid,
    normalize_axis,
    runtime_shape,
    table,
    transpose,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, tf_dtype


def _to_last(axis: int, rank: int) -> list[int]:
    """The permutation moving ``axis`` to the end (tfjs softmax/top-k work on the last axis only)."""
    return [*[d for d in range(rank) if d != axis], axis]


def _inverse(perm: list[int]) -> list[int]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _static_dim(ctx: EmitCtx, axis: int, what: str) -> int:
    dim = (ctx.shape(0) or ())[axis]
    if dim is None:
        raise fail("dynamic_shape", f"{what} needs the static size of axis {axis}",
                    "export the model with static shapes")
    return int(dim)


def _axis_size(ctx: EmitCtx, axis: int) -> str:
    """The size of ``axis`` of input 0 as an int32 scalar: a constant when static, else read at run time."""
    dim = (ctx.shape(0) or ())[axis]
    if isinstance(dim, int):
        return int_const(ctx, dim, "size")
    i32 = {"T": Attr.dtype("DT_INT32")}
    masks = {m: Attr.i(0) for m in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask")}
    shape = runtime_shape(ctx, ctx.input(0), "size/shape")
    return ctx.add("StridedSlice", [shape, int_const(ctx, [axis], "size/begin"),
                                    int_const(ctx, [axis + 1], "size/end"), int_const(ctx, [1], "size/strides")],
                   {**masks, "shrink_axis_mask": Attr.i(1), **i32}, suffix="size")


def _arg(tf_op: str, onnx_op: str) -> None:
    def emit(ctx: EmitCtx) -> None:
        rank = ctx.rank(0)
        axis = normalize_axis(int(ctx.attr("axis", 0)), rank)
        x, last = ctx.input(0), bool(ctx.attr("select_last_index", 0))
        t = {"T": Attr.dtype(tf_dtype(ctx.dtype(0)))}
        if last:  # tfjs returns the first extreme index: search the reversed axis and map back
            x = ctx.add("ReverseV2", [x, int_const(ctx, [axis], "reverse/axis")], t, suffix="reverse")
        y = ctx.add(tf_op, [x, int_const(ctx, axis, "axis")], t | {"output_type": Attr.dtype("DT_INT32")},
                    suffix="arg")
        i32 = {"T": Attr.dtype("DT_INT32")}
        if last:  # (n - 1) - y; n read at run time when the axis is dynamic
            n = _axis_size(ctx, axis)
            value = ctx.graph.const_value(n)
            end = int_const(ctx, int(value) - 1, "last") if value is not None else \
                ctx.add("Sub", [n, int_const(ctx, 1, "one")], i32, suffix="last")
            y = ctx.add("Sub", [end, y], i32, suffix="from_end")
        if ctx.attr("keepdims", 1):
            y = ctx.add("ExpandDims", [y, int_const(ctx, axis, "keep/axis")], suffix="keepdims")
        ctx.set_output(0, y)

    emit.__doc__ = f"{onnx_op}(data; axis, keepdims, select_last_index) -> reduced (int64)."
    TFJS.rule(onnx_op, produces={tf_op, "ReverseV2", "Sub", "ExpandDims", "Shape", "StridedSlice"},
              limits=("select_last_index=1 on a dynamic axis reads its size at run time",))(emit)


_arg("ArgMax", "ArgMax")
_arg("ArgMin", "ArgMin")


def _last_axis_op(ctx: EmitCtx, build: str) -> None:
    """Transpose the ONNX axis to the end, apply a last-axis op, transpose back."""
    rank = ctx.rank(0)
    axis = normalize_axis(int(ctx.attr("axis", -1)), rank)
    perm = _to_last(axis, rank)
    x = transpose(ctx, ctx.input(0), perm, "to_last")
    t = {"T": Attr.dtype(ctx.out_dtype())}
    if build == "Hardmax":
        n = _static_dim(ctx, axis, "Hardmax")
        table(ctx, n, "the Hardmax index range", 4)
        arg = ctx.add("ArgMax", [x, int_const(ctx, rank - 1, "axis")], t, suffix="argmax")
        # Equal(iota, argmax) then Cast: the OneHot kernels disagree on the output dtype (wasm writes int32).
        hit = ctx.add("Equal", [ctx.constant(np.arange(n, dtype=np.int32), "iota"),
                                ctx.add("ExpandDims", [arg, int_const(ctx, rank - 1, "expand/axis")], suffix="expand")],
                      {"T": Attr.dtype("DT_INT32")}, suffix="equal")
        y = ctx.add("Cast", [hit], {"SrcT": Attr.dtype("DT_BOOL"), "DstT": Attr.dtype("DT_FLOAT")}, suffix="cast")
    else:
        y = ctx.add(build, [x], t, suffix=build.lower())
    ctx.set_output(0, transpose(ctx, y, _inverse(perm), "from_last"))


@TFJS.rule("Softmax", produces={"Softmax", "Transpose"})
def softmax(ctx: EmitCtx) -> None:
    """Softmax(input; axis) -> output."""
    _last_axis_op(ctx, "Softmax")


@TFJS.rule("LogSoftmax", produces={"LogSoftmax", "Transpose"})
def log_softmax(ctx: EmitCtx) -> None:
    """LogSoftmax(input; axis) -> output."""
    _last_axis_op(ctx, "LogSoftmax")


@TFJS.rule("Hardmax", produces={"ArgMax", "ExpandDims", "Equal", "Cast", "Transpose"},
           limits=("needs a static size of the axis", "float32 input only"))
def hardmax(ctx: EmitCtx) -> None:
    """Hardmax(input; axis) -> output."""
    if ctx.dtype(0) != ir.DataType.FLOAT:
        raise fail("dtype", "Hardmax is emitted for float32 input only", "cast the input to float32")
    _last_axis_op(ctx, "Hardmax")


@TFJS.rule("TopK", produces={"TopKV2", "Neg", "Transpose"})
def top_k(ctx: EmitCtx) -> None:
    """TopK(X, K; axis, largest, sorted) -> Values, Indices (a run-time K is read by tfjs when the op runs)."""
    rank = ctx.rank(0)
    axis = normalize_axis(int(ctx.attr("axis", -1)), rank)
    k = int_const(ctx, const_scalar(ctx, 1, "K"), "k") if ctx.const(1) is not None else ctx.input(1)
    perm = _to_last(axis, rank)
    t = {"T": Attr.dtype(ctx.out_dtype())}
    x = transpose(ctx, ctx.input(0), perm, "to_last")
    smallest = not ctx.attr("largest", 1)
    if smallest:  # the k smallest are the k largest of -x; ties still resolve to the lower index
        x = ctx.add("Neg", [x], t, suffix="neg")
    # Always sorted: a sorted result is a valid answer for sorted=0 too.
    top = ctx.add("TopKV2", [x, k], t | {"sorted": Attr.b(True)}, suffix="topk")
    values = ctx.add("Neg", [top], t, suffix="unneg") if smallest else top
    ctx.set_output(0, transpose(ctx, values, _inverse(perm), "values"))
    ctx.set_output(1, transpose(ctx, f"{top}:1", _inverse(perm), "indices"))


@TFJS.rule("CumSum", produces={"Cumsum", "FloorMod"}, limits=("the input rank must be known",))
def cum_sum(ctx: EmitCtx) -> None:
    """CumSum(x, axis; exclusive, reverse) -> y.

    tfjs reads a run-time axis when the op runs, but mishandles a negative one: it is wrapped with FloorMod.
    """
    rank = ctx.rank(0)
    if rank == 0:
        raise invalid(ctx, "the input must have rank 1 or more")
    if ctx.const(1) is not None:
        axis = int_const(ctx, normalize_axis(const_scalar(ctx, 1, "axis"), rank), "axis")
    else:
        axis = ctx.add("FloorMod", [ctx.input(1), int_const(ctx, rank, "rank")], {"T": Attr.dtype("DT_INT32")},
                       suffix="axis")
    attrs = {"exclusive": Attr.b(bool(ctx.attr("exclusive", 0))), "reverse": Attr.b(bool(ctx.attr("reverse", 0))),
             "T": Attr.dtype(ctx.out_dtype())}
    ctx.set_output(0, ctx.add("Cumsum", [ctx.input(0), axis], attrs))
