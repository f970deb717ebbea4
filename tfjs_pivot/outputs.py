"""Output paths: checked before a run, staged in a hidden sibling, committed without replacing another run's output."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pivot.errors import InputError, OutputError
from tfjs_pivot.interrupts import held

KERAS_SUFFIXES = (".h5", ".hdf5", ".keras")
# Hidden siblings are named after the output, shortened so that a name near NAME_MAX still leaves room.
_STEM = 64
# rename(2) refuses these when the target appeared meanwhile (a directory with content, a file, a link).
_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)
# link(2) is unsupported here: fall back to check-then-replace.
_NO_LINKS = (errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def _lstat(path: Path, what: str) -> os.stat_result | None:
    """``lstat`` of ``path``; None when it does not exist; one ``OutputError`` line for every other failure."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ENOTDIR:
            raise OutputError(f"{path}: a parent of the {what} is a file, not a directory") from None
        raise OutputError(f"{path}: unusable as the {what} ({_reason(e)})") from None
    except ValueError as e:  # a NUL byte in the name (Python API)
        raise OutputError(f"{str(path)[:120]!r}: unusable as the {what} ({e})") from None


def _symlink_refused(path: Path) -> OutputError:
    return OutputError(f"{path}: is a symbolic link; tfjs-pivot never writes through or replaces one, even with "
                       "--overwrite (give the real path)")


def check_output(output: Path, overwrite: bool, source: Path | None = None) -> None:
    """Refuse, before any work, an output that cannot or must not be written; never touches the disk."""
    if output.name in ("", ".", ".."):
        raise OutputError(f"{output}: name the output (not . or ..)")
    st = _lstat(output, "output")
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise _symlink_refused(output)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        if output.suffix.lower() not in KERAS_SUFFIXES:
            raise OutputError(f"{output}: exists and is not a directory")
        if not overwrite:
            raise OutputError(f"{output}: exists (use --overwrite to replace it)")
    if st is not None and stat.S_ISDIR(st.st_mode) and not overwrite and _has_entries(output):
        raise OutputError(f"{output}: directory is not empty (use --overwrite to replace it)")
    _check_writable(output)
    if source is not None:
        _check_not_input(source, output)


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError as e:
        raise OutputError(f"{folder}: cannot read the output directory ({_reason(e)})") from None


def _check_writable(output: Path) -> None:
    """The nearest existing folder above ``output`` must take new entries (the staging sibling goes there)."""
    folder = output.parent
    while _lstat(folder, "output") is None and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{output}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{output}: cannot write into {folder} (permission denied)")


def _check_not_input(source: Path, output: Path) -> None:
    try:
        src, out = source.resolve(), output.resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop on the way
        raise OutputError(f"{output}: cannot resolve the output path ({e})") from None
    # Replacing ``output`` deletes it: it must neither be, hold, nor sit inside the input.
    if out == src or src in out.parents or out in src.parents:
        raise OutputError(f"{output}: would overwrite the input")


@contextmanager
def staged_dir(output: Path, overwrite: bool) -> Iterator[Path]:
    """Yield an empty hidden sibling of ``output``; on success it becomes ``output``, on any failure it vanishes.

    Without ``overwrite``, a directory that another run filled meanwhile is never replaced.
    """
    with _scratch(output) as tmp:
        with _os_errors(tmp, output):
            yield tmp
        with held(), _commit_errors(output):
            _commit_dir(tmp, output, overwrite)


@contextmanager
def staged_file(output: Path, name: str, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden sibling directory; on success its file ``name`` becomes the file ``output``."""
    with _scratch(output) as tmp:
        with _os_errors(tmp, output):
            yield tmp
        with held(), _commit_errors(output):
            _commit_file(tmp / name, output, overwrite)


@contextmanager
def _scratch(output: Path) -> Iterator[Path]:
    """A hidden sibling directory (missing parents created); removed at the end, with the new parents on failure."""
    created: list[Path] = []
    tmp: Path | None = None
    done = False
    try:
        with held():  # a signal now would leave a directory nobody knows about
            _make_parents(output.parent, created)
            tmp = _make_tmp(output)
        yield tmp
        done = True
    finally:
        with held():
            if tmp is not None and os.path.lexists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
            for folder in reversed(created if not done else []):
                _remove_empty(folder)


def _make_parents(folder: Path, created: list[Path]) -> None:
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            continue  # another run made it: not ours to remove
        except OSError as e:
            raise OutputError(f"{path}: cannot create the output's folder ({_reason(e)})") from None
        created.append(path)


def _make_tmp(output: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".{output.name[:_STEM]}.", dir=output.parent))
    except OSError as e:
        raise OutputError(f"{output}: cannot write into {output.parent} ({_reason(e)})") from None


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: someone else put something there
        folder.rmdir()


@contextmanager
def _os_errors(tmp: Path, output: Path) -> Iterator[None]:
    """An ``OSError`` while writing: the output's (disk full, permissions) or, elsewhere, a read of the input."""
    try:
        yield
    except OSError as e:
        name = e.filename if isinstance(e.filename, str) else None
        if name is None or _inside(Path(name), tmp):
            raise OutputError(f"{output}: cannot write ({_reason(e)})") from None
        raise InputError(f"{name}: cannot read ({_reason(e)})") from None


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


@contextmanager
def _commit_errors(output: Path) -> Iterator[None]:
    try:
        yield
    except OSError as e:
        if e.errno in _TAKEN:
            raise OutputError(f"{output}: appeared or was filled while converting (another run?); left as it is "
                              "(use --overwrite to replace it)") from None
        raise OutputError(f"{output}: cannot write ({_reason(e)})") from None


def _commit_dir(tmp: Path, output: Path, overwrite: bool) -> None:
    os.chmod(tmp, 0o755)
    if overwrite and os.path.lexists(output):
        _replace_dir(tmp, output)
    else:
        os.rename(tmp, output)  # onto nothing or an empty directory; refused when something is there now


def _replace_dir(tmp: Path, output: Path) -> None:
    """Swap ``output`` for ``tmp``: the old one is moved aside first and restored if the swap fails."""
    st = os.lstat(output)
    if stat.S_ISLNK(st.st_mode):
        raise _symlink_refused(output)
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{output}: exists and is not a directory")
    trash = output.parent / f".{output.name[:_STEM]}.old-{secrets.token_hex(4)}"
    os.rename(output, trash)
    try:
        os.rename(tmp, output)
    except OSError:
        with contextlib.suppress(OSError):  # another run took the name meanwhile: the old one stays aside
            os.rename(trash, output)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def _commit_file(written: Path, output: Path, overwrite: bool) -> None:
    st = _lstat(output, "output")
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise _symlink_refused(output)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{output}: is a directory; a Keras file output needs a file name")
    if overwrite:
        os.replace(written, output)
    else:
        _place_new(written, output)


def _place_new(written: Path, output: Path) -> None:
    """Put ``written`` at ``output`` only if nothing is there (link(2) fails instead of replacing)."""
    try:
        os.link(written, output)
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        if os.path.lexists(output):  # no hard links here: check, then move (a narrow window)
            raise FileExistsError(errno.EEXIST, "exists", str(output)) from None
        os.replace(written, output)
