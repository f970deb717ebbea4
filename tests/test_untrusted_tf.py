"""Hostile and broken TensorFlow inputs: the wire reader, SavedModel folders and graphs screened before TensorFlow."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from frontends.tensorflow.protos import graph_outputs, saved_model_graphs
from frontends.tensorflow.screen import screen_frozen, screen_saved_model
from pivot.errors import InputError
from pivot.untrusted import allocation_budget
from tests.protowire import key as _key
from tests.protowire import message as _msg
from tests.protowire import varint as _varint
from tfjs_pivot.cli import main

CANARY = b"CANARY-tf-5e1d-never-read"

# --- protobuf wire format, encoded by hand (field numbers of TensorFlow's .proto files) ---





def _nodedef(name: str | bytes, op: str, *attrs: tuple[int, bytes | str | int]) -> bytes:
    """A NodeDef: name (1), op (2), inputs (3) and attr map entries (5) as given."""
    return _msg((1, name), (2, op), *attrs)


def _node(name: str | bytes, op: str, *attrs: tuple[int, bytes | str | int]) -> bytes:
    """A GraphDef.node field (1) holding a NodeDef."""
    return _msg((1, _nodedef(name, op, *attrs)))


def _const(name: str, dims: list[int], dtype: int = 1) -> bytes:
    """A Const node whose TensorProto declares ``dims`` and stores one value (TensorFlow repeats it)."""
    shape = b"".join(_msg((2, _msg((1, d)))) for d in dims)
    tensor = _msg((1, dtype), (2, shape), (5, b"\x00\x00\x80\x3f"))
    return _node(name, "Const", (5, _msg((1, "value"), (2, _msg((8, tensor))))))


def _function(name: str, *nodes: bytes) -> bytes:
    """GraphDef.library (2) holding one FunctionDef: signature (1: OpDef name) and node_def (3)."""
    fn = _msg((1, _msg((1, name)))) + b"".join(_msg((3, n)) for n in nodes)
    return _msg((2, _msg((1, fn))))


def _nested(depth: int) -> bytes:
    """A NodeDef attr nested ``depth`` times: AttrValue.func (10) > NameAttrList.attr (2) > entry value > ..."""
    value = _msg((3, 1))
    for _ in range(depth):
        value = _msg((10, _msg((1, "f"), (2, _msg((1, "k"), (2, value))))))
    return _node("deep", "Identity", (5, _msg((1, "x"), (2, value))))


_GRAPH = _node("x", "Placeholder") + _node("y", "Relu", (3, "x"))
_NUL_NAME = _node(b"\xff\xfe", "Relu")

# (id, bytes of a frozen GraphDef file, fragment of the one-line message)
WIRE_CASES: list[tuple[str, bytes, str]] = [
    ("truncated-varint", _GRAPH + _key(1, 2) + b"\x85", "a varint runs past the end"),
    ("overlong-varint", b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
    ("length-past-end", _key(1, 2) + _varint(100) + b"abc", "declares 100 bytes but only 3 remain"),
    ("absurd-length", _key(1, 2) + _varint(2**62) + b"x", f"declares {2**62} bytes"),
    ("fixed64-past-end", _GRAPH + _key(9, 1) + b"\0\0\0", "declares 8 bytes but only 3 remain"),
    ("wire-type-3", _key(1, 3) + b"\0", "wire type 3"),
    ("wire-type-7", _key(1, 7), "wire type 7"),
    ("field-zero", b"\x02\x00", "field 0"),
    ("node-as-varint", _key(1, 0) + _varint(5), "field 1 has wire type 0, not a message or string"),
    ("op-as-varint", _msg((1, _msg((1, "n"), (2, 7)))), "field 2 has wire type 0"),
    ("name-not-utf8", _NUL_NAME, "not UTF-8"),
    ("nested-past-end", _msg((1, _key(1, 2) + _varint(50) + b"n")), "declares 50 bytes but only 1 remain"),
]


def _one_line(e: BaseException, *fragments: str) -> str:
    text = str(e)
    assert "\n" not in text and all(f in text for f in fragments), text
    return text


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in WIRE_CASES], ids=[c[0] for c in WIRE_CASES])
def test_wire_reader_refuses_damage(tmp_path: Path, data: bytes, message: str) -> None:
    pb = tmp_path / "bad.pb"
    pb.write_bytes(data)
    tracemalloc.start()
    try:
        for read in (graph_outputs, screen_frozen):
            with pytest.raises(InputError) as info:
                read(pb)
            _one_line(info.value, message, "bad.pb")
            assert isinstance(info.value, ValueError)  # the wizard's fallback catches ValueError
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # an absurd declared length is an error, never an allocation


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in WIRE_CASES[:4]], ids=[c[0] for c in WIRE_CASES[:4]])
def test_damaged_frozen_graph_cli(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "bad.pb").write_bytes(data)
    result = CliRunner().invoke(main, ["convert", "--input-format", "tf_frozen_model", str(tmp_path / "bad.pb"),
                                       str(tmp_path / "out"), "--output-node-names", "y"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "out").exists()


def test_deep_nesting_is_not_recursion(tmp_path: Path) -> None:
    """The reader descends only fixed paths: a message nested 3000 deep where it never looks is skipped."""
    (tmp_path / "deep.pb").write_bytes(_GRAPH + _nested(3000))
    assert graph_outputs(tmp_path / "deep.pb") == ["y", "deep"]
    screen_frozen(tmp_path / "deep.pb")


# --- SavedModel folders: every file inside, graphs screened, before TensorFlow is asked to read anything ---


def _meta(graph: bytes = _GRAPH, assets: tuple[str, ...] = (), tf1_assets: tuple[str, ...] = ()) -> bytes:
    """SavedModel bytes: one MetaGraphDef with tags (1), graph_def (2), asset_file_def (6), collection_def (4)."""
    meta = _msg((1, _msg((4, "serve"))), (2, graph))
    meta += b"".join(_msg((6, _msg((2, a)))) for a in assets)
    if tf1_assets:
        values = b"".join(_msg((1, _msg((1, "type.googleapis.com/tensorflow.AssetFileDef"), (2, _msg((2, a))))))
                          for a in tf1_assets)
        meta += _msg((4, _msg((1, "saved_model_assets"), (2, _msg((5, values))))))
    return _msg((1, 1), (2, meta))


def _folder(root: Path, pb: bytes | None = None) -> Path:
    """A SavedModel-shaped folder (saved_model.pb, variables/, assets/vocab.txt) beside an outside canary."""
    (root.parent / "canary.bin").write_bytes(CANARY)
    (root.parent / "outside").mkdir(exist_ok=True)
    (root.parent / "outside" / "variables.index").write_bytes(CANARY)
    (root / "variables").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "saved_model.pb").write_bytes(_meta() if pb is None else pb)
    (root / "variables" / "variables.index").write_bytes(b"\0" * 8)
    (root / "variables" / "variables.data-00000-of-00001").write_bytes(b"\0" * 8)
    (root / "assets" / "vocab.txt").write_text("a\nb\n")
    return root


def _swap(rel: str, how: str, target: str = "") -> Callable[[Path], object]:
    """Replace ``rel`` in the folder by a symlink to ``target`` (relative to the folder's parent) or a FIFO."""
    def mutate(root: Path) -> None:
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        elif path.exists() or path.is_symlink():
            path.unlink()
        if how == "fifo":
            os.mkfifo(path)
        else:
            os.symlink(target if how == "raw" else root.parent / target, path)
    return mutate


def _pb(data: bytes) -> Callable[[Path], object]:
    return lambda root: (root / "saved_model.pb").write_bytes(data)


def _in_function(*nodes: bytes) -> bytes:
    return _GRAPH + _function("__inference_serve_12", *nodes)


# (id, mutation of a valid folder, fragment of the one-line message)
FOLDER_CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("variables-dir-out", _swap("variables", "link", "outside"), "'variables' is a symlink leading outside"),
    ("variables-file-out", _swap("variables/variables.index", "link", "canary.bin"), "leads outside"),
    ("asset-out", _swap("assets/vocab.txt", "link", "canary.bin"), "'assets/vocab.txt' leads outside"),
    ("saved-model-pb-out", _swap("saved_model.pb", "link", "canary.bin"), "'saved_model.pb' leads outside"),
    ("saved-model-pb-fifo", _swap("saved_model.pb", "fifo"), "'saved_model.pb' is a device, FIFO or socket"),
    ("variables-fifo", _swap("variables/variables.index", "fifo"), "is a device, FIFO or socket"),
    ("device", _swap("assets/vocab.txt", "raw", "/dev/zero"), "'assets/vocab.txt' leads outside"),
    ("dangling", _swap("assets/vocab.txt", "raw", "gone.txt"), "is missing"),
    ("loop", _swap("assets/vocab.txt", "raw", "vocab.txt"), "cannot resolve"),
    ("asset-absolute", _pb(_meta(assets=("/etc/passwd",))), "asset file: '/etc/passwd' is an absolute path"),
    ("asset-dotdot", _pb(_meta(assets=("../../canary.bin",))), "climbs out of the model's folder"),
    ("asset-missing", _pb(_meta(assets=("nope.txt",))), "is missing"),
    ("tf1-asset-dotdot", _pb(_meta(tf1_assets=("../../canary.bin",))), "climbs out"),
    ("read-file", _pb(_meta(_GRAPH + _node("r", "ReadFile", (3, "path")))), "node 'r': op ReadFile reads or writes"),
    ("write-file-in-function", _pb(_meta(_in_function(_nodedef("w", "WriteFile")))),
     "function '__inference_serve_12', node 'w': op WriteFile"),
    ("py-func", _pb(_meta(_GRAPH + _node("p", "EagerPyFunc"))), "op EagerPyFunc reads or writes files or runs Python"),
    ("const-bomb", _pb(_meta(_GRAPH + _const("c", [1 << 20, 1 << 20]))), "over the memory budget"),
    ("const-rank", _pb(_meta(_GRAPH + _const("c", [1] * 300))), "a constant with 300 dimensions"),
    ("truncated-pb", _pb(_meta()[:-3]), "saved_model.pb: field 2 at byte"),
]


@pytest.mark.parametrize(("mutation", "message"), [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES])
def test_saved_model_folder_screened(tmp_path: Path, mutation: Callable[[Path], object], message: str) -> None:
    root = _folder(tmp_path / "sm")
    screen_saved_model(root)  # the seed passes
    mutation(root)
    with allocation_budget(1000), pytest.raises(InputError) as info:
        screen_saved_model(root)
    assert CANARY.decode() not in _one_line(info.value, message)


@pytest.mark.parametrize(("mutation", "message"), [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES])
def test_saved_model_folder_cli(tmp_path: Path, mutation: Callable[[Path], object], message: str) -> None:
    """Refused in one line, exit 2, nothing written; TensorFlow is never reached (the screen runs first)."""
    root = _folder(tmp_path / "sm")
    mutation(root)
    result = CliRunner().invoke(main, ["convert", "--input-format", "tf_saved_model", str(root),
                                       str(tmp_path / "out")])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
    assert CANARY.decode() not in result.output and not (tmp_path / "out").exists()


def test_saved_model_graphs_confined(tmp_path: Path) -> None:
    """The wizard's reader opens saved_model.pb only when it is a regular file inside the folder."""
    root = _folder(tmp_path / "sm")
    assert [g.tags for g in saved_model_graphs(root)] == [("serve",)]
    _swap("saved_model.pb", "link", "canary.bin")(root)
    with pytest.raises(InputError, match="leads outside"):
        saved_model_graphs(root)


def test_const_within_budget_and_without_one(tmp_path: Path) -> None:
    """A splat constant of a few MiB is fine; with no budget set (a library caller) nothing is limited."""
    (tmp_path / "g.pb").write_bytes(_GRAPH + _const("small", [1024, 1024]))
    with allocation_budget(1000):
        screen_frozen(tmp_path / "g.pb")
    (tmp_path / "g.pb").write_bytes(_GRAPH + _const("big", [1 << 20, 1 << 20]))
    screen_frozen(tmp_path / "g.pb")


# --- what TensorFlow itself raises on damage that the wire format does not show (slow: imports TensorFlow) ---


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tf: Any = pytest.importorskip("tensorflow")

    class Tiny(tf.Module):
        def __init__(self) -> None:
            self.w = tf.Variable(tf.ones([4, 3]))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x: object) -> dict[str, object]:
            return {"out": tf.matmul(x, self.w)}

    module = Tiny()
    path = tmp_path_factory.mktemp("tf") / "sm"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _corrupt_index(root: Path) -> None:
    index = root / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:40])


def _corrupt_data(root: Path) -> None:
    data = next((root / "variables").glob("variables.data-*"))
    data.write_bytes(b"\x01" * data.stat().st_size)


def _wrong_graph(root: Path) -> None:
    """A wire-valid saved_model.pb whose graph TensorFlow refuses (a Placeholder without its dtype)."""
    (root / "saved_model.pb").write_bytes(_meta(_GRAPH))


# (id, damage to a real SavedModel, fragment)
TF_CASES: list[tuple[str, Callable[[Path], object], str]] = [
    ("index-truncated", _corrupt_index, "cannot load the SavedModel"),
    ("data-corrupt", _corrupt_data, "cannot load the SavedModel"),
    ("wrong-graph", _wrong_graph, "cannot load the SavedModel"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("damage", "message"), [c[1:] for c in TF_CASES], ids=[c[0] for c in TF_CASES])
def test_tensorflow_errors_are_one_line(saved_model: Path, tmp_path: Path, damage: Callable[[Path], object],
                                        message: str) -> None:
    root = _copy(saved_model, tmp_path / "sm")
    damage(root)
    result = CliRunner().invoke(main, ["convert", str(root), str(tmp_path / "out")])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_tensorflow_parser_errors_are_one_line(tmp_path: Path) -> None:
    """Past the screen, TensorFlow's own parser (recursion limit, bad attr types) fails in one line."""
    pytest.importorskip("tensorflow")
    cases = {"deep.pb": _GRAPH + _nested(200), "types.pb": _GRAPH + _node("z", "Relu", (3, "x"), (5, _msg(
        (1, "T"), (2, _msg((6, 999))))))}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = CliRunner().invoke(main, ["convert", str(tmp_path / name), str(tmp_path / "out"),
                                           "--output-node-names", "y"])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and name in lines[0], (name, result.output)
