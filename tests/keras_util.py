"""Keras (3, torch backend) test helpers: randomize weights, save, convert, and predict."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

from backends.base import BackendOptions
from frontends.keras.h5 import read_h5
from frontends.keras.keras_zip import read_keras_zip
from frontends.keras.model import KerasModel
from frontends.keras.registry import load_rules
from frontends.keras.tfjs_layers import read_tfjs_layers
from tests.keras_cases import LAYERS_REFUSED, KerasCase
from tfjs_format.keras_config import TFJS_LAYERS
from tfjs_pivot.routes import keras_zip_to_tfjs_layers

os.environ.setdefault("KERAS_BACKEND", "torch")

LAYERS_DIR = "tfjs_layers"
# The file each format's reader starts from (the tfjs layers round trip starts from a .keras file).
SAVED_AS = {"tfjs_layers": "keras"}


def keras_module() -> Any:
    """Keras 3 on the torch backend (test-only dependency), imported on first use."""
    import keras

    return keras


def randomize(model: Any, seed: int = 0) -> None:
    """Give every weight a random, non-degenerate value: He-normal kernels, spread-out BN statistics."""
    rng = np.random.default_rng(seed)
    for var in model.weights:
        shape, path = tuple(var.shape), var.path.lower()
        if "variance" in path:
            value = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in path or path.endswith("/scale"):
            value = rng.uniform(0.6, 1.4, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) if "depthwise" not in path else int(np.prod(shape[:2]))
            value = rng.normal(0.0, np.sqrt(2.0 / max(fan_in, 1)), shape)
        elif var.dtype not in ("float32", "float16", "float64"):
            continue  # integer state (e.g. Normalization counts, seeds)
        else:
            value = rng.normal(0.0, 0.2, shape)
        var.assign(value.astype(var.dtype))


def model_inputs(model: Any, rng: np.random.Generator, batch: int = 2) -> list[np.ndarray]:
    """Random float inputs (integer inputs get small non-negative ids) for every model input."""
    feeds = []
    for t in model.inputs:
        shape = [batch if i == 0 and d is None else (d or 5) for i, d in enumerate(t.shape)]
        if "int" in str(t.dtype):
            feeds.append(rng.integers(0, 10, shape).astype(np.int32))
        else:
            feeds.append(rng.normal(0.0, 1.0, shape).astype(np.float32))
    return feeds


def predict(model: Any, feeds: list[np.ndarray]) -> list[np.ndarray]:
    """Keras outputs in model-output order."""
    out = model.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
    if isinstance(out, dict):
        return [np.asarray(v) for v in out.values()]
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def save(model: Any, directory: Path, fmt: str) -> Path:
    """Save as ``.keras`` or legacy ``.h5``."""
    path = directory / f"model.{fmt}"
    model.save(path)
    return path


class _RouteOptions:
    backend = BackendOptions()


def via_tfjs_layers(path: Path) -> KerasModel:
    """A ``.keras`` file -> our tfjs layers model (in ``path.parent / LAYERS_DIR``) -> our reader.

    A config value tfjs-layers lacks raises ``UnsupportedOpsError`` (such cases are listed in LAYERS_REFUSED).
    """
    out = path.parent / LAYERS_DIR
    out.mkdir()
    keras_zip_to_tfjs_layers(path, out, _RouteOptions())
    return read_tfjs_layers(out)


READERS: dict[str, Callable[[Path], KerasModel]] = {"keras": read_keras_zip, "h5": read_h5,
                                                    "tfjs_layers": via_tfjs_layers}


def formats(case: KerasCase) -> tuple[str, ...]:
    """The case's formats, plus the tfjs layers model round trip when tfjs-layers has the class under test."""
    return (*case.formats, "tfjs_layers") if case.key in TFJS_LAYERS else case.formats


def refusal(case: KerasCase, fmt: str) -> str | None:
    """Why reading or lowering ``case`` saved as ``fmt`` is declined (a listed, declared limit), or None."""
    return case.refused or (LAYERS_REFUSED.get(case.id) if fmt == "tfjs_layers" else None)


def check_declared(model: ir.Model, kmodel: KerasModel, key: str) -> None:
    """Ops lowered for the layers of class ``key`` must be declared by its lowering rule (``produces``)."""
    rule = load_rules().lookup(key, 1)
    assert rule is not None, f"no lowering registered for {key}"
    layer_names = {layer.name for layer in kmodel.walk() if layer.class_name == key}
    assert layer_names, f"the model has no {key} layer"
    # Identity is scaffolding: graph outputs that are graph inputs get one.
    made = {n.op_type for n in model.graph if n.name and n.name.split("/")[0] in layer_names} - {"Identity"}
    assert made <= rule.produces, f"{key} produced undeclared ops {sorted(made - rule.produces)}"
