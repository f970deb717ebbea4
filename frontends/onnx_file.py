"""The ONNX frontend: the pivot format itself, loaded with external data memory-mapped."""

from __future__ import annotations

from pathlib import Path

import onnx_ir as ir

from frontends.base import FrontendOptions
from pivot import ir as pir
from pivot.errors import InputError


class OnnxFrontend:
    """``.onnx`` files, with or without external data."""

    name = "onnx"
    description = "ONNX model (.onnx), external data supported"

    def sniff(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() == ".onnx"

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        if not path.is_file():
            raise InputError(f"{path}: not a file")
        return pir.load(path)
