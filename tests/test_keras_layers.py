"""Per-layer Keras parity: Keras 3 (torch backend) vs onnxruntime on the pivot vs TensorFlow.js on the graph model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx_ir as ir
import pytest

from backends.base import BackendOptions
from backends.tfjs_graph import build_graph, write_graph
from backends.tfjs_runtime import TfjsBackend, TfjsRuntime
from frontends.keras.lower import lower_model
from pivot.passes import optimize
from tests.keras_cases import KerasCase, all_cases
from tests.keras_util import (
    LAYERS_DIR,
    READERS,
    SAVED_AS,
    formats,
    keras_module,
    model_inputs,
    predict,
    randomize,
    refusal,
    save,
)
from tests.parity import REFUSALS, compare, ort_run

pytest.importorskip("keras")
CASES = all_cases()
# Layers models tfjs-layers 4.22 runs right on cpu but not on wasm (its wasm kernels differ); checked on cpu.
LAYERS_WASM_BUGS = {
    "conv3d_transpose_same": "wasm Conv3DTranspose (padding same, stride 2) gives other values than cpu",
    "maxpool3d_channels_first": "wasm MaxPool3D after tfjs-layers' channels_first transpose differs from cpu",
}


def _params() -> list[object]:
    out = []
    for case in CASES:
        for fmt in formats(case):
            refused = refusal(case, fmt)
            marks = []
            if refused:  # tests/test_emission.py checks it is still refused
                marks.append(pytest.mark.xfail(reason=f"refused: {refused}", raises=REFUSALS, strict=True))
            elif case.xfail:
                marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
            out.append(pytest.param(case, fmt, id=f"{case.id}-{fmt}", marks=marks))
    return out


@pytest.mark.needs_node
@pytest.mark.parametrize(("case", "fmt"), _params())
def test_keras_layer(case: KerasCase, fmt: str, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    keras = keras_module()
    model = case.build(keras)
    randomize(model)
    rng = np.random.default_rng(1)
    feeds = model_inputs(model, rng)
    expected = predict(model, feeds)
    assert max(float(np.std(e)) for e in expected) > 1e-3, "degenerate reference output"
    kmodel = READERS[fmt](save(model, tmp_path, SAVED_AS.get(fmt, fmt)))
    if fmt == "tfjs_layers":
        backend = "cpu" if case.id in LAYERS_WASM_BUGS else "wasm"
        _check_layers_model(tmp_path / LAYERS_DIR, feeds, expected, case.tol, tfjs, backend)
    pivot = optimize(lower_model(kmodel))  # the lowered ops are checked in tests/test_emission.py
    names = [v.name for v in pivot.graph.inputs]
    named = dict(zip(names, feeds, strict=True))
    ir.save(pivot, str(tmp_path / "pivot.onnx"))
    got_ort = list(ort_run(tmp_path / "pivot.onnx", named).values())
    for i, (ref, got) in enumerate(zip(expected, got_ort, strict=True)):
        c = compare(ref, got, f"out{i}", "onnxruntime")
        assert c.relative <= case.tol, f"onnxruntime vs keras: {c.max_abs:.3g} (scale {c.scale:.3g})"
    out = tmp_path / "tfjs"
    out.mkdir()
    write_graph(build_graph(pivot), out, BackendOptions())
    got_tfjs = tfjs.run(out / "model.json", named, backend="wasm")
    for i, (ref, name) in enumerate(zip(expected, [v.name for v in pivot.graph.outputs], strict=True)):
        c = compare(ref, got_tfjs[name], f"out{i}", "wasm")
        assert c.relative <= case.tol, f"tfjs wasm vs keras: {c.max_abs:.3g} (scale {c.scale:.3g})"


def _check_layers_model(path: Path, feeds: list[np.ndarray], expected: list[np.ndarray], tol: float,
                        tfjs: TfjsRuntime, backend: TfjsBackend) -> None:
    """tf.loadLayersModel runs the written layers model like Keras."""
    got = tfjs.run(path / "model.json", {f"input_{i}": f for i, f in enumerate(feeds)}, kind="layers",
                   backend=backend)
    for i, (ref, out) in enumerate(zip(expected, got.values(), strict=True)):
        c = compare(ref, out, f"out{i}", "tfjs layers")
        assert c.relative <= tol, f"tfjs layers model vs keras: {c.max_abs:.3g} (scale {c.scale:.3g})"
