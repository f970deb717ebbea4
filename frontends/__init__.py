"""Input formats by name, and detection of the format of a path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from frontends.base import Frontend, FrontendOptions
from frontends.keras.frontend import KerasH5Frontend, KerasZipFrontend, TfjsLayersFrontend
from frontends.onnx_file import OnnxFrontend
from frontends.tensorflow import KerasSavedModelFrontend, TfFrozenModelFrontend, TfHubFrontend, TfSavedModelFrontend
from pivot.errors import InputError

__all__ = ["DIRECT_FORMATS", "FRONTENDS", "Frontend", "FrontendOptions", "detect", "detect_format", "get",
           "input_formats"]

# Frontends that lower their format to the ONNX pivot.
FRONTENDS: dict[str, Frontend] = {f.name: f for f in (
    OnnxFrontend(), KerasH5Frontend(), KerasZipFrontend(), TfjsLayersFrontend(), TfSavedModelFrontend(),
    KerasSavedModelFrontend(), TfFrozenModelFrontend(), TfHubFrontend())}

# Formats read only by a direct route of pivot.convert (no pivot), with their sniff functions.
DIRECT_FORMATS: dict[str, Callable[[Path], bool]] = {}


def input_formats() -> list[str]:
    """Every input format name: pivot frontends and direct-route formats."""
    return sorted(set(FRONTENDS) | set(DIRECT_FORMATS))


def get(name: str) -> Frontend:
    """The frontend called ``name``."""
    if name not in FRONTENDS:
        raise InputError(f"unknown input format {name!r} (known: {', '.join(sorted(FRONTENDS))})")
    return FRONTENDS[name]


def detect_format(path: Path) -> str:
    """The name of the input format of ``path``: a pivot frontend's first, then a direct-route format."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    for frontend in FRONTENDS.values():
        if frontend.sniff(path):
            return frontend.name
    for name, sniff in DIRECT_FORMATS.items():
        if sniff(path):
            return name
    # The content is not recognised: trust a telling suffix, so that the frontend says what is wrong.
    by_suffix = _SUFFIXES.get(path.suffix.lower()) or _SUFFIXES.get(path.name.lower())
    if by_suffix in FRONTENDS:
        return by_suffix
    raise InputError(f"{path}: cannot tell the input format; pass --input-format")


_SUFFIXES = {".onnx": "onnx", ".h5": "keras", ".hdf5": "keras", ".keras": "keras_keras",
             "model.json": "tfjs_layers_model"}


def detect(path: Path) -> Frontend:
    """The pivot frontend whose ``sniff`` accepts ``path``."""
    name = detect_format(path)
    if name not in FRONTENDS:
        raise InputError(f"{path}: {name} input is not read through the ONNX pivot")
    return FRONTENDS[name]
