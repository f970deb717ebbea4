"""Hostile and broken layers models: every manifest problem is one InputError naming the file and the place."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from pivot.errors import InputError
from tfjs_format.layers_model import LayersModel, sniff
from tfjs_format.weights import read_weights
from tfjs_pivot.cli import main

CANARY = b"CANARY-7f3a9c-never-read"
KERNEL = np.arange(6, dtype=np.float32).reshape(3, 2)
BIAS = np.ones(2, np.float32)

Mutation = Callable[[Path, dict[str, Any]], object]


def make_model(folder: Path) -> dict[str, Any]:
    """A valid one-Dense layers model: model.json + w.bin (32 bytes); returns its doc."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "w.bin").write_bytes(KERNEL.tobytes() + BIAS.tobytes())
    dense = {"class_name": "Dense", "config": {"name": "fc", "units": 2, "activation": "linear", "use_bias": True,
                                               "batch_input_shape": [None, 3], "dtype": "float32"}}
    topology = {"class_name": "Sequential", "config": {"name": "s", "layers": [dense]}, "keras_version": "2.15.0",
                "backend": "tensorflow"}
    return {"format": "layers-model", "generatedBy": "keras v2.15.0", "modelTopology": topology,
            "weightsManifest": [{"paths": ["w.bin"], "weights": [
                {"name": "fc/kernel", "shape": [3, 2], "dtype": "float32"},
                {"name": "fc/bias", "shape": [2], "dtype": "float32"}]}]}


def _group(doc: dict[str, Any], **changes: Any) -> None:
    doc["weightsManifest"][0].update(changes)


def _kernel(doc: dict[str, Any], **changes: Any) -> None:
    doc["weightsManifest"][0]["weights"][0].update(changes)


def _link(name: str, target: str | None = None) -> Mutation:
    def mutate(folder: Path, doc: dict[str, Any]) -> None:
        os.symlink(target or str(folder.parent / "canary.bin"), folder / name)
        _group(doc, paths=[name])
    return mutate


def _special(kind: str) -> Mutation:
    def mutate(folder: Path, doc: dict[str, Any]) -> None:
        if kind == "fifo":
            os.mkfifo(folder / "s.bin")
        else:
            (folder / "s.bin").mkdir()
        _group(doc, paths=["s.bin"])
    return mutate


def _shard_bytes(data: bytes) -> Mutation:
    return lambda folder, doc: (folder / "w.bin").write_bytes(data)


_W = KERNEL.tobytes() + BIAS.tobytes()
# (id, mutation of the folder and the doc, fragment of the one-line message)
MANIFEST_CASES: list[tuple[str, Mutation, str]] = [
    ("absolute", lambda f, d: _group(d, paths=[str(f.parent / "canary.bin")]), "is an absolute path"),
    ("dotdot", lambda f, d: _group(d, paths=["../canary.bin"]), "climbs out of the model's folder"),
    ("dotdot-inner", lambda f, d: _group(d, paths=["sub/../../canary.bin"]), "climbs out"),
    ("url", lambda f, d: _group(d, paths=["https://example.com/w.bin"]), "is a URL"),
    ("file-url", lambda f, d: _group(d, paths=["file:///etc/passwd"]), "is a URL"),
    ("device", lambda f, d: _group(d, paths=["/dev/zero"]), "is an absolute path"),
    ("backslash-absolute", lambda f, d: _group(d, paths=["\\etc\\passwd"]), "is an absolute path"),
    ("nul", lambda f, d: _group(d, paths=["w\x00.bin"]), "NUL byte"),
    ("symlink-out", _link("s.bin"), "leads outside the model's folder"),
    ("symlink-loop", _link("s.bin", "s.bin"), "cannot resolve"),
    ("symlink-dangling", _link("s.bin", "gone.bin"), "is missing"),
    ("fifo", _special("fifo"), "is not a regular file"),
    ("directory", _special("dir"), "is not a regular file"),
    ("missing", lambda f, d: _group(d, paths=["nope.bin"]), "is missing"),
    ("paths-null", lambda f, d: _group(d, paths=None), "paths None is not a list of file names"),
    ("paths-number", lambda f, d: _group(d, paths=3), "paths 3 is not a list"),
    ("paths-string", lambda f, d: _group(d, paths="w.bin"), "paths 'w.bin' is not a list"),
    ("paths-item", lambda f, d: _group(d, paths=[1]), "is not a list of file names"),
    ("paths-duplicate", lambda f, d: _group(d, paths=["w.bin", "w.bin"]), "lists the shard 'w.bin' twice"),
    ("paths-alias", lambda f, d: _group(d, paths=["w.bin", "./w.bin"]), "name the same file"),
    ("weights-object", lambda f, d: _group(d, weights={}), "weights {} is not a list"),
    ("weights-null", lambda f, d: _group(d, weights=None), "weights None is not a list"),
    ("group-list", lambda f, d: d.update(weightsManifest=[[1]]), "is not an object with paths and weights"),
    ("manifest-object", lambda f, d: d.update(weightsManifest={}), "weightsManifest is {}, not a list"),
    ("entry-string", lambda f, d: _group(d, weights=["x"]), "the manifest entry 'x' is not an object"),
    ("name-number", lambda f, d: _kernel(d, name=3), "is named 3"),
    ("name-empty", lambda f, d: _kernel(d, name=""), "is named ''"),
    ("shape-negative", lambda f, d: _kernel(d, shape=[-3, -2]), "'fc/kernel': shape [-3, -2] has the dimension -3"),
    ("shape-string", lambda f, d: _kernel(d, shape=["3", 2]), "dimension '3', not an integer"),
    ("shape-float", lambda f, d: _kernel(d, shape=[3.0, 2]), "dimension 3.0, not an integer"),
    ("shape-bool", lambda f, d: _kernel(d, shape=[True, 6]), "dimension True, not an integer"),
    ("shape-nested", lambda f, d: _kernel(d, shape=[[3], 2]), "dimension [3], not an integer"),
    ("shape-null", lambda f, d: _kernel(d, shape=None), "shape None is not a list"),
    ("shape-huge-dim", lambda f, d: _kernel(d, shape=[2**63, 0]), "outside 0..2147483647"),
    ("shape-rank", lambda f, d: _kernel(d, shape=[1] * 33), "33 dimensions (at most 32)"),
    # Each axis is valid, the product is 2**93 elements: a Python int compared with the 32 bytes present.
    ("shape-overflow", lambda f, d: _kernel(d, shape=[2**31 - 1] * 3), "but the shard files [w.bin] hold 32"),
    ("dtype-unknown", lambda f, d: _kernel(d, dtype="complex64"), "dtype 'complex64' is not supported"),
    ("dtype-number", lambda f, d: _kernel(d, dtype=3), "dtype 3 is not supported"),
    ("dtype-list", lambda f, d: _kernel(d, dtype=["float32"]), "dtype ['float32'] is not supported"),
    ("quant-list", lambda f, d: _kernel(d, quantization=[1]), "quantization [1] is not an object"),
    ("quant-dtype", lambda f, d: _kernel(d, quantization={"dtype": "int4"}), "quantization dtype 'int4'"),
    ("quant-scale-string", lambda f, d: _kernel(d, quantization={"dtype": "uint8", "scale": "x", "min": 0}),
     "quantization scale 'x' is not a finite number"),
    ("quant-min-missing", lambda f, d: _kernel(d, quantization={"dtype": "uint8", "scale": 1.0}),
     "quantization min None"),
    ("quant-scale-inf", lambda f, d: _kernel(d, quantization={"dtype": "uint16", "scale": float("inf"), "min": 0}),
     "quantization scale inf"),
    ("quant-scale-bigint", lambda f, d: _kernel(d, quantization={"dtype": "uint8", "scale": 10**400, "min": 0}),
     "is not a finite number"),
    ("quant-int32", lambda f, d: _kernel(d, dtype="int32", quantization={"dtype": "float16"}),
     "only float32 weights are stored quantized, not int32"),
    ("group-label-list", lambda f, d: _kernel(d, group=[1]), "group [1] is not a weight group label"),
    ("group-label-long", lambda f, d: _kernel(d, group="x" * 100), "is not a weight group label"),
    ("shard-short", _shard_bytes(_W[:-4]), "needs 32 bytes but the shard files [w.bin] hold 28"),
    ("shard-long", _shard_bytes(_W + b"\0" * 4), "needs 32 bytes but the shard files [w.bin] hold 36"),
    ("shard-empty", _shard_bytes(b""), "hold 0"),
]


def _hostile(tmp_path: Path, mutation: Mutation) -> Path:
    (tmp_path / "canary.bin").write_bytes(CANARY * 2)  # 48 bytes: a size that never matches by chance
    folder = tmp_path / "model"
    doc = make_model(folder)
    mutation(folder, doc)
    (folder / "model.json").write_text(json.dumps(doc))
    return folder / "model.json"


@pytest.mark.parametrize(("mutation", "message"), [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES])
def test_manifest_refused_by_both_readers(tmp_path: Path, mutation: Mutation, message: str) -> None:
    path = _hostile(tmp_path, mutation)
    for read in (lambda: LayersModel(path).close(), lambda: list(read_weights(path))):
        with pytest.raises(InputError) as info:
            read()
        text = str(info.value)
        assert message in text and "model.json" in text and "\n" not in text, text
        assert CANARY.decode() not in text


@pytest.mark.parametrize(("mutation", "message"), [c[1:] for c in MANIFEST_CASES], ids=[c[0] for c in MANIFEST_CASES])
def test_manifest_refused_by_the_cli(tmp_path: Path, mutation: Mutation, message: str) -> None:
    path = _hostile(tmp_path, mutation)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", "--output-format", "tfjs_layers_model", str(path), str(out)])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output and not out.exists()


def test_valid_model_and_kept_keys(tmp_path: Path) -> None:
    """The seed of every case reads back; a weight's group survives re-writing, unknown entry keys do not."""
    doc = make_model(tmp_path / "model")
    doc["weightsManifest"][0]["weights"][1].update(group="model", payload={"x": [1, 2]})
    (tmp_path / "model" / "model.json").write_text(json.dumps(doc))
    back = dict(read_weights(tmp_path / "model" / "model.json"))
    np.testing.assert_array_equal(back["fc/kernel"], KERNEL)
    result = CliRunner().invoke(main, ["convert", "--output-format", "tfjs_layers_model",
                                       str(tmp_path / "model"), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "out" / "model.json").read_text())["weightsManifest"][0]["weights"]
    assert written[1] == {"name": "fc/bias", "shape": [2], "dtype": "float32", "group": "model"}


def _json_file(text: str) -> Callable[[Path], object]:
    return lambda path: _replace(path, text)


def _replace(path: Path, kind: str) -> Path:
    """``path`` replaced by a FIFO, a folder, or a file holding the text ``kind``."""
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text(kind)
    return path


_DEEP = '{"format": "layers-model", "modelTopology": ' + "[" * 400 + "]" * 400 + "}"
# (id, how model.json is damaged, fragment)
JSON_CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("invalid", _json_file("{not json"), "not valid JSON"),
    ("deep", _json_file(_DEEP), "nested 401 levels deep"),
    ("list", _json_file("[1, 2]"), "not a JSON object"),
    ("not-utf8", lambda p: p.write_bytes(b'{"a": "\xff\xfe"}'), "not valid JSON"),
    ("graph-model", _json_file('{"modelTopology": {"node": []}}'), "not a TensorFlow.js layers model"),
    ("fifo", lambda p: _replace(p, "fifo"), "is not a regular file"),
]


@pytest.mark.parametrize(("damage", "message"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_model_json_refused(tmp_path: Path, damage: Callable[[Path], object], message: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(make_model(tmp_path)))
    damage(path)
    with pytest.raises(InputError) as info:
        LayersModel(path)
    assert message in str(info.value) and "\n" not in str(info.value), info.value


def _unreadable(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    real = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    return path


def _loop(path: Path) -> Path:
    path.unlink()
    os.symlink(path.name, path)
    return path


def _huge(path: Path) -> Path:
    with path.open("r+b") as f:  # sparse: 65 MiB on paper, nothing on disk
        f.truncate(65 * 1024 * 1024)
    return path


# (id, how the file to sniff is made from a valid model.json, expected)
SNIFF_CASES: list[tuple[str, Callable[[Path, pytest.MonkeyPatch], Path], bool]] = [
    ("valid", lambda p, m: p, True),
    ("valid-folder", lambda p, m: p.parent, True),
    ("deep", lambda p, m: _replace(p, _DEEP), False),
    ("invalid", lambda p, m: _replace(p, "{x"), False),
    ("huge", lambda p, m: _huge(p), False),
    ("folder-named-json", lambda p, m: _replace(p, "folder"), False),
    ("fifo", lambda p, m: _replace(p, "fifo"), False),
    ("symlink-loop", lambda p, m: _loop(p), False),
    ("nul-in-name", lambda p, m: Path(str(p) + "\x00.json"), False),
    ("unreadable", _unreadable, False),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in SNIFF_CASES], ids=[c[0] for c in SNIFF_CASES])
def test_sniff_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            make: Callable[[Path, pytest.MonkeyPatch], Path], expected: bool) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(make_model(tmp_path)))
    assert sniff(make(path, monkeypatch)) is expected
