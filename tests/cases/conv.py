"""Parity cases for Conv and ConvTranspose."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.cases import Inputs, OpCase, node_model, rand


def _weights(shape: Sequence[int], fan_in: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1 / np.sqrt(fan_in), size=shape).astype(np.float32)


def _both(x_shape: Sequence[int], w: np.ndarray, b: np.ndarray | None) -> Inputs:
    """Random x, plus w (and b) as runtime inputs."""
    base = rand(("x", x_shape))

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = base(rng)
        out["w"] = w
        if b is not None:
            out["b"] = b
        return out

    return make


def conv_case(cid: str, x_shape: Sequence[int], w_shape: Sequence[int], *, op: str = "Conv", bias: bool = True,
              const_w: bool = True, refused: str | None = None, batch: str | None = None, **attrs: Any) -> OpCase:
    """A one-node Conv/ConvTranspose case with random weights normal(0, 1/sqrt(fan_in))."""
    seed = sum(map(ord, cid))
    fan_in = int(np.prod(w_shape[1:])) if op == "Conv" else int(w_shape[0] * np.prod(w_shape[2:]))
    w = _weights(w_shape, fan_in, seed)
    out_c = w_shape[0] if op == "Conv" else w_shape[1] * attrs.get("group", 1)
    b = _weights([out_c], 1, seed + 1) if bias else None
    params = {"w": w, **({"b": b} if b is not None else {})}
    decl: Sequence[int | str] = x_shape if batch is None else (batch, *x_shape[1:])
    if const_w:
        model = node_model(op, [("x", np.float32, decl)], initializers=params, **attrs)
        inputs = rand(("x", x_shape))
    else:
        graph_inputs = [("x", np.float32, x_shape)] + [(k, np.float32, v.shape) for k, v in params.items()]
        model = node_model(op, graph_inputs, **attrs)
        inputs = _both(x_shape, w, b)
    return OpCase(f"{op}-{cid}", op, model, inputs, refused=refused)


X = (2, 3, 7, 9)
CONV = [
    conv_case("basic", X, (5, 3, 3, 3)),
    conv_case("no_bias", X, (5, 3, 3, 2), bias=False),
    conv_case("pads_sym", X, (5, 3, 3, 3), pads=[1, 1, 1, 1]),
    conv_case("pads_asym", X, (5, 3, 3, 2), pads=[0, 2, 1, 0]),
    conv_case("stride2", X, (4, 3, 3, 3), strides=[2, 2]),
    conv_case("stride_2x1_pads", X, (4, 3, 3, 3), strides=[2, 1], pads=[1, 0, 2, 1]),
    conv_case("dilation2", X, (4, 3, 3, 3), dilations=[2, 2], pads=[2, 1, 0, 2]),
    conv_case("dilation_stride", (2, 3, 11, 12), (4, 3, 3, 3), dilations=[2, 2], strides=[2, 2], pads=[1, 0, 1, 2]),
    conv_case("dilation_stride_mixed", (2, 3, 11, 12), (4, 3, 3, 2), dilations=[1, 2], strides=[3, 1]),
    conv_case("kernel_1x1", X, (6, 3, 1, 1)),
    conv_case("kernel_shape_attr", X, (5, 3, 2, 3), kernel_shape=[2, 3]),
    conv_case("same_upper", X, (5, 3, 3, 3), auto_pad="SAME_UPPER"),
    conv_case("same_upper_stride2", X, (5, 3, 4, 4), auto_pad="SAME_UPPER", strides=[2, 2]),
    conv_case("same_lower", X, (5, 3, 4, 4), auto_pad="SAME_LOWER"),
    conv_case("same_lower_stride2", X, (5, 3, 3, 2), auto_pad="SAME_LOWER", strides=[2, 2]),
    conv_case("valid", X, (5, 3, 3, 3), auto_pad="VALID", strides=[2, 2]),
    conv_case("group2", (2, 4, 7, 9), (6, 2, 3, 3), group=2, pads=[1, 0, 1, 1]),
    conv_case("group3", (2, 6, 7, 9), (9, 2, 3, 2), group=3, strides=[2, 1]),
    conv_case("group2_dilation_stride", (2, 4, 11, 10), (6, 2, 3, 3), group=2, strides=[2, 2], dilations=[2, 2]),
    conv_case("depthwise", X, (3, 1, 3, 3), group=3, pads=[1, 1, 1, 1]),
    conv_case("depthwise_mult2", X, (6, 1, 3, 3), group=3, strides=[2, 2], pads=[0, 1, 2, 1]),
    conv_case("depthwise_dilation", X, (6, 1, 3, 2), group=3, dilations=[2, 2]),
    conv_case("depthwise_dilation_stride", (2, 3, 11, 12), (3, 1, 3, 3), group=3, dilations=[2, 2], strides=[2, 2]),
    conv_case("depthwise_same_lower", X, (3, 1, 2, 2), group=3, auto_pad="SAME_LOWER"),
    conv_case("dynamic_w", X, (5, 3, 3, 2), const_w=False, pads=[1, 0, 0, 1]),
    conv_case("dynamic_w_depthwise", X, (6, 1, 3, 3), const_w=False, group=3),
    conv_case("dynamic_w_group2", (2, 4, 7, 9), (6, 2, 3, 3), const_w=False, group=2),
    conv_case("dynamic_batch", X, (5, 3, 3, 3), batch="N", strides=[2, 1], pads=[1, 0, 2, 1]),
    conv_case("dynamic_batch_group3", (2, 6, 7, 9), (9, 2, 3, 3), batch="N", group=3),
    conv_case("1d", (2, 3, 10), (5, 3, 3)),
    conv_case("1d_pads_stride", (2, 3, 11), (5, 3, 3), pads=[2, 1], strides=[2]),
    conv_case("1d_dilation", (2, 3, 11), (4, 3, 3), dilations=[2], pads=[1, 0]),
    conv_case("1d_same_lower", (2, 3, 10), (4, 3, 4), auto_pad="SAME_LOWER"),
    conv_case("1d_same_upper", (2, 3, 10), (4, 3, 4), auto_pad="SAME_UPPER", strides=[3]),
    conv_case("1d_group3", (2, 6, 10), (3, 2, 3), group=3),
    conv_case("1d_depthwise", (2, 3, 10), (6, 1, 3), group=3, pads=[1, 1]),
    conv_case("1d_dynamic_w", (2, 3, 10), (4, 3, 3), const_w=False),
    conv_case("3d", (2, 3, 5, 6, 7), (4, 3, 2, 3, 2)),
    conv_case("3d_pads_stride", (2, 3, 5, 6, 7), (4, 3, 3, 3, 3), pads=[1, 0, 2, 0, 1, 1], strides=[2, 1, 2]),
    conv_case("3d_same_upper", (2, 3, 5, 6, 7), (4, 3, 2, 3, 2), auto_pad="SAME_UPPER", strides=[2, 2, 1]),
    conv_case("3d_same_lower", (2, 3, 5, 6, 7), (4, 3, 2, 3, 2), auto_pad="SAME_LOWER"),
    conv_case("3d_dilation_stride", (2, 3, 7, 8, 9), (4, 3, 2, 2, 3), dilations=[2, 1, 2], strides=[2, 2, 1]),
    conv_case("3d_group2", (2, 4, 5, 6, 7), (6, 2, 2, 2, 2), group=2, pads=[0, 1, 0, 1, 0, 1]),
    conv_case("3d_depthwise", (2, 3, 5, 6, 7), (6, 1, 2, 2, 2), group=3),
    conv_case("3d_dynamic_w", (2, 3, 5, 6, 7), (4, 3, 2, 2, 2), const_w=False, bias=False),
    conv_case("4d", (1, 2, 3, 3, 3, 3), (2, 2, 2, 2, 2, 2), refused="4-D Conv is not supported"),
]

CONV_T = [
    conv_case("basic", X, (3, 4, 3, 3), op="ConvTranspose"),
    conv_case("no_bias", X, (3, 2, 2, 3), op="ConvTranspose", bias=False),
    conv_case("stride2", X, (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2]),
    conv_case("stride_2x3_pads", X, (3, 4, 3, 4), op="ConvTranspose", strides=[2, 3], pads=[1, 0, 2, 1]),
    conv_case("output_padding", X, (3, 4, 3, 3), op="ConvTranspose", strides=[2, 3], output_padding=[1, 2],
              pads=[1, 1, 0, 1]),
    conv_case("output_shape", X, (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2], output_shape=[14, 18]),
    conv_case("output_shape_upper", X, (3, 4, 3, 3), op="ConvTranspose", strides=[2, 2], output_shape=[14, 17],
              auto_pad="SAME_UPPER"),
    conv_case("same_upper", X, (3, 4, 3, 4), op="ConvTranspose", strides=[2, 2], auto_pad="SAME_UPPER"),
    conv_case("same_lower", X, (3, 4, 3, 4), op="ConvTranspose", strides=[2, 2], auto_pad="SAME_LOWER"),
    conv_case("valid", X, (3, 4, 2, 2), op="ConvTranspose", strides=[2, 2], auto_pad="VALID"),
    conv_case("dilation2", X, (3, 4, 3, 2), op="ConvTranspose", dilations=[2, 2], strides=[2, 1], pads=[1, 0, 0, 1]),
    conv_case("group2", (2, 4, 7, 9), (4, 3, 3, 3), op="ConvTranspose", group=2, strides=[2, 2]),
    conv_case("depthwise", X, (3, 2, 3, 3), op="ConvTranspose", group=3, strides=[2, 1], pads=[1, 1, 0, 0]),
    conv_case("dynamic_w", X, (3, 4, 3, 2), op="ConvTranspose", const_w=False, strides=[2, 2]),
    conv_case("dynamic_w_dilation", X, (3, 4, 3, 2), op="ConvTranspose", const_w=False, dilations=[2, 2],
              refused="dilated ConvTranspose needs constant weights"),
    conv_case("dynamic_batch", X, (3, 4, 3, 3), op="ConvTranspose", batch="N", strides=[2, 2], pads=[1, 0, 1, 1]),
    conv_case("dynamic_batch_group", (2, 4, 7, 9), (4, 3, 3, 3), op="ConvTranspose", batch="N", group=2),
    conv_case("1d", (2, 3, 10), (3, 4, 3), op="ConvTranspose"),
    conv_case("1d_stride_pads", (2, 3, 10), (3, 4, 3), op="ConvTranspose", strides=[3], pads=[1, 2],
              output_padding=[1]),
    conv_case("1d_dilation", (2, 3, 10), (3, 4, 3), op="ConvTranspose", dilations=[3], strides=[2]),
    conv_case("1d_output_shape", (2, 3, 10), (3, 4, 3), op="ConvTranspose", strides=[2], output_shape=[20]),
    conv_case("3d", (2, 3, 4, 5, 6), (3, 2, 2, 3, 2), op="ConvTranspose"),
    conv_case("3d_stride_pads", (2, 3, 4, 5, 6), (3, 2, 3, 3, 2), op="ConvTranspose", strides=[2, 3, 1],
              pads=[1, 0, 2, 1, 1, 0], output_padding=[1, 2, 0]),
    conv_case("3d_dilation", (2, 3, 4, 5, 6), (3, 2, 2, 2, 3), op="ConvTranspose", strides=[2, 1, 2],
              dilations=[2, 3, 1]),
    conv_case("3d_big_pads", (2, 3, 4, 5, 6), (3, 2, 2, 2, 2), op="ConvTranspose", strides=[2, 2, 1],
              pads=[2, 1, 1, 3, 0, 2]),
    conv_case("3d_output_shape", (2, 3, 4, 5, 6), (3, 2, 3, 3, 3), op="ConvTranspose", strides=[2, 2, 2],
              output_shape=[8, 12, 13]),
    conv_case("3d_same_lower", (2, 3, 4, 5, 6), (3, 2, 3, 2, 3), op="ConvTranspose", strides=[2, 1, 2],
              auto_pad="SAME_LOWER"),
    conv_case("3d_group3", (2, 6, 4, 5, 6), (6, 2, 2, 2, 2), op="ConvTranspose", group=3, strides=[1, 2, 2]),
    conv_case("3d_dynamic_batch", (2, 3, 4, 5, 6), (3, 2, 2, 3, 2), op="ConvTranspose", batch="N", strides=[2, 2, 2]),
    conv_case("3d_dynamic_w", (2, 3, 4, 5, 6), (3, 2, 2, 3, 2), op="ConvTranspose", const_w=False, strides=[2, 1, 2],
              pads=[1, 0, 0, 0, 1, 0]),
    conv_case("3d_dynamic_w_group3", (2, 6, 4, 5, 6), (6, 2, 2, 2, 2), op="ConvTranspose", const_w=False, group=3),
    conv_case("output_shape_beyond_full", (2, 3, 5), (3, 4, 3), op="ConvTranspose", strides=[2], output_shape=[12]),
    conv_case("output_shape_beyond_full_2d", X, (3, 4, 3, 3), op="ConvTranspose", strides=[3, 2],
              output_shape=[22, 18]),
]

CASES: list[OpCase] = CONV + CONV_T


def _dynamic_spatial(cid: str, x_shapes: Sequence[Sequence[int]], w_shape: Sequence[int], **attrs: Any) -> OpCase:
    """A Conv on symbolic batch and spatial dims (auto_pad computed at run time), fed ``x_shapes`` in turn."""
    seed = sum(map(ord, cid))
    w = _weights(w_shape, int(np.prod(w_shape[1:])), seed)
    b = _weights([w_shape[0]], 1, seed + 1)
    decl = ["N", x_shapes[0][1], *(f"S{k}" for k in range(len(x_shapes[0]) - 2))]
    model = node_model("Conv", [("x", np.float32, decl)], initializers={"w": w, "b": b}, **attrs)
    feeds = [rand(("x", s)) for s in x_shapes]
    return OpCase(f"Conv-{cid}", "Conv", model, feeds[0], more_inputs=tuple(feeds[1:]))


# onnxruntime rejects dilations with SAME auto_pad, so dilated SAME (strides and dilations > 1 pad at run time too)
# has no case here: it was checked against onnxruntime on the equivalent explicit pads of each feed's shape.
CASES += [
    _dynamic_spatial("dynamic_spatial_same_lower", [(2, 3, 7, 9), (1, 3, 6, 4)], (5, 3, 4, 4), auto_pad="SAME_LOWER"),
    _dynamic_spatial("dynamic_spatial_same_lower_stride2", [(2, 3, 7, 9), (1, 3, 8, 5)], (5, 3, 3, 2),
                     auto_pad="SAME_LOWER", strides=[2, 2]),
    _dynamic_spatial("dynamic_spatial_depthwise_same_lower", [(2, 3, 7, 9), (1, 3, 5, 4)], (3, 1, 2, 2), group=3,
                     auto_pad="SAME_LOWER"),
    _dynamic_spatial("dynamic_spatial_group2_same_lower", [(2, 4, 7, 9), (1, 4, 4, 6)], (6, 2, 3, 2), group=2,
                     auto_pad="SAME_LOWER", strides=[1, 2]),
    _dynamic_spatial("dynamic_spatial_1d_same_lower", [(2, 3, 10), (1, 3, 7)], (4, 3, 4), auto_pad="SAME_LOWER",
                     strides=[3]),
    _dynamic_spatial("dynamic_spatial_3d_same_lower", [(2, 3, 5, 6, 7), (1, 3, 4, 3, 5)], (4, 3, 2, 3, 2),
                     auto_pad="SAME_LOWER", strides=[2, 1, 2]),
]
