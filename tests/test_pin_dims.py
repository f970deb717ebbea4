"""Pinning dynamic input dims at conversion (``--input-shape``, ``--dim``): static shapes, folds, parity, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from click.testing import Result
from onnx import TensorProto, helper, numpy_helper

from pivot.errors import InputError
from pivot.passes import optimize
from pivot.passes.pin import Pin, pin_dims, symbolic_dims
from tests.cli_util import lines, run_cli
from tests.parity import check_parity, compare, ort_run
from tfjs_pivot.convert import ConvertOptions, convert, input_budget, load_pivot

OPSET = [helper.make_opsetid("", 17)]


def _cli(args: list[str], timeout: float = 300) -> Result:
    return run_cli(args, timeout)


_lines = lines


# ----------------------------------------------------------------------------------------------- models


def conv_resize(value_info: bool = False) -> onnx.ModelProto:
    """x[N, 3, H, W] -> Conv -> Resize x2: tfjs needs static spatial dims for the Resize."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, "H2", "W2"])
    w = numpy_helper.from_array(np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32), "w")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Resize", ["c", "", "scales"], ["y"], mode="nearest", name="resize")]
    # As an exporter writes it: the intermediate's shape in terms of the dim params (stale once they are pinned).
    info = [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N", 4, "H", "W"])] if value_info else []
    graph = helper.make_graph(nodes, "conv_resize", [x], [y], [w, scales], value_info=info)
    return helper.make_model(graph, opset_imports=OPSET)


def reshape_chain() -> onnx.ModelProto:
    """Transformer-ish: x[batch, seq, 8] @ w, reshaped to [batch, seq, 2, 4] through Shape -> Gather -> Concat."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", 2, 4])
    inits = [numpy_helper.from_array(np.random.default_rng(1).normal(size=(8, 8)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array(0, np.int64), "i0"), numpy_helper.from_array(np.array(1, np.int64), "i1"),
             numpy_helper.from_array(np.array([2, 4], np.int64), "tail"),
             numpy_helper.from_array(np.array([0], np.int64), "ax")]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "i0"], ["b"], axis=0, name="get_batch"),
             helper.make_node("Gather", ["s", "i1"], ["t"], axis=0, name="get_seq"),
             helper.make_node("Unsqueeze", ["b", "ax"], ["b1"], name="b1"),
             helper.make_node("Unsqueeze", ["t", "ax"], ["t1"], name="t1"),
             helper.make_node("Concat", ["b1", "t1", "tail"], ["new_shape"], axis=0, name="cat"),
             helper.make_node("Reshape", ["h", "new_shape"], ["y"], name="reshape")]
    return helper.make_model(helper.make_graph(nodes, "chain", [x], [y], inits), opset_imports=OPSET)


MODELS = {"conv_resize": conv_resize, "reshape_chain": reshape_chain}

# (case, model, input_shapes, dims, model.json input shape, ONNX ops of the pivot model or None: Shape stays)
PIN_CASES: list[tuple[str, str, dict[str, list[int]], dict[str, int], list[int], list[str] | None]] = [
    ("conv: whole shape", "conv_resize", {"x": [1, 3, 16, 16]}, {}, [1, 3, 16, 16], ["Conv", "Resize"]),
    ("conv: -1 keeps batch", "conv_resize", {"x": [-1, 3, 16, 16]}, {}, [-1, 3, 16, 16], ["Conv", "Resize"]),
    ("conv: by dim names", "conv_resize", {}, {"N": 2, "H": 8, "W": 12}, [2, 3, 8, 12], ["Conv", "Resize"]),
    ("conv: both flags", "conv_resize", {"x": [-1, 3, 8, -1]}, {"W": 8}, [-1, 3, 8, 8], ["Conv", "Resize"]),
    ("chain: by dim names, folds", "reshape_chain", {}, {"batch": 1, "seq": 16}, [1, 16, 8], ["MatMul", "Reshape"]),
    ("chain: whole shape, folds", "reshape_chain", {"x": [2, 5, 8]}, {}, [2, 5, 8], ["MatMul", "Reshape"]),
    ("chain: seq stays dynamic", "reshape_chain", {}, {"batch": 1}, [1, -1, 8], None),
    ("chain: nothing pinned", "reshape_chain", {}, {}, [-1, -1, 8], None),
]
_IDS = [c[0] for c in PIN_CASES]


def _options(input_shapes: dict[str, list[int]], dims: dict[str, int]) -> ConvertOptions:
    return ConvertOptions(input_shapes=input_shapes, dims=dims)


def _signature(model_json: Path) -> dict[str, list[int]]:
    doc = json.loads(model_json.read_text())
    return {k: [int(d["size"]) for d in v["tensorShape"]["dim"]] for k, v in doc["signature"]["inputs"].items()}


@pytest.mark.parametrize(("model", "input_shapes", "dims", "signature", "ops"), [c[1:] for c in PIN_CASES], ids=_IDS)
def test_pinned_model_is_static_and_folds(tmp_path: Path, model: str, input_shapes: dict[str, list[int]],
                                          dims: dict[str, int], signature: list[int], ops: list[str] | None
                                          ) -> None:
    src = tmp_path / "m.onnx"
    onnx.save(MODELS[model](), src)
    with input_budget(src):
        pivot, _ = load_pivot(src, _options(input_shapes, dims))
    got = [n.op_type for n in pivot.graph]
    assert got == ops if ops is not None else "Shape" in got, got
    convert(src, tmp_path / "out", _options(input_shapes, dims))
    assert _signature(tmp_path / "out" / "model.json") == {"x": signature}


def test_pinned_spatial_dims_leave_no_shape_op_in_tfjs(tmp_path: Path) -> None:
    onnx.save(conv_resize(), tmp_path / "m.onnx")
    done = _cli(["convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--dim", "H=16", "--dim", "W=16"])
    assert done.exit_code == 0, done.stderr
    assert _signature(tmp_path / "out" / "model.json") == {"x": [-1, 3, 16, 16]}
    ops = {n["op"] for n in json.loads((tmp_path / "out" / "model.json").read_text())["modelTopology"]["node"]}
    assert "ResizeNearestNeighbor" in ops and "Shape" not in ops  # the Resize sizes are constants


def test_stale_intermediate_shapes_are_recomputed() -> None:
    model = ir.serde.deserialize_model(conv_resize(value_info=True))
    assert symbolic_dims(model) == {"N": ["x"], "H": ["x"], "W": ["x"]}
    pin_dims(model, Pin({"x": [2, 3, 8, 8]}))
    values = {v.name: v for n in model.graph for v in n.outputs}
    assert values["c"].shape is None  # mentioned N, H, W: cleared for inference to redo
    assert list(values["y"].shape or ()) == [2, 4, "H2", "W2"]  # a graph output keeps its rank, sizes put in
    optimized = optimize(model)
    values = {v.name: v for n in optimized.graph for v in n.outputs}
    assert list(values["c"].shape or ()) == [2, 4, 8, 8] and list(values["y"].shape or ()) == [2, 4, 16, 16]
    assert symbolic_dims(optimized) == {}


# (case, model, input_shapes, dims, feed shape)
PARITY_CASES = [
    ("conv pinned", "conv_resize", {"x": [1, 3, 16, 16]}, {}, [1, 3, 16, 16]),
    ("conv batch dynamic", "conv_resize", {"x": [-1, 3, 8, 8]}, {}, [3, 3, 8, 8]),
    ("chain folded", "reshape_chain", {}, {"batch": 2, "seq": 6}, [2, 6, 8]),
    ("chain seq dynamic", "reshape_chain", {}, {"batch": 1}, [1, 7, 8]),
]


@pytest.mark.needs_node
@pytest.mark.parametrize(("model", "input_shapes", "dims", "feed"), [c[1:] for c in PARITY_CASES],
                         ids=[c[0] for c in PARITY_CASES])
def test_pinned_model_matches_onnxruntime(tmp_path: Path, tfjs: Any, model: str, input_shapes: dict[str, list[int]],
                                          dims: dict[str, int], feed: list[int]) -> None:
    source = MODELS[model]()
    onnx.save(source, tmp_path / "m.onnx")
    convert(tmp_path / "m.onnx", tmp_path / "out", _options(input_shapes, dims))
    feeds = {"x": np.random.default_rng(2).normal(size=feed).astype(np.float32)}
    reference = ort_run(source, feeds)  # the dynamic source model
    for backend in ("cpu", "wasm"):
        got = tfjs.run(tmp_path / "out" / "model.json", feeds, backend=backend)
        for name, ref in reference.items():
            assert compare(ref, got[name], name, backend).relative <= 1e-4


@pytest.mark.needs_node
def test_dynamic_chain_still_matches_without_a_pin(tmp_path: Path, tfjs: Any) -> None:
    feeds = {"x": np.random.default_rng(3).normal(size=(2, 5, 8)).astype(np.float32)}
    check_parity(reshape_chain(), feeds, tmp_path, tfjs)


# ----------------------------------------------------------------------------------------------- bad input


# (case, arguments after the command's paths, fragment of the one error line)
BAD_CASES = [
    ("unknown input", "--input-shape y:1,3,8,8", "the model has no input 'y' (inputs: x)"),
    ("wrong rank", "--input-shape x:1,3,8", "input 'x' has rank 4 ([N,3,H,W]), 3 sizes given"),
    ("contradicts a static dim", "--input-shape x:1,4,8,8", "input 'x' dim 1 is 3 in the model, --input-shape says 4"),
    ("zero size", "--input-shape x:0,3,8,8", "input 'x' dim 0 is 0: a size must be positive"),
    ("negative size", "--input-shape x:1,3,-5,8", "dim 2 is -5: a size must be positive"),
    ("zero dim", "--dim N=0", "--dim N=0: a size must be positive"),
    ("negative dim", "--dim H=-1", "--dim H=-1: a size must be positive"),
    ("unknown dim name", "--dim batch=1", "--dim batch: no input dim has this name (named dims: N, H, W)"),
    ("two sizes for one dim", "--dim N=1 --input-shape x:2,3,8,8", "dim 'N' would be both 1"),
    ("dim given twice", "--dim N=1 --dim N=2", "--dim: N is given twice (1 and 2)"),
    ("input given twice", "--input-shape x:1,3,8,8 --input-shape x:2,3,8,8", "input 'x' is given twice"),
    ("shape without sizes", "--input-shape x", "'x' is not NAME:SIZE,SIZE,..."),
    ("shape with a word", "--input-shape x:1,three,8,8", "is not NAME:SIZE,SIZE,..."),
    ("shape with an empty size", "--input-shape x:1,,8,8", "is not NAME:SIZE,SIZE,..."),
    ("shape without a name", "--input-shape :1,3,8,8", "is not NAME:SIZE,SIZE,..."),
    ("dim without a size", "--dim N", "'N' is not NAME=SIZE"),
    ("dim with a word", "--dim N=one", "is not NAME=SIZE"),
    ("dim without a name", "--dim =3", "is not NAME=SIZE"),
]
# (command, its paths): every command that pins takes the same flags and gives the same errors.
COMMANDS = [("convert", ["m.onnx", "out"]), ("audit", ["m.onnx"]), ("validate", ["m.onnx", "graph"])]


def _setup(tmp: Path) -> None:
    onnx.save(conv_resize(), tmp / "m.onnx")
    (tmp / "graph").mkdir()
    (tmp / "graph" / "model.json").write_text(
        '{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}')


@pytest.mark.parametrize("command", [c[0] for c in COMMANDS])
@pytest.mark.parametrize(("flags", "fragment"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_pin_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, flags: str,
                                    fragment: str) -> None:
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    result = _cli([command, *dict(COMMANDS)[command], *flags.split()])
    lines = _lines(result.stderr)
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert "Traceback" not in result.stdout + result.stderr
    assert set(os.listdir(tmp_path)) == before  # no output, no staging sibling


def test_pin_on_a_direct_route_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"format": "layers-model", "modelTopology": {}, "weightsManifest": []}')
    with pytest.raises(InputError, match="through the ONNX pivot"):
        convert(tmp_path / "model.json", tmp_path / "out", ConvertOptions(input_format="tfjs_layers_model",
                                                                          dims={"N": 1}))


def test_pin_in_the_python_api_raises_input_error(tmp_path: Path) -> None:
    onnx.save(conv_resize(), tmp_path / "m.onnx")
    with pytest.raises(InputError, match=r"--input-shape: the model has no input 'images' \(inputs: x\)"):
        convert(tmp_path / "m.onnx", tmp_path / "out", ConvertOptions(input_shapes={"images": [1, 3, 8, 8]}))
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------- audit, validate


def test_audit_lists_dynamic_dims_and_audits_the_pinned_model(tmp_path: Path) -> None:
    onnx.save(conv_resize(), tmp_path / "m.onnx")
    plain = _cli(["audit", str(tmp_path / "m.onnx"), "--format", "json"])
    doc = json.loads(plain.stdout)
    assert doc["model"]["symbolic_dims"] == {"N": ["x"], "H": ["x"], "W": ["x"]}, plain.stderr
    assert doc["pinned"] == {"input_shapes": {}, "dims": {}}
    pinned = _cli(["audit", str(tmp_path / "m.onnx"), "--format", "json", "--input-shape", "x:-1,3,16,16"])
    doc = json.loads(pinned.stdout)
    assert pinned.exit_code == 0 and doc["model"]["symbolic_dims"] == {"N": ["x"]} and not doc["blocking"]
    assert doc["model"]["inputs"][0]["shape"] == ["N", 3, 16, 16]
    assert doc["pinned"] == {"input_shapes": {"x": [-1, 3, 16, 16]}, "dims": {}}
    text = _cli(["audit", str(tmp_path / "m.onnx"), "--dim", "H=16", "--dim", "W=16"]).stdout
    assert "  pinned: --dim H=16 --dim W=16" in text
    assert "  dynamic input dims: N (x); pin them with --dim NAME=SIZE or --input-shape" in text


@pytest.mark.needs_node
@pytest.mark.parametrize("flags", [["--input-shape", "x:2,5,8"], ["--dim", "batch=2", "--dim", "seq=5"]])
def test_validate_takes_the_flags_of_the_conversion(tmp_path: Path, tfjs: Any, flags: list[str]) -> None:
    onnx.save(reshape_chain(), tmp_path / "m.onnx")
    converted = _cli(["convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), *flags, "--validate"])
    assert converted.exit_code == 0, converted.stderr
    assert "PASS" in converted.stdout and _signature(tmp_path / "out" / "model.json") == {"x": [2, 5, 8]}
    checked = _cli(["validate", str(tmp_path / "m.onnx"), str(tmp_path / "out"), *flags, "--samples", "2"])
    assert checked.exit_code == 0, checked.stdout + checked.stderr


def two_inputs() -> onnx.ModelProto:
    """a[batch, 4] and b[batch, 2], concatenated: one named dim shared by two inputs."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 6])
    graph = helper.make_graph([helper.make_node("Concat", ["a", "b"], ["y"], axis=1)], "two", [a, b], [y])
    return helper.make_model(graph, opset_imports=OPSET)


# (case, input_shapes, dims, shapes of the generated a and b)
GENERATED_CASES = [
    ("default size 1", {}, {}, [(1, 4), (1, 2)]),
    ("--dim", {}, {"batch": 3}, [(3, 4), (3, 2)]),
    ("--dim '*'", {}, {"*": 2}, [(2, 4), (2, 2)]),
    ("--input-shape sizes the shared dim", {"a": [5, 4]}, {}, [(5, 4), (5, 2)]),
    ("-1 takes --dim", {"a": [-1, 4]}, {"batch": 4}, [(4, 4), (4, 2)]),
]


@pytest.mark.parametrize(("input_shapes", "dims", "shapes"), [c[1:] for c in GENERATED_CASES],
                         ids=[c[0] for c in GENERATED_CASES])
def test_validate_sizes_its_inputs_as_the_pin(input_shapes: dict[str, list[int]], dims: dict[str, int],
                                              shapes: list[tuple[int, ...]]) -> None:
    from tfjs_pivot.validate import ValidateOptions, make_inputs

    model = ir.serde.deserialize_model(two_inputs())
    (feeds,) = make_inputs(model, ValidateOptions(dims=dims, input_shapes=input_shapes))
    assert [feeds["a"].shape, feeds["b"].shape] == shapes
    if "batch" in dims or input_shapes:  # convert pins the model to the same shapes ('*' is validate's only)
        pinned = optimize(pin_dims(ir.serde.deserialize_model(two_inputs()), Pin(input_shapes, dims)))
        assert [list(v.shape or ()) for v in pinned.graph.inputs] == [list(s) for s in shapes]
