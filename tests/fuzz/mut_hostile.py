"""Hostile paths: external data, shard paths, HDF5 storage and links, zip member names that lead out of the folder."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from functools import partial

import h5py
import onnx

from tests.fuzz import h5edit
from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import edit_json, write_zip, zip_members
from tests.fuzz.seeds import GRAPH

# Name written into the model -> what the case folder must hold for it (links are made by ``_links``).
# "{canary}" is the canary's absolute path.
LOCATIONS: dict[str, str] = {
    "absolute": "{canary}",
    "dotdot": "../canary.bin",
    "dotdot_inner": "sub/../../canary.bin",
    "symlink": "link.bin",
    "symlink_absolute": "abslink.bin",
    "symlink_dir": "updir/canary.bin",
    "dev_zero": "/dev/zero",
    "symlink_dev_zero": "zero.bin",
    "proc_environ": "/proc/self/environ",
    "file_url": "file://{canary}",
    "http_url": "http://127.0.0.1:9/w.bin",
    "nul_byte": "weights.bin\x00../canary.bin",
    "backslash": "..\\canary.bin",
}
LAYERS_ROUTES = ((), GRAPH, ("--output-format", "tfjs_layers_model"))


def _links(ws: Workspace) -> None:
    """Symlinks inside the model folder that lead out of it."""
    os.symlink("../canary.bin", ws.file("link.bin"))
    os.symlink(ws.canary, ws.file("abslink.bin"))
    os.symlink("..", ws.file("updir"))
    os.symlink("/dev/zero", ws.file("zero.bin"))
    ws.file("sub").mkdir()


def _location(ws: Workspace, key: str) -> str:
    _links(ws)
    return LOCATIONS[key].format(canary=ws.canary)


def onnx_location(ws: Workspace, key: str) -> None:
    """Every external tensor of the ONNX seed now lives at the hostile location."""
    location = _location(ws, key)
    model = onnx.load(ws.source, load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    ws.source.write_bytes(model.SerializeToString())


def manifest_paths(ws: Workspace, key: str, keep_shard: bool = False) -> None:
    """The layers model's shard path replaced by (or followed by) the hostile location."""
    location = _location(ws, key)

    def edit(doc: dict) -> dict:
        group = doc["weightsManifest"][0]
        group["paths"] = [*group["paths"], location] if keep_shard else [location]
        return doc
    edit_json(ws.source, edit)


def h5_external(ws: Workspace, location: str) -> None:
    """A weight dataset stored in a raw file outside the model (HDF5 external storage)."""
    _links(ws)
    with h5edit.weights_file(ws) as f:
        h5edit.replace(f, h5edit.target(f), h5edit.external_storage(location.format(canary=ws.canary)))


def h5_virtual(ws: Workspace, location: str) -> None:
    """A weight dataset mapped from ``data`` of another HDF5 file (a virtual dataset)."""
    with h5edit.weights_file(ws) as f:
        h5edit.write_canary_h5(ws, f, "")
        h5edit.replace(f, h5edit.target(f), h5edit.virtual(location.format(canary=ws.root / "canary.h5")))


def h5_extlink(ws: Workspace, location: str) -> None:
    """A layer's weight group replaced by an external link to the same tree in a canary HDF5 file."""
    with h5edit.weights_file(ws) as f:
        group = h5edit.target(f).rsplit("/", 1)[0]
        h5edit.write_canary_h5(ws, f, group)
        del f[group]
        f[group] = h5py.ExternalLink(location.format(canary=ws.root / "canary.h5"), "/" + group)


H5_CASES: dict[str, tuple[Callable[..., None], str]] = {
    "external_absolute": (h5_external, "{canary}"),
    "external_cwd_relative": (h5_external, "canary.bin"),
    "external_dotdot": (h5_external, "../canary.bin"),
    "external_symlink": (h5_external, "model/link.bin"),
    "external_dev_zero": (h5_external, "/dev/zero"),
    "virtual_absolute": (h5_virtual, "{canary}"),
    "virtual_relative": (h5_virtual, "canary.h5"),
    "virtual_missing_source": (h5_virtual, "missing.h5"),
    "extlink_absolute": (h5_extlink, "{canary}"),
    "extlink_dotdot": (h5_extlink, "../canary.h5"),
    "extlink_missing": (h5_extlink, "missing.h5"),
}


def zip_names(ws: Workspace, rename: dict[str, str], extra: tuple[str, ...] = (), dup: str = "") -> None:
    """A .keras whose member names climb out, are absolute, or repeat (the duplicate carries a payload)."""
    members = []
    for info, data in zip_members(ws.source):
        info.filename = rename.get(info.filename, info.filename)
        members.append((info, data))
    for name in extra:
        members.append((type(members[0][0])(name), ws.needle))
    if dup:
        copy = next(d for i, d in members if i.filename == dup)
        payload = ws.needle if dup != "config.json" else copy.replace(b'"keras.layers"', b'"kerasevil.layers"')
        ws.forbidden.append(b"kerasevil")
        members.append((type(members[0][0])(dup), payload))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the duplicate names are the point
        write_zip(ws.source, members)


ZIP_CASES: dict[str, dict] = {
    "member_dotdot_config": {"rename": {"config.json": "../config.json"}},
    "member_absolute_weights": {"rename": {"model.weights.h5": "/tmp/model.weights.h5"}},
    "member_backslash_config": {"rename": {"config.json": "..\\config.json"}},
    "member_extra_dotdot": {"rename": {}, "extra": ("../../evil.bin",)},
    "member_extra_absolute": {"rename": {}, "extra": ("/etc/evil.bin",)},
    "duplicate_config": {"rename": {}, "dup": "config.json"},
    "duplicate_weights": {"rename": {}, "dup": "model.weights.h5"},
}


def cases() -> list[Case]:
    out: list[Case] = []
    for i, key in enumerate(LOCATIONS):
        for bare in (False, True):
            out.append(Case("hostile_path", "onnx_external", f"location-{key}{'-bare' if bare else ''}",
                            partial(onnx_location, key=key), must_refuse=True, bare=bare, audit=i % 4 == 0 and bare))
    for seed in ("layers_k2", "layers_k3"):
        for i, key in enumerate(LOCATIONS):
            out.append(Case("hostile_path", seed, f"paths-{key}", partial(manifest_paths, key=key),
                            args=LAYERS_ROUTES[i % 3], must_refuse=True, bare=i % 2 == 1))
        out.append(Case("hostile_path", seed, "paths-extra-dotdot", partial(manifest_paths, key="dotdot",
                        keep_shard=True), must_refuse=True))
    for seed in ("h5_k2", "h5_k3", "keras_zip", "k3real_keras", "k3real_h5"):
        for i, (key, (fn, loc)) in enumerate(H5_CASES.items()):
            out.append(Case("hostile_path", seed, key, partial(fn, location=loc), args=(GRAPH, ())[i % 2],
                            must_refuse=True))
    for seed in ("keras_zip", "k3real_keras"):
        out += [Case("hostile_path", seed, key, partial(zip_names, **kw), must_refuse="extra" not in kw)
                for key, kw in ZIP_CASES.items()]
    return out

