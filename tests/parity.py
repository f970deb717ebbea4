"""Runs one model through onnxruntime and TensorFlow.js and compares the outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from backends.base import BackendOptions
from backends.tfjs_graph.emit import emit_graph
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.registry import TFJS
from backends.tfjs_graph.vocab import is_tfjs_op
from backends.tfjs_runtime import TfjsRuntime
from tfjs_pivot.convert import ConvertOptions, convert, load_pivot

# Nodes every emission may add around the rule's own ops.
_SCAFFOLD = {"Const", "Placeholder", "Identity"}


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


def emitted_ops(src: Path) -> set[str]:
    """Op names the emitters produce for ``src`` before any backend pass."""
    load_rules()
    model, _ = load_pivot(src, ConvertOptions())
    return {n.op for n in emit_graph(model).nodes}


def check_declared(src: Path, key: str) -> None:
    """The emitted ops must be declared by the rule under test and known to tfjs."""
    load_rules()
    rule = TFJS.lookup(key, 21)
    assert rule is not None, f"no emitter registered for {key}"
    undeclared = emitted_ops(src) - rule.produces - _SCAFFOLD
    assert not undeclared, f"{key} emitted undeclared ops {sorted(undeclared)}"


def check_vocab(model_json: Path) -> None:
    """Every op of the written model is one the tfjs graph-model mapper knows."""
    ops = {n["op"] for n in json.loads(model_json.read_text())["modelTopology"]["node"]}
    unknown = sorted(op for op in ops if not is_tfjs_op(op))
    assert not unknown, f"ops unknown to TensorFlow.js: {unknown}"


def check_parity(model: onnx.ModelProto | Path, feeds: dict[str, np.ndarray], tmp: Path, runtime: TfjsRuntime,
                 *, backends: tuple[str, ...] = ("cpu", "wasm"), tol: float = 1e-4,
                 key: str | None = None) -> list[Comparison]:
    """Convert ``model``, run it in onnxruntime and in tfjs on each backend; assert within ``tol``."""
    src = model if isinstance(model, Path) else tmp / "model.onnx"
    if not isinstance(model, Path):
        onnx.save(model, src)
    if key is not None:
        check_declared(src, key)
    out = tmp / "tfjs"
    # Kernel gaps are checked per backend below, not refused up front.
    convert(src, out, ConvertOptions(overwrite=True, backend=BackendOptions(require_backend=None)))
    check_vocab(out / "model.json")
    reference = ort_run(src, feeds)
    results = []
    for backend in backends:
        got = runtime.run(out / "model.json", feeds, backend=backend)  # type: ignore[arg-type]
        for name, ref in reference.items():
            c = compare(ref, got[name], name, backend)
            results.append(c)
            assert c.relative <= tol, f"{name}@{backend}: max abs error {c.max_abs:.3g} (scale {c.scale:.3g})"
    return results
