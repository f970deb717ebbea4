"""Parity cases for ONNX If (a tfjs StatelessIf): runtime conditions, outer captures, nesting in Loop and If."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.cases import Inputs, OpCase, rand

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
Spec = tuple[str, int, list[int | str | None]]


def _branch(name: str, nodes: Sequence[onnx.NodeProto], outputs: Sequence[Spec],
            inits: dict[str, np.ndarray] | None = None) -> onnx.GraphProto:
    """An If branch: no inputs, reads outer values by name."""
    tensors = [onnx.numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    return helper.make_graph(list(nodes), name, [], [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                             tensors)


def _model(nodes: Sequence[onnx.NodeProto], inputs: Sequence[Spec], outputs: Sequence[Spec],
           inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes), "if_model",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _cond_input() -> onnx.ModelProto:
    """cond is a bool graph input; the then branch reads a main-graph weight, the else branch its own constant."""
    then_g = _branch("then", [helper.make_node("MatMul", ["x", "w"], ["xw"]),
                              helper.make_node("Add", ["xw", "b"], ["t_out"])], [("t_out", F, [2, 4])])
    else_g = _branch("else", [helper.make_node("Slice", ["x", "zero", "four", "one"], ["xs"]),
                              helper.make_node("Tanh", ["xs"], ["th"]),
                              helper.make_node("Sub", ["th", "k"], ["e_out"])], [("e_out", F, [2, 4])],
                     {"k": np.asarray([0.5, -0.25, 1.0, 2.0], np.float32), "zero": np.asarray([0], np.int64),
                      "four": np.asarray([4], np.int64), "one": np.asarray([1], np.int64)})
    node = helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)
    rng = np.random.default_rng(7)
    return _model([node], [("c", B, []), ("x", F, [2, 5])], [("y", F, [2, 4])],
                  {"w": rng.standard_normal((5, 4)).astype(np.float32),
                   "b": rng.standard_normal(4).astype(np.float32)})


def _two_outputs() -> onnx.ModelProto:
    """Two outputs of different dtypes (float, int64); the branches compute them with different ops."""
    then_g = _branch("then", [helper.make_node("Relu", ["x"], ["r"]),
                              helper.make_node("Mul", ["r", "s"], ["t_y"]),
                              helper.make_node("ArgMax", ["x"], ["t_i"], axis=1, keepdims=0)],
                     [("t_y", F, [3, 4]), ("t_i", I64, [3])])
    else_g = _branch("else", [helper.make_node("Neg", ["x"], ["n"]),
                              helper.make_node("Exp", ["n"], ["e_y"]),
                              helper.make_node("ArgMin", ["x"], ["e_i"], axis=1, keepdims=0)],
                     [("e_y", F, [3, 4]), ("e_i", I64, [3])])
    node = helper.make_node("If", ["c"], ["y", "idx"], then_branch=then_g, else_branch=else_g)
    return _model([node], [("c", B, []), ("x", F, [3, 4])], [("y", F, [3, 4]), ("idx", I64, [3])],
                  {"s": np.asarray([1.5, -2.0, 0.5, 3.0], np.float32)})


def _in_loop() -> onnx.ModelProto:
    """A Loop body branches on sum(acc) > 1 (a comparison of data): the branches alternate within one run.

    The then branch lowers the sum by at least 1.5 and the else branch raises it by 3, so five
    iterations take both. A top-level comparison would add ops the If rule does not declare.
    """
    then_g = _branch("then", [helper.make_node("Mul", ["acc_in", "half"], ["h"]),
                              helper.make_node("Sub", ["h", "x_abs"], ["t_out"])], [("t_out", F, [3])],
                     {"half": np.asarray(0.5, np.float32)})
    else_g = _branch("else", [helper.make_node("Sin", ["acc_in"], ["s"]),
                              helper.make_node("Add", ["s", "bias"], ["e_out"])], [("e_out", F, [3])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("ReduceSum", ["acc_in"], ["total"], keepdims=0),
         helper.make_node("Greater", ["total", "one"], ["big"]),
         helper.make_node("Abs", ["x"], ["x_abs"]),
         helper.make_node("If", ["big"], ["acc_out"], then_branch=then_g, else_branch=else_g)],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_value_info("acc_in", F, [3])],
        [helper.make_tensor_value_info("cond_out", B, []), helper.make_tensor_value_info("acc_out", F, [3])])
    loop = helper.make_node("Loop", ["five", "", "x"], ["y"], body=body)
    return _model([loop], [("x", F, [3])], [("y", F, [3])],
                  {"five": np.asarray(5, np.int64), "one": np.asarray(1.0, np.float32),
                   "bias": np.asarray([2.0, 0.5, 1.5], np.float32)})


def _nested_if() -> onnx.ModelProto:
    """An If inside an If branch; the inner branches read a graph input and a value of the outer branch."""
    inner_then = _branch("inner_then", [helper.make_node("Mul", ["sq", "x"], ["it"])], [("it", F, [4])])
    inner_else = _branch("inner_else", [helper.make_node("Sub", ["sq", "x"], ["ie"])], [("ie", F, [4])])
    then_g = _branch("then", [helper.make_node("Mul", ["x", "x"], ["sq"]),
                              helper.make_node("If", ["c2"], ["t_out"], then_branch=inner_then,
                                               else_branch=inner_else)], [("t_out", F, [4])])
    else_g = _branch("else", [helper.make_node("Identity", ["x"], ["e_out"])], [("e_out", F, [4])])
    node = helper.make_node("If", ["c1"], ["y"], then_branch=then_g, else_branch=else_g)
    return _model([node], [("c1", B, []), ("c2", B, []), ("x", F, [4])], [("y", F, [4])], {})


def _constant_condition() -> onnx.ModelProto:
    """cond = 1 > 0 folds to a constant: the taken branch is inlined and the If disappears."""
    then_g = _branch("then", [helper.make_node("Mul", ["x", "x"], ["t"])], [("t", F, [4])])
    else_g = _branch("else", [helper.make_node("Neg", ["x"], ["e"])], [("e", F, [4])])
    nodes = [helper.make_node("Greater", ["a", "b"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [4])], [("y", F, [4])],
                  {"a": np.asarray(1.0, np.float32), "b": np.asarray(0.0, np.float32)})


def _with(flags: dict[str, bool], base: Inputs) -> Inputs:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {**{k: np.asarray(v) for k, v in flags.items()}, **base(rng)}

    return make


_X25 = rand(("x", (2, 5)))
_X4 = rand(("x", (4,)))
_X34 = rand(("x", (3, 4)))
CASES: list[OpCase] = [
    OpCase("If-cond_input_then", "If", _cond_input, _with({"c": True}, _X25)),
    OpCase("If-cond_input_else", "If", _cond_input, _with({"c": False}, _X25)),
    OpCase("If-two_outputs_then", "If", _two_outputs, _with({"c": True}, _X34)),
    OpCase("If-two_outputs_else", "If", _two_outputs, _with({"c": False}, _X34)),
    # Keyed by Loop: its StatelessWhile is the main-graph op; the If runs inside the loop body.
    OpCase("If-in_loop_body_data_condition", "Loop", _in_loop, rand(("x", (3,)))),
    # Keyed by Mul: the inlined then branch is all that remains (a StatelessIf would be undeclared).
    OpCase("If-constant_condition_inlined", "Mul", _constant_condition, _X4),
    OpCase("If-nested_then_then", "If", _nested_if, _with({"c1": True, "c2": True}, _X4)),
    OpCase("If-nested_then_else", "If", _nested_if, _with({"c1": True, "c2": False}, _X4)),
    OpCase("If-nested_else", "If", _nested_if, _with({"c1": False, "c2": True}, _X4)),
]
