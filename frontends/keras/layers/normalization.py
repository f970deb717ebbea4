"""Keras normalization layers (batch, layer, group, unit, RMS) lowered to ONNX normalization ops or their formulas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.conv import to_channels_first, to_channels_last, transpose
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

_FORMULA_OPS = frozenset({"ReduceMean", "Sub", "Mul", "Add", "Sqrt", "Div"})


def norm_axes(ctx: LowerCtx, value: Any, rank: int) -> list[int]:
    """An ``axis`` setting (an int or a list of ints) as sorted non-negative axes, never the batch axis."""
    values = [value] if isinstance(value, int) else list(value)
    axes = sorted({int(a) % rank for a in values})
    if not axes or 0 in axes or any(not -rank <= int(a) < rank for a in values):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}' ({ctx.layer.class_name}): axis {value} is not "
                       f"usable for a rank-{rank} input (the batch axis cannot be normalized here)")
    return axes


def broadcast(ctx: LowerCtx, array: np.ndarray, shape: Sequence[int | None], axes: list[int], name: str) -> ir.Value:
    """A per-``axes`` parameter as a constant shaped to broadcast against a tensor of ``shape``."""
    target = [int(shape[a] or 1) if a in axes else 1 for a in range(len(shape))]
    return ctx.const(np.asarray(array, np.float32).reshape(target), name)


def l2_normalize(ctx: LowerCtx, x: ir.Value, axes: list[int], epsilon: float, name: str = "l2") -> ir.Value:
    """``x / max(||x||, epsilon)`` over ``axes`` (Keras 3 normalize: ``x * min(rsqrt(sum x^2), 1 / epsilon)``)."""
    norm = ctx.op("Sqrt", ctx.op("ReduceSumSquare", x, ctx.ints(axes, f"{name}/axes"), keepdims=1))
    return ctx.op("Div", x, ctx.op("Max", norm, ctx.const(epsilon, f"{name}/epsilon")), name=name)


def _moments(ctx: LowerCtx, x: ir.Value, axes: list[int]) -> tuple[ir.Value, ir.Value]:
    """(x - mean, variance) over ``axes``, keeping dims (the population variance, as Keras computes it)."""
    centered = ctx.op("Sub", x, ctx.op("ReduceMean", x, ctx.ints(axes, "axes"), keepdims=1, name="mean"))
    var = ctx.op("ReduceMean", ctx.op("Mul", centered, centered), ctx.ints(axes, "var_axes"), keepdims=1,
                 name="variance")
    return centered, var


def _inv_std(ctx: LowerCtx, var: ir.Value, epsilon: float) -> ir.Value:
    return ctx.op("Div", ctx.const(1.0, "one"), ctx.op("Sqrt", ctx.op("Add", var, ctx.const(epsilon, "epsilon"))))


@KERAS.rule("BatchNormalization", produces={"BatchNormalization", "Transpose", "Mul", "Add"})
def batch_normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """BatchNormalization(axis, epsilon, center, scale): inference with the moving mean and variance."""
    x = inputs[0]
    shape = shape_of(x)
    axes = norm_axes(ctx, ctx.cfg("axis", -1), len(shape))
    gamma, beta, mean, var = _bn_weights(ctx)
    eps = float(ctx.cfg("epsilon", 1e-3))
    if len(axes) == 1 and axes[0] in (1, len(shape) - 1):
        # ONNX BatchNormalization on the channel axis: the pivot folds it into a Conv right before it.
        last = axes[0] != 1
        xf = to_channels_first(ctx, x) if last else x
        params = [ctx.const(p, n) for p, n in ((gamma, "gamma"), (beta, "beta"), (mean, "moving_mean"),
                                               (var, "moving_variance"))]
        y = ctx.op("BatchNormalization", xf, *params, epsilon=eps)
        return [to_channels_last(ctx, y) if last else y]
    # Any other axis: the affine form with constants folded here.
    factor = gamma / np.sqrt(var.astype(np.float64) + eps)
    offset = beta - mean * factor
    y = ctx.op("Mul", x, broadcast(ctx, factor, shape, axes, "factor"))
    return [ctx.op("Add", y, broadcast(ctx, offset, shape, axes, "offset"))]


def _bn_weights(ctx: LowerCtx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(gamma, beta, moving mean, moving variance); gamma/beta are absent from the file when scale/center are off."""
    i = 0
    stats: list[np.ndarray | None] = []
    for flag in ("scale", "center"):
        stats.append(np.asarray(ctx.layer.weight(i), np.float64) if ctx.cfg(flag, True) else None)
        i += int(ctx.cfg(flag, True))
    mean, var = np.asarray(ctx.layer.weight(i, 1), np.float64), np.asarray(ctx.layer.weight(i + 1, 1), np.float64)
    gamma = stats[0] if stats[0] is not None else np.ones_like(mean)
    beta = stats[1] if stats[1] is not None else np.zeros_like(mean)
    return gamma, beta, mean, var


def _gamma_beta(ctx: LowerCtx, center_key: str = "center") -> tuple[np.ndarray | None, np.ndarray | None]:
    """The optional scale and offset weights (in this order in the file)."""
    i = 0
    gamma = beta = None
    if ctx.cfg("scale", True) or ctx.cfg("rms_scaling", False):
        gamma, i = np.asarray(ctx.layer.weight(0), np.float32), 1
    if ctx.cfg(center_key, True) and not ctx.cfg("rms_scaling", False):
        beta = np.asarray(ctx.layer.weight(i), np.float32)
    return gamma, beta


@KERAS.rule("LayerNormalization", produces={"LayerNormalization", *_FORMULA_OPS})
def layer_normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """LayerNormalization(axis, epsilon, center, scale, rms_scaling)."""
    x = inputs[0]
    shape = shape_of(x)
    rank = len(shape)
    axes = norm_axes(ctx, ctx.cfg("axis", -1), rank)
    eps = float(ctx.cfg("epsilon", 1e-3))
    gamma, beta = _gamma_beta(ctx)
    rms = bool(ctx.cfg("rms_scaling", False))
    if not rms and axes == list(range(axes[0], rank)) and all(shape[a] is not None for a in axes):
        trailing = [int(shape[a] or 0) for a in axes]
        ctx.reserve(trailing, 4, "gamma")
        scale = np.ones(trailing, np.float32) if gamma is None else gamma.reshape(trailing)
        bias = None if beta is None else ctx.const(beta.reshape(trailing), "beta")
        return [ctx.op("LayerNormalization", x, ctx.const(scale, "gamma"), bias, axis=axes[0], epsilon=eps)]
    centered, var = _moments(ctx, x, axes)
    # Keras's rms_scaling divides the uncentered input by the (centered) standard deviation.
    y = ctx.op("Mul", x if rms else centered, _inv_std(ctx, var, eps), name="normalized")
    if gamma is not None:
        y = ctx.op("Mul", y, broadcast(ctx, gamma, shape, axes, "gamma"), name="scaled")
    if beta is not None:
        y = ctx.op("Add", y, broadcast(ctx, beta, shape, axes, "beta"), name="centered")
    return [y]


@KERAS.rule("RMSNormalization", produces={"ReduceMean", "Mul", "Add", "Sqrt", "Div"})
def rms_normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """RMSNormalization(axis, epsilon): x * rsqrt(mean(x^2) + epsilon) * scale."""
    x = inputs[0]
    shape = shape_of(x)
    axes = norm_axes(ctx, ctx.cfg("axis", -1), len(shape))
    ms = ctx.op("ReduceMean", ctx.op("Mul", x, x), ctx.ints(axes, "axes"), keepdims=1, name="mean_square")
    y = ctx.op("Mul", x, _inv_std(ctx, ms, float(ctx.cfg("epsilon", 1e-6))), name="normalized")
    if ctx.layer.weights:
        y = ctx.op("Mul", y, broadcast(ctx, np.asarray(ctx.layer.weight(0)), shape, axes, "scale"), name="scaled")
    return [y]


@KERAS.rule("GroupNormalization", produces={"GroupNormalization", "Transpose", "Unsqueeze", "Squeeze"})
def group_normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """GroupNormalization(groups, axis, epsilon, center, scale); groups=-1 normalizes each channel alone."""
    x = inputs[0]
    rank = len(shape_of(x))
    (axis,) = norm_axes(ctx, ctx.cfg("axis", -1), rank)
    channels = shape_of(x)[axis]
    groups = int(ctx.cfg("groups", 32))
    groups = channels if groups == -1 and channels is not None else groups
    if channels is None or groups <= 0 or channels % groups:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': groups={ctx.cfg('groups')} does not divide "
                       f"{channels} channels")
    gamma, beta = _gamma_beta(ctx)
    perm = [0, axis, *(a for a in range(1, rank) if a != axis)]
    xf = transpose(ctx, x, perm, "to_channels_first")
    if rank == 2:  # ONNX GroupNormalization wants at least one spatial dim
        xf = ctx.op("Unsqueeze", xf, ctx.ints([2], "spatial_axis"))
    ctx.reserve((channels, 2), 4, "gamma and beta")
    scale = np.ones(channels, np.float32) if gamma is None else gamma
    bias = np.zeros(channels, np.float32) if beta is None else beta
    y = ctx.op("GroupNormalization", xf, ctx.const(scale, "gamma"), ctx.const(bias, "beta"), num_groups=groups,
               epsilon=float(ctx.cfg("epsilon", 1e-3)))
    # onnx has no shape inference for GroupNormalization-21 (a function op): the output keeps the input's shape.
    y.shape = xf.shape
    if rank == 2:
        y = ctx.op("Squeeze", y, ctx.ints([2], "squeeze_axis"))
    return [transpose(ctx, y, [perm.index(a) for a in range(rank)], "to_input_layout")]


@KERAS.rule("UnitNormalization", produces={"ReduceSumSquare", "Sqrt", "Max", "Div"})
def unit_normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """UnitNormalization(axis): x scaled to unit L2 norm over ``axis``."""
    x = inputs[0]
    axes = norm_axes(ctx, ctx.cfg("axis", -1), len(shape_of(x)))
    if ctx.keras_major >= 3:
        return [l2_normalize(ctx, x, axes, 1e-12)]
    # tf.keras: x * rsqrt(max(sum x^2, 1e-12)).
    sq = ctx.op("ReduceSumSquare", x, ctx.ints(axes, "axes"), keepdims=1)
    return [ctx.op("Div", x, ctx.op("Sqrt", ctx.op("Max", sq, ctx.const(1e-12, "epsilon"))))]
