"""Detection post-processing ops: NonZero, NonMaxSuppression, RoiAlign.

tfjs ``Where`` and ``NonMaxSuppressionV3`` are dynamic ops (output size known at run time only): a model with
them runs with ``executeAsync`` only, which the preflight flags from their tfjs op category ("dynamic").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import I32, dims_slice, int_const, invalid, runtime_shape, table, transpose
from backends.tfjs_graph.emitters.conv import window_attrs
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, tf_dtype

_F32 = {"T": Attr.dtype("DT_FLOAT")}
# Unrolled NonMaxSuppression: one tfjs NMS per (batch, class).
MAX_NMS_UNROLL = 4096


@TFJS.rule("NonZero", produces={"Where", "Transpose"}, limits=("the input rank must be known and at least 1",))
def non_zero(ctx: EmitCtx) -> None:
    """NonZero(X) -> Y: tfjs Where gives [n, rank] int32 coordinates in row-major order; ONNX wants [rank, n]."""
    rank = ctx.rank(0)
    if rank == 0:
        raise fail("attribute", "NonZero of a scalar is not supported", "reshape the input to rank 1")
    coords = ctx.add("Where", [ctx.input(0)], {"T": Attr.dtype(tf_dtype(ctx.dtype(0)))}, suffix="where")
    ctx.set_output(0, transpose(ctx, coords, [1, 0], "transpose"))


def _float_scalar(ctx: EmitCtx, i: int, what: str) -> float | None:
    """A constant float input as a Python float, None when it is computed at run time."""
    arr = ctx.const(i)
    if arr is None:
        return None
    if arr.size != 1:
        raise invalid(ctx, f"{what} must hold one value (has shape {list(arr.shape)})")
    return float(arr.reshape(-1)[0])


def _iou_threshold(ctx: EmitCtx) -> str:
    """onnxruntime suppresses a box when IoU > threshold, tfjs when IoU >= threshold: pass the next float32 up.

    The default threshold 0 thus keeps disjoint boxes (IoU 0), as onnxruntime does.
    """
    if not ctx.has_input(3):
        return ctx.constant(np.float32(np.nextafter(np.float32(0), np.float32(1))), "iou_threshold")
    value = _float_scalar(ctx, 3, "iou_threshold")
    if value is not None:
        if not 0.0 <= value <= 1.0:
            raise invalid(ctx, f"iou_threshold {value} must be in [0, 1]")
        up = np.nextafter(np.float32(value), np.float32(2))
        return ctx.constant(np.float32(min(up, np.float32(1))), "iou_threshold")
    bumped = ctx.add("Mul", [ctx.input(3), ctx.constant(np.float32(1 + 2.0**-23), "iou/ulp")], _F32, suffix="iou/up")
    bumped = ctx.add("Maximum", [bumped, ctx.constant(np.float32(np.nextafter(np.float32(0), np.float32(1))),
                                                      "iou/tiny")], _F32, suffix="iou/positive")
    return ctx.add("Minimum", [bumped, ctx.constant(np.float32(1), "iou/one")], _F32, suffix="iou/threshold")


def _center_to_corners(ctx: EmitCtx, boxes: str) -> str:
    """[x_center, y_center, width, height] -> [y1, x1, y2, x2] along the last axis (as onnxruntime computes it)."""
    def col(k: int) -> str:
        return ctx.add("GatherV2", [boxes, int_const(ctx, [k], f"center/col{k}"), int_const(ctx, 2, f"center/ax{k}")],
                       {"batch_dims": Attr.i(0), **_F32}, suffix=f"center/c{k}")

    xc, yc, w, h = (col(k) for k in range(4))
    half = ctx.constant(np.float32(0.5), "center/half")
    hw = ctx.add("Mul", [w, half], _F32, suffix="center/half_w")
    hh = ctx.add("Mul", [h, half], _F32, suffix="center/half_h")
    parts = [ctx.add("Sub", [yc, hh], _F32, suffix="center/y1"), ctx.add("Sub", [xc, hw], _F32, suffix="center/x1"),
             ctx.add("AddV2", [yc, hh], _F32, suffix="center/y2"), ctx.add("AddV2", [xc, hw], _F32, suffix="center/x2")]
    return ctx.add("ConcatV2", [*parts, int_const(ctx, 2, "center/axis")], {"N": Attr.i(4), **_F32},
                   suffix="center/corners")


def _take(ctx: EmitCtx, x: str, index: int, suffix: str, attrs: dict[str, Attr]) -> str:
    """``x[index]`` (drops axis 0)."""
    return ctx.add("GatherV2", [x, int_const(ctx, index, f"{suffix}/index"), int_const(ctx, 0, f"{suffix}/axis")],
                   {"batch_dims": Attr.i(0), **attrs}, suffix=suffix)


@TFJS.rule("NonMaxSuppression",
           produces={"NonMaxSuppressionV3", "GatherV2", "ExpandDims", "Mul", "AddV2", "Sub", "ConcatV2",
                     "Maximum", "Minimum"},
           limits=("static batch and class counts (one tfjs NonMaxSuppression per batch and class)",
                   f"at most {MAX_NMS_UNROLL} batch x class pairs", "runs with executeAsync"))
def non_max_suppression(ctx: EmitCtx) -> None:
    """NonMaxSuppression(boxes, scores, max_output_boxes_per_class?, iou_threshold?, score_threshold?) -> selected.

    selected_indices [num, 3] holds (batch, class, box) rows per batch, per class, by decreasing score, as
    onnxruntime orders them; center_point_box=1 boxes are converted to corners first.
    """
    boxes_shape, scores_shape = ctx.shape(0), ctx.shape(1)
    if boxes_shape is None or scores_shape is None or len(boxes_shape) != 3 or len(scores_shape) != 3:
        raise fail("dynamic_shape", "NonMaxSuppression: boxes and scores must have rank 3")
    batches = boxes_shape[0] if boxes_shape[0] is not None else scores_shape[0]
    classes = scores_shape[1]
    if batches is None or classes is None:
        raise fail("dynamic_shape", "NonMaxSuppression needs static batch and class counts (it is unrolled into "
                   "one tfjs NonMaxSuppression per batch and class)", "export the model with static shapes")
    if batches * classes > MAX_NMS_UNROLL:
        raise fail("attribute", f"NonMaxSuppression over {batches} batches x {classes} classes would unroll into "
                   f"more than {MAX_NMS_UNROLL} tfjs ops")
    center = int(ctx.attr("center_point_box", 0))
    if center not in (0, 1):
        raise invalid(ctx, f"center_point_box {center} must be 0 or 1")
    boxes = _center_to_corners(ctx, ctx.input(0)) if center else ctx.input(0)

    if not ctx.has_input(2):  # no limit given: nothing is selected
        max_out = int_const(ctx, 0, "max_output")
    elif (limit := ctx.const(2)) is not None:
        if limit.size != 1 or limit.dtype.kind not in "iu":
            raise invalid(ctx, "max_output_boxes_per_class must hold one integer")
        max_out = int_const(ctx, int(np.clip(limit.reshape(-1)[0], 0, np.iinfo(np.int32).max)), "max_output")
    else:
        max_out = ctx.input(2)
    iou = _iou_threshold(ctx)
    if ctx.has_input(4) and (score := _float_scalar(ctx, 4, "score_threshold")) is None:
        score_thr = ctx.input(4)
    else:
        value = score if ctx.has_input(4) else -np.inf
        score_thr = ctx.constant(np.float32(value), "score_threshold")

    if batches * classes == 0:
        ctx.set_output(0, ctx.constant(np.zeros((0, 3), np.int32), "selected"))
        return
    triplets = []
    mask, expand_axis = int_const(ctx, np.array([[0, 0, 1]]), "mask"), int_const(ctx, 1, "expand_axis")
    for b in range(batches):
        boxes_b = _take(ctx, boxes, b, f"b{b}/boxes", _F32)
        scores_b = _take(ctx, ctx.input(1), b, f"b{b}/scores", _F32)
        for c in range(classes):
            tag = f"b{b}c{c}"
            scores_bc = _take(ctx, scores_b, c, f"{tag}/scores", _F32)
            sel = ctx.add("NonMaxSuppressionV3", [boxes_b, scores_bc, max_out, iou, score_thr], suffix=f"{tag}/nms")
            col = ctx.add("ExpandDims", [sel, expand_axis], I32, suffix=f"{tag}/expand")
            # [k, 1] * [0, 0, 1] + [b, c, 0] -> rows (b, c, box)
            spread = ctx.add("Mul", [col, mask], I32, suffix=f"{tag}/spread")
            triplets.append(ctx.add("AddV2", [spread, int_const(ctx, np.array([[b, c, 0]]), f"{tag}/bc")], I32,
                                    suffix=f"{tag}/triplets"))
    if len(triplets) == 1:
        ctx.set_output(0, triplets[0])
        return
    ctx.set_output(0, ctx.add("ConcatV2", [*triplets, int_const(ctx, 0, "concat_axis")],
                              {"N": Attr.i(len(triplets)), **I32}, suffix="selected"))


def _roi_mode(ctx: EmitCtx) -> str:
    default = "half_pixel" if ctx.opset >= 16 else "output_half_pixel"
    mode = ctx.attr("coordinate_transformation_mode", default)
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("half_pixel", "output_half_pixel"):
        raise invalid(ctx, f"coordinate_transformation_mode {mode!r} must be half_pixel or output_half_pixel")
    return mode


@TFJS.rule("RoiAlign",
           produces={"CropAndResize", "AvgPool", "GatherV2", "Transpose", "Mul", "Sub", "AddV2", "Maximum",
                     "ConcatV2", "Shape", "StridedSlice", "Cast", "RealDiv", "Range"},
           limits=("mode=avg only", "sampling_ratio > 0 (a fixed sample count per bin)",
                   "input height and width static or known at run time (then the crop boxes are normalized by "
                   "the run-time shape)", "float32 only"))
def roi_align(ctx: EmitCtx) -> None:
    """RoiAlign(X, rois, batch_indices; mode, sampling_ratio, spatial_scale, ...) -> Y [rois, C, out_h, out_w].

    onnxruntime samples each bin at sampling_ratio^2 points spaced evenly over the roi: one CropAndResize of
    (output size x sampling_ratio) samples per roi, then an average pool over each bin's samples. The image is
    edge-padded by one pixel, so that samples within one pixel outside it take the border value as in onnxruntime
    (CropAndResize gives 0 there), and samples further out stay 0.
    """
    prm = _roi_params(ctx)
    x, norm_ref = _pad_image(ctx, height=prm.height, width=prm.width)
    rois = ctx.input(1)
    rois_shape = ctx.shape(1)
    # tfjs-wasm GatherV2 of an empty [0, 4] input gives a wrong shape: with an unknown roi count (0 at run time in
    # detectors whose pyramid levels get no rois), the column pairs are reversed StridedSlices instead.
    sliced = rois_shape is None or len(rois_shape) != 2 or rois_shape[0] is None
    start, size = _roi_pixels(ctx, rois=rois, sliced=sliced, prm=prm)
    boxes = _crop_boxes(ctx, start=start, size=size, prm=prm, norm_ref=norm_ref)
    box_index = ctx.input(2)
    if sliced:  # a dummy first roi, dropped at the end: tfjs-wasm fails to transpose an empty (no rois) tensor
        boxes, box_index = _add_dummy_roi(ctx, boxes=boxes, box_index=box_index)
    y = _crop_and_pool(ctx, x=x, boxes=boxes, box_index=box_index, prm=prm)
    y = transpose(ctx, y, [0, 3, 1, 2], "to_nchw")
    if sliced:
        y = _drop_dummy_roi(ctx, y=y, rois=rois)
    ctx.set_output(0, y)


@dataclass(frozen=True)
class _RoiParams:
    """RoiAlign attributes and input dims, validated."""

    ratio: int  # samples per bin along each axis
    samples_h: int  # output_height * ratio
    samples_w: int
    scale: float  # spatial_scale
    coord_mode: str  # half_pixel or output_half_pixel
    height: int | None  # X's H and W (None: known at run time)
    width: int | None


def _roi_params(ctx: EmitCtx) -> _RoiParams:
    """Parse and validate RoiAlign's attributes, X's dtype and shape, and bound the emitted tables."""
    mode = ctx.attr("mode", "avg")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode != "avg":
        raise fail("attribute", f"RoiAlign mode={mode} is not supported: onnxruntime's max mode takes the maximum "
                   "of the weighted bilinear corner terms, which no TensorFlow.js op computes",
                   "use mode=avg")
    if ctx.dtype(0) != ir.DataType.FLOAT:
        raise fail("dtype", "RoiAlign is emitted for float32 input only", "cast the input to float32")
    ratio = int(ctx.attr("sampling_ratio", 0))
    if ratio <= 0:
        raise fail("attribute", "RoiAlign with sampling_ratio=0 is not supported: onnxruntime then takes "
                   "ceil(roi size / output size) samples per bin, a count that depends on each roi at run time",
                   "export with a fixed sampling_ratio > 0 (e.g. 2)")
    out_h, out_w = int(ctx.attr("output_height", 1)), int(ctx.attr("output_width", 1))
    if out_h < 1 or out_w < 1:
        raise invalid(ctx, f"output_height {out_h} and output_width {out_w} must be at least 1")
    scale = float(ctx.attr("spatial_scale", 1.0))
    coord_mode = _roi_mode(ctx)
    shape = ctx.shape(0)
    if shape is None or len(shape) != 4:
        raise fail("dynamic_shape", "RoiAlign: X must have rank 4 (N, C, H, W)")
    height, width = shape[2], shape[3]
    if height is not None and width is not None and (height < 1 or width < 1):
        raise invalid(ctx, f"X has an empty spatial dim ({height} x {width})")
    samples_h, samples_w = out_h * ratio, out_w * ratio
    table(ctx, samples_h * samples_w, "the RoiAlign samples per roi", 4)
    if height is not None and width is not None:
        table(ctx, (height + 2) + (width + 2), "the edge-padding indices")
    return _RoiParams(ratio, samples_h, samples_w, scale, coord_mode, height, width)


def _pad_image(ctx: EmitCtx, *, height: int | None, width: int | None) -> tuple[str, str | None]:
    """X as NHWC, edge-padded by one pixel on each side of H and W; and the run-time box norm if H or W is unknown."""
    x = transpose(ctx, ctx.input(0), [0, 2, 3, 1], "to_nhwc")
    if height is None or width is None:
        return _pad_edges_dynamic(ctx, x)
    for axis, dim, name in ((1, height, "h"), (2, width, "w")):
        idx = np.clip(np.arange(-1, dim + 1), 0, dim - 1)
        x = ctx.add("GatherV2", [x, int_const(ctx, idx, f"pad_{name}/indices"),
                                 int_const(ctx, axis, f"pad_{name}/axis")], {"batch_dims": Attr.i(0), **_F32},
                    suffix=f"pad_{name}")
    return x, None


def _roi_columns(ctx: EmitCtx, *, rois: str, cols: list[int], sliced: bool, suffix: str) -> str:
    """Columns ``cols`` of the [R, 4] rois; reversed StridedSlices when ``sliced`` (rois[:, c0:c1 - 1:-1])."""
    if sliced:  # end open for column 0
        attrs = {"begin_mask": Attr.i(1), "end_mask": Attr.i(3 if cols[1] == 0 else 1),
                 "ellipsis_mask": Attr.i(0), "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0), **_F32}
        return ctx.add("StridedSlice", [rois, int_const(ctx, [0, cols[0]], f"{suffix}/begin"),
                                        int_const(ctx, [0, max(cols[1] - 1, 0)], f"{suffix}/end"),
                                        int_const(ctx, [1, -1], f"{suffix}/strides")], attrs, suffix=suffix)
    return ctx.add("GatherV2", [rois, int_const(ctx, cols, f"{suffix}/cols"), int_const(ctx, 1, f"{suffix}/axis")],
                   {"batch_dims": Attr.i(0), **_F32}, suffix=suffix)


def _roi_pixels(ctx: EmitCtx, *, rois: str, sliced: bool, prm: _RoiParams) -> tuple[str, str]:
    """rois (x1, y1, x2, y2) -> roi start and size in pixels as (y, x) pairs, [R, 2] each."""
    start = ctx.add("Mul", [_roi_columns(ctx, rois=rois, cols=[1, 0], sliced=sliced, suffix="roi/start"),
                            ctx.constant(np.float32(prm.scale), "roi/scale")], _F32, suffix="roi/start_scaled")
    end = ctx.add("Mul", [_roi_columns(ctx, rois=rois, cols=[3, 2], sliced=sliced, suffix="roi/end"),
                          ctx.constant(np.float32(prm.scale), "roi/scale_end")], _F32, suffix="roi/end_scaled")
    if prm.coord_mode == "half_pixel":  # offset 0.5
        start = ctx.add("Sub", [start, ctx.constant(np.float32(0.5), "roi/offset")], _F32, suffix="roi/start_px")
        end = ctx.add("Sub", [end, ctx.constant(np.float32(0.5), "roi/offset_end")], _F32, suffix="roi/end_px")
    size = ctx.add("Sub", [end, start], _F32, suffix="roi/size")
    if prm.coord_mode == "output_half_pixel":  # the legacy mode forces rois at least one pixel wide
        size = ctx.add("Maximum", [size, ctx.constant(np.float32(1), "roi/min_size")], _F32, suffix="roi/size_min1")
    return start, size


def _crop_boxes(ctx: EmitCtx, *, start: str, size: str, prm: _RoiParams, norm_ref: str | None) -> str:
    """[R, 4] CropAndResize boxes (y1, x1, y2, x2) of each roi's first and last sample in the padded image.

    First and last sample of M evenly spaced per axis: start + (0.5 / M) * size, start + ((M - 0.5) / M) * size;
    then +1 for the padding and normalized by (padded size - 1): static, else ``norm_ref`` computed at run time.
    """
    counts = np.array([prm.samples_h, prm.samples_w], dtype=np.float64)
    norm = None if prm.height is None or prm.width is None else \
        np.array([1.0 / (prm.height + 1), 1.0 / (prm.width + 1)])

    def corner(frac: np.ndarray, suffix: str) -> str:
        pos = ctx.add("AddV2", [start, ctx.add("Mul", [size, ctx.constant((frac / counts).astype(np.float32)[None],
                                                                          f"{suffix}/frac")], _F32,
                                               suffix=f"{suffix}/along")], _F32, suffix=f"{suffix}/px")
        shifted = ctx.add("AddV2", [pos, ctx.constant(np.float32(1), f"{suffix}/pad")], _F32, suffix=f"{suffix}/padded")
        scale = ctx.constant(norm.astype(np.float32)[None], f"{suffix}/norm") if norm is not None else norm_ref
        assert scale is not None
        return ctx.add("Mul", [shifted, scale], _F32, suffix=f"{suffix}/normalized")

    first, last = corner(np.array([0.5, 0.5]), "box/first"), corner(counts - 0.5, "box/last")
    return ctx.add("ConcatV2", [first, last, int_const(ctx, 1, "box/axis")], {"N": Attr.i(2), **_F32}, suffix="boxes")


def _add_dummy_roi(ctx: EmitCtx, *, boxes: str, box_index: str) -> tuple[str, str]:
    """A zero box of image 0 prepended to ``boxes`` and ``box_index`` (the empty-roi workaround)."""
    boxes = ctx.add("ConcatV2", [ctx.constant(np.zeros((1, 4), np.float32), "dummy/box"), boxes,
                                 int_const(ctx, 0, "dummy/box_axis")], {"N": Attr.i(2), **_F32},
                    suffix="dummy/boxes")
    box_index = ctx.add("ConcatV2", [int_const(ctx, [0], "dummy/index"), box_index,
                                     int_const(ctx, 0, "dummy/index_axis")], {"N": Attr.i(2), **I32},
                        suffix="dummy/box_index")
    return boxes, box_index


def _crop_and_pool(ctx: EmitCtx, *, x: str, boxes: str, box_index: str, prm: _RoiParams) -> str:
    """NHWC [R, out_h, out_w, C]: the samples of each roi by CropAndResize, averaged per bin (ratio x ratio)."""
    crops = ctx.add("CropAndResize", [x, boxes, box_index, int_const(ctx, [prm.samples_h, prm.samples_w],
                                                                         "crop_size")],
                    {"method": Attr.s("bilinear"), "extrapolation_value": Attr.f(0.0), **_F32}, suffix="crop")
    if prm.ratio <= 1:
        return crops
    attrs = window_attrs([prm.ratio, prm.ratio], [(0, 0), (0, 0)])
    attrs.pop("explicit_paddings")
    attrs["ksize"] = Attr.ints([1, prm.ratio, prm.ratio, 1])
    return ctx.add("AvgPool", [crops], attrs, suffix="avgpool")


def _drop_dummy_roi(ctx: EmitCtx, *, y: str, rois: str) -> str:
    """Rows 1 .. R of ``y`` (a GatherV2, which the layout pass does not move the transpose past)."""
    count = ctx.add("StridedSlice", [runtime_shape(ctx, rois, "dummy/rois_shape"),
                                     int_const(ctx, [0], "dummy/count/begin"),
                                     int_const(ctx, [1], "dummy/count/end"),
                                     int_const(ctx, [1], "dummy/count/strides")],
                    {"begin_mask": Attr.i(0), "end_mask": Attr.i(0), "ellipsis_mask": Attr.i(0),
                     "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(1), **I32}, suffix="dummy/count")
    limit = ctx.add("AddV2", [count, int_const(ctx, 1, "dummy/one")], I32, suffix="dummy/limit")
    rows = ctx.add("Range", [int_const(ctx, 1, "dummy/start"), limit, int_const(ctx, 1, "dummy/delta")],
                   {"Tidx": Attr.dtype("DT_INT32")}, suffix="dummy/rows")
    return ctx.add("GatherV2", [y, rows, int_const(ctx, 0, "dummy/axis")], {"batch_dims": Attr.i(0), **_F32},
                   suffix="dummy/drop")


def _pad_edges_dynamic(ctx: EmitCtx, x: str) -> tuple[str, str]:
    """NHWC ``x`` of run-time H and W, edge-padded by one pixel on each side of H and W, and its norm.

    The first and last row and column are concatenated around ``x``; the [2] crop-box normalization
    1 / (H + 1), 1 / (W + 1) (padded size - 1) is computed from its run-time shape.
    """
    hw = dims_slice(ctx, runtime_shape(ctx, x, "in_shape"), 1, 3, "in_hw")
    hw = ctx.add("Cast", [hw], {"SrcT": Attr.dtype("DT_INT32"), "DstT": Attr.dtype("DT_FLOAT")}, suffix="in_hw_f")
    one = ctx.constant(np.float32(1), "norm/one")
    norm = ctx.add("RealDiv", [one, ctx.add("AddV2", [hw, one], _F32, suffix="norm/span")], _F32, suffix="norm")
    for axis, name in ((1, "h"), (2, "w")):
        def edge(first: bool, suffix: str) -> str:
            begin, end = [0] * 4, [0] * 4
            begin[axis], end[axis] = (0, 1) if first else (-1, 0)  # noqa: B023
            masks = 15 & ~(1 << axis)  # noqa: B023
            attrs = {"begin_mask": Attr.i(masks), "end_mask": Attr.i(masks if first else 15),
                     "ellipsis_mask": Attr.i(0), "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0), **_F32}
            return ctx.add("StridedSlice", [x, int_const(ctx, begin, f"{suffix}/begin"),  # noqa: B023
                                            int_const(ctx, end, f"{suffix}/end"),
                                            int_const(ctx, [1] * 4, f"{suffix}/strides")], attrs, suffix=suffix)

        x = ctx.add("ConcatV2", [edge(True, f"pad_{name}/first"), x, edge(False, f"pad_{name}/last"),
                                 int_const(ctx, axis, f"pad_{name}/axis")], {"N": Attr.i(3), **_F32},
                    suffix=f"pad_{name}")
    return x, norm
