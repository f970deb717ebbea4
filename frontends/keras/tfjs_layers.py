"""Reads TensorFlow.js layers models (model.json + shards) into a KerasModel with its weights attached."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from frontends.keras.checks import naming_file
from frontends.keras.h5 import attach_named, rename_legacy_classes
from frontends.keras.hdf5 import first_line
from frontends.keras.keras_zip import attach_vars
from frontends.keras.model import JsonDict, KerasModel, parse_model
from pivot.errors import InputError
from tfjs_format.layers_model import LayersModel

# Keras 3 ``.keras`` weights keep their HDF5 path as the name (tensorflowjs's keras_keras route).
_KERAS3_NAME = re.compile(r"^(layers/.+/)?vars/\d+$")
_VERSION = re.compile(r"keras v?(\d[\w.]*)", re.IGNORECASE)


@dataclass(frozen=True)
class LayersTopology:
    """The Keras model config of a layers model and the Keras version whose semantics it follows."""

    spec: JsonDict
    keras_version: str
    backend: str = ""


def read_tfjs_layers(path: Path) -> KerasModel:
    """Parse a layers model (a model.json file or its directory) with every layer's weights attached."""
    return load_tfjs_layers(path)[1]


def load_tfjs_layers(path: Path) -> tuple[LayersTopology, KerasModel]:
    """The layers model's Keras config and version, and its parsed model with every layer's weights attached."""
    with LayersModel(path) as source, naming_file(source.path):
        topology = layers_topology(source.doc, source.path)
        model = parse_model(topology.spec, topology.keras_version)
        named = [(_weight_name(e, source.path), source.load(i)) for i, e in enumerate(source.entries)
                 if e.get("group") != "optimizer"]
        attach_layers_weights(model, named, source.path)
    return topology, model


def _weight_name(entry: JsonDict, where: Path) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: weightsManifest entry {str(name)[:60]!r} has no name string")
    return name


def layers_topology(doc: JsonDict, where: Path | str = "model.json") -> LayersTopology:
    """``modelTopology.model_config`` (converter output) or ``modelTopology`` itself (tfjs ``model.save``)."""
    topology = doc.get("modelTopology")
    if not isinstance(topology, dict):
        raise InputError(f"{where}: model.json has no modelTopology object")
    spec = topology.get("model_config", topology)
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise InputError(f"{where}: modelTopology holds no Keras model config")
    backend = topology.get("backend") or ""
    return LayersTopology(rename_legacy_classes(spec), keras_version(topology, doc),
                          backend if isinstance(backend, str) else "")


def keras_version(topology: JsonDict, doc: JsonDict) -> str:
    """The Keras version the config follows; models written by tfjs itself follow Keras 2."""
    version = topology.get("keras_version") or ""
    if isinstance(version, str) and version[:1].isdigit():
        return version
    generated = doc.get("generatedBy") or ""
    match = _VERSION.search(generated) if isinstance(generated, str) else None
    return match.group(1) if match else "2"


def attach_layers_weights(model: KerasModel, named: Sequence[tuple[str, np.ndarray]], where: Path) -> None:
    """Weights by manifest name: ``layer/weight`` (tfjs ``originalName``) or Keras 3 ``layers/<path>/vars/<i>``."""
    if named and all(_KERAS3_NAME.match(name) for name, _ in named):
        _attach_keras3(model, named, where)
        return
    unmatched = attach_named(model, named)
    if unmatched:
        more = f" (+{len(unmatched) - 3} more)" if len(unmatched) > 3 else ""
        raise InputError(f"{where}: weights {', '.join(unmatched[:3])}{more} belong to no layer of the model")


def _attach_keras3(model: KerasModel, named: Sequence[tuple[str, np.ndarray]], where: Path) -> None:
    """Rebuild the weights file tree in memory and read it as the ``.keras`` reader does."""
    with h5py.File(io.BytesIO(), "w") as store:
        for name, arr in named:
            try:
                store.create_dataset(name, data=arr)
            except (ValueError, TypeError, KeyError, OSError, RuntimeError) as e:  # clashing or repeated names
                raise InputError(f"{where}: weight {name[:120]!r} cannot take its place ({first_line(e)})") from None
        attach_vars(model, store, f"{where}: weights")

