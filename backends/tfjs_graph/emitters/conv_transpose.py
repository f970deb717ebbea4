"""Emitter for ConvTranspose: Conv2DBackpropInput for 1-D/2-D, zero insertion + Conv3D for 3-D (channels-last)."""

from __future__ import annotations

import math

import numpy as np

from backends.tfjs_graph.emitters.common import (
    I32,
    concat_dims,
    dims_slice,
    int_const,
    invalid,
    positive_ints,
    runtime_shape,
    table,
    to_channels_first,
    to_channels_last,
    transpose,
)
from backends.tfjs_graph.emitters.conv import (
    DENSE_MACS,
    Pads,
    add_bias,
    auto_pad_of,
    block_diagonal,
    channel_slice,
    check_groups,
    concat_channels,
    effective,
    expand_1d,
    need_float,
    pad_spatial,
    spatial_ints,
    squeeze_1d,
    window_attrs,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

Geometry = tuple[list[int], Pads, list[int], list[int], list[int]]


def _transpose_pads(ctx: EmitCtx, sizes: list[int], eff: list[int], strides: list[int], out_pad: list[int],
                    ) -> tuple[Pads, list[int], list[int]]:
    """ConvTranspose (begin, end) pads, the sizes they give, and the zero rows/cols to append per dim.

    The pads come from ``output_shape`` (or SAME) as the ONNX spec and onnxruntime compute them; an ``output_shape``
    beyond the full output is zero-filled at the end (as onnxruntime and the ONNX reference do).
    """
    full = [(n - 1) * s + op + k for n, s, op, k in zip(sizes, strides, out_pad, eff, strict=True)]
    auto_pad = auto_pad_of(ctx)
    target = ctx.attr("output_shape")
    if target is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = [n * s for n, s in zip(sizes, strides, strict=True)]
    if target is None:
        n = len(sizes)
        flat = [0] * (2 * n) if auto_pad == "VALID" else positive_ints(ctx, "pads", ctx.attr("pads") or [0] * (2 * n),
                                                                        2 * n, 0)
        pads = [(flat[i], flat[i + n]) for i in range(n)]
        return pads, [f - b - e for f, (b, e) in zip(full, pads, strict=True)], [0] * n
    target = positive_ints(ctx, "output_shape", list(target)[-len(sizes):], len(sizes))
    totals = [max(0, f - t) for f, t in zip(full, target, strict=True)]
    # SAME with strides beyond the kernel: onnxruntime stops at the full output (no zeros appended).
    zero_fill = ctx.attr("output_shape") is not None
    extra = [max(0, t - f) if zero_fill else 0 for f, t in zip(full, target, strict=True)]
    upper = auto_pad == "SAME_UPPER"
    pads = [(t // 2, t - t // 2) if upper else (t - t // 2, t // 2) for t in totals]
    return pads, [f - t for f, t in zip(full, totals, strict=True)] if not zero_fill else \
        [t - e for t, e in zip(target, extra, strict=True)], extra


def _geometry(ctx: EmitCtx, sizes: list[int], kernel: list[int]) -> Geometry:
    """Strides, pads, output sizes (before the appended zeros), appended zeros and dilations per spatial dim."""
    n = len(sizes)
    strides, dilations = spatial_ints(ctx, "strides", n, 1), spatial_ints(ctx, "dilations", n, 1)
    out_pad = spatial_ints(ctx, "output_padding", n, 0, minimum=0)
    if any(op >= s for op, s in zip(out_pad, strides, strict=True)):
        raise fail("attribute", f"output_padding {out_pad} must be smaller than strides {strides}")
    pads, outs, extra = _transpose_pads(ctx, sizes, effective(kernel, dilations), strides, out_pad)
    return strides, pads, outs, extra, dilations


def _dilate(ctx: EmitCtx, w: np.ndarray, dilations: list[int]) -> np.ndarray:
    """[C_in, C_out/g, *k] with zeros inserted between the taps (the dilated kernel is then exact)."""
    shape = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilations, strict=True)]
    table(ctx, math.prod([*w.shape[:2], *shape]), "the dilated filter", 4)
    out = np.zeros((*w.shape[:2], *shape), np.float32)
    taps = (slice(None), slice(None), *(slice(None, None, d) for d in dilations))
    out[taps] = w
    return out


# -- 1-D and 2-D: Conv2DBackpropInput -----------------------------------------------------
def _filter_2d(ctx: EmitCtx, one_d: bool, dilations: list[int], w: np.ndarray | None) -> str:
    """ONNX [C_in, C_out/g, kh, kw] -> tfjs [kh', kw', C_out/g, C_in], dilated with zeros in numpy."""
    if w is None:
        if any(d > 1 for d in dilations):
            raise fail("needs_constant_input", "dilated ConvTranspose needs constant weights")
        ref = expand_1d(ctx, ctx.input(1), "filter/expand") if one_d else ctx.input(1)
        return transpose(ctx, ref, [2, 3, 1, 0], "filter/hwoi")
    w = w.astype(np.float32)
    w = w[:, :, None, :] if one_d else w
    return ctx.constant(np.ascontiguousarray(_dilate(ctx, w, dilations).transpose(2, 3, 1, 0)), "filter")


def _output_shape(ctx: EmitCtx, batch: int | None, rest: list[int]) -> str:
    """The NHWC output shape tensor; a symbolic batch is read from X at run time."""
    if batch is not None:
        return int_const(ctx, [batch, *rest], "output_shape")
    shape = ctx.add("Shape", [ctx.input(0)], {"out_type": Attr.dtype("DT_INT32")}, suffix="shape")
    n = ctx.add("Slice", [shape, int_const(ctx, [0], "batch/begin"), int_const(ctx, [1], "batch/size")],
                suffix="batch")
    return ctx.add("ConcatV2", [n, int_const(ctx, rest, "output_shape/rest"), int_const(ctx, 0, "output_shape/axis")],
                   {"N": Attr.i(2)}, suffix="output_shape")


def _run_time_output_shape(ctx: EmitCtx, geometry: Geometry, one_d: bool, channels: int) -> str:
    """The NHWC output shape when spatial dims are known at run time only: ``n * stride + (out(1) - stride)``.

    Every output size is linear in its input size with slope ``stride`` (pads and appended zeros do not depend on
    it when there is no ``output_shape``), so ``_geometry`` of size-1 dims gives the offsets.
    """
    strides, _, outs, _, _ = geometry
    shape = runtime_shape(ctx, ctx.input(0), "rt_shape")
    spatial = dims_slice(ctx, shape, 2, None, "rt_spatial")
    scaled = ctx.add("Mul", [spatial, int_const(ctx, strides, "rt_strides")], I32, suffix="rt_scaled")
    offsets = [o - st for o, st in zip(outs, strides, strict=True)]
    grown = ctx.add("AddV2", [scaled, int_const(ctx, offsets, "rt_offsets")], I32, suffix="rt_outs")
    return concat_dims(ctx, [dims_slice(ctx, shape, 0, 1, "rt_batch"), [1] if one_d else [], grown, [channels]],
                       "output_shape")


def _emit_2d(ctx: EmitCtx, x: str, geometry: Geometry, one_d: bool) -> str:
    """Conv2DBackpropInput per group (EXPLICIT pads = the forward conv's pads), then the appended zeros."""
    shape, w_shape = ctx.shape(0) or (), ctx.shape(1) or ()
    group, step = int(ctx.attr("group", 1)), int(shape[1] or 0) // int(ctx.attr("group", 1))
    const_w, channels = ctx.const(1), int(w_shape[1] or 0)
    if const_w is not None and group > 1 and math.prod(const_w.shape) * group <= DENSE_MACS:
        # One deconv with a block-diagonal filter beats g sliced ones while it is small (see conv.grouped_form).
        const_w, step, channels = block_diagonal(const_w.astype(np.float32), group), group * step, group * channels
        group = 1
    dynamic = any(d is None for d in shape[2:])
    out_shape = _run_time_output_shape(ctx, geometry, one_d, channels) if dynamic else None
    strides, pads, outs, extra, dilations = geometry
    if one_d:
        strides, pads, outs, extra, dilations = [1, *strides], [(0, 0), *pads], [1, *outs], [0, *extra], [1, *dilations]
    out_shape = out_shape or _output_shape(ctx, shape[0], [*outs, channels])
    w = _filter_2d(ctx, one_d, dilations, const_w)
    attrs = {**window_attrs(strides, pads), "dilations": Attr.ints([1, 1, 1, 1])}
    parts = []
    for g in range(group):
        xg = channel_slice(ctx, x, 4, 3, g * step, step, f"x{g}") if group > 1 else x
        wg = channel_slice(ctx, w, 4, 3, g * step, step, f"w{g}") if group > 1 else w
        parts.append(ctx.add("Conv2DBackpropInput", [out_shape, wg, xg], attrs, suffix=f"deconv{g}"))
    return pad_spatial(ctx, concat_channels(ctx, parts), [(0, e) for e in extra])


# -- 3-D: zero insertion + Conv3D -----------------------------------------------------------
def _insert_zeros(ctx: EmitCtx, x: str, dims: list[int], strides: list[int]) -> tuple[str, list[int]]:
    """Put ``stride - 1`` zeros after every element along each spatial axis (NDHWC, static dims, any batch)."""
    for axis, s in enumerate(strides, start=1):
        if s == 1:
            continue
        grown = ctx.add("ExpandDims", [x, int_const(ctx, axis + 1, f"up{axis}/axis")], suffix=f"up{axis}/expand")
        paddings = np.zeros((len(dims) + 1, 2), np.int64)
        paddings[axis + 1, 1] = s - 1
        grown = ctx.add("Pad", [grown, int_const(ctx, paddings, f"up{axis}/paddings")], suffix=f"up{axis}/pad")
        dims = [*dims[:axis], dims[axis] * s, *dims[axis + 1:]]
        x = ctx.add("Reshape", [grown, int_const(ctx, dims, f"up{axis}/shape")], suffix=f"up{axis}/reshape")
    return x, dims


def _pad_or_crop(ctx: EmitCtx, x: str, dims: list[int], edges: list[tuple[int, int]]) -> str:
    """Pad (positive) or crop (negative) each spatial axis of a channels-last tensor by (begin, end)."""
    x = pad_spatial(ctx, x, [(max(0, b), max(0, e)) for b, e in edges])
    if all(b >= 0 and e >= 0 for b, e in edges):
        return x
    begin = [0, *(max(0, -b) for b, _ in edges), 0]
    size = [-1, *(n + b + e for n, (b, e) in zip(dims[1:-1], edges, strict=True)), -1]
    return ctx.add("Slice", [x, int_const(ctx, begin, "crop/begin"), int_const(ctx, size, "crop/size")], suffix="crop")


def _filter_3d(ctx: EmitCtx, dilations: list[int]) -> tuple[str, list[int]]:
    """The flipped (and dilated) kernel as [kd', kh', kw', C_in, C_out/g], and its spatial extent."""
    w = ctx.const(1)
    if w is None:
        if any(d > 1 for d in dilations):
            raise fail("needs_constant_input", "dilated ConvTranspose needs constant weights")
        flipped = ctx.add("ReverseV2", [ctx.input(1), int_const(ctx, [2, 3, 4], "filter/flip_axes")],
                          suffix="filter/flip")
        return transpose(ctx, flipped, [2, 3, 4, 0, 1], "filter/dhwio"), [int(k or 0) for k in (ctx.shape(1) or ())[2:]]
    kernel = _dilate(ctx, w.astype(np.float32), dilations)[:, :, ::-1, ::-1, ::-1]
    return ctx.constant(np.ascontiguousarray(kernel.transpose(2, 3, 4, 0, 1)), "filter"), list(kernel.shape[2:])


def _emit_3d(ctx: EmitCtx, x: str, geometry: Geometry) -> str:
    """Transposed conv = VALID Conv3D of the zero-inserted, padded input with the flipped (dilated) kernel."""
    strides, pads, _, extra, dilations = geometry
    shape, w_shape = ctx.shape(0) or (), ctx.shape(1) or ()
    w, kernel = _filter_3d(ctx, dilations)
    dims = [-1, *(int(d or 0) for d in shape[2:]), int(shape[1] or 0)]
    x, grown = _insert_zeros(ctx, x, dims, strides)
    out_pad = spatial_ints(ctx, "output_padding", 3, 0, minimum=0)
    edges = [(k - 1 - b, k - 1 - e + op + ex - (s - 1)) for k, (b, e), op, ex, s
             in zip(kernel, pads, out_pad, extra, strides, strict=True)]
    x = _pad_or_crop(ctx, x, grown, edges)
    group = int(ctx.attr("group", 1))
    cin = int(w_shape[0] or 0) // group
    attrs = {**window_attrs([1, 1, 1], [(0, 0)] * 3), "dilations": Attr.ints([1] * 5), "data_format": Attr.s("NDHWC")}
    attrs.pop("explicit_paddings")
    parts = []
    for g in range(group):
        wg = channel_slice(ctx, w, 5, 3, g * cin, cin, f"w{g}") if group > 1 else w
        xg = channel_slice(ctx, x, 5, 4, g * cin, cin, f"x{g}") if group > 1 else x
        parts.append(ctx.add("Conv3D", [xg, wg], attrs, suffix=f"conv{g}"))
    return concat_channels(ctx, parts, 5)


@TFJS.rule("ConvTranspose", produces={"Conv2DBackpropInput", "Conv3D", "BiasAdd", "Transpose", "Slice", "ConcatV2",
                                       "ExpandDims", "Squeeze", "Shape", "Pad", "Reshape", "ReverseV2",
                                       "StridedSlice", "Mul", "AddV2"},
           limits=("1-D, 2-D and 3-D only", "float32 only", "static channel counts",
                   "3-D, or an output_shape attribute, need static spatial dims",
                   "dilations > 1 need constant weights"))
def conv_transpose(ctx: EmitCtx) -> None:
    """ConvTranspose(X, W, B?; auto_pad, dilations, group, kernel_shape, output_padding, output_shape, pads, strides) -> Y."""  # noqa: E501
    need_float(ctx)
    rank = ctx.rank(0)
    if rank not in (3, 4, 5):
        raise fail("attribute", f"ConvTranspose over {rank - 2} spatial dims is not supported (1-D to 3-D only)")
    shape, w_shape = ctx.shape(0), ctx.shape(1)
    if shape is None or w_shape is None or any(d is None for d in (shape[1], *w_shape)):
        raise fail("dynamic_shape", f"ConvTranspose needs static channels and weight shape, got {shape}, {w_shape}",
                   "export the model with static channel counts")
    if any(d is None for d in shape[2:]) and (rank == 5 or ctx.attr("output_shape") is not None):
        raise fail("dynamic_shape", "ConvTranspose with output_shape, or 3-D, needs static spatial dims",
                   "pin the dims with --input-shape / --dim")
    # Unknown spatial dims: the geometry of size-1 dims; the output shape is then computed at run time.
    sizes = [1 if d is None else int(d) for d in shape[2:]]
    check_groups(ctx, transposed=True)
    kernel = positive_ints(ctx, "kernel_shape", ctx.attr("kernel_shape") or list(w_shape[2:]), rank - 2)
    if list(w_shape[2:]) != kernel:
        raise invalid(ctx, f"kernel_shape {kernel} differs from the shape of W {list(w_shape)}")
    geometry = _geometry(ctx, sizes, kernel)
    one_d, core = rank == 3, max(rank, 4)
    x = expand_1d(ctx, ctx.input(0), "expand") if one_d else ctx.input(0)
    x = to_channels_last(ctx, x, core)
    y = _emit_3d(ctx, x, geometry) if rank == 5 else _emit_2d(ctx, x, geometry, one_d)
    y = to_channels_first(ctx, add_bias(ctx, y, 2), core)
    ctx.set_output(0, squeeze_1d(ctx, y) if one_d else y)
