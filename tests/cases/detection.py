"""Parity cases for detection post-processing: NonZero, NonMaxSuppression, RoiAlign."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.cases import Inputs, OpCase, node_model

F, I64 = np.float32, np.int64


# -- NonZero -------------------------------------------------------------------------------------------------------
def _sparse(shape: tuple[int, ...], dtype: Any = F, density: float = 0.4) -> Inputs:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        if np.dtype(dtype).kind == "b":
            return {"x": rng.random(shape) < density}
        values = rng.integers(1, 9, size=shape) * np.where(rng.random(shape) < 0.5, -1, 1)
        return {"x": np.where(rng.random(shape) < density, values, 0).astype(dtype)}

    return make


def _nonzero(tag: str, shape: tuple[int, ...], dtype: Any = F, density: float = 0.4) -> OpCase:
    return OpCase(f"NonZero-{tag}", "NonZero", node_model("NonZero", [("x", dtype, list(shape))]),
                  _sparse(shape, dtype, density))


CASES: list[OpCase] = [
    _nonzero("rank1", (17,)),
    _nonzero("rank2", (6, 9)),
    _nonzero("rank3_int64", (3, 4, 5), I64),
    _nonzero("rank4_bool", (2, 3, 4, 5), np.bool_),
    _nonzero("int32_dense", (5, 7), np.int32, 0.9),
    _nonzero("all_zero", (4, 6), F, 0.0),
    OpCase("NonZero-dynamic_dims", "NonZero", node_model("NonZero", [("x", F, ["N", "M"])]), _sparse((5, 8))),
]


# -- NonMaxSuppression ---------------------------------------------------------------------------------------------
def _boxes(rng: np.random.Generator, batches: int, n: int, center: bool = False, flip: bool = False) -> np.ndarray:
    """Boxes in clusters around a few centers (so that many overlap), as [y1, x1, y2, x2] or center format."""
    out = np.empty((batches, n, 4), np.float32)
    for b in range(batches):
        centers = rng.uniform(0.15, 0.85, size=(4, 2))
        pick = centers[rng.integers(0, 4, size=n)] + rng.normal(0, 0.04, size=(n, 2))
        size = rng.uniform(0.1, 0.3, size=(n, 2))
        if center:  # [x_center, y_center, width, height]
            out[b] = np.concatenate([pick[:, ::-1], size[:, ::-1]], axis=1)
            continue
        y1x1, y2x2 = pick - size / 2, pick + size / 2
        if flip:  # some boxes given with swapped corners: both runtimes use min/max of the corners
            swap = rng.random(n) < 0.4
            y1x1[swap], y2x2[swap] = y2x2[swap].copy(), y1x1[swap].copy()
        out[b] = np.concatenate([y1x1, y2x2], axis=1)
    return out


def _nms_inputs(batches: int, classes: int, n: int, center: bool = False, flip: bool = False,
                runtime: dict[str, np.ndarray] | None = None) -> Inputs:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        feeds = {"boxes": _boxes(rng, batches, n, center, flip),
                 "scores": rng.permutation(batches * classes * n).reshape(batches, classes, n).astype(F)
                 / (batches * classes * n)}  # distinct scores: no ties
        return {**feeds, **(runtime or {})}

    return make


def _nms(tag: str, batches: int, classes: int, n: int, max_out: int | None = None, iou: float | None = None,
         score: float | None = None, *, runtime: bool = False, backends: tuple[str, ...] = ("cpu", "wasm"),
         flip: bool = False, **attrs: Any) -> OpCase:
    """NonMaxSuppression with the thresholds given (None: absent) as initializers or, ``runtime``, graph inputs."""
    inputs: list[tuple[str, Any, Any]] = [("boxes", F, [batches, n, 4]), ("scores", F, [batches, classes, n])]
    values = {"max_out": np.array([max_out], I64) if max_out is not None else None,
              "iou": np.array([iou], F) if iou is not None else None,
              "score": np.array([score], F) if score is not None else None}
    given = {k: v for k, v in values.items() if v is not None}
    order = ["boxes", "scores", *(k if values[k] is not None else "" for k in ("max_out", "iou", "score"))]
    while order[-1] == "":
        order.pop()
    if runtime:
        inputs += [(k, v.dtype, [1]) for k, v in given.items()]
        model = node_model("NonMaxSuppression", inputs, input_order=order, **attrs)
        feeds = _nms_inputs(batches, classes, n, bool(attrs.get("center_point_box")), flip, given)
    else:
        model = node_model("NonMaxSuppression", inputs, initializers=given, input_order=order, **attrs)
        feeds = _nms_inputs(batches, classes, n, bool(attrs.get("center_point_box")), flip)
    return OpCase(f"NonMaxSuppression-{tag}", "NonMaxSuppression", model, feeds, tol=0.0, backends=backends)


CASES += [
    _nms("one_class", 1, 1, 24, 20, 0.5, 0.3),
    _nms("batches_classes", 2, 3, 30, 20, 0.4, 0.2),
    _nms("no_score_threshold", 1, 4, 20, 100, 0.5),
    _nms("iou_default_keeps_disjoint", 2, 2, 12, 50),
    _nms("no_max_output_selects_none", 1, 2, 10),
    _nms("center_point_box", 2, 2, 25, 20, 0.45, 0.1, center_point_box=1),
    _nms("flipped_corners", 1, 3, 20, 10, 0.3, 0.05, flip=True),
    _nms("runtime_thresholds", 2, 2, 20, 5, 0.5, 0.25, runtime=True),  # the max binds
    _nms("runtime_all_loose", 1, 2, 22, 30, 0.5, 0.1, runtime=True),
    _nms("runtime_iou_only", 1, 3, 18, 20, 0.35, runtime=True),
    _nms("high_score_threshold", 1, 2, 20, 10, 0.6, 0.9),
]


# -- RoiAlign ------------------------------------------------------------------------------------------------------
def _rois(rng: np.random.Generator, r: int, height: float, width: float, spill: float) -> np.ndarray:
    """Rois (x1, y1, x2, y2) in input-image coordinates, some reaching ``spill`` pixels past the border."""
    x1 = rng.uniform(-spill, width * 0.7, r)
    y1 = rng.uniform(-spill, height * 0.7, r)
    x2 = np.minimum(x1 + rng.uniform(width * 0.15, width * 0.6, r), width + spill)
    y2 = np.minimum(y1 + rng.uniform(height * 0.15, height * 0.6, r), height + spill)
    return np.stack([x1, y1, x2, y2], axis=1).astype(F)


def _roi_align(tag: str, n: int, c: int, h: int, w: int, batch_idx: list[int], *, scale: float = 1.0,
               spill: float = 0.0, tiny: bool = False, dynamic: bool = False, refused: str | None = None,
               opset: int = 21, more_hw: tuple[tuple[int, int, list[int]], ...] = (), **attrs: Any) -> OpCase:
    """RoiAlign on random rois; ``tiny``: rois under a pixel wide; ``dynamic``: symbolic N, C and roi count.

    ``more_hw``: further feed sets (H, W, batch indices) on the same model, whose H and W are then symbolic.
    """
    r = len(batch_idx)
    dims: tuple[Any, Any, Any] = ("N", "C", "R") if dynamic or more_hw else (n, c, r)
    hw: tuple[Any, Any] = ("H", "W") if more_hw else (h, w)
    model = node_model("RoiAlign", [("x", F, [dims[0], dims[1], *hw]), ("rois", F, [dims[2], 4]),
                                    ("batch_indices", I64, [dims[2]])], opset=opset, spatial_scale=scale, **attrs)

    def feeds(h: int, w: int, batch_idx: list[int]) -> Any:
        def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
            r = len(batch_idx)
            rois = _rois(rng, r, h / scale, w / scale, spill)
            if tiny:
                rois[:, 2:] = rois[:, :2] + rng.uniform(0.05, 0.9, (r, 2)).astype(F)
            return {"x": rng.uniform(-2, 2, (max([n, *(b + 1 for b in batch_idx)]), c, h, w)).astype(F), "rois": rois,
                    "batch_indices": np.array(batch_idx, I64)}
        return make

    return OpCase(f"RoiAlign-{tag}", "RoiAlign", model, feeds(h, w, batch_idx), refused=refused,
                  more_inputs=tuple(feeds(*m) for m in more_hw))


CASES += [
    _roi_align("half_pixel_ratio2", 2, 3, 10, 12, [0, 1, 1, 0, 1, 0], scale=0.5, output_height=3, output_width=4,
               sampling_ratio=2),
    _roi_align("output_half_pixel_ratio1", 2, 2, 9, 8, [1, 0, 1, 1], output_height=2, output_width=2,
               sampling_ratio=1, coordinate_transformation_mode="output_half_pixel"),
    _roi_align("ratio3_7x7", 1, 4, 14, 14, [0, 0, 0, 0, 0], scale=0.25, output_height=7, output_width=7,
               sampling_ratio=3),
    _roi_align("border_spill", 3, 2, 8, 11, [2, 0, 1, 2, 0, 1, 2], spill=3.0, output_height=4, output_width=3,
               sampling_ratio=2),
    _roi_align("border_spill_output_half_pixel", 2, 2, 7, 9, [0, 1, 1, 0, 0], spill=2.5, output_height=3,
               output_width=3, sampling_ratio=2, coordinate_transformation_mode="output_half_pixel"),
    _roi_align("opset10_default_mode", 1, 3, 12, 10, [0, 0, 0], scale=0.5, opset=10, output_height=2,
               output_width=3, sampling_ratio=2),
    _roi_align("tiny_rois_output_half_pixel", 2, 2, 9, 9, [0, 1, 0, 1], tiny=True, output_height=2, output_width=3,
               sampling_ratio=2, coordinate_transformation_mode="output_half_pixel"),
    _roi_align("tiny_rois_half_pixel", 1, 2, 9, 9, [0, 0, 0], tiny=True, output_height=2, output_width=2,
               sampling_ratio=2),
    _roi_align("dynamic_batch_channels_rois", 2, 3, 10, 10, [1, 0, 1, 1, 0], dynamic=True, scale=0.5,
               output_height=3, output_width=3, sampling_ratio=2),
    _roi_align("dynamic_hw_half_pixel", 2, 3, 10, 12, [0, 1, 1, 0, 1], scale=0.5, spill=2.0, output_height=3,
               output_width=4, sampling_ratio=2, more_hw=((17, 9, [1, 0, 1]), (6, 21, [0, 0, 1, 1, 0, 1, 1]))),
    _roi_align("dynamic_hw_output_half_pixel", 1, 2, 9, 8, [0, 0, 0, 0], spill=2.5, output_height=2,
               output_width=2, sampling_ratio=1, coordinate_transformation_mode="output_half_pixel",
               more_hw=((13, 15, [0, 0]), (5, 7, [0, 0, 0]))),
    _roi_align("dynamic_hw_fasterrcnn_like", 1, 4, 20, 25, [0, 0, 0, 0, 0, 0], scale=0.25, output_height=7,
               output_width=7, sampling_ratio=2, more_hw=((15, 32, [0, 0, 0]), (24, 18, [0, 0, 0, 0]), (16, 16, []))),
    _roi_align("sampling_ratio_adaptive", 1, 2, 8, 8, [0, 0], output_height=2, output_width=2, sampling_ratio=0,
               refused="attribute"),
    _roi_align("mode_max", 1, 2, 8, 8, [0, 0], output_height=2, output_width=2, sampling_ratio=2, mode="max",
               refused="attribute"),
]


# -- Gathers and scatters with a run-time indices shape (the index chains around NonZero / NMS) --------------------
def _indexed(op: str, tag: str, data: tuple[Any, ...], feed: tuple[int, ...], idx_dims: tuple[Any, ...],
             idx: np.ndarray, updates: tuple[Any, ...] | None = None, upd_feed: tuple[int, ...] | None = None,
             **attrs: Any) -> OpCase:
    inputs: list[tuple[str, Any, Any]] = [("x", F, list(data)), ("i", I64, list(idx_dims))]
    if updates is not None:
        inputs.append(("u", F, list(updates)))

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        feeds = {"x": rng.uniform(-5, 5, feed).astype(F), "i": idx}
        if upd_feed is not None:
            feeds["u"] = rng.uniform(-5, 5, upd_feed).astype(F)
        return feeds

    return OpCase(f"{op}-{tag}", op, node_model(op, inputs, **attrs), make)


def _scatter_rows(rows: int) -> Any:
    """Feeds of ``_EMPTY_LEVEL``: ``rows`` index rows (0: a pyramid level that receives no boxes)."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        idx = np.repeat(rng.permutation(6)[:rows, None], 3, axis=1).astype(I64)
        return {"x": rng.uniform(-5, 5, (6, 3)).astype(F), "i": idx, "u": rng.uniform(-5, 5, (rows, 3)).astype(F)}

    return make


# torchvision's MultiScaleRoIAlign scatters each level's results into place: a level may have no rows at run time.
_EMPTY_LEVEL = OpCase("ScatterElements-dynamic_rows_some_empty", "ScatterElements",
                      node_model("ScatterElements", [("x", F, [6, 3]), ("i", I64, ["N", 3]), ("u", F, ["N", 3])],
                                 axis=0),
                      _scatter_rows(3), more_inputs=(_scatter_rows(0), _scatter_rows(5)))
_GE = np.array([[0, -1, 3, 2], [4, 1, -5, 0], [2, 2, 1, 3]], I64)
CASES += [
    _EMPTY_LEVEL,
    _indexed("GatherElements", "dynamic_indices_axis1", (3, 5), (3, 5), ("N", "K"), _GE, axis=1),
    _indexed("GatherElements", "dynamic_indices_axis0_rank3", ("A", 4, 2), (5, 4, 2), ("N", "K", 2),
             np.array([[[0, 4], [3, -1]], [[2, 2], [-5, 1]], [[1, 0], [4, 3]]], I64), axis=0),
    _indexed("ScatterElements", "dynamic_indices_add", (4, 5), (4, 5), ("N", 2),
             np.array([[1, 0], [3, -1], [1, 2]], I64), ("N", 2), (3, 2), axis=0, reduction="add"),
    _indexed("ScatterElements", "dynamic_indices_axis1", (3, 6), (3, 6), (3, "K"),
             np.array([[5, 0], [2, -1], [3, 1]], I64), (3, "K"), (3, 2), axis=1),
    _indexed("GatherND", "dynamic_rows", (4, 5, 3), (4, 5, 3), ("N", 2),
             np.array([[0, 1], [3, -1], [2, 4], [1, 0], [-4, 2]], I64)),
    _indexed("GatherND", "batch_dims1_dynamic", (2, 5, 3), (2, 5, 3), (2, "K", 1),
             np.array([[[4], [0], [-2]], [[1], [1], [3]]], I64), batch_dims=1),
    _indexed("GatherND", "batch_dims2_dynamic", (2, 3, 4, 5), (2, 3, 4, 5), (2, 3, "K", 2),
             np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2) % 4, batch_dims=2),
    _indexed("ScatterND", "dynamic_rows", (5, 3), (5, 3), ("N", 1), np.array([[4], [0], [-3]], I64), ("N", 3), (3, 3)),
]
