"""The TensorFlow.js layers-model backend: a Keras topology and its weights as model.json + weight groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.base import BackendOptions, WriteResult
from pivot.version import CONVERTED_BY
from tfjs_format.layers_model import WeightSource, write_layers_model

__all__ = ["NAME", "write_layers"]

NAME = "tfjs_layers_model"


def write_layers(doc: dict[str, Any], weights: WeightSource, out_dir: Path, options: BackendOptions) -> WriteResult:
    """Write ``doc`` (format, generatedBy, modelTopology, ...) with ``weights`` re-encoded per ``options``."""
    files, sizes = write_layers_model(out_dir, doc, weights, converted_by=CONVERTED_BY, spec=options.quantization,
                                      shard_bytes=options.shard_bytes,
                                      split_by_layer=options.split_weights_by_layer)
    groups = len({f.split("-")[0] for f in files if f.endswith(".bin")})
    return WriteResult(tuple(files), {"sizes": sizes, "weights": len(weights.entries), "groups": groups})
