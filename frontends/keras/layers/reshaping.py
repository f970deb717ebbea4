"""Keras reshaping layers (flatten, reshape, permute, repeat, zero padding, cropping, up-sampling) lowered to ONNX."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.conv import is_channels_first, spatial, to_channels_first, to_channels_last, transpose
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

Pairs = list[tuple[int, int]]
_INT64_MAX = np.iinfo(np.int64).max


def _spatial_axes(ctx: LowerCtx, rank: int, data_format: bool = True) -> list[int]:
    """The spatial axes of a batched tensor (the time axis of a 1-D layer without data_format)."""
    if data_format and is_channels_first(ctx):
        return list(range(2, rank))
    return list(range(1, rank - 1))


def pairs(ctx: LowerCtx, key: str, n: int) -> Pairs:
    """(begin, end) per spatial dim from an int, ``n`` ints (symmetric) or ``n`` pairs (1-D: one pair)."""
    value = ctx.cfg(key, 1)
    if isinstance(value, int):
        return [(value, value)] * n
    items = list(value)
    if n == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return [(int(items[0]), int(items[1]))]
    if len(items) != n:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': {key}={value} does not give {n} dims")
    out = [(int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1])) for v in items]
    if min(min(p) for p in out) < 0:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': negative {key} {value}")
    return out


@KERAS.rule("Flatten", produces={"Flatten", "Transpose"})
def flatten(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Flatten(data_format): channels_first inputs are flattened in channels-last order, as Keras does."""
    x = inputs[0]
    if is_channels_first(ctx) and len(shape_of(x)) > 2:
        x = to_channels_last(ctx, x)
    return [ctx.op("Flatten", x, axis=1)]


@KERAS.rule("Reshape", produces={"Reshape"})
def reshape(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Reshape(target_shape): the batch dim is kept; one -1 is resolved from static input dims when possible."""
    x = inputs[0]
    # tfjs writes the unknown dim as null, Keras as -1.
    target = [-1 if d is None else int(d) for d in ctx.cfg("target_shape", [])]
    dims = shape_of(x)[1:]
    if -1 in target and all(d is not None for d in dims):
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = math.prod(int(d or 0) for d in dims) // max(known, 1)
    # A leading 0 copies the (dynamic) batch dim; -1 does the same when every other dim is known.
    lead = 0 if -1 in target else -1
    return [ctx.op("Reshape", x, ctx.ints([lead, *target], "shape"))]


@KERAS.rule("Permute", produces={"Transpose"})
def permute(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Permute(dims): 1-based axes, the batch axis stays first."""
    dims = [int(d) for d in ctx.cfg("dims", [])]
    if sorted(dims) != list(range(1, len(shape_of(inputs[0])))):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': Permute dims {dims} are not a permutation of the "
                       "non-batch axes")
    return [transpose(ctx, inputs[0], [0, *dims], "Transpose")]


@KERAS.rule("RepeatVector", produces={"Unsqueeze", "Tile"})
def repeat_vector(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """RepeatVector(n): [B, F] -> [B, n, F]."""
    n = int(ctx.cfg("n"))
    x = ctx.op("Unsqueeze", inputs[0], ctx.ints([1], "axis"))
    return [ctx.op("Tile", x, ctx.ints([1, n, 1], "repeats"))]


def lower_zero_padding(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """ZeroPadding{1,2,3}D(padding, data_format)."""
    x = inputs[0]
    rank = len(shape_of(x))
    axes = _spatial_axes(ctx, rank)
    pads = pairs(ctx, "padding", len(axes))
    begins, ends = [0] * rank, [0] * rank
    for a, (b, e) in zip(axes, pads, strict=True):
        begins[a], ends[a] = b, e
    return [ctx.op("Pad", x, ctx.ints(begins + ends, "pads"), mode="constant")]


def lower_cropping(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Cropping{1,2,3}D(cropping, data_format); Cropping1D always crops axis 1."""
    x = inputs[0]
    shape = shape_of(x)
    axes = _spatial_axes(ctx, len(shape), data_format=ctx.layer.class_name != "Cropping1D")
    crops = pairs(ctx, "cropping", len(axes))
    ends = []
    for a, (_, e) in zip(axes, crops, strict=True):
        size = shape[a]
        ends.append(size - e if size is not None else (-e if e else _INT64_MAX))
    return [ctx.op("Slice", x, ctx.ints([b for b, _ in crops], "starts"), ctx.ints(ends, "ends"),
                   ctx.ints(axes, "axes"))]


def repeat(ctx: LowerCtx, x: ir.Value, axis: int, times: int) -> ir.Value:
    """Each entry along ``axis`` repeated ``times`` times in place (numpy repeat): one Gather, any layout."""
    if times == 1:
        return x
    size = shape_of(x)[axis]
    if size is None:
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}': up-sampling needs a static size on axis {axis}",
                       "give the model input static spatial dims")
    ctx.reserve((size, times, 4), 8, "up-sampling indices")  # the int64 array, then its Python list
    return ctx.op("Gather", x, ctx.ints(np.repeat(np.arange(size), times).tolist(), f"repeat{axis}"), axis=axis,
                  name=f"repeat{axis}")


def resize(ctx: LowerCtx, x: ir.Value, sizes: list[int], interpolation: str) -> ir.Value:
    """Resize of the spatial dims of a channels-first tensor to ``sizes``, sampling as TF / Keras do (no antialias).

    nearest: the source pixel is floor((i + 0.5) * in / out) (TF half-pixel nearest, torch 'nearest-exact');
    bilinear: half-pixel centers.
    """
    attrs: dict[str, Any]
    if interpolation == "nearest":
        # floor((i + 0.5) / scale) written without the deprecated tf_half_pixel_for_nn mode: half_pixel gives
        # (i + 0.5) / scale - 0.5, and rounding half up adds the 0.5 back before flooring.
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_ceil"}
    elif interpolation == "bilinear":
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    else:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}' ({ctx.layer.class_name}): interpolation "
                       f"'{interpolation}' is not supported (nearest and bilinear only)",
                       "TensorFlow.js graph models resize with nearest or bilinear sampling only")
    axes = list(range(2, len(shape_of(x))))
    return ctx.op("Resize", x, None, None, ctx.ints(sizes, "sizes"), axes=axes, **attrs)


def lower_up_sampling(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """UpSampling{1,2,3}D(size, data_format, interpolation): nearest repeats pixels; 2-D also does bilinear."""
    x = inputs[0]
    rank = len(shape_of(x))
    one_d = ctx.layer.class_name == "UpSampling1D"
    axes = _spatial_axes(ctx, rank, data_format=not one_d)
    factors = spatial(ctx, "size", len(axes), 2)
    interpolation = str(ctx.cfg("interpolation", "nearest")).lower()
    if len(axes) != 2:  # nearest only in Keras: repeat each pixel in place
        for a, f in zip(axes, factors, strict=True):
            x = repeat(ctx, x, a, f)
        return [x]
    first = is_channels_first(ctx)
    xf = x if first else to_channels_first(ctx, x)
    dims = shape_of(xf)[2:]
    if any(d is None for d in dims):
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}': up-sampling needs static spatial dims",
                       "give the model input static spatial dims")
    y = resize(ctx, xf, [int(d or 0) * f for d, f in zip(dims, factors, strict=True)], interpolation)
    return [y if first else to_channels_last(ctx, y)]


for _n in (1, 2, 3):
    KERAS.rule(f"ZeroPadding{_n}D", produces={"Pad"})(lower_zero_padding)
    KERAS.rule(f"Cropping{_n}D", produces={"Slice"})(lower_cropping)
    KERAS.rule(f"UpSampling{_n}D", produces={"Gather", "Resize", "Transpose"})(lower_up_sampling)
