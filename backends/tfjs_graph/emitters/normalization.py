"""Normalization ops: BatchNormalization, InstanceNormalization, LayerNormalization, LpNormalization, ..."""

from __future__ import annotations

import numpy as np

from backends.tfjs_graph.emitters.common import (
    concat_dims,
    dim_at,
    int_const,
    normalize_axis,
    runtime_shape,
    to_channels_first,
    to_channels_last,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

_FLOAT = {"T": Attr.dtype("DT_FLOAT")}


def _op(ctx: EmitCtx, op: str, inputs: list[str], suffix: str) -> str:
    return ctx.add(op, inputs, dict(_FLOAT), suffix=suffix)


def _mean(ctx: EmitCtx, x: str, axes: list[int], suffix: str) -> str:
    return ctx.add("Mean", [x, int_const(ctx, axes, f"{suffix}/axes")], {"keep_dims": Attr.b(True)}, suffix=suffix)


def _need_float(ctx: EmitCtx) -> None:
    if ctx.out_dtype() != "DT_FLOAT":
        raise fail("dtype", f"{ctx.node.op_type} is only supported for float32 tensors")


def _channel_param(ctx: EmitCtx, i: int, rank: int, suffix: str) -> str:
    """Input ``i`` (a [C] vector) shaped [C, 1, ...] so that it broadcasts over an NC... tensor."""
    shape = [-1] + [1] * (rank - 2)
    arr = ctx.const(i)
    if arr is not None:
        return ctx.constant(arr.astype(np.float32).reshape(shape), suffix)
    if rank == 2:
        return ctx.input(i)
    return ctx.add("Reshape", [ctx.input(i), int_const(ctx, shape, f"{suffix}/shape")], suffix=f"{suffix}/reshape")


def _normalize(ctx: EmitCtx, x: str, axes: list[int], eps: float) -> tuple[str, str, str]:
    """(x - mean) * rsqrt(var + eps) over ``axes``; returns (normalized, mean, inv_std_dev)."""
    mean = _mean(ctx, x, axes, "mean")
    # Square of the centred tensor, which the output needs anyway: a unary kernel instead of a broadcast
    # SquaredDifference (the same float values, ~10% less time in tfjs wasm).
    centered = _op(ctx, "Sub", [x, mean], "centered")
    var = _mean(ctx, _op(ctx, "Square", [centered], "sq_diff"), axes, "variance")
    inv = _op(ctx, "Rsqrt", [_op(ctx, "AddV2", [var, ctx.constant(np.float32(eps), "epsilon")], "var_eps")], "inv_std")
    return _op(ctx, "Mul", [centered, inv], "normalized"), mean, inv


def _bn_affine(ctx: EmitCtx, rank: int, eps: float) -> tuple[str, str]:
    """Per-channel (multiplier, offset) of an inference BatchNormalization, shaped [C, 1, ...]."""
    shape = [-1] + [1] * (rank - 2)
    params = [ctx.const(i) for i in range(1, 5)]
    if all(p is not None for p in params):
        scale, bias, mean, var = (np.asarray(p, np.float64) for p in params)
        mul = scale / np.sqrt(var + eps)
        return (ctx.constant(mul.astype(np.float32).reshape(shape), "scale"),
                ctx.constant((bias - mean * mul).astype(np.float32).reshape(shape), "offset"))
    gamma, beta, mu, sigma2 = (ctx.input(i) for i in range(1, 5))
    inv = _op(ctx, "Rsqrt", [_op(ctx, "AddV2", [sigma2, ctx.constant(np.float32(eps), "epsilon")], "var_eps")],
              "inv_std")
    m = _op(ctx, "Mul", [gamma, inv], "mul")
    off = _op(ctx, "Sub", [beta, _op(ctx, "Mul", [mu, m], "mean_mul")], "off")
    if rank == 2:
        return m, off
    return (ctx.add("Reshape", [m, int_const(ctx, shape, "scale/shape")], suffix="scale"),
            ctx.add("Reshape", [off, int_const(ctx, shape, "offset/shape")], suffix="offset"))


@TFJS.rule("BatchNormalization", produces={"Mul", "AddV2", "Sub", "Rsqrt", "Reshape"},
           limits=("inference only (training_mode=0)", "input rank >= 2, channel axis 1"))
def batch_normalization(ctx: EmitCtx) -> None:
    """BatchNormalization(X, scale, B, input_mean, input_var; epsilon, momentum, training_mode) -> Y."""
    if ctx.attr("training_mode", 0):
        raise fail("attribute", "BatchNormalization with training_mode=1 is not supported",
                   "export the model in inference mode (model.eval())")
    _need_float(ctx)
    rank, eps = ctx.rank(0), float(ctx.attr("epsilon", 1e-5))
    if rank < 2:
        raise fail("attribute", f"BatchNormalization needs an input of rank >= 2, got rank {rank}")
    s, o = _bn_affine(ctx, rank, eps)
    ctx.set_output(0, _op(ctx, "AddV2", [_op(ctx, "Mul", [ctx.input(0), s], "mul_x"), o], "add"))


@TFJS.rule("InstanceNormalization", produces={"Mean", "Square", "Sub", "Mul", "AddV2", "Rsqrt", "Reshape"},
           limits=("input rank >= 3",))
def instance_normalization(ctx: EmitCtx) -> None:
    """InstanceNormalization(input, scale, B; epsilon) -> output."""
    _need_float(ctx)
    rank = ctx.rank(0)
    if rank < 3:
        raise fail("attribute", f"InstanceNormalization needs an input of rank >= 3, got rank {rank}")
    y, _, _ = _normalize(ctx, ctx.input(0), list(range(2, rank)), float(ctx.attr("epsilon", 1e-5)))
    y = _op(ctx, "Mul", [y, _channel_param(ctx, 1, rank, "scale")], "scaled")
    ctx.set_output(0, _op(ctx, "AddV2", [y, _channel_param(ctx, 2, rank, "bias")], "add"))


@TFJS.rule("LayerNormalization", produces={"Mean", "Square", "Sub", "Mul", "AddV2", "Rsqrt"},
           limits=("float32 only",))
def layer_normalization(ctx: EmitCtx) -> None:
    """LayerNormalization(X, Scale, B?; axis, epsilon, stash_type) -> Y, Mean?, InvStdDev?."""
    _need_float(ctx)
    rank = ctx.rank(0)
    axis = normalize_axis(int(ctx.attr("axis", -1)), rank)
    y, mean, inv = _normalize(ctx, ctx.input(0), list(range(axis, rank)), float(ctx.attr("epsilon", 1e-5)))
    y = _op(ctx, "Mul", [y, ctx.input(1)], "scaled")
    if ctx.has_input(2):
        y = _op(ctx, "AddV2", [y, ctx.input(2)], "add")
    ctx.set_output(0, y)
    for j, ref in ((1, mean), (2, inv)):
        if j < len(ctx.node.outputs) and ctx.node.outputs[j].name:
            ctx.set_output(j, ref)


@TFJS.rule("LpNormalization", produces={"Abs", "Square", "Sum", "Sqrt", "RealDiv"}, limits=("p = 1 or 2",))
def lp_normalization(ctx: EmitCtx) -> None:
    """LpNormalization(input; axis, p) -> output."""
    _need_float(ctx)
    p, axis = int(ctx.attr("p", 2)), normalize_axis(int(ctx.attr("axis", -1)), ctx.rank(0))
    if p not in (1, 2):
        raise fail("attribute", f"LpNormalization p={p} is not supported (only 1 and 2)")
    x = ctx.input(0)
    mag = _op(ctx, "Abs" if p == 1 else "Square", [x], "magnitude")
    norm = ctx.add("Sum", [mag, int_const(ctx, [axis], "axes")], {"keep_dims": Attr.b(True)}, suffix="sum")
    if p == 2:
        norm = _op(ctx, "Sqrt", [norm], "norm")
    ctx.set_output(0, _op(ctx, "RealDiv", [x, norm], "div"))


@TFJS.rule("GroupNormalization", produces={"Reshape", "Mean", "Square", "Sub", "Mul", "AddV2", "Rsqrt",
                                            "Shape", "StridedSlice", "ConcatV2"},
           since=21, limits=("the channel count must be static (spatial dims may be unknown)", "rank >= 3"))
def group_normalization(ctx: EmitCtx) -> None:
    """GroupNormalization(X, scale, bias; epsilon, num_groups, stash_type) -> Y."""
    _need_float(ctx)
    shape, groups = ctx.shape(0), int(ctx.attr("num_groups"))
    if shape is None or len(shape) < 3 or shape[1] is None:
        raise fail("dynamic_shape", "GroupNormalization needs a known rank >= 3 and a static channel count")
    channels = int(shape[1])
    if groups <= 0 or channels % groups:
        raise fail("attribute", f"GroupNormalization num_groups={groups} does not divide the {channels} channels")
    x = ctx.input(0)
    if all(d is not None for d in shape[1:]):
        dims = [int(d) for d in shape[1:]]  # type: ignore[arg-type]
        g_shape = int_const(ctx, [-1, groups, int(np.prod(dims)) // groups], "g_shape")
        x_shape = int_const(ctx, [-1, *dims], "x_shape")
    else:  # unknown spatial dims: [N, G, -1] and back to the input's run-time shape
        x_shape = runtime_shape(ctx, x, "x_shape")
        g_shape = concat_dims(ctx, [dim_at(ctx, x_shape, 0, "batch"), [groups, -1]], "g_shape")
    grouped = ctx.add("Reshape", [x, g_shape], suffix="group")
    y, _, _ = _normalize(ctx, grouped, [2], float(ctx.attr("epsilon", 1e-5)))
    y = ctx.add("Reshape", [y, x_shape], suffix="ungroup")
    y = _op(ctx, "Mul", [y, _group_param(ctx, 1, channels, groups, "scale")], "scaled")
    ctx.set_output(0, _op(ctx, "AddV2", [y, _group_param(ctx, 2, channels, groups, "bias")], "add"))


def _group_param(ctx: EmitCtx, i: int, channels: int, groups: int, suffix: str) -> str:
    """Per-channel scale/bias; a per-group one (the opset-18 form, left as-is by the opset converter) is expanded."""
    shape, rank = ctx.shape(i), ctx.rank(0)
    if shape == (channels,):
        return _channel_param(ctx, i, rank, suffix)
    if shape == (groups,):
        per_group = ctx.need_const(i, f"per-group GroupNormalization {suffix}")
        expanded = np.repeat(per_group.astype(np.float32), channels // groups)
        return ctx.constant(expanded.reshape([-1] + [1] * (rank - 2)), suffix)
    raise fail("attribute", f"GroupNormalization {suffix} of shape {shape} matches neither C={channels} nor "
               f"num_groups={groups}")


@TFJS.rule("LRN", produces={"Transpose", "LRN"}, limits=("rank-4 input", "odd size only"))
def lrn(ctx: EmitCtx) -> None:
    """LRN(X; alpha, beta, bias, size) -> Y."""
    _need_float(ctx)
    size, rank = int(ctx.attr("size")), ctx.rank(0)
    if rank != 4:
        raise fail("attribute", f"LRN is only supported for rank-4 (NCHW) inputs, got rank {rank}")
    if size % 2 == 0:
        raise fail("attribute", f"LRN with an even size ({size}) has an asymmetric window TensorFlow.js cannot express")
    # ONNX divides alpha by size; tfjs uses it as-is over the window [c - r, c + r].
    attrs = {"depth_radius": Attr.i((size - 1) // 2), "bias": Attr.f(ctx.attr("bias", 1.0)),
             "alpha": Attr.f(float(ctx.attr("alpha", 1e-4)) / size), "beta": Attr.f(ctx.attr("beta", 0.75)),
             "T": Attr.dtype("DT_FLOAT")}
    y = ctx.add("LRN", [to_channels_last(ctx, ctx.input(0), 4)], attrs)
    ctx.set_output(0, to_channels_first(ctx, y, 4))
