"""Parity cases for ONNX If (a tfjs StatelessIf): runtime conditions, outer captures, nesting in Loop and If."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.cases import UNDER_TEST, Inputs, OpCase, rand

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
    for k, node in enumerate(nodes):  # the control-flow node is the one under test (tests/parity.py)
        node.name = f"{UNDER_TEST}_{k}" if node.op_type in ("If", "Loop") else f"n{k}"
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


def _sample_rate() -> onnx.ModelProto:
    """Silero-VAD style: cond = (sr == 16000), sr an int64 input; the branches give different widths.

    The then branch reads two main-graph weights (in the opposite order of their declaration) and x; the else
    branch reads x and one of the same weights, keeps every second sample and adds its own constant.
    """
    then_g = _branch("then", [helper.make_node("Mul", ["x", "w2"], ["xw"]),
                              helper.make_node("Add", ["xw", "w1"], ["t_out"])], [("t_out", F, [1, "N"])])
    else_g = _branch("else", [helper.make_node("Slice", ["x", "zero", "big", "one", "two"], ["xs"]),
                              helper.make_node("Tanh", ["xs"], ["th"]),
                              helper.make_node("Add", ["th", "w1"], ["ta"]),
                              helper.make_node("Sub", ["ta", "k"], ["e_out"])], [("e_out", F, [1, None])],
                     {"k": np.asarray(0.75, np.float32), "zero": np.asarray([0], np.int64),
                      "big": np.asarray([1 << 30], np.int64), "one": np.asarray([1], np.int64),
                      "two": np.asarray([2], np.int64)})
    nodes = [helper.make_node("Equal", ["sr", "k16000"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [1, "N"]), ("sr", I64, [])], [("y", F, [1, None])],
                  {"k16000": np.asarray(16000, np.int64), "w1": np.asarray(0.5, np.float32),
                   "w2": np.asarray(-1.5, np.float32)})


def _length_branch(dim: int | str, then_op: str = "Mul", else_op: str = "Neg") -> onnx.ModelProto:
    """cond = Shape(x)[1] > 512: a run-time If for a symbolic dim, folded (the branch inlined) for a static one."""
    then_g = _branch("then", [helper.make_node(then_op, ["x", "w"], ["t_out"])], [("t_out", F, [1, dim])])
    else_g = _branch("else", [helper.make_node(else_op, ["x"], ["e_out"])], [("e_out", F, [1, dim])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i1"], ["n"]),
             helper.make_node("Greater", ["n", "k512"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [1, dim])], [("y", F, [1, dim])],
                  {"i1": np.asarray([1], np.int64), "k512": np.asarray([512], np.int64),
                   "w": np.asarray(2.0, np.float32)})


def _crop_or_tile() -> onnx.ModelProto:
    """cond = Shape(x)[1] > 512 on a symbolic dim: crop to 512, or tile twice and crop; then scale by weights."""
    then_g = _branch("then", [helper.make_node("Slice", ["x", "zero", "k512", "one"], ["xs"]),
                              helper.make_node("Mul", ["xs", "w"], ["t_out"])], [("t_out", F, [1, 512])])
    else_g = _branch("else", [helper.make_node("Concat", ["x", "x"], ["xx"], axis=1),
                              helper.make_node("Slice", ["xx", "zero", "k512", "one"], ["xs2"]),
                              helper.make_node("Sub", ["xs2", "w"], ["e_out"])], [("e_out", F, [1, 512])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i1"], ["n"], axis=0),
             helper.make_node("Greater", ["n", "k512s"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    rng = np.random.default_rng(3)
    return _model(nodes, [("x", F, [1, "N"])], [("y", F, [1, 512])],
                  {"i1": np.asarray(1, np.int64), "k512s": np.asarray(512, np.int64),
                   "zero": np.asarray([0], np.int64), "k512": np.asarray([512], np.int64),
                   "one": np.asarray([1], np.int64), "w": rng.standard_normal(512).astype(np.float32)})


def _nested_data() -> onnx.ModelProto:
    """Outer cond from Shape (len(x) > 3); the inner cond (sum(x) > 0) is computed inside the then branch."""
    inner_then = _branch("inner_then", [helper.make_node("Mul", ["sq", "w"], ["it"])], [("it", F, ["N"])])
    inner_else = _branch("inner_else", [helper.make_node("Slice", ["sq", "zero", "two"], ["ie"])], [("ie", F, [2])])
    then_g = _branch("then", [helper.make_node("Mul", ["x", "x"], ["sq"]),
                              helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
                              helper.make_node("Greater", ["s", "fzero"], ["c2"]),
                              helper.make_node("If", ["c2"], ["t_out"], then_branch=inner_then,
                                               else_branch=inner_else)], [("t_out", F, [None])])
    else_g = _branch("else", [helper.make_node("Neg", ["x"], ["e_out"])], [("e_out", F, ["N"])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["n"]),
             helper.make_node("Greater", ["n", "k3"], ["c1"]),
             helper.make_node("If", ["c1"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, ["N"])], [("y", F, [None])],
                  {"i0": np.asarray(0, np.int64), "k3": np.asarray(3, np.int64), "fzero": np.asarray(0.0, np.float32),
                   "w": np.asarray(1.5, np.float32), "zero": np.asarray([0], np.int64),
                   "two": np.asarray([2], np.int64)})


def _int_outputs() -> onnx.ModelProto:
    """The branches read the int64 input sr and give an int64 output besides a float one."""
    then_g = _branch("then", [helper.make_node("Div", ["sr", "k100"], ["q"]),
                              helper.make_node("Cast", ["q"], ["qf"], to=F),
                              helper.make_node("Mul", ["x", "qf"], ["t"])], [("t", F, [2, 3]), ("q", I64, [])],
                     {"k100": np.asarray(100, np.int64)})
    else_g = _branch("else", [helper.make_node("Neg", ["sr"], ["q2"]),
                              helper.make_node("Sub", ["x", "w"], ["e"])], [("e", F, [2, 3]), ("q2", I64, [])])
    nodes = [helper.make_node("Equal", ["sr", "k16000"], ["c"]),
             helper.make_node("If", ["c"], ["y", "z"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [2, 3]), ("sr", I64, [])], [("y", F, [2, 3]), ("z", I64, [])],
                  {"k16000": np.asarray(16000, np.int64), "w": np.asarray(0.25, np.float32)})


def _loop_in_branch() -> onnx.ModelProto:
    """The then branch runs a Loop whose trip count is the outer input n (read inside the branch)."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Mul", ["a_in", "w"], ["a_out"])],
        "body", [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
                 helper.make_tensor_value_info("a_in", F, ["N"])],
        [helper.make_tensor_value_info("cond_out", B, []), helper.make_tensor_value_info("a_out", F, ["N"])])
    then_g = _branch("then", [helper.make_node("Loop", ["n", "", "x"], ["t"], body=body)], [("t", F, ["N"])])
    else_g = _branch("else", [helper.make_node("Sin", ["x"], ["e"])], [("e", F, ["N"])])
    nodes = [helper.make_node("Less", ["n", "k5"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, ["N"]), ("n", I64, [])], [("y", F, ["N"])],
                  {"k5": np.asarray(5, np.int64), "w": np.asarray(1.1, np.float32)})


def _in_loop_shape_trips() -> onnx.ModelProto:
    """A Loop over the rows of x (trip count Shape(x)[0], symbolic) whose body branches on the row's sum."""
    then_g = _branch("then", [helper.make_node("Add", ["acc_in", "row"], ["t_out"])], [("t_out", F, [3])])
    else_g = _branch("else", [helper.make_node("Mul", ["row", "w"], ["rw"]),
                              helper.make_node("Sub", ["acc_in", "rw"], ["e_out"])], [("e_out", F, [3])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Gather", ["x", "i"], ["row"], axis=0),
         helper.make_node("ReduceSum", ["row"], ["rs"], keepdims=0),
         helper.make_node("Greater", ["rs", "fzero"], ["pos"]),
         helper.make_node("If", ["pos"], ["acc_out"], then_branch=then_g, else_branch=else_g)],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_value_info("acc_in", F, [3])],
        [helper.make_tensor_value_info("cond_out", B, []), helper.make_tensor_value_info("acc_out", F, [3])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]), helper.make_node("Gather", ["sh", "i0"], ["n"]),
             helper.make_node("Loop", ["n", "", "acc0"], ["y"], body=body)]
    return _model(nodes, [("x", F, ["T", 3])], [("y", F, [3])],
                  {"i0": np.asarray(0, np.int64), "fzero": np.asarray(0.0, np.float32),
                   "w": np.asarray(0.5, np.float32), "acc0": np.zeros(3, np.float32)})


def _rank_guards() -> onnx.ModelProto:
    """Silero-VAD style rank guards inside a run-time branch (cond = sr == 16000).

    The then branch squeezes a batch dim of 1 (``if h.shape[0] == 1``), then unsqueezes when the rank is 1
    (``Size(Shape(.)) == 1``): both inner predicates fold once the branch's shapes are known, and the later
    ops see a known rank.
    """
    squeeze = _branch("sq", [helper.make_node("Squeeze", ["h", "ax0"], ["hs"])], [("hs", F, [3])])
    keep = _branch("keep", [helper.make_node("Identity", ["h"], ["hk"])], [("hk", F, [1, 3])])
    unsq = _branch("unsq", [helper.make_node("Unsqueeze", ["g", "ax0"], ["gu"])], [("gu", F, [1, 3])])
    same = _branch("same", [helper.make_node("Identity", ["g"], ["gi"])], [("gi", F, None)])
    then_g = _branch("then", [
        helper.make_node("Mul", ["x", "w"], ["h"]),
        helper.make_node("Shape", ["h"], ["hsh"]),
        helper.make_node("Gather", ["hsh", "ax0"], ["d0"]),
        helper.make_node("Equal", ["d0", "one"], ["is1"]),
        helper.make_node("If", ["is1"], ["g"], then_branch=squeeze, else_branch=keep),
        helper.make_node("Shape", ["g"], ["gsh"]),
        helper.make_node("Size", ["gsh"], ["rank"]),
        helper.make_node("Equal", ["rank", "one_s"], ["r1"]),
        helper.make_node("If", ["r1"], ["g2"], then_branch=unsq, else_branch=same),
        helper.make_node("Shape", ["g2"], ["g2sh"]),
        helper.make_node("Reshape", ["g2", "g2sh"], ["g3"]),
        helper.make_node("Tanh", ["g3"], ["t_out"])], [("t_out", F, [1, 3])])
    else_g = _branch("else", [helper.make_node("Neg", ["x"], ["e_out"])], [("e_out", F, [1, 3])])
    nodes = [helper.make_node("Equal", ["sr", "k16000"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [1, 3]), ("sr", I64, [])], [("y", F, [1, 3])],
                  {"k16000": np.asarray(16000, np.int64), "w": np.asarray([0.5, -1.0, 2.0], np.float32),
                   "ax0": np.asarray([0], np.int64), "one": np.asarray([1], np.int64),
                   "one_s": np.asarray(1, np.int64)})


def _static_batch_dim() -> onnx.ModelProto:
    """cond = Shape(x)[0] == 1 on x [1, N]: the picked dim is static though N is not, so the If folds."""
    then_g = _branch("then", [helper.make_node("Neg", ["x"], ["t_out"])], [("t_out", F, [1, "N"])])
    else_g = _branch("else", [helper.make_node("Abs", ["x"], ["e_out"])], [("e_out", F, [1, "N"])])
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Gather", ["sh", "i0"], ["d0"]),
             helper.make_node("Equal", ["d0", "one"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    return _model(nodes, [("x", F, [1, "N"])], [("y", F, [1, "N"])],
                  {"i0": np.asarray([0], np.int64), "one": np.asarray([1], np.int64)})


def _feeds(**fixed: object) -> Callable[..., Inputs]:
    """Inputs: the fixed scalars plus random float tensors of the given shapes (``sign`` forces their sign)."""

    def shapes(sign: float = 0.0, **dims: tuple[int, ...]) -> Inputs:
        def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
            out = {k: np.asarray(v) for k, v in fixed.items()}
            for name, shape in dims.items():
                arr = rng.uniform(-2.0, 2.0, size=shape).astype(np.float32)
                out[name] = np.abs(arr) * sign if sign else arr
            return out

        return make

    return shapes


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
    # Run-time predicates computed in the model; every model has a case taking each branch.
    OpCase("If-sample_rate_16k_then", "If", _sample_rate, _feeds(sr=np.int64(16000))(x=(1, 9))),
    OpCase("If-sample_rate_8k_else", "If", _sample_rate, _feeds(sr=np.int64(8000))(x=(1, 9))),
    OpCase("If-shape_predicate_long_then", "If", _crop_or_tile, _feeds()(x=(1, 600))),
    OpCase("If-shape_predicate_short_else", "If", _crop_or_tile, _feeds()(x=(1, 300))),
    # A static dim: the predicate folds and the taken branch is inlined (keyed by its op: no StatelessIf left).
    OpCase("If-shape_predicate_static_then_inlined", "Mul", lambda: _length_branch(600), _feeds()(x=(1, 600))),
    OpCase("If-shape_predicate_static_else_inlined", "Neg", lambda: _length_branch(300), _feeds()(x=(1, 300))),
    OpCase("If-shape_predicate_symbolic_then", "If", lambda: _length_branch("N"), _feeds()(x=(1, 513))),
    OpCase("If-shape_predicate_symbolic_else", "If", lambda: _length_branch("N"), _feeds()(x=(1, 512))),
    OpCase("If-nested_data_then_then", "If", _nested_data, _feeds()(sign=1.0, x=(5,))),
    OpCase("If-nested_data_then_else", "If", _nested_data, _feeds()(sign=-1.0, x=(5,))),
    OpCase("If-nested_data_else", "If", _nested_data, _feeds()(x=(3,))),
    OpCase("If-int64_outputs_then", "If", _int_outputs, _feeds(sr=np.int64(16000))(x=(2, 3))),
    OpCase("If-int64_outputs_else", "If", _int_outputs, _feeds(sr=np.int64(8000))(x=(2, 3))),
    OpCase("If-loop_in_then_branch", "If", _loop_in_branch, _feeds(n=np.int64(3))(x=(4,))),
    OpCase("If-loop_in_then_branch_else", "If", _loop_in_branch, _feeds(n=np.int64(7))(x=(4,))),
    OpCase("If-rank_guards_in_branch_then", "If", _rank_guards, _feeds(sr=np.int64(16000))(x=(1, 3))),
    OpCase("If-rank_guards_in_branch_else", "If", _rank_guards, _feeds(sr=np.int64(8000))(x=(1, 3))),
    # Keyed by Neg: the folded predicate leaves the then branch inlined.
    OpCase("If-static_dim_of_symbolic_shape_inlined", "Neg", _static_batch_dim, _feeds()(x=(1, 7))),
    # Keyed by Loop (the node under test); rows of either sign take both branches within one run.
    OpCase("If-in_loop_shape_trip_count", "Loop", _in_loop_shape_trips, _feeds()(x=(6, 3))),
]
