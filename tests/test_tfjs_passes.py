"""Layout and fusion passes on hand-built tfjs graphs: structure before/after, same numbers in tfjs."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backends.base import BackendOptions
from backends.tfjs_graph import write_graph
from backends.tfjs_graph.graph import Attr, TfGraph
from backends.tfjs_graph.passes import default_pipeline
from backends.tfjs_graph.passes.layout import compose, inverse
from backends.tfjs_runtime import TfjsRuntime

F = {"T": Attr.dtype("DT_FLOAT")}
NHWC = [0, 2, 3, 1]
NCHW = [0, 3, 1, 2]


def _t(g: TfGraph, x: str, perm: list[int], name: str) -> str:
    return g.add("Transpose", [x, g.const(np.array(perm, np.int32), name=f"{name}/perm")], name=name)


def _pool(g: TfGraph, x: str, name: str) -> str:
    """A channels-last op the layout pass must feed in NHWC."""
    attrs = {"ksize": Attr.ints([1, 1, 2, 1]), "strides": Attr.ints([1, 1, 1, 1]), "padding": Attr.s("VALID"),
             "data_format": Attr.s("NHWC"), **F}
    return g.add("AvgPool", [x], attrs, name=name)


def _nchw_pool(g: TfGraph, x: str, name: str) -> str:
    return _t(g, _pool(g, _t(g, x, NHWC, f"{name}/in"), name), NCHW, f"{name}/out")


def chain_relu_scale_sum() -> TfGraph:
    g = TfGraph()
    x = g.placeholder("x", "DT_FLOAT", (2, 3, 4, 5))
    y = g.add("Relu", [_nchw_pool(g, x, "p1")], F, name="relu")
    y = g.add("Mul", [y, g.const(np.arange(1, 4, dtype=np.float32).reshape(3, 1, 1), name="scale")], F, name="mul")
    y = _nchw_pool(g, y, "p2")
    y = g.add("Sum", [y, g.const(np.array([2, 3], np.int32), name="axes")], {"keep_dims": Attr.b(True), **F},
              name="sum")
    y = g.add("Reshape", [y, g.const(np.array([2, 3], np.int32), name="shape")], F, name="flat")
    g.shapes["sum"] = (2, 3, 1, 1)
    g.output("y", y, "DT_FLOAT", (2, 3))
    return g


def concat_pad_slice() -> TfGraph:
    g = TfGraph()
    x = g.placeholder("x", "DT_FLOAT", (2, 3, 6, 5))
    a = _nchw_pool(g, x, "a")
    b = g.add("Neg", [a], F, name="neg")
    c = g.add("ConcatV2", [a, b, g.const(np.array(1, np.int32), name="axis")], F, name="cat")
    pads = np.array([[0, 0], [0, 0], [1, 2], [0, 1]], np.int32)
    p = g.add("Pad", [c, g.const(pads, name="pads")], F, name="pad")
    s = g.add("Slice", [p, g.const(np.array([0, 1, 0, 1], np.int32), name="begin"),
                        g.const(np.array([-1, 4, 5, -1], np.int32), name="size")], F, name="slice")
    s = _nchw_pool(g, s, "c")
    g.output("y", s, "DT_FLOAT", None)
    return g


def conv1d_squeeze_expand() -> TfGraph:
    g = TfGraph()
    x = g.placeholder("x", "DT_FLOAT", (2, 3, 7))
    h = x
    for i in range(2):
        e = g.add("ExpandDims", [h, g.const(np.array(2, np.int32), name=f"e{i}/axis")], F, name=f"e{i}")
        p = _nchw_pool(g, e, f"pool{i}")
        h = g.add("Squeeze", [p], {"squeeze_dims": Attr.ints([2]), **F}, name=f"sq{i}")
        h = g.add("Relu", [h], F, name=f"relu{i}")
    g.output("y", h, "DT_FLOAT", None)
    return g


def conv_bias_relu_and_matmul() -> TfGraph:
    g = TfGraph()
    rng = np.random.default_rng(1)
    x = g.placeholder("x", "DT_FLOAT", (1, 5, 5, 2))
    w = g.const(rng.normal(size=(3, 3, 2, 4)).astype(np.float32), name="w")
    conv_attrs = {"strides": Attr.ints([1, 1, 1, 1]), "padding": Attr.s("SAME"), "data_format": Attr.s("NHWC"),
                  "dilations": Attr.ints([1, 1, 1, 1]), **F}
    y = g.add("Conv2D", [x, w], conv_attrs, name="conv")
    y = g.add("BiasAdd", [y, g.const(rng.normal(size=4).astype(np.float32), name="b")], F, name="bias")
    y = g.add("Relu", [y], F, name="relu")
    y = g.add("Reshape", [y, g.const(np.array([1, 100], np.int32), name="shape")], F, name="flat")
    m = g.add("MatMul", [y, g.const(rng.normal(size=(100, 3)).astype(np.float32), name="fc")],
              {"transpose_a": Attr.b(False), "transpose_b": Attr.b(False), **F}, name="fc")
    m = g.add("AddV2", [m, g.const(rng.normal(size=(1, 3)).astype(np.float32), name="fc_b")], F, name="fc_add")
    m = g.add("LeakyRelu", [m], {"alpha": Attr.f(0.1), **F}, name="leaky")
    g.output("y", m, "DT_FLOAT", (1, 3))
    return g


def pads_into_convs() -> TfGraph:
    """Zero pads fold into a VALID conv and an EXPLICIT depthwise conv; a non-zero pad stays."""
    g = TfGraph()
    rng = np.random.default_rng(2)
    x = g.placeholder("x", "DT_FLOAT", (1, 6, 7, 2))

    def pad(src: str, pads: list[list[int]], value: float, name: str) -> str:
        return g.add("PadV2", [src, g.const(np.array(pads, np.int32), name=f"{name}/p"),
                               g.const(np.array(value, np.float32), name=f"{name}/v")], F, name=name)

    conv = {"strides": Attr.ints([1, 1, 1, 1]), "padding": Attr.s("VALID"), "data_format": Attr.s("NHWC"),
            "dilations": Attr.ints([1, 1, 1, 1]), "explicit_paddings": Attr.ints([]), **F}
    y = g.add("Conv2D", [pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.0, "pad1"),
                         g.const(rng.normal(size=(3, 3, 2, 3)).astype(np.float32), name="w1")], conv, name="c1")
    y = g.add("Relu", [y], F, name="r1")
    dw = {**conv, "strides": Attr.ints([1, 2, 2, 1]), "padding": Attr.s("EXPLICIT"),
          "explicit_paddings": Attr.ints([0, 0, 1, 0, 0, 1, 0, 0])}
    y = g.add("DepthwiseConv2dNative", [pad(y, [[0, 0], [0, 1], [1, 1], [0, 0]], 0.0, "pad2"),
                                        g.const(rng.normal(size=(3, 3, 3, 1)).astype(np.float32), name="w2")],
              dw, name="c2")
    y = g.add("Conv2D", [pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]], 0.5, "pad3"),
                         g.const(rng.normal(size=(1, 1, 3, 2)).astype(np.float32), name="w3")], conv, name="c3")
    g.output("y", y, "DT_FLOAT", None)
    return g


CASES: list[tuple[Callable[[], TfGraph], dict[str, int], tuple[int, ...]]] = [
    (chain_relu_scale_sum, {"Transpose": 1}, (2, 3, 4, 5)),
    (concat_pad_slice, {"Transpose": 2}, (2, 3, 6, 5)),
    (conv1d_squeeze_expand, {"Transpose": 2}, (2, 3, 7)),
    (conv_bias_relu_and_matmul, {"Transpose": 0, "_FusedConv2D": 1, "_FusedMatMul": 1}, (1, 5, 5, 2)),
    (pads_into_convs, {"PadV2": 1, "_FusedConv2D": 1, "DepthwiseConv2dNative": 1, "Conv2D": 1}, (1, 6, 7, 2)),
]


def test_compose_and_inverse() -> None:
    perm = (0, 2, 3, 1)
    assert compose(perm, inverse(perm)) == (0, 1, 2, 3)
    a = np.arange(24).reshape(1, 2, 3, 4)
    assert np.array_equal(a.transpose(perm).transpose(NCHW), a.transpose(compose(perm, tuple(NCHW))))


@pytest.mark.needs_node
@pytest.mark.parametrize(("build", "expected", "shape"), CASES, ids=[c[0].__name__ for c in CASES])
def test_pass_keeps_numbers(build: Callable[[], TfGraph], expected: dict[str, int], shape: tuple[int, ...],
                            tmp_path: Path, tfjs: TfjsRuntime) -> None:
    before = build()
    after = copy.deepcopy(before)
    default_pipeline()(after)
    ops = Counter(n.op for n in after.nodes)
    for op, count in expected.items():
        assert ops.get(op, 0) == count, f"{op}: {ops.get(op, 0)} != {count} in {dict(ops)}"
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    results = []
    for label, graph in (("before", before), ("after", after)):
        (tmp_path / label).mkdir()
        write_graph(graph, tmp_path / label, BackendOptions())
        results.append(tfjs.run(tmp_path / label / "model.json", {"x": x}, backend="wasm")["y"])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-5)
