"""Image ops: Resize (nearest, linear), DepthToSpace, SpaceToDepth."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backends.tfjs_graph.emitters.common import (
    int_const,
    invalid,
    normalize_axis,
    table,
    to_channels_first,
    to_channels_last,
    transpose,
)
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
    if mode not in ("nearest", "linear"):
        raise fail("attribute", f"Resize mode '{mode}' is not supported (only nearest and linear)")
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


@TFJS.rule("Resize", produces={"Transpose", "ResizeBilinear", "ResizeNearestNeighbor", "ExpandDims", "Squeeze"},
           limits=("modes nearest and linear; no cubic, no antialias",
                   "rank-3 or rank-4 NC... input resizing only the spatial dims; static input shape",
                   "constant scales or sizes",
                   "coordinate/rounding modes only where tfjs gives identical sample positions (checked per shape)"))
def resize(ctx: EmitCtx) -> None:
    """Resize(X, roi?, scales?, sizes?; antialias, axes, coordinate_transformation_mode, cubic_coeff_a, exclude_outside, extrapolation_value, keep_aspect_ratio_policy, mode, nearest_mode) -> Y."""  # noqa: E501
    mode = _check_resize_attrs(ctx)
    shape = ctx.shape(0)
    if shape is None or len(shape) not in (3, 4) or any(d is None for d in shape[2:]):
        raise fail("dynamic_shape" if shape is None or len(shape) in (3, 4) else "attribute",
                   "Resize is supported for rank-3/4 NC... inputs with static spatial dims")
    in_shape = [1 if d is None else int(d) for d in shape]
    if 0 in in_shape:
        raise fail("attribute", f"Resize of an empty input {in_shape} is not supported")
    out, scales = _resize_plan(ctx, in_shape)
    if out[:2] != in_shape[:2] or scales[:2] != [1.0, 1.0]:
        raise fail("attribute", "Resize of the batch or channel axis is not supported",
                   "TensorFlow.js resizes only the spatial dims of NCHW (NHWC) images")
    if mode == "linear" and ctx.out_dtype() != "DT_FLOAT":
        raise fail("dtype", "linear Resize is only supported for float32")
    dims = [(in_shape[a], out[a], scales[a]) for a in range(2, len(in_shape))]
    if min(out, default=1) < 1:
        raise fail("attribute", f"Resize to an empty output {out} is not supported")
    table(ctx, sum(out[2:]), "the resize sample positions")
    cfg = next((c for c in _TF_CONFIGS if _matches(ctx, c, dims, mode == "nearest")), None)
    if cfg is None:
        form = [mode, str(ctx.attr("coordinate_transformation_mode", "half_pixel"))]
        if mode == "nearest":
            form.append(str(ctx.attr("nearest_mode", "round_prefer_floor")))
        raise fail("attribute", f"Resize ({', '.join(form)}) samples positions TensorFlow.js cannot reproduce "
                   f"for {in_shape[2:]} -> {out[2:]}",
                   "tfjs resizes like TF (asymmetric/floor, half_pixel, align_corners/round); other forms differ")
    _emit_resize(ctx, "ResizeNearestNeighbor" if mode == "nearest" else "ResizeBilinear", cfg, out)


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


def _block_dims(ctx: EmitCtx) -> tuple[int, list[int]]:
    shape = ctx.shape(0)
    if shape is None or len(shape) != 4 or any(d is None for d in shape[1:]):
        raise fail("dynamic_shape", f"{ctx.node.op_type} needs a rank-4 input with static C, H, W")
    b, dims = ctx.attr("blocksize"), [int(d) for d in shape[1:]]  # type: ignore[arg-type]
    if not isinstance(b, int) or b < 1:
        raise invalid(ctx, f"blocksize {b} must be a positive integer")
    if ctx.node.op_type == "DepthToSpace" and dims[0] % (b * b):
        raise invalid(ctx, f"{dims[0]} channels do not split into blocks of {b} x {b}")
    if ctx.node.op_type == "SpaceToDepth" and (dims[1] % b or dims[2] % b):
        raise invalid(ctx, f"spatial dims {dims[1:]} are not multiples of blocksize {b}")
    return b, dims


@TFJS.rule("DepthToSpace", produces={"Transpose", "DepthToSpace", "GatherV2"},
           limits=("rank-4 input with static channels",))
def depth_to_space(ctx: EmitCtx) -> None:
    """DepthToSpace(input; blocksize, mode) -> output."""
    b, (c, _, _) = _block_dims(ctx)
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


@TFJS.rule("SpaceToDepth", produces={"Transpose", "Reshape"}, limits=("rank-4 input with static C, H, W",))
def space_to_depth(ctx: EmitCtx) -> None:
    """SpaceToDepth(input; blocksize) -> output."""
    b, (c, h, w) = _block_dims(ctx)
    if h % b or w % b:
        raise fail("attribute", f"SpaceToDepth needs H and W divisible by blocksize {b}, got {h}x{w}")
    # In NHWC: [N*H/b, b, W/b, b*C] -> swap the two middle axes -> [N, H/b, W/b, b*b*C] (rank <= 4 throughout).
    x = to_channels_last(ctx, ctx.input(0), 4)
    x = ctx.add("Reshape", [x, int_const(ctx, [-1, b, w // b, b * c], "split_shape")], suffix="split")
    x = transpose(ctx, x, [0, 2, 1, 3], "blocks")
    x = ctx.add("Reshape", [x, int_const(ctx, [-1, h // b, w // b, b * b * c], "merge_shape")], suffix="merge")
    ctx.set_output(0, to_channels_first(ctx, x, 4))
