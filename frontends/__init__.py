"""Input formats by name, and detection of the format of a path (bounded reads, one-line errors)."""

from __future__ import annotations

import errno
import importlib
import os
import stat
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

from frontends.base import Frontend, FrontendOptions
from pivot.errors import InputError

__all__ = ["DIRECT_FORMATS", "FRONTENDS", "Frontend", "FrontendOptions", "check_source", "detect", "detect_format",
           "get", "input_formats"]



class _LazyFrontends(MutableMapping[str, Frontend]):
    """Frontends by name, each module imported at its first use: an ONNX file never loads h5py or the TF readers."""

    def __init__(self, classes: dict[str, str]) -> None:
        self._classes = classes  # name -> "module:Class", in sniffing order
        self._made: dict[str, Frontend] = {}

    def __getitem__(self, name: str) -> Frontend:
        if name not in self._made:
            module, _, cls = self._classes[name].partition(":")
            self._made[name] = getattr(importlib.import_module(module), cls)()
        return self._made[name]

    def __setitem__(self, name: str, frontend: Frontend) -> None:
        self._classes.setdefault(name, "")
        self._made[name] = frontend

    def __delitem__(self, name: str) -> None:
        del self._classes[name]
        self._made.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._classes  # without importing the frontend

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._classes))

    def __len__(self) -> int:
        return len(self._classes)


# Frontends that lower their format to the ONNX pivot (sniffed in this order).
FRONTENDS: MutableMapping[str, Frontend] = _LazyFrontends({
    "onnx": "frontends.onnx_file:OnnxFrontend", "keras": "frontends.keras.frontend:KerasH5Frontend",
    "keras_keras": "frontends.keras.frontend:KerasZipFrontend",
    "tfjs_layers_model": "frontends.keras.frontend:TfjsLayersFrontend",
    "tf_saved_model": "frontends.tensorflow:TfSavedModelFrontend",
    "keras_saved_model": "frontends.tensorflow:KerasSavedModelFrontend",
    "tf_frozen_model": "frontends.tensorflow:TfFrozenModelFrontend", "tf_hub": "frontends.tensorflow:TfHubFrontend"})

# Formats read only by a direct route of tfjs_pivot.convert (no pivot), with their sniff functions.
DIRECT_FORMATS: dict[str, Callable[[Path], bool]] = {}


def input_formats() -> list[str]:
    """Every input format name: pivot frontends and direct-route formats."""
    return sorted(set(FRONTENDS) | set(DIRECT_FORMATS))


def get(name: str) -> Frontend:
    """The frontend called ``name``."""
    if name not in FRONTENDS:
        raise InputError(f"unknown input format {name!r} (known: {', '.join(sorted(FRONTENDS))})")
    return FRONTENDS[name]


_SUFFIXES = {".onnx": "onnx", ".h5": "keras", ".hdf5": "keras", ".keras": "keras_keras",
             "model.json": "tfjs_layers_model"}
# Formats that are one file: a directory given for them is refused before any reader opens it.
_FILE_FORMATS = frozenset({"onnx", "keras", "keras_keras", "tf_frozen_model"})
# What a file must start with before the sniff of these formats opens it (the others look at names only).
_MAGIC: dict[str, tuple[bytes, ...]] = {"keras": (b"\x89HDF\r\n\x1a\n",), "keras_keras": (b"PK\x03\x04", b"PK\x05\x06"),
                                        "tfjs_layers_model": (b"{",)}
_HEAD_BYTES = 4096


def check_source(path: Path, fmt: str | None = None) -> None:
    """Refuse a source that is not a readable regular file or directory, without opening it.

    FIFOs, devices and sockets are never read (a FIFO would block, /dev/zero never ends); a symlink loop, a
    dangling link, an unreadable file and a directory given for a one-file format are one line each. With
    ``fmt`` tf_hub, a path that does not exist may be a handle: the frontend resolves it.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if fmt == "tf_hub" and not os.path.lexists(path):
            return
        raise InputError(f"{path}: {'dangling symbolic link' if path.is_symlink() else 'no such file or directory'}"
                         ) from None
    except OSError as e:
        what = "symbolic link loop" if e.errno == errno.ELOOP else (e.strerror or type(e).__name__)
        raise InputError(f"{path}: cannot open the input ({what})") from None
    except ValueError as e:  # a NUL byte in the name (Python API)
        raise InputError(f"{str(path)[:120]!r}: unusable path ({e})") from None
    if stat.S_ISDIR(mode):
        if fmt in _FILE_FORMATS:
            raise InputError(f"{path}: is a directory; {fmt} input is one file")
    elif not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file or directory (devices, FIFOs and sockets are never read)")
    if not os.access(path, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        raise InputError(f"{path}: cannot read the input (permission denied)")


def detect_format(path: Path) -> str:
    """The name of the input format of ``path``: a pivot frontend's first, then a direct-route format.

    Only ``InputError`` comes out. A file's first 4 KiB decide which sniffs may open it; a sniff that fails on
    the bytes it finds answers "not mine" (the reader of the format chosen then says what is wrong).
    """
    check_source(path)
    head = _head(path) if path.is_file() else None
    for name in [*FRONTENDS, *DIRECT_FORMATS]:  # a frontend loads only when its magic bytes fit
        if head is not None and not head.lstrip().startswith(_MAGIC.get(name, b"")):
            continue
        if _claims(FRONTENDS[name].sniff if name in FRONTENDS else DIRECT_FORMATS[name], path):
            return name
    # The content is not recognised: trust a telling suffix, so that the frontend says what is wrong.
    by_suffix = _SUFFIXES.get(path.suffix.lower()) or _SUFFIXES.get(path.name.lower())
    if by_suffix in FRONTENDS and head is None and by_suffix in _FILE_FORMATS:
        raise InputError(f"{path}: is a directory; {by_suffix} input is one file")
    if by_suffix is not None and by_suffix in FRONTENDS:
        return by_suffix
    raise InputError(f"{path}: cannot tell the input format; pass --input-format")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_HEAD_BYTES)
    except OSError as e:
        raise InputError(f"{path}: cannot read the input ({e.strerror or type(e).__name__})") from None


def _claims(sniff: Callable[[Path], bool], path: Path) -> bool:
    """Whether ``sniff`` says ``path`` is its format; whatever hostile bytes make a sniff raise means no."""
    try:
        return bool(sniff(path))
    except MemoryError:
        raise
    except Exception:  # a yes/no question: the chosen reader reports the damage in one line
        return False


def detect(path: Path) -> Frontend:
    """The pivot frontend whose ``sniff`` accepts ``path``."""
    name = detect_format(path)
    if name not in FRONTENDS:
        raise InputError(f"{path}: {name} input is not read through the ONNX pivot")
    return FRONTENDS[name]
