"""TF Hub modules: a local module folder, or a handle resolved through the TF Hub cache folder convention."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from pivot.errors import InputError

_URL = re.compile(r"^(https?):/+(.+)$")  # Path("https://x") collapses the double slash: restore it
_TIMEOUT_S = 60.0


def handle_text(source: Path | str) -> str:
    """The handle as the user wrote it (``https://...``), or the local path."""
    text = str(source)
    match = _URL.match(text)
    return f"{match.group(1)}://{match.group(2)}" if match else text


def is_remote(handle: str) -> bool:
    """Whether ``handle`` is a URL to download rather than a local folder."""
    return _URL.match(handle) is not None


def cache_dir() -> Path:
    """``$TFHUB_CACHE_DIR``, else ``<tempdir>/tfhub_modules`` (tensorflow_hub's own default)."""
    return Path(os.environ.get("TFHUB_CACHE_DIR") or Path(tempfile.gettempdir()) / "tfhub_modules")


def module_dir(handle: str) -> Path:
    """Where a handle's module lives in the cache: ``<cache>/<sha1 of the handle>``."""
    return cache_dir() / hashlib.sha1(handle.encode("utf8")).hexdigest()


def descriptor(folder: Path) -> Path:
    """The ``<module dir>.descriptor.txt`` file tensorflow_hub writes beside a cached module."""
    return folder.with_name(f"{folder.name}.descriptor.txt")


def compressed_url(handle: str) -> str:
    """The URL of the module's ``.tar.gz`` (the ``tf-hub-format=compressed`` query of tfhub.dev and Kaggle)."""
    return f"{handle}{'&' if '?' in handle else '?'}tf-hub-format=compressed"


def resolve(source: Path | str) -> Path:
    """The local module folder of a handle or path; a handle not yet cached is downloaded into the cache."""
    handle = handle_text(source)
    if not is_remote(handle):
        path = Path(handle)
        if not path.is_dir():
            raise InputError(f"{path}: not a TF Hub module folder")
        return path
    target = module_dir(handle)
    if not (target / "saved_model.pb").is_file():
        download(handle, target)
    return target


def _safe_members(archive: tarfile.TarFile, dest: Path) -> Iterator[tarfile.TarInfo]:
    """Regular files and folders that stay inside ``dest`` (no links, devices or ``..``)."""
    root = dest.resolve()
    for member in archive:
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or (target != root and root not in target.parents):
            raise InputError(f"unsafe entry in the module archive: {member.name}")
        yield member


def _fetch(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, \
            tarfile.open(fileobj=response, mode="r|gz") as archive:
        # Members are checked here; the "data" filter (where Python has it) also drops odd permissions.
        extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(dest, members=_safe_members(archive, dest), **extra)  # type: ignore[arg-type]


def download(handle: str, target: Path) -> None:
    """Download and unpack ``handle`` into ``target`` atomically, then write the cache descriptor."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _fetch(compressed_url(handle), tmp)
        if not (tmp / "saved_model.pb").is_file():
            raise InputError(f"TF Hub module {handle}: the download holds no saved_model.pb")
        if not target.exists():
            tmp.rename(target)
    except (urllib.error.URLError, OSError, tarfile.TarError, TimeoutError, EOFError) as e:
        reason = getattr(e, "reason", None) or e
        raise InputError(f"cannot download TF Hub module {handle}: {reason}; without network access, put the "
                         f"extracted module into {target}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    descriptor(target).write_text(f"Module: {handle}\nDownload Time: {stamp}\n"
                                  f"Downloader Hostname: {socket.gethostname()} (PID:{os.getpid()})\n")
