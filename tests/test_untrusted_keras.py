"""Hostile and broken Keras files (.h5, .keras, layers model.json): one-line refusals, no payload, same bytes twice."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import signal
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from backends.base import BackendOptions
from backends.keras_out import write_keras_h5, write_keras_zip
from backends.keras_out.config import keras3_spec
from backends.tfjs_layers.from_keras import tfjs_topology, write_keras_layers
from frontends.base import FrontendOptions
from frontends.keras import sandbox
from frontends.keras.frontend import KerasH5Frontend, KerasZipFrontend, TfjsLayersFrontend, read_source
from pivot.errors import ConversionError, InputError
from pivot.untrusted import allocation_budget
from tfjs_format.keras_config import KERAS_MODULE, refuse_code
from tfjs_pivot.routes import ROUTES

JsonDict = dict[str, Any]
FRONTENDS = {"keras": KerasH5Frontend(), "keras_keras": KerasZipFrontend(), "tfjs_layers_model": TfjsLayersFrontend()}
_RNG = np.random.default_rng(0)
WEIGHTS = {("d",): [_RNG.normal(size=(4, 3)).astype(np.float32), np.zeros(3, np.float32)],
           ("e",): [_RNG.normal(size=(3, 2)).astype(np.float32), np.zeros(2, np.float32)]}


def _spec() -> JsonDict:
    """A two-Dense functional model in the Keras 2 dialect (list-style inbound nodes)."""
    def dense(name: str, units: int, src: str) -> JsonDict:
        return {"class_name": "Dense", "name": name, "inbound_nodes": [[[src, 0, 0, {}]]],
                "config": {"name": name, "units": units, "activation": "relu", "use_bias": True}}
    return {"class_name": "Functional", "config": {
        "name": "m", "input_layers": [["inp", 0, 0]], "output_layers": [["e", 0, 0]],
        "layers": [{"class_name": "InputLayer", "name": "inp", "inbound_nodes": [],
                    "config": {"name": "inp", "batch_input_shape": [None, 4], "dtype": "float32"}},
                   dense("d", 3, "inp"), dense("e", 2, "d")]}}


def _h5(tmp: Path) -> Path:
    write_keras_h5(_spec(), WEIGHTS, tmp / "m.h5")
    return tmp / "m.h5"


def _zip(tmp: Path, name: str = "m.keras") -> Path:
    write_keras_zip(_spec(), WEIGHTS, tmp / name)
    return tmp / name


def _layers(tmp: Path) -> Path:
    out = tmp / "layers"
    out.mkdir()
    write_keras_layers(_spec(), WEIGHTS, out, BackendOptions(), keras_version="2.15.0")
    return out / "model.json"


class _Options:
    """The part of ConvertOptions a direct route reads."""

    backend = BackendOptions()


def _route(path: Path, fmt: str) -> None:
    """The direct route a user runs by default (Keras -> layers model; layers model -> .keras)."""
    out = path.parent / "out"
    out.mkdir(exist_ok=True)
    ROUTES[(fmt, "keras_keras" if fmt == "tfjs_layers_model" else "tfjs_layers_model")](path, out, _Options())


def _refused(path: Path, fmt: str, fragment: str) -> None:
    """The direct route and the lowering both refuse ``path`` in one line holding ``fragment``."""
    for read in (lambda: _route(path, fmt), lambda: FRONTENDS[fmt].load(path, FrontendOptions())):
        with pytest.raises(ConversionError) as err:
            read()
        message = str(err.value)
        assert "\n" not in message and fragment in message, message


@pytest.mark.parametrize("fmt", ["keras", "keras_keras", "tfjs_layers_model"])
def test_seed_models_read(fmt: str, tmp_path: Path) -> None:
    """The seeds the cases below damage are good models for both readers."""
    path = {"keras": _h5, "keras_keras": _zip, "tfjs_layers_model": _layers}[fmt](tmp_path)
    source = read_source(path, fmt)
    np.testing.assert_array_equal(source.weights()[("d",)][0], WEIGHTS[("d",)][0])
    assert [v.name for v in FRONTENDS[fmt].load(path, FrontendOptions()).graph.outputs] == ["e"]


# HDF5: confinement, sizes and types --------------------------------------------------------------------------

KERNEL = "model_weights/d/d/kernel"


def _replace(f: h5py.File, **kwargs: Any) -> None:
    del f[KERNEL]
    f.create_dataset(KERNEL, **kwargs)


def _virtual(f: h5py.File, source: str) -> None:
    layout = h5py.VirtualLayout(shape=(4, 3), dtype="f4")
    layout[:] = h5py.VirtualSource(source, "k", shape=(4, 3))
    del f[KERNEL]
    f.create_virtual_dataset(KERNEL, layout)


def _link(f: h5py.File, link: Any, at: str = KERNEL) -> None:
    del f[at]
    f[at] = link


Mutation = Callable[[h5py.File, Path], None]
H5_CASES: list[tuple[str, Mutation, str]] = [
    ("external_storage", lambda f, d: _replace(f, shape=(4, 3), dtype="f4", external=[(str(d / "canary"), 0, 48)]),
     "external file"),
    ("virtual_missing_source", lambda f, d: _virtual(f, "/nonexistent.h5"), "virtual dataset"),
    ("virtual_existing_source", lambda f, d: _virtual(f, str(d / "other.h5")), "virtual dataset"),
    ("external_link", lambda f, d: _link(f, h5py.ExternalLink(str(d / "other.h5"), "/k")), "external link"),
    ("external_link_on_the_way", lambda f, d: _link(f, h5py.ExternalLink(str(d / "other.h5"), "/g"),
                                                     "model_weights/d/d"), "external link"),
    ("external_link_layer_group", lambda f, d: _link(f, h5py.ExternalLink(str(d / "other.h5"), "/g"),
                                                      "model_weights/d"), "external link"),
    ("external_link_never_read", lambda f, d: f.__setitem__("extra", h5py.ExternalLink(str(d / "other.h5"), "/k")),
     "/extra: an external link"),
    ("external_storage_never_read", lambda f, d: f.create_dataset("extra", shape=(12,), dtype="f4", external=[
        (str(d / "canary"), 0, 48)]), "/extra: raw data in external file"),
    ("soft_link_dangling", lambda f, d: _link(f, h5py.SoftLink("/nowhere")), "dangles or loops"),
    ("soft_link_loop", lambda f, d: _link(f, h5py.SoftLink("/" + KERNEL)), "dangles or loops"),
    ("declared_huge_stored_empty", lambda f, d: _replace(f, shape=(2**31,), dtype="f4"), "but the file holds 0"),
    ("chunked_never_written", lambda f, d: _replace(f, shape=(2**31,), dtype="f4", chunks=(1024,)), "stores 0"),
    ("string", lambda f, d: _replace(f, data=np.array([b"a", b"b"])), "string dataset"),
    ("vlen_string", lambda f, d: _replace(f, data=["a", "b"], dtype=h5py.string_dtype()), "string dataset"),
    ("compound", lambda f, d: _replace(f, data=np.zeros(2, [("a", "f4"), ("b", "i4")])), "compound dataset"),
    ("object_reference", lambda f, d: _replace(f, data=f["model_weights"].ref), "object reference dataset"),
    ("enum", lambda f, d: _replace(f, data=np.zeros(2, "i1"), dtype=h5py.enum_dtype({"A": 0}, basetype="i1")),
     "enum dataset"),
    ("vlen_float", lambda f, d: _replace(f, shape=(2,), dtype=h5py.vlen_dtype("f4")), "variable-length dataset"),
    ("complex", lambda f, d: _replace(f, data=np.ones(2, np.complex64)), "numeric weight is expected"),
    ("null_dataspace", lambda f, d: _replace(f, data=h5py.Empty("f4")), "null dataspace"),
    ("weight_is_a_group", lambda f, d: (f.__delitem__(KERNEL), f.create_group(KERNEL)), "is a group"),
    ("weight_name_without_dataset", lambda f, d: f["model_weights/d"].attrs.__setitem__(
        "weight_names", np.array([b"d/kernel", b"d/nope"])), "d/nope: no such dataset"),
    ("weight_names_ints", lambda f, d: f["model_weights/d"].attrs.__setitem__("weight_names", np.array([1, 2])),
     "weight_names: not a string"),
    ("weight_names_one_string", lambda f, d: f["model_weights/d"].attrs.__setitem__("weight_names", "d/kernel"),
     "weight_names: not a list of names"),
    ("scalar_kernel", lambda f, d: _replace(f, data=np.float32(1.0)), "shape ()"),
    ("model_config_not_json", lambda f, d: f.attrs.__setitem__("model_config", "{not json"), "not valid JSON"),
    ("model_config_deep", lambda f, d: f.attrs.__setitem__("model_config", "[" * 5000 + "]" * 5000),
     "nested 5000 levels"),
    ("model_config_a_list", lambda f, d: f.attrs.__setitem__("model_config", "[1, 2]"), "a JSON list"),
    ("model_config_an_int", lambda f, d: f.attrs.__setitem__("model_config", np.int64(3)), "not a string"),
    ("keras_version_unknown", lambda f, d: f.attrs.__setitem__("keras_version", "evil"), "keras_version 'evil'"),
    ("keras_version_1", lambda f, d: f.attrs.__setitem__("keras_version", "1.2.2"), "neither Keras 2 nor Keras 3"),
]


@pytest.mark.parametrize(("case", "mutate", "fragment"), H5_CASES, ids=[c[0] for c in H5_CASES])
def test_hostile_hdf5(case: str, mutate: Mutation, fragment: str, tmp_path: Path) -> None:
    canary = b"CANARY-OUTSIDE-BYTES".ljust(48, b"!")
    (tmp_path / "canary").write_bytes(canary)
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["k"] = np.frombuffer(canary, np.float32).reshape(4, 3)
        other.create_group("g")["kernel"] = np.ones((4, 3), np.float32)
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        mutate(f, tmp_path)
    _refused(path, "keras", fragment)


def test_hdf5_soft_link_inside_the_file_is_followed(tmp_path: Path) -> None:
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        f["elsewhere"] = f[KERNEL][()]
        _link(f, h5py.SoftLink("/elsewhere"))
    np.testing.assert_array_equal(read_source(path, "keras").weights()[("d",)][0], WEIGHTS[("d",)][0])


def test_compressed_dataset_is_charged_to_the_budget(tmp_path: Path) -> None:
    path = _h5(tmp_path)
    with h5py.File(path, "r+") as f:
        _replace(f, data=np.zeros((512, 512), np.float32), compression="gzip")  # 1 MiB in a few kB
    read_source(path, "keras")  # no budget set: a library caller is not limited
    with allocation_budget(0, limit=1 << 19), pytest.raises(InputError, match="memory budget"):
        read_source(path, "keras")


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


NOT_HDF5: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("empty", lambda b: b""),
    ("text", lambda b: b"not an hdf5 file"),
    ("truncated_half", lambda b: b[:len(b) // 2]),
    ("truncated_after_magic", lambda b: b[:16]),
    ("superblock_flipped", lambda b: _flip(_flip(b, 9), 24)),
    ("magic_only", lambda b: b[:8] + bytes(4000)),
]


@pytest.mark.parametrize(("case", "damage"), NOT_HDF5, ids=[c[0] for c in NOT_HDF5])
def test_not_hdf5_is_one_line(case: str, damage: Callable[[bytes], bytes], tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    path.write_bytes(damage(_h5(tmp_path).read_bytes()))
    _refused(path, "keras", str(path))


def _spin() -> None:
    while True:
        pass


PROBES: list[tuple[str, Callable[[], object], str]] = [
    ("segfault", lambda: os.kill(os.getpid(), signal.SIGSEGV), "(SIGSEGV)"),
    ("abort", lambda: os.abort(), "(SIGABRT)"),
    ("stalled", lambda: time.sleep(30), "did not end in 0.5 s"),
    ("endless_loop", _spin, "CPU time limit"),
    ("runaway_allocation", lambda: bytearray(16 << 30), "needs more memory"),
    ("refusal_in_the_child", lambda: (_ for _ in ()).throw(InputError("m.h5: bad attribute")), "m.h5: bad attribute"),
]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the probe forks")
@pytest.mark.parametrize(("case", "read", "fragment"), PROBES, ids=[c[0] for c in PROBES])
def test_crash_probe_turns_a_dying_read_into_one_line(case: str, read: Callable[[], object], fragment: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """libhdf5 reads out of bounds on some damaged files (one flipped byte in an attribute message is enough)."""
    monkeypatch.setattr(sandbox, "PROBE_SECONDS", 0.5 if case == "stalled" else 30)
    monkeypatch.setattr(sandbox, "PROBE_CPU_SECONDS", 1)
    with pytest.raises(InputError, match=re.escape(fragment)):
        sandbox.crash_probe(read, Path("m.h5"), "m.h5")
    sandbox.crash_probe(lambda: 1 / 0, Path("m.h5"), "m.h5")  # a Python error in the child is the real read's to report


def test_bit_flips_never_escape_as_tracebacks(tmp_path: Path) -> None:
    """Every byte of the seed flipped in turn (a stride of them): accepted, or one ConversionError line."""
    data = _h5(tmp_path).read_bytes()
    path = tmp_path / "flip.h5"
    for at in range(0, len(data), max(len(data) // 150, 1)):
        path.write_bytes(_flip(data, at))
        for read in (lambda: _route(path, "keras"), lambda: FRONTENDS["keras"].load(path, FrontendOptions())):
            try:
                read()
            except ConversionError as e:
                assert "\n" not in str(e), (at, str(e))


# .keras archives: member table, methods, bombs ---------------------------------------------------------------


def _members(tmp: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(_zip(tmp, "seed.keras")) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path.read_bytes()


def _patch_central(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of ``name``'s central directory record (method 10, file size 24)."""
    at = data.index(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4:][:0])
    while data[at + 46:at + 46 + len(name)] != name.encode():
        at = data.index(b"PK\x01\x02", at + 4)
    return data[:at + offset] + struct.pack(fmt, value) + data[at + offset + struct.calcsize(fmt):]


def _patch_local(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    at = data.index(b"PK\x03\x04" + data[data.index(b"PK\x03\x04") + 4:][:0])
    while data[at + 30:at + 30 + len(name)] != name.encode():
        at = data.index(b"PK\x03\x04", at + 4)
    return data[:at + offset] + struct.pack(fmt, value) + data[at + offset + struct.calcsize(fmt):]


ZipBuild = Callable[[Path, dict[str, bytes]], None]


def _entries(m: dict[str, bytes], **extra: bytes) -> list[tuple[str, bytes]]:
    return [*m.items(), *((k.replace("__", "/").replace("DOTDOT", ".."), v) for k, v in extra.items())]


def _bomb(path: Path, m: dict[str, bytes]) -> None:
    zeros = json.dumps({"pad": " " * (8 << 20)}).encode()
    _write_zip(path, [("config.json", zeros)], zipfile.ZIP_DEFLATED)


def _method(path: Path, m: dict[str, bytes], method: int) -> None:
    data = _write_zip(path, list(m.items()))
    data = _patch_central(data, "config.json", 10, "<H", method)
    path.write_bytes(_patch_local(data, "config.json", 8, "<H", method))


def _crc(path: Path, m: dict[str, bytes]) -> None:
    data = _write_zip(path, list(m.items()))
    at = data.index(b'"class_name"')
    path.write_bytes(data[:at] + b"X" + data[at + 1:])


ZIP_CASES: list[tuple[str, ZipBuild, str]] = [
    ("dotdot_member", lambda p, m: _write_zip(p, _entries(m, **{"DOTDOT__x": b"1"})), "climbs out"),
    ("absolute_member", lambda p, m: _write_zip(p, [*m.items(), ("/etc/passwd", b"1")]), "absolute"),
    ("backslash_member", lambda p, m: _write_zip(p, [*m.items(), ("..\\evil", b"1")]), "non-portable"),
    ("nested_config", lambda p, m: _write_zip(p, [("sub/config.json", m["config.json"]), *m.items()]),
     "not a member Keras writes"),
    ("unknown_member", lambda p, m: _write_zip(p, [*m.items(), ("payload.py", b"import os")]),
     "not a member Keras writes"),
    ("duplicate_config", lambda p, m: _write_zip(p, [*m.items(), ("config.json", b"{}")]), "occurs twice"),
    ("no_config", lambda p, m: _write_zip(p, [("metadata.json", m["metadata.json"])]), "no config.json"),
    ("npz_weights", lambda p, m: _write_zip(p, [("config.json", m["config.json"]), ("model.weights.npz", b"x")]),
     "model.weights.npz"),
    ("encrypted", lambda p, m: p.write_bytes(_patch_local(_patch_central(_write_zip(p, list(m.items())), "config.json",
                                                                          8, "<H", 1), "config.json", 6, "<H", 1)),
     "encrypted"),
    ("bzip2", lambda p, m: _write_zip(p, list(m.items()), zipfile.ZIP_BZIP2), "method 12"),
    ("lzma", lambda p, m: _write_zip(p, list(m.items()), zipfile.ZIP_LZMA), "method 14"),
    ("unknown_method", lambda p, m: _method(p, m, 99), "method 99"),
    ("declared_size_huge", lambda p, m: p.write_bytes(_patch_central(_write_zip(p, list(m.items())), "config.json",
                                                                     24, "<I", 0xFFFFFFF0)), "over the"),
    ("stored_size_lies", lambda p, m: p.write_bytes(_patch_central(_write_zip(p, list(m.items())), "config.json",
                                                                   24, "<I", 10)), "declares 10 bytes"),
    ("deflated_size_lies", lambda p, m: p.write_bytes(_patch_central(
        _write_zip(p, list(m.items()), zipfile.ZIP_DEFLATED), "config.json", 24, "<I", 10)), "config.json"),
    ("ratio_bomb", _bomb, "zip bomb"),
    ("crc_mismatch", _crc, "not a readable .keras archive"),
    ("truncated", lambda p, m: p.write_bytes(_write_zip(p, list(m.items()))[:-30]), "not a readable .keras"),
    ("not_a_zip", lambda p, m: p.write_bytes(b"PK\x03\x04 definitely not"), "not a readable .keras"),
    ("config_not_json", lambda p, m: _write_zip(p, [("config.json", b"{nope")]), "config.json: not valid JSON"),
    ("config_deep", lambda p, m: _write_zip(p, [("config.json", b"[" * 3000 + b"]" * 3000)]), "nested 3000"),
    ("config_a_list", lambda p, m: _write_zip(p, [("config.json", b"[]")]), "a JSON list"),
    ("metadata_a_list", lambda p, m: _write_zip(p, [*_entries({k: v for k, v in m.items() if k != "metadata.json"}),
                                                    ("metadata.json", b"[1]")]), "metadata.json is not"),
    ("version_a_number", lambda p, m: _write_zip(p, [("config.json", m["config.json"]),
                                                     ("metadata.json", b'{"keras_version": 3}')]), "not a string"),
    ("version_unknown", lambda p, m: _write_zip(p, [("config.json", m["config.json"]),
                                                    ("metadata.json", b'{"keras_version": "99.1"}')]), "'99.1'"),
    ("weights_not_hdf5", lambda p, m: _write_zip(p, [("config.json", m["config.json"]),
                                                     ("model.weights.h5", b"garbage")]), "not a readable HDF5"),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(("case", "build", "fragment"), ZIP_CASES, ids=[c[0] for c in ZIP_CASES])
def test_hostile_keras_archive(case: str, build: ZipBuild, fragment: str, tmp_path: Path) -> None:
    members = _members(tmp_path)
    path = tmp_path / "m.keras"
    build(path, members)
    _refused(path, "keras_keras", fragment)


def test_assets_are_ignored_and_a_folder_named_keras_is_refused(tmp_path: Path) -> None:
    members = _members(tmp_path)
    _write_zip(tmp_path / "m.keras", [*members.items(), ("assets/vocab.txt", b"a\nb")])
    read_source(tmp_path / "m.keras", "keras_keras")
    (tmp_path / "dir.keras").mkdir()
    _refused(tmp_path / "dir.keras", "keras_keras", "directory")


def _weights_tree(tmp: Path, edit: Callable[[h5py.File], None]) -> Path:
    members = _members(tmp)
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as f:
        edit(f)
    members["model.weights.h5"] = buffer.getvalue()
    _write_zip(tmp / "m.keras", list(members.items()))
    return tmp / "m.keras"


def _self_containing(f: h5py.File) -> None:
    f["layers/dense/loop"] = f["layers/dense"]


WEIGHTS_TREE_CASES: list[tuple[str, Callable[[h5py.File], None], str]] = [
    ("self_containing_group", _self_containing, "reached twice"),
    ("external_link", lambda f: (f.__delitem__("layers/dense/vars"), f.__setitem__(
        "layers/dense/vars", h5py.ExternalLink("/etc/passwd", "/x"))), "external link"),
    ("external_link_layers", lambda f: (f.__delitem__("layers"), f.__setitem__(
        "layers", h5py.ExternalLink("other.h5", "/layers"))), "external link"),
    ("external_link_never_read", lambda f: f.__setitem__("junk", h5py.ExternalLink("/etc/passwd", "/x")),
     "/junk: an external link"),
    ("var_not_an_index", lambda f: f["layers/dense/vars"].create_dataset("kernel", data=np.ones(2)),
     "not a variable index"),
    ("var_is_a_string", lambda f: (f.__delitem__("layers/dense/vars/0"),
                                   f["layers/dense/vars"].create_dataset("0", data=np.array([b"x"]))), "string"),
    ("declared_huge", lambda f: (f.__delitem__("layers/dense/vars/0"),
                                 f["layers/dense/vars"].create_dataset("0", shape=(2**31,), dtype="f4")),
     "the file holds 0"),
    ("vars_a_dataset", lambda f: (f.__delitem__("layers/dense/vars"), f["layers/dense"].create_dataset(
        "vars", data=np.ones(2))), "group of variables"),
]


@pytest.mark.parametrize(("case", "edit", "fragment"), WEIGHTS_TREE_CASES, ids=[c[0] for c in WEIGHTS_TREE_CASES])
def test_hostile_keras_weights_file(case: str, edit: Callable[[h5py.File], None], fragment: str,
                                    tmp_path: Path) -> None:
    _refused(_weights_tree(tmp_path, edit), "keras_keras", fragment)


# Configs of the wrong type, recursion and code, in every reader ------------------------------------------------


def _layer(spec: JsonDict, i: int) -> JsonDict:
    return spec["config"]["layers"][i]  # type: ignore[no-any-return]


def _set(i: int, key: str, value: Any) -> Callable[[JsonDict], None]:
    return lambda s: _layer(s, i).__setitem__(key, value)


def _cfg(i: int, key: str, value: Any) -> Callable[[JsonDict], None]:
    return lambda s: _layer(s, i)["config"].__setitem__(key, value)


def _nested(depth: int) -> Callable[[JsonDict], None]:
    """Layer 'd' wrapped in a model in a model ... ``depth`` levels deep (a model nesting itself)."""
    def mutate(spec: JsonDict) -> None:
        inner: JsonDict = {**copy.deepcopy(_layer(spec, 1)), "name": "x"}
        for level in range(depth):
            name, source = ("d" if level == depth - 1 else f"n{level}"), f"i{level}"
            inner["inbound_nodes"] = [[[source, 0, 0, {}]]]
            inner = {"class_name": "Functional", "name": name, "inbound_nodes": [[["inp", 0, 0, {}]]],
                     "config": {"name": name, "input_layers": [[source, 0, 0]],
                                "output_layers": [[inner["name"], 0, 0]],
                                "layers": [{"class_name": "InputLayer", "name": source, "inbound_nodes": [],
                                            "config": {"name": source, "batch_input_shape": [None, 4]}},
                                           inner]}}
        spec["config"]["layers"][1] = inner
    return mutate


def _insert(layer: JsonDict) -> Callable[[JsonDict], None]:
    """``layer`` (reading 'd') inserted before 'e', which reads it instead."""
    def mutate(spec: JsonDict) -> None:
        spec["config"]["layers"].insert(2, layer)
        _layer(spec, 3)["inbound_nodes"] = [[[layer["name"], 0, 0, {}]]]
    return mutate


TF_OP = {"class_name": "TFOpLambda", "name": "tf.math.multiply", "inbound_nodes": [["d", 0, 0, {"y": 2.0}]],
         "config": {"name": "tf.math.multiply", "function": "math.multiply", "trainable": True}}
SLICE = {"class_name": "SlicingOpLambda", "name": "tf.__operators__.getitem", "inbound_nodes": [
    ["d", 0, 0, {"slice_spec": {"start": None, "stop": None, "step": None}}]],
         "config": {"name": "tf.__operators__.getitem", "function": "__operators__.getitem"}}
LAMBDA2 = {"class_name": "Lambda", "name": "lam", "inbound_nodes": [[["d", 0, 0, {}]]],
           "config": {"name": "lam", "function": ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABk", None, None],
                      "function_type": "lambda", "module": "__main__", "output_shape": None}}
LAMBDA3 = {"module": "keras.layers", "class_name": "Lambda", "name": "lam", "inbound_nodes": [[["d", 0, 0, {}]]],
           "config": {"name": "lam", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}
CONFIG_CASES: list[tuple[str, Callable[[JsonDict], None], str]] = [
    ("layers_a_dict", lambda s: s["config"].__setitem__("layers", {}), "layers: expected a list"),
    ("layer_a_list", lambda s: s["config"]["layers"].__setitem__(1, [1]), "layer #1: expected a JSON object"),
    ("no_class_name", lambda s: _layer(s, 1).pop("class_name"), "class_name: expected a name"),
    ("class_name_a_number", _set(1, "class_name", 5), "class_name: expected a name, found int 5"),
    ("no_name", lambda s: (_layer(s, 1).pop("name"), _layer(s, 1)["config"].pop("name")), "(Dense) name"),
    ("config_a_list", _set(1, "config", [1]), "(Dense) config: expected a JSON object"),
    ("inbound_nodes_a_string", _set(1, "inbound_nodes", "inp"), "layer 'd' (Dense) inbound_nodes"),
    ("node_entry_short", _set(1, "inbound_nodes", [[["inp", 0]]]), "expected [layer, node index, tensor index]"),
    ("node_index_a_string", _set(1, "inbound_nodes", [[["inp", "x", 0, {}]]]), "node index: expected"),
    ("node_index_digits", _set(1, "inbound_nodes", [[["inp", "0", 0, {}]]]), "node index: expected"),
    ("node_index_negative", _set(1, "inbound_nodes", [[["inp", -1, 0, {}]]]), "node index: expected"),
    ("node_index_bool", _set(1, "inbound_nodes", [[["inp", True, 0, {}]]]), "node index: expected"),
    ("node_index_out_of_range", _set(1, "inbound_nodes", [[["inp", 5, 0, {}]]]), "reads call 5 of layer 'inp'"),
    ("tensor_index_huge", _set(1, "inbound_nodes", [[["inp", 0, 2**40, {}]]]), "tensor index: expected"),
    ("unknown_producer", _set(1, "inbound_nodes", [[["ghost", 0, 0, {}]]]), "reads layer 'ghost'"),
    ("duplicate_names", lambda s: (_set(2, "name", "d")(s), _cfg(2, "name", "d")(s)), "two layers are named 'd'"),
    ("calls_itself", _set(1, "inbound_nodes", [[["d", 0, 0, {}]]]), "a cycle"),
    ("cycle", lambda s: (_set(1, "inbound_nodes", [[["e", 0, 0, {}]]])(s)), "a cycle"),
    ("output_never_called", _set(2, "inbound_nodes", []), "output 'e' is a layer the model never calls"),
    ("output_layers_a_string", lambda s: s["config"].__setitem__("output_layers", "e"), "output_layers"),
    ("input_shape_string", _cfg(0, "batch_input_shape", [None, "4"]), "dimension str '4'"),
    ("input_shape_negative", _cfg(0, "batch_input_shape", [None, -4]), "dimension int -4"),
    ("input_shape_a_string", _cfg(0, "batch_input_shape", "4"), "expected a list"),
    ("nests_itself_forever", _nested(100), "levels deep"),
    ("lambda_keras2", _insert(LAMBDA2), "layer 'lam' (Lambda): a Lambda layer holds Python code"),
    ("lambda_keras3", _insert(LAMBDA3), "layer 'lam' (Lambda)"),
    ("lambda_as_activation", _cfg(1, "activation", {"class_name": "__lambda__", "config": {"code": "4wEA"}}),
     "serialized Python lambda"),
    ("custom_module", _set(1, "module", "kerasevil.layers"), "module 'kerasevil.layers'"),
    ("custom_module_prefix", _set(1, "module", "keras_evil"), "module 'keras_evil'"),
    ("custom_initializer", _cfg(1, "kernel_initializer", {"module": "evil", "class_name": "X", "config": {}}),
     "layer 'd' (X): a custom object from module 'evil'"),
    ("function_payload", _insert({**LAMBDA2, "class_name": "MyLayer", "config": {
        "name": "lam", "function": ["4wEAAAAA", None, None], "function_type": "lambda"}}), "a Python function"),
    ("tf_op_lambda", _insert(TF_OP), "layer 'tf.math.multiply' (TFOpLambda)"),
    ("slicing_op_lambda", _insert(SLICE), "(SlicingOpLambda)"),
]
SEEDS: dict[str, Callable[[Path, JsonDict], Path]] = {}


def _h5_with(tmp: Path, spec: JsonDict) -> Path:
    path = _h5(tmp)
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = json.dumps(spec)
    return path


def _zip_with(tmp: Path, spec: JsonDict) -> Path:
    members = {**_members(tmp), "config.json": json.dumps(spec).encode()}
    _write_zip(tmp / "m.keras", list(members.items()))
    return tmp / "m.keras"


def _layers_with(tmp: Path, spec: JsonDict) -> Path:
    path = _layers(tmp)
    doc = json.loads(path.read_text())
    doc["modelTopology"]["model_config"] = spec
    path.write_text(json.dumps(doc))
    return path


SEEDS.update({"keras": _h5_with, "keras_keras": _zip_with, "tfjs_layers_model": _layers_with})


@pytest.mark.parametrize("fmt", list(SEEDS))
@pytest.mark.parametrize(("case", "mutate", "fragment"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_config(case: str, mutate: Callable[[JsonDict], None], fragment: str, fmt: str,
                        tmp_path: Path) -> None:
    spec = _spec()
    mutate(spec)
    path = SEEDS[fmt](tmp_path, spec)
    _refused(path, fmt, fragment)
    _refused(path, fmt, str(path))  # and the file is named


# Values of the wrong type that only the lowering reads -----------------------------------------------------------

LOWERING_CASES: list[tuple[str, Callable[[JsonDict], None], str]] = [
    ("reshape_target_strings", _insert({"class_name": "Reshape", "name": "r", "inbound_nodes": [[["d", 0, 0, {}]]],
                                        "config": {"name": "r", "target_shape": ["a", 3]}}), "layer 'r' (Reshape)"),
    ("dropout_rate_a_dict", _insert({"class_name": "LeakyReLU", "name": "r", "inbound_nodes": [[["d", 0, 0, {}]]],
                                     "config": {"name": "r", "alpha": {"x": 1}}}), "layer 'r' (LeakyReLU)"),
    ("upsampling_huge", lambda s: (_insert({"class_name": "UpSampling1D", "name": "u", "inbound_nodes": [
        [["r", 0, 0, {}]]], "config": {"name": "u", "size": 2**40}})(s), _insert({
            "class_name": "Reshape", "name": "r", "inbound_nodes": [[["d", 0, 0, {}]]],
            "config": {"name": "r", "target_shape": [3, 1]}})(s)), "layer 'u' (UpSampling1D) up-sampling indices"),
    ("activation_a_number", _cfg(1, "activation", 7), "(Dense)"),
]


@pytest.mark.parametrize(("case", "mutate", "fragment"), LOWERING_CASES, ids=[c[0] for c in LOWERING_CASES])
def test_config_values_of_the_wrong_type(case: str, mutate: Callable[[JsonDict], None], fragment: str,
                                         tmp_path: Path) -> None:
    spec = _spec()
    mutate(spec)
    with pytest.raises(ConversionError) as err:
        FRONTENDS["keras"].load(_h5_with(tmp_path, spec), FrontendOptions())
    assert "\n" not in str(err.value) and fragment in str(err.value), str(err.value)


# No payload is ever written ---------------------------------------------------------------------------------------

MODULES = [("keras", True), ("keras.layers", True), ("keras.src.models.functional", True), ("tf_keras.layers", True),
           ("kerasevil.layers", False), ("keras_evil", False), ("keras.", False), ("keras..layers", False),
           ("__main__", False), ("my.keras.layers", False), ("keras.layers;import os", False)]


@pytest.mark.parametrize(("module", "keras"), MODULES, ids=[m for m, _ in MODULES])
def test_module_names_match_keras_namespaces_exactly(module: str, keras: bool) -> None:
    assert bool(KERAS_MODULE.fullmatch(module)) is keras
    spec = _spec()
    _layer(spec, 1)["module"] = module
    if keras:
        refuse_code(spec, "Keras file")
        return
    with pytest.raises(InputError, match="custom object"):
        refuse_code(spec, "Keras file")


WRITERS: list[tuple[str, Callable[[JsonDict], Any]]] = [
    ("keras3_spec", keras3_spec),
    ("tfjs_topology", lambda spec: tfjs_topology(spec, "2.15.0")),
    ("write_keras_h5", lambda spec: write_keras_h5(spec, WEIGHTS, Path("/nonexistent/never/m.h5"))),
    ("write_keras_zip", lambda spec: write_keras_zip(spec, WEIGHTS, Path("/nonexistent/never/m.keras"))),
]
PAYLOADS = [("lambda_keras2", _insert(LAMBDA2)), ("lambda_keras3", _insert(LAMBDA3)),
            ("tf_op", _insert(TF_OP)), ("custom_module", _set(1, "module", "kerasevil.layers")),
            ("lambda_activation", _cfg(1, "activation", {"class_name": "__lambda__", "config": {"code": "4wEA"}}))]


@pytest.mark.parametrize(("payload", "mutate"), PAYLOADS, ids=[p for p, _ in PAYLOADS])
@pytest.mark.parametrize(("writer", "write"), WRITERS, ids=[w for w, _ in WRITERS])
def test_writers_never_write_code(writer: str, write: Callable[[JsonDict], Any], payload: str,
                                  mutate: Callable[[JsonDict], None]) -> None:
    """Called directly (no reader before them), the Keras and layers writers still refuse code."""
    spec = _spec()
    mutate(spec)
    with pytest.raises(InputError, match="never written"):
        write(spec)


def test_layers_model_lambda_is_not_relabelled_into_keras(tmp_path: Path) -> None:
    """A layers model.json holding Lambda bytecode converts to neither .h5 nor .keras, and nothing is written."""
    spec = _spec()
    _insert(LAMBDA2)(spec)
    path = _layers_with(tmp_path, spec)
    for out_fmt in ("keras", "keras_keras"):
        out = tmp_path / out_fmt
        out.mkdir()
        with pytest.raises(InputError, match="Lambda"):
            ROUTES[("tfjs_layers_model", out_fmt)](path, out, _Options())
        assert not any(out.iterdir())


# Reconversion gives the same bytes ------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("source", "out_fmt"), [("tfjs_layers_model", "keras"), ("tfjs_layers_model", "keras_keras"),
                                                 ("keras", "tfjs_layers_model"), ("keras_keras", "tfjs_layers_model")])
def test_reconversion_is_byte_identical(source: str, out_fmt: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = {"keras": _h5, "keras_keras": _zip, "tfjs_layers_model": _layers}[source](tmp_path)
    trees = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        out.mkdir()
        ROUTES[(source, out_fmt)](path, out, _Options())
        trees.append(_tree(out))
        monkeypatch.setattr("time.time", lambda: 2e9)  # a later clock must not change the bytes
    assert trees[0] == trees[1] and trees[0]


# The command line: exit 2, one line, nothing written ---------------------------------------------------------------


def _cli_h5(tmp: Path) -> Path:
    path = _h5(tmp)
    with h5py.File(path, "r+") as f:
        _link(f, h5py.ExternalLink(str(tmp / "canary.h5"), "/k"))
    return path


def _cli_keras(tmp: Path) -> Path:
    _bomb(tmp / "m.keras", {})
    return tmp / "m.keras"


def _cli_layers(tmp: Path) -> Path:
    spec = _spec()
    _insert(LAMBDA2)(spec)
    return _layers_with(tmp, spec)


def _cli_tf_op(tmp: Path) -> Path:
    spec = _spec()
    _insert(TF_OP)(spec)
    return _h5_with(tmp, spec)


CLI_CASES: list[tuple[str, Callable[[Path], Path], list[str], str]] = [
    ("h5_external_link", _cli_h5, [], "external link"),
    ("h5_external_link_graph_model", _cli_h5, ["--output-format", "tfjs_graph_model"], "external link"),
    ("keras_zip_bomb", _cli_keras, [], "zip bomb"),
    ("layers_lambda_to_keras", _cli_layers, ["--output-format", "keras_keras"], "(Lambda)"),
    ("tf_keras2_tf_op_lambda", _cli_tf_op, [], "(TFOpLambda)"),
]


@pytest.mark.parametrize(("case", "build", "flags", "fragment"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_in_one_line(case: str, build: Callable[[Path], Path], flags: list[str], fragment: str,
                                 tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tfjs_pivot.cli import main

    with h5py.File(tmp_path / "canary.h5", "w") as f:
        f["k"] = np.full((4, 3), 7.25, np.float32)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(build(tmp_path)), str(out), *flags])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.output, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()
