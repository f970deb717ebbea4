"""Parity cases for ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, TopK and CumSum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.cases import Inputs, OpCase, node_model, rand


def _ties(shape: Sequence[int], dtype: Any = np.float32, high: int = 4) -> Inputs:
    """Small integer values, so that many rows hold repeated extremes (tie-breaking is checked)."""
    return lambda rng: {"x": rng.integers(0, high, size=shape).astype(dtype)}


def _arg(op: str, tag: str, shape: Sequence[int], inputs: Inputs | None = None, dtype: Any = np.float32,
         **attrs: Any) -> OpCase:
    model = node_model(op, [("x", dtype, list(shape))], **attrs)
    return OpCase(f"{op}-{tag}", op, model, inputs or rand(("x", shape), dtype=dtype, low=-9, high=9))


CASES: list[OpCase] = []
for _op in ("ArgMax", "ArgMin"):
    CASES += [
        _arg(_op, "default", (3, 4, 5)),
        _arg(_op, "ax1_keep", (3, 4, 5), axis=1, keepdims=1),
        _arg(_op, "ax1_drop", (3, 4, 5), axis=1, keepdims=0),
        _arg(_op, "neg_axis_drop", (2, 3, 4, 5), axis=-1, keepdims=0),
        _arg(_op, "rank1", (7,), axis=0, keepdims=0),
        _arg(_op, "ties_first", (6, 8), _ties((6, 8)), axis=1, keepdims=0),
        _arg(_op, "ties_last", (6, 8), _ties((6, 8)), axis=1, keepdims=0, select_last_index=1),
        _arg(_op, "ties_last_ax0_keep", (6, 8), _ties((6, 8)), axis=0, keepdims=1, select_last_index=1),
        _arg(_op, "int64", (4, 6), _ties((4, 6), np.int64, 100), dtype=np.int64, axis=1, keepdims=0),
        _arg(_op, "int32_ties_last", (4, 6), _ties((4, 6), np.int32), dtype=np.int32, axis=-1,
             select_last_index=1),
    ]


def _softmax(op: str, shape: Sequence[int], axis: int | None, inputs: Inputs | None = None) -> OpCase:
    attrs: dict[str, Any] = {} if axis is None else {"axis": axis}
    tag = f"r{len(shape)}_ax{'default' if axis is None else axis}"
    return OpCase(f"{op}-{tag}", op, node_model(op, [("x", np.float32, list(shape))], **attrs),
                  inputs or rand(("x", shape), low=-4.0, high=4.0))


for _op in ("Softmax", "LogSoftmax"):
    CASES += [_softmax(_op, s, a) for s in ((3, 5), (2, 3, 5), (2, 3, 4, 5)) for a in (0, 1, -1)]
    CASES += [_softmax(_op, (2, 3, 4, 5), None), _softmax(_op, (2, 3, 4, 5), 2), _softmax(_op, (6,), 0)]
    CASES.append(OpCase(f"{_op}-large_values", _op, node_model(_op, [("x", np.float32, [3, 7])], axis=0),
                        rand(("x", (3, 7)), low=50.0, high=120.0)))
CASES += [_softmax("Hardmax", s, a, _ties(s)) for s, a in (((3, 5), -1), ((2, 3, 4), 1), ((2, 3, 4, 5), 0))]
CASES.append(_softmax("Hardmax", (2, 3, 4), None))


def _topk(tag: str, shape: Sequence[int], k: int, inputs: Inputs | None = None, dtype: Any = np.float32,
          **attrs: Any) -> OpCase:
    model = node_model("TopK", [("x", dtype, list(shape))], ("values", "indices"),
                       initializers={"k": np.array([k], dtype=np.int64)}, **attrs)
    return OpCase(f"TopK-{tag}", "TopK", model, inputs or rand(("x", shape), dtype=dtype))


CASES += [
    _topk("default", (3, 10), 4),
    _topk("axis1", (2, 6, 5), 3, axis=1),
    _topk("axis0_smallest", (6, 5), 2, axis=0, largest=0),
    _topk("smallest", (2, 3, 9), 5, largest=0),
    _topk("unsorted_k1", (4, 9), 1, sorted=0),  # onnxruntime's order for sorted=0, k>1 is its heap order
    _topk("k_full", (3, 6), 6),
    _topk("ties", (5, 12), 5, _ties((5, 12))),
    _topk("ties_smallest", (5, 12), 5, _ties((5, 12)), largest=0),
    _topk("int64", (3, 8), 3, _ties((3, 8), np.int64, 50), dtype=np.int64),
    _topk("int32_axis0", (8, 3), 2, _ties((8, 3), np.int32, 50), dtype=np.int32, axis=-2),
    OpCase("TopK-k_input", "TopK",
           node_model("TopK", [("x", np.float32, [3, 6]), ("k", np.int64, [1])], ("values", "indices")),
           lambda rng: {"x": rng.standard_normal((3, 6)).astype(np.float32), "k": np.array([2], np.int64)}),
    OpCase("TopK-k_input_smallest_axis0", "TopK",
           node_model("TopK", [("x", np.float32, [7, 4]), ("k", np.int64, [1])], ("values", "indices"), axis=0,
                      largest=0),
           lambda rng: {"x": rng.standard_normal((7, 4)).astype(np.float32), "k": np.array([3], np.int64)}),
]


def _cumsum(tag: str, shape: Sequence[int], axis: int, dtype: Any = np.float32, **attrs: Any) -> OpCase:
    model = node_model("CumSum", [("x", dtype, list(shape))], initializers={"axis": np.array(axis, np.int64)},
                       **attrs)
    low, high = (-20, 20) if np.dtype(dtype).kind in "iu" else (-2.0, 2.0)
    return OpCase(f"CumSum-{tag}", "CumSum", model, rand(("x", shape), dtype=dtype, low=low, high=high))


CASES += [
    _cumsum("ax0", (4, 5), 0),
    _cumsum("ax1", (4, 5), 1),
    _cumsum("neg_axis", (2, 3, 6), -1),
    _cumsum("exclusive", (2, 3, 6), 1, exclusive=1),
    _cumsum("reverse", (2, 3, 6), 2, reverse=1),
    _cumsum("exclusive_reverse", (3, 4, 2, 5), 1, exclusive=1, reverse=1),
    _cumsum("rank1", (9,), 0, reverse=1),
    _cumsum("int64", (3, 7), 1, dtype=np.int64),
    _cumsum("int32_excl_rev", (3, 7), 0, dtype=np.int32, exclusive=1, reverse=1),
    OpCase("CumSum-axis_input", "CumSum",
           node_model("CumSum", [("x", np.float32, [3, 4]), ("axis", np.int64, [])]),
           lambda rng: {"x": rng.standard_normal((3, 4)).astype(np.float32), "axis": np.array(1, np.int64)}),
    OpCase("CumSum-axis_input_negative", "CumSum",
           node_model("CumSum", [("x", np.float32, [2, 3, 4]), ("axis", np.int32, [1])], exclusive=1),
           lambda rng: {"x": rng.standard_normal((2, 3, 4)).astype(np.float32), "axis": np.array([-2], np.int32)}),
    OpCase("CumSum-axis_input_int32_reverse", "CumSum",
           node_model("CumSum", [("x", np.int32, [4, 5]), ("axis", np.int64, [])], reverse=1),
           lambda rng: {"x": rng.integers(-9, 9, (4, 5)).astype(np.int32), "axis": np.array(0, np.int64)}),
]

# Symbolic batch dims: the transposes and reductions need ranks only.
CASES += [
    OpCase("Softmax-dynamic_batch_ax1", "Softmax", node_model("Softmax", [("x", np.float32, ["N", 3, 4])], axis=1),
           rand(("x", (2, 3, 4)))),
    OpCase("LogSoftmax-dynamic_batch_ax0", "LogSoftmax",
           node_model("LogSoftmax", [("x", np.float32, ["N", 5])], axis=0), rand(("x", (3, 5)))),
    OpCase("TopK-dynamic_batch", "TopK",
           node_model("TopK", [("x", np.float32, ["N", 7])], ("values", "indices"),
                      initializers={"k": np.array([3], np.int64)}), rand(("x", (4, 7)))),
    OpCase("ArgMax-dynamic_batch", "ArgMax", node_model("ArgMax", [("x", np.float32, ["N", 7])], axis=1),
           rand(("x", (4, 7)))),
    OpCase("ArgMax-dynamic_select_last", "ArgMax",
           node_model("ArgMax", [("x", np.float32, [3, "M"])], axis=1, select_last_index=1),
           rand(("x", (3, 7))), more_inputs=(rand(("x", (3, 2))),)),
    OpCase("ArgMax-dynamic_select_last_ties", "ArgMax",
           node_model("ArgMax", [("x", np.float32, ["N", "M"])], axis=1, keepdims=0, select_last_index=1),
           _ties((3, 7)), more_inputs=(_ties((5, 2)), _ties((1, 9)))),
    OpCase("ArgMin-dynamic_select_last_ties_ax0", "ArgMin",
           node_model("ArgMin", [("x", np.int64, ["N", 4])], axis=0, keepdims=1, select_last_index=1),
           _ties((6, 4), np.int64), more_inputs=(_ties((2, 4), np.int64),)),
    OpCase("ArgMin-dynamic_select_last_rank1", "ArgMin",
           node_model("ArgMin", [("x", np.float32, ["M"])], axis=0, keepdims=0, select_last_index=1),
           _ties((8,)), more_inputs=(_ties((3,)),)),
]
