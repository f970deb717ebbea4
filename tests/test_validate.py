"""tfjs-pivot validate and convert --validate: pass, deliberate breakage found at its node, quantized, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backends import tfjs_runtime
from pivot.errors import RuntimeUnavailableError
from tfjs_format.weights import stored_nbytes
from tfjs_pivot.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_convnet.onnx"
pytestmark = pytest.mark.needs_node


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def converted(tmp_path: Path) -> Path:
    out = tmp_path / "model"
    code, text = _run("convert", str(EXAMPLE), str(out))
    assert code == 0, text
    return out


def _scale_weight(model_dir: Path, name: str, factor: float) -> None:
    """Multiply one float32 weight inside the shard bytes, as a broken converter or a corrupted upload would."""
    group = json.loads((model_dir / "model.json").read_text())["weightsManifest"][0]
    blob = bytearray(b"".join((model_dir / p).read_bytes() for p in group["paths"]))
    offset = 0
    for entry in group["weights"]:
        size = stored_nbytes(entry)
        if entry["name"] == name:
            arr = np.frombuffer(bytes(blob[offset:offset + size]), np.float32) * np.float32(factor)
            blob[offset:offset + size] = arr.astype(np.float32).tobytes()
        offset += size
    assert len(group["paths"]) == 1
    (model_dir / group["paths"][0]).write_bytes(bytes(blob))


def test_correct_conversion_passes(converted: Path, tmp_path: Path) -> None:
    code, text = _run("validate", str(EXAMPLE), str(converted), "--samples", "3", "--report", str(tmp_path / "r.json"))
    assert code == 0, text
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["passed"] and doc["stages"] == ["source", "pivot", "tfjs"] and doc["samples"] == 3
    pairs = {tuple(m["stages"]) for m in doc["metrics"]}
    assert pairs == {("source", "pivot"), ("pivot", "tfjs"), ("source", "tfjs")}
    assert all(m["cosine"] > 0.9999 and m["max_abs"] <= m["bound"] for m in doc["metrics"])


@pytest.mark.parametrize(("weight", "node"), [
    ("features/features.3/Conv/filter", "/features/features.5/Relu"),  # depthwise conv + BN + ReLU, fused
    ("head/Gemm/b_t", "/head/Gemm"),
])
def test_altered_weight_is_found(converted: Path, tmp_path: Path, weight: str, node: str) -> None:
    _scale_weight(converted, weight, 1.5)
    code, text = _run("validate", str(EXAMPLE), str(converted), "--report", str(tmp_path / "r.json"))
    assert code == 1, text
    doc = json.loads((tmp_path / "r.json").read_text())
    found = doc["divergence"]
    assert found["node"] == node and weight in found["tfjs_weights"]
    assert found["max_abs"] > found["bound"]
    assert f"first diverging node: {node}" in text


def test_quantized_model_reports_its_error(tmp_path: Path) -> None:
    out = tmp_path / "q"
    code, text = _run("convert", str(EXAMPLE), str(out), "--quantize-uint8", "--validate")
    assert code == 0, text
    assert "quantized uint8" in text and "note: weights are quantized (uint8)" in text
    code, text = _run("validate", str(EXAMPLE), str(out), "--rtol", "1e-6", "--report", str(tmp_path / "r.json"))
    doc = json.loads((tmp_path / "r.json").read_text())
    tfjs = next(m for m in doc["metrics"] if m["stages"] == ["pivot", "tfjs"])
    assert code == 1 and tfjs["max_abs"] > 1e-4  # the uint8 error is real and reported


def test_convert_validate_fails_and_keeps_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tfjs_pivot.cli as cli

    real = cli.validate

    def broken(source: Path, converted: Path, opts: object) -> object:
        _scale_weight(converted, "head/Gemm/b_t", -1.0)
        return real(source, converted, opts)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "validate", broken)
    code, text = _run("convert", str(EXAMPLE), str(tmp_path / "out"), "--validate")
    assert code == 1 and "does not match the source (kept for inspection)" in text
    assert (tmp_path / "out" / "model.json").is_file()


@pytest.mark.parametrize(("arrays", "message"), [
    ({"wrong_name": np.zeros((1, 3, 32, 32), np.float32)}, "not model inputs"),
    ({"input": np.zeros((1, 3, 8, 8), np.float32)}, "has shape [1, 3, 8, 8]"),
])
def test_bad_npz_is_a_clear_error(converted: Path, tmp_path: Path, arrays: dict[str, np.ndarray],
                                  message: str) -> None:
    np.savez(tmp_path / "in.npz", **arrays)
    code, text = _run("validate", str(EXAMPLE), str(converted), "--inputs", str(tmp_path / "in.npz"))
    assert code == 2 and message in text and "Traceback" not in text


def test_missing_node_is_a_clear_error(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tfjs_runtime.shutil, "which", lambda _: None)
    code, text = _run("validate", str(EXAMPLE), str(converted))
    assert code == 2 and "Node.js was not found" in text and "npm ci --prefix" in text
    with pytest.raises(RuntimeUnavailableError):
        tfjs_runtime.TfjsRuntime()


def test_frozen_graph_validates_with_its_output_node_names(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    weights = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    fn = tf.function(lambda x: tf.nn.relu(tf.matmul(x, weights)) * 2.0,
                     input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    graph_def = convert_variables_to_constants_v2(fn.get_concrete_function()).graph.as_graph_def()
    src = tmp_path / "frozen.pb"
    src.write_bytes(graph_def.SerializeToString())
    output = next(n.name for n in reversed(graph_def.node) if n.op not in ("Const", "NoOp", "Placeholder"))
    code, text = _run("convert", str(src), str(tmp_path / "out"), "--output_node_names", output, "--validate")
    assert code == 0 and "PASS" in text, text
    code, text = _run("validate", str(src), str(tmp_path / "out"), "--output-node-names", output, "--samples", "2")
    assert code == 0 and "source -> pivot" in text, text
    code, text = _run("validate", str(src), str(tmp_path / "out"))
    assert code == 2 and "--output-node-names" in text
