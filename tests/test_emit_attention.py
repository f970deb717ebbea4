"""Attention as tfjs wasm runs it fast: per-head 2-D MatMuls fed by one Split per projection, no Unpack.

Each case is a small ONNX attention graph (or one batched product); the test checks the written graph's op counts
and the values in tfjs cpu and wasm against onnxruntime at 1e-4. Why: tfjs wasm's BatchMatMul uses XNNPACK only
for a batch of 1 without transposes (else a naive loop ~10x slower), and its Unpack copies the whole input once
per piece (emitters/matmul.py ``split_batches``, ``_head_view``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_parity_feeds, trust_test_models
from tests.test_emit_linear import Net, _feeds, _w

BATCHED = "BatchMatMulV2"
DW = "DepthwiseConv2dNative"


@pytest.fixture(autouse=True)
def _own_models(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)


@dataclass(frozen=True)
class Case:
    id: str
    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    expect: dict[str, int]  # op -> exact count in the written graph


def _heads(net: Net, x: str, lead: list[int], tokens: int, heads: int, width: int, perm: list[int]) -> str:
    """A linear's output split into heads as PyTorch exports it: Reshape [.., T, h, d] -> Transpose."""
    y = net.linear(x, heads * width, heads * width)
    return net.op("Transpose", net.op("Reshape", y, np.array([*lead, tokens, heads, width], np.int64)), perm=perm)


def _attention(net: Net, x: str, lead: list[int], tokens: int, heads: int, width: int,
               bias: str | np.ndarray | None) -> str:
    """softmax(q k^T / sqrt(d) + bias) v, heads merged back, then the output linear."""
    b = len(lead)
    q = _heads(net, x, lead, tokens, heads, width, [*range(b), b + 1, b, b + 2])
    k = _heads(net, x, lead, tokens, heads, width, [*range(b), b + 1, b + 2, b])
    v = _heads(net, x, lead, tokens, heads, width, [*range(b), b + 1, b, b + 2])
    s = net.op("Mul", net.op("MatMul", q, k), np.array(width ** -0.5, np.float32))
    if bias is not None:
        s = net.op("Add", s, bias)
    ctx = net.op("MatMul", net.op("Softmax", s, axis=-1), v)
    merged = net.op("Transpose", ctx, perm=[*range(b), b + 1, b, b + 2])
    merged = net.op("Reshape", merged, np.array([*lead, tokens, heads * width], np.int64))
    return net.linear(merged, heads * width, heads * width)


def encoder(name: str, tokens: int, heads: int, width: int, mask: str) -> Case:
    """BERT (padding mask input), GPT-2 (constant causal bias) or ViT (no mask) self-attention, batch 1."""
    dim = heads * width
    inputs: dict[str, tuple[int, ...]] = {"x": (1, tokens, dim)}
    bias: str | np.ndarray | None = None
    if mask == "padding":
        inputs["mask"] = (1, 1, 1, tokens)
        bias = "mask"
    elif mask == "causal":
        bias = np.triu(np.full((tokens, tokens), -1e4, np.float32), 1)[None, None]
    net = Net(dict(inputs))
    y = _attention(net, "x", [1], tokens, heads, width, bias)
    feeds = _feeds(dict(inputs))
    # q, k^T, v and the probabilities split once each; the per-head contexts concatenated side by side
    expect = {BATCHED: 0, "Unpack": 0, "Pack": 0, "Split": 4, "MatMul": 2 * heads, "Transpose": 1}
    return Case(name, net.model(y), feeds, expect)


def windows(count: int, tokens: int, heads: int, width: int) -> Case:
    """Swin window attention: batch = windows, a relative position bias [1, h, T, T] added to the scores."""
    dim = heads * width
    net = Net({"x": (count, tokens, dim)})
    y = _attention(net, "x", [count], tokens, heads, width, _w(1, heads, tokens, tokens))
    # windows x heads products: one depthwise conv each (more than HEAD_SPLIT_MAX batches)
    return Case(f"swin_windows{count}x{heads}x{tokens}", net.model(y), _feeds({"x": (count, tokens, dim)}),
                {BATCHED: 0, "Unpack": 0, "Split": 0, DW: 2})


def batched(name: str, a: tuple[int, ...], b: tuple[int, ...], expect: dict[str, int]) -> Case:
    """One product of two activations (MobileViT: batch = pixels per patch x heads)."""
    net = Net({"a": a, "b": b})
    y = net.op("MatMul", "a", net.op("Relu", "b"))
    return Case(name, net.model(y), _feeds({"a": a, "b": b}), expect)


CASES: list[Case] = [
    encoder("bert_mask", 128, 2, 32, "padding"),
    encoder("gpt2_causal", 64, 2, 64, "causal"),
    encoder("vit_nomask", 50, 3, 64, "none"),
    windows(4, 49, 3, 16),
    batched("mobilevit_scores", (1, 4, 64, 32), (1, 4, 32, 64), {BATCHED: 0, "Unpack": 0, DW: 1}),
    batched("batch_not_heads", (1, 4, 64, 64), (1, 4, 64, 16), {BATCHED: 0, "Split": 0, DW: 1}),
    batched("windows_x_heads", (64, 2, 49, 24), (64, 2, 24, 49), {BATCHED: 0, "MatMul": 0, DW: 1}),
    batched("small_stays_batched", (2, 3, 8, 8), (2, 3, 8, 8), {BATCHED: 1, "Split": 0, DW: 0}),
    batched("broadcast_b", (2, 3, 64, 64), (1, 3, 64, 64), {BATCHED: 0, "Unpack": 0, "Split": 2, "MatMul": 6}),
]


def _ops(model_json: Path) -> Counter[str]:
    return Counter(n["op"] for n in json.loads(model_json.read_text())["modelTopology"]["node"])


@pytest.mark.needs_node
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_attention_emission(case: Case, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    check_parity_feeds(case.model, [case.feeds], tmp_path, tfjs)
    ops = _ops(tmp_path / "tfjs" / "model.json")
    wrong = {op: (ops.get(op, 0), n) for op, n in case.expect.items() if ops.get(op, 0) != n}
    assert not wrong, f"(got, expected) {wrong} in {dict(ops)}"
