"""Transformer patterns (LayerNorm, GELU, SiLU, HardSwish, attention): the tfjs ops emitted for each, and parity."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper

from backends.tfjs_runtime import TfjsRuntime
from pivot import ir as pir
from pivot.passes import optimize
from tests.parity import check_parity, ort_run, trust_test_models

_IGNORED = {"Const", "Placeholder", "Identity"}
F = TensorProto.FLOAT
# The erf of scaled_erf: clip, square, numerator (6 Mul + 6 AddV2), times x, denominator (4 + 4), divide.
_ERF = Counter({"ClipByValue": 1, "Square": 1, "Mul": 11, "AddV2": 10, "RealDiv": 1})
_GELU_ERF = Counter({"Square": 1, "Mul": 6, "AddV2": 4, "Sigmoid": 1})  # x sigmoid(x P(x^2)), P of degree 4
_GELU_TANH = Counter({"Square": 1, "Mul": 3, "AddV2": 1, "Sigmoid": 1})  # x sigmoid(x (a + b x^2))
_LAYER_NORM = Counter({"Mean": 2, "Sub": 1, "Square": 1, "AddV2": 2, "Rsqrt": 1, "Mul": 2})


@dataclass(frozen=True)
class Pattern:
    """An ONNX graph of one pattern over input ``x`` (and ``more`` inputs) and the tfjs ops it must become."""

    id: str
    nodes: Callable[[], list[onnx.NodeProto]]
    ops: Counter[str]  # every non-constant op of the written model, with its count
    shape: tuple[int, ...] = (2, 7, 16)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    more: dict[str, tuple[int, ...]] = field(default_factory=dict)
    outputs: tuple[str, ...] = ("y",)
    opset: int = 17
    scale: float = 3.0  # inputs ~ N(0, scale): GELU's and erf's tails and clamps are reached


def _n(op: str, inputs: list[str], outputs: list[str] | str, **attrs: object) -> onnx.NodeProto:
    return helper.make_node(op, inputs, [outputs] if isinstance(outputs, str) else outputs, **attrs)


def _f(v: float | list[float]) -> np.ndarray:
    return np.asarray(v, np.float32)


_GAMMA_BETA = {"gamma": np.linspace(0.5, 1.5, 16, dtype=np.float32), "beta": np.linspace(-1, 1, 16, dtype=np.float32)}


def _decomposed_layer_norm() -> list[onnx.NodeProto]:
    return [_n("ReduceMean", ["x"], "mu", axes=[-1]), _n("Sub", ["x", "mu"], "d"), _n("Pow", ["d", "two"], "d2"),
            _n("ReduceMean", ["d2"], "var", axes=[-1]), _n("Add", ["var", "eps"], "ve"), _n("Sqrt", ["ve"], "sd"),
            _n("Div", ["d", "sd"], "n"), _n("Mul", ["n", "gamma"], "s"), _n("Add", ["s", "beta"], "y")]


def _torch_gelu_erf() -> list[onnx.NodeProto]:
    return [_n("Div", ["x", "sqrt2"], "u"), _n("Erf", ["u"], "e"), _n("Add", ["e", "one"], "a"),
            _n("Mul", ["x", "a"], "m"), _n("Mul", ["m", "half"], "y")]


def _other_gelu_erf() -> list[onnx.NodeProto]:
    return [_n("Mul", ["x", "rsqrt2"], "u"), _n("Erf", ["u"], "e"), _n("Add", ["one", "e"], "a"),
            _n("Mul", ["half", "x"], "h"), _n("Mul", ["a", "h"], "y")]


def _hf_new_gelu() -> list[onnx.NodeProto]:
    """HF NewGELUActivation: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    return [_n("Mul", ["half", "x"], "h"), _n("Pow", ["x", "three"], "p"), _n("Mul", ["k", "p"], "q"),
            _n("Add", ["x", "q"], "r"), _n("Mul", ["s2p", "r"], "s"), _n("Tanh", ["s"], "t"),
            _n("Add", ["one", "t"], "u"), _n("Mul", ["h", "u"], "y")]


def _torch_gelu_tanh() -> list[onnx.NodeProto]:
    """torch's export of nn.GELU(approximate='tanh') below opset 20."""
    return [_n("Mul", ["x", "x"], "xx"), _n("Mul", ["x", "xx"], "p"), _n("Mul", ["k", "p"], "q"),
            _n("Add", ["x", "q"], "r"), _n("Mul", ["s2p", "r"], "s"), _n("Tanh", ["s"], "t"),
            _n("Add", ["one", "t"], "u"), _n("Mul", ["x", "u"], "m"), _n("Mul", ["half", "m"], "y")]


def _attention() -> list[onnx.NodeProto]:
    """HF eager attention: softmax(Q K^T / sqrt(d) + mask) V over [1, heads, seq, d]."""
    return [_n("Transpose", ["k"], "kt", perm=[0, 1, 3, 2]), _n("MatMul", ["x", "kt"], "qk"),
            _n("Div", ["qk", "scale"], "sc"), _n("Add", ["sc", "mask"], "am"), _n("Softmax", ["am"], "p", axis=-1),
            _n("MatMul", ["p", "v"], "y")]


_GELU_CONSTS = {"sqrt2": _f(math.sqrt(2.0)), "rsqrt2": _f(math.sqrt(0.5)), "one": _f(1.0), "half": _f(0.5),
                "three": _f(3.0), "k": _f(0.044715), "s2p": _f(math.sqrt(2.0 / math.pi))}
_ATTENTION_OPS = Counter({"Softmax": 1, "AddV2": 1})

PATTERNS = [
    Pattern("LayerNormalization", lambda: [_n("LayerNormalization", ["x", "gamma", "beta"], "y", epsilon=1e-5)],
            _LAYER_NORM, consts=_GAMMA_BETA),
    Pattern("LayerNormalization-no-bias", lambda: [_n("LayerNormalization", ["x", "gamma"], "y", axis=-1)],
            _LAYER_NORM - Counter({"AddV2": 1}), consts={"gamma": _GAMMA_BETA["gamma"]}),
    # Pow(d, 2) becomes Square, so the decomposed form costs what the fused op costs (Sqrt + RealDiv for Rsqrt + Mul).
    Pattern("LayerNorm-decomposed", _decomposed_layer_norm,
            Counter({"Mean": 2, "Sub": 1, "Square": 1, "AddV2": 2, "Sqrt": 1, "RealDiv": 1, "Mul": 1}),
            consts={**_GAMMA_BETA, "two": _f(2.0), "eps": _f(1e-5)}),
    Pattern("Gelu", lambda: [_n("Gelu", ["x"], "y")], _GELU_ERF, opset=20),
    Pattern("Gelu-tanh", lambda: [_n("Gelu", ["x"], "y", approximate="tanh")], _GELU_TANH, opset=20),
    Pattern("GELU-erf-torch", _torch_gelu_erf, _GELU_ERF, consts=_GELU_CONSTS),
    Pattern("GELU-erf-mul-half-x", _other_gelu_erf, _GELU_ERF, consts=_GELU_CONSTS),
    Pattern("GELU-tanh-hf-pow", _hf_new_gelu, _GELU_TANH, consts=_GELU_CONSTS),
    Pattern("GELU-tanh-torch", _torch_gelu_tanh, _GELU_TANH, consts=_GELU_CONSTS),
    # The erf is also an output: no fusion, and each op takes its own cheap form.
    Pattern("GELU-erf-shared", _torch_gelu_erf, _ERF + Counter({"RealDiv": 1, "AddV2": 1, "Mul": 2}),
            consts=_GELU_CONSTS, outputs=("y", "e")),
    Pattern("Erf", lambda: [_n("Erf", ["x"], "y")], _ERF),
    Pattern("Tanh", lambda: [_n("Tanh", ["x"], "y")], Counter({"Mul": 2, "Sigmoid": 1, "Sub": 1})),
    Pattern("Pow-3", lambda: [_n("Pow", ["x", "three"], "y")], Counter({"Square": 1, "Mul": 1}),
            consts={"three": _f(3.0)}),
    Pattern("Pow-4", lambda: [_n("Pow", ["x", "e"], "y")], Counter({"Square": 2}), consts={"e": _f(4.0)}),
    Pattern("Pow-minus-1", lambda: [_n("Pow", ["x", "e"], "y")], Counter({"Reciprocal": 1}), consts={"e": _f(-1.0)},
            scale=-1.0),
    # Not one of the cheap exponents: the Pow kernel.
    Pattern("Pow-2.5", lambda: [_n("Pow", ["x", "e"], "y")], Counter({"Pow": 1}), consts={"e": _f(2.5)}, scale=-1.0),
    Pattern("Pow-half", lambda: [_n("Pow", ["x", "half"], "y")], Counter({"Sqrt": 1}), consts={"half": _f(0.5)},
            scale=-1.0),
    Pattern("SiLU", lambda: [_n("Sigmoid", ["x"], "s"), _n("Mul", ["x", "s"], "y")], Counter({"Sigmoid": 1, "Mul": 1})),
    Pattern("HardSwish", lambda: [_n("HardSwish", ["x"], "y")],
            Counter({"Mul": 2, "AddV2": 1, "ClipByValue": 1})),
    Pattern("HardSwish-decomposed",
            lambda: [_n("Add", ["x", "three"], "a"), _n("Clip", ["a", "zero", "six"], "c"),
                     _n("Div", ["c", "six"], "d"), _n("Mul", ["x", "d"], "y")],
            Counter({"AddV2": 1, "ClipByValue": 1, "RealDiv": 1, "Mul": 1}),
            consts={"three": _f(3.0), "zero": _f(0.0), "six": _f(6.0)}),
    Pattern("HardSigmoid", lambda: [_n("HardSigmoid", ["x"], "y", alpha=1 / 6)],
            Counter({"Mul": 1, "AddV2": 1, "ClipByValue": 1})),
    # Additive mask [1, 1, 1, S] broadcast by AddV2 itself (no BroadcastTo / Tile), softmax as one op; the scale
    # stays one elementwise op on [heads, S, S] (0.2 ms of ViT-small's ~100 ms of kernels: not worth a weight fold).
    Pattern("attention", _attention, _ATTENTION_OPS, shape=(1, 2, 5, 8),
            consts={"scale": _f(math.sqrt(8.0)), "mask": np.where(np.arange(5) < 4, 0, -1e4).astype(np.float32)
                    .reshape(1, 1, 1, 5)},
            more={"k": (1, 2, 5, 8), "v": (1, 2, 5, 8)}),
]


def _model(p: Pattern) -> onnx.ModelProto:
    inits = [onnx.numpy_helper.from_array(v, k) for k, v in p.consts.items()]
    inputs = [helper.make_tensor_value_info(name, F, list(shape)) for name, shape in {"x": p.shape, **p.more}.items()]
    outputs = [helper.make_tensor_value_info(o, F, None) for o in p.outputs]
    graph = helper.make_graph(p.nodes(), p.id, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", p.opset)], ir_version=8)


def _feeds(p: Pattern) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {name: (rng.standard_normal(shape) * abs(p.scale)).astype(np.float32)
             for name, shape in {"x": p.shape, **p.more}.items()}
    if p.scale < 0:  # a non-negative input
        feeds["x"] = np.abs(feeds["x"])
    return feeds


def _written_ops(model_json: Path) -> Counter[str]:
    nodes = json.loads(model_json.read_text())["modelTopology"]["node"]
    return Counter(n["op"] for n in nodes if n["op"] not in _IGNORED)


@pytest.mark.needs_node
@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.id for p in PATTERNS])
def test_pattern(pattern: Pattern, tmp_path: Path, tfjs: TfjsRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)
    check_parity(_model(pattern), _feeds(pattern), tmp_path, tfjs, tol=1e-4)
    ops = _written_ops(tmp_path / "tfjs" / "model.json")
    if pattern.id == "attention":  # the matmuls' form belongs to the matmul emitter: check this pattern's ops only
        assert {op: ops[op] for op in _ATTENTION_OPS} == dict(_ATTENTION_OPS), ops
        # K's Transpose stays a Transpose: adj_y sends tfjs wasm's matmul off XNNPACK (10x slower on 2-D).
        assert not {"BroadcastTo", "Tile"} & set(ops), ops
        return
    assert ops == pattern.ops


# FuseGeluPass on the pivot: the op types after optimize(), and onnxruntime equality before/after.
GELU_FUSIONS = [
    ("torch-erf", _torch_gelu_erf, _GELU_CONSTS, ("y",), ["Gelu"]),
    ("mul-half-x-erf", _other_gelu_erf, _GELU_CONSTS, ("y",), ["Gelu"]),
    ("hf-tanh-pow", _hf_new_gelu, _GELU_CONSTS, ("y",), ["Gelu"]),
    ("torch-tanh-cube", _torch_gelu_tanh, _GELU_CONSTS, ("y",), ["Gelu"]),
    ("erf-read-elsewhere", _torch_gelu_erf, _GELU_CONSTS, ("y", "e"), ["Div", "Erf", "Add", "Mul", "Mul"]),
    ("other-half", _torch_gelu_erf, {**_GELU_CONSTS, "half": _f(0.6)}, ("y",), ["Div", "Erf", "Add", "Mul", "Mul"]),
    ("other-kappa", _hf_new_gelu, {**_GELU_CONSTS, "k": _f(0.05)}, ("y",),
     ["Mul", "Pow", "Mul", "Add", "Mul", "Tanh", "Add", "Mul"]),
]


@pytest.mark.parametrize(("nodes", "consts", "outputs", "expected"), [c[1:] for c in GELU_FUSIONS],
                         ids=[c[0] for c in GELU_FUSIONS])
def test_fuse_gelu(nodes: Callable[[], list[onnx.NodeProto]], consts: dict[str, np.ndarray],
                   outputs: tuple[str, ...], expected: list[str], tmp_path: Path) -> None:
    model = _model(Pattern("gelu", nodes, Counter(), consts=consts, outputs=outputs))
    onnx.save(model, tmp_path / "before.onnx")
    optimized = optimize(ir.serde.deserialize_model(model))
    assert [n.op_type for n in optimized.graph] == expected
    pir.save(optimized, tmp_path / "after.onnx")
    feeds = _feeds(Pattern("gelu", nodes, Counter()))
    before, after = ort_run(tmp_path / "before.onnx", feeds), ort_run(tmp_path / "after.onnx", feeds)
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-5, atol=1e-5)
