"""``tfjs-pivot validate``: the same inputs through the source, the pivot and TensorFlow.js, compared."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

import frontends
from backends.tfjs_runtime import TfjsBackend, TfjsRuntime
from frontends.base import FrontendOptions
from pivot.compare import Metric, Tolerance, compare, tolerance_for
from pivot.errors import InputError
from pivot.onnx_run import OnnxSession
from pivot.passes.pin import KEEP, Pin, check_pin
from pivot.untrusted import confined, read_json_file, regular_file
from tfjs_format.layers_model import is_layers_doc
from tfjs_pivot.convert import ConvertOptions, input_budget, load_pivot

Feeds = dict[str, np.ndarray]


@dataclass(frozen=True)
class ValidateOptions:
    """Inputs, runtime and tolerances of one validation."""

    inputs: Path | None = None
    seed: int = 0
    samples: int = 1
    dims: dict[str, int] = field(default_factory=dict)
    # Shapes of the generated inputs by input name (-1: from ``dims``), as convert --input-shape pins them.
    input_shapes: Mapping[str, Sequence[int]] = field(default_factory=dict)
    tfjs_backend: TfjsBackend = "wasm"
    atol: float | None = None
    rtol: float | None = None
    input_format: str | None = None
    frontend: FrontendOptions = field(default_factory=FrontendOptions)
    bisect: bool = True
    max_fold_bytes: int | None = None  # as ConvertOptions.max_fold_bytes, for loading the source


@dataclass
class ValidationReport:
    """Per output and stage pair metrics, the tolerance used, and the first diverging node if any."""

    source: str
    converted: str
    stages: list[str]
    tolerance: Tolerance
    metrics: list[Metric]
    samples: int
    divergence: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.metrics)

    def as_json(self) -> dict[str, Any]:
        return {"schema": "tfjs-pivot.validate/1", "source": self.source, "converted": self.converted,
                "passed": self.passed, "stages": self.stages, "samples": self.samples,
                "tolerance": self.tolerance.as_json(), "metrics": [m.as_json() for m in self.metrics],
                "divergence": self.divergence, "notes": self.notes}


def converted_kind(converted: Path) -> tuple[Path, str, dict[str, Any]]:
    """The model.json of a converted directory, its kind (graph/layers) and its parsed JSON.

    TensorFlow.js reads the shards the manifest names: each must be a file inside the model's folder.
    """
    model_json = converted / "model.json" if converted.is_dir() else converted
    doc = read_json_file(model_json, f"{converted}: model.json")
    if not isinstance(doc, dict):
        raise InputError(f"{model_json}: not a TensorFlow.js model (a JSON object is expected)")
    for group in _manifest(doc, model_json):
        paths = group.get("paths")
        if not isinstance(paths, list):
            raise InputError(f"{model_json}: weightsManifest paths must be a list of file names")
        for name in paths:
            confined(model_json.parent, name, f"{model_json}: weight shard")
    kind = "layers" if is_layers_doc(doc) else "graph"
    return model_json, kind, doc


def _manifest(doc: dict[str, Any], model_json: Path) -> list[dict[str, Any]]:
    groups = doc.get("weightsManifest", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise InputError(f"{model_json}: weightsManifest must be a list of groups")
    return groups


def quantization_of(doc: dict[str, Any]) -> str | None:
    """The coarsest storage dtype of the weights (uint8 < uint16/float16), or None when all are plain."""
    entries = [w for g in doc.get("weightsManifest", []) if isinstance(g, dict) and isinstance(g.get("weights"), list)
               for w in g["weights"] if isinstance(w, dict)]
    seen = {w["quantization"].get("dtype") for w in entries if isinstance(w.get("quantization"), dict)}
    for dtype in ("uint8", "uint16", "float16"):
        if dtype in seen:
            return dtype
    return None


def make_inputs(model: ir.Model, opts: ValidateOptions) -> list[Feeds]:
    """``opts.samples`` feeds: from the .npz (checked against the model's inputs) or seeded random data."""
    inputs = [v for v in model.graph.inputs if not v.is_initializer()]
    # The checks of convert's --input-shape / --dim (names, ranks, static dims); '*' sizes every other dim.
    sizes = check_pin(model, Pin(opts.input_shapes, {k: v for k, v in opts.dims.items() if k != "*"}))
    if opts.inputs is not None:
        return [_check_npz(opts.inputs, inputs)]
    rng = np.random.default_rng(opts.seed)
    dims = {**opts.dims, **sizes}  # a dim --input-shape sizes in one input has that size in every input
    return [{v.name or "": _random(v, dims, rng, opts.input_shapes.get(v.name or "")) for v in inputs}
            for _ in range(opts.samples)]


def _random(value: ir.Value, dims: dict[str, int], rng: np.random.Generator,
            given: Sequence[int] | None = None) -> np.ndarray:
    if given is not None:
        model_dims = list(value.shape) if value.shape is not None else [None] * len(given)
        shape = [_dim(d, dims, value.name or "") if g == KEEP else g for d, g in zip(model_dims, given, strict=True)]
    else:
        shape = [_dim(d, dims, value.name or "") for d in (value.shape or [])]
    dtype = np.dtype(value.dtype.numpy()) if value.dtype is not None else np.dtype(np.float32)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dtype.kind in "iu":
        return rng.integers(0, 10, shape).astype(dtype)
    return rng.normal(0.0, 1.0, shape).astype(dtype)


def _dim(d: object, dims: dict[str, int], name: str) -> int:
    if isinstance(d, int):
        return d
    label = getattr(d, "value", None)
    if label is not None and str(label) in dims:
        return dims[str(label)]
    return dims.get("*", 1)


def _check_npz(path: Path, inputs: list[ir.Value]) -> Feeds:
    arrays = _read_npz(path)
    names = [v.name or "" for v in inputs]
    unknown = sorted(set(arrays) - set(names))
    missing = [n for n in names if n not in arrays]
    if unknown or missing:
        raise InputError(f"{path}: inputs {unknown or ''} are not model inputs; model inputs are {names}"
                         + (f" (missing: {missing})" if missing else ""))
    for v in inputs:
        want, got = v.shape, arrays[v.name or ""].shape
        if want is not None and (len(want) != len(got) or any(isinstance(w, int) and w != g
                                                                for w, g in zip(want, got, strict=True))):
            raise InputError(f"{path}: input '{v.name}' has shape {list(got)}, the model expects "
                             f"{[d if isinstance(d, int) else str(d) for d in want]}")
        arrays[v.name or ""] = _as_input_dtype(path, v, arrays[v.name or ""])
    return arrays


def _as_input_dtype(path: Path, value: ir.Value, arr: np.ndarray) -> np.ndarray:
    """``arr`` in the dtype the model takes (float64 -> float32 and the like); other kinds are refused."""
    try:
        want = np.dtype(value.dtype.numpy()) if value.dtype is not None else arr.dtype
    except TypeError:  # no numpy equivalent: onnxruntime judges
        return arr
    if arr.dtype == want:
        return arr
    if not np.can_cast(arr.dtype, want, "same_kind"):
        raise InputError(f"{path}: input '{value.name}' holds {arr.dtype}, the model takes {want}")
    return arr.astype(want)


# What numpy raises on a damaged .npz (a zip of .npy members): each is one InputError line.
_NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def _read_npz(path: Path) -> Feeds:
    try:
        loaded = np.load(regular_file(path, ".npz file"), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise InputError(f"{path}: not a .npz file of named arrays (np.savez writes one)")
        with loaded as data:
            return {k: data[k] for k in data.files}
    except _NPZ_ERRORS as e:
        text = str(e).strip()
        raise InputError(f"{path}: not a readable .npz file ({text.splitlines()[0] if text else type(e).__name__})"
                         ) from None


def _ort_errors() -> tuple[type[Exception], ...]:
    """onnxruntime's own exceptions (subclasses of no Python error), raised when inputs do not fit the model."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state  # loaded by the runs themselves

    return tuple(getattr(state, n) for n in ("Fail", "InvalidArgument", "RuntimeException", "NotImplemented")
                 if hasattr(state, n))


@contextmanager
def _running(what: str) -> Iterator[None]:
    """onnxruntime refusing the inputs (a --dim or an --inputs array that does not fit the model): one line."""
    try:
        yield
    except Exception as e:
        if not isinstance(e, _ort_errors()):
            raise
        text = str(e).strip()
        raise InputError(f"onnxruntime could not run the {what} on these inputs "
                         f"({text.splitlines()[0][:300] if text else type(e).__name__})") from None


def _source_outputs(frontend: frontends.Frontend, source: Path, feeds: Feeds, names: list[str]) -> list[Feeds]:
    """The source framework's outputs by name (none when it is not installed or has no reference run)."""
    with _running("source model"):
        ref = frontend.reference(source, feeds) if hasattr(frontend, "reference") else None
    if ref is None:
        return []
    # A framework that does not name its outputs gives them in model order.
    return [ref if set(ref) == set(names) else dict(zip(names, ref.values(), strict=False))]


def _tfjs_outputs(runtime: TfjsRuntime, model_json: Path, kind: str, feeds: Feeds, names: list[str],
                  backend: TfjsBackend) -> Feeds:
    got = runtime.run(model_json, feeds, backend=backend, kind=kind)  # type: ignore[arg-type]
    if kind == "layers":  # layers-model output names change on every load: take them by position
        return dict(zip(names, got.values(), strict=False))
    return got


def validate(source: Path, converted: Path, opts: ValidateOptions, runtime: TfjsRuntime | None = None
             ) -> ValidationReport:
    """Run every stage on the same inputs and compare; bisect to the first diverging node on failure."""
    model_json, kind, doc = converted_kind(converted)
    with input_budget(source, opts.max_fold_bytes):
        pivot, in_fmt = load_pivot(source, ConvertOptions(input_format=opts.input_format, frontend=opts.frontend,
                                                          max_fold_bytes=opts.max_fold_bytes))
    names = [v.name or "" for v in pivot.graph.outputs]
    quant = quantization_of(doc)
    tol = tolerance_for(quant, opts.atol, opts.rtol)
    samples = make_inputs(pivot, opts)
    frontend = frontends.get(in_fmt)
    own = runtime is None
    runtime = runtime or TfjsRuntime()
    try:
        stages: dict[str, list[Feeds]] = {"source": [], "pivot": [], "tfjs": []}
        session = OnnxSession(pivot)
        for feeds in samples:
            stages["source"].extend(_source_outputs(frontend, source, feeds, names))
            with _running("pivot model"):
                stages["pivot"].append(session.run(feeds))
            stages["tfjs"].append(_tfjs_outputs(runtime, model_json, kind, feeds, names, opts.tfjs_backend))
        present = [s for s in ("source", "pivot", "tfjs") if stages[s]]
        # Quantization only affects the tfjs stage: source vs pivot keeps the float32 tolerance.
        plain = tolerance_for(None, opts.atol, opts.rtol)
        metrics = [compare(stages[a], stages[b], out, a, b, tol if "tfjs" in (a, b) else plain)
                   for a, b in _pairs(present) for out in names]
        report = ValidationReport(str(source), str(model_json), present, tol, metrics, len(samples))
        if quant:
            report.notes.append(f"weights are quantized ({quant}): judged against the looser quantized tolerance")
        if not report.passed and kind == "graph" and opts.bisect:
            from tfjs_pivot.divergence import first_divergence

            report.divergence = first_divergence(pivot, model_json, samples[0], runtime, opts.tfjs_backend, tol)
        return report
    finally:
        if own:
            runtime.close()


def _pairs(stages: list[str]) -> list[tuple[str, str]]:
    order = [("source", "pivot"), ("pivot", "tfjs"), ("source", "tfjs")]
    return [(a, b) for a, b in order if a in stages and b in stages]
