"""Editing the HDF5 file of a Keras seed (the .h5 itself, or the weights member of a .keras) in place."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import h5py
import numpy as np

from tests.fuzz.case import Workspace
from tests.fuzz.files import edit_member, member

# Writes a new dataset at a name: (file, name, shape of what was there).
Build = Callable[[h5py.File, str, tuple[int, ...]], None]


@contextmanager
def weights_file(ws: Workspace) -> Iterator[h5py.File]:
    """The seed's HDF5 file opened for writing (libver latest: virtual datasets, large attributes)."""
    if ws.seed.kind == "h5":
        with h5py.File(ws.source, "r+", libver="latest") as f:
            yield f
        return
    # A .keras weights member: edited in memory, then zipped back.
    buf = io.BytesIO(member(ws.source, "model.weights.h5"))
    with h5py.File(buf, "r+", libver="latest") as f:
        yield f
    new = buf.getvalue()
    edit_member(ws.source, "model.weights.h5", lambda _: new)


def datasets(f: h5py.File) -> list[str]:
    """Every weight dataset's path, in a fixed order."""
    found: list[str] = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(found)


def target(f: h5py.File) -> str:
    """The weight dataset hostile edits replace: the first with at least 8 elements (the canary needle fits)."""
    return next(n for n in datasets(f) if f[n].size >= 8 and f[n].dtype.kind == "f")


def write_canary_h5(ws: Workspace, f: h5py.File, group: str) -> None:
    """``root/canary.h5`` outside the model folder: ``data`` and a copy of ``group``'s tree filled with the canary."""
    path = ws.root / "canary.h5"
    name = target(f)
    with h5py.File(path, "w") as out:
        out.create_dataset("data", data=ws.canary_array(f[name].shape))
        for sub in datasets(f):
            if sub.startswith(group + "/"):
                out.create_dataset(sub, data=ws.canary_array(f[sub].shape).astype(f[sub].dtype))
    ws.canaries.append(path)


def replace(f: h5py.File, name: str, build: Build) -> None:
    """Delete dataset or group ``name`` and put ``build(f, name, shape)`` there."""
    shape = f[name].shape if isinstance(f[name], h5py.Dataset) else ()
    del f[name]
    build(f, name, shape)


def external_storage(location: str) -> Build:
    def build(f: h5py.File, name: str, shape: tuple[int, ...]) -> None:
        nbytes = int(np.prod(shape)) * 4
        f.create_dataset(name, shape=shape, dtype="f4", external=[(location, 0, nbytes)])
    return build


def virtual(location: str) -> Build:
    def build(f: h5py.File, name: str, shape: tuple[int, ...]) -> None:
        layout = h5py.VirtualLayout(shape=shape, dtype="f4")
        layout[...] = h5py.VirtualSource(location, "data", shape=shape)
        f.create_virtual_dataset(name, layout, fillvalue=0)
    return build
