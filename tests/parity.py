"""Runs one model through onnxruntime and TensorFlow.js and compares the outputs.

Also the emission checks that need no runtime (``check_emission``: declared ops, tfjs vocabulary), shared by
tests/test_emission.py and the parity tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import frontends.keras.h5
import frontends.keras.keras_zip
import pivot.passes
from backends.base import BackendOptions
from backends.tfjs_graph import write_graph
from backends.tfjs_graph.emit import emit_graph
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.passes import default_pipeline
from backends.tfjs_graph.registry import TFJS
from backends.tfjs_graph.vocab import is_tfjs_op
from backends.tfjs_runtime import TfjsRuntime
from pivot.errors import EmitError, InputError, UnsupportedOpsError
from tests.cases import UNDER_TEST
from tfjs_pivot.convert import ConvertOptions, input_budget, load_pivot

# Nodes every emission may add around the rule's own ops.
_SCAFFOLD = {"Const", "Placeholder", "Identity"}
# How the converter declines a model it cannot express (a declared limit), as opposed to breaking on it.
REFUSALS = (UnsupportedOpsError, EmitError, InputError)
# No backend required: kernel gaps are checked per backend by running the model, not refused up front.
_OPTIONS = ConvertOptions(overwrite=True, backend=BackendOptions(require_backend=None))


@dataclass(frozen=True)
class Comparison:
    """Worst error of one output on one backend, relative to max(1, max |reference|)."""

    output: str
    backend: str
    max_abs: float
    scale: float

    @property
    def relative(self) -> float:
        return self.max_abs / self.scale


def ort_run(model: onnx.ModelProto | str | Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of onnxruntime (all graph optimizations off: the reference must be plain)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds), strict=True))


def compare(ref: np.ndarray, got: np.ndarray, output: str, backend: str) -> Comparison:
    """Shape-checked max abs error, NaN/inf-aware."""
    assert tuple(ref.shape) == tuple(got.shape), f"{output}@{backend}: shape {got.shape} != {ref.shape}"
    r = ref.astype(np.float64)
    g = got.astype(np.float64)
    same = (np.isnan(r) & np.isnan(g)) | (np.isinf(r) & (r == g))
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity, masked by ``same``
        diff = np.nan_to_num(np.where(same, 0.0, np.abs(r - g)), nan=np.inf)
    finite = r[np.isfinite(r)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    return Comparison(output, backend, float(diff.max()) if diff.size else 0.0, scale)


def save_onnx(model: onnx.ModelProto, directory: Path) -> Path:
    """``model`` as ``directory/model.onnx``."""
    src = directory / "model.onnx"
    onnx.save(model, src)
    return src


def write_graph_model(src: Path, out: Path) -> set[str]:
    """Convert ``src`` to a tfjs graph model in ``out``; the op names the emitters produced before any backend pass.

    ``convert`` (no backend required) in its steps, loading the model once: frontend and pivot pipeline, emission,
    the tfjs passes, writing. A model the converter declines raises one of ``REFUSALS``.
    """
    load_rules()
    with input_budget(src):
        model, _ = load_pivot(src, _OPTIONS)
        graph = emit_graph(model)
        # A model of several ops marks the nodes under test by name (tests/cases UNDER_TEST): only theirs count.
        marked = any(n.name.startswith(UNDER_TEST) for n in model.graph)
        emitted = {n.op for n in graph.nodes if not marked or n.name.startswith(UNDER_TEST)}
        default_pipeline()(graph)
        out.mkdir(parents=True, exist_ok=True)
        write_graph(graph, out, _OPTIONS.backend)
    return emitted


def check_declared(emitted: set[str], key: str) -> None:
    """The emitted ops must be declared by the rule under test (``produces``)."""
    load_rules()
    rule = TFJS.lookup(key, 21)
    assert rule is not None, f"no emitter registered for {key}"
    undeclared = emitted - rule.produces - _SCAFFOLD
    assert not undeclared, f"{key} emitted undeclared ops {sorted(undeclared)}"


def check_vocab(model_json: Path) -> None:
    """Every op of the written model (main graph and library functions) is one the tfjs graph-model mapper knows."""
    topology = json.loads(model_json.read_text())["modelTopology"]
    ops = {n["op"] for n in topology["node"]}
    ops |= {n["op"] for f in topology.get("library", {}).get("function", []) for n in f.get("nodeDef", [])}
    unknown = sorted(op for op in ops if not is_tfjs_op(op))
    assert not unknown, f"ops unknown to TensorFlow.js: {unknown}"


def check_emission(src: Path, out: Path, key: str | None = None) -> Path:
    """Convert ``src`` into ``out``: the emitted ops are declared by the emission rule ``key`` (when given), the
    written model uses tfjs ops only. Needs no TensorFlow.js runtime; returns the ``model.json``."""
    emitted = write_graph_model(src, out)
    if key is not None:
        check_declared(emitted, key)
    check_vocab(out / "model.json")
    return out / "model.json"


def trust_test_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the forked crash probes that guard reading untrusted files (onnx's C++ shape inference, the Keras
    HDF5 read), for models a test builds itself: a fork per model costs 15-60 ms, most of a fast test's time.
    tests/test_untrusted_*.py test the probes."""
    monkeypatch.setattr(pivot.passes, "probe_native", lambda model, target_opset: None)
    monkeypatch.setattr(frontends.keras.keras_zip, "crash_probe", lambda read, path, what: None)
    monkeypatch.setattr(frontends.keras.h5, "crash_probe", lambda read, path, what: None)


def check_parity(model: onnx.ModelProto | Path, feeds: dict[str, np.ndarray], tmp: Path, runtime: TfjsRuntime,
                 *, backends: tuple[str, ...] = ("cpu", "wasm"), tol: float = 1e-4,
                 key: str | None = None, emission: bool = True) -> list[Comparison]:
    """Convert ``model``, run it in onnxruntime and in tfjs on each backend; assert within ``tol``.

    ``emission``: also run the checks of ``check_emission`` (False when tests/test_emission.py runs them).
    """
    return check_parity_feeds(model, [feeds], tmp, runtime, backends=backends, tol=tol, key=key, emission=emission)


def check_parity_feeds(model: onnx.ModelProto | Path, feeds_list: list[dict[str, np.ndarray]], tmp: Path,
                       runtime: TfjsRuntime, *, backends: tuple[str, ...] = ("cpu", "wasm"), tol: float = 1e-4,
                       key: str | None = None, emission: bool = True) -> list[Comparison]:
    """``check_parity`` for several feed sets (e.g. other sizes of symbolic dims) on one converted model."""
    src = model if isinstance(model, Path) else save_onnx(model, tmp)
    out = tmp / "tfjs"
    if emission:
        check_emission(src, out, key)
    else:
        write_graph_model(src, out)
    results = []
    for k, feeds in enumerate(feeds_list):
        reference = ort_run(src, feeds)
        for backend in backends:
            got = runtime.run(out / "model.json", feeds, backend=backend)  # type: ignore[arg-type]
            for name, ref in reference.items():
                c = compare(ref, got[name], name, backend)
                results.append(c)
                where = f"{name}@{backend} (feed set {k})"
                assert c.relative <= tol, f"{where}: max abs error {c.max_abs:.3g} (scale {c.scale:.3g})"
    return results
