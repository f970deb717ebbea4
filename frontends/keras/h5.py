"""Reads Keras HDF5 full-model files (tf.keras 2 and Keras 3 legacy ``.h5``) with h5py, weights attached."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from frontends.keras.checks import naming_file
from frontends.keras.hdf5 import attribute, child, lookup, open_h5, read_weight, refuse_outside_data
from frontends.keras.model import JsonDict, KerasLayer, KerasModel, parse_model
from frontends.keras.sandbox import crash_probe
from pivot.errors import InputError
from pivot.untrusted import loads_json, regular_file

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# Class names older tf.keras versions wrote for today's layers (tensorflowjs rewrites them the same way).
LEGACY_CLASS_NAMES = {"BatchNormalizationV1": "BatchNormalization", "BatchNormalizationV2": "BatchNormalization",
                      "UnifiedGRU": "GRU", "UnifiedLSTM": "LSTM"}


@dataclass(frozen=True)
class H5Topology:
    """The root attributes of a Keras HDF5 model file."""

    spec: JsonDict  # {"class_name", "config"} as saved, legacy class names rewritten
    keras_version: str
    backend: str


def sniff_h5(path: Path) -> bool:
    """An HDF5 file (magic bytes at offset 0, the usual place for Keras files)."""
    try:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            return f.read(8) == HDF5_MAGIC
    except OSError:
        return False


def read_h5(path: Path) -> KerasModel:
    """Parse a Keras HDF5 model file into a KerasModel with every layer's weights attached."""
    return load_h5(path)[1]


def load_h5(path: Path) -> tuple[H5Topology, KerasModel]:
    """The file's topology attributes and its parsed model, weights attached."""
    regular_file(path, "Keras HDF5 file")
    crash_probe(lambda: _load(path), path, str(path))
    return _load(path)


def _load(path: Path) -> tuple[H5Topology, KerasModel]:
    with naming_file(path), open_h5(path, str(path)) as f:
        refuse_outside_data(f, str(path))
        topology = read_topology(path, f)
        model = parse_model(topology.spec, topology.keras_version)
        weights = child(f, "model_weights", f"{path}: /model_weights")
        if isinstance(weights, h5py.Group):
            attach_h5_weights(model, weights, str(path))
    return topology, model


def read_topology(path: Path, f: h5py.File) -> H5Topology:
    """The model config and versions from the root attributes; weights-only files are refused."""
    raw = attribute(f, "model_config", f"{path}: /")
    if raw is None:
        if attribute(f, "layer_names", f"{path}: /") is not None:
            raise InputError(f"{path}: a weights-only HDF5 file has no model topology; save the whole model "
                             "with model.save('model.h5') (or .keras) instead of save_weights")
        raise InputError(f"{path}: HDF5 file without a Keras model_config attribute (weights only?); "
                         "save the whole model with model.save('model.keras' or 'model.h5')")
    spec = loads_json(_text(raw, f"{path}: attribute model_config"), f"{path}: attribute model_config")
    if not isinstance(spec, dict):
        raise InputError(f"{path}: attribute model_config is not a Keras model config (a JSON {type(spec).__name__})")
    return H5Topology(rename_legacy_classes(spec), _text(attribute(f, "keras_version", f"{path}: /", ""),
                                                         f"{path}: attribute keras_version"),
                      _text(attribute(f, "backend", f"{path}: /", ""), f"{path}: attribute backend"))


def _text(value: Any, where: str) -> str:
    """An HDF5 string attribute (h5py gives str or bytes depending on how it was written)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{where}: not UTF-8 text") from None
    if not isinstance(value, str):
        raise InputError(f"{where}: not a string (a {type(value).__name__})")
    return value


def text_list(value: Any, where: str) -> list[str]:
    """An attribute holding a list of names (``weight_names``, ``layer_names``): a 1-D array of strings."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, list):
        raise InputError(f"{where}: not a list of names (a {type(value).__name__})")
    return [_text(v, where) for v in value]


def rename_legacy_classes(spec: Any) -> Any:
    """``spec`` with every legacy ``class_name`` replaced by today's name (a new object)."""
    if isinstance(spec, dict):
        out = {k: rename_legacy_classes(v) for k, v in spec.items()}
        cls = out.get("class_name")
        if isinstance(cls, str) and cls in LEGACY_CLASS_NAMES:  # a stranger's class_name may be any JSON value
            out["class_name"] = LEGACY_CLASS_NAMES[cls]
        return out
    if isinstance(spec, list):
        return [rename_legacy_classes(v) for v in spec]
    return spec


def attach_h5_weights(model: KerasModel, group: h5py.Group, file: str = "") -> None:
    """Weights of ``model_weights/<layer>`` (in ``weight_names`` order) onto each layer of the model."""
    prefix = f"{file}: " if file else ""
    for layer in model.layers:
        where = f"{prefix}/model_weights/{layer.name}"
        sub = lookup(group, layer.name, where)
        if not isinstance(sub, h5py.Group):
            continue
        names = text_list(attribute(sub, "weight_names", where, []), f"{where} attribute weight_names")
        named = [(n, read_weight(lookup(sub, n, f"{where}/{n}"), f"{where}/{n}")) for n in names]
        if layer.submodel is None:
            layer.weights = [arr for _, arr in named]
            continue
        unmatched = attach_named(layer.submodel, named)
        if unmatched:
            raise InputError(f"nested model '{layer.name}': weights {unmatched[:3]} match none of its layers")


def weight_parts(name: str) -> list[str]:
    """``'dense/kernel:0'`` -> ``['dense', 'kernel']`` (Keras 2 variable names end in ``:<index>``)."""
    head, _, tail = name.rpartition(":")
    return (head if head and tail.isdigit() else name).split("/")


def attach_named(model: KerasModel, named: Iterable[tuple[str, np.ndarray]]) -> list[str]:
    """Give each named weight (``[scope/]layer/[cell/]weight``) to its layer; returns the names no layer owns.

    A weight belongs to the leftmost name component that is a weight-holding layer of ``model`` or of a
    nested model; duplicate layer names are told apart by the component before (the nested model's name).
    Weights keep their given order within a layer, which for Keras and tfjs files is ``layer.weights`` order.
    """
    leaves: dict[str, list[tuple[str, KerasLayer]]] = {}
    for parent, leaf in _leaves(model):
        leaves.setdefault(leaf.name, []).append((parent, leaf))
    fresh: set[int] = set()
    unmatched: list[str] = []
    for name, arr in named:
        owner = _owner(weight_parts(name), leaves)
        if owner is None:
            unmatched.append(name)
            continue
        if id(owner) not in fresh:  # replace what an earlier read attached, never append to it
            fresh.add(id(owner))
            owner.weights = []
        owner.weights.append(arr)
    return unmatched


def _leaves(model: KerasModel) -> Iterator[tuple[str, KerasLayer]]:
    for layer in model.layers:
        if layer.submodel is None:
            yield model.name, layer
        else:
            yield from _leaves(layer.submodel)


def _owner(parts: list[str], leaves: dict[str, list[tuple[str, KerasLayer]]]) -> KerasLayer | None:
    for j, part in enumerate(parts[:-1]):
        candidates = leaves.get(part)
        if not candidates:
            continue
        if len(candidates) > 1 and j > 0:
            candidates = [c for c in candidates if c[0] == parts[j - 1]] or candidates
        return candidates[0][1]
    return None
