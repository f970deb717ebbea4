"""Editing model files in place: zip members, the Keras config of each format, model.json, JSON with raw text."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py

from tests.fuzz.case import Workspace

Member = tuple[zipfile.ZipInfo, bytes]
_RAW = "\x00raw{}\x00"


class Raw:
    """JSON text spliced in as is (deep nesting, NaN, numbers json cannot write)."""

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(value: Any) -> str:
    """``json.dumps`` where ``Raw`` values are replaced by their text."""
    raws: list[str] = []

    def default(obj: object) -> str:
        if isinstance(obj, Raw):
            raws.append(obj.text)
            return _RAW.format(len(raws) - 1)
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, default=default)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(_RAW.format(i)), raw)
    return text


def zip_members(path: Path) -> list[Member]:
    with zipfile.ZipFile(path) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def write_zip(path: Path, members: list[Member], compression: int = zipfile.ZIP_STORED) -> None:
    """A zip of ``members`` (fixed timestamps: the same bytes every run)."""
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            fresh = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fresh.compress_type = compression
            archive.writestr(fresh, data)


def edit_member(path: Path, name: str, edit: Callable[[bytes], bytes]) -> None:
    """Replace zip member ``name`` by ``edit(its bytes)``."""
    write_zip(path, [(i, edit(d) if i.filename == name else d) for i, d in zip_members(path)])


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write_json(path: Path, value: Any) -> None:
    path.write_text(dumps(value))


def edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    write_json(path, edit(read_json(path)))


def keras_config_text(ws: Workspace) -> str:
    """The Keras model config of the seed (``{"class_name", "config"}``) as JSON text."""
    src, kind = ws.source, ws.seed.kind
    if kind == "h5":
        with h5py.File(src, "r") as f:
            raw = f.attrs["model_config"]
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    if kind == "keras":
        return member(src, "config.json").decode()
    return json.dumps(read_json(src)["modelTopology"]["model_config"])


def set_keras_config(ws: Workspace, text: str) -> None:
    """Store ``text`` as the seed's Keras model config, wherever its format keeps it."""
    src, kind = ws.source, ws.seed.kind
    if kind == "h5":
        with h5py.File(src, "r+", libver="latest") as f:  # dense attribute storage: configs over 64 kB
            del f.attrs["model_config"]
            f.attrs["model_config"] = text
    elif kind == "keras":
        edit_member(src, "config.json", lambda _: text.encode())
    else:
        doc = read_json(src)
        doc["modelTopology"]["model_config"] = Raw(text)
        write_json(src, doc)


def edit_keras_config(ws: Workspace, edit: Callable[[Any], Any]) -> None:
    """Apply ``edit`` to the parsed Keras config (it may return ``Raw`` parts) and store the result."""
    set_keras_config(ws, dumps(edit(json.loads(keras_config_text(ws)))))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``doc`` with the value at ``path`` replaced (the parent must exist; a missing key is added)."""
    if not path:
        return value
    parent = at(doc, path[:-1])
    parent[path[-1]] = value
    return doc
