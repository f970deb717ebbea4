"""The frontend contract: recognise a source format and lower it to an ONNX (pivot) model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import onnx_ir as ir


@dataclass(frozen=True)
class FrontendOptions:
    """Source-side options; each frontend reads the ones that concern it."""

    signature_name: str | None = None  # TF SavedModel / Hub: default serving_default
    saved_model_tags: tuple[str, ...] = ("serve",)
    output_node_names: tuple[str, ...] = ()  # TF frozen graphs: required
    strip_debug_ops: bool = True  # TF: drop Assert, CheckNumerics, Print, ... before lowering
    control_flow_v2: bool = False  # TF: keep functional While/If (else lowered control flow)
    structured_outputs_names: bool = False  # TF: record the signature's output keys in the model
    extra: dict[str, str] = field(default_factory=dict)


class Frontend(Protocol):
    """One input format."""

    name: str
    description: str

    def sniff(self, path: Path) -> bool:
        """Whether ``path`` looks like this format (cheap: suffix and magic bytes only)."""
        ...

    def load(self, path: Path, options: FrontendOptions) -> ir.Model:
        """Read the source and lower it to an ONNX model (not yet optimized)."""
        ...

    # Optional: ``options``, the FrontendOptions field names the frontend reads (default none).
    # Optional: ``reference(path, feeds) -> dict[str, np.ndarray] | None`` runs the source framework
    # (when installed) for ``tfjs-pivot validate``; outputs by name, or in model order.
