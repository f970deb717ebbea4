"""Writes the optimized pivot model itself, for inspection in other ONNX tools."""

from __future__ import annotations

from pathlib import Path

import onnx_ir as ir

from backends.base import BackendOptions, WriteResult
from pivot import ir as pir


class OnnxBackend:
    """``--output-format onnx``: ``OUT_DIR/model.onnx``."""

    name = "onnx"
    description = "the optimized pivot ONNX model (model.onnx)"

    def write(self, model: ir.Model, out_dir: Path, options: BackendOptions) -> WriteResult:
        pir.save(model, out_dir / "model.onnx")
        return WriteResult(tuple(sorted(p.name for p in out_dir.iterdir())))
