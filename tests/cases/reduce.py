"""Parity cases for ReduceX ops: every axes/keepdims/noop form, negative axes, int and bool inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tests.cases import Inputs, OpCase, node_model, rand

_SHAPE = (2, 3, 4, 5)
_ALL = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp")
# Axes forms: (id, axes or None for an absent input, keepdims, noop_with_empty_axes).
_FORMS: list[tuple[str, list[int] | None, int, int]] = [
    ("ax1_keep", [1], 1, 0),
    ("ax1_drop", [1], 0, 0),
    ("ax_neg_multi_keep", [-1, 1], 1, 0),
    ("ax_neg_multi_drop", [0, -2], 0, 0),
    ("absent_all_keep", None, 1, 0),
    ("absent_all_drop", None, 0, 0),
    ("empty_all_drop", [], 0, 0),
    ("absent_noop", None, 1, 1),
    ("empty_noop", [], 0, 1),
]


def _inputs(op: str, shape: Sequence[int], dtype: Any) -> Inputs:
    if op == "ReduceLogSum":
        return rand(("x", shape), low=0.1, high=2.0)
    if op == "ReduceProd" and np.dtype(dtype).kind == "f":
        return rand(("x", shape), low=0.5, high=1.5)  # keeps the product of up to 120 values in range
    if np.dtype(dtype).kind in "iu":
        return rand(("x", shape), dtype=dtype, low=-9, high=10)
    return rand(("x", shape), dtype=dtype)


def _case(op: str, tag: str, axes: list[int] | None, keepdims: int, noop: int, *,
          shape: Sequence[int | str] = _SHAPE, dtype: Any = np.float32,
          inputs_shapes: Sequence[Sequence[int]] = (), **kw: Any) -> OpCase:
    """``inputs_shapes``: the feed shapes of a ``shape`` with symbolic dims (the first feeds, the rest more)."""
    inits = None if axes is None else {"axes": np.array(axes, dtype=np.int64)}
    attrs: dict[str, Any] = {"keepdims": keepdims} | ({"noop_with_empty_axes": noop} if noop else {})
    model = node_model(op, [("x", dtype, list(shape))], initializers=inits, **attrs)
    feeds = [_inputs(op, s, dtype) for s in inputs_shapes] or [_inputs(op, shape, dtype)]  # type: ignore[arg-type]
    return OpCase(f"{op}-{tag}", op, model, feeds[0], more_inputs=tuple(feeds[1:]), **kw)


def _ranked_output(build: Callable[[], onnx.ModelProto], shape: list[int | None]) -> Callable[[], onnx.ModelProto]:
    """Give output 0 a shape inference could not find (an output of unknown rank fails the pivot checker)."""

    def model() -> onnx.ModelProto:
        m = build()
        out = m.graph.output[0]
        out.CopyFrom(helper.make_tensor_value_info(out.name, out.type.tensor_type.elem_type, shape))
        return m

    return model


CASES: list[OpCase] = [_case(op, tag, axes, keep, noop) for op in _ALL for tag, axes, keep, noop in _FORMS]

CASES += [
    _case("ReduceSum", "int64", [1, 2], 0, 0, dtype=np.int64),
    _case("ReduceSum", "int32_keep", [-1], 1, 0, dtype=np.int32),
    _case("ReduceSum", "int64_all", None, 0, 0, dtype=np.int64),
    _case("ReduceMax", "int64", [2], 1, 0, dtype=np.int64),
    _case("ReduceMin", "int32", [0, 3], 0, 0, dtype=np.int32),
    _case("ReduceProd", "int64", [3], 0, 0, shape=(2, 3, 4, 3), dtype=np.int64),
    _case("ReduceL1", "int64", [1], 1, 0, dtype=np.int64),
    _case("ReduceSumSquare", "int32", [1], 0, 0, dtype=np.int32),
    _case("ReduceMean", "int64_trunc", [1], 0, 0, dtype=np.int64),
    _case("ReduceMean", "int32_multi", [-1, 0], 1, 0, dtype=np.int32),
    _case("ReduceMax", "bool", [1], 0, 0, dtype=np.bool_),
    _case("ReduceMin", "bool_keep", [-1], 1, 0, dtype=np.bool_),
    _case("ReduceSum", "rank1", [0], 0, 0, shape=(7,)),
    _case("ReduceMean", "rank2_ax0", [0], 1, 0, shape=(3, 5)),
    _case("ReduceL2", "int64", [1], 0, 0, dtype=np.int64, refused="dtype"),
    _case("ReduceLogSumExp", "int32", [1], 0, 0, dtype=np.int32, refused="dtype"),
    OpCase("ReduceSum-axes_input", "ReduceSum", _ranked_output(
           node_model("ReduceSum", [("x", np.float32, [2, 3]), ("axes", np.int64, [1])], keepdims=1), [2, None]),
           lambda rng: {"x": rng.standard_normal((2, 3)).astype(np.float32), "axes": np.array([1], np.int64)},
           refused="needs_constant_input"),
    OpCase("ReduceLogSumExp-large", "ReduceLogSumExp",
           node_model("ReduceLogSumExp", [("x", np.float32, [3, 6])], initializers={"axes": np.array([1], np.int64)},
                      keepdims=0),
           rand(("x", (3, 6)), low=80.0, high=100.0)),
]

CASES += [
    OpCase("ReduceMean-dynamic_batch", "ReduceMean",
           node_model("ReduceMean", [("x", np.float32, ["N", 3, 4])], initializers={"axes": np.array([-1], np.int64)}),
           rand(("x", (2, 3, 4)))),
    OpCase("ReduceLogSumExp-dynamic_batch_drop", "ReduceLogSumExp",
           node_model("ReduceLogSumExp", [("x", np.float32, ["N", 6])], initializers={"axes": np.array([1], np.int64)},
                      keepdims=0), rand(("x", (3, 6)))),
]

# A zero-size reduced axis: the identity is written as a constant (tfjs wasm reductions return garbage there).
CASES += [_case(op, "empty_axis", [1], 1, 0, shape=(2, 0, 3)) for op in _ALL]
CASES += [
    _case("ReduceMax", "empty_axis_int32", [1], 0, 0, shape=(2, 0), dtype=np.int32),
    _case("ReduceSum", "empty_axis_int64", [0], 0, 0, shape=(0, 3), dtype=np.int64),
    _case("ReduceMax", "empty_axis_int64", [1], 0, 0, shape=(2, 0), dtype=np.int64, refused="dtype"),
]

# Dynamic dims: a static zero-size reduced axis beside a dynamic batch (Fill of the run-time output shape), and the
# integer mean over dynamic axes (their element count read at run time); each with two feed sets.
CASES += [
    _case("ReduceSum", "empty_axis_dynamic_batch", [1], 1, 0, shape=("N", 0, 3), inputs_shapes=((2, 0, 3), (5, 0, 3))),
    _case("ReduceMax", "empty_axis_dynamic_drop", [1], 0, 0, shape=("N", 0, "C"),
          inputs_shapes=((2, 0, 3), (4, 0, 1))),
    _case("ReduceMin", "empty_axis_dynamic_int32", [1], 0, 0, shape=("N", 0), dtype=np.int32,
          inputs_shapes=((3, 0), (1, 0))),
    _case("ReduceLogSumExp", "empty_axis_dynamic", [1], 1, 0, shape=("N", 0), inputs_shapes=((3, 0), (2, 0))),
    _case("ReduceMean", "empty_axis_dynamic", [1], 0, 0, shape=("N", 0), inputs_shapes=((3, 0), (2, 0))),
    _case("ReduceMean", "int32_dynamic_axes", [1, 2], 0, 0, shape=("N", "C", 4), dtype=np.int32,
          inputs_shapes=((2, 3, 4), (3, 5, 4))),
    _case("ReduceMean", "int64_dynamic_axis_keep", [-1], 1, 0, shape=(2, "T"), dtype=np.int64,
          inputs_shapes=((2, 7), (2, 3))),
]
