"""Damaged .keras archives (odd flags, methods, sizes, members) and troublesome source / output paths."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.fuzz import zipraw
from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import zip_members
from tests.fuzz.seeds import GRAPH

Change = Callable[[Workspace, list[zipraw.RawEntry]], list[zipraw.RawEntry]]


def _entries(ws: Workspace) -> list[zipraw.RawEntry]:
    return [zipraw.deflated(info.filename, data) for info, data in zip_members(ws.source)]


def rebuild(ws: Workspace, change: Change) -> None:
    zipraw.write(ws.source, change(ws, _entries(ws)))


def fields(name: str, **values: int) -> Change:
    """Member ``name`` with header fields overridden (flags, method, crc, size)."""
    def change(_: Workspace, entries: list[zipraw.RawEntry]) -> list[zipraw.RawEntry]:
        return [zipraw.with_fields(e, **values) if e.name == name else e for e in entries]
    return change


def payload(name: str, data: bytes | None) -> Change:
    """Member ``name`` replaced by ``data`` (None: removed)."""
    def change(_: Workspace, entries: list[zipraw.RawEntry]) -> list[zipraw.RawEntry]:
        kept = [e for e in entries if e.name != name]
        return kept if data is None else [*kept, zipraw.deflated(name, data)]
    return change


def nothing(_: Workspace, __: list[zipraw.RawEntry]) -> list[zipraw.RawEntry]:
    return []


def directory_entry(_: Workspace, entries: list[zipraw.RawEntry]) -> list[zipraw.RawEntry]:
    return [zipraw.stored("config.json/", b""), *entries]


def zip_in_zip(ws: Workspace, entries: list[zipraw.RawEntry]) -> list[zipraw.RawEntry]:
    return [zipraw.stored("model.keras", ws.source.read_bytes())]


def prepended_junk(ws: Workspace) -> None:
    ws.source.write_bytes(b"#!/bin/sh\necho junk\n" * 50 + ws.source.read_bytes())


ARCHIVE: dict[str, Callable[[Workspace], None]] = {
    "config-encrypted": partial(rebuild, change=fields("config.json", flags=1)),
    "weights-encrypted": partial(rebuild, change=fields("model.weights.h5", flags=1)),
    "config-method-99": partial(rebuild, change=fields("config.json", method=99)),
    "config-method-bzip2-garbage": partial(rebuild, change=fields("config.json", method=12)),
    "weights-method-lzma-garbage": partial(rebuild, change=fields("model.weights.h5", method=14)),
    "config-method-stored-but-deflated": partial(rebuild, change=fields("config.json", method=0)),
    "config-crc-wrong": partial(rebuild, change=fields("config.json", crc=0x12345678)),
    "config-size-smaller": partial(rebuild, change=fields("config.json", size=10)),
    "config-size-larger": partial(rebuild, change=fields("config.json", size=1 << 31)),
    "weights-size-4GiB": partial(rebuild, change=fields("model.weights.h5", size=0xFFFFFFFF)),
    "config-missing": partial(rebuild, change=payload("config.json", None)),
    "weights-missing": partial(rebuild, change=payload("model.weights.h5", None)),
    "metadata-missing": partial(rebuild, change=payload("metadata.json", None)),
    "weights-not-hdf5": partial(rebuild, change=payload("model.weights.h5", b"not an hdf5 file" * 64)),
    "weights-json": partial(rebuild, change=payload("model.weights.h5", b'{"a": 1}')),
    "config-empty": partial(rebuild, change=payload("config.json", b"")),
    "config-null": partial(rebuild, change=payload("config.json", b"null")),
    "config-list": partial(rebuild, change=payload("config.json", b"[]")),
    "config-utf16": partial(rebuild, change=payload("config.json", '{"class_name": "Functional"}'.encode("utf-16"))),
    "metadata-list": partial(rebuild, change=payload("metadata.json", b"[1, 2]")),
    "metadata-version-dict": partial(rebuild, change=payload("metadata.json", b'{"keras_version": {"a": 1}}')),
    "no-members": partial(rebuild, change=nothing),
    "directory-entry": partial(rebuild, change=directory_entry),
    "zip-in-zip": partial(rebuild, change=zip_in_zip),
    "prepended-junk": prepended_junk,
}


def _link(ws: Workspace, name: str, target: str) -> Path:
    path = ws.file(name)
    os.symlink(target, path)
    return path


def source_to(ws: Workspace, how: str) -> None:
    """The source given to the CLI is a loop, a dangling link, a folder, a FIFO or a device."""
    if how == "symlink-loop":
        _link(ws, "b" + ws.source.suffix, "a" + ws.source.suffix)
        ws.source = _link(ws, "a" + ws.source.suffix, "b" + ws.source.suffix)
    elif how == "dangling-symlink":
        ws.source = _link(ws, "x" + ws.source.suffix, "missing" + ws.source.suffix)
    elif how.startswith("dir-named-"):
        ws.source = ws.file("x." + how.rsplit("-", 1)[1])
        ws.source.mkdir()
        (ws.source / "config.json").write_text("{}")
    elif how == "fifo":
        ws.source = ws.file("x" + ws.source.suffix)
        os.mkfifo(ws.source)
    else:
        ws.source = Path(how)


def output_to(ws: Workspace, how: str) -> None:
    """The output path is under a file, too long, a link, occupied, unwritable or the input itself."""
    out = {"under-file": ws.source / "out", "name-too-long": ws.root / ("x" * 300),
           "path-too-long": ws.root.joinpath(*["d" * 200] * 25), "in-proc": Path("/proc/fuzz-out/out"),
           "dev-null": Path("/dev/null"), "new-parents": ws.root / "new1" / "new2" / "out",
           "source-itself": ws.source, "source-folder": ws.model}.get(how)
    if how == "dangling-symlink":
        os.symlink("missing/deeper", ws.root / "link")
        out = ws.root / "link"
    elif how == "occupied-dir":
        (ws.out / "keep.txt").parent.mkdir()
        (ws.out / "keep.txt").write_text("keep")
    elif how == "occupied-file":
        ws.out.write_text("keep")
    ws.out = out or ws.out
    if how == "new-parents":  # a failing input: nothing may be created on the way to the output
        ws.source.write_bytes(ws.source.read_bytes()[:100])


SOURCES = ("symlink-loop", "dangling-symlink", "dir-named-keras", "dir-named-h5", "dir-named-onnx", "fifo",
           "/dev/zero", "/dev/null")
OUTPUTS = ("under-file", "name-too-long", "path-too-long", "in-proc", "dev-null", "new-parents", "source-itself",
           "source-folder", "dangling-symlink", "occupied-dir", "occupied-file")
DEVICE_FORMATS = ("onnx", "keras", "keras_keras", "tfjs_layers_model")


def cases() -> list[Case]:
    out = []
    for seed in ("keras_zip", "k3real_keras"):
        out += [Case("archive", seed, name, fn, args=((), GRAPH)[i % 2], audit=i % 6 == 0)
                for i, (name, fn) in enumerate(ARCHIVE.items())]
    for seed in ("onnx_convnet", "h5_k2", "keras_zip", "layers_k2"):
        out += [Case("io_path", seed, f"source-{how.strip('/').replace('/', '-')}", partial(source_to, how=how),
                     audit=how == "fifo") for how in SOURCES if not how.startswith("/")]
        out += [Case("io_path", seed, f"output-{how}", partial(output_to, how=how)) for how in OUTPUTS]
    for fmt in DEVICE_FORMATS:
        out += [Case("io_path", "onnx_convnet", f"source{dev.replace('/', '-')}-as-{fmt}", partial(source_to, how=dev),
                     args=("--input-format", fmt)) for dev in ("/dev/zero", "/dev/null")]
    return out

