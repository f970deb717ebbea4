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
    _resize("cubic_int32", mode="cubic", scales=[1, 1, 2, 2], dtype=np.int32, refused="dtype"),
]


def _cubic(tag: str, coord: str, a: float, exclude: int, **kw: Any) -> OpCase:
    return _resize(f"cubic_{coord}_a{a}_ex{exclude}_{tag}", mode="cubic", coordinate_transformation_mode=coord,
                   cubic_coeff_a=a, exclude_outside=exclude, **kw)


def _cubic_dynamic(tag: str, shapes: Sequence[Sequence[int]], *, scales: Sequence[float] | None = None,
                   out_hw: Sequence[Sequence[int]] | None = None, **attrs: Any) -> OpCase:
    """Cubic Resize of an N, C, H, W input with symbolic N, H, W: constant ``scales``, or ``sizes`` fed at run
    time (one [H, W] per feed set); one converted model runs every feed set."""
    inputs: list[tuple[str, Any, Any]] = [("x", _F, ["N", shapes[0][1], "H", "W"])]
    inits: dict[str, np.ndarray] = {}
    if scales is not None:
        inits["scales"], order = np.asarray(scales, np.float32), ["x", "", "scales"]
    else:
        inputs.append(("sizes", np.int64, [4]))
        order = ["x", "", "", "sizes"]
    model = node_model("Resize", inputs, initializers=inits, input_order=order, mode="cubic", **attrs)

    def feeds(k: int) -> Any:
        def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
            shape = tuple(shapes[k])
            out = {"x": rng.uniform(-2, 2, shape).astype(_F)}
            if out_hw is not None:
                out["sizes"] = np.array([*shape[:2], *out_hw[k]], np.int64)
            return out
        return make

    return OpCase(f"Resize_cubic_dynamic_{tag}", "Resize", model, feeds(0),
                  more_inputs=tuple(feeds(k) for k in range(1, len(shapes))))


_CUBIC = [
    _cubic("up2", "half_pixel", -0.75, 0, scales=[1, 1, 2, 2]),
    _cubic("up2x3", "half_pixel", -0.5, 1, scales=[1, 1, 2, 3]),
    _cubic("up2", "half_pixel", -0.75, 1, scales=[1, 1, 2, 2]),
    _cubic("sizes_7x9", "pytorch_half_pixel", -0.75, 0, sizes=[2, 3, 7, 9]),
    _cubic("sizes_7x9", "pytorch_half_pixel", -0.5, 1, sizes=[2, 3, 7, 9]),
    _cubic("down", "half_pixel", -0.75, 1, sizes=[2, 3, 3, 2], shape=(2, 3, 7, 5)),
    _cubic("down", "half_pixel", -0.5, 0, sizes=[2, 3, 3, 2], shape=(2, 3, 7, 5)),
    _cubic("down2", "pytorch_half_pixel", -0.75, 0, scales=[1, 1, 0.5, 0.5], shape=(2, 3, 8, 6)),
    _cubic("down_0.6", "half_pixel", -0.75, 1, scales=[1, 1, 0.6, 0.45], shape=(1, 2, 10, 12)),
    _cubic("sizes_7x9", "align_corners", -0.75, 0, sizes=[2, 3, 7, 9]),
    _cubic("up2", "align_corners", -0.5, 1, scales=[1, 1, 2, 2]),
    _cubic("down", "align_corners", -0.75, 0, sizes=[2, 3, 3, 4], shape=(2, 3, 7, 9)),
    _cubic("up2", "asymmetric", -0.75, 1, scales=[1, 1, 2, 2]),
    _cubic("up2", "half_pixel_symmetric", -0.5, 0, scales=[1, 1, 2, 2]),
    _cubic("up2", "tf_half_pixel_for_nn", -0.75, 0, scales=[1, 1, 2, 2]),
    _cubic("scale_1.5", "half_pixel", -0.75, 0, scales=[1, 1, 1.5, 0.6], shape=(2, 3, 4, 10)),
    _cubic("out1", "pytorch_half_pixel", -0.75, 0, sizes=[2, 3, 1, 6]),
    _cubic("axes", "half_pixel", -0.75, 0, sizes=[6, 8], axes=[2, 3]),
    _cubic("axes_w", "half_pixel", -0.5, 1, scales=[2.5], axes=[3]),
    _cubic("vit_pos_14_to_20x24", "pytorch_half_pixel", -0.75, 0, sizes=[1, 8, 20, 24], shape=(1, 8, 14, 14)),
    _cubic("not_larger", "half_pixel", -0.75, 0, sizes=[8, 20], axes=[2, 3], keep_aspect_ratio_policy="not_larger",
           refused="attribute"),
    _cubic_dynamic("scales_half_pixel", [(2, 3, 4, 5), (1, 3, 7, 3)], scales=[1, 1, 2, 1.5],
                   coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75),
    _cubic_dynamic("scales_down_exclude", [(1, 2, 9, 8), (2, 2, 5, 11)], scales=[1, 1, 0.5, 0.7],
                   coordinate_transformation_mode="pytorch_half_pixel", cubic_coeff_a=-0.5, exclude_outside=1),
    _cubic_dynamic("sizes_pytorch_half_pixel", [(1, 3, 6, 6), (2, 3, 4, 9)], out_hw=[(9, 13), (3, 5)],
                   coordinate_transformation_mode="pytorch_half_pixel", cubic_coeff_a=-0.75),
    _cubic_dynamic("sizes_align_corners_exclude", [(1, 3, 5, 7), (1, 3, 8, 4)], out_hw=[(10, 4), (8, 9)],
                   coordinate_transformation_mode="align_corners", cubic_coeff_a=-0.5, exclude_outside=1),
]


def _d2s(mode: str, shape: Sequence[int], block: int) -> OpCase:
    return OpCase(f"DepthToSpace_{mode}_{'x'.join(map(str, shape))}_b{block}", "DepthToSpace",
                  node_model("DepthToSpace", [("x", _F, shape)], blocksize=block, mode=mode), rand(("x", shape)))


def _s2d(shape: Sequence[int], block: int) -> OpCase:
    return OpCase(f"SpaceToDepth_{'x'.join(map(str, shape))}_b{block}", "SpaceToDepth",
                  node_model("SpaceToDepth", [("x", _F, shape)], blocksize=block), rand(("x", shape)))


CASES = [
    *_NEAREST, *_LINEAR, *_CUBIC,
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
