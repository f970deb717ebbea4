"""Input formats by name, and detection of the format of a path."""

from __future__ import annotations

from pathlib import Path

from frontends.base import Frontend, FrontendOptions
from frontends.onnx_file import OnnxFrontend
from pivot.errors import InputError

__all__ = ["FRONTENDS", "Frontend", "FrontendOptions", "detect", "get"]

FRONTENDS: dict[str, Frontend] = {f.name: f for f in (OnnxFrontend(),)}


def get(name: str) -> Frontend:
    """The frontend called ``name``."""
    if name not in FRONTENDS:
        raise InputError(f"unknown input format {name!r} (known: {', '.join(sorted(FRONTENDS))})")
    return FRONTENDS[name]


def detect(path: Path) -> Frontend:
    """The frontend whose ``sniff`` accepts ``path``."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    for frontend in FRONTENDS.values():
        if frontend.sniff(path):
            return frontend
    raise InputError(f"{path}: cannot tell the input format; pass --input-format")
