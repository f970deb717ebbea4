"""Recurrent ops in tfjs: unrolled when the length is static, a StatelessWhile over library functions otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from backends.tfjs_graph.emitters.recurrent import RECURRENT_OPS
from backends.tfjs_graph.graph import Attr, TfFunction, TfGraph, TfNode
from backends.tfjs_graph.model_json import model_json
from backends.tfjs_graph.vocab import is_tfjs_op
from backends.tfjs_runtime import TfjsRuntime, _decode, _encode
from tests.cases.recurrent import CASES
from tests.parity import compare, ort_run
from tfjs_pivot.convert import ConvertOptions, convert


def _case(case_id: str) -> Any:
    return next(c for c in CASES if c.id == case_id)


def _convert(case_id: str, tmp: Path) -> tuple[onnx.ModelProto, dict[str, Any]]:
    model = _case(case_id).model()
    onnx.save(model, tmp / "model.onnx")
    convert(tmp / "model.onnx", tmp / "tfjs", ConvertOptions(overwrite=True))
    return model, json.loads((tmp / "tfjs" / "model.json").read_text())


def _run(tfjs: TfjsRuntime, model_json_path: Path, feeds: dict[str, np.ndarray]) -> tuple[str, dict[str, np.ndarray]]:
    """The execution mode tfjs used and the outputs (wasm backend)."""
    reply = tfjs.request({"op": "run", "model": str(model_json_path), "kind": "graph", "backend": "wasm",
                          "outputs": None, "inputs": [_encode(k, v) for k, v in feeds.items()]})
    return reply["info"]["mode"], {o["name"]: _decode(o) for o in reply["outputs"]}


def test_library_functions_are_written() -> None:
    graph = TfGraph()
    x = graph.placeholder("x", "DT_INT32", ())
    fn = TfFunction("f_body", [("a0", "DT_INT32")], [("out0", "DT_INT32")],
                    [TfNode("add1", "AddV2", ["a0", "a0"], {"T": Attr.dtype("DT_INT32")})], {"out0": "add1"})
    graph.functions.append(fn)
    graph.add("StatelessWhile", [x], {"body": Attr.func("f_body")}, name="w")
    doc = model_json(graph, [], generated_by="test", converted_by="test")
    library = doc["modelTopology"]["library"]
    assert library["function"][0]["signature"] == {"name": "f_body", "inputArg": [{"name": "a0", "type": "DT_INT32"}],
                                                   "outputArg": [{"name": "out0", "type": "DT_INT32"}]}
    assert library["function"][0]["ret"] == {"out0": "add1"}
    assert doc["modelTopology"]["node"][-1]["attr"]["body"] == {"func": {"name": "f_body"}}
    assert model_json(TfGraph(), [], generated_by="t", converted_by="t")["modelTopology"]["library"] == {}


@pytest.mark.needs_node
def test_dynamic_length_runs_a_while_loop_for_any_length(tmp_path: Path, tfjs: TfjsRuntime) -> None:
    model, doc = _convert("LSTM-loop_bidirectional_lens", tmp_path)
    ops = {n["op"] for n in doc["modelTopology"]["node"]}
    functions = doc["modelTopology"]["library"]["function"]
    assert "StatelessWhile" in ops and len(functions) == 4  # cond + body per direction
    body_ops = {n["op"] for f in functions for n in f["nodeDef"]}
    assert "Const" not in body_ops  # constants enter as loop arguments, so every weight has a manifest entry
    assert body_ops <= RECURRENT_OPS and all(is_tfjs_op(op) for op in body_ops)
    for steps in (2, 9):
        rng = np.random.default_rng(steps)
        feeds = {"X": rng.uniform(-1, 1, (steps, 2, 3)).astype(np.float32),
                 "sequence_lens": np.asarray([steps, max(1, steps - 3)], np.int32),
                 "initial_h": rng.uniform(-1, 1, (2, 2, 4)).astype(np.float32),
                 "initial_c": rng.uniform(-1, 1, (2, 2, 4)).astype(np.float32)}
        mode, got = _run(tfjs, tmp_path / "tfjs" / "model.json", feeds)
        assert mode == "executeAsync"
        for name, ref in ort_run(model, feeds).items():
            assert compare(ref, got[name], name, "wasm").relative <= 1e-4


@pytest.mark.needs_node
def test_static_length_is_unrolled_and_runs_synchronously(tmp_path: Path, tfjs: TfjsRuntime) -> None:
    model, doc = _convert("GRU-bidirectional_lbr", tmp_path)
    assert doc["modelTopology"]["library"] == {}
    assert "StatelessWhile" not in {n["op"] for n in doc["modelTopology"]["node"]}
    feeds = _case("GRU-bidirectional_lbr").inputs(np.random.default_rng(0))
    mode, got = _run(tfjs, tmp_path / "tfjs" / "model.json", feeds)
    assert mode == "execute"
    for name, ref in ort_run(model, feeds).items():
        assert compare(ref, got[name], name, "wasm").relative <= 1e-4
