"""The cleanup pass on hand-built tfjs graphs (structure before/after, same numbers) and on ONNX graphs (parity)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from backends.base import BackendOptions
from backends.tfjs_graph import write_graph
from backends.tfjs_graph.graph import Attr, TfGraph
from backends.tfjs_graph.passes.cleanup import cleanup
from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_parity, trust_test_models

F = {"T": Attr.dtype("DT_FLOAT")}
SHAPE = (2, 3, 4)


def _i32(g: TfGraph, v: list[int] | int, name: str) -> str:
    return g.const(np.array(v, np.int32), name=name)


def _f32(g: TfGraph, v: float, name: str) -> str:
    return g.const(np.array(v, np.float32), name=name)


def _graph(body: Callable[[TfGraph, str], str]) -> Callable[[], TfGraph]:
    def build() -> TfGraph:
        g = TfGraph()
        x = g.placeholder("x", "DT_FLOAT", SHAPE)
        g.output("y", body(g, x), "DT_FLOAT", None)
        return g

    build.__name__ = body.__name__
    return build


def _relu(g: TfGraph, x: str, name: str = "relu") -> str:
    return g.add("Relu", [x], F, name=name)


def identity_chain(g: TfGraph, x: str) -> str:
    return _relu(g, g.add("Identity", [g.add("Identity", [x], F, name="i1")], F, name="i2"))


def reshape_chain(g: TfGraph, x: str) -> str:
    y = g.add("Reshape", [x, _i32(g, [6, 4], "s1")], F, name="r1")
    y = g.add("Reshape", [y, _i32(g, [24], "s2")], F, name="r2")
    return g.add("Reshape", [_relu(g, g.add("Reshape", [y, _i32(g, [4, 6], "s3")], F, name="r3")),
                             _i32(g, [2, 3, 4], "s4")], F, name="back")


def reshape_two_readers(g: TfGraph, x: str) -> str:
    """The inner Reshape has a second reader with another target: it must stay for that reader."""
    inner = g.add("Reshape", [x, _i32(g, [6, 4], "s1")], F, name="inner")
    a = g.add("Reshape", [inner, _i32(g, [2, 3, 4], "s2")], F, name="a")
    b = g.add("Reshape", [_relu(g, inner, "rb"), _i32(g, [2, 3, 4], "s3")], F, name="b")
    return g.add("AddV2", [a, b], F, name="sum")


def identity_transpose(g: TfGraph, x: str) -> str:
    return _relu(g, g.add("Transpose", [x, _i32(g, [0, 1, 2], "perm")], F, name="t"))


def real_transpose(g: TfGraph, x: str) -> str:
    return _relu(g, g.add("Transpose", [x, _i32(g, [0, 2, 1], "perm")], F, name="t"))


def same_cast(g: TfGraph, x: str) -> str:
    cast = {"SrcT": Attr.dtype("DT_FLOAT"), "DstT": Attr.dtype("DT_FLOAT")}
    return _relu(g, g.add("Cast", [x], cast, name="c"))


def neutral_constants(g: TfGraph, x: str) -> str:
    y = g.add("Mul", [x, _f32(g, 1.0, "one")], F, name="m")
    y = g.add("AddV2", [y, _f32(g, 0.0, "zero")], F, name="a")
    return _relu(g, g.add("Sub", [y, _f32(g, 0.0, "zero2")], F, name="s"))


def broadcasting_one(g: TfGraph, x: str) -> str:
    """x * ones(1, 1, 1, 4) broadcasts to rank 4: not a no-op."""
    return _relu(g, g.add("Mul", [x, g.const(np.ones((1, 1, 1, 4), np.float32), name="ones")], F, name="m"))


def scalar_chain(g: TfGraph, x: str) -> str:
    y = g.add("Mul", [x, _f32(g, 2.0, "a")], F, name="m1")
    y = g.add("Mul", [y, _f32(g, 0.25, "b")], F, name="m2")
    y = g.add("AddV2", [y, _f32(g, 1.5, "c")], F, name="a1")
    return g.add("AddV2", [y, _f32(g, -0.5, "d")], F, name="a2")


def scalar_chain_shared(g: TfGraph, x: str) -> str:
    """The inner Mul has two readers: merging would compute it twice."""
    y = g.add("Mul", [x, _f32(g, 2.0, "a")], F, name="m1")
    z = g.add("Mul", [y, _f32(g, 3.0, "b")], F, name="m2")
    return g.add("AddV2", [y, z], F, name="sum")


def squeeze_expand(g: TfGraph, x: str) -> str:
    y = g.add("ExpandDims", [x, _i32(g, 1, "axis")], F, name="e")
    y = g.add("Squeeze", [y], {"squeeze_dims": Attr.ints([1]), **F}, name="s")
    return _relu(g, y)


def squeeze_expand_other_axis(g: TfGraph, x: str) -> str:
    y = g.add("ExpandDims", [x, _i32(g, 1, "axis")], F, name="e")
    y = g.add("Transpose", [y, _i32(g, [0, 2, 1, 3], "perm")], F, name="t")
    y = g.add("Squeeze", [y], {"squeeze_dims": Attr.ints([2]), **F}, name="s")
    return _relu(g, y)


def constant_subgraph(g: TfGraph, x: str) -> str:
    w = g.add("Reshape", [g.const(np.arange(4, dtype=np.float32), name="w"), _i32(g, [1, 1, 4], "s")], F, name="r")
    w = g.add("Mul", [w, _f32(g, 0.5, "half")], F, name="wm")
    return g.add("AddV2", [x, w], F, name="sum")


def split_outputs(g: TfGraph, x: str) -> str:
    """Identity of output 1 of a Split: readers are pointed at ``split:1``, not at ``split``."""
    split = g.add("Split", [_i32(g, 2, "axis"), x], {"num_split": Attr.i(2), **F}, name="split")
    first = g.add("Identity", [split], F, name="first")
    second = g.add("Identity", [f"{split}:1"], F, name="second")
    return g.add("ConcatV2", [second, first, _i32(g, 2, "caxis")], {"N": Attr.i(2), **F}, name="cat")


def output_identity(g: TfGraph, x: str) -> str:
    """The signature Identity stays even when it reads another Identity."""
    return g.add("Identity", [x], F, name="inner")


def _slice(g: TfGraph, x: str, begin: list[int], end: list[int], end_mask: int, name: str) -> str:
    attrs = {"begin_mask": Attr.i(3), "end_mask": Attr.i(end_mask), "ellipsis_mask": Attr.i(0),
             "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0), **F}
    ins = [x, _i32(g, begin, f"{name}/b"), _i32(g, end, f"{name}/e"), _i32(g, [1, 1, 1], f"{name}/s")]
    return g.add("StridedSlice", ins, attrs, name=name)


def _halves(g: TfGraph, a: str, b: str) -> str:
    """relu(b) ++ a along the last axis: the halves are read in another order than they were cut."""
    return g.add("ConcatV2", [_relu(g, b), a, _i32(g, 2, "caxis")], {"N": Attr.i(2), **F}, name="cat")


def sibling_slices_to_end(g: TfGraph, x: str) -> str:
    return _halves(g, _slice(g, x, [0, 0, 0], [0, 0, 1], 3, "lo"), _slice(g, x, [0, 0, 1], [0, 0, 0], 7, "hi"))


def sibling_slices_known_size(g: TfGraph, x: str) -> str:
    """The last slice ends at the axis size, known from the Reshape that made the tensor."""
    y = g.add("Reshape", [_relu(g, x, "pre"), _i32(g, [2, 3, 4], "shape")], F, name="r")
    return _halves(g, _slice(g, y, [0, 0, 0], [0, 0, 3], 3, "lo"), _slice(g, y, [0, 0, 3], [0, 0, 4], 3, "hi"))


def sibling_slices_gap(g: TfGraph, x: str) -> str:
    """[0, 1) and [2, end): channel 1 is read by neither, so no split covers them."""
    return _halves(g, _slice(g, x, [0, 0, 0], [0, 0, 1], 3, "lo"), _slice(g, x, [0, 0, 2], [0, 0, 0], 7, "hi"))


def _mask(g: TfGraph, x: str, true_shape: tuple[int, ...], indices: np.ndarray, causal: bool = False) -> str:
    """The HF attention-mask chain: x > 0 as a [1, 4] row, gathered, and-ed with ones, broadcast, selected."""
    b = {"T": Attr.dtype("DT_BOOL")}
    m = g.add("Greater", [x, _f32(g, 0.0, "zero")], F, name="gt")
    m = g.add("Reshape", [m, _i32(g, [24, 1], "flat")], b, name="flat")
    m = g.add("GatherV2", [m, g.const(indices.astype(np.int32), name="idx"), _i32(g, 0, "gaxis")],
              {"batch_dims": Attr.i(0), **b}, name="gather")
    m = g.add("Reshape", [m, _i32(g, [1, 1, 24], "row")], b, name="row")
    ones = np.tril(np.ones(true_shape, np.bool_)) if causal else np.ones(true_shape, np.bool_)
    m = g.add("LogicalAnd", [g.const(ones, name="ones"), m], {}, name="and")
    m = g.add("BroadcastTo", [m, _i32(g, [1, 24, 24], "full")], {**b, "Tidx": Attr.dtype("DT_INT32")}, name="expand")
    sel = g.add("SelectV2", [m, _f32(g, 0.0, "keep"), _f32(g, -1e9, "drop")], F, name="where")
    return g.add("AddV2", [g.add("Reshape", [x, _i32(g, [1, 1, 24], "xr")], F, name="xr"), sel], F, name="scores")


def mask_chain(g: TfGraph, x: str) -> str:
    return _mask(g, x, (1, 24, 1), np.arange(24).reshape(1, 1, 24))


def mask_chain_permuted(g: TfGraph, x: str) -> str:
    """Indices that reorder the rows: the Gather stays."""
    return _mask(g, x, (1, 24, 1), np.arange(24)[::-1].reshape(1, 1, 24))


def mask_chain_causal(g: TfGraph, x: str) -> str:
    """A constant with false entries (a causal mask) computes something: the LogicalAnd stays."""
    return _mask(g, x, (1, 24, 24), np.arange(24).reshape(1, 1, 24), causal=True)


# (graph, op counts expected after the pass (non-Const, non-Placeholder))
CASES: list[tuple[Callable[[], TfGraph], dict[str, int]]] = [
    (_graph(identity_chain), {"Identity": 1, "Relu": 1}),
    (_graph(reshape_chain), {"Reshape": 2, "Relu": 1}),
    (_graph(reshape_two_readers), {"Reshape": 3, "Relu": 1}),
    (_graph(identity_transpose), {"Transpose": 0}),
    (_graph(real_transpose), {"Transpose": 1}),
    (_graph(same_cast), {"Cast": 0}),
    (_graph(neutral_constants), {"Mul": 0, "AddV2": 0, "Sub": 0, "Relu": 1}),
    (_graph(broadcasting_one), {"Mul": 1}),
    (_graph(scalar_chain), {"Mul": 1, "AddV2": 1}),
    (_graph(scalar_chain_shared), {"Mul": 2, "AddV2": 1}),
    (_graph(squeeze_expand), {"ExpandDims": 0, "Squeeze": 0}),
    (_graph(squeeze_expand_other_axis), {"ExpandDims": 1, "Squeeze": 1}),
    (_graph(constant_subgraph), {"Reshape": 0, "Mul": 0, "AddV2": 1}),
    (_graph(split_outputs), {"Identity": 1, "Split": 1, "ConcatV2": 1}),
    (_graph(output_identity), {"Identity": 1}),
    (_graph(sibling_slices_to_end), {"StridedSlice": 0, "SplitV": 1}),
    (_graph(sibling_slices_known_size), {"StridedSlice": 0, "SplitV": 1}),
    (_graph(sibling_slices_gap), {"StridedSlice": 2, "SplitV": 0}),
    (_graph(mask_chain), {"GatherV2": 0, "LogicalAnd": 0, "BroadcastTo": 1, "SelectV2": 1, "Reshape": 2}),
    (_graph(mask_chain_permuted), {"GatherV2": 1, "LogicalAnd": 0}),
    (_graph(mask_chain_causal), {"GatherV2": 0, "LogicalAnd": 1, "BroadcastTo": 1}),
]


def _ops(g: TfGraph) -> Counter[str]:
    return Counter(n.op for n in g.nodes if n.op not in ("Const", "Placeholder"))


@pytest.mark.parametrize(("build", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_structure(build: Callable[[], TfGraph], expected: dict[str, int]) -> None:
    g = build()
    cleanup(g)
    ops = _ops(g)
    for op, count in expected.items():
        assert ops.get(op, 0) == count, f"{op}: {ops.get(op, 0)} != {count} in {dict(ops)}"
    assert [e.tensor for e in g.outputs] == ["y"]  # the signature Identity keeps its name
    names = {n.name for n in g.nodes}
    assert all(r.lstrip("^").split(":")[0] in names for n in g.nodes for r in n.inputs)
    if "SelectV2" in ops and ops.get("LogicalAnd", 0) == 0:  # selected before the broadcast, on the [1, 1, 24] row
        select = next(n for n in g.nodes if n.op == "SelectV2")
        assert next(n for n in g.nodes if n.name == select.inputs[0]).op != "BroadcastTo"
    order = {n.name: k for k, n in enumerate(g.nodes)}
    assert all(order[r.split(":")[0]] < order[n.name] for n in g.nodes for r in n.inputs)  # still topological


@pytest.mark.needs_node
@pytest.mark.parametrize("build", [c[0] for c in CASES], ids=[c[0].__name__ for c in CASES])
def test_same_numbers_in_tfjs(build: Callable[[], TfGraph], tmp_path: Path, tfjs: TfjsRuntime) -> None:
    before = build()
    after = copy.deepcopy(before)
    cleanup(after)
    x = np.random.default_rng(0).normal(size=SHAPE).astype(np.float32)
    results = []
    for label, graph in (("before", before), ("after", after)):
        (tmp_path / label).mkdir()
        write_graph(graph, tmp_path / label, BackendOptions())
        results.append(tfjs.run(tmp_path / label / "model.json", {"x": x}, backend="wasm")["y"])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-6)


def _onnx(nodes: list[onnx.NodeProto], inits: dict[str, np.ndarray], out_shape: list[int] | None) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "cleanup", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _i64(*v: int) -> np.ndarray:
    return np.array(v, np.int64)


ONNX_CASES = {
    "reshape_chain": _onnx([helper.make_node("Reshape", ["x", "s1"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
                            helper.make_node("Reshape", ["b", "s2"], ["c"]),
                            helper.make_node("Reshape", ["c", "s3"], ["y"])],
                           {"s1": _i64(6, 4), "s2": _i64(24), "s3": _i64(4, 6)}, [4, 6]),
    "unsqueeze_squeeze": _onnx([helper.make_node("Unsqueeze", ["x", "ax"], ["a"]),
                                helper.make_node("Relu", ["a"], ["b"]),
                                helper.make_node("Squeeze", ["b", "ax"], ["y"])], {"ax": _i64(1)}, [2, 3, 4]),
    "scalar_mul_add": _onnx([helper.make_node("Mul", ["x", "a"], ["m"]), helper.make_node("Mul", ["m", "b"], ["n"]),
                             helper.make_node("Add", ["n", "c"], ["p"]), helper.make_node("Add", ["p", "d"], ["y"])],
                            {"a": np.array(3.0, np.float32), "b": np.array(0.1, np.float32),
                             "c": np.array(2.0, np.float32), "d": np.array(-7.0, np.float32)}, [2, 3, 4]),
    "channel_halves": _onnx([helper.make_node("Slice", ["x", "b0", "e0", "ax"], ["lo"]),
                             helper.make_node("Slice", ["x", "b1", "e1", "ax"], ["hi"]),
                             helper.make_node("Relu", ["hi"], ["r"]),
                             helper.make_node("Concat", ["r", "lo"], ["y"], axis=2)],
                            {"b0": _i64(0), "e0": _i64(2), "b1": _i64(2), "e1": _i64(4), "ax": _i64(2)}, [2, 3, 4]),
    "identity_mul_one": _onnx([helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Mul", ["a", "one"], ["b"]),
                               helper.make_node("Relu", ["b"], ["y"])], {"one": np.array(1.0, np.float32)}, [2, 3, 4]),
}


@pytest.mark.needs_node
@pytest.mark.parametrize("name", sorted(ONNX_CASES))
def test_onnx_parity(name: str, tmp_path: Path, tfjs: TfjsRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    check_parity(ONNX_CASES[name], {"x": x}, tmp_path, tfjs, tol=1e-4)
