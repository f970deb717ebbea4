"""Pivot passes on tiny ONNX fixtures: op types before/after, and onnxruntime equality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir
import pytest

from pivot import ir as pir
from pivot.errors import InputError
from pivot.passes import optimize
from tests.parity import ort_run

FIXTURES = {
    # Shape arithmetic on a static shape folds away completely.
    "fold_shape_chain": ("""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[2,3,4] x) => (float[2,12] y) {
            s = Shape(x)
            i0 = Constant<value = int64[1] {0}>()
            d0 = Gather<axis = 0>(s, i0)
            m1 = Constant<value = int64[1] {-1}>()
            shape = Concat<axis = 0>(d0, m1)
            y = Reshape(x, shape)
        }""", ["Reshape"]),
    # BatchNormalization after a constant Conv is folded into the conv weights and bias.
    "fold_bn": ("""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[1,2,5,5] x) => (float[1,3,5,5] y) {
            w = Constant<value = float[3,2,1,1] {1,2,3,4,5,6}>()
            c = Conv<pads = [0,0,0,0]>(x, w)
            sc = Constant<value = float[3] {1.5, 0.5, 2}>()
            bi = Constant<value = float[3] {0.1, -0.2, 0.3}>()
            mu = Constant<value = float[3] {0.4, 0.0, -1}>()
            va = Constant<value = float[3] {2, 0.5, 1}>()
            y = BatchNormalization<epsilon = 0.001>(c, sc, bi, mu, va)
        }""", ["Conv"]),
    # Inference Dropout and Identity disappear; the output keeps its name.
    "dropout_identity": ("""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[2,3] x) => (float[2,3] y) {
            r = Relu(x)
            d = Dropout(r)
            y = Identity(d)
        }""", ["Relu"]),
    # An Identity that gives a second graph output its own name stays (two outputs, two values).
    "identity_between_outputs": ("""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[2,3] x) => (float[2,3] a, float[2,3] b, float[2,3] d) {
            a = Relu(x)
            b = Identity(a)
            c = Identity(a)
            d = Sigmoid(c)
        }""", ["Relu", "Identity", "Sigmoid"]),
    # Channels-last wrapping: NHWC->NCHW->Conv->NHWC->NCHW->BN cancels to Conv (BN folded), and
    # a Transpose chain composes into one.
    "compose_transposes": ("""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[1,5,5,2] x) => (float[1,5,3,5] y) {
            a = Transpose<perm = [0,3,1,2]>(x)
            w = Constant<value = float[3,2,1,1] {1,2,3,4,5,6}>()
            c = Conv(a, w)
            b = Transpose<perm = [0,2,3,1]>(c)
            d = Transpose<perm = [0,3,1,2]>(b)
            sc = Constant<value = float[3] {1.5, 0.5, 2}>()
            bi = Constant<value = float[3] {0.1, -0.2, 0.3}>()
            mu = Constant<value = float[3] {0.4, 0.0, -1}>()
            va = Constant<value = float[3] {2, 0.5, 1}>()
            n = BatchNormalization(d, sc, bi, mu, va)
            e = Transpose<perm = [0,2,3,1]>(n)
            y = Transpose<perm = [0,1,3,2]>(e)
        }""", ["Transpose", "Conv", "Transpose"]),
    # GatherElements of constants past 32 choices (onnx's evaluator is wrong there: folded with numpy).
    "fold_gather_elements_wide": (f"""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[1,40] x) => (float[1,40] y) {{
            d = Constant<value = float[1,40] {{{", ".join(str(float(v)) for v in range(40))}}}>()
            i = Constant<value = int64[1,40] {{{", ".join(str((7 * v) % 40 - (40 if v % 3 == 0 else 0))
                                                    for v in range(40))}}}>()
            t = GatherElements<axis = 1>(d, i)
            y = Add(x, t)
        }}""", ["Add"]),
}


@pytest.mark.parametrize("indices", ["{40, 0}", "{-41, 0}"])
def test_gather_elements_fold_refuses_bad_indices(indices: str) -> None:
    model = onnx.parser.parse_model(f"""
        <ir_version: 8, opset_import: ["" : 17]>
        g (float[1,2] x) => (float[1,2] y) {{
            d = Constant<value = float[1,40] {{{", ".join("1.0" for _ in range(40))}}}>()
            i = Constant<value = int64[1,2] {indices}>()
            t = GatherElements<axis = 1>(d, i)
            y = Add(x, t)
        }}""")
    with pytest.raises(InputError, match="GatherElements"):
        optimize(ir.serde.deserialize_model(model))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_pass_fixture(name: str, tmp_path: Path) -> None:
    text, expected_ops = FIXTURES[name]
    model = onnx.parser.parse_model(text)
    onnx.save(model, tmp_path / "before.onnx")
    optimized = optimize(ir.serde.deserialize_model(model))
    assert [n.op_type for n in optimized.graph] == expected_ops
    pir.save(optimized, tmp_path / "after.onnx")
    feeds = {i.name: np.random.default_rng(0).normal(size=[d.dim_value for d in i.type.tensor_type.shape.dim])
             .astype(np.float32) for i in model.graph.input}
    before, after = ort_run(tmp_path / "before.onnx", feeds), ort_run(tmp_path / "after.onnx", feeds)
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-5, atol=1e-5)
