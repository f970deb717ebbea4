"""The ONNX frontend: the pivot format itself, loaded with external data memory-mapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx_ir as ir

from frontends.base import FrontendOptions
from pivot import ir as pir
from pivot.errors import InputError
from pivot.onnx_run import run_onnx_file


class OnnxFrontend:
    """``.onnx`` files, with or without external data."""

    name = "onnx"
    description = "ONNX model (.onnx), external data supported"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() == ".onnx"

    def reference(self, path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The source framework's outputs: onnxruntime on the file as given (before the pivot passes)."""
        return run_onnx_file(path, feeds)

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        if not path.is_file():
            raise InputError(f"{path}: not a file")
        return pir.load(path)
