"""Parity cases for ONNX Loop (a tfjs StatelessWhile): for-loops, while-loops, scan outputs, outer captures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.cases import UNDER_TEST, Inputs, OpCase, rand

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
_INT64_MAX = np.iinfo(np.int64).max


def _body(
    nodes: Sequence[onnx.NodeProto],
    carried: Sequence[tuple[str, int, list[int | str | None]]],
    outputs: Sequence[tuple[str, int, list[int | str | None] | None]],
    inits: dict[str, np.ndarray] | None = None,
    prefix: str = "",
) -> onnx.GraphProto:
    """A Loop body: (i, cond_in, carried...) -> (cond_out, outputs...); ``prefix`` keeps nested bodies apart."""
    inputs = [helper.make_tensor_value_info(f"{prefix}i", I64, []),
              helper.make_tensor_value_info(f"{prefix}cond_in", B, [])]
    inputs += [helper.make_tensor_value_info(n, t, s) for n, t, s in carried]
    outs = [helper.make_tensor_value_info(f"{prefix}cond_out", B, [])]
    outs += [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs]
    tensors = [onnx.numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    return helper.make_graph(list(nodes), "body", inputs, outs, tensors)


Spec = tuple[str, int, list[int | str | None]]


def _model(
    loop_inputs: Sequence[str],
    loop_outputs: Sequence[Spec],
    body: onnx.GraphProto,
    graph_inputs: Sequence[tuple[str, int, list[int | str | None]]],
    inits: dict[str, np.ndarray],
    pre: Sequence[onnx.NodeProto] = (),
) -> onnx.ModelProto:
    # The Loop is the node under test: the emission check leaves the ops of ``pre`` out (tests/parity.py).
    loop = helper.make_node("Loop", list(loop_inputs), [n for n, _, _ in loop_outputs], body=body,
                            name=f"{UNDER_TEST}_loop")
    graph = helper.make_graph(
        [*pre, loop],
        "loop",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in graph_inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in loop_outputs],
        [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _for_loop() -> onnx.ModelProto:
    """y <- y * 1.5 + sin(y) + i, M times (M a runtime input, cond constant true); the counter is used."""
    body = _body(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Cast", ["i"], ["fi"], to=F),
            helper.make_node("Mul", ["y_in", "k"], ["m"]),
            helper.make_node("Sin", ["y_in"], ["s"]),
            helper.make_node("Add", ["m", "s"], ["t"]),
            helper.make_node("Add", ["t", "fi"], ["y_out"]),
        ],
        [("y_in", F, ["N", 3])],
        [("y_out", F, ["N", 3])],
        {"k": np.asarray(1.5, np.float32)},
    )
    return _model(
        ["M", "true", "x"], [("y", F, ["N", 3])], body, [("M", I64, []), ("x", F, ["N", 3])], {"true": np.asarray(True)}
    )


def _while_loop() -> onnx.ModelProto:
    """tf2onnx's shape of a tf.while_loop: M = int64 max, the body computes the condition (j < n)."""
    body = _body(
        [
            helper.make_node("Add", ["j_in", "one"], ["j_out"]),
            helper.make_node("Less", ["j_out", "n"], ["cond_out"]),
            helper.make_node("Mul", ["acc_in", "x"], ["p"]),  # x: an outer graph input read by the body
            helper.make_node("Tanh", ["p"], ["acc_out"]),
        ],
        [("j_in", I64, []), ("acc_in", F, [2, 4])],
        [("j_out", I64, []), ("acc_out", F, [2, 4])],
        {"one": np.asarray(1, np.int64)},
    )
    pre = [helper.make_node("Less", ["zero", "n"], ["c0"])]
    return _model(
        ["max", "c0", "zero", "x"],
        [("j", I64, []), ("acc", F, [2, 4])],
        body,
        [("x", F, [2, 4]), ("n", I64, [])],
        {"max": np.asarray(_INT64_MAX, np.int64), "zero": np.asarray(0, np.int64)},
        pre,
    )


def _scan_loop() -> onnx.ModelProto:
    """A constant trip count with two scan outputs (per-iteration values stacked on a new axis 0)."""
    body = _body(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Mul", ["h_in", "w"], ["hw"]),
            helper.make_node("Add", ["hw", "x"], ["h_out"]),
            helper.make_node("ReduceSum", ["h_out"], ["total"], keepdims=0),
            helper.make_node("Relu", ["h_out"], ["r"]),
        ],
        [("h_in", F, [3])],
        [("h_out", F, [3]), ("r", F, [3]), ("total", F, [])],
    )
    return _model(
        ["M", "", "h0"],
        [("h", F, [3]), ("rs", F, [None, 3]), ("totals", F, [None])],
        body,
        [("x", F, [3]), ("h0", F, [3])],
        {"M": np.asarray(4, np.int64), "w": np.asarray([0.5, -1.2, 0.9], np.float32)},
    )


def _nested_loop() -> onnx.ModelProto:
    """A Loop whose body holds another Loop; the inner body reads a main-graph input and an initializer."""
    inner = _body([
        helper.make_node("Identity", ["inner_cond_in"], ["inner_cond_out"]),
        helper.make_node("Mul", ["u_in", "half"], ["uh"]),
        helper.make_node("Add", ["uh", "x"], ["u_out"]),
    ], [("u_in", F, [2])], [("u_out", F, [2])], prefix="inner_")
    outer = _body([
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Loop", ["two", "", "acc_in"], ["inner_out"], body=inner),
        helper.make_node("Sin", ["inner_out"], ["acc_out"]),
    ], [("acc_in", F, [2])], [("acc_out", F, [2])])
    return _model(["three", "", "x"], [("y", F, [2])], outer, [("x", F, [2])],
                  {"three": np.asarray(3, np.int64), "two": np.asarray(2, np.int64),
                   "half": np.asarray(0.5, np.float32)})


def _shape_trip_count() -> onnx.ModelProto:
    """M = Shape(x)[1] on a symbolic dim: one iteration per column; the carried value grows (Concat) every
    iteration and a scan output stacks sin(column)."""
    body = _body(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Gather", ["x", "i"], ["col"], axis=1),
            helper.make_node("Unsqueeze", ["col", "ax1"], ["col2"]),
            helper.make_node("Concat", ["acc_in", "col2"], ["acc_out"], axis=1),
            helper.make_node("Sin", ["col"], ["s"]),
        ],
        [("acc_in", F, [2, None])],
        [("acc_out", F, [2, None]), ("s", F, [2])],
    )
    pre = [helper.make_node("Shape", ["x"], ["sh"]), helper.make_node("Gather", ["sh", "i1"], ["m"])]
    return _model(
        ["m", "", "acc0"], [("y", F, [2, None]), ("cols", F, [None, 2])], body, [("x", F, [2, "T"])],
        {"i1": np.asarray(1, np.int64), "ax1": np.asarray([1], np.int64), "acc0": np.zeros((2, 1), np.float32)},
        pre,
    )


def _feeds_for(m: int) -> Inputs:
    base = rand(("x", (5, 3)))

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"M": np.asarray(m, np.int64), **base(rng)}

    return make


def _while_feeds(n: int) -> Inputs:
    base = rand(("x", (2, 4)), low=0.5, high=1.5)

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"n": np.asarray(n, np.int64), **base(rng)}

    return make


CASES: list[OpCase] = [
    OpCase("Loop-for_runtime_trip_count", "Loop", _for_loop, _feeds_for(4)),
    OpCase("Loop-for_zero_trips", "Loop", _for_loop, _feeds_for(0)),
    OpCase("Loop-while_condition_outer_capture", "Loop", _while_loop, _while_feeds(5)),
    OpCase("Loop-while_condition_false_at_start", "Loop", _while_loop, _while_feeds(0)),
    OpCase("Loop-scan_outputs", "Loop", _scan_loop, rand(("x", (3,)), ("h0", (3,)))),
    OpCase("Loop-nested", "Loop", _nested_loop, rand(("x", (2,)))),
    OpCase("Loop-trip_count_from_shape", "Loop", _shape_trip_count, rand(("x", (2, 5)))),
    OpCase("Loop-trip_count_from_shape_one", "Loop", _shape_trip_count, rand(("x", (2, 1)))),
]
