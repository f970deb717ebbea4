"""TensorFlow inputs: SavedModels, a frozen graph and TF Hub modules built here; TF vs onnxruntime vs tfjs."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socket
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import frontends
from backends.base import BackendOptions
from backends.tfjs_runtime import TfjsRuntime
from frontends.base import FrontendOptions
from frontends.tensorflow import KerasSavedModelFrontend, TfFrozenModelFrontend, TfHubFrontend, TfSavedModelFrontend
from pivot.errors import InputError, MissingDependencyError, UnsupportedOpsError
from pivot.onnx_run import run_onnx
from tests.parity import compare
from tfjs_pivot.convert import ConvertOptions, convert, load_pivot

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-4
Feeds = dict[str, np.ndarray]


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TF frontends, whether or not frontends/__init__.py registers them yet."""
    for fe in (TfSavedModelFrontend(), TfFrozenModelFrontend(), TfHubFrontend(), KerasSavedModelFrontend()):
        if fe.name not in frontends.FRONTENDS:
            monkeypatch.setitem(frontends.FRONTENDS, fe.name, fe)


@pytest.fixture(scope="session")
def tf() -> ModuleType:
    from frontends.tensorflow.deps import tensorflow

    try:
        module = tensorflow("test")  # first: it sets TensorFlow's logging and oneDNN environment
    except MissingDependencyError:
        pytest.skip("TensorFlow is not installed (extra tensorflow)")
    pytest.importorskip("tf2onnx")
    return module


def _randn(rng: np.random.Generator, *shape: int, scale: float = 0.3) -> np.ndarray:
    return rng.normal(0.0, scale, shape).astype(np.float32)


def _save(tf: ModuleType, module: Any, path: Path, signature: str = "serving_default") -> Path:
    tf.saved_model.save(module, str(path), signatures={signature: module.__call__})
    return path


def _convnet(tf: ModuleType) -> Any:
    """Conv + bias + relu, max pool, depthwise conv, batch norm, strided 1x1 conv + relu6, dense logits."""
    rng = np.random.default_rng(1)

    class ConvNet(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.k1, self.b1 = tf.Variable(_randn(rng, 3, 3, 3, 8)), tf.Variable(_randn(rng, 8, scale=0.1))
            self.dw = tf.Variable(_randn(rng, 3, 3, 8, 1))
            self.mean, self.var = tf.Variable(_randn(rng, 8, scale=0.1)), tf.Variable(rng.uniform(0.5, 1.5, 8)
                                                                                      .astype(np.float32))
            self.gamma, self.beta = tf.Variable(rng.uniform(0.5, 1.5, 8).astype(np.float32)), tf.Variable(
                _randn(rng, 8, scale=0.1))
            self.k2, self.w, self.b = tf.Variable(_randn(rng, 1, 1, 8, 4)), tf.Variable(_randn(rng, 64, 5)), \
                tf.Variable(_randn(rng, 5, scale=0.1))

        @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)])
        def __call__(self, image: Any) -> dict[str, Any]:
            x = tf.nn.relu(tf.nn.conv2d(image, self.k1, 1, "SAME") + self.b1)
            x = tf.nn.max_pool2d(x, 2, 2, "VALID")
            x = tf.nn.depthwise_conv2d(x, self.dw, [1, 1, 1, 1], "SAME")
            x = tf.nn.batch_normalization(x, self.mean, self.var, self.beta, self.gamma, 1e-3)
            x = tf.nn.relu6(tf.nn.conv2d(x, self.k2, 2, "VALID"))
            return {"logits": tf.matmul(tf.reshape(x, [-1, 64]), self.w) + self.b}

    return ConvNet()


def _two_io(tf: ModuleType) -> Any:
    """Inputs declared (beta, alpha), outputs {zeta, eta}: the converted order must be sorted by key."""
    rng = np.random.default_rng(2)

    class TwoIO(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(_randn(rng, 4, 3, scale=0.8))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None, 1], tf.float32)])
        def __call__(self, beta: Any, alpha: Any) -> dict[str, Any]:
            return {"zeta": tf.tanh(tf.matmul(beta, self.w)) * alpha, "eta": tf.reduce_sum(beta * alpha, axis=1)}

    return TwoIO()


def _while(tf: ModuleType) -> Any:
    """tf.while_loop with a trip count that is a model input."""

    class Loop(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([], tf.int32)])
        def __call__(self, x: Any, n: Any) -> dict[str, Any]:
            _, y = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * 0.9 + tf.sin(acc)),
                                 [tf.constant(0), x])
            return {"y": y}

    return Loop()


def _scan(tf: ModuleType) -> Any:
    """A while loop that also collects every step in a TensorArray (an ONNX Loop scan output)."""

    class Scan(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32), tf.TensorSpec([], tf.int32)])
        def __call__(self, x: Any, n: Any) -> dict[str, Any]:
            def body(i: Any, acc: Any, steps: Any) -> tuple[Any, Any, Any]:
                acc = tf.tanh(acc * 1.3 + 0.1)
                return i + 1, acc, steps.write(i, acc)

            steps = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
            _, y, steps = tf.while_loop(lambda i, a, s: i < n, body, [tf.constant(0), x, steps])
            return {"y": y, "steps": steps.stack()}

    return Scan()


def _asserting(tf: ModuleType) -> Any:
    """Assert, CheckNumerics and print around a relu."""

    class Asserting(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def __call__(self, x: Any) -> dict[str, Any]:
            tf.debugging.Assert(tf.reduce_all(x > -100.0), [x])
            x = tf.debugging.check_numerics(x, "x must be finite")
            tf.print("x:", tf.shape(x))
            return {"out": tf.nn.relu(x) * 2.0 - 1.0}

    return Asserting()


def _build(tf: ModuleType, factory: Callable[[ModuleType], Any], path: Path, signature: str = "serving_default"
           ) -> Path:
    return _save(tf, factory(tf), path, signature)


@pytest.fixture(scope="session")
def saved(tf: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("saved_models")
    return {name: _build(tf, factory, root / name) for name, factory in
            (("convnet", _convnet), ("two_io", _two_io), ("while", _while), ("scan", _scan), ("asserts", _asserting))}


def _parity(fmt: str, src: Path, out: Path, runtime: TfjsRuntime, samples: list[Feeds],
            options: FrontendOptions | None = None) -> dict[str, Any]:
    """Convert once; for each sample, TF vs onnxruntime (pivot) vs tfjs cpu and wasm, within TOL."""
    opts = ConvertOptions(input_format=fmt, overwrite=True, frontend=options or FrontendOptions(),
                          backend=BackendOptions(require_backend="wasm"))
    convert(src, out, opts)
    pivot, _ = load_pivot(src, opts)
    frontend = frontends.get(fmt)
    for feeds in samples:
        ref = frontend.reference(src, feeds)  # type: ignore[attr-defined]
        assert ref is not None
        got = {"pivot": run_onnx(pivot, feeds)} | {b: runtime.run(out / "model.json", feeds, backend=b)
                                                   for b in ("cpu", "wasm")}
        for stage, outputs in got.items():
            assert sorted(outputs) == sorted(ref), stage
            for name, value in ref.items():
                c = compare(value, outputs[name], name, stage)
                assert c.relative <= TOL, f"{name}@{stage}: max abs error {c.max_abs:.3g} (scale {c.scale:.3g})"
    return json.loads((out / "model.json").read_text())


@pytest.mark.needs_node
def test_convnet_parity(saved: dict[str, Path], tmp_path: Path, tfjs: TfjsRuntime) -> None:
    rng = np.random.default_rng(0)
    samples = [{"image": rng.uniform(-1, 1, (b, 16, 16, 3)).astype(np.float32)} for b in (1, 3)]
    doc = _parity("tf_saved_model", saved["convnet"], tmp_path / "out", tfjs, samples)
    ops = {n["op"] for n in doc["modelTopology"]["node"]}
    assert {"_FusedConv2D", "MaxPool"} <= ops, ops
    assert list(doc["signature"]["inputs"]) == ["image"] and list(doc["signature"]["outputs"]) == ["logits"]


@pytest.mark.needs_node
def test_named_inputs_and_dict_outputs_keep_keys_in_sorted_order(saved: dict[str, Path], tmp_path: Path,
                                                                  tfjs: TfjsRuntime) -> None:
    rng = np.random.default_rng(0)
    samples = [{"beta": rng.uniform(-2, 2, (2, 4)).astype(np.float32),
                "alpha": rng.uniform(-2, 2, (2, 1)).astype(np.float32)}]
    doc = _parity("tf_saved_model", saved["two_io"], tmp_path / "a", tfjs, samples)
    assert list(doc["signature"]["inputs"]) == ["alpha", "beta"]
    assert list(doc["signature"]["outputs"]) == ["eta", "zeta"]
    assert "userDefinedMetadata" not in doc
    pivot, _ = load_pivot(saved["two_io"], ConvertOptions(input_format="tf_saved_model"))
    assert [v.name for v in pivot.graph.inputs] == ["alpha", "beta"]
    assert [v.name for v in pivot.graph.outputs] == ["eta", "zeta"]
    # The same model converted again gives the same file (the official converter's order is random).
    convert(saved["two_io"], tmp_path / "b", ConvertOptions(input_format="tf_saved_model"))
    assert (tmp_path / "a" / "model.json").read_text() == (tmp_path / "b" / "model.json").read_text()


def test_structured_output_keys_reach_user_defined_metadata(saved: dict[str, Path], tmp_path: Path) -> None:
    opts = ConvertOptions(input_format="tf_saved_model", frontend=FrontendOptions(structured_outputs_names=True),
                          backend=BackendOptions(metadata={"author": {"name": "me"}}))
    convert(saved["two_io"], tmp_path / "out", opts)
    doc = json.loads((tmp_path / "out" / "model.json").read_text())
    assert doc["userDefinedMetadata"] == {"author": {"name": "me"}, "structuredOutputKeys": ["eta", "zeta"]}


@pytest.mark.needs_node
@pytest.mark.parametrize("control_flow_v2", [False, True], ids=["default", "control_flow_v2"])
def test_while_loop_with_dynamic_trip_count(saved: dict[str, Path], tmp_path: Path, tfjs: TfjsRuntime,
                                            control_flow_v2: bool) -> None:
    rng = np.random.default_rng(0)
    samples = [{"x": rng.uniform(-1, 1, (2, 3)).astype(np.float32), "n": np.asarray(n, np.int32)} for n in (0, 3, 7)]
    options = FrontendOptions(control_flow_v2=control_flow_v2)
    doc = _parity("tf_saved_model", saved["while"], tmp_path / "out", tfjs, samples, options)
    assert [n["op"] for n in doc["modelTopology"]["node"] if n["op"] == "StatelessWhile"] == ["StatelessWhile"]
    pivot, _ = load_pivot(saved["while"], ConvertOptions(input_format="tf_saved_model", frontend=options))
    assert [n.op_type for n in pivot.graph if n.op_type == "Loop"] == ["Loop"]


@pytest.mark.needs_node
def test_while_loop_collecting_a_tensor_array(saved: dict[str, Path], tmp_path: Path, tfjs: TfjsRuntime) -> None:
    rng = np.random.default_rng(1)
    samples = [{"x": rng.uniform(-1, 1, (b, 3)).astype(np.float32), "n": np.asarray(n, np.int32)}
               for b, n in ((2, 1), (3, 5))]
    doc = _parity("tf_saved_model", saved["scan"], tmp_path / "out", tfjs, samples)
    assert {"StatelessWhile", "TensorListStack"} <= {n["op"] for n in doc["modelTopology"]["node"]}


@pytest.mark.needs_node
def test_debug_ops_are_stripped_by_default(saved: dict[str, Path], tmp_path: Path, tfjs: TfjsRuntime) -> None:
    samples = [{"x": np.random.default_rng(0).uniform(-2, 2, (3, 4)).astype(np.float32)}]
    doc = _parity("tf_saved_model", saved["asserts"], tmp_path / "out", tfjs, samples)
    assert not {n["op"] for n in doc["modelTopology"]["node"]} & {"Assert", "CheckNumerics", "PrintV2"}


def test_strip_debug_ops_edits_the_graph_def(saved: dict[str, Path]) -> None:
    from frontends.tensorflow.graphdef import DEBUG_OPS, debug_nodes, node_name, strip_debug_ops
    from frontends.tensorflow.savedmodel import SavedModelRequest, freeze, signature_function

    req = SavedModelRequest("tf_saved_model")
    name, fn = signature_function(saved["asserts"], req)
    graph_def, _ = freeze(fn, name, req)
    before = debug_nodes(graph_def)
    assert {"Assert", "CheckNumerics", "PrintV2"} <= set(before)
    assert strip_debug_ops(graph_def) == sum(len(v) for v in before.values())
    assert debug_nodes(graph_def, DEBUG_OPS) == {}
    # No edge, data or control, points at a removed node (in the graph and in every function).
    scopes = [(graph_def.node, set())] + [(f.node_def, {a.name for a in f.signature.input_arg})
                                          for f in graph_def.library.function]
    for nodes, args in scopes:
        known = {n.name for n in nodes} | args
        assert all(node_name(r) in known for n in nodes for r in n.input)
    assert {n.op for n in graph_def.node if n.name in before["CheckNumerics"]} == {"Identity"}


def test_kept_debug_ops_are_reported(saved: dict[str, Path]) -> None:
    opts = ConvertOptions(input_format="tf_saved_model", frontend=FrontendOptions(strip_debug_ops=False))
    with pytest.raises(UnsupportedOpsError) as err:
        load_pivot(saved["asserts"], opts)
    assert {(i.op, i.reason) for i in err.value.items} >= {("Assert", "no_rule"), ("PrintV2", "no_rule")}
    assert "--strip-debug-ops" in err.value.report()


def test_ops_tf2onnx_cannot_convert_are_reported_together(tf: ModuleType, tmp_path: Path) -> None:
    class Special(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def __call__(self, x: Any) -> dict[str, Any]:
            return {"y": tf.math.lgamma(x) + tf.math.lgamma(x * 2.0) + tf.math.digamma(x)}

    src = _save(tf, Special(), tmp_path / "special")
    with pytest.raises(UnsupportedOpsError) as err:
        load_pivot(src, ConvertOptions(input_format="tf_saved_model"))
    found = {(i.op, i.reason, i.domain, len(i.nodes)) for i in err.value.items}
    assert found == {("Lgamma", "no_rule", "tensorflow", 2), ("Digamma", "no_rule", "tensorflow", 1)}


@pytest.mark.needs_node
def test_exact_gelu_and_erfc_convert(tf: ModuleType, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """TF 2.21 lowers exact gelu to Erfc, which tf2onnx 1.17 lacks: the frontend's own handler covers it."""
    class Gelu(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def __call__(self, x: Any) -> dict[str, Any]:
            return {"y": tf.math.erfc(x) + tf.nn.gelu(x * 3.0)}

    src = _save(tf, Gelu(), tmp_path / "gelu")
    samples = [{"x": np.random.default_rng(k).normal(0.0, 2.0, (3, 4)).astype(np.float32)} for k in range(2)]
    _parity("tf_saved_model", src, tmp_path / "out", tfjs, samples)


def test_unknown_signature_and_tags_are_one_line_errors(saved: dict[str, Path]) -> None:
    with pytest.raises(InputError, match=r'signature "nope" does not exist.*serving_default'):
        load_pivot(saved["two_io"], ConvertOptions(input_format="tf_saved_model",
                                                   frontend=FrontendOptions(signature_name="nope")))
    with pytest.raises(InputError, match="cannot load the SavedModel with tags") as err:
        load_pivot(saved["two_io"], ConvertOptions(input_format="tf_saved_model",
                                                   frontend=FrontendOptions(saved_model_tags=("train",))))
    assert "\n" not in str(err.value)


# -- frozen graphs ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def frozen_pb(tf: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    net = _convnet(tf)
    fn = net.__call__.get_concrete_function()
    graph_def = convert_variables_to_constants_v2(fn).graph.as_graph_def()
    path = tmp_path_factory.mktemp("frozen") / "frozen_graph.pb"
    path.write_bytes(graph_def.SerializeToString())
    return path


def _frozen_output(path: Path) -> str:
    from frontends.tensorflow.frozen import read_graph_def
    from frontends.tensorflow.graphdef import sink_nodes

    (name,) = sink_nodes(read_graph_def(path))
    return name


@pytest.mark.needs_node
def test_frozen_graph_parity(frozen_pb: Path, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    assert frontends.detect_format(frozen_pb) == "tf_frozen_model"
    out_name = _frozen_output(frozen_pb)
    samples = [{"image": np.random.default_rng(3).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)}]
    doc = _parity("tf_frozen_model", frozen_pb, tmp_path / "out", tfjs, samples,
                  FrontendOptions(output_node_names=(out_name,)))
    assert list(doc["signature"]["inputs"]) == ["image"] and list(doc["signature"]["outputs"]) == [out_name]


def test_frozen_graph_needs_output_node_names(frozen_pb: Path) -> None:
    with pytest.raises(InputError, match=r"needs --output-node-names.*candidates: Identity"):
        load_pivot(frozen_pb, ConvertOptions(input_format="tf_frozen_model"))
    with pytest.raises(InputError, match=r"output node.*nope.*not in the graph"):
        load_pivot(frozen_pb, ConvertOptions(input_format="tf_frozen_model",
                                             frontend=FrontendOptions(output_node_names=("nope",))))


# -- TF Hub ---------------------------------------------------------------------------------------
def _hub_module(tf: ModuleType) -> Any:
    """A TF2 Hub-style module: a ``default`` signature over an MLP."""
    rng = np.random.default_rng(4)

    class Mlp(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1, self.w2 = tf.Variable(_randn(rng, 6, 8, scale=0.6)), tf.Variable(_randn(rng, 8, 2, scale=0.6))

        @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32)])
        def __call__(self, features: Any) -> dict[str, Any]:
            return {"default": tf.matmul(tf.nn.gelu(tf.matmul(features, self.w1), approximate=True), self.w2)}

    return Mlp()


@pytest.fixture(scope="session")
def hub_archive(tf: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The module as tfhub.dev serves it with ?tf-hub-format=compressed: a .tar.gz of the folder's content."""
    folder = _build(tf, _hub_module, tmp_path_factory.mktemp("hub") / "module", "default")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for item in sorted(folder.iterdir()):
            archive.add(item, arcname=item.name)
    return buf.getvalue()


def _cache_module(archive: bytes, cache: Path, handle: str) -> Path:
    folder = cache / hashlib.sha1(handle.encode("utf8")).hexdigest()
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    (cache / f"{folder.name}.descriptor.txt").write_text(f"Module: {handle}\n")
    return folder


@pytest.mark.needs_node
def test_hub_module_folder_parity(hub_archive: bytes, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    folder = _cache_module(hub_archive, tmp_path / "cache", "https://tfhub.dev/test/mlp/1")
    assert frontends.detect_format(folder) == "tf_hub"
    samples = [{"features": np.random.default_rng(5).uniform(-2, 2, (4, 6)).astype(np.float32)}]
    doc = _parity("tf_hub", folder, tmp_path / "out", tfjs, samples)
    assert list(doc["signature"]["outputs"]) == ["default"]


def test_hub_handle_resolves_through_the_cache_folder(hub_archive: bytes, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    handle = "https://tfhub.dev/test/mlp/1"
    _cache_module(hub_archive, tmp_path / "cache", handle)
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    # The CLI hands the handle over as a Path, which folds "//" into "/".
    result = convert(Path(handle), tmp_path / "out", ConvertOptions(input_format="tf_hub"))
    assert (result.output / "model.json").is_file()


class _HubServer(http.server.BaseHTTPRequestHandler):
    archive = b""
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        ok = self.path.endswith("?tf-hub-format=compressed")
        self.send_response(200 if ok else 404)
        self.end_headers()
        if ok:
            self.wfile.write(self.archive)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hub_server(hub_archive: bytes) -> Iterator[str]:
    """A loopback HTTP server that serves the module archive like tfhub.dev."""
    _HubServer.archive, _HubServer.requests = hub_archive, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HubServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hub_handle_is_downloaded_into_the_cache(hub_server: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    handle = f"{hub_server}/test/mlp/1"
    convert(Path(handle), tmp_path / "out", ConvertOptions(input_format="tf_hub"))
    folder = tmp_path / "cache" / hashlib.sha1(handle.encode("utf8")).hexdigest()
    assert (folder / "saved_model.pb").is_file()
    assert f"Module: {handle}" in (tmp_path / "cache" / f"{folder.name}.descriptor.txt").read_text()
    assert _HubServer.requests == ["/test/mlp/1?tf-hub-format=compressed"]
    convert(Path(handle), tmp_path / "again", ConvertOptions(input_format="tf_hub"))  # cached: no second request
    assert len(_HubServer.requests) == 1


def test_hub_handle_without_network_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match=r"cannot download TF Hub module .*without network access") as err:
        convert(Path(f"http://127.0.0.1:{port}/google/x/1"), tmp_path / "out", ConvertOptions(input_format="tf_hub"))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists() and not any((tmp_path / "cache").iterdir())


# -- format detection, Keras SavedModel, missing TensorFlow ---------------------------------------
def test_sniffing_tells_the_savedmodel_kinds_apart(tmp_path: Path) -> None:
    kinds = {"plain": [], "keras": ["keras_metadata.pb"], "hub1": ["tfhub_module.pb"]}
    for name, markers in kinds.items():
        (tmp_path / name / "variables").mkdir(parents=True)
        for f in ["saved_model.pb", *markers]:
            (tmp_path / name / f).write_bytes(b"\x08\x01")
    (tmp_path / "graph.pb").write_bytes(b"\x0a\x05\x0a\x01x")
    assert frontends.detect_format(tmp_path / "plain") == "tf_saved_model"
    assert frontends.detect_format(tmp_path / "keras") == "keras_saved_model"
    assert frontends.detect_format(tmp_path / "hub1") == "tf_hub"
    assert frontends.detect_format(tmp_path / "graph.pb") == "tf_frozen_model"
    assert not TfFrozenModelFrontend().sniff(tmp_path / "plain" / "saved_model.pb")


@pytest.mark.needs_node
def test_keras_saved_model_converts_through_its_signature(saved: dict[str, Path], tmp_path: Path,
                                                          tfjs: TfjsRuntime) -> None:
    import shutil

    src = tmp_path / "keras_model"
    shutil.copytree(saved["two_io"], src)
    (src / "keras_metadata.pb").write_bytes(b"")  # the tf.keras 2 marker; conversion reads the signature only
    assert frontends.detect_format(src) == "keras_saved_model"
    rng = np.random.default_rng(6)
    samples = [{"beta": rng.uniform(-1, 1, (1, 4)).astype(np.float32),
                "alpha": rng.uniform(-1, 1, (1, 1)).astype(np.float32)}]
    _parity("keras_saved_model", src, tmp_path / "out", tfjs, samples)


_NO_TF = """
import sys
sys.modules["tensorflow"] = None  # importing it now fails as if it were not installed
sys.modules["tf2onnx"] = None
import frontends
from frontends.tensorflow import {classes}
for fe in ({instances}):
    frontends.FRONTENDS.setdefault(fe.name, fe)
from tfjs_pivot.cli import main
main([{args}])
"""


@pytest.mark.parametrize("fmt", ["tf_saved_model", "tf_hub", "keras_saved_model", "tf_frozen_model"])
def test_without_tensorflow_one_line_names_the_extra(fmt: str, tmp_path: Path) -> None:
    src = tmp_path / "model"
    src.mkdir()
    (src / "saved_model.pb").write_bytes(b"\x08\x01")
    if fmt == "tf_frozen_model":
        src = tmp_path / "graph.pb"
        src.write_bytes(b"\x0a\x05\x0a\x01x")
    classes = "KerasSavedModelFrontend, TfFrozenModelFrontend, TfHubFrontend, TfSavedModelFrontend"
    args = ["convert", str(src), str(tmp_path / "out"), "--input-format", fmt]
    args += ["--output-node-names", "y"] if fmt == "tf_frozen_model" else []
    code = _NO_TF.format(classes=classes, instances=", ".join(f"{c.strip()}()" for c in classes.split(",")),
                         args=", ".join(repr(a) for a in args))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and 'pip install "tfjs-pivot[tensorflow]"' in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_tensorflow_is_a_missing_dependency_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    src = tmp_path / "model"
    src.mkdir()
    (src / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(MissingDependencyError, match=r"tf_saved_model input needs TensorFlow.*\[tensorflow\]"):
        load_pivot(src, ConvertOptions(input_format="tf_saved_model"))


def _cond(tf: ModuleType) -> Any:
    """tf.cond twice: on a bool input, and on a comparison of the data; both branches read a variable."""
    rng = np.random.default_rng(8)

    class Cond(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(_randn(rng, 4, 3, scale=0.8))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.bool)])
        def __call__(self, x: Any, flag: Any) -> dict[str, Any]:
            y = tf.cond(flag, lambda: tf.matmul(x, self.w) + 1.0, lambda: tf.tanh(tf.matmul(x, self.w)) * 2.0)
            z = tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.nn.relu(x) * 3.0, lambda: tf.sin(x) - tf.reduce_mean(x))
            return {"y": y, "z": z}

    return Cond()


@pytest.mark.needs_node
def test_tf_cond_becomes_stateless_if(tf: ModuleType, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    src = _build(tf, _cond, tmp_path / "cond")
    rng = np.random.default_rng(9)
    samples = [{"x": rng.uniform(lo, hi, (2, 4)).astype(np.float32), "flag": np.asarray(flag)}
               for flag, lo, hi in ((True, 0.1, 1.0), (False, -1.0, -0.1), (True, -1.0, -0.1), (False, 0.1, 1.0))]
    doc = _parity("tf_saved_model", src, tmp_path / "out", tfjs, samples)
    assert [n["op"] for n in doc["modelTopology"]["node"]].count("StatelessIf") == 2
    pivot, _ = load_pivot(src, ConvertOptions(input_format="tf_saved_model"))
    assert [n.op_type for n in pivot.graph if n.op_type == "If"] == ["If", "If"]
