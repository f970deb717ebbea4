"""Grouped Conv: the form chosen per shape (dense block-diagonal, depthwise + pooled sum, split) and its parity."""

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
from onnx import helper

from backends.tfjs_graph.emitters.conv import block_diagonal, depthwise_filter, grouped_form
from backends.tfjs_runtime import TfjsRuntime
from tests.cases import UNDER_TEST, with_output_types
from tests.parity import check_parity_feeds

CONV_OPS = {"Conv2D", "_FusedConv2D", "Conv3D"}
DW_OPS = {"DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"}


@dataclass(frozen=True)
class Case:
    """A Conv(+Relu) model: x [N, C, *spatial], group g with ``cin`` / ``cout`` channels per group."""

    id: str
    spatial: Sequence[int | str]
    group: int
    cin: int
    cout: int
    kernel: Sequence[int]
    form: str  # dense | depthwise | split | native (group == channels: one DepthwiseConv2dNative)
    relu: bool = False
    bias: bool = True
    batch: int | str = 1
    attrs: dict[str, Any] = field(default_factory=dict)
    sizes: Sequence[Sequence[int]] = ()  # run-time sizes of symbolic spatial dims (one feed set each)
    op: str = "Conv"


CASES = [
    Case("g4c1_native", (9, 9), 4, 1, 2, (3, 3), "native", relu=True),
    Case("g2c2_k3", (9, 9), 2, 2, 2, (3, 3), "dense", attrs={"pads": [1, 1, 1, 1]}),
    Case("g4c4_k3_s2_pads", (9, 10), 4, 4, 4, (3, 3), "dense", relu=True,
         attrs={"strides": [2, 2], "pads": [1, 0, 1, 2]}),
    Case("g2c64_k1", (6, 6), 2, 64, 64, (1, 1), "dense", relu=True),
    Case("g16c8_k1", (6, 6), 16, 8, 8, (1, 1), "dense"),
    Case("g8c8_k3", (8, 8), 8, 8, 8, (3, 3), "depthwise", relu=True, attrs={"pads": [1, 1, 1, 1]}),
    Case("g32c4_k3_s2", (9, 9), 32, 4, 4, (3, 3), "depthwise", relu=True,
         attrs={"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    Case("g32c2_k3_dil2_s2", (11, 12), 32, 2, 2, (3, 3), "depthwise", attrs={"strides": [2, 2], "dilations": [2, 2]}),
    Case("g8c4_out8_nobias", (7, 7), 8, 4, 8, (3, 3), "depthwise", bias=False),
    Case("g12c3_out5_k3", (7, 8), 12, 3, 5, (3, 3), "depthwise", relu=True),  # c_in not a power of two
    Case("g32c8_k1", (5, 5), 32, 8, 8, (1, 1), "depthwise"),
    Case("g16c16_same_upper", (7, 7), 16, 16, 16, (3, 3), "depthwise", attrs={"auto_pad": "SAME_UPPER"}),
    Case("g2c64_k3", (6, 6), 2, 64, 64, (3, 3), "split", relu=True, attrs={"pads": [1, 1, 1, 1]}),
    Case("g4c16_k3_s2_pads", (9, 9), 4, 16, 16, (3, 3), "split", attrs={"strides": [2, 2], "pads": [0, 1, 1, 0]}),
    Case("g8c16_k3_dil2", (9, 9), 8, 16, 16, (3, 3), "split", relu=True, attrs={"dilations": [2, 2]}),
    Case("g4c32_nobias", (6, 6), 4, 32, 32, (3, 3), "split", bias=False),
    Case("dyn_batch_g8c8", (6, 6), 8, 8, 8, (3, 3), "depthwise", batch="N"),
    Case("dyn_hw_g8c8", ("h", "w"), 8, 8, 8, (3, 3), "depthwise", relu=True, attrs={"pads": [1, 1, 1, 1]},
         sizes=((7, 9), (5, 4))),
    Case("dyn_hw_g2c2", ("h", "w"), 2, 2, 2, (3, 3), "dense", sizes=((7, 9), (4, 6))),
    Case("dyn_hw_g4c32_s2", ("h", "w"), 4, 32, 32, (3, 3), "split", relu=True, attrs={"strides": [2, 2]},
         sizes=((7, 9), (5, 4))),
    Case("dyn_hw_g16c4_same_lower", ("h", "w"), 16, 4, 4, (3, 3), "depthwise", attrs={"auto_pad": "SAME_LOWER"},
         sizes=((7, 9), (5, 4))),
    Case("1d_dyn_w_g32c4", ("w",), 32, 4, 4, (3,), "depthwise", attrs={"pads": [1, 1]}, sizes=((9,), (4,))),
    Case("1d_g4c8_k3", (10,), 4, 8, 8, (3,), "dense", relu=True, attrs={"pads": [1, 1]}),
    Case("1d_g32c4_k5_s2", (12,), 32, 4, 4, (5,), "depthwise", attrs={"strides": [2]}),
    Case("1d_g2c64_k3", (10,), 2, 64, 64, (3,), "split"),
    Case("3d_g2c4_k2", (4, 5, 6), 2, 4, 4, (2, 2, 2), "dense", attrs={"pads": [0, 1, 0, 1, 0, 1]}),
    Case("3d_g8c4_k3", (5, 5, 5), 8, 4, 4, (3, 3, 3), "split", relu=True),
]


def _model(case: Case) -> onnx.ModelProto:
    rng = np.random.default_rng(sum(map(ord, case.id)))
    channels, out_c = case.group * case.cin, case.group * case.cout
    fan_in = case.cin * int(np.prod(case.kernel))
    w_shape = (out_c, case.cin) if case.op == "Conv" else (channels, case.cout)
    inits = [onnx.numpy_helper.from_array(
        rng.normal(0, 1 / np.sqrt(fan_in), (*w_shape, *case.kernel)).astype(np.float32), "w")]
    if case.bias:
        inits.append(onnx.numpy_helper.from_array(rng.normal(0, 1, out_c).astype(np.float32), "b"))
    inputs = ["x", *(i.name for i in inits)]
    nodes = [helper.make_node(case.op, inputs, ["c" if case.relu else "y"], f"{UNDER_TEST}conv", group=case.group,
                              **case.attrs)]
    if case.relu:
        nodes.append(helper.make_node("Relu", ["c"], ["y"]))
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [case.batch, channels, *case.spatial])
    graph = helper.make_graph(nodes, case.id, [x], [onnx.ValueInfoProto(name="y")], inits)
    return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]))


def _feeds(case: Case) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    channels = case.group * case.cin
    batch = 2 if isinstance(case.batch, str) else case.batch
    spatial_sets = case.sizes or [[int(d) for d in case.spatial]]
    return [{"x": rng.normal(0, 1, (batch, channels, *s)).astype(np.float32)} for s in spatial_sets]


def _ops(model_json: Path) -> Counter[str]:
    return Counter(n["op"] for n in json.loads(model_json.read_text())["modelTopology"]["node"])


def _check_form(case: Case, ops: Counter[str]) -> None:
    convs, dws = sum(ops[o] for o in CONV_OPS), sum(ops[o] for o in DW_OPS)
    assert ops["Slice"] == 0 and ops["StridedSlice"] <= 2, ops  # no per-group slicing of x or of the filter
    if case.form in ("dense", "native"):
        assert (convs, dws, ops["Split"], ops["AvgPool"]) == ((1, 0) if case.form == "dense" else (0, 1)) + (0, 0), ops
    elif case.form == "depthwise":
        assert (convs, dws, ops["Split"], ops["AvgPool"]) == (0, 1, 0, 1), ops
    else:
        assert (convs, dws, ops["Split"], ops["ConcatV2"]) == (case.group, 0, 1, 1), ops
    dynamic = any(isinstance(d, str) for d in case.spatial)
    strided_dilated = any(v > 1 for v in case.attrs.get("strides", [1])) and \
        any(v > 1 for v in case.attrs.get("dilations", [1]))
    if len(case.spatial) < 3 and not strided_dilated:
        # The bias (and the Relu after a single conv) are fused into the conv kernels.
        assert ops["BiasAdd"] == 0 and (dynamic or ops["AddV2"] == 0), ops
        if case.form in ("dense", "native") and len(case.spatial) == 2 and not dynamic:
            assert ops["Relu"] == 0, ops


@pytest.mark.needs_node
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_grouped_conv(case: Case, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """Parity with onnxruntime on tfjs cpu and wasm at 1e-4, and the chosen form (op counts)."""
    check_parity_feeds(_model(case), _feeds(case), tmp_path, tfjs, key="Conv")
    _check_form(case, _ops(tmp_path / "tfjs" / "model.json"))


DECONV = [
    Case("g2c4_s2", (5, 6), 2, 4, 3, (3, 3), "dense", op="ConvTranspose", attrs={"strides": [2, 2]}),
    Case("g4c4_dil2_pads", (5, 5), 4, 4, 4, (3, 3), "dense", op="ConvTranspose",
         attrs={"dilations": [2, 2], "pads": [1, 0, 0, 1]}),
    Case("dyn_hw_g2c4", ("h", "w"), 2, 4, 4, (3, 3), "dense", op="ConvTranspose", attrs={"strides": [2, 1]},
         sizes=((4, 5), (3, 2))),
    Case("1d_g4c4_s2", (7,), 4, 4, 4, (3,), "dense", op="ConvTranspose", attrs={"strides": [2]}),
    Case("g4c16_s2", (5, 5), 4, 16, 16, (3, 3), "split", op="ConvTranspose", attrs={"strides": [2, 2]}),
]


@pytest.mark.needs_node
@pytest.mark.parametrize("case", DECONV, ids=[c.id for c in DECONV])
def test_grouped_conv_transpose(case: Case, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """A small grouped ConvTranspose is one Conv2DBackpropInput with a block-diagonal filter."""
    check_parity_feeds(_model(case), _feeds(case), tmp_path, tfjs, key="ConvTranspose")
    ops = _ops(tmp_path / "tfjs" / "model.json")
    assert ops["Conv2DBackpropInput"] == (1 if case.form == "dense" else case.group), ops
    assert ops["Slice"] == 0 if case.form == "dense" else ops["Slice"] >= 2 * case.group, ops


@pytest.mark.parametrize(("group", "cin", "cout", "kernel", "static", "form"), [
    (8, 2, 2, (3, 3), True, "dense"),        # 9 * 16 * 16 MACs per pixel
    (4, 16, 16, (1, 1), True, "dense"),
    (16, 8, 8, (1, 1), True, "dense"),       # 16384: the bound
    (6, 8, 8, (3, 3), True, "depthwise"),    # RegNetY-400MF stage 1
    (55, 8, 8, (3, 3), True, "depthwise"),   # RegNetY-400MF stage 4
    (32, 32, 32, (3, 3), True, "depthwise"),  # ResNeXt-50 32x4d stage 4
    (32, 64, 64, (3, 3), True, "split"),     # the c_in x intermediate outweighs the slicing
    (8, 16, 16, (3, 3), True, "split"),
    (2, 32, 32, (3, 3), True, "split"),
    (55, 8, 8, (3, 3), False, "split"),      # depthwise needs a 1-D or 2-D conv
])
def test_grouped_form(group: int, cin: int, cout: int, kernel: tuple[int, ...], static: bool, form: str) -> None:
    assert grouped_form(group, cin, cout, kernel, static) == form


@pytest.mark.parametrize(("group", "cin", "cout", "kernel"), [(2, 3, 2, (3, 3)), (4, 1, 3, (2, 1)), (3, 2, 2, (3,))])
def test_filters_compute_the_grouped_conv(group: int, cin: int, cout: int, kernel: tuple[int, ...]) -> None:
    """The block-diagonal and depthwise filters hold W's taps where a grouped conv reads them (numpy reference)."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(group * cout, cin, *kernel)).astype(np.float32)
    dense = block_diagonal(w, group)
    for g in range(group):
        rows = slice(g * cout, (g + 1) * cout)
        np.testing.assert_array_equal(dense[rows, g * cin:(g + 1) * cin], w[rows])
        assert not np.delete(dense[rows], np.s_[g * cin:(g + 1) * cin], axis=1).any()
    dw = depthwise_filter(w, group, len(kernel) == 1)  # [kh, kw, C, cout]
    taps = w.reshape(group * cout, cin, -1)
    for g in range(group):
        for i in range(cin):
            for j in range(cout):
                np.testing.assert_array_equal(dw[..., g * cin + i, j].reshape(-1), taps[g * cout + j, i])
