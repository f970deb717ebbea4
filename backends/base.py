"""The backend contract: write an artifact from an optimized pivot model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import onnx_ir as ir

from tfjs_format.quantize import QuantizationSpec


@dataclass(frozen=True)
class BackendOptions:
    """Target-side options; each backend reads the ones that concern it."""

    shard_bytes: int = 4 * 1024 * 1024
    generated_by: str = "onnx"
    metadata: dict[str, Any] = field(default_factory=dict)
    quantization: QuantizationSpec | None = None  # None: every weight stays float32
    split_weights_by_layer: bool = False  # layers models only: one weight group per layer
    # Graph models: the tfjs backend (cpu, webgl, wasm, webgpu) that must have every kernel the model
    # needs; None converts anyway and only warns (--skip-op-check).
    require_backend: str | None = "wasm"


@dataclass(frozen=True)
class WriteResult:
    """What a backend wrote."""

    files: tuple[str, ...]
    stats: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """One output format."""

    name: str
    description: str

    def write(self, model: ir.Model, out_dir: Path, options: BackendOptions) -> WriteResult:
        """Write the artifact into the (new, empty) directory ``out_dir``."""
        ...
