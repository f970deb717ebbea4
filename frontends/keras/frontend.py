"""The three Keras-config input formats as frontends: Keras HDF5, Keras 3 ``.keras`` and tfjs layers models."""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import onnx_ir as ir

from frontends.base import FrontendOptions
from frontends.keras.checks import naming_file
from frontends.keras.h5 import load_h5, read_h5, sniff_h5
from frontends.keras.keras_zip import load_keras_zip, read_keras_zip, sniff_keras_zip
from frontends.keras.lower import lower_model
from frontends.keras.model import JsonDict, KerasLayer, KerasModel
from frontends.keras.sandbox import crash_probe
from frontends.keras.tfjs_layers import load_tfjs_layers, read_tfjs_layers
from pivot.errors import InputError
from pivot.untrusted import regular_file
from tfjs_format import layers_model

__all__ = ["KerasH5Frontend", "KerasSource", "KerasZipFrontend", "TfjsLayersFrontend", "read_source"]
LayerPath = tuple[str, ...]


@dataclass(frozen=True)
class KerasSource:
    """A Keras-config model file as the direct (no-pivot) routes need it: the config as saved, and weights."""

    spec: JsonDict  # {"class_name", "config"} in the file's own dialect
    keras_version: str
    backend: str
    model: KerasModel  # parsed, weights attached

    def weights(self) -> dict[LayerPath, list[np.ndarray]]:
        """Each weight-holding layer's arrays in Keras ``layer.weights`` order, by (nested models..., layer)."""
        return {path: layer.weights for path, layer in _leaf_paths(self.model.layers, ()) if layer.weights}


def _leaf_paths(layers: list[KerasLayer], prefix: LayerPath) -> Iterator[tuple[LayerPath, KerasLayer]]:
    for layer in layers:
        path = (*prefix, layer.name)
        if layer.submodel is not None:
            yield from _leaf_paths(layer.submodel.layers, path)
        else:
            yield path, layer


def read_source(path: Path, fmt: str) -> KerasSource:
    """Read ``path`` of format ``keras``, ``keras_keras`` or ``tfjs_layers_model`` for a direct route."""
    if fmt == "keras":
        topology, model = load_h5(path)
        return KerasSource(topology.spec, topology.keras_version, topology.backend, model)
    if fmt == "keras_keras":
        spec, model = load_keras_zip(path)
        return KerasSource(spec, model.keras_version, "", model)
    if fmt == "tfjs_layers_model":
        layers, model = load_tfjs_layers(path)
        return KerasSource(layers.spec, model.keras_version, layers.backend, model)
    raise InputError(f"{fmt} is not a Keras-config format")


def _lower(model: KerasModel, fmt: str, path: Path) -> ir.Model:
    version = f" {model.keras_version}" if model.keras_version else ""
    with naming_file(path):
        return lower_model(model, producer=f"tfjs-pivot {fmt} (keras{version})")


def _require_file(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a Keras model file")
    regular_file(path, "Keras model file")


def keras_reference(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """Keras's own outputs when Keras 3 is installed (safe mode: no stored code runs), else None.

    Keras's output order is the model's output order, which the lowering keeps.
    """
    model = _keras_model(str(path.resolve()), path.stat().st_mtime_ns)
    if model is None:
        return None
    names = [t.name for t in model.inputs]
    args = [feeds[n] for n in names] if all(n in feeds for n in names) else list(feeds.values())
    out = model.predict(args if len(args) > 1 else args[0], verbose=0)
    values = list(out.values()) if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else [out]
    return {str(i): np.asarray(v) for i, v in enumerate(values)}


@functools.lru_cache(maxsize=2)
def _keras_model(path: str, mtime_ns: int) -> Any:
    """The file loaded by Keras once per validation (every sample reuses it), or None without Keras."""
    if "KERAS_BACKEND" not in os.environ:  # Keras 3 defaults to TensorFlow; use whichever backend is installed
        backend = next((b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)), None)
        if backend is None:
            return None
        os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banner is not for our users
    try:
        import keras
    except ImportError:
        return None
    return keras.models.load_model(path, compile=False, safe_mode=True)


class _KerasReference:
    """``reference`` for the Keras file formats: Keras itself, when installed."""

    def reference(self, path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        return keras_reference(path, feeds)


class KerasH5Frontend(_KerasReference):
    """Keras HDF5 full-model files (``model.save('m.h5')`` in tf.keras 2 or Keras 3)."""

    name = "keras"
    description = "Keras HDF5 model (.h5), tf.keras 2 or Keras 3"

    def sniff(self, path: Path) -> bool:
        # Weights-only files are claimed too, so that loading them says why they cannot be converted.
        if not sniff_h5(path):
            return False
        try:
            crash_probe(lambda: _keras_attributes(path), path, str(path))
        except InputError:
            return True  # an HDF5 file that crashes libhdf5: the reader refuses it in one line
        return _keras_attributes(path)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        _require_file(path)
        return _lower(read_h5(path), self.name, path)


def _keras_attributes(path: Path) -> bool:
    try:
        with h5py.File(path, "r") as f:
            return "model_config" in f.attrs or "layer_names" in f.attrs
    except (OSError, ValueError, RuntimeError, KeyError, TypeError):  # damage: the suffix decides, the reader says why
        return False


class KerasZipFrontend(_KerasReference):
    """Keras 3 ``.keras`` archives (config.json + model.weights.h5)."""

    name = "keras_keras"
    description = "Keras 3 model archive (.keras)"

    def sniff(self, path: Path) -> bool:
        return sniff_keras_zip(path)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        _require_file(path)
        return _lower(read_keras_zip(path), self.name, path)


class TfjsLayersFrontend:
    """TensorFlow.js layers models: model.json (format "layers-model") + weight shards."""

    name = "tfjs_layers_model"
    description = "TensorFlow.js layers model (model.json + shards)"

    def sniff(self, path: Path) -> bool:
        return layers_model.sniff(path)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        return _lower(read_tfjs_layers(path), self.name, layers_model.model_json_path(path))
