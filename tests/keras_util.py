"""Keras (3, torch backend) test helpers: randomize weights, save, convert, and predict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


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
