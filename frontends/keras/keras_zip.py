"""Reads Keras 3 ``.keras`` archives (config.json + model.weights.h5) with zipfile, json and h5py."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from frontends.keras.archive import CONFIG, METADATA, WEIGHTS, read_members
from frontends.keras.checks import naming_file
from frontends.keras.hdf5 import (
    Visits,
    child,
    member_names,
    open_h5,
    read_weight,
    refuse_outside_data,
)
from frontends.keras.model import JsonDict, KerasModel, parse_model
from frontends.keras.sandbox import crash_probe
from pivot.errors import InputError
from pivot.untrusted import loads_json
from tfjs_format.keras_config import snake_case

# Sub-layers of composite layers in Keras ``layer.weights`` order; others follow in name order.
SUBLAYER_ORDER = {
    "MultiHeadAttention": ("query_dense", "key_dense", "_gate_dense", "value_dense", "output_dense"),
    "Bidirectional": ("forward_layer", "backward_layer"),
}


def read_keras_zip(path: Path) -> KerasModel:
    """Parse a ``.keras`` file into a KerasModel with its weights attached."""
    return load_keras_zip(path)[1]


def load_keras_zip(path: Path) -> tuple[JsonDict, KerasModel]:
    """The archive's model config as saved, and the parsed model with its weights attached."""
    if path.is_file():  # libhdf5 may crash on the weights file: read once in a child first
        crash_probe(lambda: _load(path), path, str(path))
    return _load(path)


def _load(path: Path) -> tuple[JsonDict, KerasModel]:
    members = read_members(path)
    config = loads_json(members[CONFIG], f"{path}: {CONFIG}")
    if not isinstance(config, dict):
        raise InputError(f"{path}: {CONFIG} is not a Keras model config (a JSON {type(config).__name__})")
    with naming_file(path):
        model = parse_model(config, _version(members.get(METADATA), path))
        if WEIGHTS in members:
            where = f"{path}: {WEIGHTS}"
            with open_h5(members[WEIGHTS], where) as store:
                refuse_outside_data(store, where)
                attach_vars(model, store, where)
    return config, model


def _version(metadata: bytes | None, path: Path) -> str:
    """``keras_version`` of metadata.json ("3" without one: only Keras 3 writes ``.keras`` archives)."""
    meta: Any = loads_json(metadata, f"{path}: {METADATA}") if metadata is not None else {}
    if not isinstance(meta, dict):
        raise InputError(f"{path}: {METADATA} is not a JSON object")
    version = meta.get("keras_version", "3")
    if not isinstance(version, str):
        raise InputError(f"{path}: {METADATA} keras_version {version!r} is not a string")
    return version


def attach_vars(model: KerasModel, root: h5py.Group, where: str = "weights", visits: Visits | None = None) -> None:
    """Give every layer its variables from the ``layers/<snake_name>[_k]/vars`` tree of a weights file."""
    visits = visits or Visits()
    group = child(root, "layers", f"{where}/layers")
    if group is None:
        return
    if not isinstance(group, h5py.Group):
        raise InputError(f"{where}/layers: a dataset where Keras writes a group of layers")
    visits.enter(group, f"{where}/layers")
    used: dict[str, int] = {}
    for layer in model.layers:
        if model.sequential and layer.class_name == "InputLayer":
            continue  # a Sequential model's ``layers`` leaves out its InputLayer
        key = snake_case(layer.class_name)
        used[key] = used.get(key, -1) + 1
        name = key if used[key] == 0 else f"{key}_{used[key]}"
        sub = child(group, name, f"{where}/layers/{name}")
        if not isinstance(sub, h5py.Group):
            continue
        if layer.submodel is not None:
            attach_vars(layer.submodel, sub, f"{where}/layers/{name}", visits)
        else:
            layer.weights = collect_vars(sub, layer.class_name, f"{where}/layers/{name}", visits)


def collect_vars(group: h5py.Group, class_name: str = "", where: str = "weights",
                 visits: Visits | None = None) -> list[np.ndarray]:
    """A layer's own ``vars/0..n``, then its sub-layers' variables in Keras order."""
    visits = visits or Visits()
    visits.enter(group, where)
    out: list[np.ndarray] = []
    own = child(group, "vars", f"{where}/vars")
    if isinstance(own, h5py.Group):
        visits.enter(own, f"{where}/vars")
        out += [read_weight(child(own, k, f"{where}/vars/{k}"), f"{where}/vars/{k}") for k in _var_keys(own, where)]
    elif own is not None:
        raise InputError(f"{where}/vars: a dataset where Keras writes a group of variables")
    subs = [(k, obj) for k in member_names(group, where) if k != "vars"
            and isinstance(obj := child(group, k, f"{where}/{k}"), h5py.Group)]
    order = SUBLAYER_ORDER.get(class_name, ())
    subs.sort(key=lambda s: (order.index(s[0]) if s[0] in order else len(order), s[0]))
    for key, sub in subs:
        out += collect_vars(sub, "", f"{where}/{key}", visits)
    return out


def _var_keys(own: h5py.Group, where: str) -> list[str]:
    """``vars/0``, ``vars/1``, ... in index order; Keras names variables by their index only."""
    keys = member_names(own, f"{where}/vars")
    bad = [k for k in keys if not re.fullmatch(r"[0-9]{1,9}", k)]
    if bad:
        raise InputError(f"{where}/vars/{bad[0][:60]}: not a variable index (Keras writes 0, 1, ...)")
    return sorted(keys, key=int)


def sniff_keras_zip(path: Path) -> bool:
    """A zip archive holding config.json (a damaged one is left to the suffix, so that loading says why)."""
    try:
        if not (path.is_file() and zipfile.is_zipfile(path)):
            return False
        with zipfile.ZipFile(path) as archive:
            return CONFIG in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
