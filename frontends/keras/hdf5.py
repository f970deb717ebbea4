"""HDF5 reads confined to the file itself (no external storage, virtual datasets or external links), sizes checked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TypeAlias

import h5py
import numpy as np

from pivot.errors import InputError
from pivot.untrusted import charge, check_declared

H5Object: TypeAlias = "h5py.Group | h5py.Dataset"
# zlib cannot compress better than about 1032:1; a chunked dataset declaring more than this per stored byte
# holds chunks that were never written (h5py would hand back fill values) or is a bomb.
MAX_CHUNKED_RATIO = 1100
# What h5py raises on damaged files (UnicodeDecodeError, for names that are not UTF-8, is a ValueError; the
# in-memory file driver overflows on absurd offsets, and errors inside its callbacks surface as SystemError).
_H5_ERRORS = (KeyError, OSError, RuntimeError, ValueError, TypeError, OverflowError, SystemError)
# Weights are numbers: float16/32/64, (u)int8..64, bool (h5py maps HDF5's bool enum to numpy bool).
_WEIGHT_KINDS = "fiub"


def first_line(e: BaseException) -> str:
    """The first useful line of a library message (h5py's run over several lines, with an HDF5 error stack)."""
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)  # KeyError's str() adds quotes
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("HDF5-DIAG", "#")):
            return line[:200]
    return type(e).__name__


def open_h5(source: Path | bytes, what: str) -> h5py.File:
    """An HDF5 file opened read-only; a damaged or non-HDF5 file is one line."""
    try:
        return h5py.File(io.BytesIO(source) if isinstance(source, bytes) else source, "r")
    except _H5_ERRORS as e:
        raise InputError(f"{what}: not a readable HDF5 file ({first_line(e)})") from None


def refuse_outside_data(f: h5py.File, what: str) -> None:
    """Every link and dataset of the file stays inside it, also those the reader never visits.

    Keras itself reads the file for ``validate``'s reference run, and it follows external links and reads
    external or virtual storage; the file is refused as a whole rather than only where tfjs-pivot looks.
    """
    found: list[str] = []

    def visit(name: str) -> bool | None:
        try:
            problem = _outside_link(f, name)
        except _H5_ERRORS as e:  # raised through h5py's C callback it would come out as a SystemError
            problem = f"cannot read the link ({first_line(e)})"
        if problem:
            found.append(f"{what}: /{name}: {problem}")
        return True if found else None  # a true value stops the walk

    try:
        f.visit_links(visit)  # walks links without following them; each object once, so hard-link loops end
    except _H5_ERRORS as e:
        raise InputError(f"{what}: cannot walk the HDF5 file ({first_line(e)})") from None
    if found:
        raise InputError(found[0])


def _outside_link(f: h5py.File, name: str) -> str | None:
    link = f.get(name, getlink=True)
    if isinstance(link, h5py.ExternalLink):
        return f"an external link to {link.filename!r} (refused: a model reads only itself)"
    obj = f.get(name) if isinstance(link, h5py.HardLink) else None
    return _outside(obj) if isinstance(obj, h5py.Dataset) else None


def child(group: h5py.Group, name: str, where: str) -> H5Object | None:
    """Member ``name`` of ``group`` (None when absent), after checking the link that leads to it.

    External links are refused (they open other files); soft links are followed only inside the file,
    and one that dangles or loops is refused rather than read as absent.
    """
    try:
        link = group.get(name, getlink=True)
    except _H5_ERRORS as e:
        raise InputError(f"{where}: cannot read HDF5 link ({first_line(e)})") from None
    if link is None:
        return None
    if isinstance(link, h5py.ExternalLink):
        raise InputError(f"{where}: an external link to {link.filename!r} (refused: a model reads only itself)")
    if not isinstance(link, (h5py.HardLink, h5py.SoftLink)):
        raise InputError(f"{where}: an HDF5 link of an unknown kind (refused)")
    try:
        obj = group[name]
    except _H5_ERRORS as e:
        raise InputError(f"{where}: a soft link that dangles or loops ({first_line(e)})") from None
    if not isinstance(obj, (h5py.Group, h5py.Dataset)):
        raise InputError(f"{where}: not a group or dataset (refused)")
    return obj


def lookup(group: h5py.Group, path: str, where: str) -> H5Object | None:
    """The object at ``path`` (``a/b/c``) below ``group``, every link on the way checked; None when absent."""
    obj: H5Object | None = group
    for part in filter(None, path.split("/")):
        if not isinstance(obj, h5py.Group):
            return None
        obj = child(obj, part, where)
        if obj is None:
            return None
    return obj


def member_names(group: h5py.Group, where: str) -> list[str]:
    """The names of a group's members."""
    try:
        return list(group.keys())
    except _H5_ERRORS as e:
        raise InputError(f"{where}: cannot list the group ({first_line(e)})") from None


def attribute(obj: H5Object, key: str, where: str, default: Any = None) -> Any:
    """An attribute of ``obj`` or ``default``; an unreadable attribute is one line."""
    try:
        return obj.attrs.get(key, default)
    except _H5_ERRORS as e:
        raise InputError(f"{where}: attribute {key!r} is unreadable ({first_line(e)})") from None


class Visits:
    """Objects already reached in one traversal (hard links may make a group its own descendant).

    Without this, a self-containing group recurses forever, and one group reached by many paths exponentially.
    """

    def __init__(self) -> None:
        self._seen: set[Any] = set()

    def enter(self, obj: H5Object, where: str) -> None:
        key = obj.id  # h5py object ids compare and hash by (file, object address)
        if key in self._seen:
            raise InputError(f"{where}: HDF5 group reached twice through hard links (a self-containing file; refused)")
        self._seen.add(key)


def read_weight(obj: H5Object | None, where: str) -> np.ndarray:
    """A numeric dataset's values, after checking its type, where its bytes live and how many there are."""
    if obj is None:
        raise InputError(f"{where}: no such dataset in the file")
    if not isinstance(obj, h5py.Dataset):
        raise InputError(f"{where}: is a group, not a weight dataset")
    dtype = _weight_dtype(obj, where)
    _check_storage(obj, dtype, where)
    try:
        return np.asarray(obj[()])
    except _H5_ERRORS as e:
        raise InputError(f"{where}: cannot read the dataset ({first_line(e)})") from None


def _weight_dtype(dset: h5py.Dataset, where: str) -> np.dtype[Any]:
    try:
        dtype = dset.dtype
    except _H5_ERRORS as e:  # HDF5 types without a numpy equivalent (bitfields, opaque)
        raise InputError(f"{where}: a dataset type numpy cannot hold ({first_line(e)})") from None
    special = (h5py.check_string_dtype(dtype) or h5py.check_vlen_dtype(dtype) or h5py.check_ref_dtype(dtype)
               or h5py.check_enum_dtype(dtype))
    if special is not None or dtype.names or dtype.subdtype or dtype.kind not in _WEIGHT_KINDS or dtype.itemsize > 8:
        raise InputError(f"{where}: a {_describe(dtype)} dataset where a numeric weight is expected")
    return dtype


def _describe(dtype: np.dtype[Any]) -> str:
    if h5py.check_string_dtype(dtype) is not None or dtype.kind in "SU":
        return "string"
    if h5py.check_enum_dtype(dtype) is not None:
        return "enum"
    if h5py.check_ref_dtype(dtype) is not None:
        return "object reference"
    if h5py.check_vlen_dtype(dtype) is not None:
        return "variable-length"
    return "compound" if dtype.names else f"{dtype} ({dtype.kind})"


def _outside(dset: h5py.Dataset) -> str | None:
    """Why a dataset's bytes live outside the file (external raw storage, a virtual mapping), or None."""
    if dset.external:
        return f"raw data in external file {dset.external[0][0]!r} (refused: a model reads only itself)"
    if dset.is_virtual:
        return "a virtual dataset mapping other files (refused: a model reads only itself)"
    return None


def _check_storage(dset: h5py.Dataset, dtype: np.dtype[Any], where: str) -> None:
    """Refuse bytes that live outside the file, and declared sizes the file does not hold (before any read)."""
    try:
        external = dset.external
        virtual = dset.is_virtual
        layout = dset.id.get_create_plist().get_layout()
        stored = int(dset.id.get_storage_size())
        shape = dset.shape
    except _H5_ERRORS as e:
        raise InputError(f"{where}: cannot read the dataset's layout ({first_line(e)})") from None
    if external or virtual:
        raise InputError(f"{where}: {_outside(dset)}")
    if shape is None:
        raise InputError(f"{where}: an empty (null dataspace) dataset where a weight is expected")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if layout != h5py.h5d.CHUNKED:  # contiguous or compact: the bytes are stored as they are
        check_declared(declared, stored, where)
        return
    if declared > MAX_CHUNKED_RATIO * max(stored, 1):
        raise InputError(f"{where}: declares {declared} bytes but stores {stored} "
                         "(unwritten chunks or a bomb; refused)")
    charge(declared, where, "the dataset is compressed in the file")
