"""Parity cases for creation ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tests.cases import OpCase, node_model, rand
from tests.cases.shape import graph_model, i64

F, I64, B = np.float32, np.int64, np.bool_


def _const_of_shape(cid: str, shape: Sequence[int], value: np.ndarray | None, as_input: bool = False) -> OpCase:
    attrs = {} if value is None else {"value": onnx.numpy_helper.from_array(value)}
    if as_input:
        # The shape is computed at run time: ConstantOfShape(s) + x keeps the output non-constant.
        model = node_model("ConstantOfShape", [("s", I64, [len(shape)])], **attrs)
        return OpCase(f"ConstantOfShape_{cid}", "ConstantOfShape", model, lambda rng: {"s": i64(*shape)})
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["y"], **attrs), helper.make_node("Identity", ["x"], ["z"])]
    model = graph_model(nodes, [("x", F, [2])], ("y", "z"), initializers={"s": i64(*shape)})
    return OpCase(f"ConstantOfShape_{cid}", "ConstantOfShape", model, rand(("x", (2,))))


def _range(cid: str, start: Any, limit: Any, delta: Any, dtype: Any) -> OpCase:
    model = node_model("Range", [("a", dtype, []), ("b", dtype, []), ("c", dtype, [])])
    return OpCase(f"Range_{cid}", "Range", model,
                  lambda rng: {"a": np.array(start, dtype), "b": np.array(limit, dtype), "c": np.array(delta, dtype)})


def _range_mixed(cid: str, start: Any, limit: Any, delta: Any, dtype: Any, runtime: Sequence[str]) -> OpCase:
    """Range with the inputs named in ``runtime`` fed at run time and the others constant."""
    values = {"start": np.array(start, dtype), "limit": np.array(limit, dtype), "delta": np.array(delta, dtype)}
    model = node_model("Range", [(k, dtype, []) for k in runtime],
                       initializers={k: v for k, v in values.items() if k not in runtime},
                       input_order=["start", "limit", "delta"])
    return OpCase(f"Range_{cid}", "Range", model, lambda rng: {k: values[k] for k in runtime})


def _onehot(cid: str, idx: np.ndarray, depth: int, values: Sequence[float], axis: int = -1, const_idx: bool = False,
            vdtype: Any = F, dynamic_values: bool = False, ddtype: Any = I64) -> OpCase:
    inits: dict[str, np.ndarray] = {"depth": np.array([depth], dtype=ddtype)}
    vals = np.array(values, dtype=vdtype)
    inputs: list[tuple[str, Any, Sequence[int]]] = []
    feeds: dict[str, np.ndarray] = {}
    if const_idx:
        inits["i"] = idx
    else:
        inputs.append(("i", idx.dtype, list(idx.shape)))
        feeds["i"] = idx
    if dynamic_values:
        inputs.append(("v", vdtype, [2]))
        feeds["v"] = vals
    else:
        inits["v"] = vals
    model = node_model("OneHot", inputs, initializers=inits, input_order=["i", "depth", "v"], axis=axis)
    return OpCase(f"OneHot_{cid}", "OneHot", model, lambda rng: dict(feeds))


_IDX = np.array([[0, 3, -1], [2, -4, 1]], dtype=np.int64)

CASES: list[OpCase] = [
    _const_of_shape("float_input", [2, 3, 4], np.array([1.5], dtype=F), as_input=True),
    _const_of_shape("default_input", [3, 2], None, as_input=True),
    _const_of_shape("int64_input", [2, 5], np.array([-7], dtype=I64), as_input=True),
    _const_of_shape("bool_input", [4, 2], np.array([True]), as_input=True),
    _const_of_shape("const_shape", [2, 3], np.array([2.0], dtype=F)),
    _range("float", 0.5, 4.2, 0.7, F),
    _range("float_neg", 3.0, -2.0, -0.5, F),
    _range("int", 2, 17, 3, I64),
    _range("int_neg", 10, -3, -4, I64),
    _range("empty", 5, 1, 2, I64),
    _range("empty_descending_delta1", 5, 1, 1, I64),
    _range("empty_descending_float", 2.5, -1.0, 0.5, F),
    _range("empty_increasing_negative", -1.0, 2.0, -0.25, F),
    _range_mixed("const_start_delta", 0, 7, 1, I64, runtime=("limit",)),
    _range_mixed("const_start_delta_empty", 3, -2, 1, I64, runtime=("limit",)),
    _range_mixed("runtime_delta_descending", 6, 1, -2, I64, runtime=("delta",)),
    _range_mixed("runtime_delta_positive_empty", 6.0, 1.0, 0.5, F, runtime=("delta",)),
    _range_mixed("runtime_start_float", 0.25, 3.0, 0.5, F, runtime=("start",)),
    _onehot("basic", _IDX, 4, [0.0, 1.0]),
    _onehot("axis0", _IDX, 4, [-1.0, 2.5], axis=0),
    _onehot("axis1", _IDX, 5, [0.0, 3.0], axis=1),
    _onehot("axis_neg2", _IDX, 4, [0.0, 1.0], axis=-2),
    _onehot("int64_values", _IDX, 4, [2, 7], vdtype=I64),
    _onehot("int64_values_dyn", _IDX, 4, [-3, 7], vdtype=I64, dynamic_values=True, axis=0),
    _onehot("int32_idx", _IDX.astype(np.int32), 4, [0.0, 2.0], ddtype=np.int32),
    _onehot("float_idx", _IDX.astype(F), 4, [0.0, 1.0], ddtype=F),
    _onehot("dyn_values", _IDX, 4, [0.5, -1.0], dynamic_values=True),
    _onehot("const_idx", _IDX, 4, [0.0, 1.0], axis=1, const_idx=True, dynamic_values=True),
    _onehot("out_of_range", np.array([0, 5, -6, 2], dtype=np.int64), 4, [0.0, 1.0]),
    OpCase("EyeLike_k", "EyeLike", node_model("EyeLike", [("x", F, [3, 5])], k=1), rand(("x", (3, 5)))),
    OpCase("EyeLike_int", "EyeLike", node_model("EyeLike", [("x", F, [4, 3])], k=-1, dtype=onnx.TensorProto.INT64),
           rand(("x", (4, 3)))),
]


def _constant(cid: str, **attrs: Any) -> OpCase:
    # The runtime needs a model input: pass one through beside the constant.
    nodes = [helper.make_node("Constant", [], ["y"], **attrs), helper.make_node("Identity", ["x"], ["z"])]
    return OpCase(f"Constant_{cid}", "Constant", graph_model(nodes, [("x", F, [2])], ("y", "z")), rand(("x", (2,))))


CASES += [
    _constant("value", value=onnx.numpy_helper.from_array(np.arange(6, dtype=F).reshape(2, 3))),
    _constant("value_float", value_float=2.5),
    _constant("value_ints", value_ints=[3, -1, 4]),
]
