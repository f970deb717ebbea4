"""Keras pooling layers (windowed and global, 1-D to 3-D) lowered to ONNX pools and reductions."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.conv import (
    is_channels_first,
    padding_mode,
    spatial,
    to_channels_first,
    to_channels_last,
    window_pads,
)
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

_WINDOW_OPS = {"MaxPooling": "MaxPool", "AveragePooling": "AveragePool"}
_GLOBAL_OPS = {"GlobalAveragePooling": "ReduceMean", "GlobalMaxPooling": "ReduceMax"}
_ADAPTIVE_OPS = {"AdaptiveAveragePooling": "AveragePool", "AdaptiveMaxPooling": "MaxPool"}


def lower_pooling(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """{Max,Average}Pooling{1,2,3}D(pool_size, strides, padding, data_format); strides default to pool_size."""
    op = _WINDOW_OPS[ctx.layer.class_name[:-2]]
    first = is_channels_first(ctx)
    x = inputs[0] if first else to_channels_first(ctx, inputs[0])
    n = len(shape_of(x)) - 2
    kernel = spatial(ctx, "pool_size", n, 2)
    strides = spatial(ctx, "strides", n, kernel)
    attrs = window_pads(x, padding_mode(ctx), kernel, strides)
    if op == "AveragePool":
        # Keras averages over the window part inside the input: padding is never counted.
        attrs["count_include_pad"] = 0
    y = ctx.op(op, x, kernel_shape=kernel, strides=strides, **attrs)
    return [y if first else to_channels_last(ctx, y)]


def lower_global_pooling(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Global{Average,Max}Pooling{1,2,3}D(data_format, keepdims): a reduction over the spatial axes."""
    x = inputs[0]
    rank = len(shape_of(x))
    axes = list(range(2, rank)) if is_channels_first(ctx) else list(range(1, rank - 1))
    op = _GLOBAL_OPS[ctx.layer.class_name[:-2]]
    keep = int(bool(ctx.cfg("keepdims", False)))
    return [ctx.op(op, x, ctx.ints(axes, "axes"), keepdims=keep)]


def _adaptive_axis(ctx: LowerCtx, x: ir.Value, axis: int, n: int, m: int, average: bool) -> ir.Value:
    """Adaptive pooling along one axis (windows [floor(i n / m), ceil((i + 1) n / m))) as Gather + reduction.

    Windows of unequal length are padded to the longest: with their first index for max, with an appended zero
    row for average (then each window sum is divided by its true length).
    """
    starts = [i * n // m for i in range(m)]
    ends = [-(-(i + 1) * n // m) for i in range(m)]
    width = max(e - b for b, e in zip(starts, ends, strict=True))
    fill = n if average else None
    idx = [[b + j if b + j < e else (b if fill is None else fill) for j in range(width)]
           for b, e in zip(starts, ends, strict=True)]
    if average:
        rank = len(shape_of(x))
        x = ctx.op("Pad", x, ctx.ints([0] * rank + [int(a == axis) for a in range(rank)], f"pad{axis}"),
                   name=f"zero_row{axis}")
    windows = ctx.op("Gather", x, ctx.ints(np.asarray(idx).reshape(-1).tolist(), f"windows{axis}"), axis=axis,
                     name=f"windows{axis}")
    # Split the gathered axis into [m, width]; other dims are static except the batch (copied by the 0).
    dims = [-1 if d is None else d for d in shape_of(windows)]
    shape = [0, *dims[1:axis], m, width, *dims[axis + 1:]]
    windows = ctx.op("Reshape", windows, ctx.ints(shape, f"window_shape{axis}"), name=f"window_shape{axis}")
    y = ctx.op("ReduceSum" if average else "ReduceMax", windows, ctx.ints([axis + 1], f"reduce{axis}"), keepdims=0,
               name=f"reduce{axis}")
    if not average:
        return y
    lengths = np.asarray([e - b for b, e in zip(starts, ends, strict=True)], np.float32)
    scale = (1.0 / lengths).reshape([m] + [1] * (len(shape_of(y)) - axis - 1))
    return ctx.op("Mul", y, ctx.const(scale, f"inv_len{axis}"), name=f"mean{axis}")


def lower_adaptive_pooling(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Adaptive{Average,Max}Pooling{1,2,3}D(output_size, data_format): torch-style windows; static spatial dims."""
    x, first = inputs[0], is_channels_first(ctx)
    rank = len(shape_of(x))
    axes = list(range(2, rank)) if first else list(range(1, rank - 1))
    sizes = [shape_of(x)[a] for a in axes]
    out = spatial(ctx, "output_size", len(axes))
    if any(d is None for d in sizes):
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}' ({ctx.layer.class_name}) needs static spatial "
                       "dims", "give the model input static spatial dims")
    op = _ADAPTIVE_OPS[ctx.layer.class_name[:-2]]
    dims = [int(d or 0) for d in sizes]
    if all(d % o == 0 for d, o in zip(dims, out, strict=True)):
        # Equal windows: one ordinary pool with kernel = stride = size / output size.
        kernel = [d // o for d, o in zip(dims, out, strict=True)]
        xf = x if first else to_channels_first(ctx, x)
        y = ctx.op(op, xf, kernel_shape=kernel, strides=kernel, pads=[0] * (2 * len(kernel)))
        return [y if first else to_channels_last(ctx, y)]
    for a, d, o in zip(axes, dims, out, strict=True):
        x = x if d == o else _adaptive_axis(ctx, x, a, d, o, op == "AveragePool")
    return [x]


for _n in (1, 2, 3):
    for _name in _WINDOW_OPS:
        KERAS.rule(f"{_name}{_n}D", produces={_WINDOW_OPS[_name], "Transpose"})(lower_pooling)
    for _name in _GLOBAL_OPS:
        KERAS.rule(f"{_name}{_n}D", produces={_GLOBAL_OPS[_name]})(lower_global_pooling)
    for _name, _op in _ADAPTIVE_OPS.items():
        KERAS.rule(f"{_name}{_n}D", produces={_op, "Transpose", "Pad", "Gather", "Reshape", "ReduceSum", "ReduceMax",
                                              "Mul"})(lower_adaptive_pooling)
