"""Unrolled LSTM / GRU / RNN: few ops per time step, values equal to onnxruntime in tfjs cpu and wasm.

Why: in tfjs wasm every graph node costs ~8-15 us of executor overhead and tiny kernels, so an unrolled
recurrence is bounded by ops per step. The emitters (emitters/recurrent.py, recurrent_cells.py) cut the time
steps out of one input projection by two Split levels (Unpack would copy the whole projection once per step),
run one activation over the LSTM's four gates (the candidate's tanh as 2 * sigmoid(2x) - 1, its weight columns
doubled) and one over the GRU's update and reset gates. Each case checks op counts and parity at 1e-4.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_emission, check_parity, compare, ort_run, save_onnx, trust_test_models

RNG = np.random.default_rng(11)
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


@pytest.fixture(autouse=True)
def _own_models(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)


@dataclass(frozen=True)
class Case:
    """One recurrent node: its kind, sizes and attributes, and the op counts the fast path must show."""

    id: str
    kind: str
    steps: int = 5
    batch: int = 1
    hidden: int = 4
    inputs: int = 3
    direction: str = "forward"
    layout: int = 0
    initial: bool = False  # initial_h (and initial_c) given as graph inputs
    lengths: bool = False  # sequence_lens given as a graph input
    peepholes: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, int] = field(default_factory=dict)  # op -> exact count in the written graph

    @property
    def dirs(self) -> int:
        return 2 if self.direction == "bidirectional" else 1


def _w(*shape: int) -> np.ndarray:
    return RNG.uniform(-0.6, 0.6, size=shape).astype(np.float32)


def _shapes(case: Case) -> dict[str, list[int]]:
    t, b, d, h = case.steps, case.batch, case.dirs, case.hidden
    shapes = {"X": [b, t, case.inputs] if case.layout else [t, b, case.inputs]}
    state = [b, d, h] if case.layout else [d, b, h]
    if case.initial:
        shapes["initial_h"] = state
        if case.kind == "LSTM":
            shapes["initial_c"] = state
    return shapes


def _weights(case: Case) -> dict[str, np.ndarray]:
    d, h, g = case.dirs, case.hidden, GATES[case.kind]
    inits = {"W": _w(d, g * h, case.inputs), "R": _w(d, g * h, h), "B": _w(d, 2 * g * h)}
    if case.peepholes:
        inits["P"] = _w(d, 3 * h)
    return inits


def _model(case: Case, inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    h = case.hidden
    shapes = _shapes(case)
    graph_inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in shapes.items()]
    if case.lengths:
        graph_inputs.append(helper.make_tensor_value_info("sequence_lens", TensorProto.INT32, [case.batch]))
    names = ["X", "W", "R", "B", "sequence_lens" if case.lengths else "",
             "initial_h" if case.initial else "", "initial_c" if case.initial and case.kind == "LSTM" else "",
             "P" if case.peepholes else ""]
    while not names[-1]:
        names.pop()
    outputs = ["Y", "Y_h", "Y_c"] if case.kind == "LSTM" else ["Y", "Y_h"]
    node = helper.make_node(case.kind, names, outputs, hidden_size=h, direction=case.direction,
                            layout=case.layout, **case.attrs)
    graph = helper.make_graph([node], "recurrent", graph_inputs, [onnx.ValueInfoProto(name=o) for o in outputs],
                              [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def _batch_first(name: str, array: np.ndarray) -> np.ndarray:
    """A layout-0 tensor in layout 1: X and states swap their first two axes, Y [T, D, B, H] -> [B, T, D, H]."""
    return np.transpose(array, (2, 0, 1, 3)) if name == "Y" else np.swapaxes(array, 0, 1)


def _check_layout1(case: Case, tmp: Path, runtime: TfjsRuntime) -> None:
    """onnxruntime runs no layout 1: its reference is the layout-0 twin on the transposed inputs."""
    inits = _weights(case)
    twin = replace(case, layout=0)
    feeds = _feeds(twin)
    reference = ort_run(_model(twin, inits), feeds)
    src = save_onnx(_model(case, inits), tmp)
    check_emission(src, tmp / "tfjs")
    ours = {k: v if k == "sequence_lens" else _batch_first(k, v) for k, v in feeds.items()}
    for backend in ("cpu", "wasm"):
        got = runtime.run(tmp / "tfjs" / "model.json", ours, backend=backend)  # type: ignore[arg-type]
        for name, ref in reference.items():
            c = compare(_batch_first(name, ref), got[name], name, backend)
            assert c.relative <= 1e-4, f"{name}@{backend}: max abs error {c.max_abs:.3g}"


def _feeds(case: Case) -> dict[str, np.ndarray]:
    feeds = {k: RNG.uniform(-1.5, 1.5, size=v).astype(np.float32) for k, v in _shapes(case).items()}
    if case.lengths:
        feeds["sequence_lens"] = RNG.integers(1, case.steps + 1, size=case.batch).astype(np.int32)
    return feeds


def _fast(kind: str, steps: int, dirs: int = 1, **extra: int) -> dict[str, int]:
    """The fast path's counts: one Sigmoid per step (LSTM: all gates; GRU: z and r), no Unpack, no batched product.

    Tanh: the LSTM's h(C) and the GRU's candidate, once per step.
    """
    return {"Sigmoid": steps * dirs, "Tanh": steps * dirs, "Unpack": 0, "BatchMatMulV2": 0, **extra}


LSTM_SLOW = {"Unpack": 0}  # peepholes / clip / other activations: the gate-by-gate step, still no Unpack
CASES: list[Case] = [
    Case("lstm_forward", "LSTM", expect=_fast("LSTM", 5)),
    Case("lstm_forward_64_steps", "LSTM", steps=64, expect=_fast("LSTM", 64)),
    Case("lstm_reverse_batch3", "LSTM", batch=3, direction="reverse", expect=_fast("LSTM", 5)),
    Case("lstm_bidirectional_initial", "LSTM", direction="bidirectional", initial=True, expect=_fast("LSTM", 5, 2)),
    Case("lstm_layout1_batch3_initial", "LSTM", batch=3, layout=1, initial=True, expect=_fast("LSTM", 5)),
    Case("lstm_sequence_lens", "LSTM", batch=3, lengths=True, initial=True, expect=_fast("LSTM", 5)),
    # One step, no initial state: the gates' Sigmoid fuses into the projection's _FusedMatMul.
    Case("lstm_one_step", "LSTM", steps=1, expect=_fast("LSTM", 1, Sigmoid=0, _FusedMatMul=1, Split=1)),
    Case("lstm_peepholes", "LSTM", batch=3, peepholes=True, initial=True, expect=LSTM_SLOW),
    Case("lstm_clip", "LSTM", attrs={"clip": 0.7}, expect=LSTM_SLOW),
    Case("lstm_input_forget", "LSTM", initial=True, attrs={"input_forget": 1}, expect=LSTM_SLOW),
    Case("lstm_activations", "LSTM", attrs={"activations": ["HardSigmoid", "Tanh", "Softsign"]}, expect=LSTM_SLOW),
    Case("gru_forward_lbr1", "GRU", attrs={"linear_before_reset": 1}, expect=_fast("GRU", 5)),
    Case("gru_forward_lbr0", "GRU", expect=_fast("GRU", 5)),
    Case("gru_bidirectional_initial_lbr1", "GRU", direction="bidirectional", initial=True,
         attrs={"linear_before_reset": 1}, expect=_fast("GRU", 5, 2)),
    Case("gru_layout1_batch3_lbr0", "GRU", batch=3, layout=1, initial=True, expect=_fast("GRU", 5)),
    Case("gru_sequence_lens_lbr1", "GRU", batch=3, lengths=True, attrs={"linear_before_reset": 1},
         expect=_fast("GRU", 5)),
    Case("gru_clip_activations", "GRU", initial=True,
         attrs={"clip": 0.8, "activations": ["HardSigmoid", "Softsign"], "linear_before_reset": 1},
         expect={"Sigmoid": 0, "Unpack": 0}),
    Case("rnn_forward", "RNN", expect={"Tanh": 5, "Unpack": 0}),
    Case("rnn_bidirectional_batch3_relu", "RNN", batch=3, direction="bidirectional", initial=True,
         attrs={"activations": ["Relu", "Tanh"]}, expect={"Relu": 5, "Tanh": 5, "Unpack": 0}),
]


def _ops(model_json: Path) -> Counter[str]:
    return Counter(n["op"] for n in json.loads(model_json.read_text())["modelTopology"]["node"])


@pytest.mark.needs_node
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recurrent_emission(case: Case, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    if case.layout:
        _check_layout1(case, tmp_path, tfjs)
    else:
        check_parity(_model(case, _weights(case)), _feeds(case), tmp_path, tfjs)
    ops = _ops(tmp_path / "tfjs" / "model.json")
    wrong = {op: (ops.get(op, 0), n) for op, n in case.expect.items() if ops.get(op, 0) != n}
    assert not wrong, f"(got, expected) {wrong} in {dict(ops)}"


@pytest.mark.parametrize("steps,chunks", [(64, 8), (6, 2), (7, 1), (1, 1), (12, 3)])
def test_chunk_count(steps: int, chunks: int) -> None:
    from backends.tfjs_graph.emitters.recurrent_cells import chunk_count

    assert chunk_count(steps) == chunks
