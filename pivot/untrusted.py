"""Reading files from strangers: every reader confines its paths and checks declared sizes here."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

from pivot.errors import InputError

# A scheme ("http:", "file:", "s3:") or a Windows drive ("C:"): never a file of the model's own folder.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# JSON written by Keras and TensorFlow.js nests a few dozen levels (nested models); deeper is an attack on
# Python's recursion limit.
MAX_JSON_DEPTH = 256
# Model configs and model.json topologies are small; weights never travel as JSON.
MAX_JSON_BYTES = 256 * 1024 * 1024
# What a conversion may allocate beyond the weights a model really holds (folded constants, decompressed
# members, declared-but-absent data): BUDGET_BASE + BUDGET_FACTOR x the bytes of the model's files.
BUDGET_BASE = 512 * 1024 * 1024
BUDGET_FACTOR = 4


def model_folder(path: Path) -> Path:
    """The folder a model file may read from: its own (resolved), or the path itself for a model directory."""
    resolved = path.resolve()
    return resolved if resolved.is_dir() else resolved.parent


def confined(folder: Path, name: object, what: str) -> Path:
    """The regular file ``name`` (as written in a model file) inside ``folder``, resolved; else ``InputError``.

    Refused: non-strings, absolute paths, ``..``, URLs and drive letters, NUL bytes, names that resolve
    (through symlinks) outside ``folder``, and anything that is not a regular file (devices, FIFOs, folders).
    ``what`` names the tensor or entry for the message.
    """
    text = _relative_name(name, what)
    base = folder.resolve()
    try:
        target = (base / text).resolve(strict=True)
    except FileNotFoundError:
        raise InputError(f"{what}: file {text!r} is missing from {base}") from None
    except (OSError, RuntimeError) as e:  # symlink loops, names too long
        raise InputError(f"{what}: cannot resolve {text!r} ({_reason(e)})") from None
    if target != base and base not in target.parents:
        raise InputError(f"{what}: {text!r} leads outside the model's folder (refused)")
    try:
        mode = target.stat().st_mode
    except OSError as e:
        raise InputError(f"{what}: cannot read {text!r} ({_reason(e)})") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{what}: {text!r} is not a regular file (refused)")
    return target


def _relative_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InputError(f"{what}: file name {str(name)[:60]!r} is not a non-empty string")
    if "\x00" in name:
        raise InputError(f"{what}: file name {name[:60]!r} holds a NUL byte (refused)")
    if _SCHEME.match(name):
        raise InputError(f"{what}: {name[:120]!r} is a URL or drive path; only files beside the model are read")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or name.startswith(("/", "\\")):
        raise InputError(f"{what}: {name[:120]!r} is an absolute path; only files beside the model are read")
    if ".." in re.split(r"[\\/]", name):
        raise InputError(f"{what}: {name[:120]!r} climbs out of the model's folder with '..' (refused)")
    return name


def open_confined(folder: Path, name: object, what: str) -> tuple[Path, BinaryIO]:
    """``confined``, then the file opened without following any link again: the bytes read are the file checked.

    Each folder component of the resolved path is opened relative to the one before with ``O_NOFOLLOW``, so
    a component swapped for a symlink after the check (a TOCTOU race) makes the open fail instead of escaping.
    """
    target = confined(folder, name, what)
    base = folder.resolve()
    if os.open not in os.supports_dir_fd or not hasattr(os, "O_NOFOLLOW"):  # no openat: the check must do
        try:
            return target, _checked_regular(os.open(target, os.O_RDONLY | getattr(os, "O_BINARY", 0)), what, name)
        except OSError as e:
            raise InputError(f"{what}: cannot read {str(name)[:120]!r} ({_reason(e)})") from None
    parts = target.relative_to(base).parts
    flags = os.O_RDONLY | os.O_NOFOLLOW
    try:
        fd = os.open(base, flags | os.O_DIRECTORY)
    except OSError as e:
        raise InputError(f"{what}: cannot open the model's folder ({_reason(e)})") from None
    try:
        for part in parts[:-1]:
            inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        # O_NONBLOCK: a FIFO swapped in must not block the open; it is refused below as not regular.
        handle = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
    except OSError as e:
        raise InputError(f"{what}: {str(name)[:120]!r} changed while it was opened ({_reason(e)}; refused)") from None
    finally:
        os.close(fd)
    return target, _checked_regular(handle, what, name)


def _checked_regular(handle: int, what: str, name: object) -> BinaryIO:
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise InputError(f"{what}: {str(name)[:120]!r} is not a regular file (refused)")
    return os.fdopen(handle, "rb")


def _reason(e: BaseException) -> str:
    return getattr(e, "strerror", None) or type(e).__name__


def regular_file(path: Path, what: str = "input") -> Path:
    """``path`` if it is a readable regular file (symlinks followed): no device, FIFO, folder or loop."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, RuntimeError) as e:
        raise InputError(f"{path}: cannot read the {what} ({_reason(e)})") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: the {what} is not a regular file")
    return path


def check_declared(declared: int, present: int, what: str) -> None:
    """Refuse data whose declared size is not what the file holds (checked before anything is allocated)."""
    if declared != present:
        raise InputError(f"{what}: declares {declared} bytes but the file holds {present}")


def loads_json(data: bytes | str, what: str) -> Any:
    """Parse JSON from a model file: bounded size and nesting, one-line errors."""
    if len(data) > MAX_JSON_BYTES:
        raise InputError(f"{what}: {len(data)} bytes of JSON is over the {MAX_JSON_BYTES >> 20} MiB limit")
    depth = _max_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"{what}: JSON nested {depth} levels deep (limit {MAX_JSON_DEPTH})")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise InputError(f"{what}: not valid JSON ({str(e).splitlines()[0][:160]})") from None


def _max_depth(data: bytes | str) -> int:
    """Deepest bracket nesting outside strings (a linear scan, before json builds anything)."""
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        char = token.group()
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def read_json_file(path: Path, what: str | None = None) -> Any:
    """A JSON file of a model (size-checked before it is read)."""
    label = what or str(path)
    size = regular_file(path).stat().st_size
    if size > MAX_JSON_BYTES:
        raise InputError(f"{label}: {size} bytes of JSON is over the {MAX_JSON_BYTES >> 20} MiB limit")
    try:
        return loads_json(path.read_bytes(), label)
    except OSError as e:
        raise InputError(f"{label}: cannot read ({_reason(e)})") from None


@dataclass
class Budget:
    """Bytes a conversion may still allocate beyond the weights its files really hold."""

    limit: int
    used: int = 0

    def charge(self, nbytes: int, what: str, hint: str = "") -> None:
        """Account for ``nbytes`` about to be allocated for ``what``; refuse past the limit."""
        if self.used + nbytes > self.limit:
            more = f"; {hint}" if hint else ""
            raise InputError(f"{what}: would allocate {_size(nbytes)}, over the memory budget for this input "
                             f"({_size(self.limit - self.used)} left of {_size(self.limit)}){more}")
        self.used += nbytes


_BUDGET: ContextVar[Budget | None] = ContextVar("tfjs_pivot_budget", default=None)


def input_bytes(path: Path) -> int:
    """Bytes of a model file, or of the regular files directly inside a model folder."""
    try:
        if path.is_dir():
            return sum(e.stat().st_size for e in os.scandir(path) if e.is_file(follow_symlinks=False))
        return path.stat().st_size
    except OSError:
        return 0


@contextmanager
def allocation_budget(nbytes_of_input: int, limit: int | None = None) -> Iterator[Budget]:
    """Set the budget of one conversion: ``limit`` or the default for an input of ``nbytes_of_input`` bytes."""
    budget = Budget(limit if limit is not None else BUDGET_BASE + BUDGET_FACTOR * nbytes_of_input)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def charge(nbytes: int, what: str, hint: str = "") -> None:
    """Charge the current conversion's budget (no budget set: a library caller, nothing is limited)."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(nbytes, what, hint)


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} B"
