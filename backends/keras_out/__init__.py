"""Keras outputs: a Keras model config and weights written as Keras 3 HDF5 (``.h5``) or ``.keras`` files."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from backends.keras_out.config import KERAS_VERSION, LayerPath, LayerWeights, keras3_spec, layer_weights
from pivot.errors import InputError
from tfjs_format.keras_config import MODEL_CLASSES, snake_case

__all__ = ["write_keras_h5", "write_keras_zip"]

Weights = Mapping[LayerPath, Sequence[np.ndarray]]
BACKEND = "tensorflow"  # the attribute only matters to Keras 1 conversions; the layout is backend neutral
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
DATE_SAVED = "1980-01-01@00:00:00"


def _plan(spec: dict[str, Any], weights: Weights) -> tuple[dict[str, Any], dict[LayerPath, LayerWeights]]:
    k3 = keras3_spec(spec)
    info = layer_weights(k3, {p: len(w) for p, w in weights.items()})
    orphans = sorted("/".join(p) for p, w in weights.items() if len(w) and p not in info)
    if orphans:
        raise InputError(f"weights of layer(s) {', '.join(orphans)} match no layer of the Keras model")
    return k3, info


def _top_layers(k3: dict[str, Any]) -> list[dict[str, Any]]:
    """``model.layers`` of the Keras 3 model: a Sequential model leaves its InputLayer out."""
    layers = k3["config"]["layers"]
    return [layer for layer in layers if not (k3["class_name"] == "Sequential" and layer["class_name"] == "InputLayer")]


def _atomic(dest: Path) -> Path:
    """A temporary sibling of ``dest``; the caller renames it over ``dest`` once written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.with_name(f".{dest.name}.tmp{os.getpid()}")


def write_keras_h5(spec: dict[str, Any], weights: Weights, dest: Path) -> None:
    """The legacy Keras HDF5 full-model format as Keras 3 writes it (``model.save('m.h5')``), written atomically."""
    k3, info = _plan(spec, weights)
    tmp = _atomic(dest)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"backend": BACKEND, "keras_version": KERAS_VERSION, "model_config": json.dumps(k3)})
            group = f.create_group("model_weights")
            top = _top_layers(k3)
            group.attrs.update({"backend": BACKEND, "keras_version": KERAS_VERSION,
                                "layer_names": _names([layer["name"] for layer in top])})
            for layer in top:
                _h5_layer(group.create_group(layer["name"]), (layer["name"],), info, weights)
            group.create_group("top_level_model_weights").attrs["weight_names"] = _names([])
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def _names(names: list[str]) -> np.ndarray:
    return np.array([n.encode("utf-8") for n in names], dtype="S") if names else np.array([], dtype="S1")


def _h5_layer(group: h5py.Group, path: LayerPath, info: dict[LayerPath, LayerWeights], weights: Weights) -> None:
    """One ``model_weights/<layer>`` group: weights in Keras's legacy order (trainable first, then the rest)."""
    entries = []
    for leaf, lw in info.items():
        if leaf[:len(path)] == path:
            inner = "/".join(leaf[:-1][len(path) - 1:])  # nested models keep their name in front, as Keras 3 does
            for name, flag, arr in zip(lw.names, lw.trainable, weights[leaf], strict=True):
                entries.append((not flag, f"{inner}/{name}" if len(leaf) > len(path) else name, arr))
    entries.sort(key=lambda e: e[0])  # stable: Keras lists trainable weights of every sub-layer first
    group.attrs["weight_names"] = _names([name for _, name, _ in entries])
    for _, name, arr in entries:
        group.create_dataset(name, data=np.asarray(arr))


def write_keras_zip(spec: dict[str, Any], weights: Weights, dest: Path) -> None:
    """A Keras 3 ``.keras`` archive (config.json, metadata.json, model.weights.h5), written atomically."""
    k3, info = _plan(spec, weights)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        store.create_group("vars")
        _vars_tree(store, k3, (), info, weights)
    config = {**k3, "build_config": None, "compile_config": None}
    # Reconverting the same input gives the same bytes: date_saved is the zip epoch rather than the clock, as
    # the member timestamps are (Keras only displays date_saved; no loader reads it).
    metadata = {"keras_version": KERAS_VERSION, "date_saved": DATE_SAVED}
    tmp = _atomic(dest)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, data in (("metadata.json", json.dumps(metadata).encode()),
                               ("config.json", json.dumps(config).encode()), ("model.weights.h5", buffer.getvalue())):
                archive.writestr(_member(name), data)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def _member(name: str) -> zipfile.ZipInfo:
    """A member with a fixed timestamp and mode (stored, as Keras writes them), so that archives are reproducible."""
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _vars_tree(group: h5py.Group, model: dict[str, Any], prefix: LayerPath, info: dict[LayerPath, LayerWeights],
               weights: Weights) -> None:
    """``layers/<snake_class>[_k]/...`` as Keras 3's saving_lib names the objects of a model."""
    layers = group.create_group("layers")
    used: dict[str, int] = {}
    for layer in _top_layers(model):
        key = snake_case(layer["class_name"])
        used[key] = used.get(key, -1) + 1
        sub = layers.create_group(key if used[key] == 0 else f"{key}_{used[key]}")
        sub.create_group("vars")
        path = (*prefix, layer["name"])
        if "layers" in layer["config"] and layer["class_name"] in MODEL_CLASSES:
            _vars_tree(sub, layer, path, info, weights)
        elif path in info:
            _layer_vars(sub, info[path], weights[path])


def _layer_vars(group: h5py.Group, lw: LayerWeights, arrays: Sequence[np.ndarray]) -> None:
    start = 0
    for sub_path, count in lw.groups:
        target = group
        for part in filter(None, sub_path.split("/")):
            target = target.require_group(part)
            target.require_group("vars")
        own = target.require_group("vars")
        for i, arr in enumerate(arrays[start:start + count]):
            own.create_dataset(str(i), data=np.asarray(arr))
        start += count

