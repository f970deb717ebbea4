"""tfjs-pivot profile: latency and time per op, node and source node in real TensorFlow.js; one-line refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from backends import tfjs_runtime
from backends.tfjs_runtime import TfjsRuntime
from tfjs_pivot.cli import main
from tfjs_pivot.profile_cli import profile
from tfjs_pivot.profile_report import NO_SOURCE, source_of

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_convnet.onnx"
REPORT_KEYS = {"schema", "model", "backend", "threads", "tfjs", "mode", "runs", "warmup", "inputs", "latency_ms",
               "profiled_latency_ms", "kernel_ms", "kernel_calls", "tf_profile_kernel_ms", "tf_profile_kernels",
               "ops", "nodes", "outside_nodes", "source_nodes", "source_note", "notes"}


def _profile(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(profile, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("profile") / "model"
    result = CliRunner().invoke(main, ["convert", str(EXAMPLE), str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module", params=["cpu", "wasm"])
def report(request: pytest.FixtureRequest, converted: Path, tfjs: TfjsRuntime) -> dict[str, Any]:
    code, out, err = _profile(str(converted), "--backend", request.param, "--runs", "3", "--format", "json",
                              "--source", str(EXAMPLE))
    assert code == 0, err
    return dict(json.loads(out))


def _model_nodes(converted: Path) -> dict[str, str]:
    doc = json.loads((converted / "model.json").read_text())
    return {n["name"]: n["op"] for n in doc["modelTopology"]["node"]}


def _onnx_names() -> set[str]:
    graph = onnx.load(str(EXAMPLE)).graph
    return {n.name for n in graph.node} | {v.name for v in [*graph.input, *graph.output]}


# Each check reads the JSON report against the converted model and the source: (report, model nodes) -> ok.
CHECKS: list[tuple[str, Callable[[dict[str, Any], dict[str, str]], bool]]] = [
    ("documented keys", lambda r, _: set(r) == REPORT_KEYS and r["schema"] == "tfjs-pivot.profile/1"),
    ("latency positive",
     lambda r, _: 0 < r["latency_ms"]["min"] <= r["latency_ms"]["median"] <= r["latency_ms"]["max"]),
    ("every graph op is in model.json", lambda r, m: {o["op"] for o in r["ops"]} <= set(m.values())),
    ("every node is in model.json with its op", lambda r, m: all(m.get(n["name"]) == n["op"] for n in r["nodes"])),
    ("nodes sorted by time", lambda r, _: [n["ms"] for n in r["nodes"]] == sorted((n["ms"] for n in r["nodes"]),
                                                                                  reverse=True)),
    # The sum of the per-node medians is below the slowest timed run (noise aside) and not negligible.
    ("node times sum to a sane part of the latency",
     lambda r, _: 0 < sum(n["ms"] for n in r["nodes"]) <= 2 * r["profiled_latency_ms"]["max"]),
    ("shares sum to 1", lambda r, _: abs(sum(o["share"] for o in r["ops"]) - 1) < 1e-6),
    ("every kernel call is counted (as tf.profile counts them)",
     lambda r, _: r["kernel_calls"] == r["tf_profile_kernels"]),
    ("the compute ops of the example ran", lambda r, _: {"_FusedConv2D", "FusedDepthwiseConv2dNative", "MaxPool",
                                                         "_FusedMatMul"} <= {o["op"] for o in r["ops"]}),
    ("source nodes exist in the ONNX file", lambda r, _: {s["name"] for s in r["source_nodes"]} <= _onnx_names()),
    ("source nodes cover every tfjs node", lambda r, _: sorted(t for s in r["source_nodes"] for t in s["tfjs_nodes"])
     == sorted(n["name"] for n in r["nodes"])),
]


@pytest.mark.needs_node
@pytest.mark.parametrize(("what", "check"), CHECKS, ids=[c[0] for c in CHECKS])
def test_profile_report(report: dict[str, Any], converted: Path, what: str,
                        check: Callable[[dict[str, Any], dict[str, str]], bool]) -> None:
    assert check(report, _model_nodes(converted)), what


@pytest.mark.needs_node
def test_text_report(converted: Path, tfjs: TfjsRuntime) -> None:
    code, out, err = _profile(str(converted), "--runs", "2", "--top", "3")
    assert code == 0, err
    assert out.startswith("model ") and "latency   median" in out and "time per op (top 3 of" in out
    assert "time per tfjs node (top 3 of" in out and "source nodes: unknown for this model" in out


def _dynamic(converted: Path, tmp_path: Path) -> Path:
    """The example with its input declared [-1, 3, -1, -1] (signature and Placeholder)."""
    out = tmp_path / "dynamic"
    out.mkdir()
    for f in converted.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    doc = json.loads((converted / "model.json").read_text())
    dims = [{"size": s} for s in ("-1", "3", "-1", "-1")]
    doc["signature"]["inputs"]["input"]["tensorShape"]["dim"] = dims
    for n in doc["modelTopology"]["node"]:
        if n["op"] == "Placeholder":
            n["attr"]["shape"]["shape"]["dim"] = dims
    (out / "model.json").write_text(json.dumps(doc))
    return out


@pytest.mark.needs_node
def test_dynamic_input_sized_by_input_shape(converted: Path, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    code, out, err = _profile(str(_dynamic(converted, tmp_path)), "--runs", "1", "--format", "json",
                              "--input-shape", "input:1,3,24,24")
    assert code == 0, err
    assert json.loads(out)["inputs"] == {"input": [1, 3, 24, 24]}


def _layers(tmp_path: Path) -> Path:
    out = tmp_path / "layers"
    out.mkdir()
    (out / "model.json").write_text(json.dumps({"format": "layers-model", "modelTopology": {
        "class_name": "Sequential", "config": {"name": "s", "layers": []}}, "weightsManifest": []}))
    return out


def _npz(tmp_path: Path, **arrays: np.ndarray) -> str:
    np.savez(tmp_path / "in.npz", **arrays)  # type: ignore[arg-type]
    return str(tmp_path / "in.npz")


# (arguments from (converted dir, tmp_path), expected part of the one error line); none of them needs Node.
REFUSALS: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    ("missing dir", lambda c, t: [str(t / "nope")], "no such file or directory"),
    ("dir without model.json", lambda c, t: [str(t)], "no model.json in this directory"),
    ("layers model", lambda c, t: [str(_layers(t))], "profile supports graph models"),
    ("not JSON", lambda c, t: [str(_write(t / "model.json", "{nope"))], "model.json"),
    ("bad --inputs key", lambda c, t: [str(c), "--inputs", _npz(t, wrong=np.zeros((1, 3, 32, 32), np.float32))],
     "are not model inputs"),
    ("bad --inputs shape", lambda c, t: [str(c), "--inputs", _npz(t, input=np.zeros((1, 3), np.float32))],
     "has shape [1, 3]"),
    ("bad --inputs dtype", lambda c, t: [str(c), "--inputs", _npz(t, input=np.zeros((1, 3, 32, 32), np.complex64))],
     "holds complex64, the model takes float32"),
    ("not an npz", lambda c, t: [str(c), "--inputs", str(_write(t / "x.npz", "text"))], "not a readable .npz"),
    ("dynamic dims without a size", lambda c, t: [str(_dynamic(c, t))], "--input-shape input:1,3,1,1"),
    ("--input-shape for no input", lambda c, t: [str(c), "--input-shape", "x:1,2"], "are not model inputs"),
    ("missing --source", lambda c, t: [str(c), "--source", str(t / "nope.onnx")], "no such file or directory"),
    ("--input-shape that does not fit", lambda c, t: [str(c), "--input-shape", "input:1,3,8,8"], "does not fit"),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(("what", "args", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_is_one_line(converted: Path, tmp_path: Path, what: str, args: Callable[[Path, Path], list[str]],
                             message: str) -> None:
    code, out, err = _profile(*args(converted, tmp_path))
    assert code == 2 and out == "", what
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err, err


def test_missing_node_is_one_line(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tfjs_runtime.shutil, "which", lambda _: None)
    code, _, err = _profile(str(converted))
    assert code == 2 and len(err.splitlines()) == 1 and "Node.js was not found" in err


def test_registered_in_the_cli(converted: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profile", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such file or directory" in result.stderr


def _graph(tmp_path: Path, named: bool) -> Path:
    """x -> Relu -> Sigmoid, Mul(relu, sigmoid) -> y (a SiLU), with or without node names."""
    nodes = [onnx.helper.make_node(op, ins, [out], name=f"my/{op}" if named else "")
             for op, ins, out in (("Relu", ["x"], "r"), ("Sigmoid", ["r"], "s"), ("Mul", ["r", "s"], "y"))]
    info = [onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [4, 8]) for n in ("x", "y")]
    model = onnx.helper.make_model(onnx.helper.make_graph(nodes, "g", info[:1], info[1:]),
                                   opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.save(model, str(tmp_path / "m.onnx"))
    return tmp_path / "m.onnx"


# (named source nodes, the possible source-node names (a fusion may merge nodes), one that must be there, note)
SOURCES = [
    (True, {"my/Relu", "my/Sigmoid", "my/Mul", "y"}, "my/Mul", None),
    (False, {NO_SOURCE, "y"}, NO_SOURCE, "3 nodes of the source have no name"),
]


@pytest.mark.needs_node
@pytest.mark.parametrize(("named", "possible", "present", "note"), SOURCES)
def test_source_nodes_of_a_conversion(tmp_path: Path, tfjs: TfjsRuntime, named: bool, possible: set[str],
                                      present: str, note: str | None) -> None:
    source = _graph(tmp_path, named)
    assert CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "out")]).exit_code == 0
    code, out, err = _profile(str(tmp_path / "out"), "--runs", "1", "--format", "json", "--source", str(source),
                              "--backend", "cpu")
    assert code == 0, err
    report = json.loads(out)
    names = {s["name"] for s in report["source_nodes"]}
    assert present in names and names <= possible, names
    assert any(note in n for n in report["notes"]) if note else not report["notes"]


# (tfjs node name, the source names, expected source): emitters name nodes <source>[/<suffix>][_<k>].
MAPPING = [
    ("features/features.2/Relu", {"features/features.2/Relu"}, "features/features.2/Relu"),
    ("features/features.6/MaxPool/maxpool", {"features/features.6/MaxPool"}, "features/features.6/MaxPool"),
    ("input/t0231", {"input"}, "input"),
    ("a/MatMul/matmul/t0213", {"a/MatMul", "a"}, "a/MatMul"),
    ("a/Add_1", {"a/Add", "a/Add_1"}, "a/Add_1"),
    ("a/Add_2", {"a/Add"}, "a/Add"),
    ("a/Conv/bias_1", {"a/Conv"}, "a/Conv"),
    ("elsewhere/x", {"a"}, None),
]


@pytest.mark.parametrize(("name", "sources", "expected"), MAPPING)
def test_source_of(name: str, sources: set[str], expected: str | None) -> None:
    assert source_of(name, {s: (s, "Op") for s in sources}) == expected
    assert NO_SOURCE not in sources
