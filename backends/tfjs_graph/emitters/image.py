"""Image ops: Resize (nearest, linear, cubic), DepthToSpace, SpaceToDepth."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backends.tfjs_graph.emitters.common import (
    concat_dims,
    dim_at,
    dims_slice,
    int_const,
    invalid,
    normalize_axis,
    runtime_shape,
    table,
    to_channels_first,
    to_channels_last,
    transpose,
)
from backends.tfjs_graph.emitters.resize_gather import gather_resize
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

# tfjs resize configurations (align_corners, half_pixel_centers) tried in order.
_TF_CONFIGS = ((False, False), (False, True), (True, False))
_ROUND: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "round_prefer_floor": lambda v: np.ceil(v - 0.5), "round_prefer_ceil": lambda v: np.floor(v + 0.5),
    "floor": np.floor, "ceil": np.ceil,
}
_COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                "tf_half_pixel_for_nn")


def _onnx_coords(mode: str, n_in: int, n_out: int, scale: float) -> np.ndarray:
    """ONNX source coordinates of each output index, in float32 like onnxruntime."""
    x, s = np.arange(n_out, dtype=np.float32), np.float32(scale)
    half = np.float32(0.5)
    if mode == "asymmetric":
        return x / s
    if mode == "tf_half_pixel_for_nn":
        return (x + half) / s
    if mode == "align_corners":
        return np.zeros_like(x) if n_out == 1 else x * np.float32(n_in - 1) / np.float32(n_out - 1)
    if mode == "pytorch_half_pixel" and n_out == 1:
        return np.zeros_like(x)
    coords = (x + half) / s - half
    if mode == "half_pixel_symmetric":
        adjust = np.float32(n_out) / (s * np.float32(n_in))
        coords = coords + np.float32(n_in) / 2 * (1 - adjust)
    return coords


def _tf_coords(align: bool, half: bool, n_in: int, n_out: int, nearest: bool) -> np.ndarray:
    """Source coordinates the tfjs cpu kernels compute (float64, like JavaScript)."""
    shrink = align and n_out > 1
    ratio = ((n_in - 1) if shrink else n_in) / ((n_out - 1) if shrink else n_out)
    x = np.arange(n_out, dtype=np.float64)
    if not half:
        return ratio * x
    return ratio * (x + 0.5) if nearest else ratio * (x + 0.5) - 0.5


def _matches(ctx: EmitCtx, cfg: tuple[bool, bool], dims: list[tuple[int, int, float]], nearest: bool) -> bool:
    mode = str(ctx.attr("coordinate_transformation_mode", "half_pixel"))
    for n_in, n_out, scale in dims:
        ref, got = _onnx_coords(mode, n_in, n_out, scale), _tf_coords(*cfg, n_in, n_out, nearest)
        if nearest:
            rnd = _ROUND[str(ctx.attr("nearest_mode", "round_prefer_floor"))]
            want = np.clip(rnd(ref), 0, n_in - 1)
            # tfjs rounds with Math.round (halves up) under align_corners, else floors.
            have = np.clip(np.floor(got + 0.5) if cfg[0] else np.floor(got), 0, n_in - 1)
            if not np.array_equal(want, have):
                return False
        elif not np.allclose(np.clip(ref, 0, n_in - 1), np.clip(got, 0, n_in - 1), rtol=0, atol=1e-5):
            return False
    return True


def _check_resize_attrs(ctx: EmitCtx) -> str:
    mode = str(ctx.attr("mode", "nearest"))
    if mode not in ("nearest", "linear", "cubic"):
        raise fail("attribute", f"Resize mode '{mode}' is not supported (only nearest, linear and cubic)")
    if ctx.attr("antialias", 0):
        raise fail("attribute", "Resize with antialias=1 is not supported")
    coord = str(ctx.attr("coordinate_transformation_mode", "half_pixel"))
    if coord not in _COORD_MODES:
        raise fail("attribute", f"Resize coordinate_transformation_mode '{coord}' is not supported")
    if mode == "nearest" and str(ctx.attr("nearest_mode", "round_prefer_floor")) not in _ROUND:
        raise fail("attribute", f"Resize nearest_mode '{ctx.attr('nearest_mode')}' is unknown")
    return mode


def _plan_values(ctx: EmitCtx, what: str, values: np.ndarray, n: int) -> np.ndarray:
    """Resize ``sizes`` / ``scales``: one finite positive value per resized axis (ONNX rules)."""
    flat = values.reshape(-1) if values.ndim <= 1 else None
    if flat is None or flat.size != n or not np.all(np.isfinite(flat)) or np.any(flat <= 0):
        raise invalid(ctx, f"{what} {values.tolist()!s:.80} must hold {n} finite positive values")
    return flat


def _resize_plan(ctx: EmitCtx, in_shape: list[int]) -> tuple[list[int], list[float]]:
    """Output sizes and ONNX scales per axis, from the constant scales or sizes input."""
    rank = len(in_shape)
    axes = [normalize_axis(a, rank) for a in ctx.attr("axes", list(range(rank)))]
    out, scales = list(in_shape), [1.0] * rank
    sizes = ctx.need_const(3, "Resize sizes") if ctx.has_input(3) else None
    if sizes is not None and sizes.size:
        sizes = _plan_values(ctx, "sizes", sizes, len(axes))
        policy = str(ctx.attr("keep_aspect_ratio_policy", "stretch"))
        ratios = [float(sizes[k]) / in_shape[a] for k, a in enumerate(axes)]
        if policy != "stretch":
            common = min(ratios) if policy == "not_larger" else max(ratios)
            ratios = [common] * len(axes)
            sizes = np.array([int(np.floor(common * in_shape[a] + 0.5)) for a in axes])
        for k, a in enumerate(axes):
            out[a], scales[a] = int(sizes[k]), ratios[k]
        return out, scales
    given = ctx.need_const(2, "Resize scales") if ctx.has_input(2) else None
    if given is None or not given.size:
        raise fail("attribute", "Resize needs a scales or a sizes input")
    given = _plan_values(ctx, "scales", given, len(axes))
    for k, a in enumerate(axes):
        scales[a] = float(np.float32(given[k]))
        out[a] = int(np.floor(in_shape[a] * np.float32(given[k])))
    return out, scales


@TFJS.rule("Resize", produces={"Transpose", "ResizeBilinear", "ResizeNearestNeighbor", "ExpandDims", "Squeeze",
                                "Shape", "StridedSlice", "ConcatV2", "Cast", "Mul", "Floor", "Ceil", "RealDiv",
                                "AddV2", "Sub", "Maximum", "Minimum", "Range", "GatherV2", "Reshape"},
           limits=("modes nearest, linear and cubic (float32; GatherV2 of 4 taps per axis and a weighted sum); "
                   "no antialias",
                   "rank-3 or rank-4 NC... input resizing only the spatial dims",
                   "constant scales; sizes constant or known at run time (then N and C must keep their size)",
                   "the tfjs resize kernels where they sample like ONNX (checked per shape, or on sampled sizes for "
                   "unknown dims), else GatherV2 (two and a blend for linear) at positions computed at run time",
                   "keep_aspect_ratio_policy other than stretch: static spatial dims and constant sizes, not cubic"))
def resize(ctx: EmitCtx) -> None:
    """Resize(X, roi?, scales?, sizes?; antialias, axes, coordinate_transformation_mode, cubic_coeff_a, exclude_outside, extrapolation_value, keep_aspect_ratio_policy, mode, nearest_mode) -> Y."""  # noqa: E501
    mode = _check_resize_attrs(ctx)
    shape = ctx.shape(0)
    if shape is None or len(shape) not in (3, 4):
        raise fail("dynamic_shape" if shape is None else "attribute",
                   "Resize is supported for rank-3/4 NC... inputs (of known rank)")
    run_time_sizes = ctx.has_input(3) and ctx.const(3) is None
    if run_time_sizes or any(d is None for d in shape[2:]):
        _resize_dynamic(ctx, mode, shape)
        return
    in_shape = [1 if d is None else int(d) for d in shape]
    if 0 in in_shape:
        raise fail("attribute", f"Resize of an empty input {in_shape} is not supported")
    out, scales = _resize_plan(ctx, in_shape)
    if out[:2] != in_shape[:2] or scales[:2] != [1.0, 1.0]:
        raise fail("attribute", "Resize of the batch or channel axis is not supported",
                   "TensorFlow.js resizes only the spatial dims of NCHW (NHWC) images")
    if mode != "nearest" and ctx.out_dtype() != "DT_FLOAT":
        raise fail("dtype", f"{mode} Resize is only supported for float32")
    dims = [(in_shape[a], out[a], scales[a]) for a in range(2, len(in_shape))]
    if min(out, default=1) < 1:
        raise fail("attribute", f"Resize to an empty output {out} is not supported")
    table(ctx, sum(out[2:]), "the resize sample positions")
    # tfjs has no bicubic kernel: cubic always takes the GatherV2 form
    cfg = None if mode == "cubic" else next((c for c in _TF_CONFIGS if _matches(ctx, c, dims, mode == "nearest")),
                                            None)
    if cfg is None and str(ctx.attr("keep_aspect_ratio_policy", "stretch")) == "stretch":
        _resize_dynamic(ctx, mode, shape)  # no tfjs kernel samples like ONNX: the exact GatherV2 form
        return
    if cfg is None and mode == "cubic":
        raise fail("attribute", "cubic Resize with keep_aspect_ratio_policy other than stretch is not supported")
    if cfg is None:
        form = [mode, str(ctx.attr("coordinate_transformation_mode", "half_pixel"))]
        if mode == "nearest":
            form.append(str(ctx.attr("nearest_mode", "round_prefer_floor")))
        raise fail("attribute", f"Resize ({', '.join(form)}) samples positions TensorFlow.js cannot reproduce "
                   f"for {in_shape[2:]} -> {out[2:]}",
                   "tfjs resizes like TF (asymmetric/floor, half_pixel, align_corners/round); other forms differ")
    _emit_resize(ctx, "ResizeNearestNeighbor" if mode == "nearest" else "ResizeBilinear", cfg, out)


# Sizes an unknown spatial dim is checked at: tfjs must sample like ONNX for every one of them.
_SAMPLE_IN = range(1, 25)
_SAMPLE_OUT = range(1, 33)


def _samples(n_in: int | None, n_out: int | None, scale: float | None) -> list[tuple[int, int, float]]:
    """(in, out, ONNX scale) triples for one spatial axis whose sizes are partly known at conversion."""
    f32 = np.float32
    out: list[tuple[int, int, float]] = []
    for i in ([n_in] if n_in is not None else _SAMPLE_IN):
        if scale is not None:
            o = int(np.floor(f32(i) * f32(scale)))
            out += [(i, o, float(f32(scale)))] if o >= 1 else []
        else:
            out += [(i, o, float(f32(o) / f32(i))) for o in ([n_out] if n_out is not None else _SAMPLE_OUT)]
    return out


def _dynamic_sizes(ctx: EmitCtx, xl: str, shape: list[int | None], axes: list[int]) -> tuple[str, list[tuple]]:
    """The run-time [H, W] output size of a Resize given ``sizes``, and the sample (in, out, scale) triples."""
    rank = len(shape)
    if str(ctx.attr("keep_aspect_ratio_policy", "stretch")) != "stretch":
        raise fail("dynamic_shape", "Resize keep_aspect_ratio_policy other than stretch needs static spatial dims "
                   "and constant sizes")
    const = ctx.const(3)
    values = None if const is None else _plan_values(ctx, "sizes", const, len(axes))
    if values is not None and any(a < 2 and (shape[a] is None or int(values[k]) != shape[a])
                                  for k, a in enumerate(axes)):
        raise fail("attribute", "Resize of the batch or channel axis is not supported",
                   "TensorFlow.js resizes only the spatial dims of NCHW (NHWC) images")
    parts: list[str | list[int]] = []
    samples: list[tuple] = []
    if values is None and rank == 4 and 2 in axes and 3 in axes and axes.index(3) == axes.index(2) + 1:
        first = axes.index(2)  # H and W adjacent in sizes: one slice
        size = dims_slice(ctx, ctx.input(3), first, first + 2, "size")
        return size, _samples(shape[2], None, None) + _samples(shape[3], None, None)
    for a in range(2, rank):
        k = axes.index(a) if a in axes else None
        if k is None:  # not resized: keeps its size
            xs = runtime_shape(ctx, xl, f"keep{a}/shape")
            parts.append(dim_at(ctx, xs, a - 1 if rank == 4 else 2, f"keep{a}"))
            samples += [(n, n, 1.0) for n in ([shape[a]] if shape[a] is not None else _SAMPLE_IN)]
        elif values is not None:
            parts.append([int(values[k])])
            samples += _samples(shape[a], int(values[k]), None)
        else:
            parts.append(ctx.add("StridedSlice", [ctx.input(3), int_const(ctx, [k], f"sizes{a}/begin"),
                                                  int_const(ctx, [k + 1], f"sizes{a}/end"),
                                                  int_const(ctx, [1], f"sizes{a}/strides")],
                                 {"begin_mask": Attr.i(0), "end_mask": Attr.i(0), "ellipsis_mask": Attr.i(0),
                                  "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0),
                                  "T": Attr.dtype("DT_INT32")}, suffix=f"sizes{a}"))
            samples += _samples(shape[a], None, None)
    if rank == 3:
        parts.insert(0, [1])
    return concat_dims(ctx, parts, "size"), samples


def _scale_samples(ctx: EmitCtx, shape: list[int | None], axes: list[int]) -> list[tuple[int, int, float]]:
    """(in, out, scale) for in = 1..1024 on each unknown spatial dim, from the constant scales."""
    given = _plan_values(ctx, "scales", ctx.need_const(2, "Resize scales"), len(axes))
    out: list[tuple[int, int, float]] = []
    for k, a in enumerate(axes):
        if a >= 2:
            scale = float(np.float32(given[k]))
            d = shape[a]
            for n in ([d] if d is not None else range(1, 1025)):
                o = int(np.floor(np.float32(n) * np.float32(scale)))
                out += [(n, o, scale)] if o >= 1 else []
    return out


def _dynamic_scales(ctx: EmitCtx, xl: str, shape: list[int | None], axes: list[int]) -> tuple[str, list[tuple]]:
    """The run-time [H, W] output size floor(in * scale) of a Resize given constant ``scales``, and samples."""
    given = ctx.need_const(2, "Resize scales") if ctx.has_input(2) else None
    if given is None or not given.size:
        raise fail("attribute", "Resize needs a scales or a sizes input")
    given = _plan_values(ctx, "scales", given, len(axes))
    scales = [1.0] * len(shape)
    for k, a in enumerate(axes):
        scales[a] = float(np.float32(given[k]))
    if scales[:2] != [1.0, 1.0]:
        raise fail("attribute", "Resize of the batch or channel axis is not supported",
                   "TensorFlow.js resizes only the spatial dims of NCHW (NHWC) images")
    samples = [t for a in range(2, len(shape)) for t in _samples(shape[a], None, scales[a])]
    hw = dims_slice(ctx, runtime_shape(ctx, xl, "in_shape"), 1, 3, "in_hw")
    f = {"T": Attr.dtype("DT_FLOAT")}
    hw = ctx.add("Cast", [hw], {"SrcT": Attr.dtype("DT_INT32"), "DstT": Attr.dtype("DT_FLOAT")}, suffix="in_hw_f")
    factors = ctx.constant(np.array(([1.0] if len(shape) == 3 else []) + scales[2:], np.float32), "factors")
    out = ctx.add("Floor", [ctx.add("Mul", [hw, factors], f, suffix="scaled")], f, suffix="floor")
    return ctx.add("Cast", [out], {"SrcT": Attr.dtype("DT_FLOAT"), "DstT": Attr.dtype("DT_INT32")},
                   suffix="size"), samples


def _resize_dynamic(ctx: EmitCtx, mode: str, shape: tuple[int | None, ...]) -> None:
    """Resize with its output size computed at run time from Shape (scales) or read from ``sizes``.

    Also the form for static shapes that no tfjs resize kernel samples like ONNX.

    The tfjs resize kernels are used when their sampling configuration matches ONNX for sampled sizes of every
    unknown dim (``_samples``, ``_scale_samples``); else the exact GatherV2 form (``resize_gather.gather_resize``).
    """
    dims, rank = list(shape), len(shape)
    axes = [normalize_axis(a, rank) for a in ctx.attr("axes", list(range(rank)))]
    if mode != "nearest" and ctx.out_dtype() != "DT_FLOAT":
        raise fail("dtype", f"{mode} Resize is only supported for float32")
    x = ctx.input(0)
    if rank == 3:  # a 1-D resize is a 2-D resize of an N,C,1,W tensor
        x = ctx.add("ExpandDims", [x, int_const(ctx, 2, "to_4d/axis")], suffix="to_4d")
    xl = to_channels_last(ctx, x, 4)
    sized = ctx.has_input(3) and (ctx.const(3) is None or ctx.const(3).size)  # type: ignore[union-attr]
    size, samples = (_dynamic_sizes if sized else _dynamic_scales)(ctx, xl, dims, axes)
    nearest = mode == "nearest"
    # Nearest sample positions flip at exact integers, so a kernel is taken only for constant scales checked up
    # to 1024 in; given sizes, the ratio out / in varies with both: always the exact GatherV2 form.
    if nearest and not sized:
        samples = _scale_samples(ctx, dims, axes)
    cfg = None if (nearest and sized) or mode == "cubic" else \
        next((c for c in _TF_CONFIGS if _matches(ctx, c, samples, nearest)), None)
    if cfg is None:
        given = None if sized else [float(np.float32(v)) for v in _plan_values(
            ctx, "scales", ctx.need_const(2, "Resize scales"), len(axes))]
        scales = [1.0] * rank
        for k, a in enumerate(axes if given is not None else []):
            scales[a] = given[k]  # type: ignore[index]
        spatial = None if given is None else ([1.0] if rank == 3 else []) + scales[2:]
        y = gather_resize(ctx, xl, size, spatial, rank, mode)
    else:
        op = "ResizeNearestNeighbor" if mode == "nearest" else "ResizeBilinear"
        attrs = {"align_corners": Attr.b(cfg[0]), "half_pixel_centers": Attr.b(cfg[1]),
                 "T": Attr.dtype(ctx.out_dtype())}
        y = ctx.add(op, [xl, size], attrs)
    y = to_channels_first(ctx, y, 4)
    if rank == 3:
        y = ctx.add("Squeeze", [y], {"squeeze_dims": Attr.ints([2])}, suffix="to_3d")
    ctx.set_output(0, y)


def _emit_resize(ctx: EmitCtx, op: str, cfg: tuple[bool, bool], out: list[int]) -> None:
    x, rank = ctx.input(0), len(out)
    if rank == 3:  # a 1-D resize is a 2-D resize of an N,C,1,W tensor
        x = ctx.add("ExpandDims", [x, int_const(ctx, 2, "to_4d/axis")], suffix="to_4d")
    size = int_const(ctx, out[2:] if rank == 4 else [1, out[2]], "size")
    attrs = {"align_corners": Attr.b(cfg[0]), "half_pixel_centers": Attr.b(cfg[1]), "T": Attr.dtype(ctx.out_dtype())}
    y = to_channels_first(ctx, ctx.add(op, [to_channels_last(ctx, x, 4), size], attrs), 4)
    if rank == 3:
        y = ctx.add("Squeeze", [y], {"squeeze_dims": Attr.ints([2])}, suffix="to_3d")
    ctx.set_output(0, y)


def _block_dims(ctx: EmitCtx) -> tuple[int, list[int | None]]:
    shape = ctx.shape(0)
    # Only the CRD reorder and SpaceToDepth's reshapes need the channel count.
    dcr = ctx.node.op_type == "DepthToSpace" and str(ctx.attr("mode", "DCR")) == "DCR"
    if shape is None or len(shape) != 4 or (shape[1] is None and not dcr):
        raise fail("dynamic_shape", f"{ctx.node.op_type} needs a rank-4 input with a static channel count")
    b, dims = ctx.attr("blocksize"), [None if d is None else int(d) for d in shape[1:]]
    if not isinstance(b, int) or b < 1:
        raise invalid(ctx, f"blocksize {b} must be a positive integer")
    c = int(shape[1] or 0)
    if ctx.node.op_type == "DepthToSpace" and shape[1] is not None and c % (b * b):
        raise invalid(ctx, f"{c} channels do not split into blocks of {b} x {b}")
    if ctx.node.op_type == "SpaceToDepth" and any(d is not None and d % b for d in dims[1:]):
        raise invalid(ctx, f"spatial dims {dims[1:]} are not multiples of blocksize {b}")
    return b, dims


@TFJS.rule("DepthToSpace", produces={"Transpose", "DepthToSpace", "GatherV2"},
           limits=("rank-4 input; CRD mode needs static channels (H and W may be unknown)",))
def depth_to_space(ctx: EmitCtx) -> None:
    """DepthToSpace(input; blocksize, mode) -> output."""
    b, (c, _, _) = _block_dims(ctx)
    c = int(c or 0)
    x = ctx.input(0)
    if str(ctx.attr("mode", "DCR")) == "CRD":
        # Reorder channels c*b*b + i*b + j (CRD) into (i*b + j)*C' + c (DCR, the tfjs order).
        cp = c // (b * b)
        order = np.arange(c).reshape(cp, b * b).T.reshape(-1)
        x = ctx.add("GatherV2", [x, int_const(ctx, order, "crd_order"), int_const(ctx, 1, "axis")],
                    {"batch_dims": Attr.i(0)}, suffix="crd_to_dcr")
    attrs = {"block_size": Attr.i(b), "data_format": Attr.s("NHWC"), "T": Attr.dtype(ctx.out_dtype())}
    y = ctx.add("DepthToSpace", [to_channels_last(ctx, x, 4)], attrs)
    ctx.set_output(0, to_channels_first(ctx, y, 4))


@TFJS.rule("SpaceToDepth", produces={"Transpose", "Reshape", "FloorDiv", "Shape", "StridedSlice", "ConcatV2"},
           limits=("rank-4 input with static channels (H and W may be unknown: block counts computed at run time)",))
def space_to_depth(ctx: EmitCtx) -> None:
    """SpaceToDepth(input; blocksize) -> output."""
    b, (c_dim, h, w) = _block_dims(ctx)
    c = int(c_dim or 0)
    # In NHWC: [N*H/b, b, W/b, b*C] -> swap the two middle axes -> [N, H/b, W/b, b*b*C] (rank <= 4 throughout).
    x = to_channels_last(ctx, ctx.input(0), 4)
    if h is not None and w is not None:
        split, merge = int_const(ctx, [-1, b, w // b, b * c], "split_shape"), \
            int_const(ctx, [-1, h // b, w // b, b * b * c], "merge_shape")
    else:
        hw = dims_slice(ctx, runtime_shape(ctx, x, "in_shape"), 1, 3, "in_hw")
        blocks = ctx.add("FloorDiv", [hw, int_const(ctx, [b, b], "block")], {"T": Attr.dtype("DT_INT32")},
                         suffix="blocks")
        split = concat_dims(ctx, [[-1, b], dim_at(ctx, blocks, 1, "w_blocks"), [b * c]], "split_shape")
        merge = concat_dims(ctx, [[-1], blocks, [b * b * c]], "merge_shape")
    x = ctx.add("Reshape", [x, split], suffix="split")
    x = transpose(ctx, x, [0, 2, 1, 3], "blocks")
    x = ctx.add("Reshape", [x, merge], suffix="merge")
    ctx.set_output(0, to_channels_first(ctx, x, 4))
