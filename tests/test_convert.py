"""The convert path end to end: CLI behaviour, model.json contract, determinism, external data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import ort_run
from tfjs_pivot.cli import main


def mlp(weight_scale: float = 1.0, big_int: int | None = None) -> onnx.ModelProto:
    """x[N,8] -> MatMul -> Add -> Relu -> MatMul -> y[N,4], optionally with an int64 side path."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array((rng.normal(size=(8, 16)) * weight_scale).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(size=16).astype(np.float32), "b1"),
             numpy_helper.from_array(rng.normal(size=(16, 4)).astype(np.float32), "w2")]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
             helper.make_node("Relu", ["hb"], ["r"], name="act"),
             helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])]
    if big_int is not None:
        inits.append(numpy_helper.from_array(np.array([big_int], np.int64), "big"))
        inputs.append(helper.make_tensor_value_info("k", TensorProto.INT64, [1]))
        nodes.append(helper.make_node("Add", ["k", "big"], ["k2"], name="int_add"))
        outputs.append(helper.make_tensor_value_info("k2", TensorProto.INT64, [1]))
    graph = helper.make_graph(nodes, "mlp", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="unit-test")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_model_json_contract(tmp_path: Path) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx")
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"))
    assert code == 0, out
    doc = json.loads((tmp_path / "out" / "model.json").read_text())
    assert list(doc) == ["format", "generatedBy", "convertedBy", "signature", "modelTopology", "weightsManifest"]
    assert doc["format"] == "graph-model" and doc["convertedBy"].startswith("tfjs-pivot v")
    assert doc["generatedBy"] == "onnx (unit-test)"
    assert set(doc["modelTopology"]) == {"node", "library", "versions"}
    assert list(doc["signature"]["inputs"]) == ["x"] and list(doc["signature"]["outputs"]) == ["y"]
    consts = [n["name"] for n in doc["modelTopology"]["node"] if n["op"] == "Const"]
    manifest = doc["weightsManifest"]
    assert len(manifest) == 1 and manifest[0]["paths"] == ["group1-shard1of1.bin"]
    assert [w["name"] for w in manifest[0]["weights"]] == consts
    assert {w["dtype"] for w in manifest[0]["weights"]} <= {"float32", "int32", "bool"}
    assert "_FusedMatMul" in {n["op"] for n in doc["modelTopology"]["node"]}


def test_conversion_is_byte_identical(tmp_path: Path) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx")
    blobs = []
    for name in ("a", "b"):
        code, _ = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / name), "--weight-shard-size-bytes", "100")
        assert code == 0
        blobs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert blobs[0] == blobs[1]
    assert len(blobs[0]) > 3  # several shards of 100 bytes


@pytest.mark.needs_node
def test_sharded_external_data_model_runs_in_tfjs(tmp_path: Path, tfjs: TfjsRuntime) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="m.onnx.data", size_threshold=0)
    assert (tmp_path / "m.onnx.data").stat().st_size > 500
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--weight-shard-size-bytes", "64")
    assert code == 0, out
    x = np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32)
    ref = ort_run(tmp_path / "m.onnx", {"x": x})["y"]
    for backend in ("cpu", "wasm"):
        got = tfjs.run(tmp_path / "out" / "model.json", {"x": x}, backend=backend)["y"]  # type: ignore[arg-type]
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4 * max(1.0, float(np.abs(ref).max())))


def test_onnx_output_format_is_the_optimized_pivot(tmp_path: Path) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx")
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--output-format", "onnx")
    assert code == 0, out
    pivot = onnx.load(tmp_path / "out" / "model.onnx")
    assert pivot.opset_import[0].version == 21
    x = np.ones((2, 8), np.float32)
    np.testing.assert_allclose(ort_run(tmp_path / "out" / "model.onnx", {"x": x})["y"],
                               ort_run(tmp_path / "m.onnx", {"x": x})["y"], rtol=1e-6)


def test_int64_constant_out_of_range_is_one_clear_error(tmp_path: Path) -> None:
    onnx.save(mlp(big_int=2**40), tmp_path / "m.onnx")
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"))
    assert code == 2
    assert "int32" in out and "Traceback" not in out
    assert not (tmp_path / "out").exists()


def test_int64_constant_in_range_becomes_int32(tmp_path: Path) -> None:
    onnx.save(mlp(big_int=2**30), tmp_path / "m.onnx")
    assert _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"))[0] == 0
    doc = json.loads((tmp_path / "out" / "model.json").read_text())
    assert doc["signature"]["inputs"]["k"]["dtype"] == "DT_INT32"


_EMPTY_SEQUENTIAL = (b'{"format": "layers-model", '
                     b'"modelTopology": {"class_name": "Sequential", "config": {"layers": []}}}')


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.onnx", None, "no such file"),
    ("bad.onnx", b"not a model", "not a readable ONNX"),
    ("bad.h5", b"not a model", "not a readable HDF5 file"),
    ("bad.keras", b"PK\x03\x04junk", "not a readable .keras archive"),
    ("model.json", _EMPTY_SEQUENTIAL, "has no layers"),
])
def test_bad_input_fails_in_one_line(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_bytes(content)
    code, out = _cli("convert", str(src), str(tmp_path / "out"), "--output-format", "tfjs_graph_model")
    assert code == 2 and message in out and "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ([name] if content else [])


def test_non_empty_output_needs_overwrite(tmp_path: Path) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"))
    assert code == 2 and "--overwrite" in out
    assert (tmp_path / "out" / "keep.txt").exists()
    assert _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--overwrite")[0] == 0
    assert not (tmp_path / "out" / "keep.txt").exists()


def test_old_opset_is_normalized(tmp_path: Path) -> None:
    model = mlp()
    model.opset_import[0].version = 11
    onnx.save(model, tmp_path / "m.onnx")
    code, out = _cli("convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--output-format", "onnx")
    assert code == 0, out
    assert onnx.load(tmp_path / "out" / "model.onnx").opset_import[0].version == 21


def test_core_imports_no_framework(tmp_path: Path) -> None:
    onnx.save(mlp(), tmp_path / "m.onnx")
    code = ("import sys; from pathlib import Path; from tfjs_pivot.convert import convert; "
            f"convert(Path({str(tmp_path / 'm.onnx')!r}), Path({str(tmp_path / 'o')!r})); "
            "bad = [m for m in ('torch', 'tensorflow', 'jax', 'tf2onnx', 'keras') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.needs_node
def test_readme_example_runs() -> None:
    """The README's first set-up command ends with this script: it must keep working."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "examples" / "run_example.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "OK: TensorFlow.js (wasm) matches onnxruntime" in done.stdout, done.stderr
