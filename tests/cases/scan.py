"""Parity cases for ONNX Scan (a tfjs StatelessWhile): directions, axes, several states, inputs and outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.cases import UNDER_TEST, OpCase, rand

F = TensorProto.FLOAT
Spec = tuple[str, int, list[int | str | None]]


def _info(specs: Sequence[Spec]) -> list[onnx.ValueInfoProto]:
    return [helper.make_tensor_value_info(n, t, s) for n, t, s in specs]


def _model(nodes: Sequence[onnx.NodeProto], body_in: Sequence[Spec], body_out: Sequence[Spec],
           scan_inputs: Sequence[str], graph_in: Sequence[Spec], graph_out: Sequence[Spec], num_scan_inputs: int,
           inits: dict[str, np.ndarray] | None = None, opset: int = 21, **attrs: Any) -> onnx.ModelProto:
    body = helper.make_graph(list(nodes), "body", _info(body_in), _info(body_out))
    scan = helper.make_node("Scan", list(scan_inputs), [n for n, _, _ in graph_out], body=body,
                            num_scan_inputs=num_scan_inputs, name=f"{UNDER_TEST}_scan", **attrs)
    graph = helper.make_graph([scan], "scan", _info(graph_in), _info(graph_out),
                              [onnx.numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _cumsum(length: int | str = 4, opset: int = 21) -> onnx.ModelProto:
    """One state, one scan input, one scan output, all forward on axis 0: a running sum (and its sine)."""
    return _model(
        [helper.make_node("Add", ["s_in", "x_t"], ["s_out"]), helper.make_node("Sin", ["s_out"], ["y_t"])],
        [("s_in", F, [3]), ("x_t", F, [3])], [("s_out", F, [3]), ("y_t", F, [3])],
        ["s0", "x"], [("s0", F, [3]), ("x", F, [length, 3])], [("s", F, [3]), ("ys", F, [length, 3])], 1,
        opset=opset)


def _reverse_axis1(length: int | str = 5) -> onnx.ModelProto:
    """A reverse scan over axis 1 of the input, the output stacked on axis 1 in reverse too (as a backward RNN)."""
    return _model(
        [helper.make_node("Mul", ["h_in", "w"], ["hw"]), helper.make_node("Add", ["hw", "x_t"], ["pre"]),
         helper.make_node("Tanh", ["pre"], ["h_out"]), helper.make_node("Identity", ["h_out"], ["y_t"])],
        [("h_in", F, [2]), ("x_t", F, [2])], [("h_out", F, [2]), ("y_t", F, [2])],
        ["h0", "x"], [("h0", F, [2]), ("x", F, [2, length])], [("h", F, [2]), ("ys", F, [2, length])], 1,
        {"w": np.asarray([0.7, -1.1], np.float32)},
        scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[1], scan_output_directions=[1])


def _several(length: int | str = 3) -> onnx.ModelProto:
    """Two states, two scan inputs (axis 0 forward, axis 1 reverse), two scan outputs (axis 0 reverse, axis -1)."""
    return _model(
        [helper.make_node("Mul", ["h_in", "a_t"], ["ha"]), helper.make_node("Add", ["ha", "c_in"], ["h_out"]),
         helper.make_node("Sub", ["c_in", "b_t"], ["c_out"]), helper.make_node("Mul", ["h_out", "c_out"], ["p_t"]),
         helper.make_node("ReduceSum", ["c_out"], ["q_t"], keepdims=1)],
        [("h_in", F, [2]), ("c_in", F, [2]), ("a_t", F, [2]), ("b_t", F, [2])],
        [("h_out", F, [2]), ("c_out", F, [2]), ("p_t", F, [2]), ("q_t", F, [1])],
        ["h0", "c0", "a", "b"],
        [("h0", F, [2]), ("c0", F, [2]), ("a", F, [length, 2]), ("b", F, [2, length])],
        [("h", F, [2]), ("c", F, [2]), ("ps", F, [length, 2]), ("qs", F, [1, length])], 2,
        scan_input_axes=[0, 1], scan_input_directions=[0, 1], scan_output_axes=[0, -1],
        scan_output_directions=[1, 0])


def _no_state(length: int | str = "T") -> onnx.ModelProto:
    """No state at all: a per-row map (Scan as tf.map_fn) over a dynamic-length axis."""
    return _model(
        [helper.make_node("ReduceMax", ["r_t"], ["m_t"], keepdims=0), helper.make_node("Sub", ["r_t", "m_t"], ["y_t"])],
        [("r_t", F, [4])], [("y_t", F, [4])],
        ["x"], [("x", F, [length, 4])], [("y", F, [length, 4])], 1)


def _outer_reads(length: int | str = "T") -> onnx.ModelProto:
    """The body reads a graph input (captured into the loop) and an initializer (a constant)."""
    return _model(
        [helper.make_node("Mul", ["s_in", "k"], ["sk"]), helper.make_node("Add", ["sk", "x_t"], ["t"]),
         helper.make_node("Add", ["t", "bias"], ["s_out"]), helper.make_node("Relu", ["s_out"], ["y_t"])],
        [("s_in", F, [3]), ("x_t", F, [3])], [("s_out", F, [3]), ("y_t", F, [3])],
        ["s0", "x"], [("s0", F, [3]), ("x", F, [length, 3]), ("bias", F, [3])],
        [("s", F, [3]), ("ys", F, [length, 3])], 1, {"k": np.asarray([0.5, -0.9, 1.1], np.float32)})


def _in_loop() -> onnx.ModelProto:
    """A Scan inside a Loop body (a running sum over the rows of x, twice per iteration)."""
    scan_body = helper.make_graph([helper.make_node("Add", ["a_in", "r_t"], ["a_out"])], "scan_body",
                                  _info([("a_in", F, [3]), ("r_t", F, [3])]), _info([("a_out", F, [3])]))
    loop_body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Scan", ["acc_in", "x"], ["scanned"], body=scan_body, num_scan_inputs=1,
                          name=f"{UNDER_TEST}_scan"),
         helper.make_node("Sin", ["scanned"], ["acc_out"])],
        "loop_body", _info([("i", TensorProto.INT64, []), ("cond_in", TensorProto.BOOL, []), ("acc_in", F, [3])]),
        _info([("cond_out", TensorProto.BOOL, []), ("acc_out", F, [3])]))
    loop = helper.make_node("Loop", ["two", "", "s0"], ["y"], body=loop_body, name=f"{UNDER_TEST}_loop")
    graph = helper.make_graph([loop], "scan_in_loop", _info([("s0", F, [3]), ("x", F, ["T", 3])]),
                              _info([("y", F, [3])]), [onnx.numpy_helper.from_array(np.asarray(2, np.int64), "two")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model, full_check=True)
    return model


CASES: list[OpCase] = [
    OpCase("Scan-forward_axis0", "Scan", _cumsum, rand(("s0", (3,)), ("x", (4, 3)))),
    OpCase("Scan-opset9", "Scan", lambda: _cumsum(opset=9), rand(("s0", (3,)), ("x", (4, 3)))),
    OpCase("Scan-reverse_axis1", "Scan", _reverse_axis1, rand(("h0", (2,)), ("x", (2, 5)))),
    OpCase("Scan-several_states_inputs_outputs", "Scan", _several,
           rand(("h0", (2,)), ("c0", (2,)), ("a", (3, 2)), ("b", (2, 3)), low=-1.0, high=1.0)),
    OpCase("Scan-dynamic_length", "Scan", lambda: _cumsum("T"), rand(("s0", (3,)), ("x", (4, 3))),
           more_inputs=(rand(("s0", (3,)), ("x", (1, 3))), rand(("s0", (3,)), ("x", (7, 3))))),
    OpCase("Scan-dynamic_length_reverse_axis1", "Scan", lambda: _reverse_axis1("T"), rand(("h0", (2,)), ("x", (2, 5))),
           more_inputs=(rand(("h0", (2,)), ("x", (2, 2))),)),
    OpCase("Scan-dynamic_several", "Scan", lambda: _several("T"),
           rand(("h0", (2,)), ("c0", (2,)), ("a", (3, 2)), ("b", (2, 3)), low=-1.0, high=1.0),
           more_inputs=(rand(("h0", (2,)), ("c0", (2,)), ("a", (5, 2)), ("b", (2, 5)), low=-1.0, high=1.0),)),
    OpCase("Scan-no_state_map", "Scan", _no_state, rand(("x", (3, 4))), more_inputs=(rand(("x", (6, 4))),)),
    OpCase("Scan-outer_reads", "Scan", _outer_reads, rand(("s0", (3,)), ("x", (4, 3)), ("bias", (3,))),
           more_inputs=(rand(("s0", (3,)), ("x", (2, 3)), ("bias", (3,))),)),
    OpCase("Scan-in_loop_body", "Loop", _in_loop, rand(("s0", (3,)), ("x", (4, 3))),
           more_inputs=(rand(("s0", (3,)), ("x", (1, 3))),)),
]
