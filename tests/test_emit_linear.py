"""Linears on N-D activations: 2-D MatMuls between reshapes that cancel, bias and activation fused; split batches.

Each case is a small ONNX graph; the test checks the written graph's structure (which ops, how many reshapes) and
the values in tfjs cpu and wasm against onnxruntime at 1e-4. Why: tfjs wasm runs a rank-2 MatMul through XNNPACK
and any batched one (batch > 1, or a transposed operand) through a naive loop ~7-20x slower; and only a rank-2
MatMul fuses its bias and activation (emitters/matmul.py ``linear`` / ``split_batches``, passes/linear.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_parity_feeds, trust_test_models

Dims = Sequence[int | str]
RNG = np.random.default_rng(7)
BATCHED = "BatchMatMulV2"


@pytest.fixture(autouse=True)
def _own_models(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)


def _w(*shape: int) -> np.ndarray:
    return RNG.uniform(-0.5, 0.5, size=shape).astype(np.float32)


@dataclass
class Net:
    """An ONNX graph under construction: float inputs, initializers, nodes."""

    inputs: dict[str, Dims]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: dict[str, np.ndarray] = field(default_factory=dict)

    def op(self, op: str, *ins: str | np.ndarray, **attrs: Any) -> str:
        names = []
        for x in ins:
            if isinstance(x, np.ndarray):
                name = f"c{len(self.inits)}"
                self.inits[name] = x
                names.append(name)
            else:
                names.append(x)
        out = f"t{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, names, [out], **attrs))
        return out

    def linear(self, x: str, k: int, n: int, bias: bool = True) -> str:
        y = self.op("MatMul", x, _w(k, n))
        return self.op("Add", y, _w(n)) if bias else y

    def gelu(self, x: str) -> str:
        """The erf GELU as PyTorch exports it."""
        e = self.op("Erf", self.op("Div", x, np.array(1.4142135, np.float32)))
        return self.op("Mul", self.op("Mul", x, self.op("Add", e, np.array(1.0, np.float32))),
                       np.array(0.5, np.float32))

    def model(self, *outputs: str) -> onnx.ModelProto:
        ins = [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v)) for k, v in self.inputs.items()]
        outs = [onnx.ValueInfoProto(name=o) for o in outputs]
        graph = helper.make_graph(self.nodes, "linear", ins, outs,
                                  [onnx.numpy_helper.from_array(v, k) for k, v in self.inits.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        return onnx.shape_inference.infer_shapes(model, strict_mode=True)


@dataclass(frozen=True)
class Case:
    id: str
    model: onnx.ModelProto
    feeds: list[dict[str, np.ndarray]]
    expect: dict[str, int]  # op -> exact count in the written graph


def _feeds(shapes: dict[str, Dims]) -> dict[str, np.ndarray]:
    return {k: RNG.uniform(-2, 2, size=[int(d) for d in v]).astype(np.float32) for k, v in shapes.items()}


def mlp(shape: Dims, act: str, feed_shapes: Sequence[Sequence[int]] | None = None) -> Case:
    """Linear -> activation -> Linear, the transformer / ConvNeXt MLP."""
    net = Net({"x": shape})
    h = net.linear("x", 8, 16)
    h = net.gelu(h) if act == "Gelu" else net.op(act, h)
    y = net.linear(h, 16, 8)
    fused_act = act in ("Relu", "Sigmoid")
    feeds = [_feeds({"x": s}) for s in (feed_shapes or [shape])]  # type: ignore[list-item]
    expect = {BATCHED: 0, "_FusedMatMul": 2, "MatMul": 0, "Reshape": 2, act: 0 if fused_act else 1}
    if act == "Gelu":
        expect = {BATCHED: 0, "_FusedMatMul": 2, "Reshape": 2}
    return Case(f"mlp_{len(shape)}d_{act}" + ("_dynamic" if feed_shapes else ""), net.model(y), feeds, expect)


def single(shape: Dims, act: str | None, bias_shape: tuple[int, ...] = (6,)) -> Case:
    net = Net({"x": shape})
    y = net.op("Add", net.op("MatMul", "x", _w(8, 6)), _w(*bias_shape))
    if act:
        y = net.op(act, y)
    fused = len(bias_shape) > 0 and all(d == 1 for d in bias_shape[:-1])
    tag = "x".join(map(str, bias_shape))
    expect = {BATCHED: 0, "_FusedMatMul": 1 if fused else 0, "Reshape": 2}
    return Case(f"single_{len(shape)}d_{act}_bias{tag}", net.model(y), [_feeds({"x": shape})], expect)


def gemm_alpha() -> Case:
    """Gemm with alpha and a transposed constant weight: alpha goes into the weight so the bias still fuses."""
    net = Net({"a": (3, 8)})
    y = net.op("Relu", net.op("Gemm", "a", _w(6, 8), _w(6), alpha=0.5, beta=2.0, transB=1))
    return Case("gemm_alpha_relu", net.model(y), [_feeds({"a": (3, 8)})],
                {"_FusedMatMul": 1, "MatMul": 0, "Mul": 0, "Relu": 0})


def gemm_transposed() -> Case:
    """Gemm of two activations, both transposed: explicit Transposes, then a plain (fusable, XNNPACK) MatMul."""
    net = Net({"a": (8, 3), "b": (6, 8)})
    y = net.op("Relu", net.op("Gemm", "a", "b", _w(6), transA=1, transB=1))
    return Case("gemm_transposed", net.model(y), [_feeds({"a": (8, 3), "b": (6, 8)})],
                {"_FusedMatMul": 1, "MatMul": 0, "Transpose": 2, "Relu": 0})


def weight_left(batch: int) -> Case:
    """ONNX MatMul(W, X): with a batch of 1 a 2-D product; with a real batch it stays batched (small sizes)."""
    net = Net({"x": (batch, 8, 5)})
    y = net.op("MatMul", _w(6, 8), "x")
    expect = {BATCHED: 0, "MatMul": 1} if batch == 1 else {BATCHED: 1}
    return Case(f"weight_left_batch{batch}", net.model(y), [_feeds({"x": (batch, 8, 5)})], expect)


def attention(heads: int, size: int) -> Case:
    """Two activations (scores = q @ k): one depthwise conv when big enough, else one batched product."""
    shape = (1, heads, size, size)
    net = Net({"q": shape, "k": shape})
    y = net.op("MatMul", "q", net.op("Relu", "k"))
    split = size >= 64
    # One depthwise conv computes all the products (tests/test_emit_attention.py has the other forms).
    expect = {BATCHED: 0, "DepthwiseConv2dNative": 1, "Unpack": 0} if split else {BATCHED: 1}
    return Case(f"attention_{heads}x{size}", net.model(y), [_feeds({"q": shape, "k": shape})], expect)


def output_and_reuse() -> list[Case]:
    """The product is a graph output, or read twice: values right, no bias fused into a shared product."""
    net = Net({"x": (2, 3, 8)})
    y = net.op("MatMul", "x", _w(8, 6))
    z = net.op("Relu", net.op("Add", y, _w(6)))
    as_output = Case("product_is_output", net.model(y, z), [_feeds({"x": (2, 3, 8)})],
                     {BATCHED: 0, "_FusedMatMul": 0, "MatMul": 1})
    net = Net({"x": (2, 3, 8)})
    y = net.op("MatMul", "x", _w(8, 6))
    z = net.op("Mul", net.op("Relu", net.op("Add", y, _w(6))), y)
    reused = Case("product_read_twice", net.model(z), [_feeds({"x": (2, 3, 8)})],
                  {BATCHED: 0, "_FusedMatMul": 0, "MatMul": 1, "Reshape": 2})
    return [as_output, reused]


def gate() -> Case:
    """Two linears on one input multiplied (a GLU / SwiGLU gate), then a third: everything stays 2-D."""
    net = Net({"x": (1, 4, 4, 8)})
    a = net.linear("x", 8, 16)
    b = net.op("Sigmoid", net.linear("x", 8, 16))
    y = net.linear(net.op("Mul", a, b), 16, 8)
    return Case("gate", net.model(y), [_feeds({"x": (1, 4, 4, 8)})],
                {BATCHED: 0, "_FusedMatMul": 3, "Reshape": 3, "Mul": 1})


def heads_split() -> Case:
    """Linear + bias, then the attention head split reshape: the reshape reads the 2-D product directly."""
    net = Net({"x": (1, 6, 8)})
    y = net.linear("x", 8, 12)
    y = net.op("Transpose", net.op("Reshape", y, np.array([1, 6, 3, 4], np.int64)), perm=[0, 2, 1, 3])
    return Case("heads_split", net.model(y), [_feeds({"x": (1, 6, 8)})],
                {BATCHED: 0, "_FusedMatMul": 1, "Reshape": 2})


def residual() -> Case:
    """A residual add of the N-D input: the chain goes back to N-D only there."""
    net = Net({"x": (1, 5, 5, 8)})
    h = net.op("Relu", net.linear("x", 8, 16))
    y = net.op("Add", "x", net.op("Mul", net.linear(h, 16, 8), _w(8)))
    return Case("residual", net.model(y), [_feeds({"x": (1, 5, 5, 8)})],
                {BATCHED: 0, "_FusedMatMul": 2, "Reshape": 2, "Relu": 0})


CASES: list[Case] = [
    mlp((2, 5, 8), "Relu"),
    mlp((1, 4, 4, 8), "Gelu"),
    mlp((1, 3, 3, 8), "Sigmoid"),
    mlp(("N", "T", 8), "Relu", [(2, 3, 8), (1, 5, 8)]),
    mlp(("N", 5, 8), "Gelu", [(2, 5, 8), (3, 5, 8)]),
    single((2, 5, 8), "Relu"),
    single((1, 3, 3, 8), "Sigmoid", (1, 1, 6)),
    single((2, 5, 8), None, (5, 1)),
    single((2, 5, 8), "Tanh", ()),
    gemm_alpha(),
    gemm_transposed(),
    weight_left(1),
    weight_left(3),
    attention(2, 64),
    attention(2, 8),
    *output_and_reuse(),
    gate(),
    heads_split(),
    residual(),
]


def _ops(model_json: Path) -> Counter[str]:
    return Counter(n["op"] for n in json.loads(model_json.read_text())["modelTopology"]["node"])


@pytest.mark.needs_node
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_linear_emission(case: Case, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    check_parity_feeds(case.model, case.feeds, tmp_path, tfjs)
    ops = _ops(tmp_path / "tfjs" / "model.json")
    wrong = {op: (ops.get(op, 0), n) for op, n in case.expect.items() if ops.get(op, 0) != n}
    assert not wrong, f"(got, expected) {wrong} in {dict(ops)}"
