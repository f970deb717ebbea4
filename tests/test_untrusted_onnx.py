"""Hostile and broken ONNX files: confined external data, checked tensors, bounded folding, clean graph errors."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper, numpy_helper

from pivot import ir as pir
from pivot import untrusted
from pivot.errors import ConversionError, InputError, UnsupportedOpsError
from pivot.passes import optimize
from tfjs_pivot.convert import convert

CANARY = b"CANARY-7f3a-outside" * 4
F = TensorProto.FLOAT


def _model(nodes: list[onnx.NodeProto], inits: list[TensorProto] = (), inputs: list[onnx.ValueInfoProto] | None = None,
           outputs: list[onnx.ValueInfoProto] | None = None, opset: int = 17, ir_version: int = 8) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info("x", F, [4])] if inputs is None else inputs
    outputs = [helper.make_tensor_value_info("y", F, None)] if outputs is None else outputs
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version)


def _failure(source: Path, out: Path) -> ConversionError:
    """Convert, expect a clean one-line failure that leaves no output behind."""
    with pytest.raises(ConversionError) as info:
        convert(source, out)
    message = str(info.value)
    assert "\n" not in message, message
    assert not out.exists()
    return info.value


def _assert_no_canary(root: Path, message: str) -> None:
    assert CANARY.decode() not in message
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != "secret.bin":
            assert CANARY not in path.read_bytes(), path


# -- external data ------------------------------------------------------------------------------------------------

def _external(folder: Path, location: str, **fields: str) -> Path:
    """``folder/m.onnx``: y = x + W, W a float[4] stored externally at ``location`` (and the given fields)."""
    w = TensorProto(name="W", data_type=F, dims=[4], data_location=TensorProto.EXTERNAL)
    for key, value in {"location": location, **fields}.items():
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    path = folder / "m.onnx"
    onnx.save(_model([helper.make_node("Add", ["x", "W"], ["y"], name="add")], [w]), path)
    return path


def _lay_out(tmp_path: Path) -> Path:
    """``tmp_path/secret.bin`` (the canary, outside) and ``tmp_path/model/w.bin`` (16 good bytes, inside)."""
    (tmp_path / "secret.bin").write_bytes(CANARY)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "w.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    return folder


def _symlink_out(folder: Path) -> str:
    (folder / "link.bin").symlink_to(folder.parent / "secret.bin")
    return "link.bin"


def _dev_zero(folder: Path) -> str:
    (folder / "zero.bin").symlink_to("/dev/zero")
    return "zero.bin"


def _fifo_inside(folder: Path) -> str:
    os.mkfifo(folder / "pipe.bin")
    return "pipe.bin"


def _dir_symlink_out(folder: Path) -> str:
    (folder / "sub").symlink_to(folder.parent)
    return "sub/secret.bin"


# (id, location or a function making it, extra external_data fields, message fragment)
EXTERNAL_CASES: list[tuple[str, str | Callable[[Path], str], dict[str, str], str]] = [
    ("absolute", "{secret}", {}, "is an absolute path"),
    ("dotdot", "../secret.bin", {}, "climbs out of the model's folder"),
    ("dotdot_inner", "sub/../../secret.bin", {}, "climbs out of the model's folder"),
    ("url", "file:///etc/passwd", {}, "is a URL"),
    ("symlink_out", _symlink_out, {}, "leads outside the model's folder"),
    ("dir_symlink_out", _dir_symlink_out, {}, "leads outside the model's folder"),
    ("dev_zero", _dev_zero, {}, "leads outside the model's folder"),
    ("fifo", _fifo_inside, {}, "is not a regular file"),
    ("missing", "nothing.bin", {}, "is missing from"),
    ("offset_past_end", "w.bin", {"offset": "64"}, "past the end of 'w.bin'"),
    ("length_past_end", "w.bin", {"offset": "8", "length": "16"}, "past the end of 'w.bin'"),
    ("length_short", "w.bin", {"length": "8"}, "holds 8 bytes for it but shape [4] of FLOAT needs 16"),
    ("no_length_file_too_big", "w.bin", {"offset": "4"}, "holds 12 bytes for it"),
    ("negative_offset", "w.bin", {"offset": "-4"}, "offset '-4' is not a non-negative integer"),
    ("text_length", "w.bin", {"length": "sixteen"}, "length 'sixteen' is not a non-negative integer"),
    ("unknown_key", "w.bin", {"exec": "rm"}, "unknown external data key 'exec'"),
]


@pytest.mark.parametrize(("location", "fields", "fragment"), [c[1:] for c in EXTERNAL_CASES],
                         ids=[c[0] for c in EXTERNAL_CASES])
def test_external_data_is_confined(tmp_path: Path, location: str | Callable[[Path], str], fields: dict[str, str],
                                   fragment: str) -> None:
    folder = _lay_out(tmp_path)
    name = location(folder) if callable(location) else location.format(secret=tmp_path / "secret.bin")
    error = _failure(_external(folder, name, **fields), tmp_path / "out")
    assert isinstance(error, InputError)
    assert fragment in str(error) and "initializer 'W'" in str(error) and "m.onnx" in str(error)
    _assert_no_canary(tmp_path, str(error))


def test_external_data_by_bare_file_name_is_confined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old bug: given as ``m.onnx`` from its own folder, the path check was skipped."""
    folder = _lay_out(tmp_path)
    _external(folder, "../secret.bin")
    monkeypatch.chdir(folder)
    error = _failure(Path("m.onnx"), tmp_path / "out")
    assert "climbs out of the model's folder" in str(error)
    _assert_no_canary(tmp_path, str(error))


def test_external_data_inside_the_folder_converts(tmp_path: Path) -> None:
    folder = _lay_out(tmp_path)
    result = convert(_external(folder, "w.bin", offset="0", length="16"), tmp_path / "out")
    weights = b"".join((result.output / f).read_bytes() for f in result.files if f.endswith(".bin"))
    assert np.arange(4, dtype=np.float32).tobytes() in weights


def test_open_confined_refuses_a_folder_swapped_for_a_symlink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TOCTOU: ``sub`` is checked as a real folder, then replaced by a symlink leading out before it is opened."""
    folder = _lay_out(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "secret.bin").write_bytes(b"inside")
    checked = untrusted.confined(folder, "sub/secret.bin", "initializer 'W'")
    (folder / "sub" / "secret.bin").unlink()
    (folder / "sub").rmdir()
    (folder / "sub").symlink_to(tmp_path)
    monkeypatch.setattr(untrusted, "confined", lambda *_: checked)
    with pytest.raises(InputError, match="changed while it was opened"):
        untrusted.open_confined(folder, "sub/secret.bin", "initializer 'W'")


# -- embedded tensors and damaged files ---------------------------------------------------------------------------

def _tensor(data_type: int = F, dims: tuple[int, ...] = (4,), **fields: object) -> TensorProto:
    t = TensorProto(name="W", data_type=data_type, dims=list(dims))
    for key, value in fields.items():
        if isinstance(value, bytes):
            setattr(t, key, value)
        else:
            getattr(t, key).extend(value)  # type: ignore[call-overload]
    return t


def _with_tensor(t: TensorProto) -> onnx.ModelProto:
    return _model([helper.make_node("Add", ["x", "W"], ["y"], name="add")], [t])


def _in_constant(t: TensorProto) -> onnx.ModelProto:
    return _model([helper.make_node("Constant", [], ["W"], name="const", value=t),
                   helper.make_node("Add", ["x", "W"], ["y"], name="add")])


def _in_subgraph(t: TensorProto) -> onnx.ModelProto:
    def branch(w: TensorProto) -> onnx.GraphProto:
        return helper.make_graph([helper.make_node("Identity", ["W"], ["b"])], "branch", [],
                                 [helper.make_tensor_value_info("b", F, [4])], [w])

    cond = numpy_helper.from_array(np.array(True), "c")
    good = numpy_helper.from_array(np.ones(4, np.float32), "W")
    node = helper.make_node("If", ["c"], ["y"], name="if", then_branch=branch(t), else_branch=branch(good))
    return _model([node], [cond])


def _sparse(_: TensorProto) -> onnx.ModelProto:
    model = _model([helper.make_node("Identity", ["x"], ["y"])])
    values = numpy_helper.from_array(np.ones(1, np.float32), "S")
    indices = numpy_helper.from_array(np.zeros(1, np.int64), "S_idx")
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [1 << 62]))
    return model


RAW16 = np.arange(4, dtype=np.float32).tobytes()
# (id, model builder, tensor, message fragment)
TENSOR_CASES: list[tuple[str, Callable[[TensorProto], onnx.ModelProto], TensorProto, str]] = [
    ("raw_short", _with_tensor, _tensor(raw_data=RAW16[:-1]),
     "raw_data holds 15 bytes but shape [4] of FLOAT needs 16"),
    ("raw_long", _with_tensor, _tensor(raw_data=RAW16 + b"\0"), "raw_data holds 17 bytes"),
    ("float_data_count", _with_tensor, _tensor(float_data=[1.0, 2.0]), "float_data holds 2 values"),
    ("int64_data_count", _with_tensor, _tensor(TensorProto.INT64, int64_data=[1]), "int64_data holds 1 values"),
    ("no_data", _with_tensor, _tensor(), "float_data holds 0 values"),
    ("negative_dim", _with_tensor, _tensor(dims=(-4,), raw_data=RAW16), "negative dimension"),
    ("overflowing_dims", _with_tensor, _tensor(dims=(1 << 40, 1 << 40), raw_data=RAW16),
     "shape [1099511627776, 1099511627776] has more elements than any array can hold"),
    ("huge_dims", _with_tensor, _tensor(dims=(1 << 20, 1 << 20), raw_data=RAW16),
     "raw_data holds 16 bytes but shape [1048576, 1048576] of FLOAT needs 4398046511104"),
    ("empty_but_huge", _with_tensor, _tensor(dims=(0, 1 << 62, 1 << 62)), "more elements than any array can hold"),
    ("undefined_type", _with_tensor, _tensor(TensorProto.UNDEFINED, raw_data=RAW16), "element type is undefined"),
    ("unknown_type", _with_tensor, _tensor(99, raw_data=RAW16), "unknown element type 99"),
    ("string", _with_tensor, _tensor(TensorProto.STRING, string_data=[b"a"] * 4), "string tensors are not supported"),
    ("constant_attribute", _in_constant, _tensor(raw_data=RAW16[:8]),
     "node 'const' (Constant) attribute 'value': raw_data holds 8 bytes"),
    ("subgraph_initializer", _in_subgraph, _tensor(raw_data=RAW16[:4]),
     "node 'if' (If) attribute 'then_branch': initializer 'W': raw_data holds 4 bytes"),
    ("sparse", _sparse, _tensor(), "sparse tensors are not supported"),
]


@pytest.mark.parametrize(("build", "tensor", "fragment"), [c[1:] for c in TENSOR_CASES],
                         ids=[c[0] for c in TENSOR_CASES])
def test_embedded_tensors_are_checked(tmp_path: Path, build: Callable[[TensorProto], onnx.ModelProto],
                                      tensor: TensorProto, fragment: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(build(tensor).SerializeToString())
    error = _failure(path, tmp_path / "out")
    assert fragment in str(error) and str(path) in str(error)


def _good_bytes() -> bytes:
    return _with_tensor(numpy_helper.from_array(np.ones(4, np.float32), "W")).SerializeToString()


# (id, bytes of the file, message fragment)
DAMAGED_FILES: list[tuple[str, bytes, str]] = [
    ("truncated", _good_bytes()[:-7], "not a readable ONNX model"),
    ("garbage", b"\xff\xfe\x00not protobuf at all" * 3, "not a readable ONNX model"),
    ("empty", b"", "not an ONNX model (no graph)"),
    ("text", b"hello world\n", "not a readable ONNX model"),
]


@pytest.mark.parametrize(("data", "fragment"), [c[1:] for c in DAMAGED_FILES], ids=[c[0] for c in DAMAGED_FILES])
def test_damaged_files_fail_in_one_line(tmp_path: Path, data: bytes, fragment: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    assert fragment in str(_failure(path, tmp_path / "out"))


# -- constant folding ---------------------------------------------------------------------------------------------

def _i64(name: str, *values: int) -> TensorProto:
    return numpy_helper.from_array(np.array(values if len(values) != 1 else values[0], np.int64), name)


def _f32(name: str, values: list[float]) -> TensorProto:
    return numpy_helper.from_array(np.array(values, np.float32), name)


BIG = 1 << 62
# (id, nodes, initializers): 100-200 byte files whose constants would expand to gigabytes or more.
BOMBS: list[tuple[str, list[onnx.NodeProto], list[TensorProto]]] = [
    ("constant_of_shape", [helper.make_node("ConstantOfShape", ["s"], ["y"])], [_i64("s", BIG, 1)]),
    ("constant_of_shape_16g", [helper.make_node("ConstantOfShape", ["s"], ["y"])], [_i64("s", 1 << 16, 1 << 16, 1)]),
    ("range", [helper.make_node("Range", ["a", "b", "c"], ["y"])], [_i64("a", 0), _i64("b", BIG), _i64("c", 1)]),
    ("range_float", [helper.make_node("Range", ["a", "b", "c"], ["y"])],
     [_f32("a", 0.0), _f32("b", 1e30), _f32("c", 1.0)]),
    ("tile", [helper.make_node("Tile", ["t", "r"], ["y"])], [_f32("t", [1.0] * 4), _i64("r", 1 << 40)]),
    ("expand", [helper.make_node("Expand", ["t", "r"], ["y"])], [_f32("t", [1.0]), _i64("r", 1 << 31, 1 << 31)]),
    ("reshape", [helper.make_node("Reshape", ["t", "r"], ["y"])], [_f32("t", [1.0] * 4), _i64("r", BIG, -1)]),
    ("pad", [helper.make_node("Pad", ["t", "p"], ["y"])], [_f32("t", [1.0] * 4), _i64("p", 0, 1 << 40)]),
    ("one_hot", [helper.make_node("OneHot", ["i", "d", "v"], ["y"])],
     [_i64("i", 0, 1, 2, 3), _i64("d", 1 << 40), _f32("v", [0.0, 1.0])]),
    ("resize", [helper.make_node("Resize", ["t", "", "sc"], ["y"])],
     [numpy_helper.from_array(np.ones((1, 1, 2, 2), np.float32), "t"), _f32("sc", [1.0, 1.0, 1e6, 1e6])]),
    ("eye_like", [helper.make_node("ConstantOfShape", ["s"], ["z"]), helper.make_node("EyeLike", ["z"], ["y"])],
     [_i64("s", 1 << 20, 1 << 20)]),
    ("concat_doubling", [helper.make_node("Concat", [f"c{k}", f"c{k}"], [f"c{k + 1}" if k < 39 else "y"], axis=0)
                         for k in range(40)], [_f32("c0", [1.0] * 4)]),
]


def _bomb(nodes: list[onnx.NodeProto], inits: list[TensorProto]) -> onnx.ModelProto:
    model = _model(nodes, inits, inputs=[], outputs=[helper.make_tensor_value_info("y", F, None)])
    model.graph.output[0].CopyFrom(onnx.shape_inference.infer_shapes(model).graph.output[0])  # as exporters do
    return model


@pytest.mark.parametrize(("nodes", "inits"), [c[1:] for c in BOMBS], ids=[c[0] for c in BOMBS])
def test_folding_decides_before_evaluating(monkeypatch: pytest.MonkeyPatch, nodes: list[onnx.NodeProto],
                                           inits: list[TensorProto]) -> None:
    """The node making the huge result is never handed to onnx's evaluator; what is evaluated stays small."""
    from pivot.passes import fold

    evaluated: list[tuple[str, int]] = []
    real = fold._evaluate

    def spy(node: ir.Node, opset: int) -> list[np.ndarray] | None:
        assert node.outputs[0].name != "y", f"evaluated the bomb {node.op_type}"
        values = real(node, opset)
        evaluated.append((node.op_type, sum(v.nbytes for v in values or [])))
        return values

    monkeypatch.setattr(fold, "_evaluate", spy)
    try:
        optimize(ir.serde.deserialize_model(_bomb(nodes, inits)))
    except ConversionError as e:
        assert "\n" not in str(e)
    assert sum(n for _, n in evaluated) <= 256 << 20


def test_folding_is_charged_to_the_conversion_budget() -> None:
    model = _bomb([helper.make_node("Concat", ["a", "a"], ["y"], axis=0)], [_f32("a", [1.0] * 256)])
    with untrusted.allocation_budget(0, limit=1024), pytest.raises(InputError, match="over the memory budget"):
        optimize(ir.serde.deserialize_model(model))
    with untrusted.allocation_budget(0, limit=4096):
        assert not list(optimize(ir.serde.deserialize_model(model)).graph)


def test_fold_limit_names_the_node() -> None:
    nodes, inits = next(c[1:] for c in BOMBS if c[0] == "concat_doubling")
    with pytest.raises(InputError, match=r"node 'c2\d' \(Concat\) would fold into \d+ bytes of constants, over the "
                                         r"--max-fold-bytes limit 268435456"):
        optimize(ir.serde.deserialize_model(_bomb(nodes, inits)))
    with pytest.raises(InputError, match="over the --max-fold-bytes limit 1000"):
        optimize(ir.serde.deserialize_model(_bomb(nodes, inits)), max_fold_bytes=1000)


def test_fold_limit_allows_normal_folding() -> None:
    model = _bomb([helper.make_node("Concat", ["a", "a"], ["y"], axis=0)], [_f32("a", [1.0] * 64)])
    folded = optimize(ir.serde.deserialize_model(model), max_fold_bytes=512)
    assert not list(folded.graph)


_PEAK_SCRIPT = """
import json, sys
from pathlib import Path
from tfjs_pivot.convert import convert
from pivot.errors import ConversionError
results = {}
for path in sys.argv[2:]:
    try:
        convert(Path(path), Path(sys.argv[1]) / Path(path).stem)
        results[path] = "ok"
    except ConversionError as e:
        results[path] = str(e).splitlines()[0]
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve, so it would count the forking pytest worker.
hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
print(json.dumps({"results": results, "peak_kb": int(hwm.split()[1])}))
"""


@pytest.mark.parametrize("name", [b[0] for b in BOMBS])
def test_bombs_convert_end_to_end_in_bounded_memory(tmp_path: Path, name: str) -> None:
    """Each bomb through the whole pipeline in its own process capped at 3 GB of address space: peak RSS < 1 GB."""
    nodes, inits = next(b[1:] for b in BOMBS if b[0] == name)
    path = tmp_path / f"{name}.onnx"
    onnx.save(_bomb(nodes, inits), path)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    run = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(tmp_path / "out"), str(path)],
                         capture_output=True, text=True, timeout=600, preexec_fn=cap, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["peak_kb"] < 1 << 20, report
    if name == "concat_doubling":
        assert "would fold into" in report["results"][str(path)]


# -- malformed graph structure ------------------------------------------------------------------------------------

def _conv(**attrs: object) -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((4, 4, 3, 3), np.float32), "w")
    return _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)], [w],
                  inputs=[helper.make_tensor_value_info("x", F, [1, 4, 8, 8])],
                  outputs=[helper.make_tensor_value_info("y", F, [None] * 4)])


def _relu(**changes: object) -> onnx.ModelProto:
    model = _model([helper.make_node("Relu", ["x"], ["y"], name="relu")])
    for key, value in changes.items():
        setattr(model, key, value)
    return model


def _two(first: list[str], second: list[str]) -> onnx.ModelProto:
    """Relu(first) -> a, Relu(second) -> y: the names decide cycles, duplicates and dangling reads."""
    return _model([helper.make_node("Relu", first, ["a"], name="r1"),
                   helper.make_node("Relu", second, ["y"], name="r2")])


def _no_outputs() -> onnx.ModelProto:
    model = _relu()
    del model.graph.output[:]
    return model


def _opset(version: int) -> onnx.ModelProto:
    return _model([helper.make_node("Relu", ["x"], ["y"])], opset=version)


def _dup() -> onnx.ModelProto:
    model = _two(["x"], ["a"])
    model.graph.node[1].output[0] = "a"
    model.graph.output[0].name = "a"
    return model


def _split_extra_output() -> onnx.ModelProto:
    split = helper.make_node("Split", ["x"], ["y", "b", "c"], name="split", axis=0, num_outputs=2)
    return _model([split], opset=18)


# (id, model builder, message fragment): each must be one line (or the grouped unsupported report).
GRAPH_CASES: list[tuple[str, Callable[[], onnx.ModelProto], str]] = [
    ("group_0", lambda: _conv(group=0), "node 'conv' (Conv): group 0 must be a positive integer"),
    ("group_not_dividing", lambda: _conv(group=3), "group 3 does not divide the 4 input channels"),
    ("group_mismatch", lambda: _conv(group=2), "W expects 8 input channels, X has 4"),
    ("kernel_shape_length", lambda: _conv(kernel_shape=[3]), "kernel_shape [3] must hold 2 integers >= 1"),
    ("kernel_shape_mismatch", lambda: _conv(kernel_shape=[2, 2]), "kernel_shape [2, 2] differs from the shape of W"),
    ("strides_zero", lambda: _conv(strides=[0, 0]), "strides [0, 0] must hold 2 integers >= 1"),
    ("dilations_negative", lambda: _conv(dilations=[-1, 1]), "dilations [-1, 1] must hold 2 integers >= 1"),
    ("pads_length", lambda: _conv(pads=[1, 1]), "pads [1, 1] must hold 4 integers >= 0"),
    ("pads_negative", lambda: _conv(pads=[-1, 0, 0, 0]), "must hold 4 integers >= 0"),
    ("group_float", lambda: _conv(group=1.5), "attribute 'group' is FLOAT, Conv takes INT"),
    ("missing_input", lambda: _model([helper.make_node("Conv", ["x"], ["y"], name="conv")]),
     "node 'conv' (Conv): has 1 inputs, Conv takes 2 to 3"),
    ("empty_required_input", lambda: _model([helper.make_node("Add", ["x", ""], ["y"], name="add")]),
     "required input 1 (B) is missing"),
    ("eye_like_no_input", lambda: _model([helper.make_node("EyeLike", [], ["y"], name="eye")]), "has 0 inputs"),
    ("split_extra_output", _split_extra_output, "node 'split' (Split) crashes onnx's shape inference"),
    ("never_produced", lambda: _two(["x"], ["nowhere"]), "node 'r2' (Relu): reads 'nowhere', which no node"),
    ("duplicate_output", _dup, "defines 'a', already defined by node 'r1' (Relu)"),
    ("cycle", lambda: _two(["y"], ["a"]), "is on (or after) a cycle of the graph"),
    ("self_loop", lambda: _model([helper.make_node("Relu", ["y"], ["y"], name="me")]), "node 'me' (Relu): is on"),
    ("no_outputs", _no_outputs, "the graph has no outputs"),
    ("output_never_produced", lambda: _model([helper.make_node("Relu", ["x"], ["a"])]),
     "graph output 'y': is produced by no node"),
    ("opset_0", lambda: _opset(0), "opset 0 of the default domain is not supported"),
    ("opset_absurd", lambda: _opset(1 << 40), "is not supported"),
    ("opset_too_old", lambda: _opset(3), "opset 3 is not supported"),
    ("ir_version_0", lambda: _relu(ir_version=0), "ir_version 0 is not supported"),
    ("ir_version_absurd", lambda: _relu(ir_version=99), "ir_version 99 is not supported"),
    ("input_type_unknown", lambda: _model([helper.make_node("Relu", ["x"], ["y"])],
                                          inputs=[helper.make_tensor_value_info("x", 99, [4])]),
     "graph input 'x': unknown element type 99"),
    ("input_dim_negative", lambda: _model([helper.make_node("Relu", ["x"], ["y"])],
                                          inputs=[helper.make_tensor_value_info("x", F, [-3])]),
     "graph input 'x': negative dimension"),
    ("transpose_bad_perm", lambda: _model([helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 0])],
                                          inputs=[helper.make_tensor_value_info("x", F, [2, 3])],
                                          outputs=[helper.make_tensor_value_info("y", F, [None, None])]),
     "node 't' (Transpose): perm [0, 0] is not a permutation"),
    ("cast_to_unknown", lambda: _model([helper.make_node("Cast", ["x"], ["y"], name="c", to=-7)],
                                       outputs=[helper.make_tensor_value_info("y", F, [4])]),
     "node 'c' (Cast): 'to' -7 is not an ONNX element type"),
]


@pytest.mark.parametrize(("build", "fragment"), [c[1:] for c in GRAPH_CASES], ids=[c[0] for c in GRAPH_CASES])
def test_malformed_graphs_fail_cleanly(tmp_path: Path, build: Callable[[], onnx.ModelProto], fragment: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(build().SerializeToString())
    try:
        convert(path, tmp_path / "out")
    except UnsupportedOpsError as e:
        message = e.report()
    except ConversionError as e:
        message = str(e)
        assert "\n" not in message
    else:
        pytest.fail("converted a malformed model")
    assert fragment in message
    assert not (tmp_path / "out").exists()


def test_loaded_external_tensors_never_read_the_path_again(tmp_path: Path) -> None:
    """After load the weights are views of the checked mapping: swapping the file afterwards changes nothing."""
    folder = _lay_out(tmp_path)
    model = pir.load(_external(folder, "w.bin"))
    (folder / "w.bin").unlink()
    (folder / "w.bin").symlink_to(tmp_path / "secret.bin")
    weights = model.graph.initializers["W"].const_value
    assert weights is not None and not isinstance(weights, ir.ExternalTensor)
    np.testing.assert_array_equal(weights.numpy(), np.arange(4, dtype=np.float32))
