"""Type checks of Keras config values read from a file: each failure is one line naming the layer and the key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pivot.errors import InputError

# Dims and node indices beyond int32 are no real model's (TensorFlow.js shapes are int32).
MAX_INDEX = 2**31 - 1
MAX_RANK = 32


def as_dict(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a JSON object, found {_kind(value)}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    """``value`` if it is a JSON array."""
    if not isinstance(value, list):
        raise InputError(f"{where}: expected a list, found {_kind(value)}")
    return value


def as_name(value: Any, where: str) -> str:
    """``value`` if it is a non-empty string (layer and model names)."""
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: expected a name, found {_kind(value)}")
    return value


def as_index(value: Any, where: str) -> int:
    """``value`` if it is a non-negative integer below 2**31 (node and tensor indices; bools and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INDEX:
        raise InputError(f"{where}: expected a non-negative integer index, found {_kind(value)}")
    return value


def as_dims(value: Any, where: str) -> list[int | None]:
    """A shape: a list of non-negative integers or nulls (unknown dims)."""
    dims = as_list(value, where)
    if len(dims) > MAX_RANK:
        raise InputError(f"{where}: rank {len(dims)} is over {MAX_RANK}")
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_INDEX):
            raise InputError(f"{where}: dimension {_kind(d)} is not a non-negative integer or null")
    return list(dims)


@contextmanager
def naming_file(path: Path) -> Iterator[None]:
    """Put the file's name in front of an ``InputError`` raised inside (config and lowering errors name the layer)."""
    try:
        yield
    except InputError as e:
        if str(path) in str(e):
            raise
        raise InputError(f"{path}: {e}") from None


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"
