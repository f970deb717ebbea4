"""Layers models: detection, re-sharding, re-quantization and per-layer groups, checked in real TensorFlow.js."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from backends.tfjs_runtime import RUNTIME_DIR, TfjsRuntime
from frontends import detect_format
from pivot.version import CONVERTED_BY
from tests.test_quantize import OUTPUT_BOUND, check_decoded, convnet
from tfjs_format.layers_model import group_by_layer, layer_names, layer_of, sniff
from tfjs_format.weights import read_weights
from tfjs_pivot.cli import main

FIXTURE_SCRIPT = Path(__file__).resolve().parent / "fixtures" / "make_layers_model.mjs"
X = np.random.default_rng(3).normal(size=(2, 8, 8, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def layers_model(tmp_path_factory: pytest.TempPathFactory, tfjs: TfjsRuntime) -> Path:
    """A tf.layers convnet saved by TensorFlow.js itself (see tests/fixtures/make_layers_model.mjs)."""
    out = tmp_path_factory.mktemp("layers") / "src"
    subprocess.run([shutil.which("node") or "node", str(FIXTURE_SCRIPT), str(out), "7"], check=True,
                   cwd=RUNTIME_DIR, capture_output=True)
    return out / "model.json"


_TO_LAYERS = ("--output-format", "tfjs_layers_model")


def _cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def _predict(tfjs: TfjsRuntime, model_json: Path, backend: str = "cpu") -> np.ndarray:
    # Layers output names carry a per-load suffix (logits/logits_3), so take the single output by position.
    outputs = tfjs.run(model_json, {"img": X}, kind="layers", backend=backend)  # type: ignore[arg-type]
    assert len(outputs) == 1
    return next(iter(outputs.values()))


def _doc(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_layer_grouping_rules() -> None:
    topology = {"class_name": "Model", "config": {"name": "m", "layers": [
        {"name": "conv", "class_name": "Conv2D", "config": {"name": "conv"}},
        {"name": "block/a", "class_name": "Sequential", "config": {"name": "block/a", "layers": [
            {"class_name": "Dense", "config": {"name": "inner"}}]}}]}}
    layers = layer_names(topology)
    assert layers == {"m", "conv", "block/a", "inner"}
    assert layer_of("conv/kernel", layers) == "conv"
    assert layer_of("block/a/inner/kernel", layers) == "block/a"  # the longest prefix that is a layer
    assert layer_of("inner/bias", layers) == "inner"
    assert layer_of("iter", layers) == "iter" and layer_of("x/y/z", layers) == "x"  # fallback: first component
    names = ["conv/kernel", "inner/kernel", "conv/bias", "iter", "inner/bias"]
    assert group_by_layer(names, layers) == [[0, 2], [1, 4], [3]]


@pytest.mark.needs_node
def test_detection(layers_model: Path, tmp_path: Path) -> None:
    assert sniff(layers_model) and sniff(layers_model.parent)
    assert detect_format(layers_model) == detect_format(layers_model.parent) == "tfjs_layers_model"
    onnx.save(convnet(), tmp_path / "m.onnx")
    assert _cli("convert", tmp_path / "m.onnx", tmp_path / "graph")[0] == 0
    assert not sniff(tmp_path / "graph" / "model.json") and not sniff(tmp_path / "m.onnx")
    (tmp_path / "other.json").write_text('{"format": "layers-model"}')
    assert not sniff(tmp_path / "other.json")


@pytest.mark.needs_node
def test_reshard_keeps_model_and_weights(layers_model: Path, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    code, out = _cli("convert", *_TO_LAYERS, layers_model.parent, tmp_path / "out", "--weight-shard-size-bytes", "1000")
    assert code == 0, out
    src, dst = _doc(layers_model), _doc(tmp_path / "out" / "model.json")
    assert list(dst) == list(src) and dst["convertedBy"] == CONVERTED_BY and src["convertedBy"] is None
    assert {k: v for k, v in dst.items() if k not in ("convertedBy", "weightsManifest")} == {
        k: v for k, v in src.items() if k not in ("convertedBy", "weightsManifest")}
    assert [w for g in dst["weightsManifest"] for w in g["weights"]] == src["weightsManifest"][0]["weights"]
    paths = dst["weightsManifest"][0]["paths"]
    sizes = [(tmp_path / "out" / p).stat().st_size for p in paths]
    assert len(paths) > 10 and set(sizes[:-1]) == {1000}
    assert sum(sizes) == (layers_model.parent / "weights.bin").stat().st_size
    before, after = dict(read_weights(layers_model)), dict(read_weights(tmp_path / "out" / "model.json"))
    assert list(before) == list(after) and all(np.array_equal(before[k], after[k]) for k in before)
    np.testing.assert_array_equal(_predict(tfjs, tmp_path / "out" / "model.json"), _predict(tfjs, layers_model))


@pytest.mark.needs_node
@pytest.mark.parametrize("dtype", ["float16", "uint16", "uint8"])
def test_quantized_layers_model_predicts(layers_model: Path, tmp_path: Path, tfjs: TfjsRuntime, dtype: str) -> None:
    code, out = _cli("convert", *_TO_LAYERS, f"--quantize-{dtype}", layers_model, tmp_path / "q",
                     "--weight-shard-size-bytes", "999")
    assert code == 0, out
    assert "download:" in out and dtype in out
    original = tfjs.weights(layers_model, kind="layers")
    assert check_decoded(tmp_path / "q", tfjs.weights(tmp_path / "q" / "model.json", kind="layers"), original) >= 12
    iteration = next(w for g in _doc(tmp_path / "q" / "model.json")["weightsManifest"] for w in g["weights"]
                     if w["name"] == "iter")
    assert iteration == {"name": "iter", "shape": [], "dtype": "int32", "group": "optimizer"}
    for backend in ("cpu", "wasm"):
        ref, got = _predict(tfjs, layers_model, backend), _predict(tfjs, tmp_path / "q" / "model.json", backend)
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        print(f"layers {dtype}@{backend}: max |output error| / max |output| = {rel:.2e}")
        assert ref.std() > 0.1 and 0 < rel <= OUTPUT_BOUND[dtype]


@pytest.mark.needs_node
def test_split_by_layer_and_requantize(layers_model: Path, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    to_layers = ("--output-format", "tfjs_layers_model")
    assert _cli("convert", *to_layers, layers_model, tmp_path / "u8", "--quantize_uint8", "*kernel*")[0] == 0
    code, out = _cli("convert", *to_layers, tmp_path / "u8", tmp_path / "split", "--split_weights_by_layer",
                     "--quantize-float16", "*/kernel", "--weight-shard-size-bytes", "600")
    assert code == 0, out
    manifest = _doc(tmp_path / "split" / "model.json")["weightsManifest"]
    groups = [[w["name"] for w in g["weights"]] for g in manifest]
    assert groups == [["conv1/kernel", "conv1/bias"],
                      ["bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_variance"],
                      ["dw1/depthwise_kernel", "dw1/bias"], ["head_fc1/kernel", "head_fc1/bias"],
                      ["head_fc2/kernel", "head_fc2/bias"], ["logits/kernel", "logits/bias"], ["iter"]]
    for g, group in enumerate(manifest, 1):
        n = len(group["paths"])
        assert group["paths"] == [f"group{g}-shard{i}of{n}.bin" for i in range(1, n + 1)]
    # The uint8 kernels were decoded (q*scale+min) and re-encoded: float16 of those values, nothing else.
    u8 = dict(read_weights(tmp_path / "u8" / "model.json"))
    split = dict(read_weights(tmp_path / "split" / "model.json"))
    for entry in (w for g in manifest for w in g["weights"]):
        value = split[entry["name"]]
        is_kernel = entry["name"] in ("conv1/kernel", "head_fc1/kernel", "head_fc2/kernel", "logits/kernel")
        assert ("quantization" in entry) == is_kernel, entry
        expected = u8[entry["name"]].astype(np.float16).astype(np.float32) if is_kernel else u8[entry["name"]]
        np.testing.assert_array_equal(value, expected, err_msg=entry["name"])
    ref = _predict(tfjs, tmp_path / "u8" / "model.json")
    rel = float(np.abs(_predict(tfjs, tmp_path / "split" / "model.json") - ref).max() / np.abs(ref).max())
    assert rel <= OUTPUT_BOUND["float16"]


@pytest.mark.needs_node
@pytest.mark.parametrize(("damage", "message"), [("missing", "is missing"), ("truncated", "needs 14")])
def test_broken_input_fails_in_one_line(layers_model: Path, tmp_path: Path, damage: str, message: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(layers_model.parent, src)
    if damage == "missing":
        (src / "weights.bin").unlink()
    else:
        (src / "weights.bin").write_bytes((src / "weights.bin").read_bytes()[:-4])
    code, out = _cli("convert", "--output-format", "tfjs_layers_model", src, tmp_path / "out")
    assert code == 2 and message in out and "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.needs_node
def test_routes_and_layers_only_flags(layers_model: Path, tmp_path: Path) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    code, out = _cli("convert", tmp_path / "m.onnx", tmp_path / "g", "--output-format", "keras")
    assert code == 2 and "no conversion from onnx to keras" in out
    assert "tfjs_layers_model -> tfjs_layers_model" in out and "onnx -> tfjs_graph_model" in out
    code, out = _cli("convert", tmp_path / "m.onnx", tmp_path / "g", "--split-weights-by-layer")
    assert code == 2 and "--split-weights-by-layer applies to tfjs_layers_model output only" in out
    code, out = _cli("convert", tmp_path / "m.onnx", tmp_path / "g", "--output-format", "onnx", "--quantize-uint8")
    assert code == 2 and "--quantize-* applies to tfjs_graph_model and tfjs_layers_model output only" in out
    assert not (tmp_path / "g").exists()


@pytest.mark.needs_node
def test_layers_route_keeps_output_rules(layers_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(layers_model.parent, src)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    code, out = _cli("convert", "--output-format", "tfjs_layers_model", src, tmp_path / "out")
    assert code == 2 and "--overwrite" in out and (tmp_path / "out" / "keep.txt").exists()
    assert _cli("convert", "--output-format", "tfjs_layers_model", src, tmp_path / "out", "--overwrite")[0] == 0
    assert not (tmp_path / "out" / "keep.txt").exists() and (tmp_path / "out" / "model.json").exists()
    for target in (src, tmp_path):  # the input's own directory, or one that contains it
        code, out = _cli("convert", "--output-format", "tfjs_layers_model", src / "model.json", target, "--overwrite")
        assert code == 2 and "would overwrite the input" in out
    assert sorted(p.name for p in src.iterdir()) == ["model.json", "weights.bin"]
