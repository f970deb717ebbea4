"""The members of a Keras 3 ``.keras`` zip archive, read by name after the member table is checked, sizes bounded."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from frontends.keras.hdf5 import first_line
from pivot.errors import InputError
from pivot.untrusted import MAX_JSON_BYTES, charge, regular_file

# What Keras 3's saving_lib writes at the top of the archive; ``assets/...`` (vocabularies) is never read.
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
KNOWN = frozenset({CONFIG, METADATA, WEIGHTS})
NPZ_WEIGHTS = "model.weights.npz"
ASSETS = "assets/"
# Declared uncompressed sizes: JSON is small; weights are bounded by what one conversion may hold.
MAX_MEMBER_BYTES = {CONFIG: MAX_JSON_BYTES, METADATA: 1 << 20, WEIGHTS: 64 << 30}
# Keras stores members uncompressed; deflated weights compress a little and configs about 20:1. A member that
# claims more than this per compressed byte (above a size where ratios matter) is a zip bomb.
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
_CHUNK = 1 << 20
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# Errors zipfile and zlib raise on damaged archives (CRC, truncation, bad headers, unsupported features).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
               OverflowError, KeyError, IndexError)


def read_members(path: Path) -> dict[str, bytes]:
    """The known members present in the archive at ``path`` (config.json at least), each fully checked."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a .keras archive")
    regular_file(path, "Keras archive")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = check_table(archive.infolist(), path)
            return {name: _read(archive, info, path) for name, info in infos.items()}
    except InputError:
        raise
    except _ZIP_ERRORS as e:
        raise InputError(f"{path}: not a readable .keras archive ({first_line(e)})") from None


def check_table(infos: list[zipfile.ZipInfo], path: Path) -> dict[str, zipfile.ZipInfo]:
    """The known members by name; hostile names, duplicates, encryption, odd methods and bombs are refused."""
    names = [info.filename for info in infos]
    for name in names:
        _check_name(name, path)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: member {dupes[0]!r} occurs twice in the archive (refused)")
    known = {info.filename: info for info in infos if info.filename in KNOWN}
    if NPZ_WEIGHTS in names and WEIGHTS not in known:
        raise InputError(f"{path}: weights saved as {NPZ_WEIGHTS} are not read; save with the default .h5 weights")
    if CONFIG not in known:
        raise InputError(f"{path}: no {CONFIG} in the archive (not a Keras 3 .keras file)")
    for info in known.values():
        _check_info(info, path)
    return known


def _check_name(name: str, path: Path) -> None:
    where = f"{path}: member {name[:120]!r}"
    if "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise InputError(f"{where}: an absolute or non-portable name (refused)")
    if ".." in name.split("/"):
        raise InputError(f"{where}: climbs out of the archive with '..' (refused)")
    if name not in KNOWN and name != NPZ_WEIGHTS and not name.startswith(ASSETS) and name.rstrip("/") != "assets":
        raise InputError(f"{where}: not a member Keras writes (config.json, metadata.json, model.weights.h5, "
                         "assets/); refused")


def _check_info(info: zipfile.ZipInfo, path: Path) -> None:
    where = f"{path}: member {info.filename!r}"
    if info.flag_bits & 0x1:
        raise InputError(f"{where}: encrypted (refused)")
    if info.compress_type not in _METHODS:
        raise InputError(f"{where}: compression method {info.compress_type} is not stored or deflated (refused)")
    limit = MAX_MEMBER_BYTES[info.filename]
    if info.file_size > limit:
        raise InputError(f"{where}: declares {info.file_size} bytes, over the {limit >> 20} MiB limit (refused)")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise InputError(f"{where}: stored uncompressed but declares {info.file_size} bytes for "
                         f"{info.compress_size} (refused)")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise InputError(f"{where}: expands {info.compress_size} bytes into {info.file_size} "
                         f"(over {MAX_RATIO}:1, a zip bomb; refused)")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """A member's bytes, never more than it declares (a lying header cannot inflate past its declared size)."""
    charge(info.file_size, f"{path}: member {info.filename!r}", "the archive member is compressed")
    parts: list[bytes] = []
    left = info.file_size
    with archive.open(info) as stream:
        while left > 0:
            chunk = stream.read(min(left, _CHUNK))
            if not chunk:
                raise InputError(f"{path}: member {info.filename!r} holds fewer bytes than it declares (truncated)")
            parts.append(chunk)
            left -= len(chunk)
        if stream.read(1):
            raise InputError(f"{path}: member {info.filename!r} holds more bytes than it declares (refused)")
    return b"".join(parts)
