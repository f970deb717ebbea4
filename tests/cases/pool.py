"""Parity cases for MaxPool, AveragePool, LpPool and the global pools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tests.cases import OpCase, node_model, rand, with_output_types

X = (2, 3, 7, 9)


def pool_case(op: str, cid: str, x_shape: Sequence[int | str] = X, *, refused: str | None = None,
              outputs: Sequence[str] = ("y",), feed_shape: Sequence[int] | None = None,
              more_shapes: Sequence[Sequence[int]] = (), low: float = -2.0, high: float = 2.0,
              **attrs: Any) -> OpCase:
    """A one-node pooling case on uniform(low, high) inputs; ``more_shapes``: further feed shapes (dynamic dims)."""
    model = node_model(op, [("x", np.float32, x_shape)], outputs, **attrs)
    shape = feed_shape or [int(d) for d in x_shape]
    return OpCase(f"{op}-{cid}", op, model, rand(("x", shape), low=low, high=high), refused=refused,
                  more_inputs=tuple(rand(("x", s), low=low, high=high) for s in more_shapes))


def int_case(cid: str, elem: int, dtype: type, **attrs: Any) -> OpCase:
    """A MaxPool case on int8/uint8 input (node_model knows only float32/int32/int64/bool)."""

    def build() -> onnx.ModelProto:
        node = helper.make_node("MaxPool", ["x"], ["y"], **attrs)
        graph = helper.make_graph([node], "MaxPool", [helper.make_tensor_value_info("x", elem, X)],
                                  [onnx.ValueInfoProto(name="y")])
        return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]))

    info = np.iinfo(dtype)
    return OpCase(f"MaxPool-{cid}", "MaxPool", build, rand(("x", X), dtype=dtype, low=info.min, high=info.max))


def _windowed(op: str, suffix: str = "", **extra: Any) -> list[OpCase]:
    """The padding/stride/ceil forms shared by MaxPool and AveragePool."""
    cases = [
        pool_case(op, "k2", kernel_shape=[2, 2], **extra),
        pool_case(op, "k3x2_s2", kernel_shape=[3, 2], strides=[2, 2], **extra),
        pool_case(op, "pads_sym", kernel_shape=[3, 3], pads=[1, 1, 1, 1], **extra),
        pool_case(op, "pads_asym_s2", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 2, 0], **extra),
        pool_case(op, "ceil", (2, 3, 8, 10), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, **extra),
        pool_case(op, "ceil_pads", kernel_shape=[2, 3], strides=[2, 2], pads=[1, 1, 1, 0], ceil_mode=1, **extra),
        pool_case(op, "ceil_drop_last", (2, 3, 7, 8), kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
                  ceil_mode=1, **extra),
        pool_case(op, "floor_pads", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=0, **extra),
        pool_case(op, "same_upper", kernel_shape=[3, 2], strides=[2, 2], auto_pad="SAME_UPPER", **extra),
        pool_case(op, "same_upper_s1", kernel_shape=[3, 4], auto_pad="SAME_UPPER", **extra),
        pool_case(op, "same_lower", kernel_shape=[3, 2], strides=[2, 2], auto_pad="SAME_LOWER", **extra),
        pool_case(op, "valid_ceil", kernel_shape=[2, 2], strides=[2, 2], auto_pad="VALID", ceil_mode=1, **extra),
        pool_case(op, "1d", (2, 3, 10), kernel_shape=[3], strides=[2], **extra),
        pool_case(op, "1d_pads_ceil", (2, 3, 10), kernel_shape=[3], strides=[2], pads=[1, 2], ceil_mode=1, **extra),
        pool_case(op, "1d_same_lower", (2, 3, 10), kernel_shape=[4], auto_pad="SAME_LOWER", **extra),
        pool_case(op, "3d", (2, 3, 5, 6, 7), kernel_shape=[2, 3, 2], strides=[1, 2, 2], **extra),
        pool_case(op, "3d_pads_ceil", (2, 3, 5, 6, 7), kernel_shape=[2, 2, 3], strides=[2, 2, 2],
                  pads=[1, 0, 1, 0, 1, 1], ceil_mode=1, **extra),
        pool_case(op, "3d_same_upper", (2, 3, 5, 6, 7), kernel_shape=[2, 3, 3], strides=[2, 1, 2],
                  auto_pad="SAME_UPPER", **extra),
    ]
    return [OpCase(c.id + suffix, c.key, c.model, c.inputs) for c in cases]


MAX = [
    *_windowed("MaxPool"),
    int_case("uint8", onnx.TensorProto.UINT8, np.uint8, kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 1]),
    int_case("int8", onnx.TensorProto.INT8, np.int8, kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
    pool_case("MaxPool", "storage_order", kernel_shape=[2, 2], storage_order=1),
    pool_case("MaxPool", "dynamic_batch", ("N", 3, 7, 9), feed_shape=X, kernel_shape=[3, 3], strides=[2, 2],
              auto_pad="SAME_UPPER"),
    pool_case("MaxPool", "dynamic_pads", ("N", 3, "H", "W"), feed_shape=X, kernel_shape=[3, 3], pads=[1, 0, 2, 1]),
    pool_case("MaxPool", "dilations", kernel_shape=[2, 2], dilations=[2, 2]),
    pool_case("MaxPool", "dilations_stride_pads_ceil", kernel_shape=[2, 3], dilations=[2, 3], strides=[2, 1],
              pads=[1, 2, 0, 1], ceil_mode=1),
    pool_case("MaxPool", "dilations_1d", (2, 3, 11), kernel_shape=[3], dilations=[3], strides=[2]),
    pool_case("MaxPool", "dilations_3d", (2, 3, 5, 6, 7), kernel_shape=[2, 2, 2], dilations=[2, 1, 2],
              strides=[1, 2, 1]),
    pool_case("MaxPool", "dilations_dynamic", ("N", 3, "H", "W"), feed_shape=X, kernel_shape=[2, 2], dilations=[2, 2],
              refused="dilated pooling needs static spatial dims"),
    pool_case("MaxPool", "indices", outputs=("y", "i"), kernel_shape=[2, 2]),
    pool_case("MaxPool", "indices_pads_ceil", outputs=("y", "i"), kernel_shape=[3, 2], strides=[2, 2],
              pads=[1, 0, 0, 1], ceil_mode=1),
    pool_case("MaxPool", "indices_same_lower_col_major", outputs=("y", "i"), kernel_shape=[3, 3], strides=[2, 1],
              auto_pad="SAME_LOWER", storage_order=1),
    pool_case("MaxPool", "indices_dilations", outputs=("y", "i"), kernel_shape=[2, 2], dilations=[2, 3],
              pads=[1, 1, 0, 1]),
    pool_case("MaxPool", "indices_1d", (2, 3, 11), outputs=("y", "i"), kernel_shape=[3], strides=[2], pads=[1, 1]),
    pool_case("MaxPool", "indices_1d_col_major", (2, 3, 11), outputs=("y", "i"), kernel_shape=[2], storage_order=1),
    pool_case("MaxPool", "indices_3d", (2, 3, 4, 5, 6), outputs=("y", "i"), kernel_shape=[2, 2, 3],
              strides=[1, 2, 2], pads=[0, 1, 1, 1, 0, 0]),
    pool_case("MaxPool", "indices_dynamic_batch", ("N", 3, 7, 9), feed_shape=X, outputs=("y", "i"),
              kernel_shape=[2, 2], more_shapes=[(1, 3, 7, 9), (4, 3, 7, 9)]),
    pool_case("MaxPool", "indices_dynamic_batch_3d_pads", ("N", 2, 4, 5, 6), feed_shape=(3, 2, 4, 5, 6),
              outputs=("y", "i"), kernel_shape=[2, 2, 3], strides=[2, 1, 2], pads=[1, 0, 1, 0, 1, 1],
              more_shapes=[(1, 2, 4, 5, 6)]),
    pool_case("MaxPool", "indices_dynamic_batch_1d_col_major", ("N", 3, 11), feed_shape=(2, 3, 11),
              outputs=("y", "i"), kernel_shape=[2], storage_order=1, more_shapes=[(5, 3, 11)]),
    # all-negative input: the wasm MaxPool3D kernel would return FLT_MIN here (it is not used).
    OpCase("MaxPool-3d_negative", "MaxPool", node_model("MaxPool", [("x", np.float32, (2, 3, 4, 5, 6))],
           kernel_shape=[2, 2, 2], strides=[1, 2, 1]), rand(("x", (2, 3, 4, 5, 6)), low=-3.0, high=-1.0)),
    pool_case("MaxPool", "3d_dynamic", ("N", 3, "D", 6, 7), feed_shape=(2, 3, 5, 6, 7), kernel_shape=[2, 2, 2],
              more_shapes=[(1, 3, 3, 6, 7)]),
    pool_case("MaxPool", "3d_dynamic_spatial_pads", ("N", "C", "D", "H", "W"), feed_shape=(2, 3, 5, 6, 7),
              kernel_shape=[2, 3, 2], strides=[2, 2, 1], pads=[1, 0, 1, 0, 1, 1], more_shapes=[(1, 2, 4, 5, 3)]),
    pool_case("MaxPool", "3d_dynamic_same_upper", ("N", 3, "D", "H", "W"), feed_shape=(2, 3, 5, 6, 7),
              kernel_shape=[2, 3, 3], strides=[2, 1, 2], auto_pad="SAME_UPPER", more_shapes=[(1, 3, 4, 3, 8)]),
    pool_case("MaxPool", "3d_dynamic_negative", ("N", 3, "D", "H", "W"), feed_shape=(2, 3, 4, 5, 6),
              kernel_shape=[2, 2, 2], strides=[1, 2, 1], pads=[0, 1, 1, 1, 0, 0], more_shapes=[(1, 3, 3, 3, 3)],
              low=-3.0, high=-1.0),
    pool_case("MaxPool", "3d_dynamic_batch", ("N", 3, 5, 6, 7), feed_shape=(2, 3, 5, 6, 7), kernel_shape=[3, 2, 2],
              strides=[2, 2, 1], pads=[1, 1, 0, 1, 1, 0]),
]

AVG = [
    *_windowed("AveragePool"),
    *_windowed("AveragePool", "_cip1", count_include_pad=1),
    pool_case("AveragePool", "dynamic_same", ("N", 3, "H", "W"), feed_shape=X, kernel_shape=[3, 3], strides=[2, 2],
              auto_pad="SAME_UPPER"),
    pool_case("AveragePool", "dynamic_pads_cip1", ("N", 3, "H", "W"), feed_shape=X, kernel_shape=[3, 3],
              pads=[1, 0, 2, 1], count_include_pad=1),
    pool_case("AveragePool", "dynamic_pads_cip0", ("N", 3, "H", "W"), feed_shape=X, kernel_shape=[3, 3],
              pads=[1, 0, 2, 1], refused="count_include_pad=0 with pads needs static spatial dims"),
    pool_case("AveragePool", "dilations", kernel_shape=[2, 2], dilations=[2, 1]),
    pool_case("AveragePool", "dilations_pads_cip0", kernel_shape=[3, 2], dilations=[2, 2], pads=[2, 1, 1, 1],
              strides=[2, 1]),
    pool_case("AveragePool", "dilations_pads_ceil_cip1", kernel_shape=[2, 2], dilations=[2, 3], pads=[1, 1, 1, 0],
              strides=[2, 2], ceil_mode=1, count_include_pad=1),
    pool_case("AveragePool", "dilations_pads_ceil_cip0", kernel_shape=[2, 2], dilations=[2, 3], pads=[1, 1, 1, 0],
              strides=[2, 2], ceil_mode=1),
    pool_case("AveragePool", "dilations_3d", (2, 3, 5, 6, 7), kernel_shape=[2, 2, 2], dilations=[2, 2, 1],
              pads=[1, 0, 0, 0, 1, 1]),
]

LP = [
    pool_case("LpPool", "p2", kernel_shape=[3, 2], strides=[2, 1]),
    pool_case("LpPool", "p1_pads", kernel_shape=[2, 2], pads=[1, 0, 0, 1], p=1),
    pool_case("LpPool", "p3_ceil", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 1], ceil_mode=1, p=3),
    pool_case("LpPool", "same_lower", kernel_shape=[2, 3], auto_pad="SAME_LOWER"),
    pool_case("LpPool", "1d", (2, 3, 10), kernel_shape=[3], strides=[2], pads=[1, 0]),
    pool_case("LpPool", "dilations", kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 0, 0, 1], p=3),
    pool_case("LpPool", "3d", (2, 3, 5, 6, 7), kernel_shape=[2, 2, 2], pads=[0, 1, 0, 0, 1, 0]),
]

GLOBAL = [
    pool_case("GlobalAveragePool", "2d"),
    pool_case("GlobalAveragePool", "1d", (2, 3, 10)),
    pool_case("GlobalAveragePool", "3d", (2, 3, 4, 5, 6)),
    pool_case("GlobalMaxPool", "2d"),
    pool_case("GlobalMaxPool", "1d", (2, 3, 10)),
    pool_case("GlobalMaxPool", "dynamic", ("N", 3, "H", "W"), feed_shape=X),
    pool_case("GlobalLpPool", "p2"),
    pool_case("GlobalLpPool", "p3_1d", (2, 3, 10), p=3),
]

CASES: list[OpCase] = MAX + AVG + LP + GLOBAL

# SAME padding on dynamic spatial dims, computed at run time (SAME_LOWER for every pool, SAME_UPPER where tfjs SAME
# does not match: AveragePool counting the pads, LpPool); each with two feed shapes.
_DYN = ("N", 3, "H", "W")
CASES += [
    pool_case("MaxPool", "dynamic_same_lower", _DYN, feed_shape=X, kernel_shape=[3, 2], strides=[2, 2],
              auto_pad="SAME_LOWER", more_shapes=[(1, 3, 6, 4)]),
    pool_case("MaxPool", "dynamic_same_lower_1d", ("N", 3, "W"), feed_shape=(2, 3, 10), kernel_shape=[4],
              auto_pad="SAME_LOWER", more_shapes=[(1, 3, 7)]),
    pool_case("MaxPool", "3d_dynamic_same_lower", ("N", 3, "D", "H", "W"), feed_shape=(2, 3, 5, 6, 7),
              kernel_shape=[2, 3, 2], strides=[2, 1, 2], auto_pad="SAME_LOWER", more_shapes=[(1, 3, 3, 4, 4)]),
    pool_case("AveragePool", "dynamic_same_lower_cip1", _DYN, feed_shape=X, kernel_shape=[3, 2], strides=[2, 2],
              auto_pad="SAME_LOWER", count_include_pad=1, more_shapes=[(1, 3, 6, 4)]),
    pool_case("AveragePool", "dynamic_same_upper_cip1", _DYN, feed_shape=X, kernel_shape=[3, 3], strides=[2, 1],
              auto_pad="SAME_UPPER", count_include_pad=1, more_shapes=[(1, 3, 4, 6)]),
    pool_case("AveragePool", "dynamic_same_lower_cip0", _DYN, feed_shape=X, kernel_shape=[3, 2], strides=[2, 2],
              auto_pad="SAME_LOWER", refused="SAME_LOWER with count_include_pad=0 needs static spatial dims"),
    pool_case("LpPool", "dynamic_same_upper", _DYN, feed_shape=X, kernel_shape=[3, 2], strides=[2, 2],
              auto_pad="SAME_UPPER", more_shapes=[(1, 3, 6, 4)]),
    pool_case("LpPool", "dynamic_same_lower_p1_3d", ("N", 3, "D", "H", "W"), feed_shape=(2, 3, 4, 5, 6),
              kernel_shape=[2, 2, 3], strides=[1, 2, 2], auto_pad="SAME_LOWER", p=1, more_shapes=[(1, 3, 3, 3, 5)]),
]
