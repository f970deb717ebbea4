"""Patch and window models: Transposes left after the layout pass, shape chains folded, parity in tfjs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from backends.tfjs_graph.passes.transposes import View
from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_parity, trust_test_models

F = TensorProto.FLOAT
SHAPE_OPS = {"Shape", "ShapeN", "Size", "Range", "Fill", "Pack", "GatherV2", "BroadcastArgs", "Prod", "Cast"}


def _ints(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def _weight(name: str, shape: tuple[int, ...], seed: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def _model(nodes: list[onnx.NodeProto], x: tuple[int, ...], y: tuple[int, ...],
           inits: list[onnx.TensorProto]) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, x)],
                              [helper.make_tensor_value_info("y", F, y)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _reshape(src: str, dims: list[int], out: str) -> tuple[onnx.NodeProto, onnx.TensorProto]:
    return helper.make_node("Reshape", [src, f"{out}/shape"], [out]), _ints(f"{out}/shape", dims)


Built = tuple[list[onnx.NodeProto], list[onnx.TensorProto]]


def _chain(src: str, steps: list[tuple[str, list[int]]], out: str) -> Built:
    """Reshape ("r", dims) and Transpose ("t", perm) steps from ``src``; the last step writes ``out``."""
    nodes, inits = [], []
    for k, (kind, arg) in enumerate(steps):
        name = out if k == len(steps) - 1 else f"{out}/{k}"
        if kind == "r":
            node, init = _reshape(src, arg, name)
            nodes.append(node)
            inits.append(init)
        else:
            nodes.append(helper.make_node("Transpose", [src], [name], perm=arg))
        src = name
    return nodes, inits


def _conv(src: str, out: str, cin: int, cout: int, k: int = 1, seed: int = 0, **attrs: Any) -> tuple[
        onnx.NodeProto, onnx.TensorProto]:
    return (helper.make_node("Conv", [src, f"{out}/w"], [out], **attrs),
            _weight(f"{out}/w", (cout, cin, k, k), seed))


def window_partition() -> onnx.ModelProto:
    """Swin: [B,H,W,C] -> windows [B*nW, w*w, C] -> a linear."""
    nodes, inits = _chain("x", [("r", [1, 2, 4, 2, 4, 4]), ("t", [0, 1, 3, 2, 4, 5]), ("r", [-1, 16, 4])], "win")
    nodes.append(helper.make_node("MatMul", ["win", "w"], ["y"]))
    return _model(nodes, (1, 8, 8, 4), (4, 16, 4), [*inits, _weight("w", (4, 4), 1)])


def window_partition_qkv() -> onnx.ModelProto:
    """Swin: the windows feed three linears (Q, K, V): the partition is written once, not per reader."""
    nodes, inits = _chain("x", [("r", [1, 2, 4, 2, 4, 4]), ("t", [0, 1, 3, 2, 4, 5]), ("r", [-1, 16, 4])], "win")
    for k, name in enumerate("qkv"):
        nodes.append(helper.make_node("MatMul", ["win", f"w{name}"], [name]))
        inits.append(_weight(f"w{name}", (4, 4), 10 + k))
    nodes += [helper.make_node("Add", ["q", "k"], ["qk"]), helper.make_node("Add", ["qk", "v"], ["y"])]
    return _model(nodes, (1, 8, 8, 4), (4, 16, 4), inits)


def window_reverse() -> onnx.ModelProto:
    """Swin: windows [B*nW, w*w, C] -> [B,H,W,C] -> an elementwise op."""
    nodes, inits = _chain("x", [("r", [1, 2, 2, 4, 4, 4]), ("t", [0, 1, 3, 2, 4, 5]), ("r", [1, 8, 8, 4])], "img")
    nodes.append(helper.make_node("Relu", ["img"], ["y"]))
    return _model(nodes, (4, 16, 4), (1, 8, 8, 4), inits)


def mobilevit_unfold() -> onnx.ModelProto:
    """MobileViT unfolding after a conv: [B,C,H,W] -> [B*patch_area, patches, C] -> a linear."""
    conv, w = _conv("x", "feat", 4, 4)
    nodes, inits = _chain("feat", [("r", [16, 2, 4, 2]), ("t", [0, 2, 1, 3]), ("r", [1, 4, 16, 4]),
                                   ("t", [0, 3, 2, 1]), ("r", [4, 16, 4])], "patches")
    nodes = [conv, *nodes, helper.make_node("MatMul", ["patches", "w"], ["y"])]
    return _model(nodes, (1, 4, 8, 8), (4, 16, 4), [w, *inits, _weight("w", (4, 4), 2)])


def mobilevit_fold() -> onnx.ModelProto:
    """MobileViT folding: [B*patch_area, patches, C] -> [B,C,H,W] -> a conv."""
    nodes, inits = _chain("x", [("r", [1, 4, 16, 4]), ("t", [0, 3, 2, 1]), ("r", [16, 4, 2, 2]),
                                ("t", [0, 2, 1, 3]), ("r", [1, 4, 8, 8])], "fmap")
    conv, w = _conv("fmap", "y", 4, 4)
    return _model([*nodes, conv], (4, 16, 4), (1, 4, 8, 8), [*inits, w])


def seq_image_conv() -> onnx.ModelProto:
    """SegFormer: tokens [B,HW,C] -> image -> depthwise-free 3x3 conv -> tokens -> bias."""
    nodes, inits = _chain("x", [("t", [0, 2, 1]), ("r", [1, 4, 4, 4])], "img")
    conv, w = _conv("img", "conv", 4, 4, k=3, pads=[1, 1, 1, 1])
    back, more = _chain("conv", [("r", [1, 4, 16]), ("t", [0, 2, 1])], "tok")
    nodes += [conv, *back, helper.make_node("Add", ["tok", "b"], ["y"])]
    return _model(nodes, (1, 16, 4), (1, 16, 4), [*inits, w, *more, _weight("b", (4,), 3)])


def patch_embedding() -> onnx.ModelProto:
    """ViT: conv k=s=4 -> flatten(2) -> transpose(1, 2) -> + position embedding."""
    conv, w = _conv("x", "emb", 3, 8, k=4, strides=[4, 4])
    nodes, inits = _chain("emb", [("r", [1, 8, 4]), ("t", [0, 2, 1])], "tok")
    nodes = [conv, *nodes, helper.make_node("Add", ["tok", "pos"], ["y"])]
    return _model(nodes, (1, 3, 8, 8), (1, 4, 8), [w, *inits, _weight("pos", (4, 8), 4)])


def channel_shuffle() -> onnx.ModelProto:
    """ShuffleNet: conv -> [B,g,C/g,H,W] -> transpose(1, 2) -> [B,C,H,W] -> channel split -> conv."""
    conv, w = _conv("x", "feat", 8, 8)
    nodes, inits = _chain("feat", [("r", [1, 2, 4, 4, 4]), ("t", [0, 2, 1, 3, 4]), ("r", [1, 8, 4, 4])], "mixed")
    split = helper.make_node("Slice", ["mixed", "s0", "s1", "s2"], ["half"])
    conv2, w2 = _conv("half", "y", 4, 4, seed=5)
    nodes = [conv, *nodes, split, conv2]
    return _model(nodes, (1, 8, 4, 4), (1, 4, 4, 4),
                  [w, *inits, _ints("s0", [0]), _ints("s1", [4]), _ints("s2", [1]), w2])


def key_transpose_matmul() -> onnx.ModelProto:
    """Attention scores: K [B,S,h,d] -> [B,h,d,S] (a 2-D Transpose once size-1 dims merge) times Q."""
    nodes = [helper.make_node("Transpose", ["x"], ["kt"], perm=[0, 2, 3, 1]),
             helper.make_node("MatMul", ["q", "kt"], ["y"])]
    return _model(nodes, (1, 6, 2, 4), (1, 2, 6, 6), [_weight("q", (1, 2, 6, 4), 6)])


def static_shape_chain() -> onnx.ModelProto:
    """Reshape to [Shape(x)[0], -1] and a ConstantOfShape of Shape(x): all folded with static shapes."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
             helper.make_node("Unsqueeze", ["batch", "zero1"], ["batch1"]),
             helper.make_node("Concat", ["batch1", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"]),
             helper.make_node("Shape", ["flat"], ["flat_shape"]),
             helper.make_node("ConstantOfShape", ["flat_shape"], ["ones"],
                              value=numpy_helper.from_array(np.ones(1, np.float32))),
             helper.make_node("Add", ["flat", "ones"], ["y"])]
    inits = [numpy_helper.from_array(np.asarray(0, np.int64), "zero"), _ints("zero1", [0]), _ints("minus1", [-1])]
    return _model(nodes, (2, 4, 6), (2, 24), inits)


def patch_merging(size: int) -> Callable[[], onnx.ModelProto]:
    """Swin patch merging: x[:, 0::2, 0::2], x[:, 1::2, 0::2], ... concatenated on channels."""
    def build() -> onnx.ModelProto:
        end = size - size % 2  # an odd size keeps the four parts alike but is no multiple of the step
        nodes, inits = [], [_ints("axes", [1, 2]), _ints("steps", [2, 2]), _ints("ends", [end, end])]
        for k, (i, j) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
            inits.append(_ints(f"start{k}", [i, j]))
            nodes.append(helper.make_node("Slice", ["x", f"start{k}", "ends", "axes", "steps"], [f"part{k}"]))
        nodes.append(helper.make_node("Concat", [f"part{k}" for k in range(4)], ["y"], axis=-1))
        half = size // 2
        return _model(nodes, (1, size, size, 3), (1, half, half, 12), inits)
    return build


@dataclass(frozen=True)
class Case:
    build: Callable[[], onnx.ModelProto]
    transposes: int  # at most this many Transposes in the emitted graph
    max_rank: int = 4  # no Transpose above this rank
    absent: frozenset[str] = frozenset()  # tfjs ops that must not be emitted


CASES = {
    # the window partition is one data movement; its 6-D perm runs as a 4-D Transpose
    "window_partition": Case(window_partition, 1),
    "window_partition_qkv": Case(window_partition_qkv, 1),
    "window_reverse": Case(window_reverse, 1),
    # conv input to NHWC, then the unfold is one 5-D data movement of the NHWC conv output (was three
    # Transposes), run as two 4-D ones: tfjs-wasm's rank-5 Transpose is ~50x slower
    "mobilevit_unfold": Case(mobilevit_unfold, 3),
    # the fold writes the conv's NHWC input directly (two 4-D steps); the NCHW graph output costs one more
    "mobilevit_fold": Case(mobilevit_fold, 3),
    "seq_image_conv": Case(seq_image_conv, 0),
    "patch_embedding": Case(patch_embedding, 1),
    # input, the shuffle itself (held channels-last, so the channel split and the conv need none), output
    "channel_shuffle": Case(channel_shuffle, 3),
    "key_transpose_matmul": Case(key_transpose_matmul, 1, max_rank=2),
    "static_shape_chain": Case(static_shape_chain, 0, absent=frozenset(SHAPE_OPS | {"ConcatV2"})),
    "patch_merging": Case(patch_merging(8), 0, absent=frozenset({"StridedSlice"})),
    "patch_merging_odd": Case(patch_merging(7), 0),  # 7 is not a multiple of the step: StridedSlice stays
}


def _emitted(model_json: Path) -> tuple[Counter[str], list[int]]:
    """Op counts and the ranks of the Transposes' perms of a written graph model."""
    topo = json.loads(model_json.read_text())
    nodes = topo["modelTopology"]["node"]
    consts = {w["name"]: w["shape"] for g in topo["weightsManifest"] for w in g["weights"]}
    ranks = [consts[n["input"][1]][0] for n in nodes if n["op"] == "Transpose"]
    return Counter(n["op"] for n in nodes), ranks


@pytest.mark.parametrize("name", list(CASES))
def test_layout_case(name: str, tmp_path: Path, tfjs: TfjsRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)
    case = CASES[name]
    model = case.build()
    onnx.checker.check_model(model, full_check=True)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    feeds = {"x": np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    check_parity(model, feeds, tmp_path, tfjs)
    ops, ranks = _emitted(tmp_path / "tfjs" / "model.json")
    assert ops["Transpose"] <= case.transposes, f"{ops['Transpose']} Transposes: {dict(ops)}"
    assert all(r <= case.max_rank for r in ranks), f"Transpose ranks {ranks}"
    assert not case.absent & set(ops), f"unexpected {sorted(case.absent & set(ops))}: {dict(ops)}"


# View algebra: (physical shape, initial perm, steps) -> the emitted form must equal numpy's result.
Steps = list[tuple[str, tuple[int, ...]]]
VIEW_CASES: dict[str, tuple[tuple[int, ...], tuple[int, ...], Steps]] = {
    "vit_flatten": ((1, 2, 2, 8), (0, 3, 1, 2), [("r", (1, 8, 4)), ("t", (0, 2, 1))]),
    "swin_partition": ((1, 8, 8, 4), (0, 1, 2, 3), [("r", (1, 2, 4, 2, 4, 4)), ("t", (0, 1, 3, 2, 4, 5)),
                                                    ("r", (4, 16, 4))]),
    "unfold": ((1, 8, 8, 4), (0, 3, 1, 2), [("r", (16, 2, 4, 2)), ("t", (0, 2, 1, 3)), ("r", (1, 4, 16, 4)),
                                            ("t", (0, 3, 2, 1)), ("r", (4, 16, 4))]),
    "size_one_dims": ((3, 1, 4), (2, 1, 0), [("r", (4, 1, 3, 1)), ("t", (3, 2, 1, 0)), ("r", (12,))]),
    "no_refinement": ((2, 3), (1, 0), [("r", (2, 3))]),
}


@pytest.mark.parametrize("name", list(VIEW_CASES))
def test_view_algebra(name: str) -> None:
    phys_shape, perm, steps = VIEW_CASES[name]
    x = np.arange(int(np.prod(phys_shape))).reshape(phys_shape)
    ref, view = np.transpose(x, perm), View.of(phys_shape, perm)
    for kind, arg in steps:
        ref = ref.reshape(arg) if kind == "r" else np.transpose(ref, arg)
        moved = view.reshape(arg) if kind == "r" else view.transpose(arg)
        if moved is None:  # [3, 2] -> [2, 3] has no common refinement: the caller writes the Transpose
            assert name == "no_refinement"
            return
        view = moved
    assert view.shape() == ref.shape
    shape, merged = view.merged()
    np.testing.assert_array_equal(np.transpose(x.reshape(shape), merged).reshape(ref.shape), ref)
    found = view.as_perm()
    if found is not None:
        np.testing.assert_array_equal(np.transpose(x.reshape(found[0]), found[1]), ref)
    assert name != "no_refinement"
