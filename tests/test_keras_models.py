"""Real Keras architectures (built locally, randomized) converted from .h5 and .keras, run in TensorFlow.js wasm."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.keras_util import keras_module, predict, randomize, save
from tests.parity import compare
from tfjs_pivot.convert import ConvertOptions, convert

pytest.importorskip("keras")


@dataclass(frozen=True)
class KerasArch:
    """One keras.applications model at a small input size (weights=None, logits out)."""

    name: str
    size: int = 96
    tol: float = 1e-4
    # Emitted graph limits (non-Const nodes, Transposes); None: not checked.
    max_nodes: int | None = None
    max_transposes: int | None = None


ARCHS = (
    KerasArch("MobileNetV2", max_nodes=71, max_transposes=0),
    KerasArch("ResNet50", max_transposes=0),
    KerasArch("EfficientNetB0"),
    KerasArch("DenseNet121", max_transposes=0),
    KerasArch("InceptionV3", size=96, max_transposes=0),
    KerasArch("Xception", size=96, max_transposes=0),
    KerasArch("ConvNeXtTiny", size=64),
)


def build(keras: object, arch: KerasArch) -> object:
    app = getattr(keras.applications, arch.name)  # type: ignore[attr-defined]
    return app(weights=None, input_shape=(arch.size, arch.size, 3), classifier_activation=None)


def _nodes(model_json: Path) -> list[dict[str, object]]:
    return json.loads(model_json.read_text())["modelTopology"]["node"]  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.needs_node
@pytest.mark.parametrize("fmt", ["h5", "keras"])
@pytest.mark.parametrize("arch", ARCHS, ids=[a.name for a in ARCHS])
def test_keras_architecture(arch: KerasArch, fmt: str, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    keras = keras_module()
    model = build(keras, arch)
    randomize(model, seed=3)
    image = np.random.default_rng(0).normal(0.0, 1.0, (2, arch.size, arch.size, 3)).astype(np.float32)
    expected = predict(model, [image])[0]
    assert float(np.std(expected)) > 1e-2, "degenerate logits"
    out = tmp_path / "tfjs"
    convert(save(model, tmp_path, fmt), out, ConvertOptions(output_format="tfjs_graph_model"))
    doc = json.loads((out / "model.json").read_text())
    got = tfjs.run(out / "model.json", {next(iter(doc["signature"]["inputs"])): image}, backend="wasm")
    c = compare(expected, next(iter(got.values())), "logits", "wasm")
    print(f"{arch.name}.{fmt}: max abs error {c.max_abs:.3g}, scale {c.scale:.3g}, relative {c.relative:.3g}")
    assert c.relative <= arch.tol
    ops = [str(n["op"]) for n in _nodes(out / "model.json") if n["op"] != "Const"]
    if arch.max_nodes is not None:
        assert len(ops) <= arch.max_nodes, f"{len(ops)} non-Const nodes: {sorted(set(ops))}"
    if arch.max_transposes is not None:
        assert ops.count("Transpose") <= arch.max_transposes
