"""Reads Keras 3 ``.keras`` archives (config.json + model.weights.h5) with zipfile, json and h5py."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np

from frontends.keras.model import KerasModel, parse_model
from pivot.errors import InputError

# Sub-layers of composite layers in Keras ``layer.weights`` order; others follow in name order.
SUBLAYER_ORDER = {
    "MultiHeadAttention": ("query_dense", "key_dense", "_gate_dense", "value_dense", "output_dense"),
    "Bidirectional": ("forward_layer", "backward_layer"),
}


def read_keras_zip(path: Path) -> KerasModel:
    """Parse a ``.keras`` file into a KerasModel with its weights attached."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            meta = json.loads(archive.read("metadata.json")) if "metadata.json" in archive.namelist() else {}
            weights = archive.read("model.weights.h5") if "model.weights.h5" in archive.namelist() else None
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable .keras archive ({e})") from e
    model = parse_model(config, str(meta.get("keras_version", "3")))
    if weights is not None:
        with h5py.File(io.BytesIO(weights), "r") as store:
            attach_vars(model, store)
    return model


def attach_vars(model: KerasModel, root: h5py.Group) -> None:
    """Give every layer its variables from the ``layers/<snake_name>[_k]/vars`` tree of a weights file."""
    group = root.get("layers")
    if group is None:
        return
    used: dict[str, int] = {}
    for layer in model.layers:
        if model.sequential and layer.class_name == "InputLayer":
            continue  # a Sequential model's ``layers`` leaves out its InputLayer
        key = _snake(layer.class_name)
        used[key] = used.get(key, -1) + 1
        name = key if used[key] == 0 else f"{key}_{used[key]}"
        if name not in group:
            continue
        if layer.submodel is not None:
            attach_vars(layer.submodel, group[name])
        else:
            layer.weights = collect_vars(group[name], layer.class_name)


def collect_vars(group: h5py.Group, class_name: str = "") -> list[np.ndarray]:
    """A layer's own ``vars/0..n``, then its sub-layers' variables in Keras order."""
    out: list[np.ndarray] = []
    own = group.get("vars")
    if own is not None:
        out += [np.asarray(own[k]) for k in sorted(own, key=int)]
    subs = [k for k in group if k != "vars" and isinstance(group[k], h5py.Group)]
    order = SUBLAYER_ORDER.get(class_name, ())
    subs.sort(key=lambda k: (order.index(k) if k in order else len(order), k))
    for sub in subs:
        out += collect_vars(group[sub])
    return out


def _snake(name: str) -> str:
    """Keras's ``to_snake_case``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if not name.startswith("_") else "private" + name


def sniff_keras_zip(path: Path) -> bool:
    """A zip archive holding config.json."""
    if not (path.is_file() and zipfile.is_zipfile(path)):
        return False
    with zipfile.ZipFile(path) as archive:
        return "config.json" in archive.namelist()
