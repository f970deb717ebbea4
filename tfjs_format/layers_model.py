"""Layers-model files: recognise and read a ``model.json`` + shards, write one back (optionally one group per layer)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from pivot.errors import InputError
from pivot.untrusted import loads_json, read_json_file
from tfjs_format.manifest import WeightGroup, read_manifest
from tfjs_format.quantize import QuantizationSpec
from tfjs_format.summary import SizeSummary, SizeTally
from tfjs_format.weights import (
    Encoded,
    ShardStream,
    count,
    decode,
    encode,
    group_offsets,
    planned_nbytes,
    stored_nbytes,
    write_group,
)

FORMAT = "layers-model"
# Sniffing parses the JSON; a model.json bigger than this is not a layers model (their topology is small).
_SNIFF_LIMIT = 64 * 1024 * 1024
# Manifest entry keys carried into a written manifest besides name, shape, dtype and quantization.
_CARRIED_KEYS = ("group",)


class WeightSource(Protocol):
    """Weights by index: manifest-style entries (name, shape, dtype) and their float32/int32/bool values."""

    @property
    def entries(self) -> Sequence[dict[str, Any]]:
        """Manifest-style entries ``{"name", "shape", "dtype"}`` (quantization ignored), in writing order."""
        ...

    def load(self, index: int) -> np.ndarray:
        """The logical (dequantized) value of entry ``index``."""
        ...


def model_json_path(path: Path) -> Path:
    """``path`` itself, or ``path/model.json`` for a directory."""
    return path / "model.json" if path.is_dir() else path


def sniff(path: Path) -> bool:
    """Whether ``path`` (a file or a directory holding ``model.json``) is a tfjs layers model; never raises."""
    try:
        file = model_json_path(path)
        if file.suffix.lower() != ".json" or not file.is_file() or file.stat().st_size > _SNIFF_LIMIT:
            return False
        doc = loads_json(file.read_bytes(), str(file))
    except (OSError, ValueError, RuntimeError, InputError):  # unreadable, a NUL in the name, a loop, bad JSON
        return False
    return isinstance(doc, dict) and is_layers_doc(doc)


def is_layers_doc(doc: dict[str, Any]) -> bool:
    """Whether a parsed model.json is a layers model (not a graph model)."""
    # tensorflowjs treats a missing "format" as a layers model; a graph model's topology has "node" instead.
    topology = doc.get("modelTopology")
    if doc.get("format", FORMAT) != FORMAT or not isinstance(topology, dict):
        return False
    return "node" not in topology and ("model_config" in topology or "class_name" in topology)


class LayersModel:
    """A layers model on disk: its JSON (without the manifest) and lazily decoded weights; close when done."""

    def __init__(self, path: Path) -> None:
        self.path = model_json_path(path)
        doc = _read_json(self.path)
        if not is_layers_doc(doc):
            raise InputError(f"{self.path}: not a TensorFlow.js layers model (format/modelTopology/weightsManifest)")
        groups = read_manifest(doc, self.path)  # every entry and path checked before any shard is opened
        self.doc = doc
        self.entries: list[dict[str, Any]] = []
        self._where: list[tuple[ShardStream, int]] = []
        self._streams: list[ShardStream] = []
        try:
            for group in groups:
                self._add_group(group)
        except BaseException:
            self.close()
            raise

    def _add_group(self, group: WeightGroup) -> None:
        stream, offsets = group_offsets(group)
        self._streams.append(stream)
        self.entries += group.entries
        self._where += [(stream, o) for o in offsets]

    def load(self, index: int) -> np.ndarray:
        """Weight ``index`` (manifest order) as float32/int32/bool, dequantized as TensorFlow.js does."""
        entry = self.entries[index]
        stream, offset = self._where[index]
        return decode(entry, stream.read(offset, stored_nbytes(entry)))

    def close(self) -> None:
        """Close the shard files."""
        for stream in self._streams:
            stream.close()

    def __enter__(self) -> LayersModel:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def _read_json(path: Path) -> dict[str, Any]:
    doc = read_json_file(path)  # bounded size and nesting depth, one-line errors
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a TensorFlow.js model.json (not a JSON object)")
    return doc


def layer_names(topology: Any) -> set[str]:
    """Every layer name in a Keras/tfjs topology, nested models included (any dict with ``class_name``)."""
    names: set[str] = set()
    stack = [topology]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            config = node.get("config")
            if "class_name" in node and isinstance(config, dict) and isinstance(config.get("name"), str):
                names.add(config["name"])
            if "class_name" in node and isinstance(node.get("name"), str):
                names.add(node["name"])
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return names


def layer_of(weight: str, layers: set[str]) -> str:
    """The longest '/'-prefix of ``weight`` that is a layer name; else its first path component."""
    parts = weight.split("/")
    for k in range(len(parts) - 1, 0, -1):
        prefix = "/".join(parts[:k])
        if prefix in layers:
            return prefix
    return parts[0]


def group_by_layer(names: Sequence[str], layers: set[str]) -> list[list[int]]:
    """Weight indices grouped by layer, groups in order of first appearance, manifest order inside."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(layer_of(name, layers), []).append(i)
    return list(groups.values())


def write_layers_model(out_dir: Path, doc: dict[str, Any], source: WeightSource, *, converted_by: str,
                       spec: QuantizationSpec | None = None, shard_bytes: int = 4 * 1024 * 1024,
                       split_by_layer: bool = False) -> tuple[list[str], SizeSummary]:
    """Write ``model.json`` (``doc`` kept as is except convertedBy and the manifest) and the weight groups."""
    names = [e["name"] for e in source.entries]
    if len(set(names)) != len(names):
        raise InputError("the weights manifest names a weight twice")
    groups = group_by_layer(names, layer_names(doc.get("modelTopology"))) if split_by_layer else [
        list(range(len(names)))]
    tally = SizeTally.planned(sum(planned_nbytes(spec, e["name"], e["dtype"], count(e)) for e in source.entries))
    manifest = []
    for g, indices in enumerate(groups if names else [], 1):
        weights = (_encoded(source, i, spec) for i in indices)
        manifest.append(write_group(out_dir, weights, shard_bytes, g, tally))
    tally.notes += [f"quantization pattern {p!r} matched no weight" for p in (spec.unused_patterns(names)
                                                                             if spec else [])]
    (out_dir / "model.json").write_text(json.dumps(_with_manifest(doc, converted_by, manifest),
                                                   separators=(",", ":"), ensure_ascii=True))
    files = ["model.json", *(p for group in manifest for p in group["paths"])]
    return files, tally.summary()


def _encoded(source: WeightSource, index: int, spec: QuantizationSpec | None) -> Encoded:
    arr = source.load(index)
    entry = source.entries[index]
    if tuple(arr.shape) != tuple(entry["shape"]):
        raise InputError(f"weight {entry['name']!r}: shape {arr.shape} differs from the manifest {entry['shape']}")
    enc = encode(entry["name"], arr, spec)
    # ``group: "optimizer"`` stays: tfjs needs it to tell optimizer weights apart. Keys tfjs does not define
    # are dropped: nothing from a stranger's manifest rides along into the output unchecked.
    extra = {k: v for k, v in entry.items() if k in _CARRIED_KEYS}
    if not extra:
        return enc
    q = enc.entry.get("quantization")
    head = {k: v for k, v in enc.entry.items() if k != "quantization"}
    return replace(enc, entry={**head, **extra, **({"quantization": q} if q else {})})


def _with_manifest(doc: dict[str, Any], converted_by: str, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    """The input's keys in their order with convertedBy and the manifest replaced (added if absent)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        out[key] = {"convertedBy": converted_by, "weightsManifest": manifest}.get(key, value)
        if key == "generatedBy" and "convertedBy" not in doc:
            out["convertedBy"] = converted_by
    out.setdefault("convertedBy", converted_by)
    out.setdefault("weightsManifest", manifest)
    return out


def iter_weights(model: LayersModel) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, value)`` in manifest order, one tensor in memory at a time."""
    for i, entry in enumerate(model.entries):
        yield entry["name"], model.load(i)
