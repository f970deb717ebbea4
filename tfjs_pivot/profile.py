"""``tfjs-pivot profile``: where a converted graph model spends its time in TensorFlow.js, per op and per node."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backends.tfjs_runtime import TfjsBackend, TfjsRuntime
from pivot.errors import InputError
from pivot.untrusted import confined, read_json_file, regular_file
from tfjs_format.layers_model import is_layers_doc
from tfjs_pivot.profile_report import build_report

Feeds = dict[str, np.ndarray]
# tfjs holds float32, int32 and bool; int64 and half inputs are fed narrowed, as tfjs itself narrows them.
_DTYPES = {"DT_FLOAT": np.float32, "DT_HALF": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int32,
           "DT_INT16": np.int32, "DT_INT8": np.int32, "DT_UINT8": np.int32, "DT_BOOL": np.bool_}
_NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True)
class InputSpec:
    """One model input as model.json declares it: signature key, dtype, shape (-1 dynamic, None unknown rank)."""

    name: str
    dtype: type
    shape: tuple[int, ...] | None

    def shown(self) -> str:
        return "?" if self.shape is None else "[" + ",".join(str(d) for d in self.shape) + "]"


@dataclass(frozen=True)
class ProfileOptions:
    """How to feed and time one profile."""

    backend: TfjsBackend = "wasm"
    inputs: Path | None = None
    input_shapes: Mapping[str, Sequence[int]] = field(default_factory=dict)
    runs: int = 10
    warmup: int = 2
    seed: int = 0
    source: Path | None = None  # the converted source model: names the source node of each tfjs node
    input_format: str | None = None


def graph_model(converted: Path) -> tuple[Path, dict[str, Any]]:
    """model.json of a converted graph-model directory (or the file itself) and its parsed JSON; else InputError."""
    model_json = converted / "model.json" if converted.is_dir() else converted
    if not model_json.exists():
        what = "no model.json in this directory" if converted.is_dir() else "no such file or directory"
        raise InputError(f"{converted}: {what} (give the directory that convert wrote)")
    doc = read_json_file(model_json, f"{converted}: model.json")
    if not isinstance(doc, dict):
        raise InputError(f"{model_json}: not a TensorFlow.js model (a JSON object is expected)")
    if is_layers_doc(doc):
        raise InputError(f"{model_json}: a layers model; profile supports graph models (layers models are not "
                         "supported yet)")
    topology = doc.get("modelTopology")
    if not isinstance(topology, dict) or not isinstance(topology.get("node"), list):
        raise InputError(f"{model_json}: not a TensorFlow.js graph model (modelTopology.node is missing)")
    groups = doc.get("weightsManifest", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("paths"), list)
                                               for g in groups):
        raise InputError(f"{model_json}: weightsManifest must be a list of groups with paths")
    for group in groups:
        for name in group["paths"]:
            confined(model_json.parent, name, f"{model_json}: weight shard")
    return model_json, doc


def input_specs(doc: dict[str, Any]) -> list[InputSpec]:
    """The inputs of the signature, else of the Placeholder nodes (graph models written by other converters)."""
    signature = doc.get("signature")
    entries = signature.get("inputs") if isinstance(signature, dict) else None
    if isinstance(entries, dict) and entries:
        return [_spec(key, e.get("dtype"), e.get("tensorShape")) for key, e in entries.items() if isinstance(e, dict)]
    nodes = [n for n in doc["modelTopology"]["node"] if isinstance(n, dict) and n.get("op") == "Placeholder"]
    return [_spec(str(n.get("name")), n.get("attr", {}).get("dtype", {}).get("type"),
                  n.get("attr", {}).get("shape", {}).get("shape")) for n in nodes]


def _spec(name: str, dtype: object, shape: object) -> InputSpec:
    if dtype not in _DTYPES:
        raise InputError(f"input '{name}' has dtype {dtype}, which profile cannot generate (float, int or bool)")
    if not isinstance(shape, dict) or shape.get("unknownRank"):
        return InputSpec(name, _DTYPES[str(dtype)], None)
    dims = tuple(int(d.get("size", -1)) for d in shape.get("dim", []) if isinstance(d, dict))
    return InputSpec(name, _DTYPES[str(dtype)], dims)


def make_feeds(specs: list[InputSpec], opts: ProfileOptions) -> Feeds:
    """The arrays of ``opts.inputs`` (checked against the model), else seeded random data of the declared shapes."""
    names = [s.name for s in specs]
    unknown = sorted(set(opts.input_shapes) - set(names))
    if unknown:
        raise InputError(f"--input-shape: {unknown} are not model inputs; model inputs are {names}")
    if opts.inputs is not None:
        return _npz_feeds(opts.inputs, specs)
    rng = np.random.default_rng(opts.seed)
    return {s.name: _random(s.dtype, _shape(s, opts.input_shapes.get(s.name)), rng) for s in specs}


def _shape(spec: InputSpec, given: Sequence[int] | None) -> tuple[int, ...]:
    if given is not None:
        given = tuple(given)
        fits = spec.shape is None or (len(given) == len(spec.shape) and all(
            d in (-1, g) for d, g in zip(spec.shape, given, strict=True)))
        if not fits or any(g < 0 for g in given):
            raise InputError(f"--input-shape: {spec.name}:{','.join(map(str, given))} does not fit the model's input "
                             f"shape {spec.shown()} (every size must be given)")
        return given
    if spec.shape is None or any(d < 0 for d in spec.shape):
        example = ",".join("1" if d < 0 else str(d) for d in (spec.shape or (1,)))
        raise InputError(f"input '{spec.name}' has the dynamic shape {spec.shown()}: give its size with "
                         f"--input-shape {spec.name}:{example} or the arrays with --inputs x.npz")
    return spec.shape


def _random(dtype: type, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype is np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dtype is np.int32:  # small ids: valid for any embedding table or index input
        return rng.integers(0, 10, shape).astype(np.int32)
    return rng.normal(0.0, 1.0, shape).astype(np.float32)


def _npz_feeds(path: Path, specs: list[InputSpec]) -> Feeds:
    try:
        with np.load(regular_file(path, ".npz file"), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (AttributeError, TypeError):  # np.load gave a single array (an .npy), which has no names
        raise InputError(f"{path}: not a .npz file of named arrays (np.savez writes one)") from None
    except _NPZ_ERRORS as e:
        raise InputError(f"{path}: not a readable .npz file ({str(e).strip()[:200] or type(e).__name__})") from None
    names = [s.name for s in specs]
    unknown, missing = sorted(set(arrays) - set(names)), [n for n in names if n not in arrays]
    if unknown or missing:
        raise InputError(f"{path}: inputs {unknown or ''} are not model inputs; model inputs are {names}"
                         + (f" (missing: {missing})" if missing else ""))
    for s in specs:
        arr = arrays[s.name]
        if s.shape is not None and (arr.ndim != len(s.shape) or any(d not in (-1, g) for d, g in zip(
                s.shape, arr.shape, strict=True))):
            raise InputError(f"{path}: input '{s.name}' has shape {list(arr.shape)}, the model expects {s.shown()}")
        if not np.can_cast(arr.dtype, s.dtype, "same_kind"):  # int64 -> int32 and float64 -> float32 are fine
            raise InputError(f"{path}: input '{s.name}' holds {arr.dtype}, the model takes {np.dtype(s.dtype)}")
        arrays[s.name] = arr.astype(s.dtype)
    return arrays


def profile(converted: Path, opts: ProfileOptions, runtime: TfjsRuntime | None = None) -> dict[str, Any]:
    """Time the graph model in ``converted`` and return the report (schema ``tfjs-pivot.profile/1``)."""
    model_json, doc = graph_model(converted)
    feeds = make_feeds(input_specs(doc), opts)
    sources, unnamed = source_nodes(opts.source, opts.input_format) if opts.source is not None else (None, 0)
    own = runtime is None
    runtime = runtime or TfjsRuntime()
    try:
        raw = runtime.profile(model_json, feeds, backend=opts.backend, runs=opts.runs, warmup=opts.warmup)
    finally:
        if own:
            runtime.close()
    report = build_report(raw, model_json, opts, {k: list(v.shape) for k, v in feeds.items()}, sources)
    if unnamed:
        report["notes"].append(f"{unnamed} nodes of the source have no name: their tfjs nodes are listed as "
                               "'(no source node of this name)'")
    return report


def source_nodes(source: Path, input_format: str | None) -> tuple[dict[str, tuple[str, str]], int]:
    """The source's nodes, inputs and outputs as emission names them (tfjs name -> (source name, op type)).

    Also the number of unnamed nodes (the converter names them itself: no name to find them by).
    """
    import frontends
    from backends.tfjs_graph.graph import TfGraph
    from frontends.base import FrontendOptions
    from tfjs_pivot.convert import input_budget

    frontends.check_source(source, input_format)
    frontend = frontends.get(input_format) if input_format else frontends.detect(source)
    with input_budget(source):
        model = frontend.load(source, FrontendOptions())
    out: dict[str, tuple[str, str]] = {}
    for value in model.graph.inputs:
        if value.name and not value.is_initializer():
            out.setdefault(TfGraph().unique(value.name), (value.name, "(input)"))
    for value in model.graph.outputs:  # each output is an Identity named after it
        if value.name:
            out.setdefault(TfGraph().unique(value.name), (value.name, "(output)"))
    unnamed = 0
    for node in model.graph:
        if node.name:
            out[TfGraph().unique(node.name)] = (node.name, node.op_type)
        else:
            unnamed += 1
    return out, unnamed
