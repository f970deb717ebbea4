"""Parity cases for image ops: Resize, DepthToSpace, SpaceToDepth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.cases import OpCase, node_model, rand

_F = np.float32
_X = (2, 3, 4, 5)


def _resize(tag: str, *, scales: Sequence[float] | None = None, sizes: Sequence[int] | None = None,
            shape: Sequence[int] = _X, dtype: Any = _F, refused: str | None = None, **attrs: Any) -> OpCase:
    inits: dict[str, np.ndarray] = {}
    order = ["x", "", "", ""]
    if scales is not None:
        inits["scales"], order[2] = np.asarray(scales, np.float32), "scales"
    if sizes is not None:
        inits["sizes"], order[3] = np.asarray(sizes, np.int64), "sizes"
    order = order[:max(i for i, n in enumerate(order) if n) + 1]
    model = node_model("Resize", [("x", dtype, shape)], initializers=inits, input_order=order, **attrs)
    low, high = (-50, 50) if np.dtype(dtype).kind == "i" else (-2.0, 2.0)
    return OpCase(f"Resize_{tag}", "Resize", model, rand(("x", shape), dtype=dtype, low=low, high=high),
                  refused=refused)


def _nearest(tag: str, coord: str, nearest: str, **kw: Any) -> OpCase:
    return _resize(f"nearest_{coord}_{nearest}_{tag}", mode="nearest", coordinate_transformation_mode=coord,
                   nearest_mode=nearest, **kw)


def _linear(tag: str, coord: str, **kw: Any) -> OpCase:
    return _resize(f"linear_{coord}_{tag}", mode="linear", coordinate_transformation_mode=coord, **kw)


_NEAREST = [
    _nearest("up2", "asymmetric", "floor", scales=[1, 1, 2, 2]),
    _nearest("up2x3", "asymmetric", "floor", scales=[1, 1, 2, 3]),
    _nearest("sizes_7x9", "asymmetric", "floor", sizes=[2, 3, 7, 9]),
    _nearest("down", "asymmetric", "floor", sizes=[2, 3, 3, 2]),
    _nearest("up2", "half_pixel", "round_prefer_floor", scales=[1, 1, 2, 2]),
    _nearest("up3x2", "half_pixel", "round_prefer_ceil", scales=[1, 1, 3, 2]),
    _nearest("down2", "half_pixel", "round_prefer_floor", scales=[1, 1, 0.5, 0.5], shape=(2, 3, 8, 6)),
    _nearest("down2", "half_pixel", "round_prefer_ceil", scales=[1, 1, 0.5, 0.5], shape=(2, 3, 8, 6)),
    _nearest("up2", "pytorch_half_pixel", "round_prefer_floor", scales=[1, 1, 2, 2]),
    _nearest("sizes_7x9", "align_corners", "round_prefer_ceil", sizes=[2, 3, 7, 9]),
    _nearest("up2", "tf_half_pixel_for_nn", "floor", scales=[1, 1, 2, 2]),
    _nearest("sizes_6x7", "tf_half_pixel_for_nn", "floor", sizes=[2, 3, 6, 7]),
    _nearest("up2", "half_pixel_symmetric", "round_prefer_floor", scales=[1, 1, 2, 2]),
    _nearest("scale_1.5", "asymmetric", "floor", scales=[1, 1, 1.5, 2.0], shape=(2, 3, 4, 6)),
    _nearest("axes", "asymmetric", "floor", scales=[2, 3], axes=[2, 3]),
    _nearest("axes_neg_w", "asymmetric", "floor", sizes=[10], axes=[-1]),
    _nearest("int32", "asymmetric", "floor", scales=[1, 1, 2, 2], dtype=np.int32),
    _nearest("rank3", "asymmetric", "floor", scales=[1, 1, 3], shape=(2, 3, 5)),
    _nearest("up2", "asymmetric", "ceil", scales=[1, 1, 2, 2]),
    _nearest("up2", "align_corners", "floor", scales=[1, 1, 2, 2]),
    _nearest("down2", "half_pixel", "floor", scales=[1, 1, 0.5, 0.5], shape=(2, 3, 8, 6)),
    _nearest("up2", "half_pixel", "floor", scales=[1, 1, 2, 2]),
    _resize("nearest_default_attrs_up2", scales=[1, 1, 2, 2]),
]

_LINEAR = [
    _linear("up2", "half_pixel", scales=[1, 1, 2, 2]),
    _linear("up2x3", "half_pixel", scales=[1, 1, 2, 3]),
    _linear("sizes_7x9", "half_pixel", sizes=[2, 3, 7, 9]),
    _linear("down", "half_pixel", sizes=[2, 3, 3, 2], shape=(2, 3, 7, 5)),
    _linear("scale_1.5", "half_pixel", scales=[1, 1, 1.5, 0.6], shape=(2, 3, 4, 10)),
    _linear("sizes_7x9", "pytorch_half_pixel", sizes=[2, 3, 7, 9]),
    _linear("sizes_7x9", "align_corners", sizes=[2, 3, 7, 9]),
    _linear("up2", "align_corners", scales=[1, 1, 2, 2]),
    _linear("out1", "align_corners", sizes=[2, 3, 1, 6]),
    _linear("up2", "asymmetric", scales=[1, 1, 2, 2]),
    _linear("sizes_3x8", "asymmetric", sizes=[2, 3, 3, 8]),
    _linear("up2", "half_pixel_symmetric", scales=[1, 1, 2, 2]),
    _linear("axes", "half_pixel", sizes=[6, 8], axes=[2, 3]),
    _linear("axes_h", "half_pixel", scales=[2.5], axes=[2]),
    _linear("not_larger", "half_pixel", sizes=[8, 20], axes=[2, 3], keep_aspect_ratio_policy="not_larger"),
    _linear("not_smaller", "half_pixel", sizes=[8, 20], axes=[2, 3], keep_aspect_ratio_policy="not_smaller"),
    _linear("rank3", "half_pixel", sizes=[2, 3, 9], shape=(2, 3, 5)),
    _linear("scale_1.7", "half_pixel", scales=[1, 1, 1.7, 1.7], shape=(2, 3, 5, 5)),
    _linear("out1", "pytorch_half_pixel", sizes=[2, 3, 1, 6]),
    _linear("up2", "tf_half_pixel_for_nn", scales=[1, 1, 2, 2]),
    _linear("crop", "tf_crop_and_resize", scales=[1, 1, 2, 2], refused="attribute"),
    _linear("antialias", "half_pixel", scales=[1, 1, 0.5, 0.5], shape=(2, 3, 8, 6), antialias=1, refused="attribute"),
    _linear("channels", "half_pixel", scales=[1, 2, 2, 2], refused="attribute"),
    _resize("cubic", mode="cubic", scales=[1, 1, 2, 2], refused="attribute"),
]


def _d2s(mode: str, shape: Sequence[int], block: int) -> OpCase:
    return OpCase(f"DepthToSpace_{mode}_{'x'.join(map(str, shape))}_b{block}", "DepthToSpace",
                  node_model("DepthToSpace", [("x", _F, shape)], blocksize=block, mode=mode), rand(("x", shape)))


def _s2d(shape: Sequence[int], block: int) -> OpCase:
    return OpCase(f"SpaceToDepth_{'x'.join(map(str, shape))}_b{block}", "SpaceToDepth",
                  node_model("SpaceToDepth", [("x", _F, shape)], blocksize=block), rand(("x", shape)))


CASES = [
    *_NEAREST, *_LINEAR,
    _d2s("DCR", (2, 12, 3, 5), 2), _d2s("CRD", (2, 12, 3, 5), 2), _d2s("DCR", (2, 18, 2, 4), 3),
    _d2s("CRD", (2, 18, 2, 4), 3), _d2s("CRD", (1, 8, 3, 2), 2),
    _s2d((2, 3, 4, 6), 2), _s2d((2, 2, 6, 9), 3), _s2d((1, 5, 2, 4), 2),
]


def _legacy(op: str, mode: str, opset: int, scales: Sequence[float]) -> OpCase:
    """Upsample (opset 7-9) and Resize-10 reach the pivot as Resize with their asymmetric/floor rule."""
    shape = (2, 3, 4, 5)
    scale = np.array(scales, np.float32)
    if opset == 7:
        build = node_model(op, [("x", _F, shape)], opset=7, mode=mode, scales=[float(s) for s in scales])
    else:
        build = node_model(op, [("x", _F, shape)], initializers={"scales": scale}, opset=opset, mode=mode)
    return OpCase(f"{op}{opset}_{mode}_{'x'.join(map(str, scales))}", "Resize", build, rand(("x", shape)))


CASES += [
    _legacy("Upsample", "nearest", 7, [1, 1, 2, 3]), _legacy("Upsample", "nearest", 9, [1, 1, 2, 1.5]),
    _legacy("Upsample", "linear", 9, [1, 1, 2, 2]), _legacy("Resize", "nearest", 10, [1, 1, 2, 3]),
    _legacy("Resize", "linear", 10, [1, 1, 2, 2]),
]
